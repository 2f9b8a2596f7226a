//! Watching the `extensions/` drop folder.
//!
//! notify reports too much (opens and reads, including the loader's own) and sometimes too
//! little (cargo unlinks a library and re-creates it as a hard link, with no close-after-write).
//! So event kinds are not trusted: every path an event mentions is looked at on disk and
//! compared with a table of fingerprints (device, inode, size, mtime). A changed library is
//! reported only once it has kept its fingerprint for a `settle` interval and the library check
//! says it is complete, because `dlopen` of a file still being written kills the process.
//!
//! Latency from the last write to [`WatchEvent::Changed`] is about `debounce` + a quarter of it
//! (the debouncer's tick) + `settle`: roughly 90 ms with the defaults.

mod tracker;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc::UnboundedSender;

use tracker::Tracker;

/// A change in the watched folder worth acting on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    /// A library appeared or changed, and is complete and settled. Also sent for a complete
    /// file that is not a loadable library (wrong platform, not a library...), so that the loader can
    /// refuse it with a reason.
    Changed(PathBuf),
    /// A reported (or initially present) library went away: deleted, or renamed away.
    Removed(PathBuf),
}

/// Timings of an [`ExtensionWatcher`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchOptions {
    /// notify debounce window (default 50 ms). At least 1 ms.
    pub debounce: Duration,
    /// A file must keep its fingerprint this long to count as settled; also the interval
    /// between re-checks of a file still being written (default 30 ms). At least 1 ms.
    pub settle: Duration,
    /// Give up on a file that is still incomplete after this long (default 10 s); a later
    /// change to it starts a new wait.
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

impl WatchOptions {
    /// Zero durations would make the debouncer and the waits spin.
    fn sanitized(self) -> Self {
        const MIN: Duration = Duration::from_millis(1);
        Self {
            debounce: self.debounce.max(MIN),
            settle: self.settle.max(MIN),
            max_wait: self.max_wait,
        }
    }
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// [`ExtensionWatcher::start`] was called outside a tokio runtime.
    #[error("cannot watch for plugin libraries: not inside a tokio runtime")]
    NoRuntime,
    /// notify could not watch the folder (missing, no permission, out of inotify watches...).
    #[error("cannot watch {}: {source}", path.display())]
    Watch {
        /// The folder.
        path: PathBuf,
        /// What notify said.
        #[source]
        source: notify::Error,
    },
    /// The folder could not be listed.
    #[error("cannot list {}: {source}", path.display())]
    List {
        /// The folder.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
}

/// Watches a folder for plugin libraries and sends [`WatchEvent`]s. Dropping it stops watching:
/// nothing is sent after the drop, and the sender is released shortly after.
pub struct ExtensionWatcher {
    tracker: Arc<Tracker>,
    dir: PathBuf,
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

impl std::fmt::Debug for ExtensionWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtensionWatcher")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Drop for ExtensionWatcher {
    fn drop(&mut self) {
        self.tracker.stop();
        tracing::debug!(dir = %self.dir.display(), "stopped watching");
    }
}

impl ExtensionWatcher {
    /// Starts watching `dir` (not recursively), sending events to `tx`. Libraries already in
    /// `dir` are not reported. Must be called from within a tokio runtime: the waits for files
    /// to settle run as tasks on it.
    pub fn start(
        dir: &Path,
        opts: WatchOptions,
        tx: UnboundedSender<WatchEvent>,
    ) -> Result<Self, WatchError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| WatchError::NoRuntime)?;
        let opts = opts.sanitized();
        let tracker = Tracker::new(dir.to_owned(), opts, tx, runtime);
        let handler = Arc::clone(&tracker);
        let watch_error = |source| WatchError::Watch {
            path: dir.to_owned(),
            source,
        };
        let mut debouncer = new_debouncer(opts.debounce, None, move |r: DebounceEventResult| {
            handler.handle(r);
        })
        .map_err(watch_error)?;
        debouncer
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(watch_error)?;
        let watcher = Self {
            tracker,
            dir: dir.to_owned(),
            _debouncer: debouncer,
        };
        // Seed after the watch is in place, so that no change falls between the two.
        let present = watcher.tracker.seed().map_err(|source| WatchError::List {
            path: dir.to_owned(),
            source,
        })?;
        tracing::info!(dir = %dir.display(), present, "watching for plugin libraries");
        Ok(watcher)
    }
}
