//! Bodies of the owner-only commands `atomicstats` and `atomictest`: each returns the reply as
//! an embed; the command registry wires them to names (`cachestats`, which also reports the
//! host's other caches, is built there).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use zoryx_plugin_api::{Embed, Message};

use super::{AtomicStats, AtomicStore, CacheMode, Health};

// Embed colours: the one palette.
use zoryx_plugin_api::palette::{ERROR, SUCCESS, WARNING};

/// Makes test folder names unique within the process.
static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

fn health_colour(health: Health) -> u32 {
    match health {
        Health::Healthy => SUCCESS,
        Health::Degraded => WARNING,
        Health::Critical => ERROR,
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    format!("{}h {}m {}s", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `atomicstats`: counters, locks, cache and health.
pub fn atomicstats(store: &AtomicStore) -> Message {
    let s: AtomicStats = store.stats();
    let health = s.health();
    let embed = Embed::new()
        .title("📊 Atomic File System Statistics")
        .colour(health_colour(health))
        .field("Health", health.label(), true)
        .field("Failure rate", percent(s.failure_rate()), true)
        .field("Uptime", duration(s.uptime), true)
        .field(
            "Operations",
            format!(
                "Reads: {}\nWrites: {}\nDeletes: {}\nFailures: {}",
                s.reads, s.writes, s.deletes, s.failures
            ),
            true,
        )
        .field(
            "Cache",
            format!(
                "Size: {}/{}\nHit rate: {}\nHits: {} / Misses: {}",
                s.cache_size,
                s.cache_capacity,
                percent(s.hit_rate()),
                s.cache_hits,
                s.cache_misses
            ),
            true,
        )
        .field(
            "Locks",
            format!(
                "Tracked: {}\nHeld: {}\nCleanups: {} ({} removed)",
                s.locks_tracked, s.locks_held, s.lock_cleanups, s.locks_removed
            ),
            true,
        );
    Message::new().embed(embed)
}

/// One check's outcome.
#[derive(Debug)]
struct Check {
    name: &'static str,
    passed: bool,
    detail: String,
    took: Duration,
}

async fn timed<F>(name: &'static str, check: F) -> Check
where
    F: Future<Output = Result<String, String>>,
{
    let start = Instant::now();
    let outcome = check.await;
    let took = start.elapsed();
    let (passed, detail) = match outcome {
        Ok(detail) => (true, detail),
        Err(detail) => (false, detail),
    };
    Check {
        name,
        passed,
        detail,
        took,
    }
}

/// The five checks, in a fresh folder `dir`.
async fn run_checks(store: &AtomicStore, dir: &Path) -> Vec<Check> {
    let file = dir.join("test.json");
    let doc = json!({"test": true, "numbers": [1, 2, 3], "text": "atomic"});
    let mut checks = Vec::new();
    checks.push(
        timed("Atomic write", async {
            store
                .write_json(&file, &doc, CacheMode::Invalidate)
                .await
                .map(|()| "written".to_owned())
                .map_err(|e| e.to_string())
        })
        .await,
    );
    checks.push(
        timed("Read without cache", async {
            match store.read_json_uncached(&file).await {
                Ok(Some(read)) if read == doc => Ok("content matches".to_owned()),
                Ok(other) => Err(format!("read {other:?}")),
                Err(e) => Err(e.to_string()),
            }
        })
        .await,
    );
    checks.push(
        timed("Read with cache", async {
            let first = store
                .read_json_shared(&file)
                .await
                .map_err(|e| e.to_string())?;
            let hits = store.stats().cache_hits;
            let second = store
                .read_json_shared(&file)
                .await
                .map_err(|e| e.to_string())?;
            if first.as_deref() != Some(&doc) || second.as_deref() != Some(&doc) {
                return Err("content differs".to_owned());
            }
            if store.options().cache_max_entries == 0 {
                return Ok("content matches (cache is off)".to_owned());
            }
            if store.stats().cache_hits > hits {
                Ok("second read served from the cache".to_owned())
            } else {
                Err("second read missed the cache".to_owned())
            }
        })
        .await,
    );
    let counter = dir.join("counter.json");
    checks.push(
        timed("10 concurrent writes", async {
            let updates = (0..10).map(|_| {
                store.update_json(&counter, |old| {
                    let n = old.and_then(|v| v["n"].as_u64()).unwrap_or(0);
                    json!({"n": n + 1})
                })
            });
            for result in futures::future::join_all(updates).await {
                result.map_err(|e| e.to_string())?;
            }
            match store.read_json_uncached(&counter).await {
                Ok(Some(v)) if v["n"] == 10 => Ok("10 of 10 increments kept".to_owned()),
                Ok(v) => Err(format!("counter is {v:?}, expected 10")),
                Err(e) => Err(e.to_string()),
            }
        })
        .await,
    );
    checks.push(
        timed("Cache invalidation", async {
            let fresh = json!({"version": 2});
            store
                .write_json(&file, &fresh, CacheMode::Keep)
                .await
                .map_err(|e| e.to_string())?;
            store.invalidate(&file);
            let misses = store.stats().cache_misses;
            let read = store
                .read_json_shared(&file)
                .await
                .map_err(|e| e.to_string())?;
            if read.as_deref() != Some(&fresh) {
                return Err(format!("read {read:?} after invalidation"));
            }
            if store.stats().cache_misses > misses {
                Ok("invalidated entry re-read from disk".to_owned())
            } else {
                Err("invalidated entry still served from the cache".to_owned())
            }
        })
        .await,
    );
    checks
}

/// `atomictest`: write; read without cache; read with cache; 10 concurrent writes; cache
/// invalidation; each timed, in a temp folder under `data_dir` that is removed afterwards.
pub async fn atomictest(store: &AtomicStore, data_dir: &Path) -> Message {
    let dir: PathBuf = data_dir.join(format!(
        ".atomictest-{}-{}",
        std::process::id(),
        RUN_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let started = Instant::now();
    let checks = run_checks(store, &dir).await;
    let total = started.elapsed();
    if let Err(error) = tokio::fs::remove_dir_all(&dir).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(folder = %dir.display(), %error, "could not remove the atomictest folder");
    }
    let passed = checks.iter().filter(|c| c.passed).count();
    let mut embed = Embed::new()
        .title("🧪 Atomic File System Test")
        .colour(if passed == checks.len() {
            SUCCESS
        } else {
            ERROR
        })
        .description(format!(
            "{passed}/{} checks passed in {:.2} ms",
            checks.len(),
            total.as_secs_f64() * 1000.0
        ));
    for check in &checks {
        embed = embed.field(
            format!("{} {}", if check.passed { "✅" } else { "❌" }, check.name),
            format!(
                "{} ({:.2} ms)",
                check.detail,
                check.took.as_secs_f64() * 1000.0
            ),
            false,
        );
    }
    Message::new().embed(embed.footer(format!("Health: {}", store.health())))
}
