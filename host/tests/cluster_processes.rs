//! A 16-shard bot run as 4 `zoryx` processes of 4 shards each, against one simulator that keeps
//! Discord's identify limits (4 identify buckets, 5 s apart), with one shared gateway queue
//! (twilight's gateway-queue protocol, `zoryx-queue`) and the shard manager's IPC between the
//! processes: every shard is ready without one refused IDENTIFY, `!clusters` shows the global
//! totals, a killed process leaves the others serving, and restarted it identifies and rejoins.

#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use zoryx_queue::InMemoryQueue;
use zoryx_sim::{SimConfig, SimEvent, Simulator};

use support::bot::text_of;

const SHARDS: u32 = 16;
const PROCESSES: u32 = 4;
const SECRET: &str = "cluster-test-secret-0123456789";
/// Long enough for four rounds of identifies, 5 s apart, on a busy machine.
const WAIT: Duration = Duration::from_secs(90);

/// A free port on loopback (the IPC server's).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Cluster {
    dir: tempfile::TempDir,
    sim: Simulator,
    queue_url: String,
    ipc_port: u16,
    children: BTreeMap<u32, Child>,
}

impl Cluster {
    fn shard_ids(index: u32) -> String {
        let per = SHARDS / PROCESSES;
        (index * per..(index + 1) * per)
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Starts process `index` (0 is the IPC server) on its own data folder.
    fn spawn(&mut self, index: u32) {
        let root = self.dir.path().join(format!("cluster-{index}"));
        let extensions = root.join("extensions");
        std::fs::create_dir_all(&extensions).expect("extensions");
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fixtures/plugin-shardmanager.so");
        std::fs::copy(&fixture, extensions.join("shardmanager.so"))
            .expect("the shardmanager fixture (test-fixtures/build.sh)");
        let child = Command::new(env!("CARGO_BIN_EXE_zoryx"))
            .args(["run", "--no-console"])
            .current_dir(&root)
            .env("DISCORD_TOKEN", self.sim.token())
            .env("DISCORD_API_BASE", self.sim.base_url())
            .env("DISCORD_CDN_BASE", self.sim.cdn_url())
            .env("BOT_OWNER_ID", self.sim.owner().id.to_string())
            .env("SHARD_COUNT", SHARDS.to_string())
            .env("SHARD_IDS", Self::shard_ids(index))
            .env("DISCORD_GATEWAY_QUEUE", &self.queue_url)
            .env("ENABLE_SHARD_MANAGER", "true")
            .env(
                "SHARD_IPC_MODE",
                if index == 0 { "server" } else { "client" },
            )
            .env("SHARD_IPC_HOST", "127.0.0.1")
            .env("SHARD_IPC_PORT", self.ipc_port.to_string())
            .env("SHARD_IPC_SECRET", SECRET)
            .env("SHARD_CLUSTER_NAME", format!("cluster-{index}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn zoryx");
        self.children.insert(index, child);
    }

    fn kill(&mut self, index: u32) {
        if let Some(mut child) = self.children.remove(&index) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, mut child) in std::mem::take(&mut self.children) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until `count` more shards have identified; returns the shards.
async fn identified(
    events: &mut tokio::sync::broadcast::Receiver<SimEvent>,
    count: usize,
) -> Vec<u32> {
    let mut shards = Vec::new();
    tokio::time::timeout(WAIT, async {
        while shards.len() < count {
            match events.recv().await {
                Ok(SimEvent::Identified { shard, .. }) => shards.push(shard[0]),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(error) => panic!("simulator events ended: {error}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {shards:?} identified"));
    shards.sort_unstable();
    shards
}

/// Posts `content` in `channel` as the owner and waits for the bot's reply.
async fn ask(sim: &Simulator, channel: u64, content: &str) -> Value {
    let mut events = sim.subscribe();
    let id = sim
        .inject_message(channel, sim.owner().id, content)
        .await
        .expect("inject");
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(SimEvent::BotMessage {
                    reply_to: Some(r),
                    body,
                    ..
                }) if r == id => return body,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(error) => panic!("simulator events ended: {error}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no reply to {content:?} in {channel}"))
}

/// Asks `!clusters` until the totals read `want` (clusters publish on connect, so the first
/// answers may still miss some); the last answer.
async fn clusters_until(sim: &Simulator, channel: u64, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..30 {
        last = text_of(&ask(sim, channel, "!clusters").await);
        if last.contains(want) {
            return last;
        }
        // `clusters` has a 10 s cooldown per user: a refusal is an answer too; wait it out
        // on the simulator's clock of real replies rather than guessing.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    panic!("`!clusters` never showed {want:?}: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_shards_in_four_processes_share_one_queue_and_survive_a_kill() {
    let sim = Simulator::start(SimConfig {
        recommended_shards: SHARDS,
        max_concurrency: 4,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    // A guild on every shard (a guild's shard is (id >> 22) % 16).
    let mut by_shard: BTreeMap<u32, u64> = BTreeMap::new();
    for guild in sim.guilds() {
        by_shard
            .entry(((guild >> 22) % u64::from(SHARDS)) as u32)
            .or_insert(guild);
    }
    let mut n = 0;
    while by_shard.len() < SHARDS as usize {
        let guild = sim.add_guild(&format!("guild {n}"));
        by_shard
            .entry(((guild >> 22) % u64::from(SHARDS)) as u32)
            .or_insert(guild);
        n += 1;
        if n % 64 == 0 {
            // Snowflakes of one millisecond share a shard: let the clock move on.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let channel_on = |shard: u32| sim.channels(by_shard[&shard])[0];

    // The gateway queue, as `zoryx queue` serves it: 4 buckets, one IDENTIFY each per 5 s.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("queue listener");
    let queue_url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(zoryx_queue::serve(
        listener,
        InMemoryQueue::new(4, 1000, Duration::from_secs(86_400), 1000),
    ));

    let mut events = sim.subscribe();
    let mut cluster = Cluster {
        dir: tempfile::tempdir().expect("temp dir"),
        sim: sim.clone(),
        queue_url,
        ipc_port: free_port(),
        children: BTreeMap::new(),
    };
    for index in 0..PROCESSES {
        cluster.spawn(index);
    }
    let shards = identified(&mut events, SHARDS as usize).await;
    assert_eq!(shards, (0..SHARDS).collect::<Vec<_>>(), "each shard once");
    assert_eq!(sim.identify_refusals(), 0, "no IDENTIFY broke the limits");

    // Any cluster answers with the global totals.
    let overview = clusters_until(&sim, channel_on(0), "Clusters: 4").await;
    assert!(
        overview.contains(&format!("Shards:   {SHARDS}")),
        "{overview}"
    );
    let from_client = clusters_until(&sim, channel_on(13), "Clusters: 4").await;
    assert!(
        from_client.contains("This cluster: `cluster-3`"),
        "{from_client}"
    );

    // A process dies: the others keep serving their shards.
    cluster.kill(2);
    for shard in [0, 4, 12] {
        let pong = text_of(&ask(&sim, channel_on(shard), "!ping").await);
        assert!(pong.contains("Pong"), "shard {shard}: {pong}");
    }
    // Restarted (no saved sessions after a kill), it identifies its shards and rejoins.
    cluster.spawn(2);
    let again = identified(&mut events, (SHARDS / PROCESSES) as usize).await;
    assert_eq!(again, vec![8, 9, 10, 11]);
    let pong = text_of(&ask(&sim, channel_on(9), "!ping").await);
    assert!(pong.contains("Pong"), "{pong}");
    let overview = clusters_until(&sim, channel_on(9), "Clusters: 4").await;
    assert!(overview.contains("This cluster: `cluster-2`"), "{overview}");
    assert_eq!(sim.identify_refusals(), 0);
    assert_eq!(sim.identify_count(), u64::from(SHARDS + SHARDS / PROCESSES));
}
