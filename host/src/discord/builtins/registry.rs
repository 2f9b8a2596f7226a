//! The plugin registry commands of the seed's `plugin_registry` cog: `pr_list` (everyone),
//! `pr_info`, `pr_validate`, `pr_enforce`, `pr_alert_channel` (bot owners).

use zoryx_plugin_api::{Arg, CommandKind, CommandSpec, Embed, Message, Permission};

use super::{BuiltinCall, Builtins, alerting};
use crate::alerts::Topic;
use crate::discord::embeds::{colour, embed};
use crate::manager::PluginInfo;
use crate::registry::{Enforcement, PluginStatus};

/// Plugins per `pr_list` page, as in the seed.
const PER_PAGE: usize = 10;

pub(super) fn register(builtins: &mut Builtins) {
    let command = |name: &str, description: &str| {
        CommandSpec::new(name)
            .description(description)
            .category("Plugin Registry")
            .kind(CommandKind::Hybrid)
    };
    let plugin = || {
        Arg::text("name")
            .description("The plugin's name")
            .autocomplete()
    };
    builtins
        .add(
            command(
                "pr_list",
                "Every plugin the registry knows, with its metadata",
            )
            .arg(
                Arg::integer("page")
                    .description("Page (10 plugins a page)")
                    .min(1)
                    .optional(),
            ),
            |call| Box::pin(list(call)),
        )
        .add(
            command(
                "pr_info",
                "A plugin's version, author, commands, dependencies and conflicts",
            )
            .permission(Permission::Owner)
            .arg(plugin()),
            |call| Box::pin(info(call)),
        )
        .add(
            command(
                "pr_validate",
                "Check a plugin's dependencies and conflicts now",
            )
            .permission(Permission::Owner)
            .arg(plugin()),
            |call| Box::pin(validate(call)),
        )
        .add(
            command(
                "pr_enforce",
                "Refuse (on) or only warn about (off) dependency or conflict problems",
            )
            .permission(Permission::Owner)
            .arg(
                Arg::text("what")
                    .description("deps or conflicts")
                    .choice("dependencies", "deps")
                    .choice("conflicts", "conflicts")
                    .optional(),
            )
            .arg(
                Arg::text("mode")
                    .description("on or off")
                    .choice("on", "on")
                    .choice("off", "off")
                    .optional(),
            ),
            |call| Box::pin(enforce(call)),
        )
        .add(
            alerting::spec("pr_alert_channel", "Plugin Registry", "plugin registry"),
            |call| Box::pin(alerting::set(call, Topic::Registry)),
        );
}

fn status_label(status: PluginStatus) -> &'static str {
    match status {
        PluginStatus::Valid => "✅ valid",
        PluginStatus::Warnings => "⚠️ warnings",
        PluginStatus::MissingDependencies => "❌ missing dependencies",
        PluginStatus::Cycle => "🔁 dependency cycle",
    }
}

async fn list(call: BuiltinCall) -> Result<Message, String> {
    let page: Option<i64> = call.args.get("page").map_err(|e| e.to_string())?;
    let plugins = call.manager().list().await;
    let pages = plugins.len().div_ceil(PER_PAGE).max(1);
    let page = usize::try_from(page.unwrap_or(1).max(1))
        .unwrap_or(1)
        .min(pages);
    let mut out = Embed::new()
        .title("🧩 Plugin Registry")
        .colour(colour::INFO)
        .footer(format!(
            "Page {page}/{pages} · {} plugins · `pr_list PAGE` for another page",
            plugins.len()
        ));
    if plugins.is_empty() {
        out = out.description("No plugins yet: put libraries in `extensions/`.");
    }
    for plugin in plugins.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE) {
        let mut text = format!(
            "v{} by {} · {} · {}",
            plugin.version,
            if plugin.author.is_empty() {
                "unknown"
            } else {
                &plugin.author
            },
            plugin.state(),
            status_label(plugin.status)
        );
        if !plugin.description.is_empty() {
            text = format!(
                "{}\n{text}",
                crate::discord::convert::clip(&plugin.description, 200)
            );
        }
        out = out.field(&plugin.name, text, false);
    }
    Ok(Message::new().embed(out))
}

async fn named(call: &BuiltinCall) -> Result<Result<PluginInfo, Message>, String> {
    let name: String = call.args.get("name").map_err(|e| e.to_string())?;
    Ok(match call.manager().info(&name).await {
        Some(info) => Ok(info),
        None => Err(embed(
            colour::ERROR,
            "❌ Plugin not found",
            format!("The registry does not know `{name}`; `pr_list` shows every plugin."),
        )),
    })
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "None".to_owned()
    } else {
        crate::discord::convert::clip(&items.join(", "), 1000)
    }
}

