//! The seed's health rules for one shard: latency over 1,000 ms is a warning and over 2,000 ms
//! critical; no event for 5 minutes is a warning; consecutive connection failures at the
//! threshold (3 unless set) are a warning and two more critical; a disconnected shard is
//! critical, one reconnecting or disconnected in the last 5 minutes a warning.

use zoryx_plugin_api::ShardInfo;

/// How a shard is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Healthy,
    Warning,
    Critical,
}

impl Level {
    pub(crate) fn icon(self) -> &'static str {
        match self {
            Self::Healthy => "🟢",
            Self::Warning => "🟡",
            Self::Critical => "🔴",
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// One finding: its level, a stable key (for rate-limiting alerts) and words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Issue {
    pub(crate) level: Level,
    pub(crate) key: &'static str,
    pub(crate) text: String,
}

pub(crate) const LATENCY_WARNING_MS: f64 = 1000.0;
pub(crate) const LATENCY_CRITICAL_MS: f64 = 2000.0;
/// Silence that counts as "no activity".
pub(crate) const QUIET_MS: u64 = 5 * 60 * 1000;
/// How long a disconnection counts as recent.
pub(crate) const RECENT_MS: u64 = 5 * 60 * 1000;

/// What is wrong with `shard` at `now_ms`, worst first; `threshold` consecutive failures make
/// a warning, two more a critical finding.
pub(crate) fn check(shard: &ShardInfo, now_ms: u64, threshold: u64) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut add = |level, key, text: String| issues.push(Issue { level, key, text });
    match shard.state.as_str() {
        "connected" => {}
        "disconnected" | "stopped" => add(Level::Critical, "disconnected", "disconnected".into()),
        other => add(
            Level::Warning,
            "reconnecting",
            format!("not connected ({other})"),
        ),
    }
    if let Some(latency) = shard.latency_ms {
        if latency > LATENCY_CRITICAL_MS {
            add(
                Level::Critical,
                "latency",
                format!("latency {latency:.0} ms"),
            );
        } else if latency > LATENCY_WARNING_MS {
            add(
                Level::Warning,
                "latency",
                format!("latency {latency:.0} ms"),
            );
        }
    }
    let threshold = threshold.max(1);
    if shard.failing >= threshold + 2 {
        add(
            Level::Critical,
            "failing",
            format!("{} connection failures in a row", shard.failing),
        );
    } else if shard.failing >= threshold {
        add(
            Level::Warning,
            "failing",
            format!("{} connection failures in a row", shard.failing),
        );
    }
    if shard.state == "connected"
        && let Some(since) = shard.last_event_unix_ms.or(shard.connected_since_unix_ms)
        && now_ms.saturating_sub(since) > QUIET_MS
    {
        add(
            Level::Warning,
            "quiet",
            format!(
                "no events for {} min",
                now_ms.saturating_sub(since) / 60_000
            ),
        );
    }
    if let Some(at) = shard.last_disconnect_unix_ms
        && now_ms.saturating_sub(at) <= RECENT_MS
        && shard.state == "connected"
    {
        add(
            Level::Warning,
            "recent",
            format!("disconnected {} s ago", now_ms.saturating_sub(at) / 1000),
        );
    }
    issues.sort_by_key(|i| std::cmp::Reverse(i.level));
    issues
}

/// The worst level of `issues`.
pub(crate) fn level(issues: &[Issue]) -> Level {
    issues
        .iter()
        .map(|i| i.level)
        .max()
        .unwrap_or(Level::Healthy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(state: &str) -> ShardInfo {
        let mut s = ShardInfo::default();
        s.state = state.into();
        s.last_event_unix_ms = Some(1_000_000);
        s
    }

    #[test]
    fn each_rule_and_its_level() {
        let now = 1_000_000 + 60_000;
        assert!(check(&shard("connected"), now, 3).is_empty());
        assert_eq!(
            level(&check(&shard("disconnected"), now, 3)),
            Level::Critical
        );
        assert_eq!(level(&check(&shard("resuming"), now, 3)), Level::Warning);
        let mut slow = shard("connected");
        slow.latency_ms = Some(1500.0);
        assert_eq!(level(&check(&slow, now, 3)), Level::Warning);
        slow.latency_ms = Some(2500.0);
        assert_eq!(level(&check(&slow, now, 3)), Level::Critical);
        let mut failing = shard("connected");
        failing.failing = 3;
        assert_eq!(check(&failing, now, 3)[0].key, "failing");
        assert_eq!(level(&check(&failing, now, 3)), Level::Warning);
        failing.failing = 5;
        assert_eq!(level(&check(&failing, now, 3)), Level::Critical);
        assert!(check(&failing, now, 10).is_empty());
        let quiet = check(&shard("connected"), 1_000_000 + 6 * 60_000, 3);
        assert_eq!(quiet[0].key, "quiet");
        let mut recent = shard("connected");
        recent.last_disconnect_unix_ms = Some(1_000_000);
        assert_eq!(check(&recent, now, 3)[0].text, "disconnected 60 s ago");
        assert!(
            check(&recent, 1_000_000 + RECENT_MS + 1, 3)
                .iter()
                .all(|i| i.key != "recent")
        );
    }
}
