//! Channels: guild text channels, voice channels, categories and DM channels, with permission
//! overwrites.

use serde_json::{Value, json};

/// Discord channel type 0: a guild text channel.
pub const GUILD_TEXT: u8 = 0;
/// Discord channel type 1: a DM.
pub const DM: u8 = 1;
/// Discord channel type 2: a guild voice channel.
pub const GUILD_VOICE: u8 = 2;
/// Discord channel type 4: a guild category.
pub const GUILD_CATEGORY: u8 = 4;

/// A permission overwrite on a guild channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overwrite {
    /// Role id (the guild id for @everyone) or user id.
    pub id: u64,
    /// 0 = role, 1 = member.
    pub kind: u8,
    /// Permission bits allowed.
    pub allow: u64,
    /// Permission bits denied.
    pub deny: u64,
}

impl Overwrite {
    /// The overwrite object (`allow`/`deny` as strings, as Discord sends them).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "type": self.kind,
            "allow": self.allow.to_string(),
            "deny": self.deny.to_string(),
        })
    }
}

/// A channel.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Channel id.
    pub id: u64,
    /// Discord channel type: [`GUILD_TEXT`], [`DM`], [`GUILD_VOICE`] or [`GUILD_CATEGORY`].
    pub kind: u8,
    /// The guild, `None` for a DM.
    pub guild_id: Option<u64>,
    /// Name (guild channels).
    pub name: String,
    /// Position in the guild's list.
    pub position: u32,
    /// Topic.
    pub topic: Option<String>,
    /// The category this channel is in.
    pub parent_id: Option<u64>,
    /// Age-restricted?
    pub nsfw: bool,
    /// Slowmode, in seconds.
    pub rate_limit_per_user: u32,
    /// Permission overwrites, in the order they were set.
    pub overwrites: Vec<Overwrite>,
    /// The other user, for a DM.
    pub recipient: Option<u64>,
    /// The last message id.
    pub last_message_id: Option<u64>,
    /// Message ids in order.
    pub messages: Vec<u64>,
}

impl Channel {
    /// A guild text channel.
    pub fn guild_text(id: u64, guild: u64, name: &str, position: u32) -> Self {
        Self {
            id,
            kind: GUILD_TEXT,
            guild_id: Some(guild),
            name: name.to_owned(),
            position,
            topic: None,
            parent_id: None,
            nsfw: false,
            rate_limit_per_user: 0,
            overwrites: Vec::new(),
            recipient: None,
            last_message_id: None,
            messages: Vec::new(),
        }
    }

    /// A guild category.
    pub fn category(id: u64, guild: u64, name: &str, position: u32) -> Self {
        Self {
            kind: GUILD_CATEGORY,
            ..Self::guild_text(id, guild, name, position)
        }
    }

    /// A guild voice channel.
    pub fn voice(id: u64, guild: u64, name: &str, position: u32) -> Self {
        Self {
            kind: GUILD_VOICE,
            ..Self::guild_text(id, guild, name, position)
        }
    }

    /// A DM channel with `user`.
    pub fn dm(id: u64, user: u64) -> Self {
        Self {
            id,
            kind: DM,
            guild_id: None,
            name: String::new(),
            position: 0,
            topic: None,
            parent_id: None,
            nsfw: false,
            rate_limit_per_user: 0,
            overwrites: Vec::new(),
            recipient: Some(user),
            last_message_id: None,
            messages: Vec::new(),
        }
    }

    /// Discord channel type (0 guild text, 1 DM, 2 voice, 4 category).
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// Whether messages can be posted here (text channels and DMs, not categories; not voice
    /// channels either, whose text chat is not simulated).
    pub fn is_text(&self) -> bool {
        matches!(self.kind, GUILD_TEXT | DM)
    }

    /// Whether members can join it in voice.
    pub fn is_voice(&self) -> bool {
        self.kind == GUILD_VOICE
    }

    /// The overwrites as JSON.
    pub fn overwrites_json(&self) -> Vec<Value> {
        self.overwrites.iter().map(Overwrite::to_json).collect()
    }

    /// The channel object as REST returns it (`recipient_json` for DMs).
    pub fn to_json(&self, recipient_json: Option<Value>) -> Value {
        let last = self.last_message_id.map(|m| m.to_string());
        match (self.guild_id, self.kind) {
            (Some(guild), GUILD_CATEGORY) => json!({
                "id": self.id.to_string(),
                "type": GUILD_CATEGORY,
                "guild_id": guild.to_string(),
                "name": self.name,
                "position": self.position,
                "permission_overwrites": self.overwrites_json(),
                "nsfw": self.nsfw,
                "parent_id": null,
                "flags": 0,
            }),
            (Some(guild), GUILD_VOICE) => json!({
                "id": self.id.to_string(),
                "type": GUILD_VOICE,
                "guild_id": guild.to_string(),
                "name": self.name,
                "position": self.position,
                "permission_overwrites": self.overwrites_json(),
                "nsfw": self.nsfw,
                "last_message_id": last,
                "rate_limit_per_user": self.rate_limit_per_user,
                "parent_id": self.parent_id.map(|p| p.to_string()),
                "bitrate": 64000,
                "user_limit": 0,
                "rtc_region": null,
                "flags": 0,
            }),
            (Some(guild), _) => json!({
                "id": self.id.to_string(),
                "type": GUILD_TEXT,
                "guild_id": guild.to_string(),
                "name": self.name,
                "position": self.position,
                "permission_overwrites": self.overwrites_json(),
                "topic": self.topic,
                "nsfw": self.nsfw,
                "last_message_id": last,
                "rate_limit_per_user": self.rate_limit_per_user,
                "parent_id": self.parent_id.map(|p| p.to_string()),
                "flags": 0,
            }),
            (None, _) => json!({
                "id": self.id.to_string(),
                "type": DM,
                "last_message_id": last,
                "flags": 0,
                "recipients": recipient_json.into_iter().collect::<Vec<_>>(),
            }),
        }
    }

    /// The channel object inside GUILD_CREATE (same keys; `guild_id` is kept, serenity accepts it).
    pub fn to_json_in_guild_create(&self) -> Value {
        self.to_json(None)
    }
}
