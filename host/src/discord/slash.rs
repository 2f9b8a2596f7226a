//! Slash command registration: the built-ins' and loaded plugins' Slash/Hybrid commands,
//! registered by one bulk overwrite (globally or to the test guild), again whenever plugins
//! change, after a quiet period and only when the command set actually changed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use zoryx_plugin_api::{
    Arg, ArgKind, ChoiceValue, CommandKind, CommandSpec, ContextMenu, Number, Permission,
};

use super::bot::Bot;
use super::convert::clip;
use crate::manager::ManagerEvent;

/// Discord's application command option types.
fn option_type(kind: ArgKind) -> u8 {
    match kind {
        ArgKind::Text | ArgKind::Rest => 3,
        ArgKind::Integer => 4,
        ArgKind::Bool => 5,
        ArgKind::User | ArgKind::Member => 6,
        ArgKind::Channel => 7,
        ArgKind::Role => 8,
        ArgKind::Float => 10,
    }
}

fn description(text: &str, fallback: &str) -> String {
    let text = text.trim();
    clip(if text.is_empty() { fallback } else { text }, 100)
}

fn number(value: Number) -> Value {
    match value {
        Number::Integer(i) => json!(i),
        Number::Float(f) => json!(f),
    }
}

fn option(arg: &Arg) -> Value {
    let mut option = json!({
        "type": if arg.attachment { 11 } else { option_type(arg.kind) },
        "name": arg.name,
        "description": description(&arg.description, &arg.name),
        "required": arg.required,
    });
    if !arg.choices.is_empty() {
        let choices: Vec<Value> = arg
            .choices
            .iter()
            .map(|c| {
                let value = match &c.value {
                    ChoiceValue::Text(t) => json!(t),
                    ChoiceValue::Integer(i) => json!(i),
                    ChoiceValue::Float(f) => json!(f),
                };
                json!({"name": c.name, "value": value})
            })
            .collect();
        option["choices"] = Value::Array(choices);
    }
    if let Some(min) = arg.min {
        option["min_value"] = number(min);
    }
    if let Some(max) = arg.max {
        option["max_value"] = number(max);
    }
    if let Some(min) = arg.min_length {
        option["min_length"] = json!(min);
    }
    if let Some(max) = arg.max_length {
        option["max_length"] = json!(max);
    }
    if !arg.channel_types.is_empty() {
        let mut kinds: Vec<u8> = arg.channel_types.iter().map(|k| k.code()).collect();
        kinds.dedup();
        option["channel_types"] = json!(kinds);
    }
    if arg.autocomplete {
        option["autocomplete"] = json!(true);
    }
    option
}

/// The options of a command or subcommand: its arguments (required ones first, as Discord
/// demands), or its subcommands (type 1) and groups (type 2).
fn options(spec: &CommandSpec) -> Vec<Value> {
    if !spec.subcommands.is_empty() {
        return spec
            .subcommands
            .iter()
            .map(|sub| {
                json!({
                    "type": if sub.subcommands.is_empty() { 1 } else { 2 },
                    "name": sub.name,
                    "description": description(&sub.description, &sub.name),
                    "options": options(sub),
                })
            })
            .collect();
    }
    let mut args: Vec<&Arg> = spec.args.iter().collect();
    args.sort_by_key(|a| !a.required);
    args.into_iter().map(option).collect()
}

/// One command's JSON, or `None` when Discord would refuse it (see [`CommandSpec::check`]).
pub fn command_json(spec: &CommandSpec) -> Option<Value> {
    if spec.check().is_err() {
        return None;
    }
    let mut json = json!({
        "type": 1,
        "name": spec.name,
        "description": description(&spec.description, &spec.name),
        "options": options(spec),
    });
    // A command for the bot owners alone (which no role can be granted) is hidden from members:
    // `0` offers it to server administrators only, unless the command sets its own.
    let defaults = spec.default_permissions.or_else(|| {
        (spec.permission == Permission::Owner).then_some(zoryx_plugin_api::Permissions(0))
    });
    permissions_json(&mut json, defaults, spec.dm);
    Some(json)
}

/// `default_member_permissions` (the bit set, as the OpenAPI spec types it) and `contexts`
/// (guilds only when DMs are not allowed).
fn permissions_json(
    json: &mut Value,
    permissions: Option<zoryx_plugin_api::Permissions>,
    dm: bool,
) {
    if let Some(permissions) = permissions {
        json["default_member_permissions"] = json!(permissions.0);
    }
    if !dm {
        json["contexts"] = json!([0]);
    }
}

/// A context menu command's JSON (type 2 on users, 3 on messages), or `None` when Discord
/// would refuse its name.
pub fn menu_json(menu: &ContextMenu) -> Option<Value> {
    menu.check().ok()?;
    let mut json = json!({"type": menu.kind.code(), "name": menu.name});
    permissions_json(&mut json, menu.default_permissions, menu.dm);
    Some(json)
}

