//! plugin-api compatibility, proved with plugins built against other copies of the API.

mod support;

use support::TestHost;
use zoryx_plugin_api::{
    API_VERSION, Attachment, ChannelId, Event, IncomingMessage, MessageId, RoleId, User, UserId,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_minors_load_newer_and_broken_are_refused() {
    let host = TestHost::new(&[
        ("old-api.so", "old_api.so"),
        ("mid-api.so", "mid_api.so"),
        ("last-api.so", "last_api.so"),
        ("newer-api.so", "newer_api.so"),
        ("broken-api.so", "broken_api.so"),
    ]);
    let report = host.manager.load_all().await;
    assert_eq!(
        report.loaded,
        vec![
            "last_api".to_string(),
            "mid_api".to_string(),
            "old_api".to_string()
        ],
        "{:?}",
        report.refused
    );

    // The 1.0 plugin works on this host, and what 1.1 and 1.2 added is simply absent for
    // it: its storage answers "not available" without asking the host.
    assert_eq!(
        host.call("old_api_hello", "").await.1,
        vec!["hello from old api"]
    );
    assert_eq!(
        host.call("old_api_kv", "").await.1,
        vec!["error: plugin storage is not available in this host yet"]
    );
    let info = host.manager.info("old_api").await.expect("info");
    assert_eq!(info.api_version.as_deref(), Some("1.0.0"));

    // The 1.1 plugin's key-value calls reach this host's storage through the fields 1.1
    // appended; the fields 1.2 appended after them do not disturb it.
    assert_eq!(
        host.call("mid_api_hello", "").await.1,
        vec!["hello from mid api"]
    );
    assert_eq!(host.call("mid_api_kv", "").await.1, vec!["count 1"]);
    assert_eq!(host.call("mid_api_kv", "").await.1, vec!["count 2"]);
    let info = host.manager.info("mid_api").await.expect("info");
    assert_eq!(info.api_version.as_deref(), Some("1.1.0"));

    // The 1.2 plugin, built against the frozen copy of 1.2 as released.
    assert_eq!(
        host.call("last_api_hello", "").await.1,
        vec!["hello from last api"]
    );
    assert_eq!(host.call("last_api_kv", "").await.1, vec!["count 1"]);
    let info = host.manager.info("last_api").await.expect("info");
    assert_eq!(info.api_version.as_deref(), Some("1.2.0"));

    // A message with what 1.3 added reaches the older plugins' listeners through the 1.0
    // layout of events, which carries what it always did.
    let message = Event::MessageCreate(IncomingMessage {
        id: MessageId(1),
        channel_id: ChannelId(2),
        guild_id: None,
        author: User {
            id: UserId(3),
            name: "ann".into(),
            bot: false,
        },
        content: "hi".into(),
        attachments: vec![Attachment {
            filename: "cat.png".into(),
            ..Attachment::default()
        }],
        reply_to: Some(MessageId(9)),
        member_roles: vec![RoleId(4)],
    });
    let results = host.manager.dispatcher().dispatch_event(&message).await;
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    for name in ["old_api", "mid_api", "last_api"] {
        assert_eq!(
            host.call(&format!("{name}_heard"), "").await.1,
            vec!["heard hi by ann"],
            "{name}"
        );
    }

    let reason = |file: &str| {
        report
            .refused
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, e)| e.to_string())
            .unwrap_or_else(|| panic!("{file} was not refused"))
    };
    let newer = reason("newer_api.so");
    let next = format!("{}.{}.0", API_VERSION.major, API_VERSION.minor + 1);
    assert!(
        newer.contains(&format!("needs plugin-api {next}")),
        "{newer}"
    );
    assert!(
        newer.contains(&format!("this host has plugin-api {API_VERSION}")),
        "{newer}"
    );

    let broken = reason("broken_api.so");
    assert!(
        broken.contains("incompatible plugin-api layout"),
        "{broken}"
    );
    assert!(
        broken.contains("at PluginModule.call_command().param_2.invocation: size: plugin 136 bytes, host 128 bytes"),
        "summarised difference: {broken}"
    );
    assert!(
        broken.contains("plugin has `locale` where the host has `guild_id`"),
        "{broken}"
    );
    assert!(
        broken.len() < 600,
        "summarised, not abi_stable's full report: {broken}"
    );
}
