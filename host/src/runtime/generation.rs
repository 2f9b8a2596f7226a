//! One loaded version of a plugin: its library, its instance and what it registered.
//!
//! Every call into the plugin holds an `Arc<Generation>`. When the last one drops, the instance
//! is freed, the library is closed, and `/proc/self/maps` tells whether it really went away.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use abi_stable::std_types::{ROption, RStr};
use zoryx_plugin_api::ffi::extra;
use zoryx_plugin_api::ffi::types::{
    ArgsFfi, Description, EventFfi, HookEventFfi, InteractionFfi, InvocationFfi, args_to_ffi,
};
use zoryx_plugin_api::ffi::{CallData, CallFfi, InstanceHandle, PluginModuleRef};
use zoryx_plugin_api::{ApiVersion, Args, Event, HookEvent, Interaction, Invocation, PluginError};

use super::bridge::PluginCall;
use super::call::{CallState, ExpiringSink, ReplySink, into_call_data};
use super::pool::{CallLabel, PluginPool, PoolCall, PoolError};
use super::services::{PluginHost, Shared};
use crate::isolation::{Supervisor, WorkerStatus};
use crate::loader::maps::Mapping;
use crate::loader::{Code, LoadedLibrary, Opened, StagedCopy};

/// How long a plugin's `init` may take.
const INIT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a plugin's `shutdown` may take.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A library that stayed mapped after it was closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedLibrary {
    /// Plugin name.
    pub plugin: String,
    /// Generation number.
    pub generation: u64,
    /// The private copy's path.
    pub path: PathBuf,
    /// What is still mapped.
    pub mapping: Mapping,
}

/// Counts generations and remembers pinned libraries.
#[derive(Debug, Default)]
pub struct LibraryTracker {
    live: AtomicU64,
    closed: AtomicU64,
    pinned: Mutex<Vec<PinnedLibrary>>,
    changed: tokio::sync::Notify,
}

/// A snapshot of [`LibraryTracker`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LibraryStats {
    /// Generations whose library is open.
    pub live: u64,
    /// Generations closed so far.
    pub closed: u64,
    /// Closed libraries still mapped, re-checked now.
    pub pinned: Vec<PinnedLibrary>,
}

impl LibraryStats {
    /// Total bytes still mapped by pinned libraries.
    pub fn pinned_bytes(&self) -> u64 {
        self.pinned.iter().map(|p| p.mapping.bytes).sum()
    }
}

impl LibraryTracker {
    /// The current counts; pinned libraries that have since been unmapped are forgotten.
    pub fn stats(&self) -> LibraryStats {
        let mut pinned = self.pinned.lock().map(|p| p.clone()).unwrap_or_default();
        pinned.retain_mut(|p| {
            p.mapping = crate::loader::maps::mapping_of(&p.path);
            p.mapping.is_mapped()
        });
        if let Ok(mut stored) = self.pinned.lock() {
            stored.retain(|s| pinned.iter().any(|p| p.path == s.path));
        }
        LibraryStats {
            live: self.live.load(Ordering::SeqCst),
            closed: self.closed.load(Ordering::SeqCst),
            pinned,
        }
    }

    /// Waits until at least `closed` generations have been closed, or `timeout` passes.
    pub async fn wait_closed(&self, closed: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if self.closed.load(Ordering::SeqCst) >= closed {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return self.closed.load(Ordering::SeqCst) >= closed;
            }
        }
    }
}

/// One loaded version of a plugin.
pub struct Generation {
    /// Unique number across all plugins of this host.
    pub id: u64,
    /// The plugin's (normalised) name.
    pub name: String,
    /// The file in `extensions/` it came from.
    pub source: PathBuf,
    /// Manifest and registrations.
    pub description: Description,
    /// The plugin-api version it was built against.
    pub api_version: ApiVersion,
    /// Time from reading the file to the plugin being initialised.
    pub load_time: Duration,
    /// When it went live.
    pub loaded_at: SystemTime,
    /// Cancels its scheduled tasks.
    pub(crate) cancel: tokio_util::sync::CancellationToken,
    /// Where its code runs.
    backend: Backend,
    /// The host's plugin threads (its call counters).
    pool: PluginPool,
    /// `name`, shared by the labels of its calls.
    label_name: Arc<str>,
    tracker: Arc<LibraryTracker>,
    // Dropped last: the private copy's file.
    copy: Option<StagedCopy>,
}

