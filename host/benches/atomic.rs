//! The atomic store's figures, printed as a table (`cargo bench -p zoryx-host --bench atomic`):
//!
//! - atomic write latency (temp file, fsync, rename, fsync of the folder), p50/p90/p99;
//! - cached read latency (`read_json_shared` hit: an `Arc` clone; target under 1 µs);
//! - cached read with a copy of the document (`read_json`);
//! - uncached read (from disk, parsed).
#![allow(clippy::print_stdout, unreachable_pub)]

use std::path::Path;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use serde_json::{Value, json};
use zoryx_host::storage::atomic::{AtomicOptions, AtomicStore, CacheMode};

/// A settings-sized document (about 2 KB pretty-printed).
fn document() -> Value {
    let members: Vec<Value> = (0..20)
        .map(|i| json!({"id": 100_000 + i, "name": format!("member-{i}"), "xp": i * 37}))
        .collect();
    json!({"guild": 42, "prefix": "!", "members": members})
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn row(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let show = |d: Duration| {
        let ns = d.as_nanos();
        if ns < 10_000 {
            format!("{ns} ns")
        } else if ns >= 10_000_000 {
            format!("{:.2} ms", ns as f64 / 1e6)
        } else {
            format!("{:.1} µs", ns as f64 / 1000.0)
        }
    };
    println!(
        "{name:<44} {:>10} {:>10} {:>10}   (n = {})",
        show(percentile(&samples, 0.5)),
        show(percentile(&samples, 0.9)),
        show(percentile(&samples, 0.99)),
        samples.len()
    );
}

/// Times `batch` calls of `op` per sample, giving the per-call time of each sample (for
/// operations too fast to time one by one).
fn batched(samples: usize, batch: u32, mut op: impl FnMut()) -> Vec<Duration> {
    (0..samples)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                op();
            }
            start.elapsed() / batch
        })
        .collect()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = AtomicStore::new(AtomicOptions::default());
    let path = dir.path().join("bench.json");
    let doc = document();
    let size = serde_json::to_vec_pretty(&doc).expect("json").len();
    println!(
        "atomic store, document of {size} bytes, folder {}",
        dir.path().display()
    );
    println!("{:<44} {:>10} {:>10} {:>10}", "", "p50", "p90", "p99");

    let writes: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            runtime
                .block_on(store.write_json(&path, &doc, CacheMode::Invalidate))
                .expect("write");
            start.elapsed()
        })
        .collect();
    row("atomic write (fsync file + folder)", writes);

    let uncached: Vec<Duration> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            runtime
                .block_on(store.read_json_uncached(&path))
                .expect("read");
            start.elapsed()
        })
        .collect();
    row("uncached read (disk + parse)", uncached);

    // Fill the cache, then time hits. A hit never awaits, so it completes on first poll.
    runtime.block_on(store.read_json(&path)).expect("fill");
    let hit = |p: &Path| {
        store
            .read_json_shared(p)
            .now_or_never()
            .expect("a hit completes at once")
            .expect("read")
            .expect("present")
    };
    assert!(store.stats().cache_size == 1);
    row(
        "cached read, shared (read_json_shared)",
        batched(2000, 1000, || {
            std::hint::black_box(hit(&path));
        }),
    );
    row(
        "cached read, copied (read_json)",
        batched(500, 100, || {
            let value = store
                .read_json(&path)
                .now_or_never()
                .expect("a hit completes at once")
                .expect("read");
            std::hint::black_box(value);
        }),
    );
    let stats = store.stats();
    println!(
        "cache hits {}, misses {}, failures {}, health {}",
        stats.cache_hits,
        stats.cache_misses,
        stats.failures,
        stats.health()
    );
}
