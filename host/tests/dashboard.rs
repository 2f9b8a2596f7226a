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
        .replace("{action}", "disable")
        // `basic` has no page of its own: its address is a 404 once past the guard (the
        // plugins' pages are `dashboard_panels.rs`'s).
        .replace("{plugin}", "basic")
        .replace("{panel}", "none")
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
            // Pages that act (chat) are not a viewer's, nor is the security page.
            let expected = match need {
                Need::Can(p) if p.name() == "view.security" || !p.is_view() => {
                    StatusCode::FORBIDDEN
                }
                _ if path.starts_with("/panels/") => StatusCode::NOT_FOUND,
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
    // The new pages show no action to a viewer either.
    for (page, action) in [
        ("/hooks", "hx-post=\"/hooks/"),
        ("/guilds", "hx-post=\"/guilds/"),
        ("/commands", "hx-post=\"/commands/permissions\""),
        ("/databases", "hx-post=\"/databases/check\""),
    ] {
        let (status, body) = viewer.get(page).await;
        assert_eq!(status, StatusCode::OK, "{page}: {body}");
        assert!(!body.contains(action), "{page} offers {action}: {body}");
    }
    assert!(
        !viewer.get("/").await.1.contains("href=\"/chat\""),
        "no Chat in a viewer's menu"
    );
    // A stranger to the config is refused at login, and it is audited.
    let mut stranger = Client::new(&t.url);
    let extra = t.bot.sim.add_user("stranger").id;
    let refused = stranger.login_discord(extra).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(stranger.cookie.is_none());
    // The owner sees both in the audit log.
    let owner = t.owner().await;
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
    t.assert_audited(&[
        "login",
        "plugins.reload",
        "plugins.unload",
        "plugins.load",
        "config.edit",
        "sessions.revoke",
    ]);
    // Logging out ends the session.
    let (status, _) = owner.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(owner.get("/").await.0, StatusCode::SEE_OTHER);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_and_change_nothing() {
    let t = TestDash::start().await;
    let owner = t.owner().await;
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
    // A POST without the CSRF token, and with a wrong one: every action.
    let mut no_csrf = Client::new(&t.url);
    no_csrf.cookie = owner.cookie.clone();
    for (method, path, need) in ROUTES {
        if *method == "POST" && matches!(need, Need::Can(_)) {
            let path = concrete(path);
            let (status, body) = no_csrf
                .post(
                    &path,
                    &[
                        ("channel", "1"),
                        ("content", "x"),
                        ("hook", "basic/fixture_event#1"),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "POST {path}: {body}");
            assert!(body.contains("CSRF"), "{body}");
        }
    }
    assert!(
        t.bot.sim.guilds().contains(&t.bot.guild()),
        "still in the guild"
    );
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
    let owner = t.owner().await;
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

/// Waits until `check` holds of page `path` (the gateway's cache follows Discord's events).
async fn eventually(client: &Client, path: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + support::bot::WAIT;
    loop {
        let (_, body) = client.get(path).await;
        if check(&body) {
            return body;
        }
        assert!(std::time::Instant::now() < deadline, "{path}: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_page_sends_as_the_bot_within_discords_limits() {
    let t = TestDash::start().await;
    let owner = t.owner().await;
    let (guild, channel) = (t.bot.guild(), t.bot.channel());
    let (status, page) = owner
        .get(&format!("/chat?guild={guild}&channel={channel}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("id=\"chat-form\"") && page.contains("#general"),
        "{page}"
    );
    let (guild_text, channel_text) = (guild.to_string(), channel.to_string());
    let send = |content: &'static str| {
        let form = [
            ("guild", guild_text.clone()),
            ("channel", channel_text.clone()),
            ("content", content.to_owned()),
        ];
        let owner = &owner;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            owner.post("/chat", &form).await
        }
    };
    let (status, body) = send("Hello from the dashboard <b>").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("notice ok") && body.contains("Sent to"),
        "{body}"
    );
    // It is in the channel, from the bot; and the panel shows it among the last messages.
    let sent = t
        .bot
        .sim
        .messages(channel)
        .into_iter()
        .find(|m| m.content == "Hello from the dashboard <b>")
        .expect("the message reached the channel");
    assert_eq!(sent.author_id, t.bot.sim.bot_user().id);
    assert!(
        body.contains("Hello from the dashboard &lt;b&gt;"),
        "{body}"
    );
    // Discord's limits, before anything is sent; the text stays in the form.
    let (_, body) = send("   ").await;
    assert!(body.contains("the message is empty"), "{body}");
    let long: &'static str = Box::leak("y".repeat(2001).into_boxed_str());
    let (_, body) = send(long).await;
    assert!(
        body.contains("2001 characters") && body.contains("at most 2000"),
        "{body}"
    );
    assert!(body.contains(long), "the message is kept in the form");
    assert!(
        !t.bot
            .sim
            .messages(channel)
            .iter()
            .any(|m| m.content == long)
    );
    // Discord's refusal: a channel that does not exist.
    let (_, body) = owner
        .post(
            "/chat",
            &[
                ("guild", &guild_text),
                ("channel", "12345"),
                ("content", "keep me"),
            ],
        )
        .await;
    assert!(
        body.contains("Unknown Channel") && body.contains("notice error"),
        "{body}"
    );
    assert!(body.contains(">keep me</textarea>"), "nothing lost: {body}");
    let audit = t.assert_audited(&["chat.send"]);
    assert!(audit.contains("Unknown Channel"), "{audit}");
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_settings_are_edited_with_the_commands_checks_and_the_bot_leaves_a_guild() {
    let t = TestDash::start().await;
    let owner = t.owner().await;
    let guild = t.bot.guild();
    let second = t.bot.sim.add_guild("Second Guild");
    eventually(&owner, "/guilds", |b| b.contains("Second Guild")).await;
    let path = format!("/guilds/{guild}/settings");
    let (status, body) = owner
        .post(
            &path,
            &[
                ("prefix", "?"),
                ("mention", "off"),
                ("errors", "30"),
                ("commands", "off"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("saved"), "{body}");
    // The bot answers the new prefix, as after `!setprefix ?`.
    let mut bot = t.bot;
    let answer = bot.ask(bot.sim.guest().id, "?ping").await;
    assert!(answer.to_string().contains("Pong"), "{answer}");
    let t = TestDash { bot, ..t };
    let (_, page) = owner.get("/guilds").await;
    assert!(page.contains("name=\"prefix\" value=\"?\""), "{page}");
    assert!(page.contains("name=\"errors\" value=\"30\""), "{page}");
    // The commands' checks: nothing changes when one value is wrong.
    for (field, value, says) in [
        ("prefix", "far too long", "1 to 10 characters"),
        ("errors", "9999", "seconds from 1 to 3600"),
        ("mention", "maybe", "on, off or default"),
    ] {
        let mut form = vec![
            ("prefix", "!"),
            ("mention", ""),
            ("errors", "10"),
            ("commands", "0"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let (_, body) = owner.post(&path, &form).await;
        assert!(
            body.contains("Not changed") && body.contains(says),
            "{field}: {body}"
        );
    }
    let (_, page) = owner.get("/guilds").await;
    assert!(
        page.contains("name=\"prefix\" value=\"?\""),
        "unchanged: {page}"
    );
    // A guild the bot is not in has no settings here.
    let (status, _) = owner
        .post(
            "/guilds/999/settings",
            &[("prefix", "?"), ("errors", "0"), ("commands", "0")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Leaving: Discord removes the guild and tells the bot, which forgets it.
    let (status, body) = owner.post(&format!("/guilds/{second}/leave"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Left Second Guild"), "{body}");
    assert!(!t.bot.sim.guilds().contains(&second));
    eventually(&owner, "/guilds", |b| !b.contains("Second Guild")).await;
    // Again: Discord's Unknown Guild, shown.
    let (status, body) = owner.post(&format!("/guilds/{second}/leave"), &[]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.contains("Unknown Guild"), "{body}");
    t.assert_audited(&["guilds.settings", "guilds.leave"]);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hooks_page_disables_enables_and_resets_as_the_eh_commands_do() {
    let t = TestDash::start().await;
    let owner = t.owner().await;
    let dispatcher = std::sync::Arc::clone(t.bot.host.manager.dispatcher());
    let failing = ("basic".to_owned(), "fixture_fail".to_owned(), 2);
    let event = ("basic".to_owned(), "fixture_event".to_owned(), 1);
    let (status, page) = owner.get("/hooks").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("basic&#x2f;fixture_fail#2") && page.contains("basic&#x2f;fixture_event#1"),
        "{page}"
    );
    // Five failures open the circuit; the page shows it and the runs.
    for _ in 0..5 {
        dispatcher.emit("fixture_fail", serde_json::json!({})).await;
    }
    assert!(dispatcher.hook_health().stats_of(&failing).circuit_open);
    let (_, page) = owner.get("/hooks").await;
    assert!(page.contains("<td class=\"circuit\">open</td>"), "{page}");
    assert!(page.contains("hook failed on purpose"), "{page}");
    let (_, body) = owner
        .post("/hooks/reset", &[("hook", "basic/fixture_fail#2")])
        .await;
    assert!(
        body.contains("circuit closed") && body.contains("id=\"hooks\""),
        "{body}"
    );
    assert!(!dispatcher.hook_health().stats_of(&failing).circuit_open);
    // Disabled by hand: skipped; enabled: runs again.
    let (_, body) = owner
        .post("/hooks/disable", &[("hook", "basic/fixture_event#1")])
        .await;
    assert!(body.contains("is disabled"), "{body}");
    assert!(dispatcher.hook_health().is_disabled(&event));
    let skipped = dispatcher.hook_health().stats_of(&event).skipped;
    dispatcher
        .emit("fixture_event", serde_json::json!({"n": 1}))
        .await;
    assert_eq!(
        dispatcher.hook_health().stats_of(&event).skipped,
        skipped + 1
    );
    let (_, body) = owner
        .post("/hooks/disable", &[("hook", "basic/fixture_event#1")])
        .await;
    assert!(body.contains("disabled already"), "{body}");
    let (_, body) = owner
        .post("/hooks/enable", &[("hook", "basic/fixture_event#1")])
        .await;
    assert!(body.contains("runs again"), "{body}");
    assert!(!dispatcher.hook_health().is_disabled(&event));
    // Names the eh commands refuse are refused here too.
    let (_, body) = owner.post("/hooks/disable", &[("hook", "nonsense")]).await;
    assert!(
        body.contains("hooks are named") && body.contains("notice error"),
        "{body}"
    );
    let (_, body) = owner
        .post("/hooks/reset", &[("hook", "basic/nothing#9")])
        .await;
    assert!(body.contains("No loaded plugin registered"), "{body}");
    t.assert_audited(&["hooks.disable", "hooks.enable", "hooks.reset"]);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_permissions_are_edited_through_the_checked_config_write() {
    let t = TestDash::start().await;
    let owner = t.owner().await;
    let (_, page) = owner.get("/commands").await;
    assert!(page.contains("id=\"permissions-form\""), "{page}");
    let (_, body) = owner
        .post(
            "/commands/permissions",
            &[("command", "version"), ("roles", "123, 456")],
        )
        .await;
    assert!(
        body.contains("notice ok") && body.contains("123, 456"),
        "{body}"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&t.config_file).expect("config"))
            .expect("json");
    assert_eq!(
        written["command_permissions"]["version"],
        serde_json::json!([123, 456])
    );
    let gate = t.bot.host.manager.dispatcher().gate().global_roles();
    assert_eq!(
        gate.get("version"),
        Some(&vec![123, 456]),
        "applied at once"
    );
    let (_, page) = owner.get("/commands").await;
    assert!(page.contains("123, 456"), "{page}");
    // Refused: the file is left as it was.
    let before = std::fs::read_to_string(&t.config_file).expect("config");
    for (command, roles, says) in [
        ("version", "admins", "is not a role id"),
        ("no_such_command", "1", "no command named"),
        ("version", "-5", "is not a role id"),
    ] {
        let (_, body) = owner
            .post(
                "/commands/permissions",
                &[("command", command), ("roles", roles)],
            )
            .await;
        assert!(
            body.contains("Not changed") && body.contains(says),
            "{body}"
        );
        assert_eq!(
            std::fs::read_to_string(&t.config_file).expect("config"),
            before
        );
    }
    // No roles: anyone again.
    let (_, body) = owner
        .post(
            "/commands/permissions",
            &[("command", "version"), ("roles", "")],
        )
        .await;
    assert!(body.contains("no role grant"), "{body}");
    assert!(
        t.bot
            .host
            .manager
            .dispatcher()
            .gate()
            .global_roles()
            .get("version")
            .is_none()
    );
    t.assert_audited(&["commands.permissions"]);
    t.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_are_checked_and_browsed_read_only_by_name() {
    let t = TestDash::start().await;
    let owner = t.owner().await;
    let guild = t.bot.guild();
    // A guild database with a real row, through the guild settings.
    let (_, body) = owner
        .post(
            &format!("/guilds/{guild}/settings"),
            &[
                ("prefix", "%"),
                ("mention", ""),
                ("errors", "10"),
                ("commands", "0"),
            ],
        )
        .await;
    assert!(body.contains("saved"), "{body}");
    // A table of main.db with long text, markup and a BLOB, over two pages.
    let databases = std::sync::Arc::clone(t.bot.db.as_ref().expect("stored").databases());
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, data BLOB)")
        .execute(databases.main())
        .await
        .expect("create");
    for i in 0..60 {
        let body = match i {
            0 => "<script>alert(1)</script>".to_owned(),
            1 => "z".repeat(500),
            _ => format!("note {i}"),
        };
        sqlx::query("INSERT INTO notes (body, data) VALUES (?1, ?2)")
            .bind(body)
            .bind(vec![7_u8; 1234])
            .execute(databases.main())
            .await
            .expect("insert");
    }
    let main_file = std::fs::read(databases.main_path()).expect("main.db");
    for name in ["main".to_owned(), guild.to_string()] {
        let (_, body) = owner.post("/databases/check", &[("database", &name)]).await;
        assert!(
            body.contains(&format!("{name}: integrity check ok")),
            "{body}"
        );
    }
    let (_, page) = owner.get("/databases/browse").await;
    assert!(
        page.contains(&format!("<option value=\"{guild}\"")),
        "{page}"
    );
    let (status, page) = owner.get(&format!("/databases/browse?db={guild}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("table=guild_settings"), "{page}");
    let (_, page) = owner
        .get(&format!(
            "/databases/browse?db={guild}&table=guild_settings"
        ))
        .await;
    assert!(page.contains("<td>prefix</td><td>%</td>"), "{page}");
    let (_, page) = owner.get("/databases/browse?db=main&table=notes").await;
    assert!(page.contains("60 rows, page 1 of 2"), "{page}");
    assert_eq!(page.matches("BLOB, 1234 bytes").count(), 50, "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;") && !page.contains("<script>alert"));
    assert!(page.contains(&format!("{}…", "z".repeat(200))) && !page.contains(&"z".repeat(201)));
    let (_, page) = owner
        .get("/databases/browse?db=main&table=notes&page=2")
        .await;
    assert!(
        page.contains("page 2 of 2") && page.contains("note 59"),
        "{page}"
    );
    assert_eq!(page.matches("BLOB, 1234 bytes").count(), 10);
    // Refused: a database the host does not know, a path, a table sqlite_master does not list.
    for path in [
        "/databases/browse?db=nope",
        "/databases/browse?db=..%2Fmain.db",
        "/databases/browse?db=%2Fetc%2Fpasswd",
        "/databases/browse?db=main.db",
        "/databases/browse?db=main&table=nope",
        "/databases/browse?db=main&table=notes%22%3B%20DROP%20TABLE%20notes%3B%20--",
        "/databases/browse?db=main&table=sqlite_master",
    ] {
        let (status, body) = owner.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (_, body) = owner
        .post("/databases/check", &[("database", "../../config.json")])
        .await;
    assert!(body.contains("no database named"), "{body}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM notes")
        .fetch_one(databases.main())
        .await
        .expect("count");
    assert_eq!(rows, 60, "nothing dropped");
    assert!(std::fs::read(databases.main_path()).expect("main.db").len() >= main_file.len());
    t.assert_audited(&["databases.check"]);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_page_counts_runs_and_failures_and_shows_the_last_errors() {
    let mut t = TestDash::start().await;
    let owner = t.owner().await;
    let author = t.bot.sim.owner().id;
    t.bot.ask(author, "!version").await;
    t.bot.ask(author, "!fail").await;
    t.bot.ask(author, "!fail").await;
    // Failures count at once; runs reach `main.db` at its next write.
    let page = eventually(&owner, "/commands", |page| {
        let row = |name: &str| {
            let start = page.find(&format!("id=\"command-{name}\"")).unwrap_or(0);
            page[start..]
                .split("</tr>")
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        row("version").contains("<td class=\"runs\">1</td>")
            && row("fail").contains("<td class=\"runs\">2</td>")
            && row("fail").contains("<td class=\"failed\">2</td>")
            && row("version").contains("<td class=\"failed\">0</td>")
    })
    .await;
    let errors = &page[page.find("Last errors").expect("the errors")..];
    assert!(
        errors.contains("<code>fail</code>") && errors.contains("basic"),
        "{errors}"
    );
    t.shutdown().await;
}
