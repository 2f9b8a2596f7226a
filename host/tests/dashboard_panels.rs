//! The plugins' own dashboard pages (`Registrar::panel`) with the real first-party plugins
//! (compiled libraries) behind the real dashboard and the simulator: the menu lists them, the
//! backups, automations, assistant and marketplace pages show and act through the one guard
//! (login, CSRF, `panels.act`), a viewer reads without buttons and is refused an action, every
//! action is audited, an unloaded plugin's page is gone.

mod support;

use reqwest::StatusCode;
use support::dash::{Client, TestDash};
use support::market::{MarketServer, entry, index};

const BACKUPS: (&str, &str) = ("plugin-backups.so", "backups.so");
const AUTOMATIONS: (&str, &str) = ("plugin-automations.so", "automations.so");
const ASSISTANT: (&str, &str) = ("plugin-assistant.so", "assistant.so");
const MARKET: (&str, &str) = ("plugin-marketplace.so", "marketplace.so");

/// `path` as the pages write it in an attribute (`/` escaped).
fn html(path: &str) -> String {
    path.replace('/', "&#x2f;")
}

/// The value of the first hidden `id` input after `marker` in a page.
fn id_after(page: &str, marker: &str) -> String {
    let from = page
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {page}"));
    let rest = &page[from..];
    let start = rest.find("name=\"id\" value=\"").expect("an id input") + 17;
    rest[start..start + rest[start..].find('"').expect("end")].to_owned()
}

