//! The [`Plugin`] trait and the [`Registrar`] a plugin declares its handlers with.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::args::CommandArgs;
use crate::command::CommandSpec;
use crate::context::{CommandContext, ComponentContext, Host, PluginContext};
use crate::error::PluginResult;
use crate::ffi::types::{CommandSpecFfi, DescriptionFfi, HookSpecFfi, ManifestFfi, TaskSpecFfi};
use crate::manifest::Manifest;
use crate::model::{Event, EventKind, HookEvent};

/// A plugin: a plain Rust type, its manifest, its handlers and how to build it.
///
/// Export it with [`export_plugin!`](crate::export_plugin). Handlers are ordinary `async fn`s
/// taking a context; the host owns everything registered, so unloading the plugin cancels all of
/// it.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::time::Duration;
/// use zoryx_plugin_api::prelude::*;
///
/// #[derive(Default)]
/// pub struct Greeter {
///     greeted: AtomicU64,
/// }
///
/// impl Plugin for Greeter {
///     fn manifest() -> Manifest {
///         Manifest::new("greeter", "0.1.0").author("You").description("Says hello")
///     }
///
///     fn register(plugin: &mut Registrar<Self>) {
///         plugin.command(
///             CommandSpec::new("hello").description("Greets someone").arg(Arg::user("who").optional()),
///             hello,
///         );
///         plugin.listen(EventKind::MemberJoin, welcome);
///         plugin.hook("command_executed", 0, count);
///         plugin.every("report", Duration::from_secs(3600), report);
///     }
///
///     async fn init(_host: Host) -> PluginResult<Self> {
///         Ok(Self::default())
///     }
/// }
///
/// async fn hello(ctx: CommandContext<Greeter>) -> PluginResult {
///     let who: Option<UserId> = ctx.arg("who")?;
///     let who = who.unwrap_or(ctx.author().id);
///     ctx.data().greeted.fetch_add(1, Ordering::Relaxed);
///     ctx.reply(format!("Hello, {}!", who.mention())).await?;
///     Ok(())
/// }
///
/// async fn welcome(ctx: PluginContext<Greeter>, event: Event) -> PluginResult {
///     if let Event::MemberJoin(member) = event {
///         ctx.info(format!("{} joined", member.user.name));
///     }
///     Ok(())
/// }
///
/// async fn count(ctx: PluginContext<Greeter>, event: HookEvent) -> PluginResult {
///     ctx.debug(format!("{} ran", event.payload["command_name"]));
///     Ok(())
/// }
///
/// async fn report(ctx: PluginContext<Greeter>) -> PluginResult {
///     ctx.info(format!("greeted {} people", ctx.data().greeted.load(Ordering::Relaxed)));
///     Ok(())
/// }
///
/// zoryx_plugin_api::export_plugin!(Greeter);
/// ```
pub trait Plugin: Send + Sync + Sized + 'static {
    /// Who the plugin is. Called before anything else, also by `zoryx plugins check`.
    fn manifest() -> Manifest;

    /// Declares commands, listeners, hooks, tasks and component handlers.
    ///
    /// It must declare the same things every time it is called: the host indexes them.
    fn register(plugin: &mut Registrar<Self>);

    /// Builds the plugin's state. A returned error (or a panic) refuses the load with its
    /// message.
    fn init(host: Host) -> impl Future<Output = PluginResult<Self>> + Send;

    /// Runs when this instance is retired (unload, or replaced by a reload).
    fn shutdown(&self, host: Host) -> impl Future<Output = PluginResult> + Send {
        let _ = host;
        async { Ok(()) }
    }
}

/// A boxed handler future.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = PluginResult> + Send>>;
pub(crate) type CommandHandler<P> = Box<dyn Fn(CommandContext<P>) -> HandlerFuture + Send + Sync>;
pub(crate) type EventHandler<P> =
    Box<dyn Fn(PluginContext<P>, Event) -> HandlerFuture + Send + Sync>;
pub(crate) type HookHandler<P> =
    Box<dyn Fn(PluginContext<P>, HookEvent) -> HandlerFuture + Send + Sync>;
pub(crate) type TaskHandler<P> = Box<dyn Fn(PluginContext<P>) -> HandlerFuture + Send + Sync>;
pub(crate) type ComponentHandler<P> =
    Box<dyn Fn(ComponentContext<P>) -> HandlerFuture + Send + Sync>;

