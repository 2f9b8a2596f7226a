//! The file watcher drives real reloads: copy, write in two halves, cargo's unlink-and-recreate,
//! delete.

mod support;

use std::io::Write as _;
use std::time::Duration;

use support::{TestHost, drain, fixture, wait_for};
use zoryx_host::manager::ManagerEvent;

async fn started() -> (TestHost, zoryx_host::watcher::ExtensionWatcher) {
    let host = TestHost::new(&[("basic-v1.so", "basic.so")]);
    host.manager.load_all().await;
    let watcher = zoryx_host::watch(&host.manager).expect("watch");
    // Let inotify settle before the first change.
    tokio::time::sleep(Duration::from_millis(100)).await;
    (host, watcher)
}

fn reloads(events: &[ManagerEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, ManagerEvent::Reloaded(_)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwrite_by_copy_reloads_once() {
    let (host, _watcher) = started().await;
    let mut events = host.manager.subscribe();
    std::fs::copy(fixture("basic-v2.so"), host.extensions().join("basic.so")).expect("copy");
    let first = wait_for(&mut events, Duration::from_secs(10), |e| {
        matches!(e, ManagerEvent::Reloaded(_))
    })
    .await;
    assert!(first.is_some(), "no reload");
    let extra = drain(&mut events, Duration::from_millis(800)).await;
    assert_eq!(reloads(&extra), 0, "exactly one reload: {extra:?}");
    assert_eq!(host.call("version", "").await.1, vec!["v2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_in_two_halves_reloads_once_to_the_new_version() {
    let (host, _watcher) = started().await;
    let mut events = host.manager.subscribe();
    let bytes = std::fs::read(fixture("basic-v2.so")).expect("read");
    let (a, b) = bytes.split_at(bytes.len() / 2);
    let mut file = std::fs::File::create(host.extensions().join("basic.so")).expect("create");
    file.write_all(a).expect("first half");
    file.flush().expect("flush");
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Meanwhile the old version keeps serving.
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
    file.write_all(b).expect("second half");
    drop(file);
    let event = wait_for(&mut events, Duration::from_secs(10), |e| {
        matches!(e, ManagerEvent::Reloaded(_))
    })
    .await;
    assert!(event.is_some(), "no reload");
    let extra = drain(&mut events, Duration::from_millis(800)).await;
    assert_eq!(reloads(&extra), 0, "exactly one reload: {extra:?}");
    assert!(
        !extra
            .iter()
            .any(|e| matches!(e, ManagerEvent::Refused { .. })),
        "{extra:?}"
    );
    assert_eq!(host.call("version", "").await.1, vec!["v2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cargo_style_unlink_and_recreate_then_delete() {
    let (host, _watcher) = started().await;
    let mut events = host.manager.subscribe();
    let target = host.extensions().join("basic.so");
    // cargo: unlink, then a hard link to a freshly written file (new inode).
    let staging = host.dir.path().join("deps-libbasic.so");
    std::fs::copy(fixture("basic-v2.so"), &staging).expect("stage");
    std::fs::remove_file(&target).expect("unlink");
    std::fs::hard_link(&staging, &target).expect("link");
    let event = wait_for(&mut events, Duration::from_secs(10), |e| {
        matches!(e, ManagerEvent::Reloaded(_) | ManagerEvent::Unloaded { .. })
    })
    .await;
    assert!(
        matches!(event, Some(ManagerEvent::Reloaded(_))),
        "{event:?}"
    );
    assert_eq!(host.call("version", "").await.1, vec!["v2"]);

    std::fs::remove_file(&target).expect("delete");
    let event = wait_for(&mut events, Duration::from_secs(10), |e| {
        matches!(e, ManagerEvent::Unloaded { .. })
    })
    .await;
    assert!(event.is_some(), "no unload");
    assert!(host.manager.info("basic").await.is_some_and(|i| !i.loaded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_is_loaded() {
    let (host, _watcher) = started().await;
    let mut events = host.manager.subscribe();
    host.install("manifest-c.so", "c.so");
    let event = wait_for(&mut events, Duration::from_secs(10), |e| {
        matches!(e, ManagerEvent::Loaded { .. })
    })
    .await;
    assert!(
        matches!(event, Some(ManagerEvent::Loaded { ref name, .. }) if name == "c"),
        "{event:?}"
    );
}
