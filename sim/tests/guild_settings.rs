//! `PATCH /guilds/{g}` (the guild's settings, checked as Discord checks them, GUILD_UPDATE)
//! and role deletion taking the role from members and channel overwrites.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use serenity::all::PartialGuild;
use support::{Api, RawGateway, assert_spec, start};
use zoryx_sim::permissions as p;
use zoryx_sim::world::GuildSettings;

/// GUILDS | GUILD_MEMBERS.
const INTENTS: u64 = 1 | 2;

fn id_of(v: &Value) -> u64 {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a snowflake id")
}

#[tokio::test]
async fn guild_settings_are_stored_reported_and_dispatched() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, INTENTS).await;
    let guild = sim.default_guild();
    let general = sim.default_channel();
    let path = format!("/guilds/{guild}");

    // Defaults, as the guild object always reported them.
    let before = api.expect("GET", &path, None, 200).await;
    assert_eq!(before["afk_timeout"], 300);
    assert_eq!(before["afk_channel_id"], Value::Null);
    assert_eq!(before["system_channel_id"], general.to_string());
    assert_eq!(before["preferred_locale"], "en-US");
    assert_eq!(before["description"], Value::Null);
    assert_eq!(
        sim.guild_settings(guild),
        Some(GuildSettings {
            system_channel_id: Some(general),
            ..GuildSettings::default()
        })
    );

    let voice = sim.add_voice_channel(guild, "AFK").expect("voice");
    let news = sim.add_channel(guild, "news").expect("text");
    gw.drain(Duration::from_millis(200)).await;
    let answer = api
        .expect(
            "PATCH",
            &path,
            Some(json!({
                "name": "Renamed Sandbox",
                "description": "A place to test",
                "verification_level": 2,
                "default_message_notifications": 1,
                "explicit_content_filter": 2,
                "afk_channel_id": voice.to_string(),
                "afk_timeout": 900,
                "system_channel_id": news.to_string(),
                "system_channel_flags": 5,
                "preferred_locale": "de",
            })),
            200,
        )
        .await;
    let parsed: PartialGuild = serde_json::from_value(answer.clone()).expect("serenity parses it");
    assert_eq!(parsed.name, "Renamed Sandbox");
    assert_eq!(answer["description"], "A place to test");
    assert_eq!(answer["verification_level"], 2);
    assert_eq!(answer["default_message_notifications"], 1);
    assert_eq!(answer["explicit_content_filter"], 2);
    assert_eq!(answer["afk_channel_id"], voice.to_string());
    assert_eq!(answer["afk_timeout"], 900);
    assert_eq!(answer["system_channel_id"], news.to_string());
    assert_eq!(answer["system_channel_flags"], 5);
    assert_eq!(answer["preferred_locale"], "de");
    let (_, update, _) = gw.dispatch("GUILD_UPDATE").await;
    assert_eq!(update, answer, "GUILD_UPDATE carries the guild object");
    assert_eq!(sim.guild_name(guild).as_deref(), Some("Renamed Sandbox"));
    let settings = sim.guild_settings(guild).expect("settings");
    assert_eq!(settings.afk_channel_id, Some(voice));
    assert_eq!(settings.system_channel_id, Some(news));
    assert_eq!(settings.preferred_locale, "de");
    assert_eq!(sim.guild(guild).expect("guild"), answer);
    assert_eq!(api.expect("GET", &path, None, 200).await, answer);

    // The same values again: answered, no GUILD_UPDATE.
    api.expect("PATCH", &path, Some(json!({"afk_timeout": 900})), 200)
        .await;
    let names = gw.drain(Duration::from_millis(300)).await;
    assert!(!names.contains(&"GUILD_UPDATE".to_owned()), "{names:?}");

    // Nulls clear the nullable ones; an empty description is none.
    let answer = api
        .expect(
            "PATCH",
            &path,
            Some(json!({"afk_channel_id": null, "system_channel_id": null, "description": ""})),
            200,
        )
        .await;
    assert_eq!(answer["afk_channel_id"], Value::Null);
    assert_eq!(answer["system_channel_id"], Value::Null);
    assert_eq!(answer["description"], Value::Null);
    gw.dispatch("GUILD_UPDATE").await;

    // Deleting the system or AFK channel unsets it.
    api.expect(
        "PATCH",
        &path,
        Some(json!({"afk_channel_id": voice.to_string(), "system_channel_id": news.to_string()})),
        200,
    )
    .await;
    sim.remove_channel(news).expect("deleted");
    api.expect("DELETE", &format!("/channels/{voice}"), None, 200)
        .await;
    let settings = sim.guild_settings(guild).expect("settings");
    assert_eq!(settings.system_channel_id, None);
    assert_eq!(settings.afk_channel_id, None);
    assert_spec(&sim, "the guild settings");
    sim.shutdown().await;
}

