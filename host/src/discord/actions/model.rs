//! Discord JSON ↔ the plugin-api types of actions: messages as they stand, guilds, roles,
//! channels, members, bans, emojis, webhooks; role and channel specs as request bodies.

use serde_json::{Map, Value, json};
use zoryx_plugin_api::{
    Attachment, Ban, Channel, ChannelId, ChannelKind, ChannelMessage, ChannelSpec, Emoji, GuildId,
    GuildInfo, GuildSpec, Member, MessageId, Overwrite, OverwriteTarget, Permissions, Reaction,
    Role, RoleId, RoleSpec, User, UserId, Webhook,
};

/// A snowflake field (Discord sends them as strings; numbers are taken too).
pub(crate) fn snowflake(value: &Value, key: &str) -> Option<u64> {
    let field = value.get(key)?;
    field
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| field.as_u64())
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn number(value: &Value, key: &str) -> i64 {
    value.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// A permission bit field (a string of digits in Discord's JSON).
pub(crate) fn permissions(value: &Value, key: &str) -> Permissions {
    Permissions(snowflake(value, key).unwrap_or(0))
}

pub(crate) fn user(value: &Value) -> User {
    User {
        id: UserId(snowflake(value, "id").unwrap_or(0)),
        name: text(value, "username").unwrap_or_default(),
        bot: flag(value, "bot"),
    }
}

pub(crate) fn message(value: &Value) -> ChannelMessage {
    let attachments = value
        .get("attachments")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|a| Attachment {
                    id: snowflake(a, "id").unwrap_or(0),
                    filename: text(a, "filename").unwrap_or_default(),
                    size: a.get("size").and_then(Value::as_u64).unwrap_or(0),
                    url: text(a, "url").unwrap_or_default(),
                    content_type: text(a, "content_type"),
                })
                .collect()
        })
        .unwrap_or_default();
    let reactions = value
        .get("reactions")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|r| Reaction {
                    emoji: r.get("emoji").map(emoji_text).unwrap_or_default(),
                    count: u32::try_from(number(r, "count")).unwrap_or(0),
                    me: flag(r, "me"),
                })
                .collect()
        })
        .unwrap_or_default();
    ChannelMessage {
        id: MessageId(snowflake(value, "id").unwrap_or(0)),
        channel_id: ChannelId(snowflake(value, "channel_id").unwrap_or(0)),
        guild_id: snowflake(value, "guild_id").map(GuildId),
        author: value.get("author").map(user).unwrap_or_default(),
        content: text(value, "content").unwrap_or_default(),
        embed_count: value
            .get("embeds")
            .and_then(Value::as_array)
            .map_or(0, |e| u32::try_from(e.len()).unwrap_or(u32::MAX)),
        attachments,
        reactions,
        reply_to: value
            .get("message_reference")
            .and_then(|r| snowflake(r, "message_id"))
            .map(MessageId),
        edited_at: text(value, "edited_timestamp"),
        pinned: flag(value, "pinned"),
    }
}

/// An emoji as reactions name it: the character, or `name:id`.
fn emoji_text(emoji: &Value) -> String {
    let name = text(emoji, "name").unwrap_or_default();
    match snowflake(emoji, "id") {
        Some(id) => format!("{name}:{id}"),
        None => name,
    }
}

pub(crate) fn guild(value: &Value) -> GuildInfo {
    GuildInfo {
        id: GuildId(snowflake(value, "id").unwrap_or(0)),
        name: text(value, "name").unwrap_or_default(),
        owner_id: UserId(snowflake(value, "owner_id").unwrap_or(0)),
        member_count: value
            .get("approximate_member_count")
            .and_then(Value::as_u64),
        description: text(value, "description"),
        verification_level: small(value, "verification_level"),
        default_notifications: small(value, "default_message_notifications"),
        explicit_content_filter: small(value, "explicit_content_filter"),
        afk_channel: snowflake(value, "afk_channel_id").map(ChannelId),
        afk_timeout: u32::try_from(number(value, "afk_timeout")).unwrap_or(0),
        system_channel: snowflake(value, "system_channel_id").map(ChannelId),
        system_channel_flags: value
            .get("system_channel_flags")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        preferred_locale: text(value, "preferred_locale").unwrap_or_default(),
    }
}

fn small(value: &Value, key: &str) -> u8 {
    u8::try_from(number(value, key)).unwrap_or(0)
}

