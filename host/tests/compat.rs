//! plugin-api compatibility, proved with plugins built against other copies of the API.

mod support;

use support::TestHost;
use zoryx_plugin_api::API_VERSION;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_minor_loads_newer_and_broken_are_refused() {
    let host = TestHost::new(&[
        ("old-api.so", "old_api.so"),
        ("newer-api.so", "newer_api.so"),
        ("broken-api.so", "broken_api.so"),
    ]);
    let report = host.manager.load_all().await;
    assert_eq!(
        report.loaded,
        vec!["old_api".to_string()],
        "{:?}",
        report.refused
    );

    // The 1.0 plugin works on this 1.1 host, and what 1.1 added is simply absent for it.
    assert_eq!(host.call("hello", "").await.1, vec!["hello from old api"]);
    let info = host.manager.info("old_api").await.expect("info");
    assert_eq!(info.api_version.as_deref(), Some("1.0.0"));

    let reason = |file: &str| {
        report
            .refused
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, e)| e.to_string())
            .unwrap_or_else(|| panic!("{file} was not refused"))
    };
    let newer = reason("newer_api.so");
    assert!(newer.contains("needs plugin-api 1.2.0"), "{newer}");
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
