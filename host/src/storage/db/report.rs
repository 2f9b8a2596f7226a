//! The owner commands `dbstats`, `integritycheck` and `cleanup` as embeds.
//!
//! The bodies take the measured values, so whoever registers the commands only gathers the
//! inputs (e.g. `report::dbstats(&databases.stats().await)`) and replies with the message.

use std::fmt::Write as _;

use zoryx_plugin_api::{Embed, Message};

use super::{CleanupReport, DbStats, IntegrityReport, SqliteSettings};

// Embed colours: the one palette.
use zoryx_plugin_api::palette::{ERROR as ERROR_COLOUR, INFO as INFO_COLOUR, SUCCESS as OK_COLOUR};
/// Guild databases listed by name in `dbstats` (the largest); the rest are summed up.
const LISTED_GUILDS: usize = 10;

/// Health of the parts outside the databases that `integritycheck` reports; each is optional
/// and shown when given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemHealth {
    /// The atomic file store: `Ok(summary)` or `Err(problem)`.
    pub file_store: Option<Result<String, String>>,
    /// Plugin status, e.g. `"5 loaded, 1 refused"`.
    pub plugins: Option<String>,
    /// The process's resident memory in bytes (sysinfo RSS).
    pub memory_rss_bytes: Option<u64>,
    /// The process's threads.
    pub threads: Option<usize>,
    /// Files and folders the bot needs (config file, data, extensions, logs): each must exist.
    pub paths: Vec<PathCheck>,
    /// The Discord connection: guilds, users and each shard's state and latency.
    pub gateway: Option<GatewayHealth>,
}

/// One file or folder `integritycheck` looks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathCheck {
    /// What it is, e.g. `"Data folder"`.
    pub name: String,
    /// Where.
    pub path: std::path::PathBuf,
}

/// The connection as `integritycheck` shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayHealth {
    /// Guilds the bot is in.
    pub guilds: u64,
    /// Users in the cached guilds.
    pub users: u64,
    /// Shards in the whole bot.
    pub shard_total: u32,
    /// This process's shards.
    pub shards: Vec<ShardHealth>,
}

/// One shard in `integritycheck`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardHealth {
    /// Its id.
    pub id: u32,
    /// Its state in words (`Connected`, `Resuming`...).
    pub state: String,
    /// Whether it is connected.
    pub up: bool,
    /// Its heartbeat latency, once measured.
    pub latency_ms: Option<f64>,
}

/// What `dbstats` shows besides the files: the most used commands and the pools and files of
/// guilds the bot left.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbExtras {
    /// Command uses from `main.db`, most used first.
    pub top_commands: Vec<(String, u64)>,
    /// Guilds the bot is no longer in whose pools are still open (`cleanup` closes them).
    pub orphaned_pools: Vec<u64>,
    /// Guilds the bot is no longer in that still have a database file (kept).
    pub departed_files: Vec<u64>,
}

/// Shards listed one by one in `integritycheck`; past this, the rest are summed up.
const SHARDS_LISTED: usize = 10;

/// Commands listed in `dbstats`' top commands.
const TOP_COMMANDS: usize = 5;

/// `!dbstats`: open pools, file and WAL sizes, statement counts, the most used commands and
/// what is left of guilds the bot left.
pub fn dbstats(stats: &DbStats, extras: &DbExtras) -> Message {
    let mut embed = Embed::new()
        .title("Database statistics")
        .colour(INFO_COLOUR)
        .field("Open pools", stats.open_pools().to_string(), true)
        .field("Guild databases", stats.guild_files().to_string(), true)
        .field("Total size", human_bytes(stats.total_bytes()), true)
        .field("Queries", stats.total_queries().to_string(), true);
    if let Some(main) = stats.databases.iter().find(|d| d.guild.is_none()) {
        embed = embed.field("main.db", describe(main), false);
    }
    let mut guilds: Vec<_> = stats
        .databases
        .iter()
        .filter(|d| d.guild.is_some())
        .collect();
    guilds.sort_by_key(|d| std::cmp::Reverse(d.file_bytes + d.wal_bytes));
    for db in guilds.iter().take(LISTED_GUILDS) {
        let name = format!("Guild {}", db.guild.unwrap_or_default());
        embed = embed.field(name, describe(db), true);
    }
    if guilds.len() > LISTED_GUILDS {
        let rest = &guilds[LISTED_GUILDS..];
        let bytes: u64 = rest.iter().map(|d| d.file_bytes + d.wal_bytes).sum();
        embed = embed.field(
            format!("{} more guilds", rest.len()),
            format!("{} in total", human_bytes(bytes)),
            false,
        );
    }
    if !extras.orphaned_pools.is_empty() || !extras.departed_files.is_empty() {
        embed = embed.field(
            "⚠️ Guilds the bot left",
            format!(
                "{} open pool(s): {}\n{} database file(s) kept: {}\n`cleanup` closes the pools.",
                extras.orphaned_pools.len(),
                list(&extras.orphaned_pools),
                extras.departed_files.len(),
                list(&extras.departed_files)
            ),
            false,
        );
    }
    if !extras.top_commands.is_empty() {
        embed = embed.field("📈 Top commands", top_commands(&extras.top_commands), false);
    }
    Message::new().embed(embed)
}

