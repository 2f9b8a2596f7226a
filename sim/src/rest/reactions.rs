//! Routes under `/channels/{c}/messages/{m}/reactions`: add and remove the bot's reaction,
//! remove a user's, list who reacted, remove all or one emoji's reactions.
//!
//! The `{emoji}` segment is a URL-encoded unicode emoji (`%F0%9F%91%8D`) or `name:id` for a
//! custom emoji of a guild the bot is in; anything else is 400 Unknown Emoji (10014).

use axum::http::Method;
use serde_json::{Value, json};

use super::messages::find;
use super::{ApiError, Reply, Req, id, percent_decode};
use crate::events::SimEvent;
use crate::gateway::{Target, opcodes};
use crate::simulator::Inner;
use crate::world::{Reaction, ReactionEmoji, World, permissions};

/// Distinct emojis a message can carry.
const MAX_REACTIONS: usize = 20;

/// Answers `/channels/{c}/messages/{m}/reactions[/{emoji}[/{user}]]` (`rest` is what
/// follows `reactions`).
pub(crate) fn route(
    inner: &Inner,
    world: &mut World,
    channel: u64,
    mid: &str,
    rest: &[&str],
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let mid = find(world, channel, mid)?;
    let bot = world.bot_id;
    match (req.method, rest) {
        (&Method::DELETE, []) => {
            require_manage(world, channel)?;
            clear(inner, world, mid, None);
            Reply::no_content()
        }
        (&Method::GET, [emoji]) => {
            let emoji = parse_segment(world, emoji)?;
            list(world, channel, mid, &emoji, req)
        }
        (&Method::DELETE, [emoji]) => {
            let emoji = parse_segment(world, emoji)?;
            require_manage(world, channel)?;
            clear(inner, world, mid, Some(&emoji));
            Reply::no_content()
        }
        (&Method::PUT, [emoji, "@me"]) => {
            let emoji = parse_segment(world, emoji)?;
            let perms = world.channel_permissions(channel, bot);
            if perms & permissions::READ_MESSAGE_HISTORY == 0 {
                return Err(ApiError::missing_permissions());
            }
            let present = world.messages[&mid]
                .reactions
                .iter()
                .any(|r| r.emoji == emoji);
            if !present {
                if perms & permissions::ADD_REACTIONS == 0 {
                    return Err(ApiError::missing_permissions());
                }
                if world.messages[&mid].reactions.len() >= MAX_REACTIONS {
                    return Err(ApiError::bad_request(
                        "Maximum number of reactions reached (20)",
                        30010,
                    ));
                }
            }
            if add(inner, world, mid, bot, &emoji) {
                inner.emit(SimEvent::BotReactionAdded {
                    channel_id: channel,
                    message_id: mid,
                    emoji: emoji.key(),
                });
            }
            Reply::no_content()
        }
        (&Method::DELETE, [emoji, user]) => {
            let emoji = parse_segment(world, emoji)?;
            let user = if *user == "@me" {
                bot
            } else {
                id(user, "User", 10013)?
            };
            if user != bot {
                require_manage(world, channel)?;
            }
            if remove(inner, world, mid, user, &emoji) {
                inner.emit(SimEvent::BotReactionRemoved {
                    channel_id: channel,
                    message_id: mid,
                    emoji: emoji.key(),
                    user_id: user,
                });
            }
            Reply::no_content()
        }
        (_, [] | [_] | [_, _]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

/// Removing others' reactions: MANAGE_MESSAGES in a guild channel, never in a DM (50003).
fn require_manage(world: &World, channel: u64) -> Result<(), ApiError> {
    if world.channels[&channel].guild_id.is_none() {
        return Err(ApiError::forbidden(
            "Cannot execute action on a DM channel",
            50003,
        ));
    }
    if world.channel_permissions(channel, world.bot_id) & permissions::MANAGE_MESSAGES == 0 {
        return Err(ApiError::missing_permissions());
    }
    Ok(())
}

fn unknown_emoji() -> ApiError {
    ApiError::bad_request("Unknown Emoji", 10014)
}

fn parse_segment(world: &World, raw: &str) -> Result<ReactionEmoji, ApiError> {
    let decoded = percent_decode(raw).ok_or_else(unknown_emoji)?;
    parse_emoji(world, &decoded).ok_or_else(unknown_emoji)
}

/// Parses an emoji as the reaction routes take it (decoded): `name:id` (or `a:name:id`) of a
/// custom emoji of a guild the bot is in, or a unicode emoji. `None` for anything else.
pub(crate) fn parse_emoji(world: &World, text: &str) -> Option<ReactionEmoji> {
    if let Some((_, id)) = text.rsplit_once(':') {
        let id: u64 = id.parse().ok()?;
        let emoji = world.find_emoji(id)?;
        return Some(ReactionEmoji {
            id: Some(id),
            name: emoji.name.clone(),
            animated: emoji.animated,
        });
    }
    is_unicode_emoji(text).then(|| ReactionEmoji {
        id: None,
        name: text.to_owned(),
        animated: false,
    })
}

/// A loose check that `text` is one unicode emoji (possibly a ZWJ, flag, keycap or modifier
/// sequence): no letters, digits or spaces outside keycaps, and only code points from the
/// emoji blocks.
fn is_unicode_emoji(text: &str) -> bool {
    let count = text.chars().count();
    if count == 0 || count > 16 {
        return false;
    }
    let keycap = text.contains('\u{20E3}');
    let mut pictographic = false;
    for c in text.chars() {
        let u = c as u32;
        let emoji_block = matches!(u,
            0xA9 | 0xAE | 0x203C..=0x3299 | 0x1F000..=0x1FAFF);
        let joiner = matches!(u, 0x200D | 0xFE0E | 0xFE0F | 0x20E3 | 0xE0020..=0xE007F);
        let keycap_base = keycap && matches!(c, '#' | '*' | '0'..='9');
        if emoji_block || keycap_base {
            pictographic = true;
        } else if !joiner {
            return false;
        }
    }
    pictographic
}

fn reaction_target(world: &World, mid: u64) -> Option<(Target, u64, Value)> {
    let m = world.messages.get(&mid)?;
    let mut base = json!({
        "channel_id": m.channel_id.to_string(),
        "message_id": mid.to_string(),
    });
    Some(match m.guild_id {
        Some(g) => {
            base["guild_id"] = json!(g.to_string());
            (
                Target::Guild(g),
                opcodes::INTENT_GUILD_MESSAGE_REACTIONS,
                base,
            )
        }
        None => (
            Target::Direct,
            opcodes::INTENT_DIRECT_MESSAGE_REACTIONS,
            base,
        ),
    })
}

/// Adds `user`'s reaction and dispatches MESSAGE_REACTION_ADD; false if it was already there.
pub(crate) fn add(
    inner: &Inner,
    world: &mut World,
    mid: u64,
    user: u64,
    emoji: &ReactionEmoji,
) -> bool {
    let bot = world.bot_id;
    let Some(m) = world.messages.get_mut(&mid) else {
        return false;
    };
    let author = m.author_id;
    match m.reactions.iter_mut().find(|r| r.emoji == *emoji) {
        Some(r) if r.users.contains(&user) => return false,
        Some(r) => r.users.push(user),
        None => m.reactions.push(Reaction {
            emoji: emoji.clone(),
            users: vec![user],
            me: false,
        }),
    }
    for r in &mut m.reactions {
        r.me = r.users.contains(&bot);
    }
    let Some((target, intent, mut data)) = reaction_target(world, mid) else {
        return true;
    };
    data["user_id"] = json!(user.to_string());
    data["emoji"] = emoji.to_json();
    data["message_author_id"] = json!(author.to_string());
    data["burst"] = json!(false);
    data["burst_colors"] = json!([]);
    data["type"] = json!(0);
    if let Target::Guild(g) = target
        && let Some(member) = world.member_json(g, user)
    {
        data["member"] = member;
    }
    inner.dispatch("MESSAGE_REACTION_ADD", data, target, intent);
    true
}

/// Removes `user`'s reaction and dispatches MESSAGE_REACTION_REMOVE; false if there was none.
pub(crate) fn remove(
    inner: &Inner,
    world: &mut World,
    mid: u64,
    user: u64,
    emoji: &ReactionEmoji,
) -> bool {
    let bot = world.bot_id;
    let Some(m) = world.messages.get_mut(&mid) else {
        return false;
    };
    let Some(r) = m
        .reactions
        .iter_mut()
        .find(|r| r.emoji == *emoji && r.users.contains(&user))
    else {
        return false;
    };
    r.users.retain(|u| *u != user);
    r.me = r.users.contains(&bot);
    m.reactions.retain(|r| !r.users.is_empty());
    let Some((target, intent, mut data)) = reaction_target(world, mid) else {
        return true;
    };
    data["user_id"] = json!(user.to_string());
    data["emoji"] = emoji.to_json();
    data["burst"] = json!(false);
    data["type"] = json!(0);
    inner.dispatch("MESSAGE_REACTION_REMOVE", data, target, intent);
    true
}

/// Removes all reactions (`emoji` `None`) or one emoji's, dispatching
/// MESSAGE_REACTION_REMOVE_ALL / MESSAGE_REACTION_REMOVE_EMOJI when something was removed.
fn clear(inner: &Inner, world: &mut World, mid: u64, emoji: Option<&ReactionEmoji>) {
    let Some(m) = world.messages.get_mut(&mid) else {
        return;
    };
    let channel = m.channel_id;
    let before = m.reactions.len();
    match emoji {
        Some(e) => m.reactions.retain(|r| r.emoji != *e),
        None => m.reactions.clear(),
    }
    let removed = before != m.reactions.len();
    if removed && let Some((target, intent, mut data)) = reaction_target(world, mid) {
        match emoji {
            Some(e) => {
                data["emoji"] = e.to_json();
                // serenity reads this event as a reaction: it needs these two keys.
                data["burst"] = json!(false);
                data["type"] = json!(0);
                inner.dispatch("MESSAGE_REACTION_REMOVE_EMOJI", data, target, intent);
            }
            None => inner.dispatch("MESSAGE_REACTION_REMOVE_ALL", data, target, intent),
        }
    }
    inner.emit(SimEvent::BotReactionsCleared {
        channel_id: channel,
        message_id: mid,
        emoji: emoji.map(ReactionEmoji::key),
    });
}

/// `GET .../reactions/{emoji}`: the users who reacted, by id, `after` and `limit` (1..=100,
/// 25 by default); `type=1` (super reactions) lists nobody.
fn list(
    world: &World,
    channel: u64,
    mid: u64,
    emoji: &ReactionEmoji,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let limit = req.int_param("limit", 1, 100, 25)? as usize;
    let after = req.snowflake_param("after")?.unwrap_or(0);
    let burst = req.int_param("type", 0, 1, 0)? == 1;
    if world.channel_permissions(channel, world.bot_id) & permissions::READ_MESSAGE_HISTORY == 0 {
        return Err(ApiError::missing_permissions());
    }
    let mut users: Vec<u64> = world.messages[&mid]
        .reactions
        .iter()
        .filter(|r| r.emoji == *emoji && !burst)
        .flat_map(|r| r.users.iter().copied())
        .filter(|u| *u > after)
        .collect();
    users.sort_unstable();
    users.truncate(limit);
    Reply::ok(Value::Array(
        users.into_iter().map(|u| world.user_json(u)).collect(),
    ))
}
