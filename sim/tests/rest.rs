//! The REST API over real HTTP: answers deserialize into serenity's model types, errors use
//! Discord's shapes, rate-limit headers and scripted 429s, and every request is recorded.

mod support;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use serenity::all::{
    Command, CurrentApplicationInfo, CurrentUser, GuildChannel, Member, Message, PartialGuild,
    PrivateChannel, Role, User,
};
use serenity::model::gateway::BotGateway;
use support::{Api, start, wait_for};
use zoryx_sim::SimEvent;

fn model<T: DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| {
        panic!(
            "serenity cannot parse {}: {e}\n{v}",
            std::any::type_name::<T>()
        )
    })
}

#[tokio::test]
async fn answers_parse_as_serenity_models() {
    let sim = start().await;
    let api = Api::new(&sim);
    let tour = support::tour::run(&sim, &api).await;
    let guild = sim.default_guild();
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let app = sim.application_id();

    let me: CurrentUser = model(&api.expect("GET", "/users/@me", None, 200).await);
    assert_eq!(me.id.get(), sim.bot_user().id);
    let user: User = model(
        &api.expect("GET", &format!("/users/{guest}"), None, 200)
            .await,
    );
    assert_eq!(user.name, "guest");
    let info: CurrentApplicationInfo = model(
        &api.expect("GET", "/oauth2/applications/@me", None, 200)
            .await,
    );
    assert_eq!(info.id.get(), app);
    assert_eq!(
        info.owner.as_ref().map(|o| o.id.get()),
        Some(sim.owner().id)
    );
    let gw: BotGateway = model(&api.expect("GET", "/gateway/bot", None, 200).await);
    assert_eq!(gw.url, sim.gateway_url());
    assert_eq!(gw.shards, 1);

    let g: PartialGuild = model(
        &api.expect("GET", &format!("/guilds/{guild}"), None, 200)
            .await,
    );
    assert_eq!(g.name, "Zoryx Sandbox");
    let roles: Vec<Role> = model(
        &api.expect("GET", &format!("/guilds/{guild}/roles"), None, 200)
            .await,
    );
    assert!(
        roles
            .iter()
            .any(|r| r.name == "Moderator" && r.permissions.manage_messages())
    );
    assert!(
        roles
            .iter()
            .any(|r| r.name == "Admin" && r.permissions.administrator())
    );
    let channels: Vec<GuildChannel> = model(
        &api.expect("GET", &format!("/guilds/{guild}/channels"), None, 200)
            .await,
    );
    assert!(channels.iter().any(|c| c.name == "bot-commands"));
    let c: GuildChannel = model(
        &api.expect("GET", &format!("/channels/{channel}"), None, 200)
            .await,
    );
    assert_eq!(c.name, "general");
    let member: Member = model(
        &api.expect(
            "GET",
            &format!("/guilds/{guild}/members/{guest}"),
            None,
            200,
        )
        .await,
    );
    assert_eq!(member.user.id.get(), guest);
    let members: Vec<Member> = model(
        &api.expect(
            "GET",
            &format!("/guilds/{guild}/members?limit=100"),
            None,
            200,
        )
        .await,
    );
    assert_eq!(members.len(), sim.members(guild).len());
    let dm: PrivateChannel = model(
        &api.expect(
            "POST",
            "/users/@me/channels",
            Some(json!({"recipient_id": guest.to_string()})),
            200,
        )
        .await,
    );
    assert_eq!(dm.recipient.id.get(), guest);

    let m: Message = model(
        &api.expect(
            "GET",
            &format!("/channels/{channel}/messages/{}", tour.message),
            None,
            200,
        )
        .await,
    );
    assert_eq!(
        m.content, "went",
        "the type 7 update of the tour changed it"
    );
    assert_eq!(m.embeds.len(), 1);
    assert_eq!(m.embeds[0].title.as_deref(), Some("T"));
    assert!(m.components.is_empty(), "the update removed the buttons");
    assert!(
        m.message_reference.is_some(),
        "the reply keeps its reference"
    );
    let commands: Vec<Command> = model(
        &api.expect(
            "GET",
            &format!("/applications/{app}/guilds/{guild}/commands"),
            None,
            200,
        )
        .await,
    );
    assert_eq!(
        commands.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["say", "ping"]
    );
    assert_eq!(commands[0].options.len(), 2);
    let record = sim.message(tour.followup).expect("followup stored");
    assert_eq!(record.interaction_id, Some(tour.interaction));
}

