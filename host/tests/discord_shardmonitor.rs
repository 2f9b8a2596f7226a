//! The shard monitor (the first-party `shardmonitor` plugin) on the host's shard figures,
//! through the simulator: the owner's commands and the dashboard, the counts a dropped and
//! resumed session leaves, an alert posted on the next minute's check, a reset, and the
//! operator's switch.

mod support;

use serde_json::Value;
use tokio::sync::Mutex;
use zoryx_host::clock;
use zoryx_sim::SimEvent;

use support::bot::{TestBot, text_of};

const MONITOR: (&str, &str) = ("plugin-shardmonitor.so", "shardmonitor.so");

/// 2026-11-30 00:00 UTC.
const MONDAY: u64 = 1_795_996_800;

/// The clock is the process's: one test at a time moves it.
static CLOCK: Mutex<()> = Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sees_shards_and_a_resumed_session_is_counted_and_alerted() {
    let _clock = CLOCK.lock().await;
    clock::set_manual(MONDAY + 30);
    let mut bot = TestBot::start(&[MONITOR], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let guild = bot.guild();

    let refused = bot.ask(guest, "!shardhealth").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );
    let health = text_of(&bot.ask(owner, "!shardhealth").await);
    assert!(
        health.contains("Shard health: healthy") && health.contains("Shard 0: healthy"),
        "{health}"
    );
    let details = text_of(&bot.ask(owner, "!sharddetails 0").await);
    assert!(details.contains("Shard 0 of 1"), "{details}");
    assert!(details.contains("Servers: 1"), "{details}");
    assert!(
        details.contains("1 connects · 0 disconnects · 0 resumes"),
        "{details}"
    );
    assert!(details.contains("messages "), "{details}");
    let none = text_of(&bot.ask(owner, "!sharddetails 5").await);
    assert!(none.contains("runs no shard 5; it runs 0"), "{none}");

    // The dashboard: tabs change the message in place.
    let (_, message, body) = bot.asked(owner, "!shardmonitor").await;
    assert!(
        text_of(&body).contains("**1/1** shards connected"),
        "{body}"
    );
    let buttons: Vec<String> = body["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(buttons.len(), 5, "{body}");
    let by_guest = bot
        .sim
        .inject_component(message, guest, &buttons[1], vec![])
        .await
        .expect("click");
    let (_, answer) = bot.callback(by_guest).await;
    // Its buttons pass the command's gate: the bot owners' only.
    assert_eq!(
        answer["embeds"][0]["title"], "Permission denied",
        "{answer}"
    );
    let click = bot
        .sim
        .inject_component(message, owner, &buttons[1], vec![])
        .await
        .expect("click");
    let (kind, health) = bot.callback(click).await;
    assert_eq!(kind, 7);
    assert!(
        text_of(&health).contains("Shard health: healthy"),
        "{health}"
    );
    let click = bot
        .sim
        .inject_component(message, owner, &buttons[3], vec![])
        .await
        .expect("click");
    let (_, events) = bot.callback(click).await;
    assert!(text_of(&events).contains("Shard events"), "{events}");

    // Alerts to a channel; a healthy minute posts nothing.
    let alerts = bot.sim.add_channel(guild, "alerts").expect("channel");
    let set = text_of(&bot.ask(owner, &format!("!shardalerts <#{alerts}> 3")).await);
    assert!(
        set.contains(&format!("<#{alerts}>")) && set.contains("3 consecutive"),
        "{set}"
    );
    // The session drops and resumes (still in the first minute: no check has run).
    bot.sim.drop_session(4000).await;
    bot.wait_event("the resume", |e| matches!(e, SimEvent::Resumed { .. }))
        .await;
    let deadline = tokio::time::Instant::now() + support::bot::WAIT;
    let details = loop {
        let details = text_of(&bot.ask(owner, "!sharddetails 0").await);
        if details.contains("1 resumes") && details.contains("1 disconnects") {
            break details;
        }
        assert!(tokio::time::Instant::now() < deadline, "{details}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(details.contains("disconnected"), "{details}");
    // The next minute's check posts it.
    clock::set_manual(MONDAY + 60);
    let alert = match bot
        .wait_event(
            "the alert",
            |e| matches!(e, SimEvent::BotMessage { channel_id, .. } if *channel_id == alerts),
        )
        .await
    {
        SimEvent::BotMessage { body, .. } => body,
        _ => unreachable!("a message"),
    };
    let text = text_of(&alert);
    assert!(
        text.contains("Shard alert: warning") && text.contains("Shard 0: disconnected 30 s ago"),
        "{text}"
    );
    // The minute after: the same problem is not posted again.
    let pool = bot.host.manager.dispatcher().shared().pool();
    let before = pool.stats("shardmonitor").calls;
    clock::set_manual(MONDAY + 120);
    let deadline = tokio::time::Instant::now() + support::bot::WAIT;
    loop {
        let now = pool.stats("shardmonitor");
        if now.calls > before && now.timed >= now.calls {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no check ran: {now:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let reset = text_of(&bot.ask(owner, "!shardreset -1").await);
    assert!(reset.contains("Every shard's counts were reset"), "{reset}");
    let details = text_of(&bot.ask(owner, "!sharddetails 0").await);
    assert!(details.contains("0 disconnects · 0 resumes"), "{details}");
    let posted: Vec<Value> = bot
        .sim
        .messages(alerts)
        .iter()
        .map(|m| m.payload.clone())
        .collect();
    assert_eq!(posted.len(), 1, "{posted:?}");
    bot.shutdown().await;
    clock::set_system();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_can_turn_the_monitor_off() {
    let mut bot = TestBot::start(
        &[MONITOR],
        r#""framework": {"enable_shard_monitor": false}"#,
    )
    .await;
    let owner = bot.sim.owner().id;
    let off = text_of(&bot.ask(owner, "!shardhealth").await);
    assert!(off.contains("the shard monitor is turned off"), "{off}");
    bot.shutdown().await;
}
