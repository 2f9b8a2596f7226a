//! # zoryx-plugin-test
//!
//! Test a Zoryx plugin in-process: no bot, no Discord, no library to build. The plugin runs in a
//! real host core (registry checks, argument parsing, permissions, cooldowns, hooks, tasks), and
//! its replies come back as values. Storage works too (key-value, SQL tables, files), on real
//! SQLite files and real files in the test's temp folder ([`PluginTest::data_dir`]).
//!
//! Add to the plugin crate:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib", "rlib"]   # rlib lets tests link the plugin
//!
//! [dev-dependencies]
//! zoryx-plugin-test = { path = "../../plugin-test" }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! then, in `tests/`:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn greets() {
//!     let bot = zoryx_plugin_test::PluginTest::new::<hello::Hello>().await.unwrap();
//!     let replies = bot.run("hello <@42>").await.unwrap();
//!     assert_eq!(replies[0].content.as_deref(), Some("Hello, <@42>! (1 greeted so far)"));
//! }
//! ```

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use zoryx_host::config::Config;
use zoryx_host::gate::Refusal;
use zoryx_host::manager::{HostPaths, Manager};
use zoryx_host::runtime::{CommandOutcome, CommandRequest, Outbox, ReplySink};
use zoryx_plugin_api::ffi::ModuleOf;
use zoryx_plugin_api::ffi::extra::MenuCall;
use zoryx_plugin_api::{
    Action, ArgValue, Args, AutocompleteRequest, CallAction, ChannelId, ChannelMessage, Choice,
    ContextMenuKind, Event, GuildId, Interaction, InteractionKind, Invocation, MenuTarget, Message,
    MessageId, ModalSubmit, Outcome, Permission, Plugin, PluginError, Source, TargetUser, User,
    UserId,
};

/// Why a test step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// The plugin could not be loaded.
    #[error("load: {0}")]
    Load(String),
    /// No such command.
    #[error("unknown command `{0}`")]
    Unknown(String),
    /// The user lacks the command's permission.
    #[error("denied: needs {0:?}")]
    Denied(Permission),
    /// The command is on cooldown.
    #[error("on cooldown for {0:?}")]
    Cooldown(Duration),
    /// The command gate refused it for another reason (a DM, a role restriction, missing
    /// Discord permissions); the text is what the user would read.
    #[error("refused: {0}")]
    Refused(String),
    /// The arguments did not fit; `usage` is the expected form.
    #[error("{error} (usage: {usage})")]
    BadArguments {
        /// What was wrong.
        error: String,
        /// The expected form.
        usage: String,
    },
    /// The handler returned an error or panicked.
    #[error("{0}")]
    Failed(PluginError),
    /// No component handler for that `custom_id`.
    #[error("no component handler for `{0}`")]
    NoComponent(String),
    /// The handler ran past its time limit (`limits.command_seconds`) and was cancelled.
    #[error("took longer than {0:?} and was cancelled")]
    TimedOut(Duration),
    /// No handler for that autocomplete option, modal or context menu command.
    #[error("no handler for {0}")]
    NoHandler(String),
}

/// Where a call's replies and its call actions go: replies get ids 1, 2, 3... in order; a
/// followup is a reply; every call action is recorded on the test.
struct Replies {
    replies: Mutex<Vec<Message>>,
    actions: Arc<Mutex<Vec<CallAction>>>,
}

impl Replies {
    fn new(actions: &Arc<Mutex<Vec<CallAction>>>) -> Arc<Self> {
        Arc::new(Self {
            replies: Mutex::new(Vec::new()),
            actions: Arc::clone(actions),
        })
    }

    fn push(&self, message: Message) -> Result<MessageId, String> {
        self.replies
            .lock()
            .map(|mut r| {
                r.push(message);
                MessageId(r.len() as u64)
            })
            .map_err(|_| "reply buffer poisoned".to_owned())
    }

    fn take(&self) -> Vec<Message> {
        self.replies
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}

impl ReplySink for Replies {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let id = self.push(message);
        Box::pin(async move { id })
    }

