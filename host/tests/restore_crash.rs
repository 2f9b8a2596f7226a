//! A restore of 250 roles and 500 channels in the real `zoryx` binary, killed with SIGKILL at 20
//! random points: each time the host starts again, the `backups` plugin resumes from its
//! journal, and the end state is the snapshot's, with nothing made twice. Role and channel
//! creation meet 429s on the way (Discord's rate limits, as the simulator scripts them).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use zoryx_sim::{SimConfig, SimEvent, Simulator};

use support::{checker, fixture};

const ROLES: usize = 250;
const CHANNELS: usize = 500;
const KILLS: usize = 20;
/// The longest any one wait of this test takes.
const PATIENCE: Duration = Duration::from_secs(120);

/// `zoryx run` in `dir`, connected to `sim`, without a console.
fn start(dir: &Path, sim: &Simulator) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("host.log"))
        .expect("log");
    Command::new(checker())
        .args(["run", "--no-console"])
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("ZORYX_DATA")
        .env_remove("ZORYX_EXTENSIONS")
        .env_remove("ZORYX_CONFIG")
        .env_remove("SHARD_COUNT")
        .env_remove("SHARD_IDS")
        .env("DISCORD_TOKEN", sim.token())
        .env("DISCORD_API_BASE", sim.base_url())
        .env("BOT_OWNER_ID", sim.owner().id.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn zoryx")
}

/// Posts `content` as the owner until the bot answers it (it may still be connecting).
async fn ask(sim: &Simulator, content: &str) -> (u64, Value) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut events = sim.subscribe();
        let asked = sim
            .inject_message(sim.default_channel(), sim.owner().id, content)
            .await
            .expect("inject");
        let answer = tokio::time::timeout(Duration::from_secs(3), async {
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
        .await;
        if let Ok(answer) = answer {
            return answer;
        }
        assert!(Instant::now() < deadline, "no answer to {content}");
    }
}

fn journal(path: &Path) -> Option<Value> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// A small deterministic generator (xorshift), seeded from the clock and printed, so that a
/// failing run can be told apart.
struct Random(u64);

impl Random {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % below as u64).expect("small")
    }
}

fn count_named(names: &[String], name: &str) -> usize {
    names.iter().filter(|n| *n == name).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_killed_at_twenty_random_points_ends_as_the_snapshot_with_nothing_twice() {
    let sim = Simulator::start(SimConfig::default()).await.expect("sim");
    let guild = sim.default_guild();
    let guest = sim.guest().id;
    let mut roles = Vec::new();
    for i in 0..ROLES {
        roles.push(
            sim.add_role(guild, &format!("R{i}"), 1 << (i % 40))
                .expect("role"),
        );
    }
    let mut channels = Vec::new();
    for i in 0..CHANNELS {
        channels.push(sim.add_channel(guild, &format!("c{i}")).expect("channel"));
    }
    for role in roles.iter().step_by(50) {
        sim.add_member_role(guild, guest, *role).expect("grant");
    }
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("extensions");
    std::fs::copy(
        fixture("plugin-backups.so"),
        dir.path().join("extensions/backups.so"),
    )
    .expect("plugin");
    std::fs::write(dir.path().join("config.json"), "{}").expect("config");
    let mut host = start(dir.path(), &sim);

    let (_, created) = ask(&sim, "!backupcreate").await;
    let text = created["embeds"][0]["description"].as_str().expect("text");
    let id = text[1..13].to_owned();
    let took = created["embeds"][0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "Took"))
        .and_then(|f| f["value"].as_str())
        .unwrap_or("?")
        .to_owned();

    // Half of everything goes.
    for role in roles.iter().step_by(2) {
        sim.remove_role(guild, *role).expect("remove role");
    }
    for channel in channels.iter().step_by(2) {
        sim.remove_channel(*channel).expect("remove channel");
    }
    // Discord pushes back: more 429s in a row on role creation than the host waits out (the
    // restore tries that step again later), a few on channel creation.
    sim.rate_limit("POST /guilds/*/roles", 12);
    sim.rate_limit("POST /guilds/*/channels", 4);

    let (plan_message, plan) = ask(&sim, &format!("!backuprestore {id}")).await;
    let footer = plan["embeds"][0]["footer"]["text"].as_str().expect("steps");
    let steps: usize = footer
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a step count");
    // The roles and channels, the guest's roles, and the roles' order.
    assert_eq!(steps, ROLES / 2 + CHANNELS / 2 + 2, "{footer}");
    let confirm = plan["components"][0]["components"][0]["custom_id"]
        .as_str()
        .expect("button")
        .to_owned();
    let started = Instant::now();
    sim.inject_component(plan_message, sim.owner().id, &confirm, vec![])
        .await
        .expect("confirm");

    // Twenty kill points among the steps, in order.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64 | 1);
    eprintln!("kill points seeded with {seed}");
    let mut random = Random(seed);
    let mut points: Vec<usize> = (0..KILLS).map(|_| 1 + random.next(steps - 2)).collect();
    points.sort_unstable();
    let path: PathBuf = dir
        .path()
        .join(format!("data/plugins/backups/{guild}/restore.json"));
    let mut killed_at = Vec::new();
    for point in points {
        let deadline = Instant::now() + PATIENCE;
        let next = loop {
            if let Some(j) = journal(&path)
                && j["status"] == "running"
                && j["next"].as_u64().is_some_and(|n| n as usize >= point)
            {
                break j["next"].as_u64().unwrap_or_default();
            }
            assert!(
                Instant::now() < deadline,
                "the restore did not reach step {point}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        host.kill().expect("SIGKILL");
        host.wait().expect("reaped");
        killed_at.push(next);
        host = start(dir.path(), &sim);
    }
    eprintln!("killed at steps {killed_at:?} of {steps}");
    let deadline = Instant::now() + PATIENCE;
    let done = loop {
        if let Some(j) = journal(&path)
            && j["status"] != "running"
        {
            break j;
        }
        assert!(Instant::now() < deadline, "the restore did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!(
        "snapshot of {ROLES} roles and {CHANNELS} channels: {took}; restore of {steps} steps \
         with {KILLS} kills and 16 429s: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(done["status"], "done", "{}", done["skipped"]);
    assert_eq!(done["skipped"], serde_json::json!([]));

    let role_names: Vec<String> = sim
        .roles(guild)
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    let channel_names: Vec<String> = sim
        .channels(guild)
        .iter()
        .filter_map(|c| sim.channel_name(*c))
        .collect();
    for i in 0..ROLES {
        assert_eq!(count_named(&role_names, &format!("R{i}")), 1, "R{i}");
    }
    for i in 0..CHANNELS {
        assert_eq!(count_named(&channel_names, &format!("c{i}")), 1, "c{i}");
    }
    let member = sim.member(guild, guest).expect("guest");
    let mut held: Vec<String> = member["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| {
            sim.roles(guild)
                .into_iter()
                .find(|r| r["id"] == *id)
                .and_then(|r| r["name"].as_str().map(str::to_owned))
        })
        .collect();
    held.sort();
    let mut wanted: Vec<String> = (0..ROLES).step_by(50).map(|i| format!("R{i}")).collect();
    wanted.sort();
    assert_eq!(held, wanted, "the guest's roles");
    host.kill().expect("stop");
    host.wait().expect("reaped");
    sim.shutdown().await;
}
