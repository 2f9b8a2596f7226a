//! The queue over real loopback sockets, with tokio's paused clock where the queue's 5 s
//! timer is involved (twilight's `InMemoryQueue` sleeps with `tokio::time`, so no test here
//! waits 5 real seconds).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;
use zoryx_queue::{
    IDENTIFY_DELAY, InMemoryQueue, LIMIT_PERIOD, PROCESSED, Queue, QueueClient, QueueError,
    QueueOptions, serve, serve_with_shutdown,
};

/// An `InMemoryQueue` that records which shards asked, in order.
#[derive(Clone, Debug)]
struct Recording {
    inner: InMemoryQueue,
    asked: Arc<Mutex<Vec<u32>>>,
    changed: Arc<Notify>,
}

impl Recording {
    fn new(max_concurrency: u16, remaining: u32, reset_after: Duration, total: u32) -> Self {
        Self {
            inner: InMemoryQueue::new(max_concurrency, remaining, reset_after, total),
            asked: Arc::default(),
            changed: Arc::default(),
        }
    }

    fn asked(&self) -> Vec<u32> {
        self.asked.lock().expect("lock").clone()
    }

    /// Waits until `n` shards have asked.
    async fn wait_asked(&self, n: usize) {
        loop {
            let changed = self.changed.notified();
            if self.asked.lock().expect("lock").len() >= n {
                return;
            }
            changed.await;
        }
    }
}

impl Queue for Recording {
    fn enqueue(&self, id: u32) -> oneshot::Receiver<()> {
        let rx = self.inner.enqueue(id);
        self.asked.lock().expect("lock").push(id);
        self.changed.notify_waiters();
        rx
    }
}

async fn start<Q: Queue + Send + Sync + 'static>(queue: Q) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, queue));
    addr
}

fn client(addr: SocketAddr) -> QueueClient {
    QueueClient::new(format!("http://{addr}")).expect("client")
}

/// Asks for `shard` in a task; the release time goes to `released`.
fn ask(addr: SocketAddr, shard: u32, released: mpsc::UnboundedSender<(u32, Instant)>) {
    tokio::spawn(async move {
        client(addr).wait(shard).await.expect("released");
        let _ = released.send((shard, Instant::now()));
    });
}

/// One raw HTTP/1.1 exchange: (status line, lower-cased head, body).
async fn raw(addr: SocketAddr, request_line: &str) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            format!("{request_line}\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, head.to_lowercase(), answer[split + 4..].to_vec())
}

