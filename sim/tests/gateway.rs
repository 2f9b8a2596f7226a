//! The gateway protocol over a real WebSocket: every dispatch the simulator emits parses with
//! serenity 0.12.5 (never `Event::Unknown`), and sessions, resume, sharding, intents and close
//! codes behave like Discord.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use serenity::model::application::Interaction;
use serenity::model::event::Event;
use support::{ALL_INTENTS, RawGateway, start};
use zoryx_sim::{SimConfig, SimEvent, Simulator};

#[tokio::test]
async fn hello_identify_ready_and_full_guild_create_parse_with_serenity() {
    let sim = Simulator::start(SimConfig {
        heartbeat_interval: Duration::from_millis(1234),
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let mut gw = RawGateway::connect(&sim).await;
    assert_eq!(gw.hello().await, 1234);
    gw.identify(sim.token(), ALL_INTENTS, [0, 1]).await;
    let (seq, d, event) = gw.dispatch("READY").await;
    assert_eq!(seq, 1);
    let Event::Ready(ready) = event else {
        panic!("READY parses as {event:?}")
    };
    assert_eq!(ready.ready.user.id.get(), sim.bot_user().id);
    assert!(ready.ready.user.bot);
    assert_eq!(ready.ready.application.id.get(), sim.application_id());
    assert_eq!(ready.ready.guilds.len(), 1);
    assert_eq!(ready.ready.guilds[0].id.get(), sim.default_guild());
    assert!(
        d["resume_gateway_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("ws://"))
    );
    sim.wait_ready(support::WAIT)
        .await
        .expect("wait_ready sees READY");

    let (_, _, event) = gw.dispatch("GUILD_CREATE").await;
    let Event::GuildCreate(create) = event else {
        panic!("GUILD_CREATE parses as {event:?}")
    };
    let guild = create.guild;
    assert_eq!(guild.id.get(), sim.default_guild());
    assert_eq!(guild.name, "Zoryx Sandbox");
    let names: Vec<&str> = {
        let mut c: Vec<_> = guild.channels.values().collect();
        c.sort_by_key(|c| c.position);
        c.into_iter().map(|c| c.name.as_str()).collect()
    };
    assert_eq!(names, ["general", "bot-commands"]);
    let everyone = guild
        .roles
        .get(&guild.id.get().into())
        .expect("@everyone role has the guild id");
    for needed in [1u64 << 11, 1 << 10, 1 << 16, 1 << 14] {
        assert!(
            everyone.permissions.bits() & needed != 0,
            "@everyone grants bit {needed}"
        );
    }
    let role_names: Vec<&str> = guild.roles.values().map(|r| r.name.as_str()).collect();
    for name in ["@everyone", "Moderator", "Admin"] {
        assert!(role_names.contains(&name), "role {name} in {role_names:?}");
    }
    let owner = sim.owner().id;
    assert_eq!(guild.owner_id.get(), owner);
    assert!(guild.members.contains_key(&owner.into()));
    assert!(guild.members.contains_key(&sim.guest().id.into()));
    assert!(guild.members.contains_key(&sim.bot_user().id.into()));
    assert_eq!(guild.member_count, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn heartbeat_gets_ack() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, ALL_INTENTS).await;
    gw.send(json!({"op": 1, "d": 2})).await;
    loop {
        let (v, _) = gw.json().await;
        if v["op"] == 11 {
            break;
        }
        assert_eq!(v["op"], 0, "only dispatches before the ACK: {v}");
    }
}

#[tokio::test]
async fn presence_updates_are_recorded_and_malformed_ones_close_4002() {
    let sim = unspaced().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    // Before IDENTIFY, as on Discord: not authenticated.
    gw.send(
        json!({"op": 3, "d": {"since": null, "activities": [], "status": "online", "afk": false}}),
    )
    .await;
    assert_eq!(gw.closed().await, Some(4003));
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, ALL_INTENTS).await;
    let presence = json!({"since": null, "status": "dnd", "afk": false,
        "activities": [{"name": "3 servers", "type": 3}]});
    gw.send(json!({"op": 3, "d": presence})).await;
    // Frames are handled in order: once the heartbeat is acknowledged, the presence is kept.
    gw.send(json!({"op": 1, "d": null})).await;
    while gw.json().await.0["op"] != 11 {}
    assert_eq!(sim.presence(0), Some(presence));
    for bad in [
        json!({"since": null, "activities": [], "status": "away", "afk": false}),
        json!({"since": null, "activities": [{"name": "x", "type": 9}], "status": "online", "afk": false}),
        json!({"since": null, "activities": [{"type": 0}], "status": "online", "afk": false}),
        json!({"since": null, "status": "online", "afk": false}),
    ] {
        let mut gw = RawGateway::connect(&sim).await;
        gw.login(&sim, ALL_INTENTS).await;
        gw.send(json!({"op": 3, "d": bad})).await;
        assert_eq!(gw.closed().await, Some(4002), "{bad}");
    }
}

#[tokio::test]
async fn wrong_token_closes_4004() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.identify("not-the-token", ALL_INTENTS, [0, 1]).await;
    assert_eq!(gw.closed().await, Some(4004));
}

#[tokio::test]
async fn privileged_intents_not_enabled_close_4014() {
    let sim = Simulator::start(SimConfig {
        privileged_intents_enabled: false,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.identify(sim.token(), ALL_INTENTS, [0, 1]).await;
    assert_eq!(gw.closed().await, Some(4014));
    // Without privileged intents the same simulator accepts the bot.
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, 1 | (1 << 9)).await;
}

#[tokio::test]
async fn unknown_opcode_closes_4001_and_bad_json_4002() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.send(json!({"op": 99, "d": null})).await;
    assert_eq!(gw.closed().await, Some(4001));
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.ws_send_text("{not json").await;
    assert_eq!(gw.closed().await, Some(4002));
}

#[tokio::test]
async fn guild_and_dm_messages_parse_and_identify_their_author() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, ALL_INTENTS).await;
    gw.dispatch("GUILD_CREATE").await;

    let guest = sim.guest();
    let id = sim
        .inject_message(sim.default_channel(), guest.id, "!echo hello")
        .await
        .expect("inject");
    let (_, d, event) = gw.dispatch("MESSAGE_CREATE").await;
    let Event::MessageCreate(m) = event else {
        panic!("{event:?}")
    };
    assert_eq!(m.message.id.get(), id);
    assert_eq!(m.message.content, "!echo hello");
    assert_eq!(m.message.author.id.get(), guest.id);
    assert_eq!(
        m.message.guild_id.map(|g| g.get()),
        Some(sim.default_guild())
    );
    assert_eq!(m.message.channel_id.get(), sim.default_channel());
    assert!(
        d["member"].is_object(),
        "guild messages carry the partial member"
    );
    assert!(id >= 1 << 50, "realistic snowflake");

    let (channel, dm_id) = sim.inject_dm(guest.id, "hi bot").await.expect("dm");
    let (_, _, event) = gw.dispatch("MESSAGE_CREATE").await;
    let Event::MessageCreate(m) = event else {
        panic!("{event:?}")
    };
    assert_eq!(m.message.id.get(), dm_id);
    assert_eq!(m.message.channel_id.get(), channel);
    assert_eq!(m.message.guild_id, None);
    assert_eq!(m.message.content, "hi bot");
    assert!(dm_id > id, "ids increase");
    assert_eq!(sim.messages(sim.default_channel()).len(), 1);
}

