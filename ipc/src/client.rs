//! The IPC client (secondary cluster).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::crypto::{Secret, random_u64};
use crate::error::{ConfigError, FrameError, IpcError};
use crate::frame::{DEFAULT_MAX_FRAME, Message, now_secs, read_frame, write_frame};
use crate::handshake::{client_handshake, is_valid_cluster_name};
use crate::io::Stream;
use crate::ops;
use crate::stats::{ClusterOverview, ClusterStats};
use crate::tls::ClientTls;

/// Client settings. [`ClientConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// This cluster's name.
    pub name: String,
    /// Shared secret.
    pub secret: Secret,
    /// Server address, `host:port`.
    pub server_addr: String,
    /// Maximum frame payload (default 1 MiB).
    pub max_frame: usize,
    /// Deadline for TCP connect plus handshake (default 10 s).
    pub handshake_timeout: Duration,
    /// Heartbeat period (default 10 s). The server drops the cluster after its
    /// [`heartbeat_timeout`](crate::ServerConfig::heartbeat_timeout) without one.
    pub heartbeat_interval: Duration,
    /// The connection is considered dead when nothing (not even a `heartbeat_ack`) arrives
    /// for this long; it is also the write timeout (default 30 s).
    pub server_timeout: Duration,
    /// Stats period (default 60 s, as the seed); stats are also sent on connect and whenever
    /// [`Client::set_stats`] is called.
    pub stats_interval: Duration,
    /// How long [`Client::clusters`] waits for the answer (default 10 s).
    pub request_timeout: Duration,
    /// First reconnect delay (default 500 ms).
    pub backoff_initial: Duration,
    /// Reconnect delay cap (default 60 s).
    pub backoff_max: Duration,
    /// Capacity of the event channel; events beyond it are dropped with a warning
    /// (default 1024).
    pub event_queue: usize,
    /// Capacity of the outbound queue (default 1024).
    pub outbound_queue: usize,
    /// TLS: when set, the client makes a TLS handshake with the server, trusting only these
    /// certificates, before the HMAC handshake, which then runs inside it; a server without
    /// TLS, or with a certificate these do not vouch for, is refused. Off by default.
    pub tls: Option<ClientTls>,
}

impl ClientConfig {
    /// Defaults for cluster `name` connecting to `server_addr`.
    pub fn new(name: impl Into<String>, secret: Secret, server_addr: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            secret,
            server_addr: server_addr.into(),
            max_frame: DEFAULT_MAX_FRAME,
            handshake_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(10),
            server_timeout: Duration::from_secs(30),
            stats_interval: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            event_queue: 1024,
            outbound_queue: 1024,
            tls: None,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !is_valid_cluster_name(&self.name) {
            return Err(ConfigError::InvalidName(self.name.clone()));
        }
        let durations = [
            self.handshake_timeout,
            self.heartbeat_interval,
            self.server_timeout,
            self.stats_interval,
            self.request_timeout,
            self.backoff_initial,
        ];
        if durations.iter().any(Duration::is_zero) {
            return Err(ConfigError::Invalid("zero duration"));
        }
        if self.backoff_max < self.backoff_initial {
            return Err(ConfigError::Invalid("backoff_max below backoff_initial"));
        }
        if self.server_timeout <= self.heartbeat_interval {
            return Err(ConfigError::Invalid(
                "server_timeout must exceed heartbeat_interval",
            ));
        }
        if self.max_frame < 1024 || self.event_queue == 0 || self.outbound_queue == 0 {
            return Err(ConfigError::Invalid("size too small"));
        }
        Ok(())
    }
}

/// What the client reports to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// Authenticated to the server (also after each reconnect).
    Connected {
        /// The server's cluster name.
        server: String,
    },
    /// The connection was lost; the client reconnects by itself.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A message from another cluster or the server (broadcasts, `cluster_join`, …).
    Message(Message),
    /// A connection attempt failed (refused, wrong secret, timed out); the client tries again
    /// after its backoff.
    ConnectFailed {
        /// Why.
        error: String,
    },
}

/// Exponential backoff with "equal jitter": the n-th delay is drawn uniformly from
/// `[d/2, d]` where `d = min(initial * 2^n, max)`.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    /// A backoff starting at `initial` and capped at `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            current: initial,
        }
    }

    /// The next delay; doubles the base for the following one.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.current;
        self.current = self.current.saturating_mul(2).min(self.max);
        let half = base / 2;
        let span = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        let jitter = if span == 0 {
            0
        } else {
            random_u64() % (span + 1)
        };
        half + Duration::from_micros(jitter)
    }

    /// Back to the initial delay (after a successful connection).
    pub fn reset(&mut self) {
        self.current = self.initial;
    }
}

