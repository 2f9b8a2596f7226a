//! Guild emoji routes over real HTTP: `POST /guilds/{g}/emojis` (data-URI images),
//! `PATCH` and `DELETE /guilds/{g}/emojis/{e}`, with Discord's permissions, name and image
//! checks and limits, GUILD_EMOJIS_UPDATE, and the images on the CDN.

mod support;

use serde_json::{Value, json};
use serenity::all::Emoji;
use support::{Api, RawGateway, assert_spec, start};
use zoryx_sim::Simulator;
use zoryx_sim::permissions as p;

/// GUILDS | GUILD_EXPRESSIONS.
const INTENTS: u64 = 1 | 8;

/// A tiny PNG (signature and an IHDR is all the simulator reads).
fn png() -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend_from_slice(b"\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0");
    bytes
}

fn gif() -> Vec<u8> {
    b"GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0;".to_vec()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn data_uri(kind: &str, bytes: &[u8]) -> String {
    format!("data:{kind};base64,{}", base64(bytes))
}

fn id_of(v: &Value) -> u64 {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a snowflake id")
}

async fn cdn(sim: &Simulator, emoji: u64, ext: &str) -> (u16, String, Vec<u8>) {
    let answer = reqwest::get(format!("{}/emojis/{emoji}.{ext}", sim.cdn_url()))
        .await
        .expect("the CDN answers");
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, answer.bytes().await.expect("body").to_vec())
}

fn set_bot_permissions(sim: &Simulator, perms: u64) {
    let guild = sim.default_guild();
    let role = sim.bot_role(guild).expect("the bot has a role");
    sim.set_role_permissions(guild, role, perms)
        .expect("role permissions");
}

#[tokio::test]
async fn emojis_are_created_edited_and_deleted_with_their_events_and_images() {
    let sim = start().await;
    let api = Api::new(&sim);
    let mut gw = RawGateway::connect(&sim).await;
    gw.login(&sim, INTENTS).await;
    let guild = sim.default_guild();
    let bot = sim.bot_user().id;
    let path = format!("/guilds/{guild}/emojis");
    let moderator = sim
        .roles(guild)
        .iter()
        .find(|r| r["name"] == "Moderator")
        .map(id_of)
        .expect("Moderator");

    let image = png();
    let created = api
        .expect(
            "POST",
            &path,
            Some(json!({
                "name": "zoryx_logo",
                "image": data_uri("image/png", &image),
                "roles": [moderator.to_string()],
            })),
            201,
        )
        .await;
    let emoji: Emoji = serde_json::from_value(created.clone()).expect("serenity parses it");
    assert_eq!(emoji.name, "zoryx_logo");
    assert!(!emoji.animated);
    assert_eq!(created["roles"], json!([moderator.to_string()]));
    assert_eq!(
        created["user"]["id"],
        bot.to_string(),
        "the uploader is shown"
    );
    let id = id_of(&created);
    let (_, update, _) = gw.dispatch("GUILD_EMOJIS_UPDATE").await;
    assert_eq!(update["guild_id"], guild.to_string());
    assert_eq!(update["emojis"][0]["id"], id.to_string());
    assert_eq!(update["emojis"][0]["roles"], json!([moderator.to_string()]));

    // Read back, and on the CDN with the bytes uploaded.
    let listed = api.expect("GET", &path, None, 200).await;
    assert_eq!(listed[0]["name"], "zoryx_logo");
    let one = api.expect("GET", &format!("{path}/{id}"), None, 200).await;
    assert_eq!(one["id"], id.to_string());
    assert_eq!(sim.emojis(guild).len(), 1);
    let (status, kind, bytes) = cdn(&sim, id, "png").await;
    assert_eq!((status, kind.as_str()), (200, "image/png"));
    assert_eq!(bytes, image);

    // A GIF makes an animated emoji; the data URI's declared type does not matter.
    let animated = api
        .expect(
            "POST",
            &path,
            Some(json!({"name": "dance", "image": data_uri("image/png", &gif())})),
            201,
        )
        .await;
    assert_eq!(animated["animated"], true);
    assert_eq!(animated["roles"], json!([]));
    let (_, update, _) = gw.dispatch("GUILD_EMOJIS_UPDATE").await;
    assert_eq!(update["emojis"].as_array().map(Vec::len), Some(2));
    let (_, kind, bytes) = cdn(&sim, id_of(&animated), "gif").await;
    assert_eq!(kind, "image/gif");
    assert_eq!(bytes, gif());

    // Edits: name and roles (null: everyone).
    let edited = api
        .expect(
            "PATCH",
            &format!("{path}/{id}"),
            Some(json!({"name": "logo2", "roles": null})),
            200,
        )
        .await;
    assert_eq!(edited["name"], "logo2");
    assert_eq!(edited["roles"], json!([]));
    let (_, update, _) = gw.dispatch("GUILD_EMOJIS_UPDATE").await;
    assert_eq!(update["emojis"][0]["name"], "logo2");
    let edited = api
        .expect(
            "PATCH",
            &format!("{path}/{id}"),
            Some(json!({"roles": [moderator.to_string()]})),
            200,
        )
        .await;
    assert_eq!(edited["name"], "logo2");
    assert_eq!(edited["roles"], json!([moderator.to_string()]));
    gw.dispatch("GUILD_EMOJIS_UPDATE").await;

    // Deleting the role takes it from the emoji.
    sim.remove_role(guild, moderator).expect("role deleted");
    let one = api.expect("GET", &format!("{path}/{id}"), None, 200).await;
    assert_eq!(one["roles"], json!([]));

    // Delete: 204, gone from the guild, the image still on the CDN.
    api.expect("DELETE", &format!("{path}/{id}"), None, 204)
        .await;
    let (_, update, _) = gw.dispatch("GUILD_EMOJIS_UPDATE").await;
    assert_eq!(update["emojis"].as_array().map(Vec::len), Some(1));
    api.refused("GET", &format!("{path}/{id}"), None, 404, 10014, None)
        .await;
    api.refused("DELETE", &format!("{path}/{id}"), None, 404, 10014, None)
        .await;
    api.refused(
        "PATCH",
        &format!("{path}/{id}"),
        Some(json!({"name": "back"})),
        404,
        10014,
        None,
    )
    .await;
    api.refused("DELETE", &format!("{path}/nope"), None, 404, 10014, None)
        .await;
    let (status, _, bytes) = cdn(&sim, id, "png").await;
    assert_eq!(status, 200);
    assert_eq!(bytes, image);
    // A restore re-creates it from the CDN's bytes.
    let restored = api
        .expect(
            "POST",
            &path,
            Some(json!({"name": "logo2", "image": data_uri("image/png", &bytes)})),
            201,
        )
        .await;
    assert_ne!(id_of(&restored), id);
    assert_spec(&sim, "the emoji routes");
    sim.shutdown().await;
}