#[tokio::test]
async fn auth_unknown_routes_and_bad_bodies_use_discord_error_shapes() {
    let sim = start().await;
    let api = Api::new(&sim);
    let (status, body) = api.call_with_auth("GET", "/users/@me", None).await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(0)));
    let (status, _) = api
        .call_with_auth("GET", "/users/@me", Some("Bot wrong"))
        .await;
    assert_eq!(status, 401);
    let (status, _) = api
        .call_with_auth(
            "GET",
            "/users/@me",
            Some(&format!("Bearer {}", sim.token())),
        )
        .await;
    assert_eq!(status, 401, "only the Bot scheme is accepted");

    let body = api.expect("GET", "/no/such/route", None, 404).await;
    assert_eq!(body, json!({"message": "404: Not Found", "code": 0}));
    let body = api.expect("GET", "/channels/12345", None, 404).await;
    assert_eq!(body["code"], 10003);

    let channel = sim.default_channel();
    let body = api
        .expect(
            "POST",
            &format!("/channels/{channel}/messages"),
            Some(json!({"content": "x".repeat(2001)})),
            400,
        )
        .await;
    assert_eq!(body["code"], 50035);
    assert_eq!(
        body["errors"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
    let body = api
        .expect(
            "POST",
            &format!("/channels/{channel}/messages"),
            Some(json!({})),
            400,
        )
        .await;
    assert_eq!(body["code"], 50006);
    let body = api
        .expect(
            "POST",
            &format!("/channels/{channel}/messages"),
            Some(json!({"content": "x", "message_reference": {"message_id": "1"}})),
            400,
        )
        .await;
    assert_eq!(body["code"], 50035, "a reply to an unknown message");

    // A body that is not JSON.
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/api/v10/channels/{channel}/messages",
            sim.base_url()
        ))
        .header("Authorization", format!("Bot {}", sim.token()))
        .header("Content-Type", "application/json")
        .body("{nope")
        .send()
        .await
        .expect("answered");
    assert_eq!(resp.status().as_u16(), 400);

    let app = sim.application_id();
    let bad = json!([
        {"name": "say", "description": "x", "options": [
            {"type": 3, "name": "a", "description": "a"},
            {"type": 3, "name": "b", "description": "b", "required": true}
        ]}
    ]);
    let body = api
        .expect(
            "PUT",
            &format!("/applications/{app}/commands"),
            Some(bad),
            400,
        )
        .await;
    assert_eq!(body["code"], 50035, "required options must come first");
    let dup = json!([{"name": "a", "description": "x"}, {"name": "a", "description": "y"}]);
    api.expect(
        "PUT",
        &format!("/applications/{app}/commands"),
        Some(dup),
        400,
    )
    .await;
    let upper = json!([{"name": "Ping", "description": "x"}]);
    api.expect(
        "PUT",
        &format!("/applications/{app}/commands"),
        Some(upper),
        400,
    )
    .await;
    assert!(
        sim.registered_commands(None).is_empty(),
        "a refused overwrite changes nothing"
    );
}

#[tokio::test]
async fn rate_limit_headers_and_scripted_429() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut events = sim.subscribe();
    let channel = sim.default_channel();
    let (status, headers, _) = api.call("GET", "/users/@me", None).await;
    assert_eq!(status, 200);
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-ratelimit-bucket",
    ] {
        assert!(headers.contains_key(h), "{h} is sent");
    }
    sim.rate_limit("POST /channels/*/messages", 2);
    let path = format!("/channels/{channel}/messages");
    for _ in 0..2 {
        let (status, headers, body) = api
            .call("POST", &path, Some(json!({"content": "hi"})))
            .await;
        assert_eq!(status, 429);
        assert!(
            body["retry_after"].as_f64().is_some_and(|r| r > 0.0),
            "{body}"
        );
        assert_eq!(body["global"], false);
        assert!(headers.contains_key("retry-after"));
        assert_eq!(headers["x-ratelimit-remaining"], "0");
    }
    let route = wait_for(&mut events, |e| match e {
        SimEvent::RateLimited { route } => Some(route.clone()),
        _ => None,
    })
    .await;
    assert!(route.starts_with("POST /api/v10/channels/"), "{route}");
    // Other routes are not limited, and the third post goes through.
    api.expect("GET", "/users/@me", None, 200).await;
    api.expect("POST", &path, Some(json!({"content": "hi"})), 200)
        .await;
    assert_eq!(
        sim.messages(channel).len(),
        1,
        "refused posts store nothing"
    );
}

