//! The recent log in memory, for the dashboard's live tail: the last lines the files got (same
//! level filter), each with its level, target and plugin, and a broadcast of new ones.
//!
//! Only built when something reads it ([`super::LogOptions::tail`]); a full broadcast drops the
//! oldest lines for a slow reader, never the logging thread's time.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// Its number in this run, from 1.
    pub id: u64,
    /// When, as `HH:MM:SS.mmm` UTC.
    pub time: String,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: &'static str,
    /// The module that logged it.
    pub target: String,
    /// The plugin it is about (its `plugin` field), if any.
    pub plugin: Option<String>,
    /// The message, then its other fields as `key=value`.
    pub text: String,
}

impl LogLine {
    /// The level's rank: ERROR 1 … TRACE 5 (a filter "WARN" keeps ranks up to 2).
    pub fn rank(&self) -> u8 {
        level_rank(self.level)
    }
}

/// A level name's rank (ERROR 1 … TRACE 5); unknown names rank as TRACE.
pub fn level_rank(level: &str) -> u8 {
    match level.to_ascii_uppercase().as_str() {
        "ERROR" => 1,
        "WARN" | "WARNING" => 2,
        "INFO" => 3,
        "DEBUG" => 4,
        _ => 5,
    }
}

struct Inner {
    lines: Mutex<VecDeque<LogLine>>,
    capacity: usize,
    sender: broadcast::Sender<LogLine>,
    next: AtomicU64,
}

/// The recent lines and the feed of new ones. Cheap to clone.
#[derive(Clone)]
pub struct LogTail {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LogTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogTail")
            .field("capacity", &self.inner.capacity)
            .finish_non_exhaustive()
    }
}

impl LogTail {
    /// Keeps the last `capacity` lines.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.clamp(16, 4096));
        Self {
            inner: Arc::new(Inner {
                lines: Mutex::new(VecDeque::with_capacity(capacity)),
                capacity: capacity.max(1),
                sender,
                next: AtomicU64::new(1),
            }),
        }
    }

    /// The lines kept, oldest first.
    pub fn recent(&self) -> Vec<LogLine> {
        self.inner
            .lines
            .lock()
            .map(|lines| lines.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// New lines as they are logged.
    pub fn subscribe(&self) -> broadcast::Receiver<LogLine> {
        self.inner.sender.subscribe()
    }

    /// The `tracing` layer that feeds it.
    pub fn layer(&self) -> TailLayer {
        TailLayer { tail: self.clone() }
    }

    fn push(&self, line: LogLine) {
        if let Ok(mut lines) = self.inner.lines.lock() {
            if lines.len() == self.inner.capacity {
                lines.pop_front();
            }
            lines.push_back(line.clone());
        }
        // Nobody listening is fine.
        let _ = self.inner.sender.send(line);
    }
}

/// Feeds a [`LogTail`]; see [`LogTail::layer`].
#[derive(Debug)]
pub struct TailLayer {
    tail: LogTail,
}

#[derive(Default)]
struct Fields {
    message: String,
    plugin: Option<String>,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "plugin" => self.plugin = Some(value.to_owned()),
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "plugin" => self.plugin = Some(format!("{value:?}").trim_matches('"').to_owned()),
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for TailLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        let id = self.tail.inner.next.fetch_add(1, Ordering::Relaxed);
        self.tail.push(LogLine {
            id,
            time: clock_time(SystemTime::now()),
            level: metadata.level().as_str(),
            target: metadata.target().to_owned(),
            plugin: fields.plugin,
            text: format!("{}{}", fields.message, fields.rest),
        });
    }
}

/// `HH:MM:SS.mmm` of `at`, UTC.
fn clock_time(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn lines_keep_level_plugin_and_fields_and_the_last_ones_only() {
        let tail = LogTail::new(2);
        let mut feed = tail.subscribe();
        let subscriber = tracing_subscriber::Registry::default().with(tail.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("first");
            tracing::warn!(plugin = "hello", calls = 3, "slow call");
            tracing::error!(error = %"boom", "failed");
        });
        let lines = tail.recent();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].level, "WARN");
        assert_eq!(lines[0].plugin.as_deref(), Some("hello"));
        assert_eq!(lines[0].text, "slow call calls=3");
        assert_eq!(lines[1].text, "failed error=boom");
        assert_eq!(lines[1].rank(), 1);
        assert_eq!(
            feed.try_recv().map(|l| l.text).ok().as_deref(),
            Some("first")
        );
        assert_eq!(clock_time(UNIX_EPOCH), "00:00:00.000");
    }
}
