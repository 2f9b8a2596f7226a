//! Moderation routes over real HTTP: reactions, bulk delete, member edits, kicks and bans,
//! channel edits and permission overwrites, emojis, channel webhooks and DMs. For each: the
//! success case, the permission refusal (50013), a validation refusal (50035 with the field
//! path), the gateway event, and every answer checked against Discord's OpenAPI spec.

mod support;

use serde_json::{Value, json};
use serenity::all::{GuildChannel, Member, Message, Role, Webhook};
use support::{Api, RawGateway, assert_spec, start, wait_for};
use zoryx_sim::permissions as p;
use zoryx_sim::{SimEvent, Simulator};

/// GUILDS, GUILD_MEMBERS, GUILD_MODERATION, GUILD_EXPRESSIONS, GUILD_WEBHOOKS,
/// GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS, DIRECT_MESSAGES, DIRECT_MESSAGE_REACTIONS,
/// MESSAGE_CONTENT.
const INTENTS: u64 = 1 | 2 | 4 | 8 | 32 | (1 << 9) | (1 << 10) | (1 << 12) | (1 << 13) | (1 << 15);

fn model<T: serde::de::DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| {
        panic!(
            "serenity cannot parse {}: {e}\n{v}",
            std::any::type_name::<T>()
        )
    })
}

async fn gateway(sim: &Simulator, intents: u64) -> RawGateway {
    let mut gw = RawGateway::connect(sim).await;
    gw.login(sim, intents).await;
    gw
}

/// Takes the bot's ADMINISTRATOR away, leaving its role `perms` (on top of @everyone's).
fn demote_bot(sim: &Simulator, perms: u64) {
    let guild = sim.default_guild();
    let role = sim.bot_role(guild).expect("the bot has a role");
    sim.set_role_permissions(guild, role, perms)
        .expect("role permissions");
}

fn restore_bot(sim: &Simulator) {
    demote_bot(sim, p::ADMINISTRATOR);
}

const THUMBS: &str = "%F0%9F%91%8D";

