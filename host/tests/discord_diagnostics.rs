//! Framework diagnostics end to end: the `fw_*` commands through the simulator, a burst of
//! failing commands raising the tier and one alert, the history (SQLite, a PNG graph), and
//! `/metrics` as Prometheus text.

mod support;

use std::collections::HashSet;

use support::bot::{TestBot, text_of};

/// Waits until the health loop has run `n` checks in all.
async fn checks(bot: &TestBot, n: u64) {
    let mut checks = bot.diagnostics.subscribe();
    tokio::time::timeout(support::bot::WAIT, checks.wait_for(|c| *c >= n))
        .await
        .expect("health checks in time")
        .expect("diagnostics running");
}

/// Checks `text` is Prometheus' text format: every sample belongs to a family declared with
/// `# TYPE` (gauge or counter) and `# HELP`, label values are quoted, values are numbers.
/// Returns the samples as (name with labels, value).
fn parse_prometheus(text: &str) -> Vec<(String, f64)> {
    let mut typed = HashSet::new();
    let mut helped = HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty(), "{line}");
            helped.insert(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(matches!(kind, "gauge" | "counter"), "{line}");
            assert!(typed.insert(name.to_owned()), "declared twice: {line}");
        } else {
            let (series, value) = line.rsplit_once(' ').expect("sample value");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
            let name = series.split('{').next().expect("name");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            assert!(
                typed.contains(name) && helped.contains(name),
                "undeclared: {line}"
            );
            if let Some(labels) = series.strip_prefix(name)
                && !labels.is_empty()
            {
                let inner = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .expect("labels in braces");
                for pair in inner.split("\",") {
                    let (key, val) = pair.split_once("=\"").expect("key=\"value\"");
                    assert!(!key.is_empty() && !val.contains('\n'), "{line}");
                }
            }
            samples.push((series.to_owned(), value));
        }
    }
    samples
}

/// Serves the health endpoint over the bot's diagnostics and asks it for `/metrics`.
async fn get_metrics(bot: &TestBot) -> (zoryx_host::health::HealthServer, reqwest::Response) {
    let server = zoryx_host::health::start(
        ([127, 0, 0, 1], 0).into(),
        zoryx_host::discord::GatewayStatus::default(),
        Some(std::sync::Arc::clone(&bot.diagnostics)),
    )
    .await
    .expect("health endpoint");
    let response = reqwest::get(format!("http://{}/metrics", server.local_addr()))
        .await
        .expect("GET /metrics");
    (server, response)
}

