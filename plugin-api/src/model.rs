//! Discord things a plugin sees: ids, users, members, guilds, messages and interactions.
//!
//! These are plain Rust values owned by the plugin; nothing here borrows from the host.

use std::fmt;

use crate::events::{MessageUpdate, UserReaction, VoiceState};
use crate::guild::{Attachment, Channel, Role};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $mention:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw snowflake.
            pub const fn get(self) -> u64 {
                self.0
            }

            /// The Discord mention markup for this id.
            pub fn mention(self) -> String {
                format!($mention, self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A Discord user id.
    UserId,
    "<@{}>"
);
id_type!(
    /// A Discord guild (server) id.
    GuildId,
    "{}"
);
id_type!(
    /// A Discord channel id.
    ChannelId,
    "<#{}>"
);
id_type!(
    /// A Discord role id.
    RoleId,
    "<@&{}>"
);
id_type!(
    /// A Discord message id.
    MessageId,
    "{}"
);

/// A Discord user.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The user's name.
    pub name: String,
    /// Whether the account is a bot.
    pub bot: bool,
}

/// A user as a member of one guild.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// The user behind the membership.
    pub user: User,
    /// The guild the membership is in.
    pub guild_id: GuildId,
    /// The guild nickname, if set.
    pub nick: Option<String>,
    /// The member's roles.
    pub roles: Vec<RoleId>,
}

/// A guild (server) the bot is in.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Guild {
    /// The guild's id.
    pub id: GuildId,
    /// The guild's name.
    pub name: String,
    /// How many members it has, as far as the host knows.
    pub member_count: u64,
}

/// A message someone posted.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncomingMessage {
    /// The message id.
    pub id: MessageId,
    /// The channel it was posted in.
    pub channel_id: ChannelId,
    /// The guild, or `None` in a direct message.
    pub guild_id: Option<GuildId>,
    /// Who wrote it.
    pub author: User,
    /// The text.
    pub content: String,
    /// Its files (plugin-api 1.3).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The message it replies to (plugin-api 1.3).
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// The author's roles in the guild, empty in DMs (plugin-api 1.3).
    #[serde(default)]
    pub member_roles: Vec<RoleId>,
}

/// What kind of interaction arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InteractionKind {
    /// A slash command.
    Command,
    /// A button click or a select menu choice.
    Component,
}

/// A slash command or a component (button, select menu) interaction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Interaction {
    /// The interaction id.
    pub id: u64,
    /// Command or component.
    pub kind: InteractionKind,
    /// The command name, or the component's `custom_id`.
    pub name: String,
    /// The chosen values of a select menu (empty otherwise).
    pub values: Vec<String>,
    /// Who interacted.
    pub user: User,
    /// Where.
    pub channel_id: ChannelId,
    /// In which guild, if any.
    pub guild_id: Option<GuildId>,
}

/// Where a command invocation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Source {
    /// A prefixed message such as `!ping`.
    Prefix,
    /// A slash command interaction.
    Slash,
    /// The host's operator console.
    Console,
}

/// Who invoked a command, where and how.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invocation {
    /// The command name as registered (not the alias that was typed).
    pub command: String,
    /// The invoking user.
    pub author: User,
    /// The guild, or `None` in DMs and on the console.
    pub guild_id: Option<GuildId>,
    /// The channel.
    pub channel_id: ChannelId,
    /// The triggering message for prefix commands.
    pub message_id: Option<MessageId>,
    /// Whether the author is a bot owner.
    pub is_owner: bool,
    /// Prefix, slash or console.
    pub source: Source,
}

