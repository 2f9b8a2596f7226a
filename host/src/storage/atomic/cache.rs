//! The read cache: least recently used, with a time to live, holding shared values so a hit
//! costs a lock, a hash lookup and a reference count, never a copy of the document.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lru::LruCache;

/// One cached document.
#[derive(Debug)]
struct Entry {
    value: Arc<serde_json::Value>,
    stored: Instant,
}

/// An LRU map from path to parsed JSON whose entries expire `ttl` after they were stored.
#[derive(Debug)]
pub(super) struct ReadCache {
    /// `None` when the configured size is 0 (caching off).
    entries: Option<Mutex<LruCache<PathBuf, Entry>>>,
    ttl: Duration,
    capacity: usize,
}

impl ReadCache {
    /// A cache of at most `max_entries` documents (0 turns caching off).
    pub(super) fn new(max_entries: usize, ttl: Duration) -> Self {
        Self {
            entries: NonZeroUsize::new(max_entries).map(|n| Mutex::new(LruCache::new(n))),
            ttl,
            capacity: max_entries,
        }
    }

    fn lock(&self) -> Option<MutexGuard<'_, LruCache<PathBuf, Entry>>> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters: every entry is a complete value.
        self.entries
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The live entry for `path`, if any; an expired one is dropped.
    pub(super) fn get(&self, path: &Path, now: Instant) -> Option<Arc<serde_json::Value>> {
        let mut entries = self.lock()?;
        let entry = entries.get(path)?;
        if now.saturating_duration_since(entry.stored) < self.ttl {
            return Some(Arc::clone(&entry.value));
        }
        entries.pop(path);
        None
    }

    /// Stores `value` for `path`, evicting the least recently used entry if full.
    pub(super) fn put(&self, path: &Path, value: Arc<serde_json::Value>, now: Instant) {
        if let Some(mut entries) = self.lock() {
            entries.put(path.to_owned(), Entry { value, stored: now });
        }
    }

    /// Drops the entry for `path`.
    pub(super) fn remove(&self, path: &Path) {
        if let Some(mut entries) = self.lock() {
            entries.pop(path);
        }
    }

    /// Drops the entries whose time to live has passed at `now`; returns how many.
    pub(super) fn sweep_expired(&self, now: Instant) -> usize {
        let Some(mut entries) = self.lock() else {
            return 0;
        };
        let expired: Vec<PathBuf> = entries
            .iter()
            .filter(|(_, entry)| now.saturating_duration_since(entry.stored) >= self.ttl)
            .map(|(path, _)| path.clone())
            .collect();
        for path in &expired {
            entries.pop(path);
        }
        expired.len()
    }

    /// Drops every entry.
    pub(super) fn clear(&self) {
        if let Some(mut entries) = self.lock() {
            entries.clear();
        }
    }

    /// Entries held (expired ones not yet dropped included).
    pub(super) fn len(&self) -> usize {
        self.lock().map_or(0, |entries| entries.len())
    }

    /// The time to live.
    pub(super) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The capacity.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }
}
