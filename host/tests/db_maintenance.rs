//! Database maintenance on real files: backups, integrity checks, statistics and the owner
//! command embeds.

mod support;

use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;

use sqlx::sqlite::SqlitePool;
use support::db::{inspect, tables};
use zoryx_host::storage::db::report::{self, SystemHealth};
use zoryx_host::storage::db::{Databases, DbOptions};

async fn integrity(pool: &SqlitePool) -> String {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(pool)
        .await
        .expect("integrity_check")
}

#[tokio::test]
async fn backups_are_timestamped_valid_databases_that_never_overwrite() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut options = DbOptions::new(dir.path());
    options.backup_keep = 2;
    let dbs = Databases::open(options).await.expect("open");
    dbs.set_guild_prefix(1, Some("?")).await.expect("guild 1");
    dbs.set_guild_prefix(2, Some("%")).await.expect("guild 2");
    dbs.increment_command_usage(Some(1), "ping")
        .await
        .expect("count");
    // Guild 2's pool is closed: its file is backed up all the same.
    assert!(dbs.cleanup_guild(2).await);

    let files = dbs.backup(None).await.expect("backup");
    let folder = files[0].parent().expect("folder").to_path_buf();
    assert_eq!(
        folder.parent(),
        Some(dir.path().join("db-backups").as_path())
    );
    let stamp = folder
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_owned();
    assert_eq!(stamp.len(), 16, "{stamp}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "{stamp}"
    );
    assert_eq!(
        files,
        [
            folder.join("main.db"),
            folder.join("1/guild.db"),
            folder.join("2/guild.db")
        ]
    );

    let main = inspect(&folder.join("main.db")).await;
    assert_eq!(integrity(&main).await, "ok");
    assert_eq!(
        tables(&main).await,
        [
            "_sqlx_migrations",
            "command_stats",
            "global_stats",
            "health_history",
            "plugin_kv"
        ]
    );
    let count: i64 =
        sqlx::query_scalar("SELECT usage_count FROM command_stats WHERE command_name = 'ping'")
            .fetch_one(&main)
            .await
            .expect("count in backup");
    assert_eq!(count, 1);
    let guild = inspect(&folder.join("2/guild.db")).await;
    assert_eq!(integrity(&guild).await, "ok");
    let prefix: String =
        sqlx::query_scalar("SELECT value FROM guild_settings WHERE key = 'prefix'")
            .fetch_one(&guild)
            .await
            .expect("prefix in backup");
    assert_eq!(prefix, "%");
    main.close().await;
    guild.close().await;

    // More backups within the same second get their own folders; only the newest two stay.
    let second = dbs.backup(Some(1)).await.expect("second");
    let third = dbs.backup(Some(1)).await.expect("third");
    assert_eq!(second.len(), 1);
    assert!(second[0].ends_with("1/guild.db"));
    assert_ne!(second[0], third[0]);
    let kept = dbs.backups();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!folder.exists(), "the oldest backup was pruned");
    for file in second.iter().chain(&third) {
        assert!(file.is_file(), "{}", file.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("db-backups"))
        .expect("backups")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no partial backups left behind");
    dbs.close().await;
}

/// Overwrites pages 2.. of `path` with garbage, leaving the header page alone.
fn corrupt(path: &Path) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for corruption");
    let len = file.metadata().expect("size").len();
    assert!(len >= 3 * 4096, "file has pages to corrupt ({len} bytes)");
    file.seek(SeekFrom::Start(4096)).expect("seek");
    let garbage: Vec<u8> = (0..2 * 4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    file.write_all(&garbage).expect("garbage");
    file.sync_all().expect("sync");
}

