//! The gateway's health: every shard of this process and its connection state, as the health
//! endpoint (`crate::health`) reports it.
//!
//! A [`GatewayStatus`] is made before the connection, handed to [`super::start_with`] in
//! [`super::Services::gateway`], and read with [`GatewayStatus::report`] at any time: before the
//! client exists (starting), while it runs, after it stopped. The states come from serenity's
//! shard manager (each shard runner's stage and heartbeat latency), from READY (which shards
//! exist and that each has been connected once) and from the client's end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use serde::Serialize;
use serenity::gateway::ConnectionStage;

use super::Sharding;
use super::bot::Bot;

/// One shard's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShardState {
    /// Not connected yet since the start.
    Starting,
    /// Opening the WebSocket.
    Connecting,
    /// Connected, waiting for HELLO.
    Handshake,
    /// IDENTIFY sent, waiting for READY.
    Identifying,
    /// RESUME sent, waiting for RESUMED.
    Resuming,
    /// Connected and receiving events.
    Connected,
    /// The connection is closed and not being reopened right now.
    Disconnected,
    /// It was connected; its runner is being restarted (a new session is being opened).
    Reconnecting,
    /// The client has stopped.
    Stopped,
}

/// The whole gateway's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayState {
    /// Not every shard has been connected yet.
    Starting,
    /// Every shard of this process is connected.
    Up,
    /// Every shard was connected once; at least one is not now.
    Reconnecting,
    /// The client has stopped (shut down, or a fatal error).
    Stopped,
}

/// One shard in a [`GatewayReport`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShardReport {
    /// The shard id.
    pub id: u32,
    /// Its state.
    pub state: ShardState,
    /// The last heartbeat round trip, in milliseconds, where one was measured.
    pub latency_ms: Option<f64>,
}

/// What [`GatewayStatus::report`] answers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GatewayReport {
    /// The gateway as a whole.
    pub state: GatewayState,
    /// Shards in the whole bot (this process runs some or all of them), once known.
    pub shard_total: Option<u32>,
    /// This process's shards, by id.
    pub shards: Vec<ShardReport>,
}

impl GatewayReport {
    /// Whether every shard of this process is connected.
    pub fn is_up(&self) -> bool {
        self.state == GatewayState::Up
    }
}

#[derive(Default)]
struct Tracked {
    /// The running connection; dangling before it starts and after it is dropped.
    bot: Weak<Bot>,
    /// Whether a connection was attached at all.
    attached: bool,
    /// The shard total READY reported.
    total: Option<u32>,
    /// Shards that have been connected at least once.
    seen: BTreeSet<u32>,
}

/// Where the Discord connection reports its shards; cheap to clone, every clone sees the same.
#[derive(Clone, Default)]
pub struct GatewayStatus {
    tracked: Arc<Mutex<Tracked>>,
}

impl std::fmt::Debug for GatewayStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayStatus").finish_non_exhaustive()
    }
}

impl GatewayStatus {
    fn with<R>(&self, f: impl FnOnce(&mut Tracked) -> R) -> R {
        f(&mut self.tracked.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A new connection reports here from now on.
    pub(crate) fn attach(&self, bot: &Arc<Bot>) {
        self.with(|t| {
            *t = Tracked {
                bot: Arc::downgrade(bot),
                attached: true,
                ..Tracked::default()
            }
        });
    }

    /// READY on `shard` of `total`.
    pub(crate) fn shard_ready(&self, shard: u32, total: Option<u32>) {
        self.with(|t| {
            t.seen.insert(shard);
            if total.is_some() {
                t.total = total;
            }
        });
    }

    /// The state of every shard of this process now.
    pub async fn report(&self) -> GatewayReport {
        let (bot, attached, total, seen) =
            self.with(|t| (t.bot.upgrade(), t.attached, t.total, t.seen.clone()));
        let Some(bot) = bot else {
            return GatewayReport {
                state: if attached {
                    GatewayState::Stopped
                } else {
                    GatewayState::Starting
                },
                shard_total: total,
                shards: Vec::new(),
            };
        };
        let expected: Option<Vec<u32>> = match &bot.options.shards {
            Sharding::Fixed { count, ids } if ids.is_empty() => Some((0..*count).collect()),
            Sharding::Fixed { ids, .. } => {
                let set: BTreeSet<u32> = ids.iter().copied().collect();
                Some(set.into_iter().collect())
            }
            Sharding::Auto => total.map(|n| (0..n).collect()),
        };
        let total = match &bot.options.shards {
            Sharding::Fixed { count, .. } => Some(*count),
            Sharding::Auto => total,
        };
        if bot.state.is_stopped() {
            let shards = expected
                .unwrap_or_else(|| seen.iter().copied().collect())
                .into_iter()
                .map(|id| ShardReport {
                    id,
                    state: ShardState::Stopped,
                    latency_ms: None,
                })
                .collect();
            return GatewayReport {
                state: GatewayState::Stopped,
                shard_total: total,
                shards,
            };
        }
        let runners: BTreeMap<u32, (ConnectionStage, Option<Duration>)> = match bot.shards.get() {
            Some(manager) => manager
                .runners
                .lock()
                .await
                .iter()
                .map(|(id, info)| (id.0, (info.stage, info.latency)))
                .collect(),
            None => BTreeMap::new(),
        };
        // Before the shard count is known (automatic sharding, no READY yet), the shards that
        // have runners are all there is to report.
        let ids: Vec<u32> = expected
            .clone()
            .unwrap_or_else(|| runners.keys().copied().collect());
        let shards: Vec<ShardReport> = ids
            .into_iter()
            .map(|id| {
                let (state, latency) = match runners.get(&id) {
                    Some((stage, latency)) => (stage_state(*stage, seen.contains(&id)), *latency),
                    None if seen.contains(&id) => (ShardState::Reconnecting, None),
                    None => (ShardState::Starting, None),
                };
                ShardReport {
                    id,
                    state,
                    latency_ms: latency.map(|l| l.as_secs_f64() * 1000.0),
                }
            })
            .collect();
        let all_connected = expected.is_some()
            && !shards.is_empty()
            && shards.iter().all(|s| s.state == ShardState::Connected);
        let all_seen = expected
            .as_ref()
            .is_some_and(|ids| !ids.is_empty() && ids.iter().all(|id| seen.contains(id)));
        let state = if all_connected {
            GatewayState::Up
        } else if all_seen {
            GatewayState::Reconnecting
        } else {
            GatewayState::Starting
        };
        GatewayReport {
            state,
            shard_total: total,
            shards,
        }
    }
}

/// A runner's stage as a shard state. A runner reports `Connected` only once READY (or
/// RESUMED) has been received; before its first READY it is still starting.
fn stage_state(stage: ConnectionStage, seen: bool) -> ShardState {
    match stage {
        ConnectionStage::Connected if seen => ShardState::Connected,
        ConnectionStage::Connected => ShardState::Identifying,
        ConnectionStage::Connecting => ShardState::Connecting,
        ConnectionStage::Handshake => ShardState::Handshake,
        ConnectionStage::Identifying => ShardState::Identifying,
        ConnectionStage::Resuming => ShardState::Resuming,
        ConnectionStage::Disconnected if seen => ShardState::Reconnecting,
        ConnectionStage::Disconnected => ShardState::Starting,
        _ => ShardState::Disconnected,
    }
}
