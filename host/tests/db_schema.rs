//! The SQLite layer on real files in temp folders: migrations, guild settings, command usage,
//! lazy and idle guild pools.

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::SqlitePool;
use support::db::{create_with_first_migration, inspect, migration_files, tables};
use zoryx_host::guild_settings::{GuildSettingsStore, settings_of};
use zoryx_host::storage::db::{Databases, DbError, DbOptions, SqliteSettings};
use zoryx_plugin_api::GuildId;

fn options(base: &Path) -> DbOptions {
    DbOptions::new(base)
}

async fn applied_versions(pool: &SqlitePool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("migration versions")
}

#[tokio::test]
async fn migrations_create_every_table_on_an_empty_database() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(options(dir.path())).await.expect("open");
    let main_file = dir.path().join("main.db");
    assert!(main_file.is_file());
    dbs.guild(42).await.expect("guild pool");
    let guild_file = dir.path().join("42/guild.db");
    assert!(guild_file.is_file());
    dbs.close().await;

    let main = inspect(&main_file).await;
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
    let all_main = migration_files("main").len();
    assert_eq!(applied_versions(&main).await.len(), all_main);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&main)
        .await
        .expect("journal mode");
    assert_eq!(mode, "wal", "main.db is in WAL mode");

    let guild = inspect(&guild_file).await;
    assert_eq!(
        tables(&guild).await,
        [
            "_sqlx_migrations",
            "command_stats",
            "guild_settings",
            "plugin_kv"
        ]
    );
    assert_eq!(
        applied_versions(&guild).await.len(),
        migration_files("guild").len()
    );
}

#[tokio::test]
async fn a_database_of_the_previous_schema_is_migrated_and_keeps_its_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let main_file = dir.path().join("main.db");
    let guild_file = dir.path().join("7/guild.db");

    let old_main = create_with_first_migration(&main_file, "main").await;
    assert!(!tables(&old_main).await.contains(&"plugin_kv".to_owned()));
    sqlx::query("INSERT INTO command_stats (command_name, usage_count) VALUES ('ping', 41)")
        .execute(&old_main)
        .await
        .expect("old main data");
    sqlx::query("INSERT INTO global_stats (key, value) VALUES ('started', 'yes')")
        .execute(&old_main)
        .await
        .expect("old main data");
    old_main.close().await;

    let old_guild = create_with_first_migration(&guild_file, "guild").await;
    sqlx::query("INSERT INTO guild_settings (key, value) VALUES ('prefix', '?'), ('mention_prefix', 'false')")
        .execute(&old_guild)
        .await
        .expect("old guild data");
    old_guild.close().await;

    let dbs = Databases::open(options(dir.path())).await.expect("open");
    assert_eq!(
        dbs.get_guild_prefix(7).await.expect("prefix").as_deref(),
        Some("?")
    );
    assert_eq!(
        dbs.get_mention_prefix(7).await.expect("mention"),
        Some(false)
    );
    dbs.increment_command_usage(Some(7), "ping")
        .await
        .expect("count");
    assert_eq!(
        dbs.command_stats(None).await.expect("stats"),
        [("ping".to_owned(), 42)]
    );
    // The table the second migration adds is there and usable in both.
    for pool in [dbs.main().clone(), dbs.guild(7).await.expect("guild")] {
        sqlx::query("INSERT INTO plugin_kv (plugin, key, value) VALUES ('p', 'k', '1')")
            .execute(&pool)
            .await
            .expect("plugin_kv after migration");
    }
    let global: String = sqlx::query_scalar("SELECT value FROM global_stats WHERE key = 'started'")
        .fetch_one(dbs.main())
        .await
        .expect("old row");
    assert_eq!(global, "yes");
    dbs.close().await;

    let main = inspect(&main_file).await;
    assert_eq!(
        applied_versions(&main).await.len(),
        migration_files("main").len()
    );
    let guild = inspect(&guild_file).await;
    assert_eq!(
        applied_versions(&guild).await.len(),
        migration_files("guild").len()
    );
}

#[tokio::test]
async fn prefix_and_mention_toggle_persist_across_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let guild = GuildId(1234);
    {
        let dbs = Databases::open(options(dir.path())).await.expect("open");
        let settings = SqliteSettings::new(Arc::clone(&dbs));
        assert!(
            settings.cached(guild).is_none(),
            "nothing cached before a load"
        );
        let loaded = settings_of(settings.as_ref(), guild).await.expect("load");
        assert_eq!(loaded.prefix, None);
        assert_eq!(loaded.mention_prefix, None);
        settings
            .set_prefix(guild, Some("$$".into()))
            .await
            .expect("set prefix");
        settings
            .set_mention_prefix(guild, Some(false))
            .await
            .expect("set mention");
        let cached = settings.cached(guild).expect("cached after set");
        assert_eq!(cached.prefix.as_deref(), Some("$$"));
        assert_eq!(cached.mention_prefix, Some(false));
        settings.close().await.expect("close settings");
        dbs.close().await;
    }
    let dbs = Databases::open(options(dir.path())).await.expect("reopen");
    let settings = SqliteSettings::new(Arc::clone(&dbs));
    assert!(settings.cached(guild).is_none(), "a new store starts cold");
    let loaded = settings.load(guild).await.expect("load");
    assert_eq!(loaded.prefix.as_deref(), Some("$$"));
    assert_eq!(loaded.mention_prefix, Some(false));
    assert_eq!(settings.cached(guild).as_deref(), Some(&*loaded));

    // Clearing goes back to the defaults, on disk as well.
    settings.set_prefix(guild, None).await.expect("clear");
    settings
        .set_mention_prefix(guild, Some(true))
        .await
        .expect("enable");
    assert_eq!(dbs.get_guild_prefix(1234).await.expect("prefix"), None);
    assert_eq!(
        dbs.get_mention_prefix(1234).await.expect("mention"),
        Some(true)
    );
    settings.close().await.expect("close");
    dbs.close().await;
}

