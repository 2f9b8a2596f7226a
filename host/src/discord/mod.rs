//! The Discord layer: the serenity connection, messages and interactions in, replies out.
//!
//! [`start`] connects (through [`connect`]), and from then on:
//! - gateway events go through [`events`] to the command pipeline ([`pipeline`]) and, as
//!   plugin-api [`Event`](zoryx_plugin_api::Event)s, to plugin listeners;
//! - prefixes are resolved by [`prefix`] from the [`GuildSettingsStore`] cache;
//! - commands run through the [`Dispatcher`](crate::runtime::Dispatcher); replies go out through
//!   the sinks in [`reply`], plugin `send`s through [`outbox`], all over [`rest`], which honours
//!   Discord's rate limits itself;
//! - slash commands are registered by bulk overwrite ([`slash`]) and re-registered when plugins
//!   change;
//! - the host's own commands live in [`builtins`];
//! - each shard's state, for the health endpoint, is kept by [`status`];
//! - the bot's own status (presence) and its rotation, by `presence`.
//!
//! Serenity types stay inside this module.

mod actions;
mod bot;
pub mod builtins;
mod catalogue;
pub mod connect;
pub mod convert;
pub mod embeds;
pub mod events;
mod expiry;
mod introspect;
mod market;
pub mod operate;
pub mod outbox;
pub mod pipeline;
pub mod prefix;
mod presence;
pub mod reply;
pub mod rest;
pub mod sessions;
pub mod slash;
pub mod status;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::config::{BotEnv, CoreConfig};
use crate::guild_settings::GuildSettingsStore;
use crate::manager::Manager;

pub use status::{
    GatewayReport, GatewayState, GatewayStatus, GuildSummary, ShardReport, ShardState,
};

/// The default [`DiscordOptions::defer_after`].
pub const DEFER_AFTER: Duration = Duration::from_millis(2500);

/// How the gateway connection is sharded.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Sharding {
    /// As many shards as Discord recommends (`GET /gateway/bot`), all in this process.
    #[default]
    Auto,
    /// `count` shards in total, of which this process runs `ids`.
    Fixed {
        /// Total shards.
        count: u32,
        /// The shards run here (all of `0..count` when empty).
        ids: Vec<u32>,
    },
}

/// Everything [`start`] needs.
#[derive(Clone)]
pub struct DiscordOptions {
    /// The bot token.
    pub token: String,
    /// Where Discord is (`http://127.0.0.1:PORT` for the simulator); `None` is discord.com.
    pub api_base: Option<String>,
    /// Where Discord's CDN is (the simulator's origin in tests); `None` is
    /// `https://cdn.discordapp.com`.
    pub cdn_base: Option<String>,
    /// The gateway to connect to instead of the one `GET /gateway/bot` names (a gateway proxy);
    /// `None`: Discord's answer.
    pub gateway_url: Option<String>,
    /// The gateway queue shards ask before identifying (`discord.gateway_queue`); `None`: the
    /// host spaces identifies itself by Discord's limits.
    pub gateway_queue: Option<String>,
    /// Where shards' sessions are saved on a graceful stop and resumed from on the next start
    /// (`discord.resume_sessions` with a data folder); `None`: every start identifies.
    pub sessions_file: Option<std::path::PathBuf>,
    /// Bot owners (`BOT_OWNER_ID` first, then `owner_ids`).
    pub owners: Vec<u64>,
    /// Sharding.
    pub shards: Sharding,
    /// Register slash commands to this guild only instead of globally.
    pub test_guild_id: Option<u64>,
    /// The default prefix.
    pub prefix: String,
    /// Whether `@Bot command` works unless a guild says otherwise.
    pub allow_mention_prefix: bool,
    /// The slash command limiter: (enabled, warning threshold, safe limit).
    pub slash_limits: SlashLimits,
    /// How long plugin changes must be quiet before slash commands are re-registered.
    pub slash_debounce: Duration,
    /// How long an interaction handler may work before the host defers the response (Discord
    /// wants an answer within 3 s).
    pub defer_after: Duration,
    /// The bot's status (`status` in `config.json`), validated.
    pub status: crate::config::StatusConfig,
}

/// The slash command limiter settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlashLimits {
    /// Whether the limiter applies at all.
    pub enabled: bool,
    /// Warn from this many commands on.
    pub warning_threshold: u32,
    /// From this many commands on, further commands stay prefix-only.
    pub safe_limit: u32,
    /// The most the bot may register (`slash_limiter.max_limit`, Discord's 100 at most);
    /// applies even with the limiter off.
    pub max_limit: u32,
}

