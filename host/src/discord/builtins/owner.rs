//! Owner-only plugin management: `load`, `unload`, `reload` (prefix and slash, the slash forms
//! suggesting plugin names as they are typed), `sync`, `slashlimit`.

use zoryx_plugin_api::{Arg, CommandKind, Embed, Message};

use super::{BuiltinCall, Builtins};
use crate::discord::embeds::{colour, embed};

pub(super) fn register(builtins: &mut Builtins) {
    let owner = |name: &str, description: &str| super::owner_command(name, description, "Owner");
    let plugin = || {
        Arg::text("name")
            .description("The extension's name")
            .autocomplete()
    };
    builtins
        .add(
            owner(
                "load",
                "Load an extension (--isolated: in a worker process of its own)",
            )
            .arg(plugin())
            .arg(
                Arg::text("flag")
                    .description("--isolated: in a worker process")
                    .optional(),
            ),
            |call| Box::pin(load(call)),
        )
        .add(
            owner(
                "unload",
                "Unload an extension (--force: with its dependents)",
            )
            .arg(plugin())
            .arg(
                Arg::text("flag")
                    .description("--force: with the extensions that depend on it")
                    .optional(),
            ),
            |call| Box::pin(unload(call)),
        )
        .add(
            owner("reload", "Reload an extension").arg(plugin()),
            |call| Box::pin(reload(call)),
        )
        .add(
            owner("sync", "Register the slash commands with Discord now"),
            |call| Box::pin(sync(call)),
        )
        .add(
            owner(
                "slashlimit",
                "Slash commands registered against the limits, and which stay prefix-only",
            )
            .kind(CommandKind::Prefix),
            |call| Box::pin(slash_limit(call)),
        );
}

fn name(call: &BuiltinCall) -> Result<String, String> {
    call.args.get("name").map_err(|e| e.to_string())
}

async fn load(call: BuiltinCall) -> Result<Message, String> {
    let target = name(&call)?;
    let flag: Option<String> = call.args.get("flag").map_err(|e| e.to_string())?;
    let isolated = match flag.as_deref() {
        None => false,
        Some("--isolated" | "isolated") => true,
        Some(other) => {
            return Ok(embed(
                colour::ERROR,
                "❌ Unknown option",
                format!("`{other}`: the only option is `--isolated`."),
            ));
        }
    };
    tracing::info!(
        user = call.author.id.0,
        target,
        isolated,
        "owner command: load"
    );
    let manager = call.manager();
    Ok(match manager.load_with(&target, isolated).await {
        Ok(loaded) => {
            let worker = manager.info(&loaded).await.and_then(|i| i.worker);
            let text = match worker {
                Some(worker) => format!("Loaded `{loaded}`, {worker}."),
                None => format!("Loaded `{loaded}`."),
            };
            embed(colour::SUCCESS, "✅ Loaded", text)
        }
        Err(error) => embed(colour::ERROR, "❌ Load failed", error.to_string()),
    })
}

async fn unload(call: BuiltinCall) -> Result<Message, String> {
    let target = name(&call)?;
    let flag: Option<String> = call.args.get("flag").map_err(|e| e.to_string())?;
    let force = match flag.as_deref() {
        None => false,
        Some("--force" | "-f" | "force") => true,
        Some(other) => {
            return Ok(embed(
                colour::ERROR,
                "❌ Unknown option",
                format!("`{other}`: the only option is `--force`."),
            ));
        }
    };
    tracing::info!(
        user = call.author.id.0,
        target,
        force,
        "owner command: unload"
    );
    Ok(match call.manager().unload(&target, force).await {
        Ok(unloaded) => embed(
            colour::SUCCESS,
            "✅ Unloaded",
            format!("Unloaded {}.", quote_list(&unloaded)),
        ),
        Err(error) => embed(colour::ERROR, "❌ Unload failed", error.to_string()),
    })
}

