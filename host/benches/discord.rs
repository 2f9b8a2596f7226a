//! `make bench`: message → reply through the Discord simulator, framework vs a bare handler.
//!
//! Both bots run against the same in-process simulator over real sockets (REST + gateway), one
//! after the other:
//! - a BARE serenity `Client` whose `message` handler answers `!ping` directly (the baseline);
//! - the Zoryx host through `discord::start`, with ten plugins listening to every message
//!   (`fixture-listener` built as `l0`..`l9`), answering the plugin command `!l0_seen`
//!   (a command of plugin `l0`: prefix resolution, routing, the FFI call into the plugin, and
//!   its reply through the host's reply path).
//!
//! Figures: p50/p99 over 1,000 sequential messages (inject → the reply seen by the simulator),
//! and replies per second over a 20,000-message burst with the messages lost. The two bots
//! alternate (one connected at a time, the one first in a round second in the next) for three
//! rounds, each with a simulator of its own (fresh state, fresh sockets); each figure is the
//! median, and each target compares the two bots round by round (the median of the per-round
//! differences or ratios), so that the machine's drift between rounds hits both sides alike.
//!
//! Then `!ping` p50/p99 over 1,000 sequential messages while four plugin handlers block their
//! threads and one spins (the `misbehave` fixture); and `!l0_seen` with the one plugin `l0`
//! in-process, then isolated in a worker process (`target/release/zoryx worker`): replies per
//! second over a 5,000-message burst, side by side. Last, a report without a target: the
//! `backups` plugin's snapshot of 250 roles and 500 channels, and the restore of half of them
//! with Discord's 429s (`ZORYX_BENCH_ONLY=backups` runs only that).
//!
//! A third bot takes its turn in each round: the same Zoryx host with the web dashboard on and
//! one browser-like client on it (logged in, the overview page loaded, its figures stream and
//! the live log held open and read); its row compares it with the dashboard off round by round,
//! to read off that the dashboard leaves the figures unchanged.
//!
//! For profiling, `ZORYX_BENCH_ONLY=bare|zoryx` runs one bot only (`dashboard`: Zoryx with the
//! dashboard off and on; a list such as `bare,zoryx` or `bare,dashboard` runs those), `ZORYX_BENCH_ROUNDS=N` and `ZORYX_BENCH_BURST=N` make a short run, and
//! `ZORYX_BENCH_LISTENERS=N` (1..=10) loads N listening plugins instead of ten, and `RUST_LOG`
//! shows the host's log on stderr.
#![allow(clippy::print_stdout, unreachable_pub)]

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Bare;
use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder};
use tokio::sync::broadcast::error::RecvError;
use zoryx_host::config::{BotEnv, Config, CoreConfig};
use zoryx_host::discord::{self, DiscordHandle, DiscordOptions};
use zoryx_host::guild_settings::MemorySettings;
use zoryx_host::manager::{HostPaths, Manager};
use zoryx_sim::{SimConfig, SimEvent, Simulator};

const SEQUENTIAL: usize = 1_000;
const BURST: usize = 20_000;
const WARM_UP: usize = 200;
/// Rounds of (bare, framework), alternating. The machine's noise moves both bots' figures by
/// ±15 % from round to round; each share below is the median over the rounds of the ratio of
/// the two bots' figures in the same round, which cancels the drift both see. (Not more: the
/// bare bot opens a connection per concurrent request, and past three bursts the machine runs
/// out of local ports for it.)
const ROUNDS: usize = 3;
/// How long a reply may take before the message counts as lost.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn listener(i: usize) -> PathBuf {
    let path = root().join(format!(
        "target/fixtures/listeners/l{i}.{}",
        std::env::consts::DLL_EXTENSION
    ));
    assert!(
        path.exists(),
        "missing {} — run `make bench`",
        path.display()
    );
    path
}

/// Latency and throughput figures for one bot.
struct Figures {
    p50_ms: f64,
    p99_ms: f64,
    lost_sequential: usize,
    per_second: f64,
    lost_burst: usize,
}

