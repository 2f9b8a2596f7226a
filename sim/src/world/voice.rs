//! Voice states: who is connected to which voice channel.

use serde_json::{Value, json};

/// A user's connection to a voice channel of a guild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceState {
    /// The user.
    pub user_id: u64,
    /// The voice channel, `None` once they left.
    pub channel_id: Option<u64>,
    /// The voice session (a new one on each join).
    pub session_id: String,
}

impl VoiceState {
    /// A user connected to `channel`.
    pub fn joined(user_id: u64, channel: u64, session_id: String) -> Self {
        Self {
            user_id,
            channel_id: Some(channel),
            session_id,
        }
    }

    /// A user who is in no voice channel.
    pub fn left(user_id: u64) -> Self {
        Self {
            user_id,
            channel_id: None,
            session_id: String::new(),
        }
    }

    /// The voice state object (`member` in gateway events; `guild_id` is added by the caller
    /// where Discord sends it).
    pub fn to_json(&self, member: Option<Value>) -> Value {
        let mut v = json!({
            "channel_id": self.channel_id.map(|c| c.to_string()),
            "user_id": self.user_id.to_string(),
            "session_id": self.session_id,
            "deaf": false,
            "mute": false,
            "self_deaf": false,
            "self_mute": false,
            "self_video": false,
            "suppress": false,
            "request_to_speak_timestamp": null,
        });
        if let Some(member) = member {
            v["member"] = member;
        }
        v
    }
}
