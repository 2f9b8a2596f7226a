//! Hook health: per-hook counters, a circuit breaker and a short execution history.
//!
//! As in the seed framework: a hook that fails 5 times within 5 minutes (a timeout counts as a
//! failure) is skipped for 60 seconds; the last 100 executions are kept. The owner can disable
//! a hook by hand (`eh_disable`), kept in `data/event_hooks.json` across restarts.
//!
//! A hook is named `plugin/event#index` (see [`hook_name`]): the plugin, the framework event,
//! and the hook's place among the plugin's registrations.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Failures within [`FAILURE_WINDOW`] that open the circuit.
pub const FAILURE_THRESHOLD: usize = 5;
/// The window failures are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(300);
/// How long an open circuit skips the hook.
pub const OPEN_FOR: Duration = Duration::from_secs(60);
/// Executions kept in the history.
pub const HISTORY: usize = 100;

/// Identifies a hook: plugin, event, and its index in the plugin's registrations.
pub type HookId = (String, String, u32);

/// How a hook is named to people: `plugin/event#index`.
pub fn hook_name(id: &HookId) -> String {
    format!("{}/{}#{}", id.0, id.1, id.2)
}

/// Reads a hook's name (`plugin/event#index`; `plugin/event` means index 0).
pub fn parse_hook_name(name: &str) -> Option<HookId> {
    let (plugin, rest) = name.trim().split_once('/')?;
    let (event, index) = match rest.rsplit_once('#') {
        Some((event, index)) => (event, index.parse().ok()?),
        None => (rest, 0),
    };
    (!plugin.is_empty() && !event.is_empty()).then(|| (plugin.to_owned(), event.to_owned(), index))
}

/// What [`HookHealth::record`] changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Nothing worth an alert.
    Counted,
    /// This failure opened the hook's circuit.
    CircuitOpened,
}

/// Counters of one hook.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HookStats {
    /// Successful runs.
    pub successes: u64,
    /// Failed or timed-out runs.
    pub failures: u64,
    /// Runs skipped because the circuit was open.
    pub skipped: u64,
    /// Mean run time.
    pub mean_ms: f64,
    /// Whether the circuit is open now.
    pub circuit_open: bool,
}

/// One execution.
#[derive(Clone, Debug, PartialEq)]
pub struct HookRun {
    /// Which hook.
    pub hook: HookId,
    /// When it ran.
    pub at: SystemTime,
    /// How long it took.
    pub millis: f64,
    /// `None` on success, the error otherwise.
    pub error: Option<String>,
}

#[derive(Default)]
struct Health {
    stats: HookStats,
    total_ms: f64,
    recent_failures: VecDeque<Instant>,
    open_until: Option<Instant>,
}

/// Health of every hook.
#[derive(Default)]
pub struct HookHealth {
    hooks: Mutex<HashMap<HookId, Health>>,
    history: Mutex<VecDeque<HookRun>>,
    /// Hooks disabled by hand, by name.
    disabled: Mutex<BTreeSet<String>>,
    /// Where the disabled hooks are kept.
    path: Mutex<Option<PathBuf>>,
}

/// Why the disabled hooks could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("could not save {path}: {source}")]
pub struct HooksFileError {
    path: String,
    #[source]
    source: crate::storage::atomic::AtomicError,
}

impl std::fmt::Debug for HookHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookHealth")
    }
}

