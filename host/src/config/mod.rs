//! Configuration: `config.json` ([`keys`], checked by [`validate`]) and the environment
//! ([`env`](mod@env)).
//!
//! [`Config::load_or_create`] writes `config.json` with every key and its default on first run
//! (atomically). Unknown keys are kept (plugins read their own keys through their host context)
//! and reported as warnings. A key of the wrong type or a value out of range is refused with its
//! dotted path and the expected form named; a file that is not JSON is refused with its line and
//! column, and is never overwritten. [`Config::with_env`] applies the environment variables that
//! take precedence over the file.

pub mod edit;
pub mod env;
pub mod keys;
pub mod validate;

use std::path::{Path, PathBuf};

pub use env::{BotEnv, ClusterEnv, EnvError};
pub use keys::*;
pub use validate::{Problem, UnknownKey};

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
    /// The file is not valid JSON. It is left as it is.
    #[error(
        "{path} is not valid JSON: {message} at line {line}, column {column} (fix or remove the file; it was not changed)"
    )]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Line of the error (1-based).
        line: usize,
        /// Column of the error (1-based).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A value has the wrong type.
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Values are out of their allowed range or set.
    #[error("{path}: {}", join(problems))]
    OutOfRange {
        /// The file.
        path: PathBuf,
        /// Every value that is wrong.
        problems: Vec<Problem>,
    },
    /// The default file could not be written.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// The error.
        source: crate::storage::atomic::AtomicError,
    },
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What [`Config::load_or_create`] found.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Whether the file was missing and has just been written with the defaults.
    pub created: bool,
    /// Keys the core does not know (to be logged as warnings).
    pub unknown_keys: Vec<UnknownKey>,
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

    /// Reads `path`, or, if it does not exist, writes it (atomically) with every key and its
    /// default and uses those. An existing file is only read, never rewritten.
    pub fn load_or_create(path: &Path) -> Result<Loaded, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let config = Self::parse(path, &text)?;
                let unknown_keys = config.unknown_keys();
                Ok(Loaded {
                    config,
                    created: false,
                    unknown_keys,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let core = CoreConfig::default();
                let create = |source| ConfigError::Create {
                    path: path.to_owned(),
                    source,
                };
                // Serialised from the struct, so the file lists keys in the documented order.
                let mut bytes = serde_json::to_vec_pretty(&core).map_err(|source| {
                    create(crate::storage::atomic::AtomicError::Serialize {
                        path: path.to_owned(),
                        source,
                    })
                })?;
                bytes.push(b'\n');
                crate::storage::atomic::write_bytes(path, &bytes).map_err(create)?;
                let raw = serde_json::to_value(&core).unwrap_or_default();
                Ok(Loaded {
                    config: Self { core, raw },
                    created: true,
                    unknown_keys: Vec::new(),
                })
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses the text of `path` and checks its values.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
                path: path.to_owned(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        let core: CoreConfig =
            serde_path_to_error::deserialize(&raw).map_err(|e| ConfigError::Invalid {
                path: path.to_owned(),
                key: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        let problems = validate::problems(&core);
        if !problems.is_empty() {
            return Err(ConfigError::OutOfRange {
                path: path.to_owned(),
                problems,
            });
        }
        Ok(Self { core, raw })
    }

    /// Keys of the document the core does not know.
    pub fn unknown_keys(&self) -> Vec<UnknownKey> {
        validate::unknown_keys(&self.raw)
    }

    /// The effective configuration: the environment variables that take precedence over the
    /// file (`ENABLE_SHARD_MONITOR`, `ENABLE_SHARD_MANAGER`, `DISCORD_API_BASE`,
    /// `ZORYX_HEALTH_BIND`, `SHARD_IPC_*` (`SHARD_IPC_TLS_*` too), `SHARD_CLUSTER_NAME`) applied
    /// to both the typed keys and the document plugins read (`SHARD_IPC_SECRET` and
    /// `DASHBOARD_OAUTH_CLIENT_SECRET` to the typed keys only).
    pub fn with_env(mut self, env: &BotEnv) -> Self {
        let framework = &mut self.core.framework;
        let toggles = [
            (
                "ENABLE_SHARD_MONITOR",
                "enable_shard_monitor",
                &mut framework.enable_shard_monitor,
            ),
            (
                "ENABLE_SHARD_MANAGER",
                "enable_shard_manager",
                &mut framework.enable_shard_manager,
            ),
        ];
        for (variable, key, field) in toggles {
            if let Some(&on) = env.toggles.get(variable) {
                *field = on;
                set(
                    &mut self.raw,
                    &["framework", key],
                    serde_json::Value::Bool(on),
                );
            }
        }
        if let Some(base) = &env.api_base {
            self.core.discord.api_base = Some(base.clone());
            set(
                &mut self.raw,
                &["discord", "api_base"],
                serde_json::Value::String(base.clone()),
            );
        }
        if let Some(base) = &env.cdn_base {
            self.core.discord.cdn_base = Some(base.clone());
            set(
                &mut self.raw,
                &["discord", "cdn_base"],
                serde_json::Value::String(base.clone()),
            );
        }
        if let Some(url) = &env.gateway_url {
            self.core.discord.gateway_url = Some(url.clone());
            set(
                &mut self.raw,
                &["discord", "gateway_url"],
                serde_json::Value::String(url.clone()),
            );
        }
        if let Some(url) = &env.gateway_queue {
            self.core.discord.gateway_queue = Some(url.clone());
            set(
                &mut self.raw,
                &["discord", "gateway_queue"],
                serde_json::Value::String(url.clone()),
            );
        }
        let cluster = &env.cluster;
        let strings = [
            ("mode", &cluster.mode, &mut self.core.cluster.mode),
            ("host", &cluster.host, &mut self.core.cluster.host),
            ("name", &cluster.name, &mut self.core.cluster.name),
        ];
        for (key, value, field) in strings {
            if let Some(value) = value {
                field.clone_from(value);
                set(
                    &mut self.raw,
                    &["cluster", key],
                    serde_json::Value::String(value.clone()),
                );
            }
        }
        let tls = [
            (
                "tls_cert",
                &cluster.tls_cert,
                &mut self.core.cluster.tls_cert,
            ),
            ("tls_key", &cluster.tls_key, &mut self.core.cluster.tls_key),
            ("tls_ca", &cluster.tls_ca, &mut self.core.cluster.tls_ca),
            (
                "tls_server_name",
                &cluster.tls_server_name,
                &mut self.core.cluster.tls_server_name,
            ),
        ];
        for (key, value, field) in tls {
            if let Some(value) = value {
                *field = Some(value.clone());
                set(
                    &mut self.raw,
                    &["cluster", key],
                    serde_json::Value::String(value.clone()),
                );
            }
        }
        if let Some(port) = cluster.port {
            self.core.cluster.port = port;
            set(
                &mut self.raw,
                &["cluster", "port"],
                serde_json::Value::from(port),
            );
        }
        // The secret goes to the typed keys only, not to the document others read.
        if let Some(secret) = &cluster.secret {
            self.core.cluster.secret = Some(secret.clone());
        }
        // A secret too: the typed keys only.
        if let Some(secret) = &env.dashboard_oauth_secret {
            self.core.dashboard.oauth_client_secret = Some(secret.clone());
        }
        if let Some(bind) = env.health_bind {
            self.core.health.bind = Some(bind.to_string());
            set(
                &mut self.raw,
                &["health", "bind"],
                serde_json::Value::String(bind.to_string()),
            );
        }
        self
    }
}

/// Sets `raw[keys...] = value`, making objects on the way.
fn set(raw: &mut serde_json::Value, keys: &[&str], value: serde_json::Value) {
    let mut node = raw;
    for key in keys {
        if !node.is_object() {
            *node = serde_json::Value::Object(serde_json::Map::new());
        }
        let serde_json::Value::Object(map) = node else {
            return;
        };
        node = map
            .entry((*key).to_owned())
            .or_insert(serde_json::Value::Null);
    }
    *node = value;
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
