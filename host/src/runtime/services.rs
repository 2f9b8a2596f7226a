//! The host services behind a plugin's [`HostVtable`]: logging, config, time, messages, events
//! and storage.

use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use abi_stable::prefix_type::WithMetadata;
use abi_stable::std_types::{RErr, ROk, ROption, RResult, RStr, RString};
use async_ffi::FfiFuture;
use futures::future::BoxFuture;
use zoryx_plugin_api::ffi::host_vtable::{ScopeFfi, level};
use zoryx_plugin_api::ffi::types::{ErrorFfi, MessageFfi};
use zoryx_plugin_api::ffi::{CallData, HostData, HostHandle, HostVtable, HostVtableRef};
use zoryx_plugin_api::{
    Action, BotStats, CallAction, ChannelId, CommandInfo, Message, MessageId, Outcome, PluginError,
};

use super::bridge::{host_future, host_task};
use super::call::{call_act, call_state, into_call_data, release_call_data};
use super::dispatch::{Dispatcher, Limits};
use super::pool::{PluginPool, PoolOptions};
use crate::http::HttpService;
use crate::storage::plugin::PluginStorage;
use crate::storage::plugin::sql::Outcome as SqlOutcome;

/// The Discord side of the bot's statistics ([`Action::Stats`]): the connection fills in
/// guilds, users, channels, shards, latency and its counters; the host adds the rest.
pub trait StatsSource: Send + Sync {
    /// The statistics the Discord connection knows.
    fn discord_stats(&self) -> BoxFuture<'static, BotStats>;
}

/// Makes one-time login links for the web dashboard; the running dashboard registers one
/// ([`Shared::set_login_links`]), so the console can ask for a new link.
pub trait LoginLinks: Send + Sync {
    /// A new one-time login link for the first bot owner.
    fn login_link(&self) -> Result<String, String>;
}

/// Where plugin messages to channels, and every other request of a plugin to Discord, go.
pub trait Outbox: Send + Sync {
    /// Sends `message` to `channel` on behalf of `plugin`.
    fn send(
        &self,
        plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>>;

    /// Carries out `action` for `plugin` (edit, delete, guild structure, moderation...). The
    /// messages in it were checked against Discord's limits already. Without a Discord
    /// connection, nothing can be done but sending ([`Action::Send`], a message the 1.0 layout
    /// cannot carry, goes where [`Outbox::send`] sends).
    fn act(
        &self,
        plugin: &str,
        action: Action,
    ) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        if let Action::Send { channel, message } = action {
            let send = self.send(plugin, channel, message);
            return Box::pin(async move {
                send.await
                    .map(|id| Outcome::Id(id.0))
                    .map_err(PluginError::Host)
            });
        }
        let error = PluginError::NotAvailable(format!(
            "{} (there is no Discord connection)",
            action.describe()
        ));
        Box::pin(async move { Err(error) })
    }
}

/// An outbox that logs messages; used until a Discord connection provides a real one.
#[derive(Debug, Default)]
pub struct LogOutbox {
    next_id: std::sync::atomic::AtomicU64,
}

impl Outbox for LogOutbox {
    fn send(
        &self,
        plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>> {
        let files: Vec<String> = message
            .files
            .iter()
            .map(|f| format!("{} ({} bytes)", f.name, f.bytes.len()))
            .collect();
        tracing::info!(plugin, channel = channel.0, content = ?message.content, embeds = message.embeds.len(), files = ?files, "message to channel");
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        Box::pin(async move { Ok(MessageId(id)) })
    }
}

/// Where a plugin's `emit` goes: the host's hooks (the dispatcher), or the host across a
/// socket (an isolated plugin's worker).
pub trait Emitter: Send + Sync {
    /// Runs every hook on `name`; resolves to how many ran.
    fn emit(
        &self,
        name: String,
        payload: serde_json::Value,
    ) -> BoxFuture<'static, Result<u32, String>>;
}

/// One storage operation of a plugin, as the host functions receive it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StorageOp {
    /// Read a key-value key (`guild` `None`: global).
    KvGet { guild: Option<u64>, key: String },
    /// Write a key-value key (JSON text).
    KvSet {
        guild: Option<u64>,
        key: String,
        value: String,
    },
    /// Delete a key-value key.
    KvDelete { guild: Option<u64>, key: String },
    /// Key-value keys starting with `prefix`.
    KvKeys { guild: Option<u64>, prefix: String },
    /// One SQL statement in a guild's database; `rows`: a query returning rows.
    Sql {
        guild: u64,
        sql: String,
        params: String,
        rows: bool,
    },
    /// Read a JSON file.
    FileRead { path: String },
    /// Write a JSON file.
    FileWrite { path: String, value: String },
    /// Delete a file.
    FileDelete { path: String },
    /// List a folder.
    FileList { dir: String },
}

/// The result of a [`StorageOp`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StorageValue {
    /// Done, nothing to return.
    Unit,
    /// Whether something existed.
    Flag(bool),
    /// A value as JSON text, if there was one.
    Text(Option<String>),
    /// Names (keys, files).
    Names(Vec<String>),
    /// Rows changed by a statement.
    Changed(u64),
    /// Rows read, as a JSON array of objects, and how many.
    Rows { json: String, count: u64 },
}

