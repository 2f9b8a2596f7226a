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
    let result = rest
        .post(&format!("/channels/{}/messages", channel.0), &body)
        .await;
    counted(counters, result)
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

/// Replies to an interaction: the first reply is the callback (type 4), later ones followups.
pub struct InteractionReply {
    pub(crate) rest: Rest,
    pub(crate) counters: Arc<Counters>,
    pub(crate) application: u64,
    pub(crate) id: u64,
    pub(crate) token: String,
    /// Whether the callback was sent; held while sending it so followups wait for it.
    pub(crate) answered: Arc<tokio::sync::Mutex<bool>>,
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
            answered: Arc::new(tokio::sync::Mutex::new(false)),
        }
    }

    /// Whether anything was sent yet.
    pub(crate) async fn answered(&self) -> bool {
        *self.answered.lock().await
    }
}

impl ReplySink for InteractionReply {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let answered = Arc::clone(&self.answered);
        let (application, id, token) = (self.application, self.id, self.token.clone());
        Box::pin(async move {
            let data = convert::interaction_message(&message);
            let mut answered = answered.lock().await;
            if *answered {
                drop(answered);
                let result = rest
                    .post(&format!("/webhooks/{application}/{token}"), &data)
                    .await;
                return counted(&counters, result);
            }
            let result = rest
                .post(
                    &format!("/interactions/{id}/{token}/callback"),
                    &json!({"type": 4, "data": data}),
                )
                .await;
            if result.is_ok() {
                *answered = true;
            }
            counted(&counters, result).map(|_| MessageId(id))
        })
    }
}
