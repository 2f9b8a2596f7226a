//! Channel writes: `PATCH` and `DELETE /channels/{id}`, permission overwrites
//! (`PUT`/`DELETE /channels/{id}/permissions/{overwrite_id}`), and the body checks shared with
//! `POST /guilds/{id}/channels`.

use serde_json::{Value, json};

use super::{ApiError, Reply, Req, id, snowflake};
use crate::events::SimEvent;
use crate::gateway::{Target, opcodes};
use crate::simulator::Inner;
use crate::world::channel::{GUILD_CATEGORY, GUILD_TEXT};
use crate::world::{Overwrite, World, permissions};

/// The checked fields of a channel create/edit body.
#[derive(Debug, Default)]
pub(crate) struct ChannelPatch {
    pub(crate) name: Option<String>,
    pub(crate) topic: Option<Option<String>>,
    pub(crate) position: Option<u32>,
    pub(crate) parent_id: Option<Option<u64>>,
    pub(crate) nsfw: Option<bool>,
    pub(crate) rate_limit_per_user: Option<u32>,
    pub(crate) overwrites: Option<Vec<Overwrite>>,
}

fn int_field(body: &Value, field: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    let Some(v) = body.get(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(n) = v.as_i64() else {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_COERCE",
            &format!("Value \"{v}\" is not int."),
        ));
    };
    if n < min {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_MIN",
            &format!("int value should be greater than or equal to {min}."),
        ));
    }
    if n > max {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_MAX",
            &format!("int value should be less than or equal to {max}."),
        ));
    }
    Ok(Some(n))
}

/// Permission bits as Discord takes them: a string of digits or a number.
pub(crate) fn bits(v: Option<&Value>, field: &str) -> Result<u64, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(v) => snowflake(v).ok_or_else(|| {
            ApiError::invalid_form(
                field,
                "NUMBER_TYPE_COERCE",
                &format!("Value \"{v}\" is not int."),
            )
        }),
    }
}

