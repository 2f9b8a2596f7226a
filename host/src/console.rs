//! The operator console on stdin: `load`, `unload`, `reload`, `list`, `info`, `call`, ...
//!
//! It is a thin front over [`Manager`]; its output is for a person at a terminal.

use std::io::Write as _;
use std::sync::Arc;

use futures::future::BoxFuture;
use zoryx_plugin_api::{ChannelId, Message, MessageId, Permission, Source, User, UserId};

use crate::gate::Refusal;
use crate::manager::{Manager, PluginInfo};
use crate::registry::Enforcement;
use crate::runtime::{CommandOutcome, CommandRequest, ReplySink};

const HELP: &str = "\
commands:
  list                         loaded and known plugins
  info NAME                    one plugin in detail
  load NAME|PATH [--isolated]  load an extension from extensions/ (--isolated: in a
                               worker process of its own)
  unload NAME [--force]        unload (force also unloads dependents)
  reload NAME                  reload atomically, then dependents
  call NAME COMMAND [ARGS...]  run a plugin command and print its reply
  hooks                        hook counters and circuit breakers
  enforce deps|conflicts on|off
  dashboard link               a new one-time login link for the web dashboard
                               (15 min; also `login`)
  help, quit";

/// Prints a plugin's replies to stdout.
pub struct ConsoleSink;

/// Renders a message for a terminal: text, then each embed with title, fields and colour,
/// the components, and the files by name and size.
pub fn render_message(message: &Message) -> String {
    let mut out = String::new();
    if let Some(content) = &message.content {
        out.push_str(content);
        out.push('\n');
    }
    for embed in &message.embeds {
        let colour = embed
            .colour
            .map(|c| format!(" [#{c:06x}]"))
            .unwrap_or_default();
        out.push_str(&format!(
            "┃ {}{colour}\n",
            embed.title.as_deref().unwrap_or("")
        ));
        if let Some(description) = &embed.description {
            for line in description.lines() {
                out.push_str(&format!("┃ {line}\n"));
            }
        }
        for field in &embed.fields {
            out.push_str(&format!("┃ {}: {}\n", field.name, field.value));
        }
        if let Some(footer) = &embed.footer {
            out.push_str(&format!("┃ — {footer}\n"));
        }
    }
    let off = |disabled: bool| if disabled { " (disabled)" } else { "" };
    for component in &message.components {
        match component {
            zoryx_plugin_api::Component::Button(b) => out.push_str(&format!(
                "[ {} ] ({}){}\n",
                b.label,
                b.custom_id,
                off(b.disabled)
            )),
            zoryx_plugin_api::Component::Select(s) => out.push_str(&format!(
                "[ {} ▾ ] ({}){}\n",
                s.placeholder,
                s.custom_id,
                off(s.disabled)
            )),
        }
    }
    for file in &message.files {
        let size = u64::try_from(file.bytes.len()).unwrap_or(u64::MAX);
        out.push_str(&format!(
            "📎 {} ({})\n",
            file.name,
            crate::offline::render::size_text(size)
        ));
    }
    out
}

fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}

impl ReplySink for ConsoleSink {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        print(&render_message(&message));
        Box::pin(async { Ok(MessageId(0)) })
    }
}

fn format_list(plugins: &[PluginInfo], pinned: usize, pinned_bytes: u64) -> String {
    if plugins.is_empty() {
        return "no plugins".into();
    }
    let mut out = format!(
        "{:<20} {:<10} {:<22} {:<5} {:>9} {:>7}  {}\n",
        "NAME", "VERSION", "STATE", "GEN", "LOAD ms", "BLOCKED", "STATUS"
    );
    for p in plugins {
        let state = match &p.worker {
            Some(worker) if p.loaded && worker.is_disabled() => "disabled".to_owned(),
            Some(worker) if p.loaded => match worker.pid {
                Some(pid) => format!("isolated (pid {pid})"),
                None => "isolated (restarting)".to_owned(),
            },
            _ => if p.loaded { "loaded" } else { "unloaded" }.to_owned(),
        };
        out.push_str(&format!(
            "{:<20} {:<10} {:<22} {:<5} {:>9} {:>7}  {:?}{}{}\n",
            p.name,
            p.version,
            state,
            p.generation.map_or("-".into(), |g| g.to_string()),
            p.load_time_ms.map_or("-".into(), |t| format!("{t:.1}")),
            p.calls.blocked,
            p.status,
            if p.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", p.reason)
            },
            match &p.worker {
                Some(worker) if p.loaded && worker.is_disabled() => format!("; {worker}"),
                _ => String::new(),
            },
        ));
    }
    out.push_str(&format!(
        "pinned libraries: {pinned} ({:.1} MB still mapped after unload)",
        pinned_bytes as f64 / 1_048_576.0
    ));
    out
}