    fn act(&self, action: CallAction) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        let answer = match &action {
            CallAction::Followup { message } => self
                .push(message.clone())
                .map(|id| Outcome::Id(id.0))
                .map_err(PluginError::Host),
            CallAction::EditReply { reply, .. } | CallAction::DeleteReply { reply } => {
                let known = self.replies.lock().map(|r| r.len() as u64).unwrap_or(0);
                match reply {
                    Some(id) if id.0 == 0 || id.0 > known => Err(PluginError::Discord {
                        action: action.describe().to_owned(),
                        status: 404,
                        code: 10008,
                        message: "Unknown Message".to_owned(),
                    }),
                    _ => Ok(Outcome::Done),
                }
            }
            _ => Ok(Outcome::Done),
        };
        if let Ok(mut actions) = self.actions.lock() {
            actions.push(action);
        }
        Box::pin(async move { answer })
    }
}

/// The Discord statistics a test set with [`PluginTest::set_stats`].
struct FixedStats(zoryx_plugin_api::BotStats);

impl zoryx_host::runtime::services::StatsSource for FixedStats {
    fn discord_stats(&self) -> BoxFuture<'static, zoryx_plugin_api::BotStats> {
        let stats = self.0.clone();
        Box::pin(async move { stats })
    }
}

/// Answers a test gives the plugin's Discord actions.
type Answerer = dyn Fn(&Action) -> Option<Result<Outcome, PluginError>> + Send + Sync;

#[derive(Default)]
struct Sent(Mutex<Vec<(ChannelId, Message)>>);

struct SentOutbox {
    sent: Arc<Sent>,
    actions: Arc<Mutex<Vec<Action>>>,
    answerer: Arc<Mutex<Option<Arc<Answerer>>>>,
}

/// What an action gets when the test scripted nothing for it: writes succeed (created things
/// echo their spec, with ids from 1000 up), reads are refused with a hint.
fn default_answer(action: &Action, serial: u64) -> Result<Outcome, PluginError> {
    use zoryx_plugin_api::{Channel, ChannelKind, ChannelMessage, Role, RoleId, Webhook};
    let id = 1000 + serial;
    Ok(match action {
        Action::EditMessage {
            channel,
            message,
            edit,
        } => Outcome::Message(ChannelMessage {
            id: *message,
            channel_id: *channel,
            content: edit.content.clone().unwrap_or_default(),
            embed_count: u32::try_from(edit.embeds.len()).unwrap_or(u32::MAX),
            ..ChannelMessage::default()
        }),
        Action::DirectMessage { .. } | Action::ExecuteWebhook { .. } => Outcome::Id(id),
        Action::CreateRole { spec, .. } => Outcome::Role(Role {
            id: RoleId(id),
            name: spec.name.clone().unwrap_or_else(|| "new role".into()),
            permissions: spec.permissions.unwrap_or_default(),
            colour: spec.colour.unwrap_or(0),
            hoist: spec.hoist.unwrap_or(false),
            mentionable: spec.mentionable.unwrap_or(false),
            position: 1,
            managed: false,
        }),
        Action::CreateChannel { guild, spec, .. } => Outcome::Channel(Channel {
            id: ChannelId(id),
            guild_id: Some(*guild),
            name: spec.name.clone().unwrap_or_default(),
            kind: spec.kind.unwrap_or(ChannelKind::Text),
            parent_id: spec.parent_id,
            topic: spec.topic.clone(),
            ..Channel::default()
        }),
        Action::CreateWebhook { channel, name } => Outcome::Webhook(Webhook {
            id,
            token: Some(format!("token-{id}")),
            channel_id: *channel,
            name: name.clone(),
        }),
        Action::DeleteMessage { .. }
        | Action::BulkDelete { .. }
        | Action::React { .. }
        | Action::Unreact { .. }
        | Action::DeleteRole { .. }
        | Action::DeleteChannel { .. }
        | Action::SetOverwrite { .. }
        | Action::AddMemberRole { .. }
        | Action::RemoveMemberRole { .. }
        | Action::SetNickname { .. }
        | Action::Kick { .. }
        | Action::Ban { .. }
        | Action::Unban { .. }
        | Action::Timeout { .. } => Outcome::Done,
        other => {
            return Err(PluginError::NotAvailable(format!(
                "{} in this test (script it with `PluginTest::answer_with`)",
                other.describe()
            )));
        }
    })
}

