//! `ping` and `stats`.

use std::time::{Duration, Instant};

use zoryx_plugin_api::{CommandKind, CommandSpec, Embed, Message};

use super::{BuiltinCall, Builtins};
use crate::discord::embeds::colour;

pub(super) fn register(builtins: &mut Builtins) {
    builtins
        .add(
            CommandSpec::new("ping")
                .description("Gateway and REST latency")
                .category("Core")
                .kind(CommandKind::Hybrid),
            |call| Box::pin(ping(call)),
        )
        .add(
            CommandSpec::new("stats")
                .description("Uptime, guilds, commands run, plugins loaded")
                .category("Core")
                .cooldown(1, Duration::from_secs(10))
                .kind(CommandKind::Hybrid),
            |call| Box::pin(stats(call)),
        );
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

async fn ping(call: BuiltinCall) -> Result<Message, String> {
    let gateway = call
        .bot
        .gateway_latency()
        .await
        .map_or_else(|| "not measured yet".to_owned(), millis);
    let started = Instant::now();
    let rest = match call.bot.rest.get("/users/@me").await {
        Ok(_) => millis(started.elapsed()),
        Err(error) => format!("failed: {error}"),
    };
    Ok(Message::new().embed(
        Embed::new()
            .title("🏓 Pong!")
            .field("Gateway heartbeat", gateway, true)
            .field("REST round trip", rest, true)
            .colour(colour::INFO),
    ))
}

async fn stats(call: BuiltinCall) -> Result<Message, String> {
    let stats = call.stats();
    let live = call.bot.plugin_stats().await;
    let latency = live
        .latency_ms
        .map_or_else(|| "not measured yet".to_owned(), |ms| format!("{ms:.0} ms"));
    let mut embed = Embed::new()
        .title("📊 Bot statistics")
        .field("Uptime", super::info::uptime(stats.uptime), true)
        .field("Guilds", stats.guilds.to_string(), true)
        .field("Users", live.users.to_string(), true)
        .field("Messages seen", stats.messages_seen.to_string(), true)
        .field("Commands run", stats.commands_run.to_string(), true)
        .field("Replies failed", stats.replies_failed.to_string(), true)
        .field("Gateway latency", latency, true)
        .field("Shards", live.shards.to_string(), true)
        .field("Slash commands", stats.slash_registered.to_string(), true)
        .field("Plugins loaded", stats.plugins_loaded.to_string(), true)
        .colour(colour::INFO);
    // The most used commands, from the usage counts in main.db when the databases are there.
    if let Some(db) = &call.bot.services.db
        && let Ok(counts) = db.databases().command_stats(None).await
        && !counts.is_empty()
    {
        embed = embed.field(
            "Top commands",
            crate::storage::db::report::top_commands(&counts),
            false,
        );
    }
    Ok(Message::new().embed(embed))
}
