//! A bot connected to the Discord simulator: real plugin libraries, real sockets.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::broadcast;
use zoryx_host::config::{BotEnv, Config};
use zoryx_host::diagnostics::Diagnostics;
use zoryx_host::discord::{self, DiscordHandle, DiscordOptions, Services};
use zoryx_host::guild_settings::{GuildSettingsStore, MemorySettings};
use zoryx_host::storage::atomic::{AtomicOptions, AtomicStore};
use zoryx_host::storage::db::{Databases, DbOptions, SqliteSettings};
use zoryx_sim::{SimConfig, SimEvent, Simulator};

use super::TestHost;

/// How long any single expectation waits.
pub const WAIT: Duration = Duration::from_secs(10);

/// The simulator, a host with plugins and the Discord layer connected to both.
pub struct TestBot {
    pub sim: Simulator,
    pub host: TestHost,
    pub settings: Arc<MemorySettings>,
    pub handle: Option<DiscordHandle>,
    pub events: broadcast::Receiver<SimEvent>,
    /// The SQLite settings store, for bots started with [`TestBot::start_with_storage`].
    pub db: Option<Arc<SqliteSettings>>,
    /// The bot's framework diagnostics (`fw_*`, `/metrics`).
    pub diagnostics: Arc<Diagnostics>,
    /// The shard manager, when the config turns it on.
    pub cluster: Option<Arc<zoryx_host::cluster::Cluster>>,
    /// Where the connection reports its shards (the health endpoint's and dashboard's view).
    pub gateway: discord::GatewayStatus,
    /// The config text it started with, and whether it has storage, for [`TestBot::restart`].
    config: String,
    storage: bool,
}

/// `config.json` of `config`'s keys (a JSON object's inner text), with slash commands
/// registered to the simulator's guild.
fn config_for(sim: &Simulator, config: &str) -> String {
    let mut text: Value = serde_json::from_str(&format!("{{{config}}}")).expect("config");
    text["discord"]["test_guild_id"] = sim.default_guild().into();
    text.to_string()
}

