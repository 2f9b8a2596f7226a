//! Alerts to Discord channels chosen by the owner: hook circuits that open, plugins the registry
//! refuses, the bot's health changing tier.
//!
//! One channel per [`Topic`], set by command (`eh_alert_channel`, `pr_alert_channel`,
//! `fw_alert_channel`) and kept in `data/alerts.json`. An alert is an embed sent through the
//! host's outbox (the Discord connection, or the log without one); the same alert key is sent at
//! most once per [`REPEAT_AFTER`], so a hook that keeps failing is one message, not one a minute.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zoryx_plugin_api::{ChannelId, Embed, Message};

use crate::runtime::Shared;

/// The same alert key is not sent again within this.
pub const REPEAT_AFTER: Duration = Duration::from_secs(15 * 60);

/// What an alert is about; each has its own channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Event hooks: circuits opening.
    Hooks,
    /// The plugin registry: plugins refused for dependencies, conflicts or cycles.
    Registry,
    /// The health loop: tier changes.
    Health,
}

impl Topic {
    /// Its key in `data/alerts.json`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Hooks => "event_hooks",
            Self::Registry => "plugin_registry",
            Self::Health => "framework_health",
        }
    }

    /// How its alerts are titled.
    pub fn title(self) -> &'static str {
        match self {
            Self::Hooks => "🪝 Event Hooks Alert",
            Self::Registry => "🧩 Plugin Registry Alert",
            Self::Health => "🩺 Framework Health Alert",
        }
    }

    fn all() -> [Self; 3] {
        [Self::Hooks, Self::Registry, Self::Health]
    }
}

/// Why the alert channels could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("could not save {path}: {source}")]
pub struct AlertsError {
    path: String,
    #[source]
    source: crate::storage::atomic::AtomicError,
}

/// The alert channels and what was sent lately.
pub struct Alerts {
    path: Mutex<Option<PathBuf>>,
    channels: Mutex<BTreeMap<Topic, u64>>,
    sent: Mutex<HashMap<(Topic, String), Instant>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerts")
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl Alerts {
    /// Alerts sent through `shared`'s outbox; no channel set and nothing saved until
    /// [`Alerts::open`].
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            path: Mutex::new(None),
            channels: Mutex::new(BTreeMap::new()),
            sent: Mutex::new(HashMap::new()),
            shared,
        }
    }

    /// Reads the channels saved in `path` (a missing or unreadable file: none, with a warning
    /// for the latter) and saves changes there from now on.
    pub fn open(&self, path: &Path) {
        let saved = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<BTreeMap<String, u64>>(&bytes) {
                Ok(saved) => saved,
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "alert channels not read; none set");
                    BTreeMap::new()
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "alert channels not read; none set");
                BTreeMap::new()
            }
        };
        if let Ok(mut channels) = self.channels.lock() {
            channels.clear();
            for topic in Topic::all() {
                if let Some(id) = saved.get(topic.key()) {
                    channels.insert(topic, *id);
                }
            }
        }
        if let Ok(mut slot) = self.path.lock() {
            *slot = Some(path.to_owned());
        }
    }

    /// The channel alerts of `topic` go to.
    pub fn channel(&self, topic: Topic) -> Option<ChannelId> {
        self.channels
            .lock()
            .ok()
            .and_then(|c| c.get(&topic).copied())
            .map(ChannelId)
    }

    /// Sends alerts of `topic` to `channel` (`None`: nowhere), and saves the choice.
    pub fn set_channel(&self, topic: Topic, channel: Option<ChannelId>) -> Result<(), AlertsError> {
        let document = {
            let Ok(mut channels) = self.channels.lock() else {
                return Ok(());
            };
            match channel {
                Some(channel) => channels.insert(topic, channel.0),
                None => channels.remove(&topic),
            };
            channels
                .iter()
                .map(|(topic, id)| (topic.key().to_owned(), serde_json::json!(id)))
                .collect::<serde_json::Map<_, _>>()
        };
        let path = self.path.lock().ok().and_then(|p| p.clone());
        if let Some(path) = path {
            crate::storage::atomic::write_json_sync(&path, &serde_json::Value::Object(document), 3)
                .map_err(|source| AlertsError {
                    path: path.display().to_string(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Sends an alert of `topic` unless the same `key` was sent within [`REPEAT_AFTER`];
    /// whether it was sent (a channel is set and it was not held back).
    pub fn raise(&self, topic: Topic, key: &str, text: &str, colour: u32) -> bool {
        let now = Instant::now();
        if let Ok(mut sent) = self.sent.lock() {
            let id = (topic, key.to_owned());
            if sent
                .get(&id)
                .is_some_and(|at| now.duration_since(*at) < REPEAT_AFTER)
            {
                return false;
            }
            if self.channel(topic).is_none() {
                return false;
            }
            sent.retain(|_, at| now.duration_since(*at) < REPEAT_AFTER);
            sent.insert(id, now);
        }
        self.send(topic, text, colour)
    }

    /// Sends an alert of `topic` now, held back by nothing (the health loop's updates of an
    /// incident, which it rate-limits itself); whether a channel is set.
    pub fn send(&self, topic: Topic, text: &str, colour: u32) -> bool {
        let Some(channel) = self.channel(topic) else {
            return false;
        };
        let message = Message::new().embed(
            Embed::new()
                .title(topic.title())
                .description(text)
                .colour(colour),
        );
        let send = self.shared.send("zoryx", channel, message);
        let topic = topic.key();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = send.await {
                    tracing::warn!(topic, %error, "alert not delivered");
                }
            });
        }
        true
    }
}
