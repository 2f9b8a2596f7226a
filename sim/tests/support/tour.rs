//! A scripted tour of every REST route the simulator serves, as a bot would call them.

use serde_json::{Value, json};
use zoryx_sim::Simulator;

use super::Api;

/// Ids the tour created.
#[derive(Debug)]
pub struct Tour {
    /// A bot message (with an embed and a button) replying to an injected message.
    pub message: u64,
    /// The slash interaction answered with type 4.
    pub interaction: u64,
    /// A followup message id.
    pub followup: u64,
}

/// Calls every route once or more, with realistic bodies; asserts 2xx statuses.
pub async fn run(sim: &Simulator, api: &Api) -> Tour {
    let app = sim.application_id();
    let guild = sim.default_guild();
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    api.expect("GET", "/gateway", None, 200).await;
    api.expect("GET", "/gateway/bot", None, 200).await;
    api.expect("GET", "/users/@me", None, 200).await;
    api.expect("GET", &format!("/users/{guest}"), None, 200)
        .await;
    api.expect("GET", "/applications/@me", None, 200).await;
    api.expect("GET", "/oauth2/applications/@me", None, 200)
        .await;
    api.expect(
        "POST",
        "/users/@me/channels",
        Some(json!({"recipient_id": guest.to_string()})),
        200,
    )
    .await;

    api.expect("GET", &format!("/guilds/{guild}"), None, 200)
        .await;
    api.expect(
        "GET",
        &format!("/guilds/{guild}?with_counts=true"),
        None,
        200,
    )
    .await;
    api.expect("GET", &format!("/guilds/{guild}/roles"), None, 200)
        .await;
    api.expect("GET", &format!("/guilds/{guild}/channels"), None, 200)
        .await;
    api.expect(
        "GET",
        &format!("/guilds/{guild}/members/{guest}"),
        None,
        200,
    )
    .await;
    api.expect(
        "GET",
        &format!("/guilds/{guild}/members?limit=10"),
        None,
        200,
    )
    .await;
    api.expect("GET", &format!("/channels/{channel}"), None, 200)
        .await;
    let role = api
        .expect(
            "POST",
            &format!("/guilds/{guild}/roles"),
            Some(json!({"name": "Tour", "permissions": 8192, "color": 3447003})),
            200,
        )
        .await;
    let role_id = role["id"].as_str().expect("role id").to_owned();
    api.expect(
        "PATCH",
        &format!("/guilds/{guild}/roles/{role_id}"),
        Some(json!({"name": "Tour2", "hoist": true})),
        200,
    )
    .await;
    api.expect(
        "PUT",
        &format!("/guilds/{guild}/members/{guest}/roles/{role_id}"),
        None,
        204,
    )
    .await;
    api.expect(
        "DELETE",
        &format!("/guilds/{guild}/members/{guest}/roles/{role_id}"),
        None,
        204,
    )
    .await;
    api.expect(
        "DELETE",
        &format!("/guilds/{guild}/roles/{role_id}"),
        None,
        204,
    )
    .await;
    api.expect(
        "POST",
        &format!("/guilds/{guild}/channels"),
        Some(json!({"name": "tour", "type": 0, "topic": "t"})),
        201,
    )
    .await;

    let asked = sim
        .inject_message(channel, guest, "!info")
        .await
        .expect("inject");
    let message = api
        .expect(
            "POST",
            &format!("/channels/{channel}/messages"),
            Some(json!({
                "content": "info",
                "embeds": [{"title": "T", "description": "D", "color": 3447003,
                    "fields": [{"name": "a", "value": "b", "inline": true}],
                    "footer": {"text": "f"}, "timestamp": "2026-01-01T00:00:00.000Z"}],
                "components": [{"type": 1, "components": [
                    {"type": 2, "style": 1, "label": "Go", "custom_id": "tour:go"},
                    {"type": 2, "style": 5, "label": "Docs", "url": "https://example.com"}
                ]}],
                "message_reference": {"message_id": asked.to_string(), "fail_if_not_exists": false},
                "allowed_mentions": {"parse": []}
            })),
            200,
        )
        .await;
    let mid = message["id"].as_str().expect("id").to_owned();
    api.expect(
        "GET",
        &format!("/channels/{channel}/messages/{mid}"),
        None,
        200,
    )
    .await;
    api.expect(
        "GET",
        &format!("/channels/{channel}/messages?limit=5"),
        None,
        200,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("/channels/{channel}/messages/{mid}"),
        Some(json!({"content": "edited"})),
        200,
    )
    .await;
    api.expect("POST", &format!("/channels/{channel}/typing"), None, 204)
        .await;
    let doomed = api
        .expect(
            "POST",
            &format!("/channels/{channel}/messages"),
            Some(json!({"content": "bye"})),
            200,
        )
        .await;
    api.expect(
        "DELETE",
        &format!(
            "/channels/{channel}/messages/{}",
            doomed["id"].as_str().expect("id")
        ),
        None,
        204,
    )
    .await;

    let commands = json!([
        {"name": "say", "description": "Say", "type": 1, "options": [
            {"type": 3, "name": "text", "description": "Text", "required": true},
            {"type": 4, "name": "times", "description": "Times", "min_value": 1}
        ]},
        {"name": "ping", "description": "Ping"}
    ]);
    api.expect(
        "PUT",
        &format!("/applications/{app}/commands"),
        Some(commands.clone()),
        200,
    )
    .await;
    api.expect("GET", &format!("/applications/{app}/commands"), None, 200)
        .await;
    let guild_cmds = api
        .expect(
            "PUT",
            &format!("/applications/{app}/guilds/{guild}/commands"),
            Some(commands),
            200,
        )
        .await;
    api.expect(
        "GET",
        &format!("/applications/{app}/guilds/{guild}/commands"),
        None,
        200,
    )
    .await;
    let cid = guild_cmds[0]["id"].as_str().expect("id").to_owned();
    api.expect(
        "GET",
        &format!("/applications/{app}/guilds/{guild}/commands/{cid}"),
        None,
        200,
    )
    .await;

    let interaction = sim
        .inject_slash(
            guild,
            channel,
            guest,
            "say",
            json!([{"name": "text", "type": 3, "value": "x"}]),
        )
        .await
        .expect("slash");
    let (payload, _) = sim.interaction(interaction).expect("stored");
    let token = payload["token"].as_str().expect("token").to_owned();
    api.expect(
        "POST",
        &format!("/interactions/{interaction}/{token}/callback"),
        Some(json!({"type": 4, "data": {"content": "said x", "flags": 64}})),
        204,
    )
    .await;
    api.expect(
        "GET",
        &format!("/webhooks/{app}/{token}/messages/@original"),
        None,
        200,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("/webhooks/{app}/{token}/messages/@original"),
        Some(json!({"content": "said x!"})),
        200,
    )
    .await;
    let followup = api
        .expect(
            "POST",
            &format!("/webhooks/{app}/{token}"),
            Some(json!({"content": "more", "flags": 64})),
            200,
        )
        .await;
    let fid = followup["id"].as_str().expect("id").to_owned();
    api.expect(
        "GET",
        &format!("/webhooks/{app}/{token}/messages/{fid}"),
        None,
        200,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("/webhooks/{app}/{token}/messages/{fid}"),
        Some(json!({"content": "more!"})),
        200,
    )
    .await;

    let deferred = sim
        .inject_slash(guild, channel, guest, "ping", Value::Null)
        .await
        .expect("slash");
    let (payload, _) = sim.interaction(deferred).expect("stored");
    let dtoken = payload["token"].as_str().expect("token").to_owned();
    api.expect(
        "POST",
        &format!("/interactions/{deferred}/{dtoken}/callback"),
        Some(json!({"type": 5})),
        204,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("/webhooks/{app}/{dtoken}/messages/@original"),
        Some(json!({"content": "pong"})),
        200,
    )
    .await;
    api.expect(
        "DELETE",
        &format!("/webhooks/{app}/{dtoken}/messages/@original"),
        None,
        204,
    )
    .await;

    let click = sim
        .inject_component(mid.parse().expect("id"), guest, "tour:go", vec![])
        .await
        .expect("click");
    let (payload, _) = sim.interaction(click).expect("stored");
    let ctoken = payload["token"].as_str().expect("token").to_owned();
    api.expect(
        "POST",
        &format!("/interactions/{click}/{ctoken}/callback"),
        Some(json!({"type": 7, "data": {"content": "went", "components": []}})),
        204,
    )
    .await;
    let click2 = sim
        .inject_component(mid.parse().expect("id"), guest, "tour:go", vec![])
        .await
        .expect("click");
    let (payload, _) = sim.interaction(click2).expect("stored");
    let ctoken2 = payload["token"].as_str().expect("token").to_owned();
    api.expect(
        "POST",
        &format!("/interactions/{click2}/{ctoken2}/callback"),
        Some(json!({"type": 6})),
        204,
    )
    .await;

    Tour {
        message: mid.parse().expect("id"),
        interaction,
        followup: fid.parse().expect("id"),
    }
}
