//! `make bench`: the host at many guilds, as a separate `zoryx` process against the simulator.
//!
//! For each size (`ZORYX_SCALE_GUILDS`, default `2500@1,1000@16,10000@16`: guilds `@` shards;
//! 50 members a guild, `max_concurrency` = shards) it reports the host's RSS once every shard
//! is ready and has answered (and per 1,000 guilds), the time from spawn to every shard
//! answering, and `!ping`'s p50 and commands/s there. Beside it, the same world served to a bare
//! serenity bot with its default cache (this binary run again as a child,
//! `ZORYX_SCALE_ROLE=bare`): the RSS and p50 the targets compare with. 2,500 guilds on one shard
//! is Discord's per-shard maximum, where the target is half the bare bot's RSS.

#![allow(clippy::print_stdout)] // a bench reports on stdout

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Bare;
use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder};
use zoryx_sim::{SimConfig, SimEvent, Simulator};

const MEMBERS: u32 = 50;
const WAIT: Duration = Duration::from_secs(300);

/// The child role: a bare serenity bot (default cache) on the simulator the parent names.
fn bare_child() {
    let (Ok(token), Ok(base), Some(shards)) = (
        std::env::var("DISCORD_TOKEN"),
        std::env::var("DISCORD_API_BASE"),
        std::env::var("SHARD_COUNT")
            .ok()
            .and_then(|n| n.parse::<u32>().ok()),
    ) else {
        eprintln!("bare bot: DISCORD_TOKEN, DISCORD_API_BASE and SHARD_COUNT are needed");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let http = HttpBuilder::new(&token)
            .proxy(base)
            .ratelimiter_disabled(true)
            .build();
        // The host's intents for these events, so the two caches hold the same data.
        let intents = GatewayIntents::GUILDS
            | GatewayIntents::GUILD_MEMBERS
            | GatewayIntents::GUILD_MESSAGES
            | GatewayIntents::MESSAGE_CONTENT
            | GatewayIntents::GUILD_VOICE_STATES;
        let mut client = ClientBuilder::new_with_http(http, intents)
            .event_handler(Bare)
            .await
            .expect("serenity client");
        if let Err(error) = client.start_shard_range(0..shards - 1, shards).await {
            eprintln!("bare bot: {error}");
        }
    });
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// Posts `!ping` in `channel` and waits for the reply; the round trip.
async fn ping(sim: &Simulator, channel: u64) -> Option<Duration> {
    let mut events = sim.subscribe();
    let start = Instant::now();
    let id = sim
        .inject_message(channel, sim.owner().id, "!ping")
        .await
        .ok()?;
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match events.recv().await {
                Ok(SimEvent::BotMessage {
                    reply_to: Some(r), ..
                }) if r == id => return Some(start.elapsed()),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}

struct Run {
    rss_mib: f64,
    ready: Duration,
    p50_ms: f64,
    per_second: f64,
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One bot (`zoryx` or the bare child) against a world of `guilds` guilds.
async fn run(guilds: u32, shards: u32, bare: bool) -> Run {
    let sim = Simulator::start(SimConfig {
        recommended_shards: shards,
        max_concurrency: u16::try_from(shards).unwrap_or(u16::MAX),
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let ids = sim.populate(guilds, MEMBERS);
    let mut by_shard: BTreeMap<u32, u64> = BTreeMap::new();
    for guild in &ids {
        by_shard
            .entry(((guild >> 22) % u64::from(shards)) as u32)
            .or_insert(*guild);
    }
    let channels: Vec<u64> = by_shard.values().map(|g| sim.channels(*g)[0]).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("extensions");
    let mut command = if bare {
        let mut c = Command::new(std::env::current_exe().expect("this bench"));
        c.env("ZORYX_SCALE_ROLE", "bare");
        c
    } else {
        let mut c = Command::new(env!("CARGO_BIN_EXE_zoryx"));
        c.args(["run", "--no-console"]).env("RUST_LOG", "warn");
        c
    };
    let mut events = sim.subscribe();
    let started = Instant::now();
    let child = command
        .current_dir(dir.path())
        .env("DISCORD_TOKEN", sim.token())
        .env("DISCORD_API_BASE", sim.base_url())
        .env("BOT_OWNER_ID", sim.owner().id.to_string())
        .env("SHARD_COUNT", shards.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the bot");
    let child = Killed(child);
    // Ready: every shard identified, then answers.
    let mut identified = 0;
    tokio::time::timeout(WAIT, async {
        while identified < shards {
            match events.recv().await {
                Ok(SimEvent::Identified { .. }) => identified += 1,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
        }
    })
    .await
    .expect("every shard identifies");
    for channel in &channels {
        assert!(
            ping(&sim, *channel).await.is_some(),
            "a shard never answered"
        );
    }
    let ready = started.elapsed();
    let mut rtts = Vec::new();
    for i in 0..200 {
        if let Some(rtt) = ping(&sim, channels[i % channels.len()]).await {
            rtts.push(rtt);
        }
    }
    rtts.sort_unstable();
    let p50_ms = rtts
        .get(rtts.len() / 2)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    let burst = 400;
    let sim = Arc::new(sim);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..burst {
        let sim = Arc::clone(&sim);
        let channel = channels[i % channels.len()];
        tasks.push(tokio::spawn(async move { ping(&sim, channel).await }));
    }
    let mut answered = 0;
    for task in tasks {
        if matches!(task.await, Ok(Some(_))) {
            answered += 1;
        }
    }
    let per_second = f64::from(answered) / start.elapsed().as_secs_f64();
    let rss_mib = rss_kib(child.0.id()) as f64 / 1024.0;
    drop(child);
    Run {
        rss_mib,
        ready,
        p50_ms,
        per_second,
    }
}

fn main() {
    if std::env::var("ZORYX_SCALE_ROLE").as_deref() == Ok("bare") {
        bare_child();
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `GUILDS@SHARDS`, comma separated.
    let sizes: Vec<(u32, u32)> = std::env::var("ZORYX_SCALE_GUILDS")
        .unwrap_or_else(|_| "2500@1,1000@16,10000@16".to_owned())
        .split(',')
        .filter_map(|size| {
            let (guilds, shards) = size.trim().split_once('@').unwrap_or((size.trim(), "16"));
            Some((guilds.parse().ok()?, shards.parse().ok()?))
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("\n## The host at scale ({MEMBERS} members a guild)\n");
    println!(
        "| guilds | shards | zoryx RSS | per 1,000 guilds | bare serenity RSS (default cache) | zoryx / bare (target ≤ 0.5) | spawn → all shards answer | !ping p50 zoryx / bare | commands/s zoryx / bare |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (guilds, shards) in sizes {
        let zoryx = runtime.block_on(run(guilds, shards, false));
        let bare = runtime.block_on(run(guilds, shards, true));
        let ratio = zoryx.rss_mib / bare.rss_mib;
        println!(
            "| {guilds} | {shards} | {:.0} MiB | {:.1} MiB | {:.0} MiB | {ratio:.2} {} | {:.1} s | {:.2} / {:.2} ms | {:.0} / {:.0} |",
            zoryx.rss_mib,
            zoryx.rss_mib * 1000.0 / f64::from(guilds),
            bare.rss_mib,
            if ratio <= 0.5 { "(met)" } else { "(MISSED)" },
            zoryx.ready.as_secs_f64(),
            zoryx.p50_ms,
            bare.p50_ms,
            zoryx.per_second,
            bare.per_second,
        );
    }
}
