//! Plugin-api 1.3's files and disabled select menus end to end: a real plugin library sends
//! them, the host carries them to the simulator (multipart bodies for files), in-process and
//! isolated; Discord's limits reach the plugin naming the limit.

mod support;

use serde_json::{Value, json};
use support::Mode;
use support::bot::{TestBot, text_of};
use zoryx_sim::SimEvent;
use zoryx_sim::world::Attachment;

async fn start(mode: Mode) -> TestBot {
    let config = match mode {
        Mode::InProcess => "",
        Mode::Isolated => r#""isolation": {"plugins": ["*"]}"#,
    };
    TestBot::start(&[("basic-v1.so", "basic.so")], config).await
}

/// `(file name, size, contents, description)` of each stored attachment of a message.
fn files(bot: &TestBot, message: u64) -> Vec<(String, u64, Vec<u8>, Option<String>)> {
    bot.sim
        .attachments(message)
        .into_iter()
        .map(
            |Attachment {
                 filename,
                 size,
                 data,
                 description,
                 ..
             }| {
                let bytes = data.map(|d| d.to_vec()).unwrap_or_default();
                (filename, size, bytes, description)
            },
        )
        .collect()
}

fn file(
    name: &str,
    bytes: &[u8],
    description: Option<&str>,
) -> (String, u64, Vec<u8>, Option<String>) {
    (
        name.to_owned(),
        bytes.len() as u64,
        bytes.to_vec(),
        description.map(str::to_owned),
    )
}

/// The three ids of `ids REPLY SENT FOLLOWUP`.
fn ids(body: &Value) -> [u64; 3] {
    let text = text_of(body);
    let ids: Vec<u64> = text
        .strip_prefix("ids ")
        .unwrap_or_else(|| panic!("not the ids line: {text}"))
        .split(' ')
        .map(|id| id.parse().expect("an id"))
        .collect();
    ids.try_into().expect("three ids")
}

/// What `upload` leaves behind: the reply carries the file of its edit (an edit with files
/// replaces them), the sent message and the followup their own.
fn assert_uploaded(bot: &TestBot, [reply, sent, followup]: [u64; 3]) {
    assert_eq!(
        files(bot, reply),
        [file("edited.txt", b"edited contents", None)]
    );
    assert_eq!(
        bot.sim.message(reply).expect("the reply").content,
        "the reply, edited"
    );
    assert_eq!(
        files(bot, sent),
        [file("sent.csv", b"n,square\n1,1\n2,4\n", Some("squares"))]
    );
    let sent = bot.sim.message(sent).expect("the sent message");
    assert_eq!(sent.content, "a message with a file");
    assert_eq!(sent.payload["attachments"][0]["content_type"], "text/csv");
    assert_eq!(
        files(bot, followup),
        [file("followup.bin", &[0xA5; 2048], None)]
    );
}

/// Runs `!upload` as the owner; the ids it reports.
async fn upload(bot: &mut TestBot) -> [u64; 3] {
    let owner = bot.sim.owner().id;
    let asked = bot
        .sim
        .inject_message(bot.channel(), owner, "!upload")
        .await
        .expect("inject");
    let done = bot
        .wait_event("the ids of !upload", |e| {
            matches!(e, SimEvent::BotMessage { reply_to: Some(r), body, .. }
                if *r == asked && text_of(body).starts_with("ids "))
        })
        .await;
    let SimEvent::BotMessage { body, .. } = done else {
        unreachable!()
    };
    ids(&body)
}

async fn files_go_with_replies_sends_followups_and_edits(mode: Mode) {
    let mut bot = start(mode).await;
    // A prefix command: channel messages.
    let uploaded = upload(&mut bot).await;
    assert_uploaded(&bot, uploaded);
    // The files went as multipart bodies: `payload_json` with an entry per file.
    let uploads: Vec<_> = bot
        .sim
        .requests()
        .into_iter()
        .filter(|r| !r.files.is_empty())
        .collect();
    assert_eq!(uploads.len(), 4, "reply, send, followup, edit");
    for request in &uploads {
        let entries = request.body.as_ref().expect("payload_json")["attachments"].clone();
        assert_eq!(entries[0]["id"], "0", "{entries}");
        assert_eq!(entries[0]["filename"], request.files[0].1.as_str());
    }

    // A slash command: the interaction's answer, a followup and an edit of `@original`.
    bot.wait_registered("upload").await;
    let guest = bot.sim.guest().id;
    let id = bot
        .sim
        .inject_slash(bot.guild(), bot.channel(), guest, "upload", json!([]))
        .await
        .expect("slash");
    let (kind, data) = bot.callback(id).await;
    assert_eq!(kind, 4);
    assert_eq!(data["attachments"][0]["filename"], "reply.txt");
    let done = bot
        .wait_event("the ids of /upload", |e| {
            matches!(e, SimEvent::Followup { interaction_id, body, .. }
                if *interaction_id == id && text_of(body).starts_with("ids "))
        })
        .await;
    let SimEvent::Followup { body, .. } = done else {
        unreachable!()
    };
    assert_uploaded(&bot, ids(&body));
    bot.shutdown().await;
}

