//! Sessions and fan-out of dispatches.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::opcodes;

/// How many dispatches a session keeps for replay on RESUME.
pub const REPLAY_CAPACITY: usize = 100_000;

/// A frame for a connection's writer.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A JSON text frame.
    Text(String),
    /// Close the socket with this code.
    Close(u16),
    /// Compress the frames after this one as given (a fresh stream for the stream modes).
    Compression(super::GatewayCompression),
}

/// Where a dispatch goes.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Every session whose shard holds this guild.
    Guild(u64),
    /// Direct messages: shard 0 of every session set.
    Direct,
}

/// A dispatch (op 0) to fan out.
#[derive(Debug, Clone)]
pub struct Dispatch {
    /// Event name (`MESSAGE_CREATE`, ...).
    pub event: &'static str,
    /// Event data.
    pub data: Value,
    /// Where it goes.
    pub target: Target,
    /// The session must hold this intent (0 = none needed).
    pub intent: u64,
    /// The data for sessions without MESSAGE_CONTENT, if it differs.
    pub data_without_content: Option<Value>,
}

/// A gateway session.
#[derive(Debug)]
pub struct Session {
    /// Session id.
    pub id: String,
    /// `[shard_id, shard_count]`.
    pub shard: [u32; 2],
    /// Intents identified with.
    pub intents: u64,
    /// IDENTIFY's `compress`: a connection resuming the session compresses as one
    /// identifying with it would.
    pub compress: bool,
    /// Last sequence number used.
    pub seq: u64,
    /// Recent dispatch frames `(seq, frame)`.
    pub buffer: VecDeque<(u64, String)>,
    /// The highest sequence dropped from the buffer because it was full (not acknowledged):
    /// a RESUME from before it cannot be served.
    pub overflowed: u64,
    /// The live connection: its id and writer.
    pub conn: Option<(u64, mpsc::UnboundedSender<Outgoing>)>,
}

impl Session {
    fn holds(&self, target: Target) -> bool {
        let [id, count] = self.shard;
        match target {
            Target::Guild(guild) => (guild >> 22) % u64::from(count.max(1)) == u64::from(id),
            Target::Direct => id == 0,
        }
    }

    /// Sends a dispatch on this session: sequence, buffer, and deliver if connected.
    pub fn push(&mut self, event: &str, data: &Value) {
        self.seq += 1;
        let frame =
            json!({"op": opcodes::DISPATCH, "t": event, "s": self.seq, "d": data}).to_string();
        if let Some((_, tx)) = &self.conn {
            let _ = tx.send(Outgoing::Text(frame.clone()));
        }
        self.buffer.push_back((self.seq, frame));
        if self.buffer.len() > REPLAY_CAPACITY
            && let Some((dropped, _)) = self.buffer.pop_front()
        {
            self.overflowed = dropped;
        }
    }

    /// Sends a non-dispatch frame if connected.
    pub fn send(&self, frame: Outgoing) {
        if let Some((_, tx)) = &self.conn {
            let _ = tx.send(frame);
        }
    }
}

/// All sessions.
#[derive(Debug)]
pub struct Hub {
    sessions: Mutex<HashMap<String, Session>>,
    next_conn: AtomicU64,
    ready: watch::Sender<u64>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            ready: watch::Sender::new(0),
        }
    }

    /// Runs `f` with the sessions locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Session>) -> R) -> R {
        let mut guard = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts a READY sent.
    pub fn mark_ready(&self) {
        self.ready.send_modify(|n| *n += 1);
    }

    /// Watches the number of READYs sent.
    pub fn ready_watch(&self) -> watch::Receiver<u64> {
        self.ready.subscribe()
    }

    /// Fans a dispatch out to every session it concerns.
    pub fn dispatch(&self, d: &Dispatch) {
        self.with(|sessions| {
            for session in sessions.values_mut() {
                if !session.holds(d.target) {
                    continue;
                }
                if d.intent != 0 && session.intents & d.intent == 0 {
                    continue;
                }
                let data = match &d.data_without_content {
                    Some(blank) if session.intents & opcodes::INTENT_MESSAGE_CONTENT == 0 => blank,
                    _ => &d.data,
                };
                session.push(d.event, data);
            }
        });
    }

    /// Sends a frame to every live connection; `detach` also forgets the connections.
    pub fn broadcast(&self, frame: &Outgoing, detach: bool) -> usize {
        self.with(|sessions| {
            let mut n = 0;
            for session in sessions.values_mut() {
                if session.conn.is_some() {
                    session.send(frame.clone());
                    n += 1;
                }
                if detach {
                    session.conn = None;
                }
            }
            n
        })
    }

    /// Forgets every session (their RESUME then gets op 9 `false`).
    pub fn forget_all(&self) {
        self.with(|sessions| sessions.clear());
    }

    /// Detaches a connection from its session, if it is still the session's connection.
    pub fn detach(&self, session_id: &str, conn_id: u64) {
        self.with(|sessions| {
            if let Some(s) = sessions.get_mut(session_id)
                && s.conn.as_ref().is_some_and(|(id, _)| *id == conn_id)
            {
                s.conn = None;
            }
        });
    }

    /// Forgets a session its own connection closed normally (client close 1000/1001), if that
    /// connection is still the session's: a later RESUME of it gets op 9 `false`.
    pub fn end(&self, session_id: &str, conn_id: u64) {
        self.with(|sessions| {
            if sessions
                .get(session_id)
                .is_some_and(|s| s.conn.as_ref().is_some_and(|(id, _)| *id == conn_id))
            {
                sessions.remove(session_id);
            }
        });
    }

    /// Forgets every session no connection carries (as Discord does once a closed session's
    /// resume window has passed); returns how many.
    pub fn expire_detached(&self) -> usize {
        self.with(|sessions| {
            let before = sessions.len();
            sessions.retain(|_, s| s.conn.is_some());
            before - sessions.len()
        })
    }

    /// Drops buffered dispatches up to `seq` (the client confirmed them in a heartbeat).
    pub fn acknowledge(&self, session_id: &str, seq: u64) {
        self.with(|sessions| {
            if let Some(s) = sessions.get_mut(session_id) {
                while s.buffer.front().is_some_and(|(n, _)| *n <= seq) {
                    s.buffer.pop_front();
                }
            }
        });
    }

    /// Number of sessions with a live connection.
    pub fn connected(&self) -> usize {
        self.with(|sessions| sessions.values().filter(|s| s.conn.is_some()).count())
    }
}