/// Where a generation's code runs.
enum Backend {
    /// The library is open in this process.
    InProcess(InProcess),
    /// The library runs in a worker process (isolation mode).
    Worker(Arc<Supervisor>),
}

/// A library open in this process, and its instance.
struct InProcess {
    module: PluginModuleRef,
    instance: InstanceHandle,
    /// Kept alive for the plugin: its `HostData` points here.
    _host: Arc<PluginHost>,
    // Closed when the generation is dropped, after the instance is freed.
    library: Option<LoadedLibrary>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// A [`CallFfi`] on its way to the plugin thread that makes the call.
/// Dropped unused (the call was cancelled before it started), it releases its call handle.
struct SendCall(Option<CallFfi>);

// SAFETY: a `CallFfi` holds owned FFI values and a `CallData`, which is a counted pointer to a
// `CallState` (`Send + Sync`: an `Arc<dyn ReplySink>`); nothing in it is tied to the thread that
// built it.
unsafe impl Send for SendCall {}

impl SendCall {
    fn new(call: CallFfi) -> Self {
        Self(Some(call))
    }

    /// A call for `invocation` whose replies go to `sink` until its time limit expires it.
    fn expiring(
        invocation: &Invocation,
        args: ArgsFfi,
        sink: Arc<dyn ReplySink>,
    ) -> (Self, Arc<ExpiringSink>) {
        let sink = ExpiringSink::wrap(sink);
        let call = Self::new(CallFfi {
            invocation: InvocationFfi::from(invocation),
            args,
            call: into_call_data(Arc::new(CallState {
                sink: Arc::clone(&sink) as Arc<dyn ReplySink>,
            })),
        });
        (call, sink)
    }

    fn into_inner(mut self) -> CallFfi {
        match self.0.take() {
            Some(call) => call,
            None => unreachable!("a SendCall is consumed once"),
        }
    }
}

impl Drop for SendCall {
    fn drop(&mut self) {
        if let Some(mut call) = self.0.take() {
            // SAFETY: the handle came from `into_call_data` and was never given to the plugin,
            // so this is its only release.
            unsafe { super::call::release_call_data(&mut call.call) };
        }
    }
}

/// A reply route on its way to the plugin thread of a `call_extra` call; released if the call
/// never starts.
struct SendData(Option<CallData>);

// SAFETY: as for `SendCall`: a counted pointer to a `Send + Sync` `CallState`.
unsafe impl Send for SendData {}

impl SendData {
    fn take(mut self) -> ROption<CallData> {
        self.0.take().into()
    }
}

impl Drop for SendData {
    fn drop(&mut self) {
        if let Some(mut data) = self.0.take() {
            // SAFETY: the handle came from `into_call_data` and was never given to the plugin.
            unsafe { super::call::release_call_data(&mut data) };
        }
    }
}

/// One call into a plugin: which handler, with what.
pub(crate) enum Call<'a> {
    /// A command handler.
    Command {
        index: u32,
        invocation: &'a Invocation,
        args: &'a Args,
        sink: Arc<dyn ReplySink>,
    },
    /// A component handler.
    Component {
        index: u32,
        invocation: &'a Invocation,
        interaction: &'a Interaction,
        sink: Arc<dyn ReplySink>,
    },
    /// An event listener. `json` is the event serialised for 1.3 plugins, made by the first
    /// such listener and shared by the rest of one delivery, so ten listeners cost one
    /// serialisation.
    Event {
        index: u32,
        event: &'a Event,
        json: &'a OnceLock<Arc<str>>,
    },
    /// A framework hook.
    Hook { index: u32, event: &'a HookEvent },
    /// A scheduled task.
    Task { index: u32 },
    /// A handler registered through 1.3's JSON path (`call_extra`): autocomplete, modal
    /// submissions, context menu commands. `sink` is where its replies go, for those that
    /// answer.
    Extra {
        kind: &'a str,
        index: u32,
        input: String,
        sink: Option<Arc<dyn ReplySink>>,
    },
}

/// Why a plugin call did not return the plugin's own result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The plugin returned an error or panicked.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The call ran past its time limit and was cancelled; replies after it are dropped.
    #[error("took longer than {}s and was cancelled", .0.as_secs_f64())]
    TimedOut(Duration),
    /// The plugin could not be reached (its threads stopped).
    #[error("the plugin is not running")]
    Stopped,
    /// An isolated plugin's worker failed (crashed, exited, was killed, ran out of memory) or
    /// the plugin is disabled after repeated failures; the message says which.
    #[error("{0}")]
    Worker(String),
}