async fn reload(call: BuiltinCall) -> Result<Message, String> {
    let target = name(&call)?;
    tracing::info!(user = call.author.id.0, target, "owner command: reload");
    Ok(match call.manager().reload(&target).await {
        Ok(reloaded) => {
            let lines: Vec<String> = reloaded
                .iter()
                .map(|r| {
                    format!(
                        "`{}`: generation {} → {} in {:.1} ms",
                        r.name, r.from, r.to, r.millis
                    )
                })
                .collect();
            embed(colour::SUCCESS, "✅ Reloaded", lines.join("\n"))
        }
        Err(error) => embed(colour::ERROR, "❌ Reload failed", error.to_string()),
    })
}

fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `slashlimit`: how many slash commands are registered against `slash_limiter.max_limit`, the
/// warning and safe tiers, and the commands the limits leave prefix-only.
async fn slash_limit(call: BuiltinCall) -> Result<Message, String> {
    let bot = &call.bot;
    let limits = bot.options.slash_limits;
    let plan = crate::discord::slash::plan(bot);
    let used = plan.commands.len() as u32;
    let (tier, colour) = if !plan.prefix_only.is_empty() {
        (
            "⛔ At the safe limit: new slash commands stay prefix-only",
            colour::ERROR,
        )
    } else if limits.enabled && used >= limits.warning_threshold {
        ("⚠️ Past the warning threshold", colour::WARNING)
    } else {
        ("✅ Below the warning threshold", colour::SUCCESS)
    };
    let prefix_only = if plan.prefix_only.is_empty() {
        "None.".to_owned()
    } else {
        plan.prefix_only
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(Message::new().embed(
        Embed::new()
            .title("⚡ Slash command limit")
            .description(tier)
            .field(
                "Registered",
                format!("{used}/{} ({} wanted)", limits.max_limit, plan.wanted),
                true,
            )
            .field(
                "Tiers",
                if limits.enabled {
                    format!(
                        "warn at {}, safe limit {}",
                        limits.warning_threshold, limits.safe_limit
                    )
                } else {
                    "limiter off (`framework.enable_slash_command_limiter`)".to_owned()
                },
                true,
            )
            .field("Prefix-only because of the limit", prefix_only, false)
            .colour(colour),
    ))
}

/// `sync`: registers the slash commands now, whether or not they changed (the registrar does it
/// by itself on every plugin change; this is for a registration Discord lost or one made by
/// hand elsewhere).
async fn sync(call: BuiltinCall) -> Result<Message, String> {
    let bot = &call.bot;
    tracing::info!(user = call.author.id.0, "owner command: sync");
    let commands = crate::discord::slash::command_set(bot);
    match crate::discord::slash::register(bot, &commands).await {
        Ok(count) => {
            bot.counters
                .slash_registered
                .store(count as u64, std::sync::atomic::Ordering::Relaxed);
            let names: Vec<&str> = commands
                .iter()
                .filter_map(|c| c.get("name").and_then(|n| n.as_str()))
                .collect();
            let mut out = Embed::new()
                .title("✅ Sync complete")
                .description(format!(
                    "Registered {count} commands {}.",
                    match bot.options.test_guild_id {
                        Some(guild) => format!("to the test guild {guild}"),
                        None => "globally".to_owned(),
                    }
                ))
                .colour(colour::SUCCESS);
            if !names.is_empty() {
                out = out.field("Commands", format!("`{}`", names.join("`, `")), false);
            }
            Ok(Message::new().embed(out))
        }
        Err(error) => Ok(embed(colour::ERROR, "❌ Sync failed", error.to_string())),
    }
}

/// Suggestions for the `name` option of `load`, `unload` and `reload` (bot owners only):
/// extensions not loaded for `load`, loaded ones for the others, those containing `typed`
/// first by prefix, at most 25.
pub(crate) async fn suggest_plugins(
    call_command: &str,
    typed: &str,
    manager: &crate::manager::Manager,
) -> Vec<zoryx_plugin_api::Choice> {
    // `load` offers what is not loaded, `unload` and `reload` what is, the registry's
    // commands everything it knows.
    let want_loaded = match call_command {
        "load" => Some(false),
        "unload" | "reload" => Some(true),
        _ => None,
    };
    let names = manager
        .list()
        .await
        .into_iter()
        .filter(|p| want_loaded.is_none_or(|loaded| p.loaded == loaded))
        .map(|p| p.name);
    super::suggestions(names, typed)
}