#[tokio::test]
async fn reactions_are_stored_listed_removed_and_dispatched() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut events = sim.subscribe();
    let mut gw = gateway(&sim, INTENTS).await;
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let bot = sim.bot_user().id;
    let mid = sim
        .inject_message(channel, guest, "react to me")
        .await
        .expect("inject");
    let base = format!("/channels/{channel}/messages/{mid}/reactions");

    api.expect("PUT", &format!("{base}/{THUMBS}/@me"), None, 204)
        .await;
    let (_, add, _) = gw.dispatch("MESSAGE_REACTION_ADD").await;
    assert_eq!(add["user_id"], bot.to_string());
    assert_eq!(add["emoji"], json!({"id": null, "name": "👍"}));
    assert_eq!(
        add["member"]["user"]["id"],
        bot.to_string(),
        "ADD carries the member"
    );
    assert_eq!(add["message_author_id"], guest.to_string());
    let emoji = wait_for(&mut events, |e| match e {
        SimEvent::BotReactionAdded { emoji, .. } => Some(emoji.clone()),
        _ => None,
    })
    .await;
    assert_eq!(emoji, "👍");
    // Again: nothing new.
    api.expect("PUT", &format!("{base}/{THUMBS}/@me"), None, 204)
        .await;

    sim.inject_reaction(channel, mid, guest, "👍")
        .await
        .expect("guest reacts");
    let (_, add, _) = gw.dispatch("MESSAGE_REACTION_ADD").await;
    assert_eq!(add["user_id"], guest.to_string());
    let star = sim.add_emoji(sim.default_guild(), "star").expect("emoji");
    api.expect("PUT", &format!("{base}/star:{star}/@me"), None, 204)
        .await;

    let m: Message = model(
        &api.expect(
            "GET",
            &format!("/channels/{channel}/messages/{mid}"),
            None,
            200,
        )
        .await,
    );
    assert_eq!(m.reactions.len(), 2);
    assert_eq!(m.reactions[0].count, 2);
    assert!(m.reactions[0].me);
    let raw = api
        .expect(
            "GET",
            &format!("/channels/{channel}/messages/{mid}"),
            None,
            200,
        )
        .await;
    assert_eq!(
        raw["reactions"][0]["count_details"],
        json!({"burst": 0, "normal": 2})
    );
    assert_eq!(raw["reactions"][1]["emoji"]["id"], star.to_string());

    let users = api
        .expect("GET", &format!("{base}/{THUMBS}"), None, 200)
        .await;
    let ids: Vec<&str> = users
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    let mut expected = [bot.to_string(), guest.to_string()];
    expected.sort_by_key(|s| s.parse::<u64>().unwrap_or_default());
    assert_eq!(ids, expected);
    let first = api
        .expect("GET", &format!("{base}/{THUMBS}?limit=1"), None, 200)
        .await;
    assert_eq!(first.as_array().map(Vec::len), Some(1));
    let after = api
        .expect(
            "GET",
            &format!("{base}/{THUMBS}?after={}", expected[0]),
            None,
            200,
        )
        .await;
    assert_eq!(after[0]["id"], expected[1]);
    api.refused(
        "GET",
        &format!("{base}/{THUMBS}?limit=101"),
        None,
        400,
        50035,
        Some(("limit", "NUMBER_TYPE_MAX")),
    )
    .await;
    api.refused(
        "PUT",
        &format!("{base}/thumbsup/@me"),
        None,
        400,
        10014,
        None,
    )
    .await;
    api.refused(
        "PUT",
        &format!("{base}/nope:123/@me"),
        None,
        400,
        10014,
        None,
    )
    .await;

    api.expect("DELETE", &format!("{base}/{THUMBS}/@me"), None, 204)
        .await;
    let (_, removed, _) = gw.dispatch("MESSAGE_REACTION_REMOVE").await;
    assert_eq!(removed["user_id"], bot.to_string());
    api.expect("DELETE", &format!("{base}/{THUMBS}/{guest}"), None, 204)
        .await;
    let (who, user) = wait_for(&mut events, |e| match e {
        SimEvent::BotReactionRemoved { user_id, emoji, .. } if *user_id == guest => {
            Some((emoji.clone(), *user_id))
        }
        _ => None,
    })
    .await;
    assert_eq!((who.as_str(), user), ("👍", guest));
    let m = sim.message(mid).expect("stored");
    assert_eq!(m.payload["reactions"].as_array().map(Vec::len), Some(1));

    api.expect("DELETE", &format!("{base}/star:{star}"), None, 204)
        .await;
    let (_, gone, _) = gw.dispatch("MESSAGE_REACTION_REMOVE_EMOJI").await;
    assert_eq!(gone["emoji"]["name"], "star");
    sim.inject_reaction(channel, mid, guest, "🎉")
        .await
        .expect("guest reacts");
    api.expect("DELETE", &base, None, 204).await;
    gw.dispatch("MESSAGE_REACTION_REMOVE_ALL").await;
    assert!(
        sim.message(mid)
            .expect("stored")
            .payload
            .get("reactions")
            .is_none()
    );

    // Without ADD_REACTIONS the bot can only join a reaction already on the message; without
    // MANAGE_MESSAGES it cannot remove others'.
    sim.inject_reaction(channel, mid, guest, "🎉")
        .await
        .expect("guest reacts");
    sim.set_role_permissions(
        sim.default_guild(),
        sim.default_guild(),
        p::VIEW_CHANNEL | p::READ_MESSAGE_HISTORY,
    )
    .expect("@everyone");
    demote_bot(&sim, 0);
    api.refused(
        "PUT",
        &format!("{base}/{THUMBS}/@me"),
        None,
        403,
        50013,
        None,
    )
    .await;
    api.expect("PUT", &format!("{base}/%F0%9F%8E%89/@me"), None, 204)
        .await;
    api.refused(
        "DELETE",
        &format!("{base}/%F0%9F%8E%89/{guest}"),
        None,
        403,
        50013,
        None,
    )
    .await;
    api.refused("DELETE", &base, None, 403, 50013, None).await;
    sim.inject_unreaction(channel, mid, guest, "🎉")
        .await
        .expect("guest takes it back");
    let (_, removed, _) = gw.dispatch("MESSAGE_REACTION_REMOVE").await;
    assert_eq!(removed["user_id"], guest.to_string());
    assert_spec(&sim, "the reaction routes' OpenAPI check");
}

