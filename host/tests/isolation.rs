//! Isolation mode with real worker processes: a plugin that segfaults, aborts, exits, hangs and
//! allocates without bound ends only its worker; the host keeps answering, the user gets an
//! error, the worker restarts, and a crash loop disables the plugin until it is loaded again.
//! (The functional tests of lifecycle.rs, services.rs, plugin_storage.rs and examples.rs run
//! isolated too.)

mod support;

use std::io::Write as _;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{TestHost, call_as, checker};
use zoryx_host::isolation::WorkerState;
use zoryx_host::isolation::protocol::{self, FromWorker, Start, ToWorker};
use zoryx_host::manager::{Manager, PluginInfo};
use zoryx_host::runtime::CommandOutcome;

/// `misbehave` isolated, with a small memory limit and a short limit for `never`; six
/// failures in a minute disable it.
const CONFIG: &str = r#"{
    "isolation": {"plugins": ["misbehave"], "memory_mb": 256, "max_crashes": 6},
    "limits": {"commands": {"never": 0.5}, "blocked_thread_ms": 200}
}"#;

async fn misbehave(manager: &Arc<Manager>) -> PluginInfo {
    manager.info("misbehave").await.expect("misbehave is known")
}

/// Waits until the worker runs and returns its pid.
async fn running_pid(manager: &Arc<Manager>) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let worker = misbehave(manager).await.worker.expect("isolated");
        if let (WorkerState::Running, Some(pid)) = (&worker.state, worker.pid) {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never ran: {worker:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits until process `pid` is gone.
async fn gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    !alive(pid)
}

/// The error text of a failed command.
fn failure(outcome: &CommandOutcome) -> String {
    match outcome {
        CommandOutcome::Failed { error, .. } => error.to_string(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_crash_ends_only_the_worker() {
    let host = TestHost::with_config(
        &[
            ("basic-v1.so", "basic.so"),
            ("misbehave.so", "misbehave.so"),
        ],
        CONFIG,
    );
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded.len(), 2, "{:?}", report.refused);
    assert!(
        host.manager
            .info("basic")
            .await
            .expect("basic")
            .worker
            .is_none()
    );
    // The host never opens the isolated library itself.
    let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
    assert!(maps.contains("basic."), "the in-process plugin is mapped");
    assert!(
        !maps.contains("misbehave."),
        "the isolated library is not mapped here"
    );

    let cases = [
        ("segfault", "the plugin's worker crashed (SIGSEGV)"),
        ("abort", "the plugin's worker crashed (SIGABRT)"),
        ("exit", "the plugin's worker exited with code 3"),
        (
            "never",
            "the plugin's worker was killed: over its time limit",
        ),
        ("hog", "the plugin's worker ran out of memory"),
    ];
    for (n, (command, expected)) in cases.iter().enumerate() {
        let pid = running_pid(&host.manager).await;
        let calls = misbehave(&host.manager).await.calls.calls;
        // Another call of the plugin is in flight on the same worker when it fails.
        let in_flight = {
            let manager = Arc::clone(&host.manager);
            tokio::spawn(async move { call_as(&manager, "late", "20000", true).await })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while misbehave(&host.manager).await.calls.calls == calls {
            assert!(Instant::now() < deadline, "the call never started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        let (outcome, replies) = host.call(command, "").await;
        assert!(replies.is_empty(), "{command}: {replies:?}");
        if *command == "never" {
            // The call itself is over its limit, like in-process; then its worker is killed.
            assert!(
                matches!(outcome, CommandOutcome::TimedOut { .. }),
                "{command}: {outcome:?}"
            );
        } else {
            assert!(
                failure(&outcome).contains(expected),
                "{command}: {outcome:?}"
            );
        }
        let (outcome, _) = in_flight.await.expect("task");
        assert!(
            failure(&outcome).contains(expected),
            "{command}: the call in flight got {outcome:?}"
        );

        // The host lives, and its other plugins answer while the worker restarts.
        assert_eq!(host.call("version", "").await.1, vec!["v1"], "{command}");
        // The isolated plugin answers again, from a new worker (calls made while it is still
        // starting are refused with an error, never answered wrongly).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (outcome, replies) = host.call("fine", "").await;
            if replies == vec!["fine"] {
                break;
            }
            assert!(replies.is_empty(), "{command}: {replies:?}");
            assert!(
                matches!(outcome, CommandOutcome::Failed { .. }),
                "{command}: {outcome:?}"
            );
            assert!(
                Instant::now() < deadline,
                "{command}: no new worker: {outcome:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let new_pid = running_pid(&host.manager).await;
        assert_ne!(new_pid, pid, "{command}: a new worker");
        assert!(gone(pid).await, "{command}: the old worker is gone");
        let worker = misbehave(&host.manager).await.worker.expect("isolated");
        assert_eq!(worker.restarts, n as u64 + 1, "{command}: {worker:?}");
        let last = worker.last_failure.unwrap_or_default();
        assert!(
            format!("the plugin's worker {last}").starts_with(expected),
            "{command}: last failure {last:?}"
        );
    }

    // The sixth failure within the window disables the plugin.
    let pid = running_pid(&host.manager).await;
    let (outcome, _) = host.call("segfault", "").await;
    assert!(
        failure(&outcome).contains("crashed (SIGSEGV)"),
        "{outcome:?}"
    );
    assert!(gone(pid).await);
    let deadline = Instant::now() + Duration::from_secs(10);
    let info = loop {
        let info = misbehave(&host.manager).await;
        if info.is_disabled() || Instant::now() > deadline {
            break info;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(info.is_disabled(), "{:?}", info.worker);
    assert!(info.state().contains("failed 6 times"), "{}", info.state());
    let (outcome, _) = host.call("fine", "").await;
    assert!(failure(&outcome).contains("disabled"), "{outcome:?}");
    let list = zoryx_host::console::execute(&host.manager, "list")
        .await
        .expect("list");
    assert!(list.contains("disabled"), "{list}");
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);

    // `load` starts it again, in a fresh worker.
    assert_eq!(
        host.manager.load("misbehave").await.expect("load"),
        "misbehave"
    );
    assert_eq!(host.call("fine", "").await.1, vec!["fine"]);
    let info = misbehave(&host.manager).await;
    assert!(!info.is_disabled(), "{:?}", info.worker);
    assert!(
        info.state().starts_with("isolated (pid "),
        "{}",
        info.state()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_in_a_worker_is_reported_and_counted() {
    let host = TestHost::with_config(&[("misbehave.so", "misbehave.so")], CONFIG);
    host.manager.load_all().await;
    let pid = running_pid(&host.manager).await;
    // Two calls spin in the worker at once; a third one still answers.
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let manager = Arc::clone(&host.manager);
            tokio::spawn(async move { call_as(&manager, "spin", "1000", true).await })
        })
        .collect();
    let (_, replies) = host.call("fine", "").await;
    assert_eq!(replies, vec!["fine"]);
    for spinner in spinners {
        assert_eq!(spinner.await.expect("task").1, vec!["spun"]);
    }
    let info = misbehave(&host.manager).await;
    assert!(info.calls.blocked >= 2, "{}", info.calls_line());
    assert!(info.calls.calls >= 3, "{}", info.calls_line());
    assert_eq!(
        running_pid(&host.manager).await,
        pid,
        "blocking is not a crash"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_load_isolated_reload_and_unload() {
    let host = TestHost::new(&[("basic-v1.so", "basic.so")]);
    let text = zoryx_host::console::execute(&host.manager, "load basic --isolated")
        .await
        .expect("text");
    assert!(text.starts_with("loaded basic, isolated (pid "), "{text}");
    let pid = host
        .manager
        .info("basic")
        .await
        .and_then(|i| i.worker)
        .and_then(|w| w.pid)
        .expect("pid");
    assert!(alive(pid));
    let list = zoryx_host::console::execute(&host.manager, "list")
        .await
        .expect("list");
    assert!(list.contains(&format!("isolated (pid {pid})")), "{list}");
    let info = zoryx_host::console::execute(&host.manager, "info basic")
        .await
        .expect("info");
    assert!(
        info.contains(&format!("state: isolated (pid {pid})")),
        "{info}"
    );
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);

    // A reload starts a new worker with the new library; the old one is shut down.
    host.install("basic-v2.so", "basic.so");
    host.manager.reload("basic").await.expect("reload");
    assert_eq!(host.call("version", "").await.1, vec!["v2"]);
    let new_pid = host
        .manager
        .info("basic")
        .await
        .and_then(|i| i.worker)
        .and_then(|w| w.pid)
        .expect("pid");
    assert_ne!(new_pid, pid);
    assert!(gone(pid).await, "the old worker exits");

    // Unload: the worker exits and the command is gone. (The first generation retires on its
    // own clock; wait for it so the count is about the unload alone.)
    assert!(
        host.manager
            .tracker()
            .wait_closed(1, Duration::from_secs(10))
            .await
    );
    let closed = host.manager.library_stats().closed;
    host.manager.unload("basic", false).await.expect("unload");
    assert!(
        host.manager
            .tracker()
            .wait_closed(closed + 1, Duration::from_secs(10))
            .await
    );
    assert!(gone(new_pid).await, "the worker exits on unload");
    assert!(matches!(
        host.call("version", "").await.0,
        CommandOutcome::Unknown
    ));
    assert_eq!(host.manager.library_stats().live, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_library_is_refused_by_its_worker() {
    let host = TestHost::with_config(
        &[
            ("newer-api.so", "newer.so"),
            ("broken-api.so", "broken.so"),
            ("not-a-plugin.so", "c.so"),
        ],
        r#"{"isolation": {"plugins": ["*"]}}"#,
    );
    let report = host.manager.load_all().await;
    assert!(report.loaded.is_empty(), "{:?}", report.loaded);
    let reasons: Vec<String> = report.refused.iter().map(|(_, e)| e.to_string()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("not a Zoryx plugin")),
        "{reasons:?}"
    );
    let next = format!(
        "needs plugin-api {}.{}",
        zoryx_plugin_api::API_VERSION.major,
        zoryx_plugin_api::API_VERSION.minor + 1
    );
    assert!(reasons.iter().any(|r| r.contains(&next)), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("incompatible plugin-api layout")),
        "{reasons:?}"
    );
}

/// A worker exits as soon as its socket closes (the host is gone): no orphans.
#[test]
fn a_worker_exits_when_the_host_goes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let library = dir.path().join("basic.so");
    std::fs::copy(support::fixture("basic-v1.so"), &library).expect("copy");
    let (mut host_end, worker_end) = UnixStream::pair().expect("pair");
    let mut child = zoryx_host::isolation::worker_command(&checker(), "basic")
        .stdin(std::os::fd::OwnedFd::from(worker_end))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn worker");
    let start = ToWorker::Start(Start {
        plugin: "basic".into(),
        library: library.display().to_string(),
        config: "{}".into(),
        max_threads: 8,
        blocked_ms: 1000,
        memory_mb: 512,
        log_level: 3,
    });
    host_end
        .write_all(&protocol::encode(&start).expect("encode"))
        .expect("send");
    let mut reader = std::io::BufReader::new(host_end.try_clone().expect("clone"));
    match protocol::read::<FromWorker>(&mut reader).expect("read") {
        Some(FromWorker::Ready { description, .. }) => {
            assert_eq!(description.manifest.name, "basic");
        }
        other => panic!("{other:?}"),
    }
    drop(reader);
    drop(host_end);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker outlived its host");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
}
