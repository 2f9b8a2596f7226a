//! Owner-only storage reports: `atomicstats`, `atomictest`, `cachestats` (the atomic file
//! store), `dbstats`, `integritycheck`, `cleanup`, `backup` (the databases). The report bodies live in
//! `storage::atomic::commands` and `storage::db::report`; this file only wires them.

use zoryx_plugin_api::{CommandKind, CommandSpec, Message, Permission};

use super::{BuiltinCall, Builtins};
use crate::storage::atomic::commands as atomic;
use crate::storage::db::report;

fn owner(name: &str, description: &str) -> CommandSpec {
    CommandSpec::new(name)
        .description(description)
        .category("Owner")
        .permission(Permission::Owner)
        .kind(CommandKind::Hybrid)
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
            owner("cachestats", "Atomic file store cache statistics"),
            |call| {
                Box::pin(async move {
                    let store = call.bot.services.atomic.clone();
                    store
                        .map(|s| atomic::cachestats(&s))
                        .ok_or_else(|| unavailable("The atomic file store"))
                })
            },
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
            owner("dbstats", "Database pools, sizes and statement counts"),
            |call| {
                Box::pin(async move {
                    let db = call.bot.services.db.clone();
                    match db {
                        Some(db) => Ok(report::dbstats(&db.databases().stats().await)),
                        None => Err(unavailable("The database")),
                    }
                })
            },
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
                "Close and forget databases of guilds the bot left",
            ),
            |call| {
                Box::pin(async move {
                    let db = call.bot.services.db.clone();
                    match db {
                        Some(db) => Ok(report::run_cleanup(&db, &call.bot.guild_ids()).await),
                        None => Err(unavailable("The database")),
                    }
                })
            },
        )
        .add(owner("backup", "Back up every database now"), |call| {
            Box::pin(async move {
                match call.bot.services.db.clone() {
                    Some(db) => report::run_backup(&db).await,
                    None => Err(unavailable("The database")),
                }
            })
        });
}

async fn integrity(call: BuiltinCall) -> Result<Message, String> {
    let services = &call.bot.services;
    let Some(db) = services.db.clone() else {
        return Err(unavailable("The database"));
    };
    let plugins = call.manager().list().await;
    let loaded = plugins.iter().filter(|p| p.loaded).count();
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
        memory_rss_bytes: crate::health::rss_bytes(),
    };
    let databases = db.databases().integrity_check().await;
    Ok(report::integritycheck(&databases, &health))
}
