//! The health loop's checks in `main.db` (`health_history`), kept for
//! `diagnostics.history_days` days.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::collect::Snapshot;
use super::grade::{Grade, Tier};
use crate::storage::db::Databases;

/// One stored check.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    /// When (Unix seconds).
    pub at: i64,
    /// The tier.
    pub tier: Tier,
    /// CPU in % of one core.
    pub cpu_percent: Option<f64>,
    /// Resident memory in MB.
    pub rss_mb: Option<f64>,
    /// Threads.
    pub threads: Option<i64>,
    /// The runtime's worst lag in ms.
    pub lag_ms: f64,
    /// Commands per second.
    pub commands_per_sec: f64,
    /// Error rate in %.
    pub error_rate: f64,
    /// The worst shard latency in ms.
    pub latency_ms: Option<f64>,
    /// What was past a threshold.
    pub reasons: String,
}

/// Unix seconds of `at`.
pub fn unix(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Stores one check and drops those older than `keep`.
pub async fn store(
    databases: &Databases,
    snapshot: &Snapshot,
    grade: &Grade,
    keep: Duration,
) -> Result<(), sqlx::Error> {
    let at = unix(snapshot.at);
    let reasons = grade
        .reasons
        .iter()
        .map(|(_, r)| r.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    sqlx::query(
        "INSERT INTO health_history (at, tier, cpu_percent, rss_mb, threads, lag_ms, \
         commands_per_sec, error_rate, latency_ms, reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(at)
    .bind(grade.tier.name())
    .bind(snapshot.cpu_percent)
    .bind(snapshot.rss_mb())
    .bind(
        snapshot
            .threads
            .map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
    )
    .bind(snapshot.lag_max_ms)
    .bind(snapshot.commands_per_sec)
    .bind(snapshot.error_rate)
    .bind(snapshot.worst_latency_ms())
    .bind(reasons)
    .execute(databases.main())
    .await?;
    let oldest = at.saturating_sub(i64::try_from(keep.as_secs()).unwrap_or(i64::MAX));
    sqlx::query("DELETE FROM health_history WHERE at < ?")
        .bind(oldest)
        .execute(databases.main())
        .await?;
    Ok(())
}

type Row = (
    i64,
    String,
    Option<f64>,
    Option<f64>,
    Option<i64>,
    f64,
    f64,
    f64,
    Option<f64>,
    String,
);

/// The checks since `since` (Unix seconds), oldest first, at most `limit` (the newest).
pub async fn load(
    databases: &Databases,
    since: i64,
    limit: u32,
) -> Result<Vec<HistoryRow>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT at, tier, cpu_percent, rss_mb, threads, lag_ms, commands_per_sec, error_rate, \
         latency_ms, reasons FROM health_history WHERE at >= ? ORDER BY at DESC, rowid DESC LIMIT ?",
    )
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(databases.main())
    .await?;
    let mut rows: Vec<HistoryRow> = rows
        .into_iter()
        .map(
            |(
                at,
                tier,
                cpu_percent,
                rss_mb,
                threads,
                lag_ms,
                commands_per_sec,
                error_rate,
                latency_ms,
                reasons,
            )| HistoryRow {
                at,
                tier: Tier::parse(&tier).unwrap_or(Tier::Healthy),
                cpu_percent,
                rss_mb,
                threads,
                lag_ms,
                commands_per_sec,
                error_rate,
                latency_ms,
                reasons,
            },
        )
        .collect();
    rows.reverse();
    Ok(rows)
}