/// The environment the bot would read: the simulator's token and base, the owner.
pub fn env_for(sim: &Simulator) -> BotEnv {
    let vars: HashMap<String, String> = [
        ("DISCORD_TOKEN", sim.token().to_owned()),
        ("BOT_OWNER_ID", sim.owner().id.to_string()),
        ("DISCORD_API_BASE", sim.base_url()),
        ("DISCORD_CDN_BASE", sim.cdn_url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    BotEnv::from_map(&vars).expect("env")
}

impl TestBot {
    /// Starts a simulator and a bot with `files` (fixture, file name) loaded and `config`
    /// (a JSON object's inner keys, e.g. `"prefix": "!"`; may be empty). Slash commands are
    /// registered to the simulator's default guild.
    pub async fn start(files: &[(&str, &str)], config: &str) -> Self {
        Self::start_with(SimConfig::default(), files, config).await
    }

    /// As [`TestBot::start`] with a simulator configuration.
    pub async fn start_with(sim_config: SimConfig, files: &[(&str, &str)], config: &str) -> Self {
        Self::start_tuned(sim_config, files, config, |_| {}).await
    }

    /// As [`TestBot::start`], with the SQLite settings store and the atomic file store in the
    /// host's temp folder, so the storage owner commands work.
    pub async fn start_with_storage(files: &[(&str, &str)]) -> Self {
        Self::start_full(SimConfig::default(), files, "", |_| {}, true).await
    }

    /// As [`TestBot::start_with_storage`], with `config` as [`TestBot::start`] takes it.
    pub async fn start_stored(files: &[(&str, &str)], config: &str) -> Self {
        Self::start_full(SimConfig::default(), files, config, |_| {}, true).await
    }

    /// As [`TestBot::start_stored`], with a simulator configuration.
    pub async fn start_stored_with(sim_config: SimConfig, config: &str) -> Self {
        Self::start_full(sim_config, &[], config, |_| {}, true).await
    }

    /// As [`TestBot::start`], with the config written once the simulator is up (it may name
    /// the simulator's channels).
    pub async fn start_for(
        files: &[(&str, &str)],
        config: impl FnOnce(&Simulator) -> String,
    ) -> Self {
        Self::start_for_with(SimConfig::default(), files, config).await
    }

    /// As [`TestBot::start_for`], with a simulator configuration.
    pub async fn start_for_with(
        sim_config: SimConfig,
        files: &[(&str, &str)],
        config: impl FnOnce(&Simulator) -> String,
    ) -> Self {
        Self::start_for_full(sim_config, files, config, false).await
    }

    /// As [`TestBot::start_for`], with storage as [`TestBot::start_stored`] has it.
    pub async fn start_for_stored(
        files: &[(&str, &str)],
        config: impl FnOnce(&Simulator) -> String,
    ) -> Self {
        Self::start_for_full(SimConfig::default(), files, config, true).await
    }

    async fn start_for_full(
        sim_config: SimConfig,
        files: &[(&str, &str)],
        config: impl FnOnce(&Simulator) -> String,
        storage: bool,
    ) -> Self {
        let sim = Simulator::start(sim_config).await.expect("simulator");
        let text = config_for(&sim, &config(&sim));
        let host = TestHost::with_config(files, &text);
        Self::connect(sim, host, text, |_| {}, storage).await
    }

    /// As [`TestBot::start_with`], adjusting the Discord options first.
    pub async fn start_tuned(
        sim_config: SimConfig,
        files: &[(&str, &str)],
        config: &str,
        tune: impl FnOnce(&mut DiscordOptions),
    ) -> Self {
        Self::start_full(sim_config, files, config, tune, false).await
    }

    async fn start_full(
        sim_config: SimConfig,
        files: &[(&str, &str)],
        config: &str,
        tune: impl FnOnce(&mut DiscordOptions),
        storage: bool,
    ) -> Self {
        let sim = Simulator::start(sim_config).await.expect("simulator");
        let text = config_for(&sim, config);
        let host = TestHost::with_config(files, &text);
        Self::connect(sim, host, text, tune, storage).await
    }

    /// Stops the bot as a restart of its process would — the gateway closed, the plugins
    /// unloaded, the databases closed —, runs `between` while it is down, and starts it again
    /// on the same data folder, config and simulator.
    pub async fn restart_after(self, between: impl FnOnce()) -> Self {
        self.restart_while(async |_| between()).await
    }

    /// As [`TestBot::restart_after`], with `between` given the simulator while the bot is down.
    pub async fn restart_while(mut self, between: impl AsyncFnOnce(&Simulator)) -> Self {
        self.stop().await;
        between(&self.sim).await;
        let TestBot {
            sim,
            host,
            config,
            storage,
            ..
        } = self;
        let host = TestHost::reopen(host.dir, &config);
        Self::connect(sim, host, config, |_| {}, storage).await
    }

    async fn connect(
        sim: Simulator,
        host: TestHost,
        text: String,
        tune: impl FnOnce(&mut DiscordOptions),
        storage: bool,
    ) -> Self {
        let events = sim.subscribe();
        let report = host.manager.load_all().await;
        assert!(report.refused.is_empty(), "refused: {:?}", report.refused);
        let core = Config::parse(Path::new("config.json"), &text)
            .expect("config")
            .core;
        let mut options = DiscordOptions::from_config(&core, &env_for(&sim)).expect("options");
        options.slash_debounce = Duration::from_millis(100);
        tune(&mut options);
        let settings = Arc::new(MemorySettings::default());
        let gateway = discord::GatewayStatus::default();
        let (store, mut services, db): (Arc<dyn GuildSettingsStore>, Services, _) = if storage {
            let data = host.dir.path().join("data");
            // As `zoryx run` does: sessions resume across restarts.
            options.keep_sessions_in(&core, &data);
            let databases = Databases::open(DbOptions::new(data.join("db")))
                .await
                .expect("databases");
            let db = SqliteSettings::new(databases);
            let services = Services {
                atomic: Some(AtomicStore::new(AtomicOptions::default())),
                db: Some(Arc::clone(&db)),
                data_dir: Some(data),
                ..Services::default()
            };
            (db.clone(), services, Some(db))
        } else {
            (settings.clone(), Services::default(), None)
        };
        // Framework diagnostics over this bot's gateway (with the history in main.db when
        // the bot has storage); the health loop runs as configured.
        let diagnostics = Diagnostics::new(
            core.diagnostics.clone(),
            core.framework.framework_diagnostics(),
            Arc::clone(host.manager.dispatcher()),
            gateway.clone(),
            db.as_ref()
                .map(|db: &Arc<SqliteSettings>| Arc::clone(db.databases())),
        );
        diagnostics.start();
        services.gateway = gateway.clone();
        services.diagnostics = Some(Arc::clone(&diagnostics));
        // The shard manager, as the binary starts it.
        let cluster = zoryx_host::cluster::start(&core, host.manager.dispatcher())
            .await
            .expect("shard manager");
        services.cluster = cluster.clone();
        let handle = discord::start_with(Arc::clone(&host.manager), store, options, services)
            .await
            .expect("discord start");
        handle.wait_ready(WAIT).await.expect("READY");
        Self {
            sim,
            host,
            settings,
            handle: Some(handle),
            events,
            db,
            diagnostics,
            cluster,
            gateway,
            config: text,
            storage,
        }
    }

    pub fn guild(&self) -> u64 {
        self.sim.default_guild()
    }

    pub fn channel(&self) -> u64 {
        self.sim.default_channel()
    }

    /// Waits for the next simulator event matching `pred`.
    pub async fn wait_event(&mut self, what: &str, pred: impl Fn(&SimEvent) -> bool) -> SimEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Ok(event)) if pred(&event) => return event,
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(error)) => panic!("simulator events closed waiting for {what}: {error}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }

    /// Waits for the bot's reply to message `id`; returns the body it sent.
    pub async fn reply_to(&mut self, id: u64) -> Value {
        match self
            .wait_event(
                &format!("a reply to message {id}"),
                |e| matches!(e, SimEvent::BotMessage { reply_to: Some(r), .. } if *r == id),
            )
            .await
        {
            SimEvent::BotMessage { body, .. } => body,
            _ => unreachable!("matched a BotMessage"),
        }
    }

    /// Posts `content` as `author` in the default channel and waits for the reply.
    pub async fn ask(&mut self, author: u64, content: &str) -> Value {
        let id = self
            .sim
            .inject_message(self.channel(), author, content)
            .await
            .expect("inject");
        self.reply_to(id).await
    }

    /// Posts `content` as `author` in the default channel and waits for the reply: the posted
    /// message's id, the reply's id and the reply's body.
    pub async fn asked(&mut self, author: u64, content: &str) -> (u64, u64, Value) {
        let asked = self
            .sim
            .inject_message(self.channel(), author, content)
            .await
            .expect("inject");
        match self
            .wait_event(
                &format!("the reply to {content}"),
                |e| matches!(e, SimEvent::BotMessage { reply_to: Some(r), .. } if *r == asked),
            )
            .await
        {
            SimEvent::BotMessage {
                message_id, body, ..
            } => (asked, message_id, body),
            _ => unreachable!("matched a BotMessage"),
        }
    }

    /// Posts `content` as `author` and proves it got no reply: a `!ping` posted right after it
    /// is answered first (commands are answered concurrently; an unanswered message returns
    /// before any REST call, so its reply would have been recorded by then).
    pub async fn ask_unanswered(&mut self, author: u64, content: &str, marker: &str) {
        let id = self
            .sim
            .inject_message(self.channel(), author, content)
            .await
            .expect("inject");
        self.ask(author, marker).await;
        let replies: Vec<_> = self
            .sim
            .messages(self.channel())
            .into_iter()
            .filter(|m| m.reply_to == Some(id))
            .collect();
        assert!(replies.is_empty(), "`{content}` was answered: {replies:?}");
    }

    /// The descriptions of the messages titled `title` the bot posted on its own (not as
    /// replies) in the default channel: alerts, oldest first.
    pub fn alerts(&self, title: &str) -> Vec<String> {
        self.sim
            .messages(self.channel())
            .into_iter()
            .filter(|m| m.reply_to.is_none())
            .filter(|m| m.payload["embeds"][0]["title"] == title)
            .map(|m| {
                m.payload["embeds"][0]["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    /// Waits until the bot has posted `n` alerts titled `title`; the `n`th one's description.
    /// (It may have been posted while a reply was awaited.)
    pub async fn nth_alert(&mut self, title: &str, n: usize) -> String {
        loop {
            if let Some(alert) = self.alerts(title).get(n.saturating_sub(1)) {
                return alert.clone();
            }
            self.wait_event(&format!("alert {n} titled {title}"), |e| {
                matches!(e, SimEvent::BotMessage { reply_to: None, .. })
            })
            .await;
        }
    }

    /// Waits for the interaction callback of interaction `id`: (type, data).
    pub async fn callback(&mut self, id: u64) -> (u8, Value) {
        match self
            .wait_event(&format!("the callback of interaction {id}"), |e| {
                matches!(e, SimEvent::InteractionResponse { interaction_id, .. } if *interaction_id == id)
            })
            .await
        {
            SimEvent::InteractionResponse { kind, body, .. } => (kind, body),
            _ => unreachable!("matched an InteractionResponse"),
        }
    }

    /// Waits until the registered guild commands include `name`.
    pub async fn wait_registered(&mut self, name: &str) -> Vec<Value> {
        let guild = Some(self.guild());
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let commands = self.sim.registered_commands(guild);
            if commands.iter().any(|c| c["name"] == name) {
                return commands;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(_) => {}
                Err(_) => panic!("`{name}` was never registered: {commands:?}"),
            }
        }
    }

    /// Every request body the host sent validates against Discord's OpenAPI spec (skipped,
    /// with a notice, where the spec is absent).
    pub fn assert_requests_conform(&self) {
        let Some(spec) = zoryx_openapi::load_or_skip("the request-body conformance check") else {
            return;
        };
        let mut checked = 0;
        for request in self.sim.requests() {
            let Some(body) = &request.body else {
                continue;
            };
            if let Err(error) = spec.validate_request(&request.method, &request.path, body) {
                panic!(
                    "{} {} sent a body the spec refuses: {error}\n{body:#}",
                    request.method, request.path
                );
            }
            checked += 1;
        }
        assert!(checked > 0, "no request bodies to check");
    }

    /// Stops everything, checking first that every request body conformed to the spec.
    pub async fn shutdown(mut self) {
        self.stop().await;
        self.sim.shutdown().await;
    }

    /// Stops the bot (not the simulator), checking first that every request body conformed.
    async fn stop(&mut self) {
        self.diagnostics.stop();
        if let Some(handle) = self.handle.take() {
            handle.shutdown().await;
        }
        if let Some(cluster) = self.cluster.take() {
            cluster.shutdown().await;
        }
        self.assert_requests_conform();
        self.host.manager.shutdown().await;
        if let Some(db) = &self.db {
            zoryx_host::storage::db::shutdown(db).await;
        }
    }
}

/// The components of a message body, rows flattened.
pub fn components(body: &Value) -> Vec<Value> {
    body["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The text of a reply: its content, or its embeds' titles, descriptions and fields.
pub fn text_of(body: &Value) -> String {
    let mut out = body["content"].as_str().unwrap_or_default().to_owned();
    for embed in body["embeds"].as_array().into_iter().flatten() {
        for key in ["title", "description"] {
            if let Some(text) = embed[key].as_str() {
                out.push('\n');
                out.push_str(text);
            }
        }
        for field in embed["fields"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "\n{}: {}",
                field["name"].as_str().unwrap_or_default(),
                field["value"].as_str().unwrap_or_default()
            ));
        }
    }
    out
}
