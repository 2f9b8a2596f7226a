//! How the store behaves: cache lifetime and size, lock clean-up, retries; and the clock it
//! reads time from.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::AtomicFilesConfig;

/// Settings of an [`AtomicStore`](super::AtomicStore).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtomicOptions {
    /// How long a cached read stays valid (300 s).
    pub cache_ttl: Duration,
    /// How many files the read cache holds before it evicts the least recently used (1,000).
    pub cache_max_entries: usize,
    /// Above this many per-path locks, the unused ones are dropped (500).
    pub lock_cleanup_threshold: usize,
    /// Attempts for an operation that fails with a transient I/O error (3, the first included).
    pub retries: u32,
    /// Wait before the second attempt; doubled for each further one (10 ms).
    pub retry_backoff: Duration,
}

impl Default for AtomicOptions {
    fn default() -> Self {
        Self::from(&AtomicFilesConfig::default())
    }
}

impl From<&AtomicFilesConfig> for AtomicOptions {
    fn from(config: &AtomicFilesConfig) -> Self {
        Self {
            cache_ttl: Duration::from_secs(config.cache_ttl_secs),
            cache_max_entries: config.cache_max_entries,
            lock_cleanup_threshold: config.lock_cleanup_threshold,
            retries: config.retries,
            retry_backoff: Duration::from_millis(10),
        }
    }
}

/// What a write does to the read cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// Drop the cached entry; the next read goes to disk.
    #[default]
    Invalidate,
    /// Cache the value just written; the next read is a hit.
    Keep,
}

/// Where the store reads the time (cache expiry). Tests use [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock standing at the moment of the call.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            offset_nanos: AtomicU64::new(0),
        })
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.offset_nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + Duration::from_nanos(self.offset_nanos.load(Ordering::SeqCst))
    }
}