#[tokio::test]
async fn without_message_content_intent_content_is_empty_unless_mentioned_or_dm() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, 1 | (1 << 9) | (1 << 12)).await;
    let guest = sim.guest().id;
    sim.inject_message(sim.default_channel(), guest, "secret")
        .await
        .expect("inject");
    let (_, d, _) = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(d["content"], "");
    let mention = format!("<@{}> ping", sim.bot_user().id);
    sim.inject_message(sim.default_channel(), guest, &mention)
        .await
        .expect("inject");
    let (_, d, _) = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(d["content"], mention.as_str());
    sim.inject_dm(guest, "dm text").await.expect("dm");
    let (_, d, _) = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(d["content"], "dm text");
}

#[tokio::test]
async fn intents_filter_guild_messages_dms_and_members() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    // GUILDS only.
    gw.login(&sim, 1).await;
    gw.dispatch("GUILD_CREATE").await;
    let guest = sim.guest().id;
    sim.inject_message(sim.default_channel(), guest, "a")
        .await
        .expect("inject");
    sim.inject_dm(guest, "b").await.expect("dm");
    let user = sim.add_user("newcomer");
    sim.add_member(sim.default_guild(), user.id)
        .expect("member");
    sim.add_role(sim.default_guild(), "Helper", 0)
        .expect("role");
    // Dispatches keep their order: the next one after GUILD_CREATE is the role event, so
    // the message, DM and member events were filtered out.
    let (v, text) = gw.json().await;
    assert_eq!(
        v["t"], "GUILD_ROLE_CREATE",
        "only the GUILDS event arrives: {v}"
    );
    support::parse_dispatch(&text);
}