#[tokio::test]
async fn emoji_bodies_are_checked_as_discord_checks_them() {
    let sim = start().await;
    let api = Api::new(&sim);
    let guild = sim.default_guild();
    let path = format!("/guilds/{guild}/emojis");
    let image = data_uri("image/png", &png());
    let post = |body: Value| {
        let api = &api;
        let path = path.clone();
        async move { api.call("POST", &path, Some(body)).await }
    };

    for (body, field, code) in [
        (json!({"image": image}), "name", "BASE_TYPE_REQUIRED"),
        (
            json!({"name": "a", "image": image}),
            "name",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            json!({"name": "x".repeat(33), "image": image}),
            "name",
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            json!({"name": "bad-name", "image": image}),
            "name",
            "STRING_TYPE_REGEX",
        ),
        (
            json!({"name": "café", "image": image}),
            "name",
            "STRING_TYPE_REGEX",
        ),
        (json!({"name": "ok"}), "image", "BASE_TYPE_REQUIRED"),
        (
            json!({"name": "ok", "image": base64(&png())}),
            "image",
            "BINARY_TYPE_INVALID_DATA_URI",
        ),
        (
            json!({"name": "ok", "image": "https://example.com/a.png"}),
            "image",
            "BINARY_TYPE_INVALID_DATA_URI",
        ),
        (
            json!({"name": "ok", "image": "data:image/png;base64,@@@@"}),
            "image",
            "IMAGE_INVALID",
        ),
        (
            json!({"name": "ok", "image": data_uri("image/png", b"not an image at all")}),
            "image",
            "IMAGE_INVALID",
        ),
        (
            json!({"name": "ok", "image": image, "roles": "everyone"}),
            "roles",
            "BASE_TYPE_LIST",
        ),
        (
            json!({"name": "ok", "image": image, "roles": ["x"]}),
            "roles.0",
            "NUMBER_TYPE_COERCE",
        ),
    ] {
        let (status, _, answer) = post(body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], 50035, "{answer}");
        let mut at = &answer["errors"];
        for part in field.split('.') {
            at = &at[part];
        }
        assert_eq!(at["_errors"][0]["code"], code, "{body}: {answer}");
    }

    // Too large: past 256 KiB decoded.
    let mut big = png();
    big.resize(256 * 1024 + 1, 0);
    let answer = api
        .refused(
            "POST",
            &path,
            Some(json!({"name": "big", "image": data_uri("image/png", &big)})),
            400,
            50035,
            Some(("image", "BINARY_TYPE_MAX_SIZE")),
        )
        .await;
    assert_eq!(
        answer["errors"]["image"]["_errors"][0]["message"],
        "File cannot be larger than 256.0 kb."
    );
    big.truncate(256 * 1024);
    api.expect(
        "POST",
        &path,
        Some(json!({"name": "just_fits", "image": data_uri("image/png", &big)})),
        201,
    )
    .await;

    // An unknown role.
    api.refused(
        "POST",
        &path,
        Some(json!({"name": "ok", "image": image, "roles": ["12345"]})),
        404,
        10011,
        None,
    )
    .await;
    // Edits check names the same way.
    let emoji = sim.add_emoji(guild, "scripted").expect("emoji");
    api.refused(
        "PATCH",
        &format!("{path}/{emoji}"),
        Some(json!({"name": "no spaces"})),
        400,
        50035,
        Some(("name", "STRING_TYPE_REGEX")),
    )
    .await;
    assert_eq!(sim.emojis(guild).len(), 2, "nothing refused was created");
    assert_spec(&sim, "the emoji refusals");
    sim.shutdown().await;
}

