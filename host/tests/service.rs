//! The real `zoryx` binary started as a service, a terminal or a script would start it: stdin
//! `/dev/null`, a closed pipe, an open pipe, a terminal (a pty); stopped by SIGINT, SIGTERM,
//! `quit` or end of input; the console flags; the exit codes; and offline mode's chat, which
//! shows warnings and errors only. The bot is connected to a simulator in the test process over
//! real sockets (`DISCORD_API_BASE`).
#![cfg(unix)]

mod support;

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use zoryx_sim::{SimConfig, SimEvent, Simulator};

use support::{checker, fixture};

/// How long starting up, or one expected line, may take.
const WAIT: Duration = Duration::from_secs(30);
/// Commands in flight get up to 10 s after a stop; disconnecting and the backup come on top.
/// A stopped host must be gone within this.
const DRAIN_LIMIT: Duration = Duration::from_secs(20);

/// What the host gets as stdin.
enum Stdin {
    /// `/dev/null`.
    Null,
    /// A pipe whose writing end is closed at once.
    ClosedPipe,
    /// A pipe the test keeps open, with `text` already written.
    OpenPipe(&'static str),
    /// A terminal: the slave side of a pty whose master the test keeps.
    Pty,
}

/// Lines from one of the child's outputs, read on a thread.
struct Lines {
    name: &'static str,
    rx: UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn read(name: &'static str, from: impl Read + Send + 'static) -> Self {
        let (tx, rx) = unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            name,
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `text` (or finds it among the lines already read); returns
    /// it.
    async fn until(&mut self, text: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Ok(None) | Err(_) => panic!(
                    "no `{text}` on {}; got:\n{}",
                    self.name,
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything until the stream ends (the child has exited).
    async fn rest(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        while let Ok(Some(line)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.seen.push(line);
        }
        self.seen.join("\n")
    }
}

/// The binary under test, in a temp folder of its own.
struct Host {
    dir: TempDir,
    child: Child,
    stdin: Option<ChildStdin>,
    /// The pty's master side, kept open so the host's terminal stays open.
    pty: Option<File>,
    log: Lines,
    out: Lines,
}

/// A pty: (master, slave), both close-on-exec in this process.
fn open_pty() -> (OwnedFd, OwnedFd) {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    // SAFETY: openpty writes two new descriptors into the two out-pointers, which point to live
    // integers; a null name, termios and window size are allowed and mean the defaults.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    for fd in [master, slave] {
        // SAFETY: `fd` is a descriptor openpty just returned; F_SETFD only sets its flags.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: both descriptors were just opened by openpty and nothing else owns them.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Sends `signal` to the process `pid`.
fn send_signal(pid: u32, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid");
    // SAFETY: kill has no memory effects; `pid` is our own child, not yet reaped.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
}

/// Bytes written into a pipe and not read yet.
fn unread_bytes(pipe: &ChildStdin) -> libc::c_int {
    let mut unread: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which points to a live int; the
    // descriptor is the open writing end of the pipe.
    let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut unread) };
    assert_eq!(rc, 0, "ioctl: {}", std::io::Error::last_os_error());
    unread
}

/// The environment that connects the host to `sim`; `None`: offline mode.
fn online_env(sim: Option<&Simulator>) -> Vec<(&'static str, String)> {
    match sim {
        Some(sim) => vec![
            ("DISCORD_TOKEN", sim.token().to_owned()),
            ("DISCORD_API_BASE", sim.base_url()),
            ("BOT_OWNER_ID", sim.owner().id.to_string()),
        ],
        None => Vec::new(),
    }
}

impl Host {
    /// Starts `zoryx run ARGS` with `stdin`, connected to `sim` (or offline), with `config` as
    /// config.json and `plugins` (fixture, file name) in extensions/.
    fn start(
        sim: Option<&Simulator>,
        stdin: Stdin,
        args: &[&str],
        config: &str,
        plugins: &[(&str, &str)],
        rust_log: Option<&str>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("extensions")).expect("extensions");
        for (name, file) in plugins {
            std::fs::copy(fixture(name), dir.path().join("extensions").join(file)).expect("copy");
        }
        std::fs::write(dir.path().join("config.json"), config).expect("config");
        let mut command = Command::new(checker());
        command
            .arg("run")
            .args(args)
            .current_dir(dir.path())
            .env_remove("DISCORD_TOKEN")
            .env_remove("DISCORD_API_BASE")
            .env_remove("SHARD_COUNT")
            .env_remove("SHARD_IDS")
            .env_remove("ZORYX_DATA")
            .env_remove("ZORYX_EXTENSIONS")
            .env_remove("ZORYX_CONFIG")
            .envs(online_env(sim))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match rust_log {
            Some(filter) => command.env("RUST_LOG", filter),
            None => command.env_remove("RUST_LOG"),
        };
        let mut pty = None;
        let mut text = None;
        match stdin {
            Stdin::Null => {
                command.stdin(Stdio::null());
            }
            Stdin::ClosedPipe => {
                command.stdin(Stdio::piped());
            }
            Stdin::OpenPipe(written) => {
                command.stdin(Stdio::piped());
                text = Some(written);
            }
            Stdin::Pty => {
                let (master, slave) = open_pty();
                command.stdin(Stdio::from(slave));
                pty = Some(File::from(master));
            }
        }
        let mut child = command.spawn().expect("spawn zoryx");
        // The parent's copy of the pty's slave side goes with the command.
        drop(command);
        let mut stdin = child.stdin.take();
        match text {
            Some(text) => {
                let pipe = stdin.as_mut().expect("stdin");
                pipe.write_all(text.as_bytes()).expect("write stdin");
                pipe.flush().expect("flush stdin");
            }
            // A closed pipe: the host reads end of input at once.
            None => stdin = None,
        }
        let log = Lines::read("stderr", child.stderr.take().expect("stderr"));
        let out = Lines::read("stdout", child.stdout.take().expect("stdout"));
        Self {
            dir,
            child,
            stdin,
            pty,
            log,
            out,
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn signal(&self, signal: libc::c_int) {
        send_signal(self.child.id(), signal);
    }

    /// Types `text` on the pty.
    fn type_on_terminal(&mut self, text: &str) {
        let pty = self.pty.as_mut().expect("a pty");
        pty.write_all(text.as_bytes()).expect("write to the pty");
        pty.flush().expect("flush the pty");
    }

    /// Waits until the host has exited (failing past `limit`); returns its status and its
    /// whole stderr.
    async fn exit_within(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = tokio::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "zoryx did not exit within {limit:?}; stderr:\n{}",
                    self.log.rest().await
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        (status, self.log.rest().await)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A failed test must not leave the host running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The backup folders written under `data/db-backups/`, each checked to hold `main.db`.
fn backups(data: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data.join("db-backups")) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("main.db").is_file())
        .collect();
    folders.sort();
    folders
}

async fn simulator() -> Simulator {
    Simulator::start(SimConfig::default())
        .await
        .expect("simulator")
}

/// Posts `text` as the owner in the default channel; waits for the bot's reply and returns it.
async fn reply_to(sim: &Simulator, text: &str) -> serde_json::Value {
    let mut events = sim.subscribe();
    let id = sim
        .inject_message(sim.default_channel(), sim.owner().id, text)
        .await
        .expect("inject");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(SimEvent::BotMessage { reply_to, body, .. })) if reply_to == Some(id) => {
                return body;
            }
            Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(error)) => panic!("simulator events: {error}"),
            Err(_) => panic!("no reply to `{text}` within {WAIT:?}"),
        }
    }
}