struct Shared {
    config: ClientConfig,
    out: mpsc::Sender<Message>,
    connected: watch::Sender<bool>,
    stats: watch::Sender<Option<ClusterStats>>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Message>>>,
    next_request: AtomicU64,
    shutdown: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running IPC client. It connects, authenticates, sends heartbeats and stats, and
/// reconnects by itself until [`Client::shutdown`].
pub struct Client {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.shared.config.name)
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts the client (in the current tokio runtime). Returns it and the channel of
    /// connection events and incoming messages.
    pub fn start(config: ClientConfig) -> Result<(Self, mpsc::Receiver<ClientEvent>), IpcError> {
        config.validate()?;
        let (events, events_rx) = mpsc::channel(config.event_queue);
        let (out, out_rx) = mpsc::channel(config.outbound_queue);
        let shared = Arc::new(Shared {
            config,
            out,
            connected: watch::channel(false).0,
            stats: watch::channel(None).0,
            pending: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(1),
            shutdown: CancellationToken::new(),
        });
        let task = tokio::spawn(run(shared.clone(), out_rx, events));
        Ok((Self { shared, task }, events_rx))
    }

    /// Whether the client is authenticated to the server right now.
    pub fn is_connected(&self) -> bool {
        *self.shared.connected.borrow()
    }

    /// Waits until the client is connected.
    pub async fn wait_connected(&self) -> Result<(), IpcError> {
        let mut rx = self.shared.connected.subscribe();
        tokio::select! {
            () = self.shared.shutdown.cancelled() => Err(IpcError::Closed),
            r = rx.wait_for(|c| *c) => r.map(|_| ()).map_err(|_| IpcError::Closed),
        }
    }

    /// Sets this cluster's stats: sent now (when connected), on every reconnect and every
    /// [`ClientConfig::stats_interval`].
    pub fn set_stats(&self, stats: ClusterStats) {
        self.shared.stats.send_replace(Some(stats));
    }

    /// Queues a message for the server to route (`target` `"all"` or a cluster name).
    /// Fails when not connected; a message queued just before a disconnect may be lost.
    pub fn send(&self, message: Message) -> Result<(), IpcError> {
        if self.shared.shutdown.is_cancelled() {
            return Err(IpcError::Closed);
        }
        if !self.is_connected() {
            return Err(IpcError::NotConnected);
        }
        let message = message.from_source(self.shared.config.name.clone());
        self.shared.out.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => IpcError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => IpcError::Closed,
        })
    }

    /// Sends `op` with `data` to every other cluster.
    pub fn broadcast(&self, op: &str, data: Map<String, Value>) -> Result<(), IpcError> {
        self.send(Message::new(op, data))
    }

    /// Asks the server for every cluster's stats and the global totals.
    pub async fn clusters(&self) -> Result<ClusterOverview, IpcError> {
        let id = self.shared.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.shared.pending).insert(id, tx);
        let mut data = Map::new();
        data.insert("request_id".to_owned(), json!(id));
        let sent = self.send(Message::new(ops::CLUSTERS, data));
        let answer = match sent {
            Ok(()) => timeout(self.shared.config.request_timeout, rx).await,
            Err(e) => {
                lock(&self.shared.pending).remove(&id);
                return Err(e);
            }
        };
        lock(&self.shared.pending).remove(&id);
        let reply = match answer {
            Err(_) => return Err(IpcError::Timeout),
            Ok(Err(_)) => return Err(IpcError::NotConnected),
            Ok(Ok(reply)) => reply,
        };
        serde_json::from_value(Value::Object(reply.data))
            .map_err(|e| IpcError::InvalidResponse(e.to_string()))
    }

    /// Closes the connection and stops reconnecting.
    pub async fn shutdown(self) {
        self.shared.shutdown.cancel();
        if let Err(e) = self.task.await {
            warn!(error = %e, "ipc client task failed");
        }
    }
}

fn emit(events: &mpsc::Sender<ClientEvent>, event: ClientEvent) {
    if let Err(e) = events.try_send(event) {
        warn!(error = %e, "ipc client: event dropped");
    }
}

async fn run(
    shared: Arc<Shared>,
    mut out_rx: mpsc::Receiver<Message>,
    events: mpsc::Sender<ClientEvent>,
) {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max);
    loop {
        let connected = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            r = timeout(config.handshake_timeout, connect(config)) => r,
        };
        match connected {
            Ok(Ok((stream, server))) => {
                backoff.reset();
                info!(cluster = %config.name, %server, "ipc client connected");
                // Drop anything queued while disconnected.
                while out_rx.try_recv().is_ok() {}
                shared.connected.send_replace(true);
                emit(&events, ClientEvent::Connected { server });
                let reason = session(&shared, stream, &mut out_rx, &events).await;
                shared.connected.send_replace(false);
                lock(&shared.pending).clear();
                if shared.shutdown.is_cancelled() {
                    break;
                }
                warn!(cluster = %config.name, %reason, "ipc client disconnected");
                emit(&events, ClientEvent::Disconnected { reason });
            }
            Ok(Err(e)) => {
                warn!(cluster = %config.name, error = %e, "ipc client: connection failed");
                emit(
                    &events,
                    ClientEvent::ConnectFailed {
                        error: e.to_string(),
                    },
                );
            }
            Err(_) => {
                warn!(cluster = %config.name, "ipc client: connect/handshake timed out");
                emit(
                    &events,
                    ClientEvent::ConnectFailed {
                        error: "connect/handshake timed out".to_owned(),
                    },
                );
            }
        }
        let delay = backoff.next_delay();
        debug!(?delay, "ipc client: reconnecting after delay");
        tokio::select! {
            () = shared.shutdown.cancelled() => break,
            () = sleep(delay) => {}
        }
    }
    shared.connected.send_replace(false);
    info!(cluster = %config.name, "ipc client stopped");
}

