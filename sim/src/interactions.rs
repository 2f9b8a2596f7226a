//! Building INTERACTION_CREATE payloads for injected slash commands and component clicks.

use serde_json::{Map, Value, json};

use crate::error::SimError;
use crate::gateway::Target;
use crate::simulator::Inner;
use crate::world::{Interaction, World};

/// The `resolved` object for USER (6), ROLE (8) and CHANNEL (7) options, so serenity can
/// resolve them like Discord's own payloads.
pub(crate) fn resolved_for_options(world: &World, guild: Option<u64>, options: &Value) -> Value {
    let mut users = Map::new();
    let mut members = Map::new();
    let mut roles = Map::new();
    let mut channels = Map::new();
    let mut stack: Vec<&Value> = options
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    while let Some(option) = stack.pop() {
        if let Some(nested) = option.get("options").and_then(Value::as_array) {
            stack.extend(nested.iter());
        }
        let kind = option.get("type").and_then(Value::as_u64).unwrap_or(0);
        let Some(id) = option.get("value").and_then(|v| match v {
            Value::String(s) => s.parse::<u64>().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        }) else {
            continue;
        };
        match kind {
            6 | 9 if world.users.contains_key(&id) => {
                users.insert(id.to_string(), world.user_json(id));
                if let Some(mut m) = guild.and_then(|g| world.member_json(g, id)) {
                    if let Some(obj) = m.as_object_mut() {
                        obj.remove("user");
                        obj.insert(
                            "permissions".into(),
                            json!(world.member_permissions(guild.unwrap_or(0), id).to_string()),
                        );
                    }
                    members.insert(id.to_string(), m);
                }
            }
            8 | 9 => {
                if let Some(role) = guild.and_then(|g| world.guilds.get(&g)?.roles.get(&id)) {
                    roles.insert(id.to_string(), role.to_json());
                }
            }
            7 => {
                if let Some(c) = world.channels.get(&id) {
                    let mut v = c.to_json(None);
                    v["permissions"] = json!(crate::world::permissions::ALL.to_string());
                    channels.insert(id.to_string(), v);
                }
            }
            _ => {}
        }
    }
    let mut resolved = Map::new();
    for (key, map) in [
        ("users", users),
        ("members", members),
        ("roles", roles),
        ("channels", channels),
    ] {
        if !map.is_empty() {
            resolved.insert(key.into(), Value::Object(map));
        }
    }
    Value::Object(resolved)
}

/// Creates an interaction, stores it and dispatches INTERACTION_CREATE. Returns its id.
#[allow(clippy::too_many_arguments)]
pub(crate) fn create(
    inner: &Inner,
    world: &mut World,
    kind: u8,
    guild: Option<u64>,
    channel: u64,
    user: u64,
    message_id: Option<u64>,
    data: Value,
) -> Result<u64, SimError> {
    if !world.users.contains_key(&user) {
        return Err(SimError::Unknown {
            kind: "user",
            id: user,
        });
    }
    let channel = match guild {
        Some(g) => {
            let g_ref = world.guilds.get(&g).ok_or(SimError::Unknown {
                kind: "guild",
                id: g,
            })?;
            if !g_ref.members.contains_key(&user) {
                return Err(SimError::Invalid(format!(
                    "user {user} is not a member of guild {g}"
                )));
            }
            if world.channels.get(&channel).and_then(|c| c.guild_id) != Some(g) {
                return Err(SimError::Unknown {
                    kind: "channel",
                    id: channel,
                });
            }
            channel
        }
        None => world.dm_channel(user),
    };
    let id = world.ids.next();
    let token = format!(
        "aW50ZXJhY3Rpb246{id:x}{:x}",
        id.wrapping_mul(0x2545_F491_4F6C_DD1D)
    );
    let app = world.application_id;
    let channel_json = {
        let c = &world.channels[&channel];
        let recipient = c.recipient.map(|u| world.user_json(u));
        let mut v = c.to_json(recipient);
        v["permissions"] = json!(
            match guild {
                Some(g) => world.member_permissions(g, user),
                None => crate::world::permissions::ALL,
            }
            .to_string()
        );
        v
    };
    let mut payload = json!({
        "id": id.to_string(),
        "application_id": app.to_string(),
        "type": kind,
        "data": data,
        "channel_id": channel.to_string(),
        "channel": channel_json,
        "token": token,
        "version": 1,
        "locale": "en-US",
        "app_permissions": crate::world::permissions::ALL.to_string(),
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild.map_or_else(|| "0".to_owned(), |g| g.to_string())},
        "context": if guild.is_some() { 0 } else { 1 },
        "attachment_size_limit": 10_485_760,
    });
    match guild {
        Some(g) => {
            payload["guild_id"] = json!(g.to_string());
            payload["guild_locale"] = json!("en-US");
            let mut member = world.member_json(g, user).unwrap_or(Value::Null);
            member["permissions"] = json!(world.member_permissions(g, user).to_string());
            payload["member"] = member;
            payload["guild"] = json!({"id": g.to_string(), "locale": "en-US", "features": []});
        }
        None => payload["user"] = world.user_json(user),
    }
    if let Some(mid) = message_id
        && let Some(m) = world.messages.get(&mid)
    {
        payload["message"] = m.to_json(world.author_json(m), None, true);
    }
    world.interaction_tokens.insert(token.clone(), id);
    world.interactions.insert(
        id,
        Interaction {
            id,
            token,
            kind,
            guild_id: guild,
            channel_id: channel,
            user_id: user,
            message_id,
            response_kind: None,
            original_message: None,
            payload: payload.clone(),
        },
    );
    let target = match guild {
        Some(g) => Target::Guild(g),
        None => Target::Direct,
    };
    inner.dispatch("INTERACTION_CREATE", payload, target, 0);
    Ok(id)
}
