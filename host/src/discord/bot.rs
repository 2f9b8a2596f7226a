//! The connection's shared state: [`Bot`] (what the event handler, the command path and the
//! built-ins share), its READY/stop [`State`], work in flight, one command's input, and what the
//! cache says about a member.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serenity::all::{Permissions as SerenityPermissions, RoleId as SerenityRoleId};
use serenity::cache::Cache;
use serenity::gateway::ShardManager;
use zoryx_plugin_api::{
    Args, Attachment, ChannelId, GuildId, MessageId, Permissions, Source, User,
};

use super::builtins::Builtins;
use super::rest::Rest;
use super::{BotStats, Counters, DiscordError, DiscordOptions, load};
use crate::gate::Standing;
use crate::guild_settings::GuildSettingsStore;
use crate::manager::Manager;

/// Connection state: READY seen, failure.
#[derive(Default)]
pub(crate) struct State {
    ready: tokio::sync::watch::Sender<bool>,
    stopped: tokio::sync::watch::Sender<bool>,
    failure: Mutex<Option<String>>,
    fatal: Mutex<Option<DiscordError>>,
}

impl State {
    pub(crate) fn set_ready(&self) {
        self.ready.send_replace(true);
    }

    pub(crate) fn set_stopped(&self, error: Option<DiscordError>) {
        if let Some(error) = error
            && let Ok(mut fatal) = self.fatal.lock()
        {
            if let Ok(mut failure) = self.failure.lock() {
                *failure = Some(error.to_string());
            }
            *fatal = Some(error);
        }
        self.stopped.send_replace(true);
        // Wake `ready()` waiters too: there will be no READY.
        self.ready.send_replace(true);
    }

    pub(crate) async fn wait_ready(&self) {
        let mut rx = self.ready.subscribe();
        let _ = rx.wait_for(|ready| *ready).await;
    }