fn parse_overwrite(
    world: &World,
    guild: u64,
    v: &Value,
    field: &str,
) -> Result<Overwrite, ApiError> {
    let Some(target) = v.get("id").and_then(snowflake) else {
        return Err(ApiError::invalid_form(
            &format!("{field}.id"),
            "BASE_TYPE_REQUIRED",
            "This field is required",
        ));
    };
    let kind = match v.get("type").and_then(Value::as_u64) {
        Some(k @ (0 | 1)) => k as u8,
        Some(_) => {
            return Err(ApiError::invalid_form(
                &format!("{field}.type"),
                "BASE_TYPE_CHOICES",
                "Value must be one of (0, 1).",
            ));
        }
        None => {
            return Err(ApiError::invalid_form(
                &format!("{field}.type"),
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        }
    };
    let known = match kind {
        0 => world
            .guilds
            .get(&guild)
            .is_some_and(|g| g.roles.contains_key(&target)),
        _ => world.users.contains_key(&target),
    };
    if !known {
        return Err(if kind == 0 {
            ApiError::unknown("Role", 10011)
        } else {
            ApiError::unknown("User", 10013)
        });
    }
    Ok(Overwrite {
        id: target,
        kind,
        allow: bits(v.get("allow"), &format!("{field}.allow"))?,
        deny: bits(v.get("deny"), &format!("{field}.deny"))?,
    })
}

/// Checks a channel create/edit body (`kind` is the channel's type) the way Discord does:
/// lengths and ranges (50035 with the field path), a `parent_id` that is a category of the
/// same guild (categories have none).
pub(crate) fn parse_patch(
    world: &World,
    guild: u64,
    kind: u8,
    body: &Value,
) -> Result<ChannelPatch, ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid_form(
            "_root",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ));
    }
    let mut patch = ChannelPatch::default();
    if let Some(name) = body.get("name").filter(|v| !v.is_null()) {
        match name.as_str() {
            Some(n) if (1..=100).contains(&n.chars().count()) => patch.name = Some(n.to_owned()),
            _ => {
                return Err(ApiError::invalid_form(
                    "name",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                ));
            }
        }
    }
    match body.get("topic") {
        None => {}
        Some(Value::Null) => patch.topic = Some(None),
        Some(Value::String(t)) if t.chars().count() <= 1024 => patch.topic = Some(Some(t.clone())),
        Some(Value::String(_)) => {
            return Err(ApiError::invalid_form(
                "topic",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 1024 or fewer in length.",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid_form(
                "topic",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        }
    }
    patch.position = int_field(body, "position", 0, i64::from(u32::MAX))?.map(|p| p as u32);
    patch.rate_limit_per_user = int_field(body, "rate_limit_per_user", 0, 21600)?.map(|r| r as u32);
    if let Some(nsfw) = body.get("nsfw").filter(|v| !v.is_null()) {
        patch.nsfw = Some(nsfw.as_bool().ok_or_else(|| {
            ApiError::invalid_form("nsfw", "BASE_TYPE_BOOLEAN", "Must be either true or false.")
        })?);
    }
    match body.get("parent_id") {
        None => {}
        Some(Value::Null) => patch.parent_id = Some(None),
        Some(v) => {
            let parent = snowflake(v).and_then(|p| world.channels.get(&p));
            let ok = kind != GUILD_CATEGORY
                && parent.is_some_and(|p| p.guild_id == Some(guild) && p.kind == GUILD_CATEGORY);
            if !ok {
                return Err(ApiError::invalid_form(
                    "parent_id",
                    "CHANNEL_PARENT_INVALID_TYPE",
                    "Not a category",
                ));
            }
            patch.parent_id = Some(parent.map(|p| p.id));
        }
    }
    if let Some(list) = body.get("permission_overwrites").filter(|v| !v.is_null()) {
        let Some(list) = list.as_array() else {
            return Err(ApiError::invalid_form(
                "permission_overwrites",
                "BASE_TYPE_LIST",
                "Must be an array.",
            ));
        };
        if list.len() > 100 {
            return Err(ApiError::invalid_form(
                "permission_overwrites",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 100 or fewer in length.",
            ));
        }
        let mut overwrites = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            overwrites.push(parse_overwrite(
                world,
                guild,
                v,
                &format!("permission_overwrites.{i}"),
            )?);
        }
        patch.overwrites = Some(overwrites);
    }
    Ok(patch)
}

