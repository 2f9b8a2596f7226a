//! The shard manager: hosts linked as clusters over the real cluster IPC (TCP on loopback, a
//! real secret), each against its own simulator, with the first-party `shardmanager` plugin:
//! `clusters` lists every cluster and the totals, a broadcast reaches the other cluster's
//! plugin, a client with the wrong secret is refused while the server keeps serving, and a
//! client whose host stops leaves the server's list; the same link over TLS.

mod support;

use std::time::Duration;

use support::bot::{TestBot, WAIT, text_of};

const MANAGER: (&str, &str) = ("plugin-shardmanager.so", "shardmanager.so");
const SECRET: &str = "a shared secret for the clusters of the test";

fn cluster(mode: &str, name: &str, port: u16, secret: &str) -> String {
    format!(
        r#""framework": {{"enable_shard_manager": true}},
           "cluster": {{"mode": "{mode}", "host": "127.0.0.1", "port": {port},
                        "secret": "{secret}", "name": "{name}", "stats_interval_seconds": 1}}"#
    )
}

/// The same, posting broadcasts from other clusters to the simulator's default channel.
async fn start(mode: &str, name: &str, port: u16, secret: &str) -> TestBot {
    let config = cluster(mode, name, port, secret);
    TestBot::start_for(&[MANAGER], move |sim| {
        format!(
            r#"{config}, "plugins": {{"shardmanager": {{"broadcast_channel": {}}}}}"#,
            sim.default_channel()
        )
    })
    .await
}

