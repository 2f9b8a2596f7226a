//! Cluster statistics, as the seed's `stats_broadcast` sends them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One cluster's statistics (the data of a `stats_broadcast`). Every field is optional on the
/// wire; fields this type does not know are kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterStats {
    /// Guilds this cluster serves.
    pub guild_count: u64,
    /// Users this cluster sees.
    pub user_count: u64,
    /// Total shard count of the bot.
    pub shard_count: u64,
    /// Shards this cluster runs.
    pub shard_ids: Vec<u64>,
    /// Gateway latency, seconds.
    pub latency: f64,
    /// Uptime, seconds.
    pub uptime: f64,
    /// Any other field sent (`mode`, `cluster_name`, `timestamp`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ClusterStats {
    /// The stats as a message `data` object.
    pub fn to_data(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// Parses the `data` of a `stats_broadcast`.
    pub fn from_data(data: &Map<String, Value>) -> Result<Self, serde_json::Error> {
        serde_json::from_value(Value::Object(data.clone()))
    }
}

/// What the server knows about one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// Cluster name.
    pub name: String,
    /// Latest stats, if any were received yet.
    pub stats: Option<ClusterStats>,
    /// Seconds since the last heartbeat (0 for the server itself).
    pub last_heartbeat_age: f64,
    /// Unix time (seconds) when the cluster connected.
    pub connected_at: f64,
}

/// Sums over every cluster with stats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Number of clusters listed.
    pub clusters: u64,
    /// Sum of `guild_count`.
    pub guild_count: u64,
    /// Sum of `user_count`.
    pub user_count: u64,
    /// Sum of the number of shards each cluster runs (`shard_ids`), or of `shard_count`
    /// where a cluster sent no `shard_ids`.
    pub shards: u64,
}

/// The answer to a `clusters` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterOverview {
    /// Every cluster, sorted by name.
    pub clusters: Vec<ClusterInfo>,
    /// Global totals.
    pub totals: Totals,
}

impl ClusterOverview {
    /// Builds the overview and its totals from a list of clusters.
    pub fn new(mut clusters: Vec<ClusterInfo>) -> Self {
        clusters.sort_by(|a, b| a.name.cmp(&b.name));
        let mut totals = Totals {
            clusters: clusters.len() as u64,
            ..Totals::default()
        };
        for stats in clusters.iter().filter_map(|c| c.stats.as_ref()) {
            totals.guild_count = totals.guild_count.saturating_add(stats.guild_count);
            totals.user_count = totals.user_count.saturating_add(stats.user_count);
            let shards = if stats.shard_ids.is_empty() {
                stats.shard_count
            } else {
                stats.shard_ids.len() as u64
            };
            totals.shards = totals.shards.saturating_add(shards);
        }
        Self { clusters, totals }
    }

    /// One cluster by name.
    pub fn get(&self, name: &str) -> Option<&ClusterInfo> {
        self.clusters.iter().find(|c| c.name == name)
    }
}