/// The bot may only allow or deny in an overwrite what it has itself in the channel (all,
/// with ADMINISTRATOR), and needs MANAGE_ROLES there.
pub(crate) fn check_overwrite_rights(
    channel_perms: u64,
    overwrites: &[Overwrite],
) -> Result<(), ApiError> {
    if channel_perms & permissions::MANAGE_ROLES == 0 {
        return Err(ApiError::missing_permissions());
    }
    if overwrites
        .iter()
        .any(|o| (o.allow | o.deny) & !channel_perms != 0)
    {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

/// Applies a checked body to a channel.
pub(crate) fn apply_patch(world: &mut World, channel: u64, patch: ChannelPatch) {
    let Some(c) = world.channels.get_mut(&channel) else {
        return;
    };
    if let Some(name) = patch.name {
        c.name = name;
    }
    if let Some(topic) = patch.topic {
        c.topic = topic;
    }
    if let Some(position) = patch.position {
        c.position = position;
    }
    if let Some(parent) = patch.parent_id {
        c.parent_id = parent;
    }
    if let Some(nsfw) = patch.nsfw {
        c.nsfw = nsfw;
    }
    if let Some(rate) = patch.rate_limit_per_user {
        c.rate_limit_per_user = rate;
    }
    if let Some(overwrites) = patch.overwrites {
        c.overwrites = overwrites;
    }
}

fn dispatch_update(inner: &Inner, world: &World, channel: u64) -> Value {
    let c = &world.channels[&channel];
    let json = c.to_json(None);
    if let Some(guild) = c.guild_id {
        inner.dispatch(
            "CHANNEL_UPDATE",
            json.clone(),
            Target::Guild(guild),
            opcodes::INTENT_GUILDS,
        );
    }
    json
}

fn dm_refused() -> ApiError {
    ApiError::forbidden("Cannot execute action on a DM channel", 50003)
}

/// `PATCH /channels/{id}`: MANAGE_CHANNELS (and MANAGE_ROLES for `permission_overwrites`);
/// dispatches CHANNEL_UPDATE.
pub(crate) fn edit(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let (guild, kind) = {
        let c = &world.channels[&channel];
        (c.guild_id, c.kind)
    };
    let Some(guild) = guild else {
        return Err(dm_refused());
    };
    let body = req.body();
    let patch = parse_patch(world, guild, kind, &body)?;
    if let Some(t) = body.get("type").and_then(Value::as_u64)
        && t != u64::from(kind)
    {
        return Err(ApiError::invalid_form(
            "type",
            "BASE_TYPE_CHOICES",
            &format!("Value must be one of ({kind},)."),
        ));
    }
    let perms = world.channel_permissions(channel, world.bot_id);
    if perms & permissions::MANAGE_CHANNELS == 0 {
        return Err(ApiError::missing_permissions());
    }
    if let Some(overwrites) = &patch.overwrites
        && *overwrites != world.channels[&channel].overwrites
    {
        check_overwrite_rights(perms, overwrites)?;
    }
    apply_patch(world, channel, patch);
    let json = dispatch_update(inner, world, channel);
    inner.emit(SimEvent::ChannelUpdated {
        channel_id: channel,
        body,
    });
    Reply::ok(json)
}

/// `DELETE /channels/{id}`: MANAGE_CHANNELS; removes the channel with its messages and
/// webhooks (a category's channels stay, without parent; members in a voice channel are
/// disconnected, VOICE_STATE_UPDATE); dispatches CHANNEL_DELETE and answers the channel. For a DM the channel is answered and kept, as closing a DM does.
pub(crate) fn delete(inner: &Inner, world: &mut World, channel: u64) -> Result<Reply, ApiError> {
    let Some(guild) = world.channels[&channel].guild_id else {
        let c = &world.channels[&channel];
        let recipient = c.recipient.map(|u| world.user_json(u));
        return Reply::ok(c.to_json(recipient));
    };
    if world.channel_permissions(channel, world.bot_id) & permissions::MANAGE_CHANNELS == 0 {
        return Err(ApiError::missing_permissions());
    }
    remove(inner, world, guild, channel)
}

/// Removes guild channel `channel` as a deletion does, whoever deletes it (the bot through
/// `DELETE /channels/{id}`, or a member in Discord's client).
pub(crate) fn remove(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    channel: u64,
) -> Result<Reply, ApiError> {
    // Whoever is in a deleted voice channel is disconnected.
    let in_voice: Vec<u64> = world.guilds[&guild]
        .voice_states
        .values()
        .filter(|v| v.channel_id == Some(channel))
        .map(|v| v.user_id)
        .collect();
    for user in in_voice {
        inner.set_voice(world, guild, user, None);
    }
    let Some(c) = world.channels.remove(&channel) else {
        return Err(ApiError::unknown("Channel", 10003));
    };
    for m in &c.messages {
        world.messages.remove(m);
    }
    world.webhooks.retain(|_, w| w.channel_id != channel);
    if let Some(g) = world.guilds.get_mut(&guild) {
        g.channels.retain(|x| *x != channel);
        // As on Discord, the guild's AFK or system channel is unset when it goes.
        for setting in [
            &mut g.settings.afk_channel_id,
            &mut g.settings.system_channel_id,
        ] {
            if *setting == Some(channel) {
                *setting = None;
            }
        }
    }
    let json = c.to_json(None);
    if c.kind == GUILD_CATEGORY {
        let children: Vec<u64> = world
            .channels
            .values()
            .filter(|x| x.parent_id == Some(channel))
            .map(|x| x.id)
            .collect();
        for child in children {
            if let Some(x) = world.channels.get_mut(&child) {
                x.parent_id = None;
            }
            dispatch_update(inner, world, child);
        }
    }
    inner.dispatch(
        "CHANNEL_DELETE",
        json.clone(),
        Target::Guild(guild),
        opcodes::INTENT_GUILDS,
    );
    inner.emit(SimEvent::ChannelDeleted {
        channel_id: channel,
    });
    Reply::ok(json)
}

/// `PUT /channels/{id}/permissions/{overwrite_id}` with `{type, allow, deny}`: MANAGE_ROLES,
/// and only bits the bot has; dispatches CHANNEL_UPDATE.
pub(crate) fn put_overwrite(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    target: &str,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let Some(guild) = world.channels[&channel].guild_id else {
        return Err(dm_refused());
    };
    let mut body = req.body();
    if !body.is_object() {
        return Err(ApiError::invalid_form(
            "_root",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ));
    }
    body["id"] = json!(target);
    let overwrite = parse_overwrite(world, guild, &body, "").map_err(|e| strip_root(e, target))?;
    let perms = world.channel_permissions(channel, world.bot_id);
    check_overwrite_rights(perms, std::slice::from_ref(&overwrite))?;
    if let Some(c) = world.channels.get_mut(&channel) {
        match c.overwrites.iter_mut().find(|o| o.id == overwrite.id) {
            Some(o) => *o = overwrite,
            None => c.overwrites.push(overwrite),
        }
    }
    dispatch_update(inner, world, channel);
    inner.emit(SimEvent::ChannelUpdated {
        channel_id: channel,
        body: req.body(),
    });
    Reply::no_content()
}

/// Field paths of the PUT body have no prefix; an unparsable path id is Unknown Overwrite.
fn strip_root(e: ApiError, target: &str) -> ApiError {
    if target.parse::<u64>().is_err() {
        return ApiError::unknown("Overwrite", 10009);
    }
    e
}

/// `DELETE /channels/{id}/permissions/{overwrite_id}`: MANAGE_ROLES; 10009 Unknown Overwrite
/// if there is none; dispatches CHANNEL_UPDATE.
pub(crate) fn delete_overwrite(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    target: &str,
) -> Result<Reply, ApiError> {
    if world.channels[&channel].guild_id.is_none() {
        return Err(dm_refused());
    }
    let target = id(target, "Overwrite", 10009)?;
    if world.channel_permissions(channel, world.bot_id) & permissions::MANAGE_ROLES == 0 {
        return Err(ApiError::missing_permissions());
    }
    let Some(c) = world.channels.get_mut(&channel) else {
        return Err(ApiError::unknown("Channel", 10003));
    };
    let before = c.overwrites.len();
    c.overwrites.retain(|o| o.id != target);
    if before == c.overwrites.len() {
        return Err(ApiError::unknown("Overwrite", 10009));
    }
    dispatch_update(inner, world, channel);
    inner.emit(SimEvent::ChannelUpdated {
        channel_id: channel,
        body: Value::Null,
    });
    Reply::no_content()
}

/// Creates a guild channel (text or category) from a checked body; returns its id.
/// A channel created in a category without its own overwrites takes the category's.
pub(crate) fn create(
    world: &mut World,
    guild: u64,
    kind: u8,
    name: &str,
    patch: ChannelPatch,
) -> u64 {
    let cid = if kind == GUILD_CATEGORY {
        world.create_category(guild, name)
    } else if kind == crate::world::channel::GUILD_VOICE {
        world.create_voice_channel(guild, name)
    } else {
        world.create_channel(guild, name)
    };
    let synced = match (kind, &patch.overwrites, patch.parent_id.flatten()) {
        (GUILD_TEXT, None, Some(parent)) => {
            world.channels.get(&parent).map(|p| p.overwrites.clone())
        }
        _ => None,
    };
    apply_patch(world, cid, patch);
    if let (Some(overwrites), Some(c)) = (synced, world.channels.get_mut(&cid)) {
        c.overwrites = overwrites;
    }
    cid
}
