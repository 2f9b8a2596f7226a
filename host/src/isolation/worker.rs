//! The worker process (`zoryx worker`): one isolated plugin, behind the same plugin API.
//!
//! Its stdin is the socket to the host. It limits its own address space, loads the staged copy
//! with the host's loader code (declaration, version and layout checks, describe), and runs the
//! plugin as an in-process generation on its own plugin threads. The plugin's host services are
//! the host's own vtable functions over a [`Shared`] whose outbox, storage, emitter and reply
//! sinks ask the host across the socket. The worker exits as soon as the socket closes.

use std::collections::HashMap;
use std::io::BufReader;
use std::os::fd::AsFd as _;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::oneshot;
use zoryx_plugin_api::{
    Action, CallAction, ChannelId, HookEvent, Message, MessageId, Outcome, PluginError,
};

use super::protocol::{self, Answer, CallKind, FromWorker, Request, Start, ToWorker, Writer};
use crate::loader::{Code, LoadedLibrary, Opened};
use crate::runtime::generation::Call;
use crate::runtime::pool::PoolCall;
use crate::runtime::services::{Emitter, StorageOp, StorageService, StorageValue};
use crate::runtime::{Generation, LibraryTracker, Outbox, PoolOptions, ReplySink, Shared};

/// `zoryx worker`: started by the host for an isolated plugin, never by hand.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The plugin's name (shown by `ps`).
    #[arg(long)]
    pub plugin: String,
}

/// The host at the other end of the socket: frames out, answers to requests in.
struct Remote {
    writer: Writer<UnixStream>,
    pending: Mutex<HashMap<u64, oneshot::Sender<Result<Answer, String>>>>,
    next: AtomicU64,
}

impl Remote {
    fn send(&self, message: &FromWorker) {
        // A write fails only when the host is gone; the reading side then exits.
        let _ = self.writer.send(message);
    }

    fn request(&self, request: Request) -> BoxFuture<'static, Result<Answer, String>> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, tx);
        }
        if let Err(error) = self.writer.send(&FromWorker::Request { id, request }) {
            if let Ok(mut pending) = self.pending.lock() {
                pending.remove(&id);
            }
            let error = format!("the host cannot be reached: {error}");
            return Box::pin(async move { Err(error) });
        }
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err("the host is gone".to_owned()))
        })
    }

    fn answered(&self, id: u64, result: Result<Answer, String>) {
        let waiting = self.pending.lock().ok().and_then(|mut p| p.remove(&id));
        if let Some(waiting) = waiting {
            let _ = waiting.send(result);
        }
    }
}

fn wrong_answer() -> String {
    "the host answered with the wrong kind of value".to_owned()
}

/// An action's answer from the host: its outcome, or the error as the host gave it.
fn acted(
    answer: BoxFuture<'static, Result<Answer, String>>,
) -> BoxFuture<'static, Result<Outcome, PluginError>> {
    Box::pin(async move {
        match answer.await.map_err(PluginError::Host)? {
            Answer::Acted(result) => result,
            _ => Err(PluginError::Host(wrong_answer())),
        }
    })
}

struct RemoteOutbox(Arc<Remote>);

impl Outbox for RemoteOutbox {
    fn send(
        &self,
        _plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>> {
        let answer = self.0.request(Request::Send {
            channel: channel.0,
            message,
        });
        Box::pin(async move {
            match answer.await? {
                Answer::Id(id) => Ok(MessageId(id)),
                _ => Err(wrong_answer()),
            }
        })
    }

    fn act(
        &self,
        _plugin: &str,
        action: Action,
    ) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        acted(self.0.request(Request::Act(action)))
    }
}

struct RemoteStorage(Arc<Remote>);

impl StorageService for RemoteStorage {
    fn run(
        &self,
        _plugin: &str,
        op: StorageOp,
    ) -> BoxFuture<'static, Result<StorageValue, String>> {
        let answer = self.0.request(Request::Storage(op));
        Box::pin(async move {
            match answer.await? {
                Answer::Storage(value) => Ok(value),
                _ => Err(wrong_answer()),
            }
        })
    }
}

struct RemoteEmitter(Arc<Remote>);

impl Emitter for RemoteEmitter {
    fn emit(
        &self,
        name: String,
        payload: serde_json::Value,
    ) -> BoxFuture<'static, Result<u32, String>> {
        let answer = self.0.request(Request::Emit {
            name,
            payload: payload.to_string(),
        });
        Box::pin(async move {
            match answer.await? {
                Answer::Count(n) => Ok(n),
                _ => Err(wrong_answer()),
            }
        })
    }
}