#[tokio::test]
async fn integrity_check_passes_good_files_and_names_a_corrupted_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(DbOptions::new(dir.path()))
        .await
        .expect("open");
    dbs.set_guild_prefix(1, Some("?")).await.expect("guild 1");
    dbs.set_guild_prefix(2, Some("!")).await.expect("guild 2");
    let report = dbs.integrity_check().await;
    assert_eq!(report.len(), 3);
    assert!(report.iter().all(|(_, r)| r.is_ok()), "{report:?}");
    let message = report::integritycheck(&report, &SystemHealth::default());
    assert_eq!(
        message.embeds[0].description.as_deref(),
        Some("All checks passed.")
    );

    // Guild 2's pages are moved from the WAL into the file, its pool closed, then the file is
    // damaged on disk.
    let pool = dbs.guild(2).await.expect("guild 2");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .expect("checkpoint");
    drop(pool);
    assert!(dbs.cleanup_guild(2).await);
    let damaged = dir.path().join("2/guild.db");
    corrupt(&damaged);

    let report = dbs.integrity_check().await;
    let verdicts: Vec<(String, bool)> = report
        .iter()
        .map(|(path, r)| (path.display().to_string(), r.is_ok()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (dir.path().join("main.db").display().to_string(), true),
            (dir.path().join("1/guild.db").display().to_string(), true),
            (damaged.display().to_string(), false),
        ]
    );
    let health = SystemHealth {
        file_store: Some(Ok("12 files".to_owned())),
        plugins: Some("3 loaded".to_owned()),
        memory_rss_bytes: Some(50 * 1024 * 1024),
        ..SystemHealth::default()
    };
    let message = report::integritycheck(&report, &health);
    let embed = &message.embeds[0];
    assert_eq!(embed.description.as_deref(), Some("Problems found."));
    let databases = &embed.fields[0].value;
    assert!(
        databases.starts_with("2 of 3 databases passed"),
        "{databases}"
    );
    assert!(databases.contains("2/guild.db"), "{databases}");
    assert!(
        embed
            .fields
            .iter()
            .any(|f| f.name == "Memory (RSS)" && f.value == "50.0 MiB"),
        "{embed:?}"
    );
    dbs.close().await;
}

#[tokio::test]
async fn stats_count_files_wal_and_queries() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(DbOptions::new(dir.path()))
        .await
        .expect("open");
    let before = dbs.stats().await;
    assert_eq!(before.databases.len(), 1, "only main.db before any guild");
    let main_before = before.databases[0].queries;

    for i in 0..10 {
        dbs.increment_command_usage(Some(8), &format!("cmd{i}"))
            .await
            .expect("count");
    }
    // A statement run on the pool directly (as plugin storage does) is counted too.
    let pool = dbs.guild(8).await.expect("pool");
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("select");

    let stats = dbs.stats().await;
    assert_eq!(stats.open_pools(), 2);
    assert_eq!(stats.guild_files(), 1);
    let main = &stats.databases[0];
    let guild = &stats.databases[1];
    assert_eq!(guild.guild, Some(8));
    assert!(main.open && guild.open);
    assert!(
        main.queries >= main_before + 10,
        "{} -> {}",
        main_before,
        main.queries
    );
    assert!(guild.queries >= 11, "{}", guild.queries);
    assert!(guild.file_bytes > 0);
    assert!(
        guild.wal_bytes > 0,
        "writes sit in the WAL until a checkpoint"
    );
    assert!(guild.connections >= 1);

    let message = report::dbstats(&stats, &report::DbExtras::default());
    let embed = &message.embeds[0];
    assert!(
        embed
            .fields
            .iter()
            .any(|f| f.name == "Open pools" && f.value == "2"),
        "{embed:?}"
    );
    assert!(
        embed.fields.iter().any(|f| f.name == "Guild 8"),
        "{embed:?}"
    );
    dbs.close().await;
    let closed = dbs.stats().await;
    assert_eq!(closed.open_pools(), 0);
}

#[tokio::test]
async fn backups_of_older_versions_move_to_db_backups_and_nothing_else_does() {
    let dir = tempfile::tempdir().expect("tmp");
    // A first run writes a backup, as an older version would have into `backups/`.
    let dbs = Databases::open(DbOptions::new(dir.path()))
        .await
        .expect("open");
    dbs.set_guild_prefix(1, Some("?")).await.expect("guild 1");
    let files = dbs.backup(None).await.expect("backup");
    let stamp = files[0]
        .parent()
        .and_then(Path::file_name)
        .expect("stamp")
        .to_owned();
    drop(dbs);
    let old = dir.path().join("backups");
    std::fs::create_dir_all(&old).expect("old folder");
    std::fs::rename(dir.path().join("db-backups").join(&stamp), old.join(&stamp))
        .expect("as an old version left it");
    // A guild snapshot folder of the original framework, which is not the database's.
    std::fs::create_dir_all(old.join("123456")).expect("snapshot folder");
    std::fs::write(old.join("123456/index.json"), "{}").expect("snapshot index");

    let dbs = Databases::open(DbOptions::new(dir.path()))
        .await
        .expect("reopen");
    let kept = dbs.backups();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0], dir.path().join("db-backups").join(&stamp));
    assert!(kept[0].join("main.db").is_file());
    assert!(!old.join(&stamp).exists(), "moved, not copied");
    assert!(
        old.join("123456/index.json").is_file(),
        "a folder that is not a database backup stays where it is"
    );
    // Nothing left to move the next time.
    assert_eq!(dbs.migrate_backup_folder(), 0);
}