/// Asks `bot`'s owner `command` until the answer satisfies `done`; the last answer.
async fn ask_until(bot: &mut TestBot, command: &str, done: impl Fn(&str) -> bool) -> String {
    let owner = bot.sim.owner().id;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let answer = text_of(&bot.ask(owner, command).await);
        if done(&answer) {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "`{command}` never answered as expected; last:\n{answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_see_each_other_broadcast_refuse_a_wrong_secret_and_drop_a_stopped_client() {
    let mut alpha = start("server", "alpha", 0, SECRET).await;
    let port = alpha.cluster.as_ref().expect("shard manager on").port();
    assert_ne!(port, 0);
    let mut beta = start("client", "beta", port, SECRET).await;

    // `clusters` on the server: both clusters with their figures, and the totals.
    let owner = alpha.sim.owner().id;
    let guest = alpha.sim.guest().id;
    let refused = alpha.ask(guest, "!clusters").await;
    assert_eq!(
        refused["embeds"][0]["title"], "Permission denied",
        "{refused}"
    );
    let overview = ask_until(&mut alpha, "!clusters", |t| {
        t.contains("beta") && t.contains("Clusters: 2") && t.contains("Guilds:   2")
    })
    .await;
    assert!(overview.contains("🌐 Shard Cluster Overview"), "{overview}");
    assert!(overview.contains("alpha (this)"), "{overview}");
    assert!(overview.contains("🟢 beta"), "{overview}");
    assert!(overview.contains("Shards:   2"), "{overview}");
    assert!(overview.contains("Listening: 127.0.0.1"), "{overview}");
    // And on the client, through the server.
    let seen = ask_until(&mut beta, "!clusters", |t| t.contains("Clusters: 2")).await;
    assert!(
        seen.contains("alpha (server)") && seen.contains("beta (this)"),
        "{seen}"
    );
    assert!(seen.contains("Status:    connected"), "{seen}");

    // `ipcstatus` on both ends; the secret is never shown.
    let status = text_of(&alpha.ask(owner, "!ipcstatus").await);
    assert!(
        status.contains("Mode:    server") && status.contains("1 client(s)"),
        "{status}"
    );
    assert!(status.contains("beta: heartbeat"), "{status}");
    assert!(!status.contains(SECRET), "{status}");
    let status = text_of(&beta.ask(beta.sim.owner().id, "!ipcstatus").await);
    assert!(
        status.contains("Connected: yes") && status.contains("Server:    alpha"),
        "{status}"
    );

    // A broadcast from the server reaches the client's plugin, which posts it.
    let sent = text_of(&alpha.ask(owner, "!broadcastmsg hi").await);
    assert!(
        sent.contains("📢 Broadcast Sent") && sent.contains("1 cluster(s)"),
        "{sent}"
    );
    let received = beta.nth_alert("📢 Broadcast from alpha", 1).await;
    assert!(received.contains("hi"), "{received}");
    // And one from the client reaches the server's.
    let beta_owner = beta.sim.owner().id;
    let sent = text_of(&beta.ask(beta_owner, "!broadcastmsg hello from beta").await);
    assert!(sent.contains("1 cluster(s)"), "{sent}");
    let received = alpha.nth_alert("📢 Broadcast from beta", 1).await;
    assert!(received.contains("hello from beta"), "{received}");

    // A client with the wrong secret is refused; the server keeps serving.
    let mut intruder = start("client", "intruder", port, "not the secret of the clusters").await;
    let status = ask_until(&mut intruder, "!ipcstatus", |t| t.contains("Last Error")).await;
    assert!(status.contains("Connected: no"), "{status}");
    assert!(status.contains("refused"), "{status}");
    let status = ask_until(&mut alpha, "!ipcstatus", |t| t.contains("refused")).await;
    assert!(
        status.contains("1 client(s)") && !status.contains("intruder"),
        "{status}"
    );
    let overview = text_of(&alpha.ask(owner, "!clusters").await);
    assert!(
        overview.contains("Clusters: 2") && !overview.contains("intruder"),
        "{overview}"
    );
    intruder.shutdown().await;

    // The client's host stops: it leaves the server's list at once.
    beta.shutdown().await;
    let overview = ask_until(&mut alpha, "!clusters", |t| !t.contains("beta")).await;
    assert!(overview.contains("Clusters: 1"), "{overview}");
    let status = text_of(&alpha.ask(owner, "!ipcstatus").await);
    assert!(status.contains("0 client(s)"), "{status}");
    alpha.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_shard_manager_off_the_commands_say_how_to_turn_it_on() {
    let mut bot = TestBot::start(&[MANAGER], "").await;
    assert!(bot.cluster.is_none());
    let owner = bot.sim.owner().id;
    for command in ["!clusters", "!ipcstatus", "!broadcastmsg hi"] {
        let answer = text_of(&bot.ask(owner, command).await);
        assert!(
            answer.contains("shard manager is off: set ENABLE_SHARD_MANAGER=true"),
            "{command}: {answer}"
        );
    }
    bot.shutdown().await;
}

/// A CA's certificate, and a certificate it signed for 127.0.0.1 with its key, as PEM files in
/// `dir`: (ca, cert, key).
fn certificates(dir: &std::path::Path) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("certificate");
    let files = [
        ("ca.pem", ca.pem()),
        ("cert.pem", cert.pem()),
        ("key.pem", key.serialize_pem()),
    ];
    let mut paths = Vec::new();
    for (name, pem) in files {
        let path = dir.join(name);
        std::fs::write(&path, pem).expect("write a PEM file");
        paths.push(path.display().to_string());
    }
    (paths[0].clone(), paths[1].clone(), paths[2].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_link_over_tls_with_the_certificate_files_of_the_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca, cert, key) = certificates(dir.path());
    let with = |config: String, tls: String| {
        // The cluster object's closing brace: the TLS keys go inside it.
        let cut = config.rfind('}').expect("the cluster object");
        format!("{}, {tls}{}", &config[..cut], &config[cut..])
    };
    let server = with(
        cluster("server", "alpha", 0, SECRET),
        format!(r#""tls_cert": {cert:?}, "tls_key": {key:?}"#),
    );
    let mut alpha = TestBot::start_for(&[MANAGER], move |_| server).await;
    let port = alpha.cluster.as_ref().expect("shard manager on").port();
    // The client expects the name in the certificate: cluster.host, 127.0.0.1.
    let client = with(
        cluster("client", "beta", port, SECRET),
        format!(r#""tls_ca": {ca:?}"#),
    );
    let mut beta = TestBot::start_for(&[MANAGER], move |_| client).await;
    let overview = ask_until(&mut alpha, "!clusters", |t| {
        t.contains("beta") && t.contains("Clusters: 2")
    })
    .await;
    assert!(overview.contains("🟢 beta"), "{overview}");
    let seen = ask_until(&mut beta, "!clusters", |t| t.contains("Clusters: 2")).await;
    assert!(seen.contains("alpha (server)"), "{seen}");
    beta.shutdown().await;
    alpha.shutdown().await;
}
