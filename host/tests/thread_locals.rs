//! A plugin's thread-locals outlive its library: plugin code that touched its own `std`'s
//! thread-locals on the host's plugin threads (`std::thread::current()` registers a destructor)
//! is unloaded; the threads must never run those destructors, or the host would jump into an
//! unmapped library. (Its own test binary, so that no other test's threads are counted.)

mod support;

use std::time::Duration;

use support::TestHost;

/// The host's plugin threads alive in this process.
fn plugin_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|task| {
                    std::fs::read_to_string(task.path().join("comm"))
                        .is_ok_and(|name| name.starts_with("zoryx-plugin-"))
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_threads_outlive_an_unloaded_librarys_thread_locals() {
    let host = TestHost::new(&[("basic-v1.so", "basic.so")]);
    host.manager.load_all().await;
    for _ in 0..20 {
        let (_, replies) = host.call("current_thread", "").await;
        assert_eq!(replies.len(), 1, "{replies:?}");
    }
    host.manager.unload("basic", false).await.expect("unload");
    assert!(
        host.manager
            .tracker()
            .wait_closed(1, Duration::from_secs(5))
            .await
    );
    let threads = plugin_threads();
    assert!(threads >= 1, "{threads}");
    // Dropping the host shuts its plugin threads down: they park for good instead of ending
    // (an ending thread would run the unloaded library's destructor and crash this process).
    drop(host);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(plugin_threads(), threads, "no plugin thread ended");
}
