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

/// Validates one command object the way Discord does: names, descriptions, options (their
/// choices, ranges, lengths, channel types, autocomplete, subcommand structure), default
/// member permissions and contexts; context menu commands (types 2 and 3) take a name of 1–32
/// characters of any case and no description or options.
pub(crate) fn validate_command(cmd: &Value, path: &str) -> Result<(), ApiError> {
    let field = |f: &str| {
        if path.is_empty() {
            f.to_owned()
        } else {
            format!("{path}.{f}")
        }
    };
    let kind = cmd.get("type").and_then(Value::as_u64).unwrap_or(1);
    if !(1..=3).contains(&kind) {
        return Err(ApiError::invalid_form(
            &field("type"),
            "BASE_TYPE_CHOICES",
            "Value must be one of {1, 2, 3, 4}.",
        ));
    }
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
    let description = cmd
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind == 1 {
        let len = description.chars().count();
        if !(1..=100).contains(&len) {
            return Err(ApiError::invalid_form(
                &field("description"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ));
        }
    } else {
        if !description.is_empty() {
            return Err(ApiError::invalid_form(
                &field("description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have description",
            ));
        }
        if cmd
            .get("options")
            .and_then(Value::as_array)
            .is_some_and(|o| !o.is_empty())
        {
            return Err(ApiError::invalid_form(
                &field("options"),
                "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
                "Context menu commands cannot have options",
            ));
        }
    }
    match cmd.get("default_member_permissions") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_u64().is_some() => {}
        Some(Value::String(s)) if s.parse::<u64>().is_ok() => {}
        Some(_) => {
            return Err(ApiError::invalid_form(
                &field("default_member_permissions"),
                "BASE_TYPE_NUMBER",
                "Value \"default_member_permissions\" is not int.",
            ));
        }
    }
    match cmd.get("contexts") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list))
            if !list.is_empty() && list.iter().all(|c| c.as_u64().is_some_and(|c| c <= 2)) => {}
        Some(_) => {
            return Err(ApiError::invalid_form(
                &field("contexts"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {0, 1, 2}.",
            ));
        }
    }
    if kind == 1 {
        validate_options(cmd.get("options"), &field("options"), 0)?;
    }
    Ok(())
}

fn invalid(at: &str, key: &str, code: &str, message: &str) -> ApiError {
    ApiError::invalid_form(&format!("{at}.{key}"), code, message)
}