/// The five most used commands, one a line: ``1. `ping` — 42``.
pub fn top_commands(counts: &[(String, u64)]) -> String {
    counts
        .iter()
        .take(TOP_COMMANDS)
        .enumerate()
        .map(|(i, (name, uses))| format!("{}. `{name}` — {uses}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Guild ids as a comma-separated list, clipped to fit a field; `none` when empty.
fn list(guilds: &[u64]) -> String {
    if guilds.is_empty() {
        return "none".to_owned();
    }
    clip(
        &guilds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        900,
    )
}

fn describe(db: &super::DbFileStats) -> String {
    let pool = if db.open {
        format!(
            "open, {} connections ({} idle)",
            db.connections, db.idle_connections
        )
    } else {
        "closed".to_owned()
    };
    format!(
        "{pool}\nfile {}, WAL {}\n{} queries",
        human_bytes(db.file_bytes),
        human_bytes(db.wal_bytes),
        db.queries
    )
}

/// `!integritycheck`: `PRAGMA integrity_check` on every database, plus the health of the parts
/// given in `health`. Red when anything failed.
pub fn integritycheck(databases: &IntegrityReport, health: &SystemHealth) -> Message {
    let failed: Vec<_> = databases.iter().filter(|(_, r)| r.is_err()).collect();
    let mut healthy = failed.is_empty();
    let mut summary = format!(
        "{} of {} databases passed",
        databases.len() - failed.len(),
        databases.len()
    );
    for (path, result) in &failed {
        if let Err(reason) = result {
            let _ = write!(summary, "\n❌ `{}`: {}", path.display(), clip(reason, 200));
        }
    }
    let mut embed =
        Embed::new()
            .title("Integrity check")
            .field("Databases", clip(&summary, 1024), false);
    if let Some(store) = &health.file_store {
        let value = match store {
            Ok(summary) => format!("✅ {summary}"),
            Err(problem) => {
                healthy = false;
                format!("❌ {problem}")
            }
        };
        embed = embed.field("File store", clip(&value, 1024), false);
    }
    if !health.paths.is_empty() {
        let lines: Vec<String> = health
            .paths
            .iter()
            .map(|check| {
                let found = check.path.exists();
                healthy &= found;
                format!(
                    "{} {}: `{}`{}",
                    if found { "✅" } else { "❌" },
                    check.name,
                    check.path.display(),
                    if found { "" } else { " (missing)" }
                )
            })
            .collect();
        embed = embed.field("Files and folders", clip(&lines.join("\n"), 1024), false);
    }
    if let Some(gateway) = &health.gateway {
        let latency = |ms: Option<f64>| {
            ms.map_or_else(
                || "latency not measured yet".to_owned(),
                |ms| format!("{ms:.1} ms"),
            )
        };
        let mut lines = vec![format!(
            "{} guilds, {} users, {} shard(s) in all",
            gateway.guilds, gateway.users, gateway.shard_total
        )];
        for shard in gateway.shards.iter().take(SHARDS_LISTED) {
            healthy &= shard.up;
            lines.push(format!(
                "{} Shard {}: {} · {}",
                if shard.up { "✅" } else { "❌" },
                shard.id,
                shard.state,
                latency(shard.latency_ms)
            ));
        }
        if let Some(rest) = gateway.shards.get(SHARDS_LISTED..)
            && !rest.is_empty()
        {
            let down = rest.iter().filter(|s| !s.up).count();
            healthy &= down == 0;
            lines.push(format!(
                "… and {} more shards ({down} not connected)",
                rest.len()
            ));
        }
        embed = embed.field("Discord", clip(&lines.join("\n"), 1024), false);
    }
    if let Some(plugins) = &health.plugins {
        embed = embed.field("Plugins", clip(plugins, 1024), true);
    }
    if let Some(rss) = health.memory_rss_bytes {
        embed = embed.field("Memory (RSS)", human_bytes(rss), true);
    }
    if let Some(threads) = health.threads {
        embed = embed.field("Threads", threads.to_string(), true);
    }
    let (colour, verdict) = if healthy {
        (OK_COLOUR, "All checks passed.")
    } else {
        (ERROR_COLOUR, "Problems found.")
    };
    Message::new().embed(embed.colour(colour).description(verdict))
}

/// What `cleanup` did besides the databases, and what is left afterwards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanupExtras {
    /// Cached guild settings dropped (guilds the bot left).
    pub settings_dropped: usize,
    /// The file store's sweep: idle locks and expired cache entries dropped.
    pub sweep: Option<crate::storage::atomic::Sweep>,
    /// What remains, as (what, how much), e.g. `("File cache", "3 entries")`.
    pub remaining: Vec<(String, String)>,
}

/// `!cleanup`: the orphan cleanup's result, the caches and locks swept, and what remains.
pub fn cleanup(report: &CleanupReport, extras: &CleanupExtras) -> Message {
    let mut done = vec![
        format!(
            "✅ Closed {} database pool(s) of guilds the bot left: {}",
            report.closed_pools.len(),
            list(&report.closed_pools)
        ),
        format!(
            "✅ Dropped {} cached guild setting(s) of guilds the bot left",
            extras.settings_dropped
        ),
    ];
    if let Some(sweep) = extras.sweep {
        done.push(format!(
            "✅ Dropped {} idle file lock(s)",
            sweep.locks_removed
        ));
        done.push(format!(
            "✅ Dropped {} expired file cache entr{}",
            sweep.cache_expired,
            if sweep.cache_expired == 1 { "y" } else { "ies" }
        ));
    }
    let mut embed = Embed::new()
        .title("✅ Cleanup complete")
        .colour(OK_COLOUR)
        .description(clip(&done.join("\n"), 4000))
        .field(
            "Databases of departed guilds (kept)",
            format!(
                "{}: {}",
                report.orphan_files.len(),
                list(&report.orphan_files)
            ),
            false,
        );
    if !extras.remaining.is_empty() {
        let lines: Vec<String> = extras
            .remaining
            .iter()
            .map(|(what, value)| format!("{what}: {value}"))
            .collect();
        embed = embed.field("📊 Now", lines.join("\n"), false);
    }
    Message::new().embed(embed)
}

/// Closes the pools and drops the cached settings of guilds not in `current_guilds`; returns
/// the databases' report and how many cached settings were dropped.
pub async fn cleanup_orphans(
    settings: &SqliteSettings,
    current_guilds: &std::collections::HashSet<u64>,
) -> (CleanupReport, usize) {
    let report = settings.databases().cleanup_orphans(current_guilds).await;
    let dropped = settings.retain_guilds(current_guilds);
    (report, dropped)
}

/// `!backup`: flushes the command counters, backs up every database (`VACUUM INTO` a new
/// timestamped folder) and lists the files, or says why it failed.
pub async fn run_backup(settings: &SqliteSettings) -> Result<Message, String> {
    if let Err(error) = settings.flush().await {
        tracing::warn!(%error, "command counters not flushed before the backup");
    }
    let files = settings
        .databases()
        .backup(None)
        .await
        .map_err(|error| format!("backup failed: {error}"))?;
    let folder = files
        .first()
        .and_then(|f| f.parent())
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let list = files
        .iter()
        .map(|file| {
            let size = std::fs::metadata(file).map_or(0, |m| m.len());
            format!("`{}` ({})", file.display(), human_bytes(size))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let embed = Embed::new()
        .title("Backup done")
        .colour(OK_COLOUR)
        .description(clip(&list, 4000))
        .field("Databases", files.len().to_string(), true)
        .field("Folder", clip(&folder, 1024), true);
    Ok(Message::new().embed(embed))
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn clip(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}
