//! Routes under `/guilds/{id}`: the guild (read, edit its settings), its roles (read, create,
//! edit, delete, reorder), channels (list, create), members (get, list; edits, kicks and bans
//! in [`super::members`]), member roles (add, remove) and emojis (in [`super::emojis`]).

use axum::http::Method;
use serde_json::{Value, json};

use super::{ApiError, Reply, Req, channels, emojis, id, members, snowflake};
use crate::gateway::{Target, opcodes};
use crate::simulator::Inner;
use crate::world::channel::{GUILD_CATEGORY, GUILD_TEXT, GUILD_VOICE};
use crate::world::{World, permissions};

/// Answers the guild routes.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let [_, guild, rest @ ..] = req.segs.as_slice() else {
        return None;
    };
    let world = &mut *inner.world();
    let guild = match id(guild, "Guild", 10004) {
        Ok(g) if world.guilds.contains_key(&g) => g,
        _ => return Some(Err(ApiError::unknown("Guild", 10004))),
    };
    Some(match (req.method, rest) {
        (&Method::GET, []) => {
            let g = &world.guilds[&guild];
            let mut v = g.to_json();
            if req.query_param("with_counts") == Some("true") {
                v["approximate_member_count"] = json!(g.members.len());
                v["approximate_presence_count"] = json!(0);
            }
            Reply::ok(v)
        }
        (&Method::PATCH, []) => edit_guild(inner, world, guild, req),
        (&Method::GET, ["roles"]) => Reply::ok(Value::Array(
            world.guilds[&guild]
                .roles
                .values()
                .map(|r| r.to_json())
                .collect(),
        )),
        (&Method::POST, ["roles"]) => create_role(inner, world, guild, req),
        (&Method::PATCH, ["roles", rid]) => edit_role(inner, world, guild, rid, req),
        (&Method::DELETE, ["roles", rid]) => delete_role(inner, world, guild, rid),
        (&Method::GET, ["channels"]) => Reply::ok(Value::Array(
            world.guilds[&guild]
                .channels
                .iter()
                .filter_map(|c| world.channels.get(c))
                .map(|c| c.to_json(None))
                .collect(),
        )),
        (&Method::POST, ["channels"]) => create_channel(inner, world, guild, req),
        (&Method::GET, ["members"]) => list_members(world, guild, req),
        (&Method::GET, ["members", uid]) => match id(uid, "Member", 10007) {
            Ok(uid) => world
                .member_json(guild, uid)
                .ok_or_else(|| ApiError::unknown("Member", 10007))
                .and_then(Reply::ok),
            Err(e) => Err(e),
        },
        (&Method::PATCH, ["roles"]) => reorder_roles(inner, world, guild, req),
        (&Method::PATCH, ["members", uid]) => members::edit(inner, world, guild, uid, req),
        (&Method::DELETE, ["members", uid]) if *uid != "@me" => {
            members::kick(inner, world, guild, uid, req)
        }
        (&Method::GET, ["bans"]) => members::read_bans(world, guild, None, req),
        (&Method::GET, ["bans", uid]) => members::read_bans(world, guild, Some(uid), req),
        (&Method::PUT, ["bans", uid]) => members::ban(inner, world, guild, uid, req),
        (&Method::DELETE, ["bans", uid]) => members::unban(inner, world, guild, uid),
        (&Method::GET, ["emojis"]) => emojis::list(world, guild),
        (&Method::POST, ["emojis"]) => emojis::create(inner, world, guild, req),
        (&Method::GET, ["emojis", eid]) => emojis::get(world, guild, eid),
        (&Method::PATCH, ["emojis", eid]) => emojis::edit(inner, world, guild, eid, req),
        (&Method::DELETE, ["emojis", eid]) => emojis::delete(inner, world, guild, eid),
        (&Method::PUT, ["members", uid, "roles", rid]) => {
            member_role(inner, world, guild, uid, rid, true)
        }
        (&Method::DELETE, ["members", uid, "roles", rid]) => {
            member_role(inner, world, guild, uid, rid, false)
        }
        (
            _,
            []
            | ["roles"]
            | ["roles", _]
            | ["channels"]
            | ["members"]
            | ["members", _]
            | ["members", _, "roles", _]
            | ["bans"]
            | ["bans", _]
            | ["emojis"]
            | ["emojis", _],
        ) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    })
}

fn require(world: &World, guild: u64, permission: u64) -> Result<(), ApiError> {
    if world.member_permissions(guild, world.bot_id) & permission == 0 {
        return Err(ApiError::forbidden("Missing Permissions", 50013));
    }
    Ok(())
}