/// An event a plugin can listen to.
///
/// The kinds added in plugin-api 1.3 (from [`Event::MessageDelete`] on) need the intents the
/// host asks Discord for; the members' ones (member join, leave and update) need the
/// privileged "Server Members Intent" enabled for the bot.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Event {
    /// The bot connected and is ready.
    Ready {
        /// The bot's own user.
        user: User,
        /// Guilds it is in.
        guild_count: u64,
    },
    /// Someone posted a message.
    MessageCreate(IncomingMessage),
    /// The bot joined a guild.
    GuildJoin(Guild),
    /// The bot left (or was removed from) a guild.
    GuildLeave(GuildId),
    /// A member joined a guild.
    MemberJoin(Member),
    /// A member left a guild.
    MemberLeave {
        /// The guild.
        guild_id: GuildId,
        /// Who left.
        user: User,
    },
    /// A slash command or component interaction.
    Interaction(Interaction),
    /// A message was deleted (plugin-api 1.3).
    MessageDelete {
        /// Its id.
        message_id: MessageId,
        /// Its channel.
        channel_id: ChannelId,
        /// Its guild, `None` in DMs.
        guild_id: Option<GuildId>,
    },
    /// A message was edited (plugin-api 1.3). Edits of bots' messages are not delivered.
    MessageUpdate(MessageUpdate),
    /// Messages were deleted together (plugin-api 1.3): by a moderator's bulk delete, or a
    /// ban that removed the user's recent messages.
    MessageBulkDelete {
        /// Their ids.
        message_ids: Vec<MessageId>,
        /// Their channel.
        channel_id: ChannelId,
        /// Its guild, `None` in DMs.
        guild_id: Option<GuildId>,
    },
    /// Someone reacted to a message (plugin-api 1.3).
    ReactionAdd(UserReaction),
    /// Someone took a reaction back (plugin-api 1.3).
    ReactionRemove(UserReaction),
    /// A member changed: nickname, roles, time-out (plugin-api 1.3). Carries the member as it
    /// is now.
    MemberUpdate(Member),
    /// Someone joined, left or moved between voice channels, or muted or deafened
    /// (plugin-api 1.3); see [`VoiceState::joined`], [`VoiceState::left`],
    /// [`VoiceState::moved`].
    VoiceStateUpdate(VoiceState),
    /// A channel (or category) was created (plugin-api 1.3).
    ChannelCreate(Channel),
    /// A channel was changed; carries it as it is now (plugin-api 1.3).
    ChannelUpdate(Channel),
    /// A channel was deleted; carries it as it was (plugin-api 1.3).
    ChannelDelete(Channel),
    /// A role was created (plugin-api 1.3).
    RoleCreate {
        /// Its guild.
        guild_id: GuildId,
        /// The role.
        role: Role,
    },
    /// A role was changed; carries it as it is now (plugin-api 1.3).
    RoleUpdate {
        /// Its guild.
        guild_id: GuildId,
        /// The role.
        role: Role,
    },
    /// A role was deleted (plugin-api 1.3).
    RoleDelete {
        /// Its guild.
        guild_id: GuildId,
        /// The role's id.
        role_id: RoleId,
    },
    /// A user was banned (plugin-api 1.3).
    BanAdd {
        /// The guild.
        guild_id: GuildId,
        /// Who.
        user: User,
    },
    /// A ban was lifted (plugin-api 1.3).
    BanRemove {
        /// The guild.
        guild_id: GuildId,
        /// Who.
        user: User,
    },
}

impl Event {
    /// The kind of this event, as used when registering a listener.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Ready { .. } => EventKind::Ready,
            Self::MessageCreate(_) => EventKind::MessageCreate,
            Self::GuildJoin(_) => EventKind::GuildJoin,
            Self::GuildLeave(_) => EventKind::GuildLeave,
            Self::MemberJoin(_) => EventKind::MemberJoin,
            Self::MemberLeave { .. } => EventKind::MemberLeave,
            Self::Interaction(_) => EventKind::Interaction,
            Self::MessageDelete { .. } => EventKind::MessageDelete,
            Self::MessageUpdate(_) => EventKind::MessageUpdate,
            Self::MessageBulkDelete { .. } => EventKind::MessageBulkDelete,
            Self::ReactionAdd(_) => EventKind::ReactionAdd,
            Self::ReactionRemove(_) => EventKind::ReactionRemove,
            Self::MemberUpdate(_) => EventKind::MemberUpdate,
            Self::VoiceStateUpdate(_) => EventKind::VoiceStateUpdate,
            Self::ChannelCreate(_) => EventKind::ChannelCreate,
            Self::ChannelUpdate(_) => EventKind::ChannelUpdate,
            Self::ChannelDelete(_) => EventKind::ChannelDelete,
            Self::RoleCreate { .. } => EventKind::RoleCreate,
            Self::RoleUpdate { .. } => EventKind::RoleUpdate,
            Self::RoleDelete { .. } => EventKind::RoleDelete,
            Self::BanAdd { .. } => EventKind::BanAdd,
            Self::BanRemove { .. } => EventKind::BanRemove,
        }
    }
}

