//! The `zoryx run` start-up end to end: config.json generated on first run, log files in
//! `botlogs/` next to it, unknown keys warned about in the log, a corrupt config refused with
//! its line and left untouched, `.env` taking precedence.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `zoryx run` in `dir`, typing `quit` on its console.
fn run(dir: &Path) -> (bool, String) {
    std::fs::create_dir_all(dir.join("extensions")).expect("extensions");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoryx"))
        .args(["run", "--extensions", "extensions", "--data", "data"])
        .args(["--config", "config.json"])
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("ENABLE_SHARD_MONITOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zoryx");
    // A run refused at start may exit before reading its input.
    if let Err(error) = child.stdin.take().expect("stdin").write_all(b"quit\n") {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    let output = child.wait_with_output().expect("wait");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn first_run_creates_the_config_and_the_logs_then_warns_about_unknown_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, stderr) = run(dir.path());
    assert!(ok, "{stderr}");
    let config: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("config.json"))).expect("config.json");
    assert_eq!(config["logging"]["backup_count"], 5);
    assert_eq!(config["atomic_files"]["cache_ttl_secs"], 300);
    let current = read(&dir.path().join("botlogs/current_run.log"));
    assert!(current.contains("created the config file"), "{current}");
    assert!(dir.path().join("botlogs/permanent.log").exists());

    let mut edited = config.clone();
    edited["prefx"] = serde_json::json!("?");
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&edited).expect("json"),
    )
    .expect("edit");
    let (ok, stderr) = run(dir.path());
    assert!(ok, "{stderr}");
    let current = read(&dir.path().join("botlogs/current_run.log"));
    assert!(
        !current.contains("created the config file"),
        "a new run: {current}"
    );
    assert!(
        current.contains("unknown key `prefx` (did you mean `prefix`?)"),
        "{current}"
    );
    let permanent = read(&dir.path().join("botlogs/permanent.log"));
    assert!(permanent.contains("created the config file"), "{permanent}");
    assert!(permanent.contains("unknown key `prefx`"), "{permanent}");
}

#[test]
fn a_corrupt_config_stops_the_start_and_is_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "{\n  \"prefix\": \"!\",,\n}\n";
    std::fs::write(dir.path().join("config.json"), text).expect("write");
    let (ok, stderr) = run(dir.path());
    assert!(!ok);
    assert!(
        stderr.contains("config.json is not valid JSON") && stderr.contains("line 2"),
        "{stderr}"
    );
    assert_eq!(read(&dir.path().join("config.json")), text);
}

#[test]
fn an_out_of_range_value_is_named_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"logging": {"level": "VERBOSE"}}"#,
    )
    .expect("write");
    let (ok, stderr) = run(dir.path());
    assert!(!ok);
    assert!(
        stderr.contains("`logging.level`: one of DEBUG/INFO/WARNING/ERROR/CRITICAL"),
        "{stderr}"
    );
}

#[test]
fn a_bad_env_file_value_is_named_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(".env"), "ENABLE_SHARD_MONITOR=perhaps\n").expect("write");
    let (ok, stderr) = run(dir.path());
    assert!(!ok);
    assert!(stderr.contains("ENABLE_SHARD_MONITOR"), "{stderr}");
}
