//! `zoryx health`: asks the configured endpoint whether the bot is up.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::HealthError;
use crate::config::{BotEnv, Config};

/// How long `zoryx health` waits for an answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One answer of the endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// What was asked.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The body (the JSON report).
    pub body: String,
}

impl Probe {
    /// Whether the endpoint said every shard is up (200).
    pub fn healthy(&self) -> bool {
        self.status == 200
    }
}

/// The address `zoryx health` asks: `addr` if given, else `ZORYX_HEALTH_BIND` (the process
/// environment, then the `.env` beside `config`), else `health.bind` in `config`. An unspecified
/// address (`0.0.0.0`, `::`) is asked on loopback.
pub fn target(config: &Path, addr: Option<SocketAddr>) -> Result<SocketAddr, HealthError> {
    let addr = match addr {
        Some(addr) => addr,
        None => {
            let env_file = config.parent().unwrap_or(Path::new("")).join(".env");
            let mut vars: HashMap<String, String> = match dotenvy::from_path_iter(&env_file) {
                Ok(iter) => iter.filter_map(Result::ok).collect(),
                Err(_) => HashMap::new(),
            };
            vars.extend(std::env::vars());
            let env = BotEnv::from_map(&vars).map_err(|e| HealthError::Config(e.to_string()))?;
            let file = Config::load(config).map_err(|e| HealthError::Config(e.to_string()))?;
            env.health_bind
                .or_else(|| file.core.health.address())
                .ok_or_else(|| HealthError::Off {
                    config: config.display().to_string(),
                })?
        }
    };
    if addr.port() == 0 {
        return Err(HealthError::Config(format!(
            "the health endpoint's address {addr} has port 0 (any free port): pass the port it printed with --addr"
        )));
    }
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, addr.port()))
}

/// `GET http://ADDR/healthz`, waiting up to `timeout`.
pub async fn probe(addr: SocketAddr, timeout: Duration) -> Result<Probe, HealthError> {
    let url = format!("http://{addr}/healthz");
    let failed = |source| HealthError::Request {
        url: url.clone(),
        source,
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(failed)?;
    let response = client.get(&url).send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(failed)?;
    Ok(Probe { url, status, body })
}

/// `zoryx health [--addr ADDR]`: `Ok(line)` when the endpoint answers 200, else `Err(line)`
/// saying what it answered or why it could not be asked. Runs its own small runtime.
pub fn check(config: &Path, addr: Option<SocketAddr>) -> Result<String, String> {
    let addr = target(config, addr).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let answer = runtime
        .block_on(probe(addr, TIMEOUT))
        .map_err(|e| format!("unhealthy: {e}"))?;
    let line = format!("{} {}: {}", answer.url, answer.status, answer.body.trim());
    if answer.healthy() {
        Ok(format!("healthy: {line}"))
    } else {
        Err(format!("unhealthy: {line}"))
    }
}
