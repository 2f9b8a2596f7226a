//! Member moderation under `/guilds/{id}`: `PATCH /members/{user}` and `/members/@me` (nick,
//! roles, timeout), `DELETE /members/{user}` (kick), and bans (`GET /bans`,
//! `GET|PUT|DELETE /bans/{user}`), with Discord's permission and role-hierarchy checks.

use serde_json::{Value, json};

use super::{ApiError, Reply, Req, id, snowflake};
use crate::events::SimEvent;
use crate::gateway::{Target, opcodes};
use crate::simulator::Inner;
use crate::snowflake::{now_ms, timestamp_ms};
use crate::world::{World, permissions};

/// How far ahead a timeout may reach (28 days).
const MAX_TIMEOUT_MS: u64 = 28 * 24 * 60 * 60 * 1000;
/// The longest `delete_message_seconds` of a ban (7 days).
const MAX_BAN_DELETE_SECONDS: i64 = 604_800;

fn require(world: &World, guild: u64, permission: u64) -> Result<(), ApiError> {
    if world.member_permissions(guild, world.bot_id) & permission == 0 {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

/// Dispatches GUILD_MEMBER_UPDATE for a member (GUILD_MEMBERS intent).
pub(crate) fn dispatch_member_update(inner: &Inner, world: &World, guild: u64, user: u64) {
    if let Some(mut payload) = world.member_json(guild, user) {
        payload["guild_id"] = json!(guild.to_string());
        inner.dispatch(
            "GUILD_MEMBER_UPDATE",
            payload,
            Target::Guild(guild),
            opcodes::INTENT_GUILD_MEMBERS,
        );
    }
}

/// Dispatches GUILD_MEMBER_REMOVE (GUILD_MEMBERS intent).
pub(crate) fn dispatch_member_remove(inner: &Inner, world: &World, guild: u64, user: u64) {
    inner.dispatch(
        "GUILD_MEMBER_REMOVE",
        json!({"guild_id": guild.to_string(), "user": world.user_json(user)}),
        Target::Guild(guild),
        opcodes::INTENT_GUILD_MEMBERS,
    );
}

/// Parses an ISO 8601 timestamp (`2026-01-02T03:04:05.678+00:00`, `...Z`) to Unix ms.
pub(crate) fn parse_iso8601(text: &str) -> Option<u64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-');
    let (y, mo, da): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if d.next().is_some()
        || !(1..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&da)
    {
        return None;
    }
    let (clock, offset_min) = if let Some(t) = time.strip_suffix('Z') {
        (t, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (t, off) = time.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off
            .get(1..)?
            .split_once(':')
            .unwrap_or((off.get(1..)?, "0"));
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?),
        )
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut c = hms.split(':');
    let (h, mi, s): (i64, i64, i64) = (
        c.next()?.parse().ok()?,
        c.next()?.parse().ok()?,
        c.next().unwrap_or("0").parse().ok()?,
    );
    if h > 23 || mi > 59 || s > 60 || !frac.chars().all(|ch| ch.is_ascii_digit()) {
        return None;
    }
    let millis: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = (((days * 24 + h) * 60 + mi) * 60 + s - offset_min * 60) * 1000 + millis;
    u64::try_from(ms).ok()
}

/// What a member PATCH asks for, checked.
#[derive(Debug, Default)]
struct MemberPatch {
    nick: Option<Option<String>>,
    roles: Option<Vec<u64>>,
    timeout: Option<Option<u64>>,
    voice: Vec<u64>,
}

fn parse_member_patch(world: &World, guild: u64, body: &Value) -> Result<MemberPatch, ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid_form(
            "_root",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ));
    }
    let mut patch = MemberPatch::default();
    match body.get("nick") {
        None => {}
        Some(Value::Null) => patch.nick = Some(None),
        Some(Value::String(n)) if n.chars().count() > 32 => {
            return Err(ApiError::invalid_form(
                "nick",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 32 or fewer in length.",
            ));
        }
        Some(Value::String(n)) => patch.nick = Some((!n.is_empty()).then(|| n.clone())),
        Some(_) => {
            return Err(ApiError::invalid_form(
                "nick",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        }
    }
    if let Some(roles) = body.get("roles").filter(|v| !v.is_null()) {
        let Some(list) = roles.as_array() else {
            return Err(ApiError::invalid_form(
                "roles",
                "BASE_TYPE_LIST",
                "Must be an array.",
            ));
        };
        if list.len() > 350 {
            return Err(ApiError::invalid_form(
                "roles",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 350 or fewer in length.",
            ));
        }
        let mut ids = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let Some(role) = snowflake(v) else {
                return Err(ApiError::invalid_form(
                    &format!("roles.{i}"),
                    "NUMBER_TYPE_COERCE",
                    &format!("Value \"{v}\" is not snowflake."),
                ));
            };
            if ids.contains(&role) {
                return Err(ApiError::invalid_form(
                    &format!("roles.{i}"),
                    "SET_TYPE_ALREADY_CONTAINS_VALUE",
                    "The set already contains this value",
                ));
            }
            if !world
                .guilds
                .get(&guild)
                .is_some_and(|g| g.roles.contains_key(&role))
            {
                return Err(ApiError::unknown("Role", 10011));
            }
            if role != guild {
                ids.push(role);
            }
        }
        patch.roles = Some(ids);
    }
    match body.get("communication_disabled_until") {
        None => {}
        Some(Value::Null) => patch.timeout = Some(None),
        Some(v) => {
            let until = v.as_str().and_then(parse_iso8601);
            match until {
                Some(until) if until <= now_ms() + MAX_TIMEOUT_MS => {
                    patch.timeout = Some(Some(until));
                }
                _ => {
                    return Err(ApiError::invalid_form(
                        "communication_disabled_until",
                        "INVALID_COMMUNICATION_DISABLED_TIMESTAMP",
                        "Invalid communication disabled timestamp",
                    ));
                }
            }
        }
    }
    for (field, permission) in [
        ("mute", permissions::MUTE_MEMBERS),
        ("deaf", permissions::DEAFEN_MEMBERS),
        ("channel_id", permissions::MOVE_MEMBERS),
    ] {
        if body.get(field).is_some_and(|v| !v.is_null()) {
            patch.voice.push(permission);
        }
    }
    Ok(patch)
}

