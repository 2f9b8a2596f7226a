//! What the richer events of plugin-api 1.3 carry: message edits, reactions and voice states.
//! The other 1.3 events carry the types of [`guild`](crate::guild) (channels, roles) or plain
//! ids; see [`Event`](crate::Event).

use serde::{Deserialize, Serialize};

use crate::guild::Attachment;
use crate::model::{ChannelId, GuildId, Member, MessageId, User, UserId};

/// A message was edited ([`Event::MessageUpdate`](crate::Event::MessageUpdate)).
///
/// Discord sends what the message is now, not what it was: keep what you need from
/// [`Event::MessageCreate`](crate::Event::MessageCreate) to compare. An update without an edit
/// (Discord adding a link preview) has `edited_at` `None`.
///
/// ```
/// use zoryx_plugin_api::prelude::*;
///
/// async fn edited(ctx: PluginContext<()>, event: Event) -> PluginResult {
///     if let Event::MessageUpdate(update) = event
///         && update.edited_at.is_some()
///         && let Some(text) = update.content
///     {
///         ctx.info(format!("message {} now reads {text:?}", update.message_id));
///     }
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageUpdate {
    /// The message.
    pub message_id: MessageId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its guild, `None` in DMs.
    pub guild_id: Option<GuildId>,
    /// Its text now, when the update carries it.
    pub content: Option<String>,
    /// Who wrote it, when the update says.
    pub author: Option<User>,
    /// When it was edited (Discord's ISO 8601 text).
    pub edited_at: Option<String>,
    /// Its files now, when the update carries them.
    pub attachments: Option<Vec<Attachment>>,
}

/// Someone's reaction to a message, added or taken back
/// ([`Event::ReactionAdd`](crate::Event::ReactionAdd),
/// [`Event::ReactionRemove`](crate::Event::ReactionRemove)). The bot's own reactions are not
/// delivered.
///
/// ```
/// use zoryx_plugin_api::events::UserReaction;
///
/// let reaction = UserReaction { emoji: "👍".into(), ..UserReaction::default() };
/// assert!(reaction.is("👍"));
/// let custom = UserReaction { emoji: "party:1234".into(), ..UserReaction::default() };
/// assert!(custom.is("party:1234") && custom.is("party"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReaction {
    /// Who reacted.
    pub user_id: UserId,
    /// The message's channel.
    pub channel_id: ChannelId,
    /// The message.
    pub message_id: MessageId,
    /// The guild, `None` in DMs.
    pub guild_id: Option<GuildId>,
    /// The emoji as [`Reaction::emoji`](crate::Reaction::emoji) writes it: the character
    /// itself, or `name:id` for a custom emoji.
    pub emoji: String,
    /// The member who reacted, for additions in a guild (Discord leaves it out of removals).
    pub member: Option<Member>,
}

impl UserReaction {
    /// Whether the emoji is `emoji`: the character, `name:id`, or a custom emoji's name alone.
    pub fn is(&self, emoji: &str) -> bool {
        self.emoji == emoji
            || self
                .emoji
                .split_once(':')
                .is_some_and(|(name, _)| name == emoji)
    }
}

/// Where a member is in voice now and where they were
/// ([`Event::VoiceStateUpdate`](crate::Event::VoiceStateUpdate)): joining, leaving, moving, or
/// muting and deafening in place.
///
/// ```
/// use zoryx_plugin_api::events::VoiceState;
/// use zoryx_plugin_api::{ChannelId, GuildId, UserId};
///
/// let lounge = ChannelId(10);
/// let joined = VoiceState {
///     guild_id: GuildId(1),
///     user_id: UserId(2),
///     channel_id: Some(lounge),
///     ..VoiceState::default()
/// };
/// assert_eq!(joined.joined(), Some(lounge));
/// assert_eq!(joined.left(), None);
///
/// let moved = VoiceState { previous: Some(lounge), channel_id: Some(ChannelId(11)), ..joined };
/// assert_eq!(moved.moved(), Some((lounge, ChannelId(11))));
/// assert_eq!(moved.joined(), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceState {
    /// The guild.
    pub guild_id: GuildId,
    /// Whose voice state.
    pub user_id: UserId,
    /// The voice channel they are in now, `None` once they left.
    pub channel_id: Option<ChannelId>,
    /// The voice channel they were in before this update, `None` if none (as far as the host
    /// knows: it learns the voice states of a guild when it connects).
    pub previous: Option<ChannelId>,
    /// The member, when Discord sends it.
    pub member: Option<Member>,
    /// Muted by the server.
    pub mute: bool,
    /// Deafened by the server.
    pub deaf: bool,
    /// Muted themselves.
    pub self_mute: bool,
    /// Deafened themselves.
    pub self_deaf: bool,
}

impl VoiceState {
    /// The channel they joined, when they were in no voice channel before.
    pub fn joined(&self) -> Option<ChannelId> {
        match (self.previous, self.channel_id) {
            (None, Some(now)) => Some(now),
            _ => None,
        }
    }

    /// The channel they left, when they are in no voice channel now.
    pub fn left(&self) -> Option<ChannelId> {
        match (self.previous, self.channel_id) {
            (Some(before), None) => Some(before),
            _ => None,
        }
    }

    /// `(from, to)` when they went from one voice channel to another.
    pub fn moved(&self) -> Option<(ChannelId, ChannelId)> {
        match (self.previous, self.channel_id) {
            (Some(before), Some(now)) if before != now => Some((before, now)),
            _ => None,
        }
    }
}
