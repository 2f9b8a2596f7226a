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
}

impl Emoji {
    /// The form reactions take: `name:id`.
    pub fn reaction(&self) -> String {
        format!("{}:{}", self.name, self.id)
    }
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