#[tokio::test]
async fn a_bad_prefix_is_refused_and_the_old_one_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(options(dir.path())).await.expect("open");
    let settings = SqliteSettings::new(Arc::clone(&dbs));
    let guild = GuildId(5);
    settings
        .set_prefix(guild, Some("!!".into()))
        .await
        .expect("good prefix");
    assert!(
        settings.cached(guild).is_none(),
        "a write does not fill the cache of an uncached guild"
    );
    assert_eq!(
        settings.load(guild).await.expect("load").prefix.as_deref(),
        Some("!!")
    );
    for bad in ["", "two words", &"x".repeat(33)] {
        let error = settings
            .set_prefix(guild, Some(bad.to_owned()))
            .await
            .expect_err("bad prefix refused");
        assert!(error.to_string().contains("prefix"), "{error}");
        assert_eq!(
            settings
                .cached(guild)
                .and_then(|s| s.prefix.clone())
                .as_deref(),
            Some("!!")
        );
    }
    assert_eq!(
        dbs.get_guild_prefix(5).await.expect("read").as_deref(),
        Some("!!")
    );
    assert!(matches!(
        dbs.set_guild_prefix(5, Some(" ")).await,
        Err(DbError::Invalid(_))
    ));
    settings.close().await.expect("close");
    dbs.close().await;
}

#[tokio::test]
async fn command_uses_are_batched_and_counted_in_main_and_guild_databases() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(options(dir.path())).await.expect("open");
    // A long window: only an explicit flush writes before the batch is due.
    let settings = SqliteSettings::with_batch_window(Arc::clone(&dbs), Duration::from_secs(3600));
    for _ in 0..5 {
        settings.record_command(Some(GuildId(1)), "ping");
    }
    settings.record_command(Some(GuildId(2)), "ping");
    settings.record_command(Some(GuildId(2)), "help");
    settings.record_command(None, "help");
    assert!(
        dbs.command_stats(None).await.expect("stats").is_empty(),
        "uses wait in the batch until it is written"
    );
    settings.flush().await.expect("flush");
    assert_eq!(
        dbs.command_stats(None).await.expect("global"),
        [("ping".to_owned(), 6), ("help".to_owned(), 2)]
    );
    assert_eq!(
        dbs.command_stats(Some(1)).await.expect("guild 1"),
        [("ping".to_owned(), 5)]
    );
    assert_eq!(
        dbs.command_stats(Some(2)).await.expect("guild 2"),
        [("help".to_owned(), 1), ("ping".to_owned(), 1)]
    );

    // Closing writes what is pending; a restart still sees every count.
    settings.record_command(Some(GuildId(1)), "ping");
    settings.close().await.expect("close writes the rest");
    dbs.close().await;
    let dbs = Databases::open(options(dir.path())).await.expect("reopen");
    assert_eq!(
        dbs.command_stats(Some(1)).await.expect("guild 1"),
        [("ping".to_owned(), 6)]
    );
    let last_used: Option<String> =
        sqlx::query_scalar("SELECT last_used FROM command_stats WHERE command_name = 'ping'")
            .fetch_one(dbs.main())
            .await
            .expect("last_used");
    assert!(last_used.is_some(), "last_used is set");
    dbs.close().await;
}

#[tokio::test]
async fn uses_are_written_by_the_batch_writer_without_a_flush() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(options(dir.path())).await.expect("open");
    let settings = SqliteSettings::with_batch_window(Arc::clone(&dbs), Duration::from_millis(20));
    settings.record_command(Some(GuildId(3)), "stats");
    settings.record_command(Some(GuildId(3)), "stats");
    let mut counted = Vec::new();
    for _ in 0..500 {
        counted = dbs.command_stats(Some(3)).await.expect("stats");
        if !counted.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(counted, [("stats".to_owned(), 2)]);
    settings.close().await.expect("close");
    dbs.close().await;
}

