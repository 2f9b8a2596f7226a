//! Offline mode end to end: the real `zoryx` binary with no token starts the Discord simulator
//! in-process, connects to it over real sockets, and the chat console on stdin/stdout talks to
//! the bot as simulated users.

mod support;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use support::{checker, fixture};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The binary under test with its stdin and a stream of its stdout lines.
struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    /// Everything read so far, for failure messages.
    seen: Vec<String>,
}

impl Session {
    fn start(dir: &std::path::Path) -> Self {
        let mut child = Command::new(checker())
            .arg("run")
            .current_dir(dir)
            .env_remove("DISCORD_TOKEN")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn zoryx");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("write to zoryx");
        self.stdin.flush().expect("flush");
    }

    /// Reads lines until `matches` accepts one; returns the lines read up to it.
    fn until(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        let mut read = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    let done = matches(&line);
                    read.push(line);
                    if done {
                        return read;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("no {what} on stdout; got:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    /// Reads lines until each of `needles` was part of one, in any order (the console prints
    /// what the bot does and what a command says from two tasks); returns the lines read.
    fn expect_all(&mut self, needles: &[String]) -> Vec<String> {
        let mut left: Vec<&String> = needles.iter().collect();
        let mut read = Vec::new();
        while !left.is_empty() {
            let what = format!("{left:?}");
            let line = self
                .until(&what, |l| left.iter().any(|n| l.contains(n.as_str())))
                .pop()
                .unwrap_or_default();
            left.retain(|n| !line.contains(n.as_str()));
            read.push(line);
        }
        read
    }

    /// Reads the reply block whose header says it answers `who`; returns its body lines.
    fn reply_to(&mut self, who: &str) -> Vec<String> {
        self.reply_block(who).1
    }

    /// Reads the reply block whose header says it answers `who` (`... replying to who [id]:`);
    /// returns the header and its body lines.
    fn reply_block(&mut self, who: &str) -> (String, Vec<String>) {
        let marker = format!("replying to {who} [");
        let header = self
            .until(&format!("reply to {who}"), |l| {
                l.contains(&marker) && l.ends_with("]:")
            })
            .pop()
            .unwrap_or_default();
        let mut body = Vec::new();
        // The body is the indented lines that follow the header.
        loop {
            match self.lines.recv_timeout(Duration::from_millis(500)) {
                Ok(line) if line.starts_with("  ") => {
                    self.seen.push(line.clone());
                    body.push(line);
                }
                Ok(line) => {
                    self.seen.push(line);
                    return (header, body);
                }
                Err(_) => return (header, body),
            }
        }
    }
}

/// The ids in brackets of a console header line, in order: `Zoryx [7] ..., replying to
/// operator [5]:` gives `[7, 5]`.
fn ids(line: &str) -> Vec<u64> {
    line.split('[')
        .skip(1)
        .filter_map(|part| part.split(']').next()?.parse().ok())
        .collect()
}

impl Drop for Session {
    fn drop(&mut self) {
        // A failed test must not leave the host running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chat_console_talks_to_the_bot_through_the_simulator() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("dir");
    std::fs::copy(
        fixture("plugin-hello.so"),
        dir.path().join("extensions/hello.so"),
    )
    .expect("copy");
    let mut session = Session::start(dir.path());
    session.until("banner", |l| l.contains("offline mode"));

    session.send("!ping");
    let pong = session.reply_to("operator");
    assert!(
        pong.iter().any(|l| l.to_lowercase().contains("pong")),
        "{pong:?}"
    );

    session.send("!echo hi");
    let echo = session.reply_to("operator");
    assert_eq!(echo, ["  hi"], "{:?}", session.seen);

    // A plain member may not reload; nothing is reloaded.
    session.send(":as guest");
    session.until("switch to guest", |l| l.contains("you are now guest"));
    session.send("!reload hello");
    let refusal = session.reply_to("guest");
    assert!(!refusal.is_empty(), "{:?}", session.seen);
    session.send(":info hello");
    session.until("hello's generation", |l| l.contains("generation 1,"));

    // The operator (the owner) may.
    session.send(":as operator");
    session.until("switch back", |l| l.contains("you are now operator"));
    session.send("!reload hello");
    session.reply_to("operator");
    session.send(":info hello");
    session.until("the new generation", |l| l.contains("generation 2,"));

    session.quit();
}

impl Session {
    /// `:quit`, then waits for a clean exit.
    fn quit(&mut self) {
        self.send(":quit");
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "zoryx did not exit after :quit");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}\n{}", self.seen.join("\n"));
    }
}

/// The simulated guild keeps its id from run to run, so its settings, kept in SQLite under
/// `data/`, are there again after a restart; the shutdown leaves a backup.
#[test]
fn the_sandbox_guild_keeps_its_prefix_across_restarts() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("dir");

    let mut first = Session::start(dir.path());
    first.until("banner", |l| l.contains("offline mode"));
    first.send("!setprefix ?");
    let set = first.reply_to("operator");
    assert!(set.iter().any(|l| l.contains('?')), "{:?}", first.seen);
    first.quit();
    drop(first);
    let backups = dir.path().join("data/backups");
    assert!(
        std::fs::read_dir(&backups).map(|d| d.count()).unwrap_or(0) > 0,
        "no backup in {}",
        backups.display()
    );

    let mut second = Session::start(dir.path());
    second.until("banner", |l| l.contains("offline mode"));
    second.send("?ping");
    let pong = second.reply_to("operator");
    assert!(
        pong.iter().any(|l| l.to_lowercase().contains("pong")),
        "{:?}",
        second.seen
    );
    second.quit();
}

/// The console's message verbs against the real binary: the operator reacts to, edits and
/// deletes messages and joins voice, and the fixture plugin (watching) reports the events it
/// got; the bot's own edits, reactions and deletions are shown with message ids.
#[test]
fn chat_console_reacts_edits_deletes_and_joins_voice() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("dir");
    std::fs::copy(
        fixture("basic-v1.so"),
        dir.path().join("extensions/basic.so"),
    )
    .expect("copy");
    let mut session = Session::start(dir.path());
    session.until("banner", |l| l.contains("offline mode"));