fn is_slash(spec: &CommandSpec) -> bool {
    matches!(spec.kind, CommandKind::Slash | CommandKind::Hybrid)
}

/// What would be registered now, and what the limits leave prefix-only.
pub(crate) struct SlashPlan {
    /// The commands to register, as Discord takes them.
    pub(crate) commands: Vec<Value>,
    /// Slash and hybrid commands past the safe limit (or `max_limit`): prefix-only.
    pub(crate) prefix_only: Vec<String>,
    /// How many the bot wanted to register.
    pub(crate) wanted: usize,
}

/// The command set to register: built-ins first, then plugins by name in declaration order;
/// plugin commands shadowed by a built-in are left out, and the slash limiter applies.
pub(crate) fn command_set(bot: &Bot) -> Vec<Value> {
    plan(bot).commands
}

/// [`command_set`] with what the limits left out (`slashlimit` shows it).
pub(crate) fn plan(bot: &Bot) -> SlashPlan {
    let mut out: Vec<Value> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut push = |spec: &CommandSpec, owner: &str| {
        // Subcommands (`config set`) are registered within their command.
        if !is_slash(spec) || spec.name.contains(' ') || names.contains(&spec.name) {
            return;
        }
        match command_json(spec) {
            Some(json) => {
                names.push(spec.name.clone());
                out.push(json);
            }
            None => tracing::warn!(
                command = spec.name,
                owner,
                problem = spec.check().err().map(|e| e.to_string()),
                "not registered as a slash command: Discord would refuse it"
            ),
        }
    };
    for builtin in bot.builtins.iter() {
        push(&builtin.spec, "built-in");
    }
    let table = bot.manager.table();
    for (plugin, generation) in &table.plugins {
        for spec in &generation.description.commands {
            if bot.builtins.get(&spec.name).is_some() {
                continue;
            }
            push(spec, plugin);
        }
    }
    // Context menu commands: a name per kind, 5 of each per application on Discord.
    let mut menus: Vec<(u8, String)> = Vec::new();
    for (plugin, generation) in &table.plugins {
        for menu in &generation.description.extras.context_menus {
            let key = (menu.kind.code(), menu.name.clone());
            if menus.contains(&key) {
                continue;
            }
            let same_kind = menus.iter().filter(|(k, _)| *k == key.0).count();
            if same_kind >= 5 {
                tracing::warn!(
                    plugin,
                    menu = menu.name,
                    "not registered: Discord allows 5 context menu commands of a kind"
                );
                continue;
            }
            if let Some(json) = menu_json(menu) {
                menus.push(key);
                out.push(json);
            }
        }
    }
    let limits = bot.options.slash_limits;
    let wanted = out.len();
    let mut prefix_only = Vec::new();
    if limits.enabled {
        let count = out.len() as u32;
        if count > limits.safe_limit {
            let dropped: Vec<String> = out
                .drain(limits.safe_limit as usize..)
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect();
            prefix_only.extend(dropped.iter().cloned());
            tracing::warn!(
                limit = limits.safe_limit,
                prefix_only = ?dropped,
                "slash command limit reached: these commands stay prefix-only"
            );
        } else if count >= limits.warning_threshold {
            tracing::warn!(
                count,
                threshold = limits.warning_threshold,
                safe_limit = limits.safe_limit,
                "approaching the slash command limit"
            );
        }
    }
    // `max_limit`, and Discord's hard limit.
    let max = (limits.max_limit.min(100)) as usize;
    if out.len() > max {
        prefix_only.extend(
            out.drain(max..)
                .filter_map(|c| c["name"].as_str().map(str::to_owned)),
        );
    }
    SlashPlan {
        commands: out,
        prefix_only,
        wanted,
    }
}

/// Registers `commands` by bulk overwrite; returns how many Discord accepted.
pub(crate) async fn register(
    bot: &Bot,
    commands: &[Value],
) -> Result<usize, super::rest::RestError> {
    let application = bot.application_id.load(Ordering::Relaxed);
    let path = match bot.options.test_guild_id {
        Some(guild) => format!("/applications/{application}/guilds/{guild}/commands"),
        None => format!("/applications/{application}/commands"),
    };
    let answer = bot
        .rest
        .put(&path, &Value::Array(commands.to_vec()))
        .await?;
    Ok(answer.as_array().map_or(commands.len(), Vec::len))
}

