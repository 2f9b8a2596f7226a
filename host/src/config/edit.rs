//! Changing `config.json` while the bot runs (`fw_config_set`, plugins' own sections): one key
//! at a time, the file re-read, changed in that one place, checked as a whole (types, ranges,
//! unknown keys), and written atomically — or not at all.

use std::path::Path;

use serde_json::Value;

use super::{Config, CoreConfig};

/// Why a key was not changed.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The key names nothing the config has.
    #[error("`{key}` is not a config key{}", .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        /// The key asked for.
        key: String,
        /// A known key with a similar name.
        suggestion: Option<String>,
    },
    /// The key is a section (an object of keys), not one setting.
    #[error("`{0}` is a section; set one of its keys (`fw_config_schema` lists them)")]
    Section(String),
    /// The file could not be read, parsed or written.
    #[error("{0}")]
    File(String),
    /// The value makes the config invalid.
    #[error("{0}")]
    Invalid(String),
}

/// Maps whose keys are data (command names, host patterns, plugin names), not settings.
const FREE_MAPS: [&str; 6] = [
    "command_permissions",
    "limits.commands",
    "http.allow",
    "plugins",
    "dashboard.users",
    "dashboard.roles",
];

/// The keys that take effect at once when changed; the others apply at the next start.
const LIVE: [&str; 4] = ["limits.", "cooldowns.", "command_permissions", "plugins."];

/// Whether a change of `key` takes effect without a restart.
pub fn is_live(key: &str) -> bool {
    LIVE.iter()
        .any(|live| key == live.trim_end_matches('.') || key.starts_with(live))
}

/// Whether `key` (any of its parts) names a secret, whose value is never shown.
pub fn is_secret(key: &str) -> bool {
    key.split('.').any(|part| {
        let part = part.to_lowercase();
        [
            "token",
            "secret",
            "password",
            "api_key",
            "apikey",
            "private_key",
            "webhook_url",
        ]
        .iter()
        .any(|s| part.contains(s))
            || part == "key"
    })
}

/// `value` as shown to people: secrets masked, also inside objects.
pub fn shown(key: &str, value: &Value) -> Value {
    shown_with(key, value, &[])
}

/// [`shown`], also masking the dotted keys in `secrets` (plugins' secret settings).
pub fn shown_with(key: &str, value: &Value, secrets: &[String]) -> Value {
    if (is_secret(key) || secrets.iter().any(|s| s == key)) && !value.is_null() {
        return Value::String("••••••••".to_owned());
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), shown_with(&format!("{key}.{k}"), v, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The value at dotted `key` of `document`.
pub fn get<'a>(document: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.')
        .try_fold(document, |value, part| value.as_object()?.get(part))
}

/// Checks that `key` is one setting the config knows (a key of the defaults, or inside a free
/// map such as `plugins.NAME...` or `limits.commands.NAME`).
pub fn check_key(key: &str) -> Result<(), EditError> {
    let defaults = serde_json::to_value(CoreConfig::default()).unwrap_or(Value::Null);
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(EditError::Unknown {
            key: key.to_owned(),
            suggestion: None,
        });
    }
    let mut node = &defaults;
    for (i, part) in parts.iter().enumerate() {
        let prefix = parts[..i].join(".");
        if FREE_MAPS.contains(&prefix.as_str()) && i > 0 {
            return Ok(());
        }
        match node.as_object().and_then(|o| o.get(*part)) {
            Some(next) => node = next,
            None => {
                let suggestion = node.as_object().and_then(|o| {
                    o.keys()
                        .find(|k| k.contains(part) || part.contains(k.as_str()))
                        .map(|k| {
                            if prefix.is_empty() {
                                k.clone()
                            } else {
                                format!("{prefix}.{k}")
                            }
                        })
                });
                return Err(EditError::Unknown {
                    key: key.to_owned(),
                    suggestion,
                });
            }
        }
    }
    if node.is_object() && !FREE_MAPS.contains(&key) {
        return Err(EditError::Section(key.to_owned()));
    }
    Ok(())
}