/// Collects what a plugin registers in [`Plugin::register`].
pub struct Registrar<P> {
    pub(crate) commands: Vec<(CommandSpec, CommandHandler<P>)>,
    pub(crate) listeners: Vec<(EventKind, EventHandler<P>)>,
    pub(crate) hooks: Vec<(String, i32, HookHandler<P>)>,
    pub(crate) tasks: Vec<(String, Duration, TaskHandler<P>)>,
    pub(crate) components: Vec<(String, ComponentHandler<P>)>,
    /// Listeners of event kinds added in 1.3 or later (called through `call_extra`).
    pub(crate) extra_listeners: Vec<(EventKind, EventHandler<P>)>,
    /// Tasks on cron schedules (called through `call_extra`).
    pub(crate) cron_tasks: Vec<(crate::ffi::extra::CronTask, TaskHandler<P>)>,
}

impl<P: Plugin> Registrar<P> {
    pub(crate) fn collect() -> Self {
        let mut registrar = Self {
            commands: Vec::new(),
            listeners: Vec::new(),
            hooks: Vec::new(),
            tasks: Vec::new(),
            components: Vec::new(),
            extra_listeners: Vec::new(),
            cron_tasks: Vec::new(),
        };
        P::register(&mut registrar);
        registrar
    }

    /// Registers a command and its handler.
    pub fn command<F, Fut>(&mut self, spec: CommandSpec, handler: F) -> &mut Self
    where
        F: Fn(CommandContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.commands
            .push((spec, Box::new(move |ctx| Box::pin(handler(ctx)))));
        self
    }

    /// Registers a command whose arguments are the struct `A` (see [`CommandArgs`]): they are
    /// declared from its fields (after any `spec` already has), and the handler gets them read
    /// into it.
    ///
    /// ```
    /// use zoryx_plugin_api::prelude::*;
    ///
    /// #[derive(CommandArgs)]
    /// struct Repeat {
    ///     /// How many times.
    ///     times: i64,
    ///     /// What to say.
    ///     #[arg(rest)]
    ///     text: String,
    /// }
    ///
    /// struct Echo;
    ///
    /// impl Plugin for Echo {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("echo", "0.1.0")
    ///     }
    ///
    ///     fn register(plugin: &mut Registrar<Self>) {
    ///         plugin.command_with(
    ///             CommandSpec::new("repeat"),
    ///             |ctx: CommandContext<Echo>, args: Repeat| async move {
    ///                 let count = usize::try_from(args.times.clamp(1, 5)).unwrap_or(1);
    ///                 ctx.reply(vec![args.text.as_str(); count].join(" ")).await?;
    ///                 Ok(())
    ///             },
    ///         );
    ///     }
    ///
    ///     async fn init(_host: Host) -> PluginResult<Self> {
    ///         Ok(Echo)
    ///     }
    /// }
    /// ```
    pub fn command_with<A, F, Fut>(&mut self, spec: CommandSpec, handler: F) -> &mut Self
    where
        A: CommandArgs + Send + 'static,
        F: Fn(CommandContext<P>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        let spec = A::declare().into_iter().fold(spec, CommandSpec::arg);
        self.command(spec, move |ctx: CommandContext<P>| {
            let call = A::parse(ctx.args()).map(|args| handler(ctx, args));
            async move { call?.await }
        })
    }

    /// Registers a listener for one kind of event.
    pub fn listen<F, Fut>(&mut self, kind: EventKind, handler: F) -> &mut Self
    where
        F: Fn(PluginContext<P>, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        let handler: EventHandler<P> = Box::new(move |ctx, event| Box::pin(handler(ctx, event)));
        if kind.is_extra() {
            self.extra_listeners.push((kind, handler));
        } else {
            self.listeners.push((kind, handler));
        }
        self
    }

    /// Registers a hook on a named framework event (`bot_ready`, `command_executed`,
    /// `extension_loaded`, or a custom one). Higher priority runs first.
    pub fn hook<F, Fut>(&mut self, event: impl Into<String>, priority: i32, handler: F) -> &mut Self
    where
        F: Fn(PluginContext<P>, HookEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.hooks.push((
            event.into(),
            priority,
            Box::new(move |ctx, event| Box::pin(handler(ctx, event))),
        ));
        self
    }

    /// Registers a task the host runs every `period` while the plugin is loaded.
    pub fn every<F, Fut>(
        &mut self,
        name: impl Into<String>,
        period: Duration,
        handler: F,
    ) -> &mut Self
    where
        F: Fn(PluginContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.tasks.push((
            name.into(),
            period,
            Box::new(move |ctx| Box::pin(handler(ctx))),
        ));
        self
    }

