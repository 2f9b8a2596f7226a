//! The `zoryx` binary as an operator runs it: console on stdin, config errors, exit codes.

mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};

use support::{checker, fixture};

fn run_with_stdin(dir: &std::path::Path, input: &str) -> (bool, String, String) {
    let mut child = Command::new(checker())
        .arg("run")
        .args([
            "--extensions",
            "extensions",
            "--data",
            "data",
            "--config",
            "config.json",
        ])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zoryx");
    // A run refused at start (bad config) may exit before reading its input.
    if let Err(error) = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
    {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write: {error}"
        );
    }
    let output = child.wait_with_output().expect("wait");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn console_session_over_stdin() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("dir");
    std::fs::copy(
        fixture("plugin-hello.so"),
        dir.path().join("extensions/hello.so"),
    )
    .expect("copy");
    let (ok, stdout, stderr) = run_with_stdin(
        dir.path(),
        // No token: offline mode, where operator commands start with `:`.
        ":call hello echo hi there\n:list\n:reload hello\n:call hello hello\n:quit\n",
    );
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("hi there\n"), "{stdout}");
    assert!(
        stdout.contains("hello                0.1.0      loaded"),
        "{stdout}"
    );
    assert!(
        stdout.contains("reloaded hello (generation 1 -> 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Hello, console! (1 greeted so far)"),
        "a new generation starts afresh: {stdout}"
    );
    let registry =
        std::fs::read_to_string(dir.path().join("data/plugin_registry.json")).expect("registry");
    assert!(registry.contains("\"hello\""), "{registry}");
}

#[test]
fn a_bad_config_value_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"auto_reload": "yes please"}"#,
    )
    .expect("config");
    let (ok, _stdout, stderr) = run_with_stdin(dir.path(), "quit\n");
    assert!(!ok);
    assert!(
        stderr.contains("config.json: `auto_reload`: invalid type"),
        "{stderr}"
    );
}
