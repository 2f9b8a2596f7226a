//! The fingerprint table and the per-path waits behind [`ExtensionWatcher`].
//!
//! The debouncer's callback thread only looks at the file system and decides; the waiting for a
//! file to settle happens in one tokio task per path. A single mutex orders the callback, the
//! tasks' final decisions and the sends, so a change that lands while a wait is finishing is
//! either seen by that wait or starts a new one.
//!
//! [`ExtensionWatcher`]: super::ExtensionWatcher

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use notify_debouncer_full::DebounceEventResult;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::{WatchEvent, WatchOptions};
use crate::loader::binary::{self, CheckError};
use crate::loader::fingerprint::Fingerprint;

/// Shared between the debouncer's callback, the waiting tasks and the watcher handle.
pub(super) struct Tracker {
    dir: PathBuf,
    options: WatchOptions,
    tx: UnboundedSender<WatchEvent>,
    runtime: tokio::runtime::Handle,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Set when the watcher is dropped: nothing is sent after that.
    stopped: bool,
    /// What was last reported (or found at start) for each library.
    known: HashMap<PathBuf, Fingerprint>,
    /// Paths with a wait under way: one per path.
    pending: HashMap<PathBuf, AbortHandle>,
    /// Files given up on (still incomplete after `max_wait`), until they change again.
    given_up: HashMap<PathBuf, Fingerprint>,
}

/// How one look at a file that kept its fingerprint for a `settle` interval ended.
enum Step {
    /// Reported, or nothing to report: the wait is over.
    Done,
    /// Not complete yet, for this reason.
    Incomplete(String),
    /// Changed again while it was being checked.
    Moved(Option<Fingerprint>),
}

