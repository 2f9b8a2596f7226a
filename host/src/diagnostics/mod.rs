//! Framework diagnostics: what the bot's owner needs to see it is well, and to be told when it
//! is not.
//!
//! - [`collect`]: figures of the process (sysinfo), the host's runtime (tokio's metrics and a
//!   lag probe), commands and errors, the gateway's shards, every plugin's calls;
//! - [`grade`]: healthy / degraded / critical, by the seed's error-rate tiers and thresholds on
//!   lag, memory and latency (`diagnostics.*` in `config.json`);
//! - a health loop every `diagnostics.interval_seconds`: a check is stored in `main.db`
//!   ([`history`], `diagnostics.history_days` days), and a change of tier is an alert to the
//!   `fw_alert_channel` — an incident is one message when it starts, one per change of tier and
//!   one when it is over;
//! - [`prometheus`]: the same figures as `GET /metrics` on the health port; [`chart`]: the
//!   history as a PNG for `fw_history`.
//!
//! `framework.enable_framework_diagnostics` (and `framework.load_cogs`) off: no loop, no probe,
//! no alerts, no `/metrics`; the commands say so.

pub mod chart;
pub mod collect;
pub mod grade;
pub mod history;
pub mod prometheus;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

pub use collect::{Collector, LagProbe, ShardFigures, Snapshot};
pub use grade::{Grade, Tier};
pub use history::HistoryRow;

use crate::alerts::Topic;
use crate::config::DiagnosticsConfig;
use crate::discord::GatewayStatus;
use crate::runtime::Dispatcher;
use crate::storage::db::Databases;

/// An incident under way: the tier last alerted, since when.
#[derive(Clone, Copy, Debug)]
struct Incident {
    tier: Tier,
    since: Instant,
}

/// The diagnostics of one host. Cloning the `Arc` shares it.
pub struct Diagnostics {
    config: DiagnosticsConfig,
    enabled: bool,
    started: Instant,
    dispatcher: Arc<Dispatcher>,
    gateway: GatewayStatus,
    databases: Option<Arc<Databases>>,
    collector: tokio::sync::Mutex<Collector>,
    lag: Arc<LagProbe>,
    last: Mutex<Option<(Snapshot, Grade)>>,
    incident: Mutex<Option<Incident>>,
    checks: tokio::sync::watch::Sender<u64>,
    stop: CancellationToken,
}