/// `PATCH /guilds/{g}/members/{user}` (`who` is the path segment; `@me` edits the bot's own
/// nick). Nick: MANAGE_NICKNAMES (CHANGE_NICKNAME for the bot's own); roles: MANAGE_ROLES,
/// each role added or removed below the bot's highest; timeout: MODERATE_MEMBERS, never on an
/// administrator or the owner; the member acted on must rank below the bot. Voice fields need
/// the member in voice (else 40032); `channel_id` (MOVE_MEMBERS) moves them to a voice channel
/// of the guild or, `null`, disconnects them; mute and deafen are not simulated. Dispatches GUILD_MEMBER_UPDATE on a
/// change.
pub(crate) fn edit(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    who: &str,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let bot = world.bot_id;
    let (user, own_route) = if who == "@me" {
        (bot, true)
    } else {
        (id(who, "Member", 10007)?, false)
    };
    let body = req.body();
    let patch = parse_member_patch(world, guild, &body)?;
    let Some(member) = world.guilds[&guild].members.get(&user).cloned() else {
        return Err(ApiError::unknown("Member", 10007));
    };
    let perms = world.member_permissions(guild, bot);
    let has = |p: u64| perms & p != 0;
    let outranked = user != bot && !world.outranks(guild, bot, user);
    if own_route && (patch.roles.is_some() || patch.timeout.is_some() || !patch.voice.is_empty()) {
        return Err(ApiError::missing_permissions());
    }
    if let Some(nick) = &patch.nick
        && *nick != member.nick
    {
        let allowed = if user == bot {
            has(permissions::CHANGE_NICKNAME | permissions::MANAGE_NICKNAMES)
        } else {
            has(permissions::MANAGE_NICKNAMES) && !outranked
        };
        if !allowed {
            return Err(ApiError::missing_permissions());
        }
    }
    if let Some(roles) = &patch.roles {
        let changed: Vec<u64> = roles
            .iter()
            .filter(|r| !member.roles.contains(r))
            .chain(member.roles.iter().filter(|r| !roles.contains(r)))
            .copied()
            .collect();
        if !changed.is_empty()
            && (!has(permissions::MANAGE_ROLES)
                || changed.iter().any(|r| !world.role_below(guild, bot, *r)))
        {
            return Err(ApiError::missing_permissions());
        }
    }
    if let Some(timeout) = patch.timeout
        && timeout != member.communication_disabled_until_ms
    {
        let target_admin = world.member_permissions(guild, user) & permissions::ADMINISTRATOR != 0;
        if !has(permissions::MODERATE_MEMBERS) || target_admin || user == bot || outranked {
            return Err(ApiError::missing_permissions());
        }
    }
    if patch.voice.iter().any(|p| !has(*p)) {
        return Err(ApiError::missing_permissions());
    }
    // Voice changes need the member in voice; `channel_id` moves them to a voice channel of
    // the guild, or disconnects them with `null`. Mute and deafen are not simulated.
    let in_voice = world.guilds[&guild].voice_states.contains_key(&user);
    if !patch.voice.is_empty() && !in_voice {
        return Err(ApiError::bad_request(
            "Target user is not connected to voice.",
            40032,
        ));
    }
    match body.get("channel_id") {
        None => {}
        Some(Value::Null) => {
            inner.set_voice(world, guild, user, None);
        }
        Some(value) => {
            let target = value
                .as_str()
                .and_then(|c| c.parse::<u64>().ok())
                .filter(|c| {
                    world
                        .channels
                        .get(c)
                        .is_some_and(|c| c.guild_id == Some(guild) && c.is_voice())
                });
            match target {
                Some(channel) => {
                    inner.set_voice(world, guild, user, Some(channel));
                }
                None => {
                    return Err(ApiError::invalid_form(
                        "channel_id",
                        "CHANNEL_INVALID",
                        "Unknown channel",
                    ));
                }
            }
        }
    }
    let Some(m) = world
        .guilds
        .get_mut(&guild)
        .and_then(|g| g.members.get_mut(&user))
    else {
        return Err(ApiError::unknown("Member", 10007));
    };
    if let Some(nick) = patch.nick {
        m.nick = nick;
    }
    if let Some(roles) = patch.roles {
        m.roles = roles;
    }
    if let Some(timeout) = patch.timeout {
        m.communication_disabled_until_ms = timeout;
    }
    let changed = m.nick != member.nick
        || m.roles != member.roles
        || m.communication_disabled_until_ms != member.communication_disabled_until_ms;
    if changed {
        dispatch_member_update(inner, world, guild, user);
        inner.emit(SimEvent::MemberUpdated {
            guild_id: guild,
            user_id: user,
            body,
        });
    }
    world
        .member_json(guild, user)
        .ok_or_else(|| ApiError::unknown("Member", 10007))
        .and_then(Reply::ok)
}

