//! `make bench`: the host core's figures, printed as a table.
//!
//! - host → plugin command round trip vs the same call through an in-process trait object;
//! - reload latency: new file renamed into `extensions/` → new version answering (50 reloads);
//! - RSS growth over 200 reload cycles of `hello`;
//! - start and resolve 50 plugins (a 50-deep dependency chain);
//! - reading a command's arguments into a `derive(CommandArgs)` struct vs by name;
//! - what framework diagnostics cost at idle: the lag probe and a health check (figures,
//!   grade, a row in SQLite) every second, 60 times the default rate
//!   (`ZORYX_BENCH_ONLY=diagnostics` runs only this).
#![allow(clippy::print_stdout, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use zoryx_host::config::Config;
use zoryx_host::manager::{HostPaths, Manager, ManagerEvent};
use zoryx_host::runtime::{ReplySink, call_command};

/// The time limit of benchmark calls.
const LIMIT: Duration = Duration::from_secs(30);
use zoryx_plugin_api::{Args, ChannelId, Invocation, Message, MessageId, Source, User, UserId};

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

fn checker() -> PathBuf {
    root().join("target/release/zoryx")
}

fn host(dir: &Path, files: &[(PathBuf, &str)]) -> Arc<Manager> {
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).expect("dir");
    for (from, to) in files {
        std::fs::copy(from, extensions.join(to)).expect("copy");
    }
    let checker = checker();
    Manager::new(
        HostPaths {
            extensions,
            data: dir.join("data"),
            checker: checker.exists().then_some(checker),
        },
        Config::default(),
    )
    .expect("manager")
}