#[tokio::test]
async fn guild_member_role_and_guild_lifecycle_events_parse() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, ALL_INTENTS).await;
    gw.dispatch("GUILD_CREATE").await;
    let guild = sim.default_guild();

    let user = sim.add_user("newcomer");
    sim.add_member(guild, user.id).expect("add member");
    let (_, _, event) = gw.dispatch("GUILD_MEMBER_ADD").await;
    let Event::GuildMemberAdd(add) = event else {
        panic!("{event:?}")
    };
    assert_eq!(add.member.user.id.get(), user.id);
    assert_eq!(add.member.guild_id.get(), guild);

    let role = sim.add_role(guild, "Helper", 1 << 13).expect("role");
    let (_, _, event) = gw.dispatch("GUILD_ROLE_CREATE").await;
    let Event::GuildRoleCreate(rc) = event else {
        panic!("{event:?}")
    };
    assert_eq!(rc.role.id.get(), role);
    assert_eq!(rc.role.name, "Helper");
    assert_eq!(rc.role.permissions.bits(), 1 << 13);

    sim.add_member_role(guild, user.id, role).expect("grant");
    let (_, _, event) = gw.dispatch("GUILD_MEMBER_UPDATE").await;
    let Event::GuildMemberUpdate(mu) = event else {
        panic!("{event:?}")
    };
    assert_eq!(mu.roles.iter().map(|r| r.get()).collect::<Vec<_>>(), [role]);

    sim.remove_role(guild, role).expect("delete role");
    let (_, _, event) = gw.dispatch("GUILD_ROLE_DELETE").await;
    let Event::GuildRoleDelete(rd) = event else {
        panic!("{event:?}")
    };
    assert_eq!(rd.role_id.get(), role);

    sim.remove_member(guild, user.id).expect("remove member");
    let (_, _, event) = gw.dispatch("GUILD_MEMBER_REMOVE").await;
    let Event::GuildMemberRemove(rm) = event else {
        panic!("{event:?}")
    };
    assert_eq!(rm.user.id.get(), user.id);

    let second = sim.add_guild("Second");
    let (_, _, event) = gw.dispatch("GUILD_CREATE").await;
    let Event::GuildCreate(gc) = event else {
        panic!("{event:?}")
    };
    assert_eq!(gc.guild.id.get(), second);
    assert_eq!(gc.guild.name, "Second");
    let channel = sim.add_channel(second, "news").expect("channel");
    let (_, _, event) = gw.dispatch("CHANNEL_CREATE").await;
    let Event::ChannelCreate(cc) = event else {
        panic!("{event:?}")
    };
    assert_eq!(cc.channel.id.get(), channel);
    sim.remove_guild(second).expect("remove guild");
    let (_, _, event) = gw.dispatch("GUILD_DELETE").await;
    let Event::GuildDelete(gd) = event else {
        panic!("{event:?}")
    };
    assert_eq!(gd.guild.id.get(), second);
    assert!(!sim.guilds().contains(&second));

    // The bot leaves a guild itself: gone, GUILD_DELETE; leaving it again is Unknown Guild.
    let api = support::Api::new(&sim);
    let third = sim.add_guild("Third");
    gw.dispatch("GUILD_CREATE").await;
    let path = format!("/users/@me/guilds/{third}");
    api.expect("DELETE", &path, None, 204).await;
    let (_, _, event) = gw.dispatch("GUILD_DELETE").await;
    let Event::GuildDelete(gd) = event else {
        panic!("{event:?}")
    };
    assert_eq!(gd.guild.id.get(), third);
    assert!(!sim.guilds().contains(&third));
    let refused = api.expect("DELETE", &path, None, 404).await;
    assert_eq!(refused["code"], 10004, "{refused}");
}

