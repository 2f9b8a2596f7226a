//! Where command replies go: a channel reply to the triggering message, or an interaction's
//! callback followed by followups.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use zoryx_plugin_api::{ChannelId, Message, MessageId};

use super::rest::{Rest, RestError};
use super::{Counters, bump, convert};
use crate::runtime::ReplySink;

/// The id in a created message's JSON.
fn message_id(value: &Value) -> MessageId {
    MessageId(
        value
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    )
}

fn counted(counters: &Counters, result: Result<Value, RestError>) -> Result<MessageId, String> {
    match result {
        Ok(value) => {
            bump(&counters.replies_sent);
            Ok(message_id(&value))
        }
        Err(error) => {
            bump(&counters.replies_failed);
            tracing::warn!(%error, "reply not delivered");
            Err(error.to_string())
        }
    }
}

/// Posts `message` to `channel` (as a reply to `reply_to` when given).
pub(crate) async fn post(
    rest: &Rest,
    counters: &Counters,
    channel: ChannelId,
    message: &Message,
    reply_to: Option<MessageId>,
) -> Result<MessageId, String> {
    let body = convert::channel_message(message, reply_to);
    // Only the new message's id is needed: the answer is not parsed into a JSON tree.
    let result = rest
        .post_for_id(&format!("/channels/{}/messages", channel.0), &body)
        .await;
    match result {
        Ok(id) => {
            bump(&counters.replies_sent);
            Ok(MessageId(id))
        }
        Err(error) => {
            bump(&counters.replies_failed);
            tracing::warn!(%error, "reply not delivered");
            Err(error.to_string())
        }
    }
}

/// Replies to a message in its channel, each reply referencing it.
pub struct ChannelReply {
    pub(crate) rest: Rest,
    pub(crate) counters: Arc<Counters>,
    pub(crate) channel: ChannelId,
    pub(crate) reply_to: Option<MessageId>,
}

impl ReplySink for ChannelReply {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let (channel, reply_to) = (self.channel, self.reply_to);
        Box::pin(async move { post(&rest, &counters, channel, &message, reply_to).await })
    }
}

/// Where an interaction's answer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// Nothing sent yet.
    Pending,
    /// Acknowledged with a deferred response (type 5): the first reply edits `@original`.
    Deferred,
    /// The response was sent: further replies are followups.
    Sent,
}

/// Replies to an interaction: the first reply is the callback (type 4), later ones followups.
/// Discord expects the callback within 3 seconds: `defer_after` sends a
/// deferred response (type 5) if the handler is still working, and the first reply then edits
/// that response.
pub struct InteractionReply {
    rest: Rest,
    counters: Arc<Counters>,
    application: u64,
    id: u64,
    token: String,
    /// Held while sending so replies go out in order.
    state: Arc<tokio::sync::Mutex<Answer>>,
}

impl InteractionReply {
    /// A sink for interaction `id` with `token`.
    pub(crate) fn new(
        rest: Rest,
        counters: Arc<Counters>,
        application: u64,
        id: u64,
        token: String,
    ) -> Self {
        Self {
            rest,
            counters,
            application,
            id,
            token,
            state: Arc::new(tokio::sync::Mutex::new(Answer::Pending)),
        }
    }

    /// Whether a response with content was sent (a deferral alone does not count).
    pub(crate) async fn answered(&self) -> bool {
        *self.state.lock().await == Answer::Sent
    }

    /// Acknowledges a component interaction without changing anything (type 6), if nothing
    /// was sent; after a deferral, replaces the "thinking" response with `fallback`.
    pub(crate) async fn acknowledge(&self, fallback: Message) {
        let state = *self.state.lock().await;
        match state {
            Answer::Sent => {}
            Answer::Deferred => {
                let _ = self.reply(fallback).await;
            }
            Answer::Pending => {
                let mut state = self.state.lock().await;
                if *state != Answer::Pending {
                    return;
                }
                let path = format!("/interactions/{}/{}/callback", self.id, self.token);
                match self.rest.post(&path, &json!({"type": 6})).await {
                    Ok(_) => *state = Answer::Sent,
                    Err(error) => tracing::warn!(%error, "component acknowledgement failed"),
                }
            }
        }
    }

    /// Sends a deferred response after `delay` unless something was sent by then (a finished
    /// handler has always sent something, so the timer then does nothing).
    pub(crate) fn defer_after(&self, delay: std::time::Duration) {
        let rest = self.rest.clone();
        let state = Arc::clone(&self.state);
        let (id, token) = (self.id, self.token.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut state = state.lock().await;
            if *state != Answer::Pending {
                return;
            }
            let path = format!("/interactions/{id}/{token}/callback");
            match rest.post(&path, &json!({"type": 5})).await {
                Ok(_) => *state = Answer::Deferred,
                Err(error) => tracing::warn!(%error, "deferring the interaction failed"),
            }
        });
    }
}

impl ReplySink for InteractionReply {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let state = Arc::clone(&self.state);
        let (application, id, token) = (self.application, self.id, self.token.clone());
        Box::pin(async move {
            let data = convert::interaction_message(&message);
            let mut state = state.lock().await;
            match *state {
                Answer::Sent => {
                    drop(state);
                    let result = rest
                        .post(&format!("/webhooks/{application}/{token}"), &data)
                        .await;
                    counted(&counters, result)
                }
                Answer::Deferred => {
                    let result = rest
                        .request(
                            reqwest::Method::PATCH,
                            &format!("/webhooks/{application}/{token}/messages/@original"),
                            Some(&data),
                        )
                        .await;
                    if result.is_ok() {
                        *state = Answer::Sent;
                    }
                    counted(&counters, result)
                }
                Answer::Pending => {
                    let result = rest
                        .post(
                            &format!("/interactions/{id}/{token}/callback"),
                            &json!({"type": 4, "data": data}),
                        )
                        .await;
                    if result.is_ok() {
                        *state = Answer::Sent;
                    }
                    counted(&counters, result).map(|_| MessageId(id))
                }
            }
        })
    }
}