#[tokio::test]
async fn guild_settings_are_refused_as_discord_refuses_them() {
    let sim = start().await;
    let api = Api::new(&sim);
    let guild = sim.default_guild();
    let general = sim.default_channel();
    let path = format!("/guilds/{guild}");
    let voice = sim.add_voice_channel(guild, "AFK").expect("voice");
    let elsewhere = sim.add_guild("Elsewhere");
    let foreign = sim.channels(elsewhere)[0];

    for (body, field, code) in [
        (json!({"name": "x"}), "name", "BASE_TYPE_BAD_LENGTH"),
        (
            json!({"name": "x".repeat(101)}),
            "name",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (json!({"name": 5}), "name", "BASE_TYPE_STRING"),
        (
            json!({"description": "d".repeat(301)}),
            "description",
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            json!({"verification_level": 5}),
            "verification_level",
            "BASE_TYPE_CHOICES",
        ),
        (
            json!({"verification_level": "high"}),
            "verification_level",
            "NUMBER_TYPE_COERCE",
        ),
        (
            json!({"default_message_notifications": 2}),
            "default_message_notifications",
            "BASE_TYPE_CHOICES",
        ),
        (
            json!({"explicit_content_filter": -1}),
            "explicit_content_filter",
            "BASE_TYPE_CHOICES",
        ),
        (
            json!({"afk_timeout": 100}),
            "afk_timeout",
            "BASE_TYPE_CHOICES",
        ),
        (
            json!({"afk_channel_id": general.to_string()}),
            "afk_channel_id",
            "CHANNEL_INVALID_TYPE",
        ),
        (
            json!({"afk_channel_id": foreign.to_string()}),
            "afk_channel_id",
            "CHANNEL_INVALID",
        ),
        (
            json!({"afk_channel_id": "abc"}),
            "afk_channel_id",
            "NUMBER_TYPE_COERCE",
        ),
        (
            json!({"system_channel_id": voice.to_string()}),
            "system_channel_id",
            "CHANNEL_INVALID_TYPE",
        ),
        (
            json!({"system_channel_flags": -1}),
            "system_channel_flags",
            "NUMBER_TYPE_MIN",
        ),
        (
            json!({"system_channel_flags": "x"}),
            "system_channel_flags",
            "NUMBER_TYPE_COERCE",
        ),
        (
            json!({"preferred_locale": "xx-YY"}),
            "preferred_locale",
            "BASE_TYPE_CHOICES",
        ),
        (
            json!({"preferred_locale": "en"}),
            "preferred_locale",
            "BASE_TYPE_CHOICES",
        ),
    ] {
        api.refused("PATCH", &path, Some(body), 400, 50035, Some((field, code)))
            .await;
    }
    let answer = api
        .refused(
            "PATCH",
            &path,
            Some(json!({"afk_timeout": 61})),
            400,
            50035,
            None,
        )
        .await;
    assert_eq!(
        answer["errors"]["afk_timeout"]["_errors"][0]["message"],
        "Value must be one of {60, 300, 900, 1800, 3600}."
    );
    api.refused("PATCH", &path, Some(json!([1])), 400, 50035, None)
        .await;
    // Nothing refused was stored.
    assert_eq!(
        sim.guild_settings(guild),
        Some(GuildSettings {
            system_channel_id: Some(general),
            ..GuildSettings::default()
        })
    );

    // Without MANAGE_GUILD: 50013, whatever the body.
    let role = sim.bot_role(guild).expect("bot role");
    sim.set_role_permissions(guild, role, p::MANAGE_ROLES)
        .expect("demote");
    api.refused(
        "PATCH",
        &path,
        Some(json!({"name": "Mine now"})),
        403,
        50013,
        None,
    )
    .await;
    sim.set_role_permissions(guild, role, p::MANAGE_GUILD)
        .expect("allow");
    api.expect("PATCH", &path, Some(json!({"name": "Ours"})), 200)
        .await;
    api.refused(
        "PATCH",
        "/guilds/1",
        Some(json!({"name": "Ghost"})),
        404,
        10004,
        None,
    )
    .await;
    assert_spec(&sim, "the guild settings refusals");
    sim.shutdown().await;
}

#[tokio::test]
async fn deleting_a_role_takes_it_from_members_and_channel_overwrites() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, INTENTS).await;
    let guild = sim.default_guild();
    let general = sim.default_channel();
    let other = sim.commands_channel();
    let guest = sim.guest().id;

    for how in ["rest", "scripted"] {
        let role = api
            .expect(
                "POST",
                &format!("/guilds/{guild}/roles"),
                Some(json!({"name": format!("Temp {how}")})),
                200,
            )
            .await;
        let role = id_of(&role);
        let rid = role.to_string();
        api.expect(
            "PUT",
            &format!("/guilds/{guild}/members/{guest}/roles/{role}"),
            None,
            204,
        )
        .await;
        for channel in [general, other] {
            api.expect(
                "PUT",
                &format!("/channels/{channel}/permissions/{role}"),
                Some(json!({"type": 0, "allow": p::ADD_REACTIONS, "deny": 0})),
                204,
            )
            .await;
        }
        api.expect(
            "PUT",
            &format!("/channels/{general}/permissions/{guest}"),
            Some(json!({"type": 1, "allow": 0, "deny": p::ADD_REACTIONS})),
            204,
        )
        .await;
        gw.drain(Duration::from_millis(200)).await;

        match how {
            "rest" => {
                api.expect(
                    "DELETE",
                    &format!("/guilds/{guild}/roles/{role}"),
                    None,
                    204,
                )
                .await;
            }
            _ => sim.remove_role(guild, role).expect("deleted"),
        }
        let (_, deleted, _) = gw.dispatch("GUILD_ROLE_DELETE").await;
        assert_eq!(deleted["role_id"], role.to_string());
        let mut updated = Vec::new();
        for _ in 0..2 {
            let (_, channel, _) = gw.dispatch("CHANNEL_UPDATE").await;
            assert!(
                channel["permission_overwrites"]
                    .as_array()
                    .expect("overwrites")
                    .iter()
                    .all(|o| o["id"] != rid.as_str()),
                "{how}: {channel}"
            );
            updated.push(id_of(&channel));
        }
        updated.sort_unstable();
        let mut expected = vec![general, other];
        expected.sort_unstable();
        assert_eq!(updated, expected, "{how}");

        let member = sim.member(guild, guest).expect("member");
        assert!(
            member["roles"]
                .as_array()
                .expect("roles")
                .iter()
                .all(|r| r != &json!(role.to_string())),
            "{how}: {member}"
        );
        for channel in [general, other] {
            let c = sim.channel(channel).expect("channel");
            let overwrites = c["permission_overwrites"].as_array().expect("list");
            assert!(
                overwrites.iter().all(|o| o["id"] != rid.as_str()),
                "{how}: {c}"
            );
        }
        // Other overwrites stay.
        let c = sim.channel(general).expect("channel");
        assert!(
            c["permission_overwrites"]
                .as_array()
                .expect("list")
                .iter()
                .any(|o| o["id"] == guest.to_string().as_str()),
            "{how}: {c}"
        );
        // Nothing else changed: no CHANNEL_UPDATE for a channel without the role.
        let names = gw.drain(Duration::from_millis(200)).await;
        assert!(!names.contains(&"CHANNEL_UPDATE".to_owned()), "{names:?}");
    }
    api.refused(
        "DELETE",
        &format!("/guilds/{guild}/roles/{guild}"),
        None,
        400,
        50028,
        None,
    )
    .await;
    api.refused(
        "DELETE",
        &format!("/guilds/{guild}/roles/12345"),
        None,
        404,
        10011,
        None,
    )
    .await;
    assert!(sim.remove_role(guild, 12345).is_err());
    assert_spec(&sim, "role deletion");
    sim.shutdown().await;
}
