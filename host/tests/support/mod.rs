//! Shared helpers for the host's integration tests: real fixture libraries in temp folders.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tempfile::TempDir;
use zoryx_host::config::Config;
use zoryx_host::manager::{HostPaths, Manager, ManagerEvent};
use zoryx_host::runtime::{CommandOutcome, CommandRequest, ReplySink};
use zoryx_plugin_api::{ChannelId, Message, MessageId, Permission, Source, User, UserId};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fixture library built by `make fixtures` (test-fixtures/build.sh).
pub fn fixture(name: &str) -> PathBuf {
    let path = root().join("target/fixtures").join(name);
    assert!(
        path.is_file(),
        "missing fixture {} — run `make fixtures` (or `make test`)",
        path.display()
    );
    path
}

/// The `zoryx` binary, used for trial loads.
pub fn checker() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_zoryx"))
}

/// Where the plugins of a test host run: in the host process, or each in a worker process
/// (isolation mode, `isolation.plugins: ["*"]`). Functional tests run in both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    InProcess,
    Isolated,
}

impl Mode {
    /// `config` with this mode applied.
    pub fn config(self, config: &str) -> String {
        let mut value: serde_json::Value = serde_json::from_str(config).expect("config JSON");
        if self == Mode::Isolated {
            let object = value.as_object_mut().expect("config object");
            let isolation = object
                .entry("isolation")
                .or_insert_with(|| serde_json::json!({}));
            isolation["plugins"] = serde_json::json!(["*"]);
        }
        value.to_string()
    }
}

/// Runs an `async fn(Mode)` test in both modes: `both_modes!(name);` makes `name::in_process`
/// and `name::isolated`.
#[macro_export]
macro_rules! both_modes {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn in_process() {
                super::$test($crate::support::Mode::InProcess).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn isolated() {
                super::$test($crate::support::Mode::Isolated).await;
            }
        }
    )+};
}

/// A host over a temp folder.
pub struct TestHost {
    pub dir: TempDir,
    pub manager: Arc<Manager>,
}

impl TestHost {
    /// A host whose `extensions/` holds the given fixtures (`(fixture, file name)`), not yet
    /// loaded.
    pub fn new(files: &[(&str, &str)]) -> Self {
        Self::with_config(files, "{}")
    }

    /// As [`TestHost::new`], with the plugins running as `mode` says.
    pub fn in_mode(files: &[(&str, &str)], mode: Mode) -> Self {
        Self::with_config(files, &mode.config("{}"))
    }

    /// As [`TestHost::new`], with a config.json text.
    pub fn with_config(files: &[(&str, &str)], config: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let extensions = dir.path().join("extensions");
        std::fs::create_dir_all(&extensions).expect("extensions dir");
        for (fixture_name, file) in files {
            std::fs::copy(fixture(fixture_name), extensions.join(file)).expect("copy fixture");
        }
        Self::reopen(dir, config)
    }

    /// A new host over `dir`'s extensions and data, as a restarted process would be.
    pub fn reopen(dir: TempDir, config: &str) -> Self {
        let extensions = dir.path().join("extensions");
        let config = Config::parse(Path::new("config.json"), config).expect("config");
        let manager = Manager::new(
            HostPaths {
                extensions,
                data: dir.path().join("data"),
                checker: Some(checker()),
            },
            config,
        )
        .expect("manager");
        Self { dir, manager }
    }

    pub fn extensions(&self) -> PathBuf {
        self.dir.path().join("extensions")
    }

    /// Places a fixture in `extensions/` the way `make plugins` does: temp name, then rename.
    pub fn install(&self, fixture_name: &str, file: &str) -> PathBuf {
        let target = self.extensions().join(file);
        let temp = self.extensions().join(format!(".{file}.tmp"));
        std::fs::copy(fixture(fixture_name), &temp).expect("copy");
        std::fs::rename(&temp, &target).expect("rename");
        target
    }

    /// Runs `command args` as the owner on the console; returns the outcome and the replies.
    pub async fn call(&self, command: &str, args: &str) -> (CommandOutcome, Vec<String>) {
        call_as(&self.manager, command, args, true).await
    }
}

/// Collects replies.
#[derive(Default)]
pub struct Collect(pub Mutex<Vec<Message>>);

impl ReplySink for Collect {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        if let Ok(mut replies) = self.0.lock() {
            replies.push(message);
        }
        Box::pin(async { Ok(MessageId(1)) })
    }
}

impl Collect {
    pub fn texts(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("lock")
            .iter()
            .map(|m| m.content.clone().unwrap_or_default())
            .collect()
    }
}

pub fn request(command: &str, args: &str, owner: bool) -> CommandRequest {
    CommandRequest {
        plugin: None,
        command: command.into(),
        args: args.into(),
        author: User {
            id: UserId(7),
            name: "tester".into(),
            bot: false,
        },
        level: if owner {
            Permission::Owner
        } else {
            Permission::Everyone
        },
        is_owner: owner,
        guild_id: None,
        channel_id: ChannelId(99),
        message_id: None,
        source: Source::Console,
        prefix: "!".into(),
        attachments: Vec::new(),
    }
}

pub async fn call_as(
    manager: &Arc<Manager>,
    command: &str,
    args: &str,
    owner: bool,
) -> (CommandOutcome, Vec<String>) {
    let sink = Arc::new(Collect::default());
    let outcome = manager
        .dispatcher()
        .invoke(request(command, args, owner), sink.clone())
        .await;
    (outcome, sink.texts())
}

/// Waits for a manager event matching `pred`, up to `timeout`.
pub async fn wait_for(
    events: &mut tokio::sync::broadcast::Receiver<ManagerEvent>,
    timeout: Duration,
    pred: impl Fn(&ManagerEvent) -> bool,
) -> Option<ManagerEvent> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(event)) if pred(&event) => return Some(event),
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => return None,
        }
    }
}

/// Collects every event arriving within `window`.
pub async fn drain(
    events: &mut tokio::sync::broadcast::Receiver<ManagerEvent>,
    window: Duration,
) -> Vec<ManagerEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Ok(event)) = tokio::time::timeout(
        deadline.saturating_duration_since(tokio::time::Instant::now()),
        events.recv(),
    )
    .await
    {
        seen.push(event);
    }
    seen
}
pub mod bot;
pub mod dash;
pub mod db;
pub mod market;
pub mod webdriver;