#[tokio::test(start_paused = true)]
async fn one_bucket_releases_one_shard_per_5s_in_order_of_asking() {
    let queue = Recording::new(1, 1000, LIMIT_PERIOD, 1000);
    let addr = start(queue.clone()).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    for (i, shard) in [2, 0, 1].into_iter().enumerate() {
        ask(addr, shard, tx.clone());
        queue.wait_asked(i + 1).await;
    }
    assert_eq!(queue.asked(), [2, 0, 1]);
    let mut released = Vec::new();
    for _ in 0..3 {
        released.push(rx.recv().await.expect("release"));
    }
    let order: Vec<u32> = released.iter().map(|(shard, _)| *shard).collect();
    assert_eq!(order, [2, 0, 1], "released in order of asking");
    for pair in released.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(gap >= IDENTIFY_DELAY, "gap {gap:?}");
        assert!(gap < IDENTIFY_DELAY + Duration::from_secs(1), "gap {gap:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn two_buckets_release_shards_0_and_1_together_and_2_waits() {
    let queue = Recording::new(2, 1000, LIMIT_PERIOD, 1000);
    let addr = start(queue.clone()).await;
    // twilight's queue releases the first request after a quiet time at once and then arms its
    // single 5 s timer; shard 4 (bucket 0) does that, so 0, 1 and 2 ask within one window.
    let warm_up = Instant::now();
    client(addr).wait(4).await.expect("shard 4");
    assert!(warm_up.elapsed() < Duration::from_secs(1));
    let (tx, mut rx) = mpsc::unbounded_channel();
    for (i, shard) in [0, 1, 2].into_iter().enumerate() {
        ask(addr, shard, tx.clone());
        queue.wait_asked(i + 2).await;
    }
    let mut released = Vec::new();
    for _ in 0..3 {
        released.push(rx.recv().await.expect("release"));
    }
    released.sort_by_key(|(shard, _)| *shard);
    let at = |shard: usize| released[shard].1 - warm_up;
    assert_eq!(at(0), at(1), "shards 0 and 1 go together: {released:?}");
    assert!(
        at(0) >= IDENTIFY_DELAY && at(0) < IDENTIFY_DELAY * 2,
        "{:?}",
        at(0)
    );
    assert!(
        at(2) - at(0) >= IDENTIFY_DELAY,
        "shard 2 waits: {released:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn answer_matches_the_protocol_byte_for_byte_on_any_path_and_method() {
    let addr = start(InMemoryQueue::new(1, 1000, LIMIT_PERIOD, 1000)).await;
    for request_line in [
        "GET /?shard=0 HTTP/1.1",
        "GET /some/path?shard=3 HTTP/1.1",
        "POST /?shard=7 HTTP/1.1",
    ] {
        let (status, head, body) = raw(addr, request_line).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{request_line}");
        assert_eq!(body, br#"{"message": "You're free to connect now! :)"}"#);
        assert_eq!(body, PROCESSED.as_bytes());
        assert!(head.contains("content-type: application/json"), "{head}");
    }
}

#[tokio::test(start_paused = true)]
async fn missing_or_invalid_shard_is_400_and_not_queued() {
    let queue = Recording::new(1, 1000, LIMIT_PERIOD, 1000);
    let addr = start(queue.clone()).await;
    for target in [
        "/",
        "/?shard=",
        "/?shard=abc",
        "/?shard=-1",
        "/?shard=4294967296",
        "/?shard=1.5",
    ] {
        let (status, _, body) = raw(addr, &format!("GET {target} HTTP/1.1")).await;
        assert_eq!(status, "HTTP/1.1 400 Bad Request", "{target}");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let message = json["message"].as_str().expect("message");
        assert!(message.contains("`shard`"), "{target}: {message}");
    }
    assert!(queue.asked().is_empty());
}

#[tokio::test(start_paused = true)]
async fn health_answers_200_at_once() {
    let queue = Recording::new(1, 1000, LIMIT_PERIOD, 1000);
    let addr = start(queue.clone()).await;
    let (status, _, body) = raw(addr, "GET /health HTTP/1.1").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, br#"{"status": "ok"}"#);
    assert!(queue.asked().is_empty());
}

#[tokio::test(start_paused = true)]
async fn client_waits_for_its_turn_and_returns() {
    let addr = start(InMemoryQueue::new(1, 1000, LIMIT_PERIOD, 1000)).await;
    let client = client(addr);
    let start = Instant::now();
    client.wait(0).await.expect("shard 0");
    assert!(start.elapsed() < Duration::from_secs(1));
    client.wait(1).await.expect("shard 1");
    assert!(start.elapsed() >= IDENTIFY_DELAY);
}

#[tokio::test(start_paused = true)]
async fn client_retries_cut_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (accepted_tx, mut accepted) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        // The first two connections are closed without an answer.
        for _ in 0..2 {
            let (stream, _) = listener.accept().await.expect("accept");
            drop(stream);
            let _ = accepted_tx.send(());
        }
        serve(listener, InMemoryQueue::new(1, 1000, LIMIT_PERIOD, 1000)).await
    });
    let client = client(addr).with_backoff(Duration::from_millis(100), Duration::from_secs(1));
    client.wait(0).await.expect("released after retries");
    assert_eq!(accepted.recv().await, Some(()));
    assert_eq!(accepted.recv().await, Some(()));
}

