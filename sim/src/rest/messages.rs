//! Routes: `/channels/{id}` and `/channels/{id}/messages[/{mid}]`, `/channels/{id}/typing`,
//! `POST /channels/{id}/messages/bulk-delete`; the other channel routes (reactions, channel
//! edits, overwrites, webhooks) are dispatched from here to their files.

use axum::http::Method;
use serde_json::{Value, json};

use super::{ApiError, FilePart, Reply, Req, channels, id, reactions, snowflake, webhooks};
use crate::events::SimEvent;
use crate::gateway::{Target, opcodes};
use crate::simulator::{Inner, store_message};
use crate::snowflake::{now_ms, timestamp_ms};
use crate::world::{Attachment, Message, World, permissions};

/// Discord's limits on message bodies.
const MAX_CONTENT: usize = 2000;
const MAX_EMBEDS: usize = 10;
const MAX_ROWS: usize = 5;
/// Files on one message.
pub(crate) const MAX_FILES: usize = 10;
/// Bytes of one uploaded file: the default upload limit (`attachment_size_limit`).
pub(crate) const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Characters of an attachment's file name (at least 1) and of its description.
const MAX_FILENAME: usize = 1024;
const MAX_DESCRIPTION: usize = 1024;

/// The attachments a message body and its uploaded files (`files[n]` parts) give a message
/// that has `existing` ones, checked as Discord checks them; `None` when nothing about them
/// changes (no `attachments` field, no files).
///
/// With an `attachments` list, the message keeps exactly what it lists: entries whose `id`
/// is the `n` of a `files[n]` part are the new files (named by the entry's `filename`, else
/// the part's; described by its `description`), entries with the id of an attachment the
/// message has keep it (edits), and an entry naming neither is refused (50035
/// `attachments.{i}`: ATTACHMENT_NOT_FOUND), as is a file no entry names (50035
/// `files[n]`). Without the list, uploaded files are added (after the existing ones, for an
/// edit). More than ten files: 30015; a file past the upload limit: 413 (40005).
pub(crate) fn attachments(
    world: &mut World,
    body: &Value,
    files: &[FilePart],
    existing: &[Attachment],
) -> Result<Option<Vec<Attachment>>, ApiError> {
    let too_many = || {
        ApiError::bad_request(
            "Maximum number of attachments in a message reached (10)",
            30015,
        )
    };
    if files.len() > MAX_FILES {
        return Err(too_many());
    }
    if files.iter().any(|f| f.bytes.len() > MAX_FILE_BYTES) {
        return Err(ApiError::entity_too_large());
    }
    let upload = |world: &mut World, part: &FilePart, entry: Option<&Value>| Attachment {
        id: world.ids.next(),
        filename: entry
            .and_then(|e| e.get("filename"))
            .and_then(Value::as_str)
            .unwrap_or(&part.filename)
            .to_owned(),
        size: part.bytes.len() as u64,
        content_type: part
            .content_type
            .clone()
            .filter(|t| t != "application/octet-stream"),
        description: entry
            .and_then(|e| e.get("description"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        data: Some(part.bytes.as_slice().into()),
    };
    let entries = match body.get("attachments") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => Some(list),
        Some(_) => {
            return Err(ApiError::invalid_form(
                "attachments",
                "BASE_TYPE_LIST",
                "Must be an array.",
            ));
        }
    };
    let Some(entries) = entries else {
        if files.is_empty() {
            return Ok(None);
        }
        let mut kept = existing.to_vec();
        for part in files {
            kept.push(upload(world, part, None));
        }
        if kept.len() > MAX_FILES {
            return Err(too_many());
        }
        return Ok(Some(kept));
    };
    if entries.len() > MAX_FILES {
        return Err(ApiError::invalid_form(
            "attachments",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        ));
    }
    let mut out = Vec::with_capacity(entries.len());
    let mut named = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let at = |key: &str| format!("attachments.{i}.{key}");
        let Some(id) = entry.get("id").and_then(snowflake) else {
            return Err(ApiError::invalid_form(
                &at("id"),
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        };
        match entry.get("filename") {
            None | Some(Value::Null) => {}
            Some(Value::String(name)) if (1..=MAX_FILENAME).contains(&name.chars().count()) => {}
            Some(Value::String(_)) => {
                return Err(ApiError::invalid_form(
                    &at("filename"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 1024 in length.",
                ));
            }
            Some(_) => {
                return Err(ApiError::invalid_form(
                    &at("filename"),
                    "BASE_TYPE_STRING",
                    "Could not interpret the value as string.",
                ));
            }
        }
        if let Some(description) = entry.get("description").filter(|d| !d.is_null())
            && description
                .as_str()
                .is_none_or(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return Err(ApiError::invalid_form(
                &at("description"),
                "BASE_TYPE_MAX_LENGTH",
                "Must be 1024 or fewer in length.",
            ));
        }
        if let Some(part) = files.iter().find(|f| f.index == id) {
            named.push(id);
            out.push(upload(world, part, Some(entry)));
        } else if let Some(kept) = existing.iter().find(|a| a.id == id) {
            out.push(kept.clone());
        } else {
            return Err(ApiError::invalid_form(
                &format!("attachments.{i}"),
                "ATTACHMENT_NOT_FOUND",
                "Attachment data not found",
            ));
        }
    }
    if let Some(part) = files.iter().find(|f| !named.contains(&f.index)) {
        return Err(ApiError::invalid_form(
            &format!("files[{}]", part.index),
            "ATTACHMENT_NOT_FOUND",
            "No entry of attachments names this file",
        ));
    }
    Ok(Some(out))
}

/// Checks a message create/edit body the way Discord does. `create` requires something to
/// send (content, embeds, components, stickers, attachments or a poll).
pub(crate) fn validate_message_body(body: &Value, create: bool) -> Result<(), ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::invalid_form(
            "_root",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ));
    };
    if let Some(content) = obj.get("content").filter(|v| !v.is_null()) {
        let Some(text) = content.as_str() else {
            return Err(ApiError::invalid_form(
                "content",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        };
        if text.chars().count() > MAX_CONTENT {
            return Err(ApiError::invalid_form(
                "content",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 2000 or fewer in length.",
            ));
        }
    }
    if let Some(embeds) = obj.get("embeds").filter(|v| !v.is_null()) {
        let Some(list) = embeds.as_array() else {
            return Err(ApiError::invalid_form(
                "embeds",
                "BASE_TYPE_LIST",
                "Must be an array.",
            ));
        };
        if list.len() > MAX_EMBEDS {
            return Err(ApiError::invalid_form(
                "embeds",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 10 or fewer in length.",
            ));
        }
        for (i, embed) in list.iter().enumerate() {
            validate_embed(embed, i)?;
        }
    }
    if let Some(components) = obj.get("components").filter(|v| !v.is_null()) {
        let Some(rows) = components.as_array() else {
            return Err(ApiError::invalid_form(
                "components",
                "BASE_TYPE_LIST",
                "Must be an array.",
            ));
        };
        if rows.len() > MAX_ROWS {
            return Err(ApiError::invalid_form(
                "components",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 5 or fewer in length.",
            ));
        }
        for (i, row) in rows.iter().enumerate() {
            validate_row(row, i)?;
        }
    }
    if create {
        let non_empty = |key: &str| match obj.get(key) {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(_)) => true,
            _ => false,
        };
        if ![
            "content",
            "embeds",
            "components",
            "sticker_ids",
            "attachments",
            "poll",
        ]
        .iter()
        .any(|k| non_empty(k))
        {
            return Err(ApiError::bad_request("Cannot send an empty message", 50006));
        }
    }
    Ok(())
}

fn validate_embed(embed: &Value, i: usize) -> Result<(), ApiError> {
    let field = |name: &str| format!("embeds.{i}.{name}");
    let limits = [("title", 256), ("description", 4096)];
    for (key, max) in limits {
        if let Some(v) = embed.get(key).filter(|v| !v.is_null()) {
            match v.as_str() {
                Some(s) if s.chars().count() > max => {
                    return Err(ApiError::invalid_form(
                        &field(key),
                        "BASE_TYPE_MAX_LENGTH",
                        &format!("Must be {max} or fewer in length."),
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(ApiError::invalid_form(
                        &field(key),
                        "BASE_TYPE_STRING",
                        "Could not interpret the value as string.",
                    ));
                }
            }
        }
    }
    if let Some(fields) = embed.get("fields").and_then(Value::as_array) {
        if fields.len() > 25 {
            return Err(ApiError::invalid_form(
                &field("fields"),
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            ));
        }
        for (j, f) in fields.iter().enumerate() {
            for key in ["name", "value"] {
                let ok = f
                    .get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty());
                if !ok {
                    return Err(ApiError::invalid_form(
                        &format!("embeds.{i}.fields.{j}.{key}"),
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    ));
                }
            }
        }
    }
    if let Some(color) = embed.get("color").filter(|v| !v.is_null())
        && color.as_u64().is_none_or(|c| c > 0xFF_FFFF)
    {
        return Err(ApiError::invalid_form(
            &field("color"),
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 16777215.",
        ));
    }
    Ok(())
}

fn validate_row(row: &Value, i: usize) -> Result<(), ApiError> {
    if row.get("type").and_then(Value::as_u64) != Some(1) {
        return Err(ApiError::invalid_form(
            &format!("components.{i}.type"),
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "Top-level components must be action rows.",
        ));
    }
    let children = row
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if children.is_empty() || children.len() > 5 {
        return Err(ApiError::invalid_form(
            &format!("components.{i}.components"),
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 5 in length.",
        ));
    }
    for (j, c) in children.iter().enumerate() {
        let kind = c.get("type").and_then(Value::as_u64).unwrap_or(0);
        let link = kind == 2 && c.get("style").and_then(Value::as_u64) == Some(5);
        let has_id = c
            .get("custom_id")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty() && s.chars().count() <= 100);
        if !link && !has_id {
            return Err(ApiError::invalid_form(
                &format!("components.{i}.components.{j}.custom_id"),
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        }
    }
    Ok(())
}

/// The message JSON as REST answers it.
pub(crate) fn message_json(world: &World, m: &Message) -> Value {
    m.to_json(world.author_json(m), None, true)
}

/// Stores a bot-authored message with `attachments` and dispatches MESSAGE_CREATE for it.
/// Returns its id.
pub(crate) fn create_bot_message(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    body: &Value,
    attachments: Vec<Attachment>,
    interaction: Option<u64>,
) -> u64 {
    let id = world.ids.next();
    let guild = world.channels.get(&channel).and_then(|c| c.guild_id);
    let mut message = Message::new(id, channel, guild, world.bot_id, "");
    message.apply_body(body);
    message.attachments = attachments;
    message.reply_to = body
        .get("message_reference")
        .and_then(|r| r.get("message_id"))
        .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()));
    message.interaction_id = interaction;
    if interaction.is_some() {
        message.webhook_id = Some(world.application_id);
    }
    if message.flags & 64 == 0 {
        inner.dispatch_message_create(world, &message);
    }
    store_message(world, message);
    id
}

/// Answers the channel routes.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let [_, channel, rest @ ..] = req.segs.as_slice() else {
        return None;
    };
    let channel = match id(channel, "Channel", 10003) {
        Ok(c) => c,
        Err(e) => return Some(Err(e)),
    };
    let world = &mut *inner.world();
    if !world.channels.contains_key(&channel) {
        return Some(Err(ApiError::unknown("Channel", 10003)));
    }
    if world.channel_permissions(channel, world.bot_id) & permissions::VIEW_CHANNEL == 0 {
        return Some(Err(ApiError::missing_access()));
    }
    Some(match (req.method, rest) {
        (&Method::POST, ["messages", "bulk-delete"]) => bulk_delete(inner, world, channel, req),
        (_, ["messages", mid, "reactions", emoji @ ..]) => {
            reactions::route(inner, world, channel, mid, emoji, req)
        }
        (&Method::PATCH, []) => channels::edit(inner, world, channel, req),
        (&Method::DELETE, []) => channels::delete(inner, world, channel),
        (&Method::PUT, ["permissions", target]) => {
            channels::put_overwrite(inner, world, channel, target, req)
        }
        (&Method::DELETE, ["permissions", target]) => {
            channels::delete_overwrite(inner, world, channel, target)
        }
        (&Method::POST, ["webhooks"]) => webhooks::create(inner, world, channel, req),
        (&Method::GET, ["webhooks"]) => webhooks::list(inner, world, channel),
        (_, ["permissions", _] | ["webhooks"] | ["messages", "bulk-delete"]) => {
            Err(ApiError::method_not_allowed())
        }
        (&Method::GET, []) => {
            let c = &world.channels[&channel];
            let recipient = c.recipient.map(|u| world.user_json(u));
            Reply::ok(c.to_json(recipient))
        }
        (&Method::POST, ["typing"]) => Reply::no_content(),
        (&Method::GET, ["messages"]) => list(world, channel, req),
        (&Method::POST, ["messages"]) => create(inner, world, channel, req),
        (&Method::GET, ["messages", mid]) => match find(world, channel, mid) {
            Ok(m) => Reply::ok(message_json(world, &world.messages[&m])),
            Err(e) => Err(e),
        },
        (&Method::PATCH, ["messages", mid]) => match find(world, channel, mid) {
            Ok(m) => edit(inner, world, m, req),
            Err(e) => Err(e),
        },
        (&Method::DELETE, ["messages", mid]) => match find(world, channel, mid) {
            Ok(m) => delete_checked(inner, world, channel, m),
            Err(e) => Err(e),
        },
        (_, [] | ["messages"] | ["messages", _] | ["typing"]) => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::not_found()),
    })
}

