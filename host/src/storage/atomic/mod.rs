//! The atomic JSON file store: writes that are never torn, per-path locks, an LRU read cache
//! with a time to live, retries of transient I/O errors, quarantine of corrupt files, and
//! counters with a health tier.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zoryx_host::storage::atomic::AtomicError> {
//! use std::path::Path;
//! use zoryx_host::storage::atomic::{AtomicOptions, AtomicStore, CacheMode};
//!
//! let store = AtomicStore::new(AtomicOptions::default());
//! let path = Path::new("data/counter.json");
//! store.write_json(path, &serde_json::json!({"n": 0}), CacheMode::Invalidate).await?;
//! let after = store
//!     .update_json(path, |old| {
//!         let n = old.and_then(|v| v["n"].as_u64()).unwrap_or(0);
//!         serde_json::json!({"n": n + 1})
//!     })
//!     .await?;
//! assert_eq!(after["n"], 1);
//! # Ok(()) }
//! ```
//!
//! Paths are cache and lock keys as given: pass one spelling per file (e.g. always relative to
//! the data folder, or always absolute).
//!
//! Leftover temp files from a crash are removed by [`remove_stale_temp_files`] (the host runs
//! it over its data folder at start).

mod cache;
pub mod commands;
mod error;
mod fsops;
mod locks;
mod options;
mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::AtomicError;
pub use fsops::{is_transient, quarantine, remove_stale_temp_files, write_bytes, write_json_sync};
pub use options::{AtomicOptions, CacheMode, Clock, ManualClock, SystemClock};
pub use stats::{AtomicStats, Health};

use cache::ReadCache;
use locks::PathLocks;
use stats::Counters;

/// The store. `Send + Sync`; share it through the `Arc` that [`AtomicStore::new`] returns.
pub struct AtomicStore {
    options: AtomicOptions,
    clock: Arc<dyn Clock>,
    cache: ReadCache,
    locks: PathLocks,
    counters: Counters,
    started: Instant,
}

impl std::fmt::Debug for AtomicStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicStore")
            .field("options", &self.options)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// What [`AtomicStore::sweep`] dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Path locks nobody held or waited for.
    pub locks_removed: usize,
    /// Cache entries past their time to live.
    pub cache_expired: usize,
}

impl AtomicStore {
    /// A store on the real clock.
    pub fn new(options: AtomicOptions) -> Arc<Self> {
        Self::with_clock(options, Arc::new(SystemClock))
    }

    /// A store reading time from `clock` (cache expiry), e.g. a [`ManualClock`] in tests.
    pub fn with_clock(options: AtomicOptions, clock: Arc<dyn Clock>) -> Arc<Self> {
        Arc::new(Self {
            cache: ReadCache::new(options.cache_max_entries, options.cache_ttl),
            locks: PathLocks::new(options.lock_cleanup_threshold),
            counters: Counters::default(),
            started: Instant::now(),
            clock,
            options,
        })
    }

    /// The settings.
    pub fn options(&self) -> &AtomicOptions {
        &self.options
    }

    /// Counts a failure when `result` is an error.
    fn track<T>(&self, result: Result<T, AtomicError>) -> Result<T, AtomicError> {
        if result.is_err() {
            Counters::bump(&self.counters.failures);
        }
        result
    }