#[tokio::test]
async fn emoji_permissions_and_limits_follow_discord() {
    let sim = start().await;
    let api = Api::new(&sim);
    let guild = sim.default_guild();
    let path = format!("/guilds/{guild}/emojis");
    let image = data_uri("image/png", &png());
    let scripted = sim.add_emoji(guild, "scripted").expect("emoji");

    // Without expression permissions: 50013 for everything.
    set_bot_permissions(&sim, 0);
    api.refused(
        "POST",
        &path,
        Some(json!({"name": "nope", "image": image})),
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "PATCH",
        &format!("{path}/{scripted}"),
        Some(json!({"name": "nope"})),
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "DELETE",
        &format!("{path}/{scripted}"),
        None,
        403,
        50013,
        None,
    )
    .await;
    // Listing needs nothing; the uploader is not shown without the permissions.
    api.expect("GET", &path, None, 200).await;

    // CREATE_GUILD_EXPRESSIONS: create, and edit or delete its own emojis only.
    set_bot_permissions(&sim, p::CREATE_GUILD_EXPRESSIONS);
    let own = api
        .expect(
            "POST",
            &path,
            Some(json!({"name": "mine", "image": image})),
            201,
        )
        .await;
    let own = id_of(&own);
    api.expect(
        "PATCH",
        &format!("{path}/{own}"),
        Some(json!({"name": "mine2"})),
        200,
    )
    .await;
    api.refused(
        "PATCH",
        &format!("{path}/{scripted}"),
        Some(json!({"name": "theirs"})),
        403,
        50013,
        None,
    )
    .await;
    api.refused(
        "DELETE",
        &format!("{path}/{scripted}"),
        None,
        403,
        50013,
        None,
    )
    .await;
    api.expect("DELETE", &format!("{path}/{own}"), None, 204)
        .await;

    // MANAGE_GUILD_EXPRESSIONS: everything.
    set_bot_permissions(&sim, p::MANAGE_GUILD_EXPRESSIONS);
    api.expect(
        "PATCH",
        &format!("{path}/{scripted}"),
        Some(json!({"name": "renamed"})),
        200,
    )
    .await;

    // 50 static emojis at most (no boosts); animated ones count apart.
    for i in 0..49 {
        sim.add_emoji(guild, &format!("filler{i}")).expect("emoji");
    }
    let answer = api
        .refused(
            "POST",
            &path,
            Some(json!({"name": "one_more", "image": image})),
            400,
            30008,
            None,
        )
        .await;
    assert_eq!(answer["message"], "Maximum number of emojis reached (50)");
    let animated = data_uri("image/gif", &gif());
    for i in 0..50 {
        api.expect(
            "POST",
            &path,
            Some(json!({"name": format!("anim{i}"), "image": animated})),
            201,
        )
        .await;
    }
    let answer = api
        .refused(
            "POST",
            &path,
            Some(json!({"name": "anim_more", "image": animated})),
            400,
            30018,
            None,
        )
        .await;
    assert_eq!(
        answer["message"],
        "Maximum number of animated emojis reached (50)"
    );
    // Room again after a deletion.
    api.expect("DELETE", &format!("{path}/{scripted}"), None, 204)
        .await;
    api.expect(
        "POST",
        &path,
        Some(json!({"name": "one_more", "image": image})),
        201,
    )
    .await;
    set_bot_permissions(&sim, p::ADMINISTRATOR);
    assert_spec(&sim, "the emoji permissions and limits");
    sim.shutdown().await;
}