pub(crate) fn find(world: &World, channel: u64, mid: &str) -> Result<u64, ApiError> {
    let mid = id(mid, "Message", 10008)?;
    match world.messages.get(&mid) {
        Some(m) if m.channel_id == channel => Ok(mid),
        _ => Err(ApiError::unknown("Message", 10008)),
    }
}

fn list(world: &World, channel: u64, req: &Req<'_>) -> Result<Reply, ApiError> {
    let limit = req
        .query_param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 100);
    let messages: Vec<Value> = world.channels[&channel]
        .messages
        .iter()
        .rev()
        .take(limit)
        .filter_map(|m| world.messages.get(m))
        .map(|m| message_json(world, m))
        .collect();
    Reply::ok(Value::Array(messages))
}

fn create(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.body();
    validate_message_body(&body, req.files.is_empty())?;
    check_can_send(world, channel)?;
    let files = attachments(world, &body, &req.files, &[])?.unwrap_or_default();
    if !files.is_empty()
        && world.channels[&channel].guild_id.is_some()
        && world.channel_permissions(channel, world.bot_id) & permissions::ATTACH_FILES == 0
    {
        return Err(ApiError::missing_permissions());
    }
    if let Some(reference) = body.get("message_reference").filter(|v| !v.is_null()) {
        let target = reference.get("message_id").and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse::<u64>().ok())
                .or(v.as_u64())
        });
        let fail = reference
            .get("fail_if_not_exists")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let known = target.is_some_and(|t| world.messages.contains_key(&t));
        if !known && fail {
            return Err(ApiError::invalid_form(
                "message_reference",
                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                "Unknown message",
            ));
        }
    }
    let id = create_bot_message(inner, world, channel, &body, files, None);
    let m = &world.messages[&id];
    inner.emit(SimEvent::BotMessage {
        channel_id: channel,
        message_id: id,
        reply_to: m.reply_to,
        body,
    });
    Reply::ok(message_json(world, m))
}

