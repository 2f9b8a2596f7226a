//! The simulated CDN on the simulator's own listener: attachments (the bot's uploads, users'
//! files with contents, slash-command uploads) and emoji images, under the paths of
//! `cdn.discordapp.com` / `media.discordapp.net`, as a host that rewrites those origins to
//! [`Simulator::cdn_url`] fetches them.

mod support;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use support::{Api, assert_spec, start};
use zoryx_sim::Simulator;

/// A fetched CDN answer: status, `Content-Type`, `Content-Length` and bytes.
struct Fetched {
    status: u16,
    content_type: String,
    length: Option<u64>,
    bytes: Vec<u8>,
}

/// Rewrites a `https://cdn.discordapp.com/...` or `https://media.discordapp.net/...` URL to
/// the simulator's CDN origin, keeping path and query, as the host does.
fn rewrite(sim: &Simulator, url: &str) -> String {
    let path = url
        .strip_prefix("https://cdn.discordapp.com")
        .or_else(|| url.strip_prefix("https://media.discordapp.net"))
        .unwrap_or_else(|| panic!("a Discord CDN URL: {url}"));
    format!("{}{path}", sim.cdn_url())
}

async fn fetch(url: &str) -> Fetched {
    let answer = reqwest::get(url).await.expect("the CDN answers");
    let status = answer.status().as_u16();
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let length = header("content-length").and_then(|l| l.parse().ok());
    let bytes = answer.bytes().await.expect("body").to_vec();
    Fetched {
        status,
        content_type,
        length,
        bytes,
    }
}

fn id_of(v: &Value) -> u64 {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a snowflake id")
}

#[tokio::test]
async fn cdn_url_is_the_origin_of_the_api_listener() {
    let sim = start().await;
    let origin = sim.cdn_url();
    assert_eq!(origin, sim.base_url());
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    assert!(!origin.ends_with('/'));
    // Unknown paths on the CDN's routes are plain-text 404s, without Authorization.
    for path in [
        "/attachments/1/2/x.txt",
        "/attachments/nope/2/x.txt",
        "/ephemeral-attachments/1/2/x.txt",
        "/emojis/123.png",
        "/emojis/123.bmp",
        "/emojis/abc.png",
    ] {
        let got = fetch(&format!("{origin}{path}")).await;
        assert_eq!(got.status, 404, "{path}");
        assert!(got.content_type.starts_with("text/plain"), "{path}");
        assert_eq!(got.bytes, b"404: Not Found");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn the_bots_uploads_are_served_at_their_urls_and_after_deletion() {
    let sim = start().await;
    let api = Api::new(&sim);
    let channel = sim.default_channel();
    let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
    let form = Form::new()
        .text(
            "payload_json",
            json!({"content": "files", "attachments": [
                {"id": "0", "filename": "chart.png"},
                {"id": "1", "filename": "raw.bin"},
            ]})
            .to_string(),
        )
        .part(
            "files[0]",
            Part::bytes(png.clone())
                .file_name("chart.png")
                .mime_str("image/png")
                .expect("media type"),
        )
        .part(
            "files[1]",
            Part::bytes(b"\x00\x01raw".to_vec()).file_name("raw.bin"),
        );
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/api/v10/channels/{channel}/messages",
            sim.base_url()
        ))
        .header("Authorization", format!("Bot {}", sim.token()))
        .multipart(form)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status().as_u16(), 200);
    let message: Value = answer.json().await.expect("JSON");
    let chart = &message["attachments"][0];
    let url = chart["url"].as_str().expect("url");
    assert_eq!(
        url,
        format!(
            "https://cdn.discordapp.com/attachments/{channel}/{}/chart.png",
            id_of(chart)
        )
    );

    let got = fetch(&rewrite(&sim, url)).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, png);
    assert_eq!(got.content_type, "image/png");
    assert_eq!(got.length, Some(png.len() as u64));
    // The proxy URL and a signed URL's query lead to the same file.
    let proxied = chart["proxy_url"].as_str().expect("proxy_url");
    assert_eq!(fetch(&rewrite(&sim, proxied)).await.bytes, png);
    let signed = format!("{}?ex=66f0&is=66ee&hm=abc&", rewrite(&sim, url));
    assert_eq!(fetch(&signed).await.bytes, png);
    // Without a content type: application/octet-stream.
    let raw = fetch(&rewrite(
        &sim,
        message["attachments"][1]["url"].as_str().expect("url"),
    ))
    .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.content_type, "application/octet-stream");
    assert_eq!(raw.bytes, b"\x00\x01raw");

    // The attachment id and the file name and the channel must all match.
    let base = sim.cdn_url();
    let aid = id_of(chart);
    for wrong in [
        format!("{base}/attachments/{channel}/{aid}/other.png"),
        format!("{base}/attachments/{}/{aid}/chart.png", channel + 1),
        format!("{base}/attachments/{channel}/{}/chart.png", aid + 1),
    ] {
        assert_eq!(fetch(&wrong).await.status, 404, "{wrong}");
    }

    // Deleted, the message's files stay on the CDN, as Discord's CDN keeps them a while.
    api.expect(
        "DELETE",
        &format!("/channels/{channel}/messages/{}", id_of(&message)),
        None,
        204,
    )
    .await;
    assert!(sim.message(id_of(&message)).is_none());
    assert_eq!(fetch(&rewrite(&sim, url)).await.bytes, png);
    assert_spec(&sim, "the bot's uploads served by the CDN");
    sim.shutdown().await;
}