/// One option's rules: choices only on string, integer and number options (at most 25, names
/// of 1–100 characters, values of the option's type, strings of at most 100), ranges only on
/// numbers, lengths only on strings (0–6000, 1–6000), channel types only on channels,
/// autocomplete only on the three choice types and never with choices.
fn validate_rules(option: &Value, kind: u64, at: &str) -> Result<(), ApiError> {
    let has = |key: &str| option.get(key).is_some_and(|v| !v.is_null());
    let choice_kind = matches!(kind, 3 | 4 | 10);
    if let Some(choices) = option.get("choices").filter(|c| !c.is_null()) {
        let list = choices
            .as_array()
            .ok_or_else(|| invalid(at, "choices", "BASE_TYPE_LIST", "Must be an array."))?;
        if !choice_kind && !list.is_empty() {
            return Err(invalid(
                at,
                "choices",
                "APPLICATION_COMMAND_OPTION_CHOICES_INVALID",
                "Choices are only valid for string, integer and number options",
            ));
        }
        if list.len() > 25 {
            return Err(invalid(
                at,
                "choices",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            ));
        }
        for (i, choice) in list.iter().enumerate() {
            let here = format!("{at}.choices.{i}");
            let name = choice
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !(1..=100).contains(&name.chars().count()) {
                return Err(invalid(
                    &here,
                    "name",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                ));
            }
            let value = choice.get("value").unwrap_or(&Value::Null);
            let fits = match kind {
                3 => value.as_str().is_some_and(|s| s.chars().count() <= 100),
                4 => value.as_i64().is_some(),
                _ => value.as_f64().is_some(),
            };
            if !fits {
                return Err(invalid(
                    &here,
                    "value",
                    "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_INVALID",
                    "Choice value does not match the option type",
                ));
            }
        }
        if !list.is_empty() && option.get("autocomplete").and_then(Value::as_bool) == Some(true) {
            return Err(invalid(
                at,
                "autocomplete",
                "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                "Autocomplete cannot be set on options with choices",
            ));
        }
    }
    if option.get("autocomplete").and_then(Value::as_bool) == Some(true) && !choice_kind {
        return Err(invalid(
            at,
            "autocomplete",
            "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
            "Autocomplete is only valid for string, integer and number options",
        ));
    }
    for key in ["min_value", "max_value"] {
        if has(key) {
            let number = option.get(key).and_then(Value::as_f64);
            let whole = kind != 4 || option.get(key).and_then(Value::as_i64).is_some();
            if !matches!(kind, 4 | 10) || number.is_none() || !whole {
                return Err(invalid(
                    at,
                    key,
                    "APPLICATION_COMMAND_OPTION_RANGE_INVALID",
                    "Ranges are only valid for integer and number options",
                ));
            }
        }
    }
    if let (Some(min), Some(max)) = (
        option.get("min_value").and_then(Value::as_f64),
        option.get("max_value").and_then(Value::as_f64),
    ) && min > max
    {
        return Err(invalid(
            at,
            "min_value",
            "APPLICATION_COMMAND_OPTION_RANGE_INVALID",
            "min_value must be less than or equal to max_value",
        ));
    }
    for (key, min) in [("min_length", 0), ("max_length", 1)] {
        if has(key) {
            if kind != 3 {
                return Err(invalid(
                    at,
                    key,
                    "APPLICATION_COMMAND_OPTION_LENGTH_INVALID",
                    "Lengths are only valid for string options",
                ));
            }
            if !option
                .get(key)
                .and_then(Value::as_u64)
                .is_some_and(|n| (min..=6000).contains(&n))
            {
                return Err(invalid(
                    at,
                    key,
                    "NUMBER_TYPE_MAX",
                    &format!("int value should be between {min} and 6000."),
                ));
            }
        }
    }
    // An empty list (serenity sends one on every option) is no channel types at all.
    let channel_types = option.get("channel_types").and_then(Value::as_array);
    if has("channel_types") && channel_types.is_none_or(|l| !l.is_empty()) {
        let ok = kind == 7 && channel_types.is_some_and(|l| l.iter().all(|t| t.as_u64().is_some()));
        if !ok {
            return Err(invalid(
                at,
                "channel_types",
                "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID",
                "Channel types are only valid for channel options",
            ));
        }
    }
    Ok(())
}

/// The options of a command (`depth` 0), of a subcommand group (1) or of a subcommand (2 at
/// most): subcommands and groups never beside other options, groups only at the top, holding
/// only subcommands, subcommands holding no subcommands.
fn validate_options(options: Option<&Value>, path: &str, depth: u8) -> Result<(), ApiError> {
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
    let nested = |o: &Value| matches!(o.get("type").and_then(Value::as_u64), Some(1 | 2));
    if list.iter().any(nested) && !list.iter().all(nested) {
        return Err(ApiError::invalid_form(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
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
        let misplaced = match kind {
            2 => depth > 0,
            1 => depth > 1,
            _ => false,
        };
        if misplaced {
            return Err(ApiError::invalid_form(
                &format!("{at}.type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-command groups hold only sub-commands, and sub-commands nest no deeper",
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
        match kind {
            2 => {
                let inner = option.get("options").and_then(Value::as_array);
                if inner.is_some_and(|l| {
                    l.iter()
                        .any(|o| o.get("type").and_then(Value::as_u64) != Some(1))
                }) {
                    return Err(ApiError::invalid_form(
                        &format!("{at}.options"),
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                        "Sub-command groups hold only sub-commands",
                    ));
                }
                validate_options(option.get("options"), &format!("{at}.options"), 1)?;
            }
            1 => validate_options(option.get("options"), &format!("{at}.options"), 2)?,
            _ => validate_rules(option, kind, &at)?,
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
