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
//!   MESSAGE_CONTENT → empty `content`); compression as Discord does it
//!   ([`gateway::compression`]): transport compression (`?compress=zlib-stream`, one zlib stream
//!   per connection, HELLO included, long messages over several frames) and payload compression
//!   (IDENTIFY `compress: true`, each large payload a zlib stream of its own), or, with
//!   [`SimConfig::identify_compress`] set to [`IdentifyCompress::SharedStream`], as
//!   Gelbpunkt/gateway-proxy does it (IDENTIFY `compress: true` turns on a shared stream).
//! - **World** ([`world`]): guilds, channels (text, voice, categories, DMs) with permission
//!   overwrites, roles with positions, members (nick, roles, timeout), who is in which voice
//!   channel, bans, custom emojis (with their images), guild settings, users, messages with
//!   reactions and users' attachments (names and sizes, or with contents), channel webhooks, interactions (slash commands, context menus,
//!   components, autocomplete, modal submissions) and application commands;
//!   by default the guild "Zoryx Sandbox" with #general and #bot-commands, roles @everyone,
//!   Moderator (1), Admin (2) and the bot's own role (3, ADMINISTRATOR, on top), and the users
//!   bot, operator (owner) and guest. New roles go to position 1, as on Discord.
//! - **REST** ([`rest`]): gateway discovery, users and application, leaving a guild (`DELETE
//!   /users/@me/guilds/{g}`: GUILD_DELETE, 10004 for one the bot is not in), channel messages,
//!   interaction callbacks and webhooks (followups, `@original`), application command bulk
//!   overwrite, guild/role/channel/member reads; auth check, Discord's error shapes,
//!   rate-limit headers and scripted 429s ([`Simulator::rate_limit`]). Moderation,
//!   interactions and commands:
//!   - reactions: `PUT|DELETE /channels/{c}/messages/{m}/reactions/{emoji}/@me`,
//!     `DELETE .../reactions/{emoji}/{user}`, `GET .../reactions/{emoji}` (`limit`, `after`),
//!     `DELETE .../reactions[/{emoji}]`; `{emoji}` is URL-encoded unicode or `name:id`
//!     (400 10014 Unknown Emoji otherwise), at most 20 emojis a message (30010);
//!   - `POST /channels/{c}/messages/bulk-delete` (2..=100 distinct ids, 50034 for messages
//!     over 14 days old); `DELETE` of others' messages needs MANAGE_MESSAGES (50003 in DMs);
//!   - members: `PATCH /guilds/{g}/members/{u}` (`nick`, `roles`,
//!     `communication_disabled_until` up to 28 days; `mute`/`deaf`/`channel_id` answer 40032:
//!     voice moderation is not simulated), `PATCH /guilds/{g}/members/@me` (`nick`),
//!     `DELETE` (kick; a member in voice is disconnected first);
//!     `PATCH /guilds/{g}/roles` (positions);
//!   - bans: `PUT|GET|DELETE /guilds/{g}/bans/{u}` (`delete_message_seconds` 0..=604800,
//!     10026 Unknown Ban), `GET /guilds/{g}/bans` (`limit`, `before`, `after`);
//!   - channels: `PATCH|DELETE /channels/{c}`, categories (`type` 4) and `parent_id` on
//!     `POST /guilds/{g}/channels`, `PUT|DELETE /channels/{c}/permissions/{id}`;
//!   - emojis: `GET /guilds/{g}/emojis[/{e}]`, `POST /guilds/{g}/emojis` (201; `name` 2–32 of
//!     `[A-Za-z0-9_]`, `image` a PNG/GIF/JPEG/WebP data URI of at most 256 KiB, `roles`),
//!     `PATCH|DELETE /guilds/{g}/emojis/{e}`: CREATE_GUILD_EXPRESSIONS or
//!     MANAGE_GUILD_EXPRESSIONS (only the latter for emojis the bot did not upload), at most
//!     50 static and 50 animated (30008, 30018), 10014 Unknown Emoji (see [`rest::emojis`]);
//!   - guild settings: `PATCH /guilds/{g}` (MANAGE_GUILD; `name`, `description`,
//!     `verification_level`, `default_message_notifications`, `explicit_content_filter`,
//!     `afk_channel_id`, `afk_timeout`, `system_channel_id`, `system_channel_flags`,
//!     `preferred_locale`, each checked as Discord does), GUILD_UPDATE;
//!   - role deletion takes the role from members, channel overwrites (CHANNEL_UPDATE) and
//!     emojis, as Discord does;
//!   - channel webhooks: `POST|GET /channels/{c}/webhooks`,
//!     `GET|DELETE /webhooks/{id}`, `POST /webhooks/{id}/{token}` (`?wait=true`; no
//!     Authorization needed), names without "clyde"/"discord";
//!   - DMs: 50007 "Cannot send messages to this user" to bots and to users who closed their
//!     DMs ([`Simulator::close_dms`]);
//!   - files: `multipart/form-data` message bodies (a `payload_json` part and `files[n]`
//!     parts) on every route that takes a message — channel messages and their edits,
//!     interaction callbacks 4 and 7, followups, `@original` and followup edits, webhook
//!     executions: `attachments` entries name the parts by `id` (50035 `attachments.{i}`
//!     ATTACHMENT_NOT_FOUND for an entry with neither a part nor a kept attachment), at most
//!     ten files (30015), at most 10 MiB each (413, 40005), file names of 1–1024 characters
//!     and descriptions of at most 1024; an edit keeps the attachments its `attachments`
//!     lists, or adds its files to them when it has none; ATTACH_FILES in guild channels;
//!     attachments are answered with `content_type` (from the part) and `description`;
//!   - interaction callbacks by interaction type, as Discord takes them (50035 `type`: "Value
//!     must be one of {..}." otherwise): commands and context menus {4, 5, 9}, components
//!     {4, 5, 6, 7, 9}, autocomplete {8} only, modal submissions {4, 5, 6, 7} (6 and 7 for a
//!     modal a component showed) — never a modal for a modal; suggestions (8): at most 25,
//!     names of 1–100 characters, string values of at most 100; modals (9): `custom_id`
//!     1–100, title 1–45, 1–5 action rows of one text input (style 1/2, label 1–45, lengths
//!     0–4000/1–4000, placeholder ≤ 100, value ≤ 4000), field paths in the 50035 errors;
//!   - command registration: option choices (string/integer/number only, ≤ 25, names 1–100,
//!     values of the option's type), `min_value`/`max_value` (integer/number), `min_length`/
//!     `max_length` (string, 0–6000/1–6000), `channel_types` (channel), `autocomplete` (never
//!     with choices), subcommands and groups (never beside other options, one level of groups),
//!     `default_member_permissions` (integer or string, answered as a string), `contexts`,
//!     user and message commands (types 2 and 3: no description, no options).
//! - **Permissions** ([`permissions`]): Discord's algorithm per channel (roles, ADMINISTRATOR
//!   and the owner get all, then the @everyone, role and member overwrites; no VIEW_CHANNEL →
//!   50001 Missing Access), and the role hierarchy: the bot acts (nick, timeout, kick, ban)
//!   only on members whose highest role is below its own, never on the owner, and manages
//!   (edits, deletes, assigns, moves) only roles below its highest; 50013 otherwise. It only
//!   grants, in roles and overwrites, permissions it has.
//! - **Gateway events** of the moderation routes, each only to sessions with its intent:
//!   MESSAGE_REACTION_ADD (with `member` in guilds) / _REMOVE / _REMOVE_ALL / _REMOVE_EMOJI
//!   (GUILD_MESSAGE_REACTIONS or DIRECT_MESSAGE_REACTIONS), MESSAGE_DELETE_BULK
//!   (GUILD_MESSAGES), GUILD_MEMBER_UPDATE / GUILD_MEMBER_REMOVE (GUILD_MEMBERS),
//!   GUILD_BAN_ADD / GUILD_BAN_REMOVE (GUILD_MODERATION), CHANNEL_CREATE / _UPDATE / _DELETE
//!   GUILD_UPDATE and GUILD_ROLE_UPDATE (GUILDS), GUILD_EMOJIS_UPDATE (GUILD_EXPRESSIONS), WEBHOOKS_UPDATE
//!   (GUILD_WEBHOOKS), VOICE_STATE_UPDATE when a member in voice is kicked, banned or their
//!   channel deleted (GUILD_VOICE_STATES).
//! - **CDN** on the same listener ([`Simulator::cdn_url`]; a host rewrites
//!   `https://cdn.discordapp.com` and `https://media.discordapp.net` to it, keeping path and
//!   query): `GET /attachments/{channel}/{attachment}/{filename}` and
//!   `GET /ephemeral-attachments/{application}/{attachment}/{filename}` answer a file's bytes
//!   (`Content-Type` from its `content_type`, else `application/octet-stream`), and
//!   `GET /emojis/{id}.{png|gif|webp|jpg|jpeg|avif}` an emoji's image (the uploaded one, or a
//!   placeholder PNG for [`Simulator::add_emoji`]'s); queries are ignored, anything unknown or
//!   stored without contents is a plain-text 404. Files and images stay served after their
//!   message or emoji is deleted, as Discord's CDN keeps them a while ([`world::cdn`]).
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
//! | a user speaks | [`Simulator::inject_message`], [`Simulator::inject_reply`], [`Simulator::inject_dm`], [`Simulator::inject_files`], [`Simulator::inject_file_data`] (with attachments) | MESSAGE_CREATE |
//! | a user edits or deletes a message | [`Simulator::inject_edit`] (their own), [`Simulator::inject_delete`] (their own, or with MANAGE_MESSAGES) | MESSAGE_UPDATE, MESSAGE_DELETE |
//! | slash command / click | [`Simulator::inject_slash`] (a subcommand path: `"config set"`), [`Simulator::inject_component`] | INTERACTION_CREATE (types 2, 3) |
//! | typing into an autocomplete option | [`Simulator::inject_autocomplete`] | INTERACTION_CREATE (type 4) |
//! | submitting the modal the bot showed | [`Simulator::inject_modal_submit`] | INTERACTION_CREATE (type 5) |
//! | "Apps" on a user or a message | [`Simulator::inject_user_command`], [`Simulator::inject_message_command`] | INTERACTION_CREATE (type 2, command types 2, 3) |
//! | people and guilds | [`Simulator::add_user`], [`Simulator::add_member`], [`Simulator::remove_member`], [`Simulator::add_guild`], [`Simulator::remove_guild`], [`Simulator::add_channel`], [`Simulator::add_voice_channel`] | GUILD_MEMBER_ADD/REMOVE, GUILD_CREATE/DELETE, CHANNEL_CREATE |
//! | voice | [`Simulator::inject_voice_join`], [`Simulator::inject_voice_move`], [`Simulator::inject_voice_leave`], [`Simulator::voice_channel`] | VOICE_STATE_UPDATE (GUILD_VOICE_STATES, 1 << 7); GUILD_CREATE carries `voice_states` |
//! | roles | [`Simulator::add_role`], [`Simulator::remove_role`], [`Simulator::add_member_role`], [`Simulator::remove_member_role`] | GUILD_ROLE_CREATE/DELETE, GUILD_MEMBER_UPDATE |
//! | taking permissions away | [`Simulator::set_role_permissions`], [`Simulator::set_role_position`], [`Simulator::bot_role`] | GUILD_ROLE_UPDATE |
//! | a user reacts | [`Simulator::inject_reaction`], [`Simulator::inject_unreaction`] | MESSAGE_REACTION_ADD/REMOVE |
//! | custom emojis | [`Simulator::add_emoji`], [`Simulator::emojis`] | GUILD_EMOJIS_UPDATE |
//! | a file for a slash command's attachment option | [`Simulator::upload`], [`Simulator::upload_data`] | (`resolved.attachments`) |
//! | reading guild settings | [`Simulator::guild`], [`Simulator::guild_settings`] | — |
//! | DMs closed | [`Simulator::close_dms`], [`Simulator::open_dms`] | (50007 on the bot's DMs) |
//! | reading moderation state | [`Simulator::member`], [`Simulator::bans`], [`Simulator::channel`], [`Simulator::message`] (with `reactions`) | — |
//! | connection trouble | [`Simulator::drop_session`], [`Simulator::send_reconnect`], [`Simulator::invalidate_session`], [`Simulator::refuse_gateway`] | close code, op 7, op 9, 503 on connect |
//! | Discord pushing back | [`Simulator::rate_limit`], [`SimConfig::privileged_intents_enabled`] | 429, close 4014 |
//!
//! Answers are tied to what they answer: a reply's [`SimEvent::BotMessage`] carries
//! `reply_to` (its `message_reference.message_id`); [`SimEvent::InteractionResponse`] and
//! [`SimEvent::Followup`] carry the interaction id. An event is sent only after its REST
//! request is in [`Simulator::requests`].
//!
//! Like Discord's client, the injections refuse ([`SimError::Invalid`]) what a user could not
//! send: a registered command where its `contexts` do not offer it or to a member without its
//! `default_member_permissions` (administrators have them all), options outside the
//! registered choices, range or lengths or a required one missing, autocomplete on an option
//! not marked for it, a modal submission with a required input empty or a text outside the
//! input's lengths, a click on a disabled button or select menu. Inputs a submission leaves
//! out are sent as the client sends untouched ones: with the modal's prefilled value.
//!
//! ## Known limits
//! - Attachments: the bot's files are stored with their contents ([`Simulator::attachments`]),
//!   users' with theirs ([`Simulator::inject_file_data`], [`Simulator::upload_data`]) or only
//!   with a name and a size ([`Simulator::inject_files`], [`Simulator::upload`]); their URLs
//!   have Discord's CDN form. The upload limit is the default 10 MiB per file.
//!   A `files[n]` part that no `attachments` entry names is refused with a 50035 on
//!   `files[n]` (ATTACHMENT_NOT_FOUND), a shape of the simulator's own.
//! - Text channels, voice channels (members join, move and leave; no text chat in them, no
//!   audio, no mute or deafen), categories and DMs; no threads, presences, super reactions
//!   or member chunking (op 8 is accepted and ignored). Member `mute`/`deaf`/`channel_id`
//!   are always refused with 40032.
//! - The CDN answers an emoji's uploaded format whatever extension is asked for (the real one
//!   converts), and ignores `size`/`quality`; attachments and emoji images are never expired.
//! - Guild settings: fields of `PATCH /guilds/{g}` other than the ten listed above (icon,
//!   banner, features, rules channel, ...) are accepted and not stored. `description` takes up
//!   to 300 characters, as the API (and its spec) does, though Discord's client stops at 120.
//!   The wording of the refusals of a channel of another guild or of the wrong type
//!   (`CHANNEL_INVALID`, `CHANNEL_INVALID_TYPE`) is the simulator's own.
//! - Emojis: the guild has no boosts (50 + 50 emojis); `roles` naming an unknown role is
//!   refused with 10011, a choice of the simulator's.
//! - Unicode emojis are recognised by their code points (emoji blocks, joiners, keycaps), not
//!   against Discord's full emoji list.
//! - A channel's `position` is stored as sent; the other channels are not renumbered.
//!   Channel overwrites are copied from a category when a channel is created in it, not kept
//!   in sync afterwards.
//! - Timed-out members keep their permissions (only the timestamp is stored); DMs need no
//!   mutual guild.
//! - A user banned from a guild cannot be put back by [`Simulator::add_member`] (it returns
//!   [`SimError::Invalid`]) until the ban is lifted.
//! - MESSAGE_REACTION_REMOVE_EMOJI also carries `burst` and `type`, which serenity 0.12
//!   requires there.
//! - Discord's per-field `errors` of a 400 use string codes (`"BASE_TYPE_MAX_LENGTH"`), as
//!   Discord and serenity do; the OpenAPI spec types them as integers, so the conformance
//!   test checks that tree with serenity's parser instead of the spec.
//! - Permission overrides per server for application commands are not simulated: the default
//!   member permissions are all that decides.
//! - Real rate limiting is not simulated: headers always report room left, and 429s come
//!   only from [`Simulator::rate_limit`].

mod cdn;
pub mod config;
pub mod error;
pub mod events;
pub mod gateway;
mod interactions;
mod oauth;
pub mod rest;
mod simulator;
pub mod snowflake;
pub mod world;

pub use config::SimConfig;
pub use error::SimError;
pub use events::{MessageRecord, RecordedRequest, SimEvent, UserInfo};
pub use gateway::{GatewayCompression, IdentifyCompress};
pub use simulator::Simulator;
pub use world::permissions;
