//! Discord things a plugin sees: ids, users, members, guilds, messages and interactions.
//!
//! These are plain Rust values owned by the plugin; nothing here borrows from the host.

use std::fmt;

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
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: [EventKind; 8] = [
        Self::Ready,
        Self::MessageCreate,
        Self::GuildJoin,
        Self::GuildLeave,
        Self::MemberJoin,
        Self::MemberLeave,
        Self::Interaction,
        Self::MessageDelete,
    ];

    /// The first kind added in plugin-api 1.3: listeners of it and later kinds are described
    /// and called through the JSON path (`describe_extra`, `call_extra`), so the 1.0 layout of
    /// events never changes.
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
