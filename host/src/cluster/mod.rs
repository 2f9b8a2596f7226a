//! The shard manager: the host processes ("clusters") of one bot linked by the cluster IPC
//! (`zoryx-ipc`).
//!
//! [`start`] is the one entry point. With `framework.enable_shard_manager` on, it runs the IPC
//! server (`cluster.mode` `server`) or a client of it (`client`) as `cluster.*` says (each key
//! overridden by its `SHARD_IPC_*` variable), and refuses to start without a usable secret.
//! From then on:
//! - the Discord layer publishes this cluster's figures (guilds, members, shards, latency,
//!   uptime) every `cluster.stats_interval_seconds` ([`Cluster::publish`]); the server lists
//!   its own with the clients';
//! - plugins read every cluster and the totals ([`Cluster::overview`]), the link
//!   ([`Cluster::status`]) and send texts to the other clusters ([`Cluster::broadcast`]),
//!   through `Host::clusters`, `Host::ipc_status` and `Host::broadcast`;
//! - texts broadcast by other clusters reach this host's plugins as the `cluster_broadcast`
//!   hook ([`zoryx_plugin_api::ClusterBroadcast`]);
//! - [`Cluster::shutdown`], in the host's graceful stop, closes the link, so the server drops a
//!   client at once.

mod convert;

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::{RwLock, mpsc};
use tokio::task::JoinHandle;
use zoryx_ipc::{
    Client, ClientConfig, ClientEvent, ClientTls, ClusterStats, IpcError, Message, Secret, Server,
    ServerConfig, ServerEvent, ServerTls, TlsError,
};
use zoryx_plugin_api::cluster::{SHARD_MANAGER_OFF, cut_broadcast};
use zoryx_plugin_api::{ClusterBroadcast, ClusterOverview, HookPayload, IpcPeer, IpcStatus};

use crate::config::CoreConfig;
use crate::runtime::Dispatcher;

pub use convert::stats_from_shards;

/// The op of a broadcast text, as the original framework names it.
pub const BROADCAST_OP: &str = "broadcast_message";

/// The secret the original framework ships in its example `.env`; refused as it refuses it.
const EXAMPLE_SECRET: &str = "change_me_please";

