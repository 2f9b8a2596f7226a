//! What a plugin reads from Discord and asks it to create: messages as they stand, guilds,
//! roles, channels, bans, emojis and webhooks (plugin-api 1.3).

use serde::{Deserialize, Serialize};

use crate::model::{ChannelId, GuildId, MessageId, RoleId, User, UserId};
use crate::permissions::Permissions;

/// A message as Discord holds it (fetched, or returned by an edit).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMessage {
    /// The message id.
    pub id: MessageId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its guild, `None` in DMs (and in answers where Discord leaves it out).
    pub guild_id: Option<GuildId>,
    /// Who wrote it.
    pub author: User,
    /// Its text.
    pub content: String,
    /// How many embeds it carries.
    pub embed_count: u32,
    /// Its files.
    pub attachments: Vec<Attachment>,
    /// Its reactions.
    pub reactions: Vec<Reaction>,
    /// The message it replies to.
    pub reply_to: Option<MessageId>,
    /// When it was last edited (Discord's ISO 8601 text), `None` if never.
    pub edited_at: Option<String>,
    /// Whether it is pinned.
    pub pinned: bool,
}

/// A file on a message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The attachment id.
    pub id: u64,
    /// Its file name.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where to download it.
    pub url: String,
    /// Its media type, when Discord knows it.
    pub content_type: Option<String>,
}

/// One emoji's reactions on a message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The emoji: the character itself, or `name:id` for a custom one.
    pub emoji: String,
    /// How many reacted with it.
    pub count: u32,
    /// Whether the bot is one of them.
    pub me: bool,
}

/// A guild as Discord describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildInfo {
    /// Its id.
    pub id: GuildId,
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner_id: UserId,
    /// About how many members it has (Discord's approximate count).
    pub member_count: Option<u64>,
    /// Its description, if any.
    pub description: Option<String>,
    /// Who may talk before verifying (0 none … 4 a verified phone; plugin-api 1.3).
    #[serde(default)]
    pub verification_level: u8,
    /// Which messages notify members by default (0 all, 1 mentions only; plugin-api 1.3).
    #[serde(default)]
    pub default_notifications: u8,
    /// Whose media Discord scans (0 nobody, 1 members without roles, 2 everyone; plugin-api
    /// 1.3).
    #[serde(default)]
    pub explicit_content_filter: u8,
    /// The voice channel idle members are moved to (plugin-api 1.3).
    #[serde(default)]
    pub afk_channel: Option<ChannelId>,
    /// Seconds of silence before a member counts as idle (plugin-api 1.3).
    #[serde(default)]
    pub afk_timeout: u32,
    /// Where Discord posts joins and boosts (plugin-api 1.3).
    #[serde(default)]
    pub system_channel: Option<ChannelId>,
    /// Which of those posts are turned off (Discord's bit field; plugin-api 1.3).
    #[serde(default)]
    pub system_channel_flags: u64,
    /// The guild's language, as a Discord locale (`en-US`; plugin-api 1.3).
    #[serde(default)]
    pub preferred_locale: String,
}

/// Changes to a guild's settings ([`GuildHandle::edit`](crate::GuildHandle::edit); Manage
/// Server). Fields left `None` stay as they are; the channel fields take `Some(None)` to clear.
///
/// ```
/// use zoryx_plugin_api::{ChannelId, GuildSpec};
///
/// let spec = GuildSpec {
///     verification_level: Some(2),
///     system_channel: Some(Some(ChannelId(10))),
///     afk_channel: Some(None),
///     ..GuildSpec::default()
/// };
/// let json = serde_json::to_value(&spec).unwrap();
/// assert_eq!(json["afk_channel"], serde_json::Value::Null);
/// assert!(json.get("name").is_none());
/// assert_eq!(serde_json::from_value::<GuildSpec>(json).unwrap(), spec);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuildSpec {
    /// Its name (2–100 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its description (at most 300 characters; `Some(None)` clears it).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub description: Option<Option<String>>,
    /// 0–4 (see [`GuildInfo::verification_level`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_level: Option<u8>,
    /// 0 or 1 (see [`GuildInfo::default_notifications`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_notifications: Option<u8>,
    /// 0–2 (see [`GuildInfo::explicit_content_filter`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explicit_content_filter: Option<u8>,
    /// A voice channel of the guild, or `Some(None)` for none.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub afk_channel: Option<Option<ChannelId>>,
    /// 60, 300, 900, 1800 or 3600 seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub afk_timeout: Option<u32>,
    /// A text channel of the guild, or `Some(None)` for none.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub system_channel: Option<Option<ChannelId>>,
    /// Discord's bit field of system messages turned off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_channel_flags: Option<u64>,
    /// A Discord locale (`en-US`, `de`, `fr`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_locale: Option<String>,
}

