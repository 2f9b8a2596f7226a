//! The host's end of one worker process: starting it, calls in flight, the services it asks
//! for, its log lines, and how it ended.
//!
//! Two threads per worker: one reads its frames (answers to calls, service requests, log
//! lines; it looks for the next one briefly before it blocks, see [`protocol::SpinReader`]),
//! one reads its stderr. Frames are written by whoever sends, under a lock. A service
//! request whose answer is ready at once (most are) is answered on the reading thread; others
//! finish on the host's runtime.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{oneshot, watch};
use zoryx_plugin_api::ffi::types::Description;
use zoryx_plugin_api::{ApiVersion, ChannelId, PluginError};

use super::protocol::{self, Answer, CallKind, FromWorker, Request, Start, ToWorker, Writer};
use super::signal_name;
use crate::runtime::call::call_act;
use crate::runtime::services::{action_within_limits, call_action_within_limits, message_refusal};
use crate::runtime::{ReplySink, Shared};

/// How long a worker may take to load and describe its library.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// A write to a worker that takes longer than this means the worker is stuck; it is killed.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stopped worker may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Why a call into a worker did not return the plugin's result.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The plugin returned an error or panicked.
    Plugin(PluginError),
    /// The worker is gone; the message says how (`the plugin's worker crashed (SIGSEGV)`).
    Worker(String),
}

/// What the worker said after loading its library.
pub(crate) struct Hello {
    pub(crate) api_version: ApiVersion,
    pub(crate) description: Description,
}

/// How a worker ended: `None` when it was stopped on purpose, else what happened to it
/// (`crashed (SIGSEGV)`, `exited with code 3`, `was killed: over its time limit`, ...).
pub(crate) type Exit = Option<String>;

#[derive(Default)]
struct Calls {
    /// Calls waiting for their `Done`.
    pending: HashMap<u64, oneshot::Sender<Result<(), Failure>>>,
    /// Where replies of commands and components go, until the plugin lets go of them.
    sinks: HashMap<u64, Arc<dyn ReplySink>>,
    /// Waiting for `Ready`.
    ready: Option<oneshot::Sender<Result<Hello, String>>>,
    /// Set once the worker is gone: the message calls get.
    gone: Option<String>,
}

/// The host's end of one worker process.
pub(crate) struct Connection {
    pid: u32,
    /// The plugin's name: the extension's until its manifest is known.
    plugin: arc_swap::ArcSwap<String>,
    writer: Writer<UnixStream>,
    calls: Mutex<Calls>,
    next_id: AtomicU64,
    child: Mutex<Option<Child>>,
    /// Why the host killed it, if it did.
    kill_reason: Mutex<Option<String>>,
    /// Stopped on purpose: its end is not a failure.
    stopping: AtomicBool,
    /// Its stderr said an allocation failed.
    out_of_memory: AtomicBool,
    memory_mb: u64,
    exit: watch::Sender<Option<Exit>>,
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("pid", &self.pid)
            .field("plugin", &self.plugin)
            .finish_non_exhaustive()
    }
}

/// The level the host logs at (the worker forwards nothing more detailed).
fn log_level() -> u8 {
    match tracing::level_filters::LevelFilter::current().into_level() {
        None => 0,
        Some(tracing::Level::ERROR) => 1,
        Some(tracing::Level::WARN) => 2,
        Some(tracing::Level::INFO) => 3,
        Some(tracing::Level::DEBUG) => 4,
        Some(tracing::Level::TRACE) => 5,
    }
}

