//! Plugins' reads of the running bot (plugin-api's `Action::Report` and `Action::ProjectFile`):
//! the registry, diagnostics, databases and hooks as JSON, and the project's documentation,
//! confined to `README.md` and Markdown or text files under `docs/` and `data/`.

use std::path::Path;

use serde_json::{Value, json};
use zoryx_plugin_api::introspect::{PROJECT_FILE_MAX_BYTES, check_project_path};
use zoryx_plugin_api::{PluginError, Report};

use super::bot::Bot;
use crate::runtime::hooks::hook_name;

/// The report `topic` on `bot`.
pub(crate) async fn report(bot: &Bot, topic: Report) -> Result<Value, PluginError> {
    Ok(match topic {
        Report::Plugins => plugins(bot).await,
        Report::Diagnostics => diagnostics(bot).await,
        Report::Database => database(bot).await,
        Report::Hooks => hooks(bot),
        other => {
            return Err(PluginError::NotAvailable(format!(
                "the {} report",
                other.name()
            )));
        }
    })
}

async fn plugins(bot: &Bot) -> Value {
    let plugins: Vec<Value> = bot
        .manager
        .list()
        .await
        .into_iter()
        .map(|p| {
            json!({
                "name": p.name,
                "version": p.version,
                "author": p.author,
                "description": p.description,
                "status": format!("{:?}", p.status).to_lowercase(),
                "state": p.state(),
                "reason": p.reason,
                "loaded": p.loaded,
                "api_version": p.api_version,
                "dependencies": p.dependencies,
                "conflicts": p.conflicts,
                "commands": p.commands,
                "listeners": p.listeners,
                "hooks": p.hooks,
                "tasks": p.tasks,
            })
        })
        .collect();
    json!({ "plugins": plugins })
}

async fn diagnostics(bot: &Bot) -> Value {
    let Some(diagnostics) = bot.services.diagnostics.clone() else {
        return json!({ "available": false });
    };
    let (snapshot, grade) = diagnostics.now().await;
    let calls: Vec<Value> = snapshot
        .plugins
        .iter()
        .filter(|(_, s)| s.calls > 0)
        .map(|(name, s)| {
            json!({
                "plugin": name, "calls": s.calls, "errors": s.errors,
                "timed_out": s.timed_out, "blocked": s.blocked,
                "p50_us": s.p50_us, "p99_us": s.p99_us,
            })
        })
        .collect();
    let shards: Vec<Value> = snapshot
        .shards
        .iter()
        .map(|s| json!({ "id": s.id, "state": s.state, "latency_ms": s.latency_ms }))
        .collect();
    json!({
        "available": true,
        "health": {
            "tier": grade.tier.name(),
            "reasons": grade.reasons.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        },
        "uptime_seconds": snapshot.uptime.as_secs(),
        "cpu_percent": snapshot.cpu_percent,
        "memory_mb": snapshot.rss_mb(),
        "threads": snapshot.threads,
        "commands": snapshot.commands,
        "errors": snapshot.errors,
        "error_rate": snapshot.error_rate,
        "loop_lag_ms": snapshot.lag_max_ms,
        "tasks": snapshot.tasks,
        "shards": shards,
        "plugin_calls": calls,
    })
}

async fn database(bot: &Bot) -> Value {
    let Some(db) = bot.services.db.clone() else {
        return json!({ "available": false });
    };
    let databases = db.databases();
    let stats = databases.stats().await;
    let files: Vec<Value> = stats
        .databases
        .iter()
        .map(|d| {
            json!({
                "name": d.path.file_name().map(|n| n.to_string_lossy().into_owned()),
                "guild": d.guild,
                "open": d.open,
                "connections": d.connections,
                "bytes": d.file_bytes,
                "wal_bytes": d.wal_bytes,
                "queries": d.queries,
            })
        })
        .collect();
    let top = databases.command_stats(None).await.unwrap_or_default();
    json!({
        "available": true,
        "databases": files,
        "total_bytes": stats.total_bytes(),
        "total_queries": stats.total_queries(),
        "top_commands": top.into_iter().take(10).collect::<Vec<_>>(),
    })
}