    /// Runs blocking file work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        path: &Path,
        work: impl FnOnce() -> Result<T, AtomicError> + Send + 'static,
    ) -> Result<T, AtomicError> {
        tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
            Err(AtomicError::Cancelled {
                path: path.to_owned(),
            })
        })
    }

    /// Reads and parses `path` from disk with retries; corrupt files are quarantined.
    async fn load(&self, path: &Path) -> Result<Option<serde_json::Value>, AtomicError> {
        let (attempts, backoff) = (self.options.retries, self.options.retry_backoff);
        let owned: PathBuf = path.to_owned();
        self.blocking(path, move || {
            let bytes = fsops::retry(attempts, backoff, || fsops::read_bytes(&owned))?;
            bytes.map(|bytes| fsops::parse(&owned, &bytes)).transpose()
        })
        .await
    }

    /// Writes `bytes` to `path` atomically with retries.
    async fn store(&self, path: &Path, bytes: Vec<u8>) -> Result<(), AtomicError> {
        let (attempts, backoff) = (self.options.retries, self.options.retry_backoff);
        let owned: PathBuf = path.to_owned();
        self.blocking(path, move || {
            fsops::retry(attempts, backoff, || fsops::write_bytes(&owned, &bytes))
        })
        .await
    }

    /// Reads `path` through the cache, returning the shared cached document: a hit clones an
    /// `Arc`, not the JSON. `None` if the file does not exist. A corrupt file is moved aside and
    /// reported as [`AtomicError::Corrupt`].
    pub async fn read_json_shared(
        &self,
        path: &Path,
    ) -> Result<Option<Arc<serde_json::Value>>, AtomicError> {
        Counters::bump(&self.counters.reads);
        if let Some(value) = self.cache.get(path, self.clock.now()) {
            Counters::bump(&self.counters.cache_hits);
            return Ok(Some(value));
        }
        Counters::bump(&self.counters.cache_misses);
        // Filled under the path lock, so a write cannot land between our disk read and the
        // cache insert and leave the cache older than the file.
        let _guard = self.locks.lock(path).await;
        if let Some(value) = self.cache.get(path, self.clock.now()) {
            return Ok(Some(value));
        }
        let loaded = self.track(self.load(path).await)?;
        Ok(loaded.map(|value| {
            let value = Arc::new(value);
            self.cache.put(path, Arc::clone(&value), self.clock.now());
            value
        }))
    }

    /// Reads `path` through the cache (a copy of the cached document). `None` if absent.
    pub async fn read_json(&self, path: &Path) -> Result<Option<serde_json::Value>, AtomicError> {
        Ok(self
            .read_json_shared(path)
            .await?
            .map(|value| (*value).clone()))
    }

    /// Reads `path` from disk, bypassing (and not filling) the cache. `None` if absent.
    pub async fn read_json_uncached(
        &self,
        path: &Path,
    ) -> Result<Option<serde_json::Value>, AtomicError> {
        Counters::bump(&self.counters.reads);
        self.track(self.load(path).await)
    }

    /// Reads `path` through the cache into a `T`. A document of the wrong shape is
    /// [`AtomicError::Shape`] and the file is left alone.
    pub async fn read<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, AtomicError> {
        let Some(value) = self.read_json_shared(path).await? else {
            return Ok(None);
        };
        let parsed = T::deserialize(&*value).map_err(|e| AtomicError::Shape {
            path: path.to_owned(),
            message: e.to_string(),
        });
        self.track(parsed).map(Some)
    }

    /// Replaces `path` with `value` atomically (pretty JSON): temp file in the same folder,
    /// fsync, rename, fsync of the folder. Missing folders are created. Writers to one path take
    /// turns. `cache` says whether the cached entry is dropped or replaced by `value`.
    pub async fn write_json(
        &self,
        path: &Path,
        value: &serde_json::Value,
        cache: CacheMode,
    ) -> Result<(), AtomicError> {
        Counters::bump(&self.counters.writes);
        let bytes = self.track(fsops::to_bytes(path, value))?;
        let _guard = self.locks.lock(path).await;
        let result = self.store(path, bytes).await;
        match (&result, cache) {
            (Ok(()), CacheMode::Keep) => {
                self.cache
                    .put(path, Arc::new(value.clone()), self.clock.now());
            }
            _ => self.cache.remove(path),
        }
        self.track(result)
    }

    /// [`write_json`](Self::write_json) for any serialisable value.
    pub async fn write<T: Serialize + ?Sized>(
        &self,
        path: &Path,
        value: &T,
        cache: CacheMode,
    ) -> Result<(), AtomicError> {
        let value = serde_json::to_value(value).map_err(|source| AtomicError::Serialize {
            path: path.to_owned(),
            source,
        });
        let value = match value {
            Ok(value) => value,
            Err(error) => {
                Counters::bump(&self.counters.writes);
                return self.track(Err(error));
            }
        };
        self.write_json(path, &value, cache).await
    }

    /// Read-modify-write under the path's lock: `f` gets the current document from disk (`None`
    /// if absent) and returns the new one, which is written atomically, cached and returned.
    /// Concurrent updates of one path never lose each other's changes. A corrupt file is moved
    /// aside and reported; `f` is not called then.
    pub async fn update_json<F>(&self, path: &Path, f: F) -> Result<serde_json::Value, AtomicError>
    where
        F: FnOnce(Option<serde_json::Value>) -> serde_json::Value + Send,
    {
        let _guard = self.locks.lock(path).await;
        Counters::bump(&self.counters.reads);
        let current = match self.load(path).await {
            Ok(current) => current,
            Err(error) => {
                self.cache.remove(path);
                return self.track(Err(error));
            }
        };
        let next = f(current);
        Counters::bump(&self.counters.writes);
        let result = match fsops::to_bytes(path, &next) {
            Ok(bytes) => self.store(path, bytes).await,
            Err(error) => Err(error),
        };
        match &result {
            Ok(()) => {
                self.cache
                    .put(path, Arc::new(next.clone()), self.clock.now());
            }
            Err(_) => self.cache.remove(path),
        }
        self.track(result).map(|()| next)
    }

    /// Deletes `path` (and its cache entry). `false` if it did not exist.
    pub async fn delete(&self, path: &Path) -> Result<bool, AtomicError> {
        Counters::bump(&self.counters.deletes);
        let _guard = self.locks.lock(path).await;
        self.cache.remove(path);
        let owned = path.to_owned();
        let (attempts, backoff) = (self.options.retries, self.options.retry_backoff);
        let result = self
            .blocking(path, move || {
                fsops::retry(attempts, backoff, || match std::fs::remove_file(&owned) {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                    Err(e) => Err(fsops::io_error("deleting", &owned)(e)),
                })
            })
            .await;
        self.track(result)
    }

    /// Drops the cached entry of `path`.
    pub fn invalidate(&self, path: &Path) {
        self.cache.remove(path);
    }

    /// The seed's `cleanup` for the store: drops the locks nobody holds or waits for and the
    /// cache entries whose time to live has passed.
    pub fn sweep(&self) -> Sweep {
        Sweep {
            locks_removed: self.locks.sweep(),
            cache_expired: self.cache.sweep_expired(self.clock.now()),
        }
    }

    /// Empties the read cache.
    pub fn clear_all_cache(&self) {
        self.cache.clear();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> AtomicStats {
        use std::sync::atomic::Ordering::Relaxed;
        let locks = self.locks.counts();
        let c = &self.counters;
        AtomicStats {
            reads: c.reads.load(Relaxed),
            writes: c.writes.load(Relaxed),
            deletes: c.deletes.load(Relaxed),
            cache_hits: c.cache_hits.load(Relaxed),
            cache_misses: c.cache_misses.load(Relaxed),
            failures: c.failures.load(Relaxed),
            lock_cleanups: locks.cleanups,
            locks_removed: locks.removed,
            locks_tracked: locks.tracked,
            locks_held: locks.active,
            cache_size: self.cache.len(),
            cache_capacity: self.cache.capacity(),
            cache_ttl: self.cache.ttl(),
            uptime: self.started.elapsed(),
        }
    }

    /// The health tier from the failure rate: under 1 % Healthy, 1–5 % Degraded, over 5 %
    /// Critical.
    pub fn health(&self) -> Health {
        self.stats().health()
    }
}