/// Asserts a graceful stop for `reason`: exit code 0, "shutting down" naming the reason,
/// a backup written.
fn assert_graceful(host: &Host, status: ExitStatus, log: &str, reason: &str) {
    assert_eq!(status.code(), Some(0), "{status:?}\n{log}");
    let line = log
        .lines()
        .find(|l| l.contains("shutting down"))
        .unwrap_or_else(|| panic!("no `shutting down`:\n{log}"));
    assert!(line.contains(reason), "stopped for another reason: {line}");
    assert!(log.contains("shutdown backup written"), "{log}");
    assert_eq!(backups(&host.data()).len(), 1, "{log}");
}

/// With stdin at its end from the start, the host keeps serving: a message sent after the end
/// of input is answered, and only SIGTERM stops it.
async fn serves_after_end_of_input(stdin: Stdin) {
    let sim = simulator().await;
    let mut host = Host::start(Some(&sim), stdin, &[], "{}", &[], Some("info"));
    host.log.until("stdin ended: the console is closed").await;
    host.log.until("connected to Discord").await;
    let reply = reply_to(&sim, "!ping").await;
    assert!(reply.to_string().to_lowercase().contains("pong"), "{reply}");
    assert!(
        !host.log.seen.iter().any(|l| l.contains("shutting down")),
        "{}",
        host.log.seen.join("\n")
    );
    host.signal(libc::SIGTERM);
    let (status, log) = host.exit_within(DRAIN_LIMIT).await;
    assert_graceful(&host, status, &log, "SIGTERM");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_dev_null_does_not_stop_the_host() {
    serves_after_end_of_input(Stdin::Null).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdin_pipe_does_not_stop_the_host() {
    serves_after_end_of_input(Stdin::ClosedPipe).await;
}

/// SIGINT, then (in a second run) SIGTERM, end the host with `stdin`: exit code 0 and a backup
/// each time, within the drain limit.
async fn signals_stop_the_host(stdin: fn() -> Stdin) {
    let sim = simulator().await;
    for (signal, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        let mut host = Host::start(Some(&sim), stdin(), &[], "{}", &[], Some("info"));
        host.log.until("running (stop with").await;
        if host.pty.is_some() {
            // The terminal makes the console interactive.
            host.out.until("zoryx console — type `help`").await;
        }
        host.signal(signal);
        let (status, log) = host.exit_within(DRAIN_LIMIT).await;
        assert_graceful(&host, status, &log, name);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_stop_the_host_on_a_terminal() {
    signals_stop_the_host(|| Stdin::Pty).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_stop_the_host_on_an_open_pipe() {
    signals_stop_the_host(|| Stdin::OpenPipe("")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_stop_the_host_on_dev_null() {
    signals_stop_the_host(|| Stdin::Null).await;
}

/// On a terminal the console is interactive: commands answer, Ctrl-D (end of input) stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_console_answers_and_stops_at_ctrl_d() {
    let sim = simulator().await;
    let mut host = Host::start(Some(&sim), Stdin::Pty, &[], "{}", &[], Some("info"));
    host.out.until("zoryx console — type `help`").await;
    host.type_on_terminal("list\n");
    host.out.until("no plugins").await;
    host.type_on_terminal("\u{4}");
    let (status, log) = host.exit_within(DRAIN_LIMIT).await;
    assert_graceful(&host, status, &log, "end of the console's input");
    sim.shutdown().await;
}

/// On a pipe the console still takes commands, `quit` included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_on_a_pipe_still_run_and_quit_stops() {
    let sim = simulator().await;
    let mut host = Host::start(
        Some(&sim),
        Stdin::OpenPipe("list\n"),
        &[],
        "{}",
        &[],
        Some("info"),
    );
    host.out.until("no plugins").await;
    // Unattended: no banner for a person.
    assert!(
        !host.out.seen.iter().any(|l| l.contains("type `help`")),
        "{:?}",
        host.out.seen
    );
    let pipe = host.stdin.as_mut().expect("stdin");
    pipe.write_all(b"quit\n").expect("write");
    pipe.flush().expect("flush");
    let (status, log) = host.exit_within(DRAIN_LIMIT).await;
    assert_graceful(&host, status, &log, "quit on the console");
    sim.shutdown().await;
}

/// `--console` makes a pipe's end of input a stop, as on a terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_flag_makes_end_of_input_a_stop() {
    let sim = simulator().await;
    let mut host = Host::start(
        Some(&sim),
        Stdin::ClosedPipe,
        &["--console"],
        "{}",
        &[],
        Some("info"),
    );
    let (status, log) = host.exit_within(WAIT + DRAIN_LIMIT).await;
    assert_graceful(&host, status, &log, "end of the console's input");
    assert!(
        host.out
            .rest()
            .await
            .contains("zoryx console — type `help`"),
        "the forced console greets"
    );
    sim.shutdown().await;
}

/// `--no-console` does not read stdin at all: a `quit` waiting in the pipe stays unread while
/// the bot serves, and only the signal stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_console_flag_leaves_stdin_unread() {
    let sim = simulator().await;
    let mut host = Host::start(
        Some(&sim),
        Stdin::OpenPipe("quit\n"),
        &["--no-console"],
        "{}",
        &[],
        Some("info"),
    );
    host.log.until("connected to Discord").await;
    reply_to(&sim, "!ping").await;
    assert_eq!(unread_bytes(host.stdin.as_ref().expect("stdin")), 5);
    host.signal(libc::SIGTERM);
    let (status, log) = host.exit_within(DRAIN_LIMIT).await;
    assert_graceful(&host, status, &log, "SIGTERM");
}

/// A second signal while the host drains a command in flight ends it at once with 128 + the
/// signal's number, logged (in the log file too), before the backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_forces_the_exit() {
    let sim = simulator().await;
    let mut host = Host::start(
        Some(&sim),
        Stdin::Null,
        &[],
        "{}",
        &[("basic-v1.so", "basic.so")],
        Some("info"),
    );
    host.log.until("connected to Discord").await;
    // A command that runs for a minute; the one after it is answered once the first is under
    // way (events are handled in order), so the drain has something to wait for.
    sim.inject_message(sim.default_channel(), sim.owner().id, "!slow 60000")
        .await
        .expect("inject");
    let version = reply_to(&sim, "!version").await;
    assert_eq!(version["content"], "v1", "{version}");

    host.signal(libc::SIGTERM);
    host.log.until("stop requested").await;
    host.signal(libc::SIGINT);
    let (status, log) = host.exit_within(DRAIN_LIMIT).await;
    assert_eq!(status.code(), Some(130), "{status:?}\n{log}");
    assert!(
        log.contains("SIGINT while stopping: exiting at once"),
        "{log}"
    );
    assert!(!log.contains("shutdown backup written"), "{log}");
    assert!(backups(&host.data()).is_empty());
    let file = std::fs::read_to_string(host.dir.path().join("botlogs/current_run.log"))
        .expect("current_run.log");
    assert!(file.contains("exiting at once"), "{file}");
    sim.shutdown().await;
}

fn exit_code_of(args: &[&str], config: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("config.json"), config).expect("config");
    let output = Command::new(checker())
        .args(args)
        .current_dir(dir.path())
        .env_remove("DISCORD_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run zoryx");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn usage_errors_exit_2_and_start_errors_exit_1() {
    let (code, stderr) = exit_code_of(&["run", "--console", "--no-console"], "{}");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let (code, stderr) = exit_code_of(&["run", "--bogus"], "{}");
    assert_eq!(code, Some(2), "{stderr}");
    let (code, stderr) = exit_code_of(&["run"], r#"{"prefix": 5}"#);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("`prefix`"), "{stderr}");
}

/// Offline mode: the chat on the terminal shows warnings and errors, not the INFO lines, which
/// are in botlogs/ in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_chat_shows_warnings_only() {
    let mut host = Host::start(
        None,
        Stdin::OpenPipe(""),
        &[],
        r#"{"no_such_key": 1}"#,
        &[],
        None,
    );
    host.out.until("offline mode").await;
    let pipe = host.stdin.as_mut().expect("stdin");
    pipe.write_all(b":quit\n").expect("write");
    pipe.flush().expect("flush");
    let (status, log) = host.exit_within(DRAIN_LIMIT).await;
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("no_such_key"), "the warning is shown: {log}");
    assert!(
        !log.lines().any(|l| l.contains(" INFO ")),
        "INFO lines in the chat:\n{log}"
    );
    let file = std::fs::read_to_string(host.dir.path().join("botlogs/current_run.log"))
        .expect("current_run.log");
    assert!(
        file.contains("offline mode: connected to the simulator"),
        "{file}"
    );
    assert!(file.contains("shutdown backup written"), "{file}");
}

/// Offline mode keeps "end of input ends the chat": with stdin /dev/null it stops at once,
/// cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_chat_ends_with_its_input() {
    let mut host = Host::start(None, Stdin::Null, &[], "{}", &[], Some("info"));
    let (status, log) = host.exit_within(WAIT + DRAIN_LIMIT).await;
    assert_eq!(status.code(), Some(0), "{log}");
    let file = std::fs::read_to_string(host.dir.path().join("botlogs/current_run.log"))
        .expect("current_run.log");
    assert!(file.contains("end of the console's input"), "{file}");
    assert_eq!(backups(&host.data()).len(), 1, "{file}");
}

/// Offline mode with `--no-console`: no chat, stdin unread; the bot serves until a signal, and
/// the terminal gets the full log (there is no chat to keep clean).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_without_console_serves_until_a_signal() {
    let mut host = Host::start(
        None,
        Stdin::OpenPipe(":quit\n"),
        &["--no-console"],
        "{}",
        &[],
        None,
    );
    host.log.until("running (stop with").await;
    assert_eq!(unread_bytes(host.stdin.as_ref().expect("stdin")), 6);
    host.signal(libc::SIGTERM);
    let (status, log) = host.exit_within(DRAIN_LIMIT).await;
    assert_graceful(&host, status, &log, "SIGTERM");
    assert!(
        !host
            .out
            .rest()
            .await
            .contains("offline mode: no DISCORD_TOKEN"),
        "no chat banner"
    );
}