/// `DELETE /guilds/{g}/members/{user}`: KICK_MEMBERS and the role hierarchy; dispatches
/// GUILD_MEMBER_REMOVE.
pub(crate) fn kick(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    who: &str,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let user = id(who, "Member", 10007)?;
    if !world.guilds[&guild].members.contains_key(&user) {
        return Err(ApiError::unknown("Member", 10007));
    }
    require(world, guild, permissions::KICK_MEMBERS)?;
    if !world.outranks(guild, world.bot_id, user) {
        return Err(ApiError::missing_permissions());
    }
    inner.set_voice(world, guild, user, None);
    if let Some(g) = world.guilds.get_mut(&guild) {
        g.members.remove(&user);
    }
    dispatch_member_remove(inner, world, guild, user);
    inner.emit(SimEvent::MemberKicked {
        guild_id: guild,
        user_id: user,
        reason: req.reason.clone(),
    });
    Reply::no_content()
}

fn ban_json(world: &World, user: u64, reason: Option<&String>) -> Value {
    json!({"user": world.user_json(user), "reason": reason})
}

/// `GET /guilds/{g}/bans` (`limit` 1..=1000, `before`, `after`, by user id) and
/// `GET /guilds/{g}/bans/{user}` (10026 Unknown Ban): BAN_MEMBERS.
pub(crate) fn read_bans(
    world: &World,
    guild: u64,
    who: Option<&str>,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let bans = &world.guilds[&guild].bans;
    if let Some(who) = who {
        let user = id(who, "Ban", 10026)?;
        require(world, guild, permissions::BAN_MEMBERS)?;
        return match bans.get(&user) {
            Some(reason) => Reply::ok(ban_json(world, user, reason.as_ref())),
            None => Err(ApiError::unknown("Ban", 10026)),
        };
    }
    let limit = req.int_param("limit", 1, 1000, 1000)? as usize;
    let before = req.snowflake_param("before")?;
    let after = req.snowflake_param("after")?;
    require(world, guild, permissions::BAN_MEMBERS)?;
    let mut list: Vec<(&u64, &Option<String>)> = match (before, after) {
        (Some(b), None) => {
            let below: Vec<_> = bans.range(..b).collect();
            below[below.len().saturating_sub(limit)..].to_vec()
        }
        _ => bans
            .range(after.map_or(0, |a| a.saturating_add(1))..)
            .take(limit)
            .collect(),
    };
    if let Some(b) = before {
        list.retain(|(u, _)| **u < b);
    }
    Reply::ok(Value::Array(
        list.into_iter()
            .map(|(u, r)| ban_json(world, *u, r.as_ref()))
            .collect(),
    ))
}

