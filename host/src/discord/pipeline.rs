//! The command pipeline shared by messages and slash commands: permission level, owner check,
//! built-ins first, then plugins through the dispatcher, then the outcome as a reply.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serenity::all::{Permissions, RoleId as SerenityRoleId};
use serenity::cache::Cache;
use serenity::gateway::ShardManager;
use zoryx_plugin_api::{
    Args, ChannelId, CommandSpec, Embed, GuildId, Message, MessageId, Permission, Source, User,
};

use super::builtins::{BuiltinCall, Builtins};
use super::rest::Rest;
use super::{BotStats, Counters, DiscordError, DiscordOptions, bump, load};
use crate::commands::args::parse_args_with_files;
use crate::guild_settings::GuildSettingsStore;
use crate::manager::Manager;
use crate::runtime::{CommandOutcome, CommandRequest, ReplySink};

/// Embed colours.
pub mod colour {
    /// Success.
    pub const GREEN: u32 = 0x2ecc71;
    /// Error.
    pub const RED: u32 = 0xe74c3c;
    /// Information.
    pub const BLUE: u32 = 0x3498db;
    /// Warning.
    pub const ORANGE: u32 = 0xe67e22;
}

/// A green, red or blue embed with a title and description.
pub fn embed(colour: u32, title: &str, description: impl Into<String>) -> Message {
    Message::new().embed(
        Embed::new()
            .title(title)
            .description(description)
            .colour(colour),
    )
}

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
}

/// Counts one piece of work in flight while alive.
pub(crate) struct InFlight<'a>(&'a tokio::sync::watch::Sender<usize>);