#[tokio::test]
async fn users_files_with_contents_are_downloadable() {
    let sim = start().await;
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let json_bytes = br#"{"version":1,"roles":[]}"#;
    let mid = sim
        .inject_file_data(
            channel,
            guest,
            "here is the backup",
            &[
                ("backup.json", json_bytes.as_slice()),
                ("notes.txt", b"hello".as_slice()),
                ("pic.png", [0x89, b'P', b'N', b'G'].as_slice()),
                ("blob.xyz", b"?".as_slice()),
            ],
        )
        .await
        .expect("injected");
    let record = sim.message(mid).expect("stored");
    assert_eq!(record.content, "here is the backup");
    let attachments = record.payload["attachments"].as_array().expect("list");
    assert_eq!(attachments.len(), 4);
    assert_eq!(attachments[0]["filename"], "backup.json");
    assert_eq!(attachments[0]["size"], json_bytes.len());
    assert_eq!(
        attachments[0]["content_type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(attachments[1]["content_type"], "text/plain; charset=utf-8");
    assert_eq!(attachments[2]["content_type"], "image/png");
    assert!(attachments[3].get("content_type").is_none());
    let stored = sim.attachments(mid);
    assert_eq!(stored[0].data.as_deref(), Some(json_bytes.as_slice()));

    let got = fetch(&rewrite(&sim, attachments[0]["url"].as_str().expect("url"))).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, json_bytes);
    assert_eq!(got.content_type, "application/json; charset=utf-8");
    assert_eq!(got.length, Some(json_bytes.len() as u64));
    let unknown = fetch(&rewrite(&sim, attachments[3]["url"].as_str().expect("url"))).await;
    assert_eq!(unknown.content_type, "application/octet-stream");

    // The user deletes it: the file stays downloadable.
    sim.inject_delete(mid, guest).await.expect("deleted");
    assert_eq!(
        fetch(&rewrite(&sim, attachments[0]["url"].as_str().expect("url")))
            .await
            .bytes,
        json_bytes
    );

    // Files named and sized only still work, and have no contents on the CDN.
    let sized = sim
        .inject_files(channel, guest, "", &[("big.zip", 5_000_000)])
        .await
        .expect("injected");
    let sized = sim.message(sized).expect("stored").payload;
    assert_eq!(sized["attachments"][0]["size"], 5_000_000);
    let got = fetch(&rewrite(
        &sim,
        sized["attachments"][0]["url"].as_str().expect("url"),
    ))
    .await;
    assert_eq!(got.status, 404);

    // More than ten files: Discord's client does not send them.
    let eleven: Vec<(&str, &[u8])> = (0..11).map(|_| ("f.txt", b"x".as_slice())).collect();
    assert!(
        sim.inject_file_data(channel, guest, "", &eleven)
            .await
            .is_err()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn slash_command_uploads_with_contents_are_ephemeral_attachments_on_the_cdn() {
    let sim = start().await;
    let guild = sim.default_guild();
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let bytes = br#"{"restore":true}"#;
    let upload = sim.upload_data("restore.json", bytes);
    let plain = sim.upload("old.pdf", 90_000);
    let interaction = sim
        .inject_slash(
            guild,
            channel,
            guest,
            "restore",
            json!([
                {"name": "file", "type": 11, "value": upload.to_string()},
                {"name": "other", "type": 11, "value": plain.to_string()},
            ]),
        )
        .await
        .expect("slash");
    let (payload, _) = sim.interaction(interaction).expect("stored");
    let resolved = &payload["data"]["resolved"]["attachments"];
    let file = &resolved[upload.to_string()];
    assert_eq!(file["filename"], "restore.json");
    assert_eq!(file["size"], bytes.len());
    assert_eq!(file["ephemeral"], true);
    assert_eq!(file["content_type"], "application/json; charset=utf-8");
    let url = file["url"].as_str().expect("url");
    assert_eq!(
        url,
        format!(
            "https://cdn.discordapp.com/ephemeral-attachments/{}/{upload}/restore.json",
            sim.application_id()
        )
    );
    let got = fetch(&rewrite(&sim, url)).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.bytes, bytes);
    assert_eq!(got.content_type, "application/json; charset=utf-8");
    let proxied = fetch(&rewrite(&sim, file["proxy_url"].as_str().expect("proxy"))).await;
    assert_eq!(proxied.bytes, bytes);
    // Another name for the same id is not the file.
    let wrong = url.replace("restore.json", "other.json");
    assert_eq!(fetch(&rewrite(&sim, &wrong)).await.status, 404);

    // `upload` (name and size only) still resolves, with nothing on the CDN.
    let old = &resolved[plain.to_string()];
    assert_eq!(old["size"], 90_000);
    assert!(old.get("content_type").is_none());
    let got = fetch(&rewrite(&sim, old["url"].as_str().expect("url"))).await;
    assert_eq!(got.status, 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn emoji_images_are_served_with_a_placeholder_for_scripted_emojis() {
    let sim = start().await;
    let api = Api::new(&sim);
    let guild = sim.default_guild();
    let party = sim.add_emoji(guild, "party").expect("emoji");
    let other = sim.add_emoji(guild, "other").expect("emoji");
    let base = sim.cdn_url();
    let got = fetch(&format!(
        "{base}/emojis/{party}.png?size=96&quality=lossless"
    ))
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "image/png");
    assert_eq!(got.length, Some(got.bytes.len() as u64));
    assert!(
        got.bytes
            .starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        "a PNG"
    );
    // Deterministic per id, different between ids; any extension the CDN offers.
    let again = fetch(&format!("{base}/emojis/{party}.webp")).await;
    assert_eq!(again.bytes, got.bytes);
    assert_ne!(
        fetch(&format!("{base}/emojis/{other}.png")).await.bytes,
        got.bytes
    );
    for ext in ["gif", "jpg", "jpeg", "avif"] {
        assert_eq!(
            fetch(&format!("{base}/emojis/{party}.{ext}")).await.status,
            200
        );
    }
    // Deleted, the image stays served (a restore re-uploads it from there).
    api.expect(
        "DELETE",
        &format!("/guilds/{guild}/emojis/{party}"),
        None,
        204,
    )
    .await;
    assert_eq!(
        fetch(&format!("{base}/emojis/{party}.png")).await.bytes,
        got.bytes
    );
    sim.shutdown().await;
}