impl From<CallError> for PluginError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Plugin(error) => error,
            other => PluginError::Host(other.to_string()),
        }
    }
}

impl Generation {
    /// Initialises the plugin in `opened` and makes it a generation.
    pub(crate) async fn start(
        name: String,
        source: PathBuf,
        opened: Opened,
        shared: Arc<Shared>,
        tracker: Arc<LibraryTracker>,
        started: Instant,
    ) -> Result<Arc<Self>, PluginError> {
        let Opened {
            code,
            api_version,
            copy,
            description,
            ..
        } = opened;
        let pool = shared.pool();
        let backend = match code {
            Code::Library { module, library } => {
                let host = Arc::new(PluginHost {
                    name: name.clone(),
                    shared,
                });
                let instance = Self::init_in_process(&pool, &name, module, &host).await?;
                Backend::InProcess(InProcess {
                    module,
                    instance,
                    _host: host,
                    library,
                })
            }
            Code::Worker(worker) => {
                let supervisor = Supervisor::start(&name, worker, shared, INIT_TIMEOUT).await?;
                Backend::Worker(supervisor)
            }
        };
        tracker.live.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(Self {
            id: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            label_name: Arc::from(name.as_str()),
            name,
            source,
            api_version,
            description,
            load_time: started.elapsed(),
            loaded_at: SystemTime::now(),
            cancel: tokio_util::sync::CancellationToken::new(),
            backend,
            pool,
            tracker,
            copy,
        }))
    }

    async fn init_in_process(
        pool: &PluginPool,
        name: &str,
        module: PluginModuleRef,
        host: &Arc<PluginHost>,
    ) -> Result<InstanceHandle, PluginError> {
        let label = CallLabel {
            plugin: name.into(),
            what: "init".to_owned(),
        };
        let handle = host.handle();
        let init = pool.run(label, INIT_TIMEOUT, async move {
            PluginCall::new((module.init())(handle), ()).await
        });
        match init.await {
            Ok(result) => result,
            Err(PoolError::TimedOut(_)) => Err(PluginError::Internal(format!(
                "init did not finish within {}s",
                INIT_TIMEOUT.as_secs()
            ))),
            Err(PoolError::Stopped) => Err(PluginError::Internal("the host is stopping".into())),
        }
    }

    /// Lets the plugin clean up (its `shutdown`), then stops its tasks.
    pub(crate) async fn retire(self: &Arc<Self>) {
        self.cancel.cancel();
        let result = match &self.backend {
            Backend::InProcess(code) => {
                let generation = Arc::clone(self);
                let (module, instance) = (code.module, code.instance);
                let label = CallLabel {
                    plugin: self.name.as_str().into(),
                    what: "shutdown".to_owned(),
                };
                let call = self.pool.run(label, SHUTDOWN_TIMEOUT, async move {
                    let future = (module.shutdown())(instance);
                    PluginCall::new(future, generation).await
                });
                match call.await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(CallError::Plugin(error)),
                    Err(PoolError::TimedOut(limit)) => Err(CallError::TimedOut(limit)),
                    Err(PoolError::Stopped) => Err(CallError::Stopped),
                }
            }
            Backend::Worker(supervisor) => supervisor.shutdown(SHUTDOWN_TIMEOUT).await,
        };
        match result {
            Ok(()) => {}
            Err(CallError::Plugin(error)) => {
                tracing::warn!(plugin = %self.name, generation = self.id, %error, "shutdown failed");
            }
            Err(error) => {
                tracing::warn!(plugin = %self.name, generation = self.id, %error, "shutdown did not finish")
            }
        }
    }

    /// Runs one call on the plugin threads (or in its worker), cancelled past `limit`. A
    /// command's or component's replies after the limit are dropped.
    pub(crate) async fn call(
        self: &Arc<Self>,
        call: Call<'_>,
        what: String,
        limit: Duration,
    ) -> Result<(), CallError> {
        if let Backend::Worker(supervisor) = &self.backend {
            return supervisor.call(call, &what, limit).await;
        }
        let (future, expiry) = self.plugin_future(call)?;
        let result = self.pool.run(self.label(what), limit, future).await;
        let outcome = Self::outcome(result, expiry.as_deref());
        if outcome.is_err() {
            self.pool.record_error(&self.name);
        }
        outcome
    }

    /// Starts one in-process call on the plugin threads within `limit` and returns at once:
    /// `done` gets its result on the thread that finished it (or, past the limit, where it was
    /// cancelled), so nothing on the host's runtime waits for it. A command's or component's
    /// replies after the limit are dropped, as with [`Generation::call`]. An isolated plugin's
    /// calls cannot start this way (`Err(CallError::Stopped)`, `done` not called): await
    /// [`Generation::call`] for those.
    pub(crate) fn start_call(
        self: &Arc<Self>,
        call: Call<'_>,
        what: String,
        limit: Duration,
        done: impl FnOnce(Result<(), CallError>) + Send + 'static,
    ) -> Result<(), CallError> {
        if self.is_isolated() {
            return Err(CallError::Stopped);
        }
        let (future, expiry) = match self.plugin_future(call) {
            Ok(made) => made,
            Err(error) => {
                done(Err(error));
                return Ok(());
            }
        };
        let generation = Arc::clone(self);
        self.pool
            .start_all(vec![(self.label(what), future)], limit, move |results| {
                let result = results
                    .into_iter()
                    .next()
                    .unwrap_or(Err(PoolError::Stopped));
                let outcome = Self::outcome(result, expiry.as_deref());
                if outcome.is_err() {
                    generation.pool.record_error(&generation.name);
                }
                done(outcome);
            });
        Ok(())
    }

    /// Runs calls of several plugins together, each with the time limit `limit`, and returns
    /// their results in order: the in-process ones as one job on the plugin threads (see
    /// [`PluginPool::run_all`]), the isolated ones through their workers, all at once.
    pub(crate) async fn call_all(
        calls: Vec<(Arc<Self>, Call<'_>, String)>,
        limit: Duration,
    ) -> Vec<Result<(), CallError>> {
        let mut results: Vec<Option<Result<(), CallError>>> = Vec::with_capacity(calls.len());
        let mut pool = None;
        let mut local = Vec::new();
        let mut isolated = Vec::new();
        for (index, (generation, call, what)) in calls.into_iter().enumerate() {
            results.push(None);
            if let Backend::Worker(supervisor) = &generation.backend {
                let supervisor = Arc::clone(supervisor);
                isolated.push(async move { (index, supervisor.call(call, &what, limit).await) });
                continue;
            }
            match generation.plugin_future(call) {
                Ok((future, expiry)) => {
                    pool.get_or_insert_with(|| generation.pool.clone());
                    local.push((
                        index,
                        expiry,
                        Arc::clone(&generation),
                        (generation.label(what), future),
                    ));
                }
                Err(error) => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(Err(error));
                    }
                }
            }
        }
        let (indices, calls): (Vec<_>, Vec<_>) = local
            .into_iter()
            .map(|(index, expiry, generation, call)| ((index, expiry, generation), call))
            .unzip();
        let in_process = async {
            match pool {
                Some(pool) => pool.run_all(calls, limit).await,
                None => Vec::new(),
            }
        };
        let (in_process, isolated) =
            futures::future::join(in_process, futures::future::join_all(isolated)).await;
        for ((index, expiry, generation), result) in indices.into_iter().zip(in_process) {
            let outcome = Self::outcome(result, expiry.as_deref());
            if outcome.is_err() {
                generation.pool.record_error(&generation.name);
            }
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(outcome);
            }
        }
        for (index, result) in isolated {
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(result);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(CallError::Stopped)))
            .collect()
    }

    /// An in-process call ready for the plugin threads: its label and future, and the pool
    /// (`None` for an isolated plugin, whose calls go through its worker).
    pub(crate) fn prepare(
        self: &Arc<Self>,
        call: Call<'_>,
        what: String,
    ) -> Option<Result<(PluginPool, CallLabel, PluginFuture), CallError>> {
        if self.is_isolated() {
            return None;
        }
        Some(
            self.plugin_future(call)
                .map(|(future, _)| (self.pool.clone(), self.label(what), future)),
        )
    }

    fn label(&self, what: String) -> CallLabel {
        CallLabel {
            plugin: Arc::clone(&self.label_name),
            what,
        }
    }

    /// A pool call's result as a plugin call's; a call past its limit expires its reply sink.
    pub(crate) fn outcome(
        result: Result<Result<(), PluginError>, PoolError>,
        expiry: Option<&ExpiringSink>,
    ) -> Result<(), CallError> {
        match result {
            Ok(result) => result.map_err(CallError::Plugin),
            Err(PoolError::TimedOut(limit)) => {
                if let Some(sink) = expiry {
                    sink.expire();
                }
                Err(CallError::TimedOut(limit))
            }
            Err(PoolError::Stopped) => Err(CallError::Stopped),
        }
    }

    /// Starts one call on the plugin threads with no time limit, and gives its result to
    /// `done` on the thread that finished it. Dropping the returned call cancels it. An
    /// isolated plugin's worker runs the host's calls this way (the host keeps the time).
    pub(crate) fn spawn_call(
        self: &Arc<Self>,
        call: Call<'_>,
        what: String,
        done: impl FnOnce(Result<(), PluginError>) + Send + 'static,
    ) -> Result<PoolCall<()>, CallError> {
        let (future, _) = self.plugin_future(call)?;
        Ok(self
            .pool
            .spawn(self.label(what), async move { done(future.await) }))
    }
}