/// The storage behind a plugin's key-value, SQL and file functions: the host's
/// [`PluginStorage`], or the host across a socket (an isolated plugin's worker). Errors are the
/// text the plugin sees.
pub trait StorageService: Send + Sync {
    /// Runs `op` for `plugin`.
    fn run(&self, plugin: &str, op: StorageOp) -> BoxFuture<'static, Result<StorageValue, String>>;
}

impl StorageService for Arc<PluginStorage> {
    fn run(&self, plugin: &str, op: StorageOp) -> BoxFuture<'static, Result<StorageValue, String>> {
        let storage = Arc::clone(self);
        let plugin = plugin.to_owned();
        Box::pin(async move {
            let result: Result<StorageValue, crate::storage::plugin::StorageError> = async {
                let value = match op {
                    StorageOp::KvGet { guild, key } => {
                        StorageValue::Text(storage.kv_get(&plugin, guild, &key).await?)
                    }
                    StorageOp::KvSet { guild, key, value } => {
                        storage.kv_set(&plugin, guild, &key, &value).await?;
                        StorageValue::Unit
                    }
                    StorageOp::KvDelete { guild, key } => {
                        StorageValue::Flag(storage.kv_delete(&plugin, guild, &key).await?)
                    }
                    StorageOp::KvKeys { guild, prefix } => {
                        StorageValue::Names(storage.kv_keys(&plugin, guild, &prefix).await?)
                    }
                    StorageOp::Sql {
                        guild,
                        sql,
                        params,
                        rows,
                    } => match storage.sql(&plugin, guild, &sql, &params, rows).await? {
                        SqlOutcome::Changed(n) => StorageValue::Changed(n),
                        SqlOutcome::Rows(rows) => {
                            let count = rows.len() as u64;
                            let rows: Vec<serde_json::Value> =
                                rows.into_iter().map(serde_json::Value::Object).collect();
                            StorageValue::Rows {
                                json: serde_json::Value::from(rows).to_string(),
                                count,
                            }
                        }
                    },
                    StorageOp::FileRead { path } => {
                        StorageValue::Text(storage.file_read(&plugin, &path).await?)
                    }
                    StorageOp::FileWrite { path, value } => {
                        storage.file_write(&plugin, &path, &value).await?;
                        StorageValue::Unit
                    }
                    StorageOp::FileDelete { path } => {
                        StorageValue::Flag(storage.file_delete(&plugin, &path).await?)
                    }
                    StorageOp::FileList { dir } => {
                        StorageValue::Names(storage.file_list(&plugin, &dir).await?)
                    }
                };
                Ok(value)
            }
            .await;
            result.map_err(|e| e.to_string())
        })
    }
}

/// Services shared by every plugin.
pub struct Shared {
    config: arc_swap::ArcSwap<serde_json::Value>,
    outbox: arc_swap::ArcSwap<Box<dyn Outbox>>,
    dispatcher: OnceLock<Weak<Dispatcher>>,
    emitter: arc_swap::ArcSwapOption<Box<dyn Emitter>>,
    storage: arc_swap::ArcSwapOption<Box<dyn StorageService>>,
    local_storage: arc_swap::ArcSwapOption<PluginStorage>,
    limits: arc_swap::ArcSwap<Limits>,
    pool_options: std::sync::Mutex<PoolOptions>,
    pool: OnceLock<PluginPool>,
    /// Outbound HTTP of plugins (`http.*`); `None` until configured.
    http: arc_swap::ArcSwapOption<HttpService>,
    /// `config.json`, for plugins' writes of their own section; `None`: in memory only.
    config_file: std::sync::Mutex<Option<std::path::PathBuf>>,
    /// One config write at a time.
    config_write: tokio::sync::Mutex<()>,
    /// The host's own commands, for the catalogue.
    builtins: arc_swap::ArcSwap<Vec<zoryx_plugin_api::CommandSpec>>,
    /// In a worker: every request goes to the host (through the outbox).
    forward: std::sync::atomic::AtomicBool,
    /// Where the host keeps its own state files (`schedules.json`); `None`: in memory only.
    state_dir: std::sync::Mutex<Option<std::path::PathBuf>>,
    /// Last runs of catch-up cron tasks: plugin → task → Unix seconds.
    schedules: tokio::sync::Mutex<
        Option<std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>>,
    >,
    /// The Discord connection's statistics, once it started.
    stats: arc_swap::ArcSwapOption<Box<dyn StatsSource>>,
    /// The running web dashboard's login links; `None` while it is off.
    login_links: arc_swap::ArcSwapOption<Box<dyn LoginLinks>>,
    /// When the services were made: the host's start, for the uptime.
    started: std::time::Instant,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.get() {
            pool.shutdown();
        }
    }
}

