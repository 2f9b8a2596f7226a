//! Application commands.

use serde_json::{Value, json};

/// A registered application command: the object as the bot sent it, plus the ids Discord adds.
#[derive(Debug, Clone)]
pub struct Command {
    /// Command id.
    pub id: u64,
    /// The guild, `None` for a global command.
    pub guild_id: Option<u64>,
    /// Version snowflake.
    pub version: u64,
    /// The body the bot sent for this command.
    pub body: Value,
}

impl Command {
    /// The command name.
    pub fn name(&self) -> &str {
        self.body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The application command type (1 slash, 2 user, 3 message).
    pub fn kind(&self) -> u64 {
        self.body.get("type").and_then(Value::as_u64).unwrap_or(1)
    }

    /// The permission bit set members need by default, if any.
    pub fn default_member_permissions(&self) -> Option<u64> {
        match self.body.get("default_member_permissions")? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Whether it can be used in a guild (`true`) or in a DM with the bot (`false`).
    pub fn usable_in(&self, guild: bool) -> bool {
        match self.body.get("contexts").and_then(Value::as_array) {
            Some(contexts) => contexts
                .iter()
                .any(|c| c.as_u64() == Some(if guild { 0 } else { 1 })),
            None => guild || self.body.get("dm_permission").and_then(Value::as_bool) != Some(false),
        }
    }

    /// The command object Discord answers with.
    pub fn to_json(&self, application_id: u64) -> Value {
        let mut v = json!({
            "id": self.id.to_string(),
            "application_id": application_id.to_string(),
            "version": self.version.to_string(),
            "default_member_permissions": null,
            "type": 1,
            "name": "",
            "description": "",
            "dm_permission": true,
            "nsfw": false,
            "contexts": null,
            "integration_types": [0],
        });
        if let (Some(obj), Some(body)) = (v.as_object_mut(), self.body.as_object()) {
            for (key, value) in body {
                if key == "id" || key == "application_id" || key == "version" {
                    continue;
                }
                obj.insert(key.clone(), value.clone());
            }
            if let Some(guild) = self.guild_id {
                obj.insert("guild_id".into(), json!(guild.to_string()));
            }
            if obj.get("description").is_none_or(Value::is_null) {
                obj.insert("description".into(), json!(""));
            }
            if obj.get("type").is_none_or(Value::is_null) {
                obj.insert("type".into(), json!(1));
            }
            // Discord answers the permission bit set as a string, however it was sent, and
            // `dm_permission` as the contexts say.
            match obj.get("default_member_permissions") {
                Some(Value::Number(n)) => {
                    let text = n.to_string();
                    obj.insert("default_member_permissions".into(), json!(text));
                }
                Some(Value::String(_)) => {}
                _ => {
                    obj.insert("default_member_permissions".into(), Value::Null);
                }
            }
            if let Some(contexts) = obj.get("contexts").and_then(Value::as_array) {
                let dm = contexts.iter().any(|c| c.as_u64() == Some(1));
                obj.insert("dm_permission".into(), json!(dm));
            }
        }
        v
    }
}