#[tokio::test]
async fn bulk_delete_checks_count_age_duplicates_and_permission() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut events = sim.subscribe();
    let mut gw = gateway(&sim, INTENTS).await;
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            sim.inject_message(channel, guest, &format!("spam {i}"))
                .await
                .expect("inject"),
        );
    }
    let path = format!("/channels/{channel}/messages/bulk-delete");
    let s = |v: &[u64]| json!({"messages": v.iter().map(u64::to_string).collect::<Vec<_>>()});
    api.refused(
        "POST",
        &path,
        Some(s(&ids[..1])),
        400,
        50035,
        Some(("messages", "BASE_TYPE_MIN_LENGTH")),
    )
    .await;
    let many: Vec<u64> = (0..101).map(|i| ids[0] + i).collect();
    api.refused(
        "POST",
        &path,
        Some(s(&many)),
        400,
        50035,
        Some(("messages", "BASE_TYPE_MAX_LENGTH")),
    )
    .await;
    api.refused(
        "POST",
        &path,
        Some(s(&[ids[0], ids[1], ids[0]])),
        400,
        50035,
        Some(("messages.2", "SET_TYPE_ALREADY_CONTAINS_VALUE")),
    )
    .await;
    // The default world's ids date from 2025-01-01: far older than 14 days.
    let old = sim.default_guild();
    let body = api
        .refused("POST", &path, Some(s(&[ids[0], old])), 400, 50034, None)
        .await;
    assert_eq!(
        body["message"],
        "You can only bulk delete messages that are under 14 days old."
    );
    demote_bot(&sim, 0);
    api.refused("POST", &path, Some(s(&ids[..2])), 403, 50013, None)
        .await;
    // Others' messages need MANAGE_MESSAGES one by one too; the bot's own do not.
    api.refused(
        "DELETE",
        &format!("/channels/{channel}/messages/{}", ids[2]),
        None,
        403,
        50013,
        None,
    )
    .await;
    let own = api
        .expect(
            "POST",
            &format!("/channels/{channel}/messages"),
            Some(json!({"content": "mine"})),
            200,
        )
        .await;
    api.expect(
        "DELETE",
        &format!(
            "/channels/{channel}/messages/{}",
            own["id"].as_str().expect("id")
        ),
        None,
        204,
    )
    .await;
    demote_bot(&sim, p::MANAGE_MESSAGES);
    api.expect("POST", &path, Some(s(&ids[..2])), 204).await;
    let (_, bulk, _) = gw.dispatch("MESSAGE_DELETE_BULK").await;
    assert_eq!(bulk["ids"], json!([ids[0].to_string(), ids[1].to_string()]));
    assert_eq!(bulk["guild_id"], sim.default_guild().to_string());
    let deleted = wait_for(&mut events, |e| match e {
        SimEvent::MessagesBulkDeleted { message_ids, .. } => Some(message_ids.clone()),
        _ => None,
    })
    .await;
    assert_eq!(deleted, ids[..2]);
    assert_eq!(sim.messages(channel).len(), 1);
    assert_spec(&sim, "the bulk delete route's OpenAPI check");
}

