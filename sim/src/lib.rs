//! # zoryx-sim
//!
//! A Discord simulator on loopback: the REST API v10 under `/api/v10` and a gateway WebSocket,
//! which serenity 0.12.5 connects to exactly as it connects to Discord. It serves the end-to-end
//! tests and the host's offline mode.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zoryx_sim::SimError> {
//! use std::time::Duration;
//! use zoryx_sim::{SimConfig, SimEvent, Simulator};
//!
//! let sim = Simulator::start(SimConfig::default()).await?;
//! // serenity: HttpBuilder::new(sim.token()).proxy(sim.base_url()).ratelimiter_disabled(true)
//! let mut events = sim.subscribe();
//! sim.wait_ready(Duration::from_secs(10)).await?;
//! let asked = sim
//!     .inject_message(sim.default_channel(), sim.owner().id, "!ping")
//!     .await?;
//! while let Ok(event) = events.recv().await {
//!     if let SimEvent::BotMessage { reply_to: Some(id), .. } = event {
//!         if id == asked {
//!             break;
//!         }
//!     }
//! }
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! ## What it simulates
//! - **Gateway** ([`gateway`]): HELLO, IDENTIFY (token check → 4004, privileged intents → 4014
//!   when [`SimConfig::privileged_intents_enabled`] is off), READY, GUILD_CREATE with the full
//!   key set, heartbeats, RESUME with a per-session replay buffer, RECONNECT, INVALID_SESSION,
//!   close codes, sharding by `(guild_id >> 22) % shard_count`, intents filtering (no
//!   MESSAGE_CONTENT → empty `content`).
//! - **World** ([`world`]): guilds, channels, roles, members, users, messages, interactions
//!   and application commands; by default the guild "Zoryx Sandbox" with #general and
//!   #bot-commands, roles @everyone, Moderator and Admin, and the users bot, operator (owner)
//!   and guest.
//! - **REST** ([`rest`]): gateway discovery, users and application, channel messages,
//!   interaction callbacks and webhooks (followups, `@original`), application command bulk
//!   overwrite, guild/role/channel/member reads; auth check, Discord's error shapes,
//!   rate-limit headers and scripted 429s ([`Simulator::rate_limit`]).
//! - **Observation**: [`Simulator::subscribe`] ([`SimEvent`]: what the bot did, each reply tied
//!   to the message or interaction it answers), [`Simulator::requests`] (every REST request)
//!   and world reads ([`Simulator::messages`], [`Simulator::registered_commands`]).
//! - **OpenAPI**: the tests check every REST answer against Discord's official OpenAPI 3.1
//!   spec with the `zoryx-openapi` crate (a dev-dependency, so the simulator is built the same
//!   for the bot and for the tests).
//!
//! ## Scripting at a glance
//! | What | Call | What the bot sees |
//! |---|---|---|
//! | a user speaks | [`Simulator::inject_message`], [`Simulator::inject_reply`], [`Simulator::inject_dm`] | MESSAGE_CREATE |
//! | slash command / click | [`Simulator::inject_slash`], [`Simulator::inject_component`] | INTERACTION_CREATE |
//! | people and guilds | [`Simulator::add_user`], [`Simulator::add_member`], [`Simulator::remove_member`], [`Simulator::add_guild`], [`Simulator::remove_guild`], [`Simulator::add_channel`] | GUILD_MEMBER_ADD/REMOVE, GUILD_CREATE/DELETE, CHANNEL_CREATE |
//! | roles | [`Simulator::add_role`], [`Simulator::remove_role`], [`Simulator::add_member_role`], [`Simulator::remove_member_role`] | GUILD_ROLE_CREATE/DELETE, GUILD_MEMBER_UPDATE |
//! | connection trouble | [`Simulator::drop_session`], [`Simulator::send_reconnect`], [`Simulator::invalidate_session`], [`Simulator::refuse_gateway`] | close code, op 7, op 9, 503 on connect |
//! | Discord pushing back | [`Simulator::rate_limit`], [`SimConfig::privileged_intents_enabled`] | 429, close 4014 |
//!
//! Answers are tied to what they answer: a reply's [`SimEvent::BotMessage`] carries
//! `reply_to` (its `message_reference.message_id`); [`SimEvent::InteractionResponse`] and
//! [`SimEvent::Followup`] carry the interaction id. An event is sent only after its REST
//! request is in [`Simulator::requests`].
//!
//! ## Known limits
//! - Attachments: a multipart message's `payload_json` is used, the files are not stored.
//! - Only text and DM channels; no threads, voice, presences, reactions or member chunking
//!   (op 8 is accepted and ignored).
//! - Discord's per-field `errors` of a 400 use string codes (`"BASE_TYPE_MAX_LENGTH"`), as
//!   Discord and serenity do; the OpenAPI spec types them as integers, so the conformance
//!   test checks that tree with serenity's parser instead of the spec.
//! - Real rate limiting is not simulated: headers always report room left, and 429s come
//!   only from [`Simulator::rate_limit`].

pub mod config;
pub mod error;
pub mod events;
pub mod gateway;
mod interactions;
pub mod rest;
mod simulator;
pub mod snowflake;
pub mod world;

pub use config::SimConfig;
pub use error::SimError;
pub use events::{MessageRecord, RecordedRequest, SimEvent, UserInfo};
pub use simulator::Simulator;
pub use world::permissions;
