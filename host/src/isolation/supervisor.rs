//! One isolated generation's worker over its life: calls with their time limits, restarts with
//! backoff after a failure, and the crash loop that disables the plugin.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use zoryx_plugin_api::PluginError;

use super::client::{Connection, Failure};
use super::protocol::CallKind;
use super::{Launcher, Worker};
use crate::runtime::call::ExpiringSink;
use crate::runtime::generation::{Call, CallError};
use crate::runtime::{ReplySink, Shared};

/// The first restart waits this long; each failure within the crash window doubles it.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait before a restart.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// What an isolated plugin's worker is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerState {
    /// Serving calls.
    Running,
    /// It failed and a new one starts soon.
    Restarting,
    /// It failed too often; calls are refused until the plugin is loaded or reloaded again.
    Disabled(String),
    /// Unloaded.
    Stopped,
}

/// An isolated plugin's worker, as `list` and `info` show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerStatus {
    /// The worker's process id, while one runs.
    pub pid: Option<u32>,
    /// What it is doing.
    pub state: WorkerState,
    /// How often it was restarted after a failure.
    pub restarts: u64,
    /// The last failure (`crashed (SIGSEGV)`, ...).
    pub last_failure: Option<String>,
}

impl WorkerStatus {
    /// Whether the plugin was disabled after repeated failures.
    pub fn is_disabled(&self) -> bool {
        matches!(self.state, WorkerState::Disabled(_))
    }
}

impl std::fmt::Display for WorkerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.state, self.pid) {
            (WorkerState::Running, Some(pid)) => write!(f, "isolated (pid {pid})")?,
            (WorkerState::Running | WorkerState::Restarting, _) => {
                f.write_str("isolated (restarting)")?
            }
            (WorkerState::Disabled(reason), _) => return write!(f, "{reason}"),
            (WorkerState::Stopped, _) => f.write_str("isolated (stopped)")?,
        }
        if self.restarts > 0 {
            write!(f, ", {} restarts", self.restarts)?;
        }
        if let Some(last) = &self.last_failure {
            write!(f, ", last failure: {last}")?;
        }
        Ok(())
    }
}

enum Live {
    Running(Arc<Connection>),
    Restarting,
    Disabled(String),
    Stopped,
}

struct State {
    live: Live,
    failures: VecDeque<Instant>,
    restarts: u64,
    last_failure: Option<String>,
}

/// One isolated generation's worker over its life.
pub struct Supervisor {
    name: Arc<str>,
    library: PathBuf,
    launcher: Arc<Launcher>,
    shared: Arc<Shared>,
    state: Mutex<State>,
    changed: tokio::sync::Notify,
    stopping: AtomicBool,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Cancels a call in the worker if the host stops waiting for it.
struct CancelOnDrop<'a> {
    connection: &'a Connection,
    id: u64,
    armed: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.connection.cancel(self.id);
        }
    }
}

fn worker_error(failure: Failure) -> CallError {
    match failure {
        Failure::Plugin(error) => CallError::Plugin(error),
        Failure::Worker(message) => CallError::Worker(message),
    }
}

/// The wire form of a host call.
fn call_kind(call: Call<'_>) -> (CallKind, Option<Arc<dyn ReplySink>>) {
    match call {
        Call::Command {
            index,
            invocation,
            args,
            sink,
        } => (
            CallKind::Command {
                index,
                invocation: invocation.clone(),
                args: args.clone(),
            },
            Some(sink),
        ),
        Call::Component {
            index,
            invocation,
            interaction,
            sink,
        } => (
            CallKind::Component {
                index,
                invocation: invocation.clone(),
                interaction: interaction.clone(),
            },
            Some(sink),
        ),
        Call::Event { index, event, .. } => (
            CallKind::Event {
                index,
                event: event.clone(),
            },
            None,
        ),
        Call::Hook { index, event } => (
            CallKind::Hook {
                index,
                name: event.name.clone(),
                payload: event.payload.to_string(),
            },
            None,
        ),
        Call::Task { index } => (CallKind::Task { index }, None),
        Call::Extra {
            kind,
            index,
            input,
            sink,
        } => (
            CallKind::Extra {
                kind: kind.to_owned(),
                index,
                input,
                replies: sink.is_some(),
            },
            sink,
        ),
    }
}

