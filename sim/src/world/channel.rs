//! Channels: guild text channels and DM channels.

use serde_json::{Value, json};

/// A channel.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Channel id.
    pub id: u64,
    /// The guild, `None` for a DM.
    pub guild_id: Option<u64>,
    /// Name (guild channels).
    pub name: String,
    /// Position in the guild's list.
    pub position: u32,
    /// Topic.
    pub topic: Option<String>,
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
            guild_id: Some(guild),
            name: name.to_owned(),
            position,
            topic: None,
            recipient: None,
            last_message_id: None,
            messages: Vec::new(),
        }
    }

    /// A DM channel with `user`.
    pub fn dm(id: u64, user: u64) -> Self {
        Self {
            id,
            guild_id: None,
            name: String::new(),
            position: 0,
            topic: None,
            recipient: Some(user),
            last_message_id: None,
            messages: Vec::new(),
        }
    }

    /// Discord channel type (0 guild text, 1 DM).
    pub fn kind(&self) -> u8 {
        if self.guild_id.is_some() { 0 } else { 1 }
    }

    /// The channel object as REST returns it (`recipient_json` for DMs).
    pub fn to_json(&self, recipient_json: Option<Value>) -> Value {
        let last = self.last_message_id.map(|m| m.to_string());
        match self.guild_id {
            Some(guild) => json!({
                "id": self.id.to_string(),
                "type": 0,
                "guild_id": guild.to_string(),
                "name": self.name,
                "position": self.position,
                "permission_overwrites": [],
                "topic": self.topic,
                "nsfw": false,
                "last_message_id": last,
                "rate_limit_per_user": 0,
                "parent_id": null,
                "flags": 0,
            }),
            None => json!({
                "id": self.id.to_string(),
                "type": 1,
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