impl Shared {
    /// Services reading `config` and sending through `outbox`.
    pub fn new(config: serde_json::Value, outbox: Box<dyn Outbox>) -> Arc<Self> {
        Arc::new(Self {
            config: arc_swap::ArcSwap::from_pointee(config),
            outbox: arc_swap::ArcSwap::from_pointee(outbox),
            dispatcher: OnceLock::new(),
            emitter: arc_swap::ArcSwapOption::empty(),
            storage: arc_swap::ArcSwapOption::empty(),
            local_storage: arc_swap::ArcSwapOption::empty(),
            limits: arc_swap::ArcSwap::from_pointee(Limits::default()),
            pool_options: std::sync::Mutex::new(PoolOptions::default()),
            pool: OnceLock::new(),
            http: arc_swap::ArcSwapOption::empty(),
            config_file: std::sync::Mutex::new(None),
            config_write: tokio::sync::Mutex::new(()),
            builtins: arc_swap::ArcSwap::from_pointee(Vec::new()),
            forward: std::sync::atomic::AtomicBool::new(false),
            state_dir: std::sync::Mutex::new(None),
            schedules: tokio::sync::Mutex::new(None),
            stats: arc_swap::ArcSwapOption::empty(),
            login_links: arc_swap::ArcSwapOption::empty(),
            started: std::time::Instant::now(),
        })
    }

    /// Where the console gets dashboard login links: the running dashboard, or `None` once it
    /// stopped.
    pub fn set_login_links(&self, links: Option<Box<dyn LoginLinks>>) {
        self.login_links.store(links.map(Arc::new));
    }

    /// A new one-time dashboard login link; `None` when no dashboard runs.
    pub fn login_link(&self) -> Option<Result<String, String>> {
        self.login_links.load_full().map(|links| links.login_link())
    }

    /// Where [`Action::Stats`] gets the Discord side of the statistics.
    pub fn set_stats_source(&self, source: Box<dyn StatsSource>) {
        self.stats.store(Some(Arc::new(source)));
    }

    /// The bot's statistics: the Discord connection's (if one started), the host's uptime,
    /// plugins, commands, memory and versions.
    pub async fn stats(&self) -> BotStats {
        let source = self.stats.load_full();
        let mut stats = match source {
            Some(source) => source.discord_stats().await,
            None => BotStats::default(),
        };
        stats.uptime_seconds = self.started.elapsed().as_secs();
        stats.plugins_loaded = self
            .dispatcher()
            .map_or(0, |d| d.table().plugins.len() as u64);
        stats.commands = self.catalogue().len() as u64;
        stats.memory_bytes = crate::health::rss_bytes();
        stats.host_version = env!("CARGO_PKG_VERSION").to_owned();
        stats.api_version = zoryx_plugin_api::API_VERSION.to_string();
        stats
    }

    /// Names the folder of the host's state files (the data folder).
    pub fn set_state_dir(&self, dir: std::path::PathBuf) {
        if let Ok(mut slot) = self.state_dir.lock() {
            *slot = Some(dir);
        }
    }

    fn schedules_file(&self) -> Option<std::path::PathBuf> {
        self.state_dir
            .lock()
            .ok()
            .and_then(|d| d.as_ref().map(|d| d.join("schedules.json")))
    }

    /// When catch-up cron task `task` of `plugin` last ran (Unix seconds), if it ever did.
    pub async fn last_run(&self, plugin: &str, task: &str) -> Option<u64> {
        let mut schedules = self.schedules.lock().await;
        let map = schedules.get_or_insert_with(|| {
            self.schedules_file()
                .and_then(|f| std::fs::read_to_string(f).ok())
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default()
        });
        map.get(plugin).and_then(|tasks| tasks.get(task)).copied()
    }

