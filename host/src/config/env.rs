//! The environment (`.env` and the process environment): token, owner, sharding, API base.
//!
//! Parsed from a plain map so tests need not touch the process environment.

use std::collections::HashMap;

/// A variable that is set but cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("environment variable {name}=`{value}`: {expected}")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// The form it should have.
    pub expected: &'static str,
}

/// What the bot reads from its environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BotEnv {
    /// `DISCORD_TOKEN`; `None` (or empty) runs offline against the built-in simulator.
    pub token: Option<String>,
    /// `BOT_OWNER_ID`: the primary owner.
    pub owner_id: Option<u64>,
    /// `SHARD_COUNT`: total shards; `None` with no `SHARD_IDS` is automatic sharding.
    pub shard_count: Option<u32>,
    /// `SHARD_IDS`: the shards this process runs (`0,1`); requires `SHARD_COUNT`.
    pub shard_ids: Option<Vec<u32>>,
    /// `DISCORD_API_BASE`: overrides `discord.api_base`.
    pub api_base: Option<String>,
    /// `DISCORD_CDN_BASE`: overrides `discord.cdn_base`.
    pub cdn_base: Option<String>,
    /// `DISCORD_GATEWAY_URL`: overrides `discord.gateway_url`.
    pub gateway_url: Option<String>,
    /// `DISCORD_GATEWAY_QUEUE`: overrides `discord.gateway_queue`.
    pub gateway_queue: Option<String>,
    /// `ZORYX_HEALTH_BIND`: overrides `health.bind` (the health endpoint's address).
    pub health_bind: Option<std::net::SocketAddr>,
    /// `ENABLE_*` toggles that take precedence over `config.json`'s `framework.*` keys, by
    /// variable name (`ENABLE_SHARD_MONITOR`, ...).
    pub toggles: HashMap<String, bool>,
    /// `SHARD_IPC_MODE`, `SHARD_IPC_HOST`, `SHARD_IPC_PORT`, `SHARD_IPC_SECRET`,
    /// `SHARD_CLUSTER_NAME`, `SHARD_IPC_TLS_CERT`, `SHARD_IPC_TLS_KEY`, `SHARD_IPC_TLS_CA`,
    /// `SHARD_IPC_TLS_SERVER_NAME`: override `cluster.*`.
    pub cluster: ClusterEnv,
    /// `DASHBOARD_OAUTH_CLIENT_SECRET`: overrides `dashboard.oauth_client_secret`; never shown.
    pub dashboard_oauth_secret: Option<String>,
}

/// The shard manager's variables (each overrides its `cluster.*` key).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClusterEnv {
    /// `SHARD_IPC_MODE`: `server` or `client`.
    pub mode: Option<String>,
    /// `SHARD_IPC_HOST`.
    pub host: Option<String>,
    /// `SHARD_IPC_PORT`.
    pub port: Option<u16>,
    /// `SHARD_IPC_SECRET`; never shown.
    pub secret: Option<String>,
    /// `SHARD_CLUSTER_NAME`.
    pub name: Option<String>,
    /// `SHARD_IPC_TLS_CERT`.
    pub tls_cert: Option<String>,
    /// `SHARD_IPC_TLS_KEY`.
    pub tls_key: Option<String>,
    /// `SHARD_IPC_TLS_CA`.
    pub tls_ca: Option<String>,
    /// `SHARD_IPC_TLS_SERVER_NAME`.
    pub tls_server_name: Option<String>,
}

impl std::fmt::Debug for ClusterEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterEnv")
            .field("mode", &self.mode)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("tls_ca", &self.tls_ca)
            .field("tls_server_name", &self.tls_server_name)
            .finish()
    }
}

impl std::fmt::Debug for BotEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotEnv")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("owner_id", &self.owner_id)
            .field("shard_count", &self.shard_count)
            .field("shard_ids", &self.shard_ids)
            .field("api_base", &self.api_base)
            .field("cdn_base", &self.cdn_base)
            .field("gateway_url", &self.gateway_url)
            .field("gateway_queue", &self.gateway_queue)
            .field("health_bind", &self.health_bind)
            .field("toggles", &self.toggles)
            .field("cluster", &self.cluster)
            .field(
                "dashboard_oauth_secret",
                &self.dashboard_oauth_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn non_empty<'a>(vars: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    vars.get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty() && !v.starts_with('#'))
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, EnvError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" | "on" => Ok(true),
        "false" | "no" | "0" | "n" | "off" => Ok(false),
        _ => Err(EnvError {
            name,
            value: value.to_owned(),
            expected: "true or false",
        }),
    }
}

