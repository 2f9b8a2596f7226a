//! The atomic store against real files in temp folders: cache expiry and eviction, write
//! invalidation, serialised writers, corrupt-file quarantine, health tiers, lock clean-up.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use zoryx_host::storage::atomic::{
    AtomicError, AtomicOptions, AtomicStore, CacheMode, Health, ManualClock,
};

fn options() -> AtomicOptions {
    AtomicOptions::default()
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write_raw(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write raw");
}

#[tokio::test]
async fn write_then_read_round_trips_and_missing_is_none() {
    let dir = temp();
    let store = AtomicStore::new(options());
    let path = dir.path().join("nested/deeper/a.json");
    assert_eq!(store.read_json(&path).await.expect("read"), None);
    let doc = json!({"a": 1, "b": [true, null, "x"]});
    store
        .write_json(&path, &doc, CacheMode::Invalidate)
        .await
        .expect("write");
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("file")).expect("json");
    assert_eq!(on_disk, doc);
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(doc.clone())
    );
    assert_eq!(
        store.read_json_uncached(&path).await.expect("read"),
        Some(doc)
    );
    #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
    struct Typed {
        a: u32,
    }
    store
        .write(&path, &Typed { a: 7 }, CacheMode::Invalidate)
        .await
        .expect("write typed");
    assert_eq!(
        store.read::<Typed>(&path).await.expect("read"),
        Some(Typed { a: 7 })
    );
    let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["a.json"], "only the file, no temp files");
}

#[tokio::test]
async fn cached_reads_are_served_from_memory_until_a_write_invalidates() {
    let dir = temp();
    let store = AtomicStore::new(options());
    let path = dir.path().join("c.json");
    store
        .write_json(&path, &json!({"v": 1}), CacheMode::Invalidate)
        .await
        .expect("write");
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 1}))
    );
    // Changed behind the store's back: the cache still answers.
    write_raw(&path, r#"{"v": 99}"#);
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 1}))
    );
    let stats = store.stats();
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 1));
    // A write through the store invalidates.
    store
        .write_json(&path, &json!({"v": 2}), CacheMode::Invalidate)
        .await
        .expect("write");
    assert_eq!(store.stats().cache_size, 0);
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 2}))
    );
    assert_eq!(store.stats().cache_misses, 2);
    // Keep caches the new value: the next read is a hit.
    store
        .write_json(&path, &json!({"v": 3}), CacheMode::Keep)
        .await
        .expect("write");
    let hits = store.stats().cache_hits;
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 3}))
    );
    assert_eq!(store.stats().cache_hits, hits + 1);
    // Manual invalidation and clearing.
    write_raw(&path, r#"{"v": 4}"#);
    store.invalidate(&path);
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 4}))
    );
    write_raw(&path, r#"{"v": 5}"#);
    store.clear_all_cache();
    assert_eq!(store.stats().cache_size, 0);
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 5}))
    );
    // Shared reads hand out the same allocation.
    let a = store
        .read_json_shared(&path)
        .await
        .expect("read")
        .expect("some");
    let b = store
        .read_json_shared(&path)
        .await
        .expect("read")
        .expect("some");
    assert!(Arc::ptr_eq(&a, &b));
}

/// A store whose cache entries live 300 s on a clock the test moves.
fn store_on_a_manual_clock() -> (Arc<AtomicStore>, Arc<ManualClock>) {
    let clock = ManualClock::new();
    let store = AtomicStore::with_clock(
        AtomicOptions {
            cache_ttl: Duration::from_secs(300),
            ..options()
        },
        clock.clone(),
    );
    (store, clock)
}

#[tokio::test]
async fn cache_entries_expire_after_the_ttl() {
    let dir = temp();
    let (store, clock) = store_on_a_manual_clock();
    let path = dir.path().join("t.json");
    write_raw(&path, r#"{"v": 1}"#);
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 1}))
    );
    write_raw(&path, r#"{"v": 2}"#);
    clock.advance(Duration::from_secs(299));
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 1})),
        "still fresh at 299 s"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"v": 2})),
        "expired at 300 s"
    );
    let stats = store.stats();
    assert_eq!((stats.cache_hits, stats.cache_misses), (1, 2));
}

