//! Per-path async locks: writers to one path (and read-modify-writes) take turns; different
//! paths proceed in parallel. Locks nobody holds or waits for are dropped once more than the
//! threshold exist.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OwnedMutexGuard;

type Lock = Arc<tokio::sync::Mutex<()>>;

/// The lock table.
#[derive(Debug)]
pub(super) struct PathLocks {
    locks: Mutex<HashMap<PathBuf, Lock>>,
    threshold: usize,
    cleanups: AtomicU64,
    removed: AtomicU64,
}

/// Counts from the lock table.
#[derive(Clone, Copy, Debug)]
pub(super) struct LockCounts {
    /// Locks in the table.
    pub(super) tracked: usize,
    /// Locks held or waited for now.
    pub(super) active: usize,
    /// Clean-up passes run.
    pub(super) cleanups: u64,
    /// Locks dropped by them.
    pub(super) removed: u64,
}

impl PathLocks {
    pub(super) fn new(threshold: usize) -> Self {
        Self {
            locks: Mutex::new(HashMap::new()),
            threshold,
            cleanups: AtomicU64::new(0),
            removed: AtomicU64::new(0),
        }
    }

    fn table(&self) -> MutexGuard<'_, HashMap<PathBuf, Lock>> {
        self.locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for, and takes, the lock of `path`.
    pub(super) async fn lock(&self, path: &Path) -> OwnedMutexGuard<()> {
        let lock = {
            let mut table = self.table();
            let lock = Arc::clone(table.entry(path.to_owned()).or_default());
            if table.len() > self.threshold {
                // Only this table and nobody else holds an unused lock; `lock` above is held
                // by us, so the one we are about to take survives.
                let before = table.len();
                table.retain(|_, l| Arc::strong_count(l) > 1);
                self.cleanups.fetch_add(1, Ordering::Relaxed);
                self.removed
                    .fetch_add((before - table.len()) as u64, Ordering::Relaxed);
            }
            lock
        };
        lock.lock_owned().await
    }

    /// Drops every lock nobody holds or waits for now (a clean-up pass, counted like the
    /// automatic ones); returns how many were dropped.
    pub(super) fn sweep(&self) -> usize {
        let mut table = self.table();
        let before = table.len();
        table.retain(|_, l| Arc::strong_count(l) > 1);
        let removed = before - table.len();
        self.cleanups.fetch_add(1, Ordering::Relaxed);
        self.removed.fetch_add(removed as u64, Ordering::Relaxed);
        removed
    }

    pub(super) fn counts(&self) -> LockCounts {
        let table = self.table();
        LockCounts {
            tracked: table.len(),
            active: table.values().filter(|l| Arc::strong_count(l) > 1).count(),
            cleanups: self.cleanups.load(Ordering::Relaxed),
            removed: self.removed.load(Ordering::Relaxed),
        }
    }
}
