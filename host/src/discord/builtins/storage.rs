//! Owner-only storage reports: `atomicstats`, `atomictest` (the atomic file store),
//! `cachestats` (every cache: files, locks, guild settings, database pools), `dbstats`,
//! `integritycheck`, `cleanup`, `backup`. The report bodies live in `storage::atomic::commands`
//! and `storage::db::report`; this file gathers their inputs from the running bot.

use zoryx_plugin_api::palette::INFO;
use zoryx_plugin_api::{CommandSpec, Embed, Message};

use super::{BuiltinCall, Builtins};
use crate::discord::ShardState;
use crate::discord::embeds::{colour, embed};
use crate::storage::atomic::commands as atomic;
use crate::storage::db::report;

fn owner(name: &str, description: &str) -> CommandSpec {
    super::owner_command(name, description, "Owner")
}

fn unavailable(what: &str) -> String {
    format!("{what} is not available in this process")
}

pub(super) fn register(builtins: &mut Builtins) {
    builtins
        .add(
            owner("atomicstats", "Atomic file store statistics"),
            |call| {
                Box::pin(async move {
                    let store = call.bot.services.atomic.clone();
                    store
                        .map(|s| atomic::atomicstats(&s))
                        .ok_or_else(|| unavailable("The atomic file store"))
                })
            },
        )
        .add(
            owner("cachestats", "File, settings and database cache statistics"),
            |call| Box::pin(cachestats(call)),
        )
        .add(
            owner("atomictest", "Exercise the atomic file store"),
            |call| {
                Box::pin(async move {
                    let services = &call.bot.services;
                    match (&services.atomic, &services.data_dir) {
                        (Some(store), Some(dir)) => Ok(atomic::atomictest(store, dir).await),
                        _ => Err(unavailable("The atomic file store")),
                    }
                })
            },
        )
        .add(
            owner("dbstats", "Database pools, sizes, top commands and orphans"),
            |call| Box::pin(dbstats(call)),
        )
        .add(
            owner(
                "fw_migrations",
                "Migrations applied and pending in main.db and every guild database",
            )
            .category("Framework Diagnostics"),
            |call| Box::pin(migrations(call)),
        )
        .add(
            owner(
                "fw_migrate",
                "Apply pending migrations to every guild database now",
            )
            .category("Framework Diagnostics"),
            |call| Box::pin(migrate(call)),
        )
        .add(
            owner(
                "integritycheck",
                "Check databases, file store, plugins and memory",
            ),
            |call| Box::pin(integrity(call)),
        )
        .add(
            owner(
                "cleanup",
                "Close pools of guilds the bot left, sweep caches and file locks",
            ),
            |call| Box::pin(cleanup(call)),
        )
        .add(owner("dbbackup", "Back up every database now"), |call| {
            Box::pin(async move {
                match call.bot.services.db.clone() {
                    Some(db) => report::run_backup(&db).await,
                    None => Err(unavailable("The database")),
                }
            })
        });
}

/// Open pools and their connections (in use and idle), from the databases' statistics.
fn pools(stats: &crate::storage::db::DbStats) -> String {
    let (connections, idle) = stats
        .databases
        .iter()
        .filter(|d| d.open)
        .fold((0u32, 0usize), |(c, i), d| {
            (c + d.connections, i + d.idle_connections)
        });
    format!(
        "{} open pools, {connections} connections ({idle} idle)",
        stats.open_pools()
    )
}