/// `PUT /guilds/{g}/bans/{user}` with `delete_message_seconds` (0..=604800): BAN_MEMBERS and
/// the role hierarchy for members; removes the member (GUILD_MEMBER_REMOVE), deletes their
/// recent messages (MESSAGE_DELETE_BULK per channel) and dispatches GUILD_BAN_ADD.
pub(crate) fn ban(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    who: &str,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let user = id(who, "User", 10013)?;
    let body = req.body();
    let seconds = match body.get("delete_message_seconds").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => Some(ban_range(
            v,
            "delete_message_seconds",
            MAX_BAN_DELETE_SECONDS,
        )?),
    };
    let days = match body.get("delete_message_days").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => Some(ban_range(v, "delete_message_days", 7)?),
    };
    let seconds = seconds.or(days.map(|d| d * 86_400)).unwrap_or(0);
    if !world.users.contains_key(&user) {
        return Err(ApiError::unknown("User", 10013));
    }
    require(world, guild, permissions::BAN_MEMBERS)?;
    let bot = world.bot_id;
    let is_member = world.guilds[&guild].members.contains_key(&user);
    if user == world.guilds[&guild].owner_id || (is_member && !world.outranks(guild, bot, user)) {
        return Err(ApiError::missing_permissions());
    }
    inner.set_voice(world, guild, user, None);
    if let Some(g) = world.guilds.get_mut(&guild) {
        g.bans.insert(user, req.reason.clone());
        g.members.remove(&user);
    }
    if is_member {
        dispatch_member_remove(inner, world, guild, user);
    }
    if seconds > 0 {
        delete_recent_messages(inner, world, guild, user, seconds * 1000);
    }
    inner.dispatch(
        "GUILD_BAN_ADD",
        json!({"guild_id": guild.to_string(), "user": world.user_json(user)}),
        Target::Guild(guild),
        opcodes::INTENT_GUILD_MODERATION,
    );
    inner.emit(SimEvent::MemberBanned {
        guild_id: guild,
        user_id: user,
        delete_message_seconds: seconds,
        reason: req.reason.clone(),
    });
    Reply::no_content()
}

