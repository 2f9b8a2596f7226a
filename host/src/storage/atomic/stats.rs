//! Counters of the store and the health they give.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Operation counters (relaxed atomics: exact totals, no ordering between them).
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) reads: AtomicU64,
    pub(super) writes: AtomicU64,
    pub(super) deletes: AtomicU64,
    pub(super) cache_hits: AtomicU64,
    pub(super) cache_misses: AtomicU64,
    pub(super) failures: AtomicU64,
}

impl Counters {
    pub(super) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of the store's counters.
#[derive(Clone, Debug, PartialEq)]
pub struct AtomicStats {
    /// Reads (cached and uncached).
    pub reads: u64,
    /// Writes (including read-modify-writes).
    pub writes: u64,
    /// Deletes.
    pub deletes: u64,
    /// Reads answered from the cache.
    pub cache_hits: u64,
    /// Cached reads that had to go to disk.
    pub cache_misses: u64,
    /// Operations that returned an error.
    pub failures: u64,
    /// Lock clean-up passes run.
    pub lock_cleanups: u64,
    /// Locks dropped by those passes.
    pub locks_removed: u64,
    /// Per-path locks in the table.
    pub locks_tracked: usize,
    /// Locks held or waited for at the moment of the snapshot.
    pub locks_held: usize,
    /// Documents in the read cache.
    pub cache_size: usize,
    /// The cache's capacity.
    pub cache_capacity: usize,
    /// The cache's time to live.
    pub cache_ttl: Duration,
    /// Time since the store was made.
    pub uptime: Duration,
}

impl AtomicStats {
    /// Reads, writes and deletes.
    pub fn operations(&self) -> u64 {
        self.reads + self.writes + self.deletes
    }

    /// Failed operations as a fraction of all (0 when nothing ran).
    pub fn failure_rate(&self) -> f64 {
        match self.operations() {
            0 => 0.0,
            n => self.failures as f64 / n as f64,
        }
    }

    /// Cache hits as a fraction of cached reads (0 when there were none).
    pub fn hit_rate(&self) -> f64 {
        match self.cache_hits + self.cache_misses {
            0 => 0.0,
            n => self.cache_hits as f64 / n as f64,
        }
    }

    /// The health these counters give.
    pub fn health(&self) -> Health {
        Health::from_failure_rate(self.failure_rate())
    }
}

/// The store's health, by failure rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// Under 1 % of operations failed.
    Healthy,
    /// 1 % to 5 %.
    Degraded,
    /// Over 5 %.
    Critical,
}

impl Health {
    /// The tier of `rate` (a fraction, 0.0–1.0).
    pub fn from_failure_rate(rate: f64) -> Self {
        if rate < 0.01 {
            Self::Healthy
        } else if rate <= 0.05 {
            Self::Degraded
        } else {
            Self::Critical
        }
    }

    /// `Healthy`, `Degraded` or `Critical`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Healthy => "Healthy",
            Self::Degraded => "Degraded",
            Self::Critical => "Critical",
        }
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}