    /// Records a run of catch-up cron task `task` of `plugin` at `at` (Unix seconds), in
    /// `schedules.json` (atomically) and in memory.
    pub async fn record_run(&self, plugin: &str, task: &str, at: u64) {
        let _ = self.last_run(plugin, task).await;
        let mut schedules = self.schedules.lock().await;
        let Some(map) = schedules.as_mut() else {
            return;
        };
        map.entry(plugin.to_owned())
            .or_default()
            .insert(task.to_owned(), at);
        let Some(file) = self.schedules_file() else {
            return;
        };
        let bytes = match serde_json::to_vec_pretty(&*map) {
            Ok(bytes) => bytes,
            Err(_) => return,
        };
        let written =
            tokio::task::spawn_blocking(move || crate::storage::atomic::write_bytes(&file, &bytes))
                .await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::warn!(
                plugin,
                task,
                "the last run of a cron task could not be recorded"
            );
        }
    }

    /// Sets how plugins' HTTP requests go out.
    pub fn set_http(&self, service: HttpService) {
        self.http.store(Some(Arc::new(service)));
    }

    /// Names `config.json`, where plugins' own sections are written back.
    pub fn set_config_file(&self, path: std::path::PathBuf) {
        if let Ok(mut file) = self.config_file.lock() {
            *file = Some(path);
        }
    }

    /// The host's own commands, listed in the catalogue before the plugins'.
    pub fn set_builtin_commands(&self, commands: Vec<zoryx_plugin_api::CommandSpec>) {
        self.builtins.store(Arc::new(commands));
    }

    /// In a worker process: every request of the plugin is answered by the host.
    pub fn forward_requests(&self) {
        self.forward
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every command: the host's, then each plugin's (by plugin name).
    pub fn catalogue(&self) -> Vec<CommandInfo> {
        let mut all: Vec<CommandInfo> = self
            .builtins
            .load()
            .iter()
            .map(|spec| CommandInfo::new(spec.clone(), None))
            .collect();
        if let Some(dispatcher) = self.dispatcher() {
            for (name, generation) in &dispatcher.table().plugins {
                all.extend(
                    generation
                        .description
                        .commands
                        .iter()
                        .map(|spec| CommandInfo::new(spec.clone(), Some(name.clone()))),
                );
            }
        }
        all
    }

    /// Replaces `plugins.<plugin>` of the config: in `config.json` (re-read, changed in that one
    /// place, checked to still be a valid config, written atomically) and in memory.
    async fn write_plugin_config(&self, plugin: &str, value_json: &str) -> Result<(), PluginError> {
        const MAX_SECTION: usize = 256 * 1024;
        if value_json.len() > MAX_SECTION {
            return Err(PluginError::Host(format!(
                "config not written: the section is over {} KiB",
                MAX_SECTION / 1024
            )));
        }
        let value: serde_json::Value = serde_json::from_str(value_json)
            .map_err(|e| PluginError::Host(format!("config not written: {e}")))?;
        let _one_at_a_time = self.config_write.lock().await;
        let file = self.config_file.lock().ok().and_then(|f| f.clone());
        if let Some(path) = file {
            let path2 = path.clone();
            let plugin2 = plugin.to_owned();
            let value2 = value.clone();
            tokio::task::spawn_blocking(move || write_section(&path2, &plugin2, value2))
                .await
                .map_err(|e| PluginError::Host(format!("config not written: {e}")))??;
            tracing::info!(plugin, file = %path.display(), "plugin config section written");
        }
        let mut config = (**self.config.load()).clone();
        if let Some(root) = config.as_object_mut() {
            let plugins = root
                .entry("plugins")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(plugins) = plugins.as_object_mut() {
                plugins.insert(plugin.to_owned(), value);
            }
        }
        self.config.store(Arc::new(config));
        Ok(())
    }

    /// The settings each loaded plugin described for its config section, by plugin name
    /// (plugins that described none are left out).
    pub fn plugin_settings(&self) -> Vec<(String, Vec<zoryx_plugin_api::Setting>)> {
        self.dispatcher()
            .map(|dispatcher| {
                dispatcher
                    .table()
                    .plugins
                    .iter()
                    .filter(|(_, g)| !g.description.extras.settings.is_empty())
                    .map(|(name, g)| (name.clone(), g.description.extras.settings.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The config file changes are written to, when there is one.
    pub fn config_file(&self) -> Option<std::path::PathBuf> {
        self.config_file.lock().ok().and_then(|f| f.clone())
    }

    /// The config as plugins read it (`config.json` as parsed, with changes made since).
    pub fn config_document(&self) -> serde_json::Value {
        (**self.config.load()).clone()
    }

    /// Sets dotted `key` of `config.json` to `value` (`fw_config_set`): checked, written
    /// atomically, and applied at once where the key allows it (`limits.*`, `cooldowns.*`,
    /// `command_permissions`, `plugins.*`); whether it was. Others take effect at the next start.
    pub async fn set_config_key(
        &self,
        key: &str,
        value: serde_json::Value,
    ) -> Result<bool, crate::config::edit::EditError> {
        use crate::config::edit::{self, EditError};
        edit::check_key(key)?;
        let Some(path) = self.config_file() else {
            return Err(EditError::File(
                "this host has no config file to write to".to_owned(),
            ));
        };
        let _one_at_a_time = self.config_write.lock().await;
        let (key2, path2) = (key.to_owned(), path.clone());
        // A plugin's described settings are checked when its section changes.
        let settings: Vec<_> = self
            .plugin_settings()
            .into_iter()
            .filter(|(name, _)| {
                key == "plugins"
                    || key == format!("plugins.{name}")
                    || key.starts_with(&format!("plugins.{name}."))
            })
            .collect();
        let config = tokio::task::spawn_blocking(move || {
            edit::write_key_checked(&path2, &key2, value, &|document| {
                check_plugin_sections(&settings, document)
            })
        })
        .await
        .map_err(|e| EditError::File(e.to_string()))??;
        tracing::info!(key, file = %path.display(), "config key written");
        self.config.store(Arc::new(config.raw.clone()));
        let live = edit::is_live(key);
        if live {
            self.set_limits(crate::manager::limits_of(&config.core.limits));
            if let Some(dispatcher) = self.dispatcher() {
                let gate = dispatcher.gate();
                gate.set_global_roles(config.core.command_permissions.clone());
                gate.set_default_cooldown(config.core.cooldowns.cooldown());
            }
        }
        Ok(live)
    }

    /// Whether the host answers `action` itself (HTTP, config, catalogue) rather than the
    /// outbox (Discord); never in a worker, which asks the host for everything.
    fn answers_itself(&self, action: &Action) -> bool {
        !self.forward.load(std::sync::atomic::Ordering::Relaxed)
            && matches!(
                action,
                Action::Http(_)
                    | Action::HttpStream(_)
                    | Action::HttpStreamNext { .. }
                    | Action::HttpStreamClose { .. }
                    | Action::PluginConfig
                    | Action::SetPluginConfig { .. }
                    | Action::Commands
                    | Action::Stats
            )
    }

    /// Answers the requests of [`Shared::answers_itself`].
    fn host_request(
        self: &Arc<Self>,
        plugin: &str,
        action: Action,
    ) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        let plugin = plugin.to_owned();
        match action {
            Action::Http(request) => {
                let http = self.http.load_full();
                Box::pin(async move {
                    match http {
                        Some(http) => http.send(&plugin, request).await.map(Outcome::Http),
                        None => Err(PluginError::NotAvailable("outbound HTTP".to_owned())),
                    }
                })
            }
            Action::HttpStream(request) => {
                let http = self.http.load_full();
                Box::pin(async move {
                    let http =
                        http.ok_or_else(|| PluginError::NotAvailable("outbound HTTP".to_owned()))?;
                    let (id, status, headers) = http.open_stream(&plugin, request).await?;
                    Ok(Outcome::HttpStream {
                        id,
                        status,
                        headers,
                    })
                })
            }
            Action::HttpStreamNext { id } => {
                let http = self.http.load_full();
                Box::pin(async move {
                    let http =
                        http.ok_or_else(|| PluginError::NotAvailable("outbound HTTP".to_owned()))?;
                    let (data, done) = http.next_chunk(&plugin, id).await?;
                    Ok(Outcome::HttpChunk { data, done })
                })
            }
            Action::HttpStreamClose { id } => {
                if let Some(http) = self.http.load_full() {
                    http.close_stream(&plugin, id);
                }
                Box::pin(async move { Ok(Outcome::Done) })
            }
            Action::PluginConfig => {
                let value = self
                    .config_value(&format!("plugins.{plugin}"))
                    .unwrap_or(serde_json::Value::Null);
                Box::pin(async move { Ok(Outcome::Json(value.to_string())) })
            }
            Action::SetPluginConfig { value_json } => {
                let shared = Arc::clone(self);
                Box::pin(async move {
                    shared
                        .write_plugin_config(&plugin, &value_json)
                        .await
                        .map(|()| Outcome::Done)
                })
            }
            Action::Commands => {
                let all = self.catalogue();
                Box::pin(async move { Ok(Outcome::Commands(all)) })
            }
            Action::Stats => {
                let shared = Arc::clone(self);
                Box::pin(async move { Ok(Outcome::Stats(shared.stats().await)) })
            }
            other => self.outbox.load().act(&plugin, other),
        }
    }

    /// Sets the time limits of plugin calls.
    pub fn set_limits(&self, limits: Limits) {
        self.limits.store(Arc::new(limits));
    }

    /// The time limits of plugin calls.
    pub fn limits(&self) -> Arc<Limits> {
        self.limits.load_full()
    }

    /// Sets the options of the plugin threads; only before the first plugin call.
    pub fn set_pool_options(&self, options: PoolOptions) {
        if let Ok(mut current) = self.pool_options.lock() {
            *current = options;
        }
    }

    /// The threads plugin code runs on, started on first use inside the host's runtime.
    pub fn pool(&self) -> PluginPool {
        self.pool
            .get_or_init(|| {
                let options = self.pool_options.lock().map(|o| *o).unwrap_or_default();
                PluginPool::new(tokio::runtime::Handle::current(), options)
            })
            .clone()
    }

    /// Installs the storage plugins use (key-value, SQL tables, files); without one, storage
    /// calls answer "not available".
    pub fn set_plugin_storage(&self, storage: Arc<PluginStorage>) {
        self.local_storage.store(Some(Arc::clone(&storage)));
        self.set_storage_service(Box::new(storage));
    }

    /// The host's plugin storage, if installed.
    pub fn plugin_storage(&self) -> Option<Arc<PluginStorage>> {
        self.local_storage.load_full()
    }

    /// Installs what plugins' storage functions call (an isolated plugin's worker installs one
    /// that asks the host).
    pub fn set_storage_service(&self, service: Box<dyn StorageService>) {
        self.storage.store(Some(Arc::new(service)));
    }

    /// Runs a storage operation for `plugin`.
    pub fn storage(
        &self,
        plugin: &str,
        op: StorageOp,
    ) -> BoxFuture<'static, Result<StorageValue, String>> {
        match self.storage.load().as_ref() {
            Some(service) => service.run(plugin, op),
            None => {
                let error = storage_unavailable().to_string();
                Box::pin(async move { Err(error) })
            }
        }
    }

    /// Replaces where plugins' `emit` goes (by default, the dispatcher's hooks).
    pub fn set_emitter(&self, emitter: Box<dyn Emitter>) {
        self.emitter.store(Some(Arc::new(emitter)));
    }

    /// Runs every hook on `name` for a plugin's `emit`; resolves to how many ran.
    pub fn emit(
        &self,
        name: String,
        payload: serde_json::Value,
    ) -> BoxFuture<'static, Result<u32, String>> {
        if let Some(emitter) = self.emitter.load().as_ref() {
            return emitter.emit(name, payload);
        }
        let dispatcher = self.dispatcher();
        Box::pin(async move {
            match dispatcher {
                Some(dispatcher) => Ok(dispatcher.emit(&name, payload).await),
                None => Err("the event bus is not running".to_owned()),
            }
        })
    }

    /// Carries out a plugin's request: HTTP, its config and the catalogue here, the rest by
    /// the outbox (Discord).
    pub fn act(
        self: &Arc<Self>,
        plugin: &str,
        action: Action,
    ) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        if self.answers_itself(&action) {
            self.host_request(plugin, action)
        } else {
            self.outbox.load().act(plugin, action)
        }
    }

    /// Sends a plugin's message to a channel.
    pub fn send(
        &self,
        plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>> {
        self.outbox.load().send(plugin, channel, message)
    }

    /// The config plugins read, as JSON text.
    pub fn config_json(&self) -> String {
        self.config.load().to_string()
    }

    pub(crate) fn dispatcher(&self) -> Option<Arc<Dispatcher>> {
        self.dispatcher.get().and_then(Weak::upgrade)
    }

    pub(crate) fn attach(&self, dispatcher: &Arc<Dispatcher>) {
        let _ = self.dispatcher.set(Arc::downgrade(dispatcher));
    }

    /// Replaces where plugin messages go (the Discord layer installs its own).
    pub fn set_outbox(&self, outbox: Box<dyn Outbox>) {
        self.outbox.store(Arc::new(outbox));
    }

    /// Replaces the config plugins read.
    pub fn set_config(&self, config: serde_json::Value) {
        self.config.store(Arc::new(config));
    }

    /// A config value by dotted key.
    pub fn config_value(&self, key: &str) -> Option<serde_json::Value> {
        let config = self.config.load();
        let mut value: &serde_json::Value = &config;
        for part in key.split('.') {
            value = value.get(part)?;
        }
        Some(value.clone())
    }
}

/// The problems of each described plugin's section of `document` (`plugins.<name>`), as
/// `plugins.<name>: problem`.
pub fn check_plugin_sections(
    settings: &[(String, Vec<zoryx_plugin_api::Setting>)],
    document: &serde_json::Value,
) -> Vec<String> {
    settings
        .iter()
        .flat_map(|(name, settings)| {
            let section = crate::config::edit::get(document, &format!("plugins.{name}"))
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            zoryx_plugin_api::settings::check_section(settings, &section)
                .into_iter()
                .map(move |problem| format!("plugins.{name}: {problem}"))
        })
        .collect()
}

/// `config.json` with `plugins.<plugin>` replaced, if the result is still a valid config.
fn write_section(
    path: &std::path::Path,
    plugin: &str,
    value: serde_json::Value,
) -> Result<(), PluginError> {
    crate::config::edit::write_key(path, &format!("plugins.{plugin}"), value)
        .map(|_| ())
        .map_err(|e| PluginError::Host(format!("config not written: {e}")))
}

/// Host state for one plugin generation; plugins see it as [`HostData`].
pub(crate) struct PluginHost {
    pub(crate) name: String,
    pub(crate) shared: Arc<Shared>,
}

impl PluginHost {
    pub(crate) fn handle(self: &Arc<Self>) -> HostHandle {
        HostHandle {
            vtable: vtable(),
            data: HostData(Arc::as_ptr(self).cast()),
        }
    }
}

fn host(data: HostData) -> &'static PluginHost {
    // SAFETY: `data` is `Arc::as_ptr` of the generation's `PluginHost`, which the generation keeps
    // alive for as long as the plugin can run (every call and future holds the generation). The
    // `'static` here never escapes a single host function call.
    unsafe { &*data.0.cast::<PluginHost>() }
}

fn error(e: PluginError) -> ErrorFfi {
    ErrorFfi::from(&e)
}

extern "C" fn log(data: HostData, level: u8, message: RStr<'_>) {
    let plugin = host(data).name.as_str();
    let message = message.as_str();
    match level {
        level::ERROR => tracing::error!(plugin, "{message}"),
        level::WARN => tracing::warn!(plugin, "{message}"),
        level::INFO => tracing::info!(plugin, "{message}"),
        level::DEBUG => tracing::debug!(plugin, "{message}"),
        _ => tracing::trace!(plugin, "{message}"),
    }
}

extern "C" fn config(data: HostData, key: RStr<'_>) -> ROption<RString> {
    host(data)
        .shared
        .config_value(key.as_str())
        .map(|v| RString::from(v.to_string()))
        .into()
}

extern "C" fn sleep(millis: u64) -> FfiFuture<()> {
    host_future(tokio::time::sleep(Duration::from_millis(millis)))
}

extern "C" fn now_unix_ms() -> u64 {
    crate::clock::now_ms()
}

extern "C" fn send(
    data: HostData,
    channel: u64,
    message: MessageFfi,
) -> FfiFuture<RResult<u64, ErrorFfi>> {
    let host = host(data);
    let message = Message::from(&message);
    if let Err(refused) = within_limits(&message) {
        return host_future(async move { RErr(refused) });
    }
    let future = host.shared.send(&host.name, ChannelId(channel), message);
    host_task(async move {
        match future.await {
            Ok(id) => ROk(id.0),
            Err(e) => RErr(error(PluginError::Host(e))),
        }
    })
}

/// Discord's limits, checked before a plugin's message goes out: past one, the plugin gets an
/// error naming it (instead of Discord's 400, or text cut short).
fn within_limits(message: &Message) -> Result<(), ErrorFfi> {
    check_message(message, "message not sent").map_err(error)
}

fn check_message(message: &Message, what: &str) -> Result<(), PluginError> {
    message.check().map_err(|limit| {
        let hint = if limit.field == "content" {
            " (split long text with `zoryx_plugin_api::split_text`)"
        } else {
            ""
        };
        PluginError::Host(format!("{what}: {limit}{hint}"))
    })
}

/// Why a message is refused for Discord's limits, as the text of the error (the isolation
/// protocol's replies carry text); `None` when it is within them.
pub(crate) fn message_refusal(message: &Message) -> Option<String> {
    match check_message(message, "message not sent") {
        Ok(()) => None,
        Err(PluginError::Host(text)) => Some(text),
        Err(other) => Some(other.to_string()),
    }
}

/// Discord's limits on an action (its messages included), checked before it goes out.
pub(crate) fn action_within_limits(action: &Action) -> Result<(), PluginError> {
    action.check(SystemTime::now()).map_err(|limit| {
        let hint = if limit.starts_with("content ") {
            " (split long text with `zoryx_plugin_api::split_text`)"
        } else {
            ""
        };
        PluginError::Host(format!(
            "refused before sending ({}): {limit}{hint}",
            action.describe()
        ))
    })
}

/// The messages a call action carries, checked the same way.
pub(crate) fn call_action_within_limits(action: &CallAction) -> Result<(), PluginError> {
    match action {
        CallAction::EditReply { edit, .. } => check_message(edit, "reply not edited"),
        CallAction::Followup { message } | CallAction::Reply { message } => {
            check_message(message, "message not sent")
        }
        CallAction::Update { message } => check_message(message, "message not updated"),
        CallAction::Modal { modal } => modal
            .check()
            .map_err(|limit| PluginError::Host(format!("modal not shown: {limit}"))),
        _ => Ok(()),
    }
}

/// The plugin's JSON of an action, parsed; what the host answers, as JSON.
fn acted<T: serde::de::DeserializeOwned>(json: RStr<'_>, what: &str) -> Result<T, PluginError> {
    serde_json::from_str(json.as_str()).map_err(|e| {
        PluginError::Host(format!(
            "the host could not read this {what}: {e} (was the plugin built against a newer API?)"
        ))
    })
}

fn answered(
    future: BoxFuture<'static, Result<Outcome, PluginError>>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    host_task(async move {
        match future.await {
            Ok(outcome) => match serde_json::to_string(&outcome) {
                Ok(json) => ROk(RString::from(json)),
                Err(e) => RErr(error(PluginError::Host(e.to_string()))),
            },
            Err(e) => RErr(error(e)),
        }
    })
}

