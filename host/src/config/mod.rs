//! Configuration: `config.json` ([`keys`]) and the environment ([`env`](mod@env)).
//!
//! Unknown keys are kept (plugins read their own keys through their host context). A key of the
//! wrong type is refused with its dotted path named.

pub mod env;
pub mod keys;

use std::path::{Path, PathBuf};

pub use env::{BotEnv, EnvError};
pub use keys::*;

/// Why the config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A value has the wrong type or the JSON is malformed.
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted key (empty for syntax errors).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The parsed file: the typed core keys plus the whole document for plugins.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Keys the core uses.
    pub core: CoreConfig,
    /// The whole document.
    pub raw: serde_json::Value,
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Self::parse(path, &text)
    }

    /// Parses the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let invalid = |key: String, message: String| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            message,
        };
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(String::new(), e.to_string()))?;
        let core: CoreConfig = serde_path_to_error::deserialize(&raw)
            .map_err(|e| invalid(e.path().to_string(), e.inner().to_string()))?;
        Ok(Self { core, raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_wrong_types() {
        let path = Path::new("config.json");
        let config = Config::parse(path, "{}").expect("empty");
        assert!(config.core.auto_reload);
        let error =
            Config::parse(path, r#"{"extensions": {"blacklist": "x"}}"#).expect_err("wrong type");
        assert!(
            error.to_string().contains("extensions.blacklist"),
            "{error}"
        );
        let config = Config::parse(path, r#"{"auto_reload": false, "prefix": "?"}"#).expect("ok");
        assert!(!config.core.auto_reload);
        assert_eq!(config.raw["prefix"], "?");
    }
}
