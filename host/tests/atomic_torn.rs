//! Atomic writes are never torn: a child process (this test binary re-run in "writer mode")
//! rewrites large JSON files in a loop and is killed with SIGKILL at random moments, 200 times.
//! After every kill each file parses and holds one of the two documents the writer alternates
//! between. Temp files a kill leaves behind are removed by `remove_stale_temp_files`, which the
//! host runs at start; the test runs it after each kill and checks nothing remains.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use zoryx_host::storage::atomic::{AtomicOptions, AtomicStore, CacheMode, remove_stale_temp_files};

/// Selects writer mode and names the folder to write in.
const WRITER_DIR: &str = "ZORYX_TORN_WRITER_DIR";
/// What the writer prints once every file exists.
const READY: &str = "torn-writer-ready";
const FILES: [&str; 3] = ["a.json", "b.json", "c.json"];
const KILLS: usize = 200;

/// One of the two large documents (about 300 KB pretty-printed).
fn document(version: u64) -> Value {
    let items: Vec<Value> = (0..4000)
        .map(|i| json!({"id": i, "version": version, "name": format!("item-{i}-v{version}")}))
        .collect();
    json!({"version": version, "items": items})
}

/// The writer: alternates the two documents over every file until killed.
#[test]
#[ignore = "run by never_torn_under_sigkill as its child process"]
fn torn_writer_child() {
    let Some(dir) = std::env::var_os(WRITER_DIR).map(PathBuf::from) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = AtomicStore::new(AtomicOptions::default());
        let docs = [document(0), document(1)];
        let mut round: usize = 0;
        loop {
            for name in FILES {
                store
                    .write_json(&dir.join(name), &docs[round % 2], CacheMode::Invalidate)
                    .await
                    .expect("write");
            }
            if round == 0 {
                use std::io::Write as _;
                let mut out = std::io::stderr();
                writeln!(out, "{READY}").expect("report ready");
            }
            round += 1;
        }
    });
}

/// A small xorshift generator seeded from the clock (the kill moments need not repeat).
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Self(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".zoryx-tmp-"))
        .collect()
}

#[test]
fn never_torn_under_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");
    let docs = [document(0), document(1)];
    let mut jitter = Jitter::new();
    let mut left_behind = 0;
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["torn_writer_child", "--exact", "--ignored", "--nocapture"])
            .env(WRITER_DIR, dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let ready = lines.any(|line| line.is_ok_and(|l| l.trim() == READY));
        assert!(ready, "kill {kill}: the writer never got ready");
        std::thread::sleep(Duration::from_micros(jitter.below(30_000)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");

        for name in FILES {
            let path = dir.path().join(name);
            let bytes = std::fs::read(&path).expect("the file exists after a kill");
            let value: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("kill {kill}: {name} is torn: {e}"));
            assert!(
                value == docs[0] || value == docs[1],
                "kill {kill}: {name} holds neither document"
            );
        }
        let temps = temp_files(dir.path());
        assert!(
            temps.len() <= 1,
            "kill {kill}: one write in flight at most: {temps:?}"
        );
        left_behind += temps.len();
        // What the host does at start.
        let removed = remove_stale_temp_files(dir.path()).expect("clean-up");
        assert_eq!(removed, temps.len());
        assert!(temp_files(dir.path()).is_empty());
    }
    // Some kills land mid-write (a temp file was left), so the test did exercise that case.
    assert!(left_behind > 0, "no kill interrupted a write");
}

#[test]
fn temp_files_of_live_processes_are_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mine = dir
        .path()
        .join(format!(".x.json.zoryx-tmp-{}-0", std::process::id()));
    std::fs::write(&mine, "partial").expect("write");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    // No process has pid 0x7fff_fffe on Linux (pid_max is at most 2^22).
    let dead = sub.join(".y.json.zoryx-tmp-2147483646-3");
    std::fs::write(&dead, "partial").expect("write");
    let unrelated = sub.join("z.json.tmp");
    std::fs::write(&unrelated, "keep").expect("write");
    assert_eq!(remove_stale_temp_files(dir.path()).expect("clean-up"), 1);
    assert!(mine.exists());
    assert!(!dead.exists());
    assert!(unrelated.exists());
}
