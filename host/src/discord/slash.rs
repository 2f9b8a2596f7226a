//! Slash command registration: the built-ins' and loaded plugins' Slash/Hybrid commands,
//! registered by one bulk overwrite (globally or to the test guild), again whenever plugins
//! change, after a quiet period and only when the command set actually changed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use zoryx_plugin_api::{Arg, ArgKind, CommandKind, CommandSpec};

use super::convert::clip;
use super::pipeline::Bot;
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

/// Whether Discord accepts `name` as a command or option name (lowercase, 1-32 of letters,
/// digits, `-` and `_`).
fn valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=32).contains(&count)
        && name
            .chars()
            .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
        && name.to_lowercase() == name
}

fn description(text: &str, fallback: &str) -> String {
    let text = text.trim();
    clip(if text.is_empty() { fallback } else { text }, 100)
}

fn option(arg: &Arg) -> Value {
    json!({
        "type": option_type(arg.kind),
        "name": arg.name,
        "description": description(&arg.description, &arg.name),
        "required": arg.required,
    })
}

/// One command's JSON, or `None` when Discord would refuse its names.
pub fn command_json(spec: &CommandSpec) -> Option<Value> {
    if !valid_name(&spec.name) || !spec.args.iter().all(|a| valid_name(&a.name)) {
        return None;
    }
    // Discord demands required options before optional ones.
    let mut args: Vec<&Arg> = spec.args.iter().collect();
    args.sort_by_key(|a| !a.required);
    let options: Vec<Value> = args.into_iter().take(25).map(option).collect();
    Some(json!({
        "type": 1,
        "name": spec.name,
        "description": description(&spec.description, &spec.name),
        "options": options,
    }))
}

fn is_slash(spec: &CommandSpec) -> bool {
    matches!(spec.kind, CommandKind::Slash | CommandKind::Hybrid)
}

/// The command set to register: built-ins first, then plugins by name in declaration order;
/// plugin commands shadowed by a built-in are left out, and the slash limiter applies.
pub(crate) fn command_set(bot: &Bot) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut push = |spec: &CommandSpec, owner: &str| {
        if !is_slash(spec) || names.contains(&spec.name) {
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
                "not registered as a slash command: Discord needs lowercase names of 1-32 letters, digits, - or _"
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
    let limits = bot.options.slash_limits;
    if limits.enabled {
        let count = out.len() as u32;
        if count > limits.safe_limit {
            let dropped: Vec<String> = out
                .drain(limits.safe_limit as usize..)
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect();
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
    // Discord's hard limit.
    out.truncate(100);
    out
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
}
