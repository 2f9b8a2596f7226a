//! The connection: resume after a dropped gateway, fatal errors explained, 429s honoured, DMs.

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use support::TestHost;
use support::bot::{TestBot, WAIT, env_for, text_of};
use zoryx_host::config::CoreConfig;
use zoryx_host::discord::{self, DiscordError, DiscordOptions};
use zoryx_host::guild_settings::MemorySettings;
use zoryx_sim::{GatewayCompression, IdentifyCompress, SimConfig, SimEvent, Simulator};

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
    // The slash built-ins, then room for one plugin command: `hello` fits, `echo` does not.
    let builtins = slash_builtins();
    let mut bot = TestBot::start(
        &[("plugin-hello.so", "hello.so")],
        &format!(
            r#""slash_limiter": {{"max_limit": 100, "warning_threshold": {builtins}, "safe_limit": {}}}"#,
            builtins + 1
        ),
    )
    .await;
    let commands = bot.wait_registered("hello").await;
    assert_eq!(commands.len(), builtins + 1, "{commands:?}");
    assert!(
        !commands.iter().any(|c| c["name"] == "echo"),
        "{commands:?}"
    );
    let reply = bot.ask(bot.sim.guest().id, "!echo still works").await;
    assert_eq!(reply["content"], "still works");
    // `slashlimit` shows the count against the limit, the tiers and what stayed prefix-only.
    let limit = text_of(&bot.ask(bot.sim.owner().id, "!slashlimit").await);
    assert!(
        limit.contains(&format!(
            "Registered: {}/100 ({} wanted)",
            builtins + 1,
            builtins + 2
        )) && limit.contains(&format!("warn at {builtins}, safe limit {}", builtins + 1))
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
        limit.contains(&format!(
            "Registered: 14/14 ({} wanted)",
            slash_builtins() + 2
        )) && limit.contains("limiter off"),
        "{limit}"
    );
    bot.shutdown().await;
}

/// The built-in commands with a slash form.
fn slash_builtins() -> usize {
    zoryx_host::discord::builtins::Builtins::standard()
        .iter()
        .filter(|b| b.spec.kind != zoryx_plugin_api::CommandKind::Prefix)
        .count()
}

/// The next presence a shard sets: (type, name or custom state, url, status).
async fn next_presence(
    events: &mut tokio::sync::broadcast::Receiver<SimEvent>,
) -> (u64, String, Option<String>, String) {
    let presence = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(SimEvent::PresenceUpdated { presence, .. }) = events.recv().await {
                return presence;
            }
        }
    })
    .await
    .expect("a presence update");
    let activity = &presence["activities"][0];
    (
        activity["type"].as_u64().expect("type"),
        if activity["type"] == 4 {
            activity["state"].as_str().expect("state").to_owned()
        } else {
            activity["name"].as_str().expect("name").to_owned()
        },
        activity["url"].as_str().map(str::to_owned),
        presence["status"].as_str().expect("status").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_rotates_through_the_configured_statuses_and_owners_steer_it() {
    let mut bot = TestBot::start(
        &[],
        r#""status": {"statuses": [
              {"type": "watching", "text": "{guilds} servers | {prefix}help"},
              {"type": "streaming", "text": "live: {commands} commands",
               "url": "https://twitch.tv/zoryx", "presence": "idle"}
           ], "interval_seconds": 3600}"#,
    )
    .await;
    // The first status is shown as soon as the shard is READY, placeholders filled in.
    bot.wait_event("the first presence", |e| {
        matches!(e, SimEvent::PresenceUpdated { presence, .. }
            if presence["activities"][0]["name"] == "1 servers | !help"
                && presence["activities"][0]["type"] == 3
                && presence["status"] == "online")
    })
    .await;
    let mut presences = bot.sim.subscribe();
    let owner = bot.sim.owner().id;
    // `status next` goes on to the streaming status, with its URL and online status.
    let next = text_of(&bot.ask(owner, "!status next").await);
    assert!(next.contains("Now: **Streaming live: "), "{next}");
    let (kind, name, url, status) = next_presence(&mut presences).await;
    assert_eq!(
        (kind, url.as_deref(), status.as_str()),
        (1, Some("https://twitch.tv/zoryx"), "idle")
    );
    assert!(
        name.starts_with("live: ") && name.ends_with(" commands"),
        "{name}"
    );
    // `status set` shows a status of the owner's until `status resume`.
    let set = text_of(
        &bot.ask(owner, "!status set custom Down for maintenance")
            .await,
    );
    assert!(set.contains("paused"), "{set}");
    assert_eq!(
        next_presence(&mut presences).await,
        (
            4,
            "Down for maintenance".to_owned(),
            None,
            "idle".to_owned()
        )
    );
    let shown = text_of(&bot.ask(owner, "!status").await);
    assert!(
        shown.contains("Now: Down for maintenance (idle)")
            && shown.contains("set by `status set`")
            && shown.contains("Every: 3600 s"),
        "{shown}"
    );
    let bad = text_of(&bot.ask(owner, "!status set streaming not-a-url").await);
    assert!(bad.contains("stream's URL"), "{bad}");
    text_of(&bot.ask(owner, "!status resume").await);
    assert_eq!(
        next_presence(&mut presences).await.0,
        1,
        "back to the rotation"
    );
    assert_eq!(
        bot.sim.presence(0).expect("recorded")["activities"][0]["type"],
        1
    );
    // Only owners steer it.
    let refused = text_of(&bot.ask(bot.sim.guest().id, "!status pause").await);
    assert!(refused.contains("owner"), "{refused}");
    bot.shutdown().await;
}

