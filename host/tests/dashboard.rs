//! The web dashboard over real sockets: a bot on the simulator, its dashboard, HTTP clients.
//! Who gets in (console codes, Discord login through the simulator's OAuth2), what each role
//! may do, and hostile requests refused without changing anything.

mod support;

use reqwest::StatusCode;
use support::dash::{Client, TestDash};
use zoryx_host::dashboard::routes::{Need, ROUTES};

/// A route's path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{name}", "basic")
        .replace("{id}", "000000000000")
        .replace("{file}", "dashboard.css")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_session_every_page_and_action_is_refused_and_nothing_changes() {
    let t = TestDash::start().await;
    let before = t.generation("basic").await;
    let anonymous = Client::new(&t.url);
    let config_before = std::fs::read_to_string(&t.config_file).expect("config");
    for (method, path, need) in ROUTES {
        if *need == Need::Public {
            continue;
        }
        let path = concrete(path);
        let (status, body) = match *method {
            "GET" => anonymous.get(&path).await,
            _ => {
                anonymous
                    .post(&path, &[("key", "prefix"), ("value", "?")])
                    .await
            }
        };
        match (*method, path.starts_with("/live/")) {
            // A page sends the browser to the login page.
            ("GET", false) => assert_eq!(status, StatusCode::SEE_OTHER, "GET {path}: {body}"),
            _ => assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}"),
        }
    }
    // A forged session cookie is nobody.
    let mut forged = Client::new(&t.url);
    forged.cookie = Some("0".repeat(64));
    forged.csrf = Some("0".repeat(64));
    assert_eq!(forged.get("/").await.0, StatusCode::SEE_OTHER);
    let (status, _) = forged.post("/plugins/basic/unload", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.generation("basic").await, before);
    assert_eq!(
        std::fs::read_to_string(&t.config_file).expect("config"),
        config_before
    );
    // The public pages answer.
    assert_eq!(anonymous.get("/login").await.0, StatusCode::OK);
    assert_eq!(anonymous.get("/static/htmx.min.js").await.0, StatusCode::OK);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_from_discord_login_reads_every_page_but_changes_nothing() {
    let t = TestDash::start().await;
    let mut viewer = Client::new(&t.url);
    let response = viewer.login_discord(t.bot.sim.guest().id).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "logged in");
    let before = t.generation("basic").await;
    for (method, path, need) in ROUTES {
        let path = concrete(path);
        if *method == "GET" && !path.starts_with("/live/") && *need != Need::Public {
            let (status, body) = viewer.get(&path).await;
            let expected = match need {
                Need::Can(p) if p.name() == "view.security" => StatusCode::FORBIDDEN,
                _ => StatusCode::OK,
            };
            // The chart answers 404 until a health check is stored.
            if path != "/system/chart.png" {
                assert_eq!(status, expected, "GET {path}: {body}");
            }
        }
        if *method == "POST" && matches!(need, Need::Can(_)) {
            let (status, body) = viewer
                .post(&path, &[("key", "prefix"), ("value", "?")])
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "POST {path}: {body}");
            assert!(body.contains("viewer"), "{body}");
        }
    }
    assert_eq!(t.generation("basic").await, before, "nothing reloaded");
    let (_, plugins) = viewer.get("/plugins").await;
    assert!(plugins.contains("basic") && !plugins.contains("hx-post=\"/plugins/basic/reload\""));
    // A stranger to the config is refused at login, and it is audited.
    let mut stranger = Client::new(&t.url);
    let extra = t.bot.sim.add_user("stranger").id;
    let refused = stranger.login_discord(extra).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(stranger.cookie.is_none());
    // The owner sees both in the audit log.
    let mut owner = Client::new(&t.url);
    owner.login_code(&t.code()).await;
    let (status, security) = owner.get("/security").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        security.contains("not a bot owner nor in dashboard.users"),
        "{security}"
    );
    assert!(security.contains("lacks plugins.reload"), "{security}");
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_reloads_unloads_loads_and_edits_the_config_through_the_console_checks() {
    let t = TestDash::start().await;
    let mut owner = Client::new(&t.url);
    let response = owner.login_code(&t.code()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/");
    let cookie = response.headers()["set-cookie"].to_str().expect("cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: not Secure");
    for page in [
        "/",
        "/plugins",
        "/logs",
        "/config",
        "/commands",
        "/shards",
        "/system",
    ] {
        let (status, body) = owner.get(page).await;
        assert_eq!(status, StatusCode::OK, "{page}: {body}");
    }
    let before = t.generation("basic").await.expect("loaded");
    let (status, body) = owner.post("/plugins/basic/reload", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Generation numbers are the process's: other tests' loads take numbers too.
    let after = t.generation("basic").await.expect("reloaded");
    assert!(after > before);
    assert!(
        body.contains(&format!("generation {before} -&gt; {after}")),
        "{body}"
    );
    assert!(
        body.contains(&format!("data-plugin=\"basic\">{after}<")),
        "{body}"
    );
    let (_, body) = owner.post("/plugins/basic/unload", &[]).await;
    assert!(body.contains("unloaded basic"), "{body}");
    assert_eq!(t.generation("basic").await, None);
    let (_, body) = owner.post("/plugins/basic/load", &[]).await;
    assert!(body.contains("loaded basic"), "{body}");
    // A path is never a plugin name.
    let (status, _) = owner.post("/plugins/..%2F..%2Fetc%2Fx/load", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The config: a valid key is written atomically, an invalid one leaves the file.
    let (_, body) = owner
        .post(
            "/config",
            &[("key", "cooldowns.default_rate"), ("value", "7")],
        )
        .await;
    assert!(body.contains("saved and applied now"), "{body}");
    let written = std::fs::read_to_string(&t.config_file).expect("config");
    assert!(written.contains("\"default_rate\": 7"), "{written}");
    let (_, body) = owner
        .post(
            "/config",
            &[("key", "limits.plugin_threads"), ("value", "1")],
        )
        .await;
    assert!(body.contains("Not changed"), "{body}");
    assert_eq!(
        std::fs::read_to_string(&t.config_file).expect("config"),
        written
    );
    // Secrets never show.
    let (_, config) = owner.get("/config").await;
    assert!(
        !config.contains(t.bot.sim.oauth_client_secret()),
        "secret shown"
    );
    // A second session, ended from the Security page.
    let mut other = Client::new(&t.url);
    other.login_code(&t.code()).await;
    let (_, security) = owner.get("/security").await;
    let session_ids: Vec<&str> = security
        .match_indices("/sessions/")
        .map(|(i, _)| &security[i + 10..i + 22])
        .collect();
    assert_eq!(session_ids.len(), 1, "only the other session can be ended");
    let (_, body) = owner
        .post(&format!("/sessions/{}/revoke", session_ids[0]), &[])
        .await;
    assert!(body.contains("ended the session"), "{body}");
    assert_eq!(other.get("/").await.0, StatusCode::SEE_OTHER, "logged out");
    // Everything is in the audit log, on disk.
    let audit = std::fs::read_to_string(t.bot.host.dir.path().join("data/dashboard_audit.json"))
        .expect("audit file");
    for action in [
        "login",
        "plugins.reload",
        "plugins.unload",
        "plugins.load",
        "config.edit",
        "sessions.revoke",
    ] {
        assert!(
            audit.contains(&format!("\"action\":\"{action}\"")),
            "{action}: {audit}"
        );
    }
    // Logging out ends the session.
    let (status, _) = owner.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(owner.get("/").await.0, StatusCode::SEE_OTHER);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_and_change_nothing() {
    let t = TestDash::start().await;
    let mut owner = Client::new(&t.url);
    owner.login_code(&t.code()).await;
    let before = t.generation("basic").await;
    let config_before = std::fs::read_to_string(&t.config_file).expect("config");
    // Path traversal: assets are served by exact name only.
    for path in [
        "/static/../config.json",
        "/static/..%2F..%2Fconfig.json",
        "/static/%2e%2e%2fconfig.json",
        "/static/dashboard.css%00.js",
    ] {
        let (status, body) = owner.get(path).await;
        assert!(status == StatusCode::NOT_FOUND, "{path}: {status} {body}");
    }
    // A POST without the CSRF token, and with a wrong one.
    let mut no_csrf = Client::new(&t.url);
    no_csrf.cookie = owner.cookie.clone();
    let (status, body) = no_csrf.post("/plugins/basic/reload", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    no_csrf.csrf = Some("f".repeat(64));
    assert_eq!(
        no_csrf.post("/plugins/basic/reload", &[]).await.0,
        StatusCode::FORBIDDEN
    );
    // From another site, even with the token.
    let cross = owner
        .http
        .post(format!("{}/plugins/basic/reload", t.url))
        .header(
            "cookie",
            format!("zoryx_session={}", owner.cookie.clone().expect("cookie")),
        )
        .header("x-csrf-token", owner.csrf.clone().expect("csrf"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    // An oversized body.
    let big = "x".repeat(zoryx_host::dashboard::MAX_BODY + 1);
    let (status, _) = owner
        .post("/config", &[("key", "prefix"), ("value", &big)])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A spent code, and a made-up one.
    let code = t.code();
    let mut first = Client::new(&t.url);
    assert_eq!(
        first.login_code(&code).await.status(),
        StatusCode::SEE_OTHER
    );
    let mut again = Client::new(&t.url);
    assert_eq!(
        again.login_code(&code).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        again.login_code(&"a".repeat(64)).await.status(),
        StatusCode::FORBIDDEN
    );
    // An OAuth2 callback with a state nobody handed out.
    let (status, _) = again.get("/login/callback?code=x&state=y").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(t.generation("basic").await, before);
    assert_eq!(
        std::fs::read_to_string(&t.config_file).expect("config"),
        config_before
    );
    // The login limit: 30 attempts a minute from one address, then 429.
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(again.login_code("nope").await.status());
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_tail_and_the_overview_stream_live() {
    let t = TestDash::start().await;
    let mut owner = Client::new(&t.url);
    owner.login_code(&t.code()).await;
    let open = |path: &str| {
        owner
            .http
            .get(format!("{}{path}", t.url))
            .header(
                "cookie",
                format!("zoryx_session={}", owner.cookie.clone().expect("cookie")),
            )
            .send()
    };
    let mut logs = open("/live/logs?level=INFO&plugin=basic")
        .await
        .expect("stream");
    assert_eq!(logs.status(), StatusCode::OK);
    assert_eq!(logs.headers()["content-type"], "text/event-stream");
    tracing::info!(plugin = "other", "not this one");
    tracing::info!(plugin = "basic", "a line for the tail");
    let mut seen = String::new();
    while !seen.contains("a line for the tail") {
        let chunk = tokio::time::timeout(support::bot::WAIT, logs.chunk())
            .await
            .expect("a log event in time")
            .expect("stream")
            .expect("open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: line"), "{seen}");
    assert!(!seen.contains("not this one"), "filtered by plugin: {seen}");
    let mut overview = open("/live/overview").await.expect("stream");
    let chunk = tokio::time::timeout(support::bot::WAIT, overview.chunk())
        .await
        .expect("figures in time")
        .expect("stream")
        .expect("open");
    let text = String::from_utf8_lossy(&chunk);
    assert!(
        text.contains("event: stats") && text.contains("fig-plugins"),
        "{text}"
    );
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart_and_a_revoked_one_does_not() {
    let mut t = TestDash::start().await;
    let mut kept = Client::new(&t.url);
    kept.login_code(&t.code()).await;
    let mut revoked = Client::new(&t.url);
    revoked.login_code(&t.code()).await;
    let mut ended = Client::new(&t.url);
    ended.login_code(&t.code()).await;
    // The second session is revoked from the Security page, the third logs out.
    let (status, page) = revoked.get("/security").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = revoked.cookie.clone().expect("cookie");
    let id = zoryx_host::dashboard::auth::hex(&zoryx_host::dashboard::auth::digest(&token)[..6]);
    assert!(page.contains(&id), "the session is listed: {page}");
    let (status, body) = kept.post(&format!("/sessions/{id}/revoke"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ended.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = t.bot.host.dir.path().join("data/dashboard_sessions.json");
    let text = std::fs::read_to_string(&file).expect("sessions file");
    assert!(
        !text.contains(kept.cookie.as_deref().expect("token")),
        "no token on disk"
    );

    t.restart_dashboard().await;
    for client in [&mut kept, &mut revoked, &mut ended] {
        client.base = t.url.clone();
    }
    let (status, body) = kept.get("/plugins").await;
    assert_eq!(status, StatusCode::OK, "the same cookie works: {body}");
    // Its CSRF token was kept with it: an action still goes through.
    let (status, body) = kept.post("/plugins/basic/reload", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for gone in [&revoked, &ended] {
        let (status, _) = gone.get("/plugins").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "back to the login page");
    }
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_gives_a_new_login_link_and_says_when_the_dashboard_is_off() {
    let mut t = TestDash::start().await;
    let manager = std::sync::Arc::clone(&t.bot.host.manager);
    let help = zoryx_host::console::execute(&manager, "help")
        .await
        .expect("not quit");
    assert!(help.contains("dashboard link"), "{help}");
    let line = zoryx_host::console::execute(&manager, "dashboard link")
        .await
        .expect("not quit");
    let link = line
        .strip_prefix("dashboard login link (once, 15 min): ")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        link.starts_with(&format!("{}/login#code=", t.url)),
        "{link}"
    );
    let code = link.split_once("#code=").expect("code").1;
    let mut owner = Client::new(&t.url);
    let response = owner.login_code(code).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, body) = owner.get("/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // `login` is the same command; each link is new and works once.
    let again = zoryx_host::console::execute(&manager, "login")
        .await
        .expect("not quit");
    assert!(again.contains("#code=") && again != line, "{again}");
    let spent = Client::new(&t.url).login_code(code).await;
    assert_ne!(spent.status(), StatusCode::SEE_OTHER, "a code works once");
    if let Some(dash) = t.dash.take() {
        dash.shutdown().await;
    }
    let off = zoryx_host::console::execute(&manager, "dashboard link")
        .await
        .expect("not quit");
    assert!(off.contains("the web dashboard is off"), "{off}");
    t.shutdown().await;
}
