//! Gateway opcodes, intents and close codes.

/// op 0: an event dispatch.
pub const DISPATCH: u8 = 0;
/// op 1: heartbeat.
pub const HEARTBEAT: u8 = 1;
/// op 2: identify.
pub const IDENTIFY: u8 = 2;
/// op 3: presence update.
pub const PRESENCE_UPDATE: u8 = 3;
/// op 6: resume.
pub const RESUME: u8 = 6;
/// op 7: reconnect.
pub const RECONNECT: u8 = 7;
/// op 9: invalid session.
pub const INVALID_SESSION: u8 = 9;
/// op 10: hello.
pub const HELLO: u8 = 10;
/// op 11: heartbeat ACK.
pub const HEARTBEAT_ACK: u8 = 11;

/// GUILDS intent.
pub const INTENT_GUILDS: u64 = 1 << 0;
/// GUILD_MEMBERS intent (privileged).
pub const INTENT_GUILD_MEMBERS: u64 = 1 << 1;
/// GUILD_MODERATION intent (bans).
pub const INTENT_GUILD_MODERATION: u64 = 1 << 2;
/// GUILD_EXPRESSIONS intent (emojis and stickers).
pub const INTENT_GUILD_EXPRESSIONS: u64 = 1 << 3;
/// GUILD_WEBHOOKS intent.
pub const INTENT_GUILD_WEBHOOKS: u64 = 1 << 5;
/// GUILD_VOICE_STATES intent.
pub const INTENT_GUILD_VOICE_STATES: u64 = 1 << 7;
/// GUILD_PRESENCES intent (privileged).
pub const INTENT_GUILD_PRESENCES: u64 = 1 << 8;
/// GUILD_MESSAGES intent.
pub const INTENT_GUILD_MESSAGES: u64 = 1 << 9;
/// GUILD_MESSAGE_REACTIONS intent.
pub const INTENT_GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
/// DIRECT_MESSAGES intent.
pub const INTENT_DIRECT_MESSAGES: u64 = 1 << 12;
/// DIRECT_MESSAGE_REACTIONS intent.
pub const INTENT_DIRECT_MESSAGE_REACTIONS: u64 = 1 << 13;
/// MESSAGE_CONTENT intent (privileged).
pub const INTENT_MESSAGE_CONTENT: u64 = 1 << 15;
/// The privileged intents.
pub const PRIVILEGED: u64 = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT;

/// 4000 unknown error.
pub const CLOSE_UNKNOWN_ERROR: u16 = 4000;
/// 4001 unknown opcode.
pub const CLOSE_UNKNOWN_OPCODE: u16 = 4001;
/// 4002 decode error.
pub const CLOSE_DECODE_ERROR: u16 = 4002;
/// 4003 not authenticated.
pub const CLOSE_NOT_AUTHENTICATED: u16 = 4003;
/// 4004 authentication failed.
pub const CLOSE_AUTHENTICATION_FAILED: u16 = 4004;
/// 4005 already authenticated.
pub const CLOSE_ALREADY_AUTHENTICATED: u16 = 4005;
/// 4010 invalid shard.
pub const CLOSE_INVALID_SHARD: u16 = 4010;
/// 4014 disallowed intents.
pub const CLOSE_DISALLOWED_INTENTS: u16 = 4014;

/// The reason text Discord sends with a close code.
pub fn close_reason(code: u16) -> &'static str {
    match code {
        4000 => "Unknown error.",
        4001 => "Unknown opcode.",
        4002 => "Decode error.",
        4003 => "Not authenticated.",
        4004 => "Authentication failed.",
        4005 => "Already authenticated.",
        4007 => "Invalid seq.",
        4008 => "Rate limited.",
        4009 => "Session timed out.",
        4010 => "Invalid shard.",
        4011 => "Sharding required.",
        4012 => "Invalid API version.",
        4013 => "Invalid intent(s).",
        4014 => "Disallowed intent(s).",
        _ => "",
    }
}

/// Close codes after which a client must not resume (it gets a fresh session or gives up).
pub fn ends_session(code: u16) -> bool {
    matches!(code, 4004 | 4007 | 4009 | 4010..=4014)
}
