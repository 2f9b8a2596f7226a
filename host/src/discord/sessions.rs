//! When shards may identify, and their sessions across restarts.
//!
//! Every shard start goes through `StartHook` (serenity's start hook, see
//! `vendor/README.md`):
//!
//! * **Identify coordination.** Before a shard identifies it waits for its turn: from a gateway
//!   queue (`discord.gateway_queue`, twilight's gateway-queue protocol, shared by every process
//!   of a cluster), or else from a queue of its own with the limits `GET /gateway/bot` gives
//!   (one identify per `max_concurrency` bucket every 5 s, and the daily session starts).
//! * **Resuming across restarts.** A graceful stop closes each shard with code 4000, which keeps
//!   its session alive on Discord, and saves the session ids and sequence numbers with the
//!   cache (the guilds and the READY each shard had) in `gateway-sessions.json`. The next start
//!   fills the cache from that file and RESUMEs each shard: Discord replays what happened in
//!   between, and no identify is spent. The file is used once; a session Discord no longer
//!   accepts ends in an ordinary identify.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serenity::async_trait;
use serenity::cache::Cache;
use serenity::gateway::{ResumableSession, ShardStartHook};
use serenity::model::event::{GuildCreateEvent, ReadyEvent};
use serenity::model::gateway::{Ready, ShardInfo};
use sha2::{Digest, Sha256};
use zoryx_queue::{IDENTIFY_DELAY, QueueClient, SessionStartLimit};

/// The file in the data folder.
pub const FILE_NAME: &str = "gateway-sessions.json";

/// The file's format version.
const VERSION: u32 = 1;

/// Saved sessions older than this are not tried: Discord keeps a closed session only for a
/// short while, and a refused RESUME costs a connection.
const RESUME_WINDOW: Duration = Duration::from_secs(10 * 60);

/// What a graceful stop leaves for the next start.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedState {
    version: u32,
    /// Unix seconds.
    saved_at: u64,
    /// A digest of the token: sessions of another bot are never tried.
    token: String,
    /// The shard count the sessions were made with.
    shard_total: u32,
    /// Shard id → session.
    sessions: BTreeMap<u32, SavedSession>,
    /// Shard id → the READY that shard had (serenity's `Ready`).
    readies: BTreeMap<u32, Value>,
    /// The cached guilds (serenity's `Guild`).
    guilds: Vec<Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SavedSession {
    session_id: String,
    sequence: u64,
}

/// Sessions restored at start: what to resume, and the READYs to replay into the host once a
/// shard has resumed.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    sessions: HashMap<u32, SavedSession>,
    readies: HashMap<u32, Ready>,
    shard_total: u32,
}

impl Restored {
    /// The application id the saved READYs name.
    pub(crate) fn application_id(&self) -> Option<u64> {
        self.readies.values().next().map(|r| r.application.id.get())
    }
}

/// Why saving or loading failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a sessions file: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot encode the sessions: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Write(#[from] crate::storage::atomic::AtomicError),
}

fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.trim().trim_start_matches("Bot ").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Reads and removes the sessions file, fills `cache` from it, and returns the sessions to
/// resume. Nothing (and a log line saying why) when there is no usable file.
pub(crate) fn restore(path: &Path, token: &str, cache: &Cache) -> Restored {
    let saved = match read(path) {
        Ok(Some(saved)) => saved,
        Ok(None) => return Restored::default(),
        Err(error @ SessionsError::Parse { .. }) => {
            // Kept for a look, out of the way of the next start.
            match crate::storage::atomic::quarantine(path) {
                Ok(moved) => tracing::warn!(
                    %error,
                    moved_to = %moved.display(),
                    "saved gateway sessions not used: identifying"
                ),
                Err(move_error) => {
                    tracing::warn!(%error, %move_error, "saved gateway sessions not used");
                }
            }
            return Restored::default();
        }
        Err(error) => {
            tracing::warn!(%error, "saved gateway sessions not used");
            return Restored::default();
        }
    };
    // Used once: a later crash must not resume at these sequence numbers again.
    if let Err(error) = std::fs::remove_file(path) {
        tracing::warn!(path = %path.display(), %error, "cannot remove the used sessions file");
    }
    let age = now_secs().saturating_sub(saved.saved_at);
    if saved.version != VERSION || saved.token != token_digest(token) {
        tracing::info!("saved gateway sessions belong to another bot or version: identifying");
        return Restored::default();
    }
    if age > RESUME_WINDOW.as_secs() {
        tracing::info!(
            age_secs = age,
            "saved gateway sessions are too old: identifying"
        );
        return Restored::default();
    }
    let mut readies = HashMap::new();
    for (shard, ready) in saved.readies {
        match serde_json::from_value::<ReadyEvent>(ready) {
            Ok(mut event) => {
                cache.update(&mut event);
                readies.insert(shard, event.ready);
            }
            Err(error) => tracing::warn!(shard, %error, "a saved READY is unreadable"),
        }
    }
    let mut guilds = 0usize;
    for guild in saved.guilds {
        match serde_json::from_value::<GuildCreateEvent>(guild) {
            Ok(mut event) => {
                cache.update(&mut event);
                guilds += 1;
            }
            Err(error) => tracing::warn!(%error, "a saved guild is unreadable"),
        }
    }
    // A shard resumes only with the READY that describes it.
    let sessions: HashMap<u32, SavedSession> = saved
        .sessions
        .into_iter()
        .filter(|(shard, _)| readies.contains_key(shard))
        .collect();
    tracing::info!(
        shards = sessions.len(),
        guilds,
        age_secs = age,
        "restored the cache and gateway sessions saved at the last stop"
    );
    Restored {
        sessions,
        readies,
        shard_total: saved.shard_total,
    }
}

fn read(path: &Path) -> Result<Option<SavedState>, SessionsError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SessionsError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| SessionsError::Parse {
            path: path.to_owned(),
            source,
        })
}

/// Writes the sessions the shards were closed with, their READYs and the cached guilds.
pub(crate) fn save(
    path: &Path,
    token: &str,
    sessions: &HashMap<u32, (u32, ResumableSession)>,
    readies: &HashMap<u32, Ready>,
    cache: &Cache,
) -> Result<usize, SessionsError> {
    let shard_total = sessions
        .values()
        .map(|(total, _)| *total)
        .max()
        .unwrap_or(0);
    let mut state = SavedState {
        version: VERSION,
        saved_at: now_secs(),
        token: token_digest(token),
        shard_total,
        ..SavedState::default()
    };
    for (shard, (_, session)) in sessions {
        let Some(ready) = readies.get(shard) else {
            continue;
        };
        state.readies.insert(*shard, serde_json::to_value(ready)?);
        state.sessions.insert(
            *shard,
            SavedSession {
                session_id: session.session_id.clone(),
                sequence: session.sequence,
            },
        );
    }
    if state.sessions.is_empty() {
        return Ok(0);
    }
    for id in cache.guilds() {
        if let Some(guild) = cache.guild(id) {
            state.guilds.push(serde_json::to_value(&*guild)?);
        }
    }
    let bytes = serde_json::to_vec(&state)?;
    crate::storage::atomic::write_bytes(path, &bytes)?;
    Ok(state.sessions.len())
}

/// Where a shard's turn to identify comes from.
enum Turns {
    /// A gateway-queue service shared by the cluster.
    Remote(QueueClient),
    /// Discord's limits, kept by this process.
    Local(LocalTurns),
}

/// Discord's identify limits for one process: each `max_concurrency` bucket
/// (`shard % max_concurrency`) identifies at most once every 5 s, and no more than the daily
/// session starts. A turn is reserved when asked for, so shards of different buckets go
/// together and those of one bucket 5 s apart, whatever order they ask in.
struct LocalTurns {
    max_concurrency: u32,
    state: Mutex<LocalState>,
}

struct LocalState {
    /// Bucket → the earliest its next IDENTIFY may go.
    next: HashMap<u32, tokio::time::Instant>,
    remaining: u32,
    total: u32,
    reset_after: Duration,
    /// When `remaining` goes back to `total`.
    reset_at: tokio::time::Instant,
}

