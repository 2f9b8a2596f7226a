//! Guild roles.

use serde_json::{Value, json};

use super::permissions;

/// A role.
#[derive(Debug, Clone)]
pub struct Role {
    /// Role id (the guild id for @everyone).
    pub id: u64,
    /// Name.
    pub name: String,
    /// Permission bits.
    pub permissions: u64,
    /// Position (0 = @everyone).
    pub position: u32,
    /// RGB colour.
    pub color: u32,
    /// Shown separately in the member list?
    pub hoist: bool,
    /// Mentionable?
    pub mentionable: bool,
    /// For a bot's managed role: the bot's user id.
    pub bot_id: Option<u64>,
}

impl Role {
    /// The @everyone role of a guild.
    pub fn everyone(guild: u64) -> Self {
        Self::new(guild, "@everyone", permissions::EVERYONE_DEFAULT, 0)
    }

    /// A new role.
    pub fn new(id: u64, name: &str, permissions: u64, position: u32) -> Self {
        Self {
            id,
            name: name.to_owned(),
            permissions,
            position,
            color: 0,
            hoist: false,
            mentionable: false,
            bot_id: None,
        }
    }

    /// The role object (with `colors`, which serenity 0.12.5 requires).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id.to_string(),
            "name": self.name,
            "permissions": self.permissions.to_string(),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": null, "tertiary_color": null},
            "hoist": self.hoist,
            "managed": self.bot_id.is_some(),
            "mentionable": self.mentionable,
            "icon": null,
            "unicode_emoji": null,
            "flags": 0,
        });
        if let Some(bot) = self.bot_id {
            v["tags"] = json!({"bot_id": bot.to_string()});
        }
        v
    }
}
