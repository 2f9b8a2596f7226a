//! A scripted tour of the moderation routes (reactions, bulk delete, members, bans, roles,
//! channels, overwrites, emojis, guild settings, channel webhooks), successes and refusals,
//! for the OpenAPI conformance test.

use serde_json::json;
use zoryx_sim::Simulator;
use zoryx_sim::permissions as p;

use super::Api;

/// The spec templates the tour calls, with their methods.
pub const ROUTES: &[(&str, &str)] = &[
    (
        "PUT",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
    ),
    (
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
    ),
    (
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/{user_id}",
    ),
    (
        "GET",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}",
    ),
    (
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}",
    ),
    (
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}/reactions",
    ),
    ("POST", "/channels/{channel_id}/messages/bulk-delete"),
    ("PATCH", "/guilds/{guild_id}/members/{user_id}"),
    ("PATCH", "/guilds/{guild_id}/members/@me"),
    ("DELETE", "/guilds/{guild_id}/members/{user_id}"),
    ("PATCH", "/guilds/{guild_id}/roles"),
    ("PUT", "/guilds/{guild_id}/bans/{user_id}"),
    ("GET", "/guilds/{guild_id}/bans"),
    ("GET", "/guilds/{guild_id}/bans/{user_id}"),
    ("DELETE", "/guilds/{guild_id}/bans/{user_id}"),
    ("PATCH", "/channels/{channel_id}"),
    ("DELETE", "/channels/{channel_id}"),
    ("PUT", "/channels/{channel_id}/permissions/{overwrite_id}"),
    (
        "DELETE",
        "/channels/{channel_id}/permissions/{overwrite_id}",
    ),
    ("POST", "/guilds/{guild_id}/channels"),
    ("GET", "/guilds/{guild_id}/emojis"),
    ("POST", "/guilds/{guild_id}/emojis"),
    ("GET", "/guilds/{guild_id}/emojis/{emoji_id}"),
    ("PATCH", "/guilds/{guild_id}/emojis/{emoji_id}"),
    ("DELETE", "/guilds/{guild_id}/emojis/{emoji_id}"),
    ("PATCH", "/guilds/{guild_id}"),
    ("POST", "/channels/{channel_id}/webhooks"),
    ("GET", "/channels/{channel_id}/webhooks"),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
    ("DELETE", "/webhooks/{webhook_id}"),
];

