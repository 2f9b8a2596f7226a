//! Guild emojis: `GET /guilds/{g}/emojis[/{e}]`, `POST /guilds/{g}/emojis`,
//! `PATCH /guilds/{g}/emojis/{e}` and `DELETE /guilds/{g}/emojis/{e}`, checked as Discord
//! checks them.
//!
//! - Permissions: creating needs CREATE_GUILD_EXPRESSIONS or MANAGE_GUILD_EXPRESSIONS; editing
//!   and deleting need MANAGE_GUILD_EXPRESSIONS, or CREATE_GUILD_EXPRESSIONS for an emoji the
//!   bot uploaded (50013 otherwise).
//! - `name`: 2–32 characters of `[A-Za-z0-9_]` (50035 `name`: BASE_TYPE_BAD_LENGTH "Must be
//!   between 2 and 32 in length.", STRING_TYPE_REGEX "String value did not match validation
//!   regex.").
//! - `image` (create only, required): a data URI `data:<type>;base64,<data>` (50035 `image`
//!   BINARY_TYPE_INVALID_DATA_URI "Only data uri strings can be used." otherwise) of at most
//!   256 KiB decoded (BINARY_TYPE_MAX_SIZE "File cannot be larger than 256.0 kb."), whose
//!   bytes are a PNG, GIF, JPEG or WebP image (IMAGE_INVALID "Invalid image data"
//!   otherwise: the format is read from the bytes, as Discord does, not from the URI's type).
//!   A GIF (or an animated WebP) makes an animated emoji.
//! - `roles`: role ids of the guild (10011 Unknown Role otherwise); `null` or `[]`: everyone.
//! - At most 50 static and 50 animated emojis (a guild without boosts): 30008 "Maximum number
//!   of emojis reached (50)", 30018 "Maximum number of animated emojis reached (50)".
//! - Unknown emoji: 10014. Each change dispatches GUILD_EMOJIS_UPDATE (GUILD_EXPRESSIONS)
//!   with the guild's full emoji list. Create answers 201 with the emoji (and its `user`).
//!
//! The uploaded image goes on the CDN (`/emojis/{id}.{ext}`) and stays there after the emoji
//! is deleted.

use serde_json::{Value, json};

use super::{ApiError, Reply, Req, id, snowflake};
use crate::gateway::{Target, opcodes};
use crate::simulator::Inner;
use crate::world::cdn::{EmojiImage, decode_base64, sniff_image};
use crate::world::{Emoji, World, permissions};

/// Bytes of an emoji image, decoded.
pub(crate) const MAX_IMAGE_BYTES: usize = 256 * 1024;
/// Static (and, separately, animated) emojis of a guild without boosts.
pub(crate) const MAX_EMOJIS: usize = 50;

/// The emoji object as REST answers it: with its uploader (`user`) when the bot may manage
/// expressions, as Discord shows it.
fn emoji_json(world: &World, guild: u64, emoji: &Emoji) -> Value {
    let perms = world.member_permissions(guild, world.bot_id);
    let shown = perms
        & (permissions::MANAGE_GUILD_EXPRESSIONS | permissions::CREATE_GUILD_EXPRESSIONS)
        != 0;
    let user = emoji
        .user_id
        .filter(|_| shown)
        .and_then(|u| world.users.get(&u));
    emoji.to_json(user)
}

/// `GET /guilds/{g}/emojis`.
pub(crate) fn list(world: &World, guild: u64) -> Result<Reply, ApiError> {
    let g = &world.guilds[&guild];
    Reply::ok(Value::Array(
        g.emojis
            .values()
            .map(|e| emoji_json(world, guild, e))
            .collect(),
    ))
}

/// `GET /guilds/{g}/emojis/{e}`.
pub(crate) fn get(world: &World, guild: u64, eid: &str) -> Result<Reply, ApiError> {
    let emoji = find(world, guild, eid)?;
    Reply::ok(emoji_json(
        world,
        guild,
        &world.guilds[&guild].emojis[&emoji],
    ))
}

