//! The health endpoint over real sockets: `GET /healthz` follows the gateway against the
//! simulator (503 while starting, 200 with shard states when up, 503 while a lost session cannot
//! reconnect, 503 once stopped; other paths 404), and the real binary serves it in offline mode,
//! where `zoryx health` asks it.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::TestHost;
use support::bot::env_for;
use zoryx_host::config::CoreConfig;
use zoryx_host::discord::{self, DiscordOptions, GatewayStatus, Services};
use zoryx_host::guild_settings::MemorySettings;
use zoryx_sim::{SimConfig, Simulator};

/// serenity waits 5 s between two starts of a shard, so reconnecting takes a while.
const WAIT: Duration = Duration::from_secs(40);

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.expect("the endpoint answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Polls `url` until `accept` takes its answer; panics with the last answer at the deadline.
async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    what: &str,
    accept: impl Fn(u16, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let (status, body) = get(client, url).await;
        if accept(status, &body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {status} {body} after {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_follows_the_gateway_from_start_through_a_lost_session_to_stop() {
    let sim = Simulator::start(SimConfig {
        heartbeat_interval: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    // Discord is "down" at first: the bot's REST calls work, its gateway connections do not.
    sim.refuse_gateway(true);
    let host = TestHost::new(&[]);
    let gateway = GatewayStatus::default();
    let server = zoryx_host::health::start(([127, 0, 0, 1], 0).into(), gateway.clone(), None)
        .await
        .expect("health endpoint");
    assert_ne!(server.local_addr().port(), 0, "port 0 is resolved");
    let url = server.url();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    let (status, body) = get(&client, &url).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["state"], "starting", "{body}");

    let options =
        DiscordOptions::from_config(&CoreConfig::default(), &env_for(&sim)).expect("options");
    let services = Services {
        gateway: gateway.clone(),
        ..Services::default()
    };
    let handle = discord::start_with(
        Arc::clone(&host.manager),
        Arc::new(MemorySettings::default()),
        options,
        services,
    )
    .await
    .expect("the token is checked over REST");
    let (status, body) = get(&client, &url).await;
    assert_eq!(status, 503, "not connected yet: {body}");
    assert_eq!(body["state"], "starting", "{body}");

    sim.refuse_gateway(false);
    let body = wait_for(&client, &url, "up", |status, _| status == 200).await;
    assert_eq!(body["state"], "up", "{body}");
    assert_eq!(body["shard_total"], 1, "{body}");
    let shards = body["shards"].as_array().expect("shards");
    assert_eq!(shards.len(), 1, "{body}");
    assert_eq!(shards[0]["id"], 0);
    assert_eq!(shards[0]["state"], "connected");
    // Heartbeats every 200 ms: the latency is soon known.
    let body = wait_for(&client, &url, "a latency", |status, body| {
        status == 200 && body["shards"][0]["latency_ms"].is_number()
    })
    .await;
    assert!(body["shards"][0]["latency_ms"].as_f64().expect("ms") >= 0.0);

    // The session ends (4009: no resume) and Discord refuses new connections meanwhile.
    sim.refuse_gateway(true);
    sim.drop_session(4009).await;
    let body = wait_for(&client, &url, "the lost session", |status, _| status == 503).await;
    assert_eq!(body["state"], "reconnecting", "{body}");
    assert_ne!(body["shards"][0]["state"], "connected", "{body}");
    sim.refuse_gateway(false);
    let body = wait_for(&client, &url, "back up", |status, _| status == 200).await;
    assert_eq!(body["shards"][0]["state"], "connected", "{body}");

    for path in ["/", "/health", "/healthz/shards", "/metrics"] {
        let other = url.replace("/healthz", path);
        let status = client.get(&other).send().await.expect("answer").status();
        assert_eq!(status.as_u16(), 404, "{other}");
    }

    handle.shutdown().await;
    let body = wait_for(&client, &url, "stopped", |status, body| {
        status == 503 && body["state"] == "stopped"
    })
    .await;
    assert!(
        body["shards"]
            .as_array()
            .expect("shards")
            .iter()
            .all(|s| s["state"] == "stopped"),
        "{body}"
    );
    server.shutdown().await;
    assert!(
        client.get(&url).send().await.is_err(),
        "the endpoint is gone"
    );
    host.manager.shutdown().await;
    sim.shutdown().await;
}

/// The binary, its stdout lines on a channel.
struct Bot {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Bot {
    fn start(dir: &std::path::Path) -> Self {
        let mut child = Command::new(support::checker())
            .args(["run", "--no-console"])
            .current_dir(dir)
            .env_remove("DISCORD_TOKEN")
            .env_remove("ZORYX_HEALTH_BIND")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn zoryx");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The URL the binary printed.
    fn health_url(&self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .expect("`health endpoint: URL` on stdout");
            if let Some(url) = line.strip_prefix("health endpoint: ") {
                return url.trim().to_owned();
            }
        }
    }

    fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "zoryx exited with {status}");
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `zoryx health ARGS` in `dir`: (exit code, stdout and stderr).
fn zoryx_health(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(support::checker())
        .arg("health")
        .args(args)
        .current_dir(dir)
        .env_remove("ZORYX_HEALTH_BIND")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run zoryx health");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_healthz_in_offline_mode_and_zoryx_health_asks_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("extensions");
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"auto_reload": false, "health": {"bind": "127.0.0.1:0"}}"#,
    )
    .expect("config");
    let mut bot = Bot::start(dir.path());
    let url = bot.health_url();
    let addr = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/healthz"))
        .expect("http://ADDRESS/healthz")
        .to_owned();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let body = wait_for(&client, &url, "offline mode up", |status, _| status == 200).await;
    assert_eq!(body["shards"][0]["state"], "connected", "{body}");

    // `zoryx health`: by --addr, and by ZORYX_HEALTH_BIND (config.json says port 0, which
    // cannot be asked, so the variable must be what it used).
    let (code, text) = zoryx_health(dir.path(), &["--addr", &addr], &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.starts_with("healthy: ") && text.contains("\"connected\""),
        "{text}"
    );
    let (code, text) = zoryx_health(dir.path(), &[], &[("ZORYX_HEALTH_BIND", &addr)]);
    assert_eq!(code, 0, "{text}");
    // With the endpoint off it says how to turn it on.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let (code, text) = zoryx_health(elsewhere.path(), &[], &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("health.bind"), "{text}");

    bot.terminate();
    let (code, text) = zoryx_health(dir.path(), &["--addr", &addr], &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.starts_with("unhealthy: "), "{text}");
}