impl Default for SlashLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            warning_threshold: 90,
            safe_limit: 95,
            max_limit: 100,
        }
    }
}

impl std::fmt::Debug for DiscordOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordOptions")
            .field("token", &"<redacted>")
            .field("api_base", &self.api_base)
            .field("cdn_base", &self.cdn_base)
            .field("gateway_url", &self.gateway_url)
            .field("gateway_queue", &self.gateway_queue)
            .field("sessions_file", &self.sessions_file)
            .field("owners", &self.owners)
            .field("shards", &self.shards)
            .field("test_guild_id", &self.test_guild_id)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl DiscordOptions {
    /// Options for `token` with the defaults (discord.com, automatic sharding, prefix `!`).
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            api_base: None,
            cdn_base: None,
            gateway_url: None,
            gateway_queue: None,
            sessions_file: None,
            owners: Vec::new(),
            shards: Sharding::Auto,
            test_guild_id: None,
            prefix: "!".to_owned(),
            allow_mention_prefix: true,
            slash_limits: SlashLimits::default(),
            slash_debounce: Duration::from_millis(500),
            defer_after: DEFER_AFTER,
            status: crate::config::StatusConfig::default(),
        }
    }

    /// Saves shards' sessions in `data_dir` at a graceful stop and resumes them at the next
    /// start, unless `discord.resume_sessions` is off.
    pub fn keep_sessions_in(&mut self, config: &CoreConfig, data_dir: &std::path::Path) {
        self.sessions_file = config
            .discord
            .resume_sessions
            .then(|| data_dir.join(sessions::FILE_NAME));
    }

    /// The bot owners: `BOT_OWNER_ID` first, then `owner_ids`.
    pub fn owners_of(config: &CoreConfig, env: &BotEnv) -> Vec<u64> {
        let mut owners: Vec<u64> = env.owner_id.into_iter().collect();
        for id in &config.owner_ids {
            if !owners.contains(id) {
                owners.push(*id);
            }
        }
        owners
    }

    /// Options from `config.json` and the environment (the environment wins where both speak).
    pub fn from_config(config: &CoreConfig, env: &BotEnv) -> Result<Self, DiscordError> {
        let token = env
            .token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or(DiscordError::NoToken)?;
        let owners = Self::owners_of(config, env);
        let shards = match (env.shard_count, &env.shard_ids) {
            (Some(count), Some(ids)) => Sharding::Fixed {
                count,
                ids: ids.clone(),
            },
            (Some(count), None) => Sharding::Fixed {
                count,
                ids: Vec::new(),
            },
            _ => Sharding::Auto,
        };
        let limiter = &config.slash_limiter;
        Ok(Self {
            token: token.trim().to_owned(),
            api_base: env
                .api_base
                .clone()
                .or_else(|| config.discord.api_base.clone())
                .filter(|b| !b.trim().is_empty()),
            cdn_base: env
                .cdn_base
                .clone()
                .or_else(|| config.discord.cdn_base.clone())
                .filter(|b| !b.trim().is_empty()),
            gateway_url: env
                .gateway_url
                .clone()
                .or_else(|| config.discord.gateway_url.clone())
                .filter(|b| !b.trim().is_empty()),
            gateway_queue: env
                .gateway_queue
                .clone()
                .or_else(|| config.discord.gateway_queue.clone())
                .filter(|b| !b.trim().is_empty()),
            // The caller knows the data folder: see `with_data_dir`.
            sessions_file: None,
            owners,
            shards,
            test_guild_id: config.discord.test_guild_id,
            prefix: config.prefix.clone(),
            allow_mention_prefix: config.allow_mention_prefix,
            slash_limits: SlashLimits {
                enabled: config.framework.slash_command_limiter(),
                warning_threshold: limiter.warning_threshold,
                safe_limit: limiter.safe_limit,
                max_limit: limiter.max_limit,
            },
            slash_debounce: Duration::from_millis(500),
            defer_after: DEFER_AFTER,
            status: config.status.clone(),
        })
    }
}

