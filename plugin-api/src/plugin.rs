//! The [`Plugin`] trait and the [`Registrar`] a plugin declares its handlers with.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::args::CommandArgs;
use crate::command::{Arg, Choice, CommandSpec};
use crate::context::{
    AutocompleteContext, CommandContext, ComponentContext, ContextMenuContext, Host, ModalContext,
    PluginContext,
};
use crate::error::{PluginError, PluginResult};
use crate::ffi::extra::AutocompleteSpec;
use crate::ffi::types::{CommandSpecFfi, DescriptionFfi, HookSpecFfi, ManifestFfi, TaskSpecFfi};
use crate::guild::ChannelMessage;
use crate::interaction::{ContextMenu, ContextMenuKind, MenuTarget, TargetUser};
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
pub(crate) type ChoicesFuture = Pin<Box<dyn Future<Output = PluginResult<Vec<Choice>>> + Send>>;
pub(crate) type AutocompleteHandler<P> =
    Box<dyn Fn(AutocompleteContext<P>) -> ChoicesFuture + Send + Sync>;
pub(crate) type ModalHandler<P> = Box<dyn Fn(ModalContext<P>) -> HandlerFuture + Send + Sync>;
pub(crate) type PanelFuture =
    Pin<Box<dyn Future<Output = PluginResult<crate::panel::Panel>> + Send>>;
pub(crate) type PanelHandler<P> =
    Box<dyn Fn(crate::panel::PanelContext<P>) -> PanelFuture + Send + Sync>;
pub(crate) type MenuHandler<P> =
    Box<dyn Fn(ContextMenuContext<P, MenuTarget>) -> HandlerFuture + Send + Sync>;

/// Collects what a plugin registers in [`Plugin::register`].
pub struct Registrar<P> {
    pub(crate) commands: Vec<(CommandSpec, CommandHandler<P>)>,
    pub(crate) hooks: Vec<(String, i32, HookHandler<P>)>,
    pub(crate) tasks: Vec<(String, Duration, TaskHandler<P>)>,
    pub(crate) components: Vec<(String, ComponentHandler<P>)>,
    /// Every listener, of any kind: from 1.3 on, events travel as JSON (through
    /// `call_extra`), so they can carry what the 1.0 layout has no place for.
    pub(crate) extra_listeners: Vec<(EventKind, EventHandler<P>)>,
    /// Tasks on cron schedules (called through `call_extra`).
    pub(crate) cron_tasks: Vec<(crate::ffi::extra::CronTask, TaskHandler<P>)>,
    /// The keys of the plugin's config section.
    pub(crate) settings: Vec<crate::settings::Setting>,
    /// Subcommand handlers by path, with arguments declared by a typed struct; moved to
    /// `commands` (flattened) once registration is over.
    pub(crate) subcommands: Vec<(String, Vec<Arg>, CommandHandler<P>)>,
    /// Autocomplete handlers (called through `call_extra`).
    pub(crate) autocompletes: Vec<(AutocompleteSpec, AutocompleteHandler<P>)>,
    /// Modal submission handlers by `custom_id` prefix (called through `call_extra`).
    pub(crate) modals: Vec<(String, ModalHandler<P>)>,
    /// Context menu commands (called through `call_extra`).
    pub(crate) context_menus: Vec<(ContextMenu, MenuHandler<P>)>,
    /// Dashboard panels (called through `call_extra`).
    pub(crate) panels: Vec<(crate::panel::PanelSpec, PanelHandler<P>)>,
    /// What does not fit together (a subcommand without a handler...): `describe` fails with
    /// it.
    pub(crate) problems: Vec<String>,
}

impl<P: Plugin> Registrar<P> {
    pub(crate) fn collect() -> Self {
        let mut registrar = Self {
            commands: Vec::new(),
            hooks: Vec::new(),
            tasks: Vec::new(),
            components: Vec::new(),
            extra_listeners: Vec::new(),
            cron_tasks: Vec::new(),
            settings: Vec::new(),
            subcommands: Vec::new(),
            autocompletes: Vec::new(),
            modals: Vec::new(),
            context_menus: Vec::new(),
            panels: Vec::new(),
            problems: Vec::new(),
        };
        P::register(&mut registrar);
        registrar.flatten_subcommands();
        registrar.mark_autocompletes();
        registrar
    }