    pub(crate) fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    pub(crate) async fn wait_stopped(&self) {
        let mut rx = self.stopped.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    pub(crate) fn failure(&self) -> Option<DiscordError> {
        if !*self.stopped.borrow() {
            return None;
        }
        match self.fatal.lock().ok().and_then(|mut f| f.take()) {
            Some(error) => Some(error),
            None => self
                .failure
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .map(DiscordError::Gateway),
        }
    }
}

/// Everything the event handler and built-ins share.
pub(crate) struct Bot {
    pub(crate) manager: Arc<Manager>,
    pub(crate) settings: Arc<dyn GuildSettingsStore>,
    pub(crate) options: DiscordOptions,
    pub(crate) rest: Rest,
    pub(crate) counters: Arc<Counters>,
    pub(crate) state: State,
    pub(crate) started: Instant,
    pub(crate) bot_id: AtomicU64,
    pub(crate) application_id: AtomicU64,
    pub(crate) builtins: Builtins,
    pub(crate) cache: OnceLock<Arc<Cache>>,
    pub(crate) shards: OnceLock<Arc<ShardManager>>,
    /// Wakes the slash registrar (READY, plugin changes).
    pub(crate) slash_wake: tokio::sync::Notify,
    /// Storage services for the owner commands.
    pub(crate) services: super::Services,
    /// Commands and interactions being handled right now (drained at shutdown).
    pub(crate) in_flight: tokio::sync::watch::Sender<usize>,
    /// The clocks of messages whose components expire.
    pub(crate) expiry: Arc<super::expiry::Expiry>,
    /// The status rotator (`status` in `config.json`).
    pub(crate) presence: super::presence::Rotator,
    /// Each shard's event and connection counts (the shard monitor's figures).
    pub(crate) shard_metrics: super::status::ShardMetrics,
    /// When shards may identify, and the sessions they resume or leave at a stop.
    pub(crate) start_hook: Arc<super::sessions::StartHook>,
    /// Each shard's last READY (saved with its session at a graceful stop).
    pub(crate) readies:
        std::sync::Mutex<std::collections::HashMap<u32, serenity::model::gateway::Ready>>,
}

/// Counts one piece of work in flight while alive.
pub(crate) struct InFlight(Arc<Bot>);

impl InFlight {
    pub(crate) fn new(bot: &Arc<Bot>) -> Self {
        bot.in_flight.send_modify(|n| *n += 1);
        Self(Arc::clone(bot))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// One command to run, from a message or a slash command.
pub(crate) struct CommandInput {
    pub(crate) command: String,
    pub(crate) args: String,
    /// Pre-parsed values from slash options (`None` for text commands).
    pub(crate) slash_args: Option<Args>,
    pub(crate) author: User,
    /// The author's guild permissions when already known (interactions carry them).
    pub(crate) permissions: Option<Permissions>,
    /// The author's role ids (role grants; the permissions from the cache).
    pub(crate) roles: Vec<u64>,
    pub(crate) guild_id: Option<GuildId>,
    pub(crate) channel_id: ChannelId,
    pub(crate) message_id: Option<MessageId>,
    pub(crate) source: Source,
    pub(crate) prefix: String,
    /// The message's files (prefix commands), for file arguments.
    pub(crate) attachments: Vec<Attachment>,
}

impl Bot {
    pub(crate) fn stats(&self) -> BotStats {
        let c = &self.counters;
        BotStats {
            uptime: self.started.elapsed(),
            guilds: self
                .cache
                .get()
                .map_or_else(|| load(&c.guilds), |cache| cache.guild_count() as u64),
            messages_seen: load(&c.messages_seen),
            commands_run: load(&c.commands_run),
            replies_sent: load(&c.replies_sent),
            replies_failed: load(&c.replies_failed),
            plugins_loaded: self.manager.table().plugins.len() as u64,
            slash_registered: load(&c.slash_registered),
        }
    }

    /// The Discord side of a plugin's [`zoryx_plugin_api::Action::Stats`]: counters, the
    /// cache's guilds, members and channels, and the shards' states and latency.
    pub(crate) async fn plugin_stats(&self) -> zoryx_plugin_api::BotStats {
        let counters = self.stats();
        let report = self.services.gateway.report().await;
        let mut stats = zoryx_plugin_api::BotStats::default();
        stats.connected = report
            .shards
            .iter()
            .any(|s| s.state == super::ShardState::Connected);
        stats.shards = u32::try_from(report.shards.len()).unwrap_or(u32::MAX);
        stats.latency_ms = report.shards.iter().find_map(|s| s.latency_ms);
        stats.guilds = counters.guilds;
        if let Some(cache) = self.cache.get() {
            for id in cache.guilds() {
                if let Some(guild) = cache.guild(id) {
                    stats.users += guild.member_count;
                    stats.channels += guild.channels.len() as u64;
                }
            }
        }
        stats.messages_seen = counters.messages_seen;
        stats.commands_run = counters.commands_run;
        stats.replies_sent = counters.replies_sent;
        stats.replies_failed = counters.replies_failed;
        stats.slash_commands = counters.slash_registered;
        stats.bot_id = self.bot_id();
        stats
    }

    /// Every shard of this process for the shard monitor: the gateway's view (state, latency),
    /// the cache's (guilds and members per shard) and the counters.
    pub(crate) async fn shard_infos(&self) -> Vec<zoryx_plugin_api::ShardInfo> {
        let report = self.services.gateway.report().await;
        let total = report.shard_total.unwrap_or(1).max(1);
        let mut per_shard: std::collections::HashMap<u32, (u64, u64)> =
            std::collections::HashMap::new();
        if let Some(cache) = self.cache.get() {
            for id in cache.guilds() {
                let shard = u32::try_from((id.get() >> 22) % u64::from(total)).unwrap_or(0);
                let members = cache.guild(id).map_or(0, |g| g.member_count);
                let entry = per_shard.entry(shard).or_default();
                entry.0 += 1;
                entry.1 += members;
            }
        }
        report
            .shards
            .iter()
            .map(|shard| {
                let mut info = zoryx_plugin_api::ShardInfo::default();
                info.id = shard.id;
                info.total = report.shard_total;
                info.state = serde_json::to_value(shard.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                info.latency_ms = shard.latency_ms;
                let (guilds, members) = per_shard.get(&shard.id).copied().unwrap_or_default();
                info.guilds = guilds;
                info.members = members;
                self.shard_metrics.fill(&mut info);
                info
            })
            .collect()
    }

    /// This cluster's figures for the shard manager, from its shards.
    pub(crate) async fn cluster_stats(
        &self,
        cluster: &crate::cluster::Cluster,
    ) -> zoryx_ipc::ClusterStats {
        crate::cluster::stats_from_shards(&self.shard_infos().await, cluster.uptime())
    }

    /// The guilds the bot is in, by name, from the cache ([`Action::Guilds`]).
    ///
    /// [`Action::Guilds`]: zoryx_plugin_api::Action::Guilds
    pub(crate) fn guild_list(&self) -> Vec<zoryx_plugin_api::BotGuild> {
        let Some(cache) = self.cache.get() else {
            return Vec::new();
        };
        let mut guilds: Vec<zoryx_plugin_api::BotGuild> = cache
            .guilds()
            .into_iter()
            .filter_map(|id| {
                let guild = cache.guild(id)?;
                Some(zoryx_plugin_api::BotGuild {
                    id: zoryx_plugin_api::GuildId(id.get()),
                    name: guild.name.clone(),
                    members: guild.member_count,
                })
            })
            .collect();
        guilds.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        guilds
    }

    /// The guilds the bot is in, from the cache.
    pub(crate) fn guild_ids(&self) -> std::collections::HashSet<u64> {
        self.cache
            .get()
            .map(|cache| cache.guilds().iter().map(|g| g.get()).collect())
            .unwrap_or_default()
    }

    /// Waits until no command is being handled, up to `limit`.
    pub(crate) async fn drain(&self, limit: Duration) {
        let mut rx = self.in_flight.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n == 0)).await;
    }

    pub(crate) fn bot_id(&self) -> u64 {
        self.bot_id.load(Ordering::Relaxed)
    }

    pub(crate) fn is_owner(&self, user: u64) -> bool {
        self.options.owners.contains(&user)
    }

    /// The gateway heartbeat latency of the first shard that measured one.
    pub(crate) async fn gateway_latency(&self) -> Option<Duration> {
        let shards = self.shards.get()?;
        let runners = shards.runners.lock().await;
        runners.values().find_map(|r| r.latency)
    }

    /// The author's guild permissions from the cache (roles; the owner has them all).
    pub(crate) fn permissions_from_cache(
        &self,
        guild: GuildId,
        user: u64,
        roles: &[u64],
    ) -> SerenityPermissions {
        let Some(cache) = self.cache.get() else {
            return SerenityPermissions::empty();
        };
        let Some(guild) = cache.guild(serenity::all::GuildId::new(guild.0)) else {
            return SerenityPermissions::empty();
        };
        if guild.owner_id.get() == user {
            return SerenityPermissions::all();
        }
        let mut ids: Vec<u64> = roles.to_vec();
        if ids.is_empty()
            && let Some(member) = guild.members.get(&serenity::all::UserId::new(user))
        {
            ids = member.roles.iter().map(|r| r.get()).collect();
        }
        let mut permissions = guild
            .roles
            .get(&SerenityRoleId::new(guild.id.get()))
            .map_or(SerenityPermissions::empty(), |r| r.permissions);
        for id in ids {
            if id == 0 {
                continue;
            }
            if let Some(role) = guild.roles.get(&SerenityRoleId::new(id)) {
                permissions |= role.permissions;
            }
        }
        permissions
    }

    /// The roles of `guild` (id, name), from the cache.
    pub(crate) fn guild_roles(&self, guild: GuildId) -> Vec<(u64, String)> {
        self.cache
            .get()
            .and_then(|cache| {
                cache.guild(serenity::all::GuildId::new(guild.0)).map(|g| {
                    g.roles
                        .values()
                        .map(|r| (r.id.get(), r.name.to_string()))
                        .collect()
                })
            })
            .unwrap_or_default()
    }

    /// `user`'s role ids in `guild` and their name: from the cache for the bot itself, else
    /// from Discord (the cache keeps no other members or users, see [`super::connect`]).
    /// Unknown (a failed request, a user who is not a member) reads as no roles and no name.
    pub(crate) async fn member_roles_and_name(
        &self,
        guild: Option<GuildId>,
        user: u64,
    ) -> (Vec<u64>, String) {
        let Some(guild) = guild else {
            let mut name = self.user_name(user);
            if name.is_empty()
                && let Ok(found) = self.rest.get(&format!("/users/{user}")).await
            {
                name = super::actions::model::user(&found).name;
            }
            return (Vec::new(), name);
        };
        let cached = self.cache.get().and_then(|cache| {
            let guild = cache.guild(serenity::all::GuildId::new(guild.0))?;
            let member = guild.members.get(&serenity::all::UserId::new(user))?;
            Some((
                member.roles.iter().map(|r| r.get()).collect(),
                member.user.name.clone(),
            ))
        });
        if let Some(found) = cached {
            return found;
        }
        match self
            .rest
            .get(&format!("/guilds/{}/members/{user}", guild.0))
            .await
        {
            Ok(member) => {
                let member = super::actions::model::member(&member, guild);
                (member.roles.iter().map(|r| r.0).collect(), member.user.name)
            }
            Err(error) => {
                tracing::debug!(%error, guild = guild.0, user, "member not fetched");
                (Vec::new(), String::new())
            }
        }
    }

    /// `user`'s name, from the cache: the bot's own, or a user the cache holds (empty when
    /// unknown).
    pub(crate) fn user_name(&self, user: u64) -> String {
        self.cache
            .get()
            .and_then(|cache| {
                let me = cache.current_user();
                if me.id.get() == user {
                    return Some(me.name.clone());
                }
                drop(me);
                cache
                    .user(serenity::all::UserId::new(user))
                    .map(|u| u.name.clone())
            })
            .unwrap_or_default()
    }

    /// Every command the bot answers: the built-ins, then the plugins' (by name).
    pub(crate) fn command_specs(&self) -> Vec<zoryx_plugin_api::CommandSpec> {
        let mut specs: Vec<_> = self.builtins.iter().map(|b| b.spec.clone()).collect();
        let table = self.manager.table();
        for plugin in table.plugins.values() {
            for spec in &plugin.description.commands {
                if self.builtins.get(&spec.name).is_none() && !spec.name.contains(' ') {
                    specs.push(spec.clone());
                }
            }
        }
        specs
    }

    /// Whether `user` owns `guild`, by the cache.
    pub(crate) fn is_guild_owner(&self, guild: GuildId, user: u64) -> bool {
        self.cache
            .get()
            .and_then(|cache| {
                cache
                    .guild(serenity::all::GuildId::new(guild.0))
                    .map(|g| g.owner_id.get() == user)
            })
            .unwrap_or(false)
    }

    /// What the gate asks about `user` in `guild`: their permissions (`known` when the
    /// interaction carried them, else from the cache and `roles`) and whether they own it.
    pub(crate) fn standing(
        &self,
        guild: Option<GuildId>,
        user: u64,
        roles: &[u64],
        known: Option<Permissions>,
    ) -> Standing {
        let Some(guild) = guild else {
            return Standing::default();
        };
        let guild_owner = self.is_guild_owner(guild, user);
        let permissions = known
            .unwrap_or_else(|| Permissions(self.permissions_from_cache(guild, user, roles).bits()));
        Standing {
            permissions,
            guild_owner,
        }
    }
}

/// [`crate::runtime::services::StatsSource`] of a running connection; a stopped one (dropped
/// bot) answers zeros.
pub(crate) struct ConnectionStats(pub(crate) std::sync::Weak<Bot>);

impl crate::runtime::services::StatsSource for ConnectionStats {
    fn discord_stats(&self) -> futures::future::BoxFuture<'static, zoryx_plugin_api::BotStats> {
        let bot = self.0.upgrade();
        Box::pin(async move {
            match bot {
                Some(bot) => bot.plugin_stats().await,
                None => zoryx_plugin_api::BotStats::default(),
            }
        })
    }
}