extern "C" fn request(data: HostData, action: RStr<'_>) -> FfiFuture<RResult<RString, ErrorFfi>> {
    let host = host(data);
    let action = match acted::<Action>(action, "request")
        .and_then(|a| action_within_limits(&a).map(|()| a))
    {
        Ok(action) => action,
        Err(e) => return host_future(async move { RErr(error(e)) }),
    };
    answered(host.shared.act(&host.name, action))
}

extern "C" fn call_request(
    call: &CallData,
    action: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    // SAFETY: the plugin only passes handles the host gave it, released through `call_drop`.
    let state = unsafe { call_state(call) };
    let action = match acted::<CallAction>(action, "request")
        .and_then(|a| call_action_within_limits(&a).map(|()| a))
    {
        Ok(action) => action,
        Err(e) => return host_future(async move { RErr(error(e)) }),
    };
    answered(call_act(state.sink.as_ref(), action))
}

extern "C" fn reply(call: &CallData, message: MessageFfi) -> FfiFuture<RResult<u64, ErrorFfi>> {
    // SAFETY: the plugin only passes handles the host gave it, released through `call_drop`.
    let state = unsafe { call_state(call) };
    let message = Message::from(&message);
    if let Err(refused) = within_limits(&message) {
        return host_future(async move { RErr(refused) });
    }
    let future = state.sink.reply(message);
    host_task(async move {
        match future.await {
            Ok(id) => ROk(id.0),
            Err(e) => RErr(error(PluginError::Host(e))),
        }
    })
}