/// Whether the bot may post in `channel`: a text channel (50008 otherwise) where it has
/// VIEW_CHANNEL (50001) and SEND_MESSAGES (50013) after overwrites; in a DM, the other user
/// must take DMs (50007: a bot, or a user who closed their DMs).
pub(crate) fn check_can_send(world: &World, channel: u64) -> Result<(), ApiError> {
    let Some(c) = world.channels.get(&channel) else {
        return Err(ApiError::unknown("Channel", 10003));
    };
    if !c.is_text() {
        return Err(ApiError::bad_request(
            "Cannot send messages in a non-text channel",
            50008,
        ));
    }
    if let Some(user) = c.recipient {
        if world.users.get(&user).is_none_or(|u| u.bot || u.dms_closed) {
            return Err(ApiError::forbidden(
                "Cannot send messages to this user",
                50007,
            ));
        }
        return Ok(());
    }
    let perms = world.channel_permissions(channel, world.bot_id);
    if perms & permissions::VIEW_CHANNEL == 0 {
        return Err(ApiError::missing_access());
    }
    if perms & permissions::SEND_MESSAGES == 0 {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

/// `DELETE /channels/{c}/messages/{m}`: the bot's own messages always; others' need
/// MANAGE_MESSAGES in a guild channel and are refused in a DM (50003).
fn delete_checked(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    mid: u64,
) -> Result<Reply, ApiError> {
    if world.messages[&mid].author_id != world.bot_id {
        if world.channels[&channel].guild_id.is_none() {
            return Err(ApiError::forbidden(
                "Cannot execute action on a DM channel",
                50003,
            ));
        }
        if world.channel_permissions(channel, world.bot_id) & permissions::MANAGE_MESSAGES == 0 {
            return Err(ApiError::missing_permissions());
        }
    }
    delete(inner, world, mid);
    Reply::no_content()
}

/// How old a message may be for bulk delete (14 days).
const BULK_DELETE_MAX_AGE_MS: u64 = 14 * 24 * 60 * 60 * 1000;

/// `POST /channels/{c}/messages/bulk-delete` with `{messages: [ids]}`: 2 to 100 distinct
/// ids, none older than 14 days, MANAGE_MESSAGES; ids of unknown messages are skipped, as
/// Discord does. Dispatches one MESSAGE_DELETE_BULK.
fn bulk_delete(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.body();
    let Some(list) = body.get("messages").filter(|v| !v.is_null()) else {
        return Err(ApiError::invalid_form(
            "messages",
            "BASE_TYPE_REQUIRED",
            "This field is required",
        ));
    };
    let Some(list) = list.as_array() else {
        return Err(ApiError::invalid_form(
            "messages",
            "BASE_TYPE_LIST",
            "Must be an array.",
        ));
    };
    if list.len() < 2 {
        return Err(ApiError::invalid_form(
            "messages",
            "BASE_TYPE_MIN_LENGTH",
            "Must be 2 or more in length.",
        ));
    }
    if list.len() > 100 {
        return Err(ApiError::invalid_form(
            "messages",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 100 or fewer in length.",
        ));
    }
    let mut ids: Vec<u64> = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let Some(mid) = snowflake(v) else {
            return Err(ApiError::invalid_form(
                &format!("messages.{i}"),
                "NUMBER_TYPE_COERCE",
                &format!(
                    "Value \"{}\" is not snowflake.",
                    v.as_str().unwrap_or_default()
                ),
            ));
        };
        if ids.contains(&mid) {
            return Err(ApiError::invalid_form(
                &format!("messages.{i}"),
                "SET_TYPE_ALREADY_CONTAINS_VALUE",
                "The set already contains this value",
            ));
        }
        ids.push(mid);
    }
    let Some(guild) = world.channels[&channel].guild_id else {
        return Err(ApiError::forbidden(
            "Cannot execute action on a DM channel",
            50003,
        ));
    };
    if world.channel_permissions(channel, world.bot_id) & permissions::MANAGE_MESSAGES == 0 {
        return Err(ApiError::missing_permissions());
    }
    let now = now_ms();
    if ids
        .iter()
        .any(|m| now.saturating_sub(timestamp_ms(*m)) > BULK_DELETE_MAX_AGE_MS)
    {
        return Err(ApiError::bad_request(
            "You can only bulk delete messages that are under 14 days old.",
            50034,
        ));
    }
    let deleted: Vec<u64> = ids
        .into_iter()
        .filter(|m| {
            world
                .messages
                .get(m)
                .is_some_and(|x| x.channel_id == channel)
        })
        .collect();
    for mid in &deleted {
        world.messages.remove(mid);
    }
    if let Some(c) = world.channels.get_mut(&channel) {
        c.messages.retain(|m| !deleted.contains(m));
    }
    if !deleted.is_empty() {
        inner.dispatch(
            "MESSAGE_DELETE_BULK",
            json!({
                "ids": deleted.iter().map(u64::to_string).collect::<Vec<_>>(),
                "channel_id": channel.to_string(),
                "guild_id": guild.to_string(),
            }),
            Target::Guild(guild),
            opcodes::INTENT_GUILD_MESSAGES,
        );
    }
    inner.emit(SimEvent::MessagesBulkDeleted {
        channel_id: channel,
        message_ids: deleted,
    });
    Reply::no_content()
}

/// Applies an edit of the bot's to a stored message (its attachments too, when `attachments`
/// says what they become), dispatches MESSAGE_UPDATE and emits `MessageEdited`.
pub(crate) fn apply_edit(
    inner: &Inner,
    world: &mut World,
    mid: u64,
    body: &Value,
    attachments: Option<Vec<Attachment>>,
) -> Value {
    if let (Some(files), Some(m)) = (attachments, world.messages.get_mut(&mid)) {
        m.attachments = files;
        let channel = m.channel_id;
        world.cdn.keep_attachments(channel, &m.attachments);
    }
    let json = edit_stored(inner, world, mid, body);
    if !json.is_null() {
        inner.emit(SimEvent::MessageEdited {
            channel_id: world.messages[&mid].channel_id,
            message_id: mid,
            body: body.clone(),
        });
    }
    json
}

/// Applies an edit (the bot's or a user's) to a stored message and dispatches MESSAGE_UPDATE
/// (not for ephemeral messages); returns the message as REST answers it, `null` if unknown.
pub(crate) fn edit_stored(inner: &Inner, world: &mut World, mid: u64, body: &Value) -> Value {
    let Some(m) = world.messages.get_mut(&mid) else {
        return Value::Null;
    };
    m.apply_body(body);
    m.flags &= !128; // an edit ends the "thinking" state of a deferred response
    m.edited_at_ms = Some(now_ms());
    let m = m.clone();
    let json = message_json(world, &m);
    if m.flags & 64 == 0 {
        let target = m.guild_id.map_or(Target::Direct, Target::Guild);
        let intent = if m.guild_id.is_some() {
            opcodes::INTENT_GUILD_MESSAGES
        } else {
            opcodes::INTENT_DIRECT_MESSAGES
        };
        let mut update = json.clone();
        if let Some(g) = m.guild_id {
            update["guild_id"] = json!(g.to_string());
        }
        inner.dispatch("MESSAGE_UPDATE", update, target, intent);
    }
    json
}

fn edit(inner: &Inner, world: &mut World, mid: u64, req: &Req<'_>) -> Result<Reply, ApiError> {
    let body = req.body();
    validate_message_body(&body, false)?;
    if world.messages[&mid].author_id != world.bot_id {
        return Err(ApiError::forbidden(
            "Cannot edit a message authored by another user",
            50005,
        ));
    }
    let existing = world.messages[&mid].attachments.clone();
    let files = attachments(world, &body, &req.files, &existing)?;
    Reply::ok(apply_edit(inner, world, mid, &body, files))
}

/// Deletes a stored message for the bot, dispatches MESSAGE_DELETE and emits
/// `MessageDeleted`.
pub(crate) fn delete(inner: &Inner, world: &mut World, mid: u64) {
    let Some(m) = delete_stored(inner, world, mid) else {
        return;
    };
    inner.emit(SimEvent::MessageDeleted {
        channel_id: m.channel_id,
        message_id: mid,
    });
}

/// Deletes a stored message (for the bot or a user) and dispatches MESSAGE_DELETE (not for
/// ephemeral messages); returns it.
pub(crate) fn delete_stored(inner: &Inner, world: &mut World, mid: u64) -> Option<Message> {
    let m = world.messages.remove(&mid)?;
    if let Some(c) = world.channels.get_mut(&m.channel_id) {
        c.messages.retain(|x| *x != mid);
    }
    let mut data = json!({"id": mid.to_string(), "channel_id": m.channel_id.to_string()});
    if let Some(g) = m.guild_id {
        data["guild_id"] = json!(g.to_string());
    }
    let (target, intent) = match m.guild_id {
        Some(g) => (Target::Guild(g), opcodes::INTENT_GUILD_MESSAGES),
        None => (Target::Direct, opcodes::INTENT_DIRECT_MESSAGES),
    };
    if m.flags & 64 == 0 {
        inner.dispatch("MESSAGE_DELETE", data, target, intent);
    }
    Some(m)
}