/// The kinds of [`Event`], for registering listeners.
#[repr(u8)]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum EventKind {
    /// [`Event::Ready`]
    Ready = 0,
    /// [`Event::MessageCreate`]
    MessageCreate = 1,
    /// [`Event::GuildJoin`]
    GuildJoin = 2,
    /// [`Event::GuildLeave`]
    GuildLeave = 3,
    /// [`Event::MemberJoin`]
    MemberJoin = 4,
    /// [`Event::MemberLeave`]
    MemberLeave = 5,
    /// [`Event::Interaction`]
    Interaction = 6,
    /// [`Event::MessageDelete`] (plugin-api 1.3)
    MessageDelete = 7,
    /// [`Event::MessageUpdate`] (plugin-api 1.3)
    MessageUpdate = 8,
    /// [`Event::MessageBulkDelete`] (plugin-api 1.3)
    MessageBulkDelete = 9,
    /// [`Event::ReactionAdd`] (plugin-api 1.3)
    ReactionAdd = 10,
    /// [`Event::ReactionRemove`] (plugin-api 1.3)
    ReactionRemove = 11,
    /// [`Event::MemberUpdate`] (plugin-api 1.3)
    MemberUpdate = 12,
    /// [`Event::VoiceStateUpdate`] (plugin-api 1.3)
    VoiceStateUpdate = 13,
    /// [`Event::ChannelCreate`] (plugin-api 1.3)
    ChannelCreate = 14,
    /// [`Event::ChannelUpdate`] (plugin-api 1.3)
    ChannelUpdate = 15,
    /// [`Event::ChannelDelete`] (plugin-api 1.3)
    ChannelDelete = 16,
    /// [`Event::RoleCreate`] (plugin-api 1.3)
    RoleCreate = 17,
    /// [`Event::RoleUpdate`] (plugin-api 1.3)
    RoleUpdate = 18,
    /// [`Event::RoleDelete`] (plugin-api 1.3)
    RoleDelete = 19,
    /// [`Event::BanAdd`] (plugin-api 1.3)
    BanAdd = 20,
    /// [`Event::BanRemove`] (plugin-api 1.3)
    BanRemove = 21,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 22] = [
        Self::Ready,
        Self::MessageCreate,
        Self::GuildJoin,
        Self::GuildLeave,
        Self::MemberJoin,
        Self::MemberLeave,
        Self::Interaction,
        Self::MessageDelete,
        Self::MessageUpdate,
        Self::MessageBulkDelete,
        Self::ReactionAdd,
        Self::ReactionRemove,
        Self::MemberUpdate,
        Self::VoiceStateUpdate,
        Self::ChannelCreate,
        Self::ChannelUpdate,
        Self::ChannelDelete,
        Self::RoleCreate,
        Self::RoleUpdate,
        Self::RoleDelete,
        Self::BanAdd,
        Self::BanRemove,
    ];

    /// The first kind added in plugin-api 1.3: the 1.0 layout of events (`EventFfi`) has no
    /// place for it and later kinds, so only plugins built against 1.3 or later can listen to
    /// them; those plugins get every event, of any kind, as JSON through `call_extra`.
    pub const FIRST_EXTRA: EventKind = EventKind::MessageDelete;

    /// Whether this kind was added in plugin-api 1.3 or later.
    pub const fn is_extra(self) -> bool {
        self as u8 >= Self::FIRST_EXTRA as u8
    }

    /// The kind's snake_case name (`message_create`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::MessageCreate => "message_create",
            Self::GuildJoin => "guild_join",
            Self::GuildLeave => "guild_leave",
            Self::MemberJoin => "member_join",
            Self::MemberLeave => "member_leave",
            Self::Interaction => "interaction",
            Self::MessageDelete => "message_delete",
            Self::MessageUpdate => "message_update",
            Self::MessageBulkDelete => "message_bulk_delete",
            Self::ReactionAdd => "reaction_add",
            Self::ReactionRemove => "reaction_remove",
            Self::MemberUpdate => "member_update",
            Self::VoiceStateUpdate => "voice_state_update",
            Self::ChannelCreate => "channel_create",
            Self::ChannelUpdate => "channel_update",
            Self::ChannelDelete => "channel_delete",
            Self::RoleCreate => "role_create",
            Self::RoleUpdate => "role_update",
            Self::RoleDelete => "role_delete",
            Self::BanAdd => "ban_add",
            Self::BanRemove => "ban_remove",
        }
    }

    /// The kind with this discriminant, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        if (value as usize) < Self::ALL.len() {
            Some(Self::ALL[value as usize])
        } else {
            None
        }
    }
}