extern "C" fn call_clone(call: &CallData) -> CallData {
    // SAFETY: as in `reply`.
    into_call_data(unsafe { call_state(call) })
}

extern "C" fn call_drop(call: &mut CallData) {
    // SAFETY: the plugin's handle owns one reference and drops it once.
    unsafe { release_call_data(call) };
}

extern "C" fn emit(
    data: HostData,
    name: RStr<'_>,
    payload: RStr<'_>,
) -> FfiFuture<RResult<u32, ErrorFfi>> {
    let host = host(data);
    let payload = serde_json::from_str(payload.as_str()).unwrap_or(serde_json::Value::Null);
    let future = host.shared.emit(name.as_str().to_owned(), payload);
    host_task(async move {
        match future.await {
            Ok(ran) => ROk(ran),
            Err(e) => RErr(error(PluginError::Host(e))),
        }
    })
}

fn storage_unavailable() -> PluginError {
    PluginError::NotAvailable("plugin storage".into())
}

/// Runs a storage operation for the calling plugin and converts its value with `into`
/// (everything the plugin passed was copied into `op`: nothing of it is kept past this call).
fn storage_call<T>(
    data: HostData,
    op: StorageOp,
    into: fn(StorageValue) -> Option<T>,
) -> FfiFuture<RResult<T, ErrorFfi>>
where
    T: Send + 'static,
{
    let host = host(data);
    if host.shared.storage.load().is_none() {
        return host_future(async { RErr(error(storage_unavailable())) });
    }
    let future = host.shared.storage(&host.name, op);
    host_task(async move {
        match future.await.map(into) {
            Ok(Some(value)) => ROk(value),
            Ok(None) => RErr(error(PluginError::Host(
                "storage answered with the wrong kind of value".into(),
            ))),
            Err(e) => RErr(error(PluginError::Host(e))),
        }
    })
}

