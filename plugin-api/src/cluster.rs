//! Clusters: several host processes of one bot, linked by the shard manager's IPC
//! (plugin-api 1.3).
//!
//! With the shard manager on (`ENABLE_SHARD_MANAGER=true`, see the README's "Clusters"), one
//! host runs the IPC server and the others connect to it as clients. Every cluster publishes
//! its figures; [`Host::clusters`](crate::Host::clusters) lists them with global totals,
//! [`Host::ipc_status`](crate::Host::ipc_status) shows the link itself, and
//! [`Host::broadcast`](crate::Host::broadcast) sends a text to every other cluster, where
//! plugins receive it as a [`ClusterBroadcast`] hook. With the shard manager off, these calls
//! fail with [`SHARD_MANAGER_OFF`].
//!
//! ```
//! use zoryx_plugin_api::prelude::*;
//! use zoryx_plugin_api::ClusterBroadcast;
//!
//! struct Announcer;
//! impl Plugin for Announcer {
//!     fn manifest() -> Manifest { Manifest::new("announcer", "0.1.0") }
//!     fn register(plugin: &mut Registrar<Self>) {
//!         plugin.command(
//!             CommandSpec::new("everywhere").permission(Permission::Owner),
//!             |ctx: CommandContext<Announcer>| async move {
//!                 let delivered = ctx.host().broadcast("maintenance at 18:00").await?;
//!                 ctx.reply(format!("sent to {delivered} cluster(s)")).await?;
//!                 Ok(())
//!             },
//!         );
//!         plugin.on_hook(0, |ctx: PluginContext<Announcer>, b: ClusterBroadcast| async move {
//!             ctx.info(format!("{} says: {}", b.source, b.message));
//!             Ok(())
//!         });
//!     }
//!     async fn init(_host: Host) -> PluginResult<Self> { Ok(Announcer) }
//! }
//! ```

use serde::{Deserialize, Serialize};

use crate::typed::HookPayload;

/// The error text of the cluster calls when the shard manager is off.
pub const SHARD_MANAGER_OFF: &str = "shard manager is off: set ENABLE_SHARD_MANAGER=true";

/// The longest broadcast text; longer ones are cut (the original framework's 500 characters).
pub const BROADCAST_MAX_CHARS: usize = 500;

/// A cluster's health from the age of its last heartbeat: under 60 s healthy, under 180 s
/// warning, else critical (the original framework's thresholds).
///
/// ```
/// use zoryx_plugin_api::ClusterHealth;
///
/// assert_eq!(ClusterHealth::from_heartbeat_age(12.0), ClusterHealth::Healthy);
/// assert_eq!(ClusterHealth::from_heartbeat_age(90.0), ClusterHealth::Warning);
/// assert_eq!(ClusterHealth::from_heartbeat_age(400.0).emoji(), "🔴");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterHealth {
    /// A heartbeat within the last 60 s.
    #[default]
    Healthy,
    /// The last heartbeat 60–180 s ago.
    Warning,
    /// No heartbeat for 180 s or more.
    Critical,
}

impl ClusterHealth {
    /// The health for a heartbeat `age_seconds` old.
    pub fn from_heartbeat_age(age_seconds: f64) -> Self {
        if age_seconds < 60.0 {
            Self::Healthy
        } else if age_seconds < 180.0 {
            Self::Warning
        } else {
            Self::Critical
        }
    }

    /// 🟢, 🟡 or 🔴.
    pub fn emoji(self) -> &'static str {
        match self {
            Self::Healthy => "🟢",
            Self::Warning => "🟡",
            Self::Critical => "🔴",
        }
    }
}

/// One cluster's figures, as it last published them ([`ClusterInfo::stats`]).
///
/// New fields may come in later minor versions: read them, do not build the struct.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Guilds the cluster serves.
    pub guilds: u64,
    /// Members in those guilds (Discord's counts).
    pub members: u64,
    /// Shards in the whole bot.
    pub shard_count: u64,
    /// The shards this cluster runs.
    pub shard_ids: Vec<u64>,
    /// The mean gateway heartbeat latency of its shards, once measured.
    pub latency_ms: Option<f64>,
    /// Seconds since the cluster's host started.
    pub uptime_seconds: u64,
}

/// One cluster of the bot ([`ClusterOverview::clusters`]).
///
/// New fields may come in later minor versions: read them, do not build the struct.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterInfo {
    /// Its name (`SHARD_CLUSTER_NAME`).
    pub name: String,
    /// Whether it is the cluster asking.
    pub is_self: bool,
    /// Whether it runs the IPC server.
    pub is_server: bool,
    /// Its figures, once it published some.
    pub stats: Option<ClusterStats>,
    /// Seconds since its last heartbeat reached the server (0 for the server itself).
    pub heartbeat_age_seconds: f64,
    /// Its health from that age.
    pub health: ClusterHealth,
    /// When it connected (Unix seconds).
    pub connected_at_unix: u64,
}