/// Whether a call finished and whether the plugin let go of its reply handle: whichever
/// happens second tells the host (in `Done`, or with a `Release`).
#[derive(Default)]
struct Track {
    released: bool,
    done: bool,
}

/// Replies of one command or component call, sent to the host.
struct RemoteSink {
    id: u64,
    remote: Arc<Remote>,
    track: Arc<Mutex<Track>>,
}

impl ReplySink for RemoteSink {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let answer = self.remote.request(Request::Reply {
            call: self.id,
            message,
        });
        Box::pin(async move {
            match answer.await? {
                Answer::Id(id) => Ok(MessageId(id)),
                _ => Err(wrong_answer()),
            }
        })
    }

    fn act(&self, action: CallAction) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        acted(self.remote.request(Request::CallAct {
            call: self.id,
            action,
        }))
    }
}

impl Drop for RemoteSink {
    fn drop(&mut self) {
        let done = match self.track.lock() {
            Ok(mut track) => {
                track.released = true;
                track.done
            }
            Err(_) => false,
        };
        if done {
            self.remote.send(&FromWorker::Release { call: self.id });
        }
    }
}

/// Forwards log events to the host, which logs them with the plugin's name.
struct ForwardLogs(Arc<Remote>);

#[derive(Default)]
struct LogText {
    message: String,
    fields: String,
}

impl tracing::field::Visit for LogText {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "plugin" => {}
            name => self.fields.push_str(&format!(" {name}={value}")),
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message.push_str(&format!("{value:?}")),
            "plugin" => {}
            name => self.fields.push_str(&format!(" {name}={value:?}")),
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ForwardLogs {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut text = LogText::default();
        event.record(&mut text);
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => 1,
            tracing::Level::WARN => 2,
            tracing::Level::INFO => 3,
            tracing::Level::DEBUG => 4,
            tracing::Level::TRACE => 5,
        };
        self.0.send(&FromWorker::Log {
            level,
            text: text.message + &text.fields,
        });
    }
}

