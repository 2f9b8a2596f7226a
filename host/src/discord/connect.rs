//! Building and running the serenity client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder};
use serenity::gateway::GatewayError;

use super::bot::{Bot, State};
use super::builtins::Builtins;
use super::events::Handler;
use super::outbox::DiscordOutbox;
use super::rest::Rest;
use super::{Counters, DiscordError, DiscordHandle, DiscordOptions, Services, Sharding, slash};
use crate::guild_settings::GuildSettingsStore;
use crate::manager::Manager;

/// The intents the bot asks for: what commands and every plugin event kind need.
///
/// The non-privileged ones are always asked for, whether a loaded plugin listens or not:
/// plugins come and go while the bot stays connected, and the intents are fixed at IDENTIFY.
/// MESSAGE_CONTENT and GUILD_MEMBERS are privileged: they must be enabled for the application
/// in the Developer Portal (see [`PRIVILEGED`] and [`DiscordError::DisallowedIntents`]).
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MEMBERS
        | GatewayIntents::DIRECT_MESSAGES
        // Reactions (plugin-api 1.3 ReactionAdd / ReactionRemove).
        | GatewayIntents::GUILD_MESSAGE_REACTIONS
        | GatewayIntents::DIRECT_MESSAGE_REACTIONS
        // Bans (BanAdd / BanRemove).
        | GatewayIntents::GUILD_MODERATION
        // Voice channels joined, left and moved between (VoiceStateUpdate).
        | GatewayIntents::GUILD_VOICE_STATES
}

/// What the host keeps of the gateway's data: guilds with their roles, channels, voice states
/// and the bot's own member, which is what the command gate (the bot's and an author's
/// permissions from roles), the shard monitor (guilds and member counts per shard), voice events
/// and the saved sessions read. Not other members nor users: they are most of a guild's data
/// (50 members weigh twenty times a guild's roles and channels) and the host has them where it
/// needs them, in the message or interaction that names them (author roles, resolved members),
/// or asks Discord (`Host::member`, a help menu for someone's roles). Messages are not cached.
pub fn cache_settings() -> serenity::cache::Settings {
    let mut settings = serenity::cache::Settings::default();
    settings.max_messages = 0;
    settings.cache_users = false;
    settings.cache_members = false;
    settings
}

/// The privileged intents: the flag, its name, and the switch's label in the Developer
/// Portal (Bot → Privileged Gateway Intents).
pub const PRIVILEGED: [(GatewayIntents, &str, &str); 3] = [
    (
        GatewayIntents::GUILD_PRESENCES,
        "GUILD_PRESENCES",
        "Presence Intent",
    ),
    (
        GatewayIntents::GUILD_MEMBERS,
        "GUILD_MEMBERS",
        "Server Members Intent",
    ),
    (
        GatewayIntents::MESSAGE_CONTENT,
        "MESSAGE_CONTENT",
        "Message Content Intent",
    ),
];

/// The privileged intents among `intents`, as `"Label" (NAME)`.
pub fn privileged(intents: GatewayIntents) -> Vec<String> {
    PRIVILEGED
        .iter()
        .filter(|(flag, _, _)| intents.contains(*flag))
        .map(|(_, name, label)| format!("\"{label}\" ({name})"))
        .collect()
}

/// A client error in words the operator can act on.
fn explain(error: serenity::Error) -> DiscordError {
    match error {
        serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
            DiscordError::DisallowedIntents {
                privileged: privileged(intents()),
            }
        }
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => DiscordError::InvalidToken,
        serenity::Error::Gateway(GatewayError::InvalidShardData) => DiscordError::Sharding(
            "Discord refused the shard settings (SHARD_COUNT / SHARD_IDS)".into(),
        ),
        serenity::Error::Http(http) if http.status_code().map(|s| s.as_u16()) == Some(401) => {
            DiscordError::InvalidToken
        }
        other => DiscordError::Gateway(other.to_string()),
    }
}

