//! The real `zoryx` binary stops on SIGTERM and leaves a valid backup of its databases.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

fn backup_folders(data: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data.join("db-backups")) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    folders
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_backs_up_the_databases_before_exiting() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("extensions");
    std::fs::write(dir.path().join("config.json"), "{}").expect("config");
    let data = dir.path().join("state");

    // A database from an earlier run, with a guild and a custom prefix.
    {
        let dbs = zoryx_host::storage::db::Databases::open(
            zoryx_host::storage::db::DbOptions::new(&data),
        )
        .await
        .expect("seed databases");
        dbs.set_guild_prefix(77, Some("?"))
            .await
            .expect("seed prefix");
        dbs.close().await;
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_zoryx"))
        .args(["run", "--no-console", "--extensions", "extensions"])
        .args(["--config", "config.json"])
        .current_dir(dir.path())
        .env("ZORYX_DATA", &data)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zoryx");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut log = String::new();
    for line in lines.by_ref() {
        let line = line.expect("read log");
        log.push_str(&line);
        log.push('\n');
        if line.contains("extensions loaded") {
            break;
        }
    }
    assert!(
        log.contains("extensions loaded"),
        "the host did not start:\n{log}"
    );
    // The signal handlers are installed right after that line.
    std::thread::sleep(Duration::from_millis(500));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    for line in lines {
        log.push_str(&line.expect("read log"));
        log.push('\n');
    }
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "exit {exit:?}\n{log}");
    assert!(log.contains("shutdown backup written"), "{log}");

    let folders = backup_folders(&data);
    assert_eq!(folders.len(), 1, "{folders:?}\n{log}");
    let main = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(folders[0].join("main.db"))
            .create_if_missing(false),
    )
    .await
    .expect("open backup of main.db");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&main)
        .await
        .expect("integrity");
    assert_eq!(check, "ok");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(&main)
    .await
    .expect("tables");
    assert_eq!(
        tables,
        [
            "_sqlx_migrations",
            "command_stats",
            "global_stats",
            "health_history",
            "plugin_kv"
        ]
    );

    let guild = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(folders[0].join("77/guild.db"))
            .create_if_missing(false),
    )
    .await
    .expect("open backup of the guild database");
    let prefix: String =
        sqlx::query_scalar("SELECT value FROM guild_settings WHERE key = 'prefix'")
            .fetch_one(&guild)
            .await
            .expect("prefix in the backup");
    assert_eq!(prefix, "?");
}
