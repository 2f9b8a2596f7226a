//! Isolation mode: a plugin's library runs in a worker process, so a segfault, an abort, a
//! `process::exit`, a hang or runaway memory ends only that worker.
//!
//! - [`protocol`]: the frames on the socket between host and worker;
//! - the worker (`zoryx worker`, [`worker_main`]): loads the staged copy with the host's own
//!   loader code, runs the plugin on its own plugin threads, and forwards the plugin's host
//!   services (replies, `send`, `emit`, storage, logs) over the socket;
//! - the host side: a connection per worker process (calls in flight, service requests, how it
//!   ended) and a [`Supervisor`] per generation (time limits, restarts with backoff, the crash
//!   loop that disables the plugin).
//!
//! The host never opens an isolated plugin's library itself: it stages and checks the file
//! (file check, trial load in a child), and the worker does the rest.

mod client;
pub mod protocol;
mod supervisor;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use zoryx_plugin_api::ApiVersion;
use zoryx_plugin_api::ffi::types::Description;

pub use client::worker_command;
pub use supervisor::{Supervisor, WorkerState, WorkerStatus};
pub use worker::{WorkerArgs, main as worker_main};

use crate::loader::LoadError;
use crate::runtime::Shared;

/// Settings of isolation mode (`isolation.*` in `config.json`).
#[derive(Clone, Debug, PartialEq)]
pub struct IsolationOptions {
    /// The worker's address-space limit (`RLIMIT_AS`) in MB; 0 for none.
    pub memory_mb: u64,
    /// This many failures within `crash_window` disable the plugin.
    pub max_crashes: u32,
    /// See `max_crashes`.
    pub crash_window: Duration,
}

impl Default for IsolationOptions {
    fn default() -> Self {
        Self {
            memory_mb: 1024,
            max_crashes: 5,
            crash_window: Duration::from_secs(60),
        }
    }
}

/// Starts workers: the `zoryx` binary and the settings.
#[derive(Debug)]
pub struct Launcher {
    exe: PathBuf,
    options: IsolationOptions,
}

impl Launcher {
    /// Workers are `exe worker ...` (`exe` is the `zoryx` binary).
    pub fn new(exe: PathBuf, options: IsolationOptions) -> Arc<Self> {
        Arc::new(Self { exe, options })
    }

    /// The settings in force.
    pub fn options(&self) -> &IsolationOptions {
        &self.options
    }
}

/// A worker that has loaded and described its library, not yet initialised.
pub struct Worker {
    launcher: Arc<Launcher>,
    connection: Option<Arc<client::Connection>>,
    library: PathBuf,
}

impl Worker {
    /// Hands the worker over (to its supervisor).
    fn take(mut self) -> Option<(Arc<Launcher>, Arc<client::Connection>, PathBuf)> {
        let connection = self.connection.take()?;
        Some((
            Arc::clone(&self.launcher),
            connection,
            std::mem::take(&mut self.library),
        ))
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Never handed over (refused by the registry): let it go.
        if let Some(connection) = self.connection.take() {
            connection.stop();
        }
    }
}

/// Starts a worker for the staged copy `library` of plugin `plugin` and waits until it has
/// loaded, checked and described it.
pub async fn launch(
    launcher: &Arc<Launcher>,
    plugin: &str,
    library: &Path,
    shared: &Arc<Shared>,
) -> Result<(Worker, ApiVersion, Description), LoadError> {
    let (connection, hello) = client::Connection::launch(
        &launcher.exe,
        plugin,
        library,
        launcher.options.memory_mb,
        shared,
    )
    .await
    .map_err(LoadError::Worker)?;
    Ok((
        Worker {
            launcher: Arc::clone(launcher),
            connection: Some(connection),
            library: library.to_owned(),
        },
        hello.api_version,
        hello.description,
    ))
}

/// The name of a signal that ends a process.
pub(crate) fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}