#[tokio::test]
async fn member_edits_follow_permissions_and_the_role_hierarchy() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut events = sim.subscribe();
    let mut gw = gateway(&sim, INTENTS).await;
    let guild = sim.default_guild();
    let guest = sim.guest().id;
    let owner = sim.owner().id;
    let members = format!("/guilds/{guild}/members");

    let m: Member = model(
        &api.expect(
            "PATCH",
            &format!("{members}/{guest}"),
            Some(json!({"nick": "Guesty"})),
            200,
        )
        .await,
    );
    assert_eq!(m.nick.as_deref(), Some("Guesty"));
    let (_, update, _) = gw.dispatch("GUILD_MEMBER_UPDATE").await;
    assert_eq!(update["nick"], "Guesty");
    let body = wait_for(&mut events, |e| match e {
        SimEvent::MemberUpdated { user_id, body, .. } if *user_id == guest => Some(body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(body["nick"], "Guesty");
    api.refused(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"nick": "x".repeat(33)})),
        400,
        50035,
        Some(("nick", "BASE_TYPE_MAX_LENGTH")),
    )
    .await;
    api.refused(
        "PATCH",
        &format!("{members}/{owner}"),
        Some(json!({"nick": "boss"})),
        403,
        50013,
        None,
    )
    .await;
    let me = api
        .expect(
            "PATCH",
            &format!("{members}/@me"),
            Some(json!({"nick": "Zory"})),
            200,
        )
        .await;
    assert_eq!(me["nick"], "Zory");
    let (_, update, _) = gw.dispatch("GUILD_MEMBER_UPDATE").await;
    assert_eq!(update["user"]["id"], sim.bot_user().id.to_string());

    // Timeouts: at most 28 days ahead, never on the owner or an administrator.
    let in_an_hour = iso(now_ms() + 3_600_000);
    let m = api
        .expect(
            "PATCH",
            &format!("{members}/{guest}"),
            Some(json!({"communication_disabled_until": in_an_hour})),
            200,
        )
        .await;
    assert!(m["communication_disabled_until"].is_string(), "{m}");
    let (_, update, _) = gw.dispatch("GUILD_MEMBER_UPDATE").await;
    assert!(update["communication_disabled_until"].is_string());
    api.refused(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"communication_disabled_until": iso(now_ms() + 29 * 86_400_000)})),
        400,
        50035,
        Some((
            "communication_disabled_until",
            "INVALID_COMMUNICATION_DISABLED_TIMESTAMP",
        )),
    )
    .await;
    api.refused(
        "PATCH",
        &format!("{members}/{owner}"),
        Some(json!({"communication_disabled_until": in_an_hour})),
        403,
        50013,
        None,
    )
    .await;
    let admin_role = role_named(&sim, "Admin");
    let moderator = role_named(&sim, "Moderator");
    let helper = sim.add_user("helper");
    sim.add_member(guild, helper.id).expect("member");
    api.expect(
        "PATCH",
        &format!("{members}/{}", helper.id),
        Some(json!({"roles": [admin_role.to_string()]})),
        200,
    )
    .await;
    api.refused(
        "PATCH",
        &format!("{members}/{}", helper.id),
        Some(json!({"communication_disabled_until": in_an_hour})),
        403,
        50013,
        None,
    )
    .await;
    api.expect(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"communication_disabled_until": null, "roles": [moderator.to_string()]})),
        200,
    )
    .await;
    assert_eq!(
        sim.member(guild, guest).expect("member")["roles"],
        json!([moderator.to_string()])
    );
    api.refused(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"mute": true})),
        400,
        40032,
        None,
    )
    .await;

    // Role order: the bot cannot move or assign roles at or above its own.
    let roles = format!("/guilds/{guild}/roles");
    let list: Vec<Role> = model(
        &api.expect(
            "PATCH",
            &roles,
            Some(json!([{"id": moderator.to_string(), "position": 2}])),
            200,
        )
        .await,
    );
    let pos = |id: u64| list.iter().find(|r| r.id.get() == id).map(|r| r.position);
    assert_eq!((pos(moderator), pos(admin_role)), (Some(2), Some(1)));
    let bot_role = sim.bot_role(guild).expect("bot role");
    api.refused(
        "PATCH",
        &roles,
        Some(json!([{"id": moderator.to_string(), "position": 3}])),
        403,
        50013,
        None,
    )
    .await;
    sim.set_role_position(guild, admin_role, 3)
        .expect("move Admin to the top");
    api.refused(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"roles": [admin_role.to_string()]})),
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "PUT",
        &format!("{members}/{guest}/roles/{admin_role}"),
        None,
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "PATCH",
        &format!("{roles}/{admin_role}"),
        Some(json!({"name": "x"})),
        403,
        50013,
        None,
    )
    .await;
    // helper now outranks the bot: no nick, no kick.
    api.refused(
        "PATCH",
        &format!("{members}/{}", helper.id),
        Some(json!({"nick": "h"})),
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "DELETE",
        &format!("{members}/{}", helper.id),
        None,
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "DELETE",
        &format!("{members}/{owner}"),
        None,
        403,
        50013,
        None,
    )
    .await;
    let _ = bot_role;

    // Kick.
    demote_bot(&sim, p::MANAGE_NICKNAMES);
    api.refused(
        "DELETE",
        &format!("{members}/{guest}"),
        None,
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "PATCH",
        &format!("{members}/{guest}"),
        Some(json!({"roles": []})),
        403,
        50013,
        None,
    )
    .await;
    demote_bot(&sim, p::KICK_MEMBERS);
    let (status, _) = api
        .call_headers(
            "DELETE",
            &format!("{members}/{guest}"),
            None,
            &[("X-Audit-Log-Reason", "too%20loud")],
            true,
        )
        .await;
    assert_eq!(status, 204);
    let (_, removed, _) = gw.dispatch("GUILD_MEMBER_REMOVE").await;
    assert_eq!(removed["user"]["id"], guest.to_string());
    let reason = wait_for(&mut events, |e| match e {
        SimEvent::MemberKicked {
            user_id, reason, ..
        } if *user_id == guest => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason.as_deref(), Some("too loud"));
    assert!(!sim.members(guild).contains(&guest));
    api.refused(
        "DELETE",
        &format!("{members}/{guest}"),
        None,
        404,
        10007,
        None,
    )
    .await;
    assert_spec(&sim, "the member routes' OpenAPI check");
}

