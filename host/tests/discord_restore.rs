//! Restoring a guild snapshot (the `backups` plugin) through the simulator: half the server
//! deleted, overwrites, role order, settings, the bot's settings and an emoji changed, then
//! restored to the same structure (compared by names, not ids) through 429s; a second restore finds nothing to do; a restore interrupted between a step
//! and its record resumes after a restart and makes nothing twice.

mod support;

use serde_json::{Value, json};
use zoryx_plugin_api::{
    Action, BotGuildSettings, ChannelId, GuildId, GuildSpec, Overwrite, OverwriteTarget,
    Permissions, RoleId,
};
use zoryx_sim::SimEvent;

use support::bot::{TestBot, text_of};

const BACKUPS: (&str, &str) = ("plugin-backups.so", "backups.so");
const BASIC: (&str, &str) = ("basic-v1.so", "basic.so");

/// The server as names: roles and their order, channels with their overwrites, members' roles,
/// the server's settings, emojis and the bot's settings; no ids and no position numbers (a
/// restore makes new ids; Discord numbers positions itself).
async fn structure(bot: &mut TestBot) -> Value {
    let guild = bot.guild();
    let roles = bot.sim.roles(guild);
    let role_name = |id: &Value| -> String {
        roles
            .iter()
            .find(|r| r["id"] == *id)
            .and_then(|r| r["name"].as_str())
            .map_or_else(|| format!("unknown role {id}"), str::to_owned)
    };
    let mut role_list: Vec<String> = roles
        .iter()
        .filter(|r| r["managed"] != true)
        .map(|r| {
            json!([
                r["name"],
                r["permissions"],
                r["color"],
                r["hoist"],
                r["mentionable"]
            ])
            .to_string()
        })
        .collect();
    role_list.sort();
    let channels: Vec<Value> = bot
        .sim
        .channels(guild)
        .iter()
        .filter_map(|id| bot.sim.channel(*id))
        .collect();
    let channel_name = |id: &Value| -> Value {
        channels
            .iter()
            .find(|c| c["id"] == *id)
            .map_or(Value::Null, |c| c["name"].clone())
    };
    let mut channel_list: Vec<String> = channels
        .iter()
        .map(|c| {
            let mut overwrites: Vec<String> = c["permission_overwrites"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| {
                    let who = if o["type"] == 0 {
                        role_name(&o["id"])
                    } else {
                        format!("member {}", o["id"])
                    };
                    format!("{who}:{}:{}", o["allow"], o["deny"])
                })
                .collect();
            overwrites.sort();
            json!([
                c["name"],
                c["type"],
                c["topic"],
                channel_name(&c["parent_id"]),
                overwrites
            ])
            .to_string()
        })
        .collect();
    channel_list.sort();
    let mut members: Vec<String> = bot
        .sim
        .members(guild)
        .iter()
        .filter_map(|user| bot.sim.member(guild, *user))
        .map(|m| {
            let mut names: Vec<String> = m["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .map(&role_name)
                .collect();
            names.sort();
            json!([m["user"]["id"], names]).to_string()
        })
        .collect();
    members.sort();
    let mut ordered: Vec<&Value> = roles
        .iter()
        .filter(|r| r["managed"] != true && r["id"] != guild.to_string().as_str())
        .collect();
    ordered.sort_by_key(|r| r["position"].as_u64());
    let order: Vec<&Value> = ordered.iter().map(|r| &r["name"]).collect();
    let info = bot.sim.guild(guild).expect("guild");
    let settings = json!([
        info["verification_level"],
        info["explicit_content_filter"],
        info["default_message_notifications"],
        info["afk_timeout"],
        channel_name(&info["system_channel_id"]),
        info["preferred_locale"],
    ]);
    let mut emojis: Vec<String> = bot
        .sim
        .emojis(guild)
        .iter()
        .map(|e| e["name"].to_string())
        .collect();
    emojis.sort();
    let owner = bot.sim.owner().id;
    let line = format!("!act {}", json!({"bot_settings": {"guild": guild}}));
    let answer = text_of(&bot.ask(owner, &line).await);
    let outcome: Value = serde_json::from_str(&answer).expect(&answer);
    let mut bot_settings = outcome["bot_settings"].clone();
    if let Some(grants) = bot_settings["command_roles"].as_object_mut() {
        for list in grants.values_mut() {
            let mut names: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|id| role_name(&Value::from(id.to_string())))
                .collect();
            names.sort();
            *list = json!(names);
        }
    }
    json!({
        "roles": role_list,
        "order": order,
        "channels": channel_list,
        "members": members,
        "settings": settings,
        "emojis": emojis,
        "bot": bot_settings,
    })
}

/// Runs `action` as the fixture plugin (`!act`): Discord as the bot sees it.
async fn act(bot: &mut TestBot, action: &Action) {
    let owner = bot.sim.owner().id;
    let line = format!("!act {}", serde_json::to_string(action).expect("json"));
    let answer = text_of(&bot.ask(owner, &line).await);
    assert!(!answer.starts_with("refused"), "{action:?}: {answer}");
}

