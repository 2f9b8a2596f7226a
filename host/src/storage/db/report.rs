//! The owner commands `dbstats`, `integritycheck` and `cleanup` as embeds.
//!
//! The bodies take the measured values, so whoever registers the commands only gathers the
//! inputs (e.g. `report::dbstats(&databases.stats().await)`) and replies with the message.

use std::collections::HashSet;
use std::fmt::Write as _;

use zoryx_plugin_api::{Embed, Message};

use super::{CleanupReport, DbStats, IntegrityReport, SqliteSettings};

// Embed colours: the one palette.
use zoryx_plugin_api::palette::{ERROR as ERROR_COLOUR, INFO as INFO_COLOUR, SUCCESS as OK_COLOUR};
/// Guild databases listed by name in `dbstats` (the largest); the rest are summed up.
const LISTED_GUILDS: usize = 10;

/// Health of the parts outside the databases that `integritycheck` reports; each is optional
/// and shown when given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemHealth {
    /// The atomic file store: `Ok(summary)` or `Err(problem)`.
    pub file_store: Option<Result<String, String>>,
    /// Plugin status, e.g. `"5 loaded, 1 refused"`.
    pub plugins: Option<String>,
    /// The process's resident memory in bytes (sysinfo RSS).
    pub memory_rss_bytes: Option<u64>,
}

/// `!dbstats`: open pools, file and WAL sizes, statement counts.
pub fn dbstats(stats: &DbStats) -> Message {
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
    Message::new().embed(embed)
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
    if let Some(plugins) = &health.plugins {
        embed = embed.field("Plugins", clip(plugins, 1024), true);
    }
    if let Some(rss) = health.memory_rss_bytes {
        embed = embed.field("Memory (RSS)", human_bytes(rss), true);
    }
    let (colour, verdict) = if healthy {
        (OK_COLOUR, "All checks passed.")
    } else {
        (ERROR_COLOUR, "Problems found.")
    };
    Message::new().embed(embed.colour(colour).description(verdict))
}

/// `!cleanup`: the orphan cleanup's result and how many cached guild settings were dropped.
pub fn cleanup(report: &CleanupReport, cache_entries_dropped: usize) -> Message {
    let list = |guilds: &[u64]| {
        if guilds.is_empty() {
            "none".to_owned()
        } else {
            clip(
                &guilds
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                1024,
            )
        }
    };
    let embed = Embed::new()
        .title("Cleanup")
        .colour(OK_COLOUR)
        .field(
            "Closed database pools",
            format!(
                "{}: {}",
                report.closed_pools.len(),
                list(&report.closed_pools)
            ),
            false,
        )
        .field(
            "Databases of departed guilds (kept)",
            format!(
                "{}: {}",
                report.orphan_files.len(),
                list(&report.orphan_files)
            ),
            false,
        )
        .field(
            "Cached settings dropped",
            cache_entries_dropped.to_string(),
            true,
        );
    Message::new().embed(embed)
}

/// Runs the cleanup (closes the pools and drops the cached settings of guilds not in
/// `current_guilds`) and renders it.
pub async fn run_cleanup(settings: &SqliteSettings, current_guilds: &HashSet<u64>) -> Message {
    let report = settings.databases().cleanup_orphans(current_guilds).await;
    let dropped = settings.retain_guilds(current_guilds);
    cleanup(&report, dropped)
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
