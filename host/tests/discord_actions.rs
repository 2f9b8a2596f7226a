//! Plugin-api 1.3's requests to Discord end to end: a real plugin library asks, the host
//! carries it out against the simulator, in-process and isolated.

mod support;

use serde_json::{Value, json};
use support::Mode;
use support::bot::{TestBot, text_of};
use zoryx_sim::SimEvent;

async fn start(mode: Mode) -> TestBot {
    let config = match mode {
        Mode::InProcess => "",
        Mode::Isolated => r#""isolation": {"plugins": ["*"]}"#,
    };
    TestBot::start(&[("basic-v1.so", "basic.so")], config).await
}

/// Posts `content` as the owner; returns the id of the bot's reply and its body.
async fn asked(bot: &mut TestBot, content: &str) -> (u64, u64, Value) {
    let owner = bot.sim.owner().id;
    bot.asked(owner, content).await
}

/// The outcome JSON a `!act` reply carries.
async fn act(bot: &mut TestBot, action: Value) -> Value {
    let (_, _, body) = asked(bot, &format!("!act {action}")).await;
    let text = text_of(&body);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

async fn a_reply_is_edited_in_place(mode: Mode) {
    let mut bot = start(mode).await;
    let (_, reply, body) = asked(&mut bot, "!draft final words").await;
    assert_eq!(body["content"], "draft…");
    let edited = bot
        .wait_event(
            "the edit of the reply",
            |e| matches!(e, SimEvent::MessageEdited { message_id, .. } if *message_id == reply),
        )
        .await;
    let SimEvent::MessageEdited { body, .. } = edited else {
        unreachable!()
    };
    assert_eq!(body["content"], "final words");
    assert_eq!(
        bot.sim.message(reply).expect("reply").content,
        "final words"
    );

    // Past Discord's limit the edit is refused by the host, naming the limit.
    let (asked_id, _, _) = asked(&mut bot, "!draft 2001 chars").await;
    let refusal = bot.reply_to(asked_id).await;
    assert_eq!(
        text_of(&refusal),
        "refused: host: reply not edited: content has 2001 characters; Discord allows at most \
         2000 (split long text with `zoryx_plugin_api::split_text`)"
    );

    // A slash command's reply is the interaction's original response: edited through it.
    let guest = bot.sim.guest().id;
    bot.wait_registered("draft").await;
    let id = bot
        .sim
        .inject_slash(
            bot.guild(),
            bot.channel(),
            guest,
            "draft",
            json!([{"name": "text", "type": 3, "value": "slash words"}]),
        )
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!((kind, data["content"].as_str()), (4, Some("draft…")));
    let edited = bot
        .wait_event("the edit of the original response", |e| {
            matches!(e, SimEvent::OriginalEdited { interaction_id, .. } if *interaction_id == id)
        })
        .await;
    let SimEvent::OriginalEdited { body, deleted, .. } = edited else {
        unreachable!()
    };
    assert!(!deleted);
    assert_eq!(body["content"], "slash words");
    bot.shutdown().await;
}

async fn messages_are_fetched_edited_and_deleted(mode: Mode) {
    let mut bot = start(mode).await;
    let mut events = bot.sim.subscribe();
    let (_, _, body) = asked(&mut bot, "!roundtrip").await;
    assert_eq!(
        text_of(&body),
        "one|two|two|true|true|Discord refused to read a message: Unknown Message (error \
         10008, HTTP 404)"
    );
    let deleted = loop {
        if let Ok(SimEvent::MessageDeleted { message_id, .. }) = events.recv().await {
            break message_id;
        }
    };
    // A command can delete the message that invoked it.
    let owner = bot.sim.owner().id;
    let vanish = bot
        .sim
        .inject_message(bot.channel(), owner, "!vanish")
        .await
        .expect("inject");
    loop {
        if let Ok(SimEvent::MessageDeleted { message_id, .. }) = events.recv().await
            && message_id == vanish
        {
            break;
        }
    }
    assert!(bot.sim.message(vanish).is_none());
    // The deletion came back as MESSAGE_DELETE, a 1.3 event kind, to the plugin's listener.
    let seen = loop {
        let (_, _, body) = asked(&mut bot, "!deleted").await;
        let text = text_of(&body);
        if text.contains(&vanish.to_string()) {
            break text;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(seen, format!("deleted: {deleted},{vanish}"));
    bot.shutdown().await;
}

async fn a_component_updates_its_own_message(mode: Mode) {
    let mut bot = start(mode).await;
    let (_, message, body) = asked(&mut bot, "!counter").await;
    assert_eq!(body["content"], "count 0");
    let guest = bot.sim.guest().id;
    for n in 1..=3 {
        let id = bot
            .sim
            .inject_component(message, guest, &format!("count:{}", n - 1), Vec::new())
            .await
            .expect("click");
        let (kind, data) = bot.callback(id).await;
        assert_eq!(kind, 7, "{data}");
        assert_eq!(data["content"], format!("count {n}"));
        let button = &data["components"][0]["components"][0];
        assert_eq!(button["custom_id"], format!("count:{n}"));
        assert_eq!(button["disabled"], n >= 3);
        assert_eq!(
            bot.sim.message(message).expect("message").content,
            format!("count {n}")
        );
    }
    bot.shutdown().await;
}

async fn typed_custom_ids_and_hook_payloads(mode: Mode) {
    let mut bot = start(mode).await;
    let (_, message, body) = asked(&mut bot, "!pager").await;
    let button = &body["components"][0]["components"][0];
    assert_eq!(button["custom_id"], r#"page:{"page":1}"#);
    let guest = bot.sim.guest().id;
    let id = bot
        .sim
        .inject_component(message, guest, r#"page:{"page":1}"#, Vec::new())
        .await
        .expect("click");
    let (kind, data) = bot.callback(id).await;
    assert_eq!((kind, data["content"].as_str()), (7, Some("page 2")));
    assert_eq!(
        data["components"][0]["components"][0]["custom_id"],
        r#"page:{"page":2}"#
    );
    // An id that does not read as the type fails the handler, naming it.
    let id = bot
        .sim
        .inject_component(message, guest, "page:not json", Vec::new())
        .await
        .expect("click");
    let (_, data) = bot.callback(id).await;
    assert!(
        text_of(&data).contains("custom id `page:not json` does not read as its type"),
        "{data}"
    );

    let (_, _, body) = asked(&mut bot, "!ring 5").await;
    assert_eq!(text_of(&body), "1 hook(s) ran");
    let (_, _, body) = asked(&mut bot, "!hooks").await;
    assert!(text_of(&body).contains("ring 5"), "{body}");
    bot.shutdown().await;
}

async fn guild_structure_and_a_missing_permission_named(mode: Mode) {
    let mut bot = start(mode).await;
    let guild = bot.guild();
    let guest = bot.sim.guest().id;

    let roles = act(&mut bot, json!({"roles": {"guild": guild}})).await;
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"Moderator"), "{roles}");

    let created = act(
        &mut bot,
        json!({"create_role": {"guild": guild, "spec": {"name": "Muted", "colour": 8421504},
               "reason": "tests"}}),
    )
    .await;
    assert_eq!(created["role"]["name"], "Muted", "{created}");
    assert_eq!(created["role"]["colour"], 8_421_504);
    let muted = created["role"]["id"].as_u64().expect("role id");
    assert!(
        bot.sim
            .roles(guild)
            .iter()
            .any(|r| r["name"] == "Muted" && r["id"].as_str() == Some(muted.to_string().as_str()))
    );

    let given = act(
        &mut bot,
        json!({"add_member_role": {"guild": guild, "user": guest, "role": muted}}),
    )
    .await;
    assert_eq!(given, json!("done"));
    let member = act(&mut bot, json!({"member": {"guild": guild, "user": guest}})).await;
    assert!(
        member["member"]["roles"]
            .as_array()
            .expect("roles")
            .contains(&json!(muted)),
        "{member}"
    );

    let channels = act(&mut bot, json!({"channels": {"guild": guild}})).await;
    assert!(
        channels["channels"]
            .as_array()
            .expect("channels")
            .iter()
            .any(|c| c["name"] == "bot-commands"),
        "{channels}"
    );
    // The catalogue lists the host's own commands (no plugin) with the plugins'.
    let (_, _, body) = asked(&mut bot, "!catalogue").await;
    let catalogue = text_of(&body);
    let names: Vec<&str> = catalogue.split(' ').collect();
    assert!(
        names.contains(&"host:ping") && names.contains(&"basic:roundtrip"),
        "{catalogue}"
    );
    let info = act(&mut bot, json!({"guild": {"guild": guild}})).await;
    assert_eq!(info["guild"]["name"], "Zoryx Sandbox");

    let dm = act(
        &mut bot,
        json!({"direct_message": {"user": guest, "message": {"content": "psst"}}}),
    )
    .await;
    let dm_id = dm["id"].as_u64().expect("dm id");
    assert_eq!(bot.sim.message(dm_id).expect("dm").content, "psst");

    // Without its managed role the bot has only @everyone's permissions: creating a role is
    // refused, and the plugin is told which permission is missing.
    let permissions = act(
        &mut bot,
        json!({"bot_permissions": {"guild": guild, "channel": null}}),
    )
    .await;
    assert!(
        permissions["permissions"].as_u64().expect("bits") & (1 << 3) != 0,
        "{permissions}"
    );
    let bot_id = bot.sim.bot_user().id;
    for role in bot.sim.roles(guild) {
        if role["managed"] == true {
            let id: u64 = role["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("id");
            bot.sim
                .remove_member_role(guild, bot_id, id)
                .expect("take the bot's role");
        }
    }
    let refused = act(
        &mut bot,
        json!({"create_role": {"guild": guild, "spec": {"name": "Nope"}}}),
    )
    .await;
    assert_eq!(
        refused,
        json!("refused: the bot cannot create a role: it lacks the Manage Roles permission")
    );
    bot.shutdown().await;
}

async fn moderation_reactions_channels_and_webhooks(mode: Mode) {
    let mut bot = start(mode).await;
    let (guild, channel) = (bot.guild(), bot.channel());
    let guest = bot.sim.guest().id;
    let owner = bot.sim.owner().id;

    // Reactions: the bot's own, and removing someone else's (Manage Messages).
    let target = bot
        .sim
        .inject_message(channel, guest, "react to me")
        .await
        .expect("message");
    let reacted = act(
        &mut bot,
        json!({"react": {"channel": channel, "message": target, "emoji": "👍"}}),
    )
    .await;
    assert_eq!(reacted, json!("done"));
    bot.sim
        .inject_reaction(channel, target, guest, "🔥")
        .await
        .expect("reaction");
    let removed = act(
        &mut bot,
        json!({"unreact": {"channel": channel, "message": target, "emoji": "🔥", "user": guest}}),
    )
    .await;
    assert_eq!(removed, json!("done"));
    let fetched = act(
        &mut bot,
        json!({"fetch_message": {"channel": channel, "message": target}}),
    )
    .await;
    assert_eq!(
        fetched["message"]["reactions"],
        json!([{"emoji": "👍", "count": 1, "me": true}])
    );

    // Bulk delete: 2–100 messages; one is refused with Discord's field error.
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            bot.sim
                .inject_message(channel, guest, &format!("spam {n}"))
                .await
                .expect("message"),
        );
    }
    let one = act(
        &mut bot,
        json!({"bulk_delete": {"channel": channel, "messages": [ids[0]]}}),
    )
    .await;
    assert_eq!(
        one,
        json!(
            "refused: host: refused before sending (bulk delete messages): messages has 1 \
             messages; Discord takes 2 to 100 (delete one message with `delete_message`)"
        )
    );
    let bulk = act(
        &mut bot,
        json!({"bulk_delete": {"channel": channel, "messages": ids, "reason": "spam"}}),
    )
    .await;
    assert_eq!(bulk, json!("done"));
    assert!(ids.iter().all(|id| bot.sim.message(*id).is_none()));

    // Members: nickname, time-out, kick; bans.
    let nick = act(
        &mut bot,
        json!({"set_nickname": {"guild": guild, "user": guest, "nick": "Quiet One"}}),
    )
    .await;
    assert_eq!(nick, json!("done"));
    assert_eq!(
        bot.sim.member(guild, guest).expect("member")["nick"],
        "Quiet One"
    );
    let in_ten_minutes = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
        + 600_000;
    let timed_out = act(
        &mut bot,
        json!({"timeout": {"guild": guild, "user": guest, "until_unix_ms": in_ten_minutes}}),
    )
    .await;
    assert_eq!(timed_out, json!("done"));
    assert!(
        bot.sim.member(guild, guest).expect("member")["communication_disabled_until"].is_string()
    );
    let kicked = act(
        &mut bot,
        json!({"kick": {"guild": guild, "user": guest, "reason": "testing"}}),
    )
    .await;
    assert_eq!(kicked, json!("done"));
    assert!(bot.sim.member(guild, guest).is_none());
    let banned = act(
        &mut bot,
        json!({"ban": {"guild": guild, "user": guest, "delete_message_seconds": 0}}),
    )
    .await;
    assert_eq!(banned, json!("done"));
    let bans = act(&mut bot, json!({"bans": {"guild": guild}})).await;
    assert_eq!(bans["bans"][0]["user"]["id"], json!(guest), "{bans}");
    let unbanned = act(&mut bot, json!({"unban": {"guild": guild, "user": guest}})).await;
    assert_eq!(unbanned, json!("done"));
    assert!(bot.sim.bans(guild).is_empty());

    // The owner is above everyone: Discord refuses, and the error says it is the hierarchy.
    let refused = act(&mut bot, json!({"kick": {"guild": guild, "user": owner}})).await;
    let refused = refused.as_str().expect("refusal").to_owned();
    assert!(
        refused.contains(
            "the bot has Kick Members, so the target is at or above the bot's highest role"
        ),
        "{refused}"
    );

    // Channels: a category, a channel in it with an overwrite, an edit, a delete.
    let category = act(
        &mut bot,
        json!({"create_channel": {"guild": guild, "spec": {"name": "Staff", "kind": "category"}}}),
    )
    .await;
    let category_id = category["channel"]["id"].as_u64().expect("id");
    assert_eq!(category["channel"]["kind"], "category");
    let logs = act(
        &mut bot,
        json!({"create_channel": {"guild": guild, "spec": {"name": "mod-logs",
            "parent_id": category_id, "topic": "What moderators did",
            "overwrites": [{"target": {"role": guild}, "allow": 0, "deny": 1024}]}}}),
    )
    .await;
    let logs_id = logs["channel"]["id"].as_u64().expect("id");
    assert_eq!(logs["channel"]["parent_id"], json!(category_id));
    assert_eq!(
        logs["channel"]["overwrites"][0]["deny"],
        json!(1024),
        "{logs}"
    );
    let edited = act(
        &mut bot,
        json!({"edit_channel": {"channel": logs_id, "spec": {"topic": "Moderation", "slowmode_seconds": 5}}}),
    )
    .await;
    assert_eq!(edited["channel"]["topic"], "Moderation");
    assert_eq!(edited["channel"]["slowmode_seconds"], 5);
    let overwrite = act(
        &mut bot,
        json!({"set_overwrite": {"channel": logs_id,
            "overwrite": {"target": {"member": guest}, "allow": 1024, "deny": 0}}}),
    )
    .await;
    assert_eq!(overwrite, json!("done"));
    let deleted = act(&mut bot, json!({"delete_channel": {"channel": logs_id}})).await;
    assert_eq!(deleted, json!("done"));
    assert!(bot.sim.channel(logs_id).is_none());

    // Webhooks: create one, send through it under another name.
    let hook = act(
        &mut bot,
        json!({"create_webhook": {"channel": channel, "name": "Announcer"}}),
    )
    .await;
    let (hook_id, token) = (
        hook["webhook"]["id"].as_u64().expect("id"),
        hook["webhook"]["token"].as_str().expect("token").to_owned(),
    );
    let sent = act(
        &mut bot,
        json!({"execute_webhook": {"webhook": hook_id, "token": token,
            "message": {"content": "hear ye"}, "username": "Town Crier"}}),
    )
    .await;
    let sent_id = sent["id"].as_u64().expect("id");
    assert_eq!(
        bot.sim.message(sent_id).expect("message").content,
        "hear ye"
    );

    // Emojis.
    let emoji = bot.sim.add_emoji(guild, "zoryx").expect("emoji");
    let emojis = act(&mut bot, json!({"emojis": {"guild": guild}})).await;
    assert_eq!(emojis["emojis"][0]["id"], json!(emoji), "{emojis}");

    // Without Kick Members on its role, the bot is told so by name.
    let role = bot.sim.bot_role(guild).expect("bot role");
    bot.sim
        .set_role_permissions(guild, role, 1 << 11 | 1 << 10)
        .expect("permissions");
    bot.sim.add_member(guild, guest).expect("rejoin");
    let refused = act(&mut bot, json!({"kick": {"guild": guild, "user": guest}})).await;
    assert_eq!(
        refused,
        json!("refused: the bot cannot kick a member: it lacks the Kick Members permission")
    );
    bot.shutdown().await;
}

async fn the_bots_statistics(mode: Mode) {
    let mut bot = start(mode).await;
    let _ = asked(&mut bot, "!echo one").await;
    let stats = act(&mut bot, json!("stats")).await;
    let stats = &stats["stats"];
    let guilds = bot.sim.guilds();
    let members: usize = guilds.iter().map(|g| bot.sim.members(*g).len()).sum();
    let channels: usize = guilds.iter().map(|g| bot.sim.channels(*g).len()).sum();
    assert_eq!(stats["guilds"], json!(guilds.len()), "{stats}");
    assert_eq!(stats["users"], json!(members), "{stats}");
    assert_eq!(stats["channels"], json!(channels), "{stats}");
    assert_eq!(
        (&stats["shards"], &stats["connected"]),
        (&json!(1), &json!(true))
    );
    // `!echo one` and `!act …` were seen; `!echo` has run (`!act` is still running).
    assert!(stats["messages_seen"].as_u64() >= Some(2), "{stats}");
    assert!(stats["commands_run"].as_u64() >= Some(1), "{stats}");
    assert_eq!(stats["replies_failed"], json!(0), "{stats}");
    assert_eq!(stats["plugins_loaded"], json!(1));
    let (_, _, catalogue) = asked(&mut bot, "!catalogue").await;
    let listed = text_of(&catalogue).split(' ').count();
    assert!(listed > 10, "{catalogue}");
    assert_eq!(stats["commands"], json!(listed));
    assert!(stats["memory_bytes"].as_u64() > Some(1 << 20), "{stats}");
    assert_eq!(
        stats["api_version"],
        json!(zoryx_plugin_api::API_VERSION.to_string())
    );
    assert_eq!(stats["host_version"], json!(env!("CARGO_PKG_VERSION")));
    bot.shutdown().await;
}

async fn files_attached_as_arguments(mode: Mode) {
    let mut bot = start(mode).await;
    let owner = bot.sim.owner().id;
    // A prefix command takes the message's files, in order.
    let with_files = bot
        .sim
        .inject_files(
            bot.channel(),
            owner,
            "!filecheck",
            &[("notes.txt", 12), ("cat.png", 2048)],
        )
        .await
        .expect("inject");
    assert_eq!(
        text_of(&bot.reply_to(with_files).await),
        "notes.txt 12 true | cat.png"
    );
    let (_, _, body) = asked(&mut bot, "!filecheck").await;
    let text = text_of(&body);
    assert!(text.contains("attach a file for `file`"), "{text}");
    assert!(
        text.contains("!filecheck <file: file> [other: file]"),
        "{text}"
    );

    // A slash command registers attachment options (type 11) and gets the uploaded file.
    let commands = bot.wait_registered("filecheck").await;
    let command = commands
        .iter()
        .find(|c| c["name"] == "filecheck")
        .expect("registered");
    assert_eq!(command["options"][0]["type"], 11, "{command}");
    assert_eq!(command["options"][1]["required"], false, "{command}");
    let upload = bot.sim.upload("report.pdf", 90_000);
    let guest = bot.sim.guest().id;
    let id = bot
        .sim
        .inject_slash(
            bot.guild(),
            bot.channel(),
            guest,
            "filecheck",
            json!([{"name": "file", "type": 11, "value": upload.to_string()}]),
        )
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(
        (kind, data["content"].as_str()),
        (4, Some("report.pdf 90000 true | -"))
    );
    bot.shutdown().await;
}

/// The components of a message body, flattened: `(custom_id, disabled)`.
fn components_of(body: &Value) -> Vec<(String, bool)> {
    body["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            (
                c["custom_id"].as_str().unwrap_or_default().to_owned(),
                c["disabled"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

async fn components_expire(mode: Mode) {
    let mut bot = start(mode).await;
    // A prefix reply: greyed out in its channel once its second is up.
    let (_, reply, body) = asked(&mut bot, "!menu expiring").await;
    assert_eq!(
        components_of(&body),
        [
            ("menu:pick".to_owned(), false),
            ("menu:close".to_owned(), false)
        ]
    );
    let edited = bot
        .wait_event(
            "the menu greyed out",
            |e| matches!(e, SimEvent::MessageEdited { message_id, .. } if *message_id == reply),
        )
        .await;
    let SimEvent::MessageEdited { body, .. } = edited else {
        unreachable!()
    };
    assert_eq!(
        components_of(&body),
        [
            ("menu:pick".to_owned(), true),
            ("menu:close".to_owned(), true)
        ]
    );
    // The message keeps its text; only the components changed.
    assert_eq!(
        bot.sim.message(reply).expect("reply").content,
        "menu (for a second)"
    );

    // A slash command's reply is greyed out through its interaction.
    bot.wait_registered("menu").await;
    let guest = bot.sim.guest().id;
    let id = bot
        .sim
        .inject_slash(
            bot.guild(),
            bot.channel(),
            guest,
            "menu",
            json!([{"name": "state", "type": 3, "value": "expiring"}]),
        )
        .await
        .expect("slash");
    let (kind, _) = bot.callback(id).await;
    assert_eq!(kind, 4);
    let edited = bot
        .wait_event("the slash menu greyed out", |e| {
            matches!(e, SimEvent::OriginalEdited { interaction_id, .. } if *interaction_id == id)
        })
        .await;
    let SimEvent::OriginalEdited { body, .. } = edited else {
        unreachable!()
    };
    assert!(
        components_of(&body).iter().all(|(_, disabled)| *disabled),
        "{body}"
    );

    // Past 15 minutes is refused, naming the limit.
    let channel = bot.channel();
    let refused = act(
        &mut bot,
        json!({"send": {"channel": channel, "message": {"content": "x", "expire_components": 901}}}),
    )
    .await;
    assert_eq!(
        refused,
        json!(
            "refused: host: refused before sending (send a message): expire_components has 901 \
             seconds; Discord allows at most 900"
        ),
        "{refused}"
    );
    bot.shutdown().await;
}

both_modes!(
    components_expire,
    files_attached_as_arguments,
    the_bots_statistics,
    typed_custom_ids_and_hook_payloads,
    moderation_reactions_channels_and_webhooks,
    a_reply_is_edited_in_place,
    messages_are_fetched_edited_and_deleted,
    a_component_updates_its_own_message,
    guild_structure_and_a_missing_permission_named,
);
