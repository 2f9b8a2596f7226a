//! The event hook commands of the seed's `event_hooks` cog: `eh_list`, `eh_history`,
//! `eh_disable`, `eh_enable`, `eh_reset_circuit`, `eh_alert_channel` (bot owners only).
//!
//! A hook is named `plugin/event#index` (see [`crate::runtime::hooks::hook_name`]); `eh_list`
//! shows every name.

use std::time::SystemTime;

use zoryx_plugin_api::{Arg, Embed, Message};

use super::{BuiltinCall, Builtins, alerting};
use crate::alerts::Topic;
use crate::discord::embeds::{colour, embed};
use crate::runtime::hooks::{HookId, hook_name, parse_hook_name};

/// Runs shown by `eh_history` without a count, and at most.
const HISTORY_DEFAULT: i64 = 10;
const HISTORY_MAX: i64 = 50;
/// Embed fields at most (Discord's limit is 25).
const MAX_FIELDS: usize = 24;

pub(super) fn register(builtins: &mut Builtins) {
    let owner =
        |name: &str, description: &str| super::owner_command(name, description, "Event Hooks");
    let hook = || {
        Arg::text("hook")
            .description("The hook, as `eh_list` names it: plugin/event#index")
            .autocomplete()
    };
    builtins
        .add(
            owner(
                "eh_list",
                "Registered framework event hooks with their metrics",
            ),
            |call| Box::pin(list(call)),
        )
        .add(
            owner("eh_history", "The last hook executions").arg(
                Arg::integer("limit")
                    .description("How many (at most 50)")
                    .range(1, HISTORY_MAX)
                    .optional(),
            ),
            |call| Box::pin(history(call)),
        )
        .add(
            owner("eh_disable", "Disable a hook (kept across restarts)").arg(hook()),
            |call| Box::pin(set_disabled(call, true)),
        )
        .add(
            owner("eh_enable", "Enable a disabled hook").arg(hook()),
            |call| Box::pin(set_disabled(call, false)),
        )
        .add(
            owner("eh_reset_circuit", "Close a hook's circuit breaker now").arg(hook()),
            |call| Box::pin(reset(call)),
        )
        .add(
            alerting::spec("eh_alert_channel", "Event Hooks", "event hook"),
            |call| Box::pin(alerting::set(call, Topic::Hooks)),
        );
}

/// Hook names containing `typed`, those starting with it first (at most 25).
pub(crate) fn suggest_hooks(
    typed: &str,
    manager: &crate::manager::Manager,
) -> Vec<zoryx_plugin_api::Choice> {
    let table = manager.table();
    let names = table
        .all_hooks()
        .iter()
        .map(|(event, route)| hook_name(&hook_id(event, route)))
        .collect::<Vec<_>>();
    super::suggestions(names, typed)
}

/// Why a hook name was not taken.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HookLookupError {
    /// Not of the form `plugin/event#index`.
    #[error("`{0}`: hooks are named `plugin/event#index`; `eh_list` shows them.")]
    NotAName(String),
    /// No loaded plugin registered it.
    #[error("No loaded plugin registered `{0}`; `eh_list` shows the hooks.")]
    NotFound(String),
}

/// Every hook the loaded plugins registered, with its event and priority, by event.
pub(crate) fn registered(manager: &crate::manager::Manager) -> Vec<(HookId, i32)> {
    manager
        .table()
        .all_hooks()
        .iter()
        .map(|(event, route)| (hook_id(event, route), route.priority))
        .collect()
}

/// The registered hook named `text` (`plugin/event#index`): what `eh_disable`, `eh_enable`
/// and `eh_reset_circuit` (and the dashboard's Hooks page) act on.
pub(crate) fn find_hook(
    manager: &crate::manager::Manager,
    text: &str,
) -> Result<HookId, HookLookupError> {
    let id = parse_hook_name(text).ok_or_else(|| HookLookupError::NotAName(text.to_owned()))?;
    if registered(manager).iter().any(|(hook, _)| *hook == id) {
        Ok(id)
    } else {
        Err(HookLookupError::NotFound(hook_name(&id)))
    }
}

/// The hook named by the `hook` argument, if a loaded plugin registered it.
fn named_hook(call: &BuiltinCall) -> Result<Result<HookId, Message>, String> {
    let text: String = call.args.get("hook").map_err(|e| e.to_string())?;
    Ok(find_hook(call.manager(), &text).map_err(|error| {
        let title = match error {
            HookLookupError::NotAName(_) => "❌ Not a hook name",
            HookLookupError::NotFound(_) => "❌ Hook not found",
        };
        embed(colour::ERROR, title, error.to_string()).ephemeral()
    }))
}

fn hook_id(event: &str, route: &crate::runtime::table::HookRoute) -> HookId {
    (
        route.route.generation.name.clone(),
        event.to_owned(),
        route.route.index,
    )
}