async fn info(call: BuiltinCall) -> Result<Message, String> {
    let info = match named(&call).await? {
        Ok(info) => info,
        Err(refusal) => return Ok(refusal),
    };
    let (dependencies, dependents) = match call.manager().validate(&info.name).await {
        Some((_, validation, dependents)) => {
            let mut lines: Vec<String> = info
                .dependencies
                .iter()
                .map(|dependency| {
                    let name = dependency.split_whitespace().next().unwrap_or_default();
                    let problem = validation.issues.iter().find(|issue| {
                        issue.kind().is_dependency()
                            && issue.message().contains(&format!("`{name}`"))
                    });
                    match problem {
                        Some(issue) => format!("❌ {dependency}: {}", issue.message()),
                        None => format!("✅ {dependency}"),
                    }
                })
                .collect();
            if lines.is_empty() {
                lines.push("None".to_owned());
            }
            (lines.join("\n"), dependents)
        }
        None => (or_none(&info.dependencies), Vec::new()),
    };
    let mut out = Embed::new()
        .title(format!("🧩 {}", info.name))
        .colour(match info.status {
            PluginStatus::Valid => colour::INFO,
            PluginStatus::Warnings => colour::WARNING,
            _ => colour::ERROR,
        })
        .field("Version", &info.version, true)
        .field(
            "Author",
            if info.author.is_empty() {
                "unknown"
            } else {
                &info.author
            },
            true,
        )
        .field("State", info.state(), true)
        .field("Status", status_label(info.status), true)
        .field(
            "Dependencies",
            crate::discord::convert::clip(&dependencies, 1000),
            false,
        )
        .field("Depended on by", or_none(&dependents), false)
        .field("Conflicts", or_none(&info.conflicts), false)
        .field("Commands", or_none(&info.commands), false);
    if !info.description.is_empty() {
        out = out.description(crate::discord::convert::clip(&info.description, 2000));
    }
    if !info.reason.is_empty() {
        out = out.field(
            "Problems",
            crate::discord::convert::clip(&info.reason, 1000),
            false,
        );
    }
    if let Some(api) = &info.api_version {
        out = out.field("plugin-api", api, true);
    }
    if let Some(file) = &info.file {
        out = out.field("File", format!("`{file}`"), true);
    }
    Ok(Message::new().embed(out))
}

async fn validate(call: BuiltinCall) -> Result<Message, String> {
    let name: String = call.args.get("name").map_err(|e| e.to_string())?;
    let manager = call.manager();
    let Some((name, validation, dependents)) = manager.validate(&name).await else {
        return Ok(embed(
            colour::ERROR,
            "❌ Plugin not found",
            format!("The registry does not know `{name}`; `pr_list` shows every plugin."),
        ));
    };
    let enforcement = manager.enforcement().await;
    let enforced = manager.registry_on();
    let refused = enforced && validation.is_refused(&enforcement);
    let mut out = Embed::new().title(format!("🔍 Validation of {name}"));
    out = if validation.is_valid() {
        out.colour(colour::SUCCESS)
            .description("✅ Every dependency is loaded in a version it accepts, and nothing loaded conflicts with it.")
    } else {
        let lines: Vec<String> = validation
            .issues
            .iter()
            .map(|issue| format!("• {}", issue.message()))
            .collect();
        out.colour(if refused {
            colour::ERROR
        } else {
            colour::WARNING
        })
        .description(crate::discord::convert::clip(&lines.join("\n"), 3500))
        .field(
            "A load now",
            if refused {
                "would be **refused** (enforced)"
            } else {
                "would go ahead with warnings (not enforced)"
            },
            false,
        )
    };
    Ok(Message::new().embed(out.field("Depended on by", or_none(&dependents), false)))
}

fn switch(on: bool) -> &'static str {
    if on { "on (refused)" } else { "off (warned)" }
}

async fn enforce(call: BuiltinCall) -> Result<Message, String> {
    let what: Option<String> = call.args.get("what").map_err(|e| e.to_string())?;
    let mode: Option<String> = call.args.get("mode").map_err(|e| e.to_string())?;
    let manager = call.manager();
    if !manager.registry_on() {
        return Ok(embed(
            colour::WARNING,
            "Plugin registry off",
            "The registry is off (`framework.enable_plugin_registry` or `framework.load_cogs` in \
             config.json): nothing is enforced.",
        ));
    }
    let mut enforcement: Enforcement = manager.enforcement().await;
    let current = |e: &Enforcement| {
        format!(
            "Dependencies: {}\nConflicts: {}",
            switch(e.dependencies),
            switch(e.conflicts)
        )
    };
    let (Some(what), Some(mode)) = (what, mode) else {
        return Ok(embed(
            colour::INFO,
            "⚙️ Registry enforcement",
            format!(
                "{}\n\nUsage: `pr_enforce deps|conflicts on|off`",
                current(&enforcement)
            ),
        ));
    };
    let on = match mode.to_lowercase().as_str() {
        "on" | "true" | "yes" => true,
        "off" | "false" | "no" => false,
        other => return Err(format!("`{other}`: say `on` or `off`")),
    };
    match what.to_lowercase().as_str() {
        "deps" | "dependencies" => enforcement.dependencies = on,
        "conflicts" => enforcement.conflicts = on,
        other => return Err(format!("`{other}`: say `deps` or `conflicts`")),
    }
    manager.set_enforcement(enforcement).await;
    tracing::info!(
        user = call.author.id.0,
        what,
        on,
        "owner command: registry enforcement"
    );
    Ok(embed(
        colour::SUCCESS,
        "✅ Enforcement saved",
        current(&enforcement),
    ))
}