    session.send("!watch");
    let (header, body) = session.reply_block("operator");
    assert_eq!(body, ["  watching"], "{:?}", session.seen);
    let [_, asked] = ids(&header)[..] else {
        panic!("no ids in {header:?}")
    };

    session.send(&format!(":react {asked} 👍"));
    session.expect_all(&[
        format!("operator reacted 👍 to [{asked}]"),
        "saw reaction_add 👍 by ".to_owned(),
    ]);

    session.send(&format!(":edit {asked} !watch again"));
    let lines = session.expect_all(&[
        format!("operator edited [{asked}]"),
        format!("saw message_update {asked} in "),
    ]);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("content=!watch again author=operator edited=true files=0")),
        "{lines:?}"
    );
    session.send(":history");
    session.until("the edited message in the history", |l| {
        l == format!("  [{asked}] operator (edited): !watch again")
    });

    session.send(":join Lounge");
    let lines = session.expect_all(&[
        "operator joined 🔊Lounge".to_owned(),
        "saw voice ".to_owned(),
    ]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("saw voice ") && l.contains(" joined ")),
        "{lines:?}"
    );
    session.send(":join lounge");
    session.until("already there", |l| l == "operator is in 🔊Lounge already");
    session.send(":leave");
    let lines = session.expect_all(&["operator left 🔊Lounge".to_owned(), "saw voice ".to_owned()]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("saw voice ") && l.contains(" left ")),
        "{lines:?}"
    );
    session.send(":join Attic");
    session.until("the voice channels named", |l| {
        l == "no voice channel `Attic`; voice channels: Lounge"
    });

    // The bot sends, edits, reacts to and deletes a message of its own.
    session.send("!roundtrip");
    let sent = session.until("the bot's message", |l| {
        l.starts_with("Zoryx [") && l.ends_with("in #general:")
    });
    let [own] = ids(sent.last().expect("line"))[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(session.until("its text", |_| true), ["  one"]);
    session.expect_all(&[
        format!("Zoryx [{own}] (edited):"),
        format!("Zoryx reacted 👍 to [{own}]"),
        format!("Zoryx deleted message [{own}] in #general"),
    ]);

    session.send(&format!(":delete {asked}"));
    session.expect_all(&[
        format!("operator deleted [{asked}]"),
        format!("saw message_delete {asked}"),
    ]);
    session.send(&format!(":edit {asked} gone"));
    session.until("an unknown message refused", |l| {
        l.starts_with("could not edit:")
    });
    session.send(":react nope 👍");
    session.until("usage", |l| l == "usage: :react MESSAGE_ID EMOJI");
    session.quit();
}
