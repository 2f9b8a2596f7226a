//! The operator console and the CLI, driven as an operator would.

mod support;

use support::{TestHost, checker, fixture};
use zoryx_host::console::execute;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_operations() {
    let host = TestHost::new(&[
        ("plugin-activity.so", "activity.so"),
        ("basic-v1.so", "basic.so"),
    ]);
    host.manager.load_all().await;
    let run = |line: &'static str| {
        let manager = host.manager.clone();
        async move { execute(&manager, line).await.expect("not quit") }
    };
    let list = run("list").await;
    assert!(
        list.contains("activity") && list.contains("basic") && list.contains("pinned libraries: 0"),
        "{list}"
    );
    let info = run("info basic").await;
    assert!(info.contains("commands: version, slow"), "{info}");
    assert!(info.contains("tasks: tick every 0.05s"), "{info}");
    assert!(info.contains("plugin-api 1.3.0"), "{info}");
    assert_eq!(run("call basic echo 1 a no").await, "");
    assert!(
        run("call basic echo x")
            .await
            .starts_with("error: `x` is not a valid integer for `n`\nusage: echo <n: integer>")
    );
    assert!(
        run("call activity version")
            .await
            .contains("no command `version` in plugin `activity`")
    );
    assert!(
        run("reload basic")
            .await
            .starts_with("reloaded basic (generation")
    );
    assert_eq!(run("unload basic").await, "unloaded basic");
    assert_eq!(run("load basic").await, "loaded basic");
    assert!(
        run("load nothing_here")
            .await
            .contains("no extension `nothing_here`")
    );
    assert!(
        run("enforce deps off")
            .await
            .contains("dependencies: false")
    );
    assert!(run("frobnicate").await.contains("type `help`"));
    host.manager
        .dispatcher()
        .emit("fixture_fail", serde_json::json!({}))
        .await;
    let hooks = run("hooks").await;
    assert!(
        hooks
            .lines()
            .any(|l| l.starts_with("basic/fixture_fail#")
                && l.contains(": 0 ok, 1 failed, 0 skipped")),
        "{hooks}"
    );
    assert!(execute(&host.manager, "quit").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blacklisted_extensions_are_skipped_and_names_are_normalised() {
    let host = TestHost::with_config(
        &[
            ("plugin-hello.so", "hello.so"),
            ("basic-v1.so", "my basic.so"),
        ],
        r#"{"extensions": {"blacklist": ["hello"]}}"#,
    );
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded, vec!["basic"]);
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    // "my basic" with a space is addressed as my_basic.
    assert!(host.manager.unload("my_basic", false).await.is_ok());
    assert!(host.manager.load("my basic").await.is_ok());
}

/// `extensions.auto_load: false`: nothing loads at start, and each plugin loads when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_load_off_nothing_loads_at_start_until_asked() {
    let files = [("plugin-hello.so", "hello.so")];
    let host = TestHost::with_config(&files, r#"{"extensions": {"auto_load": false}}"#);
    let report = host.manager.load_all().await;
    assert!(report.loaded.is_empty(), "{report:?}");
    assert!(host.manager.list().await.iter().all(|p| !p.loaded));
    host.manager.load("hello").await.expect("loads when asked");
    assert!(
        host.manager
            .list()
            .await
            .iter()
            .any(|p| p.name == "hello" && p.loaded)
    );
    // The default loads it at start.
    let host = TestHost::new(&files);
    assert_eq!(host.manager.load_all().await.loaded, vec!["hello"]);
}

#[test]
fn plugins_list_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::copy(fixture("plugin-hello.so"), dir.path().join("hello.so")).expect("copy");
    std::fs::copy(fixture("not-a-plugin.so"), dir.path().join("clib.so")).expect("copy");
    let output = std::process::Command::new(checker())
        .args(["plugins", "list", "--extensions"])
        .arg(dir.path())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("hello.so: valid"), "{text}");
    assert!(
        text.contains("clib.so: refused: not a Zoryx plugin"),
        "{text}"
    );
}
