//! What the simulator reports: events about what the bot did, recorded REST requests, and
//! plain records of world entities handed to scripts.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

/// A user of the simulated world (human or bot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// Snowflake id.
    pub id: u64,
    /// Username.
    pub name: String,
    /// Whether the user is a bot account.
    pub bot: bool,
}

/// A message stored in a channel.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRecord {
    /// Message id.
    pub id: u64,
    /// Channel id.
    pub channel_id: u64,
    /// Guild id, `None` in DMs.
    pub guild_id: Option<u64>,
    /// Author's user id.
    pub author_id: u64,
    /// Text content.
    pub content: String,
    /// The message this one replies to (`message_reference.message_id`).
    pub reply_to: Option<u64>,
    /// The interaction this message answers (interaction responses and followups).
    pub interaction_id: Option<u64>,
    /// The full Discord message object as the REST API returns it.
    pub payload: Value,
}

/// One REST request the simulator answered.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Path including `/api/v10`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Headers of interest (`content-type`, `user-agent`, `x-audit-log-reason`, ...); the
    /// `authorization` header is recorded as whether it was valid, never its value.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if the request had one that parsed (a multipart body's `payload_json`).
    pub body: Option<Value>,
    /// The files of a multipart body: each `files[n]` part's index, file name and size.
    pub files: Vec<(u64, String, usize)>,
    /// Status code answered.
    pub status: u16,
    /// The JSON body answered, if any.
    pub response: Option<Value>,
    /// When the request arrived.
    pub at: SystemTime,
}

