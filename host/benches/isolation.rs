//! `make bench`: what isolation mode costs, printed as a table.
//!
//! - a command call round trip (call, one reply, result), timed one call at a time, with the
//!   plugin in-process and isolated (a worker process; the call, the reply and its answer, and
//!   the result are frames over its socket): p50 and p99;
//! - the same with 64 calls in flight at once: calls per second.
#![allow(clippy::print_stdout, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use zoryx_host::config::Config;
use zoryx_host::manager::{HostPaths, Manager};
use zoryx_host::runtime::{ReplySink, Route, call_command};
use zoryx_plugin_api::{Args, ChannelId, Invocation, Message, MessageId, Source, User, UserId};

/// The time limit of benchmark calls.
const LIMIT: Duration = Duration::from_secs(30);
/// Calls timed one at a time.
const CALLS: usize = 20_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    let path = root().join("target/fixtures").join(name);
    assert!(
        path.exists(),
        "missing {} — run `make bench`",
        path.display()
    );
    path
}

struct Null;
impl ReplySink for Null {
    fn reply(&self, _message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        Box::pin(async { Ok(MessageId(1)) })
    }
}

fn invocation() -> Invocation {
    Invocation {
        command: "version".into(),
        author: User {
            id: UserId(1),
            name: "bench".into(),
            bot: false,
        },
        guild_id: None,
        channel_id: ChannelId(1),
        message_id: None,
        is_owner: true,
        source: Source::Console,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A host with `basic` loaded, in-process or isolated; the route of its `version` command.
async fn host(dir: &Path, isolated: bool) -> (Arc<Manager>, Route) {
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).expect("dir");
    std::fs::copy(fixture("basic-v1.so"), extensions.join("basic.so")).expect("copy");
    let checker = root().join("target/release/zoryx");
    assert!(checker.exists(), "isolation needs target/release/zoryx");
    let config = if isolated {
        r#"{"isolation": {"plugins": ["basic"]}}"#
    } else {
        "{}"
    };
    let manager = Manager::new(
        HostPaths {
            extensions,
            data: dir.join("data"),
            checker: Some(checker),
        },
        Config::parse(Path::new("config.json"), config).expect("config"),
    )
    .expect("manager");
    let report = manager.load_all().await;
    assert_eq!(report.loaded.len(), 1, "{:?}", report.refused);
    let worker = manager.info("basic").await.and_then(|i| i.worker);
    assert_eq!(worker.is_some(), isolated, "{worker:?}");
    let route = manager.table().command("version").cloned().expect("route");
    (manager, route)
}

/// p50 and p99 of one call at a time, in µs; then calls per second with 64 in flight.
async fn measure(isolated: bool) -> (f64, f64, f64) {
    let dir = tempfile::tempdir().expect("tmp");
    let (_manager, route) = host(dir.path(), isolated).await;
    let invocation = invocation();
    let args = Args::default();
    let sink: Arc<dyn ReplySink> = Arc::new(Null);
    for _ in 0..2_000 {
        call_command(&route, &invocation, &args, Arc::clone(&sink), LIMIT)
            .await
            .expect("call");
    }
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let start = Instant::now();
        call_command(&route, &invocation, &args, Arc::clone(&sink), LIMIT)
            .await
            .expect("call");
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    samples.sort_by(f64::total_cmp);

    let route = Arc::new(route);
    let per_task = 1_000;
    let start = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (route, sink) = (Arc::clone(&route), Arc::clone(&sink));
            tokio::spawn(async move {
                let (invocation, args) = (self::invocation(), Args::default());
                for _ in 0..per_task {
                    call_command(&route, &invocation, &args, Arc::clone(&sink), LIMIT)
                        .await
                        .expect("call");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let per_second = (64 * per_task) as f64 / start.elapsed().as_secs_f64();
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        per_second,
    )
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (local_p50, local_p99, local_rate) = measure(false).await;
        let (iso_p50, iso_p99, iso_rate) = measure(true).await;
        println!("| What | In-process | Isolated | Target |");
        println!("|---|---|---|---|");
        println!(
            "| Command call round trip, one at a time ({CALLS} calls) | p50 {local_p50:.1} µs, p99 {local_p99:.1} µs | p50 {iso_p50:.1} µs, p99 {iso_p99:.1} µs | isolated p50 < 50 µs |"
        );
        println!(
            "| Command calls per second, 64 in flight | {local_rate:.0} | {iso_rate:.0} ({:.0} %) | |",
            iso_rate / local_rate * 100.0
        );
    });
}