#[tokio::test]
async fn requests_are_recorded_with_body_status_and_auth() {
    let sim = start().await;
    let api = Api::new(&sim);
    let channel = sim.default_channel();
    api.expect(
        "POST",
        &format!("/channels/{channel}/messages"),
        Some(json!({"content": "logged"})),
        200,
    )
    .await;
    api.call_with_auth("GET", "/users/@me", None).await;
    let requests = sim.requests();
    assert_eq!(requests.len(), 2);
    let post = &requests[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.path, format!("/api/v10/channels/{channel}/messages"));
    assert_eq!(post.body, Some(json!({"content": "logged"})));
    assert_eq!(post.status, 200);
    assert!(
        post.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "valid")
    );
    assert!(
        post.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/json"))
    );
    assert!(
        !post.headers.iter().any(|(_, v)| v.contains(sim.token())),
        "the token is never recorded"
    );
    assert_eq!(requests[1].status, 401);
    assert!(requests[0].at <= requests[1].at);
    sim.clear_requests();
    assert!(sim.requests().is_empty());

    // Whoever sees a BotMessage event finds its request already recorded.
    let mut events = sim.subscribe();
    let watcher = sim.clone();
    let check = tokio::spawn(async move {
        let mid = wait_for(&mut events, |e| match e {
            SimEvent::BotMessage { message_id, .. } => Some(*message_id),
            _ => None,
        })
        .await;
        watcher.requests().iter().any(|r| {
            r.response
                .as_ref()
                .is_some_and(|b| b["id"].as_str().and_then(|s| s.parse::<u64>().ok()) == Some(mid))
        })
    });
    api.expect(
        "POST",
        &format!("/channels/{channel}/messages"),
        Some(json!({"content": "ordered"})),
        200,
    )
    .await;
    assert!(
        check.await.expect("watcher"),
        "the request is recorded before its event is sent"
    );
}