#[tokio::test]
async fn slash_and_component_interactions_parse() {
    let sim = start().await;
    let api = support::Api::new(&sim);
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, ALL_INTENTS).await;
    gw.dispatch("GUILD_CREATE").await;
    let guild = sim.default_guild();
    let app = sim.application_id();
    api.expect(
        "PUT",
        &format!("/applications/{app}/guilds/{guild}/commands"),
        Some(
            json!([{"name": "greet", "description": "Say hi", "options": [
                {"type": 6, "name": "who", "description": "Whom", "required": true},
                {"type": 3, "name": "text", "description": "What"}
            ]}]),
        ),
        200,
    )
    .await;
    let guest = sim.guest().id;
    let options = json!([
        {"name": "who", "type": 6, "value": guest.to_string()},
        {"name": "text", "type": 3, "value": "hello"}
    ]);
    let iid = sim
        .inject_slash(
            guild,
            sim.default_channel(),
            sim.owner().id,
            "greet",
            options,
        )
        .await
        .expect("slash");
    let (_, _, event) = gw.dispatch("INTERACTION_CREATE").await;
    let Event::InteractionCreate(ic) = event else {
        panic!("{event:?}")
    };
    let Interaction::Command(cmd) = ic.interaction else {
        panic!("a command interaction")
    };
    assert_eq!(cmd.id.get(), iid);
    assert_eq!(cmd.data.name, "greet");
    assert_eq!(cmd.user.id.get(), sim.owner().id);
    assert_eq!(cmd.guild_id.map(|g| g.get()), Some(guild));
    assert_eq!(cmd.data.options.len(), 2);
    assert!(
        cmd.data.resolved.users.contains_key(&guest.into()),
        "USER options are resolved"
    );
    let registered = sim.registered_commands(Some(guild));
    assert_eq!(
        cmd.data.id.get().to_string(),
        registered[0]["id"].as_str().expect("id")
    );

    // A bot message with a button, then a click on it.
    let msg = api
        .expect(
            "POST",
            &format!("/channels/{}/messages", sim.default_channel()),
            Some(
                json!({"content": "vote", "components": [{"type": 1, "components": [
                    {"type": 2, "style": 1, "label": "Yes", "custom_id": "poll:yes"}
                ]}]}),
            ),
            200,
        )
        .await;
    let mid: u64 = msg["id"].as_str().expect("id").parse().expect("snowflake");
    gw.dispatch("MESSAGE_CREATE").await;
    let cid = sim
        .inject_component(mid, sim.guest().id, "poll:yes", vec![])
        .await
        .expect("click");
    let (_, _, event) = gw.dispatch("INTERACTION_CREATE").await;
    let Event::InteractionCreate(ic) = event else {
        panic!("{event:?}")
    };
    let Interaction::Component(comp) = ic.interaction else {
        panic!("a component interaction")
    };
    assert_eq!(comp.id.get(), cid);
    assert_eq!(comp.data.custom_id, "poll:yes");
    assert_eq!(comp.message.id.get(), mid);
    assert_eq!(comp.user.id.get(), sim.guest().id);

    // A DM slash command.
    let dm = sim
        .inject_slash(None, 0, sim.guest().id, "greet", Value::Null)
        .await
        .expect("dm slash");
    let (_, _, event) = gw.dispatch("INTERACTION_CREATE").await;
    let Event::InteractionCreate(ic) = event else {
        panic!("{event:?}")
    };
    let Interaction::Command(cmd) = ic.interaction else {
        panic!("command")
    };
    assert_eq!(cmd.id.get(), dm);
    assert_eq!(cmd.guild_id, None);
}