/// The body of a guild edit: only the fields the spec sets (`null` for a cleared channel).
pub(crate) fn guild_body(spec: &GuildSpec) -> Value {
    let mut out = Map::new();
    let channel = |c: &Option<ChannelId>| json!(c.map(|c| c.0.to_string()));
    if let Some(name) = &spec.name {
        out.insert("name".into(), json!(name));
    }
    if let Some(description) = &spec.description {
        out.insert("description".into(), json!(description));
    }
    if let Some(level) = spec.verification_level {
        out.insert("verification_level".into(), json!(level));
    }
    if let Some(level) = spec.default_notifications {
        out.insert("default_message_notifications".into(), json!(level));
    }
    if let Some(level) = spec.explicit_content_filter {
        out.insert("explicit_content_filter".into(), json!(level));
    }
    if let Some(afk) = &spec.afk_channel {
        out.insert("afk_channel_id".into(), channel(afk));
    }
    if let Some(timeout) = spec.afk_timeout {
        out.insert("afk_timeout".into(), json!(timeout));
    }
    if let Some(system) = &spec.system_channel {
        out.insert("system_channel_id".into(), channel(system));
    }
    if let Some(flags) = spec.system_channel_flags {
        out.insert("system_channel_flags".into(), json!(flags));
    }
    if let Some(locale) = &spec.preferred_locale {
        out.insert("preferred_locale".into(), json!(locale));
    }
    Value::Object(out)
}

pub(crate) fn role(value: &Value) -> Role {
    Role {
        id: RoleId(snowflake(value, "id").unwrap_or(0)),
        name: text(value, "name").unwrap_or_default(),
        permissions: permissions(value, "permissions"),
        position: i32::try_from(number(value, "position")).unwrap_or(0),
        colour: u32::try_from(number(value, "color")).unwrap_or(0),
        hoist: flag(value, "hoist"),
        mentionable: flag(value, "mentionable"),
        managed: flag(value, "managed"),
    }
}

/// Roles lowest first (by position, then id, as Discord orders them).
pub(crate) fn roles(value: &Value) -> Vec<Role> {
    let mut roles: Vec<Role> = list(value, role);
    roles.sort_by_key(|r| (r.position, r.id));
    roles
}

pub(crate) fn overwrite(value: &Value) -> Overwrite {
    let id = snowflake(value, "id").unwrap_or(0);
    let target = if number(value, "type") == 1 {
        OverwriteTarget::Member(UserId(id))
    } else {
        OverwriteTarget::Role(RoleId(id))
    };
    Overwrite {
        target,
        allow: permissions(value, "allow"),
        deny: permissions(value, "deny"),
    }
}

pub(crate) fn overwrite_json(overwrite: &Overwrite) -> Value {
    let (id, kind) = match overwrite.target {
        OverwriteTarget::Role(r) => (r.0, 0),
        OverwriteTarget::Member(u) => (u.0, 1),
    };
    json!({
        "id": id.to_string(),
        "type": kind,
        // Integers, as Discord's spec types overwrite requests (answers carry strings).
        "allow": overwrite.allow.0,
        "deny": overwrite.deny.0,
    })
}

pub(crate) fn channel(value: &Value) -> Channel {
    Channel {
        id: ChannelId(snowflake(value, "id").unwrap_or(0)),
        guild_id: snowflake(value, "guild_id").map(GuildId),
        name: text(value, "name").unwrap_or_default(),
        kind: ChannelKind::from_code(u8::try_from(number(value, "type")).unwrap_or(u8::MAX)),
        parent_id: snowflake(value, "parent_id").map(ChannelId),
        position: i32::try_from(number(value, "position")).unwrap_or(0),
        topic: text(value, "topic"),
        nsfw: flag(value, "nsfw"),
        slowmode_seconds: u32::try_from(number(value, "rate_limit_per_user")).unwrap_or(0),
        overwrites: value
            .get("permission_overwrites")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(overwrite).collect())
            .unwrap_or_default(),
    }
}

/// Channels by position (then id).
pub(crate) fn channels(value: &Value) -> Vec<Channel> {
    let mut channels: Vec<Channel> = list(value, channel);
    channels.sort_by_key(|c| (c.position, c.id));
    channels
}

