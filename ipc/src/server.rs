//! The IPC server (primary cluster).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::crypto::Secret;
use crate::error::{ConfigError, IpcError};
use crate::error::{FrameError, HandshakeError};
use crate::frame::{DEFAULT_MAX_FRAME, Message, TARGET_ALL, encode_frame, now_secs, read_frame};
use crate::handshake::{is_valid_cluster_name, server_handshake};
use crate::io::Stream;
use crate::ops;
use crate::stats::{ClusterInfo, ClusterOverview, ClusterStats};
use crate::tls::ServerTls;

/// Server settings. [`ServerConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The server's own cluster name (messages with this `target` go to the owner only).
    pub name: String,
    /// Shared secret.
    pub secret: Secret,
    /// Maximum frame payload after authentication (default 1 MiB).
    pub max_frame: usize,
    /// Deadline for the whole handshake of a new connection (default 5 s).
    pub handshake_timeout: Duration,
    /// Connections allowed in the handshake at once; more are closed at once (default 16).
    pub max_pending_handshakes: usize,
    /// A cluster whose last heartbeat is older than this is dropped (default 30 s; clients
    /// send one every [`ClientConfig::heartbeat_interval`](crate::ClientConfig)).
    pub heartbeat_timeout: Duration,
    /// Maximum number of connected clusters (default 256).
    pub max_clusters: usize,
    /// Frames queued per cluster before it counts as too slow and is dropped (default 1024).
    pub outbound_queue: usize,
    /// Capacity of the event channel to the owner; events beyond it are dropped with a
    /// warning (default 1024).
    pub event_queue: usize,
    /// TLS: when set, every connection must complete a TLS handshake with this certificate
    /// before the HMAC handshake, which then runs inside it; a plaintext client is refused.
    /// Off by default.
    pub tls: Option<ServerTls>,
}

impl ServerConfig {
    /// Defaults for a server named `name`.
    pub fn new(name: impl Into<String>, secret: Secret) -> Self {
        Self {
            name: name.into(),
            secret,
            max_frame: DEFAULT_MAX_FRAME,
            handshake_timeout: Duration::from_secs(5),
            max_pending_handshakes: 16,
            heartbeat_timeout: Duration::from_secs(30),
            max_clusters: 256,
            outbound_queue: 1024,
            event_queue: 1024,
            tls: None,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !is_valid_cluster_name(&self.name) {
            return Err(ConfigError::InvalidName(self.name.clone()));
        }
        if self.max_frame < 1024 {
            return Err(ConfigError::Invalid("max_frame below 1 KiB"));
        }
        if self.handshake_timeout.is_zero() || self.heartbeat_timeout.is_zero() {
            return Err(ConfigError::Invalid("zero timeout"));
        }
        if self.max_pending_handshakes == 0
            || self.max_clusters == 0
            || self.outbound_queue == 0
            || self.event_queue == 0
        {
            return Err(ConfigError::Invalid("zero limit"));
        }
        Ok(())
    }
}

/// Why a cluster left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveReason {
    /// The connection closed.
    Disconnected,
    /// No heartbeat within [`ServerConfig::heartbeat_timeout`].
    HeartbeatTimeout,
    /// The cluster sent an invalid or oversize frame.
    ProtocolError(String),
    /// The cluster did not read its messages fast enough.
    SlowConsumer,
    /// The server shut down.
    Shutdown,
}

