//! Plugins never starve the host: handlers that block their thread, spin, or never finish run on
//! the plugin threads, so the gateway, the built-ins and other plugins keep going. End to end:
//! the simulator over real sockets, real plugin libraries.

mod support;

use std::time::{Duration, Instant};

use support::bot::{TestBot, WAIT, text_of};
use zoryx_sim::{SimConfig, SimEvent};

const MISBEHAVE: (&str, &str) = ("misbehave.so", "misbehave.so");
const HELLO: (&str, &str) = ("plugin-hello.so", "hello.so");

/// Heartbeats every 500 ms, so a stalled runtime shows as a gap within the test's span.
fn fast_heartbeats() -> SimConfig {
    SimConfig {
        heartbeat_interval: Duration::from_millis(500),
        ..SimConfig::default()
    }
}

/// Polls `info` until the plugin's counters satisfy `pred`.
async fn wait_calls(
    bot: &TestBot,
    plugin: &str,
    what: &str,
    pred: impl Fn(&zoryx_host::runtime::CallStats) -> bool,
) -> zoryx_host::runtime::CallStats {
    let deadline = Instant::now() + WAIT;
    loop {
        let info = bot.host.manager.info(plugin).await.expect("info");
        if pred(&info.calls) {
            return info.calls;
        }
        assert!(Instant::now() < deadline, "{what}: {:?}", info.calls);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The bot's reply to message `id`, from the channel's history or as it arrives.
async fn stored_reply(bot: &mut TestBot, id: u64) -> serde_json::Value {
    let channel = bot.channel();
    let stored = bot
        .sim
        .messages(channel)
        .into_iter()
        .find(|m| m.reply_to == Some(id));
    match stored {
        Some(message) => message.payload,
        None => bot.reply_to(id).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_handlers_do_not_stop_the_bot() {
    let mut bot = TestBot::start_with(
        fast_heartbeats(),
        &[MISBEHAVE, HELLO],
        // One member runs `block` four times at once: no default cooldown here.
        r#""limits": {"command_seconds": 2, "blocked_thread_ms": 300},
           "cooldowns": {"default_rate": 0}"#,
    )
    .await;
    let guest = bot.sim.guest().id;
    let channel = bot.channel();
    let mut events = bot.sim.subscribe();
    let started = Instant::now();
    // Four handlers that sleep on their thread for 20 s and one that spins for 20 s.
    let mut blockers = Vec::new();
    for command in [
        "!block 20000",
        "!block 20000",
        "!block 20000",
        "!block 20000",
        "!spin 20000",
    ] {
        let id = bot
            .sim
            .inject_message(channel, guest, command)
            .await
            .expect("inject");
        blockers.push(id);
    }
    // All five hold a thread at once (the watchdog reports each of them).
    let calls = wait_calls(&bot, "misbehave", "five blocked threads", |c| {
        c.blocked >= 5
    })
    .await;
    assert_eq!(calls.timed_out, 0, "{calls:?}");
    // Meanwhile the built-in `!ping` and another plugin's command answer promptly.
    let mut latencies = Vec::new();
    for i in 0..40 {
        let command = if i % 2 == 0 {
            "!ping".to_owned()
        } else {
            format!("!echo round {i}")
        };
        let sent = Instant::now();
        let reply = bot.ask(guest, &command).await;
        latencies.push(sent.elapsed());
        if i % 2 == 1 {
            assert!(text_of(&reply).contains(&format!("round {i}")), "{reply}");
        }
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    eprintln!(
        "while five handlers block: p50 {:?}, p99 {p99:?} over {} commands",
        latencies[latencies.len() / 2],
        latencies.len()
    );
    assert!(
        p99 < Duration::from_millis(100),
        "p99 {p99:?} while five plugin handlers block: {latencies:?}"
    );
    // Each blocker got a "took too long" answer at the 2 s limit (read from the channel: the
    // answers may have arrived while the loop above waited for its own replies).
    for id in blockers {
        let reply = text_of(&stored_reply(&mut bot, id).await);
        assert!(reply.contains("Took too long"), "{reply}");
        assert!(reply.contains("2s"), "{reply}");
    }
    // The gateway kept its heartbeat all along: no gap over the interval (with a margin for
    // scheduling) from before the blockers started until they were answered.
    let mut heartbeats = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while heartbeats.len() < 4 || started.elapsed() < Duration::from_secs(2) {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(SimEvent::Heartbeat {
                since_last: Some(gap),
                ..
            })) => heartbeats.push(gap),
            Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(error)) => panic!("simulator events: {error}"),
            Err(_) => panic!(
                "only {} heartbeats in {:?}",
                heartbeats.len(),
                started.elapsed()
            ),
        }
    }
    let span = started.elapsed();
    let worst = heartbeats.iter().max().copied().unwrap_or_default();
    assert!(
        worst < Duration::from_millis(750),
        "heartbeat gap {worst:?} (interval 500 ms) over {span:?}: {heartbeats:?}"
    );
    let calls = wait_calls(&bot, "misbehave", "five time-outs", |c| c.timed_out >= 5).await;
    assert!(calls.blocked >= 5, "{calls:?}");
    // The counters show in `list`.
    let list = bot.host.manager.list().await;
    let misbehave = list.iter().find(|p| p.name == "misbehave").expect("listed");
    assert!(
        misbehave.calls_line().contains("blocked a thread"),
        "{}",
        misbehave.calls_line()
    );
    assert_eq!(
        list.iter()
            .find(|p| p.name == "hello")
            .expect("hello")
            .calls
            .blocked,
        0
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_past_its_limit_is_answered_and_cancelled() {
    let mut bot = TestBot::start(
        &[MISBEHAVE],
        r#""limits": {"commands": {"never": 0.5, "block": 0.5}}"#,
    )
    .await;
    let guest = bot.sim.guest().id;
    // A future that never completes: the user hears at the limit, the future is dropped.
    let started = Instant::now();
    let never = text_of(&bot.ask(guest, "!never").await);
    let took = started.elapsed();
    assert!(never.contains("Took too long"), "{never}");
    assert!(never.contains("0.5s"), "{never}");
    assert!(
        took >= Duration::from_millis(500),
        "answered before the limit: {took:?}"
    );
    let deadline = Instant::now() + WAIT;
    loop {
        let count = text_of(&bot.ask(guest, "!cancelled").await);
        if count == "1" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the never-ending future was not dropped: {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A handler that blocks past the limit and then replies: the user already heard, so the
    // late reply is dropped.
    let channel = bot.channel();
    let late = bot
        .sim
        .inject_message(channel, guest, "!block 1500")
        .await
        .expect("inject");
    let answer = text_of(&bot.reply_to(late).await);
    assert!(answer.contains("Took too long"), "{answer}");
    let deadline = Instant::now() + WAIT;
    while text_of(&bot.ask(guest, "!finished").await) != "1" {
        assert!(
            Instant::now() < deadline,
            "the blocked handler never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let late_replies: Vec<_> = bot
        .sim
        .messages(channel)
        .into_iter()
        .filter(|m| m.content == "blocked")
        .collect();
    assert!(
        late_replies.is_empty(),
        "a late reply went out: {late_replies:?}"
    );
    let info = bot.host.manager.info("misbehave").await.expect("info");
    assert_eq!(info.calls.timed_out, 2, "{:?}", info.calls);
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_listener_does_not_hold_up_commands() {
    let mut bot = TestBot::start(&[MISBEHAVE], r#""limits": {"blocked_thread_ms": 200}"#).await;
    let guest = bot.sim.guest().id;
    let channel = bot.channel();
    bot.sim
        .inject_message(channel, guest, "block-listener")
        .await
        .expect("inject");
    wait_calls(&bot, "misbehave", "the listener blocking", |c| {
        c.blocked >= 1
    })
    .await;
    assert_eq!(text_of(&bot.ask(guest, "!fine").await), "fine");
    assert!(text_of(&bot.ask(guest, "!ping").await).contains("Pong"));
    bot.shutdown().await;
}