fn find(world: &World, guild: u64, eid: &str) -> Result<u64, ApiError> {
    let emoji = id(eid, "Emoji", 10014)?;
    if world.guilds[&guild].emojis.contains_key(&emoji) {
        Ok(emoji)
    } else {
        Err(ApiError::unknown("Emoji", 10014))
    }
}

fn dispatch_update(inner: &Inner, world: &World, guild: u64) {
    inner.dispatch(
        "GUILD_EMOJIS_UPDATE",
        json!({"guild_id": guild.to_string(), "emojis": world.guilds[&guild].emojis_json()}),
        Target::Guild(guild),
        opcodes::INTENT_GUILD_EXPRESSIONS,
    );
}

fn require_object(body: &Value) -> Result<(), ApiError> {
    if body.is_object() {
        Ok(())
    } else {
        Err(ApiError::invalid_form(
            "_root",
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        ))
    }
}

fn required(field: &str) -> ApiError {
    ApiError::invalid_form(field, "BASE_TYPE_REQUIRED", "This field is required")
}

/// A checked emoji name; `None` when absent or null.
fn parse_name(body: &Value) -> Result<Option<String>, ApiError> {
    let name = match body.get("name") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(ApiError::invalid_form(
                "name",
                "BASE_TYPE_STRING",
                "Could not interpret the value as string.",
            ));
        }
    };
    if !(2..=32).contains(&name.chars().count()) {
        return Err(ApiError::invalid_form(
            "name",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 2 and 32 in length.",
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ApiError::invalid_form(
            "name",
            "STRING_TYPE_REGEX",
            "String value did not match validation regex.",
        ));
    }
    Ok(Some(name.clone()))
}

/// A checked image data URI: its bytes, media type (from the bytes) and whether animated.
fn parse_image(body: &Value) -> Result<(Vec<u8>, &'static str, bool), ApiError> {
    let raw = match body.get("image") {
        None | Some(Value::Null) => return Err(required("image")),
        Some(v) => v,
    };
    let not_uri = || {
        ApiError::invalid_form(
            "image",
            "BINARY_TYPE_INVALID_DATA_URI",
            "Only data uri strings can be used.",
        )
    };
    let data = raw
        .as_str()
        .and_then(|s| s.strip_prefix("data:"))
        .and_then(|s| s.split_once(";base64,"))
        .filter(|(kind, _)| !kind.is_empty() && !kind.contains(','))
        .map(|(_, data)| data)
        .ok_or_else(not_uri)?;
    let invalid = || ApiError::invalid_form("image", "IMAGE_INVALID", "Invalid image data");
    let bytes = decode_base64(data).ok_or_else(invalid)?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::invalid_form(
            "image",
            "BINARY_TYPE_MAX_SIZE",
            "File cannot be larger than 256.0 kb.",
        ));
    }
    let (kind, animated) = sniff_image(&bytes).ok_or_else(invalid)?;
    Ok((bytes, kind, animated))
}

/// Checked `roles`: `None` when absent; `null` is an empty list.
fn parse_roles(world: &World, guild: u64, body: &Value) -> Result<Option<Vec<u64>>, ApiError> {
    let list = match body.get("roles") {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(Vec::new())),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(ApiError::invalid_form(
                "roles",
                "BASE_TYPE_LIST",
                "Must be an array.",
            ));
        }
    };
    let mut roles = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let Some(role) = snowflake(v) else {
            return Err(ApiError::invalid_form(
                &format!("roles.{i}"),
                "NUMBER_TYPE_COERCE",
                &format!(
                    "Value \"{}\" is not snowflake.",
                    v.as_str().unwrap_or(&v.to_string())
                ),
            ));
        };
        if !world.guilds[&guild].roles.contains_key(&role) {
            return Err(ApiError::unknown("Role", 10011));
        }
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(Some(roles))
}