#[tokio::test]
async fn guild_databases_open_on_first_use_and_close_when_idle() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut opts = options(dir.path());
    opts.guild_idle = Duration::from_millis(100);
    let dbs = Databases::open(opts).await.expect("open");
    let file = dir.path().join("99/guild.db");
    assert!(!file.exists(), "no guild file before first use");
    assert!(!dbs.is_guild_open(99));
    assert!(
        dbs.stats()
            .await
            .databases
            .iter()
            .all(|d| d.guild.is_none())
    );

    dbs.set_guild_prefix(99, Some("?")).await.expect("write");
    assert!(file.is_file(), "first use creates the file");
    assert!(dbs.is_guild_open(99));
    assert_eq!(dbs.open_guilds(), [99]);

    // The sweeper closes it once idle.
    let mut open = true;
    for _ in 0..500 {
        open = dbs.is_guild_open(99);
        if !open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!open, "an idle guild pool is closed");
    // Its data stays, and the next use opens it again.
    assert_eq!(
        dbs.get_guild_prefix(99).await.expect("reopen").as_deref(),
        Some("?")
    );
    assert!(dbs.is_guild_open(99));
    dbs.close().await;
    assert!(matches!(dbs.guild(99).await, Err(DbError::Closed)));
}

#[tokio::test]
async fn orphan_cleanup_closes_pools_of_departed_guilds_and_keeps_their_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(options(dir.path())).await.expect("open");
    let settings = SqliteSettings::new(Arc::clone(&dbs));
    for guild in [1, 2, 3] {
        settings
            .set_prefix(GuildId(guild), Some(format!("g{guild}")))
            .await
            .expect("set");
        settings.load(GuildId(guild)).await.expect("load");
    }
    assert_eq!(dbs.open_guilds(), [1, 2, 3]);
    assert_eq!(settings.cached_guilds(), 3);

    let current: HashSet<u64> = [2].into_iter().collect();
    let (report, dropped) =
        zoryx_host::storage::db::report::cleanup_orphans(&settings, &current).await;
    assert_eq!(dbs.open_guilds(), [2]);
    assert_eq!(settings.cached_guilds(), 1);
    assert_eq!((report.closed_pools.as_slice(), dropped), (&[1, 3][..], 2));
    let extras = zoryx_host::storage::db::report::CleanupExtras {
        settings_dropped: dropped,
        ..Default::default()
    };
    let message = zoryx_host::storage::db::report::cleanup(&report, &extras);
    let embed = &message.embeds[0];
    let done = embed.description.as_deref().unwrap_or_default();
    assert!(
        done.contains("Closed 2 database pool(s) of guilds the bot left: 1, 3"),
        "{done}"
    );
    assert!(done.contains("Dropped 2 cached guild setting(s)"), "{done}");
    assert!(
        embed.fields.iter().any(|f| f.value == "2: 1, 3"),
        "{embed:?}"
    );

    // A second run has nothing left to close but still lists the kept files.
    let report = dbs.cleanup_orphans(&current).await;
    assert!(report.closed_pools.is_empty());
    assert_eq!(report.orphan_files, [1, 3]);
    assert_eq!(
        dbs.get_guild_prefix(3).await.expect("data kept").as_deref(),
        Some("g3")
    );
    settings.close().await.expect("close");
    dbs.close().await;
}

#[tokio::test]
async fn the_hourly_orphan_cleanup_task_runs_with_the_current_guilds() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(options(dir.path())).await.expect("open");
    dbs.guild(10).await.expect("open 10");
    dbs.guild(11).await.expect("open 11");
    let task = dbs.spawn_orphan_cleanup(Duration::from_millis(20), || [11].into_iter().collect());
    let mut open = dbs.open_guilds();
    for _ in 0..500 {
        open = dbs.open_guilds();
        if open == [11] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open, [11]);
    task.abort();
    dbs.close().await;
}

#[tokio::test]
async fn a_failed_write_keeps_its_counts_and_does_not_double_count_the_others() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(options(dir.path())).await.expect("open");
    let settings = SqliteSettings::with_batch_window(Arc::clone(&dbs), Duration::from_secs(3600));
    // Guild 9's folder is taken by a file: its database cannot be created.
    let blocker = dir.path().join("9");
    std::fs::write(&blocker, b"not a folder").expect("blocker");
    settings.record_command(Some(GuildId(9)), "ping");
    settings.record_command(Some(GuildId(8)), "ping");
    let error = settings
        .flush()
        .await
        .expect_err("guild 9 cannot be written");
    assert!(
        error.to_string().contains(&*blocker.display().to_string()),
        "the error names the guild's path: {error}"
    );
    assert_eq!(
        dbs.command_stats(None).await.expect("main"),
        [("ping".to_owned(), 2)]
    );
    assert_eq!(
        dbs.command_stats(Some(8)).await.expect("guild 8"),
        [("ping".to_owned(), 1)]
    );

    // Once the problem is gone, the kept count is written, and nothing twice.
    std::fs::remove_file(&blocker).expect("unblock");
    settings.flush().await.expect("retry");
    assert_eq!(
        dbs.command_stats(Some(9)).await.expect("guild 9"),
        [("ping".to_owned(), 1)]
    );
    assert_eq!(
        dbs.command_stats(None).await.expect("main"),
        [("ping".to_owned(), 2)]
    );
    assert_eq!(
        dbs.command_stats(Some(8)).await.expect("guild 8"),
        [("ping".to_owned(), 1)]
    );
    settings.close().await.expect("close");
    dbs.close().await;
}
