//! Routes: `/users/@me`, `/users/{id}`, `POST /users/@me/channels`, `DELETE
//! /users/@me/guilds/{id}` (the bot leaves a guild), `/applications/@me`,
//! `/oauth2/applications/@me`.

use axum::http::Method;
use serde_json::{Value, json};

use super::{ApiError, Reply, Req, id};
use crate::simulator::Inner;
use crate::world::World;

/// The application object (`PrivateApplicationResponse`).
pub(crate) fn application_json(world: &World) -> Value {
    let owner = world.user_json(world.owner_id);
    let bot = world.user_json(world.bot_id);
    json!({
        "id": world.application_id.to_string(),
        "name": "Zoryx",
        "icon": null,
        "description": "Zoryx bot (simulated)",
        "type": null,
        "bot": bot,
        "bot_public": true,
        "bot_require_code_grant": false,
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "flags": 0,
        "flags_new": "0",
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "owner": owner,
        "approximate_guild_count": world.guilds.len(),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "team": null,
        "eligible_oauth2_scopes": [],
        "summary": "",
        "rpc_origins": [],
    })
}

/// Answers the user and application routes.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let world = &mut *inner.world();
    Some(match (req.method, req.segs.as_slice()) {
        (&Method::GET, ["users", "@me"]) => {
            let bot = world.bot_id;
            match world.users.get(&bot) {
                Some(u) => Reply::ok(u.to_me_json()),
                None => Err(ApiError::unknown("User", 10013)),
            }
        }
        (&Method::GET, ["users", user]) => {
            let user = match id(user, "User", 10013) {
                Ok(u) => u,
                Err(e) => return Some(Err(e)),
            };
            match world.users.get(&user) {
                Some(u) => Reply::ok(u.to_json()),
                None => Err(ApiError::unknown("User", 10013)),
            }
        }
        (&Method::POST, ["users", "@me", "channels"]) => {
            let recipient = req
                .body()
                .get("recipient_id")
                .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()));
            match recipient {
                Some(user) if world.users.contains_key(&user) => {
                    let channel = world.dm_channel(user);
                    let recipient = world.user_json(user);
                    Reply::ok(world.channels[&channel].to_json(Some(recipient)))
                }
                Some(_) => Err(ApiError::unknown("User", 10013)),
                None => Err(ApiError::invalid_form(
                    "recipient_id",
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                )),
            }
        }
        // Leaving a guild: it goes from the bot's world and GUILD_DELETE follows, as on
        // Discord; one the bot is not in is 404 Unknown Guild (10004).
        (&Method::DELETE, ["users", "@me", "guilds", guild]) => match id(guild, "Guild", 10004) {
            Ok(guild) if inner.remove_guild(world, guild) => Reply::no_content(),
            Ok(_) => Err(ApiError::unknown("Guild", 10004)),
            Err(e) => Err(e),
        },
        (&Method::GET, ["applications", "@me"] | ["oauth2", "applications", "@me"]) => {
            Reply::ok(application_json(world))
        }
        _ => return None,
    })
}
