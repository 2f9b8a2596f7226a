//! Guilds.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Member, Role, VoiceState};
use crate::snowflake::{iso8601, now_ms};
use crate::world::User;

/// A guild.
#[derive(Debug, Clone)]
pub struct Guild {
    /// Guild id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Owner user id.
    pub owner_id: u64,
    /// Roles by id (includes @everyone, id = guild id).
    pub roles: BTreeMap<u64, Role>,
    /// Members by user id.
    pub members: BTreeMap<u64, Member>,
    /// Channel ids in order.
    pub channels: Vec<u64>,
    /// When the bot joined (Unix ms).
    pub joined_at_ms: u64,
    /// Bans: banned user id → audit-log reason.
    pub bans: BTreeMap<u64, Option<String>>,
    /// Custom emojis by id.
    pub emojis: BTreeMap<u64, Emoji>,
    /// Who is in a voice channel, by user id.
    pub voice_states: BTreeMap<u64, VoiceState>,
    /// The settings `PATCH /guilds/{id}` changes.
    pub settings: GuildSettings,
}

/// A guild's settings, as `PATCH /guilds/{id}` sets them and the guild object reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildSettings {
    /// Description (`None`: none).
    pub description: Option<String>,
    /// Verification level, 0–4.
    pub verification_level: u8,
    /// Default message notifications: 0 all messages, 1 only mentions.
    pub default_message_notifications: u8,
    /// Explicit content filter, 0–2.
    pub explicit_content_filter: u8,
    /// The AFK voice channel.
    pub afk_channel_id: Option<u64>,
    /// Seconds before a member goes AFK: 60, 300, 900, 1800 or 3600.
    pub afk_timeout: u32,
    /// Where system messages go (set to #general when the guild is created).
    pub system_channel_id: Option<u64>,
    /// System channel flags (suppress join notifications, ...).
    pub system_channel_flags: u64,
    /// The community's preferred locale (`en-US`, `de`, `fr`, ...).
    pub preferred_locale: String,
}

impl Default for GuildSettings {
    fn default() -> Self {
        Self {
            description: None,
            verification_level: 0,
            default_message_notifications: 0,
            explicit_content_filter: 0,
            afk_channel_id: None,
            afk_timeout: 300,
            system_channel_id: None,
            system_channel_flags: 0,
            preferred_locale: "en-US".to_owned(),
        }
    }
}

/// A custom guild emoji.
#[derive(Debug, Clone)]
pub struct Emoji {
    /// Emoji id.
    pub id: u64,
    /// Name (without colons).
    pub name: String,
    /// Animated?
    pub animated: bool,
    /// The roles allowed to use it (empty: everyone).
    pub roles: Vec<u64>,
    /// Who uploaded it (`None` for emojis the simulator's scripting created).
    pub user_id: Option<u64>,
}

impl Emoji {
    /// The emoji object (`user` is the uploader, shown to MANAGE_GUILD_EXPRESSIONS holders).
    pub fn to_json(&self, user: Option<&User>) -> Value {
        let mut v = json!({
            "id": self.id.to_string(),
            "name": self.name,
            "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "require_colons": true,
            "managed": false,
            "animated": self.animated,
            "available": true,
        });
        if let Some(u) = user {
            v["user"] = u.to_json();
        }
        v
    }
}

impl Guild {
    /// A new, empty guild (no roles, members or channels yet).
    pub fn new(id: u64, name: &str, owner_id: u64) -> Self {
        Self {
            id,
            name: name.to_owned(),
            owner_id,
            roles: BTreeMap::new(),
            members: BTreeMap::new(),
            channels: Vec::new(),
            joined_at_ms: now_ms(),
            bans: BTreeMap::new(),
            emojis: BTreeMap::new(),
            voice_states: BTreeMap::new(),
            settings: GuildSettings::default(),
        }
    }

    /// The custom emojis as JSON.
    pub fn emojis_json(&self) -> Vec<Value> {
        self.emojis.values().map(|e| e.to_json(None)).collect()
    }

    /// The highest role position of a member (0 for @everyone only; 0 for non-members).
    pub fn highest_position(&self, user: u64) -> u32 {
        self.members.get(&user).map_or(0, |m| {
            m.roles
                .iter()
                .filter_map(|r| self.roles.get(r))
                .map(|r| r.position)
                .max()
                .unwrap_or(0)
        })
    }

    fn roles_json(&self) -> Vec<Value> {
        self.roles.values().map(Role::to_json).collect()
    }

    /// The guild object as `GET /guilds/{id}` returns it.
    pub fn to_json(&self) -> Value {
        let s = &self.settings;
        json!({
            "id": self.id.to_string(),
            "name": self.name,
            "icon": null,
            "icon_hash": null,
            "description": s.description,
            "home_header": null,
            "splash": null,
            "discovery_splash": null,
            "features": [],
            "banner": null,
            "owner_id": self.owner_id.to_string(),
            "application_id": null,
            "region": "deprecated",
            "afk_channel_id": s.afk_channel_id.map(|c| c.to_string()),
            "afk_timeout": s.afk_timeout,
            "system_channel_id": s.system_channel_id.map(|c| c.to_string()),
            "system_channel_flags": s.system_channel_flags,
            "widget_enabled": false,
            "widget_channel_id": null,
            "verification_level": s.verification_level,
            "roles": self.roles_json(),
            "default_message_notifications": s.default_message_notifications,
            "mfa_level": 0,
            "explicit_content_filter": s.explicit_content_filter,
            "max_presences": null,
            "max_members": 500000,
            "max_stage_video_channel_users": 50,
            "max_video_channel_users": 25,
            "vanity_url_code": null,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": s.preferred_locale,
            "rules_channel_id": null,
            "safety_alerts_channel_id": null,
            "public_updates_channel_id": null,
            "premium_progress_bar_enabled": false,
            "nsfw": false,
            "nsfw_level": 0,
            "emojis": self.emojis_json(),
            "stickers": [],
            "incidents_data": null,
        })
    }

    /// The GUILD_CREATE payload: the guild object plus the gateway-only keys.
    pub fn to_create_json(
        &self,
        channels: Vec<Value>,
        members: Vec<Value>,
        voice_states: Vec<Value>,
    ) -> Value {
        let mut v = self.to_json();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("joined_at".into(), json!(iso8601(self.joined_at_ms)));
            obj.insert("large".into(), json!(false));
            obj.insert("unavailable".into(), json!(false));
            obj.insert("member_count".into(), json!(self.members.len()));
            obj.insert("voice_states".into(), json!(voice_states));
            obj.insert("members".into(), json!(members));
            obj.insert("channels".into(), json!(channels));
            obj.insert("threads".into(), json!([]));
            obj.insert("presences".into(), json!([]));
            obj.insert("stage_instances".into(), json!([]));
            obj.insert("guild_scheduled_events".into(), json!([]));
            obj.insert("soundboard_sounds".into(), json!([]));
            obj.insert("embedded_activities".into(), json!([]));
            obj.insert("lazy".into(), json!(true));
        }
        v
    }
}
