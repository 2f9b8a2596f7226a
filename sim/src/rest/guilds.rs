//! Routes under `/guilds/{id}`: the guild, its roles (read, create, edit, delete, reorder),
//! channels (list, create), members (get, list; edits, kicks and bans in [`super::members`]),
//! member roles (add, remove) and emojis (list).

use axum::http::Method;
use serde_json::{Value, json};

use super::{ApiError, Reply, Req, channels, id, members, snowflake};
use crate::gateway::{Target, opcodes};
use crate::simulator::Inner;
use crate::world::channel::{GUILD_CATEGORY, GUILD_TEXT};
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
        (&Method::GET, ["emojis"]) => Reply::ok(Value::Array(world.guilds[&guild].emojis_json())),
        (&Method::GET, ["emojis", eid]) => match id(eid, "Emoji", 10014)
            .ok()
            .and_then(|e| world.guilds[&guild].emojis.get(&e))
        {
            Some(e) => Reply::ok(e.to_json(None)),
            None => Err(ApiError::unknown("Emoji", 10014)),
        },
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
    let g = world
        .guilds
        .get_mut(&guild)
        .ok_or_else(|| ApiError::unknown("Guild", 10004))?;
    g.roles
        .remove(&role)
        .ok_or_else(|| ApiError::unknown("Role", 10011))?;
    for member in g.members.values_mut() {
        member.roles.retain(|r| *r != role);
    }
    inner.dispatch(
        "GUILD_ROLE_DELETE",
        json!({"guild_id": guild.to_string(), "role_id": role.to_string()}),
        Target::Guild(guild),
        opcodes::INTENT_GUILDS,
    );
    Reply::no_content()
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