/// The command that starts `exe worker` for `plugin`, with the environment a worker needs;
/// the caller sets its stdio (stdin is the socket to the host).
///
/// Reserved address space counts against `isolation.memory_mb` (`RLIMIT_AS`) as much as memory
/// in use: the worker's allocator (mimalloc) reserves small arenas instead of its 1 GiB default
/// (which alone would pass the limit), and the plugin's own allocator (glibc) keeps few arenas.
pub fn worker_command(exe: &Path, plugin: &str) -> std::process::Command {
    let mut command = std::process::Command::new(exe);
    command
        .args(["worker", "--plugin", plugin])
        .env("RUST_BACKTRACE", "0");
    for (key, value) in [
        ("MIMALLOC_ARENA_RESERVE", "8MiB"),
        ("MALLOC_ARENA_MAX", "2"),
    ] {
        if std::env::var_os(key).is_none() {
            command.env(key, value);
        }
    }
    command
}

impl Connection {
    /// Starts `exe worker` for `library` and waits until it has loaded and described it.
    pub(crate) async fn launch(
        exe: &Path,
        plugin: &str,
        library: &Path,
        memory_mb: u64,
        shared: &Arc<Shared>,
    ) -> Result<(Arc<Self>, Hello), String> {
        let (host_end, worker_end) =
            UnixStream::pair().map_err(|e| format!("could not create a socket: {e}"))?;
        let mut command = worker_command(exe, plugin);
        command
            // The worker's stdin is its socket (the host keeps the other end, close-on-exec):
            // when the host goes, the worker reads the end of input and exits.
            .stdin(Stdio::from(OwnedFd::from(worker_end)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", exe.display()))?;
        drop(command);
        let pid = child.id();
        let stderr = child.stderr.take();
        let reader = host_end
            .try_clone()
            .map_err(|e| format!("could not clone the socket: {e}"))?;
        let _ = host_end.set_write_timeout(Some(WRITE_TIMEOUT));
        let (ready_tx, ready_rx) = oneshot::channel();
        let connection = Arc::new(Self {
            pid,
            plugin: arc_swap::ArcSwap::from_pointee(plugin.to_owned()),
            writer: Writer::new(host_end),
            calls: Mutex::new(Calls {
                ready: Some(ready_tx),
                ..Calls::default()
            }),
            next_id: AtomicU64::new(1),
            child: Mutex::new(Some(child)),
            kill_reason: Mutex::new(None),
            stopping: AtomicBool::new(false),
            out_of_memory: AtomicBool::new(false),
            memory_mb,
            exit: watch::channel(None).0,
            shared: Arc::clone(shared),
            runtime: tokio::runtime::Handle::current(),
        });
        let (stderr_done_tx, stderr_done) = std::sync::mpsc::channel::<()>();
        if let Some(stderr) = stderr {
            let conn = Arc::clone(&connection);
            let spawned = std::thread::Builder::new()
                .name(format!("zoryx-worker-err-{pid}"))
                .spawn(move || {
                    conn.read_stderr(stderr);
                    let _ = stderr_done_tx.send(());
                });
            if let Err(error) = spawned {
                connection.kill(format!("could not be watched: {error}"));
            }
        }
        {
            let conn = Arc::clone(&connection);
            let spawned = std::thread::Builder::new()
                .name(format!("zoryx-worker-{pid}"))
                .spawn(move || conn.read_frames(reader, stderr_done));
            if let Err(error) = spawned {
                connection.kill(format!("could not be watched: {error}"));
                return Err(format!("could not start a thread: {error}"));
            }
        }
        let pool = shared.pool().options();
        let start = ToWorker::Start(Start {
            plugin: plugin.to_owned(),
            library: library.display().to_string(),
            config: shared.config_json(),
            max_threads: pool.max_threads,
            blocked_ms: u64::try_from(pool.blocked_after.as_millis()).unwrap_or(u64::MAX),
            memory_mb,
            log_level: log_level(),
        });
        if let Err(error) = connection.writer.send(&start) {
            connection.kill(format!("could not be reached: {error}"));
        }
        match tokio::time::timeout(START_TIMEOUT, ready_rx).await {
            Ok(Ok(Ok(hello))) => Ok((connection, hello)),
            Ok(Ok(Err(error))) => {
                connection.stop();
                Err(error)
            }
            Ok(Err(_)) => Err("the plugin's worker stopped while loading".to_owned()),
            Err(_) => {
                connection.kill(format!(
                    "was killed: it did not load the library within {}s",
                    START_TIMEOUT.as_secs()
                ));
                Err(format!(
                    "the plugin's worker did not load the library within {}s",
                    START_TIMEOUT.as_secs()
                ))
            }
        }
    }

    /// Names the plugin after its manifest (storage and logs go under it).
    pub(crate) fn set_plugin(&self, name: &str) {
        self.plugin.store(Arc::new(name.to_owned()));
    }

    /// The worker's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the worker is gone.
    pub(crate) fn is_gone(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Resolves when the worker is gone, to how it ended.
    pub(crate) async fn exited(&self) -> Exit {
        let mut exit = self.exit.subscribe();
        match exit.wait_for(Option::is_some).await {
            Ok(value) => value.clone().flatten(),
            Err(_) => Some("was lost".to_owned()),
        }
    }

    /// Starts a call; its result arrives on the returned receiver. Replies go to `sink`.
    pub(crate) fn start_call(
        &self,
        call: CallKind,
        sink: Option<Arc<dyn ReplySink>>,
    ) -> Result<(u64, oneshot::Receiver<Result<(), Failure>>), Failure> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut calls = self
                .calls
                .lock()
                .map_err(|_| Failure::Worker("the plugin's worker is unreachable".into()))?;
            if let Some(gone) = &calls.gone {
                return Err(Failure::Worker(gone.clone()));
            }
            calls.pending.insert(id, tx);
            if let Some(sink) = sink {
                calls.sinks.insert(id, sink);
            }
        }
        if let Err(error) = self.writer.send(&ToWorker::Call { id, call }) {
            self.forget(id);
            self.kill(format!("was killed: it could not be reached ({error})"));
            return Err(Failure::Worker(format!(
                "the plugin's worker could not be reached ({error})"
            )));
        }
        Ok((id, rx))
    }

    fn forget(&self, id: u64) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.pending.remove(&id);
            calls.sinks.remove(&id);
        }
    }

    /// Gives up on call `id`: the worker drops its future; its replies are no longer
    /// delivered.
    pub(crate) fn cancel(&self, id: u64) {
        self.forget(id);
        if !self.is_gone() {
            let _ = self.writer.send(&ToWorker::Cancel { id });
        }
    }

    /// Kills the worker; `reason` is what calls in flight are told (`was killed: ...`).
    pub(crate) fn kill(&self, reason: String) {
        if let Ok(mut kill_reason) = self.kill_reason.lock()
            && kill_reason.is_none()
        {
            *kill_reason = Some(reason);
        }
        if let Ok(mut child) = self.child.lock()
            && let Some(child) = child.as_mut()
        {
            let _ = child.kill();
        }
    }

    /// Asks the worker to free the plugin and exit; kills it if it has not after a grace
    /// period. Its end is not a failure.
    pub(crate) fn stop(self: &Arc<Self>) {
        if self.stopping.swap(true, Ordering::SeqCst) || self.is_gone() {
            return;
        }
        let _ = self.writer.send(&ToWorker::Stop);
        let _ = self
            .writer
            .with(|socket| socket.shutdown(std::net::Shutdown::Write));
        let conn = Arc::clone(self);
        self.runtime.spawn(async move {
            if tokio::time::timeout(STOP_GRACE, conn.exited())
                .await
                .is_err()
            {
                conn.kill(format!(
                    "was killed: it did not stop within {}s",
                    STOP_GRACE.as_secs()
                ));
            }
        });
    }

    fn read_frames(
        self: Arc<Self>,
        socket: UnixStream,
        stderr_done: std::sync::mpsc::Receiver<()>,
    ) {
        let mut reader = BufReader::with_capacity(64 * 1024, protocol::SpinReader::new(socket));
        loop {
            match protocol::read::<FromWorker>(&mut reader) {
                Ok(Some(message)) => self.handle(message),
                Ok(None) => break,
                Err(error) => {
                    if !self.stopping.load(Ordering::SeqCst) {
                        self.kill(format!("was killed: it sent a broken frame ({error})"));
                    }
                    break;
                }
            }
        }
        // The worker closed its socket: it is exiting (or misbehaving; make sure).
        let status = match self.child.lock().ok().and_then(|mut c| c.take()) {
            Some(mut child) => {
                let _ = child.kill();
                child.wait().ok()
            }
            None => None,
        };
        // Its last stderr lines say whether it ran out of memory.
        let _ = stderr_done.recv_timeout(Duration::from_secs(1));
        let exit = self.classify(status);
        let message = match &exit {
            Some(reason) => format!("the plugin's worker {reason}"),
            None => "the plugin was unloaded".to_owned(),
        };
        let calls = match self.calls.lock() {
            Ok(mut calls) => {
                calls.gone = Some(message.clone());
                calls.sinks.clear();
                let ready = calls.ready.take();
                (std::mem::take(&mut calls.pending), ready)
            }
            Err(_) => (HashMap::new(), None),
        };
        for (_, call) in calls.0 {
            let _ = call.send(Err(Failure::Worker(message.clone())));
        }
        if let Some(ready) = calls.1 {
            let _ = ready.send(Err(format!("{message} while loading the library")));
        }
        self.exit.send_replace(Some(exit));
    }

    fn classify(&self, status: Option<std::process::ExitStatus>) -> Exit {
        if let Some(reason) = self.kill_reason.lock().ok().and_then(|r| r.clone()) {
            return Some(reason);
        }
        if self.stopping.load(Ordering::SeqCst) {
            return None;
        }
        if self.out_of_memory.load(Ordering::SeqCst) {
            return Some(format!(
                "ran out of memory (isolation.memory_mb is {})",
                self.memory_mb
            ));
        }
        let Some(status) = status else {
            return Some("was lost".to_owned());
        };
        use std::os::unix::process::ExitStatusExt as _;
        match (status.code(), status.signal()) {
            (Some(code), _) => Some(format!("exited with code {code}")),
            (None, Some(signal)) => Some(format!("crashed ({})", signal_name(signal))),
            (None, None) => Some(format!("ended ({status})")),
        }
    }

    fn read_stderr(&self, stderr: std::process::ChildStderr) {
        let lines = BufReader::new(stderr).lines();
        for line in lines {
            let Ok(line) = line else { break };
            if line.contains("memory allocation of") && line.contains("failed") {
                self.out_of_memory.store(true, Ordering::SeqCst);
            }
            if !line.trim().is_empty() {
                tracing::warn!(plugin = %self.plugin.load(), pid = self.pid, "worker: {line}");
            }
        }
    }

    fn handle(self: &Arc<Self>, message: FromWorker) {
        match message {
            FromWorker::Done {
                id,
                result,
                released,
            } => {
                let call = self.calls.lock().ok().and_then(|mut calls| {
                    if released {
                        calls.sinks.remove(&id);
                    }
                    calls.pending.remove(&id)
                });
                if let Some(call) = call {
                    let _ = call.send(result.map_err(Failure::Plugin));
                }
            }
            FromWorker::Release { call } => {
                if let Ok(mut calls) = self.calls.lock() {
                    calls.sinks.remove(&call);
                }
            }
            FromWorker::Request { id, request } => self.serve(id, request),
            FromWorker::Log { level, text } => {
                let plugin = self.plugin.load();
                let (plugin, pid) = (plugin.as_str(), self.pid);
                match level {
                    1 => tracing::error!(plugin, pid, "{text}"),
                    2 => tracing::warn!(plugin, pid, "{text}"),
                    3 => tracing::info!(plugin, pid, "{text}"),
                    4 => tracing::debug!(plugin, pid, "{text}"),
                    _ => tracing::trace!(plugin, pid, "{text}"),
                }
            }
            FromWorker::Blocked { .. } => {
                self.shared.pool().record(&self.plugin.load(), 0, 1, 0);
            }
            FromWorker::Ready {
                api_version,
                description,
            } => {
                if let Some(ready) = self.calls.lock().ok().and_then(|mut c| c.ready.take()) {
                    let _ = ready.send(Ok(Hello {
                        api_version,
                        description: *description,
                    }));
                }
            }
            FromWorker::Refused { error } => {
                if let Some(ready) = self.calls.lock().ok().and_then(|mut c| c.ready.take()) {
                    let _ = ready.send(Err(error));
                }
            }
        }
    }

    /// Answers a service request of the plugin with the host's own services.
    fn serve(self: &Arc<Self>, id: u64, request: Request) {
        let plugin = self.plugin.load();
        let plugin = plugin.as_str();
        // Messages were checked in the worker already; checked again, as the worker runs
        // plugin code.
        if let Request::Reply { message, .. } | Request::Send { message, .. } = &request
            && let Some(refusal) = message_refusal(message)
        {
            self.answer(id, Err(refusal));
            return;
        }
        let mut future: BoxFuture<'static, Result<Answer, String>> = match request {
            Request::Reply { call, message } => {
                let sink = self
                    .calls
                    .lock()
                    .ok()
                    .and_then(|calls| calls.sinks.get(&call).cloned());
                match sink {
                    Some(sink) => {
                        let reply = sink.reply(message);
                        Box::pin(async move { reply.await.map(|id| Answer::Id(id.0)) })
                    }
                    None => Box::pin(async {
                        Err("the command is over; its replies are no longer delivered".to_owned())
                    }),
                }
            }
            Request::Send { channel, message } => {
                let send = self.shared.send(plugin, ChannelId(channel), message);
                Box::pin(async move { send.await.map(|id| Answer::Id(id.0)) })
            }
            Request::Emit { name, payload } => {
                let payload = serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null);
                let emit = self.shared.emit(name, payload);
                Box::pin(async move { emit.await.map(Answer::Count) })
            }
            Request::Storage(op) => {
                let storage = self.shared.storage(plugin, op);
                Box::pin(async move { storage.await.map(Answer::Storage) })
            }
            // Checked in the worker already; checked again, as the worker runs plugin code.
            Request::Act(action) => {
                let act: BoxFuture<'static, _> = match action_within_limits(&action) {
                    Ok(()) => self.shared.act(plugin, action),
                    Err(e) => Box::pin(async move { Err(e) }),
                };
                Box::pin(async move { Ok(Answer::Acted(act.await)) })
            }
            Request::CallAct { call, action } => {
                let sink = self
                    .calls
                    .lock()
                    .ok()
                    .and_then(|calls| calls.sinks.get(&call).cloned());
                match sink {
                    Some(sink) => {
                        let act: BoxFuture<'static, _> = match call_action_within_limits(&action) {
                            Ok(()) => call_act(sink.as_ref(), action),
                            Err(e) => Box::pin(async move { Err(e) }),
                        };
                        Box::pin(async move { Ok(Answer::Acted(act.await)) })
                    }
                    None => Box::pin(async {
                        Err("the command is over; its replies are no longer delivered".to_owned())
                    }),
                }
            }
        };
        // Most answers are ready at once: answer here, without a task.
        let _runtime = self.runtime.enter();
        let mut cx = Context::from_waker(Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(result) => self.answer(id, result),
            Poll::Pending => {
                let conn = Arc::clone(self);
                self.runtime.spawn(async move {
                    let result = future.await;
                    conn.answer(id, result);
                });
            }
        }
    }

    fn answer(&self, id: u64, result: Result<Answer, String>) {
        if let Err(error) = self.writer.send(&ToWorker::Answer { id, result })
            && !self.is_gone()
        {
            self.kill(format!("was killed: it could not be reached ({error})"));
        }
    }
}