impl Tracker {
    pub(super) fn new(
        dir: PathBuf,
        options: WatchOptions,
        tx: UnboundedSender<WatchEvent>,
        runtime: tokio::runtime::Handle,
    ) -> Arc<Self> {
        Arc::new(Self {
            dir,
            options,
            tx,
            runtime,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the libraries already in the folder, so that start-up does not report them.
    /// Returns how many there are.
    pub(super) fn seed(&self) -> std::io::Result<usize> {
        let mut found = HashMap::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let path = self.dir.join(entry?.file_name());
            if crate::loader::is_library(&path)
                && let Some(fingerprint) = Fingerprint::of(&path)
            {
                found.insert(path, fingerprint);
            }
        }
        let count = found.len();
        let mut state = self.lock();
        for (path, fingerprint) in found {
            // An event handled before the seed already started a wait; the wait will see that
            // the file matches the seed and report nothing.
            state.known.entry(path).or_insert(fingerprint);
        }
        Ok(count)
    }

    /// Stops everything: no event is sent after this returns.
    pub(super) fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        for (_, wait) in state.pending.drain() {
            wait.abort();
        }
    }

    /// The debouncer's callback: look at every path it mentions, whatever the event kind.
    pub(super) fn handle(self: &Arc<Self>, result: DebounceEventResult) {
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                for error in errors {
                    tracing::warn!(dir = %self.dir.display(), %error, "file watch error");
                }
                return;
            }
        };
        let mut paths = BTreeSet::new();
        let mut rescan = false;
        for event in &events {
            rescan |= event.need_rescan();
            for path in &event.paths {
                // Non-recursive watch: every path is a child of `dir`. Re-root it on the
                // caller's spelling of `dir` so that paths match the seeded table.
                if path != &self.dir
                    && let Some(name) = path.file_name()
                {
                    paths.insert(self.dir.join(name));
                }
            }
        }
        if rescan {
            tracing::debug!(dir = %self.dir.display(), "events were lost; rescanning");
            paths.extend(self.lock().known.keys().cloned());
            if let Ok(entries) = std::fs::read_dir(&self.dir) {
                paths.extend(entries.flatten().map(|e| self.dir.join(e.file_name())));
            }
        }
        for path in paths {
            if crate::loader::is_library(&path) {
                self.examine(path);
            } else {
                tracing::debug!(file = %path.display(), "ignoring: not a library name");
            }
        }
    }

    /// Compares one path with the table and starts a wait if it changed.
    fn examine(self: &Arc<Self>, path: PathBuf) {
        let mut state = self.lock();
        if state.stopped {
            return;
        }
        if state.pending.contains_key(&path) {
            tracing::debug!(file = %path.display(), "ignoring event: already waiting for this file");
            return;
        }
        let current = Fingerprint::of(&path);
        let known = state.known.get(&path).copied();
        match (current, known) {
            (None, None) => {
                state.given_up.remove(&path);
                tracing::debug!(file = %path.display(), "ignoring: absent, and never reported");
                return;
            }
            (Some(now), Some(before)) if now == before => {
                tracing::debug!(file = %path.display(), "ignoring: unchanged (opened or read only)");
                return;
            }
            (Some(now), _) if state.given_up.get(&path) == Some(&now) => {
                tracing::debug!(file = %path.display(), "ignoring: still incomplete, unchanged since given up");
                return;
            }
            _ => {}
        }
        state.given_up.remove(&path);
        tracing::debug!(file = %path.display(), present = current.is_some(), "changed; waiting for it to settle");
        let task = self
            .runtime
            .spawn(Arc::clone(self).wait(path.clone(), current));
        state.pending.insert(path, task.abort_handle());
    }

    /// Waits until `path` keeps its fingerprint for a `settle` interval and is complete (or is
    /// still absent after a `settle` interval), then reports.
    async fn wait(self: Arc<Self>, path: PathBuf, mut last: Option<Fingerprint>) {
        let WatchOptions {
            settle, max_wait, ..
        } = self.options;
        let deadline = Instant::now() + max_wait;
        let mut reason: String;
        loop {
            tokio::time::sleep(settle).await;
            let now = Fingerprint::of(&path);
            if now == last {
                match self.finish(&path, now) {
                    Step::Done => return,
                    Step::Incomplete(why) => reason = why,
                    Step::Moved(fingerprint) => {
                        last = fingerprint;
                        reason = String::from("still being written");
                    }
                }
            } else {
                last = now;
                reason = String::from("still being written");
            }
            if Instant::now() >= deadline {
                self.give_up(&path, last, &reason);
                return;
            }
        }
    }

    /// `path` kept fingerprint `settled` for a `settle` interval: report it if it is complete.
    fn finish(&self, path: &Path, settled: Option<Fingerprint>) -> Step {
        if settled.is_some() {
            match binary::check_library_file(path) {
                Ok(_) => {}
                Err(error) if error.is_incomplete() || matches!(error, CheckError::Read(_)) => {
                    tracing::debug!(file = %path.display(), %error, "not complete yet");
                    return Step::Incomplete(error.to_string());
                }
                // Complete, but no loadable library: report it anyway, so that the loader
                // refuses it and tells the operator why.
                Err(error) => {
                    tracing::debug!(file = %path.display(), %error, "settled, but not a loadable library");
                }
            }
        }
        let mut state = self.lock();
        if state.stopped {
            return Step::Done;
        }
        let again = Fingerprint::of(path);
        if again != settled {
            return Step::Moved(again);
        }
        state.pending.remove(path);
        match settled {
            None => {
                if state.known.remove(path).is_some() {
                    tracing::info!(file = %path.display(), "library removed");
                    self.send(WatchEvent::Removed(path.to_owned()));
                } else {
                    tracing::debug!(file = %path.display(), "ignoring: gone before it settled");
                }
            }
            Some(fingerprint) => {
                if state.known.get(path) == Some(&fingerprint) {
                    tracing::debug!(file = %path.display(), "ignoring: back to what was reported");
                } else {
                    state.known.insert(path.to_owned(), fingerprint);
                    tracing::info!(file = %path.display(), "library changed");
                    self.send(WatchEvent::Changed(path.to_owned()));
                }
            }
        }
        Step::Done
    }

    fn give_up(&self, path: &Path, last: Option<Fingerprint>, reason: &str) {
        let mut state = self.lock();
        state.pending.remove(path);
        if state.stopped {
            return;
        }
        if let Some(fingerprint) = last {
            state.given_up.insert(path.to_owned(), fingerprint);
        }
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        tracing::warn!(
            file = %path.display(),
            "ignoring {name}: still incomplete after {}: {reason}",
            human(self.options.max_wait)
        );
    }

    fn send(&self, event: WatchEvent) {
        if let Err(lost) = self.tx.send(event) {
            tracing::debug!(event = ?lost.0, "nobody listens to watch events any more");
        }
    }
}

/// `10s`, `1.5s`, `300ms`.
fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::human;
    use std::time::Duration;

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_secs(10)), "10s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_millis(300)), "300ms");
    }
}
