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

/// One guild in [`GatewayStatus::guilds`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GuildSummary {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its member count.
    pub members: u64,
    /// Its channels the cache holds.
    pub channels: usize,
    /// Its owner.
    pub owner_id: u64,
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

    /// The connection's counters, while one is attached and running.
    pub fn stats(&self) -> Option<super::BotStats> {
        let bot = self.with(|t| t.bot.upgrade())?;
        Some(bot.stats())
    }

    /// The running connection, if one is attached and not dropped.
    pub(crate) fn running(&self) -> Option<Arc<Bot>> {
        self.with(|t| t.bot.upgrade())
    }

    /// The guilds the bot is in, from the gateway cache, by name.
    pub fn guilds(&self) -> Vec<GuildSummary> {
        let Some(cache) = self
            .with(|t| t.bot.upgrade())
            .and_then(|b| b.cache.get().cloned())
        else {
            return Vec::new();
        };
        let mut guilds: Vec<GuildSummary> = cache
            .guilds()
            .into_iter()
            .filter_map(|id| {
                let guild = cache.guild(id)?;
                Some(GuildSummary {
                    id: id.get(),
                    name: guild.name.clone(),
                    members: guild.member_count,
                    channels: guild.channels.len(),
                    owner_id: guild.owner_id.get(),
                })
            })
            .collect();
        guilds.sort_by_key(|g| g.name.to_lowercase());
        guilds
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

/// What the shard monitor counts of a shard's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventFamily {
    Messages,
    Interactions,
    Members,
    Reactions,
    Voice,
    Guilds,
    Other,
}

impl EventFamily {
    const ALL: [Self; 7] = [
        Self::Messages,
        Self::Interactions,
        Self::Members,
        Self::Reactions,
        Self::Voice,
        Self::Guilds,
        Self::Other,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            Self::Interactions => "interactions",
            Self::Members => "members",
            Self::Reactions => "reactions",
            Self::Voice => "voice",
            Self::Guilds => "guilds",
            Self::Other => "other",
        }
    }
}

/// One shard's counters since the start (or the last reset): atomics, so counting an event
/// costs an increment.
#[derive(Debug, Default)]
struct ShardCounters {
    events: [std::sync::atomic::AtomicU64; 7],
    last_event_ms: std::sync::atomic::AtomicU64,
    connects: std::sync::atomic::AtomicU64,
    disconnects: std::sync::atomic::AtomicU64,
    resumes: std::sync::atomic::AtomicU64,
    /// Disconnections since the last time it was connected.
    failing: std::sync::atomic::AtomicU64,
    connected_since_ms: std::sync::atomic::AtomicU64,
    last_disconnect_ms: std::sync::atomic::AtomicU64,
    /// Whether it is connected as far as the counts know.
    up: std::sync::atomic::AtomicBool,
}

impl ShardCounters {
    fn lost(&self, now: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.disconnects.fetch_add(1, Relaxed);
        self.last_disconnect_ms.store(now, Relaxed);
        self.connected_since_ms.store(0, Relaxed);
    }
}

/// Every shard's counters, for the shard monitor (`Host::shards`).
#[derive(Debug, Default)]
pub(crate) struct ShardMetrics {
    shards: std::sync::RwLock<BTreeMap<u32, Arc<ShardCounters>>>,
}

impl ShardMetrics {
    fn shard(&self, id: u32) -> Arc<ShardCounters> {
        if let Some(found) = self
            .shards
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Arc::clone(found);
        }
        Arc::clone(
            self.shards
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(id)
                .or_default(),
        )
    }

    /// Counts an event of `family` on `shard`.
    pub(crate) fn event(&self, shard: u32, family: EventFamily) {
        use std::sync::atomic::Ordering::Relaxed;
        let counters = self.shard(shard);
        counters.events[family as usize].fetch_add(1, Relaxed);
        counters
            .last_event_ms
            .store(crate::clock::now_ms(), Relaxed);
    }

    /// A shard's connection moved from `old` to `new`: leaving Connected is a disconnection;
    /// falling back to Disconnected before reaching Connected again is a failed attempt.
    pub(crate) fn stage(&self, shard: u32, old: ConnectionStage, new: ConnectionStage) {
        use std::sync::atomic::Ordering::Relaxed;
        let counters = self.shard(shard);
        let now = crate::clock::now_ms();
        if new == ConnectionStage::Connected {
            // Connected again without having been seen to leave: a drop serenity reported
            // only by its reconnection.
            if counters.up.swap(true, Relaxed) {
                counters.lost(now);
            }
            counters.connects.fetch_add(1, Relaxed);
            counters.failing.store(0, Relaxed);
            counters.connected_since_ms.store(now, Relaxed);
        } else if old == ConnectionStage::Connected || counters.up.load(Relaxed) {
            if counters.up.swap(false, Relaxed) {
                counters.lost(now);
            }
        } else if new == ConnectionStage::Disconnected {
            counters.failing.fetch_add(1, Relaxed);
        }
    }

    /// A shard resumed its session (so it had lost its connection, seen or not).
    pub(crate) fn resumed(&self, shard: u32) {
        use std::sync::atomic::Ordering::Relaxed;
        let counters = self.shard(shard);
        let now = crate::clock::now_ms();
        // Not yet counted as lost (RESUMED came before the stage update): counted now, and the
        // coming Connected is then a connection, not a second loss.
        if counters.up.load(Relaxed)
            && counters.last_disconnect_ms.load(Relaxed) < counters.connected_since_ms.load(Relaxed)
        {
            counters.lost(now);
            counters.up.store(false, Relaxed);
        }
        counters.resumes.fetch_add(1, Relaxed);
        counters.failing.store(0, Relaxed);
    }

    /// Forgets the counts of `shard` (every shard with `None`); the connection state stays.
    pub(crate) fn reset(&self, shard: Option<u32>) {
        use std::sync::atomic::Ordering::Relaxed;
        let shards = self.shards.read().unwrap_or_else(PoisonError::into_inner);
        for (id, counters) in shards.iter() {
            if shard.is_some_and(|s| s != *id) {
                continue;
            }
            for event in &counters.events {
                event.store(0, Relaxed);
            }
            for counter in [
                &counters.connects,
                &counters.disconnects,
                &counters.resumes,
                &counters.failing,
                &counters.last_disconnect_ms,
            ] {
                counter.store(0, Relaxed);
            }
        }
    }

    /// Fills in the counters of `info`.
    pub(crate) fn fill(&self, info: &mut zoryx_plugin_api::ShardInfo) {
        use std::sync::atomic::Ordering::Relaxed;
        let counters = self.shard(info.id);
        info.events = EventFamily::ALL
            .iter()
            .map(|f| {
                (
                    f.name().to_owned(),
                    counters.events[*f as usize].load(Relaxed),
                )
            })
            .collect();
        let ms = |c: &std::sync::atomic::AtomicU64| Some(c.load(Relaxed)).filter(|v| *v > 0);
        info.last_event_unix_ms = ms(&counters.last_event_ms);
        info.connected_since_unix_ms = ms(&counters.connected_since_ms);
        info.last_disconnect_unix_ms = ms(&counters.last_disconnect_ms);
        info.connects = counters.connects.load(Relaxed);
        info.disconnects = counters.disconnects.load(Relaxed);
        info.resumes = counters.resumes.load(Relaxed);
        info.failing = counters.failing.load(Relaxed);
    }
}
