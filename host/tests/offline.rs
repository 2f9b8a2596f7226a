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
    // The bot's status (`status` in config.json: watching "{guilds} servers").
    let status = "● Zoryx is now Watching 1 servers (online)";
    if !session.seen.iter().any(|l| l.contains(status)) {
        session.until("the bot's status", |l| l.contains(status));
    }

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
    let backups = dir.path().join("data/db-backups");
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

impl Session {
    /// Starts the binary over a folder whose `extensions/` holds the interactions fixture, and
    /// waits until its slash commands are registered with the simulator (a debounced bulk
    /// overwrite after READY), asking `:slash` for an unknown name until the answer lists
    /// `wanted`.
    fn with_interactions(dir: &std::path::Path, wanted: &str) -> Self {
        std::fs::create_dir_all(dir.join("extensions")).expect("dir");
        std::fs::copy(
            fixture("interactions.so"),
            dir.join("extensions/interactions.so"),
        )
        .expect("copy");
        let mut session = Session::start(dir);
        session.until("banner", |l| l.contains("offline mode"));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            session.send(":slash zz-probe");
            while let Ok(line) = session.lines.recv_timeout(Duration::from_millis(300)) {
                session.seen.push(line.clone());
                if line.starts_with("no slash command `zz-probe`; registered:")
                    && line.contains(wanted)
                {
                    return session;
                }
            }
            assert!(
                Instant::now() < deadline,
                "`{wanted}` was never registered:\n{}",
                session.seen.join("\n")
            );
        }
    }
}

/// A form (modal) shown by a slash command, filled field by field as the console asks: an
/// empty required field is refused and asked again, a paragraph takes `\n`, and the plugin's
/// reply shows what was submitted. In one line (`:modal`), a form Discord's client would not
/// submit — a required field empty, a value too long — is refused before anything is sent and
/// stays open; `:cancel` closes one.
#[test]
fn chat_console_fills_a_modal_field_by_field_or_in_one_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut session = Session::with_interactions(dir.path(), "feedback");

    session.send(":slash feedback");
    let shown = session.until("the first field's question", |l| {
        l == "› Topic (1/2; required):"
    });
    for expected in [
        "Zoryx answering /feedback by operator with a form:",
        "  ┌ Feedback (feedback:command)",
        "  │ topic: Topic — short, required; placeholder \"What about?\"",
        "  │ body: Details — paragraph, optional, at most 200 characters",
    ] {
        assert!(shown.iter().any(|l| l == expected), "{expected}: {shown:?}");
    }
    session.send("");
    session.until("the refusal", |l| l == "`Topic` (topic) is required");
    session.until("the question again", |l| l == "› Topic (1/2; required):");
    session.send("docs");
    session.until("the second field's question", |l| {
        l == "› Details (2/2; optional: empty skips; \\n for a new line):"
    });
    session.send("more\\nplease");
    // What the console says and what the bot answers come from two tasks, in either order.
    session.expect_all(&[
        "operator submitted the form \"Feedback\": topic=\"docs\" body=\"more\\nplease\""
            .to_owned(),
        "answering form \"Feedback\" by operator [ephemeral: only you can see this]:".to_owned(),
        "  feedback:command: topic=docs body=more".to_owned(),
        "  please".to_owned(),
    ]);

    // In one line: refused while a required field is empty or a value is too long; the
    // form stays open with what was typed, and the next fill submits it.
    session.send(":slash feedback");
    session.until("the form again", |l| l == "› Topic (1/2; required):");
    session.send(":modal body=hi");
    session.until("the required field", |l| {
        l.starts_with(
            "not submitted (Discord's client would not send it): `Topic` (topic) is required;",
        )
    });
    session.send(&format!(":modal topic=api body=\"{}\"", "x".repeat(201)));
    session.until("the long field", |l| {
        l.starts_with(
            "not submitted (Discord's client would not send it): `Details` (body) takes at most 200 characters, not 201;",
        )
    });
    session.send(":modal body=short");
    session.expect_all(&[
        "operator submitted the form \"Feedback\": topic=\"api\" body=\"short\"".to_owned(),
        "answering form \"Feedback\" by operator [ephemeral".to_owned(),
        "  feedback:command: topic=api body=short".to_owned(),
    ]);
    session.send(":modal topic=again");
    session.until("nothing open", |l| l.starts_with("no form is open"));

    // `:cancel` closes a form; plain lines are chat again.
    session.send(":slash feedback");
    session.until("the form again", |l| l == "› Topic (1/2; required):");
    session.send(":cancel");
    session.until("closed", |l| {
        l == "closed the form \"Feedback\" without submitting it"
    });
    session.send("!ping");
    let pong = session.reply_to("operator");
    assert!(
        pong.iter().any(|l| l.to_lowercase().contains("pong")),
        "{:?}",
        session.seen
    );
    session.quit();
}

