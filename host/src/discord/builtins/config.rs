//! The config commands of the seed's `config_validator` cog, `fw_config_validate` and
//! `fw_config_schema`, and reading and changing one key while the bot runs: `fw_config_get`,
//! `fw_config_set` (bot owners). Secrets are never shown.

use zoryx_plugin_api::{Arg, Embed, Message};

use super::{BuiltinCall, Builtins};
use crate::config::edit;
use crate::config::{Config, CoreConfig};
use crate::discord::embeds::{colour, embed};

pub(super) fn register(builtins: &mut Builtins) {
    let owner = |name: &str, description: &str| {
        super::owner_command(name, description, "Framework Diagnostics")
    };
    let key = || Arg::text("key").description("A dotted key, e.g. cooldowns.default_rate");
    builtins
        .add(
            owner(
                "fw_config_validate",
                "Check config.json now: types, ranges, unknown keys",
            ),
            |call| Box::pin(validate(call)),
        )
        .add(
            owner(
                "fw_config_schema",
                "Every config key with its type and default",
            )
            .arg(
                Arg::text("section")
                    .description("Only this section, e.g. diagnostics")
                    .optional(),
            ),
            |call| Box::pin(schema(call)),
        )
        .add(
            owner("fw_config_get", "One config key's value now").arg(key()),
            |call| Box::pin(get(call)),
        )
        .add(
            owner(
                "fw_config_set",
                "Change one config key: checked, saved to config.json, applied now where it can be",
            )
            .arg(key())
            .arg(Arg::rest("value").description("JSON (5, true, \"text\", [..]) or plain text")),
            |call| Box::pin(set(call)),
        );
}

/// The loaded plugins' secret settings, as dotted keys.
fn plugin_secrets(call: &BuiltinCall) -> Vec<String> {
    call.manager()
        .dispatcher()
        .shared()
        .plugin_settings()
        .into_iter()
        .flat_map(|(name, settings)| {
            settings
                .into_iter()
                .filter(|s| s.secret)
                .map(move |s| format!("plugins.{name}.{}", s.key))
        })
        .collect()
}

fn config_path(call: &BuiltinCall) -> Option<std::path::PathBuf> {
    call.manager().dispatcher().shared().config_file()
}

async fn validate(call: BuiltinCall) -> Result<Message, String> {
    let Some(path) = config_path(&call) else {
        return Ok(embed(
            colour::WARNING,
            "No config file",
            "This host runs without a config file: nothing to check.",
        ));
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            return Ok(embed(
                colour::ERROR,
                "❌ Config unreadable",
                format!("{}: {error}", path.display()),
            ));
        }
    };
    Ok(match Config::parse(&path, &text) {
        Ok(config) => {
            let unknown = config.unknown_keys();
            let settings = call.manager().dispatcher().shared().plugin_settings();
            let plugin_problems =
                crate::runtime::services::check_plugin_sections(&settings, &config.raw);
            if !plugin_problems.is_empty() {
                let lines: Vec<String> = plugin_problems.iter().map(|p| format!("• {p}")).collect();
                return Ok(Message::new().embed(
                    Embed::new()
                        .title("❌ Plugin settings invalid")
                        .colour(colour::ERROR)
                        .description(format!(
                            "The core keys are valid; sections of plugins break the settings they describe:\n{}",
                            crate::discord::convert::clip(&lines.join("\n"), 3500)
                        )),
                ));
            }
            let mut out = Embed::new()
                .title("✅ Config valid")
                .colour(if unknown.is_empty() {
                    colour::SUCCESS
                } else {
                    colour::WARNING
                })
                .description(format!(
                    "`{}`: every value has its type and range.",
                    path.display()
                ));
            if !unknown.is_empty() {
                let lines: Vec<String> = unknown.iter().map(|u| format!("• {u}")).collect();
                out = out.field(
                    "Unknown keys (ignored)",
                    crate::discord::convert::clip(&lines.join("\n"), 1000),
                    false,
                );
            }
            Message::new().embed(out)
        }
        Err(error) => embed(
            colour::ERROR,
            "❌ Config invalid",
            format!(
                "{}\n\nThe running bot keeps the config it started with; fix the file before the next start.",
                crate::discord::convert::clip(&error.to_string(), 3500)
            ),
        ),
    })
}

/// Every leaf key of `value` under `prefix` with its default.
fn leaves(value: &serde_json::Value, prefix: &str, out: &mut Vec<(String, serde_json::Value)>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let dotted = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(child, &dotted, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

fn type_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "optional",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(n) if n.is_f64() => "number",
        serde_json::Value::Number(_) => "integer",
        serde_json::Value::String(_) => "text",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "map",
    }
}