/// Keeps the last reply's text.
#[derive(Default)]
struct Last(std::sync::Mutex<String>);
impl Last {
    fn text(&self) -> String {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}
impl ReplySink for Last {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        if let Ok(mut text) = self.0.lock() {
            *text = message.content.unwrap_or_default();
        }
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

struct Null;
impl ReplySink for Null {
    fn reply(&self, _message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        Box::pin(async { Ok(MessageId(1)) })
    }
}

trait InProcess: Send + Sync {
    fn call(
        &self,
        invocation: &Invocation,
        args: &Args,
        sink: Arc<dyn ReplySink>,
    ) -> BoxFuture<'static, Result<(), String>>;
}
struct Direct;
impl InProcess for Direct {
    fn call(
        &self,
        _invocation: &Invocation,
        _args: &Args,
        sink: Arc<dyn ReplySink>,
    ) -> BoxFuture<'static, Result<(), String>> {
        Box::pin(async move { sink.reply(Message::text("v1")).await.map(|_| ()) })
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

async fn call_round_trip() -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tmp");
    let manager = host(dir.path(), &[(fixture("basic-v1.so"), "basic.so")]);
    manager.load_all().await;
    let route = manager.table().command("version").cloned().expect("route");
    let invocation = invocation();
    let args = Args::default();
    let sink: Arc<dyn ReplySink> = Arc::new(Null);
    let direct: Box<dyn InProcess> = Box::new(Direct);
    let n = 200_000;
    let mut plugin_ns = Vec::new();
    let mut direct_ns = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..n {
            call_command(&route, &invocation, &args, Arc::clone(&sink), LIMIT)
                .await
                .expect("call");
        }
        plugin_ns.push(start.elapsed().as_nanos() as f64 / n as f64);
        let start = Instant::now();
        for _ in 0..n {
            direct
                .call(&invocation, &args, Arc::clone(&sink))
                .await
                .expect("call");
        }
        direct_ns.push(start.elapsed().as_nanos() as f64 / n as f64);
    }
    plugin_ns.sort_by(f64::total_cmp);
    direct_ns.sort_by(f64::total_cmp);
    (plugin_ns[2], direct_ns[2])
}

async fn reload_latency() -> (f64, f64) {
    let dir = tempfile::tempdir().expect("tmp");
    let manager = host(dir.path(), &[(fixture("basic-v1.so"), "basic.so")]);
    manager.load_all().await;
    let _watcher = zoryx_host::watch(&manager).expect("watch");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let target = dir.path().join("extensions/basic.so");
    let mut events = manager.subscribe();
    let mut samples = Vec::new();
    for i in 0..50 {
        let (version, file) = if i % 2 == 0 {
            ("v2", "basic-v2.so")
        } else {
            ("v1", "basic-v1.so")
        };
        let temp = dir.path().join("extensions/.basic.so.tmp");
        std::fs::copy(fixture(file), &temp).expect("copy");
        let start = Instant::now();
        std::fs::rename(&temp, &target).expect("rename");
        loop {
            match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
                Ok(Ok(ManagerEvent::Reloaded(_))) => break,
                Ok(_) => {}
                Err(_) => panic!("no reload within 10 s"),
            }
        }
        let reply = Arc::new(Last::default());
        let route = manager.table().command("version").cloned().expect("route");
        call_command(
            &route,
            &invocation(),
            &Args::default(),
            reply.clone(),
            LIMIT,
        )
        .await
        .expect("call");
        assert_eq!(reply.text(), version, "the new version answers");
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

async fn rss_growth() -> (u64, u64, u64) {
    let dir = tempfile::tempdir().expect("tmp");
    let manager = host(dir.path(), &[(fixture("plugin-hello.so"), "hello.so")]);
    manager.load_all().await;
    // Warm up: first reloads populate allocator pools and lazily initialised host state.
    for _ in 0..20 {
        manager.reload("hello").await.expect("reload");
    }
    let closed = manager.library_stats().closed;
    manager
        .tracker()
        .wait_closed(closed, Duration::from_secs(5))
        .await;
    let before = rss_kb();
    for _ in 0..200 {
        let closed = manager.library_stats().closed;
        manager.reload("hello").await.expect("reload");
        manager
            .tracker()
            .wait_closed(closed + 1, Duration::from_secs(5))
            .await;
    }
    let after = rss_kb();
    (before, after, manager.library_stats().pinned.len() as u64)
}

async fn start_50() -> (f64, usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let files: Vec<(PathBuf, String)> = (0..50)
        .map(|i| {
            (
                root().join(format!("target/fixtures/bench/t{i:02}.so")),
                format!("t{i:02}.so"),
            )
        })
        .collect();
    let refs: Vec<(PathBuf, &str)> = files.iter().map(|(p, n)| (p.clone(), n.as_str())).collect();
    let start = Instant::now();
    let manager = host(dir.path(), &refs);
    let report = manager.load_all().await;
    (start.elapsed().as_secs_f64() * 1000.0, report.loaded.len())
}

/// `give`'s arguments, as the typed form reads them.
#[derive(zoryx_plugin_api::CommandArgs)]
struct Give {
    to: UserId,
    amount: i64,
    #[arg(rest)]
    note: Option<String>,
}

/// Nanoseconds per reading of three arguments, typed (`Give::parse`) and by name
/// (`args.get` three times): the median of 5 rounds of 1M each.
fn typed_vs_by_name() -> (f64, f64) {
    use std::hint::black_box;
    use zoryx_plugin_api::{ArgValue, CommandArgs};
    let args = Args::new(vec![
        ("to".into(), ArgValue::User(UserId(42))),
        ("amount".into(), ArgValue::Integer(5)),
        ("note".into(), ArgValue::Text("for the help".into())),
    ]);
    const N: u32 = 1_000_000;
    let median = |mut rounds: Vec<f64>| {
        rounds.sort_by(f64::total_cmp);
        rounds[rounds.len() / 2]
    };
    let (mut typed, mut by_name) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..N {
            let give = Give::parse(black_box(&args)).expect("typed");
            black_box((give.to, give.amount, give.note));
        }
        typed.push(start.elapsed().as_nanos() as f64 / f64::from(N));
        let start = Instant::now();
        for _ in 0..N {
            let args = black_box(&args);
            let to: UserId = args.get("to").expect("to");
            let amount: i64 = args.get("amount").expect("amount");
            let note: Option<String> = args.get("note").expect("note");
            black_box((to, amount, note));
        }
        by_name.push(start.elapsed().as_nanos() as f64 / f64::from(N));
    }
    (median(typed), median(by_name))
}

/// Nanoseconds per command through the gate (`Gate::admit`): a member (not an owner) with
/// three roles, in a guild with 20 role grants and `command_permissions` set, running a
/// Moderator command with three arguments and a cooldown (one that admits every call). The median of 5 rounds of 200k.
fn gate_admit() -> f64 {
    use std::hint::black_box;
    use zoryx_host::gate::{Caller, CommandRoles, Gate, Input, Standing};
    use zoryx_plugin_api::{Arg, ChannelId, CommandSpec, GuildId, Permission, Permissions};
    let spec = CommandSpec::new("give")
        .arg(Arg::user("to"))
        .arg(Arg::integer("amount").range(1, 100))
        .arg(Arg::rest("note").optional())
        .permission(Permission::Moderator)
        .cooldown(u32::MAX, std::time::Duration::from_secs(3600));
    let mut global = CommandRoles::new();
    global.insert("ban".into(), vec![1, 2]);
    let gate = Gate::new(global);
    let mut guild = CommandRoles::new();
    for i in 0..20u64 {
        guild.insert(format!("cmd{i}"), vec![i, i + 1]);
    }
    let roles = [11u64, 12, 13];
    const N: u32 = 200_000;
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..N {
            let mut invocation = invocation();
            invocation.guild_id = Some(GuildId(1));
            invocation.channel_id = ChannelId(7);
            invocation.is_owner = false;
            let caller = Caller::new(&invocation, &roles, || Standing {
                permissions: Permissions::MANAGE_MESSAGES,
                guild_owner: false,
            })
            .guild_roles(Some(&guild));
            let input = Input::Text {
                text: black_box("<@42> 5 for the help"),
                attachments: &[],
            };
            black_box(gate.admit(&spec, &caller, input, "!").expect("admitted"));
        }
        rounds.push(start.elapsed().as_nanos() as f64 / f64::from(N));
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// CPU time the process has used (user + system).
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable `rusage`; `getrusage` fills it or fails.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    // SAFETY: `getrusage` succeeded, so `usage` is initialised.
    let usage = unsafe { usage.assume_init() };
    let micros = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    micros(usage.ru_utime) + micros(usage.ru_stime)
}

/// CPU used at idle over `window` with diagnostics checking every second, in % of one core,
/// against the same idle host without them; and the checks run.
async fn diagnostics_idle(window: Duration) -> (f64, f64, u64, f64) {
    let dir = tempfile::tempdir().expect("tmp");
    let manager = host(dir.path(), &[]);
    let databases = zoryx_host::storage::db::Databases::open(
        zoryx_host::storage::db::DbOptions::new(dir.path().join("db")),
    )
    .await
    .expect("databases");
    let idle = |window| async move {
        let (cpu, wall) = (cpu_time(), Instant::now());
        tokio::time::sleep(window).await;
        (cpu_time() - cpu).as_secs_f64() * 100.0 / wall.elapsed().as_secs_f64()
    };
    // A real host has its plugin threads and their watchdog running; so does this one, in
    // both windows, so the difference is the diagnostics' own.
    let _pool = manager.dispatcher().shared().pool();
    let without = idle(window).await;
    let config = zoryx_host::config::DiagnosticsConfig {
        interval_seconds: 1,
        ..Default::default()
    };
    let diagnostics = zoryx_host::diagnostics::Diagnostics::new(
        config,
        true,
        Arc::clone(manager.dispatcher()),
        zoryx_host::discord::GatewayStatus::default(),
        Some(Arc::clone(&databases)),
    );
    diagnostics.start();
    let with = idle(window).await;
    diagnostics.stop();
    let checks = diagnostics.checks();
    // One check's own time, for the record.
    let started = Instant::now();
    for _ in 0..20 {
        diagnostics.check().await;
    }
    let per_check_ms = started.elapsed().as_secs_f64() * 1000.0 / 20.0;
    databases.close().await;
    (with, without, checks, per_check_ms)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if std::env::var("ZORYX_BENCH_ONLY").as_deref() == Ok("diagnostics") {
            let (with, without, checks, per_check_ms) =
                diagnostics_idle(Duration::from_secs(10)).await;
            println!(
                "diagnostics: {with:.2} % vs {without:.2} % without, {checks} checks, one check {per_check_ms:.2} ms"
            );
            return;
        }
        let (plugin_ns, direct_ns) = call_round_trip().await;
        let (p50, p99) = reload_latency().await;
        let (before, after, pinned) = rss_growth().await;
        let (start_ms, loaded) = start_50().await;
        println!("| What | Figure | Target |");
        println!("|---|---|---|");
        println!("| Command call round trip through the plugin (median of 5×200k) | {plugin_ns:.0} ns | < 1 µs |");
        println!("| Same call through an in-process trait object | {direct_ns:.0} ns | (baseline) |");
        println!("| Reload latency, rename → new version answering (50 reloads) | p50 {p50:.1} ms, p99 {p99:.1} ms | p99 ≤ 300 ms |");
        println!("| RSS growth over 200 reloads of hello | {} KB ({before} → {after} KB), {pinned} pinned | < 200 KB |", after as i64 - before as i64);
        println!("| Start and resolve 50 plugins (50-deep dependency chain) | {start_ms:.0} ms, {loaded} loaded | < 1 s |");
        let gate_ns = gate_admit();
        println!(
            "| One command through the gate: roles, level, three arguments, cooldown (median of 5×200k) | {:.2} µs | < 5 µs {} |",
            gate_ns / 1000.0,
            if gate_ns < 5000.0 { "(met)" } else { "(MISSED)" }
        );
        let (with, without, checks, per_check_ms) = diagnostics_idle(Duration::from_secs(10)).await;
        let cost = (with - without).max(0.0);
        println!(
            "| Framework diagnostics at idle: lag probe and a health check every second ({checks} checks in 10 s; one check {per_check_ms:.2} ms) | {cost:.2} % of a core ({with:.2} % vs {without:.2} % without) | < 1 % {} |",
            if cost < 1.0 { "(met)" } else { "(MISSED)" }
        );
        let (typed_ns, by_name_ns) = typed_vs_by_name();
        let change = 100.0 * (typed_ns - by_name_ns) / by_name_ns;
        println!(
            "| Three arguments read into a `derive(CommandArgs)` struct vs by name (median of 5×1M) | {typed_ns:.1} ns vs {by_name_ns:.1} ns ({change:+.1} %) | ±5 % {} |",
            if change.abs() <= 5.0 { "(met)" } else { "(MISSED)" }
        );
    });
}
