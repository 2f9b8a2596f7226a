//! Calling into plugins: commands, events, hooks, components and scheduled tasks.
//!
//! Every call takes the current [`Table`] snapshot, clones the `Arc` of the generation it routes
//! to and keeps it until the call is over. A reload publishes a new table: calls already running
//! finish on the generation they started on, new calls go to the new one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use serde_json::json;
use zoryx_plugin_api::ffi::extra::{self, MenuCall};
use zoryx_plugin_api::{
    Args, AutocompleteRequest, ChannelId, CommandSpec, ContextMenuKind, Event, GuildId, HookEvent,
    Interaction, Invocation, MessageId, ModalSubmit, Permission, PluginError, Source, User,
};

use super::call::ReplySink;
use super::generation::{Call, CallError, Generation};
use super::hooks::{FAILURE_THRESHOLD, HookHealth, HookId, OPEN_FOR, Recorded, hook_name};
use super::services::Shared;
use super::table::{Route, Table};
use crate::gate::args::ArgError;
use crate::gate::{Caller, Gate, Input, Refusal};

/// Where a panel handler's page arrives ([`CallAction::Panel`]); anything else a panel
/// handler tries through its call (a reply) is not available.
///
/// [`CallAction::Panel`]: zoryx_plugin_api::CallAction::Panel
#[derive(Default)]
struct PanelSink {
    page: std::sync::Mutex<Option<zoryx_plugin_api::panel::Panel>>,
}

impl ReplySink for PanelSink {
    fn reply(
        &self,
        _message: zoryx_plugin_api::Message,
    ) -> futures::future::BoxFuture<'static, Result<MessageId, String>> {
        Box::pin(async { Err("a dashboard panel cannot reply with a message".to_owned()) })
    }

    fn act(
        &self,
        action: zoryx_plugin_api::CallAction,
    ) -> futures::future::BoxFuture<'static, Result<zoryx_plugin_api::Outcome, PluginError>> {
        let result = match action {
            zoryx_plugin_api::CallAction::Panel { panel } => match self.page.lock() {
                Ok(mut page) => {
                    *page = Some(panel);
                    Ok(zoryx_plugin_api::Outcome::Done)
                }
                Err(_) => Err(PluginError::Internal("panel sink poisoned".into())),
            },
            other => Err(PluginError::NotAvailable(format!(
                "{} from a dashboard panel",
                other.describe()
            ))),
        };
        Box::pin(async move { result })
    }
}

/// How long plugin calls may run before they are cancelled (`limits.*` in `config.json`).
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// A command or component handler, unless overridden below.
    pub command: Duration,
    /// Per-command limits by command name.
    pub commands: std::collections::HashMap<String, Duration>,
    /// One event listener call.
    pub listener: Duration,
    /// One hook call.
    pub hook: Duration,
    /// One run of a scheduled task.
    pub task: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            command: Duration::from_secs(30),
            commands: std::collections::HashMap::new(),
            listener: Duration::from_secs(30),
            hook: Duration::from_secs(10),
            task: Duration::from_secs(300),
        }
    }
}

impl Limits {
    /// The limit of command `name`.
    pub fn command(&self, name: &str) -> Duration {
        if self.commands.is_empty() {
            return self.command;
        }
        self.commands
            .get(&name.to_lowercase())
            .copied()
            .unwrap_or(self.command)
    }
}

/// A command to run, as typed by someone.
#[derive(Clone, Debug)]
pub struct CommandRequest {
    /// Only run it if it belongs to this plugin (the console's `call NAME ...`).
    pub plugin: Option<String>,
    /// The command name or alias.
    pub command: String,
    /// The argument text after the name.
    pub args: String,
    /// Who.
    pub author: User,
    /// The highest permission the author holds where they typed it.
    pub level: Permission,
    /// Whether the author is a bot owner.
    pub is_owner: bool,
    /// Where.
    pub guild_id: Option<GuildId>,
    /// Where.
    pub channel_id: ChannelId,
    /// The triggering message.
    pub message_id: Option<MessageId>,
    /// How it arrived.
    pub source: Source,
    /// The prefix used, for usage lines.
    pub prefix: String,
    /// The files attached to the triggering message, for [`Arg::attachment`] arguments.
    ///
    /// [`Arg::attachment`]: zoryx_plugin_api::Arg::attachment
    pub attachments: Vec<zoryx_plugin_api::Attachment>,
}