pub(crate) fn member(value: &Value, guild: GuildId) -> Member {
    Member {
        user: value.get("user").map(user).unwrap_or_default(),
        guild_id: guild,
        nick: text(value, "nick"),
        roles: value
            .get("roles")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|r| r.as_str().and_then(|s| s.parse().ok()).or(r.as_u64()))
                    .map(RoleId)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub(crate) fn ban(value: &Value) -> Ban {
    Ban {
        user: value.get("user").map(user).unwrap_or_default(),
        reason: text(value, "reason"),
    }
}

pub(crate) fn emoji(value: &Value) -> Emoji {
    Emoji {
        id: snowflake(value, "id").unwrap_or(0),
        name: text(value, "name").unwrap_or_default(),
        animated: flag(value, "animated"),
        roles: value
            .get("roles")
            .and_then(Value::as_array)
            .map(|roles| {
                roles
                    .iter()
                    .filter_map(|r| r.as_str().and_then(|s| s.parse().ok()))
                    .map(RoleId)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub(crate) fn webhook(value: &Value) -> Webhook {
    Webhook {
        id: snowflake(value, "id").unwrap_or(0),
        token: text(value, "token"),
        channel_id: ChannelId(snowflake(value, "channel_id").unwrap_or(0)),
        name: text(value, "name").unwrap_or_default(),
    }
}

/// Every element of a JSON array, converted.
pub(crate) fn list<T>(value: &Value, each: impl Fn(&Value) -> T) -> Vec<T> {
    value
        .as_array()
        .map(|list| list.iter().map(each).collect())
        .unwrap_or_default()
}

/// The body of a role create or edit: only the fields the spec sets.
pub(crate) fn role_body(spec: &RoleSpec) -> Value {
    let mut out = Map::new();
    if let Some(name) = &spec.name {
        out.insert("name".into(), json!(name));
    }
    if let Some(permissions) = spec.permissions {
        out.insert("permissions".into(), json!(permissions.0));
    }
    if let Some(colour) = spec.colour {
        out.insert("color".into(), json!(colour & 0x00ff_ffff));
    }
    if let Some(hoist) = spec.hoist {
        out.insert("hoist".into(), json!(hoist));
    }
    if let Some(mentionable) = spec.mentionable {
        out.insert("mentionable".into(), json!(mentionable));
    }
    Value::Object(out)
}

/// The body of a channel create or edit: only the fields the spec sets (`type` only when
/// creating).
pub(crate) fn channel_body(spec: &ChannelSpec, creating: bool) -> Value {
    let mut out = Map::new();
    if let Some(name) = &spec.name {
        out.insert("name".into(), json!(name));
    }
    if creating {
        out.insert(
            "type".into(),
            json!(spec.kind.unwrap_or(ChannelKind::Text).code()),
        );
    }
    if let Some(parent) = spec.parent_id {
        out.insert("parent_id".into(), json!(parent.0.to_string()));
    }
    if let Some(position) = spec.position {
        out.insert("position".into(), json!(position));
    }
    if let Some(topic) = &spec.topic {
        out.insert("topic".into(), json!(topic));
    }
    if let Some(nsfw) = spec.nsfw {
        out.insert("nsfw".into(), json!(nsfw));
    }
    if let Some(seconds) = spec.slowmode_seconds {
        out.insert("rate_limit_per_user".into(), json!(seconds));
    }
    if let Some(overwrites) = &spec.overwrites {
        out.insert(
            "permission_overwrites".into(),
            Value::Array(overwrites.iter().map(overwrite_json).collect()),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_their_files_and_reactions() {
        let m = message(&json!({
            "id": "5", "channel_id": "6", "content": "hi",
            "author": {"id": "7", "username": "ann", "bot": false},
            "attachments": [{"id": "8", "filename": "a.png", "size": 120, "url": "u"}],
            "reactions": [{"count": 2, "me": true, "emoji": {"id": null, "name": "👍"}},
                          {"count": 1, "me": false, "emoji": {"id": "9", "name": "zx"}}],
            "embeds": [{}],
            "edited_timestamp": null,
        }));
        assert_eq!(m.id, MessageId(5));
        assert_eq!(m.author.name, "ann");
        assert_eq!(m.attachments[0].size, 120);
        assert_eq!(m.reactions[0].emoji, "👍");
        assert_eq!(m.reactions[1].emoji, "zx:9");
        assert_eq!(m.embed_count, 1);
        assert_eq!(m.edited_at, None);
    }

    #[test]
    fn overwrites_round_trip() {
        let o = Overwrite {
            target: OverwriteTarget::Member(UserId(3)),
            allow: Permissions::SEND_MESSAGES,
            deny: Permissions::ADD_REACTIONS,
        };
        assert_eq!(overwrite(&overwrite_json(&o)), o);
    }

    #[test]
    fn specs_send_only_what_they_set() {
        assert_eq!(role_body(&RoleSpec::named("x")), json!({"name": "x"}));
        let body = channel_body(&ChannelSpec::named("c"), true);
        assert_eq!(body, json!({"name": "c", "type": 0}));
        assert_eq!(
            channel_body(&ChannelSpec::default().slowmode(5), false),
            json!({"rate_limit_per_user": 5})
        );
    }
}