/// The bot may only edit, delete or assign roles below its highest role (50013).
fn require_below(world: &World, guild: u64, role: u64) -> Result<(), ApiError> {
    if world.guilds[&guild].roles.contains_key(&role)
        && !world.role_below(guild, world.bot_id, role)
    {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

/// The bot may only give a role permissions it has itself (all, with ADMINISTRATOR).
fn require_grantable(world: &World, guild: u64, body: &Value) -> Result<(), ApiError> {
    if let Some(p) = parse_permissions(body)?
        && p & !world.member_permissions(guild, world.bot_id) != 0
    {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

fn role_update(inner: &Inner, world: &World, guild: u64, role: u64, event: &'static str) -> Value {
    let json = world.guilds[&guild].roles[&role].to_json();
    inner.dispatch(
        event,
        json!({"guild_id": guild.to_string(), "role": json}),
        Target::Guild(guild),
        opcodes::INTENT_GUILDS,
    );
    json
}

fn parse_permissions(body: &Value) -> Result<Option<u64>, ApiError> {
    match body.get("permissions") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
            ApiError::invalid_form("permissions", "NUMBER_TYPE_COERCE", "Value is not int.")
        }),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
            ApiError::invalid_form("permissions", "NUMBER_TYPE_COERCE", "Value is not int.")
        }),
        Some(_) => Err(ApiError::invalid_form(
            "permissions",
            "NUMBER_TYPE_COERCE",
            "Value is not int.",
        )),
    }
}

fn apply_role_body(world: &mut World, guild: u64, role: u64, body: &Value) -> Result<(), ApiError> {
    let permissions = parse_permissions(body)?;
    if let Some(name) = body.get("name").filter(|v| !v.is_null()) {
        match name.as_str() {
            Some(n) if n.chars().count() <= 100 => {}
            _ => {
                return Err(ApiError::invalid_form(
                    "name",
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 100 or fewer in length.",
                ));
            }
        }
    }
    let Some(r) = world
        .guilds
        .get_mut(&guild)
        .and_then(|g| g.roles.get_mut(&role))
    else {
        return Err(ApiError::unknown("Role", 10011));
    };
    if let Some(p) = permissions {
        r.permissions = p;
    }
    if let Some(name) = body.get("name").and_then(Value::as_str) {
        r.name = name.to_owned();
    }
    if let Some(color) = body.get("color").and_then(Value::as_u64) {
        r.color = (color & 0xFF_FFFF) as u32;
    }
    if let Some(hoist) = body.get("hoist").and_then(Value::as_bool) {
        r.hoist = hoist;
    }
    if let Some(m) = body.get("mentionable").and_then(Value::as_bool) {
        r.mentionable = m;
    }
    Ok(())
}

fn create_role(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    require(world, guild, crate::world::permissions::MANAGE_ROLES)?;
    let body = req.body();
    parse_permissions(&body)?;
    require_grantable(world, guild, &body)?;
    let role = world.create_role(guild, "new role", 0);
    if let Some(r) = world
        .guilds
        .get_mut(&guild)
        .and_then(|g| g.roles.get_mut(&role))
    {
        r.permissions = world_everyone_permissions_default();
    }
    apply_role_body(world, guild, role, &body)?;
    Reply::ok(role_update(inner, world, guild, role, "GUILD_ROLE_CREATE"))
}

/// Discord gives a new role the @everyone defaults when no permissions are sent.
fn world_everyone_permissions_default() -> u64 {
    crate::world::permissions::EVERYONE_DEFAULT
}

fn edit_role(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    rid: &str,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    require(world, guild, crate::world::permissions::MANAGE_ROLES)?;
    let role = id(rid, "Role", 10011)?;
    let body = req.body();
    require_below(world, guild, role)?;
    require_grantable(world, guild, &body)?;
    apply_role_body(world, guild, role, &body)?;
    Reply::ok(role_update(inner, world, guild, role, "GUILD_ROLE_UPDATE"))
}

fn delete_role(inner: &Inner, world: &mut World, guild: u64, rid: &str) -> Result<Reply, ApiError> {
    require(world, guild, crate::world::permissions::MANAGE_ROLES)?;
    let role = id(rid, "Role", 10011)?;
    if role == guild {
        return Err(ApiError::bad_request("Invalid Role", 50028));
    }
    require_below(world, guild, role)?;
    if !world.guilds[&guild].roles.contains_key(&role) {
        return Err(ApiError::unknown("Role", 10011));
    }
    remove_role(inner, world, guild, role);
    Reply::no_content()
}