/// What the server reports to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// A cluster authenticated. A cluster that reconnects while its old connection is still
    /// registered replaces it and is reported as joined again (without a `Left`).
    Joined {
        /// Cluster name.
        name: String,
        /// Peer address.
        addr: SocketAddr,
    },
    /// A cluster left.
    Left {
        /// Cluster name.
        name: String,
        /// Why.
        reason: LeaveReason,
    },
    /// A message for the owner: a broadcast (`target: "all"`) or one addressed to the server.
    Message(Message),
    /// A connection was refused before it joined (failed or late handshake, cluster limit).
    Refused {
        /// Peer address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

type Frame = Arc<[u8]>;

struct Entry {
    id: u64,
    tx: mpsc::Sender<Frame>,
    kick: watch::Sender<Option<LeaveReason>>,
    stats: Option<ClusterStats>,
    last_heartbeat: Instant,
    connected_at: f64,
}

struct Shared {
    config: ServerConfig,
    clusters: Mutex<HashMap<String, Entry>>,
    own_stats: Mutex<Option<ClusterStats>>,
    events: mpsc::Sender<ServerEvent>,
    pending: Arc<Semaphore>,
    shutdown: CancellationToken,
    next_id: AtomicU64,
    started_at: f64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn emit(&self, event: ServerEvent) {
        if let Err(e) = self.events.try_send(event) {
            warn!(error = %e, "ipc server: owner event dropped");
        }
    }

    fn overview(&self) -> ClusterOverview {
        let now = Instant::now();
        let mut list: Vec<ClusterInfo> = lock(&self.clusters)
            .iter()
            .map(|(name, e)| ClusterInfo {
                name: name.clone(),
                stats: e.stats.clone(),
                last_heartbeat_age: now.duration_since(e.last_heartbeat).as_secs_f64(),
                connected_at: e.connected_at,
            })
            .collect();
        if let Some(stats) = lock(&self.own_stats).clone() {
            list.push(ClusterInfo {
                name: self.config.name.clone(),
                stats: Some(stats),
                last_heartbeat_age: 0.0,
                connected_at: self.started_at,
            });
        }
        ClusterOverview::new(list)
    }

    /// Routes a message from `from` (`None`: the owner). Returns how many clusters got it.
    fn route(&self, message: Message, from: Option<&str>) -> usize {
        let to_owner =
            from.is_some() && (message.target == TARGET_ALL || message.target == self.config.name);
        let mut delivered = 0;
        if message.target != self.config.name {
            match encode_frame(&message, self.config.max_frame) {
                Ok(frame) => {
                    let frame: Frame = frame.into();
                    let clusters = lock(&self.clusters);
                    for (name, entry) in clusters.iter() {
                        let wanted = if message.target == TARGET_ALL {
                            Some(name.as_str()) != from
                        } else {
                            *name == message.target
                        };
                        if wanted && self.push(name, entry, frame.clone()) {
                            delivered += 1;
                        }
                    }
                    if message.target != TARGET_ALL && delivered == 0 {
                        debug!(target_cluster = %message.target, op = %message.op, "ipc server: no such cluster");
                    }
                }
                Err(e) => warn!(error = %e, op = %message.op, "ipc server: message not routed"),
            }
        }
        if to_owner {
            self.emit(ServerEvent::Message(message));
        }
        delivered
    }

    /// Queues a frame for one cluster; a full queue drops the cluster.
    fn push(&self, name: &str, entry: &Entry, frame: Frame) -> bool {
        match entry.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                warn!(cluster = %name, "ipc server: cluster too slow, dropping it");
                entry.kick.send_replace(Some(LeaveReason::SlowConsumer));
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    fn send_to(&self, name: &str, message: &Message) {
        match encode_frame(message, self.config.max_frame) {
            Ok(frame) => {
                let clusters = lock(&self.clusters);
                if let Some(entry) = clusters.get(name) {
                    self.push(name, entry, frame.into());
                }
            }
            Err(e) => warn!(error = %e, op = %message.op, "ipc server: reply not sent"),
        }
    }
}

/// A running IPC server. Dropping it does not stop it; call [`Server::shutdown`].
pub struct Server {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    tracker: TaskTracker,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.shared.config.name)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `addr` and starts accepting clusters. Returns the server and the channel of
    /// joins, leaves and messages for the owner.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
    ) -> Result<(Self, mpsc::Receiver<ServerEvent>), IpcError> {
        config.validate()?;
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (events, events_rx) = mpsc::channel(config.event_queue);
        let shared = Arc::new(Shared {
            pending: Arc::new(Semaphore::new(config.max_pending_handshakes)),
            config,
            clusters: Mutex::new(HashMap::new()),
            own_stats: Mutex::new(None),
            events,
            shutdown: CancellationToken::new(),
            next_id: AtomicU64::new(0),
            started_at: now_secs(),
        });
        let tracker = TaskTracker::new();
        tracker.spawn(accept_loop(shared.clone(), listener, tracker.clone()));
        info!(
            addr = %local_addr,
            name = %shared.config.name,
            tls = shared.config.tls.is_some(),
            "ipc server listening"
        );
        Ok((
            Self {
                shared,
                local_addr,
                tracker,
            },
            events_rx,
        ))
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Every cluster's latest stats and the global totals (the server's own stats included
    /// once set with [`Server::set_own_stats`]).
    pub fn clusters(&self) -> ClusterOverview {
        self.shared.overview()
    }

    /// Names of the connected clusters.
    pub fn cluster_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.shared.clusters).keys().cloned().collect();
        names.sort();
        names
    }

    /// Sets the server's own stats, listed and counted in [`Server::clusters`].
    pub fn set_own_stats(&self, stats: ClusterStats) {
        *lock(&self.shared.own_stats) = Some(stats);
    }

    /// Sends a message from the server: `target` `"all"` reaches every cluster, a name that
    /// one. Returns how many clusters it was queued for.
    pub fn send(&self, message: Message) -> usize {
        let message = message.from_source(self.shared.config.name.clone());
        self.shared.route(message, None)
    }

    /// Stops accepting, closes every connection and waits for all tasks to end.
    pub async fn shutdown(self) {
        self.shared.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        info!(name = %self.shared.config.name, "ipc server stopped");
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, tracker: TaskTracker) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, addr)) => {
                let Ok(permit) = shared.pending.clone().try_acquire_owned() else {
                    warn!(%addr, "ipc server: too many pending handshakes, connection refused");
                    continue;
                };
                let shared = shared.clone();
                tracker.spawn(async move {
                    let name = tokio::select! {
                        () = shared.shutdown.cancelled() => return,
                        name = authenticate(&shared, stream, addr) => name,
                    };
                    drop(permit);
                    if let Some((name, stream)) = name {
                        serve(shared, name, stream, addr).await;
                    }
                });
            }
            Err(e) => {
                warn!(error = %e, "ipc server: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn authenticate(
    shared: &Shared,
    stream: TcpStream,
    addr: SocketAddr,
) -> Option<(String, Stream)> {
    let _ = stream.set_nodelay(true);
    let config = &shared.config;
    // One deadline for the TLS handshake and the HMAC one inside it.
    let deadline = Instant::now() + config.handshake_timeout;
    let refuse = |reason: String| {
        shared.emit(ServerEvent::Refused { addr, reason });
        None
    };
    let mut stream: Stream = match &config.tls {
        None => Box::new(stream),
        Some(tls) => match timeout_at(deadline, tls.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                warn!(
                    %addr,
                    error = %e,
                    "ipc server: TLS handshake failed (a client without TLS, or one that does not trust this server's certificate); connection refused"
                );
                return refuse(format!("TLS handshake failed: {e}"));
            }
            Err(_) => {
                warn!(
                    %addr,
                    "ipc server: no TLS handshake before the deadline (a client without TLS? this server requires TLS); connection cut"
                );
                return refuse("no TLS handshake before the deadline".to_owned());
            }
        },
    };
    match timeout_at(
        deadline,
        server_handshake(&mut stream, &config.secret, &config.name),
    )
    .await
    {
        Ok(Ok(name)) => Some((name, stream)),
        Ok(Err(e)) => {
            if config.tls.is_none() && looks_like_tls(&e) {
                warn!(
                    %addr,
                    "ipc server: a TLS client connected, but this server has no TLS (set cluster.tls_cert and cluster.tls_key, or SHARD_IPC_TLS_CERT and SHARD_IPC_TLS_KEY); connection refused"
                );
                return refuse("a TLS client, but this server has no TLS".to_owned());
            }
            warn!(%addr, error = %e, "ipc server: handshake failed");
            refuse(format!("handshake failed: {e}"))
        }
        Err(_) => {
            warn!(%addr, "ipc server: handshake deadline exceeded, connection cut");
            refuse("handshake deadline exceeded".to_owned())
        }
    }
}

