//! Messages with files: `multipart/form-data` bodies (`payload_json` and `files[n]` parts) as
//! Discord takes them, on every route that takes a message, and refused as Discord refuses
//! them.

mod support;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use support::{Api, assert_spec, start};
use zoryx_sim::Simulator;

/// One `files[n]` part: its index, file name, contents and content type.
type File<'a> = (u64, &'a str, Vec<u8>, Option<&'a str>);

/// Sends `payload` as `payload_json` with `files`; returns the status and the JSON answer.
async fn upload(
    sim: &Simulator,
    method: &str,
    path: &str,
    payload: &Value,
    files: &[File<'_>],
) -> (u16, Value) {
    let mut form = Form::new().text("payload_json", payload.to_string());
    for (index, name, bytes, kind) in files {
        let mut part = Part::bytes(bytes.clone()).file_name((*name).to_owned());
        if let Some(kind) = kind {
            part = part.mime_str(kind).expect("a media type");
        }
        form = form.part(format!("files[{index}]"), part);
    }
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let answer = reqwest::Client::new()
        .request(method, format!("{}/api/v10{path}", sim.base_url()))
        .header("Authorization", format!("Bot {}", sim.token()))
        .multipart(form)
        .send()
        .await
        .expect("answered");
    let status = answer.status().as_u16();
    let bytes = answer.bytes().await.expect("body");
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (status, json)
}

fn names(message: &Value) -> Vec<(String, u64)> {
    message["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["filename"].as_str().unwrap_or_default().to_owned(),
                a["size"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test]
async fn channel_messages_keep_their_files_and_edits_add_or_replace_them() {
    let sim = start().await;
    let api = Api::new(&sim);
    let channel = sim.default_channel();
    let path = format!("/channels/{channel}/messages");
    let payload = json!({
        "content": "two files",
        "attachments": [
            {"id": "0", "filename": "notes.txt", "description": "some notes"},
            {"id": "1", "filename": "chart.png"},
        ],
    });
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3];
    let files = [
        (0, "part-name.txt", b"hello".to_vec(), Some("text/plain")),
        (1, "chart.png", png.clone(), Some("image/png")),
    ];
    let (status, message) = upload(&sim, "POST", &path, &payload, &files).await;
    assert_eq!(status, 200, "{message}");
    // The entry's name wins over the part's; sizes are the bytes sent.
    assert_eq!(
        names(&message),
        [("notes.txt".to_owned(), 5), ("chart.png".to_owned(), 8)]
    );
    assert_eq!(message["attachments"][0]["description"], "some notes");
    assert_eq!(message["attachments"][0]["content_type"], "text/plain");
    assert_eq!(message["attachments"][1]["content_type"], "image/png");
    let id: u64 = message["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("snowflake");
    let fetched = api.expect("GET", &format!("{path}/{id}"), None, 200).await;
    assert_eq!(fetched["attachments"], message["attachments"]);
    let stored = sim.attachments(id);
    assert_eq!(stored[1].data.as_deref(), Some(png.as_slice()));

    // An edit with files and no `attachments` adds them.
    let (status, edited) = upload(
        &sim,
        "PATCH",
        &format!("{path}/{id}"),
        &json!({"content": "three"}),
        &[(0, "more.csv", b"a,b\n".to_vec(), None)],
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(names(&edited).len(), 3);
    assert!(edited["attachments"][2].get("content_type").is_none());
    // With `attachments`, the message keeps what it lists: an old one and a new one.
    let keep = stored[1].id.to_string();
    let (status, edited) = upload(
        &sim,
        "PATCH",
        &format!("{path}/{id}"),
        &json!({"attachments": [{"id": keep}, {"id": "0", "filename": "new.txt"}]}),
        &[(0, "x", b"new".to_vec(), None)],
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        names(&edited),
        [("chart.png".to_owned(), 8), ("new.txt".to_owned(), 3)]
    );
    // Without an `attachments` list, files are named by their parts (and need no text).
    let (status, plain) = upload(
        &sim,
        "POST",
        &path,
        &json!({}),
        &[(0, "only.bin", vec![7; 100], None)],
    )
    .await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(names(&plain), [("only.bin".to_owned(), 100)]);
    assert_spec(&sim, "the simulator's file uploads");
    sim.shutdown().await;
}

#[tokio::test]
async fn uploads_past_discords_limits_are_refused_in_its_shapes() {
    let sim = start().await;
    let channel = sim.default_channel();
    let path = format!("/channels/{channel}/messages");
    let one = |n: u64| (n, "f.txt", b"x".to_vec(), None);

    let eleven: Vec<File<'_>> = (0..11).map(one).collect();
    let (status, body) = upload(&sim, "POST", &path, &json!({"content": "x"}), &eleven).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (400, Some(30015)),
        "{body}"
    );

    let big = vec![(0, "big.bin", vec![0; 10 * 1024 * 1024 + 1], None)];
    let (status, body) = upload(&sim, "POST", &path, &json!({"content": "x"}), &big).await;
    assert_eq!(
        (status, body),
        (
            413,
            json!({"message": "Request entity too large", "code": 40005})
        )
    );

    // An entry with no file and no attachment behind it.
    let (status, body) = upload(
        &sim,
        "POST",
        &path,
        &json!({"attachments": [{"id": "0"}, {"id": "5"}]}),
        &[one(0)],
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(50035)));
    assert_eq!(
        body["errors"]["attachments"]["1"]["_errors"][0]["code"],
        "ATTACHMENT_NOT_FOUND"
    );
    // A file no entry names.
    let (status, body) = upload(
        &sim,
        "POST",
        &path,
        &json!({"attachments": [{"id": "0"}]}),
        &[one(0), one(1)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["files[1]"]["_errors"][0]["code"],
        "ATTACHMENT_NOT_FOUND"
    );
    // Names and descriptions as the spec bounds them.
    let (status, body) = upload(
        &sim,
        "POST",
        &path,
        &json!({"attachments": [{"id": "0", "filename": ""}]}),
        &[one(0)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["attachments"]["0"]["filename"]["_errors"][0]["code"],
        "BASE_TYPE_BAD_LENGTH"
    );
    let (status, body) = upload(
        &sim,
        "POST",
        &path,
        &json!({"attachments": [{"id": "0", "description": "d".repeat(1025)}]}),
        &[one(0)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["attachments"]["0"]["description"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
    // A guild channel needs Attach Files (taken from @everyone and the bot's role).
    let guild = sim.default_guild();
    let role = sim.bot_role(guild).expect("bot role");
    for role in [guild, role] {
        sim.set_role_permissions(guild, role, (1 << 10) | (1 << 11))
            .expect("permissions");
    }
    let (status, body) = upload(&sim, "POST", &path, &json!({}), &[one(0)]).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (403, Some(50013)),
        "{body}"
    );
    let (status, _) = upload(&sim, "POST", &path, &json!({"content": "words only"}), &[]).await;
    assert_eq!(status, 200, "text alone still goes");
    assert_spec(&sim, "the simulator's upload refusals");
    sim.shutdown().await;
}

#[tokio::test]
async fn interaction_answers_followups_and_webhooks_take_files() {
    let sim = start().await;
    let guild = sim.default_guild();
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let app = sim.application_id();
    let interaction = sim
        .inject_slash(guild, channel, guest, "report", Value::Null)
        .await
        .expect("slash");
    let token = sim.interaction(interaction).expect("stored").0["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let file = |name: &'static str, size: usize| (0, name, vec![1; size], None);
    let send = async |method: &str, path: String, payload: Value, file: File<'_>| {
        upload(&sim, method, &path, &payload, &[file]).await
    };
    let callback = format!("/interactions/{interaction}/{token}/callback?with_response=true");
    let (status, answer) = send(
        "POST",
        callback,
        json!({"type": 4, "data": {"attachments": [{"id": "0", "filename": "a.txt"}]}}),
        file("a.txt", 3),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        names(&answer["resource"]["message"]),
        [("a.txt".to_owned(), 3)]
    );
    let (status, followup) = send(
        "POST",
        format!("/webhooks/{app}/{token}"),
        json!({"content": "more"}),
        file("b.txt", 4),
    )
    .await;
    assert_eq!(status, 200, "{followup}");
    assert_eq!(names(&followup), [("b.txt".to_owned(), 4)]);
    let (status, edited) = send(
        "PATCH",
        format!("/webhooks/{app}/{token}/messages/@original"),
        json!({"attachments": [{"id": "0", "filename": "c.txt"}]}),
        file("c.txt", 5),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(names(&edited), [("c.txt".to_owned(), 5)]);

    // A channel webhook's message.
    let api = Api::new(&sim);
    let hook = api
        .expect(
            "POST",
            &format!("/channels/{channel}/webhooks"),
            Some(json!({"name": "Reports"})),
            200,
        )
        .await;
    let (id, hook_token) = (
        hook["id"].as_str().expect("id").to_owned(),
        hook["token"].as_str().expect("token").to_owned(),
    );
    let (status, executed) = send(
        "POST",
        format!("/webhooks/{id}/{hook_token}?wait=true"),
        json!({"username": "Reporter"}),
        file("d.txt", 6),
    )
    .await;
    assert_eq!(status, 200, "{executed}");
    assert_eq!(names(&executed), [("d.txt".to_owned(), 6)]);
    assert_spec(&sim, "the simulator's uploads to interactions and webhooks");
    sim.shutdown().await;
}