/// Something the bot did, or a gateway milestone, broadcast to [`crate::Simulator::subscribe`]rs.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub enum SimEvent {
    /// The bot created a message (`POST /channels/{id}/messages`).
    BotMessage {
        /// Channel id.
        channel_id: u64,
        /// New message id.
        message_id: u64,
        /// `message_reference.message_id`, when the message is a reply.
        reply_to: Option<u64>,
        /// The request body as sent (content, embeds, components, flags...).
        body: Value,
    },
    /// The bot edited a message (channel message or interaction message).
    MessageEdited {
        /// Channel id.
        channel_id: u64,
        /// Message id.
        message_id: u64,
        /// The request body as sent.
        body: Value,
    },
    /// The bot deleted a message.
    MessageDeleted {
        /// Channel id.
        channel_id: u64,
        /// Message id.
        message_id: u64,
    },
    /// The bot bulk-deleted messages (`POST /channels/{id}/messages/bulk-delete`).
    MessagesBulkDeleted {
        /// Channel id.
        channel_id: u64,
        /// The messages deleted (ids of unknown messages in the request are left out).
        message_ids: Vec<u64>,
    },
    /// The bot reacted to a message (`PUT .../reactions/{emoji}/@me`), a reaction new for it.
    BotReactionAdded {
        /// Channel id.
        channel_id: u64,
        /// Message id.
        message_id: u64,
        /// The emoji: the unicode emoji or `name:id`.
        emoji: String,
    },
    /// The bot removed a reaction: its own (`user_id` is the bot) or a user's.
    BotReactionRemoved {
        /// Channel id.
        channel_id: u64,
        /// Message id.
        message_id: u64,
        /// The emoji: the unicode emoji or `name:id`.
        emoji: String,
        /// Whose reaction was removed.
        user_id: u64,
    },
    /// The bot removed all reactions of a message, or all of one emoji.
    BotReactionsCleared {
        /// Channel id.
        channel_id: u64,
        /// Message id.
        message_id: u64,
        /// The emoji, `None` when all reactions were removed.
        emoji: Option<String>,
    },
    /// The bot changed a member (`PATCH /guilds/{g}/members/{u}` or `/members/@me`).
    MemberUpdated {
        /// Guild id.
        guild_id: u64,
        /// The member's user id.
        user_id: u64,
        /// The request body as sent (`nick`, `roles`, `communication_disabled_until`...).
        body: Value,
    },
    /// The bot kicked a member (`DELETE /guilds/{g}/members/{u}`).
    MemberKicked {
        /// Guild id.
        guild_id: u64,
        /// The user kicked.
        user_id: u64,
        /// The `X-Audit-Log-Reason`, if given.
        reason: Option<String>,
    },
    /// The bot banned a user (`PUT /guilds/{g}/bans/{u}`).
    MemberBanned {
        /// Guild id.
        guild_id: u64,
        /// The user banned.
        user_id: u64,
        /// `delete_message_seconds` asked for (0 when absent).
        delete_message_seconds: u64,
        /// The `X-Audit-Log-Reason`, if given.
        reason: Option<String>,
    },
    /// The bot lifted a ban (`DELETE /guilds/{g}/bans/{u}`).
    MemberUnbanned {
        /// Guild id.
        guild_id: u64,
        /// The user unbanned.
        user_id: u64,
    },
    /// The bot edited a channel or its permission overwrites.
    ChannelUpdated {
        /// Channel id.
        channel_id: u64,
        /// The request body as sent (`null` for an overwrite removal).
        body: Value,
    },
    /// The bot deleted a channel (`DELETE /channels/{id}`).
    ChannelDeleted {
        /// Channel id.
        channel_id: u64,
    },
    /// A message was posted through a channel webhook (`POST /webhooks/{id}/{token}`).
    WebhookMessage {
        /// The webhook.
        webhook_id: u64,
        /// Channel id.
        channel_id: u64,
        /// New message id.
        message_id: u64,
        /// The request body as sent.
        body: Value,
    },
    /// The bot answered an interaction (`POST /interactions/{id}/{token}/callback`).
    InteractionResponse {
        /// The interaction answered (from the path).
        interaction_id: u64,
        /// Callback type (1 pong, 4 message, 5 deferred message, 6 deferred update, 7 update).
        kind: u8,
        /// The callback's `data` (content, embeds, components, flags...), `null` if absent.
        body: Value,
    },
    /// The bot edited or deleted the original interaction response (`@original`).
    OriginalEdited {
        /// The interaction.
        interaction_id: u64,
        /// The request body (`null` for a delete).
        body: Value,
        /// Whether it was a delete.
        deleted: bool,
    },
    /// The bot sent a followup message (`POST /webhooks/{app}/{token}`).
    Followup {
        /// The interaction the token belongs to.
        interaction_id: u64,
        /// The interaction token.
        token: String,
        /// New message id.
        message_id: u64,
        /// The request body as sent.
        body: Value,
    },
    /// The bot overwrote its application commands (bulk overwrite).
    CommandsOverwritten {
        /// The guild, `None` for global commands.
        guild: Option<u64>,
        /// How many commands are now registered there.
        count: usize,
    },
    /// A session identified and was sent READY.
    Identified {
        /// The new session id.
        session_id: String,
        /// `[shard_id, shard_count]`.
        shard: [u32; 2],
        /// Intents asked for.
        intents: u64,
        /// How the connection compresses from READY on.
        compression: crate::GatewayCompression,
    },
    /// A session resumed and was sent the dispatches it missed, then RESUMED.
    Resumed {
        /// The session id.
        session_id: String,
        /// How many dispatches were replayed.
        replayed: usize,
        /// How the connection compresses the replay and what follows.
        compression: crate::GatewayCompression,
    },
    /// A shard set the bot's presence (op 3, or IDENTIFY's `presence`); it was valid.
    PresenceUpdated {
        /// The session of the connection.
        session_id: Option<String>,
        /// The shard id.
        shard: u32,
        /// The presence as sent: `{since, activities, status, afk}`.
        presence: Value,
    },
    /// A heartbeat arrived on a gateway connection.
    Heartbeat {
        /// The session the connection carries, if it has identified.
        session_id: Option<String>,
        /// Time since the connection's previous heartbeat; `None` for its first.
        since_last: Option<std::time::Duration>,
    },
    /// A gateway connection closed.
    Disconnected {
        /// The session it carried, if it had identified.
        session_id: Option<String>,
        /// The close code the simulator sent, if it closed the socket itself.
        code: Option<u16>,
        /// The close code the bot sent, if it closed the socket itself (1000 and 1001 end
        /// the session; any other keeps it resumable).
        client_code: Option<u16>,
    },
    /// A request was answered 429 by a scripted rate limit.
    RateLimited {
        /// Method and path of the request.
        route: String,
    },
}