#[tokio::test]
async fn bans_remove_the_member_and_keep_them_out() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut events = sim.subscribe();
    let mut gw = gateway(&sim, INTENTS).await;
    let guild = sim.default_guild();
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let owner = sim.owner().id;
    let bans = format!("/guilds/{guild}/bans");
    sim.inject_message(channel, guest, "bad words")
        .await
        .expect("inject");
    let kept = sim
        .inject_message(channel, owner, "fine words")
        .await
        .expect("inject");

    api.refused(
        "PUT",
        &format!("{bans}/{guest}"),
        Some(json!({"delete_message_seconds": 604_801})),
        400,
        50035,
        Some(("delete_message_seconds", "NUMBER_TYPE_MAX")),
    )
    .await;
    api.refused(
        "PUT",
        &format!("{bans}/{owner}"),
        Some(json!({})),
        403,
        50013,
        None,
    )
    .await;
    demote_bot(&sim, p::KICK_MEMBERS);
    api.refused(
        "PUT",
        &format!("{bans}/{guest}"),
        Some(json!({})),
        403,
        50013,
        None,
    )
    .await;
    api.refused("GET", &bans, None, 403, 50013, None).await;
    demote_bot(&sim, p::BAN_MEMBERS);
    let (status, _) = api
        .call_headers(
            "PUT",
            &format!("{bans}/{guest}"),
            Some(json!({"delete_message_seconds": 3600})),
            &[("X-Audit-Log-Reason", "spam")],
            true,
        )
        .await;
    assert_eq!(status, 204);
    gw.dispatch("GUILD_MEMBER_REMOVE").await;
    let (_, bulk, _) = gw.dispatch("MESSAGE_DELETE_BULK").await;
    assert_eq!(bulk["ids"].as_array().map(Vec::len), Some(1));
    let (_, ban, _) = gw.dispatch("GUILD_BAN_ADD").await;
    assert_eq!(ban["user"]["id"], guest.to_string());
    let seconds = wait_for(&mut events, |e| match e {
        SimEvent::MemberBanned {
            user_id,
            delete_message_seconds,
            ..
        } if *user_id == guest => Some(*delete_message_seconds),
        _ => None,
    })
    .await;
    assert_eq!(seconds, 3600);
    assert_eq!(
        sim.messages(channel)
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        [kept],
        "the banned user's recent messages are gone"
    );
    assert!(!sim.members(guild).contains(&guest));
    assert_eq!(sim.bans(guild), [guest]);
    assert!(
        sim.add_member(guild, guest).is_err(),
        "a banned user stays out"
    );

    let list = api
        .expect("GET", &format!("{bans}?limit=10"), None, 200)
        .await;
    assert_eq!(list[0]["user"]["id"], guest.to_string());
    assert_eq!(list[0]["reason"], "spam");
    api.refused(
        "GET",
        &format!("{bans}?limit=1001"),
        None,
        400,
        50035,
        Some(("limit", "NUMBER_TYPE_MAX")),
    )
    .await;
    let one = api
        .expect("GET", &format!("{bans}/{guest}"), None, 200)
        .await;
    assert_eq!(one["user"]["id"], guest.to_string());
    let after = api
        .expect("GET", &format!("{bans}?after={guest}"), None, 200)
        .await;
    assert_eq!(after, json!([]));

    api.expect("DELETE", &format!("{bans}/{guest}"), None, 204)
        .await;
    let (_, unban, _) = gw.dispatch("GUILD_BAN_REMOVE").await;
    assert_eq!(unban["user"]["id"], guest.to_string());
    wait_for(&mut events, |e| match e {
        SimEvent::MemberUnbanned { user_id, .. } if *user_id == guest => Some(()),
        _ => None,
    })
    .await;
    api.refused("DELETE", &format!("{bans}/{guest}"), None, 404, 10026, None)
        .await;
    api.refused("GET", &format!("{bans}/{guest}"), None, 404, 10026, None)
        .await;
    sim.add_member(guild, guest)
        .expect("unbanned users may come back");
    assert_spec(&sim, "the ban routes' OpenAPI check");
}

