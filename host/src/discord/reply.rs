//! Where command replies go: a channel reply to the triggering message, or an interaction's
//! callback followed by followups.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use zoryx_plugin_api::{CallAction, ChannelId, Message, MessageId, Outcome, PluginError};

use super::actions::message_from_json;
use super::expiry::Expiry;
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
        .post_for_id(
            &format!("/channels/{}/messages", channel.0),
            &body,
            &message.files,
        )
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

/// Where a channel message is edited.
fn channel_path(channel: ChannelId, message: MessageId) -> String {
    format!("/channels/{}/messages/{}", channel.0, message.0)
}

/// Replies to a message in its channel, each reply referencing it.
pub struct ChannelReply {
    pub(crate) rest: Rest,
    pub(crate) counters: Arc<Counters>,
    pub(crate) channel: ChannelId,
    pub(crate) reply_to: Option<MessageId>,
    /// The clocks of messages whose components expire.
    pub(crate) expiry: Arc<Expiry>,
}

impl ReplySink for ChannelReply {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let (channel, reply_to) = (self.channel, self.reply_to);
        let expiry = Arc::clone(&self.expiry);
        Box::pin(async move {
            let id = post(&rest, &counters, channel, &message, reply_to).await?;
            expiry.sent(id.0, channel_path(channel, id), &message);
            Ok(id)
        })
    }

    fn act(&self, action: CallAction) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let (channel, reply_to) = (self.channel, self.reply_to);
        let expiry = Arc::clone(&self.expiry);
        Box::pin(async move {
            let message_path = |reply: Option<MessageId>| match reply {
                Some(id) => Ok(format!("/channels/{}/messages/{}", channel.0, id.0)),
                None => Err(PluginError::Host(
                    "name the reply to change (the id `reply` returned)".to_owned(),
                )),
            };
            match action {
                CallAction::EditReply { reply, edit } => {
                    let body = convert::edited_message(&edit);
                    let path = message_path(reply)?;
                    let edited = rest
                        .send_message(reqwest::Method::PATCH, &path, &body, &edit.files)
                        .await
                        .map(|m| message_from_json(&m))
                        .map_err(|e| refused("edit a reply", &e))?;
                    expiry.sent(edited.id.0, path, &edit);
                    Ok(Outcome::Message(edited))
                }
                CallAction::DeleteReply { reply } => {
                    let path = message_path(reply)?;
                    if let Some(id) = reply {
                        expiry.disarm(id.0);
                    }
                    rest.request(reqwest::Method::DELETE, &path, None)
                        .await
                        .map(|_| Outcome::Done)
                        .map_err(|e| refused("delete a reply", &e))
                }
                CallAction::Followup { message } => {
                    let id = post(&rest, &counters, channel, &message, reply_to)
                        .await
                        .map_err(PluginError::Host)?;
                    expiry.sent(id.0, channel_path(channel, id), &message);
                    Ok(Outcome::Id(id.0))
                }
                // A message has no "thinking…" state; the typing indicator says the same.
                CallAction::Defer { .. } => rest
                    .post(&format!("/channels/{}/typing", channel.0), &json!({}))
                    .await
                    .map(|_| Outcome::Done)
                    .map_err(|e| refused("show that the bot is typing", &e)),
                CallAction::Modal { .. } => Err(PluginError::NotAvailable(
                    "showing a modal to a prefix command (modals answer interactions: slash \
                     commands, components and context menus)"
                        .to_owned(),
                )),
                other => Err(PluginError::NotAvailable(format!(
                    "{} (only components can)",
                    other.describe()
                ))),
            }
        })
    }
}

/// Where an interaction's answer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// Nothing sent yet.
    Pending,
    /// Acknowledged with a deferred response (type 5): the first reply edits `@original`.
    Deferred,
    /// A component acknowledged without a message (type 6): replies are followups, updates
    /// edit the component's message (`@original`).
    Acknowledged,
    /// The response was sent: further replies are followups.
    Sent,
}

/// The state of an interaction's answer, held while sending so answers go out in order.
#[derive(Debug)]
struct AnswerState {
    answer: Answer,
    /// The message of the original response (type 4/5), once known.
    original: Option<MessageId>,
    /// `@original` is the component's own message (after a type 6 or 7 response).
    original_is_component: bool,
}