impl LocalTurns {
    fn new(limits: &SessionStartLimit) -> Self {
        let now = tokio::time::Instant::now();
        Self {
            max_concurrency: u32::from(limits.max_concurrency.max(1)),
            state: Mutex::new(LocalState {
                next: HashMap::new(),
                remaining: limits.remaining,
                total: limits.total.max(1),
                reset_after: limits.reset_after,
                reset_at: now + limits.reset_after,
            }),
        }
    }

    /// Reserves `shard`'s turn; when it is.
    fn reserve(&self, shard: u32) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        let Ok(mut state) = self.state.lock() else {
            return now + IDENTIFY_DELAY;
        };
        if now >= state.reset_at {
            state.remaining = state.total;
            state.reset_at = now + state.reset_after;
        }
        let bucket = shard % self.max_concurrency;
        let mut at = state.next.get(&bucket).copied().unwrap_or(now).max(now);
        if state.remaining == 0 {
            tracing::warn!(
                wait_secs = state.reset_at.saturating_duration_since(now).as_secs(),
                "the daily session starts are used up: shards wait for the reset"
            );
            at = at.max(state.reset_at);
            state.remaining = state.total;
            state.reset_at = at + state.reset_after;
        }
        state.remaining -= 1;
        state.next.insert(bucket, at + IDENTIFY_DELAY);
        at
    }
}

/// serenity's start hook: identify turns, sessions to resume, sessions closed at a stop.
pub(crate) struct StartHook {
    turns: Turns,
    restored: Mutex<Restored>,
    /// Shards whose restored session was handed out and has not resumed yet.
    resuming: Mutex<HashSet<u32>>,
    /// Sessions of shards closed by a graceful stop: shard → (shard count, session).
    closed: Mutex<HashMap<u32, (u32, ResumableSession)>>,
    /// Wakes [`StartHook::wait_closed`].
    closed_changed: tokio::sync::Notify,
}

impl std::fmt::Debug for StartHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartHook")
            .field(
                "turns",
                &match self.turns {
                    Turns::Remote(_) => "gateway queue",
                    Turns::Local(_) => "local",
                },
            )
            .finish_non_exhaustive()
    }
}

impl StartHook {
    /// Turns from the gateway queue at `queue_url`.
    pub(crate) fn remote(queue_url: &str, restored: Restored) -> Result<Self, String> {
        let client = QueueClient::new(queue_url)
            .map_err(|e| format!("discord.gateway_queue {queue_url:?}: {e}"))?;
        Ok(Self::with(Turns::Remote(client), restored))
    }

    /// Turns kept by this process with `limits`.
    pub(crate) fn local(limits: &SessionStartLimit, restored: Restored) -> Self {
        Self::with(Turns::Local(LocalTurns::new(limits)), restored)
    }

    fn with(turns: Turns, restored: Restored) -> Self {
        Self {
            turns,
            restored: Mutex::new(restored),
            resuming: Mutex::new(HashSet::new()),
            closed: Mutex::new(HashMap::new()),
            closed_changed: tokio::sync::Notify::new(),
        }
    }

    /// Waits until each of `shards` has handed over its session (or `limit` passed).
    pub(crate) async fn wait_closed(&self, shards: &[u32], limit: Duration) {
        let all_closed = || {
            self.closed
                .lock()
                .map(|closed| shards.iter().all(|s| closed.contains_key(s)))
                .unwrap_or(true)
        };
        let _ = tokio::time::timeout(limit, async {
            loop {
                let changed = self.closed_changed.notified();
                if all_closed() {
                    return;
                }
                changed.await;
            }
        })
        .await;
    }

    /// Hands over the sessions restored from the file (before any shard starts).
    pub(crate) fn set_restored(&self, restored: Restored) {
        if let Ok(mut slot) = self.restored.lock() {
            *slot = restored;
        }
    }