#[tokio::test]
async fn channel_edits_categories_and_overwrites_shape_what_the_bot_may_do() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut gw = gateway(&sim, INTENTS).await;
    let guild = sim.default_guild();
    let channel = sim.commands_channel();
    let path = format!("/channels/{channel}");

    let c: GuildChannel = model(
        &api.expect(
            "PATCH",
            &path,
            Some(json!({"name": "bots", "topic": "Commands here", "rate_limit_per_user": 5, "nsfw": false})),
            200,
        )
        .await,
    );
    assert_eq!((c.name.as_str(), c.rate_limit_per_user), ("bots", Some(5)));
    let (_, update, _) = gw.dispatch("CHANNEL_UPDATE").await;
    assert_eq!(update["topic"], "Commands here");
    api.refused(
        "PATCH",
        &path,
        Some(json!({"name": ""})),
        400,
        50035,
        Some(("name", "BASE_TYPE_BAD_LENGTH")),
    )
    .await;
    api.refused(
        "PATCH",
        &path,
        Some(json!({"topic": "t".repeat(1025)})),
        400,
        50035,
        Some(("topic", "BASE_TYPE_MAX_LENGTH")),
    )
    .await;
    api.refused(
        "PATCH",
        &path,
        Some(json!({"rate_limit_per_user": 21601})),
        400,
        50035,
        Some(("rate_limit_per_user", "NUMBER_TYPE_MAX")),
    )
    .await;

    // Categories.
    let category = api
        .expect(
            "POST",
            &format!("/guilds/{guild}/channels"),
            Some(json!({"name": "Staff", "type": 4})),
            201,
        )
        .await;
    assert_eq!(category["type"], 4);
    let cat_id = category["id"].as_str().expect("id").to_owned();
    api.expect(
        "PUT",
        &format!("/channels/{cat_id}/permissions/{guild}"),
        Some(json!({"type": 0, "allow": 0, "deny": p::VIEW_CHANNEL})),
        204,
    )
    .await;
    let inside: GuildChannel = model(
        &api.expect(
            "POST",
            &format!("/guilds/{guild}/channels"),
            Some(json!({"name": "staff-chat", "parent_id": cat_id})),
            201,
        )
        .await,
    );
    assert_eq!(
        inside.parent_id.map(|p| p.get().to_string()),
        Some(cat_id.clone())
    );
    assert_eq!(
        inside.permission_overwrites.len(),
        1,
        "synced with its category"
    );
    api.refused(
        "POST",
        &format!("/guilds/{guild}/channels"),
        Some(json!({"name": "x", "parent_id": channel.to_string()})),
        400,
        50035,
        Some(("parent_id", "CHANNEL_PARENT_INVALID_TYPE")),
    )
    .await;
    api.refused(
        "POST",
        &format!("/channels/{cat_id}/messages"),
        Some(json!({"content": "hi"})),
        400,
        50008,
        None,
    )
    .await;
    api.expect("PATCH", &path, Some(json!({"parent_id": cat_id})), 200)
        .await;

    // Overwrites: @everyone may not talk in #bots; the bot, without ADMINISTRATOR, neither…
    api.expect(
        "PUT",
        &format!("{path}/permissions/{guild}"),
        Some(json!({"type": 0, "deny": p::SEND_MESSAGES})),
        204,
    )
    .await;
    gw.dispatch("CHANNEL_UPDATE").await;
    demote_bot(&sim, p::MANAGE_ROLES | p::MANAGE_CHANNELS);
    let say = json!({"content": "hello"});
    api.refused(
        "POST",
        &format!("{path}/messages"),
        Some(say.clone()),
        403,
        50013,
        None,
    )
    .await;
    // …nor can it allow itself what it does not have.
    let bot = sim.bot_user().id;
    api.refused(
        "PUT",
        &format!("{path}/permissions/{bot}"),
        Some(json!({"type": 1, "allow": p::SEND_MESSAGES})),
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "PUT",
        &format!("{path}/permissions/{bot}"),
        Some(json!({"allow": p::VIEW_CHANNEL})),
        400,
        50035,
        Some(("type", "BASE_TYPE_REQUIRED")),
    )
    .await;
    // A member overwrite beats the @everyone one.
    restore_bot(&sim);
    api.expect(
        "PUT",
        &format!("{path}/permissions/{bot}"),
        Some(json!({"type": 1, "allow": p::SEND_MESSAGES})),
        204,
    )
    .await;
    demote_bot(&sim, p::MANAGE_ROLES | p::MANAGE_CHANNELS);
    api.expect("POST", &format!("{path}/messages"), Some(say.clone()), 200)
        .await;
    // A role overwrite hiding the channel: Missing Access.
    let bot_role = sim.bot_role(guild).expect("bot role");
    restore_bot(&sim);
    api.expect(
        "PUT",
        &format!("{path}/permissions/{bot_role}"),
        Some(json!({"type": 0, "deny": p::VIEW_CHANNEL})),
        204,
    )
    .await;
    demote_bot(&sim, p::MANAGE_ROLES | p::MANAGE_CHANNELS);
    api.refused("GET", &path, None, 403, 50001, None).await;
    restore_bot(&sim);
    api.expect(
        "DELETE",
        &format!("{path}/permissions/{bot_role}"),
        None,
        204,
    )
    .await;
    api.refused(
        "DELETE",
        &format!("{path}/permissions/{bot_role}"),
        None,
        404,
        10009,
        None,
    )
    .await;
    let overwrites = sim.channel(channel).expect("channel")["permission_overwrites"].clone();
    assert_eq!(overwrites.as_array().map(Vec::len), Some(2), "{overwrites}");

    demote_bot(&sim, 0);
    api.refused(
        "PATCH",
        &path,
        Some(json!({"name": "nope"})),
        403,
        50013,
        None,
    )
    .await;
    api.refused("DELETE", &path, None, 403, 50013, None).await;
    restore_bot(&sim);
    let deleted = api
        .expect("DELETE", &format!("/channels/{cat_id}"), None, 200)
        .await;
    assert_eq!(deleted["id"], cat_id);
    let (_, gone, _) = gw.dispatch("CHANNEL_DELETE").await;
    assert_eq!(gone["id"], cat_id);
    assert_eq!(
        sim.channel(channel).expect("kept")["parent_id"],
        Value::Null
    );
    api.refused(
        "GET",
        &format!("/channels/{cat_id}"),
        None,
        404,
        10003,
        None,
    )
    .await;
    assert_spec(&sim, "the channel routes' OpenAPI check");
}

