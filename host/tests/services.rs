//! Host services seen from plugins: listeners, hooks, scheduled tasks, messages and storage;
//! in-process and isolated.

mod support;

use std::time::Duration;

use support::{Mode, TestHost};
use zoryx_plugin_api::{ChannelId, Event, IncomingMessage, MessageId, User, UserId};

async fn listeners_hooks_tasks_and_storage(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    host.manager.load_all().await;

    let event = Event::MessageCreate(IncomingMessage {
        id: MessageId(1),
        channel_id: ChannelId(5),
        guild_id: None,
        author: User {
            id: UserId(2),
            name: "a".into(),
            bot: false,
        },
        content: "ping-listener".into(),
        ..IncomingMessage::default()
    });
    let results = host.manager.dispatcher().dispatch_event(&event).await;
    assert_eq!(results.len(), 1);
    assert!(results[0].1.is_ok(), "{results:?}");
    // Every entry into the plugin, the listener's own closure included, is made on a plugin
    // thread (in a worker process when isolated), never on the host runtime's.
    let thread = host.call("listener_thread", "").await.1;
    assert!(
        thread.len() == 1 && thread[0].starts_with("zoryx-plugin-"),
        "{thread:?}"
    );

    let ran = host
        .manager
        .dispatcher()
        .emit("fixture_event", serde_json::json!({"n": 1}))
        .await;
    assert_eq!(ran, 1);
    assert_eq!(host.call("hooks", "").await.1, vec![r#"{"n":1}"#]);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let ticks: u64 = host.call("ticks", "").await.1[0].parse().expect("number");
    assert!(
        ticks >= 2,
        "task ran {ticks} times in 300 ms at a 50 ms period"
    );

    // Unload cancels the task: nothing of the plugin runs afterwards (its library is closed).
    host.manager.unload("basic", false).await.expect("unload");
    assert!(
        host.manager
            .tracker()
            .wait_closed(1, Duration::from_secs(5))
            .await
    );

    host.manager.load("basic").await.expect("load");
    // Storage answers (an absent key reads as none); its behaviour is in plugin_storage.rs.
    assert_eq!(host.call("storage", "").await.1, vec!["ok"]);
}

async fn a_failing_hook_trips_its_circuit_breaker(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    host.manager.load_all().await;
    let dispatcher = host.manager.dispatcher();
    for _ in 0..7 {
        assert_eq!(
            dispatcher.emit("fixture_fail", serde_json::json!({})).await,
            0
        );
    }
    let stats = dispatcher.hook_health().stats();
    let (id, stats) = stats
        .iter()
        .find(|(id, _)| id.1 == "fixture_fail")
        .expect("stats");
    assert_eq!(id.0, "basic");
    assert_eq!(
        (stats.failures, stats.skipped, stats.circuit_open),
        (5, 2, true)
    );
    let history = dispatcher.hook_health().history();
    assert_eq!(history.len(), 5);
    assert_eq!(history[0].error.as_deref(), Some("hook failed on purpose"));
    // Other hooks are unaffected.
    assert_eq!(
        dispatcher
            .emit("fixture_event", serde_json::json!({"n": 2}))
            .await,
        1
    );
}

/// Discord's limits are checked before a plugin's message goes out, in-process and in a worker:
/// one character past 2,000 is refused with an error naming the limit (nothing is sent, nothing
/// cut), and `split_text` makes parts that go through.
async fn a_message_past_discords_limits_is_refused_by_name(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    host.manager.load_all().await;
    let (_, replies) = host.call("long", "2000").await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].chars().count(), 2000);
    let (_, replies) = host.call("long", "2001").await;
    assert_eq!(
        replies[0],
        "refused: host: message not sent: content has 2001 characters; Discord allows at most \
         2000 (split long text with `zoryx_plugin_api::split_text`)"
    );
    let parts = &replies[1..];
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts.iter().all(|p| p.chars().count() <= 2000));
    // 400 words and a space each, then "w": cut at the last space, which is dropped.
    assert_eq!(parts[0], ["word"; 400].join(" "));
    assert_eq!(parts[1], "w");
}

both_modes!(
    listeners_hooks_tasks_and_storage,
    a_failing_hook_trips_its_circuit_breaker,
    a_message_past_discords_limits_is_refused_by_name,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_event_hooks_off_emitted_events_reach_no_hook() {
    let host = TestHost::with_config(
        &[("basic-v1.so", "basic.so")],
        r#"{"framework": {"enable_event_hooks": false}}"#,
    );
    host.manager.load_all().await;
    let ran = host
        .manager
        .dispatcher()
        .emit("fixture_event", serde_json::json!({"n": 1}))
        .await;
    assert_eq!(ran, 0);
    let seen = host.call("hooks", "").await.1;
    assert!(!seen.iter().any(|h| h.contains(r#""n":1"#)), "{seen:?}");
    // The same plugin, hooks on (the default): the hook runs.
    let host = TestHost::new(&[("basic-v1.so", "basic.so")]);
    host.manager.load_all().await;
    assert_eq!(
        host.manager
            .dispatcher()
            .emit("fixture_event", serde_json::json!({"n": 1}))
            .await,
        1
    );
}