/// Deletes a role ([`World::delete_role`]: taken from members, channel overwrites and
/// emojis) and dispatches GUILD_ROLE_DELETE, then CHANNEL_UPDATE for each channel whose
/// overwrites named it; returns whether the role existed.
pub(crate) fn remove_role(inner: &Inner, world: &mut World, guild: u64, role: u64) -> bool {
    let Some(changed) = world.delete_role(guild, role) else {
        return false;
    };
    inner.dispatch(
        "GUILD_ROLE_DELETE",
        json!({"guild_id": guild.to_string(), "role_id": role.to_string()}),
        Target::Guild(guild),
        opcodes::INTENT_GUILDS,
    );
    for channel in changed {
        if let Some(c) = world.channels.get(&channel) {
            inner.dispatch(
                "CHANNEL_UPDATE",
                c.to_json(None),
                Target::Guild(guild),
                opcodes::INTENT_GUILDS,
            );
        }
    }
    true
}

fn create_channel(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.body();
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_form(
            "name",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 100 in length.",
        ));
    }
    let kind = match body.get("type").filter(|v| !v.is_null()).map(Value::as_u64) {
        None | Some(Some(0)) => GUILD_TEXT,
        Some(Some(4)) => GUILD_CATEGORY,
        Some(Some(2)) => GUILD_VOICE,
        Some(_) => {
            return Err(ApiError::invalid_form(
                "type",
                "BASE_TYPE_CHOICES",
                "The simulator creates text channels (type 0) and categories (type 4).",
            ));
        }
    };
    let patch = channels::parse_patch(world, guild, kind, &body)?;
    let perms = world.member_permissions(guild, world.bot_id);
    if perms & permissions::MANAGE_CHANNELS == 0 {
        return Err(ApiError::missing_permissions());
    }
    if let Some(overwrites) = &patch.overwrites
        && !overwrites.is_empty()
    {
        channels::check_overwrite_rights(perms, overwrites)?;
    }
    let cid = channels::create(world, guild, kind, name, patch);
    let json = world.channels[&cid].to_json(None);
    inner.dispatch(
        "CHANNEL_CREATE",
        json.clone(),
        Target::Guild(guild),
        opcodes::INTENT_GUILDS,
    );
    Ok(Reply {
        status: 201,
        body: Some(json),
    })
}

/// `PATCH /guilds/{g}/roles` with `[{id, position}]`: MANAGE_ROLES; every role moved, and
/// every position it moves to, must be below the bot's highest role. Dispatches
/// GUILD_ROLE_UPDATE for each role whose position changed; answers all roles.
fn reorder_roles(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.body();
    let Some(list) = body.as_array() else {
        return Err(ApiError::invalid_form(
            "_root",
            "BASE_TYPE_LIST",
            "Must be an array.",
        ));
    };
    let mut moves = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let Some(role) = item.get("id").and_then(snowflake) else {
            return Err(ApiError::invalid_form(
                &format!("{i}.id"),
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        };
        let position =
            match item.get("position") {
                None | Some(Value::Null) => None,
                Some(p) => Some(p.as_u64().and_then(|p| u32::try_from(p).ok()).ok_or_else(
                    || {
                        ApiError::invalid_form(
                            &format!("{i}.position"),
                            "NUMBER_TYPE_COERCE",
                            &format!("Value \"{p}\" is not int."),
                        )
                    },
                )?),
            };
        if !world.guilds[&guild].roles.contains_key(&role) {
            return Err(ApiError::unknown("Role", 10011));
        }
        moves.push((role, position));
    }
    require(world, guild, crate::world::permissions::MANAGE_ROLES)?;
    let bot = world.bot_id;
    let top = world.guilds[&guild].highest_position(bot);
    let owner = world.guilds[&guild].owner_id == bot;
    for (role, position) in &moves {
        if *role == guild && position.is_some_and(|p| p != 0) {
            return Err(ApiError::missing_permissions());
        }
        if !owner && (!world.role_below(guild, bot, *role) || position.is_some_and(|p| p >= top)) {
            return Err(ApiError::missing_permissions());
        }
    }
    let before: Vec<(u64, u32)> = world.guilds[&guild]
        .roles
        .values()
        .map(|r| (r.id, r.position))
        .collect();
    for (role, position) in moves {
        if let Some(p) = position
            && role != guild
        {
            world.set_role_position(guild, role, p);
        }
    }
    for (role, position) in before {
        if world.guilds[&guild].roles[&role].position != position {
            role_update(inner, world, guild, role, "GUILD_ROLE_UPDATE");
        }
    }
    let mut roles: Vec<&crate::world::Role> = world.guilds[&guild].roles.values().collect();
    roles.sort_by_key(|r| (r.position, r.id));
    Reply::ok(Value::Array(
        roles.into_iter().map(|r| r.to_json()).collect(),
    ))
}

fn list_members(world: &World, guild: u64, req: &Req<'_>) -> Result<Reply, ApiError> {
    let limit = req
        .query_param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 1000);
    let after = req
        .query_param("after")
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(0);
    let members: Vec<Value> = world.guilds[&guild]
        .members
        .range(after.saturating_add(1)..)
        .take(limit)
        .filter_map(|(uid, _)| world.member_json(guild, *uid))
        .collect();
    Reply::ok(Value::Array(members))
}