impl<'a> InFlight<'a> {
    pub(crate) fn new(counter: &'a tokio::sync::watch::Sender<usize>) -> Self {
        counter.send_modify(|n| *n += 1);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// One command to run, from a message or a slash command.
pub(crate) struct CommandInput {
    pub(crate) command: String,
    pub(crate) args: String,
    /// Pre-parsed values from slash options (`None` for text commands).
    pub(crate) slash_args: Option<Args>,
    pub(crate) author: User,
    /// The author's level when already known (slash interactions carry it).
    pub(crate) level: Option<Permission>,
    /// The author's role ids (for computing the level from the cache).
    pub(crate) roles: Vec<u64>,
    pub(crate) guild_id: Option<GuildId>,
    pub(crate) channel_id: ChannelId,
    pub(crate) message_id: Option<MessageId>,
    pub(crate) source: Source,
    pub(crate) prefix: String,
    /// The message's files (prefix commands), for file arguments.
    pub(crate) attachments: Vec<zoryx_plugin_api::Attachment>,
}

/// The permission level `permissions` amount to.
pub(crate) fn level_of(permissions: Permissions) -> Permission {
    if permissions.contains(Permissions::ADMINISTRATOR) {
        Permission::Administrator
    } else if permissions.intersects(Permissions::MANAGE_MESSAGES | Permissions::MANAGE_GUILD) {
        Permission::Moderator
    } else {
        Permission::Everyone
    }
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
        stats
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

    /// The author's level in `guild` from the cache (roles and ownership).
    fn level_from_cache(&self, guild: GuildId, user: u64, roles: &[u64]) -> Permission {
        level_of(self.permissions_from_cache(guild, user, roles))
    }

    /// The author's guild permissions from the cache (roles; the owner has them all).
    fn permissions_from_cache(&self, guild: GuildId, user: u64, roles: &[u64]) -> Permissions {
        let Some(cache) = self.cache.get() else {
            return Permissions::empty();
        };
        let Some(guild) = cache.guild(serenity::all::GuildId::new(guild.0)) else {
            return Permissions::empty();
        };
        if guild.owner_id.get() == user {
            return Permissions::all();
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
            .map_or(Permissions::empty(), |r| r.permissions);
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

    fn level(&self, input: &CommandInput) -> Permission {
        if let Some(level) = input.level {
            return level;
        }
        match input.guild_id {
            Some(guild) => self.level_from_cache(guild, input.author.id.0, &input.roles),
            None => Permission::Everyone,
        }
    }

    /// Runs one command and answers through `sink`. Returns whether a command ran.
    pub(crate) async fn run_command(
        self: &Arc<Self>,
        input: CommandInput,
        sink: Arc<dyn ReplySink>,
    ) -> bool {
        let _in_flight = InFlight::new(&self.in_flight);
        let is_owner = self.is_owner(input.author.id.0);
        if let Some(builtin) = self.builtins.get(&input.command) {
            return self.run_builtin(builtin, input, is_owner, sink).await;
        }
        // Only compute the level when the command needs more than Everyone.
        let (needed, default_permissions, dm) = {
            let table = self.manager.table();
            let Some(route) = table.command(&input.command) else {
                return false;
            };
            let Some(spec) = route
                .generation
                .description
                .commands
                .get(route.index as usize)
            else {
                return false;
            };
            (spec.permission, spec.default_permissions, spec.dm)
        };
        // Discord applies a slash command's DM use and default permissions itself; the prefix
        // form gets the same rules here (bot owners excepted from the permissions).
        if input.source == Source::Prefix {
            let refusal = match (input.guild_id, default_permissions) {
                (None, _) if !dm => Some(format!("`{}` only works in servers.", input.command)),
                (Some(guild), Some(wanted)) if !is_owner => {
                    let has = self.permissions_from_cache(guild, input.author.id.0, &input.roles);
                    let has = zoryx_plugin_api::Permissions(has.bits());
                    let missing = has.missing(wanted);
                    (!missing.is_empty()).then(|| {
                        format!(
                            "⛔ You need the {} permission to use `{}`.",
                            missing.names().join(", "),
                            input.command
                        )
                    })
                }
                _ => None,
            };
            if let Some(text) = refusal {
                bump(&self.counters.commands_run);
                let _ = sink.reply(Message::text(text).ephemeral()).await;
                return true;
            }
        }
        let level = match needed {
            Permission::Moderator | Permission::Administrator if !is_owner => self.level(&input),
            _ => Permission::Everyone,
        };
        let guild = input.guild_id;
        let name = input.command.clone();
        let request = CommandRequest {
            plugin: None,
            command: input.command,
            args: input.args,
            author: input.author,
            level,
            is_owner,
            guild_id: input.guild_id,
            channel_id: input.channel_id,
            message_id: input.message_id,
            source: input.source,
            prefix: input.prefix,
            attachments: input.attachments,
        };
        // Slash options arrive typed: they skip text parsing but get the same checks.
        let outcome = self
            .manager
            .dispatcher()
            .invoke_with(request, input.slash_args, Arc::clone(&sink))
            .await;
        self.answer_outcome(outcome, guild, &name, sink).await
    }

    async fn answer_outcome(
        &self,
        outcome: CommandOutcome,
        guild: Option<GuildId>,
        name: &str,
        sink: Arc<dyn ReplySink>,
    ) -> bool {
        let reply = match outcome {
            CommandOutcome::Unknown => return false,
            CommandOutcome::Done { .. } => None,
            CommandOutcome::Denied { required } => Some(
                Message::text(format!(
                    "⛔ You need {} permission to use `{name}`.",
                    level_name(required)
                ))
                .ephemeral(),
            ),
            CommandOutcome::Cooldown(left) => Some(
                Message::text(format!(
                    "⏳ `{name}` is on cooldown: try again in {}s.",
                    left.as_secs_f64().ceil().max(1.0) as u64
                ))
                .ephemeral(),
            ),
            CommandOutcome::BadArguments { error, usage } => {
                Some(usage_embed(&usage, &error.to_string()))
            }
            CommandOutcome::TimedOut { limit, .. } => Some(
                embed(
                    colour::ORANGE,
                    "Took too long",
                    format!(
                        "`{name}` did not finish within {}s, so it was stopped.",
                        limit.as_secs_f64()
                    ),
                )
                .ephemeral(),
            ),
            CommandOutcome::Failed { plugin, error, .. } => {
                tracing::warn!(plugin, command = name, %error, "command failed");
                Some(embed(colour::RED, "Command failed", error.to_string()).ephemeral())
            }
        };
        bump(&self.counters.commands_run);
        self.settings.record_command(guild, name);
        if let Some(reply) = reply {
            let _ = sink.reply(reply).await;
        }
        true
    }

    async fn run_builtin(
        self: &Arc<Self>,
        builtin: &super::builtins::Builtin,
        input: CommandInput,
        is_owner: bool,
        sink: Arc<dyn ReplySink>,
    ) -> bool {
        let spec: &CommandSpec = &builtin.spec;
        let allowed = match spec.permission {
            Permission::Everyone => true,
            Permission::Owner => is_owner,
            needed => is_owner || self.level(&input) >= needed,
        };
        bump(&self.counters.commands_run);
        self.settings.record_command(input.guild_id, &spec.name);
        if !allowed {
            if spec.permission == Permission::Owner {
                tracing::warn!(
                    user = input.author.id.0,
                    name = input.author.name,
                    command = spec.name,
                    "owner-only command refused"
                );
            }
            let reply = embed(
                colour::RED,
                "Permission denied",
                format!(
                    "`{}` is for {} only.",
                    spec.name,
                    match spec.permission {
                        Permission::Owner => "the bot owners",
                        Permission::Administrator => "administrators",
                        _ => "moderators",
                    }
                ),
            )
            .ephemeral();
            let _ = sink.reply(reply).await;
            return true;
        }
        let args = match input.slash_args {
            Some(args) => args,
            None => match parse_args_with_files(&spec.args, &input.args, &input.attachments) {
                Ok(args) => args,
                Err(error) => {
                    let _ = sink
                        .reply(usage_embed(&spec.usage(&input.prefix), &error.to_string()))
                        .await;
                    return true;
                }
            },
        };
        let call = BuiltinCall {
            bot: Arc::clone(self),
            args,
            author: input.author,
            guild_id: input.guild_id,
            channel_id: input.channel_id,
            prefix: input.prefix,
            is_owner,
        };
        let reply = match (builtin.run)(call).await {
            Ok(message) => message,
            Err(error) => embed(colour::RED, "Error", error),
        };
        let _ = sink.reply(reply).await;
        true
    }
}

/// The usage embed for bad arguments: the expected form and what was wrong.
pub fn usage_embed(usage: &str, error: &str) -> Message {
    Message::new().embed(
        Embed::new()
            .title("Invalid arguments")
            .description(format!("{error}\n\n**Usage:** `{usage}`"))
            .field("Usage", format!("`{usage}`"), false)
            .colour(colour::ORANGE),
    )
}

fn level_name(level: Permission) -> &'static str {
    match level {
        Permission::Everyone => "no special",
        Permission::Moderator => "Moderator (Manage Messages)",
        Permission::Administrator => "Administrator",
        Permission::Owner => "bot owner",
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
