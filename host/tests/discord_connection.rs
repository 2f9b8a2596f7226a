//! The connection: resume after a dropped gateway, fatal errors explained, 429s honoured, DMs.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use support::TestHost;
use support::bot::{TestBot, WAIT, env_for, text_of};
use zoryx_host::config::CoreConfig;
use zoryx_host::discord::{self, DiscordError, DiscordOptions};
use zoryx_host::guild_settings::MemorySettings;
use zoryx_sim::{SimConfig, SimEvent, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_gateway_resumes_and_no_message_goes_unanswered() {
    let mut bot = TestBot::start(&[("plugin-hello.so", "hello.so")], "").await;
    let guest = bot.sim.guest().id;
    let channel = bot.channel();
    let mut asked = HashSet::new();
    for i in 0..60 {
        if i == 20 {
            bot.sim.drop_session(4000).await;
        }
        if i == 40 {
            bot.sim.send_reconnect().await;
        }
        let id = bot
            .sim
            .inject_message(channel, guest, &format!("!echo message {i}"))
            .await
            .expect("inject");
        asked.insert(id);
    }
    let mut answered = HashSet::new();
    let mut resumed = 0;
    while answered.len() < asked.len() || resumed == 0 {
        match bot
            .wait_event("replies and the resume", |e| {
                matches!(e, SimEvent::Resumed { .. })
                    || matches!(e, SimEvent::BotMessage { reply_to: Some(to), .. } if asked.contains(to))
            })
            .await
        {
            SimEvent::BotMessage {
                reply_to: Some(to), ..
            } => assert!(answered.insert(to), "message {to} answered twice"),
            _ => resumed += 1,
        }
    }
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_and_retried() {
    let mut bot = TestBot::start(&[("plugin-hello.so", "hello.so")], "").await;
    bot.sim.rate_limit("POST /channels/*/messages", 2);
    let reply = bot.ask(bot.sim.guest().id, "!echo patience").await;
    assert_eq!(reply["content"], "patience");
    let limited = bot
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.status == 429)
        .count();
    assert_eq!(limited, 2);
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_need_no_prefix() {
    let mut bot = TestBot::start(&[("plugin-hello.so", "hello.so")], "").await;
    let (_, id) = bot
        .sim
        .inject_dm(bot.sim.guest().id, "echo in private")
        .await
        .expect("dm");
    assert_eq!(bot.reply_to(id).await["content"], "in private");
    let (_, id) = bot
        .sim
        .inject_dm(bot.sim.guest().id, "!ping")
        .await
        .expect("dm");
    assert!(text_of(&bot.reply_to(id).await).contains("Pong"));
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_privileged_intents_and_bad_tokens_are_explained() {
    let sim = Simulator::start(SimConfig {
        privileged_intents_enabled: false,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let host = TestHost::new(&[]);
    let options =
        DiscordOptions::from_config(&CoreConfig::default(), &env_for(&sim)).expect("options");
    let handle = discord::start(
        Arc::clone(&host.manager),
        Arc::new(MemorySettings::default()),
        options.clone(),
    )
    .await
    .expect("the token is fine");
    let error = handle.wait_ready(WAIT).await.expect_err("4014");
    assert!(
        matches!(&error, DiscordError::DisallowedIntents { privileged } if privileged.len() == 2),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "Discord refused the gateway intents (close 4014 \"Disallowed intent(s)\"): the bot asks \
         for the privileged \"Server Members Intent\" (GUILD_MEMBERS) and \"Message Content \
         Intent\" (MESSAGE_CONTENT); enable them in the Discord Developer Portal \
         (https://discord.com/developers/applications → your application → Bot → Privileged \
         Gateway Intents), save, then restart"
    );
    handle.shutdown().await;

    let mut wrong = options;
    wrong.token = "not-the-token".to_owned();
    let error = discord::start(
        Arc::clone(&host.manager),
        Arc::new(MemorySettings::default()),
        wrong,
    )
    .await
    .expect_err("bad token");
    assert!(matches!(error, DiscordError::InvalidToken), "{error}");
    assert!(error.to_string().contains("DISCORD_TOKEN"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_shards_identify_each_shard_and_commands_work() {
    let mut bot = TestBot::start_tuned(
        SimConfig::default(),
        &[("plugin-hello.so", "hello.so")],
        "",
        |options| {
            options.shards = discord::Sharding::Fixed {
                count: 2,
                ids: vec![0, 1],
            }
        },
    )
    .await;
    let mut shards = HashSet::new();
    // Both shards identify (events were subscribed to before the bot started).
    while shards.len() < 2 {
        if let SimEvent::Identified { shard, .. } = bot
            .wait_event("both shards", |e| matches!(e, SimEvent::Identified { .. }))
            .await
        {
            assert_eq!(shard[1], 2);
            shards.insert(shard[0]);
        }
    }
    let reply = bot.ask(bot.sim.guest().id, "!echo sharded").await;
    assert_eq!(reply["content"], "sharded");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slash_limiter_keeps_extra_commands_prefix_only() {
    let mut bot = TestBot::start(
        &[("plugin-hello.so", "hello.so")],
        // The 14 slash built-ins, then room for one plugin command: `hello` fits, `echo` does not.
        r#""slash_limiter": {"max_limit": 100, "warning_threshold": 14, "safe_limit": 15}"#,
    )
    .await;
    let commands = bot.wait_registered("hello").await;
    assert_eq!(commands.len(), 15, "{commands:?}");
    assert!(
        !commands.iter().any(|c| c["name"] == "echo"),
        "{commands:?}"
    );
    let reply = bot.ask(bot.sim.guest().id, "!echo still works").await;
    assert_eq!(reply["content"], "still works");
    // `slashlimit` shows the count against the limit, the tiers and what stayed prefix-only.
    let limit = text_of(&bot.ask(bot.sim.owner().id, "!slashlimit").await);
    assert!(
        limit.contains("Registered: 15/100 (16 wanted)")
            && limit.contains("warn at 14, safe limit 15")
            && limit.contains("Prefix-only because of the limit: `echo`"),
        "{limit}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_limit_caps_registration_even_with_the_limiter_off() {
    let mut bot = TestBot::start(
        &[("plugin-hello.so", "hello.so")],
        r#""framework": {"enable_slash_command_limiter": false},
           "slash_limiter": {"max_limit": 14, "warning_threshold": 10, "safe_limit": 12}"#,
    )
    .await;
    let commands = bot.wait_registered("whycant").await;
    assert_eq!(commands.len(), 14, "{commands:?}");
    assert!(
        !commands
            .iter()
            .any(|c| c["name"] == "hello" || c["name"] == "echo"),
        "{commands:?}"
    );
    let limit = text_of(&bot.ask(bot.sim.owner().id, "!slashlimit").await);
    assert!(
        limit.contains("Registered: 14/14 (16 wanted)") && limit.contains("limiter off"),
        "{limit}"
    );
    bot.shutdown().await;
}