    /// Subcommand handlers become commands named by their path (`config set`), after every
    /// top-level command, in registration order: each is called with its own arguments. Its
    /// kind is its command's, its permission the higher of both, its default permissions and
    /// DM use its command's.
    fn flatten_subcommands(&mut self) {
        for (path, typed, handler) in std::mem::take(&mut self.subcommands) {
            let words: Vec<&str> = path.split_whitespace().collect();
            let Some((root_name, below)) = words.split_first() else {
                self.problems
                    .push("a subcommand has an empty path".to_owned());
                continue;
            };
            let Some(root) = self
                .commands
                .iter_mut()
                .map(|(spec, _)| spec)
                .find(|spec| spec.name.eq_ignore_ascii_case(root_name))
            else {
                self.problems.push(format!(
                    "subcommand `{path}`: there is no command `{root_name}`"
                ));
                continue;
            };
            let (kind, permission, default_permissions, dm) = (
                root.kind,
                root.permission,
                root.default_permissions,
                root.dm,
            );
            let Some(leaf) = find_mut(root, below) else {
                self.problems.push(format!(
                    "subcommand `{path}` is not declared with `CommandSpec::subcommand`"
                ));
                continue;
            };
            if !leaf.subcommands.is_empty() {
                self.problems.push(format!(
                    "`{path}` is a group: register handlers for its subcommands"
                ));
                continue;
            }
            leaf.args.extend(typed);
            let mut spec = leaf.clone();
            spec.name = words.join(" ");
            spec.kind = kind;
            spec.permission = spec.permission.max(permission);
            spec.default_permissions = default_permissions;
            spec.dm = dm;
            self.commands.push((spec, handler));
        }
        let mut missing = Vec::new();
        for (spec, _) in &self.commands {
            if spec.name.contains(' ') {
                continue;
            }
            leaves(spec, &spec.name, &mut missing);
        }
        for path in missing {
            let handled = self
                .commands
                .iter()
                .any(|(spec, _)| spec.name.eq_ignore_ascii_case(&path));
            if !handled {
                self.problems.push(format!(
                    "subcommand `{path}` has no handler (`Registrar::subcommand`)"
                ));
            }
        }
    }