/// A field that is present (even as `null`) reads as `Some`; an absent one stays `None`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl GuildSpec {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The bot's own settings for one guild (plugin-api 1.3): what `!setprefix`, `!mentionprefix`,
/// `!config` and `!autodelete` set. `None` means the configured default applies.
///
/// ```
/// use zoryx_plugin_api::BotGuildSettings;
///
/// let settings: BotGuildSettings = serde_json::from_str(r#"{"prefix": "?"}"#).unwrap();
/// assert_eq!(settings.prefix.as_deref(), Some("?"));
/// assert!(settings.command_roles.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BotGuildSettings {
    /// The guild's prefix.
    pub prefix: Option<String>,
    /// Whether `@bot command` works there.
    pub mention_prefix: Option<bool>,
    /// Role grants: command name → the roles that may run it.
    pub command_roles: std::collections::BTreeMap<String, Vec<RoleId>>,
    /// Seconds before the bot deletes its refusals and error embeds (0: never).
    pub auto_delete_errors: u32,
    /// Seconds before the bot deletes the message that ran a command (0: never).
    pub auto_delete_commands: u32,
}

/// A role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its id (the @everyone role's id is the guild's).
    pub id: RoleId,
    /// Its name.
    pub name: String,
    /// What it grants.
    pub permissions: Permissions,
    /// Its place in the hierarchy (higher is more powerful).
    pub position: i32,
    /// Its colour (`0`: none).
    pub colour: u32,
    /// Shown apart in the member list.
    pub hoist: bool,
    /// Anyone may mention it.
    pub mentionable: bool,
    /// Owned by an integration (a bot's own role); cannot be assigned or deleted.
    pub managed: bool,
}

/// What a new role looks like, or what an edit changes (`None`: leave as is).
///
/// ```
/// use zoryx_plugin_api::{Permissions, RoleSpec};
///
/// let muted = RoleSpec::named("Muted").permissions(Permissions::VIEW_CHANNEL).colour(0x808080);
/// assert_eq!(muted.name.as_deref(), Some("Muted"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSpec {
    /// Name (at most 100 characters).
    pub name: Option<String>,
    /// Permissions.
    pub permissions: Option<Permissions>,
    /// Colour.
    pub colour: Option<u32>,
    /// Shown apart.
    pub hoist: Option<bool>,
    /// Mentionable by anyone.
    pub mentionable: Option<bool>,
}

impl RoleSpec {
    /// A role called `name`.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Sets its permissions.
    pub fn permissions(mut self, permissions: Permissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// Sets its colour.
    pub fn colour(mut self, colour: u32) -> Self {
        self.colour = Some(colour);
        self
    }

    /// Shows it apart in the member list.
    pub fn hoist(mut self, hoist: bool) -> Self {
        self.hoist = Some(hoist);
        self
    }

    /// Lets anyone mention it.
    pub fn mentionable(mut self, mentionable: bool) -> Self {
        self.mentionable = Some(mentionable);
        self
    }
}

/// What kind of channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChannelKind {
    /// A text channel.
    #[default]
    Text,
    /// A direct message.
    Direct,
    /// A voice channel.
    Voice,
    /// A category holding other channels.
    Category,
    /// An announcement channel.
    Announcement,
    /// A thread.
    Thread,
    /// A stage channel.
    Stage,
    /// A forum.
    Forum,
    /// Another kind, by Discord's number.
    Other(u8),
}

impl ChannelKind {
    /// Discord's number for the kind.
    pub const fn code(self) -> u8 {
        match self {
            Self::Text => 0,
            Self::Direct => 1,
            Self::Voice => 2,
            Self::Category => 4,
            Self::Announcement => 5,
            Self::Thread => 11,
            Self::Stage => 13,
            Self::Forum => 15,
            Self::Other(code) => code,
        }
    }

    /// The kind of Discord's number.
    pub const fn from_code(code: u8) -> Self {
        match code {
            0 => Self::Text,
            1 => Self::Direct,
            2 => Self::Voice,
            4 => Self::Category,
            5 => Self::Announcement,
            10..=12 => Self::Thread,
            13 => Self::Stage,
            15 => Self::Forum,
            other => Self::Other(other),
        }
    }
}

/// Whom a permission overwrite is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverwriteTarget {
    /// A role (the guild's id: @everyone).
    Role(RoleId),
    /// One member.
    Member(UserId),
}

/// A channel's permission overwrite: what it allows and denies beyond the roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overwrite {
    /// Whom it is for.
    pub target: OverwriteTarget,
    /// Granted here.
    pub allow: Permissions,
    /// Taken away here.
    pub deny: Permissions,
}

