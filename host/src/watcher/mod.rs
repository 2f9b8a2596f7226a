//! Watching the `extensions/` drop folder.
//!
//! notify reports too much (opens and reads, including the loader's own) and sometimes too
//! little (cargo unlinks and re-creates a library without a close-after-write). So event kinds
//! are ignored: every path notify mentions is looked at on disk and compared by fingerprint
//! (device, inode, size, mtime). A changed library is reported only once it has settled and is a
//! complete ELF file, so a file still being written is never loaded.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc::UnboundedSender;

use crate::loader::fingerprint::Fingerprint;

/// A change worth acting on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    /// A library appeared or changed, and is complete.
    Changed(PathBuf),
    /// A library went away.
    Removed(PathBuf),
}

/// Timings of the watcher.
#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    /// notify debounce window.
    pub debounce: Duration,
    /// A file must keep its fingerprint this long to count as settled.
    pub settle: Duration,
    /// Give up waiting for an incomplete file after this long.
    pub max_wait: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(50),
            settle: Duration::from_millis(30),
            max_wait: Duration::from_secs(10),
        }
    }
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}: {source}")]
pub struct WatchError {
    path: PathBuf,
    source: notify::Error,
}

struct Shared {
    known: Mutex<HashMap<PathBuf, Fingerprint>>,
    pending: Mutex<HashSet<PathBuf>>,
    tx: UnboundedSender<WatchEvent>,
    options: WatchOptions,
}

/// Watches a folder; dropping it stops watching.
pub struct ExtensionWatcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

impl std::fmt::Debug for ExtensionWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExtensionWatcher")
    }
}

impl ExtensionWatcher {
    /// Starts watching `dir`, sending events to `tx`. Call from within a tokio runtime.
    pub fn start(
        dir: &Path,
        options: WatchOptions,
        tx: UnboundedSender<WatchEvent>,
    ) -> Result<Self, WatchError> {
        let mut known = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for path in entries.flatten().map(|e| e.path()) {
                if crate::loader::is_library(&path)
                    && let Some(fp) = Fingerprint::of(&path)
                {
                    known.insert(path, fp);
                }
            }
        }
        let shared = Arc::new(Shared {
            known: Mutex::new(known),
            pending: Mutex::new(HashSet::new()),
            tx,
            options,
        });
        let runtime = tokio::runtime::Handle::current();
        let handler_shared = Arc::clone(&shared);
        let mut debouncer = new_debouncer(
            options.debounce,
            None,
            move |result: DebounceEventResult| {
                let events = match result {
                    Ok(events) => events,
                    Err(errors) => {
                        for error in errors {
                            tracing::warn!(%error, "watch error");
                        }
                        return;
                    }
                };
                let mut paths: Vec<PathBuf> = events
                    .iter()
                    .flat_map(|e| e.paths.iter().cloned())
                    .collect();
                paths.sort();
                paths.dedup();
                for path in paths.into_iter().filter(|p| crate::loader::is_library(p)) {
                    examine(&handler_shared, &runtime, path);
                }
            },
        )
        .map_err(|source| WatchError {
            path: dir.to_owned(),
            source,
        })?;
        debouncer
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError {
                path: dir.to_owned(),
                source,
            })?;
        Ok(Self {
            _debouncer: debouncer,
        })
    }
}

/// Looks at one path on disk and reports, or starts waiting for it to settle.
fn examine(shared: &Arc<Shared>, runtime: &tokio::runtime::Handle, path: PathBuf) {
    let current = Fingerprint::of(&path);
    let known = shared.known.lock().ok().and_then(|k| k.get(&path).copied());
    match (current, known) {
        (None, Some(_)) => {
            if let Ok(mut k) = shared.known.lock() {
                k.remove(&path);
            }
            tracing::info!(file = %path.display(), "library removed");
            let _ = shared.tx.send(WatchEvent::Removed(path));
        }
        (None, None) => {}
        (Some(now), Some(before)) if now == before => {
            tracing::debug!(file = %path.display(), "unchanged (read or opened only)");
        }
        (Some(_), _) => {
            let fresh = shared
                .pending
                .lock()
                .map(|mut p| p.insert(path.clone()))
                .unwrap_or(false);
            if fresh {
                let shared = Arc::clone(shared);
                runtime.spawn(async move { settle(shared, path).await });
            }
        }
    }
}

/// Waits until `path` keeps its fingerprint for `settle` and is a complete library, then reports.
async fn settle(shared: Arc<Shared>, path: PathBuf) {
    let started = Instant::now();
    let options = shared.options;
    let mut last = Fingerprint::of(&path);
    let mut reason = String::new();
    while started.elapsed() < options.max_wait {
        tokio::time::sleep(options.settle).await;
        let now = Fingerprint::of(&path);
        if now.is_none() {
            break;
        }
        if now != last {
            last = now;
            continue;
        }
        match crate::loader::elf::check_library_file(&path) {
            Ok(_) => {
                let changed = shared
                    .known
                    .lock()
                    .map(|mut k| {
                        let before = k.insert(path.clone(), now.unwrap_or_default());
                        before != now
                    })
                    .unwrap_or(true);
                if let Ok(mut p) = shared.pending.lock() {
                    p.remove(&path);
                }
                if changed {
                    tracing::info!(file = %path.display(), "library changed");
                    let _ = shared.tx.send(WatchEvent::Changed(path));
                }
                return;
            }
            Err(error) => reason = error.to_string(),
        }
    }
    if let Ok(mut p) = shared.pending.lock() {
        p.remove(&path);
    }
    if Fingerprint::of(&path).is_none() {
        let was_known = shared
            .known
            .lock()
            .map(|mut k| k.remove(&path).is_some())
            .unwrap_or(false);
        if was_known {
            let _ = shared.tx.send(WatchEvent::Removed(path));
        }
    } else {
        tracing::warn!(file = %path.display(), "ignoring: still incomplete after {}s: {reason}", options.max_wait.as_secs());
    }
}
