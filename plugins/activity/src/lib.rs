//! `activity`: who talks the most. Shows a listener, a hook, a scheduled task and an embed reply.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use zoryx_plugin_api::prelude::*;

/// Message counts per user, and commands seen.
#[derive(Default)]
pub struct Activity {
    messages: Mutex<HashMap<UserId, (String, u64)>>,
    commands: AtomicU64,
}

impl Plugin for Activity {
    fn manifest() -> Manifest {
        Manifest::new("activity", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("Counts messages and shows the most active members")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .command(
                CommandSpec::new("top")
                    .description("The most active members")
                    .category("community")
                    .arg(
                        Arg::integer("count")
                            .description("How many (1-25)")
                            .optional(),
                    ),
                top,
            )
            .listen(EventKind::MessageCreate, count_message)
            .hook("command_executed", 0, count_command)
            .every("summary", Duration::from_secs(60), summary);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

async fn count_message(ctx: PluginContext<Activity>, event: Event) -> PluginResult {
    if let Event::MessageCreate(message) = event
        && !message.author.bot
    {
        let mut counts = ctx
            .data()
            .messages
            .lock()
            .map_err(|_| PluginError::internal("activity counts are unavailable"))?;
        let entry = counts
            .entry(message.author.id)
            .or_insert_with(|| (String::new(), 0));
        // Keep the latest name, so renamed members show under their current one.
        entry.0 = message.author.name;
        entry.1 += 1;
    }
    Ok(())
}

async fn count_command(ctx: PluginContext<Activity>, _event: HookEvent) -> PluginResult {
    ctx.data().commands.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn summary(ctx: PluginContext<Activity>) -> PluginResult {
    let (people, messages) = ctx
        .data()
        .messages
        .lock()
        .map(|c| (c.len(), c.values().map(|(_, n)| n).sum::<u64>()))
        .unwrap_or_default();
    let commands = ctx.data().commands.load(Ordering::Relaxed);
    ctx.info(format!(
        "{messages} messages from {people} members, {commands} commands"
    ));
    Ok(())
}

async fn top(ctx: CommandContext<Activity>) -> PluginResult {
    let count: Option<i64> = ctx.arg("count")?;
    let count = count.unwrap_or(5);
    if !(1..=25).contains(&count) {
        return Err(PluginError::user("count must be between 1 and 25"));
    }
    let mut ranking: Vec<(String, u64)> = ctx
        .data()
        .messages
        .lock()
        .map_err(|_| PluginError::internal("activity counts are unavailable"))?
        .values()
        .cloned()
        .collect();
    ranking.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut embed = Embed::new().title("Most active members").colour(0x57F287);
    if ranking.is_empty() {
        embed = embed.description("Nobody has said anything yet.");
    }
    for (rank, (name, messages)) in ranking.iter().take(count as usize).enumerate() {
        embed = embed.field(
            format!("#{} {name}", rank + 1),
            format!("{messages} messages"),
            false,
        );
    }
    let commands = ctx.data().commands.load(Ordering::Relaxed);
    ctx.reply(embed.footer(format!("{commands} commands run since load")))
        .await?;
    Ok(())
}

zoryx_plugin_api::export_plugin!(Activity);