fn guild(scope: ScopeFfi) -> Option<u64> {
    scope.into_option()
}

fn text(value: StorageValue) -> Option<ROption<RString>> {
    match value {
        StorageValue::Text(text) => Some(text.map(RString::from).into()),
        _ => None,
    }
}

fn unit(value: StorageValue) -> Option<()> {
    matches!(value, StorageValue::Unit).then_some(())
}

fn flag(value: StorageValue) -> Option<bool> {
    match value {
        StorageValue::Flag(flag) => Some(flag),
        _ => None,
    }
}

fn names(value: StorageValue) -> Option<RString> {
    match value {
        StorageValue::Names(names) => {
            Some(RString::from(serde_json::Value::from(names).to_string()))
        }
        _ => None,
    }
}

extern "C" fn kv_get(
    data: HostData,
    scope: ScopeFfi,
    key: RStr<'_>,
) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>> {
    let op = StorageOp::KvGet {
        guild: guild(scope),
        key: key.as_str().to_owned(),
    };
    storage_call(data, op, text)
}

extern "C" fn kv_set(
    data: HostData,
    scope: ScopeFfi,
    key: RStr<'_>,
    value: RStr<'_>,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    let op = StorageOp::KvSet {
        guild: guild(scope),
        key: key.as_str().to_owned(),
        value: value.as_str().to_owned(),
    };
    storage_call(data, op, unit)
}