/// Runs one call on `connection`; past `limit` the worker is killed (a plugin stuck past its
/// limit may be holding threads the host cannot take back) and the call times out.
async fn call_on(
    connection: &Connection,
    kind: CallKind,
    sink: Option<Arc<dyn ReplySink>>,
    what: &str,
    deadline: tokio::time::Instant,
    limit: Duration,
) -> Result<(), CallError> {
    let sink = sink.map(ExpiringSink::wrap);
    let (id, done) = connection
        .start_call(kind, sink.clone().map(|s| s as Arc<dyn ReplySink>))
        .map_err(worker_error)?;
    let mut guard = CancelOnDrop {
        connection,
        id,
        armed: true,
    };
    let result = tokio::time::timeout_at(deadline, done).await;
    guard.armed = false;
    match result {
        Ok(Ok(result)) => result.map_err(worker_error),
        Ok(Err(_)) => Err(CallError::Worker(
            "the plugin's worker stopped answering".to_owned(),
        )),
        Err(_) => {
            if let Some(sink) = sink {
                sink.expire();
            }
            connection.cancel(id);
            connection.kill(format!(
                "was killed: over its time limit ({what} ran past {}s)",
                limit.as_secs_f64()
            ));
            Err(CallError::TimedOut(limit))
        }
    }
}

impl Supervisor {
    /// Initialises the plugin in `worker` and supervises it from then on.
    pub(crate) async fn start(
        name: &str,
        worker: Worker,
        shared: Arc<Shared>,
        init_limit: Duration,
    ) -> Result<Arc<Self>, PluginError> {
        let Some((launcher, connection, library)) = worker.take() else {
            return Err(PluginError::Internal(
                "the worker was already started".into(),
            ));
        };
        connection.set_plugin(name);
        let deadline = tokio::time::Instant::now() + init_limit;
        let init = CallKind::Init {
            plugin: name.to_owned(),
        };
        match call_on(&connection, init, None, "init", deadline, init_limit).await {
            Ok(()) => {}
            Err(error) => {
                connection.stop();
                return Err(match error {
                    CallError::Plugin(error) => error,
                    CallError::TimedOut(limit) => PluginError::Internal(format!(
                        "init did not finish within {}s",
                        limit.as_secs()
                    )),
                    other => PluginError::Internal(other.to_string()),
                });
            }
        }
        let supervisor = Arc::new(Self {
            name: name.into(),
            library,
            launcher,
            shared,
            state: Mutex::new(State {
                live: Live::Running(Arc::clone(&connection)),
                failures: VecDeque::new(),
                restarts: 0,
                last_failure: None,
            }),
            changed: tokio::sync::Notify::new(),
            stopping: AtomicBool::new(false),
        });
        tracing::info!(
            plugin = name,
            pid = connection.pid(),
            "isolated plugin running in its worker"
        );
        tokio::spawn(supervise(Arc::downgrade(&supervisor), connection));
        Ok(supervisor)
    }

    /// The worker's state for `list` and `info`.
    pub fn status(&self) -> WorkerStatus {
        let Ok(state) = self.state.lock() else {
            return WorkerStatus {
                pid: None,
                state: WorkerState::Stopped,
                restarts: 0,
                last_failure: None,
            };
        };
        let (pid, live) = match &state.live {
            Live::Running(connection) if connection.is_gone() => (None, WorkerState::Restarting),
            Live::Running(connection) => (Some(connection.pid()), WorkerState::Running),
            Live::Restarting => (None, WorkerState::Restarting),
            Live::Disabled(reason) => (None, WorkerState::Disabled(reason.clone())),
            Live::Stopped => (None, WorkerState::Stopped),
        };
        WorkerStatus {
            pid,
            state: live,
            restarts: state.restarts,
            last_failure: state.last_failure.clone(),
        }
    }