#[tokio::test]
async fn resume_replays_missed_dispatches_then_resumed() {
    let sim = start().await;
    let mut events = sim.subscribe();
    let mut gw = RawGateway::connect(&sim).await;
    let ready = gw.login(&sim, ALL_INTENTS).await;
    gw.dispatch("GUILD_CREATE").await;
    let session = ready["session_id"].as_str().expect("session id").to_owned();
    let first = sim
        .inject_message(sim.default_channel(), sim.guest().id, "before")
        .await
        .expect("inject");
    let (seen, _, _) = gw.dispatch("MESSAGE_CREATE").await;

    sim.drop_session(4000).await;
    assert_eq!(gw.closed().await, Some(4000));
    let missed_a = sim
        .inject_message(sim.default_channel(), sim.guest().id, "while down 1")
        .await
        .expect("inject");
    let missed_b = sim
        .inject_message(sim.default_channel(), sim.guest().id, "while down 2")
        .await
        .expect("inject");

    // serenity's order: RESUME right after connecting, without waiting for HELLO.
    let mut gw = RawGateway::connect(&sim).await;
    gw.send(json!({"op": 6, "d": {"token": sim.token(), "session_id": session, "seq": seen}}))
        .await;
    let mut ids = Vec::new();
    loop {
        let (v, text) = gw.json().await;
        if v["op"] == 10 {
            continue;
        }
        assert_eq!(v["op"], 0, "{v}");
        let (_, event) = support::parse_dispatch(&text);
        match event {
            Event::MessageCreate(m) => ids.push(m.message.id.get()),
            Event::Resumed(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        ids,
        [missed_a, missed_b],
        "each missed message exactly once, in order"
    );
    assert!(!ids.contains(&first));
    let replayed = support::wait_for(&mut events, |e| match e {
        SimEvent::Resumed { replayed, .. } => Some(*replayed),
        _ => None,
    })
    .await;
    assert_eq!(replayed, 2);
    // The resumed session keeps receiving.
    let after = sim
        .inject_message(sim.default_channel(), sim.guest().id, "after")
        .await
        .expect("inject");
    let (_, d, _) = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(d["id"], after.to_string());
}

/// A bot closing its socket with 1000 (a shutdown) ends its session, as on Discord: it no longer
/// collects dispatches and cannot be resumed. Closing with 4000 keeps it resumable.
#[tokio::test]
async fn a_client_close_1000_ends_the_session_and_4000_keeps_it() {
    let sim = unspaced().await;
    let mut events = sim.subscribe();
    let mut sessions = Vec::new();
    for code in [1000u16, 4000] {
        let mut gw = RawGateway::connect(&sim).await;
        let ready = gw.login(&sim, ALL_INTENTS).await;
        gw.dispatch("GUILD_CREATE").await;
        let session = ready["session_id"].as_str().expect("session id").to_owned();
        gw.close_with(code).await;
        support::wait_for(&mut events, |e| match e {
            SimEvent::Disconnected { session_id, .. } if session_id.as_ref() == Some(&session) => {
                Some(())
            }
            _ => None,
        })
        .await;
        sessions.push((code, session));
    }
    for (code, session) in sessions {
        let mut gw = RawGateway::connect(&sim).await;
        gw.hello().await;
        gw.send(json!({"op": 6, "d": {"token": sim.token(), "session_id": session, "seq": 1}}))
            .await;
        let (v, _) = gw.json().await;
        if code == 1000 {
            assert_eq!(v, json!({"op": 9, "d": false}), "closed with {code}");
        } else {
            assert_ne!(v["op"], 9, "closed with {code}: {v}");
        }
    }
}

#[tokio::test]
async fn resume_of_unknown_session_gets_invalid_session_false() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.send(json!({"op": 6, "d": {"token": sim.token(), "session_id": "nope", "seq": 3}}))
        .await;
    let (v, _) = gw.json().await;
    assert_eq!(v, json!({"op": 9, "d": false}));
}

#[tokio::test]
async fn reconnect_and_invalid_session_opcodes() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    let ready = gw.login(&sim, ALL_INTENTS).await;
    gw.dispatch("GUILD_CREATE").await;
    sim.send_reconnect().await;
    let (v, _) = gw.json().await;
    assert_eq!(v["op"], 7);
    sim.invalidate_session(false).await;
    let (v, _) = gw.json().await;
    assert_eq!(v, json!({"op": 9, "d": false}));
    // The session is gone: resuming it fails.
    let mut gw2 = RawGateway::connect(&sim).await;
    gw2.hello().await;
    gw2.send(
        json!({"op": 6, "d": {"token": sim.token(), "session_id": ready["session_id"], "seq": 2}}),
    )
    .await;
    let (v, _) = gw2.json().await;
    assert_eq!(v, json!({"op": 9, "d": false}));
}