/// A named framework event delivered to hooks (`bot_ready`, `command_executed`, custom ones...).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HookEvent {
    /// The event name.
    pub name: String,
    /// Its parameters, a JSON object (e.g. `{"extension_name": "hello"}`).
    pub payload: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_place_and_name() {
        for (i, kind) in EventKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i);
            assert_eq!(EventKind::from_u8(*kind as u8), Some(*kind));
            assert_eq!(kind.is_extra(), i >= EventKind::FIRST_EXTRA as usize);
        }
        assert_eq!(EventKind::from_u8(EventKind::ALL.len() as u8), None);
        let mut names: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventKind::ALL.len());
    }

    #[test]
    fn a_message_without_1_3_fields_still_reads() {
        let json = r#"{"MessageCreate":{"id":1,"channel_id":2,"guild_id":null,
            "author":{"id":3,"name":"a","bot":false},"content":"hi"}}"#;
        let event: Event = serde_json::from_str(json).expect("1.2-shaped JSON");
        let Event::MessageCreate(message) = event else {
            panic!("{event:?}")
        };
        assert_eq!(message.content, "hi");
        assert!(message.attachments.is_empty() && message.member_roles.is_empty());
        assert_eq!(message.reply_to, None);
    }

    #[test]
    fn new_events_round_trip_as_json_with_their_kind() {
        let events = [
            Event::ReactionAdd(UserReaction {
                user_id: UserId(1),
                emoji: "party:9".into(),
                ..UserReaction::default()
            }),
            Event::VoiceStateUpdate(VoiceState {
                channel_id: Some(ChannelId(5)),
                ..VoiceState::default()
            }),
            Event::RoleDelete {
                guild_id: GuildId(1),
                role_id: RoleId(2),
            },
            Event::ChannelUpdate(Channel::default()),
            Event::MessageBulkDelete {
                message_ids: vec![MessageId(1), MessageId(2)],
                channel_id: ChannelId(3),
                guild_id: None,
            },
        ];
        let kinds = [
            EventKind::ReactionAdd,
            EventKind::VoiceStateUpdate,
            EventKind::RoleDelete,
            EventKind::ChannelUpdate,
            EventKind::MessageBulkDelete,
        ];
        for (event, kind) in events.into_iter().zip(kinds) {
            assert_eq!(event.kind(), kind);
            let json = serde_json::to_string(&event).expect("json");
            assert_eq!(serde_json::from_str::<Event>(&json).expect("back"), event);
        }
    }
}