/// A count from the environment variable `name`, else `default`.
fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Messages in the burst: [`BURST`], or `ZORYX_BENCH_BURST`.
fn burst_size() -> usize {
    env_count("ZORYX_BENCH_BURST", BURST)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Injects `count` messages one at a time, each after the previous one's reply.
async fn sequential(sim: &Simulator, content: &str, count: usize) -> (Vec<Duration>, usize) {
    let (channel, author) = (sim.default_channel(), sim.owner().id);
    let mut events = sim.subscribe();
    let mut times = Vec::with_capacity(count);
    let mut lost = 0;
    for _ in 0..count {
        let start = Instant::now();
        let id = sim
            .inject_message(channel, author, content)
            .await
            .expect("inject");
        let answered = tokio::time::timeout(REPLY_TIMEOUT, async {
            loop {
                match events.recv().await {
                    Ok(SimEvent::BotMessage {
                        reply_to: Some(to), ..
                    }) if to == id => return true,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return false,
                }
            }
        })
        .await;
        if answered == Ok(true) {
            times.push(start.elapsed());
        } else {
            lost += 1;
        }
    }
    times.sort_unstable();
    (times, lost)
}

/// Injects `count` messages as fast as the simulator takes them; returns replies per second
/// (first injection → last reply) and how many messages got no reply.
async fn burst(sim: &Simulator, content: &str, count: usize) -> (f64, usize) {
    let (channel, author) = (sim.default_channel(), sim.owner().id);
    let mut events = sim.subscribe();
    let collector = tokio::spawn(async move {
        let mut answered = HashSet::with_capacity(count);
        let mut last = Instant::now();
        let mut lagged = 0;
        while answered.len() < count {
            match tokio::time::timeout(REPLY_TIMEOUT, events.recv()).await {
                Ok(Ok(SimEvent::BotMessage {
                    reply_to: Some(to), ..
                })) => {
                    answered.insert(to);
                    last = Instant::now();
                }
                Ok(Ok(_)) => {}
                Ok(Err(RecvError::Lagged(n))) => lagged += n,
                Ok(Err(RecvError::Closed)) | Err(_) => break,
            }
        }
        (answered, last, lagged)
    });
    let start = Instant::now();
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        ids.push(
            sim.inject_message(channel, author, content)
                .await
                .expect("inject"),
        );
    }
    let (answered, last, lagged) = collector.await.expect("collector");
    assert_eq!(lagged, 0, "the benchmark missed simulator events");
    let lost = ids.iter().filter(|id| !answered.contains(id)).count();
    let secs = last.duration_since(start).as_secs_f64();
    ((count - lost) as f64 / secs, lost)
}

async fn measure(sim: &Simulator, content: &str) -> Figures {
    let _ = sequential(sim, content, WARM_UP).await;
    let (times, lost_sequential) = sequential(sim, content, SEQUENTIAL).await;
    let (per_second, lost_burst) = burst(sim, content, burst_size()).await;
    Figures {
        p50_ms: percentile(&times, 0.50),
        p99_ms: percentile(&times, 0.99),
        lost_sequential,
        per_second,
        lost_burst,
    }
}

async fn bare(sim: &Simulator) -> Figures {
    let http = HttpBuilder::new(sim.token())
        .proxy(sim.base_url())
        .ratelimiter_disabled(true)
        .build();
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT;
    let mut client = ClientBuilder::new_with_http(http, intents)
        .event_handler(Bare)
        .await
        .expect("serenity client");
    let shards = Arc::clone(&client.shard_manager);
    let running = tokio::spawn(async move { client.start().await });
    sim.wait_ready(Duration::from_secs(30))
        .await
        .expect("the bare client got READY");
    let figures = measure(sim, "!ping").await;
    shards.shutdown_all().await;
    let _ = running.await;
    figures
}

/// The host with ten listening plugins, loaded once and connected for each round.
async fn host(dir: &Path, listeners: usize) -> (Arc<Manager>, CoreConfig) {
    let extensions = dir.join("extensions");
    std::fs::create_dir_all(&extensions).expect("dir");
    for i in 0..listeners {
        let name = format!("l{i}.{}", std::env::consts::DLL_EXTENSION);
        std::fs::copy(listener(i), extensions.join(name)).expect("copy");
    }
    let checker = root().join("target/release/zoryx");
    let config = Config::default();
    let core = config.core.clone();
    let manager = Manager::new(
        HostPaths {
            extensions,
            data: dir.join("data"),
            checker: checker.exists().then_some(checker),
        },
        config,
    )
    .expect("manager");
    let report = manager.load_all().await;
    assert_eq!(
        report.loaded.len(),
        listeners,
        "the listeners load: {report:?}"
    );
    (manager, core)
}

