//! Discord permission bits, with the names Discord shows for them.

use std::fmt;

/// A set of Discord permissions (the bit field of roles, overwrites and members).
///
/// ```
/// use zoryx_plugin_api::Permissions;
///
/// let mods = Permissions::KICK_MEMBERS | Permissions::BAN_MEMBERS;
/// assert!(mods.contains(Permissions::KICK_MEMBERS));
/// assert!(!mods.contains(Permissions::MANAGE_ROLES));
/// assert_eq!(mods.names(), vec!["Kick Members", "Ban Members"]);
/// assert_eq!(Permissions::from_name("manage_roles"), Some(Permissions::MANAGE_ROLES));
/// ```
#[derive(
    Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Permissions(pub u64);

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = $bit:literal, $label:literal;)*) => {
        impl Permissions {
            $($(#[$doc])* pub const $name: Self = Self(1 << $bit);)*

            /// Every permission with its constant's name and the name Discord shows.
            pub const ALL_NAMED: &'static [(Self, &'static str, &'static str)] = &[
                $((Self::$name, stringify!($name), $label),)*
            ];
        }
    };
}

permissions! {
    /// Create invites.
    CREATE_INSTANT_INVITE = 0, "Create Invite";
    /// Kick members.
    KICK_MEMBERS = 1, "Kick Members";
    /// Ban members.
    BAN_MEMBERS = 2, "Ban Members";
    /// Every permission, and past every channel overwrite.
    ADMINISTRATOR = 3, "Administrator";
    /// Create, edit and delete channels.
    MANAGE_CHANNELS = 4, "Manage Channels";
    /// Change the guild's settings.
    MANAGE_GUILD = 5, "Manage Server";
    /// Add new reactions to messages.
    ADD_REACTIONS = 6, "Add Reactions";
    /// Read the audit log.
    VIEW_AUDIT_LOG = 7, "View Audit Log";
    /// Priority speaker in voice.
    PRIORITY_SPEAKER = 8, "Priority Speaker";
    /// Go live.
    STREAM = 9, "Video";
    /// See a channel (and read its messages).
    VIEW_CHANNEL = 10, "View Channels";
    /// Send messages.
    SEND_MESSAGES = 11, "Send Messages";
    /// Send text-to-speech messages.
    SEND_TTS_MESSAGES = 12, "Send Text-to-Speech Messages";
    /// Delete and pin others' messages, remove others' reactions.
    MANAGE_MESSAGES = 13, "Manage Messages";
    /// Links embed.
    EMBED_LINKS = 14, "Embed Links";
    /// Upload files.
    ATTACH_FILES = 15, "Attach Files";
    /// Read past messages.
    READ_MESSAGE_HISTORY = 16, "Read Message History";
    /// Mention @everyone, @here and every role.
    MENTION_EVERYONE = 17, "Mention @everyone, @here, and All Roles";
    /// Use emojis of other guilds.
    USE_EXTERNAL_EMOJIS = 18, "Use External Emoji";
    /// See guild insights.
    VIEW_GUILD_INSIGHTS = 19, "View Server Insights";
    /// Join voice channels.
    CONNECT = 20, "Connect";
    /// Speak in voice channels.
    SPEAK = 21, "Speak";
    /// Mute others in voice.
    MUTE_MEMBERS = 22, "Mute Members";
    /// Deafen others in voice.
    DEAFEN_MEMBERS = 23, "Deafen Members";
    /// Move others between voice channels.
    MOVE_MEMBERS = 24, "Move Members";
    /// Voice activity detection.
    USE_VAD = 25, "Use Voice Activity";
    /// Change one's own nickname.
    CHANGE_NICKNAME = 26, "Change Nickname";
    /// Change others' nicknames.
    MANAGE_NICKNAMES = 27, "Manage Nicknames";
    /// Create, edit, delete and assign roles below one's own; edit channel overwrites.
    MANAGE_ROLES = 28, "Manage Roles";
    /// Create, edit and delete webhooks.
    MANAGE_WEBHOOKS = 29, "Manage Webhooks";
    /// Edit and delete emojis and stickers.
    MANAGE_GUILD_EXPRESSIONS = 30, "Manage Expressions";
    /// Use application commands.
    USE_APPLICATION_COMMANDS = 31, "Use Application Commands";
    /// Manage events.
    MANAGE_EVENTS = 33, "Manage Events";
    /// Manage threads.
    MANAGE_THREADS = 34, "Manage Threads";
    /// Create public threads.
    CREATE_PUBLIC_THREADS = 35, "Create Public Threads";
    /// Create private threads.
    CREATE_PRIVATE_THREADS = 36, "Create Private Threads";
    /// Send messages in threads.
    SEND_MESSAGES_IN_THREADS = 38, "Send Messages in Threads";
    /// Time members out.
    MODERATE_MEMBERS = 40, "Timeout Members";
}

impl Permissions {
    /// No permissions.
    pub const NONE: Self = Self(0);

    /// Whether every permission of `other` is in `self` (an administrator has them all).
    pub const fn contains(self, other: Self) -> bool {
        self.0 & Self::ADMINISTRATOR.0 != 0 || self.0 & other.0 == other.0
    }

    /// The permissions of `other` that `self` lacks (none for an administrator).
    pub const fn missing(self, other: Self) -> Self {
        if self.0 & Self::ADMINISTRATOR.0 != 0 {
            Self::NONE
        } else {
            Self(other.0 & !self.0)
        }
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The names Discord shows for the set bits, lowest bit first.
    pub fn names(self) -> Vec<&'static str> {
        Self::ALL_NAMED
            .iter()
            .filter(|(p, _, _)| self.0 & p.0 != 0)
            .map(|(_, _, label)| *label)
            .collect()
    }

    /// A permission by its constant's name, any case (`kick_members`, `KICK_MEMBERS`) or its
    /// shown name (`Kick Members`).
    pub fn from_name(name: &str) -> Option<Self> {
        let wanted = name.trim().replace(' ', "_");
        Self::ALL_NAMED
            .iter()
            .find(|(_, constant, label)| {
                constant.eq_ignore_ascii_case(&wanted)
                    || label.replace(' ', "_").eq_ignore_ascii_case(&wanted)
            })
            .map(|(p, _, _)| *p)
    }
}

impl std::ops::BitOr for Permissions {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for Permissions {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

impl std::ops::BitAnd for Permissions {
    type Output = Self;

    fn bitand(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
}

impl std::ops::Not for Permissions {
    type Output = Self;

    fn not(self) -> Self {
        Self(!self.0)
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Permissions({:#x}: {})", self.0, self.names().join(", "))
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        if names.is_empty() {
            f.write_str("no permissions")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrators_have_everything() {
        let admin = Permissions::ADMINISTRATOR;
        assert!(admin.contains(Permissions::BAN_MEMBERS | Permissions::MANAGE_ROLES));
        assert!(admin.missing(Permissions::BAN_MEMBERS).is_empty());
        let none = Permissions::SEND_MESSAGES;
        assert_eq!(
            none.missing(Permissions::BAN_MEMBERS | Permissions::SEND_MESSAGES),
            Permissions::BAN_MEMBERS
        );
    }

    #[test]
    fn names_are_discords() {
        assert_eq!(Permissions::MODERATE_MEMBERS.to_string(), "Timeout Members");
        assert_eq!(Permissions::NONE.to_string(), "no permissions");
        assert_eq!(
            Permissions::from_name("Timeout Members"),
            Some(Permissions::MODERATE_MEMBERS)
        );
        assert_eq!(Permissions::from_name("fly"), None);
    }
}
