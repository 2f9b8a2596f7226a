//! The storage owner commands and SQLite-backed guild settings, end to end.

mod support;

use support::bot::{TestBot, text_of};
use zoryx_host::guild_settings::GuildSettingsStore;
use zoryx_plugin_api::GuildId;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_reports_are_for_owners_and_settings_persist_in_sqlite() {
    let mut bot = TestBot::start_with_storage(&[("plugin-hello.so", "hello.so")]).await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let refused = bot.ask(guest, "!dbstats").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );

    // The prefix is stored in the guild's database.
    bot.ask(owner, "!setprefix $").await;
    let db = bot.db.clone().expect("sqlite settings");
    assert_eq!(
        db.databases()
            .get_guild_prefix(bot.guild())
            .await
            .expect("read prefix")
            .as_deref(),
        Some("$")
    );
    assert!(text_of(&bot.ask(guest, "$echo stored").await).contains("stored"));

    // A guild the bot is not in (one it left) with an open pool: dbstats names it, cleanup
    // closes its pool and keeps its file.
    let departed = 4_242_u64;
    db.databases()
        .set_guild_prefix(departed, Some("?"))
        .await
        .expect("a departed guild's database");
    GuildSettingsStore::load(db.as_ref(), GuildId(departed))
        .await
        .expect("its settings cached");
    db.flush().await.expect("command counts written");
    let stats = bot.ask(owner, "$dbstats").await;
    assert!(stats["embeds"][0]["title"].is_string(), "{stats}");
    let text = text_of(&stats);
    assert!(text.contains("main.db"), "{text}");
    assert!(text.contains("1 open pool(s): 4242"), "{text}");
    assert!(text.contains("Top commands"), "{text}");
    assert!(text.contains("`setprefix` — 1"), "{text}");
    assert!(text.contains("`echo` — 1"), "{text}");
    let cache = text_of(&bot.ask(owner, "$cachestats").await);
    for part in [
        "File cache",
        "File locks",
        "Settings cache",
        "Guilds: 2",
        "open pools",
        "Messages seen",
    ] {
        assert!(cache.contains(part), "{part} in {cache}");
    }
    let cleanup = text_of(&bot.ask(owner, "$cleanup").await);
    assert!(
        cleanup.contains("Closed 1 database pool(s) of guilds the bot left: 4242"),
        "{cleanup}"
    );
    assert!(
        cleanup.contains("Dropped 1 cached guild setting(s)"),
        "{cleanup}"
    );
    assert!(cleanup.contains("idle file lock(s)"), "{cleanup}");
    assert!(!db.databases().is_guild_open(departed));
    let stats = text_of(&bot.ask(owner, "$dbstats").await);
    assert!(stats.contains("0 open pool(s): none"), "{stats}");
    assert!(stats.contains("1 database file(s) kept: 4242"), "{stats}");
    let integrity = text_of(&bot.ask(owner, "$integritycheck").await);
    for part in [
        "1 loaded",
        "Data folder",
        "Extensions folder",
        "Shard 0: Connected",
        "All checks passed.",
    ] {
        assert!(integrity.contains(part), "{part} in {integrity}");
    }
    let atomic = bot.ask(owner, "$atomicstats").await;
    assert!(atomic["embeds"][0]["title"].is_string(), "{atomic}");

    // An on-demand backup: a new folder with a copy of main.db that opens and holds the prefix.
    let refused = bot.ask(guest, "$dbbackup").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );
    let backup = bot.ask(owner, "$dbbackup").await;
    assert_eq!(backup["embeds"][0]["title"], "Backup done", "{backup}");
    let backups = db.databases().backups();
    let newest = backups.last().expect("a backup folder");
    let copy = newest.join(bot.guild().to_string()).join("guild.db");
    assert!(copy.is_file(), "no {} in {backup}", copy.display());
    let conn = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&copy))
        .await
        .expect("open the backup");
    let prefix: (String,) = sqlx::query_as("SELECT value FROM guild_settings WHERE key = 'prefix'")
        .fetch_one(&conn)
        .await
        .expect("prefix in the backup");
    assert_eq!(prefix.0, "$");
    conn.close().await;
    bot.shutdown().await;
}
