//! Routes: application commands — `GET|PUT|POST /applications/{app}/commands`,
//! `GET|PATCH|DELETE /applications/{app}/commands/{id}` and the same under
//! `/applications/{app}/guilds/{g}/commands`.

use std::collections::HashSet;

use axum::http::Method;
use serde_json::Value;

use super::{ApiError, Reply, Req, id};
use crate::events::SimEvent;
use crate::simulator::Inner;
use crate::world::{Command, World};

/// Discord's cap on commands per scope.
const MAX_COMMANDS: usize = 100;

/// Answers the application command routes.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let ["applications", app, rest @ ..] = req.segs.as_slice() else {
        return None;
    };
    let (guild, tail) = match rest {
        ["commands", tail @ ..] => (None, tail),
        ["guilds", g, "commands", tail @ ..] => (Some(*g), tail),
        _ => return Some(Err(ApiError::not_found())),
    };
    let world = &mut *inner.world();
    let app = match id(app, "Application", 10002) {
        Ok(a) if a == world.application_id => a,
        _ => return Some(Err(ApiError::unknown("Application", 10002))),
    };
    let guild = match guild.map(|g| id(g, "Guild", 10004)).transpose() {
        Ok(Some(g)) if !world.guilds.contains_key(&g) => {
            return Some(Err(ApiError::forbidden("Missing Access", 50001)));
        }
        Ok(g) => g,
        Err(e) => return Some(Err(e)),
    };
    Some(match (req.method, tail) {
        (&Method::GET, []) => Reply::ok(list_json(world, guild, app)),
        (&Method::PUT, []) => overwrite(inner, world, guild, app, req),
        (&Method::POST, []) => upsert(inner, world, guild, app, req),
        (&Method::GET, [cid]) => find(world, guild, cid)
            .map(|c| c.to_json(app))
            .and_then(Reply::ok),
        (&Method::DELETE, [cid]) => match find(world, guild, cid).map(|c| c.id) {
            Ok(cid) => {
                scope_mut(world, guild).retain(|c| c.id != cid);
                Reply::no_content()
            }
            Err(e) => Err(e),
        },
        (&Method::PATCH, [cid]) => match find(world, guild, cid).map(|c| c.id) {
            Ok(cid) => {
                let body = req.body();
                let version = world.ids.next();
                let cmd = scope_mut(world, guild).iter_mut().find(|c| c.id == cid);
                match cmd {
                    Some(cmd) => {
                        if let (Some(dst), Some(src)) = (cmd.body.as_object_mut(), body.as_object())
                        {
                            for (k, v) in src {
                                dst.insert(k.clone(), v.clone());
                            }
                        }
                        cmd.version = version;
                        Reply::ok(cmd.to_json(app))
                    }
                    None => Err(ApiError::unknown("application command", 10063)),
                }
            }
            Err(e) => Err(e),
        },
        (_, [] | [_]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    })
}

fn scope_mut(world: &mut World, guild: Option<u64>) -> &mut Vec<Command> {
    match guild {
        Some(g) => world.guild_commands.entry(g).or_default(),
        None => &mut world.global_commands,
    }
}

fn list_json(world: &World, guild: Option<u64>, app: u64) -> Value {
    let list = match guild {
        Some(g) => world
            .guild_commands
            .get(&g)
            .map(Vec::as_slice)
            .unwrap_or_default(),
        None => world.global_commands.as_slice(),
    };
    Value::Array(list.iter().map(|c| c.to_json(app)).collect())
}

fn find<'w>(world: &'w World, guild: Option<u64>, cid: &str) -> Result<&'w Command, ApiError> {
    let cid = id(cid, "application command", 10063)?;
    let list = match guild {
        Some(g) => world
            .guild_commands
            .get(&g)
            .map(Vec::as_slice)
            .unwrap_or_default(),
        None => world.global_commands.as_slice(),
    };
    list.iter()
        .find(|c| c.id == cid)
        .ok_or_else(|| ApiError::unknown("application command", 10063))
}