/// Connects the host's Discord layer for `manager` to the simulator and waits for READY.
async fn connect(sim: &Simulator, manager: &Arc<Manager>, core: &CoreConfig) -> DiscordHandle {
    let env = BotEnv {
        token: Some(sim.token().to_owned()),
        api_base: Some(sim.base_url()),
        ..BotEnv::default()
    };
    let mut options = DiscordOptions::from_config(core, &env).expect("options");
    options.owners.push(sim.owner().id);
    let bot = discord::start(
        Arc::clone(manager),
        Arc::new(MemorySettings::default()),
        options,
    )
    .await
    .expect("discord start");
    tokio::time::timeout(Duration::from_secs(30), bot.ready())
        .await
        .expect("the host got READY");
    bot
}

async fn framework(sim: &Simulator, manager: &Arc<Manager>, core: &CoreConfig) -> Figures {
    let bot = connect(sim, manager, core).await;
    let figures = measure(sim, "!l0_seen").await;
    bot.shutdown().await;
    figures
}

/// As [`framework`], with the web dashboard on and one browser open on it.
async fn framework_with_dashboard(
    sim: &Simulator,
    manager: &Arc<Manager>,
    core: &CoreConfig,
) -> Figures {
    let mut config = core.dashboard.clone();
    config.enabled = true;
    config.bind = "127.0.0.1:0".to_owned();
    let dashboard = zoryx_host::dashboard::start(
        &config,
        zoryx_host::dashboard::Sources {
            manager: Arc::clone(manager),
            gateway: zoryx_host::discord::GatewayStatus::default(),
            diagnostics: None,
            databases: None,
            logs: Some(zoryx_host::logging::LogTail::new(1000)),
            owners: vec![sim.owner().id],
            api_base: None,
            data_dir: None,
        },
    )
    .await
    .expect("dashboard")
    .expect("on");
    let link = dashboard.login_link().expect("login link");
    let code = link.split_once("#code=").expect("a code").1;
    let browser = browser::Browser::open(dashboard.url(), code).await;
    let figures = framework(sim, manager, core).await;
    drop(browser);
    dashboard.shutdown().await;
    figures
}

/// `!ping` latency while four plugin handlers block their threads (`std::thread::sleep`) and
/// one spins: the host's own threads must not notice.
async fn ping_while_blocked(sim: &Simulator, dir: &Path) -> (f64, f64, usize) {
    let extensions = dir.join("blocked-extensions");
    std::fs::create_dir_all(&extensions).expect("dir");
    let misbehave = root().join(format!(
        "target/fixtures/misbehave.{}",
        std::env::consts::DLL_EXTENSION
    ));
    std::fs::copy(
        &misbehave,
        extensions.join(format!("misbehave.{}", std::env::consts::DLL_EXTENSION)),
    )
    .expect("the misbehave fixture (make bench builds it)");
    let config = Config::default();
    let core = config.core.clone();
    let manager = Manager::new(
        HostPaths {
            extensions,
            data: dir.join("blocked-data"),
            checker: None,
        },
        config,
    )
    .expect("manager");
    manager.load_all().await;
    let bot = connect(sim, &manager, &core).await;
    let (channel, author) = (sim.default_channel(), sim.owner().id);
    for command in [
        "!block 20000",
        "!block 20000",
        "!block 20000",
        "!block 20000",
        "!spin 20000",
    ] {
        sim.inject_message(channel, author, command)
            .await
            .expect("inject");
    }
    // Wait until all five hold their threads (the watchdog has counted them).
    let deadline = Instant::now() + Duration::from_secs(10);
    while manager
        .info("misbehave")
        .await
        .map_or(0, |i| i.calls.blocked)
        < 5
    {
        assert!(Instant::now() < deadline, "the handlers never blocked");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (times, lost) = sequential(sim, "!ping", SEQUENTIAL).await;
    bot.shutdown().await;
    manager.shutdown().await;
    (percentile(&times, 0.50), percentile(&times, 0.99), lost)
}

/// Messages in the isolated-plugin comparison's burst.
const ISOLATED_BURST: usize = 5_000;

/// `!l0_seen` through the simulator with the one plugin `l0` in-process, then isolated (a
/// worker process): replies per second over a burst, and the sequential p50, for each.
async fn isolated_vs_in_process(sim: &Simulator, dir: &Path) -> [(f64, f64, usize); 2] {
    let checker = root().join("target/release/zoryx");
    assert!(checker.exists(), "isolation needs target/release/zoryx");
    let mut figures = [(0.0, 0.0, 0); 2];
    for (slot, isolated) in figures.iter_mut().zip([false, true]) {
        let name = if isolated { "isolated" } else { "in-process" };
        let extensions = dir.join(format!("{name}-extensions"));
        std::fs::create_dir_all(&extensions).expect("dir");
        let file = format!("l0.{}", std::env::consts::DLL_EXTENSION);
        std::fs::copy(listener(0), extensions.join(&file)).expect("copy");
        let config = if isolated {
            r#"{"isolation": {"plugins": ["l0"]}}"#
        } else {
            "{}"
        };
        let config = Config::parse(Path::new("config.json"), config).expect("config");
        let core = config.core.clone();
        let manager = Manager::new(
            HostPaths {
                extensions,
                data: dir.join(format!("{name}-data")),
                checker: Some(checker.clone()),
            },
            config,
        )
        .expect("manager");
        let report = manager.load_all().await;
        assert_eq!(report.loaded.len(), 1, "{:?}", report.refused);
        let worker = manager.info("l0").await.and_then(|i| i.worker);
        assert_eq!(worker.is_some(), isolated, "{worker:?}");
        let bot = connect(sim, &manager, &core).await;
        let _ = sequential(sim, "!l0_seen", WARM_UP).await;
        let (times, lost_sequential) = sequential(sim, "!l0_seen", SEQUENTIAL).await;
        let (per_second, lost_burst) = burst(sim, "!l0_seen", ISOLATED_BURST).await;
        bot.shutdown().await;
        manager.shutdown().await;
        *slot = (
            per_second,
            percentile(&times, 0.50),
            lost_sequential + lost_burst,
        );
    }
    figures
}

/// The median of one figure over the rounds.
/// Posts `content` as the owner and waits for the bot's reply: its id, body and the time taken.
async fn ask(sim: &Simulator, content: &str) -> (u64, serde_json::Value, Duration) {
    let mut events = sim.subscribe();
    let started = Instant::now();
    let asked = sim
        .inject_message(sim.default_channel(), sim.owner().id, content)
        .await
        .expect("inject");
    let answer = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Ok(SimEvent::BotMessage {
                reply_to: Some(to),
                message_id,
                body,
                ..
            }) = events.recv().await
                && to == asked
            {
                return (message_id, body);
            }
        }
    })
    .await
    .expect("an answer");
    (answer.0, answer.1, started.elapsed())
}

