//! Everything a plugin asks of Discord beyond sending: editing, deleting and fetching messages,
//! reactions, DMs, guild structure, moderation and webhooks (plugin-api 1.3).
//!
//! Each method builds one [`Action`], which the host checks (Discord's limits) and carries out
//! with the bot's own permissions. A refusal comes back as a [`PluginError`] that says why:
//! [`PluginError::MissingPermission`] names the permission the bot lacks, and
//! [`PluginError::Discord`] carries Discord's code and message.
//!
//! ```no_run
//! # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
//! use zoryx_plugin_api::{ChannelId, GuildId, Message, UserId};
//!
//! let channel = ChannelId(10);
//! let id = host.send(channel, "Counting down: 3").await?;
//! host.edit_message(channel, id, "Counting down: 2").await?;
//! host.react(channel, id, "⏳").await?;
//!
//! let guild = host.guild(GuildId(1));
//! guild.timeout(UserId(42), std::time::Duration::from_secs(600), "spam").await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use abi_stable::std_types::RStr;
use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterOverview, IpcStatus};
use crate::context::{Host, from_ffi};
use crate::error::{PluginError, PluginResult};
use crate::guild::{
    Attachment, Ban, BotGuildSettings, Channel, ChannelMessage, ChannelSpec, Emoji, GuildInfo,
    GuildSpec, Overwrite, Role, RoleSpec, Webhook,
};
use crate::message::Message;
use crate::model::{ChannelId, GuildId, Member, MessageId, RoleId, UserId};
use crate::permissions::Permissions;

