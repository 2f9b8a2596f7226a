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
    | USE_APPLICATION_COMMANDS;
/// Every permission bit Discord defines today (up to bit 50).
pub const ALL: u64 = (1 << 51) - 1;