fn ban_range(v: &Value, field: &str, max: i64) -> Result<u64, ApiError> {
    let Some(n) = v.as_i64() else {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_COERCE",
            &format!("Value \"{v}\" is not int."),
        ));
    };
    if n < 0 {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_MIN",
            "int value should be greater than or equal to 0.",
        ));
    }
    if n > max {
        return Err(ApiError::invalid_form(
            field,
            "NUMBER_TYPE_MAX",
            &format!("int value should be less than or equal to {max}."),
        ));
    }
    Ok(n as u64)
}

/// Deletes `user`'s messages of the last `window_ms` in the guild's channels.
fn delete_recent_messages(inner: &Inner, world: &mut World, guild: u64, user: u64, window_ms: u64) {
    let since = now_ms().saturating_sub(window_ms);
    let channels = world.guilds[&guild].channels.clone();
    for channel in channels {
        let Some(c) = world.channels.get(&channel) else {
            continue;
        };
        let doomed: Vec<u64> = c
            .messages
            .iter()
            .copied()
            .filter(|m| {
                world
                    .messages
                    .get(m)
                    .is_some_and(|x| x.author_id == user && timestamp_ms(*m) >= since)
            })
            .collect();
        if doomed.is_empty() {
            continue;
        }
        for m in &doomed {
            world.messages.remove(m);
        }
        if let Some(c) = world.channels.get_mut(&channel) {
            c.messages.retain(|m| !doomed.contains(m));
        }
        inner.dispatch(
            "MESSAGE_DELETE_BULK",
            json!({
                "ids": doomed.iter().map(u64::to_string).collect::<Vec<_>>(),
                "channel_id": channel.to_string(),
                "guild_id": guild.to_string(),
            }),
            Target::Guild(guild),
            opcodes::INTENT_GUILD_MESSAGES,
        );
    }
}

/// `DELETE /guilds/{g}/bans/{user}`: BAN_MEMBERS; 10026 Unknown Ban; dispatches
/// GUILD_BAN_REMOVE.
pub(crate) fn unban(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    who: &str,
) -> Result<Reply, ApiError> {
    let user = id(who, "Ban", 10026)?;
    require(world, guild, permissions::BAN_MEMBERS)?;
    let removed = world
        .guilds
        .get_mut(&guild)
        .and_then(|g| g.bans.remove(&user));
    if removed.is_none() {
        return Err(ApiError::unknown("Ban", 10026));
    }
    inner.dispatch(
        "GUILD_BAN_REMOVE",
        json!({"guild_id": guild.to_string(), "user": world.user_json(user)}),
        Target::Guild(guild),
        opcodes::INTENT_GUILD_MODERATION,
    );
    inner.emit(SimEvent::MemberUnbanned {
        guild_id: guild,
        user_id: user,
    });
    Reply::no_content()
}

#[cfg(test)]
mod tests {
    use super::parse_iso8601;
    use crate::snowflake::iso8601;

    #[test]
    fn iso8601_round_trips() {
        for ms in [0, 951_782_400_123, 1_735_689_600_000, 1_767_323_045_678] {
            assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms));
        }
        assert_eq!(
            parse_iso8601("2025-01-01T00:00:00Z"),
            Some(1_735_689_600_000)
        );
        assert_eq!(
            parse_iso8601("2025-01-01T01:00:00+01:00"),
            Some(1_735_689_600_000)
        );
        assert_eq!(parse_iso8601("tomorrow"), None);
        assert_eq!(parse_iso8601("99999999999999-01-01T00:00:00Z"), None);
        assert_eq!(parse_iso8601("2025-01-01T00:00:00+99999999999:00"), None);
        assert_eq!(parse_iso8601("2025-13-01T00:00:00Z"), None);
    }
}