/// Why the shard manager did not start, or a cluster call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The shard manager is on but no secret is set.
    #[error(
        "the shard manager is on but has no secret: set SHARD_IPC_SECRET (or cluster.secret), \
         at least {} bytes, the same in every cluster",
        Secret::MIN_LEN
    )]
    NoSecret,
    /// The secret is too short.
    #[error(
        "SHARD_IPC_SECRET (cluster.secret) is too short: at least {} bytes",
        Secret::MIN_LEN
    )]
    ShortSecret,
    /// The secret is the example one.
    #[error(
        "SHARD_IPC_SECRET (cluster.secret) is still the example `change_me_please`: set a real secret"
    )]
    ExampleSecret,
    /// `cluster.mode` is neither `server` nor `client`.
    #[error("SHARD_IPC_MODE (cluster.mode) must be server or client, got {0:?}")]
    Mode(String),
    /// A client needs the server's port.
    #[error("a client cluster needs the server's port: set SHARD_IPC_PORT (cluster.port)")]
    NoPort,
    /// TLS is on but this cluster's side of it is not set.
    #[error(
        "the cluster link's TLS is on (a cluster.tls_* key or SHARD_IPC_TLS_* variable is set) but {0}"
    )]
    TlsIncomplete(&'static str),
    /// A TLS file cannot be used.
    #[error("cluster link TLS: {0}")]
    Tls(#[from] TlsError),
    /// The IPC server or client could not start, or a call over it failed.
    #[error("cluster IPC: {0}")]
    Ipc(#[from] IpcError),
}

/// TLS for the link, loaded from `cluster.tls_*`.
#[derive(Clone, Debug)]
enum Tls {
    Server(ServerTls),
    Client(ClientTls),
}

/// What the link needs, resolved from `cluster.*`.
#[derive(Clone, Debug)]
struct Settings {
    server: bool,
    host: String,
    port: u16,
    name: String,
    secret: Secret,
    stats_interval: Duration,
    tls: Option<Tls>,
}

impl Settings {
    fn from_config(core: &CoreConfig) -> Result<Self, ClusterError> {
        let c = &core.cluster;
        let server = match c.mode.as_str() {
            "server" => true,
            "client" => false,
            other => return Err(ClusterError::Mode(other.to_owned())),
        };
        let secret = c.secret.as_deref().ok_or(ClusterError::NoSecret)?;
        if secret == EXAMPLE_SECRET {
            return Err(ClusterError::ExampleSecret);
        }
        let secret = Secret::new(secret.as_bytes()).map_err(|_| ClusterError::ShortSecret)?;
        if !server && c.port == 0 {
            return Err(ClusterError::NoPort);
        }
        let host = c.host.trim().to_owned();
        let tls = Self::tls(c, server, &host)?;
        Ok(Self {
            server,
            host,
            port: c.port,
            name: c.name.clone(),
            secret,
            stats_interval: Duration::from_secs(c.stats_interval_seconds.max(1)),
            tls,
        })
    }

    /// The link's TLS, its PEM files read and checked now: on as soon as one `tls_*` key is
    /// set; a server then needs its certificate and key, a client the certificates it trusts
    /// (and the server's name, `host` unless `tls_server_name` says otherwise).
    fn tls(
        c: &crate::config::ClusterConfig,
        server: bool,
        host: &str,
    ) -> Result<Option<Tls>, ClusterError> {
        let path = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from)
        };
        let (cert, key, ca) = (path(&c.tls_cert), path(&c.tls_key), path(&c.tls_ca));
        let name = c
            .tls_server_name
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if cert.is_none() && key.is_none() && ca.is_none() && name.is_none() {
            return Ok(None);
        }
        if server {
            let (Some(cert), Some(key)) = (cert, key) else {
                return Err(ClusterError::TlsIncomplete(
                    "the server needs SHARD_IPC_TLS_CERT and SHARD_IPC_TLS_KEY (cluster.tls_cert, cluster.tls_key): its certificate and private key, PEM files",
                ));
            };
            return Ok(Some(Tls::Server(ServerTls::from_pem_files(&cert, &key)?)));
        }
        let Some(ca) = ca else {
            return Err(ClusterError::TlsIncomplete(
                "a client needs SHARD_IPC_TLS_CA (cluster.tls_ca): a PEM file of the certificates it trusts",
            ));
        };
        let name = name.unwrap_or(host.trim_start_matches('[').trim_end_matches(']'));
        Ok(Some(Tls::Client(ClientTls::from_pem_file(&ca, name)?)))
    }

    fn mode(&self) -> &'static str {
        if self.server { "server" } else { "client" }
    }
}

enum Link {
    Server(Server),
    Client(Client),
}

/// What the event loop learns about the link.
#[derive(Default)]
struct LinkState {
    /// A client: the server's cluster name once connected.
    server_name: Option<String>,
    /// The last connection problem.
    last_error: Option<String>,
}