/// What became of a [`CommandRequest`].
#[derive(Debug)]
pub enum CommandOutcome {
    /// The handler ran and returned `Ok`.
    Done {
        /// The plugin.
        plugin: String,
        /// The generation that answered.
        generation: u64,
    },
    /// No such command (or not in the requested plugin).
    Unknown,
    /// The command gate refused it (permission, place, arguments, cooldown).
    Refused(Refusal),
    /// The handler ran past its time limit: it was cancelled and its late replies dropped.
    TimedOut {
        /// The plugin.
        plugin: String,
        /// The generation.
        generation: u64,
        /// The limit it ran past.
        limit: Duration,
    },
    /// The handler returned an error or panicked.
    Failed {
        /// The plugin.
        plugin: String,
        /// The generation.
        generation: u64,
        /// The error.
        error: PluginError,
    },
}

/// A plugin command found in the table, with the argument text left after its subcommand
/// words (`config set colour red` → the route of `config set`, `colour red`).
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Where it routes.
    pub route: Route,
    /// The argument text for the handler.
    pub args: String,
}

impl Resolved {
    /// The command's declaration.
    pub fn spec(&self) -> Option<&CommandSpec> {
        self.route
            .generation
            .description
            .commands
            .get(self.route.index as usize)
    }
}

/// Command errors kept for `fw_errors`, as in the seed.
pub const RECENT_ERRORS: usize = 20;

/// One command that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandErrorRecord {
    /// When.
    pub at: std::time::SystemTime,
    /// The command.
    pub command: String,
    /// Whose: the plugin, `None` for a built-in.
    pub plugin: Option<String>,
    /// Who ran it.
    pub author: u64,
    /// The error.
    pub error: String,
}

/// Routes calls to the loaded plugins.
pub struct Dispatcher {
    table: ArcSwap<Table>,
    gate: Gate,
    shared: Arc<Shared>,
    commands_run: AtomicU64,
    /// Commands finished (built-ins and plugins'), and those that failed.
    commands_finished: AtomicU64,
    commands_failed: AtomicU64,
    /// The last command errors, newest last (`fw_errors`).
    recent_errors: std::sync::Mutex<std::collections::VecDeque<CommandErrorRecord>>,
    /// Failures since start by command name (counted only when one fails).
    errors_by_command: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    hook_health: HookHealth,
    alerts: Arc<crate::alerts::Alerts>,
    /// `framework.enable_event_hooks`: with it off, emitted events reach no hook.
    hooks_enabled: AtomicBool,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").finish_non_exhaustive()
    }
}

/// When the host answers an autocomplete request without suggestions if the handler has not
/// answered yet: Discord waits 3 seconds for the answer.
pub const AUTOCOMPLETE_DEADLINE: Duration = Duration::from_millis(2500);

/// The subcommand the words of `args` name below `spec` (`set colour red` → `config set`,
/// `colour red`); `Ok(None)` for no words at all (the command's own handler runs). A word
/// that names no subcommand, or a group without one, is an error with the usage to show.
#[allow(clippy::type_complexity)]
fn subcommand_path(
    spec: &CommandSpec,
    args: &str,
) -> Result<Option<(String, String)>, (ArgError, String)> {
    let mut node = spec;
    let mut path = spec.name.clone();
    let mut rest = args.trim_start();
    if rest.is_empty() {
        return Ok(None);
    }
    while !node.subcommands.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        let found = node
            .subcommands
            .iter()
            .find(|s| !word.is_empty() && s.name.eq_ignore_ascii_case(word));
        let Some(sub) = found else {
            let error = ArgError::Subcommand {
                given: (!word.is_empty()).then(|| word.to_owned()),
                expected: node.subcommands.iter().map(|s| s.name.clone()).collect(),
            };
            let mut usage = node.clone();
            usage.name = path;
            return Err((error, usage.usage("")));
        };
        path = format!("{path} {}", sub.name);
        node = sub;
        rest = rest[end..].trim_start();
    }
    Ok(Some((path, rest.to_owned())))
}

