//! Building INTERACTION_CREATE payloads for injected slash commands and component clicks.

use serde_json::{Map, Value, json};

use crate::error::SimError;
use crate::gateway::Target;
use crate::simulator::Inner;
use crate::world::{Interaction, World};

/// The `resolved` object for USER (6), ROLE (8), CHANNEL (7) and ATTACHMENT (11) options, so
/// serenity can resolve them like Discord's own payloads.
pub(crate) fn resolved_for_options(world: &World, guild: Option<u64>, options: &Value) -> Value {
    let mut users = Map::new();
    let mut members = Map::new();
    let mut roles = Map::new();
    let mut channels = Map::new();
    let mut attachments = Map::new();
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
            11 => {
                if let Some((filename, size)) = world.uploads.get(&id) {
                    let url = format!(
                        "https://cdn.discordapp.com/ephemeral-attachments/{}/{id}/{filename}",
                        world.application_id
                    );
                    let mut attachment = json!({
                        "id": id.to_string(),
                        "filename": filename,
                        "size": size,
                        "url": url,
                        "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                        "ephemeral": true,
                    });
                    if let Some(kind) = world
                        .cdn
                        .files
                        .get(&id)
                        .and_then(|f| f.content_type.as_deref())
                    {
                        attachment["content_type"] = json!(kind);
                    }
                    attachments.insert(id.to_string(), attachment);
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
        ("attachments", attachments),
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
            modal: None,
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

/// The registered command a user would pick: `kind` 1 (slash), 2 (user) or 3 (message), by
/// name, the guild's commands first, then the global ones.
pub(crate) fn registered(
    world: &World,
    guild: Option<u64>,
    name: &str,
    kind: u64,
) -> Option<crate::world::Command> {
    world
        .guild_commands
        .get(&guild.unwrap_or(0))
        .into_iter()
        .flatten()
        .chain(world.global_commands.iter())
        .find(|c| c.name() == name && c.kind() == kind)
        .cloned()
}

/// What Discord's client checks before it lets a user run a command: the command is offered
/// where they are (its contexts) and to them (its default member permissions; administrators
/// and the guild owner have them all).
pub(crate) fn offered(
    world: &World,
    command: &crate::world::Command,
    guild: Option<u64>,
    user: u64,
) -> Result<(), SimError> {
    if !command.usable_in(guild.is_some()) {
        return Err(SimError::Invalid(format!(
            "`{}` is not offered {}: Discord's client does not show it there",
            command.name(),
            if guild.is_some() {
                "in guilds"
            } else {
                "in DMs"
            }
        )));
    }
    if let (Some(g), Some(needed)) = (guild, command.default_member_permissions()) {
        let has = world.member_permissions(g, user);
        let admin = has & crate::world::permissions::ADMINISTRATOR != 0;
        // `0` is for administrators only (Discord's rule), not "no permission needed".
        if !admin && (needed == 0 || has & needed != needed) {
            return Err(SimError::Invalid(format!(
                "user {user} lacks the default member permissions of `{}` ({needed}): Discord's \
                 client does not offer it to them",
                command.name()
            )));
        }
    }
    Ok(())
}

/// The registered options below a command for a subcommand path (`["set"]`,
/// `["role", "add"]`), or `None` when the command has no such subcommand.
pub(crate) fn leaf_options<'a>(command: &'a Value, path: &[&str]) -> Option<&'a [Value]> {
    let mut options: &[Value] = command
        .get("options")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for word in path {
        let sub = options.iter().find(|o| {
            matches!(o.get("type").and_then(Value::as_u64), Some(1 | 2))
                && o.get("name").and_then(Value::as_str) == Some(word)
        })?;
        options = sub
            .get("options")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
    }
    Some(options)
}

/// `options` wrapped in the subcommand (type 1) and group (type 2) options of `path`; as on
/// Discord, a subcommand given no options carries an empty `options` list.
pub(crate) fn nest(path: &[&str], options: Value) -> Value {
    let mut inner = if options.is_null() {
        json!([])
    } else {
        options
    };
    for (i, word) in path.iter().enumerate().rev() {
        let kind = if i + 1 == path.len() { 1 } else { 2 };
        inner = json!([{"type": kind, "name": word, "options": inner}]);
    }
    inner
}

/// What Discord's client enforces on the options a user sends: required ones present, values
/// among the choices, within the range and lengths.
pub(crate) fn check_options(registered: &[Value], given: &Value) -> Result<(), SimError> {
    let given: &[Value] = given.as_array().map(Vec::as_slice).unwrap_or_default();
    for option in registered {
        let name = option
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let value = given
            .iter()
            .find(|g| g.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|g| g.get("value"));
        let Some(value) = value else {
            if option.get("required").and_then(Value::as_bool) == Some(true) {
                return Err(SimError::Invalid(format!(
                    "option `{name}` is required: Discord's client does not send the command without it"
                )));
            }
            continue;
        };
        let refuse = |why: String| {
            Err(SimError::Invalid(format!(
                "option `{name}`: {why}: Discord's client does not send it"
            )))
        };
        if let Some(choices) = option.get("choices").and_then(Value::as_array)
            && !choices.is_empty()
            && !choices.iter().any(|c| c.get("value") == Some(value))
        {
            return refuse(format!("{value} is not one of its choices"));
        }
        if let Some(n) = value.as_f64() {
            if option
                .get("min_value")
                .and_then(Value::as_f64)
                .is_some_and(|min| n < min)
            {
                return refuse(format!("{n} is below its minimum"));
            }
            if option
                .get("max_value")
                .and_then(Value::as_f64)
                .is_some_and(|max| n > max)
            {
                return refuse(format!("{n} is above its maximum"));
            }
        }
        if let Some(text) = value.as_str() {
            let chars = text.chars().count() as u64;
            if option
                .get("min_length")
                .and_then(Value::as_u64)
                .is_some_and(|min| chars < min)
                || option
                    .get("max_length")
                    .and_then(Value::as_u64)
                    .is_some_and(|max| chars > max)
            {
                return refuse(format!("{chars} characters is outside its lengths"));
            }
        }
    }
    Ok(())
}