/// Whether a plaintext handshake failed on a TLS ClientHello: its first bytes (a handshake
/// record, 0x16, of TLS 1.x, 0x03) read as a frame length far past the limit.
fn looks_like_tls(error: &HandshakeError) -> bool {
    matches!(error, HandshakeError::Frame(FrameError::TooLarge { len, .. }) if len >> 16 == 0x1603)
}

async fn serve(shared: Arc<Shared>, name: String, stream: Stream, addr: SocketAddr) {
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel::<Frame>(shared.config.outbound_queue);
    let (kick, mut kicked) = watch::channel(None);
    {
        let mut clusters = lock(&shared.clusters);
        if !clusters.contains_key(&name) && clusters.len() >= shared.config.max_clusters {
            warn!(cluster = %name, "ipc server: cluster limit reached, connection refused");
            shared.emit(ServerEvent::Refused {
                addr,
                reason: format!("cluster limit reached ({name})"),
            });
            return;
        }
        let entry = Entry {
            id,
            tx: tx.clone(),
            kick,
            stats: None,
            last_heartbeat: Instant::now(),
            connected_at: now_secs(),
        };
        if let Some(old) = clusters.insert(name.clone(), entry) {
            info!(cluster = %name, "ipc server: cluster reconnected, old connection replaced");
            old.kick.send_replace(Some(LeaveReason::Disconnected));
        }
    }
    info!(cluster = %name, %addr, "ipc server: cluster joined");
    shared.route(
        Message::new(ops::CLUSTER_JOIN, object(json!({"cluster_name": name})))
            .from_source(shared.config.name.clone()),
        Some(&name),
    );
    shared.emit(ServerEvent::Joined {
        name: name.clone(),
        addr,
    });

    let (mut reader, mut writer) = tokio::io::split(stream);
    let writer_task = tokio::spawn(async move {
        let mut rx = rx;
        while let Some(frame) = rx.recv().await {
            // Flushed: TLS holds written bytes until then.
            if writer.write_all(&frame).await.is_err() || writer.flush().await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });

    let reason = read_loop(&shared, &name, &mut reader, &tx, &mut kicked).await;
    drop(tx);
    writer_task.abort();

    let removed = {
        let mut clusters = lock(&shared.clusters);
        if clusters.get(&name).is_some_and(|e| e.id == id) {
            clusters.remove(&name);
            true
        } else {
            false
        }
    };
    if removed {
        info!(cluster = %name, ?reason, "ipc server: cluster left");
        shared.route(
            Message::new(ops::CLUSTER_LEAVE, object(json!({"cluster_name": name})))
                .from_source(shared.config.name.clone()),
            Some(&name),
        );
        shared.emit(ServerEvent::Left { name, reason });
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    shared: &Shared,
    name: &str,
    reader: &mut R,
    tx: &mpsc::Sender<Frame>,
    kicked: &mut watch::Receiver<Option<LeaveReason>>,
) -> LeaveReason {
    let config = &shared.config;
    let mut deadline = Instant::now() + config.heartbeat_timeout;
    loop {
        let read = tokio::select! {
            () = shared.shutdown.cancelled() => return LeaveReason::Shutdown,
            changed = kicked.changed() => {
                let reason = kicked.borrow().clone();
                return match (changed, reason) {
                    (Ok(()), Some(reason)) => reason,
                    _ => LeaveReason::Disconnected,
                };
            }
            read = timeout_at(deadline, read_frame(reader, config.max_frame)) => read,
        };
        let mut message = match read {
            Err(_) => {
                warn!(cluster = %name, "ipc server: heartbeats stopped, dropping cluster");
                return LeaveReason::HeartbeatTimeout;
            }
            Ok(Ok(None)) => return LeaveReason::Disconnected,
            Ok(Err(e)) => {
                warn!(cluster = %name, error = %e, "ipc server: bad frame, closing");
                return LeaveReason::ProtocolError(e.to_string());
            }
            Ok(Ok(Some(message))) => message,
        };
        message.source = name.to_owned();
        match message.op.as_str() {
            ops::HEARTBEAT => {
                let now = Instant::now();
                deadline = now + config.heartbeat_timeout;
                if let Some(entry) = lock(&shared.clusters).get_mut(name) {
                    entry.last_heartbeat = now;
                }
                let ack =
                    Message::new(ops::HEARTBEAT_ACK, object(json!({"timestamp": now_secs()})))
                        .from_source(config.name.clone())
                        .to(name);
                if let Ok(frame) = encode_frame(&ack, config.max_frame)
                    && tx.try_send(frame.into()).is_err()
                {
                    return LeaveReason::SlowConsumer;
                }
            }
            ops::CLUSTERS => {
                let mut data =
                    object(serde_json::to_value(shared.overview()).unwrap_or(Value::Null));
                if let Some(id) = message.data.get("request_id") {
                    data.insert("request_id".to_owned(), id.clone());
                }
                let reply = Message::new(ops::CLUSTERS, data)
                    .from_source(config.name.clone())
                    .to(name);
                shared.send_to(name, &reply);
            }
            op if ops::SERVER_ONLY.contains(&op) => {
                debug!(cluster = %name, op, "ipc server: reserved op from a client ignored");
            }
            op => {
                if op == ops::STATS_BROADCAST {
                    match ClusterStats::from_data(&message.data) {
                        Ok(stats) => {
                            if let Some(entry) = lock(&shared.clusters).get_mut(name) {
                                entry.stats = Some(stats);
                            }
                        }
                        Err(e) => {
                            warn!(cluster = %name, error = %e, "ipc server: bad stats ignored")
                        }
                    }
                }
                shared.route(message, Some(name));
            }
        }
    }
}

pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