    /// The live worker; waits while one is restarting.
    async fn connection(&self) -> Result<Arc<Connection>, CallError> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.state.lock().map_err(|_| CallError::Stopped)?;
                match &state.live {
                    Live::Running(connection) if !connection.is_gone() => {
                        return Ok(Arc::clone(connection));
                    }
                    Live::Running(_) | Live::Restarting => {}
                    Live::Disabled(reason) => return Err(CallError::Worker(reason.clone())),
                    Live::Stopped => return Err(CallError::Stopped),
                }
            }
            notified.await;
        }
    }

    /// Runs one call in the worker, waiting for a restart if one is under way; past `limit`
    /// the worker is killed and restarted.
    pub(crate) async fn call(
        &self,
        call: Call<'_>,
        what: &str,
        limit: Duration,
    ) -> Result<(), CallError> {
        let pool = self.shared.pool();
        pool.record(&self.name, 1, 0, 0);
        let started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + limit;
        let (kind, sink) = call_kind(call);
        let result = match tokio::time::timeout_at(deadline, self.connection()).await {
            Ok(Ok(connection)) => call_on(&connection, kind, sink, what, deadline, limit).await,
            Ok(Err(error)) => Err(error),
            Err(_) => Err(CallError::TimedOut(limit)),
        };
        match &result {
            Ok(()) => pool.record_time(&self.name, started.elapsed()),
            Err(error) => {
                if matches!(error, CallError::TimedOut(_)) {
                    pool.record(&self.name, 0, 0, 1);
                }
                pool.record_error(&self.name);
            }
        }
        result
    }

    /// Runs the plugin's `shutdown` in the worker, if one is running.
    pub(crate) async fn shutdown(&self, limit: Duration) -> Result<(), CallError> {
        let connection = match self.state.lock() {
            Ok(state) => match &state.live {
                Live::Running(connection) if !connection.is_gone() => Arc::clone(connection),
                _ => return Ok(()),
            },
            Err(_) => return Ok(()),
        };
        let deadline = tokio::time::Instant::now() + limit;
        call_on(
            &connection,
            CallKind::Shutdown,
            None,
            "shutdown",
            deadline,
            limit,
        )
        .await
    }

    /// Stops the worker for good (the generation is gone).
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let live = match self.state.lock() {
            Ok(mut state) => std::mem::replace(&mut state.live, Live::Stopped),
            Err(_) => return,
        };
        if let Live::Running(connection) = live {
            connection.stop();
        }
        self.changed.notify_waiters();
    }

    /// Records a failure. Returns how long to wait before the restart, or `None` when the
    /// plugin is now disabled.
    fn failed(&self, reason: &str, pid: Option<u32>) -> Option<Duration> {
        let options = &self.launcher.options;
        let now = Instant::now();
        let mut state = self.state.lock().ok()?;
        state.failures.push_back(now);
        while state
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > options.crash_window)
        {
            state.failures.pop_front();
        }
        state.last_failure = Some(reason.to_owned());
        let recent = state.failures.len();
        let name = &*self.name;
        if recent >= options.max_crashes as usize {
            let message = format!(
                "disabled: its worker failed {recent} times in {}s (last: {reason}); `load {name}` or `reload {name}` starts it again",
                options.crash_window.as_secs()
            );
            tracing::error!(plugin = name, pid, "isolated plugin {message}");
            state.live = Live::Disabled(format!("the plugin is {message}"));
            drop(state);
            self.changed.notify_waiters();
            return None;
        }
        let exponent = u32::try_from(recent.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(16);
        let backoff = FIRST_BACKOFF.saturating_mul(1 << exponent).min(MAX_BACKOFF);
        tracing::error!(
            plugin = name,
            pid,
            restart_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            "isolated plugin's worker {reason}; restarting it"
        );
        state.live = Live::Restarting;
        drop(state);
        self.changed.notify_waiters();
        Some(backoff)
    }

    /// Starts a new worker and initialises the plugin in it.
    async fn relaunch(&self) -> Result<Arc<Connection>, (String, Option<u32>)> {
        let (connection, _) = Connection::launch(
            &self.launcher.exe,
            &self.name,
            &self.library,
            self.launcher.options.memory_mb,
            &self.shared,
        )
        .await
        .map_err(|e| (e, None))?;
        let limit = Duration::from_secs(30);
        let deadline = tokio::time::Instant::now() + limit;
        let init = CallKind::Init {
            plugin: self.name.to_string(),
        };
        match call_on(&connection, init, None, "init", deadline, limit).await {
            Ok(()) => Ok(connection),
            Err(error) => {
                connection.stop();
                Err((format!("init failed: {error}"), Some(connection.pid())))
            }
        }
    }
}

/// Watches the worker; after a failure, restarts it with backoff until the crash loop
/// disables the plugin or the generation is stopped.
async fn supervise(supervisor: Weak<Supervisor>, mut connection: Arc<Connection>) {
    loop {
        let exit = connection.exited().await;
        let Some(this) = supervisor.upgrade() else {
            return;
        };
        if this.stopping.load(Ordering::SeqCst) {
            return;
        }
        let reason = exit.unwrap_or_else(|| "stopped".to_owned());
        let mut wait = this.failed(&reason, Some(connection.pid()));
        drop(this);
        loop {
            let Some(delay) = wait else { return };
            tokio::time::sleep(delay).await;
            let Some(this) = supervisor.upgrade() else {
                return;
            };
            if this.stopping.load(Ordering::SeqCst) {
                return;
            }
            match this.relaunch().await {
                Ok(new) => {
                    let installed = match this.state.lock() {
                        Ok(mut state) if matches!(state.live, Live::Restarting) => {
                            state.live = Live::Running(Arc::clone(&new));
                            state.restarts += 1;
                            true
                        }
                        _ => false,
                    };
                    if !installed {
                        new.stop();
                        return;
                    }
                    tracing::info!(plugin = %this.name, pid = new.pid(), "isolated plugin's worker restarted");
                    this.changed.notify_waiters();
                    connection = new;
                    break;
                }
                Err((reason, pid)) => wait = this.failed(&reason, pid),
            }
        }
    }
}
