//! Healthy, degraded or critical: the seed's error-rate tiers (5 % and 10 % of the commands
//! since the previous check) and thresholds on the runtime's lag, memory and the gateway.

use super::collect::Snapshot;
use crate::config::DiagnosticsConfig;

/// How the bot is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Nothing past a threshold.
    Healthy,
    /// Something past its warning threshold.
    Degraded,
    /// Something past its critical threshold.
    Critical,
}

impl Tier {
    /// Its name, as stored in the history.
    pub fn name(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Critical => "critical",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "healthy" => Some(Self::Healthy),
            "degraded" => Some(Self::Degraded),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }

    /// How it is shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::Healthy => "✅ Healthy",
            Self::Degraded => "⚠️ Degraded",
            Self::Critical => "🚨 Critical",
        }
    }

    /// Its colour in embeds.
    pub fn colour(self) -> u32 {
        match self {
            Self::Healthy => zoryx_plugin_api::palette::SUCCESS,
            Self::Degraded => zoryx_plugin_api::palette::WARNING,
            Self::Critical => zoryx_plugin_api::palette::ERROR,
        }
    }
}

/// A tier and what put the bot there.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    /// The worst tier any figure reached.
    pub tier: Tier,
    /// Each figure past a threshold, with its tier.
    pub reasons: Vec<(Tier, String)>,
}

impl Grade {
    /// Each reason on a line of its own: `• memory 1200 MB (degraded)`.
    pub fn lines(&self) -> String {
        self.reasons
            .iter()
            .map(|(tier, reason)| format!("• {reason} ({})", tier.name()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Grades `snapshot` against the thresholds of `config`.
pub fn grade(snapshot: &Snapshot, config: &DiagnosticsConfig) -> Grade {
    let mut reasons = Vec::new();
    let mut check = |value: f64, degraded: f64, critical: f64, what: String| {
        if value >= critical {
            reasons.push((Tier::Critical, what));
        } else if value >= degraded {
            reasons.push((Tier::Degraded, what));
        }
    };
    if snapshot.window_commands > 0 {
        check(
            snapshot.error_rate,
            config.error_rate_degraded,
            config.error_rate_critical,
            format!(
                "error rate {:.1} % ({} of {} commands)",
                snapshot.error_rate, snapshot.window_errors, snapshot.window_commands
            ),
        );
    }
    check(
        snapshot.lag_max_ms,
        config.lag_degraded_ms,
        config.lag_critical_ms,
        format!("event loop lag {:.0} ms", snapshot.lag_max_ms),
    );
    if let Some(mb) = snapshot.rss_mb() {
        check(
            mb,
            config.memory_degraded_mb,
            config.memory_critical_mb,
            format!("memory {mb:.0} MB"),
        );
    }
    if let Some(latency) = snapshot.worst_latency_ms() {
        check(
            latency,
            config.latency_degraded_ms,
            config.latency_critical_ms,
            format!("gateway latency {latency:.0} ms"),
        );
    }
    let down: Vec<String> = snapshot
        .shards
        .iter()
        .filter(|s| s.state != "connected")
        .map(|s| format!("shard {} {}", s.id, s.state))
        .collect();
    if !down.is_empty() {
        reasons.push((Tier::Degraded, down.join(", ")));
    }
    let tier = reasons
        .iter()
        .map(|(tier, _)| *tier)
        .max()
        .unwrap_or(Tier::Healthy);
    Grade { tier, reasons }
}