    /// The READY saved for `shard` when its restored session has just resumed (once).
    pub(crate) fn resumed(&self, shard: u32) -> Option<Ready> {
        let was_restored = self
            .resuming
            .lock()
            .map(|mut r| r.remove(&shard))
            .unwrap_or(false);
        if !was_restored {
            return None;
        }
        self.restored
            .lock()
            .ok()
            .and_then(|mut r| r.readies.remove(&shard))
    }

    /// The sessions handed over by shards closed at a stop.
    pub(crate) fn closed_sessions(&self) -> HashMap<u32, (u32, ResumableSession)> {
        self.closed
            .lock()
            .map(|closed| closed.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl ShardStartHook for StartHook {
    async fn before_identify(&self, shard: ShardInfo) {
        let id = shard.id.0;
        // A restored session that was not accepted: its READY is stale.
        if let Ok(mut resuming) = self.resuming.lock() {
            resuming.remove(&id);
        }
        match &self.turns {
            Turns::Remote(client) => {
                if let Err(error) = client.wait(id).await {
                    // The queue is the cluster's only guard against identifying too fast:
                    // without it, keep Discord's slowest pace rather than guess.
                    tracing::warn!(shard = id, %error, "gateway queue unavailable; identifying after 5 s");
                    tokio::time::sleep(IDENTIFY_DELAY).await;
                }
            }
            Turns::Local(turns) => tokio::time::sleep_until(turns.reserve(id)).await,
        }
        tracing::debug!(shard = id, "shard may identify");
    }

    fn take_session(&self, shard: ShardInfo) -> Option<ResumableSession> {
        let id = shard.id.0;
        let mut restored = self.restored.lock().ok()?;
        if restored.shard_total != shard.total {
            return None;
        }
        let saved = restored.sessions.remove(&id)?;
        if let Ok(mut resuming) = self.resuming.lock() {
            resuming.insert(id);
        }
        tracing::info!(
            shard = id,
            sequence = saved.sequence,
            "resuming the saved session"
        );
        Some(ResumableSession {
            session_id: saved.session_id,
            sequence: saved.sequence,
        })
    }

    fn session_closed(&self, shard: ShardInfo, session: ResumableSession) {
        if let Ok(mut closed) = self.closed.lock() {
            closed.insert(shard.id.0, (shard.total, session));
        }
        self.closed_changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn local_turns_space_each_bucket_5_s_and_let_buckets_go_together() {
        let limits = SessionStartLimit::new(2, 3, Duration::from_secs(3600), 1000).expect("limits");
        let turns = LocalTurns::new(&limits);
        let start = tokio::time::Instant::now();
        let at = |shard| turns.reserve(shard) - start;
        assert_eq!(at(0), Duration::ZERO);
        assert_eq!(at(1), Duration::ZERO, "another bucket goes at once");
        assert_eq!(at(2), IDENTIFY_DELAY, "shard 2 shares shard 0's bucket");
        // Three starts were left: the fourth waits for the reset, an hour on.
        assert_eq!(at(3), Duration::from_secs(3600));
    }

    #[test]
    fn the_token_digest_is_stable_and_hides_the_token() {
        let digest = token_digest("Bot abc.def");
        assert_eq!(digest, token_digest("abc.def"));
        assert_eq!(digest.len(), 32);
        assert!(!digest.contains("abc"));
        assert_ne!(digest, token_digest("abc.deg"));
    }

    #[test]
    fn a_missing_file_restores_nothing_and_a_corrupt_one_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(FILE_NAME);
        assert!(read(&path).expect("no file").is_none());
        std::fs::write(&path, b"{not json").expect("write");
        let error = read(&path).expect_err("corrupt");
        assert!(
            error.to_string().contains("is not a sessions file"),
            "{error}"
        );
        let cache = Cache::new();
        let restored = restore(&path, "token", &cache);
        assert!(restored.sessions.is_empty());
        assert!(!path.exists(), "the corrupt file is moved aside");
        let moved: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            moved
                .iter()
                .any(|n| n.starts_with("gateway-sessions.json.corrupt-")),
            "{moved:?}"
        );
    }
}