/// A gateway proxy's set-up: REST to one address (`discord.api_base`), the gateway at another
/// (`discord.gateway_url`), not the one `GET /gateway/bot` names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_url_setting_sends_the_shards_elsewhere_than_rest() {
    // The REST side: it names its own gateway, which the bot must not use.
    let rest = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let mut rest_events = rest.subscribe();
    // The gateway side: a bot connected the usual way; a second one goes to `rest` for REST
    // and to this one's gateway.
    let bot = TestBot::start(&[], "").await;
    let gateway = bot.sim.gateway_url();
    let identified_before = bot.sim.connected_sessions();
    let host = TestHost::new(&[]);
    let mut options =
        DiscordOptions::from_config(&CoreConfig::default(), &env_for(&bot.sim)).expect("options");
    options.api_base = Some(rest.base_url());
    options.gateway_url = Some(gateway.clone());
    let second = discord::start(
        Arc::clone(&host.manager),
        Arc::new(MemorySettings::default()),
        options,
    )
    .await
    .expect("start");
    tokio::time::timeout(WAIT, second.ready())
        .await
        .expect("ready through the configured gateway");
    assert_eq!(bot.sim.connected_sessions(), identified_before + 1);
    // The REST side's own gateway never saw an IDENTIFY.
    while let Ok(event) = rest_events.try_recv() {
        assert!(
            !matches!(event, SimEvent::Identified { .. }),
            "identified at the REST side's gateway"
        );
    }
    second.shutdown().await;
    bot.shutdown().await;
}

/// The gateway's bytes come as one zlib stream per connection (`compress=zlib-stream`), both
/// from Discord and from Gelbpunkt/gateway-proxy, which takes IDENTIFY's `compress: true` as a
/// request for such a stream (serenity 0.12.5 as released asked for that and inflated each frame
/// on its own: behind the proxy it read the first frame and nothing after it). Against the
/// simulator in both ways: READY, a GUILD_CREATE too large for one frame, commands answered, a
/// dropped connection resumed on a new stream with the missed message replayed, and no other
/// reconnection on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_is_one_zlib_stream_against_discord_and_behind_gateway_proxy() {
    for flavour in [IdentifyCompress::PerPayload, IdentifyCompress::SharedStream] {
        let sim_config = SimConfig {
            identify_compress: flavour,
            ..SimConfig::default()
        };
        // A guild whose GUILD_CREATE spans several frames of the stream.
        let mut bot =
            TestBot::start_for_with(sim_config, &[("plugin-hello.so", "hello.so")], |sim| {
                sim.populate(1, 2000);
                String::new()
            })
            .await;
        let identified = bot
            .wait_event("the IDENTIFY", |e| matches!(e, SimEvent::Identified { .. }))
            .await;
        let SimEvent::Identified { compression, .. } = identified else {
            unreachable!("matched Identified")
        };
        assert_eq!(compression, GatewayCompression::ZlibStream, "{flavour:?}");
        let owner = bot.sim.owner().id;
        // Every guild arrived whole: the users of both are in the cache the command reads.
        let stats = text_of(&bot.ask(owner, "!stats").await);
        assert!(stats.contains("Users: 2003"), "{flavour:?}: {stats}");
        let reply = bot
            .ask(bot.sim.guest().id, "!echo through the stream")
            .await;
        assert_eq!(reply["content"], "through the stream");
        // No connection closed so far: the stream never broke.
        while let Ok(event) = bot.events.try_recv() {
            assert!(
                !matches!(
                    event,
                    SimEvent::Disconnected { .. } | SimEvent::Resumed { .. }
                ),
                "{flavour:?}: {event:?}"
            );
        }

        // A dropped connection resumes on a new stream; what it missed is replayed there.
        bot.sim.drop_session(4000).await;
        let missed = bot
            .sim
            .inject_message(bot.channel(), bot.sim.guest().id, "!echo missed")
            .await
            .expect("inject");
        let resumed = bot
            .wait_event("the RESUME", |e| matches!(e, SimEvent::Resumed { .. }))
            .await;
        let SimEvent::Resumed { compression, .. } = resumed else {
            unreachable!("matched Resumed")
        };
        assert_eq!(compression, GatewayCompression::ZlibStream, "{flavour:?}");
        assert_eq!(bot.reply_to(missed).await["content"], "missed");
        let reply = bot.ask(bot.sim.guest().id, "!echo after the resume").await;
        assert_eq!(reply["content"], "after the resume");
        // One IDENTIFY, the one RESUME the drop caused: the stream never broke.
        assert_eq!(bot.sim.identify_count(), 1, "{flavour:?}");
        bot.shutdown().await;
    }
}
