//! Discord permission bits used by the simulator.

/// CREATE_INSTANT_INVITE.
pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
/// KICK_MEMBERS.
pub const KICK_MEMBERS: u64 = 1 << 1;
/// BAN_MEMBERS.
pub const BAN_MEMBERS: u64 = 1 << 2;
/// ADMINISTRATOR.
pub const ADMINISTRATOR: u64 = 1 << 3;
/// MANAGE_CHANNELS.
pub const MANAGE_CHANNELS: u64 = 1 << 4;
/// MANAGE_GUILD.
pub const MANAGE_GUILD: u64 = 1 << 5;
/// ADD_REACTIONS.
pub const ADD_REACTIONS: u64 = 1 << 6;
/// VIEW_AUDIT_LOG.
pub const VIEW_AUDIT_LOG: u64 = 1 << 7;
/// VIEW_CHANNEL.
pub const VIEW_CHANNEL: u64 = 1 << 10;
/// SEND_MESSAGES.
pub const SEND_MESSAGES: u64 = 1 << 11;
/// MANAGE_MESSAGES.
pub const MANAGE_MESSAGES: u64 = 1 << 13;
/// EMBED_LINKS.
pub const EMBED_LINKS: u64 = 1 << 14;
/// ATTACH_FILES.
pub const ATTACH_FILES: u64 = 1 << 15;
/// READ_MESSAGE_HISTORY.
pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
/// MENTION_EVERYONE.
pub const MENTION_EVERYONE: u64 = 1 << 17;
/// USE_EXTERNAL_EMOJIS.
pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
/// MUTE_MEMBERS.
pub const MUTE_MEMBERS: u64 = 1 << 22;
/// DEAFEN_MEMBERS.
pub const DEAFEN_MEMBERS: u64 = 1 << 23;
/// MOVE_MEMBERS.
pub const MOVE_MEMBERS: u64 = 1 << 24;
/// CHANGE_NICKNAME.
pub const CHANGE_NICKNAME: u64 = 1 << 26;
/// MANAGE_NICKNAMES.
pub const MANAGE_NICKNAMES: u64 = 1 << 27;
/// MANAGE_WEBHOOKS.
pub const MANAGE_WEBHOOKS: u64 = 1 << 29;
/// MANAGE_GUILD_EXPRESSIONS (emojis, stickers, sounds).
pub const MANAGE_GUILD_EXPRESSIONS: u64 = 1 << 30;
/// CREATE_GUILD_EXPRESSIONS (create emojis, stickers and sounds, and edit or delete one's
/// own).
pub const CREATE_GUILD_EXPRESSIONS: u64 = 1 << 43;
/// MODERATE_MEMBERS (time members out).
pub const MODERATE_MEMBERS: u64 = 1 << 40;
/// USE_APPLICATION_COMMANDS.
pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
/// MANAGE_ROLES.
pub const MANAGE_ROLES: u64 = 1 << 28;
/// What @everyone grants in a new simulated guild.
pub const EVERYONE_DEFAULT: u64 = CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS;
/// Every permission bit Discord defines today (up to bit 50).
pub const ALL: u64 = (1 << 51) - 1;
/// What a DM channel allows its two users (no MANAGE_MESSAGES: only one's own messages can
/// be deleted there).
pub const DM: u64 = VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | MENTION_EVERYONE;
