//! The storage owner commands and SQLite-backed guild settings, end to end.

mod support;

use support::bot::{TestBot, text_of};

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

    let stats = bot.ask(owner, "$dbstats").await;
    assert!(stats["embeds"][0]["title"].is_string(), "{stats}");
    assert!(text_of(&stats).contains("main.db"), "{}", text_of(&stats));
    let integrity = text_of(&bot.ask(owner, "$integritycheck").await);
    assert!(integrity.contains("1 loaded"), "{integrity}");
    let atomic = bot.ask(owner, "$atomicstats").await;
    assert!(atomic["embeds"][0]["title"].is_string(), "{atomic}");
    bot.shutdown().await;
}