async fn schema(call: BuiltinCall) -> Result<Message, String> {
    let section: Option<String> = call.args.get("section").map_err(|e| e.to_string())?;
    let defaults = serde_json::to_value(CoreConfig::default()).map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    leaves(&defaults, "", &mut all);
    let described = call.manager().dispatcher().shared().plugin_settings();
    let wanted: Vec<&(String, serde_json::Value)> = all
        .iter()
        .filter(|(key, _)| {
            section
                .as_deref()
                .is_none_or(|s| key == s || key.starts_with(&format!("{s}.")))
        })
        .collect();
    let plugin_sections: Vec<(String, Vec<String>)> = described
        .iter()
        .map(|(name, settings)| (format!("plugins.{name}"), settings))
        .filter(|(section_name, _)| {
            section
                .as_deref()
                .is_none_or(|s| s == "plugins" || s == section_name)
        })
        .map(|(section_name, settings)| {
            let lines = settings
                .iter()
                .map(|s| {
                    let mut line = format!("{}: {}", s.key, s.kind.name());
                    if let Some(default) = &s.default {
                        line.push_str(&format!(" = {default}"));
                    }
                    if let (Some(min), Some(max)) = (s.min, s.max) {
                        line.push_str(&format!(" ({min}..{max})"));
                    }
                    if !s.choices.is_empty() {
                        line.push_str(&format!(" [{}]", s.choices.join("|")));
                    }
                    if s.required {
                        line.push_str(" required");
                    }
                    if s.secret {
                        line.push_str(" 🔒");
                    }
                    line.push_str(" ⚡");
                    line
                })
                .collect();
            (section_name, lines)
        })
        .collect();
    if wanted.is_empty() && plugin_sections.is_empty() {
        return Ok(embed(
            colour::ERROR,
            "❌ No such section",
            format!(
                "`{}` is not a config section; `fw_config_schema` lists them all.",
                section.unwrap_or_default()
            ),
        ));
    }
    // One field per top-level section, as many as an embed holds.
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for (key, default) in wanted {
        let top = key.split('.').next().unwrap_or(key).to_owned();
        let live = if edit::is_live(key) { " ⚡" } else { "" };
        let line = format!("{key}: {} = {default}{live}", type_of(default));
        match sections.last_mut() {
            Some((name, lines)) if *name == top => lines.push(line),
            _ => sections.push((top, vec![line])),
        }
    }
    let mut out = Embed::new()
        .title("📐 Config Schema")
        .colour(colour::INFO)
        .description(
            "Keys of `config.json` with their types and defaults. ⚡ applies at once through \
             `fw_config_set`; the others at the next start. `plugins.NAME` holds each plugin's own \
             section (🔒: never shown).",
        );
    sections.extend(plugin_sections);
    for (name, lines) in sections.iter().take(24) {
        out = out.field(
            name,
            format!(
                "```{}```",
                crate::discord::convert::clip(&lines.join("\n"), 990)
            ),
            false,
        );
    }
    Ok(Message::new().embed(out))
}

async fn get(call: BuiltinCall) -> Result<Message, String> {
    let key: String = call.args.get("key").map_err(|e| e.to_string())?;
    if let Err(error) = edit::check_key(&key)
        && !matches!(error, edit::EditError::Section(_))
    {
        return Ok(embed(colour::ERROR, "❌ Unknown key", error.to_string()));
    }
    let running = call.manager().dispatcher().shared().config_document();
    let defaults = serde_json::to_value(CoreConfig::default()).map_err(|e| e.to_string())?;
    let (value, source) = match edit::get(&running, &key) {
        Some(value) => (value.clone(), "set in config.json"),
        None => (
            edit::get(&defaults, &key)
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            "the default",
        ),
    };
    let shown = edit::shown_with(&key, &value, &plugin_secrets(&call));
    let text = serde_json::to_string_pretty(&shown).unwrap_or_default();
    Ok(Message::new()
        .embed(
            Embed::new()
                .title(format!("⚙️ {key}"))
                .colour(colour::INFO)
                .description(format!(
                    "```json\n{}```",
                    crate::discord::convert::clip(&text, 3900)
                ))
                .field("Source", source, true)
                .field(
                    "Changes",
                    if edit::is_live(&key) {
                        "apply at once"
                    } else {
                        "apply at the next start"
                    },
                    true,
                ),
        )
        .ephemeral())
}

async fn set(call: BuiltinCall) -> Result<Message, String> {
    let key: String = call.args.get("key").map_err(|e| e.to_string())?;
    let text: String = call.args.get("value").map_err(|e| e.to_string())?;
    let value = edit::parse_value(&text);
    let shown = edit::shown_with(&key, &value, &plugin_secrets(&call));
    tracing::info!(user = call.author.id.0, key, value = %shown, "owner command: fw_config_set");
    let result = call
        .manager()
        .dispatcher()
        .shared()
        .set_config_key(&key, value)
        .await;
    Ok(match result {
        Ok(live) => embed(
            colour::SUCCESS,
            "✅ Config saved",
            format!(
                "`{key}` = `{shown}` in config.json. {}",
                if live {
                    "Applied now."
                } else {
                    "It takes effect at the next start."
                }
            ),
        ),
        Err(error) => embed(
            colour::ERROR,
            "❌ Not changed",
            format!("{error}\n\nconfig.json was left as it was."),
        ),
    }
    .ephemeral())
}
