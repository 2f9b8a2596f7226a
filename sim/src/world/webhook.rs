//! Channel webhooks (incoming webhooks a bot creates; interaction webhooks are interactions).

use serde_json::{Value, json};

/// An incoming webhook of a guild channel.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Webhook id.
    pub id: u64,
    /// Its secret token (for `POST /webhooks/{id}/{token}`).
    pub token: String,
    /// The guild.
    pub guild_id: u64,
    /// The channel it posts to.
    pub channel_id: u64,
    /// Default name of its messages' author.
    pub name: String,
    /// Avatar hash, if any.
    pub avatar: Option<String>,
    /// The user who created it.
    pub creator: u64,
    /// The application that created it, if a bot did.
    pub application_id: Option<u64>,
}

impl Webhook {
    /// The webhook object (`GuildIncomingWebhookResponse`); `url` is where to execute it.
    pub fn to_json(&self, creator: Value, base_url: &str) -> Value {
        json!({
            "id": self.id.to_string(),
            "type": 1,
            "guild_id": self.guild_id.to_string(),
            "channel_id": self.channel_id.to_string(),
            "name": self.name,
            "avatar": self.avatar,
            "application_id": self.application_id.map(|a| a.to_string()),
            "user": creator,
            "token": self.token,
            "url": format!("{base_url}/api/v10/webhooks/{}/{}", self.id, self.token),
        })
    }

    /// The author object of a message this webhook posted as `username`.
    pub fn author_json(&self, username: Option<&str>) -> Value {
        json!({
            "id": self.id.to_string(),
            "username": username.unwrap_or(&self.name),
            "global_name": null,
            "avatar": null,
            "discriminator": "0000",
            "public_flags": 0,
            "flags": 0,
            "bot": true,
            "primary_guild": null,
        })
    }
}
