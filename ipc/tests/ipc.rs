//! End-to-end tests on real sockets (127.0.0.1:0) with short intervals.

use std::time::Duration;

use serde_json::{Map, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use zoryx_ipc::frame::{HANDSHAKE_MAX_FRAME, read_frame, write_frame};
use zoryx_ipc::handshake::{self, AuthRequest};
use zoryx_ipc::{
    Client, ClientConfig, ClientEvent, ClusterStats, LeaveReason, Message, Secret, Server,
    ServerConfig, ServerEvent,
};

const WAIT: Duration = Duration::from_secs(5);

fn secret() -> Secret {
    Secret::new("correct horse battery staple").expect("secret")
}

fn server_config() -> ServerConfig {
    let mut c = ServerConfig::new("primary", secret());
    c.handshake_timeout = Duration::from_millis(600);
    c.heartbeat_timeout = Duration::from_millis(400);
    c
}

async fn server() -> (Server, mpsc::Receiver<ServerEvent>) {
    Server::bind("127.0.0.1:0", server_config())
        .await
        .expect("bind")
}

fn client_config(name: &str, server: &Server) -> ClientConfig {
    let mut c = ClientConfig::new(name, secret(), server.local_addr().to_string());
    c.heartbeat_interval = Duration::from_millis(50);
    c.server_timeout = Duration::from_millis(1000);
    c.backoff_initial = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c.handshake_timeout = Duration::from_secs(2);
    c
}

async fn connected(config: ClientConfig) -> (Client, mpsc::Receiver<ClientEvent>) {
    let (client, mut events) = Client::start(config).expect("start");
    let first = timeout(WAIT, events.recv()).await.expect("in time");
    assert!(
        matches!(first, Some(ClientEvent::Connected { ref server }) if server == "primary"),
        "{first:?}"
    );
    (client, events)
}

/// Next server event matching `pred`.
async fn server_event(
    events: &mut mpsc::Receiver<ServerEvent>,
    pred: impl Fn(&ServerEvent) -> bool,
) -> ServerEvent {
    timeout(WAIT, async {
        loop {
            let e = events.recv().await.expect("server events open");
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .expect("server event in time")
}

async fn client_message(events: &mut mpsc::Receiver<ClientEvent>, op: &str) -> Message {
    timeout(WAIT, async {
        loop {
            if let Some(ClientEvent::Message(m)) = events.recv().await
                && m.op == op
            {
                return m;
            }
        }
    })
    .await
    .expect("client message in time")
}

fn stats(guilds: u64, users: u64, shards: &[u64]) -> ClusterStats {
    ClusterStats {
        guild_count: guilds,
        user_count: users,
        shard_count: 4,
        shard_ids: shards.to_vec(),
        latency: 0.05,
        uptime: 12.0,
        ..ClusterStats::default()
    }
}

/// The server still accepts and serves a legitimate client.
async fn assert_serving(server: &Server) {
    let (client, _events) = connected(client_config("probe", server)).await;
    client.shutdown().await;
}

fn is_joined(name: &str) -> impl Fn(&ServerEvent) -> bool + '_ {
    move |e| matches!(e, ServerEvent::Joined { name: n, .. } if n == name)
}

#[tokio::test]
async fn two_clients_see_each_others_stats_and_broadcasts() {
    let (server, mut sev) = server().await;
    server.set_own_stats(stats(1, 10, &[0]));
    let (a, mut aev) = connected(client_config("cluster-a", &server)).await;
    let (b, mut bev) = connected(client_config("cluster-b", &server)).await;
    server_event(&mut sev, is_joined("cluster-b")).await;
    // a learns that b joined.
    let join = client_message(&mut aev, "cluster_join").await;
    assert_eq!(join.str_field("cluster_name"), Some("cluster-b"));

    a.set_stats(stats(100, 1000, &[1, 2]));
    b.set_stats(stats(50, 500, &[3]));
    // Stats are routed as broadcasts too; wait until each side saw the other's.
    let from_b = client_message(&mut aev, "stats_broadcast").await;
    assert_eq!(from_b.source, "cluster-b");
    let from_a = client_message(&mut bev, "stats_broadcast").await;
    assert_eq!(from_a.source, "cluster-a");

    let overview = a.clusters().await.expect("clusters");
    let names: Vec<&str> = overview.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cluster-a", "cluster-b", "primary"]);
    let b_stats = overview
        .get("cluster-b")
        .and_then(|c| c.stats.as_ref())
        .expect("b stats");
    assert_eq!(b_stats.guild_count, 50);
    assert_eq!(overview.totals.clusters, 3);
    assert_eq!(overview.totals.guild_count, 151);
    assert_eq!(overview.totals.user_count, 1510);
    assert_eq!(overview.totals.shards, 4);
    assert_eq!(
        b.clusters().await.expect("clusters").totals,
        overview.totals
    );

    // A broadcast from a reaches b (and the server owner), with the authenticated source.
    let mut data = Map::new();
    data.insert("message".into(), json!("hello"));
    a.broadcast("broadcast_message", data).expect("broadcast");
    let got = client_message(&mut bev, "broadcast_message").await;
    assert_eq!(got.source, "cluster-a");
    assert_eq!(got.str_field("message"), Some("hello"));
    let owner = server_event(
        &mut sev,
        |e| matches!(e, ServerEvent::Message(m) if m.op == "broadcast_message"),
    )
    .await;
    assert!(matches!(owner, ServerEvent::Message(m) if m.source == "cluster-a"));

    // Targeted: b -> a only; a spoofed source is overwritten.
    b.send(
        Message::new("ping", Map::new())
            .to("cluster-a")
            .from_source("primary"),
    )
    .expect("send");
    let ping = client_message(&mut aev, "ping").await;
    assert_eq!(ping.source, "cluster-b");

    // Clean shutdown is reported as a leave.
    b.shutdown().await;
    let left = server_event(&mut sev, |e| matches!(e, ServerEvent::Left { .. })).await;
    assert_eq!(
        left,
        ServerEvent::Left {
            name: "cluster-b".into(),
            reason: LeaveReason::Disconnected
        }
    );
    let leave = client_message(&mut aev, "cluster_leave").await;
    assert_eq!(leave.str_field("cluster_name"), Some("cluster-b"));
    a.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn heartbeats_keep_a_cluster_alive_and_their_loss_drops_it() {
    let (server, mut sev) = server().await;
    let (client, _cev) = connected(client_config("steady", &server)).await;
    server_event(&mut sev, is_joined("steady")).await;
    // Three heartbeat timeouts pass: the client's heartbeats keep it registered.
    let quiet = timeout(Duration::from_millis(1200), sev.recv()).await;
    assert!(quiet.is_err(), "unexpected event {quiet:?}");
    assert_eq!(server.cluster_names(), ["steady"]);

    // A raw client that authenticates and then never sends a heartbeat is dropped.
    let mut raw = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let got = handshake::client_handshake(&mut raw, &secret(), "silent")
        .await
        .expect("handshake");
    assert_eq!(got, "primary");
    let started = Instant::now();
    server_event(&mut sev, is_joined("silent")).await;
    let left = server_event(&mut sev, |e| matches!(e, ServerEvent::Left { .. })).await;
    assert_eq!(
        left,
        ServerEvent::Left {
            name: "silent".into(),
            reason: LeaveReason::HeartbeatTimeout
        }
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.cluster_names(), ["steady"]);
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_secret_is_refused_and_the_server_keeps_serving() {
    let (server, mut sev) = server().await;
    let mut raw = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let wrong = Secret::new("incorrect horse battery staple").expect("secret");
    let r = handshake::client_handshake(&mut raw, &wrong, "intruder").await;
    assert!(
        matches!(r, Err(zoryx_ipc::HandshakeError::Refused)),
        "{r:?}"
    );
    // The server closed the connection.
    let mut buf = [0u8; 1];
    assert_eq!(raw.read(&mut buf).await.expect("read"), 0);

    // The owner hears of the refusal.
    let refused = server_event(&mut sev, |e| matches!(e, ServerEvent::Refused { .. })).await;
    assert!(
        matches!(&refused, ServerEvent::Refused { reason, .. } if reason.contains("authentication failed")),
        "{refused:?}"
    );

    // A Client with the wrong secret keeps failing (and backing off) without connecting, and
    // says why each time.
    let mut cfg = client_config("intruder", &server);
    cfg.secret = wrong;
    let (intruder, mut iev) = Client::start(cfg).expect("start");
    for _ in 0..2 {
        let failed = timeout(WAIT, iev.recv()).await.expect("in time");
        assert!(
            matches!(&failed, Some(ClientEvent::ConnectFailed { error }) if error.contains("refused")),
            "{failed:?}"
        );
    }
    assert!(!intruder.is_connected());
    intruder.shutdown().await;

    assert_serving(&server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_replayed_handshake_is_refused() {
    let (server, _sev) = server().await;
    // Record a legitimate answer to one challenge.
    let mut first = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let challenge = read_frame(&mut first, HANDSHAKE_MAX_FRAME)
        .await
        .expect("read")
        .expect("challenge");
    let ns = handshake::parse_challenge(&challenge).expect("nonce");
    let recorded: AuthRequest =
        handshake::answer_challenge(&secret(), &ns, "cluster-r").expect("answer");
    write_frame(
        &mut first,
        &handshake::auth_message(&recorded),
        HANDSHAKE_MAX_FRAME,
    )
    .await
    .expect("write");
    let ok = read_frame(&mut first, HANDSHAKE_MAX_FRAME)
        .await
        .expect("read")
        .expect("reply");
    assert!(handshake::parse_auth_reply(&ok).is_ok());
    drop(first);

    // Replay it on a new connection: the server's nonce is new, so the proof is wrong.
    let mut second = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let challenge2 = read_frame(&mut second, HANDSHAKE_MAX_FRAME)
        .await
        .expect("read")
        .expect("challenge");
    assert_ne!(handshake::parse_challenge(&challenge2).expect("nonce"), ns);
    write_frame(
        &mut second,
        &handshake::auth_message(&recorded),
        HANDSHAKE_MAX_FRAME,
    )
    .await
    .expect("write");
    let refused = read_frame(&mut second, HANDSHAKE_MAX_FRAME)
        .await
        .expect("read")
        .expect("reply");
    assert!(matches!(
        handshake::parse_auth_reply(&refused),
        Err(zoryx_ipc::HandshakeError::Refused)
    ));
    assert!(matches!(
        read_frame(&mut second, HANDSHAKE_MAX_FRAME).await,
        Ok(None)
    ));
    assert_serving(&server).await;
    server.shutdown().await;
}

/// Authenticates a raw connection as `name`.
async fn raw_authenticated(server: &Server, name: &str) -> TcpStream {
    let mut raw = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    handshake::client_handshake(&mut raw, &secret(), name)
        .await
        .expect("handshake");
    raw
}

/// Reads until EOF or error; true if the peer closed within `WAIT`.
async fn closed_by_peer(raw: &mut TcpStream) -> bool {
    timeout(WAIT, async {
        let mut buf = [0u8; 1024];
        loop {
            match raw.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[tokio::test]
async fn oversize_frames_and_garbage_close_the_connection_only() {
    let (server, mut sev) = server().await;
    // Oversize: a 2 MiB length announced after authentication.
    let mut raw = raw_authenticated(&server, "big").await;
    raw.write_all(&(2u32 * 1024 * 1024).to_be_bytes())
        .await
        .expect("write");
    assert!(closed_by_peer(&mut raw).await);
    let left = server_event(&mut sev, |e| matches!(e, ServerEvent::Left { .. })).await;
    assert!(
        matches!(
            left,
            ServerEvent::Left {
                reason: LeaveReason::ProtocolError(_),
                ..
            }
        ),
        "{left:?}"
    );

    // Oversize before authentication (handshake frames are limited to 4 KiB).
    let mut raw = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    raw.write_all(&u32::MAX.to_be_bytes()).await.expect("write");
    assert!(closed_by_peer(&mut raw).await);

    // Garbage after authentication: a valid length and non-JSON bytes.
    let mut raw = raw_authenticated(&server, "noisy").await;
    raw.write_all(&[0, 0, 0, 4, 0xff, 0xfe, 0x00, 0x01])
        .await
        .expect("write");
    assert!(closed_by_peer(&mut raw).await);
    // Garbage instead of a handshake.
    let mut raw = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    assert!(closed_by_peer(&mut raw).await);

    assert_serving(&server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn slowloris_is_cut_off_at_the_handshake_deadline() {
    let (server, _sev) = server().await;
    let mut raw = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let started = Instant::now();
    let _challenge = read_frame(&mut raw, HANDSHAKE_MAX_FRAME)
        .await
        .expect("challenge");
    // Dribble a valid-looking frame one byte every 100 ms.
    let frame = b"\x00\x00\x00\x40{\"op\":\"auth\",\"data\":{\"cluster_name\":\"slow\"}}";
    let mut cut_at = None;
    for byte in frame.iter() {
        if raw.write_all(&[*byte]).await.is_err() {
            cut_at = Some(started.elapsed());
            break;
        }
        let mut buf = [0u8; 64];
        match timeout(Duration::from_millis(100), raw.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                cut_at = Some(started.elapsed());
                break;
            }
            _ => {}
        }
    }
    let cut_at = cut_at.expect("the server cut the connection");
    assert!(cut_at >= Duration::from_millis(550), "{cut_at:?}");
    assert!(cut_at < Duration::from_millis(1500), "{cut_at:?}");
    assert_serving(&server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn pending_handshakes_are_limited() {
    let mut cfg = server_config();
    cfg.max_pending_handshakes = 2;
    cfg.handshake_timeout = Duration::from_millis(300);
    let (server, _sev) = Server::bind("127.0.0.1:0", cfg).await.expect("bind");
    let mut idle1 = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut idle2 = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    // Both got a challenge: they hold the two handshake slots.
    for idle in [&mut idle1, &mut idle2] {
        assert!(
            read_frame(idle, HANDSHAKE_MAX_FRAME)
                .await
                .expect("read")
                .is_some()
        );
    }
    let mut third = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let started = Instant::now();
    assert!(matches!(
        read_frame(&mut third, HANDSHAKE_MAX_FRAME).await,
        Ok(None) | Err(_)
    ));
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "closed at once"
    );
    // Once the idle ones hit the deadline, slots free up again.
    assert!(closed_by_peer(&mut idle1).await && closed_by_peer(&mut idle2).await);
    assert_serving(&server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_reconnects_by_itself_when_the_server_restarts() {
    let (server, _sev) = server().await;
    let addr = server.local_addr();
    let (client, mut cev) = connected(client_config("phoenix", &server)).await;
    server.shutdown().await;
    let down = timeout(WAIT, cev.recv()).await.expect("in time");
    assert!(
        matches!(down, Some(ClientEvent::Disconnected { .. })),
        "{down:?}"
    );
    assert!(!client.is_connected());
    assert!(matches!(
        client.send(Message::new("x", Map::new())),
        Err(zoryx_ipc::IpcError::NotConnected)
    ));

    let (server, mut sev) = Server::bind(addr, server_config()).await.expect("rebind");
    let up = timeout(WAIT, async {
        loop {
            match cev.recv().await {
                Some(ClientEvent::Connected { server }) => return server,
                Some(_) => {}
                None => panic!("client events closed"),
            }
        }
    })
    .await
    .expect("reconnected in time");
    assert_eq!(up, "primary");
    server_event(&mut sev, is_joined("phoenix")).await;
    client.wait_connected().await.expect("connected");
    assert_eq!(
        client.clusters().await.expect("clusters").totals.clusters,
        1
    );
    client.shutdown().await;
    server.shutdown().await;
}
