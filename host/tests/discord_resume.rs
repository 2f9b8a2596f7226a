//! Restarting without re-identifying, through the simulator: a graceful stop leaves each
//! shard's session open and saved, the next start resumes it (no IDENTIFY), what happened in
//! between is replayed and answered, and the cache the bot needs is back without a READY.
//! A session that cannot be resumed, a corrupt or foreign sessions file, and
//! `discord.resume_sessions: false` all end in an ordinary identify.

mod support;

use zoryx_host::discord::sessions::FILE_NAME;
use zoryx_sim::{SimConfig, SimEvent, Simulator};

use support::bot::{TestBot, text_of};

fn sessions_file(bot: &TestBot) -> std::path::PathBuf {
    bot.host.dir.path().join("data").join(FILE_NAME)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_the_session_and_answers_what_came_in_between() {
    let mut bot = TestBot::start_stored(&[], "").await;
    let owner = bot.sim.owner().id;
    let first = text_of(&bot.ask(owner, "!ping").await);
    assert!(first.contains("Pong"), "{first}");
    assert_eq!(bot.sim.identify_count(), 1);
    let file = sessions_file(&bot);
    let channel = bot.channel();

    let mut asked_while_down = 0;
    let mut bot = bot
        .restart_while(async |sim: &Simulator| {
            assert!(file.exists(), "the stop saved the sessions");
            let saved = std::fs::read_to_string(&file).expect("sessions file");
            assert!(
                !saved.contains(sim.token()),
                "the token is never written: {saved}"
            );
            asked_while_down = sim
                .inject_message(channel, owner, "!ping")
                .await
                .expect("inject");
        })
        .await;

    // Resumed, not identified: the message sent while the bot was down is answered.
    let replayed = text_of(&bot.reply_to(asked_while_down).await);
    assert!(replayed.contains("Pong"), "{replayed}");
    assert_eq!(bot.sim.identify_count(), 1, "no IDENTIFY on the restart");
    assert_eq!(bot.sim.identify_refusals(), 0);
    assert!(!sessions_file(&bot).exists(), "the file is used once");

    // The cache came back with the session: the shard's guilds are known without a READY.
    let shards = text_of(&bot.ask(owner, "!shardinfo").await);
    assert!(
        shards.contains("This server's shard: Shard 0")
            && shards.contains("1 guilds")
            && shards.contains("`0` Connected"),
        "{shards}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_that_cannot_resume_end_in_an_identify() {
    // Restarts follow each other within Discord's 5 s between identifies; each new process
    // would be refused once (op 9) and identify again 5 s later. Not what this test is about.
    let config = SimConfig {
        identify_interval: std::time::Duration::from_millis(1),
        ..SimConfig::default()
    };
    let mut bot = TestBot::start_stored_with(config, "").await;
    let owner = bot.sim.owner().id;
    assert!(text_of(&bot.ask(owner, "!ping").await).contains("Pong"));

    // The session expired on Discord's side while the bot was down.
    let mut bot = bot
        .restart_while(async |sim: &Simulator| {
            assert_eq!(sim.expire_sessions(), 1);
        })
        .await;
    let pong = text_of(&bot.ask(owner, "!ping").await);
    assert!(pong.contains("Pong"), "{pong}");
    assert_eq!(
        bot.sim.identify_count(),
        2,
        "identified after the refused RESUME"
    );

    // A corrupt file: refused with a log line, the bot identifies.
    let file = sessions_file(&bot);
    let mut bot = bot
        .restart_while(async |_: &Simulator| {
            assert!(file.exists(), "the identified session was saved in turn");
            std::fs::write(&file, b"{\"version\": 1, \"sessions\": [").expect("corrupt");
        })
        .await;
    assert!(text_of(&bot.ask(owner, "!ping").await).contains("Pong"));
    assert_eq!(bot.sim.identify_count(), 3);

    // Another bot's sessions (another token's digest): not tried.
    let file = sessions_file(&bot);
    let mut bot = bot
        .restart_while(async |_: &Simulator| {
            let text = std::fs::read_to_string(&file).expect("saved");
            let mut saved: serde_json::Value = serde_json::from_str(&text).expect("json");
            saved["token"] = "0123456789abcdef0123456789abcdef".into();
            std::fs::write(&file, saved.to_string()).expect("rewrite");
        })
        .await;
    assert!(text_of(&bot.ask(owner, "!ping").await).contains("Pong"));
    assert_eq!(bot.sim.identify_count(), 4);
    assert_eq!(bot.sim.identify_refusals(), 0);
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_sessions_off_ends_the_session_at_a_stop() {
    let mut bot = TestBot::start_stored(&[], r#""discord": {"resume_sessions": false}"#).await;
    let owner = bot.sim.owner().id;
    assert!(text_of(&bot.ask(owner, "!ping").await).contains("Pong"));
    let file = sessions_file(&bot);
    let mut ended = bot.sim.subscribe();
    let mut bot = bot.restart_after(|| {}).await;
    assert!(!file.exists(), "nothing saved");
    // The stop closed with 1000: the simulator ended the session.
    let mut saw_end = false;
    while let Ok(event) = ended.try_recv() {
        if let SimEvent::Disconnected { client_code, .. } = event {
            saw_end |= client_code == Some(1000);
        }
    }
    assert!(saw_end, "the gateway saw a 1000 close");
    assert!(text_of(&bot.ask(owner, "!ping").await).contains("Pong"));
    assert_eq!(bot.sim.identify_count(), 2);
    bot.shutdown().await;
}