/// Where shards get their turns to identify: the configured gateway queue, or a queue of this
/// process with the limits Discord reports (`GET /gateway/bot`).
async fn identify_turns(
    options: &DiscordOptions,
    rest: &Rest,
) -> Result<super::sessions::StartHook, DiscordError> {
    use super::sessions::{Restored, StartHook};
    if let Some(url) = &options.gateway_queue {
        tracing::info!(%url, "shards identify when the gateway queue allows");
        return StartHook::remote(url, Restored::default()).map_err(DiscordError::Gateway);
    }
    let limits = match rest.get("/gateway/bot").await {
        Ok(body) => session_start_limit(&body),
        Err(error) => {
            tracing::warn!(%error, "GET /gateway/bot failed; identifying one shard per 5 s");
            None
        }
    };
    let limits = limits.unwrap_or_else(|| zoryx_queue::SessionStartLimit {
        max_concurrency: 1,
        remaining: 1000,
        reset_after: std::time::Duration::from_secs(86_400),
        total: 1000,
    });
    tracing::debug!(?limits, "identify limits");
    Ok(StartHook::local(&limits, Restored::default()))
}

/// `session_start_limit` from a `GET /gateway/bot` answer, checked.
fn session_start_limit(body: &serde_json::Value) -> Option<zoryx_queue::SessionStartLimit> {
    let limit = body.get("session_start_limit")?;
    let number = |key: &str| limit.get(key).and_then(serde_json::Value::as_u64);
    zoryx_queue::SessionStartLimit::new(
        u16::try_from(number("max_concurrency")?).ok()?,
        u32::try_from(number("remaining")?).ok()?,
        std::time::Duration::from_millis(number("reset_after")?),
        u32::try_from(number("total")?).ok()?,
    )
    .ok()
}