/// The outcome JSON a `!act` reply carries.
async fn act(bot: &mut TestBot, action: Value) -> Value {
    let owner = bot.sim.owner().id;
    let body = bot.ask(owner, &format!("!act {action}")).await;
    let text = text_of(&body);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

async fn requests_carry_files_and_limits_are_named(mode: Mode) {
    let mut bot = start(mode).await;
    let owner = bot.sim.owner().id;
    let before = bot.sim.requests().len();
    let body = bot.ask(owner, "!upload_limits").await;
    assert_eq!(
        text_of(&body),
        "refused: host: message not sent: files has 11 files; Discord allows at most 10\n\
         refused: host: refused before sending (send a message): files has 10485761 bytes in \
         all; Discord allows at most 10485760\n\
         refused: host: message not sent: files.0.filename has 0 characters (at least 1 \
         needed); Discord allows at most 1024"
    );
    assert!(
        bot.sim.requests()[before..]
            .iter()
            .all(|r| r.files.is_empty()),
        "nothing past a limit was sent"
    );

    // A DM, a webhook's message and an edit carry files too (the `Message` of the action,
    // with its contents in base64).
    let guest = bot.sim.guest().id;
    let with_file = |content: &str, name: &str, base64: &str| json!({"content": content, "files": [{"name": name, "bytes": base64, "description": null}]});
    let dm = act(
        &mut bot,
        json!({"direct_message": {"user": guest, "message": with_file("dm", "dm.txt", "ZG0gZmlsZQ==")}}),
    )
    .await;
    let dm = dm["id"].as_u64().unwrap_or_else(|| panic!("a DM: {dm}"));
    assert_eq!(files(&bot, dm), [file("dm.txt", b"dm file", None)]);

    let channel = bot.channel();
    let hook = act(
        &mut bot,
        json!({"create_webhook": {"channel": channel, "name": "Reports"}}),
    )
    .await;
    let hook = &hook["webhook"];
    let executed = act(
        &mut bot,
        json!({"execute_webhook": {
            "webhook": hook["id"], "token": hook["token"],
            "message": with_file("from the hook", "hook.txt", "aG9vayBmaWxl"),
            "username": null, "avatar_url": null,
        }}),
    )
    .await;
    let executed = executed["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("a webhook message: {executed}"));
    assert_eq!(
        files(&bot, executed),
        [file("hook.txt", b"hook file", None)]
    );

    let [_, sent, _] = upload(&mut bot).await;
    let edited = act(
        &mut bot,
        json!({"edit_message": {
            "channel": channel, "message": sent,
            "edit": with_file("edited", "act.txt", "ZWRpdGVkIGJ5IGFjdA=="),
        }}),
    )
    .await;
    assert_eq!(edited["message"]["content"], "edited", "{edited}");
    assert_eq!(files(&bot, sent), [file("act.txt", b"edited by act", None)]);
    bot.shutdown().await;
}

/// The select menu and the button of a `menu` message: (select, button) as stored.
fn menu_components(bot: &TestBot, message: u64) -> (Value, Value) {
    let stored = bot.sim.message(message).expect("the menu");
    let rows = &stored.payload["components"];
    (
        rows[0]["components"][0].clone(),
        rows[1]["components"][0].clone(),
    )
}

async fn disabled_menus_are_sent_and_kept(mode: Mode) {
    let mut bot = start(mode).await;
    let owner = bot.sim.owner().id;
    let guest = bot.sim.guest().id;

    // Greyed out from the start: the reply went as JSON, the disabled select with it.
    let asked = bot
        .sim
        .inject_message(bot.channel(), owner, "!menu closed")
        .await
        .expect("inject");
    let body = bot.reply_to(asked).await;
    assert_eq!(body["components"][0]["components"][0]["disabled"], true);
    let closed = bot
        .sim
        .messages(bot.channel())
        .into_iter()
        .find(|m| m.reply_to == Some(asked))
        .expect("the reply")
        .id;
    let (select, button) = menu_components(&bot, closed);
    assert_eq!(
        (select["disabled"].clone(), button["disabled"].clone()),
        (json!(true), json!(true))
    );
    let refused = bot
        .sim
        .inject_component(closed, guest, "menu:pick", vec!["a".into()])
        .await;
    assert!(refused.is_err(), "a disabled menu cannot be used");

    // Open: a pick is answered over a greyed-out menu; Close greys out the menu in place.
    let asked = bot
        .sim
        .inject_message(bot.channel(), owner, "!menu")
        .await
        .expect("inject");
    let body = bot.reply_to(asked).await;
    assert!(
        body["components"][0]["components"][0]
            .get("disabled")
            .is_none(),
        "{body}"
    );
    let open = bot
        .sim
        .messages(bot.channel())
        .into_iter()
        .find(|m| m.reply_to == Some(asked))
        .expect("the reply")
        .id;
    let pick = bot
        .sim
        .inject_component(open, guest, "menu:pick", vec!["b".into()])
        .await
        .expect("pick");
    let (kind, data) = bot.callback(pick).await;
    assert_eq!((kind, text_of(&data)), (4, "picked b".to_owned()));
    let done = &data["components"][0]["components"][0];
    assert_eq!(
        (done["custom_id"].as_str(), done["disabled"].as_bool()),
        (Some("menu:done"), Some(true))
    );

    let close = bot
        .sim
        .inject_component(open, guest, "menu:close", Vec::new())
        .await
        .expect("close");
    let (kind, data) = bot.callback(close).await;
    assert_eq!((kind, text_of(&data)), (7, "menu closed".to_owned()));
    let (select, button) = menu_components(&bot, open);
    assert_eq!(
        (select["disabled"].clone(), button["disabled"].clone()),
        (json!(true), json!(true))
    );
    assert!(
        bot.sim
            .inject_component(open, guest, "menu:close", Vec::new())
            .await
            .is_err(),
        "closed for good"
    );
    bot.shutdown().await;
}

both_modes!(
    files_go_with_replies_sends_followups_and_edits,
    requests_carry_files_and_limits_are_named,
    disabled_menus_are_sent_and_kept,
);