/// Replies to an interaction: the first reply is the callback (type 4), later ones followups.
/// Discord expects the callback within 3 seconds: `defer_after` sends a
/// deferred response (type 5) if the handler is still working, and the first reply then edits
/// that response. Plugins may also edit and delete replies, defer at once, and — for components
/// — update the component's message in place (type 7, or an edit after type 6).
pub struct InteractionReply {
    rest: Rest,
    counters: Arc<Counters>,
    application: u64,
    id: u64,
    token: String,
    /// For a component interaction: the message the component is on.
    component: Option<(ChannelId, MessageId)>,
    state: Arc<tokio::sync::Mutex<AnswerState>>,
    expiry: Arc<Expiry>,
}

/// The `response_message_id` of a callback answered `?with_response=true`.
fn response_message(value: &Value) -> Option<MessageId> {
    value
        .get("interaction")
        .and_then(|i| i.get("response_message_id"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .map(MessageId)
}

impl InteractionReply {
    /// A sink for interaction `id` with `token`; `component`: the message a clicked component
    /// is on.
    pub(crate) fn new(
        rest: Rest,
        counters: Arc<Counters>,
        application: u64,
        id: u64,
        token: String,
        component: Option<(ChannelId, MessageId)>,
        expiry: Arc<Expiry>,
    ) -> Self {
        Self {
            rest,
            counters,
            application,
            id,
            token,
            component,
            expiry,
            state: Arc::new(tokio::sync::Mutex::new(AnswerState {
                answer: Answer::Pending,
                original: None,
                original_is_component: false,
            })),
        }
    }

    /// Whether the interaction was answered with content (a deferral or a silent
    /// acknowledgement alone does not count).
    pub(crate) async fn answered(&self) -> bool {
        self.state.lock().await.answer == Answer::Sent
    }

    /// Acknowledges a component interaction without changing anything (type 6), if nothing
    /// was sent; after a deferral, replaces the "thinking" response with `fallback`.
    pub(crate) async fn acknowledge(&self, fallback: Message) {
        let answer = self.state.lock().await.answer;
        match answer {
            Answer::Sent | Answer::Acknowledged => {}
            Answer::Deferred => {
                let _ = self.reply(fallback).await;
            }
            Answer::Pending => {
                let mut state = self.state.lock().await;
                if state.answer != Answer::Pending {
                    return;
                }
                let path = format!("/interactions/{}/{}/callback", self.id, self.token);
                match self.rest.post(&path, &json!({"type": 6})).await {
                    Ok(_) => state.answer = Answer::Sent,
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
            if state.answer != Answer::Pending {
                return;
            }
            let path = format!("/interactions/{id}/{token}/callback?with_response=true");
            match rest.post(&path, &json!({"type": 5})).await {
                Ok(answer) => {
                    state.answer = Answer::Deferred;
                    state.original = response_message(&answer);
                }
                Err(error) => tracing::warn!(%error, "deferring the interaction failed"),
            }
        });
    }

    /// Answers an autocomplete request without suggestions after `delay` unless it was
    /// answered by then (Discord waits 3 seconds; a late handler's answer is refused).
    pub(crate) fn suggest_nothing_after(&self, delay: std::time::Duration) {
        let this = self.clone_handle();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if this.state.lock().await.answer != Answer::Pending {
                return;
            }
            let body = json!({"type": 8, "data": convert::autocomplete_json(&[])});
            if let Err(error) = this.first_answer("answer with suggestions", body).await {
                tracing::debug!(%error, "answering an autocomplete request in time failed");
            }
        });
    }

    /// The webhook path of one of this interaction's messages (`@original` for the original
    /// response, whichever id it has).
    fn message_path(&self, state: &AnswerState, reply: Option<MessageId>) -> String {
        let which = match reply {
            None => "@original".to_owned(),
            Some(id) if state.original == Some(id) => "@original".to_owned(),
            Some(id) => id.0.to_string(),
        };
        format!(
            "/webhooks/{}/{}/messages/{which}",
            self.application, self.token
        )
    }

    async fn update(&self, message: Message) -> Result<Outcome, PluginError> {
        let Some((channel, on)) = self.component else {
            return Err(PluginError::NotAvailable(
                "updating a message in place (only components can)".to_owned(),
            ));
        };
        let data = convert::edited_message(&message);
        let mut state = self.state.lock().await;
        let what = "update the component's message";
        // Through this interaction's token (`@original` is the component's message), or the
        // channel where the message is not an interaction's.
        let webhook_path = format!(
            "/webhooks/{}/{}/messages/@original",
            self.application, self.token
        );
        let clock_path = match state.answer {
            Answer::Deferred | Answer::Sent if !state.original_is_component => {
                channel_path(channel, on)
            }
            _ => webhook_path,
        };
        let result = match state.answer {
            Answer::Pending => {
                let path = format!(
                    "/interactions/{}/{}/callback?with_response=true",
                    self.id, self.token
                );
                let result = self
                    .rest
                    .send_message(
                        reqwest::Method::POST,
                        &path,
                        &json!({"type": 7, "data": data}),
                        &message.files,
                    )
                    .await;
                if result.is_ok() {
                    state.answer = Answer::Sent;
                    state.original_is_component = true;
                }
                result
            }
            Answer::Acknowledged => {
                self.rest
                    .send_message(
                        reqwest::Method::PATCH,
                        &self.message_path(&state, None),
                        &data,
                        &message.files,
                    )
                    .await
            }
            Answer::Sent if state.original_is_component => {
                self.rest
                    .send_message(
                        reqwest::Method::PATCH,
                        &self.message_path(&state, None),
                        &data,
                        &message.files,
                    )
                    .await
            }
            Answer::Deferred | Answer::Sent => {
                let path = format!("/channels/{}/messages/{}", channel.0, on.0);
                self.rest
                    .send_message(reqwest::Method::PATCH, &path, &data, &message.files)
                    .await
            }
        };
        let done = result
            .map(|_| Outcome::Done)
            .map_err(|e| refused(what, &e))?;
        self.expiry.sent(on.0, clock_path, &message);
        Ok(done)
    }

    async fn defer(&self, ephemeral: bool) -> Result<Outcome, PluginError> {
        let mut state = self.state.lock().await;
        if state.answer != Answer::Pending {
            return Ok(Outcome::Done);
        }
        let path = format!(
            "/interactions/{}/{}/callback?with_response=true",
            self.id, self.token
        );
        let body = if self.component.is_some() {
            json!({"type": 6})
        } else if ephemeral {
            json!({"type": 5, "data": {"flags": convert::EPHEMERAL}})
        } else {
            json!({"type": 5})
        };
        let answer = self
            .rest
            .post(&path, &body)
            .await
            .map_err(|e| refused("defer the answer", &e))?;
        if self.component.is_some() {
            state.answer = Answer::Acknowledged;
            state.original_is_component = true;
        } else {
            state.answer = Answer::Deferred;
            state.original = response_message(&answer);
        }
        Ok(Outcome::Done)
    }

    async fn edit_or_delete(
        &self,
        reply: Option<MessageId>,
        edit: Option<Message>,
    ) -> Result<Outcome, PluginError> {
        let state = self.state.lock().await;
        if reply.is_none() && !matches!(state.answer, Answer::Sent | Answer::Deferred) {
            return Err(PluginError::Host(
                "there is no reply to change yet".to_owned(),
            ));
        }
        let path = self.message_path(&state, reply);
        let which = reply.or(state.original);
        drop(state);
        match edit {
            Some(edit) => {
                let body = convert::edited_message(&edit);
                let edited = self
                    .rest
                    .send_message(reqwest::Method::PATCH, &path, &body, &edit.files)
                    .await
                    .map(|m| message_from_json(&m))
                    .map_err(|e| refused("edit a reply", &e))?;
                self.expiry.sent(edited.id.0, path, &edit);
                Ok(Outcome::Message(edited))
            }
            None => {
                if let Some(id) = which {
                    self.expiry.disarm(id.0);
                }
                self.rest
                    .request(reqwest::Method::DELETE, &path, None)
                    .await
                    .map(|_| Outcome::Done)
                    .map_err(|e| refused("delete a reply", &e))
            }
        }
    }
}

/// A refused request about a call's own replies, as the plugin sees it.
fn refused(what: &str, error: &RestError) -> PluginError {
    match error {
        RestError::Status { status, body, .. } => {
            let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            PluginError::Discord {
                action: what.to_owned(),
                status: *status,
                code: value
                    .get("code")
                    .and_then(Value::as_u64)
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or(0),
                message: value
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or(body)
                    .to_owned(),
            }
        }
        other => PluginError::Host(format!("could not {what}: {other}")),
    }
}

impl ReplySink for InteractionReply {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let state = Arc::clone(&self.state);
        let (application, id, token) = (self.application, self.id, self.token.clone());
        let expiry = Arc::clone(&self.expiry);
        Box::pin(async move {
            let data = convert::interaction_message(&message);
            let mut state = state.lock().await;
            let webhook = format!("/webhooks/{application}/{token}/messages");
            match state.answer {
                Answer::Sent | Answer::Acknowledged => {
                    drop(state);
                    let result = rest
                        .send_message(
                            reqwest::Method::POST,
                            &format!("/webhooks/{application}/{token}"),
                            &data,
                            &message.files,
                        )
                        .await;
                    let sent = counted(&counters, result)?;
                    expiry.sent(sent.0, format!("{webhook}/{}", sent.0), &message);
                    Ok(sent)
                }
                Answer::Deferred => {
                    let result = rest
                        .send_message(
                            reqwest::Method::PATCH,
                            &format!("/webhooks/{application}/{token}/messages/@original"),
                            &data,
                            &message.files,
                        )
                        .await;
                    if result.is_ok() {
                        state.answer = Answer::Sent;
                    }
                    let sent = counted(&counters, result)?;
                    expiry.sent(sent.0, format!("{webhook}/@original"), &message);
                    Ok(sent)
                }
                Answer::Pending => {
                    let result = rest
                        .send_message(
                            reqwest::Method::POST,
                            &format!("/interactions/{id}/{token}/callback?with_response=true"),
                            &json!({"type": 4, "data": data}),
                            &message.files,
                        )
                        .await;
                    let original = result.as_ref().ok().and_then(response_message);
                    if result.is_ok() {
                        state.answer = Answer::Sent;
                        state.original = original;
                    }
                    let sent =
                        counted(&counters, result).map(|_| original.unwrap_or(MessageId(0)))?;
                    expiry.sent(sent.0, format!("{webhook}/@original"), &message);
                    Ok(sent)
                }
            }
        })
    }

    fn act(&self, action: CallAction) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        let this = self.clone_handle();
        Box::pin(async move {
            match action {
                CallAction::EditReply { reply, edit } => {
                    this.edit_or_delete(reply, Some(edit)).await
                }
                CallAction::DeleteReply { reply } => this.edit_or_delete(reply, None).await,
                CallAction::Followup { message } => this
                    .reply(message)
                    .await
                    .map(|id| Outcome::Id(id.0))
                    .map_err(PluginError::Host),
                CallAction::Update { message } => this.update(message).await,
                CallAction::Defer { ephemeral } => this.defer(ephemeral).await,
                CallAction::Modal { modal } => {
                    let data = convert::modal_json(&modal);
                    this.first_answer("show a modal", json!({"type": 9, "data": data}))
                        .await
                }
                CallAction::Autocomplete { choices } => {
                    if choices.len() > zoryx_plugin_api::limits::AUTOCOMPLETE_CHOICES {
                        tracing::warn!(
                            offered = choices.len(),
                            "autocomplete offered more than 25 choices; Discord shows the first 25"
                        );
                    }
                    let data = convert::autocomplete_json(&choices);
                    this.first_answer("answer with suggestions", json!({"type": 8, "data": data}))
                        .await
                }
                other => Err(PluginError::NotAvailable(other.describe().to_owned())),
            }
        })
    }
}

impl InteractionReply {
    /// Sends a response that can only be the interaction's first (a modal, suggestions);
    /// after it the interaction counts as answered.
    async fn first_answer(&self, what: &str, body: Value) -> Result<Outcome, PluginError> {
        let mut state = self.state.lock().await;
        if state.answer != Answer::Pending {
            return Err(PluginError::Host(format!(
                "cannot {what}: the interaction was answered already (only its first answer can)"
            )));
        }
        let path = format!("/interactions/{}/{}/callback", self.id, self.token);
        self.rest
            .post(&path, &body)
            .await
            .map_err(|e| refused(what, &e))?;
        state.answer = Answer::Sent;
        Ok(Outcome::Done)
    }

    /// Another handle on the same interaction (the same answer state).
    fn clone_handle(&self) -> Self {
        Self {
            rest: self.rest.clone(),
            counters: Arc::clone(&self.counters),
            application: self.application,
            id: self.id,
            token: self.token.clone(),
            component: self.component,
            state: Arc::clone(&self.state),
            expiry: Arc::clone(&self.expiry),
        }
    }
}