fn sample(samples: &[(String, f64)], series: &str) -> f64 {
    samples
        .iter()
        .find(|(s, _)| s == series)
        .unwrap_or_else(|| panic!("{series} in {samples:?}"))
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_errors_raises_the_tier_alerts_once_and_the_history_draws() {
    let mut bot = TestBot::start_stored(
        &[("basic-v1.so", "basic.so")],
        // Checks come from the test, not the clock: the loop's first is an hour away.
        r#""diagnostics": {"interval_seconds": 3600}"#,
    )
    .await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let refused = bot.ask(guest, "!fw_health").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );
    bot.ask(owner, "!fw_alert_channel").await;

    // A healthy start: the first check stores a row and sends nothing.
    let (_, grade) = bot.diagnostics.check().await;
    assert_eq!(
        grade.tier,
        zoryx_host::diagnostics::Tier::Healthy,
        "{grade:?}"
    );

    // Three failures in four commands: 75 %, past the seed's 10 % critical tier (the check
    // after `fw_health` counts it too: 3 of 5).
    for _ in 0..3 {
        bot.ask(guest, "!fail").await;
    }
    // A built-in is counted before its answer (a plugin's reply may come before its call is
    // over), so the counts are settled when the answer arrives.
    bot.ask(guest, "!ping").await;
    let health = text_of(&bot.ask(owner, "!fw_health").await);
    assert!(
        health.contains("Critical") && health.contains("error rate 75.0 % (3 of 4 commands)"),
        "{health}"
    );
    let (snapshot, grade) = bot.diagnostics.check().await;
    assert_eq!(
        grade.tier,
        zoryx_host::diagnostics::Tier::Critical,
        "{grade:?}"
    );
    assert_eq!((snapshot.window_commands, snapshot.window_errors), (5, 3));
    let alert = bot.nth_alert("🩺 Framework Health Alert", 1).await;
    assert!(
        alert.contains("🚨 Critical") && alert.contains("error rate 60.0 % (3 of 5 commands)"),
        "{alert}"
    );

    // Still critical at the next check: the same incident, no second message. (The owner
    // runs it: the guest is in its cooldown.)
    let failed = bot.ask(owner, "!fail").await;
    assert!(text_of(&failed).contains("failed on purpose"), "{failed}");
    let (_, grade) = bot.diagnostics.check().await;
    assert_eq!(grade.tier, zoryx_host::diagnostics::Tier::Critical);
    // A quiet interval: healthy again, one message saying so.
    bot.diagnostics.check().await;
    let over = bot.nth_alert("🩺 Framework Health Alert", 2).await;
    assert!(over.contains("Healthy again"), "{over}");
    bot.ask(owner, "!ping").await;
    assert_eq!(
        bot.alerts("🩺 Framework Health Alert").len(),
        2,
        "one message when it started, one when it ended"
    );

    // The errors, newest first, with whose command failed.
    let errors = text_of(&bot.ask(owner, "!fw_errors").await);
    assert!(
        errors.contains("4 error(s) kept")
            && errors.contains("**fail** (plugin basic) — failed on purpose"),
        "{errors}"
    );

    // The history: four checks in SQLite, listed, and drawn as a PNG.
    let rows = bot.diagnostics.history(1, 100).await.expect("history");
    let tiers: Vec<&str> = rows.iter().map(|r| r.tier.name()).collect();
    assert_eq!(tiers, ["healthy", "critical", "critical", "healthy"]);
    let history = bot.ask(owner, "!fw_history 1").await;
    let text = text_of(&history);
    assert!(
        text.contains("4 checks in the last 1 h: 2 healthy, 0 degraded, 2 critical"),
        "{text}"
    );
    assert!(text.contains("CPU (blue): 0 –"), "{text}");
    let upload = bot
        .sim
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.files.iter().any(|(_, name, _)| name == "health.png"))
        .expect("the graph was uploaded");
    let (_, _, size) = upload
        .files
        .iter()
        .find(|(_, name, _)| name == "health.png")
        .expect("health.png");
    assert!(*size > 1000, "a real image: {size} bytes");

    // The overview names the plugin's calls.
    let overview = text_of(&bot.ask(owner, "!fw_diagnostics").await);
    assert!(
        overview.contains("Health checks: 4 run, every 3600s"),
        "{overview}"
    );
    assert!(
        overview.contains("basic: ") && overview.contains("4 errors"),
        "{overview}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_loop_runs_at_its_interval_and_metrics_parse_as_prometheus_text() {
    let mut bot = TestBot::start_stored(
        &[("basic-v1.so", "basic.so")],
        r#""diagnostics": {"interval_seconds": 1, "memory_degraded_mb": 1,
            "memory_critical_mb": 100000, "error_rate_degraded": 90, "error_rate_critical": 95}"#,
    )
    .await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    bot.ask(guest, "!ping").await;
    bot.ask(guest, "!fail").await;
    // The loop checks every second by itself; any process is over 1 MB: degraded.
    checks(&bot, 2).await;
    let (_, grade) = bot.diagnostics.last().expect("a check");
    assert_eq!(
        grade.tier,
        zoryx_host::diagnostics::Tier::Degraded,
        "{grade:?}"
    );
    assert!(grade.reasons[0].1.starts_with("memory "), "{grade:?}");

    let (server, response) = get_metrics(&bot).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.expect("body");
    let samples = parse_prometheus(&text);
    assert_eq!(sample(&samples, "zoryx_commands_total"), 2.0, "{text}");
    assert_eq!(
        sample(&samples, "zoryx_command_errors_total"),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&samples, "zoryx_health_tier{tier=\"degraded\"}"),
        1.0,
        "{text}"
    );
    assert!(
        sample(&samples, "zoryx_plugin_calls_total{plugin=\"basic\"}") >= 1.0,
        "{text}"
    );
    assert_eq!(
        sample(&samples, "zoryx_plugin_errors_total{plugin=\"basic\"}"),
        1.0,
        "{text}"
    );
    assert!(
        sample(&samples, "zoryx_process_resident_memory_bytes") > 1e6,
        "{text}"
    );
    // The Grafana dashboard in the repository asks only for figures the endpoint serves.
    let dashboard = std::fs::read_to_string(support::root().join("deploy/grafana/zoryx.json"))
        .expect("deploy/grafana/zoryx.json");
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).expect("dashboard JSON");
    let families: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let mut asked = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for (at, _) in expr.match_indices("zoryx_") {
                let name: String = expr[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(families.contains(name.as_str()), "{name} is not served");
                asked += 1;
            }
        }
    }
    assert!(asked >= 13, "{asked}");
    server.shutdown().await;
    let history = text_of(&bot.ask(owner, "!fw_history").await);
    assert!(history.contains("degraded"), "{history}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_diagnostics_off_nothing_runs_and_the_commands_say_so() {
    let mut bot = TestBot::start_stored(
        &[("basic-v1.so", "basic.so")],
        r#""framework": {"enable_framework_diagnostics": false}, "diagnostics": {"interval_seconds": 1}"#,
    )
    .await;
    let owner = bot.sim.owner().id;
    let off = text_of(&bot.ask(owner, "!fw_health").await);
    assert!(off.contains("enable_framework_diagnostics"), "{off}");
    let (server, response) = get_metrics(&bot).await;
    assert_eq!(response.status(), 404);
    server.shutdown().await;
    // The loop never started: no check where the first would have run.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(!bot.diagnostics.enabled());
    assert_eq!(bot.diagnostics.checks(), 0);
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_status_shows_a_guild_database_behind_and_migrate_brings_it_up() {
    let mut bot = TestBot::start_with_storage(&[("basic-v1.so", "basic.so")]).await;
    let owner = bot.sim.owner().id;
    // A guild database written by the previous schema, not opened by this run.
    let behind = 777_u64;
    let path = bot
        .host
        .dir
        .path()
        .join(format!("data/db/{behind}/guild.db"));
    support::db::create_with_first_migration(&path, "guild")
        .await
        .close()
        .await;
    let guild_migrations = support::db::migration_files("guild").len();

    let status = text_of(&bot.ask(owner, "!fw_migrations").await);
    assert!(status.contains("✅ main.db:"), "{status}");
    assert!(
        status.contains(&format!(
            "⏳ guild {behind}: 1 applied, pending 0002 plugin kv"
        )),
        "{status}"
    );
    let refused = bot.ask(bot.sim.guest().id, "!fw_migrate").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );

    let migrated = text_of(&bot.ask(owner, "!fw_migrate").await);
    assert!(
        migrated.contains(&format!("✅ guild {behind}: applied [2")),
        "{migrated}"
    );
    let db = bot.db.clone().expect("storage");
    assert!(
        !db.databases().is_guild_open(behind),
        "opened only to migrate"
    );
    let status = text_of(&bot.ask(owner, "!fw_migrations").await);
    assert!(
        status.contains(&format!("✅ guild {behind}: {guild_migrations} applied")),
        "{status}"
    );
    let again = text_of(&bot.ask(owner, "!fw_migrate").await);
    assert!(again.contains("Every database is up to date"), "{again}");
    bot.shutdown().await;
}