/// An owner's client, logged in with a console code.
async fn owner(t: &TestDash) -> Client {
    let mut client = Client::new(&t.url);
    client.login_code(&t.code()).await;
    assert!(client.csrf.is_some(), "logged in");
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_automations_pages_show_and_act_through_the_guard() {
    let t = TestDash::start_with(&[BACKUPS, AUTOMATIONS], "hooks", "").await;
    let guild = t.bot.guild();
    let owner = owner(&t).await;

    // The menu lists both plugins' pages under their heading.
    let (status, overview) = owner.get("/").await;
    assert_eq!(status, StatusCode::OK);
    for href in ["/panels/backups/backups", "/panels/automations/automations"] {
        assert!(
            overview.contains(&format!("href=\"{}\"", html(href))),
            "{href} in the menu"
        );
    }
    assert!(overview.contains("From plugins"));

    // Backups: empty, then one taken from the page.
    let page = format!("/panels/backups/backups?guild={guild}");
    let (status, body) = owner.get(&page).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("No backups of this server yet") && body.contains("Take a backup now"));
    let (status, body) = owner
        .post(
            &page,
            &[("_action", "create"), ("label", "before <the> move")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.starts_with("<section id=\"panel\""),
        "a fragment: {body}"
    );
    assert!(
        body.contains("notice ok") && body.contains("taken"),
        "{body}"
    );
    assert!(
        body.contains("before &lt;the&gt; move") && !body.contains("<the>"),
        "the label is shown, escaped: {body}"
    );
    let id = id_after(&body, "before &lt;the&gt; move");
    let (status, body) = owner.post(&page, &[("_action", "pin"), ("id", &id)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("is pinned"), "{body}");
    let (_, body) = owner
        .post(&page, &[("_action", "delete"), ("id", &id)])
        .await;
    assert!(
        body.contains("is pinned; kept") && body.contains(&id),
        "{body}"
    );
    let (_, body) = owner
        .post(&page, &[("_action", "verify"), ("id", &id)])
        .await;
    assert!(body.contains("is intact"), "{body}");
    owner.post(&page, &[("_action", "pin"), ("id", &id)]).await;
    let (_, body) = owner
        .post(&page, &[("_action", "delete"), ("id", &id)])
        .await;
    assert!(
        body.contains("deleted") && body.contains("No backups of this server yet"),
        "{body}"
    );
    let (_, body) = owner.post(&page, &[("_action", "explode")]).await;
    assert!(
        body.contains("notice error") && body.contains("no action `explode`"),
        "{body}"
    );

    // Automations: a bad form is refused with the plugin's own check, a good one made, turned
    // off, deleted.
    let page = format!("/panels/automations/automations?guild={guild}");
    let create = async |settings: &str| {
        let form = [
            ("_action", "create"),
            ("template", "goodbye"),
            ("name", "bye"),
            ("settings", settings),
        ];
        owner.post(&page, &form).await.1
    };
    let body = create("channel=#nowhere").await;
    assert!(
        body.contains("notice error") && body.contains("nowhere"),
        "{body}"
    );
    assert!(body.contains("No automations in this server yet"), "{body}");
    let body = create("channel=#general message=\"{user} left\"").await;
    assert!(
        body.contains("notice ok") && body.contains("created"),
        "{body}"
    );
    let id = id_after(&body, ">bye<");
    let (_, body) = owner
        .post(&page, &[("_action", "toggle"), ("id", &id)])
        .await;
    assert!(
        body.contains("is off") && body.contains("Turn on"),
        "{body}"
    );
    let (_, body) = owner
        .post(&page, &[("_action", "delete"), ("id", &id)])
        .await;
    assert!(body.contains("deleted") && body.contains("No automations in this server yet"));

    // A viewer reads the page without buttons and is refused an action.
    let mut viewer = Client::new(&t.url);
    viewer.login_discord(t.bot.sim.guest().id).await;
    let page = format!("/panels/backups/backups?guild={guild}");
    let (status, body) = viewer.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("Take a backup now") && !body.contains("name=\"_action\""));
    let (status, _) = viewer.post(&page, &[("_action", "create")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = owner.get(&page).await;
    assert!(
        body.contains("No backups of this server yet"),
        "nothing was taken"
    );

    // No session: the login page; no CSRF token: refused, nothing done.
    let stranger = Client::new(&t.url);
    let (status, _) = stranger.get(&page).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut forged = Client::new(&t.url);
    forged.cookie = owner.cookie.clone();
    let (status, _) = forged.post(&page, &[("_action", "create")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = owner.get(&page).await;
    assert!(
        body.contains("No backups of this server yet"),
        "nothing was taken"
    );

    // Pages that do not exist.
    for path in [
        "/panels/backups/nope",
        "/panels/nothere/backups",
        "/panels/..%2Fbackups/backups",
    ] {
        let (status, _) = owner.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }

    // Every action is in the audit log, the viewer's refusal too.
    let (_, security) = owner.get("/security").await;
    for action in [
        "panels.create",
        "panels.pin",
        "panels.delete",
        "panels.toggle",
    ] {
        assert!(security.contains(action), "{action} audited");
    }
    assert!(security.contains("lacks panels.act"), "the refusal audited");

    // Unloaded, the page is gone from the menu and the address.
    t.bot
        .host
        .manager
        .unload("backups", false)
        .await
        .expect("unload");
    let (_, overview) = owner.get("/").await;
    assert!(!overview.contains(&html("/panels/backups/backups")));
    assert!(overview.contains(&html("/panels/automations/automations")));
    let (status, _) = owner.get(&page).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_marketplace_page_installs_for_owners_and_the_assistant_page_finds_it() {
    let server = MarketServer::start().await;
    let (c, c_bytes) = entry("c", "1.0.0", "manifest-c.so", &[]);
    server.put_file("c-1.0.0.so", c_bytes);
    server.publish(&index(1, vec![c]));
    let extra = format!(
        r#""marketplace": {{"index_url": "{}", "trusted_keys": ["{}"]}}"#,
        server.index_url(),
        server.key.public()
    );
    let t = TestDash::start_with(&[MARKET, ASSISTANT], "ask_zdbf", &extra).await;
    let owner = owner(&t).await;

    let page = "/panels/marketplace/marketplace";
    let (status, body) = owner.get(page).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(">c<") && body.contains("available"), "{body}");
    let (_, body) = owner
        .post(page, &[("_action", "install"), ("name", "c")])
        .await;
    assert!(body.contains("notice ok"), "{body}");
    assert!(
        body.contains("installed") && body.contains("Remove"),
        "{body}"
    );
    assert!(
        t.bot.host.manager.info("c").await.is_some_and(|i| i.loaded),
        "c is loaded"
    );

    // A viewer is not a bot owner: the host refuses the marketplace itself.
    let mut viewer = Client::new(&t.url);
    viewer.login_discord(t.bot.sim.guest().id).await;
    let (status, body) = viewer.get(page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("only a bot owner"), "{body}");

    // The assistant's page: its state, and a search of its index that finds the plugins.
    let page = "/panels/assistant/assistant";
    let (status, body) = owner.get(page).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("AI assistant") && body.contains("Key"),
        "{body}"
    );
    let (_, body) = owner
        .post(page, &[("_action", "find"), ("query", "marketplace")])
        .await;
    assert!(
        body.contains("found for") && body.contains("marketplace"),
        "{body}"
    );
    // Without a reachable model, a question is answered with why, not left hanging.
    let (status, body) = owner
        .post(
            page,
            &[
                ("_action", "ask"),
                ("topic", "plugins"),
                ("question", "what is loaded?"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("id=\"panel\"") && (body.contains("⚠️") || body.contains("notice error")),
        "{body}"
    );
    t.shutdown().await;
}