fn format_info(p: &PluginInfo) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    format!(
        "{} {} by {}\n  {}\n  file: {}\n  state: {} (generation {}, plugin-api {}, load {} ms)\n  status: {:?} {}\n  dependencies: {}\n  conflicts: {}\n  commands: {}\n  listeners: {}\n  hooks: {}\n  tasks: {}\n  calls: {}\n  pinned libraries: {} ({} bytes)",
        p.name,
        p.version,
        if p.author.is_empty() {
            "unknown"
        } else {
            &p.author
        },
        p.description,
        p.file.as_deref().unwrap_or("-"),
        p.state(),
        p.generation.map_or("-".into(), |g| g.to_string()),
        p.api_version.as_deref().unwrap_or("-"),
        p.load_time_ms.map_or("-".into(), |t| format!("{t:.1}")),
        p.status,
        p.reason,
        list(&p.dependencies),
        list(&p.conflicts),
        list(&p.commands),
        list(&p.listeners),
        list(&p.hooks),
        list(&p.tasks),
        p.calls_line(),
        p.pinned,
        p.pinned_bytes,
    )
}

/// Runs one console line; returns the text to show, or `None` to quit.
pub async fn execute(manager: &Arc<Manager>, line: &str) -> Option<String> {
    let line = line.trim();
    let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let text = match verb {
        "" => String::new(),
        "help" | "?" => HELP.into(),
        "quit" | "exit" => return None,
        "list" => {
            let stats = manager.library_stats();
            format_list(
                &manager.list().await,
                stats.pinned.len(),
                stats.pinned_bytes(),
            )
        }
        "info" if !rest.is_empty() => match manager.info(rest).await {
            Some(info) => format_info(&info),
            None => format!("no plugin `{rest}`"),
        },
        "load" if !rest.is_empty() => {
            let isolated = rest.split_whitespace().any(|w| w == "--isolated");
            let name = rest
                .split_whitespace()
                .find(|w| !w.starts_with("--"))
                .unwrap_or(rest);
            match manager.load_with(name, isolated).await {
                Ok(name) => match manager.info(&name).await.and_then(|i| i.worker) {
                    Some(worker) => format!("loaded {name}, {worker}"),
                    None => format!("loaded {name}"),
                },
                Err(e) => format!("error: {e}"),
            }
        }
        "unload" if !rest.is_empty() => {
            let force = rest.split_whitespace().any(|w| w == "--force" || w == "-f");
            let name = rest
                .split_whitespace()
                .find(|w| !w.starts_with('-'))
                .unwrap_or(rest);
            match manager.unload(name, force).await {
                Ok(names) => format!("unloaded {}", names.join(", ")),
                Err(e) => format!("error: {e}"),
            }
        }
        "reload" if !rest.is_empty() => match manager.reload(rest).await {
            Ok(done) => done
                .iter()
                .map(|r| {
                    format!(
                        "reloaded {} (generation {} -> {}, {:.1} ms)",
                        r.name, r.from, r.to, r.millis
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("error: {e}"),
        },
        "call" if !rest.is_empty() => call(manager, rest).await,
        "dashboard" if rest == "link" => dashboard_link(manager),
        "login" if rest.is_empty() => dashboard_link(manager),
        "hooks" => {
            let stats = manager.dispatcher().hook_health().stats();
            if stats.is_empty() {
                "no hook has run yet".to_owned()
            } else {
                stats
                    .iter()
                    .map(|((plugin, event, index), s)| {
                        format!(
                            "{plugin}/{event}#{index}: {} ok, {} failed, {} skipped, {:.2} ms mean{}",
                            s.successes,
                            s.failures,
                            s.skipped,
                            s.mean_ms,
                            if s.circuit_open { ", circuit OPEN" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
        "enforce" => {
            if !manager.registry_on() {
                return Some(
                    "the plugin registry is off (framework.enable_plugin_registry or \
                     framework.load_cogs in config.json): nothing is enforced"
                        .to_owned(),
                );
            }
            let mut e: Enforcement = manager.enforcement().await;
            let mut words = rest.split_whitespace();
            let (what, on) = (
                words.next(),
                words.next().map(|w| matches!(w, "on" | "true" | "yes")),
            );
            match (what, on) {
                (Some("deps" | "dependencies"), Some(on)) => e.dependencies = on,
                (Some("conflicts"), Some(on)) => e.conflicts = on,
                _ => {
                    return Some(format!(
                        "dependencies: {}, conflicts: {}\nusage: enforce deps|conflicts on|off",
                        e.dependencies, e.conflicts
                    ));
                }
            }
            manager.set_enforcement(e).await;
            format!(
                "dependencies: {}, conflicts: {}",
                e.dependencies, e.conflicts
            )
        }
        _ => format!("unknown or incomplete command `{line}`; type `help`"),
    };
    Some(text)
}

/// `dashboard link`: a new one-time login link, or why there is none.
fn dashboard_link(manager: &Manager) -> String {
    match manager.dispatcher().shared().login_link() {
        Some(Ok(link)) => crate::dashboard::link_line(&link),
        Some(Err(error)) => format!("error: no login link: {error}"),
        None => {
            "the web dashboard is off: set dashboard.enabled in config.json and restart".to_owned()
        }
    }
}

async fn call(manager: &Arc<Manager>, rest: &str) -> String {
    let mut parts = rest.splitn(3, char::is_whitespace);
    let (Some(plugin), Some(command)) = (parts.next(), parts.next()) else {
        return "usage: call NAME COMMAND [ARGS...]".into();
    };
    let request = CommandRequest {
        plugin: Some(crate::manager::normalise(plugin)),
        command: command.to_owned(),
        args: parts.next().unwrap_or("").to_owned(),
        author: User {
            id: UserId(0),
            name: "console".into(),
            bot: false,
        },
        level: Permission::Owner,
        is_owner: true,
        guild_id: None,
        channel_id: ChannelId(0),
        message_id: None,
        source: Source::Console,
        prefix: String::new(),
        attachments: Vec::new(),
    };
    match manager
        .dispatcher()
        .invoke(request, Arc::new(ConsoleSink))
        .await
    {
        CommandOutcome::Done { .. } => String::new(),
        CommandOutcome::Unknown => format!("no command `{command}` in plugin `{plugin}`"),
        CommandOutcome::Refused(Refusal::Arguments { error, usage }) => {
            format!("error: {error}\nusage: {usage}")
        }
        CommandOutcome::Refused(refusal) => format!("refused: {}", refusal.explain(command)),
        CommandOutcome::TimedOut { limit, .. } => {
            format!("took too long: stopped after {}s", limit.as_secs_f64())
        }
        CommandOutcome::Failed { error, .. } => format!("error: {error}"),
    }
}

/// How `zoryx run` uses stdin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleMode {
    /// Commands are read from stdin and end of input stops the host: stdin is a terminal
    /// (Ctrl-D), or `--console` was given.
    Interactive,
    /// Commands are still read from stdin (a pipe or a file), but end of input only closes the
    /// console: the host keeps serving until a signal or `quit`. What a service manager,
    /// `docker run -d`, `nohup` or CI get.
    Unattended,
    /// Stdin is not read at all (`--no-console`).
    Off,
}

impl ConsoleMode {
    /// The mode for the flags and whether stdin is a terminal: `--console` forces
    /// [`Interactive`](Self::Interactive), `--no-console` [`Off`](Self::Off); else a terminal is
    /// interactive and anything else unattended.
    pub fn choose(console: bool, no_console: bool, stdin_is_terminal: bool) -> Self {
        match (console, no_console) {
            (_, true) => Self::Off,
            (true, false) => Self::Interactive,
            (false, false) if stdin_is_terminal => Self::Interactive,
            (false, false) => Self::Unattended,
        }
    }

    /// As [`ConsoleMode::choose`], looking at this process's stdin.
    pub fn for_stdin(console: bool, no_console: bool) -> Self {
        use std::io::IsTerminal as _;
        Self::choose(console, no_console, std::io::stdin().is_terminal())
    }
}

/// Lines typed on the console, read on a thread of their own.
///
/// The thread is detached: a read blocked on a terminal or an open pipe never holds up the
/// end of the process (tokio's stdin would, as its reads run on the runtime's blocking pool,
/// which waits for them at shutdown).
#[derive(Debug)]
pub struct Input {
    lines: tokio::sync::mpsc::Receiver<String>,
}

impl Input {
    /// This process's stdin.
    pub fn stdin() -> Self {
        Self::from_reader(std::io::stdin())
    }

    /// Any reader; its lines are read until its end or an error.
    pub fn from_reader(reader: impl std::io::Read + Send + 'static) -> Self {
        // A small buffer: a pipe full of commands waits instead of piling up in memory.
        let (sender, lines) = tokio::sync::mpsc::channel(16);
        let spawned = std::thread::Builder::new()
            .name("zoryx-stdin".to_owned())
            .spawn(move || read_lines(std::io::BufReader::new(reader), &sender));
        if let Err(error) = spawned {
            // The sender went with the closure: the input reads as ended.
            tracing::warn!(%error, "cannot start the console's input thread");
        }
        Self { lines }
    }

    /// The next line (without its line ending), or `None` at the end of input.
    pub async fn next(&mut self) -> Option<String> {
        self.lines.recv().await
    }
}

/// The input thread: one message per line. Bytes that are not UTF-8 are replaced, not fatal.
fn read_lines(mut reader: impl std::io::BufRead, sender: &tokio::sync::mpsc::Sender<String>) {
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => return,
            Ok(_) => {
                while buffer.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buffer.pop();
                }
                let line = String::from_utf8_lossy(&buffer).into_owned();
                if sender.blocking_send(line).is_err() {
                    // Nobody listens any more.
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "reading the console's input failed; it is closed");
                return;
            }
        }
    }
}

/// How a console session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `quit` (or `exit`).
    Quit,
    /// The input ended.
    EndOfInput,
}

/// Runs console lines from `input` until `quit` or the end of input. `banner` prints the
/// greeting first (for a person at a terminal).
pub async fn run(manager: Arc<Manager>, mut input: Input, banner: bool) -> Ended {
    if banner {
        print("zoryx console — type `help`");
    }
    while let Some(line) = input.next().await {
        match execute(&manager, &line).await {
            Some(text) if !text.is_empty() => print(&text),
            Some(_) => {}
            None => return Ended::Quit,
        }
    }
    Ended::EndOfInput
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_show_disabled_components_and_files() {
        let message = Message::text("report")
            .button(zoryx_plugin_api::Button::new("again", "Again"))
            .select(zoryx_plugin_api::SelectMenu::new("pick", "Pick").option("A", "a"))
            .disable_components()
            .file("report.csv", vec![0_u8; 2048]);
        assert_eq!(
            render_message(&message),
            "report\n[ Again ] (again) (disabled)\n[ Pick ▾ ] (pick) (disabled)\n\
             📎 report.csv (2.0 KiB)\n"
        );
    }

    #[test]
    fn the_mode_follows_the_flags_then_the_terminal() {
        use ConsoleMode::*;
        assert_eq!(ConsoleMode::choose(false, false, true), Interactive);
        assert_eq!(ConsoleMode::choose(false, false, false), Unattended);
        assert_eq!(ConsoleMode::choose(true, false, false), Interactive);
        assert_eq!(ConsoleMode::choose(false, true, true), Off);
    }

    #[tokio::test]
    async fn input_lines_survive_bad_bytes_and_line_endings() {
        let bytes: &'static [u8] = b"list\r\nbad \xff byte\n\nlast without newline";
        let mut input = Input::from_reader(bytes);
        assert_eq!(input.next().await.as_deref(), Some("list"));
        assert_eq!(input.next().await.as_deref(), Some("bad \u{fffd} byte"));
        assert_eq!(input.next().await.as_deref(), Some(""));
        assert_eq!(input.next().await.as_deref(), Some("last without newline"));
        assert_eq!(input.next().await, None);
    }
}