/// Calls every moderation route, answered and refused.
pub async fn run(sim: &Simulator, api: &Api) {
    let guild = sim.default_guild();
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let owner = sim.owner().id;
    let bot_role = sim.bot_role(guild).expect("bot role");

    // Reactions.
    let mid = sim
        .inject_message(channel, guest, "tour")
        .await
        .expect("inject");
    let star = sim.add_emoji(guild, "star").expect("emoji");
    let r = format!("/channels/{channel}/messages/{mid}/reactions");
    api.expect("PUT", &format!("{r}/%F0%9F%91%8D/@me"), None, 204)
        .await;
    api.expect("PUT", &format!("{r}/star:{star}/@me"), None, 204)
        .await;
    api.expect("PUT", &format!("{r}/nope/@me"), None, 400).await;
    sim.inject_reaction(channel, mid, guest, "👍")
        .await
        .expect("react");
    api.expect(
        "GET",
        &format!("/channels/{channel}/messages/{mid}"),
        None,
        200,
    )
    .await;
    api.expect("GET", &format!("{r}/%F0%9F%91%8D?limit=10"), None, 200)
        .await;
    api.expect("GET", &format!("{r}/%F0%9F%91%8D?limit=0"), None, 400)
        .await;
    api.expect("DELETE", &format!("{r}/%F0%9F%91%8D/{guest}"), None, 204)
        .await;
    api.expect("DELETE", &format!("{r}/%F0%9F%91%8D/@me"), None, 204)
        .await;
    api.expect("DELETE", &format!("{r}/star:{star}"), None, 204)
        .await;
    api.expect("DELETE", &r, None, 204).await;

    // Bulk delete.
    let a = sim.inject_message(channel, guest, "a").await.expect("a");
    let b = sim.inject_message(channel, guest, "b").await.expect("b");
    let bulk = format!("/channels/{channel}/messages/bulk-delete");
    api.expect(
        "POST",
        &bulk,
        Some(json!({"messages": [a.to_string()]})),
        400,
    )
    .await;
    api.expect(
        "POST",
        &bulk,
        Some(json!({"messages": [a.to_string(), guild.to_string()]})),
        400,
    )
    .await;
    api.expect(
        "POST",
        &bulk,
        Some(json!({"messages": [a.to_string(), b.to_string()]})),
        204,
    )
    .await;

    // Members and roles.
    let members = format!("/guilds/{guild}/members");
    api.expect(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"nick": "g", "communication_disabled_until": null})),
        200,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"nick": "x".repeat(40)})),
        400,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("{members}/{owner}"),
        Some(json!({"nick": "o"})),
        403,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("{members}/@me"),
        Some(json!({"nick": "Zory"})),
        200,
    )
    .await;
    let moderator = sim
        .roles(guild)
        .iter()
        .find(|r| r["name"] == "Moderator")
        .and_then(|r| r["id"].as_str().map(str::to_owned))
        .expect("Moderator");
    api.expect(
        "PATCH",
        &format!("/guilds/{guild}/roles"),
        Some(json!([{"id": moderator, "position": 2}])),
        200,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("/guilds/{guild}/roles"),
        Some(json!([{"id": bot_role.to_string(), "position": 1}])),
        403,
    )
    .await;
    let kicked = sim.add_user("kicked");
    sim.add_member(guild, kicked.id).expect("member");
    api.expect("DELETE", &format!("{members}/{}", kicked.id), None, 204)
        .await;
    api.expect("DELETE", &format!("{members}/{owner}"), None, 403)
        .await;

    // Bans.
    let bans = format!("/guilds/{guild}/bans");
    api.expect(
        "PUT",
        &format!("{bans}/{}", kicked.id),
        Some(json!({"delete_message_seconds": 60})),
        204,
    )
    .await;
    api.expect(
        "PUT",
        &format!("{bans}/{guest}"),
        Some(json!({"delete_message_seconds": -1})),
        400,
    )
    .await;
    api.expect("GET", &format!("{bans}?limit=5"), None, 200)
        .await;
    api.expect("GET", &format!("{bans}/{}", kicked.id), None, 200)
        .await;
    api.expect("DELETE", &format!("{bans}/{}", kicked.id), None, 204)
        .await;
    api.expect("GET", &format!("{bans}/{}", kicked.id), None, 404)
        .await;

    // Channels and overwrites.
    let created = api
        .expect(
            "POST",
            &format!("/guilds/{guild}/channels"),
            Some(json!({"name": "Cat", "type": 4})),
            201,
        )
        .await;
    let cat = created["id"].as_str().expect("id").to_owned();
    let text = api
        .expect(
            "POST",
            &format!("/guilds/{guild}/channels"),
            Some(json!({"name": "inside", "type": 0, "parent_id": cat,
                "permission_overwrites": [{"id": guild.to_string(), "type": 0, "allow": 0, "deny": p::ADD_REACTIONS}]})),
            201,
        )
        .await;
    let text = text["id"].as_str().expect("id").to_owned();
    api.expect(
        "PATCH",
        &format!("/channels/{text}"),
        Some(json!({"name": "renamed", "topic": "t", "nsfw": true, "rate_limit_per_user": 10})),
        200,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("/channels/{text}"),
        Some(json!({"name": "x".repeat(101)})),
        400,
    )
    .await;
    api.expect(
        "PUT",
        &format!("/channels/{text}/permissions/{guest}"),
        Some(json!({"type": 1, "allow": p::VIEW_CHANNEL, "deny": p::SEND_MESSAGES})),
        204,
    )
    .await;
    api.expect(
        "PUT",
        &format!("/channels/{text}/permissions/{guest}"),
        Some(json!({"type": 7})),
        400,
    )
    .await;
    api.expect("GET", &format!("/channels/{text}"), None, 200)
        .await;
    api.expect(
        "DELETE",
        &format!("/channels/{text}/permissions/{guest}"),
        None,
        204,
    )
    .await;
    api.expect("DELETE", &format!("/channels/{text}"), None, 200)
        .await;
    api.expect("DELETE", &format!("/channels/{cat}"), None, 200)
        .await;

    // Emojis and webhooks.
    api.expect("GET", &format!("/guilds/{guild}/emojis"), None, 200)
        .await;
    // A 1×1 PNG's signature and header, as a data URI.
    let image = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAA=";
    let emojis = format!("/guilds/{guild}/emojis");
    let emoji = api
        .expect(
            "POST",
            &emojis,
            Some(json!({"name": "tour", "image": image, "roles": []})),
            201,
        )
        .await;
    let emoji = emoji["id"].as_str().expect("id").to_owned();
    api.expect(
        "POST",
        &emojis,
        Some(json!({"name": "x", "image": image})),
        400,
    )
    .await;
    api.expect("GET", &format!("{emojis}/{emoji}"), None, 200)
        .await;
    api.expect(
        "PATCH",
        &format!("{emojis}/{emoji}"),
        Some(json!({"name": "tour_two"})),
        200,
    )
    .await;
    api.expect("DELETE", &format!("{emojis}/{emoji}"), None, 204)
        .await;
    api.expect("DELETE", &format!("{emojis}/{emoji}"), None, 404)
        .await;
    // Guild settings.
    api.expect(
        "PATCH",
        &format!("/guilds/{guild}"),
        Some(json!({"description": "tour", "afk_timeout": 60, "preferred_locale": "fr"})),
        200,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("/guilds/{guild}"),
        Some(json!({"afk_timeout": 61})),
        400,
    )
    .await;
    let hooks = format!("/channels/{channel}/webhooks");
    let hook = api
        .expect("POST", &hooks, Some(json!({"name": "relay"})), 200)
        .await;
    api.expect("POST", &hooks, Some(json!({"name": "clyde"})), 400)
        .await;
    api.expect("GET", &hooks, None, 200).await;
    let (id, token) = (
        hook["id"].as_str().expect("id"),
        hook["token"].as_str().expect("token"),
    );
    api.expect(
        "POST",
        &format!("/webhooks/{id}/{token}?wait=true"),
        Some(json!({"content": "via hook", "username": "bridge", "embeds": [{"title": "T"}]})),
        200,
    )
    .await;
    api.expect(
        "POST",
        &format!("/webhooks/{id}/{token}"),
        Some(json!({"content": "quiet"})),
        204,
    )
    .await;
    api.expect("DELETE", &format!("/webhooks/{id}"), None, 204)
        .await;
    api.expect("DELETE", &format!("/webhooks/{id}"), None, 404)
        .await;

    // Taken away: the bot without ADMINISTRATOR.
    sim.set_role_permissions(guild, bot_role, 0)
        .expect("demote");
    api.expect("DELETE", &format!("{members}/{guest}"), None, 403)
        .await;
    api.expect(
        "PATCH",
        &format!("/channels/{channel}"),
        Some(json!({"topic": "x"})),
        403,
    )
    .await;
    sim.set_role_permissions(guild, bot_role, p::ADMINISTRATOR)
        .expect("restore");
}