fn level_filter(level: u8) -> tracing_subscriber::filter::LevelFilter {
    use tracing_subscriber::filter::LevelFilter;
    match level {
        0 => LevelFilter::OFF,
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Limits the process's address space to `mb` megabytes.
fn limit_memory(mb: u64) -> std::io::Result<()> {
    let bytes = mb.saturating_mul(1024 * 1024);
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: `setrlimit` reads the struct we pass by pointer; it is valid for the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Leaves now, without running exit handlers or destructors (the host is gone, or the plugin
/// has been freed): nothing of the plugin can hold the exit up.
fn leave(code: i32) -> ! {
    // SAFETY: `_exit` ends the process at once; it has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Takes the socket from stdin and puts `/dev/null` there, so that nothing in the plugin can
/// read the host's frames.
fn take_socket() -> std::io::Result<UnixStream> {
    let socket = std::io::stdin().as_fd().try_clone_to_owned()?;
    let null = std::fs::File::open("/dev/null")?;
    // SAFETY: both descriptors are open; `dup2` replaces fd 0 atomically.
    if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(UnixStream::from(socket))
}

fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// The worker's `main`.
pub fn main(args: &WorkerArgs) -> ExitCode {
    let socket = match take_socket() {
        Ok(socket) => socket,
        Err(error) => {
            say(&format!(
                "zoryx worker: stdin is not the host's socket: {error}"
            ));
            return ExitCode::FAILURE;
        }
    };
    let mut reader = match socket.try_clone() {
        Ok(socket) => BufReader::with_capacity(64 * 1024, protocol::SpinReader::new(socket)),
        Err(error) => {
            say(&format!("zoryx worker: {error}"));
            return ExitCode::FAILURE;
        }
    };
    let start = match protocol::read::<ToWorker>(&mut reader) {
        Ok(Some(ToWorker::Start(start))) => start,
        Ok(None) => return ExitCode::SUCCESS,
        Ok(Some(_)) | Err(_) => {
            say("zoryx worker: this is started by the zoryx host for an isolated plugin");
            return ExitCode::FAILURE;
        }
    };
    if start.plugin != args.plugin {
        say("zoryx worker: the host asked for another plugin");
        return ExitCode::FAILURE;
    }
    if start.memory_mb > 0
        && let Err(error) = limit_memory(start.memory_mb)
    {
        say(&format!("zoryx worker: could not limit memory: {error}"));
    }
    let remote = Arc::new(Remote {
        writer: Writer::new(socket),
        pending: Mutex::new(HashMap::new()),
        next: AtomicU64::new(1),
    });
    {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry()
            .with(ForwardLogs(Arc::clone(&remote)).with_filter(level_filter(start.log_level)));
        let _ = tracing::subscriber::set_global_default(subscriber);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("zoryx-worker-rt")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            say(&format!(
                "zoryx worker: cannot start the async runtime: {error}"
            ));
            return ExitCode::FAILURE;
        }
    };
    let _runtime = runtime.enter();
    let Some(worker) = Worker::load(&start, &remote) else {
        // Refused: the host was told why.
        leave(0);
    };
    worker.serve(&mut reader);
    leave(0)
}

/// The plugin in this process, and its calls in flight.
struct Worker {
    remote: Arc<Remote>,
    shared: Arc<Shared>,
    library: PathBuf,
    opened: Mutex<Option<Opened>>,
    generation: Arc<Mutex<Option<Arc<Generation>>>>,
    calls: Arc<Mutex<HashMap<u64, PoolCall<()>>>>,
}

impl Worker {
    /// Opens and describes the library; tells the host the result.
    fn load(start: &Start, remote: &Arc<Remote>) -> Option<Self> {
        let library = PathBuf::from(&start.library);
        let opened = LoadedLibrary::open(&library).and_then(|library| {
            let description = library.describe()?;
            Ok(Opened {
                api_version: library.api_version(),
                code: Code::Library {
                    module: library.module(),
                    library: Some(library),
                },
                copy: None,
                description,
                elapsed: Duration::ZERO,
            })
        });
        let opened = match opened {
            Ok(opened) => opened,
            Err(error) => {
                remote.send(&FromWorker::Refused {
                    error: error.to_string(),
                });
                return None;
            }
        };
        remote.send(&FromWorker::Ready {
            api_version: opened.api_version,
            description: Box::new(opened.description.clone()),
        });
        let config = serde_json::from_str(&start.config).unwrap_or(serde_json::Value::Null);
        let shared = Shared::new(config, Box::new(RemoteOutbox(Arc::clone(remote))));
        shared.set_storage_service(Box::new(RemoteStorage(Arc::clone(remote))));
        shared.set_emitter(Box::new(RemoteEmitter(Arc::clone(remote))));
        shared.forward_requests();
        shared.set_pool_options(PoolOptions {
            max_threads: start.max_threads,
            blocked_after: Duration::from_millis(start.blocked_ms),
            ..PoolOptions::default()
        });
        let blocked = Arc::clone(remote);
        shared.pool().on_blocked(move |label, held| {
            blocked.send(&FromWorker::Blocked {
                what: label.what.clone(),
                held_ms: u64::try_from(held.as_millis()).unwrap_or(u64::MAX),
            });
        });
        Some(Self {
            remote: Arc::clone(remote),
            shared,
            library,
            opened: Mutex::new(Some(opened)),
            generation: Arc::new(Mutex::new(None)),
            calls: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Reads the host's frames until the socket closes or the host says stop.
    fn serve(&self, reader: &mut BufReader<protocol::SpinReader>) {
        loop {
            match protocol::read::<ToWorker>(reader) {
                Ok(Some(ToWorker::Call { id, call })) => self.call(id, call),
                Ok(Some(ToWorker::Cancel { id })) => {
                    let call = self.calls.lock().ok().and_then(|mut c| c.remove(&id));
                    drop(call);
                }
                Ok(Some(ToWorker::Answer { id, result })) => self.remote.answered(id, result),
                Ok(Some(ToWorker::Stop)) => {
                    // Free the instance and close the library (the host holds no call).
                    if let Ok(mut calls) = self.calls.lock() {
                        calls.clear();
                    }
                    let generation = self.generation.lock().ok().and_then(|mut g| g.take());
                    drop(generation);
                    return;
                }
                Ok(Some(ToWorker::Start(_))) => {}
                // The host is gone (or speaks nonsense): leave at once.
                Ok(None) | Err(_) => leave(0),
            }
        }
    }

    fn done(remote: &Remote, id: u64, result: Result<(), PluginError>, released: bool) {
        remote.send(&FromWorker::Done {
            id,
            result,
            released,
        });
    }

    fn call(&self, id: u64, call: CallKind) {
        match call {
            CallKind::Init { plugin } => self.init(id, plugin),
            CallKind::Shutdown => {
                let generation = self.generation.lock().ok().and_then(|g| g.clone());
                let remote = Arc::clone(&self.remote);
                tokio::spawn(async move {
                    if let Some(generation) = generation {
                        generation.retire().await;
                    }
                    Self::done(&remote, id, Ok(()), true);
                });
            }
            other => self.run(id, other),
        }
    }

    fn init(&self, id: u64, name: String) {
        let Some(opened) = self.opened.lock().ok().and_then(|mut o| o.take()) else {
            Self::done(
                &self.remote,
                id,
                Err(PluginError::Internal(
                    "the plugin was already initialised".into(),
                )),
                true,
            );
            return;
        };
        let library = self.library.clone();
        let shared = Arc::clone(&self.shared);
        let remote = Arc::clone(&self.remote);
        let slot = Arc::clone(&self.generation);
        tokio::spawn(async move {
            let tracker = Arc::new(LibraryTracker::default());
            let started =
                Generation::start(name, library, opened, shared, tracker, Instant::now()).await;
            let result = started.map(|generation| {
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(generation);
                }
            });
            Self::done(&remote, id, result, true);
        });
    }

    fn run(&self, id: u64, call: CallKind) {
        let Some(generation) = self.generation.lock().ok().and_then(|g| g.clone()) else {
            Self::done(
                &self.remote,
                id,
                Err(PluginError::Internal(
                    "the plugin is not initialised".into(),
                )),
                true,
            );
            return;
        };
        let track = Arc::new(Mutex::new(Track::default()));
        let sink = |remote: &Arc<Remote>| -> Arc<dyn ReplySink> {
            Arc::new(RemoteSink {
                id,
                remote: Arc::clone(remote),
                track: Arc::clone(&track),
            })
        };
        let hook;
        let json = std::sync::OnceLock::new();
        let (call, what) = match &call {
            CallKind::Command {
                index,
                invocation,
                args,
            } => (
                Call::Command {
                    index: *index,
                    invocation,
                    args,
                    sink: sink(&self.remote),
                },
                format!("command {}", invocation.command),
            ),
            CallKind::Component {
                index,
                invocation,
                interaction,
            } => (
                Call::Component {
                    index: *index,
                    invocation,
                    interaction,
                    sink: sink(&self.remote),
                },
                format!("component {}", interaction.name),
            ),
            CallKind::Event { index, event } => (
                Call::Event {
                    index: *index,
                    event,
                    json: &json,
                },
                format!("listener {:?}", event.kind()),
            ),
            CallKind::Hook {
                index,
                name,
                payload,
            } => {
                hook = HookEvent {
                    name: name.clone(),
                    payload: serde_json::from_str(payload).unwrap_or(serde_json::Value::Null),
                };
                (
                    Call::Hook {
                        index: *index,
                        event: &hook,
                    },
                    format!("hook {name}"),
                )
            }
            CallKind::Task { index } => (Call::Task { index: *index }, format!("task {index}")),
            CallKind::Extra {
                kind,
                index,
                input,
                replies,
            } => (
                Call::Extra {
                    kind,
                    index: *index,
                    input: input.clone(),
                    sink: replies.then(|| sink(&self.remote)),
                },
                format!("{kind} {index}"),
            ),
            CallKind::Init { .. } | CallKind::Shutdown => return,
        };
        let remote = Arc::clone(&self.remote);
        let calls = Arc::clone(&self.calls);
        let finished = Arc::clone(&track);
        // Held across the spawn, so the call cannot finish before it is recorded.
        let Ok(mut running) = self.calls.lock() else {
            return;
        };
        let spawned = generation.spawn_call(call, what, move |result| {
            let released = match finished.lock() {
                Ok(mut track) => {
                    track.done = true;
                    track.released
                }
                Err(_) => true,
            };
            Self::done(&remote, id, result, released);
            let call = calls.lock().ok().and_then(|mut c| c.remove(&id));
            drop(call);
        });
        match spawned {
            Ok(call) => {
                running.insert(id, call);
            }
            Err(error) => {
                drop(running);
                Self::done(&self.remote, id, Err(error.into()), true);
            }
        }
    }
}