fn member_role(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    uid: &str,
    rid: &str,
    add: bool,
) -> Result<Reply, ApiError> {
    require(world, guild, crate::world::permissions::MANAGE_ROLES)?;
    let uid = id(uid, "Member", 10007)?;
    let role = id(rid, "Role", 10011)?;
    require_below(world, guild, role)?;
    let g = world
        .guilds
        .get_mut(&guild)
        .ok_or_else(|| ApiError::unknown("Guild", 10004))?;
    if !g.roles.contains_key(&role) {
        return Err(ApiError::unknown("Role", 10011));
    }
    let member = g
        .members
        .get_mut(&uid)
        .ok_or_else(|| ApiError::unknown("Member", 10007))?;
    let had = member.roles.contains(&role);
    if add && !had {
        member.roles.push(role);
    } else if !add && had {
        member.roles.retain(|r| *r != role);
    }
    if add != had
        && let Some(mut payload) = world.member_json(guild, uid)
    {
        payload["guild_id"] = json!(guild.to_string());
        inner.dispatch(
            "GUILD_MEMBER_UPDATE",
            payload,
            Target::Guild(guild),
            opcodes::INTENT_GUILD_MEMBERS,
        );
    }
    Reply::no_content()
}

/// Discord's locales, as `preferred_locale` takes them (the spec's `AvailableLocalesEnum`).
pub(crate) const LOCALES: &[&str] = &[
    "ar", "bg", "cs", "da", "de", "el", "en-GB", "en-US", "es-419", "es-ES", "fi", "fr", "he",
    "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "nl", "no", "pl", "pt-BR", "ro", "ru", "sv-SE",
    "th", "tr", "uk", "vi", "zh-CN", "zh-TW",
];

/// An integer field that must be one of `choices` (`None` when absent or null).
fn choice(body: &Value, field: &str, choices: &[u64]) -> Result<Option<u64>, ApiError> {
    let Some(v) = body.get(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(n) = v.as_i64() else {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_COERCE",
            &format!(
                "Value \"{}\" is not int.",
                v.as_str().unwrap_or(&v.to_string())
            ),
        ));
    };
    match u64::try_from(n) {
        Ok(n) if choices.contains(&n) => Ok(Some(n)),
        _ => {
            let list: Vec<String> = choices.iter().map(u64::to_string).collect();
            Err(ApiError::invalid_form(
                field,
                "BASE_TYPE_CHOICES",
                &format!("Value must be one of {{{}}}.", list.join(", ")),
            ))
        }
    }
}

/// A channel field: absent (`None`), null (`Some(None)`), or a channel of `guild` of type
/// `kind` (50035 on the field otherwise).
fn channel_field(
    world: &World,
    guild: u64,
    body: &Value,
    field: &str,
    kind: u8,
) -> Result<Option<Option<u64>>, ApiError> {
    let v = match body.get(field) {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(None)),
        Some(v) => v,
    };
    let Some(channel) = snowflake(v) else {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_COERCE",
            &format!(
                "Value \"{}\" is not snowflake.",
                v.as_str().unwrap_or(&v.to_string())
            ),
        ));
    };
    let Some(c) = world
        .channels
        .get(&channel)
        .filter(|c| c.guild_id == Some(guild))
    else {
        return Err(ApiError::invalid_form(
            field,
            "CHANNEL_INVALID",
            "Unknown channel",
        ));
    };
    if c.kind != kind {
        let what = if kind == GUILD_VOICE { "voice" } else { "text" };
        return Err(ApiError::invalid_form(
            field,
            "CHANNEL_INVALID_TYPE",
            &format!("Not a {what} channel"),
        ));
    }
    Ok(Some(Some(channel)))
}

