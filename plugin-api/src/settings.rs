//! A plugin's own config section, described (plugin-api 1.3): the keys it reads from
//! `plugins.<name>` in `config.json`, their types, rules and defaults.
//!
//! A plugin registers them with [`Registrar::setting`](crate::Registrar::setting). The host
//! shows them in `fw_config_schema`, checks the section against them in `fw_config_validate`,
//! refuses a `fw_config_set plugins.<name>.<key>` that breaks them, and never shows a
//! [`Setting::secret`]'s value.
//!
//! ```
//! use zoryx_plugin_api::{Setting, settings::check_section};
//!
//! let settings = [
//!     Setting::integer("max_polls").range(1, 50).default(10).description("Open polls per guild"),
//!     Setting::text("api_key").secret().required(),
//!     Setting::text("mode").choices(["fast", "careful"]),
//! ];
//! let section = serde_json::json!({"max_polls": 80, "mode": "slow", "colour": "red"});
//! assert_eq!(
//!     check_section(&settings, &section),
//!     [
//!         "`max_polls` must be at most 50, got 80",
//!         "`api_key` is required",
//!         "`mode` must be one of: fast, careful, got \"slow\"",
//!         "`colour` is not a setting of this plugin",
//!     ]
//! );
//! assert!(check_section(&settings, &serde_json::json!({"api_key": "k"})).is_empty());
//! ```

use serde::{Deserialize, Serialize};

use crate::command::Number;

/// What one setting holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    /// A string.
    #[default]
    Text,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`.
    Bool,
    /// A list of values.
    List,
}

impl SettingKind {
    /// Its name as people read it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Bool => "bool",
            Self::List => "list",
        }
    }

    fn accepts(self, value: &serde_json::Value) -> bool {
        match self {
            Self::Text => value.is_string(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::Number => value.is_number(),
            Self::Bool => value.is_boolean(),
            Self::List => value.is_array(),
        }
    }
}

/// One key of a plugin's config section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Setting {
    /// The key under `plugins.<name>`.
    pub key: String,
    /// What it holds.
    pub kind: SettingKind,
    /// Help text.
    pub description: String,
    /// The value the plugin uses when the key is absent.
    #[serde(with = "json_text")]
    pub default: Option<serde_json::Value>,
    /// The smallest number allowed (numbers), or the fewest characters (text).
    pub min: Option<Number>,
    /// The largest number allowed (numbers), or the most characters (text).
    pub max: Option<Number>,
    /// The only values allowed (text), when not empty.
    pub choices: Vec<String>,
    /// Whether the section must set it.
    pub required: bool,
    /// Whether its value is never shown (tokens, API keys).
    pub secret: bool,
}

impl Setting {
    fn new(key: impl Into<String>, kind: SettingKind) -> Self {
        Self {
            key: key.into(),
            kind,
            ..<Self as Default>::default()
        }
    }

    /// A text setting.
    pub fn text(key: impl Into<String>) -> Self {
        Self::new(key, SettingKind::Text)
    }

    /// A whole-number setting.
    pub fn integer(key: impl Into<String>) -> Self {
        Self::new(key, SettingKind::Integer)
    }

    /// A number setting.
    pub fn number(key: impl Into<String>) -> Self {
        Self::new(key, SettingKind::Number)
    }

    /// A yes/no setting.
    pub fn boolean(key: impl Into<String>) -> Self {
        Self::new(key, SettingKind::Bool)
    }

    /// A list setting.
    pub fn list(key: impl Into<String>) -> Self {
        Self::new(key, SettingKind::List)
    }

    /// Sets the help text.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the default the plugin uses when the key is absent.
    pub fn default(mut self, value: impl Into<serde_json::Value>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// The smallest and largest value (numbers) or length (text), both included.
    pub fn range(mut self, min: impl Into<Number>, max: impl Into<Number>) -> Self {
        self.min = Some(min.into());
        self.max = Some(max.into());
        self
    }

    /// The only values a text setting takes.
    pub fn choices<S: Into<String>>(mut self, choices: impl IntoIterator<Item = S>) -> Self {
        self.choices = choices.into_iter().map(Into::into).collect();
        self
    }

    /// The section must set it.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Its value is never shown by the host (`fw_config_get`, logs, the dashboard).
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// What is wrong with `value` for this setting, if anything.
    pub fn check(&self, value: &serde_json::Value) -> Option<String> {
        let key = &self.key;
        if !self.kind.accepts(value) {
            return Some(format!("`{key}` must be {}, got {value}", self.kind.name()));
        }
        let measured = match value {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => Some(s.chars().count() as f64),
            _ => None,
        };
        let what = if value.is_string() { " characters" } else { "" };
        if let Some(measured) = measured {
            if let Some(min) = self.min
                && measured < min.as_f64()
            {
                return Some(format!("`{key}` must be at least {min}{what}, got {value}"));
            }
            if let Some(max) = self.max
                && measured > max.as_f64()
            {
                return Some(format!("`{key}` must be at most {max}{what}, got {value}"));
            }
        }
        if !self.choices.is_empty()
            && let Some(text) = value.as_str()
            && !self.choices.iter().any(|c| c == text)
        {
            return Some(format!(
                "`{key}` must be one of: {}, got {value}",
                self.choices.join(", ")
            ));
        }
        None
    }
}

/// Checks a plugin's config `section` against its `settings`: each problem as one line (a
/// value of the wrong type or out of its rules, a required key missing, a key no setting
/// names). A section that is absent (`null`) only misses its required keys.
pub fn check_section(settings: &[Setting], section: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let map = match section {
        serde_json::Value::Object(map) => map,
        serde_json::Value::Null => &empty,
        other => return vec![format!("the section must be an object, got {other}")],
    };
    let mut problems: Vec<String> = settings
        .iter()
        .filter_map(|setting| match map.get(&setting.key) {
            Some(value) => setting.check(value),
            None if setting.required => Some(format!("`{}` is required", setting.key)),
            None => None,
        })
        .collect();
    problems.extend(
        map.keys()
            .filter(|key| !settings.iter().any(|s| &s.key == *key))
            .map(|key| format!("`{key}` is not a setting of this plugin")),
    );
    problems
}

/// A JSON value carried as its text, so that every encoding of the description (the 1.3 JSON,
/// and the isolation frames' postcard, which has no self-describing values) can carry it.
mod json_text {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<serde_json::Value>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .as_ref()
            .map(serde_json::Value::to_string)
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<serde_json::Value>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| serde_json::from_str(&text).map_err(D::Error::custom))
            .transpose()
    }
}