#[tokio::test]
async fn emojis_and_channel_webhooks() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut events = sim.subscribe();
    let mut gw = gateway(&sim, INTENTS).await;
    let guild = sim.default_guild();
    let channel = sim.default_channel();

    let id = sim.add_emoji(guild, "party").expect("emoji");
    let (_, update, _) = gw.dispatch("GUILD_EMOJIS_UPDATE").await;
    assert_eq!(update["emojis"][0]["id"], id.to_string());
    let emojis = api
        .expect("GET", &format!("/guilds/{guild}/emojis"), None, 200)
        .await;
    assert_eq!(emojis[0]["name"], "party");
    let g = api
        .expect("GET", &format!("/guilds/{guild}"), None, 200)
        .await;
    assert_eq!(g["emojis"][0]["id"], id.to_string());

    let hooks = format!("/channels/{channel}/webhooks");
    api.refused(
        "POST",
        &hooks,
        Some(json!({"name": "Clyde's twin"})),
        400,
        50035,
        Some(("name", "USERNAME_INVALID_CONTAINS")),
    )
    .await;
    api.refused(
        "POST",
        &hooks,
        Some(json!({"name": "x".repeat(81)})),
        400,
        50035,
        Some(("name", "BASE_TYPE_BAD_LENGTH")),
    )
    .await;
    let raw = api
        .expect("POST", &hooks, Some(json!({"name": "relay"})), 200)
        .await;
    let hook: Webhook = model(&raw);
    assert_eq!(hook.name.as_deref(), Some("relay"));
    gw.dispatch("WEBHOOKS_UPDATE").await;
    let token = raw["token"].as_str().expect("token").to_owned();
    let listed = api.expect("GET", &hooks, None, 200).await;
    assert_eq!(listed[0]["id"], hook.id.to_string());

    // Executing needs no bot token: the webhook's own authenticates.
    let exec = format!("/webhooks/{}/{token}", hook.id);
    let (status, message) = api
        .call_headers(
            "POST",
            &format!("{exec}?wait=true"),
            Some(json!({"content": "relayed", "username": "bridge"})),
            &[],
            false,
        )
        .await;
    assert_eq!(status, 200, "{message}");
    let m: Message = model(&message);
    assert_eq!(m.webhook_id.map(|w| w.get()), Some(hook.id.get()));
    assert_eq!(m.author.name, "bridge");
    let (_, created, _) = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(created["webhook_id"], hook.id.to_string());
    let posted = wait_for(&mut events, |e| match e {
        SimEvent::WebhookMessage { message_id, .. } => Some(*message_id),
        _ => None,
    })
    .await;
    assert_eq!(
        posted.to_string(),
        message["id"].as_str().unwrap_or_default()
    );
    let (status, _) = api
        .call_headers("POST", &exec, Some(json!({"content": "quiet"})), &[], false)
        .await;
    assert_eq!(status, 204);
    assert_eq!(sim.messages(channel).len(), 2);
    let (status, body) = api
        .call_headers(
            "POST",
            &exec,
            Some(json!({"content": "x", "username": "discord fan"})),
            &[],
            false,
        )
        .await;
    assert_eq!((status, &body["code"]), (400, &json!(50035)));
    assert_eq!(
        body["errors"]["username"]["_errors"][0]["code"],
        "USERNAME_INVALID_CONTAINS"
    );
    let (status, body) = api
        .call_headers("POST", &exec, Some(json!({"content": ""})), &[], false)
        .await;
    assert_eq!((status, &body["code"]), (400, &json!(50006)));
    let (status, body) = api
        .call_headers(
            "POST",
            &format!("/webhooks/{}/wrong", hook.id),
            Some(json!({"content": "x"})),
            &[],
            false,
        )
        .await;
    assert_eq!((status, &body["code"]), (401, &json!(50027)));

    demote_bot(&sim, 0);
    api.refused(
        "POST",
        &hooks,
        Some(json!({"name": "relay2"})),
        403,
        50013,
        None,
    )
    .await;
    api.refused("GET", &hooks, None, 403, 50013, None).await;
    api.refused(
        "DELETE",
        &format!("/webhooks/{}", hook.id),
        None,
        403,
        50013,
        None,
    )
    .await;
    demote_bot(&sim, p::MANAGE_WEBHOOKS);
    api.expect("DELETE", &format!("/webhooks/{}", hook.id), None, 204)
        .await;
    api.refused(
        "DELETE",
        &format!("/webhooks/{}", hook.id),
        None,
        404,
        10015,
        None,
    )
    .await;
    let (status, body) = api
        .call_headers("POST", &exec, Some(json!({"content": "x"})), &[], false)
        .await;
    assert_eq!((status, &body["code"]), (404, &json!(10015)));
    assert_spec(&sim, "the webhook and emoji routes' OpenAPI check");
}

