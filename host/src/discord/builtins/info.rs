//! What the bot is and runs on, for everyone: `discordbotframework` (aliases `framework`,
//! `botinfo`), `extensions` (owners see the details), and `shardinfo` (owners).

use std::time::{Duration, SystemTime};

use zoryx_plugin_api::{API_VERSION, CommandKind, CommandSpec, Embed, Message, Permission};

use super::{BuiltinCall, Builtins};
use crate::discord::embeds::{colour, embed};

pub(super) fn register(builtins: &mut Builtins) {
    let ten_seconds = Duration::from_secs(10);
    builtins
        .add(
            CommandSpec::new("discordbotframework")
                .alias("framework")
                .alias("botinfo")
                .description(
                    "What this bot runs: Zoryx version, plugins, uptime, libraries, system",
                )
                .category("Core")
                .cooldown(1, ten_seconds)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(framework(call)),
        )
        .add(
            CommandSpec::new("extensions")
                .alias("exts")
                .description(
                    "The loaded extensions (owners: with status, generation, dependencies)",
                )
                .category("Core")
                .cooldown(1, ten_seconds)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(extensions(call)),
        )
        .add(
            CommandSpec::new("shardinfo")
                .description("Shards: this server's, their states, latencies and guilds")
                .category("Owner")
                .permission(Permission::Owner)
                .cooldown(1, ten_seconds)
                .kind(CommandKind::Hybrid),
            |call| Box::pin(shardinfo(call)),
        );
}

/// `12d 3h 4m 5s`.
pub(super) fn uptime(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m {s}s")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else {
        format!("{m}m {s}s")
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

async fn framework(call: BuiltinCall) -> Result<Message, String> {
    let stats = call.stats();
    let plugins = call.manager().list().await;
    let loaded: Vec<String> = plugins
        .iter()
        .filter(|p| p.loaded)
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    let commands = call.bot.command_specs();
    let slash = stats.slash_registered;
    let plugin_list = if loaded.is_empty() {
        "none loaded".to_owned()
    } else {
        let mut shown: Vec<String> = loaded.iter().take(15).cloned().collect();
        if loaded.len() > 15 {
            shown.push(format!("… and {} more", loaded.len() - 15));
        }
        shown.join(", ")
    };
    let system = format!(
        "{} {} · {} CPUs · {} memory · pid {}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        crate::health::rss_bytes().map_or_else(|| "unknown".to_owned(), megabytes),
        std::process::id()
    );
    let features = [
        "Plugins as native libraries, hot-reloaded under load with nothing dropped",
        "Plugins in worker processes of their own (`load NAME --isolated`)",
        "One command gate: owner-only, roles per server, levels, cooldowns",
        "Slash, prefix and hybrid commands; slash limit protection",
        "Per-server SQLite databases, atomic JSON files, backups",
        "Help menu, status rotation, stats — as plugins and built-ins",
    ];
    Ok(Message::new().embed(
        Embed::new()
            .title("🤖 Zoryx Discord Bot Framework")
            .description(format!(
                "**Zoryx {}** · plugin API {} · prefix `{}` · `{}help` for the commands",
                env!("CARGO_PKG_VERSION"),
                API_VERSION,
                call.prefix,
                call.prefix
            ))
            .field(
                "✨ Features",
                features.map(|f| format!("• {f}")).join("\n"),
                false,
            )
            .field(
                format!("📦 Plugins ({} loaded)", loaded.len()),
                plugin_list,
                false,
            )
            .field("⏱️ Uptime", uptime(stats.uptime), true)
            .field("🏠 Guilds", stats.guilds.to_string(), true)
            .field(
                "⌨️ Commands",
                format!("{} ({slash} slash)", commands.len()),
                true,
            )
            .field(
                "📚 Built with",
                format!("{}\n{}", env!("ZORYX_RUSTC"), env!("ZORYX_LIBRARIES")),
                false,
            )
            .field("🖥️ System", system, false)
            .colour(colour::INFO),
    ))
}

fn ago(at: Option<SystemTime>) -> String {
    at.and_then(|t| t.elapsed().ok())
        .map_or_else(|| "-".to_owned(), |d| format!("{}s ago", d.as_secs()))
}

/// Everyone sees the loaded extensions with their versions and load times; bot owners also see
/// the ones not loaded, status, generation, dependencies and calls.
async fn extensions(call: BuiltinCall) -> Result<Message, String> {
    let plugins = call.manager().list().await;
    if plugins.is_empty() {
        return Ok(embed(colour::INFO, "📦 Extensions", "No extensions found."));
    }
    if !call.is_owner {
        let loaded: Vec<String> = plugins
            .iter()
            .filter(|p| p.loaded)
            .map(|p| {
                let time = p
                    .load_time_ms
                    .map_or_else(String::new, |ms| format!(" ({ms:.1} ms)"));
                format!("• **{}** v{}{time}", p.name, p.version)
            })
            .collect();
        let body = if loaded.is_empty() {
            "No extensions are loaded.".to_owned()
        } else {
            loaded.join("\n")
        };
        return Ok(Message::new().embed(
            Embed::new()
                .title(format!("📦 Extensions ({} loaded)", loaded.len()))
                .description(body)
                .colour(colour::INFO),
        ));
    }
    let mut embed_out = Embed::new()
        .title(format!("📦 Extensions ({})", plugins.len()))
        .colour(colour::INFO);
    for info in plugins.iter().take(25) {
        let status = match (&info.worker, info.loaded) {
            (Some(worker), true) => format!("{worker} ({:?})", info.status),
            (None, true) => format!("loaded ({:?})", info.status),
            (_, false) => "not loaded".to_owned(),
        };
        let deps = if info.dependencies.is_empty() {
            "none".to_owned()
        } else {
            info.dependencies.join(", ")
        };
        let load_time = info
            .load_time_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1} ms"));
        let generation = info
            .generation
            .map_or_else(|| "-".to_owned(), |g| g.to_string());
        embed_out = embed_out.field(
            format!("{} v{}", info.name, info.version),
            format!(
                "status: {status}\ngeneration: {generation}\nload time: {load_time} (loaded {})\ndeps: {deps}\ncalls: {}",
                ago(info.loaded_at),
                info.calls_line()
            ),
            true,
        );
    }
    Ok(Message::new().embed(embed_out))
}