/// The future of one in-process plugin call.
pub(crate) type PluginFuture = futures::future::BoxFuture<'static, Result<(), PluginError>>;

impl Generation {
    /// The future of one in-process call, and the sink that expires at its limit.
    #[allow(clippy::type_complexity)]
    fn plugin_future(
        self: &Arc<Self>,
        call: Call<'_>,
    ) -> Result<
        (
            futures::future::BoxFuture<'static, Result<(), PluginError>>,
            Option<Arc<ExpiringSink>>,
        ),
        CallError,
    > {
        let Backend::InProcess(code) = &self.backend else {
            return Err(CallError::Stopped);
        };
        let (module, instance) = (code.module, code.instance);
        let generation = Arc::clone(self);
        let mut expiry = None;
        let future: futures::future::BoxFuture<'static, Result<(), PluginError>> = match call {
            Call::Command {
                index,
                invocation,
                args,
                sink,
            } => {
                let (call, sink) = SendCall::expiring(invocation, args_to_ffi(args), sink);
                expiry = Some(sink);
                Box::pin(async move {
                    let call = call.into_inner();
                    let future = (module.call_command())(instance, index, call);
                    PluginCall::new(future, generation).await
                })
            }
            Call::Component {
                index,
                invocation,
                interaction,
                sink,
            } => {
                let (call, sink) = SendCall::expiring(invocation, Default::default(), sink);
                expiry = Some(sink);
                let interaction = InteractionFfi::from(interaction);
                Box::pin(async move {
                    let call = call.into_inner();
                    let future = (module.on_component())(instance, index, call, interaction);
                    PluginCall::new(future, generation).await
                })
            }
            Call::Event { index, event, json } => {
                let base = u32::try_from(self.description.listeners.len()).unwrap_or(u32::MAX);
                let ffi = if index < base {
                    EventFfi::of(event)
                } else {
                    None
                };
                match ffi {
                    Some(event) => Box::pin(async move {
                        let future = (module.on_event())(instance, index, event);
                        PluginCall::new(future, generation).await
                    }),
                    // A 1.3 plugin's listeners (all of them): the event as JSON through
                    // `call_extra`, with what the 1.0 layout has no place for.
                    None => {
                        let Some(call_extra) = module.call_extra() else {
                            return Err(CallError::Plugin(PluginError::Internal(
                                "the plugin has no 1.3 handlers".into(),
                            )));
                        };
                        let json = match json.get() {
                            Some(json) => Arc::clone(json),
                            None => {
                                let made: Arc<str> = serde_json::to_string(event)
                                    .map_err(|e| CallError::Plugin(PluginError::from(e)))?
                                    .into();
                                Arc::clone(json.get_or_init(|| made))
                            }
                        };
                        let index = index - base.min(index);
                        Box::pin(async move {
                            // Called on the plugin thread, like every other entry point: the
                            // plugin parses the event and builds its handler there.
                            let future = call_extra(
                                instance,
                                RStr::from_str(extra::kind::EVENT),
                                index,
                                ROption::RNone,
                                RStr::from_str(&json),
                            );
                            // The output (JSON `null`) was allocated by the plugin: it is freed
                            // while this `Arc` keeps the library open, even if the call's own
                            // was the last one.
                            let open = Arc::clone(&generation);
                            let output = PluginCall::new(future, generation).await.map(drop);
                            drop(open);
                            output
                        })
                    }
                }
            }
            Call::Hook { index, event } => {
                let event = HookEventFfi::from(event);
                Box::pin(async move {
                    let future = (module.on_hook())(instance, index, event);
                    PluginCall::new(future, generation).await
                })
            }
            Call::Task { index } => {
                let base = u32::try_from(self.description.tasks.len()).unwrap_or(u32::MAX);
                if index < base {
                    Box::pin(async move {
                        let future = (module.run_task())(instance, index);
                        PluginCall::new(future, generation).await
                    })
                } else {
                    // Cron tasks (1.3) come after the interval tasks, through `call_extra`.
                    let Some(call_extra) = module.call_extra() else {
                        return Err(CallError::Plugin(PluginError::Internal(
                            "the plugin has no 1.3 handlers".into(),
                        )));
                    };
                    Box::pin(async move {
                        let future = call_extra(
                            instance,
                            RStr::from_str(extra::kind::CRON),
                            index - base,
                            ROption::RNone,
                            RStr::from_str("null"),
                        );
                        // The output is the plugin's allocation: freed while `open` keeps the
                        // library open.
                        let open = Arc::clone(&generation);
                        let output = PluginCall::new(future, generation).await.map(drop);
                        drop(open);
                        output
                    })
                }
            }
            Call::Extra {
                kind,
                index,
                input,
                sink,
            } => {
                let Some(call_extra) = module.call_extra() else {
                    return Err(CallError::Plugin(PluginError::Internal(
                        "the plugin has no 1.3 handlers".into(),
                    )));
                };
                let data = sink.map(|sink| {
                    let sink = ExpiringSink::wrap(sink);
                    expiry = Some(Arc::clone(&sink));
                    into_call_data(Arc::new(CallState {
                        sink: sink as Arc<dyn ReplySink>,
                    }))
                });
                let data = SendData(data);
                let kind = kind.to_owned();
                Box::pin(async move {
                    // The plugin copies what it borrows before `call_extra` returns.
                    let future = call_extra(
                        instance,
                        RStr::from_str(&kind),
                        index,
                        data.take(),
                        RStr::from_str(&input),
                    );
                    // The output is the plugin's allocation: freed while `open` keeps the
                    // library open.
                    let open = Arc::clone(&generation);
                    let output = PluginCall::new(future, generation).await.map(drop);
                    drop(open);
                    output
                })
            }
        };
        Ok((future, expiry))
    }

    /// Whether it runs in a worker process.
    pub fn is_isolated(&self) -> bool {
        matches!(self.backend, Backend::Worker(_))
    }

    /// The state of its worker process, if it runs in one.
    pub fn worker_status(&self) -> Option<WorkerStatus> {
        match &self.backend {
            Backend::Worker(supervisor) => Some(supervisor.status()),
            Backend::InProcess(_) => None,
        }
    }

    /// Calls, threads held past the threshold and time-outs of this plugin (all generations).
    pub fn call_stats(&self) -> super::pool::CallStats {
        self.pool.stats(&self.name)
    }

    /// The private copy the library was loaded from.
    pub fn library_path(&self) -> Option<PathBuf> {
        match &self.backend {
            Backend::InProcess(code) => code.library.as_ref().map(|l| l.path().to_owned()),
            Backend::Worker(_) => self.copy.as_ref().map(|c| c.path().to_owned()),
        }
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        self.cancel.cancel();
        match &mut self.backend {
            Backend::Worker(supervisor) => supervisor.stop(),
            Backend::InProcess(code) => {
                if let Err(error) = (code.module.drop_instance())(code.instance).into_result() {
                    let error = PluginError::from(&error);
                    tracing::warn!(plugin = %self.name, generation = self.id, %error, "dropping the plugin instance failed");
                }
                if let Some(library) = code.library.take() {
                    let path = library.path().to_owned();
                    match library.close() {
                        Ok(mapping) if mapping.is_mapped() => {
                            tracing::warn!(
                                plugin = %self.name,
                                generation = self.id,
                                regions = mapping.regions,
                                bytes = mapping.bytes,
                                "library still mapped after unload (pinned by a thread-local or a runtime in the plugin)"
                            );
                            if let Ok(mut pinned) = self.tracker.pinned.lock() {
                                pinned.push(PinnedLibrary {
                                    plugin: self.name.clone(),
                                    generation: self.id,
                                    path,
                                    mapping,
                                });
                            }
                        }
                        Ok(_) => {
                            tracing::debug!(plugin = %self.name, generation = self.id, "library unmapped")
                        }
                        Err(error) => {
                            tracing::warn!(plugin = %self.name, %error, "closing library failed")
                        }
                    }
                }
            }
        }
        self.copy.take();
        self.tracker.live.fetch_sub(1, Ordering::SeqCst);
        self.tracker.closed.fetch_add(1, Ordering::SeqCst);
        self.tracker.changed.notify_waiters();
    }
}
