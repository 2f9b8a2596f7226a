//! Owner-only plugin management: `load`, `unload`, `reload`, `extensions`.

use std::time::SystemTime;

use zoryx_plugin_api::{Arg, CommandKind, CommandSpec, Embed, Message, Permission};

use super::{BuiltinCall, Builtins};
use crate::discord::embeds::{colour, embed};

pub(super) fn register(builtins: &mut Builtins) {
    let owner = |name: &str, description: &str| {
        CommandSpec::new(name)
            .description(description)
            .category("Owner")
            .permission(Permission::Owner)
            .kind(CommandKind::Prefix)
    };
    builtins
        .add(
            owner(
                "load",
                "Load an extension (--isolated: in a worker process of its own)",
            )
            .arg(Arg::text("name"))
            .arg(Arg::text("flag").optional()),
            |call| Box::pin(load(call)),
        )
        .add(
            owner(
                "unload",
                "Unload an extension (--force: with its dependents)",
            )
            .arg(Arg::text("name"))
            .arg(Arg::text("flag").optional()),
            |call| Box::pin(unload(call)),
        )
        .add(
            owner("reload", "Reload an extension").arg(Arg::text("name")),
            |call| Box::pin(reload(call)),
        )
        .add(
            owner(
                "slashlimit",
                "Slash commands registered against the limits, and which stay prefix-only",
            ),
            |call| Box::pin(slash_limit(call)),
        )
        .add(
            owner(
                "extensions",
                "List extensions with version, status and dependencies",
            )
            .alias("exts"),
            |call| Box::pin(extensions(call)),
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

fn ago(at: Option<SystemTime>) -> String {
    at.and_then(|t| t.elapsed().ok())
        .map_or_else(|| "-".to_owned(), |d| format!("{}s ago", d.as_secs()))
}

async fn extensions(call: BuiltinCall) -> Result<Message, String> {
    let plugins = call.manager().list().await;
    if plugins.is_empty() {
        return Ok(embed(colour::INFO, "📦 Extensions", "No extensions found."));
    }
    let mut embed_out = Embed::new()
        .title(format!("📦 Extensions ({})", plugins.len()))
        .colour(colour::INFO);
    for info in plugins.iter().take(25) {
        let status = match (&info.worker, info.loaded) {
            (Some(worker), true) => format!("{worker} ({:?})", info.status),
            (None, true) => format!("loaded ({:?})", info.status),
            (_, false) => "not loaded".to_owned(),
        };
        let deps = if info.dependencies.is_empty() {
            "none".to_owned()
        } else {
            info.dependencies.join(", ")
        };
        let load_time = info
            .load_time_ms
            .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1} ms"));
        let generation = info
            .generation
            .map_or_else(|| "-".to_owned(), |g| g.to_string());
        embed_out = embed_out.field(
            format!("{} v{}", info.name, info.version),
            format!(
                "status: {status}\ngeneration: {generation}\nload time: {load_time} (loaded {})\ndeps: {deps}\ncalls: {}",
                ago(info.loaded_at),
                info.calls_line()
            ),
            true,
        );
    }
    Ok(Message::new().embed(embed_out))
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