/// `POST /guilds/{g}/emojis`.
pub(crate) fn create(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let bot = world.bot_id;
    if world.member_permissions(guild, bot)
        & (permissions::MANAGE_GUILD_EXPRESSIONS | permissions::CREATE_GUILD_EXPRESSIONS)
        == 0
    {
        return Err(ApiError::missing_permissions());
    }
    let body = req.body();
    require_object(&body)?;
    let name = parse_name(&body)?.ok_or_else(|| required("name"))?;
    let (bytes, content_type, animated) = parse_image(&body)?;
    let roles = parse_roles(world, guild, &body)?.unwrap_or_default();
    let same_kind = world.guilds[&guild]
        .emojis
        .values()
        .filter(|e| e.animated == animated)
        .count();
    if same_kind >= MAX_EMOJIS {
        return Err(if animated {
            ApiError::bad_request(
                &format!("Maximum number of animated emojis reached ({MAX_EMOJIS})"),
                30018,
            )
        } else {
            ApiError::bad_request(
                &format!("Maximum number of emojis reached ({MAX_EMOJIS})"),
                30008,
            )
        });
    }
    let emoji = world.ids.next();
    world.cdn.emojis.insert(
        emoji,
        EmojiImage {
            content_type,
            data: bytes.into(),
        },
    );
    let Some(g) = world.guilds.get_mut(&guild) else {
        return Err(ApiError::unknown("Guild", 10004));
    };
    g.emojis.insert(
        emoji,
        Emoji {
            id: emoji,
            name,
            animated,
            roles,
            user_id: Some(bot),
        },
    );
    dispatch_update(inner, world, guild);
    Ok(Reply {
        status: 201,
        body: Some(emoji_json(
            world,
            guild,
            &world.guilds[&guild].emojis[&emoji],
        )),
    })
}

/// MANAGE_GUILD_EXPRESSIONS, or CREATE_GUILD_EXPRESSIONS for the bot's own emoji.
fn require_manage(world: &World, guild: u64, emoji: u64) -> Result<(), ApiError> {
    let bot = world.bot_id;
    let perms = world.member_permissions(guild, bot);
    let own = world.guilds[&guild].emojis[&emoji].user_id == Some(bot);
    if perms & permissions::MANAGE_GUILD_EXPRESSIONS != 0
        || (own && perms & permissions::CREATE_GUILD_EXPRESSIONS != 0)
    {
        Ok(())
    } else {
        Err(ApiError::missing_permissions())
    }
}

/// `PATCH /guilds/{g}/emojis/{e}` (`name`, `roles`).
pub(crate) fn edit(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    eid: &str,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    let emoji = find(world, guild, eid)?;
    require_manage(world, guild, emoji)?;
    let body = req.body();
    require_object(&body)?;
    let name = parse_name(&body)?;
    let roles = parse_roles(world, guild, &body)?;
    let Some(e) = world
        .guilds
        .get_mut(&guild)
        .and_then(|g| g.emojis.get_mut(&emoji))
    else {
        return Err(ApiError::unknown("Emoji", 10014));
    };
    if let Some(name) = name {
        e.name = name;
    }
    if let Some(roles) = roles {
        e.roles = roles;
    }
    dispatch_update(inner, world, guild);
    Reply::ok(emoji_json(
        world,
        guild,
        &world.guilds[&guild].emojis[&emoji],
    ))
}

/// `DELETE /guilds/{g}/emojis/{e}`: 204; the image stays on the CDN.
pub(crate) fn delete(
    inner: &Inner,
    world: &mut World,
    guild: u64,
    eid: &str,
) -> Result<Reply, ApiError> {
    let emoji = find(world, guild, eid)?;
    require_manage(world, guild, emoji)?;
    if let Some(g) = world.guilds.get_mut(&guild) {
        g.emojis.remove(&emoji);
    }
    dispatch_update(inner, world, guild);
    Reply::no_content()
}
