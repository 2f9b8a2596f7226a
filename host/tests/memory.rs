//! Libraries are really unmapped after unload; pinned ones are reported, not hidden.

mod support;

use std::time::Duration;

use support::TestHost;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_reload_cycles_unmap_every_library() {
    let host = TestHost::new(&[("basic-v1.so", "basic.so")]);
    host.manager.load_all().await;
    for cycle in 0..200u64 {
        let closed = host.manager.library_stats().closed;
        let reloaded = host.manager.reload("basic").await.expect("reload");
        assert_eq!(reloaded.len(), 1);
        assert!(
            host.manager
                .tracker()
                .wait_closed(closed + 1, Duration::from_secs(5))
                .await,
            "cycle {cycle}: the old generation was not closed"
        );
        let stats = host.manager.library_stats();
        assert!(
            stats.pinned.is_empty(),
            "cycle {cycle}: pinned {:?}",
            stats.pinned
        );
        assert_eq!(stats.live, 1);
    }
    assert_eq!(host.call("version", "").await.1, vec!["v1"]);
    // No private copy is left behind except the live one.
    let copies = std::fs::read_dir(host.dir.path().join("data/.loaded"))
        .expect("dir")
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_library_is_reported() {
    let host = TestHost::new(&[("pinning.so", "pinning.so")]);
    host.manager.load_all().await;
    // Touch the thread-local on the runtime's threads.
    for _ in 0..8 {
        host.call("touch", "").await;
    }
    host.manager.unload("pinning", false).await.expect("unload");
    assert!(
        host.manager
            .tracker()
            .wait_closed(1, Duration::from_secs(5))
            .await
    );
    let stats = host.manager.library_stats();
    assert_eq!(stats.pinned.len(), 1, "{stats:?}");
    assert!(stats.pinned_bytes() > 0);
    let info = host.manager.info("pinning").await.expect("info");
    assert_eq!(info.pinned, 1);
    assert!(info.pinned_bytes > 0);
}