extern "C" fn kv_delete(
    data: HostData,
    scope: ScopeFfi,
    key: RStr<'_>,
) -> FfiFuture<RResult<bool, ErrorFfi>> {
    let op = StorageOp::KvDelete {
        guild: guild(scope),
        key: key.as_str().to_owned(),
    };
    storage_call(data, op, flag)
}

extern "C" fn kv_keys(
    data: HostData,
    scope: ScopeFfi,
    prefix: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    let op = StorageOp::KvKeys {
        guild: guild(scope),
        prefix: prefix.as_str().to_owned(),
    };
    storage_call(data, op, names)
}

extern "C" fn sql_prefix(data: HostData) -> RResult<RString, ErrorFfi> {
    match PluginStorage::sql_prefix(&host(data).name) {
        Ok(prefix) => ROk(RString::from(prefix)),
        Err(e) => RErr(error(PluginError::Host(e.to_string()))),
    }
}

fn sql_op(guild: u64, sql: RStr<'_>, params: RStr<'_>, rows: bool) -> StorageOp {
    StorageOp::Sql {
        guild,
        sql: sql.as_str().to_owned(),
        params: params.as_str().to_owned(),
        rows,
    }
}

extern "C" fn sql_execute(
    data: HostData,
    guild: u64,
    sql: RStr<'_>,
    params: RStr<'_>,
) -> FfiFuture<RResult<u64, ErrorFfi>> {
    storage_call(
        data,
        sql_op(guild, sql, params, false),
        |value| match value {
            StorageValue::Changed(n) | StorageValue::Rows { count: n, .. } => Some(n),
            _ => None,
        },
    )
}

extern "C" fn sql_query(
    data: HostData,
    guild: u64,
    sql: RStr<'_>,
    params: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    storage_call(
        data,
        sql_op(guild, sql, params, true),
        |value| match value {
            StorageValue::Rows { json, .. } => Some(RString::from(json)),
            StorageValue::Changed(_) => Some(RString::from("[]")),
            _ => None,
        },
    )
}

extern "C" fn file_read(
    data: HostData,
    path: RStr<'_>,
) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>> {
    let op = StorageOp::FileRead {
        path: path.as_str().to_owned(),
    };
    storage_call(data, op, text)
}

extern "C" fn file_write(
    data: HostData,
    path: RStr<'_>,
    value: RStr<'_>,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    let op = StorageOp::FileWrite {
        path: path.as_str().to_owned(),
        value: value.as_str().to_owned(),
    };
    storage_call(data, op, unit)
}

extern "C" fn file_delete(data: HostData, path: RStr<'_>) -> FfiFuture<RResult<bool, ErrorFfi>> {
    let op = StorageOp::FileDelete {
        path: path.as_str().to_owned(),
    };
    storage_call(data, op, flag)
}

extern "C" fn file_list(data: HostData, dir: RStr<'_>) -> FfiFuture<RResult<RString, ErrorFfi>> {
    let op = StorageOp::FileList {
        dir: dir.as_str().to_owned(),
    };
    storage_call(data, op, names)
}

const VTABLE: &WithMetadata<HostVtable> = &WithMetadata::new(HostVtable {
    log,
    config,
    sleep,
    now_unix_ms,
    send,
    reply,
    call_clone,
    call_drop,
    emit,
    kv_get,
    kv_set,
    kv_delete,
    kv_keys,
    sql_prefix,
    sql_execute,
    sql_query,
    file_read,
    file_write,
    file_delete,
    file_list,
    request,
    call_request,
});

fn vtable() -> HostVtableRef {
    HostVtableRef(VTABLE.static_as_prefix())
}