#[tokio::test]
async fn interaction_callbacks_tie_responses_to_their_interaction() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut events = sim.subscribe();
    let guild = sim.default_guild();
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let first = sim
        .inject_slash(guild, channel, guest, "a", Value::Null)
        .await
        .expect("slash");
    let second = sim
        .inject_slash(guild, channel, guest, "b", Value::Null)
        .await
        .expect("slash");
    let token = |id: u64| {
        sim.interaction(id).expect("stored").0["token"]
            .as_str()
            .expect("token")
            .to_owned()
    };
    let (t1, t2) = (token(first), token(second));
    // Answer the second first.
    api.expect(
        "POST",
        &format!("/interactions/{second}/{t2}/callback"),
        Some(json!({"type": 4, "data": {"content": "two"}})),
        204,
    )
    .await;
    api.expect(
        "POST",
        &format!("/interactions/{first}/{t1}/callback"),
        Some(json!({"type": 4, "data": {"content": "one"}})),
        204,
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(
            wait_for(&mut events, |e| match e {
                SimEvent::InteractionResponse {
                    interaction_id,
                    kind: 4,
                    body,
                } => Some((*interaction_id, body["content"].clone())),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(seen, [(second, json!("two")), (first, json!("one"))]);
    assert_eq!(sim.interaction(first).expect("stored").1, Some(4));

    let body = api
        .expect(
            "POST",
            &format!("/interactions/{first}/{t1}/callback"),
            Some(json!({"type": 4, "data": {"content": "again"}})),
            400,
        )
        .await;
    assert_eq!(body["code"], 40060, "a second callback is refused");
    let body = api
        .expect(
            "POST",
            &format!("/interactions/{first}/wrong-token/callback"),
            Some(json!({"type": 4, "data": {"content": "x"}})),
            404,
        )
        .await;
    assert_eq!(body["code"], 10062);
    // A followup before any callback is refused, after it is accepted.
    let third = sim
        .inject_slash(guild, channel, guest, "c", Value::Null)
        .await
        .expect("slash");
    let t3 = token(third);
    let body = api
        .expect(
            "POST",
            &format!("/interactions/{third}/{t3}/callback"),
            Some(json!({"type": 42})),
            400,
        )
        .await;
    assert_eq!(body["code"], 50035, "an unknown callback type");
    let pong = sim
        .inject_slash(guild, channel, guest, "p", Value::Null)
        .await
        .expect("slash");
    let tp = token(pong);
    api.expect(
        "POST",
        &format!("/interactions/{pong}/{tp}/callback"),
        Some(json!({"type": 1})),
        204,
    )
    .await;
    assert_eq!(sim.interaction(pong).expect("stored").1, Some(1));
    let body = api
        .expect(
            "POST",
            &format!("/interactions/{pong}/{tp}/callback"),
            Some(json!({"type": 6})),
            400,
        )
        .await;
    assert_eq!(
        body["code"], 40060,
        "type 6 is for components only, and this one is answered"
    );
    let app = sim.application_id();
    api.expect(
        "POST",
        &format!("/webhooks/{app}/{t3}"),
        Some(json!({"content": "early"})),
        404,
    )
    .await;
    api.expect(
        "POST",
        &format!("/interactions/{third}/{t3}/callback"),
        Some(json!({"type": 5})),
        204,
    )
    .await;
    let msg = api
        .expect(
            "POST",
            &format!("/webhooks/{app}/{t3}"),
            Some(json!({"content": "late"})),
            200,
        )
        .await;
    assert_eq!(msg["webhook_id"], app.to_string());
    let edited = api
        .expect(
            "PATCH",
            &format!("/webhooks/{app}/{t3}/messages/@original"),
            Some(json!({"content": "done"})),
            200,
        )
        .await;
    assert_eq!(edited["content"], "done");
    assert_eq!(
        edited["flags"].as_u64().map(|f| f & 128),
        Some(0),
        "the edit ends the deferred state"
    );
    let original_edit = wait_for(&mut events, |e| match e {
        SimEvent::OriginalEdited {
            interaction_id,
            body,
            deleted: false,
        } if *interaction_id == third => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(original_edit["content"], "done");
}

#[tokio::test]
async fn role_and_channel_writes_change_the_world() {
    let sim = start().await;
    let api = Api::new(&sim);
    let guild = sim.default_guild();
    let guest = sim.guest().id;
    let role: Role = model(
        &api.expect(
            "POST",
            &format!("/guilds/{guild}/roles"),
            Some(json!({"name": "Backup", "permissions": "8192"})),
            200,
        )
        .await,
    );
    assert!(sim.roles(guild).iter().any(|r| r["name"] == "Backup"));
    api.expect(
        "PUT",
        &format!("/guilds/{guild}/members/{guest}/roles/{}", role.id),
        None,
        204,
    )
    .await;
    let member: Member = model(
        &api.expect(
            "GET",
            &format!("/guilds/{guild}/members/{guest}"),
            None,
            200,
        )
        .await,
    );
    assert_eq!(member.roles, [role.id]);
    api.expect(
        "DELETE",
        &format!("/guilds/{guild}/roles/{}", role.id),
        None,
        204,
    )
    .await;
    let member: Member = model(
        &api.expect(
            "GET",
            &format!("/guilds/{guild}/members/{guest}"),
            None,
            200,
        )
        .await,
    );
    assert!(member.roles.is_empty(), "a deleted role leaves its members");
    api.expect(
        "DELETE",
        &format!("/guilds/{guild}/roles/{guild}"),
        None,
        400,
    )
    .await;
    let channel: GuildChannel = model(
        &api.expect(
            "POST",
            &format!("/guilds/{guild}/channels"),
            Some(json!({"name": "logs"})),
            201,
        )
        .await,
    );
    assert!(sim.channels(guild).contains(&channel.id.get()));
    assert_eq!(sim.channel_name(channel.id.get()).as_deref(), Some("logs"));
}