/// A running shard manager: this host's place among the bot's clusters.
pub struct Cluster {
    settings: Settings,
    /// The bound port (a server started on port 0 learns it here).
    port: u16,
    link: RwLock<Option<Link>>,
    state: Arc<Mutex<LinkState>>,
    events: Mutex<Option<JoinHandle<()>>>,
    started: Instant,
    heartbeat_interval: Duration,
    heartbeat_timeout: Duration,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.settings.name)
            .field("mode", &self.settings.mode())
            .field("host", &self.settings.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts the shard manager when `framework.enable_shard_manager` is on (`None` when it is
/// off): binds the IPC server or starts the client. Broadcasts from other clusters go to the
/// `cluster_broadcast` hooks of `dispatcher`'s plugins. Fails, with what to set, on a missing,
/// short or example secret, a bad mode, or an address that cannot be bound.
pub async fn start(
    core: &CoreConfig,
    dispatcher: &Arc<Dispatcher>,
) -> Result<Option<Arc<Cluster>>, ClusterError> {
    if !core.framework.enable_shard_manager {
        return Ok(None);
    }
    let settings = Settings::from_config(core)?;
    let state = Arc::new(Mutex::new(LinkState::default()));
    let hooks = Arc::downgrade(dispatcher);
    let address = if settings.host.contains(':') && !settings.host.starts_with('[') {
        format!("[{}]:{}", settings.host, settings.port)
    } else {
        format!("{}:{}", settings.host, settings.port)
    };
    let mut server_config = ServerConfig::new(settings.name.clone(), settings.secret.clone());
    let mut client_config =
        ClientConfig::new(settings.name.clone(), settings.secret.clone(), address);
    client_config.stats_interval = settings.stats_interval;
    match &settings.tls {
        Some(Tls::Server(tls)) => server_config.tls = Some(tls.clone()),
        Some(Tls::Client(tls)) => client_config.tls = Some(tls.clone()),
        None => {}
    }
    let heartbeat_interval = client_config.heartbeat_interval;
    let heartbeat_timeout = server_config.heartbeat_timeout;
    let (link, port, events) = if settings.server {
        let (server, rx) = Server::bind(client_config.server_addr.as_str(), server_config).await?;
        let port = server.local_addr().port();
        let events = tokio::spawn(server_events(rx, Arc::clone(&state), hooks));
        (Link::Server(server), port, events)
    } else {
        let (client, rx) = Client::start(client_config)?;
        let events = tokio::spawn(client_events(rx, Arc::clone(&state), hooks));
        (Link::Client(client), settings.port, events)
    };
    tracing::info!(
        cluster = %settings.name,
        mode = settings.mode(),
        host = %settings.host,
        port,
        tls = settings.tls.is_some(),
        "shard manager started"
    );
    Ok(Some(Arc::new(Cluster {
        settings,
        port,
        link: RwLock::new(Some(link)),
        state,
        events: Mutex::new(Some(events)),
        started: Instant::now(),
        heartbeat_interval,
        heartbeat_timeout,
    })))
}

impl Cluster {
    /// This cluster's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Whether this cluster runs the IPC server.
    pub fn is_server(&self) -> bool {
        self.settings.server
    }

    /// The port the server listens on (the bound one when `cluster.port` was 0), or the one
    /// the client connects to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How often the Discord layer publishes this cluster's figures.
    pub fn stats_interval(&self) -> Duration {
        self.settings.stats_interval
    }

    /// Seconds since the shard manager started (with the host).
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whether the link is up: a server always, a client while authenticated.
    pub async fn is_connected(&self) -> bool {
        match self.link.read().await.as_ref() {
            Some(Link::Server(_)) => true,
            Some(Link::Client(client)) => client.is_connected(),
            None => false,
        }
    }

    /// Sets this cluster's figures: the server lists them with the clients', a client sends
    /// them to the server (now, and again on every interval and reconnect).
    pub async fn publish(&self, mut stats: ClusterStats) {
        stats
            .extra
            .insert("mode".to_owned(), json!(self.settings.mode()));
        stats
            .extra
            .insert("cluster_name".to_owned(), json!(self.settings.name));
        match self.link.read().await.as_ref() {
            Some(Link::Server(server)) => server.set_own_stats(stats),
            Some(Link::Client(client)) => client.set_stats(stats),
            None => {}
        }
    }

    /// Every cluster with its figures, heartbeat age and health, and the totals. `local` (this
    /// cluster's figures now) replaces what the server last heard from this cluster. A client
    /// that is not connected lists itself only.
    pub async fn overview(&self, local: ClusterStats) -> Result<ClusterOverview, ClusterError> {
        self.publish(local.clone()).await;
        let guard = self.link.read().await;
        let (overview, server) = match guard.as_ref() {
            Some(Link::Server(server)) => (server.clusters(), self.settings.name.clone()),
            Some(Link::Client(client)) => {
                let server = lock(&self.state).server_name.clone().unwrap_or_default();
                match client.clusters().await {
                    Ok(overview) => (overview, server),
                    Err(e @ (IpcError::NotConnected | IpcError::Timeout)) => {
                        tracing::debug!(error = %e, "cluster overview: this cluster only");
                        (zoryx_ipc::ClusterOverview::default(), server)
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            None => return Err(ClusterError::Ipc(IpcError::Closed)),
        };
        Ok(convert::overview(
            overview,
            &self.settings.name,
            self.settings.mode(),
            &server,
            &local,
        ))
    }

    /// The link: mode, address, connection, connected clusters and their heartbeats, the last
    /// error. Never the secret.
    pub async fn status(&self) -> IpcStatus {
        let mut status = IpcStatus::default();
        status.mode = self.settings.mode().to_owned();
        status.cluster = self.settings.name.clone();
        status.host = self.settings.host.clone();
        status.port = self.port;
        status.heartbeat_interval_seconds = self.heartbeat_interval.as_secs_f64();
        status.heartbeat_timeout_seconds = self.heartbeat_timeout.as_secs_f64();
        status.stats_interval_seconds = self.settings.stats_interval.as_secs();
        {
            let state = lock(&self.state);
            status.last_error = state.last_error.clone();
            status.server = state.server_name.clone();
        }
        match self.link.read().await.as_ref() {
            Some(Link::Server(server)) => {
                status.connected = true;
                status.server = Some(self.settings.name.clone());
                status.peers = server
                    .clusters()
                    .clusters
                    .into_iter()
                    .filter(|c| c.name != self.settings.name)
                    .map(|c| {
                        let mut peer = IpcPeer::default();
                        peer.name = c.name;
                        peer.heartbeat_age_seconds = c.last_heartbeat_age;
                        peer.connected_at_unix = convert::unix(c.connected_at);
                        peer
                    })
                    .collect();
            }
            Some(Link::Client(client)) => status.connected = client.is_connected(),
            None => status.last_error = Some("the shard manager has stopped".to_owned()),
        }
        status
    }

    /// Sends `message` (cut to 500 characters) to every other cluster; returns how many it
    /// went to. A client that is not connected fails.
    pub async fn broadcast(
        &self,
        message: &str,
        author: Option<&str>,
        author_id: Option<u64>,
    ) -> Result<u64, ClusterError> {
        let mut data = Map::new();
        data.insert("message".to_owned(), Value::String(cut_broadcast(message)));
        if let Some(author) = author {
            data.insert("author".to_owned(), json!(author));
        }
        if let Some(id) = author_id {
            data.insert("author_id".to_owned(), json!(id));
        }
        let guard = self.link.read().await;
        match guard.as_ref() {
            Some(Link::Server(server)) => {
                let sent = server.send(Message::new(BROADCAST_OP, data));
                Ok(sent as u64)
            }
            Some(Link::Client(client)) => {
                client.send(Message::new(BROADCAST_OP, data))?;
                // The server takes it and routes it to every other client.
                let others = match client.clusters().await {
                    Ok(overview) => overview
                        .clusters
                        .iter()
                        .filter(|c| c.name != self.settings.name)
                        .count() as u64,
                    Err(_) => 1,
                };
                Ok(others.max(1))
            }
            None => Err(ClusterError::Ipc(IpcError::Closed)),
        }
    }

    /// Closes the link (the server tells its clients; a client leaves the server's list) and
    /// stops the event loop. Later calls answer that the shard manager has stopped.
    pub async fn shutdown(&self) {
        let link = self.link.write().await.take();
        match link {
            Some(Link::Server(server)) => server.shutdown().await,
            Some(Link::Client(client)) => client.shutdown().await,
            None => return,
        }
        let events = lock(&self.events).take();
        if let Some(events) = events {
            // Its channel closed with the link: it ends by itself.
            let _ = tokio::time::timeout(Duration::from_secs(2), events).await;
        }
        tracing::info!(cluster = %self.settings.name, "shard manager stopped");
    }
}

/// The error a plugin gets from a cluster call when the shard manager is off.
pub fn off() -> zoryx_plugin_api::PluginError {
    zoryx_plugin_api::PluginError::user(SHARD_MANAGER_OFF)
}

async fn server_events(
    mut rx: mpsc::Receiver<ServerEvent>,
    state: Arc<Mutex<LinkState>>,
    hooks: Weak<Dispatcher>,
) {
    while let Some(event) = rx.recv().await {
        match event {
            ServerEvent::Joined { name, addr } => {
                tracing::info!(cluster = %name, %addr, "a cluster joined");
            }
            ServerEvent::Left { name, reason } => {
                tracing::info!(cluster = %name, ?reason, "a cluster left");
                if !matches!(
                    reason,
                    zoryx_ipc::LeaveReason::Disconnected | zoryx_ipc::LeaveReason::Shutdown
                ) {
                    lock(&state).last_error = Some(format!("{name} dropped: {reason:?}"));
                }
            }
            ServerEvent::Refused { addr, reason } => {
                lock(&state).last_error = Some(format!("{addr} refused: {reason}"));
            }
            ServerEvent::Message(message) => received(message, &hooks),
        }
    }
}

async fn client_events(
    mut rx: mpsc::Receiver<ClientEvent>,
    state: Arc<Mutex<LinkState>>,
    hooks: Weak<Dispatcher>,
) {
    while let Some(event) = rx.recv().await {
        match event {
            ClientEvent::Connected { server } => {
                tracing::info!(server = %server, "connected to the cluster server");
                lock(&state).server_name = Some(server);
            }
            ClientEvent::Disconnected { reason } => {
                lock(&state).last_error = Some(format!("disconnected: {reason}"));
            }
            ClientEvent::ConnectFailed { error } => {
                lock(&state).last_error = Some(format!("cannot connect: {error}"));
            }
            ClientEvent::Message(message) => received(message, &hooks),
        }
    }
}

/// A message from another cluster: broadcasts go to the plugins' hooks; joins and leaves are
/// logged.
fn received(message: Message, hooks: &Weak<Dispatcher>) {
    match message.op.as_str() {
        BROADCAST_OP => {
            let Some(broadcast) = convert::broadcast(&message) else {
                tracing::warn!(source = %message.source, "a broadcast without text was ignored");
                return;
            };
            tracing::info!(
                source = %broadcast.source,
                author = broadcast.author.as_deref().unwrap_or("-"),
                message = %broadcast.message,
                "cluster broadcast received"
            );
            let Some(dispatcher) = hooks.upgrade() else {
                return;
            };
            match serde_json::to_value(&broadcast) {
                Ok(payload) => dispatcher.emit_in_background(ClusterBroadcast::EVENT, payload),
                Err(e) => tracing::warn!(error = %e, "cluster broadcast not delivered"),
            }
        }
        zoryx_ipc::ops::CLUSTER_JOIN | zoryx_ipc::ops::CLUSTER_LEAVE => {
            tracing::info!(
                op = %message.op,
                cluster = message.str_field("cluster_name").unwrap_or("?"),
                "cluster membership changed"
            );
        }
        _ => tracing::debug!(op = %message.op, source = %message.source, "cluster message"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(cluster: &str) -> CoreConfig {
        let text = format!(
            r#"{{"framework": {{"enable_shard_manager": true}}, "cluster": {{{cluster}}}}}"#
        );
        crate::config::Config::parse(std::path::Path::new("config.json"), &text)
            .expect("config")
            .core
    }

    #[test]
    fn the_secret_is_checked_before_anything_starts() {
        let missing = Settings::from_config(&core(r#""mode": "server""#)).expect_err("no secret");
        assert!(matches!(missing, ClusterError::NoSecret));
        assert!(
            missing.to_string().contains("SHARD_IPC_SECRET"),
            "{missing}"
        );
        let mut short = core("");
        short.cluster.secret = Some("short".to_owned());
        assert!(matches!(
            Settings::from_config(&short),
            Err(ClusterError::ShortSecret)
        ));
        let mut example = core("");
        example.cluster.secret = Some(EXAMPLE_SECRET.to_owned());
        assert!(matches!(
            Settings::from_config(&example),
            Err(ClusterError::ExampleSecret)
        ));
        let ok = Settings::from_config(&core(
            r#""mode": "client", "port": 20001, "secret": "sixteen-bytes-or-more""#,
        ))
        .expect("valid");
        assert!(!ok.server);
        assert!(!format!("{ok:?}").contains("sixteen"), "{ok:?}");
        assert!(ok.tls.is_none());
    }

    #[test]
    fn tls_settings_are_checked_at_start_and_name_what_is_missing() {
        let secret = r#""secret": "sixteen-bytes-or-more""#;
        // A server with a CA only, a client with a certificate only (as the variables may
        // leave them; the config file's own check refuses them too): their side is missing.
        let mut server = core(&format!(r#""mode": "server", {secret}"#));
        server.cluster.tls_ca = Some("ca.pem".to_owned());
        let server = Settings::from_config(&server).expect_err("no certificate");
        assert!(matches!(server, ClusterError::TlsIncomplete(_)), "{server}");
        assert!(
            server.to_string().contains("SHARD_IPC_TLS_CERT"),
            "{server}"
        );
        let mut client = core(&format!(r#""mode": "client", "port": 20001, {secret}"#));
        client.cluster.tls_cert = Some("cert.pem".to_owned());
        let client = Settings::from_config(&client).expect_err("no CA");
        assert!(client.to_string().contains("SHARD_IPC_TLS_CA"), "{client}");
        // Files that are not there, or hold no PEM, are named.
        let dir = std::env::temp_dir().join(format!("zoryx-cluster-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let missing = dir.join("missing-ca.pem");
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "not PEM").expect("write");
        let error = Settings::from_config(&core(&format!(
            r#""mode": "client", "port": 20001, {secret}, "tls_ca": {:?}"#,
            missing.display().to_string()
        )))
        .expect_err("missing file");
        assert!(error.to_string().contains("missing-ca.pem"), "{error}");
        let error = Settings::from_config(&core(&format!(
            r#""mode": "server", {secret}, "tls_cert": {:?}, "tls_key": {:?}"#,
            garbage.display().to_string(),
            garbage.display().to_string()
        )))
        .expect_err("no certificate in it");
        assert!(error.to_string().contains("garbage.pem"), "{error}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
