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
use zoryx_host::manager::{HostPaths, Manager};
use zoryx_host::runtime::{CommandOutcome, CommandRequest, Outbox, ReplySink};
use zoryx_plugin_api::ffi::ModuleOf;
use zoryx_plugin_api::{
    ChannelId, Event, GuildId, Interaction, InteractionKind, Invocation, Message, MessageId,
    Permission, Plugin, PluginError, Source, User, UserId,
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
}

#[derive(Default)]
struct Replies(Mutex<Vec<Message>>);

impl ReplySink for Replies {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        let id = self
            .0
            .lock()
            .map(|mut r| {
                r.push(message);
                MessageId(r.len() as u64)
            })
            .map_err(|_| "reply buffer poisoned".to_owned());
        Box::pin(async move { id })
    }
}

impl Replies {
    fn take(&self) -> Vec<Message> {
        self.0
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Sent(Mutex<Vec<(ChannelId, Message)>>);

struct SentOutbox(Arc<Sent>);

impl Outbox for SentOutbox {
    fn send(
        &self,
        _plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>> {
        let id = self
            .0
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
        manager
            .dispatcher()
            .shared()
            .set_outbox(Box::new(SentOutbox(Arc::clone(&sent))));
        manager
            .load_in_process(ModuleOf::<P>::DECLARATION.module)
            .await
            .map_err(|e| TestError::Load(e.to_string()))?;
        Ok(Self {
            manager,
            sent,
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
        };
        let replies = Arc::new(Replies::default());
        match self
            .manager
            .dispatcher()
            .invoke(request, replies.clone())
            .await
        {
            CommandOutcome::Done { .. } => Ok(replies.take()),
            CommandOutcome::Unknown => Err(TestError::Unknown(command.to_owned())),
            CommandOutcome::Denied { required } => Err(TestError::Denied(required)),
            CommandOutcome::Cooldown(left) => Err(TestError::Cooldown(left)),
            CommandOutcome::BadArguments { error, usage } => Err(TestError::BadArguments {
                error: error.to_string(),
                usage,
            }),
            CommandOutcome::TimedOut { limit, .. } => Err(TestError::TimedOut(limit)),
            CommandOutcome::Failed { error, .. } => Err(TestError::Failed(error)),
        }
    }

    /// Delivers an event to the plugin's listeners.
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
        let replies = Arc::new(Replies::default());
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

    /// Messages the plugin sent to channels with `send`, oldest first (and forgets them).
    pub fn sent(&self) -> Vec<(ChannelId, Message)> {
        self.sent
            .0
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}