#[tokio::test]
async fn fatal_close_code_ends_the_session() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    let ready = gw.login(&sim, ALL_INTENTS).await;
    sim.drop_session(4009).await;
    assert_eq!(gw.closed().await, Some(4009));
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.send(
        json!({"op": 6, "d": {"token": sim.token(), "session_id": ready["session_id"], "seq": 1}}),
    )
    .await;
    let (v, _) = gw.json().await;
    assert_eq!(v, json!({"op": 9, "d": false}));
}

#[tokio::test]
async fn shards_get_the_guilds_that_hash_to_them() {
    let sim = Simulator::start(SimConfig {
        recommended_shards: 2,
        // Two identify buckets: the shards may identify at once.
        max_concurrency: 2,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let mut extra = Vec::new();
    for i in 0..6 {
        extra.push(sim.add_guild(&format!("g{i}")));
    }
    let api = support::Api::new(&sim);
    let bot = api.expect("GET", "/gateway/bot", None, 200).await;
    assert_eq!(bot["shards"], 2);
    let all = sim.guilds();
    let mut seen = Vec::new();
    for shard in 0..2u32 {
        let mut gw = RawGateway::connect(&sim).await;
        gw.hello().await;
        gw.identify(sim.token(), ALL_INTENTS, [shard, 2]).await;
        let (_, d, _) = gw.dispatch("READY").await;
        assert_eq!(d["shard"], json!([shard, 2]));
        let expected: Vec<u64> = all
            .iter()
            .copied()
            .filter(|g| (g >> 22) % 2 == u64::from(shard))
            .collect();
        let listed: Vec<u64> = d["guilds"]
            .as_array()
            .expect("guilds")
            .iter()
            .map(|g| g["id"].as_str().expect("id").parse().expect("snowflake"))
            .collect();
        assert_eq!(listed, expected, "READY lists the shard's guilds");
        for _ in &expected {
            let (_, d, _) = gw.dispatch("GUILD_CREATE").await;
            let id: u64 = d["id"].as_str().expect("id").parse().expect("snowflake");
            assert_eq!((id >> 22) % 2, u64::from(shard));
            seen.push(id);
        }
        // A message in a guild of this shard arrives here only.
        if let Some(g) = expected.first() {
            let channel = sim.channels(*g)[0];
            let owner = sim.owner().id;
            let m = sim
                .inject_message(channel, owner, "sharded")
                .await
                .expect("inject");
            let (_, d, _) = gw.dispatch("MESSAGE_CREATE").await;
            assert_eq!(d["id"], m.to_string());
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, all, "every guild on exactly one shard");
}

#[tokio::test]
async fn invalid_shard_closes_4010() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.identify(sim.token(), ALL_INTENTS, [2, 2]).await;
    assert_eq!(gw.closed().await, Some(4010));
}

#[tokio::test]
async fn heartbeat_acknowledged_dispatches_are_not_replayed_later_ones_are() {
    let sim = start().await;
    let mut gw = RawGateway::connect(&sim).await;
    let ready = gw.login(&sim, ALL_INTENTS).await;
    gw.dispatch("GUILD_CREATE").await;
    sim.inject_message(sim.default_channel(), sim.guest().id, "one")
        .await
        .expect("inject");
    let (seq, _, _) = gw.dispatch("MESSAGE_CREATE").await;
    gw.send(json!({"op": 1, "d": seq})).await;
    loop {
        let (v, _) = gw.json().await;
        if v["op"] == 11 {
            break;
        }
    }
    sim.drop_session(1001).await;
    gw.closed().await;
    let two = sim
        .inject_message(sim.default_channel(), sim.guest().id, "two")
        .await
        .expect("inject");
    let mut gw = RawGateway::connect(&sim).await;
    gw.send(json!({"op": 6, "d": {"token": sim.token(), "session_id": ready["session_id"], "seq": seq}})).await;
    let (_, d, _) = gw.dispatch("MESSAGE_CREATE").await;
    assert_eq!(d["id"], two.to_string());
    gw.dispatch("RESUMED").await;
}

#[tokio::test]
async fn rest_writes_dispatch_events_serenity_parses() {
    let sim = start().await;
    let api = support::Api::new(&sim);
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, ALL_INTENTS).await;
    gw.dispatch("GUILD_CREATE").await;
    let guild = sim.default_guild();
    let channel = sim.default_channel();

    let m = api
        .expect(
            "POST",
            &format!("/channels/{channel}/messages"),
            Some(json!({"content": "mine", "embeds": [{"title": "E", "color": 255}]})),
            200,
        )
        .await;
    let mid = m["id"].as_str().expect("id").to_owned();
    let (_, _, event) = gw.dispatch("MESSAGE_CREATE").await;
    let Event::MessageCreate(mc) = event else {
        panic!("{event:?}")
    };
    assert!(
        mc.message.author.bot,
        "the bot sees its own message, as on Discord"
    );
    assert_eq!(mc.message.embeds[0].title.as_deref(), Some("E"));

    api.expect(
        "PATCH",
        &format!("/channels/{channel}/messages/{mid}"),
        Some(json!({"content": "edited"})),
        200,
    )
    .await;
    let (_, _, event) = gw.dispatch("MESSAGE_UPDATE").await;
    let Event::MessageUpdate(mu) = event else {
        panic!("{event:?}")
    };
    assert_eq!(mu.content.as_deref(), Some("edited"));
    api.expect(
        "DELETE",
        &format!("/channels/{channel}/messages/{mid}"),
        None,
        204,
    )
    .await;
    let (_, _, event) = gw.dispatch("MESSAGE_DELETE").await;
    let Event::MessageDelete(md) = event else {
        panic!("{event:?}")
    };
    assert_eq!(md.message_id.get().to_string(), mid);

    let role = api
        .expect(
            "POST",
            &format!("/guilds/{guild}/roles"),
            Some(json!({"name": "R"})),
            200,
        )
        .await;
    let rid = role["id"].as_str().expect("id").to_owned();
    gw.dispatch("GUILD_ROLE_CREATE").await;
    api.expect(
        "PATCH",
        &format!("/guilds/{guild}/roles/{rid}"),
        Some(json!({"name": "R2"})),
        200,
    )
    .await;
    let (_, _, event) = gw.dispatch("GUILD_ROLE_UPDATE").await;
    let Event::GuildRoleUpdate(ru) = event else {
        panic!("{event:?}")
    };
    assert_eq!(ru.role.name, "R2");
    let guest = sim.guest().id;
    api.expect(
        "PUT",
        &format!("/guilds/{guild}/members/{guest}/roles/{rid}"),
        None,
        204,
    )
    .await;
    gw.dispatch("GUILD_MEMBER_UPDATE").await;
    api.expect("DELETE", &format!("/guilds/{guild}/roles/{rid}"), None, 204)
        .await;
    gw.dispatch("GUILD_ROLE_DELETE").await;
    api.expect(
        "POST",
        &format!("/guilds/{guild}/channels"),
        Some(json!({"name": "made"})),
        201,
    )
    .await;
    let (_, _, event) = gw.dispatch("CHANNEL_CREATE").await;
    let Event::ChannelCreate(cc) = event else {
        panic!("{event:?}")
    };
    assert_eq!(cc.channel.name, "made");

    // An interaction response message carries the webhook id.
    let iid = sim
        .inject_slash(guild, channel, guest, "x", Value::Null)
        .await
        .expect("slash");
    gw.dispatch("INTERACTION_CREATE").await;
    let token = sim.interaction(iid).expect("stored").0["token"]
        .as_str()
        .expect("token")
        .to_owned();
    api.expect(
        "POST",
        &format!("/interactions/{iid}/{token}/callback"),
        Some(json!({"type": 4, "data": {"content": "answer"}})),
        204,
    )
    .await;
    let (_, _, event) = gw.dispatch("MESSAGE_CREATE").await;
    let Event::MessageCreate(mc) = event else {
        panic!("{event:?}")
    };
    assert_eq!(mc.message.content, "answer");
    assert_eq!(
        mc.message.webhook_id.map(|w| w.get()),
        Some(sim.application_id())
    );
}

#[tokio::test]
async fn a_refused_gateway_answers_503_until_allowed_back_and_keeps_open_connections() {
    let sim = start().await;
    let mut open = RawGateway::connect(&sim).await;
    open.login(&sim, ALL_INTENTS).await;
    sim.refuse_gateway(true);
    let refused = tokio_tungstenite::connect_async(sim.gateway_url()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503)
        }
        other => panic!("expected a 503 refusal, got {other:?}"),
    }
    // The connection opened before still gets its heartbeats answered.
    open.send(json!({"op": 1, "d": 1})).await;
    while open.json().await.0["op"] != 11 {}
    sim.refuse_gateway(false);
    let mut again = RawGateway::connect(&sim).await;
    again.hello().await;
}

