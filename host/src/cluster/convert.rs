//! From the IPC's wire figures to the plugin API's types, and this host's figures from its
//! shards.

use std::time::Duration;

use serde_json::Value;
use zoryx_ipc::{ClusterStats, Message};
use zoryx_plugin_api::cluster::cut_broadcast;
use zoryx_plugin_api::{
    ClusterBroadcast, ClusterHealth, ClusterInfo, ClusterOverview, ClusterTotals, ShardInfo,
};

/// Unix seconds from the IPC's float seconds (0 for nonsense).
pub(super) fn unix(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        seconds as u64
    } else {
        0
    }
}

/// This cluster's figures (as the seed's `stats_broadcast` carries them) from its shards:
/// guilds and members summed, the shards it runs, the mean latency in seconds.
pub fn stats_from_shards(shards: &[ShardInfo], uptime: Duration) -> ClusterStats {
    let latencies: Vec<f64> = shards.iter().filter_map(|s| s.latency_ms).collect();
    let latency = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().sum::<f64>() / latencies.len() as f64 / 1000.0
    };
    let shard_count = shards
        .iter()
        .find_map(|s| s.total)
        .map_or(shards.len() as u64, u64::from);
    ClusterStats {
        guild_count: shards.iter().map(|s| s.guilds).sum(),
        user_count: shards.iter().map(|s| s.members).sum(),
        shard_count,
        shard_ids: shards.iter().map(|s| u64::from(s.id)).collect(),
        latency,
        uptime: uptime.as_secs_f64(),
        extra: serde_json::Map::new(),
    }
}

fn api_stats(stats: &ClusterStats) -> zoryx_plugin_api::ClusterStats {
    let mut out = zoryx_plugin_api::ClusterStats::default();
    out.guilds = stats.guild_count;
    out.members = stats.user_count;
    out.shard_count = stats.shard_count;
    out.shard_ids = stats.shard_ids.clone();
    out.latency_ms =
        (stats.latency.is_finite() && stats.latency > 0.0).then_some(stats.latency * 1000.0);
    out.uptime_seconds = unix(stats.uptime);
    out
}

/// The plugin API's overview: `local` stands for this cluster (fresher than what the server
/// last heard), the totals are summed over the list.
pub(super) fn overview(
    ipc: zoryx_ipc::ClusterOverview,
    own: &str,
    mode: &str,
    server: &str,
    local: &ClusterStats,
) -> ClusterOverview {
    let mut clusters: Vec<ClusterInfo> = ipc
        .clusters
        .into_iter()
        .filter(|c| c.name != own)
        .map(|c| {
            let mut info = ClusterInfo::default();
            info.is_server = c.name == server;
            info.name = c.name;
            info.stats = c.stats.as_ref().map(api_stats);
            info.heartbeat_age_seconds = c.last_heartbeat_age.max(0.0);
            info.health = ClusterHealth::from_heartbeat_age(info.heartbeat_age_seconds);
            info.connected_at_unix = unix(c.connected_at);
            info
        })
        .collect();
    let mut this = ClusterInfo::default();
    this.name = own.to_owned();
    this.is_self = true;
    this.is_server = mode == "server";
    this.stats = Some(api_stats(local));
    this.connected_at_unix = unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
            - local.uptime,
    );
    clusters.push(this);
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    let mut totals = ClusterTotals::default();
    totals.clusters = clusters.len() as u64;
    for stats in clusters.iter().filter_map(|c| c.stats.as_ref()) {
        totals.guilds = totals.guilds.saturating_add(stats.guilds);
        totals.members = totals.members.saturating_add(stats.members);
        let shards = if stats.shard_ids.is_empty() {
            stats.shard_count
        } else {
            stats.shard_ids.len() as u64
        };
        totals.shards = totals.shards.saturating_add(shards);
    }
    let mut overview = ClusterOverview::default();
    overview.this_cluster = own.to_owned();
    overview.mode = mode.to_owned();
    overview.clusters = clusters;
    overview.totals = totals;
    overview
}

/// A `broadcast_message` as the hook's payload; `None` without a text.
pub(super) fn broadcast(message: &Message) -> Option<ClusterBroadcast> {
    let text = message.str_field("message")?;
    let mut broadcast = ClusterBroadcast::default();
    broadcast.message = cut_broadcast(text);
    broadcast.source = message.source.clone();
    broadcast.author = message.str_field("author").map(cut_broadcast);
    broadcast.author_id = match message.data.get("author_id") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Some(broadcast)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shard(id: u32, guilds: u64, members: u64, latency: Option<f64>) -> ShardInfo {
        let mut s = ShardInfo::default();
        s.id = id;
        s.total = Some(4);
        s.guilds = guilds;
        s.members = members;
        s.latency_ms = latency;
        s
    }

    #[test]
    fn figures_from_shards_and_totals_over_clusters() {
        let local = stats_from_shards(
            &[shard(2, 10, 100, Some(40.0)), shard(3, 5, 50, Some(60.0))],
            Duration::from_secs(90),
        );
        assert_eq!((local.guild_count, local.user_count), (15, 150));
        assert_eq!(
            (local.shard_count, local.shard_ids.clone()),
            (4, vec![2, 3])
        );
        assert!((local.latency - 0.05).abs() < 1e-9);

        let remote = ClusterStats {
            guild_count: 7,
            user_count: 70,
            shard_count: 4,
            shard_ids: vec![0, 1],
            ..ClusterStats::default()
        };
        let ipc = zoryx_ipc::ClusterOverview::new(vec![
            zoryx_ipc::ClusterInfo {
                name: "alpha".into(),
                stats: Some(remote),
                last_heartbeat_age: 75.0,
                connected_at: 1_700_000_000.5,
            },
            zoryx_ipc::ClusterInfo {
                name: "beta".into(),
                stats: None,
                last_heartbeat_age: 0.0,
                connected_at: 0.0,
            },
        ]);
        let overview = overview(ipc, "beta", "client", "alpha", &local);
        assert_eq!(overview.clusters.len(), 2);
        let alpha = &overview.clusters[0];
        assert!(alpha.is_server && !alpha.is_self);
        assert_eq!(alpha.health, ClusterHealth::Warning);
        assert_eq!(alpha.connected_at_unix, 1_700_000_000);
        let beta = &overview.clusters[1];
        assert!(beta.is_self && !beta.is_server);
        assert_eq!(beta.stats.as_ref().map(|s| s.guilds), Some(15));
        assert_eq!(
            beta.stats
                .as_ref()
                .and_then(|s| s.latency_ms)
                .map(f64::round),
            Some(50.0)
        );
        assert_eq!(overview.totals.clusters, 2);
        assert_eq!(overview.totals.guilds, 22);
        assert_eq!(overview.totals.members, 220);
        assert_eq!(overview.totals.shards, 4);
    }

    #[test]
    fn broadcasts_are_read_defensively() {
        let mut data = serde_json::Map::new();
        data.insert("message".into(), json!("x".repeat(600)));
        data.insert("author_id".into(), json!("42"));
        let message = Message::new("broadcast_message", data).from_source("alpha");
        let b = broadcast(&message).expect("text");
        assert_eq!(b.message.len(), 500);
        assert_eq!((b.source.as_str(), b.author_id), ("alpha", Some(42)));
        let empty = Message::new("broadcast_message", serde_json::Map::new());
        assert_eq!(broadcast(&empty), None);
    }
}
