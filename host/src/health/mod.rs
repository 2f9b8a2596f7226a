//! The health endpoint: `GET /healthz` on a local port, for service managers, container health
//! checks and load balancers.
//!
//! Off unless `health.bind` (or `ZORYX_HEALTH_BIND`) names an address. It answers 200 when
//! every shard of this process is connected, 503 otherwise (starting, reconnecting, stopped),
//! both with the same JSON body: the gateway's state and each shard's id, state and heartbeat
//! latency ([`GatewayReport`]). `GET /metrics` is the framework diagnostics' figures in
//! Prometheus' text format (see [`crate::diagnostics::prometheus`]). Every other path is 404. The states come from the Discord
//! layer through a [`GatewayStatus`], so it works the same online and in offline mode.
//!
//! [`check`] is `zoryx health`: it asks the configured endpoint and says whether it is
//! healthy, so a container image needs no HTTP tool for its `HEALTHCHECK`.

mod probe;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use crate::config::HealthConfig;
use crate::diagnostics::Diagnostics;
use crate::discord::{GatewayReport, GatewayStatus};

pub use probe::{Probe, check, probe, target};

/// The process's resident memory in bytes (sysinfo), where the platform tells it.
pub fn rss_bytes() -> Option<u64> {
    process_usage().map(|usage| usage.rss_bytes)
}

/// What the process uses now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessUsage {
    /// Resident memory in bytes.
    pub rss_bytes: u64,
    /// Its threads, where the platform lists them (Linux).
    pub threads: Option<usize>,
}

/// The process's resident memory and threads (sysinfo), where the platform tells them.
pub fn process_usage() -> Option<ProcessUsage> {
    let pid = sysinfo::get_current_pid().ok()?;
    let mut system = sysinfo::System::new();
    system.refresh_processes(sysinfo::ProcessesToUpdate::Some(&[pid]), true);
    let process = system.process(pid)?;
    Some(ProcessUsage {
        rss_bytes: process.memory(),
        threads: process.tasks().map(std::collections::HashSet::len),
    })
}

/// Why the endpoint could not start or be asked.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The address could not be bound.
    #[error("cannot serve the health endpoint on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `zoryx health` found no address to ask.
    #[error(
        "the health endpoint is off: set health.bind in {config} (e.g. \"127.0.0.1:8081\") or ZORYX_HEALTH_BIND"
    )]
    Off {
        /// The config file read.
        config: String,
    },
    /// The config file or the environment could not be read.
    #[error("{0}")]
    Config(String),
    /// The endpoint did not answer.
    #[error("{url}: no answer: {source}")]
    Request {
        /// What was asked.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
}

/// A running endpoint. Dropping it leaves it serving until the runtime ends; call
/// [`HealthServer::shutdown`] to stop it.
#[derive(Debug)]
pub struct HealthServer {
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl HealthServer {
    /// The address it is bound to (the real port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDRESS/healthz`.
    pub fn url(&self) -> String {
        format!("http://{}/healthz", self.addr)
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// What the endpoint reports.
#[derive(Clone)]
struct Sources {
    gateway: GatewayStatus,
    diagnostics: Option<Arc<Diagnostics>>,
}

/// Serves the endpoint on `bind`, reporting `gateway` (and `diagnostics` on `/metrics`, when
/// given and on).
pub async fn start(
    bind: SocketAddr,
    gateway: GatewayStatus,
    diagnostics: Option<Arc<Diagnostics>>,
) -> Result<HealthServer, HealthError> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|source| HealthError::Bind { addr: bind, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| HealthError::Bind { addr: bind, source })?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(Sources {
            gateway,
            diagnostics,
        });
    let stop = CancellationToken::new();
    let token = stop.clone();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(token.cancelled_owned());
        if let Err(error) = serve.await {
            tracing::warn!(%error, "the health endpoint stopped");
        }
    });
    tracing::info!(%addr, url = %format!("http://{addr}/healthz"), "health endpoint listening");
    Ok(HealthServer { addr, stop, task })
}

/// Serves the endpoint if `config` turns it on; `None` when it is off.
pub async fn start_configured(
    config: &HealthConfig,
    gateway: &GatewayStatus,
    diagnostics: Option<&Arc<Diagnostics>>,
) -> Result<Option<HealthServer>, HealthError> {
    match config.address() {
        Some(bind) => start(bind, gateway.clone(), diagnostics.cloned())
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// `GET /metrics`: the diagnostics' figures as Prometheus text; 404 when framework
/// diagnostics are off.
async fn metrics(State(sources): State<Sources>) -> Response {
    match sources.diagnostics.filter(|d| d.enabled()) {
        Some(diagnostics) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            diagnostics.prometheus().await,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "framework diagnostics are off (framework.enable_framework_diagnostics)\n",
        )
            .into_response(),
    }
}

async fn healthz(State(sources): State<Sources>) -> Response {
    let report: GatewayReport = sources.gateway.report().await;
    let status = if report.is_up() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(report),
    )
        .into_response()
}