async fn cachestats(call: BuiltinCall) -> Result<Message, String> {
    let services = &call.bot.services;
    let mut embed = Embed::new().title("📊 Cache statistics").colour(INFO);
    if let Some(store) = &services.atomic {
        let s = store.stats();
        embed = embed
            .field(
                "💾 File cache",
                format!(
                    "Size: {}/{}\nHit rate: {:.1}% ({} hits, {} misses)\nTTL: {} s",
                    s.cache_size,
                    s.cache_capacity,
                    s.hit_rate() * 100.0,
                    s.cache_hits,
                    s.cache_misses,
                    s.cache_ttl.as_secs()
                ),
                true,
            )
            .field(
                "🔒 File locks",
                format!(
                    "Tracked: {}\nHeld: {}\nSwept: {} in {} passes",
                    s.locks_tracked, s.locks_held, s.locks_removed, s.lock_cleanups
                ),
                true,
            );
    }
    if let Some(db) = &services.db {
        let stats = db.databases().stats().await;
        embed = embed
            .field(
                "🔧 Settings cache",
                format!(
                    "Guilds: {}\nPrefix, roles and auto-delete; kept until changed or the guild is left",
                    db.cached_guilds()
                ),
                true,
            )
            .field(
                "🗄️ Database",
                format!(
                    "{}\nPer-guild databases: {}",
                    pools(&stats),
                    stats.guild_files()
                ),
                true,
            );
    }
    let stats = call.stats();
    embed = embed.field(
        "📈 Metrics",
        format!(
            "Messages seen: {}\nCommands run: {}",
            stats.messages_seen, stats.commands_run
        ),
        true,
    );
    Ok(Message::new().embed(embed))
}

async fn dbstats(call: BuiltinCall) -> Result<Message, String> {
    let Some(db) = call.bot.services.db.clone() else {
        return Err(unavailable("The database"));
    };
    let databases = db.databases();
    let stats = databases.stats().await;
    let current = call.bot.guild_ids();
    let top_commands = match databases.command_stats(None).await {
        Ok(counts) => counts,
        Err(error) => {
            tracing::warn!(%error, "command counts unavailable for dbstats");
            Vec::new()
        }
    };
    let departed = |guilds: Vec<u64>| -> Vec<u64> {
        guilds
            .into_iter()
            .filter(|g| !current.contains(g))
            .collect()
    };
    let extras = report::DbExtras {
        top_commands,
        orphaned_pools: departed(databases.open_guilds()),
        departed_files: departed(databases.guild_files()),
    };
    Ok(report::dbstats(&stats, &extras))
}

