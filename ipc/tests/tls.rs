//! TLS around the IPC on real sockets (127.0.0.1:0), with certificates made for each test:
//! the whole link works inside TLS, and a plaintext peer, a client trusting another CA, a
//! client asking for another name and a wrong secret inside TLS are all refused while the
//! server keeps serving.

use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::sync::mpsc;
use tokio::time::timeout;
use zoryx_ipc::{
    Client, ClientConfig, ClientEvent, ClientTls, ClusterStats, Secret, Server, ServerConfig,
    ServerEvent, ServerTls, TlsError,
};

const WAIT: Duration = Duration::from_secs(5);

/// A CA and a server certificate it signed for `127.0.0.1` and `localhost`.
struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn make_pki(ca_name: &str) -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, ca_name.to_owned());
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server params")
        .signed_by(&key, &ca)
        .expect("server certificate");
    Pki {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

fn secret(s: &str) -> Secret {
    Secret::new(s).expect("secret")
}

async fn server(pki: Option<&Pki>) -> (Server, mpsc::Receiver<ServerEvent>) {
    let mut config = ServerConfig::new("primary", secret("correct horse battery staple"));
    config.handshake_timeout = Duration::from_millis(600);
    config.tls =
        pki.map(|p| ServerTls::from_pem(p.cert.as_bytes(), p.key.as_bytes()).expect("server TLS"));
    Server::bind("127.0.0.1:0", config).await.expect("bind")
}

fn client_config(name: &str, server: &Server, tls: Option<ClientTls>) -> ClientConfig {
    let mut c = ClientConfig::new(
        name,
        secret("correct horse battery staple"),
        server.local_addr().to_string(),
    );
    c.heartbeat_interval = Duration::from_millis(50);
    c.server_timeout = Duration::from_millis(1000);
    c.backoff_initial = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c.handshake_timeout = Duration::from_secs(2);
    c.tls = tls;
    c
}

fn trusting(pki: &Pki, name: &str) -> ClientTls {
    ClientTls::from_pem(pki.ca.as_bytes(), name).expect("client TLS")
}

async fn first_event(events: &mut mpsc::Receiver<ClientEvent>) -> ClientEvent {
    timeout(WAIT, events.recv())
        .await
        .expect("a client event in time")
        .expect("client events open")
}

async fn refused(events: &mut mpsc::Receiver<ServerEvent>) -> String {
    timeout(WAIT, async {
        loop {
            match events.recv().await.expect("server events open") {
                ServerEvent::Refused { reason, .. } => return reason,
                ServerEvent::Joined { name, .. } => panic!("{name} joined"),
                _ => {}
            }
        }
    })
    .await
    .expect("a refusal in time")
}

/// A client trusting `pki` still gets in: the server kept serving.
async fn assert_serving(server: &Server, pki: &Pki) {
    let (client, mut events) = Client::start(client_config(
        "probe",
        server,
        Some(trusting(pki, "127.0.0.1")),
    ))
    .expect("start");
    let event = first_event(&mut events).await;
    assert!(matches!(event, ClientEvent::Connected { .. }), "{event:?}");
    client.shutdown().await;
}

#[tokio::test]
async fn tls_carries_the_handshake_heartbeats_and_stats_end_to_end() {
    let pki = make_pki("zoryx test CA");
    let (server, mut server_events) = server(Some(&pki)).await;
    let (client, mut events) = Client::start(client_config(
        "cluster-1",
        &server,
        Some(trusting(&pki, "localhost")),
    ))
    .expect("start");
    let event = first_event(&mut events).await;
    assert!(
        matches!(&event, ClientEvent::Connected { server } if server == "primary"),
        "{event:?}"
    );
    client.set_stats(ClusterStats {
        guild_count: 42,
        user_count: 4200,
        shard_count: 2,
        shard_ids: vec![1],
        ..ClusterStats::default()
    });
    // The stats reach the server, and its overview comes back to the client, inside TLS.
    let overview = timeout(WAIT, async {
        loop {
            let overview = client.clusters().await.expect("overview");
            if overview.totals.guild_count == 42 {
                return overview;
            }
            // Each answer is one round trip after the last: the stats frame went before it.
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the stats in time");
    assert_eq!(overview.totals.user_count, 4200);
    assert!(
        server.cluster_names().contains(&"cluster-1".to_owned()),
        "{:?}",
        server.cluster_names()
    );
    // Heartbeats keep it joined past the server's deadline for them.
    while let Ok(event) = server_events.try_recv() {
        assert!(!matches!(event, ServerEvent::Left { .. }), "{event:?}");
    }
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_plaintext_client_is_refused_by_a_tls_server() {
    let pki = make_pki("zoryx test CA");
    let (server, mut server_events) = server(Some(&pki)).await;
    let (client, mut events) = Client::start(client_config("plain", &server, None)).expect("start");
    let reason = refused(&mut server_events).await;
    assert!(reason.contains("TLS"), "{reason}");
    let event = first_event(&mut events).await;
    assert!(
        matches!(event, ClientEvent::ConnectFailed { .. }),
        "{event:?}"
    );
    client.shutdown().await;
    assert_serving(&server, &pki).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_tls_client_is_refused_by_a_plaintext_server() {
    let pki = make_pki("zoryx test CA");
    let (server, mut server_events) = server(None).await;
    let (client, mut events) = Client::start(client_config(
        "tls",
        &server,
        Some(trusting(&pki, "127.0.0.1")),
    ))
    .expect("start");
    let event = first_event(&mut events).await;
    let ClientEvent::ConnectFailed { error } = event else {
        panic!("{event:?}")
    };
    assert!(error.contains("TLS handshake failed"), "{error}");
    let reason = refused(&mut server_events).await;
    assert!(reason.contains("TLS"), "{reason}");
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_trusting_another_ca_or_asking_another_name_is_refused() {
    let pki = make_pki("zoryx test CA");
    let other = make_pki("another CA");
    let (server, mut server_events) = server(Some(&pki)).await;
    for (tls, why) in [
        (trusting(&other, "127.0.0.1"), "UnknownIssuer"),
        (trusting(&pki, "cluster.example.net"), "not valid for name"),
    ] {
        let (client, mut events) =
            Client::start(client_config("wrong-trust", &server, Some(tls))).expect("start");
        let event = first_event(&mut events).await;
        let ClientEvent::ConnectFailed { error } = event else {
            panic!("{event:?}")
        };
        assert!(error.contains("TLS handshake failed"), "{error}");
        assert!(error.contains(why), "{error}");
        let reason = refused(&mut server_events).await;
        assert!(reason.contains("TLS handshake failed"), "{reason}");
        client.shutdown().await;
    }
    assert_serving(&server, &pki).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_inside_tls_is_still_refused() {
    let pki = make_pki("zoryx test CA");
    let (server, mut server_events) = server(Some(&pki)).await;
    let mut config = client_config("intruder", &server, Some(trusting(&pki, "127.0.0.1")));
    config.secret = secret("not the shared secret at all");
    let (client, mut events) = Client::start(config).expect("start");
    let event = first_event(&mut events).await;
    let ClientEvent::ConnectFailed { error } = event else {
        panic!("{event:?}")
    };
    assert!(!error.contains("TLS"), "TLS went through: {error}");
    let reason = refused(&mut server_events).await;
    assert!(reason.contains("handshake failed"), "{reason}");
    assert!(!reason.contains("TLS"), "{reason}");
    client.shutdown().await;
    assert_serving(&server, &pki).await;
    server.shutdown().await;
}

#[test]
fn unusable_pem_is_refused_with_what_is_wrong_and_where() {
    let pki = make_pki("zoryx test CA");
    let dir = std::env::temp_dir().join(format!("zoryx-ipc-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert, key, garbage, missing) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("garbage.pem"),
        dir.join("missing.pem"),
    );
    std::fs::write(&cert, &pki.cert).expect("write");
    std::fs::write(&key, &pki.key).expect("write");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    ServerTls::from_pem_files(&cert, &key).expect("the pair loads");
    ClientTls::from_pem_file(&cert, "localhost").expect("a certificate to trust");

    let error = ServerTls::from_pem_files(&missing, &key).expect_err("missing");
    assert!(matches!(error, TlsError::Read { .. }), "{error}");
    assert!(error.to_string().contains("missing.pem"), "{error}");
    let error = ServerTls::from_pem_files(&garbage, &key).expect_err("no certificate");
    assert!(matches!(error, TlsError::NoCertificate { .. }), "{error}");
    assert!(error.to_string().contains("garbage.pem"), "{error}");
    let error = ServerTls::from_pem_files(&cert, &garbage).expect_err("no key");
    assert!(matches!(error, TlsError::NoKey { .. }), "{error}");
    assert!(error.to_string().contains("garbage.pem"), "{error}");
    // A key that is not the certificate's.
    let other = pki_key();
    std::fs::write(&garbage, other).expect("write");
    let error = ServerTls::from_pem_files(&cert, &garbage).expect_err("mismatch");
    assert!(matches!(error, TlsError::Refused { .. }), "{error}");
    let error = ClientTls::from_pem_file(&missing, "localhost").expect_err("missing");
    assert!(error.to_string().contains("missing.pem"), "{error}");
    let error = ClientTls::from_pem(pki.ca.as_bytes(), "not a name!").expect_err("bad name");
    assert!(matches!(error, TlsError::ServerName(_)), "{error}");
    // A PEM block whose body is not base64.
    let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let error = ClientTls::from_pem(broken.as_bytes(), "localhost").expect_err("broken");
    assert!(
        matches!(error, TlsError::Pem { .. } | TlsError::Refused { .. }),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

fn pki_key() -> String {
    KeyPair::generate().expect("key").serialize_pem()
}