/// The shard a guild is on, as Discord assigns it.
fn shard_of(guild: u64, total: u32) -> u32 {
    ((guild >> 22) % u64::from(total.max(1))) as u32
}

async fn shardinfo(call: BuiltinCall) -> Result<Message, String> {
    let report = call.bot.services.gateway.report().await;
    let total = report
        .shard_total
        .unwrap_or(u32::try_from(report.shards.len()).unwrap_or(1))
        .max(1);
    let guilds: Vec<u64> = call.bot.guild_ids().into_iter().collect();
    let on = |shard: u32| {
        guilds
            .iter()
            .filter(|g| shard_of(**g, total) == shard)
            .count()
    };
    let latency =
        |ms: Option<f64>| ms.map_or_else(|| "not measured".to_owned(), |ms| format!("{ms:.1} ms"));
    let mut out = Embed::new()
        .title("🔀 Shard information")
        .colour(colour::INFO);
    if let Some(guild) = call.guild_id {
        let shard = shard_of(guild.0, total);
        let here = report.shards.iter().find(|s| s.id == shard);
        out = out.field(
            "📍 This server's shard",
            format!(
                "Shard {shard} · {} · {} guilds",
                here.map_or_else(
                    || "run by another process".to_owned(),
                    |s| latency(s.latency_ms)
                ),
                on(shard)
            ),
            false,
        );
    }
    out = out
        .field(
            "🌐 Shards",
            format!("{total} in all, {} here", report.shards.len()),
            true,
        )
        .field("🏠 Guilds", guilds.len().to_string(), true)
        .field(
            "📊 Average per shard",
            (guilds.len() / report.shards.len().max(1)).to_string(),
            true,
        );
    if report.shards.len() <= 10 {
        let lines: Vec<String> = report
            .shards
            .iter()
            .map(|s| {
                format!(
                    "`{}` {:?} · {} · {} guilds",
                    s.id,
                    s.state,
                    latency(s.latency_ms),
                    on(s.id)
                )
            })
            .collect();
        out = out.field("Per shard", lines.join("\n"), false);
    }
    Ok(Message::new().embed(out))
}