#[tokio::test]
async fn a_sweep_drops_expired_cache_entries_and_idle_locks_only() {
    let dir = temp();
    let (store, clock) = store_on_a_manual_clock();
    let [old, fresh] = ["old", "fresh"].map(|n| dir.path().join(format!("{n}.json")));
    store
        .write_json(&old, &json!({"v": 1}), CacheMode::Keep)
        .await
        .expect("write");
    clock.advance(Duration::from_secs(200));
    store
        .write_json(&fresh, &json!({"v": 2}), CacheMode::Keep)
        .await
        .expect("write");
    assert_eq!(store.stats().cache_size, 2);
    assert_eq!(store.stats().locks_tracked, 2, "one lock per written path");
    // Nothing has expired yet; both locks are idle.
    let first = store.sweep();
    assert_eq!((first.cache_expired, first.locks_removed), (0, 2));
    clock.advance(Duration::from_secs(100));
    // `old` is 300 s old now (its time to live), `fresh` 100 s.
    let second = store.sweep();
    assert_eq!(second.cache_expired, 1, "only the expired entry goes");
    let stats = store.stats();
    assert_eq!(stats.cache_size, 1);
    assert_eq!(stats.lock_cleanups, 2);
    assert_eq!(
        store.read_json(&fresh).await.expect("read"),
        Some(json!({"v": 2}))
    );
    assert_eq!(
        store.stats().cache_hits,
        1,
        "the fresh entry is still cached"
    );
}