/// The `ENABLE_*` variables the seed defines.
pub const TOGGLES: [&str; 2] = ["ENABLE_SHARD_MONITOR", "ENABLE_SHARD_MANAGER"];

impl BotEnv {
    /// Reads the process environment (after `.env` has been applied to it).
    pub fn from_process() -> Result<Self, EnvError> {
        Self::from_map(&std::env::vars().collect())
    }

    /// Parses the variables in `vars`.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, EnvError> {
        let number =
            |name: &'static str, expected: &'static str| -> Result<Option<u64>, EnvError> {
                non_empty(vars, name)
                    .map(|v| {
                        v.parse::<u64>().map_err(|_| EnvError {
                            name,
                            value: v.to_owned(),
                            expected,
                        })
                    })
                    .transpose()
            };
        let owner_id = number("BOT_OWNER_ID", "a Discord user id (digits only)")?;
        let shard_count = number("SHARD_COUNT", "a whole number of shards, 1 or more")?
            .map(|n| {
                u32::try_from(n).ok().filter(|n| *n >= 1).ok_or(EnvError {
                    name: "SHARD_COUNT",
                    value: n.to_string(),
                    expected: "a whole number of shards, 1 or more",
                })
            })
            .transpose()?;
        let shard_ids = non_empty(vars, "SHARD_IDS")
            .map(|v| {
                v.split(',')
                    .map(|id| id.trim().parse::<u32>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| EnvError {
                        name: "SHARD_IDS",
                        value: v.to_owned(),
                        expected: "comma-separated shard numbers such as 0,1",
                    })
            })
            .transpose()?;
        if let Some(ids) = &shard_ids {
            let Some(count) = shard_count else {
                return Err(EnvError {
                    name: "SHARD_IDS",
                    value: non_empty(vars, "SHARD_IDS").unwrap_or_default().to_owned(),
                    expected: "needs SHARD_COUNT as well",
                });
            };
            if let Some(bad) = ids.iter().find(|id| **id >= count) {
                return Err(EnvError {
                    name: "SHARD_IDS",
                    value: bad.to_string(),
                    expected: "shard numbers below SHARD_COUNT",
                });
            }
        }
        let health_bind = non_empty(vars, "ZORYX_HEALTH_BIND")
            .map(|v| {
                v.parse().map_err(|_| EnvError {
                    name: "ZORYX_HEALTH_BIND",
                    value: v.to_owned(),
                    expected: "an IP address and port such as 127.0.0.1:8081",
                })
            })
            .transpose()?;
        let mode = non_empty(vars, "SHARD_IPC_MODE")
            .map(|v| match v.to_ascii_lowercase().as_str() {
                m @ ("server" | "client") => Ok(m.to_owned()),
                _ => Err(EnvError {
                    name: "SHARD_IPC_MODE",
                    value: v.to_owned(),
                    expected: "server or client",
                }),
            })
            .transpose()?;
        let port = non_empty(vars, "SHARD_IPC_PORT")
            .map(|v| {
                v.parse::<u16>().map_err(|_| EnvError {
                    name: "SHARD_IPC_PORT",
                    value: v.to_owned(),
                    expected: "a port number (0-65535)",
                })
            })
            .transpose()?;
        let cluster = ClusterEnv {
            mode,
            host: non_empty(vars, "SHARD_IPC_HOST").map(str::to_owned),
            port,
            // Taken as it is (not trimmed): it is a secret.
            secret: vars
                .get("SHARD_IPC_SECRET")
                .filter(|v| !v.is_empty())
                .cloned(),
            name: non_empty(vars, "SHARD_CLUSTER_NAME").map(str::to_owned),
            tls_cert: non_empty(vars, "SHARD_IPC_TLS_CERT").map(str::to_owned),
            tls_key: non_empty(vars, "SHARD_IPC_TLS_KEY").map(str::to_owned),
            tls_ca: non_empty(vars, "SHARD_IPC_TLS_CA").map(str::to_owned),
            tls_server_name: non_empty(vars, "SHARD_IPC_TLS_SERVER_NAME").map(str::to_owned),
        };
        let mut toggles = HashMap::new();
        for name in TOGGLES {
            if let Some(value) = non_empty(vars, name) {
                toggles.insert(name.to_owned(), parse_bool(name, value)?);
            }
        }
        Ok(Self {
            token: non_empty(vars, "DISCORD_TOKEN").map(str::to_owned),
            owner_id,
            shard_count,
            shard_ids,
            api_base: non_empty(vars, "DISCORD_API_BASE").map(str::to_owned),
            cdn_base: non_empty(vars, "DISCORD_CDN_BASE").map(str::to_owned),
            gateway_url: non_empty(vars, "DISCORD_GATEWAY_URL").map(str::to_owned),
            gateway_queue: non_empty(vars, "DISCORD_GATEWAY_QUEUE").map(str::to_owned),
            health_bind,
            toggles,
            cluster,
            // Taken as it is (not trimmed): it is a secret.
            dashboard_oauth_secret: vars
                .get("DASHBOARD_OAUTH_CLIENT_SECRET")
                .filter(|v| !v.is_empty())
                .cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<BotEnv, EnvError> {
        BotEnv::from_map(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn empty_token_is_offline_and_values_parse() {
        let parsed = env(&[
            ("DISCORD_TOKEN", ""),
            ("BOT_OWNER_ID", "42"),
            ("SHARD_COUNT", "2"),
            ("SHARD_IDS", "0, 1"),
            ("ENABLE_SHARD_MANAGER", "false"),
        ])
        .expect("valid");
        assert_eq!(parsed.token, None);
        assert_eq!(parsed.owner_id, Some(42));
        assert_eq!(parsed.shard_ids, Some(vec![0, 1]));
        assert_eq!(parsed.toggles.get("ENABLE_SHARD_MANAGER"), Some(&false));
        assert!(!format!("{parsed:?}").contains("42x"));
    }

    #[test]
    fn the_cluster_variables_parse_and_the_secret_is_never_shown() {
        let parsed = env(&[
            ("SHARD_IPC_MODE", "Client"),
            ("SHARD_IPC_HOST", "10.0.0.2"),
            ("SHARD_IPC_PORT", "20001"),
            ("SHARD_IPC_SECRET", "a-very-long-shared-secret"),
            ("SHARD_CLUSTER_NAME", "cluster-1"),
            ("SHARD_IPC_TLS_CA", "/etc/zoryx/ca.pem"),
            ("SHARD_IPC_TLS_SERVER_NAME", "ipc.internal"),
        ])
        .expect("valid");
        assert_eq!(parsed.cluster.mode.as_deref(), Some("client"));
        assert_eq!(parsed.cluster.tls_ca.as_deref(), Some("/etc/zoryx/ca.pem"));
        assert_eq!(
            parsed.cluster.tls_server_name.as_deref(),
            Some("ipc.internal")
        );
        assert_eq!(parsed.cluster.tls_cert, None);
        assert_eq!(parsed.cluster.port, Some(20001));
        assert_eq!(
            parsed.cluster.secret.as_deref(),
            Some("a-very-long-shared-secret")
        );
        let shown = format!("{parsed:?}");
        assert!(
            shown.contains("cluster-1") && !shown.contains("a-very-long"),
            "{shown}"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let error = env(&[("BOT_OWNER_ID", "me")]).expect_err("not a number");
        assert_eq!(error.name, "BOT_OWNER_ID");
        let error = env(&[("SHARD_IDS", "0,1")]).expect_err("no count");
        assert!(error.to_string().contains("SHARD_COUNT"), "{error}");
        let error = env(&[("SHARD_COUNT", "2"), ("SHARD_IDS", "0,2")]).expect_err("out of range");
        assert_eq!(error.name, "SHARD_IDS");
        let error = env(&[("ZORYX_HEALTH_BIND", "localhost")]).expect_err("no port");
        assert_eq!(error.name, "ZORYX_HEALTH_BIND");
        let error = env(&[("SHARD_IPC_MODE", "primary")]).expect_err("no such mode");
        assert_eq!(error.name, "SHARD_IPC_MODE");
        let error = env(&[("SHARD_IPC_PORT", "70000")]).expect_err("not a port");
        assert_eq!(error.name, "SHARD_IPC_PORT");
        let error = env(&[("ENABLE_SHARD_MONITOR", "maybe")]).expect_err("not a bool");
        assert!(error.to_string().contains("true or false"), "{error}");
    }
}