#[tokio::test(start_paused = true)]
async fn client_times_out_when_nothing_listens() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = client(addr).with_timeout(Some(Duration::from_secs(3)));
    let start = Instant::now();
    let error = client.wait(0).await.expect_err("nothing listens");
    assert!(
        matches!(error, QueueError::Timeout { shard: 0, .. }),
        "{error}"
    );
    assert!(start.elapsed() >= Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn client_does_not_retry_a_4xx() {
    use axum::http::StatusCode;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(|| async { (StatusCode::BAD_REQUEST, "no such shard") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let error = client(addr).wait(9).await.expect_err("rejected");
    match error {
        QueueError::Rejected {
            shard,
            status,
            body,
            ..
        } => {
            assert_eq!((shard, status, body.as_str()), (9, 400, "no such shard"));
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_client_leaving_before_its_turn_takes_no_session_start() {
    // Two session starts for the day: shard 0 takes one; shard 1 leaves before its turn; shard
    // 2 must get the second one at the next tick (it would wait a day if shard 1 had taken it).
    let queue = Recording::new(1, 2, LIMIT_PERIOD, 2);
    let addr = start(queue.clone()).await;
    let start = Instant::now();
    client(addr).wait(0).await.expect("shard 0");

    let mut leaving = TcpStream::connect(addr).await.expect("connect");
    leaving
        .write_all(b"GET /?shard=1 HTTP/1.1\r\nHost: queue\r\n\r\n")
        .await
        .expect("write");
    queue.wait_asked(2).await;
    drop(leaving);
    tokio::time::sleep(Duration::from_millis(10)).await;

    client(addr).wait(2).await.expect("shard 2");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= IDENTIFY_DELAY && elapsed < IDENTIFY_DELAY * 2,
        "shard 2 released after {elapsed:?}"
    );
    assert_eq!(queue.asked(), [0, 1, 2]);
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_daily_limit_holds_shards_until_the_reset() {
    let addr = start(InMemoryQueue::new(1, 1, Duration::from_secs(60), 1000)).await;
    let client = client(addr);
    let start = Instant::now();
    client.wait(0).await.expect("shard 0");
    client.wait(1).await.expect("shard 1");
    assert!(
        start.elapsed() >= Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_answers_waiting_requests_503() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let queue = Recording::new(1, 1000, LIMIT_PERIOD, 1000);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(listener, queue.clone(), async {
        let _ = stopped.await;
    }));
    client(addr).wait(0).await.expect("shard 0");
    let waiting = tokio::spawn(async move { raw(addr, "GET /?shard=1 HTTP/1.1").await });
    queue.wait_asked(2).await;
    let _ = stop.send(());
    let (status, _, _) = waiting.await.expect("join");
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
    server.await.expect("join").expect("clean stop");
}

/// twilight's own HTTP queue client, as in `examples/gateway-queue-http.rs` (hyper-util's
/// legacy client, `GET /?shard={id}`, success sends `()`).
#[derive(Debug)]
struct TwilightHttpQueue {
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Empty<bytes::Bytes>,
    >,
    addr: SocketAddr,
}

impl Queue for TwilightHttpQueue {
    fn enqueue(&self, id: u32) -> oneshot::Receiver<()> {
        let (mut tx, rx) = oneshot::channel();
        let uri = format!("http://{}/?shard={id}", self.addr);
        let req = self.client.get(uri.parse().expect("uri"));
        tokio::spawn(async move {
            tokio::select! {
                _ = tx.closed() => {}
                res = req => {
                    if res.is_ok_and(|r| r.status().is_success()) {
                        let _ = tx.send(());
                    }
                }
            }
        });
        rx
    }
}

#[tokio::test(start_paused = true)]
async fn twilights_http_queue_example_works_against_it() {
    let addr = start(InMemoryQueue::new(1, 1000, LIMIT_PERIOD, 1000)).await;
    let twilight = TwilightHttpQueue {
        client: hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http(),
        addr,
    };
    let start = Instant::now();
    twilight.enqueue(0).await.expect("shard 0 may identify");
    twilight.enqueue(1).await.expect("shard 1 may identify");
    assert!(start.elapsed() >= IDENTIFY_DELAY);
}

#[tokio::test]
async fn limits_come_from_the_simulators_gateway_bot() {
    let sim = zoryx_sim::Simulator::start(zoryx_sim::SimConfig::default())
        .await
        .expect("simulator");
    let http = reqwest::Client::new();
    let limits = zoryx_queue::fetch_session_start_limit(&http, &sim.base_url(), sim.token())
        .await
        .expect("limits");
    assert_eq!(
        limits,
        zoryx_queue::SessionStartLimit {
            max_concurrency: 1,
            // Nothing has identified yet.
            remaining: 1000,
            reset_after: Duration::from_millis(86_400_000),
            total: 1000,
        }
    );
    let error = zoryx_queue::fetch_session_start_limit(&http, &sim.base_url(), "wrong")
        .await
        .expect_err("bad token");
    assert!(
        matches!(error, QueueError::Status { status: 401, .. }),
        "{error}"
    );

    // `run_on` with a token serves with Discord's (here the simulator's) limits.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = QueueOptions {
        max_concurrency: 7,
        token: Some(sim.token().to_owned()),
        api_base: Some(sim.base_url()),
        ..QueueOptions::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(zoryx_queue::run_on(listener, options, async {
        let _ = stopped.await;
    }));
    client(addr).wait(3).await.expect("released");
    let _ = stop.send(());
    server.await.expect("join").expect("clean stop");
    sim.shutdown().await;
}

#[tokio::test]
async fn run_on_rejects_bad_limits_and_unreachable_discord() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let options = QueueOptions {
        remaining: Some(5),
        total: 1,
        ..QueueOptions::default()
    };
    let error = zoryx_queue::run_on(listener, options, async {})
        .await
        .expect_err("remaining > total");
    assert!(matches!(error, QueueError::Config(_)), "{error}");

    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let api_base = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let options = QueueOptions {
        token: Some("token".to_owned()),
        api_base: Some(api_base),
        ..QueueOptions::default()
    };
    let error = zoryx_queue::run_on(listener, options, async {})
        .await
        .expect_err("nothing at the API base");
    assert!(matches!(error, QueueError::Http(_)), "{error}");
}

#[test]
fn cli_arguments_parse_into_options() {
    use clap::Parser;
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }
    #[derive(Debug, clap::Subcommand)]
    enum Command {
        Queue(zoryx_queue::QueueArgs),
    }
    let Cli {
        command: Command::Queue(args),
    } = Cli::try_parse_from([
        "zoryx",
        "queue",
        "--bind",
        "127.0.0.1:9000",
        "--max-concurrency",
        "16",
        "--reset-after-secs",
        "60",
    ])
    .expect("parse");
    let options = QueueOptions::from(args);
    assert_eq!(options.bind, SocketAddr::from(([127, 0, 0, 1], 9000)));
    assert_eq!(options.max_concurrency, 16);
    assert_eq!(options.reset_after, Duration::from_secs(60));
    let limits = options.given_limits().expect("limits");
    assert_eq!((limits.remaining, limits.total), (1000, 1000));
    assert!(!format!("{options:?}").contains("secret"));

    assert!(Cli::try_parse_from(["zoryx", "queue", "--max-concurrency", "0"]).is_err());
    let redacted = QueueOptions {
        token: Some("secret".to_owned()),
        ..QueueOptions::default()
    };
    assert!(!format!("{redacted:?}").contains("secret"));
}
