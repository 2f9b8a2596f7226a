//! Users.

use serde_json::{Value, json};

/// A user account.
#[derive(Debug, Clone)]
pub struct User {
    /// Snowflake id.
    pub id: u64,
    /// Username.
    pub name: String,
    /// Bot account?
    pub bot: bool,
    /// Refuses direct messages from the bot (see [`crate::Simulator::close_dms`]).
    pub dms_closed: bool,
}

impl User {
    /// A new user.
    pub fn new(id: u64, name: &str, bot: bool) -> Self {
        Self {
            id,
            name: name.to_owned(),
            bot,
            dms_closed: false,
        }
    }

    /// The user object (satisfies both serenity's `User` and the spec's `UserResponse`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "username": self.name,
            "global_name": if self.bot { Value::Null } else { Value::String(self.name.clone()) },
            "avatar": null,
            "discriminator": "0",
            "public_flags": 0,
            "flags": 0,
            "bot": self.bot,
            "primary_guild": null,
        })
    }

    /// The `/users/@me` object (adds the private fields).
    pub fn to_me_json(&self) -> Value {
        let mut v = self.to_json();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("mfa_enabled".into(), json!(false));
            obj.insert("locale".into(), json!("en-US"));
            obj.insert("verified".into(), json!(true));
            obj.insert("email".into(), Value::Null);
            obj.insert("premium_type".into(), json!(0));
        }
        v
    }
}