/// Validates one command object the way Discord does (names, descriptions, options).
pub(crate) fn validate_command(cmd: &Value, path: &str) -> Result<(), ApiError> {
    let field = |f: &str| {
        if path.is_empty() {
            f.to_owned()
        } else {
            format!("{path}.{f}")
        }
    };
    let kind = cmd.get("type").and_then(Value::as_u64).unwrap_or(1);
    let name = cmd.get("name").and_then(Value::as_str).unwrap_or_default();
    let name_ok = !name.is_empty()
        && name.chars().count() <= 32
        && (kind != 1
            || name
                .chars()
                .all(|c| c == '-' || c == '_' || (c.is_alphanumeric() && !c.is_uppercase())));
    if !name_ok {
        return Err(ApiError::invalid_form(
            &field("name"),
            "APPLICATION_COMMAND_INVALID_NAME",
            "Command name is invalid",
        ));
    }
    if kind == 1 {
        let description = cmd
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let len = description.chars().count();
        if !(1..=100).contains(&len) {
            return Err(ApiError::invalid_form(
                &field("description"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ));
        }
    }
    validate_options(cmd.get("options"), &field("options"))
}

fn validate_options(options: Option<&Value>, path: &str) -> Result<(), ApiError> {
    let Some(options) = options.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let Some(list) = options.as_array() else {
        return Err(ApiError::invalid_form(
            path,
            "BASE_TYPE_LIST",
            "Must be an array.",
        ));
    };
    if list.len() > 25 {
        return Err(ApiError::invalid_form(
            path,
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        ));
    }
    let mut seen_optional = false;
    let mut names = HashSet::new();
    for (i, option) in list.iter().enumerate() {
        let at = format!("{path}.{i}");
        let kind = option.get("type").and_then(Value::as_u64).unwrap_or(0);
        if !(1..=11).contains(&kind) {
            return Err(ApiError::invalid_form(
                &format!("{at}.type"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.",
            ));
        }
        validate_command(
            &serde_json::json!({
                "type": 1,
                "name": option.get("name"),
                "description": option.get("description"),
            }),
            &at,
        )?;
        let name = option
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !names.insert(name.to_owned()) {
            return Err(ApiError::invalid_form(
                &format!("{at}.name"),
                "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
                "Option names must be unique",
            ));
        }
        let required = option
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if required && seen_optional {
            return Err(ApiError::invalid_form(
                &format!("{at}.required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            ));
        }
        seen_optional |= !required;
        if kind <= 2 {
            validate_options(option.get("options"), &format!("{at}.options"))?;
        }
    }
    Ok(())
}

fn overwrite(
    inner: &Inner,
    world: &mut World,
    guild: Option<u64>,
    app: u64,
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
    if list.len() > MAX_COMMANDS {
        return Err(ApiError::bad_request(
            "Maximum number of application commands reached (100)",
            30032,
        ));
    }
    let mut names = HashSet::new();
    for (i, cmd) in list.iter().enumerate() {
        validate_command(cmd, &i.to_string())?;
        let key = (
            cmd.get("type").and_then(Value::as_u64).unwrap_or(1),
            cmd.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        );
        if !names.insert(key) {
            return Err(ApiError::invalid_form(
                &format!("{i}.name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            ));
        }
    }
    let old = std::mem::take(scope_mut(world, guild));
    let mut new = Vec::with_capacity(list.len());
    for cmd in list {
        let name = cmd.get("name").and_then(Value::as_str).unwrap_or_default();
        // Discord keeps the id of a command whose name stays.
        let keep = old.iter().find(|c| c.name() == name).map(|c| c.id);
        new.push(Command {
            id: keep.unwrap_or_else(|| world.ids.next()),
            guild_id: guild,
            version: world.ids.next(),
            body: cmd.clone(),
        });
    }
    let count = new.len();
    *scope_mut(world, guild) = new;
    inner.emit(SimEvent::CommandsOverwritten { guild, count });
    Reply::ok(list_json(world, guild, app))
}

fn upsert(
    inner: &Inner,
    world: &mut World,
    guild: Option<u64>,
    app: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let body = req.body();
    validate_command(&body, "")?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let version = world.ids.next();
    let fresh = world.ids.next();
    let scope = scope_mut(world, guild);
    let (cmd, created) = match scope.iter_mut().find(|c| c.name() == name) {
        Some(c) => {
            c.body = body;
            c.version = version;
            (c.clone(), false)
        }
        None => {
            if scope.len() >= MAX_COMMANDS {
                return Err(ApiError::bad_request(
                    "Maximum number of application commands reached (100)",
                    30032,
                ));
            }
            let c = Command {
                id: fresh,
                guild_id: guild,
                version,
                body,
            };
            scope.push(c.clone());
            (c, true)
        }
    };
    let count = scope.len();
    inner.emit(SimEvent::CommandsOverwritten { guild, count });
    Ok(Reply {
        status: if created { 201 } else { 200 },
        body: Some(cmd.to_json(app)),
    })
}