/// Runs command `route` with already-parsed arguments on the plugin threads, cancelled past
/// `limit`. This is the host → plugin hot path.
pub async fn call_command(
    route: &Route,
    invocation: &Invocation,
    args: &Args,
    sink: Arc<dyn ReplySink>,
    limit: Duration,
) -> Result<(), CallError> {
    let call = Call::Command {
        index: route.index,
        invocation,
        args,
        sink,
    };
    let what = format!("command {}", invocation.command);
    route.generation.call(call, what, limit).await
}

impl Dispatcher {
    /// A dispatcher with no plugins, using `shared` services.
    pub fn new(shared: Arc<Shared>) -> Arc<Self> {
        let dispatcher = Arc::new(Self {
            table: ArcSwap::from_pointee(Table::default()),
            gate: Gate::default(),
            shared: Arc::clone(&shared),
            commands_run: AtomicU64::new(0),
            commands_finished: AtomicU64::new(0),
            commands_failed: AtomicU64::new(0),
            recent_errors: std::sync::Mutex::new(std::collections::VecDeque::new()),
            errors_by_command: std::sync::Mutex::new(std::collections::HashMap::new()),
            hook_health: HookHealth::default(),
            alerts: Arc::new(crate::alerts::Alerts::new(Arc::clone(&shared))),
            hooks_enabled: AtomicBool::new(true),
        });
        shared.attach(&dispatcher);
        dispatcher
    }

