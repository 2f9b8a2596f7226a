//! Interactions (slash commands and component clicks) and their responses.

use serde_json::Value;

/// An interaction the simulator created.
#[derive(Debug, Clone)]
pub struct Interaction {
    /// Interaction id.
    pub id: u64,
    /// Its token (for callbacks and the webhook routes).
    pub token: String,
    /// 2 = application command (slash or context menu), 3 = message component,
    /// 4 = autocomplete, 5 = modal submission.
    pub kind: u8,
    /// Guild (`None` in DMs).
    pub guild_id: Option<u64>,
    /// Channel.
    pub channel_id: u64,
    /// The user who triggered it.
    pub user_id: u64,
    /// For component interactions, the message the component is on.
    pub message_id: Option<u64>,
    /// The callback type the bot answered with, once answered.
    pub response_kind: Option<u8>,
    /// The message created by the original response (type 4/5), if any.
    pub original_message: Option<u64>,
    /// The modal the bot answered with (callback type 9): its `data`.
    pub modal: Option<Value>,
    /// The `INTERACTION_CREATE` payload.
    pub payload: Value,
}