/// Warns about plugin commands a built-in shadows.
fn warn_shadowed(bot: &Bot, plugin: &str) {
    let table = bot.manager.table();
    let Some(generation) = table.plugins.get(plugin) else {
        return;
    };
    let names =
        generation.description.commands.iter().flat_map(|c| {
            std::iter::once(c.name.as_str()).chain(c.aliases.iter().map(String::as_str))
        });
    let shadowed = bot.builtins.shadowed(names);
    if !shadowed.is_empty() {
        tracing::warn!(
            plugin,
            commands = ?shadowed,
            "these plugin commands are shadowed by built-in commands of the same name and never run"
        );
    }
}

/// Re-registers on READY and on plugin changes, debounced, only when the set changed.
pub(crate) async fn run_registrar(bot: Arc<Bot>) {
    let mut events = bot.manager.subscribe();
    let mut last: Option<Vec<Value>> = None;
    loop {
        tokio::select! {
            () = bot.slash_wake.notified() => {}
            event = events.recv() => match event {
                Ok(ManagerEvent::Loaded { name, .. }) => warn_shadowed(&bot, &name),
                Ok(ManagerEvent::Reloaded(r)) => warn_shadowed(&bot, &r.name),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
        // Wait for a quiet period so a burst of changes is one registration.
        loop {
            match tokio::time::timeout(bot.options.slash_debounce, events.recv()).await {
                Err(_) => break,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return,
                Ok(Ok(ManagerEvent::Loaded { name, .. })) => warn_shadowed(&bot, &name),
                Ok(Ok(ManagerEvent::Reloaded(r))) => warn_shadowed(&bot, &r.name),
                Ok(_) => {}
            }
        }
        if bot.application_id.load(Ordering::Relaxed) == 0 {
            continue; // Not connected yet; READY wakes us again.
        }
        let commands = command_set(&bot);
        if last.as_ref() == Some(&commands) {
            continue;
        }
        match register(&bot, &commands).await {
            Ok(count) => {
                tracing::info!(count, guild = ?bot.options.test_guild_id, "slash commands registered");
                bot.counters
                    .slash_registered
                    .store(count as u64, Ordering::Relaxed);
                last = Some(commands);
            }
            Err(error) => tracing::warn!(%error, "slash command registration failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_options_come_first_and_bad_names_are_skipped() {
        let spec = CommandSpec::new("give")
            .arg(Arg::text("note").optional())
            .arg(Arg::integer("amount"))
            .arg(Arg::member("to"));
        let json = command_json(&spec).expect("valid");
        let names: Vec<&str> = json["options"]
            .as_array()
            .expect("options")
            .iter()
            .map(|o| o["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["amount", "to", "note"]);
        assert_eq!(json["options"][1]["type"], 6);
        assert!(command_json(&CommandSpec::new("Bad Name")).is_none());
    }

    #[test]
    fn rules_subcommands_and_permissions_take_discords_shape() {
        use zoryx_plugin_api::{ChannelKind, Permissions};
        let spec = CommandSpec::new("config")
            .description("Settings")
            .default_permissions(Permissions::MANAGE_GUILD)
            .dm(false)
            .subcommand(
                CommandSpec::new("set")
                    .arg(Arg::text("key").choices(["colour", "size"]))
                    .arg(Arg::integer("n").range(1, 10).optional())
                    .arg(Arg::text("note").length(2, 50).optional()),
            )
            .subcommand(
                CommandSpec::new("role").subcommand(
                    CommandSpec::new("add")
                        .arg(Arg::channel("where").channel_types([ChannelKind::Text])),
                ),
            );
        let json = command_json(&spec).expect("valid");
        assert_eq!(json["default_member_permissions"], 32);
        // The bot owners' commands are offered to server administrators only; a command's own
        // default permissions win.
        let owners = CommandSpec::new("deploy").permission(Permission::Owner);
        let hidden = command_json(&owners).expect("valid");
        assert_eq!(hidden["default_member_permissions"], 0);
        let own =
            command_json(&owners.default_permissions(Permissions::MANAGE_GUILD)).expect("valid");
        assert_eq!(own["default_member_permissions"], 32);
        let everyone = command_json(&CommandSpec::new("hi")).expect("valid");
        assert!(everyone.get("default_member_permissions").is_none());
        assert_eq!(json["contexts"], json!([0]));
        let set = &json["options"][0];
        assert_eq!(set["type"], 1);
        assert_eq!(
            set["options"][0]["choices"][1],
            json!({"name": "size", "value": "size"})
        );
        assert_eq!(
            (
                set["options"][1]["min_value"].clone(),
                set["options"][1]["max_value"].clone()
            ),
            (json!(1), json!(10))
        );
        assert_eq!(set["options"][2]["min_length"], 2);
        let role = &json["options"][1];
        assert_eq!(role["type"], 2);
        assert_eq!(
            role["options"][0]["options"][0]["channel_types"],
            json!([0])
        );
    }
}