async fn connect(config: &ClientConfig) -> Result<(Stream, String), IpcError> {
    let stream = TcpStream::connect(&config.server_addr).await?;
    let _ = stream.set_nodelay(true);
    let mut stream: Stream = match &config.tls {
        None => Box::new(stream),
        Some(tls) => tls.connect(stream).await.map_err(IpcError::Tls)?,
    };
    let server = client_handshake(&mut stream, &config.secret, &config.name).await?;
    Ok((stream, server))
}

async fn send_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &Message,
    config: &ClientConfig,
) -> Result<(), String> {
    match timeout(
        config.server_timeout,
        write_frame(writer, message, config.max_frame),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        // An oversize message is the caller's mistake, not a broken connection.
        Ok(Err(e @ (FrameError::TooLarge { .. } | FrameError::Invalid(_)))) => {
            warn!(error = %e, op = %message.op, "ipc client: message not sent");
            Ok(())
        }
        Ok(Err(e)) => Err(format!("write failed: {e}")),
        Err(_) => Err("write timed out".to_owned()),
    }
}

fn stats_message(config: &ClientConfig, stats: &ClusterStats) -> Message {
    let mut data = stats.to_data();
    data.insert("cluster_name".to_owned(), json!(config.name));
    data.insert("timestamp".to_owned(), json!(now_secs()));
    Message::new(ops::STATS_BROADCAST, data).from_source(config.name.clone())
}

async fn session(
    shared: &Shared,
    stream: Stream,
    out_rx: &mut mpsc::Receiver<Message>,
    events: &mpsc::Sender<ClientEvent>,
) -> String {
    let config = &shared.config;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (in_tx, mut in_rx) = mpsc::channel::<Result<Message, FrameError>>(64);
    let max_frame = config.max_frame;
    // A dedicated reader: `read_frame` is not cancel-safe, so it never races in a select.
    let reader_task = tokio::spawn(async move {
        loop {
            match read_frame(&mut reader, max_frame).await {
                Ok(Some(m)) => {
                    if in_tx.send(Ok(m)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = in_tx.send(Err(e)).await;
                    break;
                }
            }
        }
    });

    let mut heartbeat = interval(config.heartbeat_interval);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut stats_tick = interval(config.stats_interval);
    stats_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut stats_rx = shared.stats.subscribe();
    stats_rx.mark_unchanged();
    let mut last_heard = Instant::now();

    let reason = loop {
        let outgoing = tokio::select! {
            () = shared.shutdown.cancelled() => break "shutdown".to_owned(),
            incoming = in_rx.recv() => match incoming {
                None => break "server closed the connection".to_owned(),
                Some(Err(e)) => break format!("bad frame from server: {e}"),
                Some(Ok(message)) => {
                    last_heard = Instant::now();
                    handle_incoming(shared, message, events);
                    continue;
                }
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > config.server_timeout {
                    break "server silent".to_owned();
                }
                let mut data = Map::new();
                data.insert("timestamp".to_owned(), json!(now_secs()));
                if let Some(stats) = shared.stats.borrow().as_ref() {
                    data.insert("guild_count".to_owned(), json!(stats.guild_count));
                }
                Message::new(ops::HEARTBEAT, data).from_source(config.name.clone())
            }
            _ = stats_tick.tick() => {
                let Some(stats) = shared.stats.borrow().clone() else { continue };
                stats_message(config, &stats)
            }
            Ok(()) = stats_rx.changed() => {
                let Some(stats) = stats_rx.borrow_and_update().clone() else { continue };
                stats_message(config, &stats)
            }
            Some(message) = out_rx.recv() => message,
        };
        if let Err(reason) = send_frame(&mut writer, &outgoing, config).await {
            break reason;
        }
    };
    reader_task.abort();
    let _ = writer.shutdown().await;
    reason
}

fn handle_incoming(shared: &Shared, message: Message, events: &mpsc::Sender<ClientEvent>) {
    match message.op.as_str() {
        ops::HEARTBEAT_ACK => {}
        ops::CLUSTERS => {
            let waiter = message
                .data
                .get("request_id")
                .and_then(Value::as_u64)
                .and_then(|id| lock(&shared.pending).remove(&id));
            match waiter {
                Some(waiter) => {
                    let _ = waiter.send(message);
                }
                None => emit(events, ClientEvent::Message(message)),
            }
        }
        _ => emit(events, ClientEvent::Message(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let mut bases = Vec::new();
        for _ in 0..8 {
            let d = b.next_delay();
            bases.push(d);
        }
        let expected = [100u64, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (d, base) in bases.iter().zip(expected) {
            let base = Duration::from_millis(base);
            assert!(
                *d >= base / 2 && *d <= base,
                "{d:?} not in [{:?}, {base:?}]",
                base / 2
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
