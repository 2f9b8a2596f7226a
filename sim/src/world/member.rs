//! Guild members.

use serde_json::{Value, json};

use crate::snowflake::{iso8601, now_ms};

/// A user's membership in a guild.
#[derive(Debug, Clone)]
pub struct Member {
    /// The user.
    pub user_id: u64,
    /// Nickname.
    pub nick: Option<String>,
    /// Role ids (without @everyone).
    pub roles: Vec<u64>,
    /// Joined at (Unix ms).
    pub joined_at_ms: u64,
    /// Timed out until (Unix ms), as last set.
    pub communication_disabled_until_ms: Option<u64>,
}

impl Member {
    /// A member who joins now.
    pub fn new(user_id: u64) -> Self {
        Self {
            user_id,
            nick: None,
            roles: Vec::new(),
            joined_at_ms: now_ms(),
            communication_disabled_until_ms: None,
        }
    }

    /// Whether the member is timed out now.
    pub fn timed_out(&self) -> bool {
        self.communication_disabled_until_ms
            .is_some_and(|until| until > now_ms())
    }

    /// The member object, embedding `user`.
    pub fn to_json(&self, user: Value) -> Value {
        json!({
            "user": user,
            "nick": self.nick,
            "avatar": null,
            "banner": null,
            "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "joined_at": iso8601(self.joined_at_ms),
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": self.communication_disabled_until_ms.map(iso8601),
        })
    }
}
