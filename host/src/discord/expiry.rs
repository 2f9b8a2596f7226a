//! Components that expire ([`Message::expire_components`]): once the time is up the host edits
//! the message so its buttons and select menus show greyed out, the way a bot shows that a menu
//! no longer answers.
//!
//! Each message has at most one clock. Sending or updating a message with the setting (re)arms
//! it; updating it without the setting, or deleting it, disarms it. A clock that fires after
//! its message was re-armed or disarmed does nothing.
//!
//! [`Message::expire_components`]: zoryx_plugin_api::Message::expire_components

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use zoryx_plugin_api::Message;

use super::rest::Rest;

/// The clocks of the messages whose components expire.
pub(crate) struct Expiry {
    rest: Rest,
    /// Message id → the generation of its clock.
    armed: Mutex<HashMap<u64, u64>>,
    next: AtomicU64,
}

impl Expiry {
    pub(crate) fn new(rest: Rest) -> Self {
        Self {
            rest,
            armed: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        }
    }

    /// After `message` was sent or updated to `sent` (at `path`, where the message is edited:
    /// `/channels/{c}/messages/{m}` or an interaction's `/webhooks/{app}/{token}/messages/..`):
    /// arms its clock when `sent` asks for it and has components, disarms it otherwise.
    pub(crate) fn sent(self: &std::sync::Arc<Self>, message: u64, path: String, sent: &Message) {
        let after = sent
            .expire_components
            .filter(|_| !sent.components.is_empty())
            .map(|s| Duration::from_secs(u64::from(s)));
        let Some(after) = after else {
            self.disarm(message);
            return;
        };
        if message == 0 {
            return;
        }
        let generation = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut armed) = self.armed.lock() {
            armed.insert(message, generation);
        }
        let components =
            super::convert::components_json(&sent.clone().disable_components().components);
        let expiry = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let current =
                expiry
                    .armed
                    .lock()
                    .ok()
                    .and_then(|mut armed| match armed.get(&message) {
                        Some(g) if *g == generation => armed.remove(&message),
                        _ => None,
                    });
            if current.is_none() {
                return;
            }
            let body = json!({ "components": components });
            if let Err(error) = expiry
                .rest
                .request(reqwest::Method::PATCH, &path, Some(&body))
                .await
            {
                // Deleted meanwhile, or its interaction's token expired: nothing to grey out.
                tracing::debug!(message, %error, "expired components not greyed out");
            }
        });
    }

    /// What of `message` a clock needs: its components and the setting (not its files).
    pub(crate) fn clock_of(message: &Message) -> Message {
        let mut clock = Message::new();
        clock.components = message.components.clone();
        clock.expire_components = message.expire_components;
        clock
    }

    /// Forgets `message`'s clock (updated without the setting, or deleted).
    pub(crate) fn disarm(&self, message: u64) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.remove(&message);
        }
    }
}