/// A form shown by a button, with a prefilled field: an empty line keeps the value, and the
/// submission updates the button's message.
#[test]
fn chat_console_submits_a_buttons_form_with_its_prefilled_value() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut session = Session::with_interactions(dir.path(), "feedback");
    session.send("!form");
    let body = session.reply_to("operator");
    assert!(
        body.iter().any(|l| l.contains("[ Open ] (form:open)")),
        "{body:?}"
    );
    session.send(":click form:open");
    let shown = session.until("the prefilled field's question", |l| {
        l == "› Topic (1/1; empty keeps \"general\"):"
    });
    assert!(
        shown
            .iter()
            .any(|l| l
                == "  │ topic: Topic — short, required, 2–20 characters; filled with \"general\""),
        "{shown:?}"
    );
    // Too short for the input, then kept as it was.
    session.send("x");
    session.until("the refusal", |l| {
        l == "`Topic` (topic) takes at least 2 characters, not 1"
    });
    session.send("");
    session.expect_all(&[
        "operator submitted the form \"Quick form\": topic=\"general\"".to_owned(),
        "Zoryx (edited):".to_owned(),
        "  form closed: general".to_owned(),
    ]);
    session.quit();
}

/// `:slash NAME option=typed?` lists what Discord's client would: the bot's suggestions
/// (numbered, name → value) for an autocomplete option, the matching registered choices for
/// an option with choices; `:pick N` runs the command with one. Options without either, and
/// a bot suggesting nothing, say so.
#[test]
fn chat_console_lists_suggestions_and_picks_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut session = Session::with_interactions(dir.path(), "buy");

    session.send(":slash buy fruit=ap? limit=5");
    let listed = session.until("the suggestions", |l| {
        l == "`:pick N` runs /buy with fruit set to suggestion N"
    });
    let at = listed
        .iter()
        .position(|l| l == "Zoryx suggests for /buy fruit \"ap\":")
        .unwrap_or_else(|| panic!("{listed:?}"));
    assert_eq!(
        listed[at + 1..],
        [
            "  1. APPLE → apple",
            "  2. APRICOT → apricot",
            "`:pick N` runs /buy with fruit set to suggestion N",
        ]
    );
    session.send(":pick 2");
    session.until("the answer", |l| l.contains("answering /buy by operator:"));
    assert_eq!(session.until("its text", |_| true), ["  bought apricot"]);
    session.send(":pick 3");
    session.until("out of range", |l| {
        l == "there are 2 suggestions: pick 1 to 2"
    });

    session.send(":slash buy fruit=zz?");
    session.until("nothing suggested", |l| {
        l == "Zoryx suggests nothing for /buy fruit \"zz\""
    });

    // Registered choices are listed by the client itself, filtered by what is typed.
    session.send(":slash paint colour=r?");
    let listed = session.until("the choices", |l| {
        l == "`:pick N` runs /paint with colour set to suggestion N"
    });
    let n = listed.len();
    assert_eq!(
        listed[n - 4..],
        [
            "/paint's option `colour` has fixed choices (Discord's client lists them; the bot is not asked):",
            "  1. Red → red",
            "  2. Green → green",
            "`:pick N` runs /paint with colour set to suggestion N",
        ]
    );
    session.send(":pick 2");
    session.until("the answer", |l| {
        l.contains("answering /paint by operator:")
    });
    assert_eq!(session.until("its text", |_| true), ["  green||"]);

    session.send(":slash paint name=ab?");
    session.until("no autocomplete", |l| {
        l.starts_with("/paint's option `name` has no autocomplete and no choices")
    });
    session.send(":slash buy colour=a?");
    session.until("unknown option", |l| {
        l == "/buy has no option `colour`; its options: fruit, limit"
    });
    session.quit();
}

#[test]
fn chat_console_shows_the_help_menu_and_drives_it() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("extensions")).expect("dir");
    std::fs::copy(
        fixture("plugin-help.so"),
        dir.path().join("extensions/help.so"),
    )
    .expect("copy");
    let mut session = Session::start(dir.path());
    session.until("banner", |l| l.contains("offline mode"));
    session.send("!help");
    let menu = session.reply_to("operator");
    assert!(
        menu.iter().any(|l| l.contains("Help Menu")),
        "{:?}",
        session.seen
    );
    // The select menu shows its id and its options; picking one turns the page in place.
    let select = menu
        .iter()
        .find_map(|l| {
            let start = l.find("(help:")? + 1;
            let id: String = l[start..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != ')')
                .collect();
            id.contains(":pick:")
                .then(|| id.trim_end_matches(':').to_owned())
        })
        .unwrap_or_else(|| panic!("no select id in {menu:?}"));
    assert!(menu.iter().any(|l| l.contains(":pick:0: Core")), "{menu:?}");
    session.send(&format!(":click {select} Core"));
    session.until("the Core page", |l| l.contains("📂 Core"));
    session.until("the ping line", |l| l.contains("!ping (Slash & Prefix)"));
    session.quit();
}