/// A guild channel (or a DM channel).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Its id.
    pub id: ChannelId,
    /// Its guild.
    pub guild_id: Option<GuildId>,
    /// Its name (empty for DMs).
    pub name: String,
    /// Its kind.
    pub kind: ChannelKind,
    /// The category it is in.
    pub parent_id: Option<ChannelId>,
    /// Its place in the list.
    pub position: i32,
    /// Its topic.
    pub topic: Option<String>,
    /// Age-restricted.
    pub nsfw: bool,
    /// Slow mode, seconds between a member's messages (0: off).
    pub slowmode_seconds: u32,
    /// Its permission overwrites.
    pub overwrites: Vec<Overwrite>,
}

/// What a new channel looks like, or what an edit changes (`None`: leave as is).
///
/// ```
/// use zoryx_plugin_api::{ChannelKind, ChannelSpec};
///
/// let logs = ChannelSpec::named("mod-logs").topic("What the moderators did").slowmode(5);
/// assert_eq!(logs.kind, None);
/// let staff = ChannelSpec::named("Staff").kind(ChannelKind::Category);
/// assert_eq!(staff.kind, Some(ChannelKind::Category));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSpec {
    /// Name (1–100 characters).
    pub name: Option<String>,
    /// Kind (only when creating; text by default).
    pub kind: Option<ChannelKind>,
    /// Category.
    pub parent_id: Option<ChannelId>,
    /// Position.
    pub position: Option<i32>,
    /// Topic (at most 1,024 characters).
    pub topic: Option<String>,
    /// Age-restricted.
    pub nsfw: Option<bool>,
    /// Slow mode in seconds (0–21,600).
    pub slowmode_seconds: Option<u32>,
    /// Replaces every permission overwrite.
    pub overwrites: Option<Vec<Overwrite>>,
}

impl ChannelSpec {
    /// A channel called `name`.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Sets its kind.
    pub fn kind(mut self, kind: ChannelKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Puts it in a category.
    pub fn parent(mut self, category: ChannelId) -> Self {
        self.parent_id = Some(category);
        self
    }

    /// Sets its position.
    pub fn position(mut self, position: i32) -> Self {
        self.position = Some(position);
        self
    }

    /// Sets its topic.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// Sets slow mode.
    pub fn slowmode(mut self, seconds: u32) -> Self {
        self.slowmode_seconds = Some(seconds);
        self
    }

    /// Replaces its permission overwrites.
    pub fn overwrites(mut self, overwrites: Vec<Overwrite>) -> Self {
        self.overwrites = Some(overwrites);
        self
    }
}

/// A ban.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    /// Who is banned.
    pub user: User,
    /// Why, if a reason was given.
    pub reason: Option<String>,
}

/// A guild's custom emoji.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emoji {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Whether it moves.
    pub animated: bool,
    /// The roles that may use it (empty: everyone; plugin-api 1.3).
    #[serde(default)]
    pub roles: Vec<RoleId>,
}

impl Emoji {
    /// The form reactions take: `name:id`.
    pub fn reaction(&self) -> String {
        format!("{}:{}", self.name, self.id)
    }

    /// Where Discord's CDN serves its image (a GIF when animated, else a PNG); download it
    /// with [`Host::download`](crate::Host::download).
    ///
    /// ```
    /// use zoryx_plugin_api::Emoji;
    ///
    /// let wave = Emoji { id: 7, name: "wave".into(), animated: true, ..Emoji::default() };
    /// assert_eq!(wave.image_url(), "https://cdn.discordapp.com/emojis/7.gif");
    /// ```
    pub fn image_url(&self) -> String {
        let ext = if self.animated { "gif" } else { "png" };
        format!("https://cdn.discordapp.com/emojis/{}.{ext}", self.id)
    }
}

/// The media type of an image by its first bytes: PNG, JPEG, GIF or WebP, the formats
/// Discord takes for emojis and icons.
///
/// ```
/// assert_eq!(zoryx_plugin_api::image_type(b"GIF89a..."), Some("image/gif"));
/// assert_eq!(zoryx_plugin_api::image_type(b"hello"), None);
/// ```
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// An image as Discord takes it in JSON (emojis, icons): `data:image/png;base64,…`, or `None`
/// when it is not a PNG, JPEG, GIF or WebP file.
///
/// ```
/// let uri = zoryx_plugin_api::image_data_uri(b"GIF89a").unwrap();
/// assert_eq!(uri, "data:image/gif;base64,R0lGODlh");
/// ```
pub fn image_data_uri(bytes: &[u8]) -> Option<String> {
    let kind = image_type(bytes)?;
    Some(format!(
        "data:{kind};base64,{}",
        crate::base64::encode(bytes)
    ))
}

/// A channel webhook.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Its id.
    pub id: u64,
    /// Its secret token (only known for webhooks the bot created or can manage).
    pub token: Option<String>,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its name.
    pub name: String,
}