impl Outbox for SentOutbox {
    fn act(
        &self,
        plugin: &str,
        action: Action,
    ) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        // A message `send` passed as JSON (with files, or a disabled select menu) is a sent
        // message like any other.
        if let Action::Send { channel, message } = action {
            let send = self.send(plugin, channel, message);
            return Box::pin(async move {
                send.await
                    .map(|id| Outcome::Id(id.0))
                    .map_err(PluginError::Host)
            });
        }
        let scripted = self
            .answerer
            .lock()
            .ok()
            .and_then(|a| a.clone())
            .and_then(|answer| answer(&action));
        let serial = self
            .actions
            .lock()
            .map(|mut a| {
                a.push(action.clone());
                a.len() as u64
            })
            .unwrap_or(0);
        let answer = scripted.unwrap_or_else(|| default_answer(&action, serial));
        Box::pin(async move { answer })
    }

    fn send(
        &self,
        _plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>> {
        let id = self
            .sent
            .0
            .lock()
            .map(|mut s| {
                s.push((channel, message));
                MessageId(s.len() as u64)
            })
            .map_err(|_| "outbox poisoned".to_owned());
        Box::pin(async move { id })
    }
}

/// A host with one plugin loaded in-process.
pub struct PluginTest {
    manager: Arc<Manager>,
    sent: Arc<Sent>,
    actions: Arc<Mutex<Vec<Action>>>,
    call_actions: Arc<Mutex<Vec<CallAction>>>,
    answerer: Arc<Mutex<Option<Arc<Answerer>>>>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for PluginTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginTest").finish_non_exhaustive()
    }
}

/// The default test user: id 1, named `tester`.
pub fn tester() -> User {
    User {
        id: UserId(1),
        name: "tester".into(),
        bot: false,
    }
}

impl PluginTest {
    /// Loads plugin `P` with an empty config.
    pub async fn new<P: Plugin>() -> Result<Self, TestError> {
        Self::with_config::<P>(serde_json::json!({})).await
    }

    /// Loads plugin `P`; its host context reads `config`.
    pub async fn with_config<P: Plugin>(config: serde_json::Value) -> Result<Self, TestError> {
        zoryx_plugin_api::ffi::shim::keep_process_panic_hook();
        let dir = tempfile::tempdir().map_err(|e| TestError::Load(e.to_string()))?;
        let text = config.to_string();
        let config = Config::parse(Path::new("config.json"), &text)
            .map_err(|e| TestError::Load(e.to_string()))?;
        let manager = Manager::new(
            HostPaths {
                extensions: dir.path().join("extensions"),
                data: dir.path().join("data"),
                checker: None,
            },
            config,
        )
        .map_err(|e| TestError::Load(e.to_string()))?;
        let sent = Arc::new(Sent::default());
        let actions = Arc::new(Mutex::new(Vec::new()));
        let answerer = Arc::new(Mutex::new(None));
        manager
            .dispatcher()
            .shared()
            .set_outbox(Box::new(SentOutbox {
                sent: Arc::clone(&sent),
                actions: Arc::clone(&actions),
                answerer: Arc::clone(&answerer),
            }));
        manager
            .load_in_process(ModuleOf::<P>::DECLARATION.module)
            .await
            .map_err(|e| TestError::Load(e.to_string()))?;
        Ok(Self {
            manager,
            sent,
            actions,
            call_actions: Arc::new(Mutex::new(Vec::new())),
            answerer,
            _dir: dir,
        })
    }

    /// The host's data folder (in the test's temp folder): plugin storage lives here, the
    /// databases (`main.db`, `<guild>/guild.db`) and the plugin's files (`plugins/<name>/`).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    /// The host core, for anything this type does not wrap.
    pub fn manager(&self) -> &Arc<Manager> {
        &self.manager
    }

    /// Runs a command line (`name args...`, no prefix) as the bot owner; returns the replies.
    pub async fn run(&self, line: &str) -> Result<Vec<Message>, TestError> {
        self.run_as(tester(), Permission::Owner, line).await
    }

    /// Runs a command line as `user` holding `permission` in guild 1, channel 1.
    pub async fn run_as(
        &self,
        user: User,
        permission: Permission,
        line: &str,
    ) -> Result<Vec<Message>, TestError> {
        self.run_full(user, permission, line, Vec::new()).await
    }