    /// Turns the event hooks on or off (`framework.enable_event_hooks`): off, [`Self::emit`]
    /// runs no hook (plugins' own emits and the host's events such as `command_executed`).
    pub fn set_hooks_enabled(&self, enabled: bool) {
        self.hooks_enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether event hooks run.
    pub fn hooks_enabled(&self) -> bool {
        self.hooks_enabled.load(Ordering::Relaxed)
    }

    /// The current routing snapshot.
    pub fn table(&self) -> Arc<Table> {
        self.table.load_full()
    }

    /// The shared services.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Hook counters, circuit breakers and history.
    pub fn hook_health(&self) -> &HookHealth {
        &self.hook_health
    }

    /// The owner's alert channels (hooks, registry, health).
    pub fn alerts(&self) -> &Arc<crate::alerts::Alerts> {
        &self.alerts
    }

    /// The command gate every command passes (built-ins too).
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Commands run since start.
    pub fn commands_run(&self) -> u64 {
        self.commands_run.load(Ordering::Relaxed)
    }

    /// Commands finished (built-ins and plugins', every source) and those that failed, since
    /// start.
    pub fn command_counts(&self) -> (u64, u64) {
        (
            self.commands_finished.load(Ordering::Relaxed),
            self.commands_failed.load(Ordering::Relaxed),
        )
    }

    /// How often each command failed since start, by name (commands that never failed are
    /// absent).
    pub fn errors_by_command(&self) -> std::collections::HashMap<String, u64> {
        self.errors_by_command
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }

    /// The last command errors, oldest first (at most [`RECENT_ERRORS`]).
    pub fn recent_errors(&self) -> Vec<CommandErrorRecord> {
        self.recent_errors
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn publish(&self, table: Table) {
        self.table.store(Arc::new(table));
    }

    /// Resolves, checks, parses and runs a command.
    pub async fn invoke(
        &self,
        request: CommandRequest,
        sink: Arc<dyn ReplySink>,
    ) -> CommandOutcome {
        self.invoke_with(request, None, sink).await
    }

    /// As [`Dispatcher::invoke`], with arguments already typed (slash command options) instead
    /// of parsed from `request.args`. The caller's standing is `request.level`; the Discord
    /// layer, which knows members' roles, goes through [`Dispatcher::resolve`],
    /// [`Gate::admit`] and [`Dispatcher::run`] itself.
    pub async fn invoke_with(
        &self,
        request: CommandRequest,
        parsed: Option<Args>,
        sink: Arc<dyn ReplySink>,
    ) -> CommandOutcome {
        let resolved = match self.resolve(&request.command, &request.args, parsed.is_some()) {
            Ok(Some(resolved)) => resolved,
            Ok(None) => return CommandOutcome::Unknown,
            Err(error) => {
                return CommandOutcome::Refused(Refusal::Arguments {
                    usage: format!("{}{}", request.prefix, error.1),
                    error: error.0,
                });
            }
        };
        let generation = &resolved.route.generation;
        if request
            .plugin
            .as_deref()
            .is_some_and(|p| p != generation.name)
        {
            return CommandOutcome::Unknown;
        }
        let Some(spec) = resolved.spec() else {
            return CommandOutcome::Unknown;
        };
        let invocation = Invocation {
            command: spec.name.clone(),
            author: request.author.clone(),
            guild_id: request.guild_id,
            channel_id: request.channel_id,
            message_id: request.message_id,
            is_owner: request.is_owner,
            source: request.source,
        };
        let caller = Caller::with_level(&invocation, request.level);
        let input = match parsed {
            Some(args) => Input::Typed(args),
            None => Input::Text {
                text: &resolved.args,
                attachments: &request.attachments,
            },
        };
        let args = match self.gate.admit(spec, &caller, input, &request.prefix) {
            Ok(args) => args,
            Err(refusal) => return CommandOutcome::Refused(refusal),
        };
        drop(caller);
        self.run(&resolved, invocation, args, sink).await
    }

    /// Finds plugin command `name` in the current table. With `typed` false and a command that
    /// has subcommands, the first words of `args` name the subcommand (an error: the word was
    /// none of them, with the usage line to show without its prefix).
    pub fn resolve(
        &self,
        name: &str,
        args: &str,
        typed: bool,
    ) -> Result<Option<Resolved>, (ArgError, String)> {
        let table = self.table.load();
        let Some(route) = table.command(name) else {
            return Ok(None);
        };
        if !typed
            && let Some(spec) = route
                .generation
                .description
                .commands
                .get(route.index as usize)
            && !spec.subcommands.is_empty()
            && let Some((path, rest)) = subcommand_path(spec, args)?
        {
            return Ok(table.command(&path).map(|leaf| Resolved {
                route: leaf.clone(),
                args: rest,
            }));
        }
        Ok(Some(Resolved {
            route: route.clone(),
            args: args.to_owned(),
        }))
    }

    /// Runs an admitted plugin command: counted, called on the plugin threads within its time
    /// limit, reported to the `command_executed` / `command_error` hooks.
    pub async fn run(
        &self,
        resolved: &Resolved,
        invocation: Invocation,
        args: Args,
        sink: Arc<dyn ReplySink>,
    ) -> CommandOutcome {
        self.commands_run.fetch_add(1, Ordering::Relaxed);
        let limit = self.shared.limits().command(&invocation.command);
        let result = call_command(&resolved.route, &invocation, &args, sink, limit).await;
        self.outcome(&resolved.route.generation, &invocation, result)
    }

    /// As [`Dispatcher::run`], without waiting: an in-process plugin's command is started on
    /// the plugin threads and `done` gets its outcome on the thread that finished it, so no
    /// thread of the host's runtime is woken for its end; an isolated plugin's is awaited on a
    /// task of its own.
    pub fn start(
        self: &Arc<Self>,
        resolved: &Resolved,
        invocation: Invocation,
        args: Args,
        sink: Arc<dyn ReplySink>,
        done: impl FnOnce(CommandOutcome) + Send + 'static,
    ) {
        let generation = &resolved.route.generation;
        if generation.is_isolated() {
            let (dispatcher, resolved) = (Arc::clone(self), resolved.clone());
            tokio::spawn(async move {
                done(dispatcher.run(&resolved, invocation, args, sink).await);
            });
            return;
        }
        self.commands_run.fetch_add(1, Ordering::Relaxed);
        let limit = self.shared.limits().command(&invocation.command);
        let call = Call::Command {
            index: resolved.route.index,
            invocation: &invocation,
            args: &args,
            sink,
        };
        let what = format!("command {}", invocation.command);
        let (dispatcher, finished, ran) =
            (Arc::clone(self), Arc::clone(generation), invocation.clone());
        let started = generation.start_call(call, what, limit, move |result| {
            done(dispatcher.outcome(&finished, &ran, result));
        });
        if let Err(error) = started {
            // Isolated since the check above (a reload): reported like any failed call.
            tracing::warn!(plugin = generation.name, %error, "command could not start");
        }
    }

    /// A finished command call as its outcome, reported to the command hooks.
    fn outcome(
        &self,
        generation: &Generation,
        invocation: &Invocation,
        result: Result<(), CallError>,
    ) -> CommandOutcome {
        let plugin = generation.name.clone();
        let generation_id = generation.id;
        self.command_finished(
            invocation,
            Some(&plugin),
            result.as_ref().err().map(ToString::to_string),
        );
        match result {
            Ok(()) => CommandOutcome::Done {
                plugin,
                generation: generation_id,
            },
            Err(CallError::TimedOut(limit)) => {
                tracing::warn!(plugin, command = %invocation.command, limit_s = limit.as_secs_f64(), "command ran past its time limit and was cancelled");
                CommandOutcome::TimedOut {
                    plugin,
                    generation: generation_id,
                    limit,
                }
            }
            Err(error) => CommandOutcome::Failed {
                plugin,
                generation: generation_id,
                error: error.into(),
            },
        }
    }

    /// Tells the `command_executed` (or, with an error, `command_error`) hooks that a command
    /// ran: a plugin's (`plugin`) or a built-in (`None`). The payload is only built when a hook
    /// listens (this runs for every command).
    pub fn command_finished(
        &self,
        invocation: &Invocation,
        plugin: Option<&str>,
        error: Option<String>,
    ) {
        self.commands_finished.fetch_add(1, Ordering::Relaxed);
        if let Some(error) = &error {
            self.commands_failed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut counts) = self.errors_by_command.lock() {
                *counts.entry(invocation.command.clone()).or_default() += 1;
            }
            if let Ok(mut recent) = self.recent_errors.lock() {
                if recent.len() == RECENT_ERRORS {
                    recent.pop_front();
                }
                recent.push_back(CommandErrorRecord {
                    at: std::time::SystemTime::now(),
                    command: invocation.command.clone(),
                    plugin: plugin.map(str::to_owned),
                    author: invocation.author.id.0,
                    error: error.clone(),
                });
            }
        }
        let event = match error {
            None => "command_executed",
            Some(_) => "command_error",
        };
        if self.table.load().hooks(event).is_empty() {
            return;
        }
        let mut payload = json!({
            "command_name": invocation.command,
            "author": invocation.author.id.0,
            "guild": invocation.guild_id.map(|g| g.0),
            "plugin": plugin,
            "builtin": plugin.is_none(),
        });
        if let Some(error) = error {
            payload["error"] = json!(error);
        }
        self.emit_in_background(event, payload);
    }

    /// Emits a framework event to hooks without waiting, if anyone listens.
    pub fn emit_in_background(&self, event: &str, payload: serde_json::Value) {
        if !self.hooks_enabled() || self.table.load().hooks(event).is_empty() {
            return;
        }
        let Some(dispatcher) = self.shared_dispatcher() else {
            return;
        };
        let event = event.to_owned();
        tokio::spawn(async move {
            dispatcher.emit(&event, payload).await;
        });
    }

    fn shared_dispatcher(&self) -> Option<Arc<Dispatcher>> {
        self.shared.dispatcher()
    }

    /// Delivers an event to every listener of its kind, concurrently; returns each result.
    pub async fn dispatch_event(&self, event: &Event) -> Vec<(String, Result<(), PluginError>)> {
        let routes: Vec<Route> = self.table.load().listeners(event.kind()).to_vec();
        let limit = self.shared.limits().listener;
        if routes.is_empty() {
            return Vec::new();
        }
        let what = format!("listener {:?}", event.kind());
        let names: Vec<String> = routes.iter().map(|r| r.generation.name.clone()).collect();
        let json = OnceLock::new();
        let calls = routes
            .into_iter()
            .map(|route| {
                let call = Call::Event {
                    index: route.index,
                    event,
                    json: &json,
                };
                (route.generation, call, what.clone())
            })
            .collect();
        let results: Vec<_> = names
            .into_iter()
            .zip(Generation::call_all(calls, limit).await)
            .map(|(plugin, result)| (plugin, result.map_err(PluginError::from)))
            .collect();
        for (plugin, result) in &results {
            if let Err(error) = result {
                tracing::warn!(plugin, event = ?event.kind(), %error, "listener failed");
            }
        }
        results
    }

    /// Delivers an event to every listener of its kind without waiting (what the gateway does
    /// with each event): the in-process listeners go to the plugin threads as one job, whose
    /// last call logs the failures there, so nothing on the host's runtime waits for them; the
    /// isolated ones are awaited on a task of their own.
    pub fn deliver_event(&self, event: Event) {
        let routes: Vec<Route> = self.table.load().listeners(event.kind()).to_vec();
        if routes.is_empty() {
            return;
        }
        let limit = self.shared.limits().listener;
        let kind = event.kind();
        let what = format!("listener {kind:?}");
        let mut pool = None;
        let (mut names, mut calls, mut isolated) = (Vec::new(), Vec::new(), Vec::new());
        let json = OnceLock::new();
        for route in routes {
            let call = Call::Event {
                index: route.index,
                event: &event,
                json: &json,
            };
            match route.generation.prepare(call, what.clone()) {
                None => isolated.push(route),
                Some(Ok((threads, label, future))) => {
                    pool.get_or_insert(threads);
                    names.push(route.generation.name.clone());
                    calls.push((label, future));
                }
                Some(Err(error)) => {
                    let plugin = &route.generation.name;
                    tracing::warn!(plugin, event = ?kind, %error, "listener failed");
                }
            }
        }
        if let Some(pool) = pool {
            let counted = pool.clone();
            pool.start_all(calls, limit, move |results| {
                for (plugin, result) in names.iter().zip(results) {
                    if let Err(error) = Generation::outcome(result, None) {
                        counted.record_error(plugin);
                        tracing::warn!(plugin, event = ?kind, %error, "listener failed");
                    }
                }
            });
        }
        if !isolated.is_empty() {
            tokio::spawn(async move {
                let json = OnceLock::new();
                let calls = isolated
                    .into_iter()
                    .map(|route| {
                        let call = Call::Event {
                            index: route.index,
                            event: &event,
                            json: &json,
                        };
                        (route.generation, call, what.clone())
                    })
                    .collect::<Vec<_>>();
                let names: Vec<String> = calls.iter().map(|(g, _, _)| g.name.clone()).collect();
                for (plugin, result) in names.iter().zip(Generation::call_all(calls, limit).await) {
                    if let Err(error) = result {
                        tracing::warn!(plugin, event = ?kind, %error, "listener failed");
                    }
                }
            });
        }
    }

    /// Runs every hook on `name`, highest priority first, each with a time limit
    /// (`limits.hook_seconds`) and a circuit breaker (see [`HookHealth`]); returns how many ran
    /// successfully.
    pub async fn emit(&self, name: &str, payload: serde_json::Value) -> u32 {
        if !self.hooks_enabled() {
            return 0;
        }
        let hooks = self.table.load().hooks(name).to_vec();
        let event = HookEvent {
            name: name.to_owned(),
            payload,
        };
        let mut ran = 0;
        let limit = self.shared.limits().hook;
        for hook in hooks {
            let generation = hook.route.generation;
            let id: HookId = (generation.name.clone(), name.to_owned(), hook.route.index);
            if !self.hook_health.allow(&id, Instant::now()) {
                continue;
            }
            let plugin = generation.name.clone();
            let started = Instant::now();
            let call = Call::Hook {
                index: hook.route.index,
                event: &event,
            };
            let error = match generation.call(call, format!("hook {name}"), limit).await {
                Ok(()) => {
                    ran += 1;
                    None
                }
                Err(error) => {
                    tracing::warn!(plugin, hook = name, %error, "hook failed");
                    Some(error.to_string())
                }
            };
            let failed = error.clone();
            let recorded = self
                .hook_health
                .record(&id, started.elapsed(), error, Instant::now());
            if recorded == Recorded::CircuitOpened {
                let hook = hook_name(&id);
                self.alerts.raise(
                    crate::alerts::Topic::Hooks,
                    &hook,
                    &format!(
                        "⚠️ Circuit breaker opened for `{hook}`: {FAILURE_THRESHOLD} failures within 5 minutes, skipped for {}s.\nLast error: {}",
                        OPEN_FOR.as_secs(),
                        failed.as_deref().unwrap_or("unknown")
                    ),
                    zoryx_plugin_api::palette::WARNING,
                );
            }
        }
        ran
    }

    /// Routes a component click or choice to the plugin that registered its `custom_id` prefix.
    /// `None` when no loaded plugin handles it.
    pub async fn component(
        &self,
        interaction: &Interaction,
        invocation: &Invocation,
        sink: Arc<dyn ReplySink>,
    ) -> Option<Result<(), CallError>> {
        let route = self.table.load().component(&interaction.name).cloned()?;
        let call = Call::Component {
            index: route.index,
            invocation,
            interaction,
            sink,
        };
        let what = format!("component {}", interaction.name);
        let limit = self.shared.limits().command;
        Some(route.generation.call(call, what, limit).await)
    }

    /// Asks the autocomplete handler of the option being typed for suggestions; they go to
    /// `sink` as [`CallAction::Autocomplete`](zoryx_plugin_api::CallAction::Autocomplete).
    /// `None` when no loaded plugin serves that option. The call has a command's time limit;
    /// the Discord layer answers without suggestions at [`AUTOCOMPLETE_DEADLINE`] if the
    /// handler has not answered by then (Discord waits 3 s).
    pub async fn autocomplete(
        &self,
        request: &AutocompleteRequest,
        sink: Arc<dyn ReplySink>,
    ) -> Option<Result<(), CallError>> {
        let route = self
            .table
            .load()
            .autocomplete(&request.command, &request.option)
            .cloned()?;
        let limit = self.shared.limits().command(&request.command);
        let what = format!("autocomplete {} {}", request.command, request.option);
        Some(
            self.call_extra(
                &route,
                extra::kind::AUTOCOMPLETE,
                request,
                Some(sink),
                what,
                limit,
            )
            .await,
        )
    }

    /// Routes a modal submission to the plugin that registered its `custom_id` prefix.
    /// `None` when no loaded plugin handles it.
    pub async fn modal(
        &self,
        submit: &ModalSubmit,
        sink: Arc<dyn ReplySink>,
    ) -> Option<Result<(), CallError>> {
        let route = self.table.load().modal(&submit.custom_id).cloned()?;
        let limit = self.shared.limits().command;
        let what = format!("modal {}", submit.custom_id);
        Some(
            self.call_extra(&route, extra::kind::MODAL, submit, Some(sink), what, limit)
                .await,
        )
    }

    /// Runs the context menu command of `kind` named `call.invocation.command`. `None` when
    /// no loaded plugin registered it.
    pub async fn context_menu(
        &self,
        kind: ContextMenuKind,
        call: &MenuCall,
        sink: Arc<dyn ReplySink>,
    ) -> Option<Result<(), CallError>> {
        let name = &call.invocation.command;
        let route = self.table.load().context_menu(kind, name).cloned()?;
        let limit = self.shared.limits().command(name);
        let what = format!("context menu {name}");
        Some(
            self.call_extra(
                &route,
                extra::kind::CONTEXT_MENU,
                call,
                Some(sink),
                what,
                limit,
            )
            .await,
        )
    }

    /// The dashboard panels of every loaded plugin: `(plugin, spec)`, by plugin name, in
    /// registration order. Panels whose id is not a panel id are left out.
    pub fn panels(&self) -> Vec<(String, zoryx_plugin_api::panel::PanelSpec)> {
        let table = self.table.load();
        table
            .plugins
            .iter()
            .flat_map(|(name, generation)| {
                generation
                    .description
                    .extras
                    .panels
                    .iter()
                    .filter(|spec| zoryx_plugin_api::panel::PanelSpec::valid_id(&spec.id))
                    .map(move |spec| (name.clone(), spec.clone()))
            })
            .collect()
    }

    /// Asks `plugin`'s panel `request.panel` for its page (taking `request.action` first, if
    /// any). `None` when no loaded plugin of that name has that panel. The call has a command's
    /// time limit.
    pub async fn panel(
        &self,
        plugin: &str,
        request: &zoryx_plugin_api::panel::PanelRequest,
    ) -> Option<Result<zoryx_plugin_api::panel::Panel, CallError>> {
        let route = {
            let table = self.table.load();
            let generation = table.plugins.get(plugin)?;
            let index = generation
                .description
                .extras
                .panels
                .iter()
                .position(|spec| spec.id == request.panel)?;
            Route {
                generation: Arc::clone(generation),
                index: u32::try_from(index).ok()?,
            }
        };
        let sink = Arc::new(PanelSink::default());
        let what = format!("panel {plugin}/{}", request.panel);
        let limit = self.shared.limits().command;
        let called = self
            .call_extra(
                &route,
                extra::kind::PANEL,
                request,
                Some(Arc::clone(&sink) as Arc<dyn ReplySink>),
                what,
                limit,
            )
            .await;
        Some(called.and_then(|()| {
            sink.page
                .lock()
                .ok()
                .and_then(|mut page| page.take())
                .ok_or_else(|| {
                    CallError::Plugin(PluginError::Internal(
                        "the panel handler returned no page".into(),
                    ))
                })
        }))
    }

    async fn call_extra(
        &self,
        route: &Route,
        kind: &str,
        input: &impl serde::Serialize,
        sink: Option<Arc<dyn ReplySink>>,
        what: String,
        limit: Duration,
    ) -> Result<(), CallError> {
        let input = serde_json::to_string(input).map_err(|e| CallError::Plugin(e.into()))?;
        let call = Call::Extra {
            kind,
            index: route.index,
            input,
            sink,
        };
        route.generation.call(call, what, limit).await
    }

    /// Starts the scheduled tasks of a generation; they stop when it is retired.
    pub(crate) fn start_tasks(&self, generation: &Arc<Generation>) {
        let limit = self.shared.limits().task;
        for (index, (task, period)) in generation.description.tasks.iter().enumerate() {
            let weak = Arc::downgrade(generation);
            let cancel = generation.cancel.clone();
            let period = (*period).max(Duration::from_millis(10));
            let task = task.clone();
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            tokio::spawn(async move {
                let mut ticker =
                    tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        _ = ticker.tick() => {}
                    }
                    let Some(generation) = weak.upgrade() else {
                        break;
                    };
                    let call = Call::Task { index };
                    if let Err(error) = generation.call(call, format!("task {task}"), limit).await {
                        tracing::warn!(plugin = %generation.name, task, %error, "scheduled task failed");
                    }
                }
            });
        }
        let base = generation.description.tasks.len();
        for (i, task) in generation.description.extras.cron.iter().enumerate() {
            let Ok(cron) = zoryx_plugin_api::Cron::parse(&task.cron) else {
                continue; // refused at load; never here
            };
            let index = u32::try_from(base + i).unwrap_or(u32::MAX);
            let weak = Arc::downgrade(generation);
            let cancel = generation.cancel.clone();
            let shared = Arc::clone(&self.shared);
            let task = task.clone();
            tokio::spawn(async move {
                let plugin = match weak.upgrade() {
                    Some(generation) => generation.name.clone(),
                    None => return,
                };
                let now = crate::clock::now();
                // A run missed while the bot was down (or the plugin unloaded) runs once now.
                let mut missed = false;
                if task.catch_up {
                    match shared.last_run(&plugin, &task.name).await {
                        Some(last) => missed = cron.next_after(last).is_some_and(|due| due <= now),
                        None => shared.record_run(&plugin, &task.name, now).await,
                    }
                }
                // The moment of the last run (or the start): the next run is the schedule's
                // next after it, so a run that lasts past the following minute delays that
                // minute's run instead of skipping it. Several minutes passed in one run (or a
                // clock moved forward) make one run, not one per minute.
                let mut last = now;
                loop {
                    if !missed {
                        let Some(mut due) = cron.next_after(last) else {
                            tracing::warn!(
                                plugin,
                                task = task.name,
                                cron = task.cron,
                                "the cron task never runs again"
                            );
                            break;
                        };
                        let now = crate::clock::now();
                        while let Some(later) = cron.next_after(due).filter(|t| *t <= now) {
                            due = later;
                        }
                        tokio::select! {
                            () = cancel.cancelled() => break,
                            () = crate::clock::sleep_until(due) => {}
                        }
                        last = due;
                    } else {
                        last = crate::clock::now();
                    }
                    missed = false;
                    let Some(generation) = weak.upgrade() else {
                        break;
                    };
                    if task.catch_up {
                        shared
                            .record_run(&plugin, &task.name, crate::clock::now())
                            .await;
                    }
                    let call = Call::Task { index };
                    let what = format!("task {}", task.name);
                    if let Err(error) = generation.call(call, what, limit).await {
                        tracing::warn!(plugin, task = task.name, %error, "scheduled task failed");
                    }
                }
            });
        }
    }
}