async fn list(call: BuiltinCall) -> Result<Message, String> {
    let dispatcher = call.manager().dispatcher();
    let health = dispatcher.hook_health();
    let table = call.manager().table();
    let hooks = table.all_hooks();
    let mut out = Embed::new()
        .title("🪝 Framework Event Hooks")
        .colour(colour::INFO);
    if hooks.is_empty() {
        out = out.description("No hooks registered. Plugins register them with `Registrar::hook`.");
    } else {
        out = out.description("Registered hooks by event: runs, failures, mean time.");
    }
    let (mut runs, mut failures, mut fields) = (0_u64, 0_u64, 0_usize);
    let mut events: Vec<(&str, Vec<String>)> = Vec::new();
    for (event, route) in &hooks {
        let id = hook_id(event, route);
        let stats = health.stats_of(&id);
        runs += stats.successes + stats.failures;
        failures += stats.failures;
        let mark = if health.is_disabled(&id) {
            "🔴 "
        } else if stats.circuit_open {
            "⚠️ "
        } else {
            ""
        };
        let line = format!(
            "{mark}{} (p:{} | exec:{} | fail:{} | skip:{} | avg:{:.1}ms)",
            hook_name(&id),
            route.priority,
            stats.successes + stats.failures,
            stats.failures,
            stats.skipped,
            stats.mean_ms
        );
        match events.last_mut() {
            Some((last, lines)) if last == event => lines.push(line),
            _ => events.push((event, vec![line])),
        }
    }
    for (event, lines) in events {
        if fields == MAX_FIELDS {
            out = out.field("…", "More events than one embed shows.", false);
            break;
        }
        out = out.field(
            format!("📌 {event}"),
            format!("```{}```", lines.join("\n")),
            false,
        );
        fields += 1;
    }
    let on = if dispatcher.hooks_enabled() {
        "on"
    } else {
        "**off** (framework.enable_event_hooks or load_cogs)"
    };
    let alerts = dispatcher
        .alerts()
        .channel(Topic::Hooks)
        .map_or("none (`eh_alert_channel`)".to_owned(), |c| {
            format!("<#{}>", c.0)
        });
    out = out
        .field(
            "📊 Metrics",
            format!(
                "```Total hooks: {}\nExecutions: {runs}\nFailures: {failures}```",
                hooks.len()
            ),
            false,
        )
        .field("Hooks", on, true)
        .field("Alerts", alerts, true)
        .footer("🔴 Disabled | ⚠️ Circuit breaker open");
    Ok(Message::new().embed(out))
}

async fn history(call: BuiltinCall) -> Result<Message, String> {
    let limit: Option<i64> = call.args.get("limit").map_err(|e| e.to_string())?;
    let limit = limit.unwrap_or(HISTORY_DEFAULT).clamp(1, HISTORY_MAX);
    let runs = call.manager().dispatcher().hook_health().history();
    let mut out = Embed::new()
        .title("📜 Hook Execution History")
        .colour(colour::INFO);
    if runs.is_empty() {
        return Ok(Message::new().embed(out.description("No hook has run yet.")));
    }
    let shown: Vec<_> = runs.iter().rev().take(limit as usize).collect();
    out = out.description(format!(
        "The last {} hook executions, newest first.",
        shown.len()
    ));
    let lines: Vec<String> = shown
        .iter()
        .map(|run| {
            let ago = SystemTime::now()
                .duration_since(run.at)
                .map_or(0, |d| d.as_secs());
            match &run.error {
                None => format!(
                    "✅ {} {:.1}ms, {ago}s ago",
                    hook_name(&run.hook),
                    run.millis
                ),
                Some(error) => format!(
                    "❌ {} {:.1}ms, {ago}s ago: {}",
                    hook_name(&run.hook),
                    run.millis,
                    crate::discord::convert::clip(error, 120)
                ),
            }
        })
        .collect();
    // One field holds 1,024 characters: the lines in as many fields as they need.
    let mut field = String::new();
    let mut fields = 0;
    for line in lines {
        if field.len() + line.len() + 1 > 1000 {
            out = out.field(if fields == 0 { "Runs" } else { "…" }, field.clone(), false);
            fields += 1;
            field.clear();
        }
        field.push_str(&line);
        field.push('\n');
    }
    if !field.is_empty() {
        out = out.field(if fields == 0 { "Runs" } else { "…" }, field, false);
    }
    Ok(Message::new().embed(out))
}

async fn set_disabled(call: BuiltinCall, disabled: bool) -> Result<Message, String> {
    let id = match named_hook(&call)? {
        Ok(id) => id,
        Err(refusal) => return Ok(refusal),
    };
    let health = call.manager().dispatcher().hook_health();
    let changed = health
        .set_disabled(&id, disabled)
        .map_err(|e| e.to_string())?;
    let name = hook_name(&id);
    tracing::info!(
        user = call.author.id.0,
        hook = name,
        disabled,
        "owner command: hook switched"
    );
    Ok(match (disabled, changed) {
        (true, true) => embed(
            colour::SUCCESS,
            "✅ Hook disabled",
            format!("`{name}` is skipped until `eh_enable`."),
        ),
        (true, false) => embed(
            colour::WARNING,
            "Already disabled",
            format!("`{name}` was disabled already."),
        ),
        (false, true) => embed(
            colour::SUCCESS,
            "✅ Hook enabled",
            format!("`{name}` runs again."),
        ),
        (false, false) => embed(
            colour::WARNING,
            "Not disabled",
            format!("`{name}` was not disabled."),
        ),
    }
    .ephemeral())
}

async fn reset(call: BuiltinCall) -> Result<Message, String> {
    let id = match named_hook(&call)? {
        Ok(id) => id,
        Err(refusal) => return Ok(refusal),
    };
    let was_open = call.manager().dispatcher().hook_health().reset(&id);
    let name = hook_name(&id);
    tracing::info!(
        user = call.author.id.0,
        hook = name,
        was_open,
        "owner command: circuit reset"
    );
    Ok(if was_open {
        embed(
            colour::SUCCESS,
            "✅ Circuit reset",
            format!("`{name}` runs again from its next event."),
        )
    } else {
        embed(
            colour::SUCCESS,
            "✅ Circuit reset",
            format!("`{name}`'s circuit was closed; its failure count is cleared."),
        )
    }
    .ephemeral())
}