/// The contiguous shard range `ids` (inclusive), or why not.
fn shard_range(count: u32, ids: &[u32]) -> Result<(u32, u32), DiscordError> {
    if ids.is_empty() {
        return Ok((0, count.saturating_sub(1)));
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let (first, last) = (sorted[0], sorted[sorted.len() - 1]);
    if last - first + 1 != sorted.len() as u32 {
        return Err(DiscordError::Sharding(format!(
            "SHARD_IDS must be a contiguous range (got {ids:?})"
        )));
    }
    if last >= count {
        return Err(DiscordError::Sharding(format!(
            "shard {last} is not below SHARD_COUNT={count}"
        )));
    }
    Ok((first, last))
}

pub(super) async fn start(
    manager: Arc<Manager>,
    settings: Arc<dyn GuildSettingsStore>,
    options: DiscordOptions,
    services: Services,
) -> Result<DiscordHandle, DiscordError> {
    if options.token.trim().is_empty() {
        return Err(DiscordError::NoToken);
    }
    let shard_plan = match &options.shards {
        Sharding::Auto => None,
        Sharding::Fixed { count, ids } => Some((*count, shard_range(*count, ids)?)),
    };
    let rest = Rest::new(options.api_base.as_deref(), &options.token)
        .with_cdn(options.cdn_base.as_deref());
    // Check the token before anything else: a clear error now beats a silent retry loop.
    let me = rest.get("/users/@me").await.map_err(|e| match e.status() {
        Some(401) => DiscordError::InvalidToken,
        _ => DiscordError::Rest(e),
    })?;
    let bot_id = me
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);

    let mut http = HttpBuilder::new(&options.token);
    if let Some(base) = &options.api_base {
        // serenity 0.12.5 only honours the proxy with its own rate limiter off; the host's REST
        // client (see `rest`) handles 429s itself.
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let start_hook = Arc::new(identify_turns(&options, &rest).await?);
    let counters = Arc::new(Counters::default());
    let options_status = options.status.clone();
    let bot = Arc::new(Bot {
        manager: Arc::clone(&manager),
        settings,
        options,
        rest: rest.clone(),
        counters: Arc::clone(&counters),
        state: State::default(),
        started: Instant::now(),
        bot_id: AtomicU64::new(bot_id),
        application_id: AtomicU64::new(0),
        builtins: Builtins::standard(),
        cache: std::sync::OnceLock::new(),
        shards: std::sync::OnceLock::new(),
        slash_wake: tokio::sync::Notify::new(),
        services,
        in_flight: tokio::sync::watch::Sender::new(0),
        expiry: Arc::new(super::expiry::Expiry::new(rest.clone())),
        presence: super::presence::Rotator::new(&options_status),
        shard_metrics: super::status::ShardMetrics::default(),
        start_hook: Arc::clone(&start_hook),
        readies: std::sync::Mutex::default(),
    });
    bot.services.gateway.attach(&bot);
    // The catalogue plugins read (help menus) lists the host's commands first.
    manager
        .dispatcher()
        .shared()
        .set_builtin_commands(bot.builtins.iter().map(|b| b.spec.clone()).collect());
    manager
        .dispatcher()
        .shared()
        .set_stats_source(Box::new(super::bot::ConnectionStats(Arc::downgrade(&bot))));
    let mut client = ClientBuilder::new_with_http(http.build(), intents())
        .cache_settings(cache_settings())
        .event_handler(Handler {
            bot: Arc::clone(&bot),
        })
        .shard_start_hook(start_hook.clone())
        .await
        .map_err(explain)?;
    if let Some(path) = &bot.options.sessions_file {
        let restored = super::sessions::restore(path, &bot.options.token, &client.cache);
        if let Some(application) = restored.application_id() {
            // READY would have told serenity; a resumed session has no READY.
            client.http.set_application_id(application.into());
            bot.application_id.store(application, Ordering::Relaxed);
        }
        start_hook.set_restored(restored);
    }
    if let Some(url) = &bot.options.gateway_url {
        // serenity reads it at every connect (reconnects and resumes too).
        tracing::info!(%url, "gateway URL set by configuration");
        *client.ws_url.lock().await = url.trim_end_matches('/').to_owned();
    }
    let _ = bot.cache.set(Arc::clone(&client.cache));
    let _ = bot.shards.set(Arc::clone(&client.shard_manager));
    let shard_manager = Arc::clone(&client.shard_manager);

    manager
        .dispatcher()
        .shared()
        .set_outbox(Box::new(DiscordOutbox {
            rest,
            counters: Arc::clone(&counters),
            bot_id,
            expiry: Arc::clone(&bot.expiry),
            bot: Arc::downgrade(&bot),
        }));

    let runner = Arc::clone(&bot);
    let client_task = tokio::spawn(async move {
        let result = match shard_plan {
            None => client.start_autosharded().await,
            // serenity's range end is inclusive here.
            Some((count, (first, last))) => client.start_shard_range(first..last, count).await,
        };
        match result {
            Ok(()) => {
                tracing::info!("Discord client stopped");
                runner.state.set_stopped(None);
            }
            Err(error) => {
                let error = explain(error);
                tracing::error!("{error}");
                runner.state.set_stopped(Some(error));
            }
        }
    });
    let mut background = vec![
        tokio::spawn(slash::run_registrar(Arc::clone(&bot))),
        tokio::spawn(super::presence::run(Arc::clone(&bot))),
    ];
    if let Some(db) = &bot.services.db {
        let weak = Arc::downgrade(&bot);
        background.push(db.databases().spawn_orphan_cleanup(
            std::time::Duration::from_secs(3600),
            move || {
                weak.upgrade()
                    .map(|bot| bot.guild_ids())
                    .unwrap_or_default()
            },
        ));
    }
    Ok(DiscordHandle {
        bot,
        client: client_task,
        shard_manager,
        background,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_ranges() {
        assert_eq!(shard_range(4, &[]).expect("all"), (0, 3));
        assert_eq!(shard_range(4, &[2, 1]).expect("range"), (1, 2));
        assert!(shard_range(4, &[0, 2]).is_err());
        assert!(shard_range(2, &[1, 2]).is_err());
    }

    #[test]
    fn the_privileged_intents_asked_for_are_named_with_their_switches() {
        assert_eq!(
            privileged(intents()),
            [
                "\"Server Members Intent\" (GUILD_MEMBERS)",
                "\"Message Content Intent\" (MESSAGE_CONTENT)"
            ]
        );
        assert!(privileged(GatewayIntents::GUILDS).is_empty());
        assert!(!intents().contains(GatewayIntents::GUILD_PRESENCES));
        assert!(intents().contains(
            GatewayIntents::GUILD_MESSAGE_REACTIONS
                | GatewayIntents::GUILD_VOICE_STATES
                | GatewayIntents::GUILD_MODERATION
        ));
    }
}