impl std::fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diagnostics")
            .field("enabled", &self.enabled)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Diagnostics {
    /// Diagnostics of the host behind `dispatcher` (on the current runtime), its gateway, and
    /// its databases for the history (`None`: no history). `enabled` is
    /// `framework.enable_framework_diagnostics` with `load_cogs`. Nothing runs until
    /// [`Diagnostics::start`].
    pub fn new(
        config: DiagnosticsConfig,
        enabled: bool,
        dispatcher: Arc<Dispatcher>,
        gateway: GatewayStatus,
        databases: Option<Arc<Databases>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            config,
            enabled,
            started: Instant::now(),
            dispatcher,
            gateway,
            databases,
            collector: tokio::sync::Mutex::new(Collector::new(tokio::runtime::Handle::current())),
            lag: Arc::new(LagProbe::default()),
            last: Mutex::new(None),
            incident: Mutex::new(None),
            checks: tokio::sync::watch::channel(0).0,
            stop: CancellationToken::new(),
        })
    }

    /// Whether diagnostics are on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The settings in force.
    pub fn config(&self) -> &DiagnosticsConfig {
        &self.config
    }

    /// Starts the lag probe and the health loop (if enabled); they stop with
    /// [`Diagnostics::stop`] or the runtime.
    pub fn start(self: &Arc<Self>) {
        if !self.enabled {
            tracing::info!(
                "framework diagnostics are off (framework.enable_framework_diagnostics): no health checks or alerts"
            );
            return;
        }
        tokio::spawn(Arc::clone(&self.lag).run(collect::LAG_EVERY, self.stop.child_token()));
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let every = Duration::from_secs(this.config.interval_seconds.max(1));
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = this.stop.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                this.check().await;
            }
        });
    }

    /// Stops the probe and the loop.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Health checks run since start.
    pub fn checks(&self) -> u64 {
        *self.checks.borrow()
    }

    /// Follows the number of health checks run (the loop's and [`Diagnostics::check`]'s).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.checks.subscribe()
    }

    /// One health check now: measure, grade, store, alert on a change of tier. The loop calls
    /// it every `diagnostics.interval_seconds`.
    pub async fn check(&self) -> (Snapshot, Grade) {
        let (snapshot, grade) = self.sample(true).await;
        if let Some(databases) = &self.databases {
            let keep = Duration::from_secs(self.config.history_days.saturating_mul(86_400));
            if let Err(error) = history::store(databases, &snapshot, &grade, keep).await {
                tracing::warn!(%error, "health check not stored");
            }
        }
        self.alert(&grade);
        if let Ok(mut last) = self.last.lock() {
            *last = Some((snapshot.clone(), grade.clone()));
        }
        self.checks.send_modify(|n| *n += 1);
        (snapshot, grade)
    }

    /// The figures now (CPU, rates and error rate since the last check), without storing
    /// anything; the grade they would get.
    pub async fn now(&self) -> (Snapshot, Grade) {
        self.sample(false).await
    }

    /// Measures and grades; `advance`: the figures over time start again from here.
    async fn sample(&self, advance: bool) -> (Snapshot, Grade) {
        let snapshot = {
            let mut collector = self.collector.lock().await;
            collector
                .sample(
                    &self.dispatcher,
                    &self.lag,
                    &self.gateway,
                    self.started,
                    advance,
                )
                .await
        };
        let grade = grade::grade(&snapshot, &self.config);
        (snapshot, grade)
    }

    /// The last check, if one ran.
    pub fn last(&self) -> Option<(Snapshot, Grade)> {
        self.last.lock().ok().and_then(|l| l.clone())
    }

    /// The stored checks of the last `hours`, oldest first (at most `limit`, the newest).
    pub async fn history(&self, hours: u32, limit: u32) -> Result<Vec<HistoryRow>, String> {
        let Some(databases) = &self.databases else {
            return Err("no database: the health history is not kept".to_owned());
        };
        let since = history::unix(SystemTime::now()) - i64::from(hours) * 3600;
        history::load(databases, since, limit)
            .await
            .map_err(|e| e.to_string())
    }

    /// The figures as Prometheus text (`GET /metrics`).
    pub async fn prometheus(&self) -> String {
        let (snapshot, _) = self.now().await;
        let last = self.last();
        prometheus::render(&snapshot, last.as_ref().map(|(_, grade)| grade))
    }

    /// Alerts on a change of tier: the start of an incident, each change, its end.
    fn alert(&self, grade: &Grade) {
        let Ok(mut incident) = self.incident.lock() else {
            return;
        };
        let text = match (*incident, grade.tier) {
            (None, Tier::Healthy) => return,
            (None, tier) => {
                *incident = Some(Incident {
                    tier,
                    since: Instant::now(),
                });
                format!(
                    "{} — the bot's health changed:\n{}",
                    tier.label(),
                    grade.lines()
                )
            }
            (Some(open), Tier::Healthy) => {
                *incident = None;
                format!(
                    "✅ Healthy again after {} min.",
                    open.since.elapsed().as_secs().div_ceil(60)
                )
            }
            (Some(open), tier) if tier == open.tier => return,
            (Some(open), tier) => {
                *incident = Some(Incident {
                    tier,
                    since: open.since,
                });
                format!("Update: now {}\n{}", tier.label(), grade.lines())
            }
        };
        drop(incident);
        tracing::warn!(tier = grade.tier.name(), "{text}");
        self.dispatcher
            .alerts()
            .send(Topic::Health, &text, grade.tier.colour());
    }
}