fn hooks(bot: &Bot) -> Value {
    let dispatcher = bot.manager.dispatcher();
    let health = dispatcher.hook_health();
    let table = bot.manager.table();
    let hooks: Vec<Value> = table
        .all_hooks()
        .into_iter()
        .map(|(event, route)| {
            let id = (
                route.route.generation.name.clone(),
                event.to_owned(),
                route.route.index,
            );
            let stats = health.stats_of(&id);
            json!({
                "name": hook_name(&id),
                "event": event,
                "plugin": id.0,
                "priority": route.priority,
                "runs": stats.successes + stats.failures,
                "failures": stats.failures,
                "skipped": stats.skipped,
                "mean_ms": stats.mean_ms,
                "circuit_open": stats.circuit_open,
                "disabled": health.is_disabled(&id),
            })
        })
        .collect();
    json!({ "enabled": dispatcher.hooks_enabled(), "hooks": hooks })
}

/// Reads `path` under `root` (the project folder) by the rule of [`check_project_path`], and
/// refuses a file whose real path leaves `root` (a symbolic link out) or is not UTF-8 text.
pub(crate) async fn project_file(root: &Path, path: &str) -> Result<String, PluginError> {
    let clean = check_project_path(path).map_err(PluginError::User)?;
    let root = root.to_owned();
    tokio::task::spawn_blocking(move || {
        let missing = || PluginError::User(format!("there is no readable file `{clean}`"));
        let base = std::fs::canonicalize(&root).map_err(|_| missing())?;
        let real = std::fs::canonicalize(base.join(&clean)).map_err(|_| missing())?;
        if !real.starts_with(&base) || !real.is_file() {
            return Err(PluginError::User(format!(
                "`{clean}` leaves the project folder"
            )));
        }
        // The rule again on the real path: a link inside `docs/` to `.env` is refused too.
        let inside = real
            .strip_prefix(&base)
            .map_err(|_| missing())?
            .to_string_lossy()
            .replace('\\', "/");
        check_project_path(&inside).map_err(PluginError::User)?;
        let size = std::fs::metadata(&real).map_err(|_| missing())?.len();
        if size > PROJECT_FILE_MAX_BYTES as u64 {
            return Err(PluginError::User(format!(
                "`{clean}` is over {} KiB",
                PROJECT_FILE_MAX_BYTES / 1024
            )));
        }
        let bytes = std::fs::read(&real).map_err(|_| missing())?;
        String::from_utf8(bytes).map_err(|_| PluginError::User(format!("`{clean}` is not text")))
    })
    .await
    .map_err(|e| PluginError::Host(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn project_files_stay_inside_the_allowed_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("docs")).expect("docs");
        std::fs::create_dir_all(root.join("data")).expect("data");
        std::fs::write(root.join("README.md"), "# Bot").expect("readme");
        std::fs::write(root.join("docs/guide.md"), "guide").expect("guide");
        std::fs::write(root.join(".env"), "DISCORD_TOKEN=secret").expect("env");
        std::fs::write(root.join("data/notes.txt"), "notes").expect("notes");
        std::fs::write(root.join("data/main.db"), "db").expect("db");
        assert_eq!(
            project_file(root, "README.md").await.expect("readme"),
            "# Bot"
        );
        assert_eq!(
            project_file(root, "docs/guide.md").await.expect("guide"),
            "guide"
        );
        assert_eq!(
            project_file(root, "data/notes.txt").await.expect("notes"),
            "notes"
        );
        for refused in [
            ".env",
            "docs/../.env",
            "data/main.db",
            "/etc/passwd",
            "../outside.md",
            "docs/missing.md",
        ] {
            assert!(
                project_file(root, refused).await.is_err(),
                "{refused} was read"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join(".env"), root.join("docs/env-link.md"))
                .expect("link");
            std::os::unix::fs::symlink("/etc/hostname", root.join("docs/host.md")).expect("link");
            for link in ["docs/env-link.md", "docs/host.md"] {
                assert!(project_file(root, link).await.is_err(), "{link} was read");
            }
        }
    }
}
