//! Routes: interaction webhooks — `POST /webhooks/{app}/{token}` (followups) and
//! `GET|PATCH|DELETE /webhooks/{app}/{token}/messages/{@original|mid}` — and channel
//! webhooks: `POST|GET /channels/{id}/webhooks`, `GET|DELETE /webhooks/{id}` and
//! `POST /webhooks/{id}/{token}` (execute, `?wait=true` for the message).

use axum::http::Method;
use serde_json::{Value, json};

use super::messages::{
    apply_edit, attachments, create_bot_message, delete, message_json, validate_message_body,
};
use super::{ApiError, Reply, Req, id};
use crate::events::SimEvent;
use crate::gateway::{Target, opcodes};
use crate::simulator::{Inner, store_message};
use crate::world::channel::GUILD_CATEGORY;
use crate::world::{Interaction, Message, Webhook, World, permissions};

/// Webhooks a channel can have.
const MAX_WEBHOOKS: usize = 15;

/// Answers the webhook routes.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let world = &mut *inner.world();
    if let ["webhooks", wid, rest @ ..] = req.segs.as_slice()
        && let Ok(wid) = wid.parse::<u64>()
        && world.webhooks.contains_key(&wid)
    {
        return Some(channel_webhook(inner, world, wid, rest, req));
    }
    let ["webhooks", app, token, rest @ ..] = req.segs.as_slice() else {
        return match req.segs.as_slice() {
            ["webhooks", _] => Some(Err(ApiError::unknown("Webhook", 10015))),
            _ => None,
        };
    };
    let interaction = match find_interaction(world, app, token) {
        Ok(i) => i,
        Err(e) => return Some(Err(e)),
    };
    Some(match (req.method, rest) {
        (&Method::POST, []) => followup(inner, world, &interaction, req),
        (&Method::GET, ["messages", which]) => target(world, &interaction, which)
            .map(|m| message_json(world, &world.messages[&m]))
            .and_then(Reply::ok),
        (&Method::PATCH, ["messages", which]) => match target(world, &interaction, which) {
            Ok(m) => {
                let body = req.body();
                let existing = world.messages[&m].attachments.clone();
                let checked = validate_message_body(&body, false)
                    .and_then(|()| attachments(world, &body, &req.files, &existing));
                match checked {
                    Ok(files) => {
                        let json = apply_edit(inner, world, m, &body, files);
                        if *which == "@original" {
                            inner.emit(SimEvent::OriginalEdited {
                                interaction_id: interaction.id,
                                body,
                                deleted: false,
                            });
                        }
                        Reply::ok(json)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        },
        (&Method::DELETE, ["messages", which]) => match target(world, &interaction, which) {
            Ok(m) => {
                delete(inner, world, m);
                if *which == "@original" {
                    inner.emit(SimEvent::OriginalEdited {
                        interaction_id: interaction.id,
                        body: Value::Null,
                        deleted: true,
                    });
                }
                Reply::no_content()
            }
            Err(e) => Err(e),
        },
        (_, [] | ["messages", _]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    })
}

fn find_interaction(world: &World, app: &str, token: &str) -> Result<Interaction, ApiError> {
    let app = id(app, "Webhook", 10015)?;
    if app != world.application_id {
        return Err(ApiError::unknown("Webhook", 10015));
    }
    world
        .interaction_tokens
        .get(token)
        .and_then(|i| world.interactions.get(i))
        .cloned()
        .ok_or_else(|| ApiError::unknown("Webhook", 10015))
}

/// The message a `messages/{which}` path names for this interaction.
fn target(world: &World, interaction: &Interaction, which: &str) -> Result<u64, ApiError> {
    let mid = if which == "@original" {
        match interaction.response_kind {
            Some(4 | 5) => interaction.original_message,
            Some(6 | 7) => interaction.message_id,
            _ => None,
        }
    } else {
        let mid = id(which, "Message", 10008)?;
        world
            .messages
            .get(&mid)
            .filter(|m| m.interaction_id == Some(interaction.id))
            .map(|m| m.id)
    };
    mid.filter(|m| world.messages.contains_key(m))
        .ok_or_else(|| ApiError::unknown("Message", 10008))
}

fn followup(
    inner: &Inner,
    world: &mut World,
    interaction: &Interaction,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    if world
        .interactions
        .get(&interaction.id)
        .is_none_or(|i| i.response_kind.is_none())
    {
        return Err(ApiError::unknown("Webhook", 10015));
    }
    let body = req.body();
    validate_message_body(&body, req.files.is_empty())?;
    let files = attachments(world, &body, &req.files, &[])?.unwrap_or_default();
    let mid = create_bot_message(
        inner,
        world,
        interaction.channel_id,
        &body,
        files,
        Some(interaction.id),
    );
    inner.emit(SimEvent::Followup {
        interaction_id: interaction.id,
        token: interaction.token.clone(),
        message_id: mid,
        body,
    });
    Reply::ok(message_json(world, &world.messages[&mid]))
}

/// A webhook name as Discord takes it (`name` on create, `username` on execute): 1 to 80
/// characters, without "clyde" or "discord" in any case.
fn check_webhook_name(field: &str, name: &str) -> Result<(), ApiError> {
    if !(1..=80).contains(&name.chars().count()) {
        return Err(ApiError::invalid_form(
            field,
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 80 in length.",
        ));
    }
    let lower = name.to_lowercase();
    for word in ["clyde", "discord"] {
        if lower.contains(word) {
            return Err(ApiError::invalid_form(
                field,
                "USERNAME_INVALID_CONTAINS",
                &format!("Username cannot contain \"{word}\""),
            ));
        }
    }
    Ok(())
}

fn base_url(inner: &Inner) -> String {
    format!("http://{}", inner.addr)
}

fn webhook_json(inner: &Inner, world: &World, w: &Webhook) -> Value {
    w.to_json(world.user_json(w.creator), &base_url(inner))
}

fn webhooks_update(inner: &Inner, guild: u64, channel: u64) {
    inner.dispatch(
        "WEBHOOKS_UPDATE",
        json!({"guild_id": guild.to_string(), "channel_id": channel.to_string()}),
        Target::Guild(guild),
        opcodes::INTENT_GUILD_WEBHOOKS,
    );
}

fn require_manage_webhooks(world: &World, channel: u64) -> Result<(), ApiError> {
    if world.channel_permissions(channel, world.bot_id) & permissions::MANAGE_WEBHOOKS == 0 {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

/// `POST /channels/{id}/webhooks` with `{name, avatar}`: MANAGE_WEBHOOKS, at most 15 per
/// channel; dispatches WEBHOOKS_UPDATE and answers the webhook with its token.
pub(crate) fn create(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.body();
    let name = match body.get("name") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid_form(
                "name",
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        }
        Some(Value::String(n)) => n.clone(),
        Some(_) => {
            return Err(ApiError::invalid_form(
                "name",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        }
    };
    check_webhook_name("name", &name)?;
    let (guild, kind) = {
        let c = &world.channels[&channel];
        (c.guild_id, c.kind)
    };
    let Some(guild) = guild else {
        return Err(ApiError::forbidden(
            "Cannot execute action on a DM channel",
            50003,
        ));
    };
    if kind == GUILD_CATEGORY {
        return Err(ApiError::bad_request(
            "Cannot execute action on this channel type",
            50024,
        ));
    }
    require_manage_webhooks(world, channel)?;
    if world
        .webhooks
        .values()
        .filter(|w| w.channel_id == channel)
        .count()
        >= MAX_WEBHOOKS
    {
        return Err(ApiError::bad_request(
            "Maximum number of webhooks reached (15)",
            30007,
        ));
    }
    let wid = world.ids.next();
    let token = webhook_token(wid, inner.config.seed);
    let webhook = Webhook {
        id: wid,
        token,
        guild_id: guild,
        channel_id: channel,
        name,
        avatar: None,
        creator: world.bot_id,
        application_id: Some(world.application_id),
    };
    let json = webhook_json(inner, world, &webhook);
    world.webhooks.insert(wid, webhook);
    webhooks_update(inner, guild, channel);
    Reply::ok(json)
}

/// A 68-character token, unguessable enough for a simulator and stable for a seed.
fn webhook_token(id: u64, seed: u64) -> String {
    let mut state = id ^ seed.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..68)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(alphabet[(state % 64) as usize])
        })
        .collect()
}

/// `GET /channels/{id}/webhooks`: MANAGE_WEBHOOKS.
pub(crate) fn list(inner: &Inner, world: &World, channel: u64) -> Result<Reply, ApiError> {
    if world.channels[&channel].guild_id.is_none() {
        return Err(ApiError::forbidden(
            "Cannot execute action on a DM channel",
            50003,
        ));
    }
    require_manage_webhooks(world, channel)?;
    Reply::ok(Value::Array(
        world
            .webhooks
            .values()
            .filter(|w| w.channel_id == channel)
            .map(|w| webhook_json(inner, world, w))
            .collect(),
    ))
}

/// `/webhooks/{id}[/{token}]` of a channel webhook.
fn channel_webhook(
    inner: &Inner,
    world: &mut World,
    wid: u64,
    rest: &[&str],
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let webhook = world.webhooks[&wid].clone();
    match (req.method, rest) {
        (&Method::GET, []) => {
            require_manage_webhooks(world, webhook.channel_id)?;
            Reply::ok(webhook_json(inner, world, &webhook))
        }
        (&Method::DELETE, []) => {
            require_manage_webhooks(world, webhook.channel_id)?;
            world.webhooks.remove(&wid);
            webhooks_update(inner, webhook.guild_id, webhook.channel_id);
            Reply::no_content()
        }
        (_, [token, ..]) if *token != webhook.token => Err(ApiError {
            status: 401,
            body: json!({"message": "Invalid Webhook Token", "code": 50027}),
        }),
        (&Method::GET, [_]) => {
            let mut json = webhook_json(inner, world, &webhook);
            if let Some(obj) = json.as_object_mut() {
                obj.remove("user");
            }
            Reply::ok(json)
        }
        (&Method::POST, [_]) => execute(inner, world, &webhook, req),
        (_, [] | [_]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

/// `POST /webhooks/{id}/{token}`: a message checked like a channel message, plus
/// `username` (1..=80, no "clyde"/"discord") and `avatar_url` (at most 2048); stored with
/// the webhook as author and dispatched as MESSAGE_CREATE. `?wait=true` answers the message,
/// otherwise 204.
fn execute(
    inner: &Inner,
    world: &mut World,
    webhook: &Webhook,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.body();
    validate_message_body(&body, req.files.is_empty())?;
    let username = match body.get("username") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) => {
            check_webhook_name("username", u)?;
            Some(u.as_str())
        }
        Some(_) => {
            return Err(ApiError::invalid_form(
                "username",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        }
    };
    if let Some(url) = body.get("avatar_url").filter(|v| !v.is_null())
        && url.as_str().is_none_or(|u| u.chars().count() > 2048)
    {
        return Err(ApiError::invalid_form(
            "avatar_url",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 2048 or fewer in length.",
        ));
    }
    let mid = world.ids.next();
    let mut message = Message::new(
        mid,
        webhook.channel_id,
        Some(webhook.guild_id),
        webhook.id,
        "",
    );
    message.apply_body(&body);
    message.attachments = attachments(world, &body, &req.files, &[])?.unwrap_or_default();
    message.webhook_id = Some(webhook.id);
    message.webhook_author = Some(webhook.author_json(username));
    inner.dispatch_message_create(world, &message);
    store_message(world, message);
    inner.emit(SimEvent::WebhookMessage {
        webhook_id: webhook.id,
        channel_id: webhook.channel_id,
        message_id: mid,
        body,
    });
    if req.query_param("wait") == Some("true") {
        Reply::ok(message_json(world, &world.messages[&mid]))
    } else {
        Reply::no_content()
    }
}
