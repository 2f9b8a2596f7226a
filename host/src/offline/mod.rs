//! Offline mode: with no Discord token, `zoryx run` starts the Discord simulator in-process
//! ([`simulator`]), connects the bot to it through the same [`crate::discord::start`] path as a
//! real token, and opens a chat console where the operator's lines become messages in the
//! simulated guild. With the web dashboard on and no Discord application configured for it,
//! its "Log in with Discord" uses the simulator's OAuth2 endpoints ([`dashboard_login`]), the
//! browser logged in to the simulated Discord as the operator.
//!
//! - [`colour`]: embed colours by name;
//! - [`render`]: the bot's messages (as sent to the simulator) for a terminal;
//! - [`form`]: the forms (modals) the bot shows, rendered and filled field by field;
//! - [`line`](mod@line): what the operator types, parsed;
//! - [`chat`]: the console itself.

pub mod chat;
pub mod colour;
pub mod form;
pub mod line;
pub mod render;

use std::sync::Arc;
use std::time::Duration;

use zoryx_sim::{SimConfig, SimError, Simulator};

use crate::config::{BotEnv, CoreConfig, DashboardConfig};
use crate::console::{ConsoleMode, Ended, Input};
use crate::discord::{self, DiscordError, DiscordHandle, DiscordOptions, Services};
use crate::guild_settings::GuildSettingsStore;
use crate::manager::Manager;
use crate::stop::{Stop, StopReason};

pub use chat::ChatConsole;

/// How long the bot may take to connect to the simulator.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The voice channel the sandbox guild gets, for `:join`.
pub const VOICE_CHANNEL: &str = "Lounge";

/// Offline mode could not start.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// The simulator did not start.
    #[error("the Discord simulator did not start: {0}")]
    Simulator(#[from] SimError),
    /// The bot could not connect to it.
    #[error("the bot could not connect to the simulator: {0}")]
    Discord(#[from] DiscordError),
    /// The bot did not get READY in time.
    #[error("the bot did not connect to the simulator within {0:?}")]
    NotReady(Duration),
}

/// Starts the simulator on a loopback port, its guild given the voice channel
/// [`VOICE_CHANNEL`].
pub async fn simulator() -> Result<Simulator, OfflineError> {
    let sim = Simulator::start(SimConfig::default()).await?;
    sim.add_voice_channel(sim.default_guild(), VOICE_CHANNEL)?;
    Ok(sim)
}

/// Discord login for the dashboard against `sim`, unless `config` names an application of its
/// own: the simulated application's client id and secret, the simulator as Discord's API base,
/// and the simulated operator among the owners. Call [`dashboard_started`] once it listens.
pub fn dashboard_login(
    sim: &Simulator,
    config: &DashboardConfig,
    sources: &mut crate::dashboard::Sources,
) -> DashboardConfig {
    let mut config = config.clone();
    sources.owners.push(sim.owner().id);
    if config.oauth_client_id.is_none() && config.oauth_client_secret.is_none() {
        config.oauth_client_id = Some(sim.application_id().to_string());
        config.oauth_client_secret = Some(sim.oauth_client_secret().to_owned());
        sources.api_base = Some(sim.base_url());
    }
    config
}

/// Registers the running dashboard's callback with `sim` (as an application's redirect URI is
/// registered on the Developer Portal), and logs the browser in to the simulated Discord as the
/// operator, so "Log in with Discord" comes straight back logged in as them.
pub fn dashboard_started(sim: &Simulator, dashboard: &crate::dashboard::Dashboard) {
    sim.add_oauth_redirect(&format!("{}/login/callback", dashboard.url()));
    sim.sign_in_oauth_as(Some(sim.owner().id));
}

/// A running simulator with the bot connected to it.
pub struct Offline {
    sim: Simulator,
    bot: DiscordHandle,
    manager: Arc<Manager>,
}

impl Offline {
    /// Connects the bot to `sim` (see [`simulator`]), with the simulated operator among the
    /// owners, guild settings in `settings` and the owner commands' storage in `services`.
    /// Returns once the bot is READY.
    pub async fn start(
        sim: Simulator,
        manager: Arc<Manager>,
        config: &CoreConfig,
        env: &BotEnv,
        settings: Arc<dyn GuildSettingsStore>,
        services: Services,
    ) -> Result<Self, OfflineError> {
        let env = BotEnv {
            token: Some(sim.token().to_owned()),
            api_base: Some(sim.base_url()),
            cdn_base: Some(sim.cdn_url()),
            shard_count: None,
            shard_ids: None,
            ..env.clone()
        };
        let mut options = DiscordOptions::from_config(config, &env)?;
        options.api_base = Some(sim.base_url());
        options.cdn_base = Some(sim.cdn_url());
        options.owners.push(sim.owner().id);
        options.test_guild_id = Some(sim.default_guild());
        let bot = discord::start_with(Arc::clone(&manager), settings, options, services).await?;
        tokio::time::timeout(READY_TIMEOUT, bot.ready())
            .await
            .map_err(|_| OfflineError::NotReady(READY_TIMEOUT))?;
        tracing::info!(api = %sim.base_url(), "offline mode: connected to the simulator");
        Ok(Self { sim, bot, manager })
    }

    /// The simulator the bot is connected to.
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    /// The chat console over this session.
    pub fn console(&self) -> ChatConsole {
        ChatConsole::new(self.sim.clone(), Arc::clone(&self.manager))
    }

    /// Disconnects the bot, then stops the simulator.
    pub async fn shutdown(self) {
        self.bot.shutdown().await;
        self.sim.shutdown().await;
    }
}

/// How [`run`] is set up: the simulator, the bot's config, environment and storage.
pub struct RunOptions<'a> {
    /// The simulator ([`simulator`]); [`run`] stops it at the end.
    pub sim: Simulator,
    /// `config.json`.
    pub config: &'a CoreConfig,
    /// The environment (its token is ignored: the simulator's is used).
    pub env: &'a BotEnv,
    /// Per-guild settings (the simulated guild keeps its id across runs, so they persist).
    pub settings: Arc<dyn GuildSettingsStore>,
    /// Storage for the owner commands.
    pub services: Services,
    /// Whether the chat console reads stdin. The chat is the console, so in both
    /// [`ConsoleMode::Interactive`] and [`ConsoleMode::Unattended`] the end of its input ends
    /// the chat and stops the host; with [`ConsoleMode::Off`] there is no chat and the bot
    /// serves (plugins' tasks run) until a signal.
    pub console: ConsoleMode,
}

/// `zoryx run` without a token: starts offline mode, runs the chat console (see
/// [`RunOptions::console`]) until `:quit` or the end of its input — which request `stop` — or
/// until `stop` is requested otherwise, then disconnects.
pub async fn run(
    manager: Arc<Manager>,
    options: RunOptions<'_>,
    stop: &Stop,
) -> Result<(), OfflineError> {
    let mode = options.console;
    let offline = Offline::start(
        options.sim,
        manager,
        options.config,
        options.env,
        options.settings,
        options.services,
    )
    .await?;
    let session = async {
        if mode != ConsoleMode::Off {
            let reason = match offline.console().run(Input::stdin()).await {
                Ended::Quit => StopReason::Quit,
                Ended::EndOfInput => StopReason::EndOfInput,
            };
            stop.request(reason);
        }
        std::future::pending::<()>().await;
    };
    tracing::info!(console = ?mode, "running (stop with quit, Ctrl-C or SIGTERM)");
    tokio::select! {
        () = session => {}
        _ = stop.requested() => {}
    }
    offline.shutdown().await;
    Ok(())
}
