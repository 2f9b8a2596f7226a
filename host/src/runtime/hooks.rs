//! Hook health: per-hook counters, a circuit breaker and a short execution history.
//!
//! As in the seed framework: a hook that fails 5 times within 5 minutes (a timeout counts as a
//! failure) is skipped for 60 seconds; the last 100 executions are kept.

use std::collections::{HashMap, VecDeque};
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
}

impl std::fmt::Debug for HookHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookHealth")
    }
}

impl HookHealth {
    /// Whether `hook` may run now; counts a skip if not.
    pub fn allow(&self, hook: &HookId, now: Instant) -> bool {
        let Ok(mut hooks) = self.hooks.lock() else {
            return true;
        };
        let health = hooks.entry(hook.clone()).or_default();
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
    pub fn record(&self, hook: &HookId, took: Duration, error: Option<String>, now: Instant) {
        let millis = took.as_secs_f64() * 1000.0;
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
    }

    /// Closes a hook's circuit by hand.
    pub fn reset(&self, hook: &HookId) {
        if let Ok(mut hooks) = self.hooks.lock()
            && let Some(health) = hooks.get_mut(hook)
        {
            health.open_until = None;
            health.stats.circuit_open = false;
            health.recent_failures.clear();
        }
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
            health.record(&id, Duration::from_millis(1), Some(format!("boom {i}")), t0);
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
            health.record(&id, Duration::ZERO, Some("x".into()), now);
        }
    }
}