    /// Registers the handler for components whose `custom_id` starts with `prefix`.
    pub fn component<F, Fut>(&mut self, prefix: impl Into<String>, handler: F) -> &mut Self
    where
        F: Fn(ComponentContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.components
            .push((prefix.into(), Box::new(move |ctx| Box::pin(handler(ctx)))));
        self
    }

    /// Registers a task the host runs on a cron schedule (five fields, UTC; see [`Cron`](crate::Cron))
    /// while the plugin is loaded. With `catch_up`, a run missed while the bot was down (or the
    /// plugin unloaded) happens once when it is back; the host keeps the time of the last run.
    /// An expression that does not parse refuses the load, naming the task.
    ///
    /// ```
    /// # use zoryx_plugin_api::prelude::*;
    /// # struct Reports;
    /// # fn register(plugin: &mut Registrar<Reports>) {
    /// plugin.cron("weekly-report", "0 9 * * mon", true, |ctx: PluginContext<Reports>| async move {
    ///     ctx.info("Monday, 09:00 UTC: time for the weekly report");
    ///     Ok(())
    /// });
    /// # }
    /// # impl Plugin for Reports {
    /// #     fn manifest() -> Manifest { Manifest::new("reports", "0.1.0") }
    /// #     fn register(plugin: &mut Registrar<Self>) { register(plugin) }
    /// #     async fn init(_host: Host) -> PluginResult<Self> { Ok(Reports) }
    /// # }
    /// ```
    pub fn cron<F, Fut>(
        &mut self,
        name: impl Into<String>,
        cron: impl Into<String>,
        catch_up: bool,
        handler: F,
    ) -> &mut Self
    where
        F: Fn(PluginContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        let task = crate::ffi::extra::CronTask {
            name: name.into(),
            cron: cron.into(),
            catch_up,
        };
        self.cron_tasks
            .push((task, Box::new(move |ctx| Box::pin(handler(ctx)))));
        self
    }

    /// Registers a component handler for the buttons and menus carrying a `T` (see
    /// [`CustomId`](crate::CustomId)); the handler gets the value read back. An id that does not
    /// read as `T` fails the call with an error naming it.
    pub fn on_click<T, F, Fut>(&mut self, handler: F) -> &mut Self
    where
        T: crate::typed::CustomId + Send + 'static,
        F: Fn(ComponentContext<P>, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.component(
            format!("{}:", T::PREFIX),
            move |ctx: ComponentContext<P>| {
                let call =
                    T::from_custom_id(&ctx.interaction().name).map(|value| handler(ctx, value));
                async move { call?.await }
            },
        )
    }

    /// Registers a hook on `T`'s event (see [`HookPayload`](crate::HookPayload)); the handler
    /// gets the payload read as `T`.
    pub fn on_hook<T, F, Fut>(&mut self, priority: i32, handler: F) -> &mut Self
    where
        T: crate::typed::HookPayload + Send + 'static,
        F: Fn(PluginContext<P>, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.hook(
            T::EVENT,
            priority,
            move |ctx: PluginContext<P>, event: HookEvent| {
                let call = serde_json::from_value::<T>(event.payload)
                    .map_err(|e| {
                        crate::error::PluginError::Internal(format!(
                            "`{}` payload does not read as its type: {e}",
                            T::EVENT
                        ))
                    })
                    .map(|payload| handler(ctx, payload));
                async move { call?.await }
            },
        )
    }

    pub(crate) fn extras(&self) -> crate::ffi::extra::Extras {
        crate::ffi::extra::Extras {
            listeners: self.extra_listeners.iter().map(|(kind, _)| *kind).collect(),
            cron: self
                .cron_tasks
                .iter()
                .map(|(task, _)| task.clone())
                .collect(),
        }
    }

    pub(crate) fn describe(&self, manifest: &Manifest) -> DescriptionFfi {
        DescriptionFfi {
            manifest: ManifestFfi::from(manifest),
            commands: self
                .commands
                .iter()
                .map(|(spec, _)| CommandSpecFfi::from(spec))
                .collect(),
            listeners: self.listeners.iter().map(|(kind, _)| *kind as u8).collect(),
            hooks: self
                .hooks
                .iter()
                .map(|(event, priority, _)| HookSpecFfi {
                    event: event.as_str().into(),
                    priority: *priority,
                })
                .collect(),
            tasks: self
                .tasks
                .iter()
                .map(|(name, period, _)| TaskSpecFfi {
                    name: name.as_str().into(),
                    every_ms: u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
                })
                .collect(),
            components: self
                .components
                .iter()
                .map(|(prefix, _)| prefix.as_str().into())
                .collect(),
        }
    }
}