#[tokio::test]
async fn the_least_recently_used_entry_is_evicted() {
    let dir = temp();
    let store = AtomicStore::new(AtomicOptions {
        cache_max_entries: 2,
        ..options()
    });
    let [a, b, c] = ["a", "b", "c"].map(|n| dir.path().join(format!("{n}.json")));
    for (path, v) in [(&a, 1), (&b, 2), (&c, 3)] {
        write_raw(path, &format!(r#"{{"v": {v}}}"#));
    }
    store.read_json(&a).await.expect("read");
    store.read_json(&b).await.expect("read");
    store.read_json(&a).await.expect("read"); // a is now more recent than b
    store.read_json(&c).await.expect("read"); // evicts b
    assert_eq!(store.stats().cache_size, 2);
    let misses = store.stats().cache_misses;
    store.read_json(&a).await.expect("read");
    store.read_json(&c).await.expect("read");
    assert_eq!(store.stats().cache_misses, misses, "a and c stayed");
    store.read_json(&b).await.expect("read");
    assert_eq!(store.stats().cache_misses, misses + 1, "b was evicted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_one_path_lose_nothing() {
    let dir = temp();
    // A threshold of 1 also runs lock clean-up all the time under contention.
    let store = AtomicStore::new(AtomicOptions {
        lock_cleanup_threshold: 1,
        ..options()
    });
    let path = Arc::new(dir.path().join("counter.json"));
    let other = Arc::new(dir.path().join("other.json"));
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (store, path, other) = (Arc::clone(&store), Arc::clone(&path), Arc::clone(&other));
            tokio::spawn(async move {
                // Interleave another path so locks come and go.
                if i % 5 == 0 {
                    store
                        .write_json(&other, &json!({"i": i}), CacheMode::Invalidate)
                        .await
                        .expect("other write");
                }
                store
                    .update_json(&path, |old| {
                        let n = old.and_then(|v| v["n"].as_u64()).unwrap_or(0);
                        json!({"n": n + 1})
                    })
                    .await
                    .expect("update")
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(
        store.read_json_uncached(&path).await.expect("read"),
        Some(json!({"n": 50}))
    );
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        Some(json!({"n": 50}))
    );
    assert!(store.stats().lock_cleanups > 0);
}

#[tokio::test]
async fn corrupt_json_is_moved_aside_with_its_bytes_and_named() {
    let dir = temp();
    let store = AtomicStore::new(options());
    let path = dir.path().join("settings.json");
    let garbage = "{\"a\": 1,\n  \"b\": oops}";
    write_raw(&path, garbage);
    let error = store.read_json(&path).await.expect_err("corrupt");
    let text = error.to_string();
    assert!(text.contains("settings.json"), "{text}");
    let AtomicError::Corrupt {
        moved_to,
        line,
        path: named,
        ..
    } = error
    else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert_eq!(named, path);
    assert_eq!(line, 2);
    assert!(
        moved_to
            .file_name()
            .expect("name")
            .to_string_lossy()
            .starts_with("settings.json.corrupt-")
    );
    assert_eq!(std::fs::read_to_string(&moved_to).expect("aside"), garbage);
    assert!(!path.exists(), "the corrupt file is not left in place");
    // The caller may now write fresh content; the quarantined copy stays.
    store
        .write_json(&path, &json!({"fresh": true}), CacheMode::Invalidate)
        .await
        .expect("write");
    assert_eq!(std::fs::read_to_string(&moved_to).expect("aside"), garbage);

    // update_json on a corrupt file: quarantined, the closure is not run, nothing written.
    write_raw(&path, "[1, 2");
    let mut called = false;
    let error = store
        .update_json(&path, |_| {
            called = true;
            json!({})
        })
        .await
        .expect_err("corrupt");
    assert!(matches!(error, AtomicError::Corrupt { .. }), "{error}");
    assert!(!called);
    assert!(!path.exists());
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("settings.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 2, "{aside:?}");
    assert_eq!(store.stats().failures, 2);
}

#[tokio::test]
async fn wrong_shape_is_an_error_and_keeps_the_file() {
    let dir = temp();
    let store = AtomicStore::new(options());
    let path = dir.path().join("n.json");
    write_raw(&path, r#"{"n": "text"}"#);
    #[derive(serde::Deserialize, Debug)]
    struct N {
        #[allow(dead_code)]
        n: u32,
    }
    let error = store.read::<N>(&path).await.expect_err("shape");
    assert!(matches!(error, AtomicError::Shape { .. }), "{error}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("kept"),
        r#"{"n": "text"}"#
    );
}

#[tokio::test]
async fn delete_reports_whether_the_file_existed() {
    let dir = temp();
    let store = AtomicStore::new(options());
    let path = dir.path().join("d.json");
    store
        .write_json(&path, &json!(1), CacheMode::Keep)
        .await
        .expect("write");
    assert!(store.delete(&path).await.expect("delete"));
    assert!(!path.exists());
    assert_eq!(
        store.read_json(&path).await.expect("read"),
        None,
        "cache dropped too"
    );
    assert!(!store.delete(&path).await.expect("delete"));
}

#[tokio::test]
async fn health_follows_the_failure_rate() {
    let dir = temp();
    let store = AtomicStore::new(options());
    let good = dir.path().join("good.json");
    write_raw(&good, "{}");
    // A path under a regular file: reading fails with "not a directory", never retried.
    let bad = good.join("x.json");
    for _ in 0..198 {
        store.read_json_uncached(&good).await.expect("read");
    }
    assert_eq!(store.health(), Health::Healthy);
    store.read_json_uncached(&bad).await.expect_err("bad path"); // 1 of 199 ≈ 0.5 %
    assert_eq!(store.health(), Health::Healthy);
    store.read_json_uncached(&bad).await.expect_err("bad path"); // 2 of 200 = 1 %
    assert_eq!(store.health(), Health::Degraded);
    for _ in 0..8 {
        store.read_json_uncached(&bad).await.expect_err("bad path");
    } // 10 of 208 ≈ 4.8 %
    assert_eq!(store.health(), Health::Degraded);
    for _ in 0..3 {
        store.read_json_uncached(&bad).await.expect_err("bad path");
    } // 13 of 211 ≈ 6.2 %
    assert_eq!(store.health(), Health::Critical);
    let stats = store.stats();
    assert_eq!((stats.reads, stats.failures), (211, 13));
    assert_eq!(Health::from_failure_rate(0.0099), Health::Healthy);
    assert_eq!(Health::from_failure_rate(0.01), Health::Degraded);
    assert_eq!(Health::from_failure_rate(0.05), Health::Degraded);
    assert_eq!(Health::from_failure_rate(0.051), Health::Critical);
}

#[tokio::test]
async fn unused_locks_are_cleaned_past_the_threshold() {
    let dir = temp();
    let store = AtomicStore::new(AtomicOptions {
        lock_cleanup_threshold: 5,
        ..options()
    });
    for i in 0..5 {
        store
            .write_json(
                &dir.path().join(format!("{i}.json")),
                &json!(i),
                CacheMode::Invalidate,
            )
            .await
            .expect("write");
    }
    let stats = store.stats();
    assert_eq!((stats.locks_tracked, stats.lock_cleanups), (5, 0));
    store
        .write_json(&dir.path().join("5.json"), &json!(5), CacheMode::Invalidate)
        .await
        .expect("write");
    let stats = store.stats();
    assert_eq!(stats.lock_cleanups, 1);
    assert_eq!(stats.locks_removed, 5, "the five idle locks went");
    assert_eq!(stats.locks_tracked, 1, "the one in use stayed");
    assert_eq!(stats.locks_held, 0);
}

#[tokio::test]
async fn owner_command_bodies_report_real_figures() {
    let dir = temp();
    let store = AtomicStore::new(options());
    let message = zoryx_host::storage::atomic::commands::atomictest(&store, dir.path()).await;
    let embed = &message.embeds[0];
    assert_eq!(embed.fields.len(), 5);
    assert!(
        embed.fields.iter().all(|f| f.name.starts_with('✅')),
        "{:?}",
        embed.fields
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("list").count(),
        0,
        "the test folder is removed"
    );
    let stats = store.stats();
    let message = zoryx_host::storage::atomic::commands::atomicstats(&store);
    let text = format!("{:?}", message.embeds[0]);
    assert!(
        text.contains(&format!("Writes: {}", stats.writes)),
        "{text}"
    );
    assert!(text.contains("Healthy"), "{text}");
    assert!(
        text.contains(&format!("Hits: {} / Misses", stats.cache_hits)),
        "{text}"
    );
    assert!(stats.cache_hits > 0);
}
