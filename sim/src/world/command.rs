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
        }
        v
    }
}