impl HookHealth {
    /// Reads the hooks disabled in `path` (`{"disabled": ["plugin/event#0"]}`; missing: none)
    /// and saves changes there from now on.
    pub fn open(&self, path: &Path) {
        let disabled = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    v.get("disabled")?.as_array().map(|names| {
                        names
                            .iter()
                            .filter_map(|n| n.as_str().map(str::to_owned))
                            .collect::<BTreeSet<_>>()
                    })
                })
                .unwrap_or_else(|| {
                    tracing::warn!(path = %path.display(), "disabled hooks not read; none disabled");
                    BTreeSet::new()
                }),
            Err(_) => BTreeSet::new(),
        };
        if let Ok(mut slot) = self.disabled.lock() {
            *slot = disabled;
        }
        if let Ok(mut slot) = self.path.lock() {
            *slot = Some(path.to_owned());
        }
    }

    /// Disables or enables `hook` by hand and saves the choice; whether it changed anything.
    pub fn set_disabled(&self, hook: &HookId, disabled: bool) -> Result<bool, HooksFileError> {
        let name = hook_name(hook);
        let (changed, names) = {
            let Ok(mut set) = self.disabled.lock() else {
                return Ok(false);
            };
            let changed = if disabled {
                set.insert(name)
            } else {
                set.remove(&name)
            };
            (changed, set.iter().cloned().collect::<Vec<_>>())
        };
        let path = self.path.lock().ok().and_then(|p| p.clone());
        if changed && let Some(path) = path {
            crate::storage::atomic::write_json_sync(
                &path,
                &serde_json::json!({ "disabled": names }),
                3,
            )
            .map_err(|source| HooksFileError {
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(changed)
    }

    /// Whether `hook` was disabled by hand.
    pub fn is_disabled(&self, hook: &HookId) -> bool {
        self.disabled
            .lock()
            .is_ok_and(|set| set.contains(&hook_name(hook)))
    }

    /// Whether `hook` may run now: not disabled by hand, circuit closed; counts a skip if not.
    pub fn allow(&self, hook: &HookId, now: Instant) -> bool {
        let disabled = self.is_disabled(hook);
        let Ok(mut hooks) = self.hooks.lock() else {
            return true;
        };
        let health = hooks.entry(hook.clone()).or_default();
        if disabled {
            health.stats.skipped += 1;
            return false;
        }
        match health.open_until {
            Some(until) if now < until => {
                health.stats.skipped += 1;
                false
            }
            Some(_) => {
                health.open_until = None;
                health.stats.circuit_open = false;
                health.recent_failures.clear();
                true
            }
            None => true,
        }
    }

    /// Records a run of `hook`.
    pub fn record(
        &self,
        hook: &HookId,
        took: Duration,
        error: Option<String>,
        now: Instant,
    ) -> Recorded {
        let millis = took.as_secs_f64() * 1000.0;
        let mut recorded = Recorded::Counted;
        if let Ok(mut hooks) = self.hooks.lock() {
            let health = hooks.entry(hook.clone()).or_default();
            health.total_ms += millis;
            if error.is_some() {
                health.stats.failures += 1;
                health.recent_failures.push_back(now);
                while health
                    .recent_failures
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > FAILURE_WINDOW)
                {
                    health.recent_failures.pop_front();
                }
                if health.recent_failures.len() >= FAILURE_THRESHOLD {
                    if health.open_until.is_none() {
                        recorded = Recorded::CircuitOpened;
                    }
                    health.open_until = Some(now + OPEN_FOR);
                    health.stats.circuit_open = true;
                    tracing::warn!(plugin = %hook.0, event = %hook.1, "hook failed {FAILURE_THRESHOLD} times in 5 minutes: skipped for 60s");
                }
            } else {
                health.stats.successes += 1;
            }
            let runs = health.stats.successes + health.stats.failures;
            health.stats.mean_ms = health.total_ms / runs.max(1) as f64;
        }
        if let Ok(mut history) = self.history.lock() {
            if history.len() == HISTORY {
                history.pop_front();
            }
            history.push_back(HookRun {
                hook: hook.clone(),
                at: SystemTime::now(),
                millis,
                error,
            });
        }
        recorded
    }

    /// Closes a hook's circuit by hand; whether it was open.
    pub fn reset(&self, hook: &HookId) -> bool {
        if let Ok(mut hooks) = self.hooks.lock()
            && let Some(health) = hooks.get_mut(hook)
        {
            let was_open = health.open_until.is_some();
            health.open_until = None;
            health.stats.circuit_open = false;
            health.recent_failures.clear();
            return was_open;
        }
        false
    }

    /// The counters of one hook (zeros if it never ran).
    pub fn stats_of(&self, hook: &HookId) -> HookStats {
        self.hooks
            .lock()
            .ok()
            .and_then(|h| h.get(hook).map(|h| h.stats.clone()))
            .unwrap_or_default()
    }

    /// Every hook's counters.
    pub fn stats(&self) -> Vec<(HookId, HookStats)> {
        let mut all: Vec<_> = self
            .hooks
            .lock()
            .map(|h| {
                h.iter()
                    .map(|(id, h)| (id.clone(), h.stats.clone()))
                    .collect()
            })
            .unwrap_or_default();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The last executions, oldest first.
    pub fn history(&self) -> Vec<HookRun> {
        self.history
            .lock()
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_five_failures_and_recovers_after_a_minute() {
        let health = HookHealth::default();
        let id: HookId = ("p".into(), "e".into(), 0);
        let t0 = Instant::now();
        for i in 0..FAILURE_THRESHOLD {
            assert!(health.allow(&id, t0));
            let recorded =
                health.record(&id, Duration::from_millis(1), Some(format!("boom {i}")), t0);
            let opened = i + 1 == FAILURE_THRESHOLD;
            assert_eq!(recorded == Recorded::CircuitOpened, opened, "run {i}");
        }
        assert!(!health.allow(&id, t0 + Duration::from_secs(59)));
        assert!(health.allow(&id, t0 + Duration::from_secs(61)));
        let stats = &health.stats()[0].1;
        assert_eq!(
            (stats.failures, stats.skipped, stats.circuit_open),
            (5, 1, false)
        );
        assert_eq!(health.history().len(), 5);
    }

    #[test]
    fn failures_spread_over_more_than_five_minutes_do_not_open() {
        let health = HookHealth::default();
        let id: HookId = ("p".into(), "e".into(), 0);
        let t0 = Instant::now();
        for i in 0..10u64 {
            let now = t0 + Duration::from_secs(i * 80);
            assert!(health.allow(&id, now));
            assert_eq!(
                health.record(&id, Duration::ZERO, Some("x".into()), now),
                Recorded::Counted
            );
        }
    }

    #[test]
    fn hook_names_read_back() {
        let id: HookId = ("greeter".into(), "guild_joined".into(), 2);
        assert_eq!(hook_name(&id), "greeter/guild_joined#2");
        assert_eq!(parse_hook_name("greeter/guild_joined#2"), Some(id));
        assert_eq!(
            parse_hook_name("greeter/bot_ready"),
            Some(("greeter".into(), "bot_ready".into(), 0))
        );
        assert_eq!(parse_hook_name("greeter"), None);
        assert_eq!(parse_hook_name("/bot_ready"), None);
        assert_eq!(parse_hook_name("a/b#x"), None);
    }

    #[test]
    fn a_disabled_hook_is_skipped_and_stays_disabled_after_a_restart() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("event_hooks.json");
        let id: HookId = ("p".into(), "e".into(), 1);
        let health = HookHealth::default();
        health.open(&path);
        assert_eq!(health.set_disabled(&id, true).ok(), Some(true));
        assert_eq!(health.set_disabled(&id, true).ok(), Some(false));
        assert!(!health.allow(&id, Instant::now()));
        assert_eq!(health.stats_of(&id).skipped, 1);

        let restarted = HookHealth::default();
        restarted.open(&path);
        assert!(restarted.is_disabled(&id));
        assert_eq!(restarted.set_disabled(&id, false).ok(), Some(true));
        assert!(restarted.allow(&id, Instant::now()));
        let again = HookHealth::default();
        again.open(&path);
        assert!(!again.is_disabled(&id));
    }
}