#[tokio::test]
async fn identifies_keep_discords_limits_or_get_invalid_session() {
    let sim = Simulator::start(SimConfig {
        max_concurrency: 2,
        identify_interval: Duration::from_secs(60),
        session_start_limit: 3,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let api = support::Api::new(&sim);
    let limit = api.expect("GET", "/gateway/bot", None, 200).await;
    assert_eq!(limit["session_start_limit"]["max_concurrency"], 2);
    assert_eq!(limit["session_start_limit"]["remaining"], 3);

    // Shards 0 and 1 are in different buckets (0 % 2, 1 % 2): both may identify now.
    for shard in 0..2u32 {
        let mut gw = RawGateway::connect(&sim).await;
        gw.hello().await;
        gw.identify(sim.token(), ALL_INTENTS, [shard, 4]).await;
        gw.dispatch("READY").await;
    }
    // Shard 2 shares shard 0's bucket, which identified under a minute ago: op 9, no session.
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.identify(sim.token(), ALL_INTENTS, [2, 4]).await;
    let (frame, _) = gw.json().await;
    assert_eq!(frame["op"], 9, "{frame}");
    assert_eq!(frame["d"], false);
    assert_eq!((sim.identify_count(), sim.identify_refusals()), (2, 1));
    let limit = api.expect("GET", "/gateway/bot", None, 200).await;
    assert_eq!(limit["session_start_limit"]["remaining"], 1);
}

#[tokio::test]
async fn the_daily_session_starts_run_out() {
    let sim = Simulator::start(SimConfig {
        // No spacing between identifies: only the daily limit can refuse.
        identify_interval: Duration::ZERO,
        session_start_limit: 1,
        ..SimConfig::default()
    })
    .await
    .expect("start");
    let mut gw = RawGateway::connect(&sim).await;
    gw.hello().await;
    gw.identify(sim.token(), ALL_INTENTS, [0, 1]).await;
    gw.dispatch("READY").await;
    let mut again = RawGateway::connect(&sim).await;
    again.hello().await;
    again.identify(sim.token(), ALL_INTENTS, [0, 1]).await;
    let (frame, _) = again.json().await;
    assert_eq!(frame["op"], 9, "{frame}");
    assert_eq!(sim.identify_refusals(), 1);
}

/// A simulator that lets one bucket identify again at once (tests that identify twice).
async fn unspaced() -> Simulator {
    Simulator::start(SimConfig {
        identify_interval: Duration::ZERO,
        ..SimConfig::default()
    })
    .await
    .expect("start")
}
