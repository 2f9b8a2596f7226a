//! Panics inside plugins become errors; a panicking or failing init is refused.

mod support;

use support::TestHost;
use zoryx_host::manager::OpError;
use zoryx_host::runtime::CommandOutcome;
use zoryx_plugin_api::PluginError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_async_panics_are_errors_and_the_host_lives() {
    let host = TestHost::new(&[("basic-v1.so", "basic.so")]);
    host.manager.load_all().await;
    for (command, text) in [("panic", "sync boom"), ("apanic", "async boom")] {
        for _ in 0..3 {
            match host.call(command, "").await.0 {
                CommandOutcome::Failed {
                    error: PluginError::Panic(message),
                    ..
                } => {
                    assert!(message.contains(text), "{message}");
                }
                other => panic!("{command}: {other:?}"),
            }
        }
    }
    match host.call("fail", "").await.0 {
        CommandOutcome::Failed { error, .. } => assert_eq!(error.to_string(), "failed on purpose"),
        other => panic!("{other:?}"),
    }
    // Still serving, and still reloadable.
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
    host.manager
        .reload("basic")
        .await
        .expect("reload after panics");
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_or_failing_init_is_refused() {
    let host = TestHost::new(&[
        ("init-panic.so", "init_panic.so"),
        ("init-error.so", "init_error.so"),
        ("basic-v1.so", "basic.so"),
    ]);
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded, vec!["basic".to_string()]);
    let reasons: Vec<String> = report
        .refused
        .iter()
        .map(|(f, e)| format!("{f}: {e}"))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    let panic_line = reasons
        .iter()
        .find(|r| r.starts_with("init_panic.so"))
        .expect("panic refused");
    assert!(
        panic_line.contains("init failed: plugin panicked: init exploded"),
        "{panic_line}"
    );
    let error_line = reasons
        .iter()
        .find(|r| r.starts_with("init_error.so"))
        .expect("error refused");
    assert!(
        error_line.contains("init failed: database unreachable"),
        "{error_line}"
    );
    assert!(matches!(
        host.manager.load("init_panic").await,
        Err(OpError::Init { .. })
    ));
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
    // The refused libraries were closed again.
    assert_eq!(host.manager.library_stats().live, 1);
}