/// Why the Discord connection could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    /// No `DISCORD_TOKEN`.
    #[error("no bot token: set DISCORD_TOKEN (in the environment or .env)")]
    NoToken,
    /// Discord refused the token.
    #[error(
        "Discord refused the bot token (401 / close 4004): check DISCORD_TOKEN; copy it again from the Developer Portal's Bot page"
    )]
    InvalidToken,
    /// A privileged intent the bot asks for is not enabled for the application.
    #[error(
        "Discord refused the gateway intents (close 4014 \"Disallowed intent(s)\"): the bot asks for the privileged {}; enable {} in the Discord Developer Portal (https://discord.com/developers/applications → your application → Bot → Privileged Gateway Intents), save, then restart",
        privileged.join(" and "),
        if privileged.len() == 1 { "it" } else { "them" }
    )]
    DisallowedIntents {
        /// The privileged intents asked for, as `"Portal label" (NAME)`.
        privileged: Vec<String>,
    },
    /// Sharding settings Discord would not accept.
    #[error("sharding: {0}")]
    Sharding(String),
    /// A REST call failed.
    #[error("Discord REST: {0}")]
    Rest(#[from] rest::RestError),
    /// The gateway client failed.
    #[error("Discord gateway: {0}")]
    Gateway(String),
}

/// Counters the `stats` command and the benchmark read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BotStats {
    /// Time since [`start`].
    pub uptime: Duration,
    /// Guilds the bot is in.
    pub guilds: u64,
    /// Messages seen (not counting bots').
    pub messages_seen: u64,
    /// Commands run (prefix and slash, built-in and plugin).
    pub commands_run: u64,
    /// Replies and sends that reached Discord.
    pub replies_sent: u64,
    /// Replies and sends that failed.
    pub replies_failed: u64,
    /// Plugins loaded.
    pub plugins_loaded: u64,
    /// Slash commands in the last successful registration.
    pub slash_registered: u64,
}

/// Live counters shared by the pipeline.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) guilds: AtomicU64,
    pub(crate) messages_seen: AtomicU64,
    pub(crate) commands_run: AtomicU64,
    pub(crate) replies_sent: AtomicU64,
    pub(crate) replies_failed: AtomicU64,
    pub(crate) slash_registered: AtomicU64,
}

/// The running connection.
pub struct DiscordHandle {
    bot: Arc<bot::Bot>,
    client: tokio::task::JoinHandle<()>,
    shard_manager: Arc<serenity::gateway::ShardManager>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for DiscordHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordHandle").finish_non_exhaustive()
    }
}

impl DiscordHandle {
    /// Waits until the first READY (or until the client stopped, see [`DiscordHandle::stopped`]).
    pub async fn ready(&self) {
        self.bot.state.wait_ready().await;
    }

    /// Waits up to `timeout` for READY; the client's error if it stopped first.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), DiscordError> {
        match tokio::time::timeout(timeout, self.ready()).await {
            Ok(()) => match self.bot.state.failure() {
                Some(error) => Err(error),
                None => Ok(()),
            },
            Err(_) => Err(DiscordError::Gateway(format!(
                "no READY within {}s",
                timeout.as_secs()
            ))),
        }
    }

    /// Resolves when the client stops, with the reason.
    pub async fn stopped(&self) -> DiscordError {
        self.bot.state.wait_stopped().await;
        self.bot
            .state
            .failure()
            .unwrap_or_else(|| DiscordError::Gateway("the client stopped".to_owned()))
    }

    /// Current counters.
    pub fn stats(&self) -> BotStats {
        self.bot.stats()
    }

    /// Stops taking commands (disconnects every shard), lets commands already running finish
    /// (up to 10 s), then stops background work. With a sessions file
    /// ([`DiscordOptions::sessions_file`]) the shards leave their sessions resumable and the
    /// sessions are saved for the next start.
    pub async fn shutdown(self) {
        match self.bot.options.sessions_file.clone() {
            Some(path) => {
                // 4000 ("unknown error"): Discord keeps the session for a RESUME; 1000 would
                // end it.
                let connected: Vec<u32> = self
                    .shard_manager
                    .runners
                    .lock()
                    .await
                    .iter()
                    .filter(|(_, runner)| {
                        runner.stage == serenity::gateway::ConnectionStage::Connected
                    })
                    .map(|(id, _)| id.0)
                    .collect();
                self.shard_manager.shutdown_all_with_code(4000).await;
                // serenity's own wait for each shard's close is not to be relied on after a
                // shard was restarted; the sessions themselves say when the shards are closed.
                self.bot
                    .start_hook
                    .wait_closed(&connected, Duration::from_secs(5))
                    .await;
                self.save_sessions(path).await;
            }
            None => self.shard_manager.shutdown_all().await,
        }
        self.bot.drain(Duration::from_secs(10)).await;
        for task in &self.background {
            task.abort();
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client).await;
    }
}