#[tokio::test]
async fn dms_open_close_and_refuse_what_discord_refuses() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut gw = gateway(&sim, INTENTS).await;
    let guest = sim.guest().id;
    let dm = api
        .expect(
            "POST",
            "/users/@me/channels",
            Some(json!({"recipient_id": guest.to_string()})),
            200,
        )
        .await;
    let dm_id = dm["id"].as_str().expect("id").to_owned();
    let say = json!({"content": "hi"});
    api.expect(
        "POST",
        &format!("/channels/{dm_id}/messages"),
        Some(say.clone()),
        200,
    )
    .await;
    sim.close_dms(guest).expect("close");
    let body = api
        .refused(
            "POST",
            &format!("/channels/{dm_id}/messages"),
            Some(say.clone()),
            403,
            50007,
            None,
        )
        .await;
    assert_eq!(body["message"], "Cannot send messages to this user");
    sim.open_dms(guest).expect("open");
    api.expect(
        "POST",
        &format!("/channels/{dm_id}/messages"),
        Some(say.clone()),
        200,
    )
    .await;
    api.refused(
        "POST",
        "/users/@me/channels",
        Some(json!({})),
        400,
        50035,
        Some(("recipient_id", "BASE_TYPE_REQUIRED")),
    )
    .await;
    let other = sim.add_bot_user("other-bot");
    let bot_dm = api
        .expect(
            "POST",
            "/users/@me/channels",
            Some(json!({"recipient_id": other.id.to_string()})),
            200,
        )
        .await;
    api.refused(
        "POST",
        &format!("/channels/{}/messages", bot_dm["id"].as_str().expect("id")),
        Some(say),
        403,
        50007,
        None,
    )
    .await;

    // In a DM: reactions with DIRECT_MESSAGE_REACTIONS, others' messages stay.
    let (channel, mid) = sim.inject_dm(guest, "hello bot").await.expect("dm");
    api.expect(
        "PUT",
        &format!("/channels/{channel}/messages/{mid}/reactions/{THUMBS}/@me"),
        None,
        204,
    )
    .await;
    let (_, add, _) = gw.dispatch("MESSAGE_REACTION_ADD").await;
    assert!(
        add.get("guild_id").is_none() && add.get("member").is_none(),
        "{add}"
    );
    api.refused(
        "DELETE",
        &format!("/channels/{channel}/messages/{mid}"),
        None,
        403,
        50003,
        None,
    )
    .await;
    api.refused(
        "DELETE",
        &format!("/channels/{channel}/messages/{mid}/reactions"),
        None,
        403,
        50003,
        None,
    )
    .await;
    assert_spec(&sim, "the DM routes' OpenAPI check");
}

#[tokio::test]
async fn reaction_events_need_their_intent() {
    let sim = start().await;
    let api = Api::new(&sim);
    // GUILDS | GUILD_MESSAGES only: no reaction events.
    let mut gw = gateway(&sim, 1 | (1 << 9)).await;
    let channel = sim.default_channel();
    let mid = sim
        .inject_message(channel, sim.guest().id, "x")
        .await
        .expect("inject");
    gw.dispatch("MESSAGE_CREATE").await;
    api.expect(
        "PUT",
        &format!("/channels/{channel}/messages/{mid}/reactions/{THUMBS}/@me"),
        None,
        204,
    )
    .await;
    api.expect(
        "POST",
        &format!("/channels/{channel}/messages"),
        Some(json!({"content": "after"})),
        200,
    )
    .await;
    let names = gw.drain(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        names,
        ["MESSAGE_CREATE"],
        "the reaction was not sent: {names:?}"
    );
}

fn role_named(sim: &Simulator, name: &str) -> u64 {
    sim.roles(sim.default_guild())
        .iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["id"].as_str()?.parse().ok())
        .expect("role")
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn iso(ms: u64) -> String {
    zoryx_sim::snowflake::iso8601(ms)
}
