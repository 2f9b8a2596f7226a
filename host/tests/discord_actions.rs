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
    let asked = bot
        .sim
        .inject_message(bot.channel(), owner, content)
        .await
        .expect("inject");
    match bot
        .wait_event(
            &format!("the reply to {content}"),
            |e| matches!(e, SimEvent::BotMessage { reply_to: Some(r), .. } if *r == asked),
        )
        .await
    {
        SimEvent::BotMessage {
            message_id, body, ..
        } => (asked, message_id, body),
        _ => unreachable!("matched a BotMessage"),
    }
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
    // The deletion came back as MESSAGE_DELETE, a 1.3 event kind, to the plugin's listener.
    let seen = loop {
        let (_, _, body) = asked(&mut bot, "!deleted").await;
        let text = text_of(&body);
        if text.contains(&deleted.to_string()) {
            break text;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(seen, format!("deleted: {deleted}"));
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

both_modes!(
    a_reply_is_edited_in_place,
    messages_are_fetched_edited_and_deleted,
    a_component_updates_its_own_message,
    guild_structure_and_a_missing_permission_named,
);