/// One request of a plugin to Discord, carried out by the host.
///
/// This is the wire form behind the [`Host`] methods (JSON through the host function table);
/// plugins call the methods. New minors append variants; a host never sees a variant newer
/// than itself, because it refuses plugins built against a newer API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Replace a message's content, embeds and components.
    EditMessage {
        /// Its channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
        /// What it becomes.
        edit: Message,
    },
    /// Delete a message.
    DeleteMessage {
        /// Its channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Read one message.
    FetchMessage {
        /// Its channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
    },
    /// Read the latest messages of a channel, newest first.
    FetchMessages {
        /// The channel.
        channel: ChannelId,
        /// How many (1–100).
        limit: u8,
        /// Only messages older than this one.
        before: Option<MessageId>,
    },
    /// Delete 2–100 messages younger than 14 days at once.
    BulkDelete {
        /// Their channel.
        channel: ChannelId,
        /// The messages.
        messages: Vec<MessageId>,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Add the bot's reaction.
    React {
        /// The message's channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
        /// A unicode emoji, or `name:id` for a custom one.
        emoji: String,
    },
    /// Remove a reaction: the bot's own (`user: None`) or someone else's.
    Unreact {
        /// The message's channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
        /// The emoji.
        emoji: String,
        /// Whose reaction; `None`: the bot's.
        user: Option<UserId>,
    },
    /// Send a direct message to a user.
    DirectMessage {
        /// The user.
        user: UserId,
        /// The message.
        message: Message,
    },
    /// Read a guild.
    Guild {
        /// The guild.
        guild: GuildId,
    },
    /// Read a guild's roles, lowest first.
    Roles {
        /// The guild.
        guild: GuildId,
    },
    /// Read a guild's channels, by position.
    Channels {
        /// The guild.
        guild: GuildId,
    },
    /// Read one member.
    Member {
        /// The guild.
        guild: GuildId,
        /// The user.
        user: UserId,
    },
    /// Read a page of members, by user id.
    Members {
        /// The guild.
        guild: GuildId,
        /// Only users with a larger id.
        after: Option<UserId>,
        /// How many (1–1,000).
        limit: u16,
    },
    /// Read a guild's bans.
    Bans {
        /// The guild.
        guild: GuildId,
    },
    /// Read a guild's custom emojis.
    Emojis {
        /// The guild.
        guild: GuildId,
    },
    /// What the bot may do in a guild, or in one of its channels (overwrites applied).
    BotPermissions {
        /// The guild.
        guild: GuildId,
        /// A channel of it.
        channel: Option<ChannelId>,
    },
    /// Create a role.
    CreateRole {
        /// The guild.
        guild: GuildId,
        /// What it looks like.
        spec: RoleSpec,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Change a role.
    EditRole {
        /// The guild.
        guild: GuildId,
        /// The role.
        role: RoleId,
        /// What changes.
        spec: RoleSpec,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Delete a role.
    DeleteRole {
        /// The guild.
        guild: GuildId,
        /// The role.
        role: RoleId,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Create a channel.
    CreateChannel {
        /// The guild.
        guild: GuildId,
        /// What it looks like.
        spec: ChannelSpec,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Change a channel.
    EditChannel {
        /// The channel.
        channel: ChannelId,
        /// What changes.
        spec: ChannelSpec,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Delete a channel.
    DeleteChannel {
        /// The channel.
        channel: ChannelId,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Set or replace one permission overwrite of a channel.
    SetOverwrite {
        /// The channel.
        channel: ChannelId,
        /// The overwrite.
        overwrite: Overwrite,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Give a member a role.
    AddMemberRole {
        /// The guild.
        guild: GuildId,
        /// The member.
        user: UserId,
        /// The role.
        role: RoleId,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Take a role from a member.
    RemoveMemberRole {
        /// The guild.
        guild: GuildId,
        /// The member.
        user: UserId,
        /// The role.
        role: RoleId,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Set (or clear, with `None`) a member's nickname; the bot's own too.
    SetNickname {
        /// The guild.
        guild: GuildId,
        /// The member.
        user: UserId,
        /// The nickname (at most 32 characters).
        nick: Option<String>,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Remove a member from the guild.
    Kick {
        /// The guild.
        guild: GuildId,
        /// The member.
        user: UserId,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Ban a user, deleting their messages of the last `delete_message_seconds` (at most 7 days).
    Ban {
        /// The guild.
        guild: GuildId,
        /// The user.
        user: UserId,
        /// How far back their messages go.
        delete_message_seconds: u32,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Lift a ban.
    Unban {
        /// The guild.
        guild: GuildId,
        /// The user.
        user: UserId,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Time a member out until a moment (at most 28 days ahead), or end a time-out (`None`).
    Timeout {
        /// The guild.
        guild: GuildId,
        /// The member.
        user: UserId,
        /// Until when, milliseconds since the Unix epoch.
        until_unix_ms: Option<u64>,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Create a webhook in a channel.
    CreateWebhook {
        /// The channel.
        channel: ChannelId,
        /// Its name (1–80 characters).
        name: String,
    },
    /// Send an HTTP request through the host (to hosts allowed for the plugin).
    Http(crate::http::HttpRequest),
    /// Send an HTTP request through the host and read its answer in pieces as they arrive
    /// (server-sent events, say): resolves to [`Outcome::HttpStream`] with the status and
    /// headers; [`Action::HttpStreamNext`] reads on. The same allow-list, time and size limits as
    /// [`Action::Http`], over the whole answer (plugin-api 1.3).
    HttpStream(crate::http::HttpRequest),
    /// The next piece of an answer opened with [`Action::HttpStream`]; resolves to
    /// [`Outcome::HttpChunk`] (`done` once the answer is complete, and the stream is closed).
    HttpStreamNext {
        /// The stream.
        id: u64,
    },
    /// Close a stream opened with [`Action::HttpStream`] before its end.
    HttpStreamClose {
        /// The stream.
        id: u64,
    },
    /// A report on the running bot as JSON ([`Outcome::Json`]): its plugins, health, databases
    /// or hooks ([`crate::introspect::Report`]; plugin-api 1.3).
    Report {
        /// Which.
        topic: crate::introspect::Report,
    },
    /// Read a text file of the bot's project: `README.md`, or a Markdown or text file under
    /// `docs/` or `data/`, relative to the project folder; never a hidden file (`.env`), a
    /// name that looks like a secret, a path that leaves those folders, or more than 64 KiB.
    /// Resolves to [`Outcome::Json`] holding the text as a JSON string (plugin-api 1.3).
    ProjectFile {
        /// The path, as `docs/ARCHITECTURE.md`.
        path: String,
    },
    /// Read the plugin's own section of `config.json` (`plugins.<name>`), as JSON text.
    PluginConfig,
    /// Replace the plugin's own section of `config.json`, written atomically.
    SetPluginConfig {
        /// The new section, as JSON text.
        value_json: String,
    },
    /// Every command the bot has: the host's and every plugin's.
    Commands,
    /// The command catalogue as one member sees it where they are (plugin-api 1.3): each
    /// command with whether the host's command gate lets `user` run it in `guild` (and why
    /// not), whether it is registered as a slash command right now, and the prefix in effect.
    /// What help menus show ([`Host::catalogue_for`]).
    CatalogueFor {
        /// The member.
        user: crate::model::UserId,
        /// Where (`None`: a DM).
        guild: Option<GuildId>,
        /// The channel.
        channel: ChannelId,
    },
    /// The bot's live statistics (uptime, guilds, users, latency, counters), for info
    /// commands.
    Stats,
    /// Send a message through a webhook; resolves to the new message's id.
    ExecuteWebhook {
        /// The webhook's id.
        webhook: u64,
        /// Its token.
        token: String,
        /// The message.
        message: Message,
        /// The name shown instead of the webhook's.
        username: Option<String>,
        /// The avatar shown instead of the webhook's.
        avatar_url: Option<String>,
    },
    /// Send a message to a channel; resolves to the new message's id. [`Host::send`] uses it
    /// for a message the 1.0 layout cannot carry (files, a disabled select menu: see
    /// [`Message::needs_json`]), the 1.0 path for every other.
    Send {
        /// The channel.
        channel: ChannelId,
        /// The message.
        message: Message,
    },
    /// Download a file from Discord's CDN (an attachment, an emoji's image): only
    /// `cdn.discordapp.com` and `media.discordapp.net` URLs, at most `max_bytes`; resolves to
    /// [`Outcome::Http`] (plugin-api 1.3).
    Download {
        /// The file's URL, as Discord gave it.
        url: String,
        /// The most bytes accepted (the host caps it at 25 MiB).
        max_bytes: u64,
    },
    /// Change a guild's settings; resolves to the guild as it now is (plugin-api 1.3).
    EditGuild {
        /// The guild.
        guild: GuildId,
        /// What changes.
        spec: GuildSpec,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Move roles in the hierarchy; resolves to every role (plugin-api 1.3).
    RolePositions {
        /// The guild.
        guild: GuildId,
        /// Each role and its new position (1 is just above @everyone).
        positions: Vec<(RoleId, i32)>,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Upload a custom emoji; resolves to it (plugin-api 1.3).
    CreateEmoji {
        /// The guild.
        guild: GuildId,
        /// Its name (2–32 letters, digits or underscores).
        name: String,
        /// Its image: PNG, JPEG, GIF or WebP, at most 256 KiB (base64 in the wire form).
        #[serde(with = "crate::base64::bytes")]
        image: Vec<u8>,
        /// The roles that may use it (empty: everyone).
        roles: Vec<RoleId>,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Delete a custom emoji (plugin-api 1.3).
    DeleteEmoji {
        /// The guild.
        guild: GuildId,
        /// The emoji.
        emoji: u64,
        /// For the audit log.
        reason: Option<String>,
    },
    /// Read the bot's own settings for a guild (prefix, mention prefix, role grants,
    /// auto-delete); resolves to [`Outcome::BotSettings`] (plugin-api 1.3).
    BotSettings {
        /// The guild.
        guild: GuildId,
    },
    /// Replace the bot's own settings for a guild (plugin-api 1.3).
    SetBotSettings {
        /// The guild.
        guild: GuildId,
        /// The settings.
        settings: BotGuildSettings,
    },
    /// Every gateway shard of this process, with its connection and event counts; resolves to
    /// [`Outcome::Shards`] (plugin-api 1.3).
    Shards,
    /// The guilds the bot is in (those this process serves); resolves to [`Outcome::Guilds`]
    /// (plugin-api 1.3).
    Guilds,
    /// Forget the event and connection counts of one shard, or of every shard (`None`;
    /// plugin-api 1.3).
    ResetShardStats {
        /// The shard.
        shard: Option<u32>,
    },
    /// Every cluster of the bot with its figures and health, and the global totals; resolves
    /// to [`Outcome::Clusters`] (plugin-api 1.3).
    Clusters,
    /// This cluster's IPC link; resolves to [`Outcome::IpcStatus`] (plugin-api 1.3).
    IpcStatus,
    /// Sends a text to every other cluster, where it reaches the `cluster_broadcast` hooks;
    /// resolves to [`Outcome::Broadcast`] (plugin-api 1.3).
    Broadcast {
        /// The text (cut to [`BROADCAST_MAX_CHARS`](crate::cluster::BROADCAST_MAX_CHARS)
        /// characters).
        message: String,
        /// Who sends it, by name (shown to receivers).
        author: Option<String>,
        /// Who sends it, by id.
        author_id: Option<u64>,
    },
    /// Move a member in voice to another voice channel, or disconnect them (`None`;
    /// plugin-api 1.3).
    MoveMember {
        /// The guild.
        guild: GuildId,
        /// The member (in a voice channel now).
        user: UserId,
        /// Where to.
        channel: Option<ChannelId>,
        /// For the audit log.
        reason: Option<String>,
    },
    /// A marketplace request on behalf of `user`, refused unless they are a bot owner;
    /// resolves to [`Outcome::Market`] (plugin-api 1.3). With `progress`, the host edits that
    /// message (the bot's own) with the install's progress as it goes.
    Market {
        /// Who asked.
        user: UserId,
        /// What.
        request: crate::market::MarketRequest,
        /// A message to edit with progress embeds.
        #[serde(default)]
        progress: Option<(ChannelId, MessageId)>,
    },
}

impl Action {
    /// What the action does, in words, for errors and logs ("kick a member").
    pub fn describe(&self) -> &'static str {
        match self {
            Self::EditMessage { .. } => "edit a message",
            Self::DeleteMessage { .. } => "delete a message",
            Self::FetchMessage { .. } => "read a message",
            Self::FetchMessages { .. } => "read a channel's messages",
            Self::BulkDelete { .. } => "bulk delete messages",
            Self::React { .. } => "add a reaction",
            Self::Unreact { .. } => "remove a reaction",
            Self::DirectMessage { .. } => "send a direct message",
            Self::Guild { .. } => "read a guild",
            Self::Roles { .. } => "read a guild's roles",
            Self::Channels { .. } => "read a guild's channels",
            Self::Member { .. } => "read a member",
            Self::Members { .. } => "list members",
            Self::Bans { .. } => "read the bans",
            Self::Emojis { .. } => "read the emojis",
            Self::BotPermissions { .. } => "read the bot's permissions",
            Self::CreateRole { .. } => "create a role",
            Self::EditRole { .. } => "edit a role",
            Self::DeleteRole { .. } => "delete a role",
            Self::CreateChannel { .. } => "create a channel",
            Self::EditChannel { .. } => "edit a channel",
            Self::DeleteChannel { .. } => "delete a channel",
            Self::SetOverwrite { .. } => "set a channel's permissions",
            Self::AddMemberRole { .. } => "give a member a role",
            Self::RemoveMemberRole { .. } => "take a role from a member",
            Self::SetNickname { .. } => "change a nickname",
            Self::Kick { .. } => "kick a member",
            Self::Ban { .. } => "ban a user",
            Self::Unban { .. } => "unban a user",
            Self::Timeout { .. } => "time a member out",
            Self::CreateWebhook { .. } => "create a webhook",
            Self::ExecuteWebhook { .. } => "send through a webhook",
            Self::Http(_) => "send an HTTP request",
            Self::HttpStream(_) => "stream an HTTP answer",
            Self::HttpStreamNext { .. } => "read a streamed HTTP answer",
            Self::HttpStreamClose { .. } => "close a streamed HTTP answer",
            Self::Report { .. } => "read a report on the bot",
            Self::ProjectFile { .. } => "read a project file",
            Self::PluginConfig => "read the plugin's config",
            Self::SetPluginConfig { .. } => "write the plugin's config",
            Self::Commands => "list the commands",
            Self::CatalogueFor { .. } => "list the commands a member may run",
            Self::Stats => "read the bot's statistics",
            Self::Send { .. } => "send a message",
            Self::Download { .. } => "download a file from Discord",
            Self::EditGuild { .. } => "change the server's settings",
            Self::RolePositions { .. } => "move roles",
            Self::CreateEmoji { .. } => "upload an emoji",
            Self::DeleteEmoji { .. } => "delete an emoji",
            Self::BotSettings { .. } => "read the bot's server settings",
            Self::SetBotSettings { .. } => "change the bot's server settings",
            Self::MoveMember { .. } => "move a member in voice",
            Self::Shards => "read the gateway shards",
            Self::Guilds => "list the bot's guilds",
            Self::ResetShardStats { .. } => "reset the shard counters",
            Self::Clusters => "read the clusters",
            Self::IpcStatus => "read the cluster link",
            Self::Broadcast { .. } => "broadcast to the clusters",
            Self::Market { .. } => "use the plugin marketplace",
        }
    }

    /// Discord's limits on the action, checked before it is sent: bulk deletes take 2–100
    /// messages, nicknames 32 characters, role names 100, channel names 1–100 and topics
    /// 1,024, slow mode 21,600 s, ban message deletion 7 days, time-outs 28 days (from `now`),
    /// webhook names 1–80, audit log reasons 512, and every message the limits of
    /// [`Message::check`]. The error names the limit; the host checks the same before sending.
    ///
    /// ```
    /// use zoryx_plugin_api::{Action, ChannelId, MessageId};
    ///
    /// let one = Action::BulkDelete { channel: ChannelId(1), messages: vec![MessageId(2)], reason: None };
    /// let error = one.check(std::time::SystemTime::now()).unwrap_err();
    /// assert_eq!(error, "messages has 1 messages; Discord takes 2 to 100 (delete one message with `delete_message`)");
    /// ```
    pub fn check(&self, now: std::time::SystemTime) -> Result<(), String> {
        fn at_most(field: &str, text: &str, max: usize) -> Result<(), String> {
            let n = text.chars().count();
            if n > max {
                return Err(format!(
                    "{field} has {n} characters; Discord allows at most {max}"
                ));
            }
            Ok(())
        }
        fn between(field: &str, text: &str, min: usize, max: usize) -> Result<(), String> {
            let n = text.chars().count();
            if n < min || n > max {
                return Err(format!(
                    "{field} has {n} characters; Discord takes {min} to {max}"
                ));
            }
            Ok(())
        }
        let reason = match self {
            Self::DeleteMessage { reason, .. }
            | Self::BulkDelete { reason, .. }
            | Self::CreateRole { reason, .. }
            | Self::EditRole { reason, .. }
            | Self::DeleteRole { reason, .. }
            | Self::CreateChannel { reason, .. }
            | Self::EditChannel { reason, .. }
            | Self::DeleteChannel { reason, .. }
            | Self::SetOverwrite { reason, .. }
            | Self::AddMemberRole { reason, .. }
            | Self::RemoveMemberRole { reason, .. }
            | Self::SetNickname { reason, .. }
            | Self::Kick { reason, .. }
            | Self::Ban { reason, .. }
            | Self::Unban { reason, .. }
            | Self::Timeout { reason, .. }
            | Self::EditGuild { reason, .. }
            | Self::RolePositions { reason, .. }
            | Self::CreateEmoji { reason, .. }
            | Self::DeleteEmoji { reason, .. }
            | Self::MoveMember { reason, .. } => reason.as_deref(),
            _ => None,
        };
        if let Some(reason) = reason {
            at_most("reason", reason, 512)?;
        }
        match self {
            Self::EditMessage { edit: message, .. }
            | Self::DirectMessage { message, .. }
            | Self::Send { message, .. } => {
                message.check().map_err(|e| e.to_string())?;
            }
            Self::ExecuteWebhook {
                message, username, ..
            } => {
                message.check().map_err(|e| e.to_string())?;
                if let Some(name) = username {
                    between("username", name, 1, 80)?;
                }
            }
            Self::BulkDelete { messages, .. } => {
                let n = messages.len();
                if !(2..=100).contains(&n) {
                    let hint = if n == 1 {
                        " (delete one message with `delete_message`)"
                    } else {
                        ""
                    };
                    return Err(format!(
                        "messages has {n} messages; Discord takes 2 to 100{hint}"
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(twice) = messages.iter().find(|m| !seen.insert(**m)) {
                    return Err(format!("messages names {twice} twice"));
                }
            }
            Self::SetNickname {
                nick: Some(nick), ..
            } => at_most("nick", nick, 32)?,
            Self::CreateRole { spec, .. } | Self::EditRole { spec, .. } => {
                if let Some(name) = &spec.name {
                    at_most("name", name, 100)?;
                }
            }
            Self::CreateChannel { spec, .. } | Self::EditChannel { spec, .. } => {
                if let Some(name) = &spec.name {
                    between("name", name, 1, 100)?;
                }
                if let Some(topic) = &spec.topic {
                    at_most("topic", topic, 1024)?;
                }
                if let Some(seconds) = spec.slowmode_seconds
                    && seconds > 21_600
                {
                    return Err(format!(
                        "rate_limit_per_user is {seconds} seconds; Discord allows at most 21600"
                    ));
                }
            }
            Self::Ban {
                delete_message_seconds,
                ..
            } if *delete_message_seconds > 604_800 => {
                return Err(format!(
                    "delete_message_seconds is {delete_message_seconds}; Discord allows at most \
                     604800 (7 days)"
                ));
            }
            Self::Timeout {
                until_unix_ms: Some(until),
                ..
            } => {
                let now = now
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                const DAYS_28_MS: u64 = 28 * 24 * 3600 * 1000;
                if until.saturating_sub(now) > DAYS_28_MS {
                    return Err(
                        "communication_disabled_until is more than 28 days ahead; Discord allows \
                         at most 28 days"
                            .to_owned(),
                    );
                }
            }
            Self::CreateWebhook { name, .. } => between("name", name, 1, 80)?,
            Self::EditGuild { spec, .. } => {
                if let Some(name) = &spec.name {
                    between("name", name, 2, 100)?;
                }
                if let Some(Some(description)) = &spec.description {
                    at_most("description", description, 300)?;
                }
                if let Some(level) = spec.verification_level
                    && level > 4
                {
                    return Err(format!(
                        "verification_level is {level}; Discord takes 0 to 4"
                    ));
                }
                if let Some(level) = spec.default_notifications
                    && level > 1
                {
                    return Err(format!(
                        "default_message_notifications is {level}; Discord takes 0 or 1"
                    ));
                }
                if let Some(level) = spec.explicit_content_filter
                    && level > 2
                {
                    return Err(format!(
                        "explicit_content_filter is {level}; Discord takes 0 to 2"
                    ));
                }
                if let Some(timeout) = spec.afk_timeout
                    && ![60, 300, 900, 1800, 3600].contains(&timeout)
                {
                    return Err(format!(
                        "afk_timeout is {timeout}; Discord takes 60, 300, 900, 1800 or 3600"
                    ));
                }
            }
            Self::CreateEmoji { name, image, .. } => {
                between("name", name, 2, 32)?;
                if let Some(bad) = name
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                {
                    return Err(format!(
                        "name has `{bad}`; emoji names take letters, digits and underscores"
                    ));
                }
                if image.len() > 256 * 1024 {
                    return Err(format!(
                        "image is {} KiB; Discord takes emoji images up to 256 KiB",
                        image.len().div_ceil(1024)
                    ));
                }
                if crate::guild::image_type(image).is_none() {
                    return Err(
                        "image is not a PNG, JPEG, GIF or WebP file; Discord takes only those"
                            .to_owned(),
                    );
                }
            }
            Self::RolePositions { positions, .. } => {
                if let Some((role, position)) = positions.iter().find(|(_, p)| *p < 0) {
                    return Err(format!(
                        "role {role} has position {position}; positions start at 0"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The guild permissions the bot needs for the action (none for reads anyone may do).
    /// Editing or deleting its own messages needs none; others' need Manage Messages.
    pub fn required_permissions(&self) -> Permissions {
        match self {
            Self::DeleteMessage { .. } | Self::BulkDelete { .. } => Permissions::MANAGE_MESSAGES,
            Self::Unreact { user: Some(_), .. } => Permissions::MANAGE_MESSAGES,
            Self::FetchMessage { .. } | Self::FetchMessages { .. } => {
                Permissions::VIEW_CHANNEL | Permissions::READ_MESSAGE_HISTORY
            }
            Self::React { .. } => Permissions::ADD_REACTIONS | Permissions::READ_MESSAGE_HISTORY,
            Self::Bans { .. } | Self::Ban { .. } | Self::Unban { .. } => Permissions::BAN_MEMBERS,
            Self::CreateRole { .. }
            | Self::EditRole { .. }
            | Self::DeleteRole { .. }
            | Self::AddMemberRole { .. }
            | Self::RemoveMemberRole { .. }
            | Self::SetOverwrite { .. } => Permissions::MANAGE_ROLES,
            Self::CreateChannel { .. } | Self::EditChannel { .. } | Self::DeleteChannel { .. } => {
                Permissions::MANAGE_CHANNELS
            }
            Self::SetNickname { .. } => Permissions::MANAGE_NICKNAMES,
            Self::Kick { .. } => Permissions::KICK_MEMBERS,
            Self::Timeout { .. } => Permissions::MODERATE_MEMBERS,
            Self::CreateWebhook { .. } => Permissions::MANAGE_WEBHOOKS,
            Self::Send { message, .. } if !message.files.is_empty() => {
                Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES | Permissions::ATTACH_FILES
            }
            Self::Send { .. } => Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES,
            Self::EditGuild { .. } => Permissions::MANAGE_GUILD,
            Self::RolePositions { .. } => Permissions::MANAGE_ROLES,
            Self::CreateEmoji { .. } | Self::DeleteEmoji { .. } => {
                Permissions::MANAGE_GUILD_EXPRESSIONS
            }
            Self::MoveMember { .. } => Permissions::MOVE_MEMBERS,
            _ => Permissions::NONE,
        }
    }
}

/// What the host answers an [`Action`] with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Done; nothing to return.
    Done,
    /// The id of what was created (a message).
    Id(u64),
    /// One message.
    Message(ChannelMessage),
    /// Messages.
    Messages(Vec<ChannelMessage>),
    /// A guild.
    Guild(GuildInfo),
    /// One role.
    Role(Role),
    /// Roles.
    Roles(Vec<Role>),
    /// One channel.
    Channel(Channel),
    /// Channels.
    Channels(Vec<Channel>),
    /// One member.
    Member(Member),
    /// Members.
    Members(Vec<Member>),
    /// Bans.
    Bans(Vec<Ban>),
    /// Emojis.
    Emojis(Vec<Emoji>),
    /// Permissions.
    Permissions(Permissions),
    /// A webhook.
    Webhook(Webhook),
    /// An HTTP answer.
    Http(crate::http::HttpResponse),
    /// A streamed HTTP answer's status and headers (plugin-api 1.3).
    HttpStream {
        /// The stream, for [`Action::HttpStreamNext`].
        id: u64,
        /// The status code.
        status: u16,
        /// Response headers (names in lower case), in order.
        headers: Vec<(String, String)>,
    },
    /// The next piece of a streamed HTTP answer (plugin-api 1.3).
    HttpChunk {
        /// The bytes (empty at the end).
        #[serde(with = "crate::base64::bytes")]
        data: Vec<u8>,
        /// Whether the answer is complete (the stream is closed).
        done: bool,
    },
    /// A JSON value, as text (`null` when absent).
    Json(String),
    /// The command catalogue.
    Commands(Vec<CommandInfo>),
    /// The command catalogue as one member sees it.
    Catalogue(Catalogue),
    /// The bot's statistics.
    Stats(BotStats),
    /// One emoji (plugin-api 1.3).
    Emoji(Emoji),
    /// The bot's own settings for a guild (plugin-api 1.3).
    BotSettings(BotGuildSettings),
    /// The gateway shards (plugin-api 1.3).
    Shards(Vec<ShardInfo>),
    /// The bot's guilds, by name (plugin-api 1.3).
    Guilds(Vec<BotGuild>),
    /// Every cluster and the global totals (plugin-api 1.3).
    Clusters(ClusterOverview),
    /// This cluster's IPC link (plugin-api 1.3).
    IpcStatus(IpcStatus),
    /// A broadcast went out to this many clusters (plugin-api 1.3).
    Broadcast {
        /// Clusters it was queued for.
        delivered: u64,
    },
    /// The marketplace's answer (plugin-api 1.3).
    Market(crate::market::MarketReport),
}

/// A guild the bot is in ([`Host::guilds`]; plugin-api 1.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BotGuild {
    /// Its id.
    pub id: GuildId,
    /// Its name.
    pub name: String,
    /// How many members it has.
    pub members: u64,
}

/// One gateway shard of this process, as the shard monitor shows it ([`Host::shards`]).
///
/// Counts run from the start or the last [`Host::reset_shard_stats`]. New fields may come in
/// later minor versions: read them, do not build the struct.
///
/// ```
/// use zoryx_plugin_api::ShardInfo;
///
/// let shard: ShardInfo = serde_json::from_str(r#"{"id": 2, "state": "connected", "guilds": 40}"#).unwrap();
/// assert_eq!(shard.id, 2);
/// assert_eq!(shard.latency_ms, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ShardInfo {
    /// The shard id.
    pub id: u32,
    /// Shards in the whole bot, once known.
    pub total: Option<u32>,
    /// `starting`, `connecting`, `handshake`, `identifying`, `resuming`, `connected`,
    /// `disconnected`, `reconnecting` or `stopped`.
    pub state: String,
    /// The last heartbeat round trip, once measured.
    pub latency_ms: Option<f64>,
    /// Guilds on this shard.
    pub guilds: u64,
    /// Members in those guilds (Discord's counts).
    pub members: u64,
    /// Events received, by family: `messages`, `interactions`, `members`, `reactions`,
    /// `voice`, `guilds`, `other`.
    pub events: std::collections::BTreeMap<String, u64>,
    /// When the last event came (milliseconds since the epoch).
    pub last_event_unix_ms: Option<u64>,
    /// Since when it has been connected, if it is.
    pub connected_since_unix_ms: Option<u64>,
    /// When it last lost its connection.
    pub last_disconnect_unix_ms: Option<u64>,
    /// Times it connected.
    pub connects: u64,
    /// Times it lost its connection.
    pub disconnects: u64,
    /// Sessions resumed.
    pub resumes: u64,
    /// Connections lost since it was last connected (consecutive failures).
    pub failing: u64,
}

/// One command of the bot, as help menus list it.
///
/// The fields past `plugin` are filled by [`Host::catalogue_for`] (plugin-api 1.3); in
/// [`Host::commands`] every command is `available`, with no `refusal` and no `roles`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandInfo {
    /// Its declaration: name, description, category, kind, aliases, arguments, cooldown,
    /// permission level.
    pub spec: crate::command::CommandSpec,
    /// The plugin that owns it; `None` for the host's built-in commands.
    pub plugin: Option<String>,
    /// Whether the member asked about may run it there.
    #[serde(default = "available")]
    pub available: bool,
    /// Why they may not, in words (`None` when they may).
    #[serde(default)]
    pub refusal: Option<String>,
    /// Whether it is registered as a slash command right now: a slash or hybrid command past
    /// the slash limit runs by prefix only.
    #[serde(default)]
    pub slash: bool,
    /// The roles it is restricted to there (role grants), if any.
    #[serde(default)]
    pub roles: Vec<u64>,
}

fn available() -> bool {
    true
}

impl CommandInfo {
    /// A command available to everyone, as [`Host::commands`] lists it.
    pub fn new(spec: crate::command::CommandSpec, plugin: Option<String>) -> Self {
        let slash = matches!(
            spec.kind,
            crate::command::CommandKind::Slash | crate::command::CommandKind::Hybrid
        );
        Self {
            spec,
            plugin,
            available: true,
            refusal: None,
            slash,
            roles: Vec::new(),
        }
    }
}

/// The command catalogue as one member sees it where they are ([`Host::catalogue_for`]).
///
/// ```
/// use zoryx_plugin_api::Catalogue;
///
/// let catalogue: Catalogue = serde_json::from_str(r#"{"prefix": "?", "commands": []}"#).unwrap();
/// assert_eq!(catalogue.prefix, "?");
/// assert!(catalogue.commands.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Catalogue {
    /// The prefix in effect there (the guild's, or the default).
    pub prefix: String,
    /// Whether `@bot command` works there too.
    pub mention_prefix: bool,
    /// The bot's user name.
    pub bot_name: String,
    /// Every command: built-ins first, then each plugin's.
    pub commands: Vec<CommandInfo>,
}

/// The bot's live statistics, as info commands show them ([`Host::stats`]).
///
/// Fields the host cannot know are zero or `None`: without a Discord connection (the host
/// running with the console only) `connected` is false and the Discord counters are 0. New
/// fields may be added in later minor versions, so the struct is `#[non_exhaustive]`: read its
/// fields, do not build it.
///
/// ```
/// use zoryx_plugin_api::BotStats;
///
/// let stats: BotStats = serde_json::from_str(r#"{"guilds": 3, "uptime_seconds": 90}"#).unwrap();
/// assert_eq!(stats.guilds, 3);
/// assert_eq!(stats.latency_ms, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BotStats {
    /// Seconds since the host started.
    pub uptime_seconds: u64,
    /// Whether the bot is connected to Discord (at least one shard ready).
    pub connected: bool,
    /// Guilds the bot is in.
    pub guilds: u64,
    /// Members across those guilds (Discord's member counts, so a user in two guilds counts
    /// twice).
    pub users: u64,
    /// Channels across those guilds.
    pub channels: u64,
    /// Gateway shards this process runs.
    pub shards: u32,
    /// The bot's own user id (0 without a Discord connection; plugin-api 1.3): its member in a
    /// guild, its place in the role hierarchy.
    pub bot_id: u64,
    /// The gateway heartbeat latency, once measured.
    pub latency_ms: Option<f64>,
    /// Messages seen since start (not counting bots').
    pub messages_seen: u64,
    /// Commands run since start (prefix and slash, built-in and plugin).
    pub commands_run: u64,
    /// Replies and sends that reached Discord since start.
    pub replies_sent: u64,
    /// Replies and sends that failed since start.
    pub replies_failed: u64,
    /// Slash commands in the last registration with Discord.
    pub slash_commands: u64,
    /// Plugins loaded.
    pub plugins_loaded: u64,
    /// Commands the bot has (the host's and every plugin's; see [`Host::commands`]).
    pub commands: u64,
    /// The process's resident memory, where the platform tells it.
    pub memory_bytes: Option<u64>,
    /// The host's version.
    pub host_version: String,
    /// The plugin API version the host implements.
    pub api_version: String,
}

fn unexpected(action: &str, outcome: &Outcome) -> PluginError {
    PluginError::Host(format!(
        "the host answered `{action}` with the wrong kind of value: {outcome:?}"
    ))
}

macro_rules! expect {
    ($outcome:expr, $action:literal, $pattern:pat => $value:expr) => {
        match $outcome {
            $pattern => Ok($value),
            other => Err(unexpected($action, &other)),
        }
    };
}

impl Host {
    /// Carries out one [`Action`]; the typed methods below are the usual way in.
    pub async fn act(&self, action: &Action) -> PluginResult<Outcome> {
        let handle = self.handle();
        let request = handle
            .vtable
            .request()
            .ok_or_else(|| PluginError::NotAvailable(action.describe().to_owned()))?;
        let json = serde_json::to_string(action)?;
        let answer = from_ffi(request(handle.data, RStr::from_str(&json)).await)?;
        Ok(serde_json::from_str(answer.as_str())?)
    }

    async fn done(&self, action: Action) -> PluginResult {
        expect!(self.act(&action).await?, "done", Outcome::Done => ())
    }

    /// Replaces a message's content, embeds and components (the bot's own messages only);
    /// checked against Discord's limits like a new message.
    pub async fn edit_message(
        &self,
        channel: ChannelId,
        message: MessageId,
        edit: impl Into<Message>,
    ) -> PluginResult<ChannelMessage> {
        let action = Action::EditMessage {
            channel,
            message,
            edit: edit.into(),
        };
        expect!(self.act(&action).await?, "edit_message", Outcome::Message(m) => m)
    }

    /// Deletes a message (others' need Manage Messages).
    pub async fn delete_message(&self, channel: ChannelId, message: MessageId) -> PluginResult {
        self.done(Action::DeleteMessage {
            channel,
            message,
            reason: None,
        })
        .await
    }

    /// Reads one message.
    pub async fn fetch_message(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> PluginResult<ChannelMessage> {
        let action = Action::FetchMessage { channel, message };
        expect!(self.act(&action).await?, "fetch_message", Outcome::Message(m) => m)
    }

    /// Reads up to `limit` (1–100) of a channel's latest messages, newest first; with
    /// `before`, those older than that message.
    pub async fn fetch_messages(
        &self,
        channel: ChannelId,
        limit: u8,
        before: Option<MessageId>,
    ) -> PluginResult<Vec<ChannelMessage>> {
        let action = Action::FetchMessages {
            channel,
            limit,
            before,
        };
        expect!(self.act(&action).await?, "fetch_messages", Outcome::Messages(m) => m)
    }

    /// Deletes 2–100 messages younger than 14 days in one request (Manage Messages).
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host, channel: zoryx_plugin_api::ChannelId) -> zoryx_plugin_api::PluginResult {
    /// let recent = host.fetch_messages(channel, 20, None).await?;
    /// let ids = recent.iter().map(|m| m.id).collect();
    /// host.bulk_delete(channel, ids).await?;
    /// # Ok(()) }
    /// ```
    pub async fn bulk_delete(&self, channel: ChannelId, messages: Vec<MessageId>) -> PluginResult {
        self.done(Action::BulkDelete {
            channel,
            messages,
            reason: None,
        })
        .await
    }

    /// Adds the bot's reaction: a unicode emoji (`"👍"`) or a custom one (`"name:id"`).
    pub async fn react(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji: impl Into<String>,
    ) -> PluginResult {
        self.done(Action::React {
            channel,
            message,
            emoji: emoji.into(),
        })
        .await
    }

    /// Removes a reaction: the bot's own with `user: None`, someone else's (Manage Messages).
    pub async fn unreact(
        &self,
        channel: ChannelId,
        message: MessageId,
        emoji: impl Into<String>,
        user: Option<UserId>,
    ) -> PluginResult {
        self.done(Action::Unreact {
            channel,
            message,
            emoji: emoji.into(),
            user,
        })
        .await
    }

    /// Sends a direct message; fails when the user does not accept DMs from the bot.
    pub async fn dm(&self, user: UserId, message: impl Into<Message>) -> PluginResult<MessageId> {
        let action = Action::DirectMessage {
            user,
            message: message.into(),
        };
        expect!(self.act(&action).await?, "dm", Outcome::Id(id) => MessageId(id))
    }

    /// Changes a channel (Manage Channels).
    pub async fn edit_channel(
        &self,
        channel: ChannelId,
        spec: ChannelSpec,
    ) -> PluginResult<Channel> {
        let action = Action::EditChannel {
            channel,
            spec,
            reason: None,
        };
        expect!(self.act(&action).await?, "edit_channel", Outcome::Channel(c) => c)
    }

    /// Deletes a channel (Manage Channels).
    pub async fn delete_channel(&self, channel: ChannelId) -> PluginResult {
        self.done(Action::DeleteChannel {
            channel,
            reason: None,
        })
        .await
    }

    /// Sets one permission overwrite of a channel (Manage Roles).
    pub async fn set_overwrite(&self, channel: ChannelId, overwrite: Overwrite) -> PluginResult {
        self.done(Action::SetOverwrite {
            channel,
            overwrite,
            reason: None,
        })
        .await
    }

    /// Creates a webhook in a channel (Manage Webhooks).
    pub async fn create_webhook(
        &self,
        channel: ChannelId,
        name: impl Into<String>,
    ) -> PluginResult<Webhook> {
        let action = Action::CreateWebhook {
            channel,
            name: name.into(),
        };
        expect!(self.act(&action).await?, "create_webhook", Outcome::Webhook(w) => w)
    }

    /// Sends through a webhook, optionally under another name; resolves to the message's id.
    pub async fn execute_webhook(
        &self,
        webhook: &Webhook,
        message: impl Into<Message>,
        username: Option<String>,
    ) -> PluginResult<MessageId> {
        let token = webhook.token.clone().ok_or_else(|| {
            PluginError::Host(format!("webhook {} has no token the bot knows", webhook.id))
        })?;
        let action = Action::ExecuteWebhook {
            webhook: webhook.id,
            token,
            message: message.into(),
            username,
            avatar_url: None,
        };
        expect!(self.act(&action).await?, "execute_webhook", Outcome::Id(id) => MessageId(id))
    }

    /// Downloads a file Discord serves: an attachment's `url` or an emoji's
    /// [`image_url`](Emoji::image_url) (plugin-api 1.3). Only Discord's CDN is reached this
    /// way, with no `http.allow` entry needed; a file over `max_bytes` (capped at 25 MiB) or an
    /// answer other than 200 is an error.
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host, file: zoryx_plugin_api::Attachment) -> zoryx_plugin_api::PluginResult {
    /// let bytes = host.download(&file.url, 1 << 20).await?;
    /// let text = String::from_utf8_lossy(&bytes);
    /// # let _ = text; Ok(()) }
    /// ```
    pub async fn download(&self, url: &str, max_bytes: u64) -> PluginResult<Vec<u8>> {
        let action = Action::Download {
            url: url.to_owned(),
            max_bytes,
        };
        let answer = expect!(self.act(&action).await?, "download", Outcome::Http(h) => h)?;
        if answer.status != 200 {
            return Err(PluginError::Host(format!(
                "Discord's CDN answered {} for `{url}`",
                answer.status
            )));
        }
        Ok(answer.body)
    }

    /// Downloads an attachment (see [`Host::download`]), refusing one over `max_bytes` before
    /// a byte is fetched.
    pub async fn download_attachment(
        &self,
        attachment: &Attachment,
        max_bytes: u64,
    ) -> PluginResult<Vec<u8>> {
        if attachment.size > max_bytes {
            return Err(PluginError::user(format!(
                "`{}` is {} KiB; at most {} KiB is taken",
                attachment.filename,
                attachment.size.div_ceil(1024),
                max_bytes / 1024
            )));
        }
        self.download(&attachment.url, max_bytes).await
    }

    /// This plugin's own section of `config.json` (`plugins.<name>`), `None` when absent.
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// #[derive(serde::Serialize, serde::Deserialize, Default)]
    /// struct Settings { greeting: String }
    ///
    /// let mut settings: Settings = host.plugin_config().await?.unwrap_or_default();
    /// settings.greeting = "Welcome!".into();
    /// host.set_plugin_config(&settings).await?;
    /// # Ok(()) }
    /// ```
    pub async fn plugin_config<T: serde::de::DeserializeOwned>(&self) -> PluginResult<Option<T>> {
        let json = expect!(self.act(&Action::PluginConfig).await?, "plugin_config", Outcome::Json(j) => j)?;
        let value: serde_json::Value = serde_json::from_str(&json)?;
        if value.is_null() {
            return Ok(None);
        }
        serde_json::from_value(value).map(Some).map_err(|e| {
            PluginError::Internal(format!(
                "the plugin's config section has an unexpected form: {e}"
            ))
        })
    }

    /// Replaces this plugin's own section of `config.json` (written atomically; the rest of
    /// the file is left as it is). Later [`Host::config_value`] reads see it.
    pub async fn set_plugin_config<T: Serialize + ?Sized>(&self, value: &T) -> PluginResult {
        let value_json = serde_json::to_string(value)?;
        self.done(Action::SetPluginConfig { value_json }).await
    }

    /// Every command of the bot (built-ins and every plugin's), for help menus.
    pub async fn commands(&self) -> PluginResult<Vec<CommandInfo>> {
        expect!(self.act(&Action::Commands).await?, "commands", Outcome::Commands(c) => c)
    }

    /// The commands as `user` sees them in `guild` and `channel` (plugin-api 1.3): for each,
    /// whether the host's command gate lets them run it and why not, and whether it is a slash
    /// command right now; with the prefix in effect there. Help menus list what the member may
    /// run from it. Needs a Discord connection (offline mode has one).
    ///
    /// ```no_run
    /// # use zoryx_plugin_api::prelude::*;
    /// # async fn demo(ctx: CommandContext<()>) -> PluginResult {
    /// let me = ctx.invocation();
    /// let catalogue = ctx.host().catalogue_for(me.author.id, me.guild_id, me.channel_id).await?;
    /// let mine: Vec<&str> = catalogue
    ///     .commands
    ///     .iter()
    ///     .filter(|c| c.available)
    ///     .map(|c| c.spec.name.as_str())
    ///     .collect();
    /// ctx.reply(format!("You can run: {}", mine.join(", "))).await?;
    /// # Ok(()) }
    /// ```
    pub async fn catalogue_for(
        &self,
        user: crate::model::UserId,
        guild: Option<GuildId>,
        channel: ChannelId,
    ) -> PluginResult<Catalogue> {
        let action = Action::CatalogueFor {
            user,
            guild,
            channel,
        };
        expect!(self.act(&action).await?, "catalogue", Outcome::Catalogue(c) => c)
    }

    /// The bot's live statistics, for info commands (plugin-api 1.3).
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// let stats = host.stats().await?;
    /// let line = format!("{} guilds, up {} s", stats.guilds, stats.uptime_seconds);
    /// # let _ = line; Ok(()) }
    /// ```
    pub async fn stats(&self) -> PluginResult<BotStats> {
        expect!(self.act(&Action::Stats).await?, "stats", Outcome::Stats(s) => s)
    }

    /// Every gateway shard of this process: state, latency, guilds, members, events by family,
    /// connects, disconnects, resumes and consecutive failures (plugin-api 1.3).
    pub async fn shards(&self) -> PluginResult<Vec<ShardInfo>> {
        expect!(self.act(&Action::Shards).await?, "shards", Outcome::Shards(s) => s)
    }

    /// The guilds the bot is in (those this process serves, in a cluster), by name
    /// (plugin-api 1.3).
    ///
    /// ```no_run
    /// # use zoryx_plugin_api::prelude::*;
    /// # async fn f(host: &Host) -> PluginResult {
    /// for guild in host.guilds().await? {
    ///     host.info(format!("{} ({} members)", guild.name, guild.members));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn guilds(&self) -> PluginResult<Vec<BotGuild>> {
        expect!(self.act(&Action::Guilds).await?, "guilds", Outcome::Guilds(g) => g)
    }

    /// Asks the plugin marketplace on behalf of `user` (see [`crate::market`]): list, search,
    /// info, install, update, pin, remove, refresh. The host refuses unless `user` is a bot
    /// owner. With `progress` (a message the bot sent), the host edits that message with an
    /// embed of the install's progress (download, checks, load) as it goes (plugin-api 1.3).
    ///
    /// ```no_run
    /// # use zoryx_plugin_api::prelude::*;
    /// use zoryx_plugin_api::market::MarketRequest;
    ///
    /// # async fn demo(ctx: CommandContext<()>) -> PluginResult {
    /// let me = ctx.invocation();
    /// let status = ctx.host().send(me.channel_id, "Installing polls…").await?;
    /// let request = MarketRequest::Install { name: "polls".into(), version: None };
    /// match ctx.host().market(me.author.id, request, Some((me.channel_id, status))).await {
    ///     Ok(report) => ctx.reply(report.message).await?,
    ///     Err(refused) => ctx.reply(format!("Not installed: {refused}")).await?,
    /// };
    /// # Ok(()) }
    /// ```
    pub async fn market(
        &self,
        user: UserId,
        request: crate::market::MarketRequest,
        progress: Option<(ChannelId, MessageId)>,
    ) -> PluginResult<crate::market::MarketReport> {
        let action = Action::Market {
            user,
            request,
            progress,
        };
        expect!(self.act(&action).await?, "market", Outcome::Market(r) => r)
    }

    /// Forgets the counts of one shard, or of every shard with `None` (plugin-api 1.3).
    pub async fn reset_shard_stats(&self, shard: Option<u32>) -> PluginResult {
        self.done(Action::ResetShardStats { shard }).await
    }

    /// Every cluster of the bot (several host processes linked by the shard manager): each
    /// one's figures, heartbeat age and health, and the global totals (plugin-api 1.3). Fails
    /// with [`SHARD_MANAGER_OFF`](crate::cluster::SHARD_MANAGER_OFF) when the shard manager
    /// is off.
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// let overview = host.clusters().await?;
    /// let mut lines: Vec<String> = overview
    ///     .clusters
    ///     .iter()
    ///     .map(|c| {
    ///         let guilds = c.stats.as_ref().map_or(0, |s| s.guilds);
    ///         format!("{} {}: {guilds} guilds", c.health.emoji(), c.name)
    ///     })
    ///     .collect();
    /// lines.push(format!("{} guilds in all", overview.totals.guilds));
    /// # Ok(()) }
    /// ```
    pub async fn clusters(&self) -> PluginResult<ClusterOverview> {
        expect!(self.act(&Action::Clusters).await?, "clusters", Outcome::Clusters(c) => c)
    }

    /// This cluster's IPC link: mode, address, connection, the connected clusters and their
    /// heartbeats, the last error (plugin-api 1.3). Fails with
    /// [`SHARD_MANAGER_OFF`](crate::cluster::SHARD_MANAGER_OFF) when the shard manager is off.
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// let status = host.ipc_status().await?;
    /// let line = format!("{} on {}:{}, {} peers", status.mode, status.host, status.port, status.peers.len());
    /// # let _ = line;
    /// # Ok(()) }
    /// ```
    pub async fn ipc_status(&self) -> PluginResult<IpcStatus> {
        expect!(self.act(&Action::IpcStatus).await?, "ipc_status", Outcome::IpcStatus(s) => s)
    }

    /// Sends `message` (cut to 500 characters) to every other cluster, where plugins receive
    /// it as a [`ClusterBroadcast`](crate::ClusterBroadcast) hook; returns how many clusters
    /// it went to (plugin-api 1.3). Fails with
    /// [`SHARD_MANAGER_OFF`](crate::cluster::SHARD_MANAGER_OFF) when the shard manager is
    /// off, and when a client cluster is not connected to the server.
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// let delivered = host.broadcast("restarting cluster-1 in 5 minutes").await?;
    /// assert!(delivered <= 1_000);
    /// # Ok(()) }
    /// ```
    pub async fn broadcast(&self, message: impl Into<String>) -> PluginResult<u64> {
        self.broadcast_as(message, None, None).await
    }

    /// As [`Host::broadcast`], naming who sends it (receivers see `author` and `author_id`).
    pub async fn broadcast_as(
        &self,
        message: impl Into<String>,
        author: Option<String>,
        author_id: Option<u64>,
    ) -> PluginResult<u64> {
        let action = Action::Broadcast {
            message: message.into(),
            author,
            author_id,
        };
        expect!(self.act(&action).await?, "broadcast", Outcome::Broadcast { delivered } => delivered)
    }

    /// One guild's structure and moderation: `host.guild(id).kick(user, "reason")`.
    pub fn guild(&self, guild: GuildId) -> GuildHandle {
        GuildHandle { host: *self, guild }
    }
}

/// One guild, through the host: its roles, channels, members, bans and emojis, and moderation.
///
/// Every write takes the bot's permissions in the guild; without one, the call fails with
/// [`PluginError::MissingPermission`] naming it. Discord's role hierarchy applies: the bot acts
/// only on members and roles below its highest role.
///
/// ```no_run
/// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
/// use zoryx_plugin_api::{GuildId, Permissions, RoleSpec, UserId};
///
/// let guild = host.guild(GuildId(1));
/// let muted = match guild.roles().await?.into_iter().find(|r| r.name == "Muted") {
///     Some(role) => role,
///     None => guild.create_role(RoleSpec::named("Muted").permissions(Permissions::VIEW_CHANNEL)).await?,
/// };
/// guild.add_role(UserId(42), muted.id, "muted by a moderator").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct GuildHandle {
    host: Host,
    guild: GuildId,
}

fn audit_reason(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

impl GuildHandle {
    /// The guild's id.
    pub fn id(&self) -> GuildId {
        self.guild
    }

    /// The guild itself.
    pub async fn info(&self) -> PluginResult<GuildInfo> {
        let action = Action::Guild { guild: self.guild };
        expect!(self.host.act(&action).await?, "guild", Outcome::Guild(g) => g)
    }

    /// Its roles, lowest first.
    pub async fn roles(&self) -> PluginResult<Vec<Role>> {
        let action = Action::Roles { guild: self.guild };
        expect!(self.host.act(&action).await?, "roles", Outcome::Roles(r) => r)
    }

    /// Its channels, categories included, by position.
    pub async fn channels(&self) -> PluginResult<Vec<Channel>> {
        let action = Action::Channels { guild: self.guild };
        expect!(self.host.act(&action).await?, "channels", Outcome::Channels(c) => c)
    }

    /// One member.
    pub async fn member(&self, user: UserId) -> PluginResult<Member> {
        let action = Action::Member {
            guild: self.guild,
            user,
        };
        expect!(self.host.act(&action).await?, "member", Outcome::Member(m) => m)
    }

    /// A page of up to `limit` (1–1,000) members with ids above `after`; page on with the
    /// last id of the previous page. Needs the privileged Server Members intent on Discord.
    pub async fn members(&self, after: Option<UserId>, limit: u16) -> PluginResult<Vec<Member>> {
        let action = Action::Members {
            guild: self.guild,
            after,
            limit,
        };
        expect!(self.host.act(&action).await?, "members", Outcome::Members(m) => m)
    }

    /// Its bans (Ban Members).
    pub async fn bans(&self) -> PluginResult<Vec<Ban>> {
        let action = Action::Bans { guild: self.guild };
        expect!(self.host.act(&action).await?, "bans", Outcome::Bans(b) => b)
    }

    /// Its custom emojis.
    pub async fn emojis(&self) -> PluginResult<Vec<Emoji>> {
        let action = Action::Emojis { guild: self.guild };
        expect!(self.host.act(&action).await?, "emojis", Outcome::Emojis(e) => e)
    }

    /// What the bot may do here, or in `channel` with its overwrites applied.
    pub async fn bot_permissions(&self, channel: Option<ChannelId>) -> PluginResult<Permissions> {
        let action = Action::BotPermissions {
            guild: self.guild,
            channel,
        };
        expect!(self.host.act(&action).await?, "bot_permissions", Outcome::Permissions(p) => p)
    }

    /// Creates a role (Manage Roles); it starts at the bottom of the hierarchy.
    pub async fn create_role(&self, spec: RoleSpec) -> PluginResult<Role> {
        let action = Action::CreateRole {
            guild: self.guild,
            spec,
            reason: None,
        };
        expect!(self.host.act(&action).await?, "create_role", Outcome::Role(r) => r)
    }

    /// Changes a role below the bot's highest (Manage Roles).
    pub async fn edit_role(&self, role: RoleId, spec: RoleSpec) -> PluginResult<Role> {
        let action = Action::EditRole {
            guild: self.guild,
            role,
            spec,
            reason: None,
        };
        expect!(self.host.act(&action).await?, "edit_role", Outcome::Role(r) => r)
    }

    /// Deletes a role below the bot's highest (Manage Roles).
    pub async fn delete_role(&self, role: RoleId) -> PluginResult {
        self.host
            .done(Action::DeleteRole {
                guild: self.guild,
                role,
                reason: None,
            })
            .await
    }

    /// Creates a channel or category (Manage Channels).
    pub async fn create_channel(&self, spec: ChannelSpec) -> PluginResult<Channel> {
        let action = Action::CreateChannel {
            guild: self.guild,
            spec,
            reason: None,
        };
        expect!(self.host.act(&action).await?, "create_channel", Outcome::Channel(c) => c)
    }

    /// Changes the guild's settings (Manage Server; plugin-api 1.3); answers the guild as it
    /// now is.
    ///
    /// ```no_run
    /// # async fn demo(guild: zoryx_plugin_api::GuildHandle) -> zoryx_plugin_api::PluginResult {
    /// use zoryx_plugin_api::GuildSpec;
    ///
    /// let spec = GuildSpec { verification_level: Some(1), ..GuildSpec::default() };
    /// let info = guild.edit(spec, "raise verification").await?;
    /// assert_eq!(info.verification_level, 1);
    /// # Ok(()) }
    /// ```
    pub async fn edit(&self, spec: GuildSpec, reason: &str) -> PluginResult<GuildInfo> {
        let action = Action::EditGuild {
            guild: self.guild,
            spec,
            reason: audit_reason(reason),
        };
        expect!(self.host.act(&action).await?, "edit_guild", Outcome::Guild(g) => g)
    }

    /// Moves roles in the hierarchy (Manage Roles; only roles below the bot's highest, to
    /// positions below it; plugin-api 1.3). Answers every role, lowest first.
    pub async fn set_role_positions(
        &self,
        positions: Vec<(RoleId, i32)>,
        reason: &str,
    ) -> PluginResult<Vec<Role>> {
        let action = Action::RolePositions {
            guild: self.guild,
            positions,
            reason: audit_reason(reason),
        };
        expect!(self.host.act(&action).await?, "role_positions", Outcome::Roles(r) => r)
    }

    /// Uploads a custom emoji (Manage Expressions; plugin-api 1.3): `image` is a PNG, JPEG,
    /// GIF (animated) or WebP file of at most 256 KiB.
    pub async fn create_emoji(
        &self,
        name: &str,
        image: Vec<u8>,
        roles: Vec<RoleId>,
        reason: &str,
    ) -> PluginResult<Emoji> {
        let action = Action::CreateEmoji {
            guild: self.guild,
            name: name.to_owned(),
            image,
            roles,
            reason: audit_reason(reason),
        };
        expect!(self.host.act(&action).await?, "create_emoji", Outcome::Emoji(e) => e)
    }

    /// Moves a member who is in voice to another voice channel, or disconnects them with
    /// `None` (Move Members, and Connect to the channel; plugin-api 1.3).
    pub async fn move_member(
        &self,
        user: UserId,
        channel: Option<ChannelId>,
        reason: &str,
    ) -> PluginResult {
        self.host
            .done(Action::MoveMember {
                guild: self.guild,
                user,
                channel,
                reason: audit_reason(reason),
            })
            .await
    }

    /// Deletes a custom emoji (Manage Expressions; plugin-api 1.3).
    pub async fn delete_emoji(&self, emoji: u64, reason: &str) -> PluginResult {
        self.host
            .done(Action::DeleteEmoji {
                guild: self.guild,
                emoji,
                reason: audit_reason(reason),
            })
            .await
    }

    /// The bot's own settings here: prefix, mention prefix, role grants, auto-delete
    /// (plugin-api 1.3).
    pub async fn bot_settings(&self) -> PluginResult<BotGuildSettings> {
        let action = Action::BotSettings { guild: self.guild };
        expect!(self.host.act(&action).await?, "bot_settings", Outcome::BotSettings(s) => s)
    }

    /// Replaces the bot's own settings here (plugin-api 1.3); the next message already sees
    /// them.
    pub async fn set_bot_settings(&self, settings: BotGuildSettings) -> PluginResult {
        self.host
            .done(Action::SetBotSettings {
                guild: self.guild,
                settings,
            })
            .await
    }

    /// Gives a member a role (Manage Roles); `reason` goes to the audit log (`""`: none).
    pub async fn add_role(&self, user: UserId, role: RoleId, reason: &str) -> PluginResult {
        self.host
            .done(Action::AddMemberRole {
                guild: self.guild,
                user,
                role,
                reason: audit_reason(reason),
            })
            .await
    }

    /// Takes a role from a member (Manage Roles).
    pub async fn remove_role(&self, user: UserId, role: RoleId, reason: &str) -> PluginResult {
        self.host
            .done(Action::RemoveMemberRole {
                guild: self.guild,
                user,
                role,
                reason: audit_reason(reason),
            })
            .await
    }

    /// Sets a member's nickname, or clears it with `None` (Manage Nicknames).
    pub async fn set_nickname(&self, user: UserId, nick: Option<&str>) -> PluginResult {
        self.host
            .done(Action::SetNickname {
                guild: self.guild,
                user,
                nick: nick.map(str::to_owned),
                reason: None,
            })
            .await
    }

    /// Kicks a member (Kick Members).
    pub async fn kick(&self, user: UserId, reason: &str) -> PluginResult {
        self.host
            .done(Action::Kick {
                guild: self.guild,
                user,
                reason: audit_reason(reason),
            })
            .await
    }

    /// Bans a user and deletes their messages of the last `delete_messages` (at most 7 days;
    /// Ban Members).
    pub async fn ban(&self, user: UserId, delete_messages: Duration, reason: &str) -> PluginResult {
        let seconds = u32::try_from(delete_messages.as_secs()).unwrap_or(u32::MAX);
        self.host
            .done(Action::Ban {
                guild: self.guild,
                user,
                delete_message_seconds: seconds,
                reason: audit_reason(reason),
            })
            .await
    }

    /// Lifts a ban (Ban Members).
    pub async fn unban(&self, user: UserId, reason: &str) -> PluginResult {
        self.host
            .done(Action::Unban {
                guild: self.guild,
                user,
                reason: audit_reason(reason),
            })
            .await
    }

    /// Times a member out for `duration` (at most 28 days; Timeout Members).
    pub async fn timeout(&self, user: UserId, duration: Duration, reason: &str) -> PluginResult {
        let now = self
            .host
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let until = u64::try_from((now + duration).as_millis()).unwrap_or(u64::MAX);
        self.host
            .done(Action::Timeout {
                guild: self.guild,
                user,
                until_unix_ms: Some(until),
                reason: audit_reason(reason),
            })
            .await
    }

    /// Ends a member's time-out (Timeout Members).
    pub async fn end_timeout(&self, user: UserId, reason: &str) -> PluginResult {
        self.host
            .done(Action::Timeout {
                guild: self.guild,
                user,
                until_unix_ms: None,
                reason: audit_reason(reason),
            })
            .await
    }
}

/// What a command or component handler asks of its own interaction or message: edit or delete
/// its reply, follow up, update the clicked message in place, or acknowledge first.
///
/// Wire form behind the context methods ([`CommandContext::edit_reply`](crate::CommandContext::edit_reply)
/// and the others).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallAction {
    /// Replace a reply's content (`None`: the first reply).
    EditReply {
        /// Which reply.
        reply: Option<MessageId>,
        /// What it becomes.
        edit: Message,
    },
    /// Delete a reply (`None`: the first reply).
    DeleteReply {
        /// Which reply.
        reply: Option<MessageId>,
    },
    /// Send another message after the first reply (ephemeral if the message says so).
    Followup {
        /// The message.
        message: Message,
    },
    /// Components only: replace the message the component is on (interaction response 7, or
    /// an edit of it after [`CallAction::Defer`]).
    Update {
        /// What the message becomes.
        message: Message,
    },
    /// Acknowledge now and answer later: commands show "thinking…" (response 5, ephemeral if
    /// asked); components acknowledge silently (response 6) and update their message later.
    Defer {
        /// Only the invoking user sees the "thinking…" message.
        ephemeral: bool,
    },
    /// Show a form as the answer (interaction response 9; commands and components, not
    /// modal submissions; plugin-api 1.3).
    Modal {
        /// The form.
        modal: crate::interaction::Modal,
    },
    /// Answer an autocomplete request with suggestions (interaction response 8; at most 25,
    /// the rest are cut; plugin-api 1.3). Sent by the host with what the handler returned.
    Autocomplete {
        /// The suggestions.
        choices: Vec<crate::command::Choice>,
    },
    /// Show a dashboard panel: a panel handler's page (plugin-api 1.3). Sent by the host with
    /// what the handler returned.
    Panel {
        /// The page.
        panel: crate::panel::Panel,
    },
    /// Reply where the call was invoked, as `reply` does; resolves to the reply's id
    /// ([`Outcome::Id`]). The context's `reply` uses it for a message the 1.0 layout cannot
    /// carry (files, a disabled select menu: see [`Message::needs_json`]).
    Reply {
        /// The message.
        message: Message,
    },
}

impl CallAction {
    /// What the action does, in words.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::EditReply { .. } => "edit a reply",
            Self::DeleteReply { .. } => "delete a reply",
            Self::Followup { .. } => "send a followup",
            Self::Update { .. } => "update the component's message",
            Self::Defer { .. } => "defer the answer",
            Self::Modal { .. } => "show a modal",
            Self::Autocomplete { .. } => "answer with suggestions",
            Self::Panel { .. } => "show a dashboard panel",
            Self::Reply { .. } => "reply",
        }
    }
}