fn named(bot: &TestBot, name: &str) -> Vec<u64> {
    bot.sim
        .roles(bot.guild())
        .iter()
        .filter(|r| r["name"] == name)
        .filter_map(|r| r["id"].as_str().and_then(|id| id.parse().ok()))
        .collect()
}

fn channels_named(bot: &TestBot, name: &str) -> Vec<u64> {
    bot.sim
        .channels(bot.guild())
        .into_iter()
        .filter(|id| bot.sim.channel_name(*id).as_deref() == Some(name))
        .collect()
}

/// Asks for a restore, checks the plan's counts, confirms, and waits for the progress message
/// to say it is done; returns the progress message's last body.
async fn restore(bot: &mut TestBot, id: &str, expect_in_plan: &[&str]) -> Value {
    let owner = bot.sim.owner().id;
    let (_, message, plan) = bot.asked(owner, &format!("!backuprestore {id}")).await;
    let text = text_of(&plan);
    assert!(text.contains(&format!("Restore backup {id}?")), "{text}");
    for expected in expect_in_plan {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    let confirm = plan["components"][0]["components"][0]["custom_id"]
        .as_str()
        .expect("the Restore button")
        .to_owned();
    let click = bot
        .sim
        .inject_component(message, owner, &confirm, vec![])
        .await
        .expect("click");
    let (kind, _) = bot.callback(click).await;
    assert_eq!(kind, 7);
    wait_restored(bot, id).await
}

async fn wait_restored(bot: &mut TestBot, id: &str) -> Value {
    let title = format!("Backup {id} restored");
    match bot
        .wait_event(&title, |e| {
            matches!(e, SimEvent::MessageEdited { body, .. } if body["embeds"][0]["title"] == title.as_str())
        })
        .await
    {
        SimEvent::MessageEdited { body, .. } => body,
        _ => unreachable!("matched an edit"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_server_is_restored_and_an_interrupted_restore_resumes_without_duplicates() {
    let mut bot = TestBot::start(&[BACKUPS, BASIC], "").await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let guild = bot.guild();

    // Six roles, six channels, three of them visible to one role only, the guest in two roles.
    let mut roles = Vec::new();
    let mut rooms = Vec::new();
    for i in 0..6_u64 {
        roles.push(
            bot.sim
                .add_role(guild, &format!("Team {i}"), 1 << (i + 10))
                .expect("role"),
        );
        rooms.push(
            bot.sim
                .add_channel(guild, &format!("room-{i}"))
                .expect("channel"),
        );
    }
    for i in 0..3 {
        let overwrite = Overwrite {
            target: OverwriteTarget::Role(RoleId(roles[i])),
            allow: Permissions::VIEW_CHANNEL,
            deny: Permissions(0),
        };
        act(
            &mut bot,
            &Action::SetOverwrite {
                channel: ChannelId(rooms[i]),
                overwrite,
                reason: None,
            },
        )
        .await;
    }
    for role in &roles[..2] {
        bot.sim.add_member_role(guild, guest, *role).expect("grant");
    }
    // Two emojis, settings that name a channel, a role grant and an auto-delete delay.
    bot.sim.add_emoji(guild, "wave").expect("emoji");
    bot.sim.add_emoji(guild, "party").expect("emoji");
    let settings = GuildSpec {
        verification_level: Some(2),
        explicit_content_filter: Some(1),
        afk_timeout: Some(900),
        system_channel: Some(Some(ChannelId(rooms[4]))),
        preferred_locale: Some("de".into()),
        ..GuildSpec::default()
    };
    act(
        &mut bot,
        &Action::EditGuild {
            guild: GuildId(guild),
            spec: settings,
            reason: None,
        },
    )
    .await;
    let grants = BotGuildSettings {
        command_roles: [("ping".to_owned(), vec![RoleId(roles[0])])].into(),
        auto_delete_errors: 30,
        ..BotGuildSettings::default()
    };
    act(
        &mut bot,
        &Action::SetBotSettings {
            guild: GuildId(guild),
            settings: grants,
        },
    )
    .await;
    let created = text_of(&bot.ask(owner, "!backupcreate").await);
    let start = created.find('`').expect("id") + 1;
    let id = created[start..start + 12].to_owned();
    let before = structure(&mut bot).await;

    // Half of it goes: three roles (and with them the guest's roles and their overwrites),
    // three channels; and @everyone loses sight of room-0.
    for role in &roles[..3] {
        bot.sim.remove_role(guild, *role).expect("remove role");
    }
    for room in &rooms[3..] {
        act(
            &mut bot,
            &Action::DeleteChannel {
                channel: ChannelId(*room),
                reason: None,
            },
        )
        .await;
    }
    let hidden = Overwrite {
        target: OverwriteTarget::Role(RoleId(guild)),
        allow: Permissions(0),
        deny: Permissions::VIEW_CHANNEL,
    };
    act(
        &mut bot,
        &Action::SetOverwrite {
            channel: ChannelId(rooms[0]),
            overwrite: hidden,
            reason: None,
        },
    )
    .await;
    // Team 5 goes to the bottom, an emoji goes, the settings and the bot's are reset.
    act(
        &mut bot,
        &Action::RolePositions {
            guild: GuildId(guild),
            positions: vec![(RoleId(roles[5]), 1)],
            reason: None,
        },
    )
    .await;
    let wave = bot
        .sim
        .emojis(guild)
        .iter()
        .find(|e| e["name"] == "wave")
        .and_then(|e| e["id"].as_str()?.parse().ok())
        .expect("wave");
    act(
        &mut bot,
        &Action::DeleteEmoji {
            guild: GuildId(guild),
            emoji: wave,
            reason: None,
        },
    )
    .await;
    let reset = GuildSpec {
        verification_level: Some(0),
        explicit_content_filter: Some(0),
        afk_timeout: Some(300),
        preferred_locale: Some("en-US".into()),
        ..GuildSpec::default()
    };
    act(
        &mut bot,
        &Action::EditGuild {
            guild: GuildId(guild),
            spec: reset,
            reason: None,
        },
    )
    .await;
    act(
        &mut bot,
        &Action::SetBotSettings {
            guild: GuildId(guild),
            settings: BotGuildSettings::default(),
        },
    )
    .await;
    assert_ne!(structure(&mut bot).await, before);

    // Discord pushes back on role creation twice; the restore waits and goes on.
    bot.sim.rate_limit("POST /guilds/*/roles", 2);
    let done = restore(
        &mut bot,
        &id,
        &[
            "3 to create",
            "order restored",
            "server settings and bot settings to update",
            "1 member(s)",
            "Emojis",
        ],
    )
    .await;
    assert!(text_of(&done).contains("0 skipped"), "{done}");
    assert_eq!(
        structure(&mut bot).await,
        before,
        "the server equals the snapshot"
    );
    for i in 0..6 {
        assert_eq!(named(&bot, &format!("Team {i}")).len(), 1, "Team {i}");
        assert_eq!(
            channels_named(&bot, &format!("room-{i}")).len(),
            1,
            "room-{i}"
        );
    }
    let again = text_of(&bot.ask(owner, &format!("!backuprestore {id}")).await);
    assert!(again.contains("matches the server"), "{again}");

    // An interruption at the journal's half-way step, after that step and the ones after it
    // ran but before their results were recorded: the journal says "running" from there, and
    // knows none of the ids they made. Team 1 is deleted meanwhile as well.
    let path = bot
        .host
        .dir
        .path()
        .join(format!("data/plugins/backups/{guild}/restore.json"));
    let mut journal: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("journal")).expect("json");
    assert_eq!(journal["status"], "done");
    let steps = journal["steps"].as_array().expect("steps").clone();
    let half = steps.len() / 2;
    journal["status"] = json!("running");
    journal["next"] = json!(half);
    for step in &steps[half..] {
        let map = if step["step"] == "channel" {
            "channels"
        } else {
            "roles"
        };
        let key = step["id"].to_string();
        if let Some(map) = journal[map].as_object_mut() {
            map.remove(&key);
        }
    }
    for role in named(&bot, "Team 1") {
        bot.sim.remove_role(guild, role).expect("remove");
    }
    let mut bot = bot
        .restart_after(|| {
            std::fs::write(&path, serde_json::to_vec(&journal).expect("json")).expect("write")
        })
        .await;
    // The restarted plugin finds the journal and carries on by itself.
    wait_restored(&mut bot, &id).await;
    let resumed: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("journal")).expect("json");
    assert_eq!(resumed["status"], "done", "{resumed}");
    assert_eq!(resumed["next"], json!(steps.len()));
    for i in 0..6 {
        let teams = named(&bot, &format!("Team {i}")).len();
        if i == 1 {
            assert!(teams <= 1, "Team 1 made twice");
        } else {
            assert_eq!(teams, 1, "Team {i} after resuming");
        }
        assert_eq!(
            channels_named(&bot, &format!("room-{i}")).len(),
            1,
            "room-{i} after resuming"
        );
    }
    // Team 1 (deleted while the bot was down) is only back if its step was after the
    // interruption; either way a restore now brings everything back.
    if named(&bot, "Team 1").is_empty() || structure(&mut bot).await != before {
        restore(&mut bot, &id, &[]).await;
    }
    assert_eq!(
        structure(&mut bot).await,
        before,
        "the same end state as an uninterrupted restore"
    );
    assert_eq!(named(&bot, "Team 1").len(), 1);
    bot.shutdown().await;
}