/// `PATCH /guilds/{g}`: MANAGE_GUILD; `name` (2–100), `description` (≤ 300, nullable),
/// `verification_level` (0–4), `default_message_notifications` (0–1),
/// `explicit_content_filter` (0–2), `afk_channel_id` (a voice channel of the guild, nullable),
/// `afk_timeout` (60, 300, 900, 1800, 3600), `system_channel_id` (a text channel of the guild,
/// nullable), `system_channel_flags` (an integer bitfield), `preferred_locale` (one of
/// Discord's locales). Other fields are accepted and not stored. Dispatches GUILD_UPDATE when
/// something changed; answers the guild.
fn edit_guild(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    require(world, guild, permissions::MANAGE_GUILD)?;
    let body = req.body();
    if !body.is_object() {
        return Err(ApiError::invalid_form(
            "_root",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ));
    }
    let g = &world.guilds[&guild];
    let mut name = g.name.clone();
    let mut s = g.settings.clone();
    match body.get("name") {
        None | Some(Value::Null) => {}
        Some(Value::String(n)) if (2..=100).contains(&n.chars().count()) => name = n.clone(),
        Some(Value::String(_)) => {
            return Err(ApiError::invalid_form(
                "name",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 2 and 100 in length.",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid_form(
                "name",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        }
    }
    match body.get("description") {
        None => {}
        Some(Value::Null) => s.description = None,
        Some(Value::String(d)) if d.chars().count() <= 300 => {
            s.description = Some(d.clone()).filter(|d| !d.is_empty());
        }
        Some(Value::String(_)) => {
            return Err(ApiError::invalid_form(
                "description",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 300 or fewer in length.",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid_form(
                "description",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        }
    }
    if let Some(v) = choice(&body, "verification_level", &[0, 1, 2, 3, 4])? {
        s.verification_level = v as u8;
    }
    if let Some(v) = choice(&body, "default_message_notifications", &[0, 1])? {
        s.default_message_notifications = v as u8;
    }
    if let Some(v) = choice(&body, "explicit_content_filter", &[0, 1, 2])? {
        s.explicit_content_filter = v as u8;
    }
    if let Some(v) = choice(&body, "afk_timeout", &[60, 300, 900, 1800, 3600])? {
        s.afk_timeout = v as u32;
    }
    if let Some(c) = channel_field(world, guild, &body, "afk_channel_id", GUILD_VOICE)? {
        s.afk_channel_id = c;
    }
    if let Some(c) = channel_field(world, guild, &body, "system_channel_id", GUILD_TEXT)? {
        s.system_channel_id = c;
    }
    if let Some(v) = body.get("system_channel_flags").filter(|v| !v.is_null()) {
        match v.as_i64() {
            Some(n) if (0..=i64::from(i32::MAX)).contains(&n) => s.system_channel_flags = n as u64,
            Some(n) if n < 0 => {
                return Err(ApiError::invalid_form(
                    "system_channel_flags",
                    "NUMBER_TYPE_MIN",
                    "int value should be greater than or equal to 0.",
                ));
            }
            Some(_) => {
                return Err(ApiError::invalid_form(
                    "system_channel_flags",
                    "NUMBER_TYPE_MAX",
                    &format!("int value should be less than or equal to {}.", i32::MAX),
                ));
            }
            None => {
                return Err(ApiError::invalid_form(
                    "system_channel_flags",
                    "NUMBER_TYPE_COERCE",
                    &format!(
                        "Value \"{}\" is not int.",
                        v.as_str().unwrap_or(&v.to_string())
                    ),
                ));
            }
        }
    }
    if let Some(v) = body.get("preferred_locale").filter(|v| !v.is_null()) {
        match v.as_str().filter(|l| LOCALES.contains(l)) {
            Some(locale) => s.preferred_locale = locale.to_owned(),
            None => {
                let list: Vec<String> = LOCALES.iter().map(|l| format!("'{l}'")).collect();
                return Err(ApiError::invalid_form(
                    "preferred_locale",
                    "BASE_TYPE_CHOICES",
                    &format!("Value must be one of {{{}}}.", list.join(", ")),
                ));
            }
        }
    }
    let Some(g) = world.guilds.get_mut(&guild) else {
        return Err(ApiError::unknown("Guild", 10004));
    };
    let changed = g.name != name || g.settings != s;
    g.name = name;
    g.settings = s;
    let json = g.to_json();
    if changed {
        inner.dispatch(
            "GUILD_UPDATE",
            json.clone(),
            Target::Guild(guild),
            opcodes::INTENT_GUILDS,
        );
    }
    Reply::ok(json)
}