/// Sets dotted `key` of `document` to `value`, creating the sections on the way.
fn set(document: &mut Value, key: &str, value: Value) -> Result<(), EditError> {
    let mut node = document;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let object = node.as_object_mut().ok_or_else(|| {
            EditError::Invalid(format!("`{}` is not a section", parts[..i].join(".")))
        })?;
        if i + 1 == parts.len() {
            object.insert((*part).to_owned(), value);
            return Ok(());
        }
        node = object
            .entry((*part).to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    Ok(())
}

/// Sets `key` to `value` in the config file at `path` (a missing file is an empty config), if
/// the whole config is still valid; returns the new config. Blocking (file I/O).
pub fn write_key(path: &Path, key: &str, value: Value) -> Result<Config, EditError> {
    write_key_checked(path, key, value, &|_| Vec::new())
}

/// [`write_key`], with `extra` checks of the changed document (plugins' settings) that refuse
/// the change when they find problems.
pub fn write_key_checked(
    path: &Path,
    key: &str,
    value: Value,
    extra: &dyn Fn(&Value) -> Vec<String>,
) -> Result<Config, EditError> {
    let mut document: Value = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| EditError::File(format!("{} does not parse now ({e})", path.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Object(serde_json::Map::new()),
        Err(e) => return Err(EditError::File(format!("{}: {e}", path.display()))),
    };
    if !document.is_object() {
        return Err(EditError::File(format!(
            "{} is not a JSON object",
            path.display()
        )));
    }
    set(&mut document, key, value)?;
    let text =
        serde_json::to_string_pretty(&document).map_err(|e| EditError::File(e.to_string()))?;
    let config = Config::parse(path, &text).map_err(|e| EditError::Invalid(e.to_string()))?;
    let problems = extra(&document);
    if !problems.is_empty() {
        return Err(EditError::Invalid(problems.join("; ")));
    }
    crate::storage::atomic::write_bytes(path, format!("{text}\n").as_bytes())
        .map_err(|e| EditError::File(e.to_string()))?;
    Ok(config)
}

/// Reads a value typed by a person: JSON when it parses as JSON (`5`, `true`, `"x"`, `[1]`),
/// else the text itself.
pub fn parse_value(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|_| Value::String(text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_known_sections_refused_and_free_maps_open() {
        assert!(check_key("prefix").is_ok());
        assert!(check_key("diagnostics.lag_degraded_ms").is_ok());
        assert!(check_key("plugins.ai.api_key").is_ok());
        assert!(check_key("limits.commands.slow").is_ok());
        assert!(matches!(
            check_key("diagnostics"),
            Err(EditError::Section(_))
        ));
        assert!(matches!(
            check_key("diagnostics.lag"),
            Err(EditError::Unknown { suggestion: Some(s), .. }) if s.starts_with("diagnostics.lag_")
        ));
        assert!(check_key("prefix.").is_err());
    }

    #[test]
    fn secrets_are_masked_also_inside_sections() {
        assert!(is_secret("plugins.ai.api_key") && is_secret("discord.token"));
        assert!(is_secret("cluster.secret") && !is_secret("cluster.port"));
        assert!(!is_secret("prefix") && !is_secret("cooldowns.default_per"));
        let value = serde_json::json!({"model": "m", "api_key": "sk-1"});
        assert_eq!(
            shown("plugins.ai", &value),
            serde_json::json!({"model": "m", "api_key": "••••••••"})
        );
    }

    #[test]
    fn a_valid_change_is_written_and_an_invalid_one_leaves_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"prefix": "!"}"#).expect("write");
        let config = write_key(&path, "cooldowns.default_rate", parse_value("7")).expect("set");
        assert_eq!(config.core.cooldowns.default_rate, 7);
        let before = std::fs::read_to_string(&path).expect("read");
        let refused = write_key(&path, "limits.plugin_threads", parse_value("1"));
        assert!(matches!(refused, Err(EditError::Invalid(_))), "{refused:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
        assert!(is_live("cooldowns.default_rate") && !is_live("prefix"));
    }
}