    /// Marks the options autocomplete handlers serve, and checks each marked option has one.
    fn mark_autocompletes(&mut self) {
        for (target, _) in &self.autocompletes {
            let words: Vec<&str> = target.command.split_whitespace().collect();
            let mut found = false;
            for (spec, _) in &mut self.commands {
                if spec.name.eq_ignore_ascii_case(&words.join(" ")) {
                    for arg in spec.args.iter_mut().filter(|a| a.name == target.option) {
                        arg.autocomplete = true;
                        found = true;
                    }
                }
                // The declaration under its command, for the slash registration.
                if let Some((root, below)) = words.split_first()
                    && !below.is_empty()
                    && spec.name.eq_ignore_ascii_case(root)
                    && let Some(leaf) = find_mut(spec, below)
                {
                    for arg in leaf.args.iter_mut().filter(|a| a.name == target.option) {
                        arg.autocomplete = true;
                    }
                }
            }
            if !found {
                self.problems.push(format!(
                    "autocomplete for `{}`: it has no option `{}`",
                    target.command, target.option
                ));
            }
        }
        for (spec, _) in &self.commands {
            for arg in spec.args.iter().filter(|a| a.autocomplete) {
                let served = self.autocompletes.iter().any(|(t, _)| {
                    t.command.eq_ignore_ascii_case(&spec.name) && t.option == arg.name
                });
                if !served {
                    self.problems.push(format!(
                        "option `{}` of `{}` autocompletes but has no handler \
                         (`Registrar::autocomplete`)",
                        arg.name, spec.name
                    ));
                }
            }
        }
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

    /// Registers a listener for one kind of event (see [`Event`] for what each kind carries).
    /// A listener failing does not keep the event from the others.
    ///
    /// ```
    /// use zoryx_plugin_api::prelude::*;
    ///
    /// struct Lobby;
    ///
    /// impl Plugin for Lobby {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("lobby", "0.1.0")
    ///     }
    ///
    ///     fn register(plugin: &mut Registrar<Self>) {
    ///         plugin
    ///             .listen(EventKind::ReactionAdd, |ctx: PluginContext<Lobby>, event| async move {
    ///                 if let Event::ReactionAdd(reaction) = event
    ///                     && reaction.is("👋")
    ///                 {
    ///                     ctx.info(format!("{} waved", reaction.user_id));
    ///                 }
    ///                 Ok(())
    ///             })
    ///             .listen(EventKind::VoiceStateUpdate, |ctx: PluginContext<Lobby>, event| async move {
    ///                 if let Event::VoiceStateUpdate(voice) = event
    ///                     && let Some(channel) = voice.joined()
    ///                 {
    ///                     ctx.info(format!("{} joined {}", voice.user_id, channel.mention()));
    ///                 }
    ///                 Ok(())
    ///             });
    ///     }
    ///
    ///     async fn init(_host: Host) -> PluginResult<Self> {
    ///         Ok(Lobby)
    ///     }
    /// }
    /// ```
    pub fn listen<F, Fut>(&mut self, kind: EventKind, handler: F) -> &mut Self
    where
        F: Fn(PluginContext<P>, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        // Every listener goes through 1.3's JSON path, whatever its kind; the 1.0 list of the
        // description stays empty.
        let handler: EventHandler<P> = Box::new(move |ctx, event| Box::pin(handler(ctx, event)));
        self.extra_listeners.push((kind, handler));
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

    /// Describes one key of the plugin's own config section, `plugins.<name>` in `config.json`
    /// (plugin-api 1.3): the host lists it in `fw_config_schema`, checks the section against
    /// it in `fw_config_validate`, refuses a `fw_config_set` that breaks it, and never shows a
    /// secret's value. The plugin still reads its section itself (`ctx.host().config()`); a
    /// key described twice fails the load.
    ///
    /// ```
    /// # use zoryx_plugin_api::prelude::*;
    /// # struct Polls;
    /// # fn register(plugin: &mut Registrar<Polls>) {
    /// plugin
    ///     .setting(Setting::integer("max_open").range(1, 50).default(10).description("Open polls per guild"))
    ///     .setting(Setting::text("webhook_token").secret());
    /// # }
    /// # impl Plugin for Polls {
    /// #     fn manifest() -> Manifest { Manifest::new("polls", "0.1.0") }
    /// #     fn register(plugin: &mut Registrar<Self>) { register(plugin) }
    /// #     async fn init(_host: Host) -> PluginResult<Self> { Ok(Polls) }
    /// # }
    /// ```
    pub fn setting(&mut self, setting: crate::settings::Setting) -> &mut Self {
        if self.settings.iter().any(|s| s.key == setting.key) {
            self.problems.push(format!(
                "config setting `{}` is described twice",
                setting.key
            ));
        } else {
            self.settings.push(setting);
        }
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

    /// Registers the handler of subcommand `path` (`"config set"`, `"config role add"`),
    /// declared on its command with [`CommandSpec::subcommand`]; it gets the subcommand's own
    /// arguments (plugin-api 1.3). `!config set colour red` and `/config set` both call it.
    /// The command's own handler runs for `!config` alone.
    ///
    /// ```
    /// use zoryx_plugin_api::prelude::*;
    ///
    /// struct Settings;
    ///
    /// impl Plugin for Settings {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("settings", "0.1.0")
    ///     }
    ///
    ///     fn register(plugin: &mut Registrar<Self>) {
    ///         plugin
    ///             .command(
    ///                 CommandSpec::new("config")
    ///                     .description("Server settings")
    ///                     .default_permissions(Permissions::MANAGE_GUILD)
    ///                     .subcommand(CommandSpec::new("show").description("Show them"))
    ///                     .subcommand(
    ///                         CommandSpec::new("set")
    ///                             .description("Change one")
    ///                             .arg(Arg::text("key").choices(["colour", "size"]))
    ///                             .arg(Arg::rest("value")),
    ///                     ),
    ///                 |ctx: CommandContext<Settings>| async move {
    ///                     ctx.reply("Try `config show` or `config set`.").await?;
    ///                     Ok(())
    ///                 },
    ///             )
    ///             .subcommand("config show", |ctx: CommandContext<Settings>| async move {
    ///                 ctx.reply("colour: red").await?;
    ///                 Ok(())
    ///             })
    ///             .subcommand("config set", |ctx: CommandContext<Settings>| async move {
    ///                 let key: String = ctx.arg("key")?;
    ///                 let value: String = ctx.arg("value")?;
    ///                 ctx.reply(format!("{key} = {value}")).await?;
    ///                 Ok(())
    ///             });
    ///     }
    ///
    ///     async fn init(_host: Host) -> PluginResult<Self> {
    ///         Ok(Settings)
    ///     }
    /// }
    /// ```
    pub fn subcommand<F, Fut>(&mut self, path: impl Into<String>, handler: F) -> &mut Self
    where
        F: Fn(CommandContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.subcommands.push((
            path.into(),
            Vec::new(),
            Box::new(move |ctx| Box::pin(handler(ctx))),
        ));
        self
    }

    /// As [`Registrar::subcommand`], with the arguments declared and read by the struct `A`
    /// (see [`Registrar::command_with`]); they are appended to the subcommand's declaration.
    pub fn subcommand_with<A, F, Fut>(&mut self, path: impl Into<String>, handler: F) -> &mut Self
    where
        A: CommandArgs + Send + 'static,
        F: Fn(CommandContext<P>, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.subcommands.push((
            path.into(),
            A::declare(),
            Box::new(move |ctx: CommandContext<P>| {
                let call = A::parse(ctx.args()).map(|args| handler(ctx, args));
                Box::pin(async move { call?.await })
            }),
        ));
        self
    }

    /// Registers the suggestions for option `option` of command `command` (a path for
    /// subcommands: `"config set"`), shown while the user types it in the slash command; it
    /// marks the option for autocomplete (plugin-api 1.3). The handler gets what is typed so
    /// far and the options filled already, and returns up to 25 choices (the host cuts the
    /// rest, and answers within Discord's 3 seconds: a handler slower than 2.5 s, or one that
    /// fails, shows no suggestions). The value the user finally sends is not limited to the
    /// suggestions.
    ///
    /// ```
    /// use zoryx_plugin_api::prelude::*;
    /// use zoryx_plugin_api::command::Choice;
    ///
    /// const FRUITS: [&str; 4] = ["apple", "apricot", "banana", "cherry"];
    ///
    /// struct Shop;
    ///
    /// impl Plugin for Shop {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("shop", "0.1.0")
    ///     }
    ///
    ///     fn register(plugin: &mut Registrar<Self>) {
    ///         plugin
    ///             .command(
    ///                 CommandSpec::new("buy").arg(Arg::text("fruit")),
    ///                 |ctx: CommandContext<Shop>| async move {
    ///                     ctx.reply(format!("bought {}", ctx.arg::<String>("fruit")?)).await?;
    ///                     Ok(())
    ///                 },
    ///             )
    ///             .autocomplete("buy", "fruit", |ctx: AutocompleteContext<Shop>| async move {
    ///                 let typed = ctx.value().to_lowercase();
    ///                 Ok(FRUITS
    ///                     .iter()
    ///                     .filter(|f| f.starts_with(&typed))
    ///                     .map(|f| Choice::from(*f))
    ///                     .collect())
    ///             });
    ///     }
    ///
    ///     async fn init(_host: Host) -> PluginResult<Self> {
    ///         Ok(Shop)
    ///     }
    /// }
    /// ```
    pub fn autocomplete<F, Fut>(
        &mut self,
        command: impl Into<String>,
        option: impl Into<String>,
        handler: F,
    ) -> &mut Self
    where
        F: Fn(AutocompleteContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult<Vec<Choice>>> + Send + 'static,
    {
        let command: String = command.into();
        self.autocompletes.push((
            AutocompleteSpec {
                command: command.split_whitespace().collect::<Vec<_>>().join(" "),
                option: option.into(),
            },
            Box::new(move |ctx| Box::pin(handler(ctx))),
        ));
        self
    }

    /// Registers the handler for modal submissions whose `custom_id` starts with `prefix`
    /// (plugin-api 1.3). Show the modal with [`CommandContext::modal`] or
    /// [`ComponentContext::modal`]; the handler reads the typed values and answers like a
    /// component handler.
    ///
    /// ```
    /// use zoryx_plugin_api::prelude::*;
    /// use zoryx_plugin_api::{Modal, ModalContext, TextInput};
    ///
    /// struct Feedback;
    ///
    /// impl Plugin for Feedback {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("feedback", "0.1.0")
    ///     }
    ///
    ///     fn register(plugin: &mut Registrar<Self>) {
    ///         plugin
    ///             .command(
    ///                 CommandSpec::new("feedback").kind(CommandKind::Slash),
    ///                 |ctx: CommandContext<Feedback>| async move {
    ///                     let form = Modal::new("feedback:1", "Feedback")
    ///                         .input(TextInput::short("topic", "Topic"))
    ///                         .input(TextInput::paragraph("body", "Details").required(false));
    ///                     ctx.modal(form).await
    ///                 },
    ///             )
    ///             .modal("feedback:", |ctx: ModalContext<Feedback>| async move {
    ///                 let topic = ctx.value("topic").unwrap_or_default().to_owned();
    ///                 ctx.reply(Message::text(format!("Thanks for your words on {topic}")).ephemeral())
    ///                     .await?;
    ///                 Ok(())
    ///             });
    ///     }
    ///
    ///     async fn init(_host: Host) -> PluginResult<Self> {
    ///         Ok(Feedback)
    ///     }
    /// }
    /// ```
    pub fn modal<F, Fut>(&mut self, prefix: impl Into<String>, handler: F) -> &mut Self
    where
        F: Fn(ModalContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        self.modals
            .push((prefix.into(), Box::new(move |ctx| Box::pin(handler(ctx)))));
        self
    }

    /// Adds a page to the host's web dashboard (plugin-api 1.3): `id` is its address
    /// (`/panels/PLUGIN/ID`: 1–32 letters, digits, `-` or `_`), `title` its menu label. The
    /// handler is called each time the page is opened or one of its actions taken, and returns
    /// the page; see [`crate::panel`].
    ///
    /// ```
    /// use zoryx_plugin_api::prelude::*;
    /// use zoryx_plugin_api::panel::{Block, Panel, PanelContext};
    ///
    /// struct Counter;
    ///
    /// impl Plugin for Counter {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("counter", "0.1.0")
    ///     }
    ///
    ///     fn register(plugin: &mut Registrar<Self>) {
    ///         plugin.panel("counts", "Counts", |ctx: PanelContext<Counter>| async move {
    ///             let seen = ctx.request().user.clone();
    ///             Ok(Panel::new("Counts").block(Block::text(format!("Hello, {seen}."))))
    ///         });
    ///     }
    ///
    ///     async fn init(_host: Host) -> PluginResult<Self> {
    ///         Ok(Counter)
    ///     }
    /// }
    /// ```
    pub fn panel<F, Fut>(
        &mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        handler: F,
    ) -> &mut Self
    where
        F: Fn(crate::panel::PanelContext<P>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult<crate::panel::Panel>> + Send + 'static,
    {
        let spec = crate::panel::PanelSpec {
            id: id.into(),
            title: title.into(),
        };
        if !crate::panel::PanelSpec::valid_id(&spec.id) {
            self.problems.push(format!(
                "panel id `{}`: use 1-32 letters, digits, `-` or `_`",
                spec.id
            ));
        } else if self.panels.iter().any(|(other, _)| other.id == spec.id) {
            self.problems
                .push(format!("panel `{}` is registered twice", spec.id));
        }
        self.panels
            .push((spec, Box::new(move |ctx| Box::pin(handler(ctx)))));
        self
    }

    /// Registers a context menu command on users ("Apps" → `menu`; plugin-api 1.3). The
    /// handler gets the user (and their membership in a guild).
    ///
    /// ```
    /// use zoryx_plugin_api::prelude::*;
    /// use zoryx_plugin_api::{ContextMenu, MessageCommandContext, UserCommandContext};
    ///
    /// struct Reports;
    ///
    /// impl Plugin for Reports {
    ///     fn manifest() -> Manifest {
    ///         Manifest::new("reports", "0.1.0")
    ///     }
    ///
    ///     fn register(plugin: &mut Registrar<Self>) {
    ///         plugin
    ///             .user_command("Report", |ctx: UserCommandContext<Reports>| async move {
    ///                 let who = &ctx.target().user;
    ///                 ctx.reply(Message::text(format!("Reported {}", who.name)).ephemeral())
    ///                     .await?;
    ///                 Ok(())
    ///             })
    ///             .message_command(
    ///                 ContextMenu::from("Quote").dm(false),
    ///                 |ctx: MessageCommandContext<Reports>| async move {
    ///                     ctx.reply(format!("> {}", ctx.target().content)).await?;
    ///                     Ok(())
    ///                 },
    ///             );
    ///     }
    ///
    ///     async fn init(_host: Host) -> PluginResult<Self> {
    ///         Ok(Reports)
    ///     }
    /// }
    /// ```
    pub fn user_command<F, Fut>(&mut self, menu: impl Into<ContextMenu>, handler: F) -> &mut Self
    where
        F: Fn(ContextMenuContext<P, TargetUser>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        let mut menu = menu.into();
        menu.kind = ContextMenuKind::User;
        self.context_menus.push((
            menu,
            Box::new(move |ctx: ContextMenuContext<P, MenuTarget>| {
                match ctx.map_target(|t| match t {
                    MenuTarget::User(user) => Some(user),
                    MenuTarget::Message(_) => None,
                }) {
                    Some(ctx) => Box::pin(handler(ctx)) as HandlerFuture,
                    None => Box::pin(async { Err(wrong_target()) }),
                }
            }),
        ));
        self
    }

    /// Registers a context menu command on messages ("Apps" → `menu`; plugin-api 1.3). The
    /// handler gets the message.
    pub fn message_command<F, Fut>(&mut self, menu: impl Into<ContextMenu>, handler: F) -> &mut Self
    where
        F: Fn(ContextMenuContext<P, ChannelMessage>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = PluginResult> + Send + 'static,
    {
        let mut menu = menu.into();
        menu.kind = ContextMenuKind::Message;
        self.context_menus.push((
            menu,
            Box::new(move |ctx: ContextMenuContext<P, MenuTarget>| {
                match ctx.map_target(|t| match t {
                    MenuTarget::Message(message) => Some(message),
                    MenuTarget::User(_) => None,
                }) {
                    Some(ctx) => Box::pin(handler(ctx)) as HandlerFuture,
                    None => Box::pin(async { Err(wrong_target()) }),
                }
            }),
        ));
        self
    }

    pub(crate) fn extras(&self) -> crate::ffi::extra::Extras {
        crate::ffi::extra::Extras {
            listeners: self.extra_listeners.iter().map(|(kind, _)| *kind).collect(),
            commands: self
                .commands
                .iter()
                .enumerate()
                .filter_map(|(i, (spec, _))| {
                    let extras = crate::ffi::extra::CommandExtras::of(spec)?;
                    Some((u32::try_from(i).ok()?, extras))
                })
                .collect(),
            autocompletes: self.autocompletes.iter().map(|(t, _)| t.clone()).collect(),
            modals: self.modals.iter().map(|(p, _)| p.clone()).collect(),
            context_menus: self.context_menus.iter().map(|(m, _)| m.clone()).collect(),
            cron: self
                .cron_tasks
                .iter()
                .map(|(task, _)| task.clone())
                .collect(),
            settings: self.settings.clone(),
            panels: self.panels.iter().map(|(spec, _)| spec.clone()).collect(),
        }
    }

    /// Fails when the registrations do not fit together.
    pub(crate) fn problems(&self) -> PluginResult {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(PluginError::Internal(self.problems.join("; ")))
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
            // 1.3 describes its listeners in `Extras` (see `listen`).
            listeners: Default::default(),
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

fn wrong_target() -> PluginError {
    PluginError::Internal("a context menu command was run on the wrong kind of target".into())
}

/// The subcommand at `path` below `spec`.
fn find_mut<'a>(spec: &'a mut CommandSpec, path: &[&str]) -> Option<&'a mut CommandSpec> {
    let Some((first, rest)) = path.split_first() else {
        return Some(spec);
    };
    let sub = spec
        .subcommands
        .iter_mut()
        .find(|s| s.name.eq_ignore_ascii_case(first))?;
    find_mut(sub, rest)
}

/// The paths of the subcommands (not groups) below `spec`.
fn leaves(spec: &CommandSpec, path: &str, out: &mut Vec<String>) {
    for sub in &spec.subcommands {
        let below = format!("{path} {}", sub.name);
        if sub.subcommands.is_empty() {
            out.push(below);
        } else {
            leaves(sub, &below, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Listens;

    impl Plugin for Listens {
        fn manifest() -> Manifest {
            Manifest::new("listens", "1.0.0")
        }

        fn register(plugin: &mut Registrar<Self>) {
            let noop = |_ctx: PluginContext<Listens>, _event: Event| async { Ok(()) };
            plugin
                .listen(EventKind::MessageCreate, noop)
                .listen(EventKind::ReactionAdd, noop)
                .listen(EventKind::Ready, noop);
        }

        async fn init(_host: Host) -> PluginResult<Self> {
            Ok(Listens)
        }
    }

    #[test]
    fn every_listener_is_described_in_the_extras() {
        let registrar = Registrar::<Listens>::collect();
        let description = registrar.describe(&Listens::manifest());
        assert!(description.listeners.is_empty());
        assert_eq!(
            registrar.extras().listeners,
            [
                EventKind::MessageCreate,
                EventKind::ReactionAdd,
                EventKind::Ready
            ]
        );
    }
}