impl Session {
    /// `zoryx run` in a temp folder with the dashboard on, on a free loopback port, once the
    /// bot is up: the folder, the session, the dashboard's URL and the printed link's code.
    fn with_dashboard() -> (tempfile::TempDir, Self, String, String) {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("extensions")).expect("dir");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"dashboard": {"enabled": true, "bind": "127.0.0.1:0"}}"#,
        )
        .expect("config");
        let mut session = Self::start(dir.path());
        let (url, code) = session.dashboard();
        session.until("banner", |l| l.contains("offline mode"));
        (dir, session, url, code)
    }

    /// The dashboard's URL and the login link's code, as `zoryx run` prints them.
    fn dashboard(&mut self) -> (String, String) {
        let url = self
            .until("the dashboard's URL", |l| {
                l.starts_with("dashboard: http://")
            })
            .pop()
            .unwrap_or_default()
            .trim_start_matches("dashboard: ")
            .to_owned();
        let link = self
            .until("a login link", |l| l.starts_with("dashboard login link"))
            .pop()
            .unwrap_or_default();
        let code = link
            .split_once(&format!(" {url}/login#code="))
            .unwrap_or_else(|| panic!("a link to {url}/login: {link}"))
            .1
            .to_owned();
        (url, code)
    }
}

/// The owner's name and role in a page's header.
const OPERATOR_AS_OWNER: &str = "operator <span class=\"role\">owner</span>";

/// The real binary prints the dashboard's URL and a one-time login link; the link's code logs
/// in over HTTP (posted as the login page does) and opens the overview. The chat console's
/// `:dashboard link` gives a new one.
#[test]
fn zoryx_run_prints_the_dashboard_url_and_a_login_link_that_logs_in() {
    let (_dir, mut session, url, code) = Session::with_dashboard();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut owner = support::dash::Client::new(&url);
        let response = owner.login_code(&code).await;
        assert_eq!(response.status(), 303, "logged in");
        assert_eq!(response.headers()["location"], "/");
        let (status, page) = owner.get("/").await;
        assert_eq!(status, 200, "{page}");
        assert!(
            page.contains("Overview") && page.contains("<span class=\"role\">owner</span>"),
            "{page}"
        );
        let spent = support::dash::Client::new(&url).login_code(&code).await;
        assert_ne!(spent.status(), 303, "the code works once");
    });
    session.send(":dashboard link");
    let line = session
        .until("a new link", |l| l.contains("dashboard login link"))
        .pop()
        .unwrap_or_default();
    assert!(line.contains(&format!("{url}/login#code=")), "{line}");
    assert!(!line.contains(&code), "a new code: {line}");
    session.quit();
}

/// "Log in with Discord" in offline mode: the dashboard uses the in-process simulator's OAuth2
/// endpoints with no application configured, and the simulated Discord has the operator logged
/// in: following the redirects ends logged in as the owner.
#[test]
fn discord_login_in_offline_mode_logs_in_as_the_operator() {
    let (_dir, mut session, url, _) = Session::with_dashboard();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let (status, page) = get(&http, &format!("{url}/login"), &[]).await;
        assert_eq!(status, 200);
        assert!(page.contains("/login/discord"), "a Discord button: {page}");
        // /login/discord → the simulator's /oauth2/authorize → /login/callback → /.
        let mut cookies: Vec<(String, String)> = Vec::new();
        let mut next = format!("{url}/login/discord");
        let mut hops = Vec::new();
        loop {
            let jar = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let response = http
                .get(&next)
                .header("cookie", jar)
                .send()
                .await
                .expect("GET");
            hops.push(format!("{} {next}", response.status()));
            for (name, value) in response
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
            {
                cookies.retain(|(k, _)| k != name);
                cookies.push((name.to_owned(), value.to_owned()));
            }
            let Some(location) = response.headers().get("location") else {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                assert_eq!(status, 200, "{hops:?}: {body}");
                assert!(body.contains(OPERATOR_AS_OWNER), "{hops:?}: {body}");
                break;
            };
            let location = location.to_str().expect("location").to_owned();
            next = if location.starts_with('/') {
                format!("{url}{location}")
            } else {
                location
            };
            assert!(hops.len() < 6, "too many redirects: {hops:?}");
        }
        assert!(
            hops[1].contains("/oauth2/authorize?") && hops[2].contains("/login/callback?code="),
            "{hops:?}"
        );
        let session_cookie = cookies
            .iter()
            .find(|(k, v)| k == "zoryx_session" && !v.is_empty())
            .map(|(_, v)| v.clone())
            .expect("a session");
        let (status, page) = get(
            &http,
            &format!("{url}/security"),
            &[("cookie", &format!("zoryx_session={session_cookie}"))],
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("discord"),
            "logged in through Discord: {page}"
        );
    });
    session.quit();
}

/// GET `url` with `headers`: the status and the body.
async fn get(http: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = http.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}