impl DiscordHandle {
    /// Writes the sessions the shards were closed with, and the cache, for the next start.
    async fn save_sessions(&self, path: std::path::PathBuf) {
        let Some(cache) = self.bot.cache.get().cloned() else {
            return;
        };
        let closed = self.bot.start_hook.closed_sessions();
        let readies = self
            .bot
            .readies
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        let token = self.bot.options.token.clone();
        let file = path.clone();
        let saved = tokio::task::spawn_blocking(move || {
            sessions::save(&file, &token, &closed, &readies, &cache)
        })
        .await;
        match saved {
            Ok(Ok(0)) => tracing::info!("no gateway session to save"),
            Ok(Ok(shards)) => tracing::info!(
                shards,
                path = %path.display(),
                "gateway sessions saved: the next start resumes them"
            ),
            Ok(Err(error)) => tracing::warn!(%error, "gateway sessions not saved"),
            Err(error) => tracing::warn!(%error, "gateway sessions not saved"),
        }
    }
}

/// The storage services the owner commands report on (`atomicstats`, `dbstats`, ...); each is
/// optional, and a command whose service is absent says so.
#[derive(Clone, Default)]
pub struct Services {
    /// The atomic file store (`atomicstats`, `atomictest`, `cachestats`, `integritycheck`).
    pub atomic: Option<Arc<crate::storage::atomic::AtomicStore>>,
    /// The SQLite settings store and its databases (`dbstats`, `integritycheck`, `cleanup`,
    /// the hourly orphan cleanup).
    pub db: Option<Arc<crate::storage::db::SqliteSettings>>,
    /// The data folder (`atomictest` writes its probe files there).
    pub data_dir: Option<std::path::PathBuf>,
    /// Where the connection reports its shards' states (the health endpoint reads it).
    pub gateway: GatewayStatus,
    /// Files and folders `integritycheck` checks besides the data and extensions folders
    /// (the config file, the logs folder).
    pub paths: Vec<crate::storage::db::report::PathCheck>,
    /// Framework diagnostics (`fw_*` commands).
    pub diagnostics: Option<Arc<crate::diagnostics::Diagnostics>>,
    /// The shard manager (`Host::clusters`, `ipc_status`, `broadcast`); `None` when it is off.
    /// The connection publishes this cluster's figures to it.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("atomic", &self.atomic.is_some())
            .field("db", &self.db.is_some())
            .field("data_dir", &self.data_dir)
            .field("gateway", &self.gateway)
            .field("paths", &self.paths)
            .field("diagnostics", &self.diagnostics.is_some())
            .field("cluster", &self.cluster)
            .finish()
    }
}

/// Connects to Discord and starts serving: commands, events, slash registration, the outbox.
/// Returns once the client is spawned (the token is checked first); await
/// [`DiscordHandle::ready`] for READY. The storage owner commands report "not available";
/// use [`start_with`] to give them their services.
pub async fn start(
    manager: Arc<Manager>,
    settings: Arc<dyn GuildSettingsStore>,
    options: DiscordOptions,
) -> Result<DiscordHandle, DiscordError> {
    connect::start(manager, settings, options, Services::default()).await
}

/// As [`start`], with the storage services for the owner commands and the hourly cleanup.
pub async fn start_with(
    manager: Arc<Manager>,
    settings: Arc<dyn GuildSettingsStore>,
    options: DiscordOptions,
    services: Services,
) -> Result<DiscordHandle, DiscordError> {
    let cluster = services.cluster.clone();
    let mut handle = connect::start(manager, settings, options, services).await?;
    if let Some(cluster) = cluster {
        let bot = Arc::downgrade(&handle.bot);
        handle
            .background
            .push(tokio::spawn(publish_cluster_stats(bot, cluster)));
    }
    Ok(handle)
}

/// Publishes this cluster's figures to the shard manager once the bot is ready, then every
/// `cluster.stats_interval_seconds`, as the seed's `sync_stats` loop does.
async fn publish_cluster_stats(
    bot: std::sync::Weak<bot::Bot>,
    cluster: Arc<crate::cluster::Cluster>,
) {
    if let Some(ready) = bot.upgrade() {
        ready.state.wait_ready().await;
    }
    let mut tick = tokio::time::interval(cluster.stats_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(bot) = bot.upgrade() else {
            return;
        };
        let stats = bot.cluster_stats(&cluster).await;
        drop(bot);
        cluster.publish(stats).await;
    }
}

pub(crate) fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
