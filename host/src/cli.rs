//! The `zoryx` command line: `run`, `plugins check`, `plugins list`, `health`.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

/// The Zoryx bot host.
#[derive(Debug, Parser)]
#[command(name = "zoryx", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The extensions folder.
    #[arg(
        long,
        global = true,
        default_value = "extensions",
        env = "ZORYX_EXTENSIONS"
    )]
    pub extensions: PathBuf,
    /// The runtime data folder.
    #[arg(long, global = true, default_value = "data", env = "ZORYX_DATA")]
    pub data: PathBuf,
    /// The config file.
    #[arg(
        long,
        global = true,
        default_value = "config.json",
        env = "ZORYX_CONFIG"
    )]
    pub config: PathBuf,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the host with the operator console (the default).
    ///
    /// The console reads commands from stdin. It is interactive when stdin is a terminal: end of
    /// input (Ctrl-D) stops the host. On a pipe or a file, commands are still read but end of
    /// input only closes the console and the host keeps serving. Without a token (offline mode)
    /// the console is the chat, and end of its input stops the host.
    Run {
        /// Always treat stdin as an interactive console: end of input stops the host.
        #[arg(long, conflicts_with = "no_console")]
        console: bool,
        /// Do not read stdin at all (also no chat in offline mode); stop with SIGINT or SIGTERM.
        #[arg(long)]
        no_console: bool,
    },
    /// Run one isolated plugin; started by the host, over a socket on stdin.
    #[command(hide = true)]
    Worker(crate::isolation::WorkerArgs),
    /// Inspect plugin libraries without a running host.
    Plugins {
        /// What to inspect.
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Ask the running host's health endpoint (`health.bind`); exit 0 when every shard is
    /// connected, 1 otherwise (for container health checks).
    Health {
        /// The endpoint's address, instead of `ZORYX_HEALTH_BIND` or `health.bind`.
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
    },
    /// Run the gateway IDENTIFY queue (twilight's gateway-queue HTTP protocol,
    /// `GET /?shard=N`) for host processes that share one bot's identify limits.
    Queue(zoryx_queue::QueueArgs),
    /// Publish plugins in a marketplace: keys, index, signature, verification.
    Market {
        /// What to do.
        #[command(subcommand)]
        command: crate::market::MarketCommand,
    },
}

/// `zoryx plugins ...`.
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Validate a library: file check, trial load, declaration, API version, layout, manifest.
    Check {
        /// The library file.
        file: PathBuf,
        /// Print nothing; exit 0 if valid, 1 if refused (used for trial loads).
        #[arg(long)]
        quiet: bool,
        /// With `--quiet`: print the valid library's name, version and plugin API as one line
        /// of JSON (the marketplace's check in a child).
        #[arg(long, requires = "quiet", hide = true)]
        manifest: bool,
    },
    /// List the libraries in the extensions folder and whether each is valid.
    List,
}

/// Checks one file and renders the report. `trial` first runs the check in a child process.
pub async fn check_report(file: &Path, trial_exe: Option<&Path>) -> Result<String, String> {
    if let Some(exe) = trial_exe {
        crate::loader::trial::trial_load(exe, file)
            .await
            .map_err(|e| e.to_string())?;
    }
    let (api, d) = crate::loader::check_file(file).map_err(|e| e.to_string())?;
    let m = &d.manifest;
    let deps: Vec<String> = m
        .dependencies
        .iter()
        .map(|(n, r)| format!("{n} {r}"))
        .collect();
    let host = zoryx_plugin_api::API_VERSION;
    Ok(format!(
        "{name} {version} by {author}\n  {description}\n  plugin-api: built against {api}, host has {host}: compatible (layout checked)\n  dependencies: {deps}\n  conflicts: {conflicts}\n  commands: {commands}\n  listeners: {listeners}\n  hooks: {hooks}\n  tasks: {tasks}",
        name = m.name,
        version = m.version,
        author = if m.author.is_empty() {
            "unknown"
        } else {
            &m.author
        },
        description = m.description,
        deps = if deps.is_empty() {
            "-".into()
        } else {
            deps.join(", ")
        },
        conflicts = if m.conflicts.is_empty() {
            "-".into()
        } else {
            m.conflicts.join(", ")
        },
        commands = d
            .commands
            .iter()
            .map(|c| c.usage("!"))
            .collect::<Vec<_>>()
            .join(", "),
        listeners = d
            .listened()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", "),
        hooks = d
            .hooks
            .iter()
            .map(|(e, p)| format!("{e} ({p})"))
            .collect::<Vec<_>>()
            .join(", "),
        tasks = d
            .tasks
            .iter()
            .map(|(n, p)| format!("{n} every {}s", p.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", "),
    ))
}