/// Migration names as `0003 health_history`.
fn versions(items: &[(i64, String)]) -> String {
    items
        .iter()
        .map(|(v, d)| format!("{v:04} {d}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn migrations(call: BuiltinCall) -> Result<Message, String> {
    let Some(db) = call.bot.services.db.clone() else {
        return Err(unavailable("The database"));
    };
    let all = db.databases().migration_status().await;
    let behind = all.iter().filter(|s| !s.is_current()).count();
    let mut embed = zoryx_plugin_api::Embed::new()
        .title("🗃️ Database Migrations")
        .colour(if behind == 0 {
            zoryx_plugin_api::palette::SUCCESS
        } else {
            zoryx_plugin_api::palette::WARNING
        })
        .description(format!(
            "{} database(s): {} up to date, {behind} behind or failed. Guild databases are \
             migrated when they open; `fw_migrate` does it now.",
            all.len(),
            all.len() - behind
        ));
    let mut lines = Vec::new();
    for status in &all {
        let name = status
            .guild
            .map_or("main.db".to_owned(), |g| format!("guild {g}"));
        let line = if let Some(error) = &status.error {
            format!(
                "❌ {name}: unreadable ({})",
                crate::discord::convert::clip(error, 80)
            )
        } else if !status.failed.is_empty() {
            format!("❌ {name}: failed {:?}", status.failed)
        } else if status.pending.is_empty() {
            format!("✅ {name}: {} applied", status.applied.len())
        } else {
            format!(
                "⏳ {name}: {} applied, pending {}",
                status.applied.len(),
                versions(&status.pending)
            )
        };
        lines.push(line);
    }
    let shown: Vec<String> = lines.iter().take(20).cloned().collect();
    embed = embed.field(
        "Databases",
        crate::discord::convert::clip(&shown.join("\n"), 1000),
        false,
    );
    if lines.len() > 20 {
        embed = embed.footer(format!("Showing 20 of {} databases", lines.len()));
    }
    Ok(Message::new().embed(embed))
}

async fn migrate(call: BuiltinCall) -> Result<Message, String> {
    let Some(db) = call.bot.services.db.clone() else {
        return Err(unavailable("The database"));
    };
    tracing::info!(user = call.author.id.0, "owner command: fw_migrate");
    let done = db
        .databases()
        .migrate_all()
        .await
        .map_err(|e| e.to_string())?;
    if done.is_empty() {
        return Ok(embed(
            colour::SUCCESS,
            "✅ Nothing to migrate",
            "Every database is up to date.",
        ));
    }
    let lines: Vec<String> = done
        .iter()
        .map(|m| match &m.result {
            Ok(applied) => format!("✅ guild {}: applied {applied:?}", m.guild),
            Err(error) => format!(
                "❌ guild {}: {}",
                m.guild,
                crate::discord::convert::clip(error, 100)
            ),
        })
        .collect();
    let failed = done.iter().filter(|m| m.result.is_err()).count();
    Ok(embed(
        if failed == 0 {
            colour::SUCCESS
        } else {
            colour::ERROR
        },
        if failed == 0 {
            "✅ Migrated"
        } else {
            "❌ Some migrations failed"
        },
        crate::discord::convert::clip(&lines.join("\n"), 3500),
    ))
}

async fn cleanup(call: BuiltinCall) -> Result<Message, String> {
    let services = &call.bot.services;
    let Some(db) = services.db.clone() else {
        return Err(unavailable("The database"));
    };
    let (orphans, settings_dropped) = report::cleanup_orphans(&db, &call.bot.guild_ids()).await;
    let sweep = services.atomic.as_ref().map(|store| store.sweep());
    let mut remaining = Vec::new();
    if let Some(store) = &services.atomic {
        let s = store.stats();
        remaining.push((
            "File cache".to_owned(),
            format!("{}/{} entries", s.cache_size, s.cache_capacity),
        ));
        remaining.push((
            "File locks".to_owned(),
            format!("{} ({} held)", s.locks_tracked, s.locks_held),
        ));
    }
    remaining.push((
        "Settings cache".to_owned(),
        format!("{} guilds", db.cached_guilds()),
    ));
    remaining.push(("Database".to_owned(), pools(&db.databases().stats().await)));
    let extras = report::CleanupExtras {
        settings_dropped,
        sweep,
        remaining,
    };
    Ok(report::cleanup(&orphans, &extras))
}

async fn integrity(call: BuiltinCall) -> Result<Message, String> {
    let services = &call.bot.services;
    let Some(db) = services.db.clone() else {
        return Err(unavailable("The database"));
    };
    let plugins = call.manager().list().await;
    let loaded = plugins.iter().filter(|p| p.loaded).count();
    let usage = crate::health::process_usage();
    let mut paths = services.paths.clone();
    if let Some(data) = &services.data_dir {
        paths.push(report::PathCheck {
            name: "Data folder".to_owned(),
            path: data.clone(),
        });
    }
    paths.push(report::PathCheck {
        name: "Extensions folder".to_owned(),
        path: call.manager().paths().extensions.clone(),
    });
    let gateway = services.gateway.report().await;
    let live = call.bot.plugin_stats().await;
    let shard_total = gateway
        .shard_total
        .unwrap_or(u32::try_from(gateway.shards.len()).unwrap_or(1));
    let health = report::SystemHealth {
        file_store: services.atomic.as_ref().map(|store| {
            let health = store.health();
            match health {
                crate::storage::atomic::Health::Healthy => Ok(health.to_string()),
                other => Err(other.to_string()),
            }
        }),
        plugins: Some(format!(
            "{loaded} loaded, {} not loaded",
            plugins.len() - loaded
        )),
        memory_rss_bytes: usage.map(|u| u.rss_bytes),
        threads: usage.and_then(|u| u.threads),
        paths,
        gateway: Some(report::GatewayHealth {
            guilds: live.guilds,
            users: live.users,
            shard_total,
            shards: gateway
                .shards
                .iter()
                .map(|shard| report::ShardHealth {
                    id: shard.id,
                    state: format!("{:?}", shard.state),
                    up: shard.state == ShardState::Connected,
                    latency_ms: shard.latency_ms,
                })
                .collect(),
        }),
    };
    let databases = db.databases().integrity_check().await;
    Ok(report::integritycheck(&databases, &health))
}