/// Sums over every cluster ([`ClusterOverview::totals`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterTotals {
    /// Clusters listed.
    pub clusters: u64,
    /// Guilds, over every cluster.
    pub guilds: u64,
    /// Members, over every cluster.
    pub members: u64,
    /// Shards run, over every cluster.
    pub shards: u64,
}

/// Every cluster of the bot and the global totals ([`Host::clusters`](crate::Host::clusters)).
///
/// ```
/// use zoryx_plugin_api::ClusterOverview;
///
/// let json = r#"{"this_cluster": "alpha", "mode": "server",
///     "clusters": [{"name": "alpha", "is_self": true, "stats": {"guilds": 3}}],
///     "totals": {"clusters": 1, "guilds": 3}}"#;
/// let overview: ClusterOverview = serde_json::from_str(json).unwrap();
/// assert_eq!(overview.totals.guilds, 3);
/// assert!(overview.clusters[0].is_self);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterOverview {
    /// This cluster's name.
    pub this_cluster: String,
    /// `server` or `client`.
    pub mode: String,
    /// Every cluster, sorted by name.
    pub clusters: Vec<ClusterInfo>,
    /// Global totals.
    pub totals: ClusterTotals,
}

/// A cluster connected to the IPC server ([`IpcStatus::peers`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IpcPeer {
    /// Its name.
    pub name: String,
    /// Seconds since its last heartbeat.
    pub heartbeat_age_seconds: f64,
    /// When it connected (Unix seconds).
    pub connected_at_unix: u64,
}

/// The IPC link of this cluster ([`Host::ipc_status`](crate::Host::ipc_status)). The secret
/// is never part of it.
///
/// ```
/// use zoryx_plugin_api::IpcStatus;
///
/// let status: IpcStatus = serde_json::from_str(r#"{"mode": "client", "connected": true}"#).unwrap();
/// assert!(status.connected && status.peers.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IpcStatus {
    /// `server` or `client`.
    pub mode: String,
    /// This cluster's name.
    pub cluster: String,
    /// The address the server listens on, or the client connects to.
    pub host: String,
    /// Its port (the bound one, for a server started on port 0).
    pub port: u16,
    /// A client: whether it is authenticated to the server now. A server: always true.
    pub connected: bool,
    /// A client: the server's cluster name, once connected.
    pub server: Option<String>,
    /// A server: the connected clusters, sorted by name.
    pub peers: Vec<IpcPeer>,
    /// Seconds between two heartbeats of a client.
    pub heartbeat_interval_seconds: f64,
    /// A server drops a cluster that sent no heartbeat for this long.
    pub heartbeat_timeout_seconds: f64,
    /// Seconds between two publications of this cluster's figures.
    pub stats_interval_seconds: u64,
    /// The last connection problem (a refused handshake, a lost link), if any.
    pub last_error: Option<String>,
}

/// A text another cluster broadcast ([`Host::broadcast`](crate::Host::broadcast)), delivered
/// to the hooks on `cluster_broadcast` in every other cluster.
///
/// ```
/// use zoryx_plugin_api::{ClusterBroadcast, HookPayload};
///
/// assert_eq!(ClusterBroadcast::EVENT, "cluster_broadcast");
/// let b: ClusterBroadcast = serde_json::from_str(r#"{"message": "hi", "source": "beta"}"#).unwrap();
/// assert_eq!((b.message.as_str(), b.author_id), ("hi", None));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterBroadcast {
    /// The text (at most [`BROADCAST_MAX_CHARS`] characters).
    pub message: String,
    /// The cluster it came from.
    pub source: String,
    /// Who sent it, as `name` (when a plugin named them).
    pub author: Option<String>,
    /// Who sent it, by id.
    pub author_id: Option<u64>,
}

impl HookPayload for ClusterBroadcast {
    const EVENT: &'static str = "cluster_broadcast";
}

/// Cuts `text` to [`BROADCAST_MAX_CHARS`] characters.
pub fn cut_broadcast(text: &str) -> String {
    text.chars().take(BROADCAST_MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_thresholds_and_cutting() {
        assert_eq!(
            ClusterHealth::from_heartbeat_age(59.9),
            ClusterHealth::Healthy
        );
        assert_eq!(
            ClusterHealth::from_heartbeat_age(60.0),
            ClusterHealth::Warning
        );
        assert_eq!(
            ClusterHealth::from_heartbeat_age(180.0),
            ClusterHealth::Critical
        );
        assert_eq!(cut_broadcast(&"é".repeat(600)).chars().count(), 500);
    }
}