/// The `backups` plugin on a server of 250 roles and 500 channels: a snapshot, then half of the
/// server deleted and restored, with Discord pushing back (16 429s on creation). Returns the
/// snapshot time, the restore time (confirm → the progress message says restored), the steps
/// and the items skipped.
async fn backup_and_restore(sim: &Simulator, dir: &Path) -> (Duration, Duration, usize, String) {
    let extensions = dir.join("backup-extensions");
    std::fs::create_dir_all(&extensions).expect("dir");
    let ext = std::env::consts::DLL_EXTENSION;
    std::fs::copy(
        root().join(format!("target/fixtures/plugin-backups.{ext}")),
        extensions.join(format!("backups.{ext}")),
    )
    .expect("the backups plugin (make bench builds the fixtures)");
    let config = Config::default();
    let core = config.core.clone();
    let manager = Manager::new(
        HostPaths {
            extensions,
            data: dir.join("backup-data"),
            checker: None,
        },
        config,
    )
    .expect("manager");
    manager.load_all().await;
    let guild = sim.default_guild();
    let mut roles = Vec::new();
    let mut channels = Vec::new();
    for i in 0..250 {
        roles.push(
            sim.add_role(guild, &format!("R{i}"), 1 << (i % 40))
                .expect("role"),
        );
    }
    for i in 0..500 {
        channels.push(sim.add_channel(guild, &format!("c{i}")).expect("channel"));
    }
    let bot = connect(sim, &manager, &core).await;
    let (_, created, snapshot) = ask(sim, "!backupcreate").await;
    let text = created["embeds"][0]["description"]
        .as_str()
        .expect("created");
    let id = text[1..13].to_owned();
    for role in roles.iter().step_by(2) {
        sim.remove_role(guild, *role).expect("remove role");
    }
    for channel in channels.iter().step_by(2) {
        sim.remove_channel(*channel).expect("remove channel");
    }
    sim.rate_limit("POST /guilds/*/roles", 12);
    sim.rate_limit("POST /guilds/*/channels", 4);
    let (plan_message, plan, _) = ask(sim, &format!("!backuprestore {id}")).await;
    let steps = plan["embeds"][0]["footer"]["text"]
        .as_str()
        .and_then(|f| f.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let confirm = plan["components"][0]["components"][0]["custom_id"]
        .as_str()
        .expect("the Restore button")
        .to_owned();
    let mut events = sim.subscribe();
    let started = Instant::now();
    sim.inject_component(plan_message, sim.owner().id, &confirm, vec![])
        .await
        .expect("confirm");
    let title = format!("Backup {id} restored");
    let done = tokio::time::timeout(Duration::from_secs(300), async {
        loop {
            if let Ok(SimEvent::MessageEdited { body, .. }) = events.recv().await
                && body["embeds"][0]["title"] == title.as_str()
            {
                return body;
            }
        }
    })
    .await
    .expect("the restore finished");
    let restore = started.elapsed();
    let summary = done["embeds"][0]["description"]
        .as_str()
        .unwrap_or_default()
        .replace('\n', "; ");
    bot.shutdown().await;
    manager.shutdown().await;
    (snapshot, restore, steps, summary)
}

fn median(rounds: &[Figures], figure: impl Fn(&Figures) -> f64) -> f64 {
    let mut values: Vec<f64> = rounds.iter().map(figure).collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The median over the rounds of `combine(figure(a), figure(b))`, `a` and `b` of the same round.
fn paired(
    a: &[Figures],
    b: &[Figures],
    figure: fn(&Figures) -> f64,
    combine: fn(f64, f64) -> f64,
) -> f64 {
    let mut values: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| combine(figure(a), figure(b)))
        .collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The allocator the `zoryx` binary uses, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // As the `zoryx` binary does first thing: both bots run in this process under its settings.
    zoryx_host::no_huge_pages().expect("transparent huge pages off");
    // `RUST_LOG=warn` (or any filter) shows the host's log on stderr, to see why replies fail.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tmp");
        let only = std::env::var("ZORYX_BENCH_ONLY").unwrap_or_default();
        if only == "backups" {
            let sim = Simulator::start(SimConfig::default())
                .await
                .expect("simulator");
            print_backups(backup_and_restore(&sim, dir.path()).await);
            sim.shutdown().await;
            return;
        }
        let listeners = std::env::var("ZORYX_BENCH_LISTENERS")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .map_or(10, |n| n.clamp(1, 10));
        let (manager, core) = host(dir.path(), listeners).await;
        // Alternate the two bots (one connected at a time) so that noise from the machine hits
        // both alike, the first of a round going second in the next; each bot gets a fresh
        // simulator, as its state (every message so far) and the sockets the last bot left
        // would otherwise weigh on whichever bot goes second. Each figure is the median over
        // the rounds.
        let (mut base, mut zoryx, mut dashboard) = (Vec::new(), Vec::new(), Vec::new());
        let rounds = env_count("ZORYX_BENCH_ROUNDS", ROUNDS);
        for round in 0..rounds {
            // Bare, Zoryx, Zoryx with the dashboard: each round starts one later.
            for turn in (0..3).map(|t| (t + round) % 3) {
                // `dashboard` compares with Zoryx's own row: it brings it along.
                let wants = |name: &str| {
                    only.is_empty()
                        || only
                            .split(',')
                            .any(|o| o == name || (name == "zoryx" && o == "dashboard"))
                };
                let runs = match turn {
                    0 => wants("bare"),
                    1 => wants("zoryx"),
                    _ => wants("dashboard"),
                };
                if !runs {
                    continue;
                }
                let sim = Simulator::start(SimConfig::default())
                    .await
                    .expect("simulator");
                match turn {
                    0 => base.push(bare(&sim).await),
                    1 => zoryx.push(framework(&sim, &manager, &core).await),
                    _ => dashboard.push(framework_with_dashboard(&sim, &manager, &core).await),
                }
                sim.shutdown().await;
            }
        }
        manager.shutdown().await;
        let sim = Simulator::start(SimConfig::default())
            .await
            .expect("simulator");
        let blocked = if only.is_empty() {
            Some(ping_while_blocked(&sim, dir.path()).await)
        } else {
            None
        };
        let isolation = if only.is_empty() {
            Some(isolated_vs_in_process(&sim, dir.path()).await)
        } else {
            None
        };
        sim.shutdown().await;
        let backups = if only.is_empty() {
            let sim = Simulator::start(SimConfig::default())
                .await
                .expect("simulator");
            let figures = backup_and_restore(&sim, dir.path()).await;
            sim.shutdown().await;
            Some(figures)
        } else {
            None
        };

        let lost = |rounds: &[Figures]| -> usize {
            rounds
                .iter()
                .map(|f| f.lost_sequential + f.lost_burst)
                .sum()
        };
        let (base_p50, zoryx_p50) = (median(&base, |f| f.p50_ms), median(&zoryx, |f| f.p50_ms));
        let (base_rate, zoryx_rate) = (
            median(&base, |f| f.per_second),
            median(&zoryx, |f| f.per_second),
        );
        let added_ms = paired(&base, &zoryx, |f| f.p50_ms, |b, z| z - b);
        let share = 100.0 * paired(&base, &zoryx, |f| f.per_second, |b, z| z / b);
        let zoryx_lost = lost(&zoryx);
        println!(
            "Discord round trip: message injected in the simulator → reply received by it \
             (medians of {rounds} alternating rounds; the targets compare the bots round by round)"
        );
        println!(
            "| What | Bare serenity (`!ping`) | Zoryx, {listeners} listening plugins (`!l0_seen`) | Target |"
        );
        println!("|---|---|---|---|");
        println!(
            "| p50 over {SEQUENTIAL} sequential messages | {base_p50:.3} ms | {zoryx_p50:.3} ms | framework adds ≤ 0.1 ms: {added_ms:+.3} ms {} |",
            verdict(added_ms <= 0.1)
        );
        println!(
            "| p99 over {SEQUENTIAL} sequential messages | {:.3} ms | {:.3} ms | |",
            median(&base, |f| f.p99_ms),
            median(&zoryx, |f| f.p99_ms)
        );
        println!(
            "| replies/s over a {}-message burst | {base_rate:.0} | {zoryx_rate:.0} | ≥ 90 % of bare: {share:.0} % {} |",
            burst_size(),
            verdict(share >= 90.0)
        );
        println!(
            "| messages lost (all rounds, sequential + burst) | {} | {zoryx_lost} | 0 {} |",
            lost(&base),
            verdict(zoryx_lost == 0)
        );
        if !dashboard.is_empty() {
            // Round by round against the dashboard off, as above against bare.
            let added_ms = paired(&zoryx, &dashboard, |f| f.p50_ms, |off, on| on - off);
            let share = 100.0 * paired(&zoryx, &dashboard, |f| f.per_second, |off, on| on / off);
            let lost_on = lost(&dashboard);
            println!(
                "| Zoryx with the web dashboard on and one browser open on it (overview and live log streams), `!l0_seen` | off: p50 {zoryx_p50:.3} ms, {zoryx_rate:.0} replies/s | on: p50 {:.3} ms, {:.0} replies/s, {lost_on} lost | unchanged (p50 within 0.1 ms, ≥ 95 % of the replies/s): {added_ms:+.3} ms, {share:.0} % {} |",
                median(&dashboard, |f| f.p50_ms),
                median(&dashboard, |f| f.per_second),
                verdict(added_ms <= 0.1 && share >= 95.0 && lost_on == 0)
            );
        }
        if let Some((p50, p99, lost)) = blocked {
            println!(
                "| `!ping` while 4 plugin handlers block and 1 spins, {SEQUENTIAL} sequential | | p50 {p50:.3} ms, p99 {p99:.3} ms, {lost} lost | p99 < 100 ms {} |",
                verdict(p99 < 100.0 && lost == 0)
            );
        }
        if let Some([(local_rate, local_p50, local_lost), (isolated_rate, isolated_p50, isolated_lost)]) =
            isolation
        {
            let share = 100.0 * isolated_rate / local_rate;
            println!(
                "| One plugin (`l0`) isolated in a worker process vs in-process: replies/s over a {ISOLATED_BURST}-message burst | in-process {local_rate:.0} (p50 {local_p50:.3} ms) | isolated {isolated_rate:.0} (p50 {isolated_p50:.3} ms), {} lost | ≥ 50 %: {share:.0} % {} |",
                local_lost + isolated_lost,
                verdict(share >= 50.0 && local_lost + isolated_lost == 0)
            );
        }
        if let Some(figures) = backups {
            print_backups(figures);
        }
    });
}

/// The backups row: no target, a report.
fn print_backups((snapshot, restore, steps, summary): (Duration, Duration, usize, String)) {
    println!(
        "| Server backup of 250 roles and 500 channels (`backups` plugin): snapshot, then half of it restored with 16 429s | | snapshot {:.0} ms (command to reply); restore of {steps} steps {:.1} s ({summary}) | report |",
        snapshot.as_secs_f64() * 1000.0,
        restore.as_secs_f64()
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "(met)" } else { "(MISSED)" }
}