    /// Runs a command line sent with `files` attached (for
    /// [`Arg::attachment`](zoryx_plugin_api::Arg::attachment) arguments), as the owner.
    pub async fn run_with_files(
        &self,
        line: &str,
        files: Vec<zoryx_plugin_api::Attachment>,
    ) -> Result<Vec<Message>, TestError> {
        self.run_full(tester(), Permission::Owner, line, files)
            .await
    }

    async fn run_full(
        &self,
        user: User,
        permission: Permission,
        line: &str,
        files: Vec<zoryx_plugin_api::Attachment>,
    ) -> Result<Vec<Message>, TestError> {
        let line = line.trim();
        let (command, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let request = CommandRequest {
            plugin: None,
            command: command.to_owned(),
            args: args.to_owned(),
            author: user,
            level: permission,
            is_owner: permission == Permission::Owner,
            guild_id: Some(GuildId(1)),
            channel_id: ChannelId(1),
            message_id: None,
            source: Source::Prefix,
            prefix: "!".into(),
            attachments: files,
        };
        let replies = Replies::new(&self.call_actions);
        match self
            .manager
            .dispatcher()
            .invoke(request, replies.clone())
            .await
        {
            CommandOutcome::Done { .. } => Ok(replies.take()),
            CommandOutcome::Unknown => Err(TestError::Unknown(command.to_owned())),
            CommandOutcome::Refused(refusal) => Err(match refusal {
                Refusal::OwnerOnly => TestError::Denied(Permission::Owner),
                Refusal::Level { required } => TestError::Denied(required),
                Refusal::Cooldown { left } => TestError::Cooldown(left),
                Refusal::Arguments { error, usage } => TestError::BadArguments {
                    error: error.to_string(),
                    usage,
                },
                other => TestError::Refused(other.explain(command)),
            }),
            CommandOutcome::TimedOut { limit, .. } => Err(TestError::TimedOut(limit)),
            CommandOutcome::Failed { error, .. } => Err(TestError::Failed(error)),
        }
    }

    /// Delivers an event, of any kind, to the plugin's listeners of its kind (as the host
    /// does: as JSON through the plugin's `call_extra`); a listener's error is returned.
    pub async fn event(&self, event: &Event) -> Result<(), TestError> {
        for (_, result) in self.manager.dispatcher().dispatch_event(event).await {
            result.map_err(TestError::Failed)?;
        }
        Ok(())
    }

    /// Emits a named framework event to hooks; returns how many ran.
    pub async fn emit(&self, name: &str, payload: serde_json::Value) -> u32 {
        self.manager.dispatcher().emit(name, payload).await
    }

    /// Clicks a button (or chooses select `values`) as `user`; returns the replies.
    pub async fn click(
        &self,
        custom_id: &str,
        values: &[&str],
        user: User,
    ) -> Result<Vec<Message>, TestError> {
        let interaction = Interaction {
            id: 1,
            kind: InteractionKind::Component,
            name: custom_id.to_owned(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
            user: user.clone(),
            channel_id: ChannelId(1),
            guild_id: Some(GuildId(1)),
        };
        let invocation = Invocation {
            command: String::new(),
            author: user,
            guild_id: Some(GuildId(1)),
            channel_id: ChannelId(1),
            message_id: None,
            is_owner: false,
            source: Source::Slash,
        };
        let replies = Replies::new(&self.call_actions);
        match self
            .manager
            .dispatcher()
            .component(&interaction, &invocation, replies.clone())
            .await
        {
            None => Err(TestError::NoComponent(custom_id.to_owned())),
            Some(Err(zoryx_host::runtime::CallError::TimedOut(limit))) => {
                Err(TestError::TimedOut(limit))
            }
            Some(Err(error)) => Err(TestError::Failed(error.into())),
            Some(Ok(())) => Ok(replies.take()),
        }
    }

    /// Asks the autocomplete handler of option `option` of `command` (a path for
    /// subcommands) for suggestions while `typed` is typed and `filled` are the options filled
    /// so far, as `user`; returns what the host would send Discord (at most 25: the host cuts
    /// the rest).
    ///
    /// ```ignore
    /// let choices = bot.autocomplete("buy", "fruit", "ap", &[], tester()).await?;
    /// assert_eq!(choices[0].name, "APPLE");
    /// ```
    pub async fn autocomplete(
        &self,
        command: &str,
        option: &str,
        typed: &str,
        filled: &[(&str, ArgValue)],
        user: User,
    ) -> Result<Vec<Choice>, TestError> {
        let request = AutocompleteRequest {
            id: 1,
            command: command.split_whitespace().collect::<Vec<_>>().join(" "),
            option: option.to_owned(),
            value: typed.to_owned(),
            args: Args::new(
                filled
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.clone()))
                    .collect(),
            ),
            user,
            channel_id: ChannelId(1),
            guild_id: Some(GuildId(1)),
        };
        let replies = Replies::new(&self.call_actions);
        let result = self
            .manager
            .dispatcher()
            .autocomplete(&request, replies.clone())
            .await;
        self.finished(result, &format!("autocomplete of `{command}` `{option}`"))?;
        let mut actions = self
            .call_actions
            .lock()
            .map_err(|_| TestError::Failed(PluginError::Host("call actions poisoned".into())))?;
        let at = actions
            .iter()
            .rposition(|a| matches!(a, CallAction::Autocomplete { .. }));
        match at.map(|i| actions.remove(i)) {
            Some(CallAction::Autocomplete { mut choices }) => {
                choices.truncate(zoryx_plugin_api::limits::AUTOCOMPLETE_CHOICES);
                Ok(choices)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Opens the plugin's dashboard panel `id` as an owner (the [`tester`], who may act) with
    /// the page's navigation `view`, taking `action` (its name and values) first if given;
    /// returns the page as the dashboard would render it.
    ///
    /// ```ignore
    /// let page = bot.panel("notes", &[], Some(("clear", &[]))).await?;
    /// assert!(matches!(&page.blocks[0], Block::Notice { ok: true, .. }));
    /// ```
    pub async fn panel(
        &self,
        id: &str,
        view: &[(&str, &str)],
        action: Option<(&str, &[(&str, &str)])>,
    ) -> Result<zoryx_plugin_api::panel::Panel, TestError> {
        let pairs = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let request = zoryx_plugin_api::panel::PanelRequest {
            panel: id.to_owned(),
            user_id: tester().id.0,
            user: tester().name,
            role: "owner".to_owned(),
            can_act: true,
            view: pairs(view),
            action: action.map(|(name, values)| zoryx_plugin_api::panel::PanelAction {
                name: name.to_owned(),
                values: pairs(values),
            }),
        };
        let dispatcher = self.manager.dispatcher();
        let what = format!("panel `{id}`");
        let Some((plugin, _)) = dispatcher.panels().into_iter().find(|(_, s)| s.id == id) else {
            return Err(TestError::NoHandler(what));
        };
        let mut page = None;
        let result = dispatcher.panel(&plugin, &request).await.map(|r| {
            r.map(|p| {
                page = Some(p);
            })
        });
        self.finished(result, &what)?;
        page.ok_or(TestError::NoHandler(what))
    }

    /// Submits modal `custom_id` with `values` (`(input custom_id, text)`) as `user`, as if
    /// the modal had been shown by a command (no message); returns the replies. The modals a
    /// plugin shows are in [`PluginTest::call_actions`] as [`CallAction::Modal`].
    pub async fn submit_modal(
        &self,
        custom_id: &str,
        values: &[(&str, &str)],
        user: User,
    ) -> Result<Vec<Message>, TestError> {
        let submit = ModalSubmit {
            id: 1,
            custom_id: custom_id.to_owned(),
            values: values
                .iter()
                .map(|(id, v)| ((*id).to_owned(), (*v).to_owned()))
                .collect(),
            user,
            channel_id: ChannelId(1),
            guild_id: Some(GuildId(1)),
            message_id: None,
        };
        let replies = Replies::new(&self.call_actions);
        let result = self
            .manager
            .dispatcher()
            .modal(&submit, replies.clone())
            .await;
        self.finished(result, &format!("modal `{custom_id}`"))?;
        Ok(replies.take())
    }

    /// Runs user command `name` on `target` as `user` in guild 1; returns the replies.
    pub async fn user_command(
        &self,
        name: &str,
        target: TargetUser,
        user: User,
    ) -> Result<Vec<Message>, TestError> {
        self.menu(ContextMenuKind::User, name, MenuTarget::User(target), user)
            .await
    }

    /// Runs message command `name` on `target` as `user` in guild 1; returns the replies.
    pub async fn message_command(
        &self,
        name: &str,
        target: ChannelMessage,
        user: User,
    ) -> Result<Vec<Message>, TestError> {
        self.menu(
            ContextMenuKind::Message,
            name,
            MenuTarget::Message(target),
            user,
        )
        .await
    }

    async fn menu(
        &self,
        kind: ContextMenuKind,
        name: &str,
        target: MenuTarget,
        user: User,
    ) -> Result<Vec<Message>, TestError> {
        let call = MenuCall {
            invocation: Invocation {
                command: name.to_owned(),
                author: user,
                guild_id: Some(GuildId(1)),
                channel_id: ChannelId(1),
                message_id: None,
                is_owner: false,
                source: Source::Slash,
            },
            target,
        };
        let replies = Replies::new(&self.call_actions);
        let result = self
            .manager
            .dispatcher()
            .context_menu(kind, &call, replies.clone())
            .await;
        self.finished(result, &format!("context menu command `{name}`"))?;
        Ok(replies.take())
    }

    /// A routed call's result as the test sees it.
    fn finished(
        &self,
        result: Option<Result<(), zoryx_host::runtime::CallError>>,
        what: &str,
    ) -> Result<(), TestError> {
        match result {
            None => Err(TestError::NoHandler(what.to_owned())),
            Some(Err(zoryx_host::runtime::CallError::TimedOut(limit))) => {
                Err(TestError::TimedOut(limit))
            }
            Some(Err(error)) => Err(TestError::Failed(error.into())),
            Some(Ok(())) => Ok(()),
        }
    }

    /// The Discord actions the plugin asked for (edits, deletes, moderation...), oldest first
    /// (and forgets them). Unscripted writes succeed; reads need [`PluginTest::answer_with`].
    pub fn actions(&self) -> Vec<Action> {
        self.actions
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }

    /// What commands and components asked about their own replies (edits, deletes,
    /// followups, updates, deferrals, modals shown), oldest first (and forgets them). Followups also count
    /// among the replies `run` and `click` return.
    pub fn call_actions(&self) -> Vec<CallAction> {
        self.call_actions
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }

    /// Scripts Discord's answers: `answer` sees each action and returns `Some` to answer it
    /// (reads, refusals), `None` for the default.
    ///
    /// ```ignore
    /// use zoryx_plugin_api::{Action, Outcome, PluginError};
    /// bot.answer_with(|action| match action {
    ///     Action::Kick { .. } => Some(Err(PluginError::MissingPermission {
    ///         action: "kick a member".into(),
    ///         permission: "Kick Members".into(),
    ///     })),
    ///     Action::Roles { .. } => Some(Ok(Outcome::Roles(vec![]))),
    ///     _ => None,
    /// });
    /// ```
    pub fn answer_with(
        &self,
        answer: impl Fn(&Action) -> Option<Result<Outcome, PluginError>> + Send + Sync + 'static,
    ) {
        if let Ok(mut slot) = self.answerer.lock() {
            *slot = Some(Arc::new(answer));
        }
    }

    /// Sets the Discord side of what [`Host::stats`](zoryx_plugin_api::Host::stats) answers
    /// (guilds, users, channels, shards, latency, counters); the host fills in the uptime,
    /// plugins, commands, memory and versions itself, as in the bot. Without it those Discord
    /// figures are zero and `connected` is false.
    pub fn set_stats(&self, stats: zoryx_plugin_api::BotStats) {
        self.manager
            .dispatcher()
            .shared()
            .set_stats_source(Box::new(FixedStats(stats)));
    }

    /// Messages the plugin sent to channels with `send`, oldest first (and forgets them);
    /// with their files (plugin-api 1.3).
    pub fn sent(&self) -> Vec<(ChannelId, Message)> {
        self.sent
            .0
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}
