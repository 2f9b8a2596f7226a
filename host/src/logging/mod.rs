//! Logging: `tracing` to three outputs.
//!
//! - `botlogs/permanent.log`: appended across runs, rotated at `logging.max_bytes` keeping
//!   `logging.backup_count` backups (`permanent.log.1` is the newest);
//! - `botlogs/current_run.log`: this run only (emptied at start);
//! - the recent lines in memory when [`LogOptions::tail`] asks for them (the dashboard's live
//!   log, [`tail`]);
//! - the console on stderr: coloured when it is a terminal, compact plain text otherwise;
//!   [`LogOptions::console_level`] caps it (offline mode's chat shows warnings and errors only)
//!   while the files keep the full level.
//!
//! Both files get the same plain lines (timestamp, level, target, fields such as a plugin's
//! `plugin="name"`, message) from one background thread ([`writer`]), so logging never waits on
//! the disk; keep the returned [`LogGuard`] until exit so queued lines are written out. Backups
//! older than 30 days are removed at start. The level comes from `logging.level` (`WARNING` →
//! warn, `CRITICAL` → error); `RUST_LOG`, when set, overrides it.

pub mod rotate;
pub mod tail;
pub mod writer;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LoggingConfig;
pub use rotate::{CURRENT_RUN, PERMANENT, RotatingFile, remove_expired_backups};
pub use tail::{LogLine, LogTail};
pub use writer::{LogFlusher, LogGuard, NonBlocking};

/// The log folder's name, next to `config.json`.
pub const LOG_DIR: &str = "botlogs";

/// How long rotated backups are kept.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A log file or the folder could not be prepared.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The level (from the config or `RUST_LOG`) is not understood.
    #[error("invalid log level `{level}`: {message}")]
    Level {
        /// The text given.
        level: String,
        /// The parser's message.
        message: String,
    },
    /// A global subscriber is already installed.
    #[error("logging is already set up: {0}")]
    AlreadySet(String),
}

/// How to log.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// The folder of the log files (`botlogs/` next to `config.json`).
    pub dir: PathBuf,
    /// `logging.level`: `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`.
    pub level: String,
    /// A directive string in `RUST_LOG` syntax that replaces `level` when set.
    pub rust_log: Option<String>,
    /// Size at which `permanent.log` is rotated.
    pub max_bytes: u64,
    /// Backups of `permanent.log` kept.
    pub backup_count: u32,
    /// Backups older than this are removed at start.
    pub retention: Duration,
    /// Also log to stderr.
    pub console: bool,
    /// The most detailed level shown on stderr, on top of `level` (`None`: as the files). The
    /// offline chat uses `WARN`, so its terminal shows warnings and errors only.
    pub console_level: Option<LevelFilter>,
    /// Also keep the recent lines in memory (the dashboard's live log), at the files' level.
    pub tail: Option<LogTail>,
}

impl LogOptions {
    /// Options from the `logging.*` keys, with the files in `<config folder>/botlogs` and
    /// `RUST_LOG` read from the process environment.
    pub fn from_config(config_file: &Path, logging: &LoggingConfig) -> Self {
        let folder = match config_file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        Self {
            dir: folder.join(LOG_DIR),
            level: logging.level.clone(),
            rust_log: std::env::var("RUST_LOG")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            max_bytes: logging.max_bytes,
            backup_count: logging.backup_count,
            retention: RETENTION,
            console: true,
            console_level: None,
            tail: None,
        }
    }
}

/// The `tracing` level of a `logging.level` name (case-insensitive; unknown names give `info`).
pub fn tracing_level(level: &str) -> &'static str {
    match level.to_ascii_uppercase().as_str() {
        "DEBUG" => "debug",
        "WARNING" | "WARN" => "warn",
        "ERROR" | "CRITICAL" => "error",
        "TRACE" => "trace",
        _ => "info",
    }
}

fn filter(options: &LogOptions) -> Result<EnvFilter, LogError> {
    let directives = options
        .rust_log
        .clone()
        .unwrap_or_else(|| tracing_level(&options.level).to_owned());
    EnvFilter::try_new(&directives).map_err(|e| LogError::Level {
        level: directives,
        message: e.to_string(),
    })
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

fn console_layer() -> BoxedLayer {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        layer.with_ansi(true).boxed()
    } else {
        layer.with_ansi(false).compact().boxed()
    }
}

/// Prepares the folder (creates it, empties `current_run.log`, removes expired backups) and
/// builds the subscriber with its writer thread, without installing it. Tests install it with
/// `tracing::subscriber::with_default`.
pub fn subscriber(
    options: &LogOptions,
) -> Result<(impl tracing::Subscriber + Send + Sync + 'static, LogGuard), LogError> {
    let io = |action, path: &Path| {
        let path = path.to_owned();
        move |source| LogError::Io {
            action,
            path,
            source,
        }
    };
    let filter = filter(options)?;
    std::fs::create_dir_all(&options.dir).map_err(io("create", &options.dir))?;
    let expired = remove_expired_backups(&options.dir, options.retention)
        .map_err(io("clean", &options.dir))?;
    let permanent_path = options.dir.join(PERMANENT);
    let permanent = RotatingFile::open(&permanent_path, options.max_bytes, options.backup_count)
        .map_err(io("open", &permanent_path))?;
    let current = rotate::start_current_run(&options.dir)
        .map_err(io("create", &options.dir.join(CURRENT_RUN)))?;
    let (writer, mut guard) = writer::spawn(vec![Box::new(permanent), Box::new(current)])
        .map_err(io("start the log writer for", &options.dir))?;
    let files = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .boxed();
    let mut layers = vec![files];
    if let Some(tail) = &options.tail {
        layers.push(tail.layer().boxed());
    }
    if options.console {
        layers.push(match options.console_level {
            Some(level) => console_layer().with_filter(level).boxed(),
            None => console_layer(),
        });
    }
    let subscriber = Registry::default().with(layers).with(filter);
    guard.expired_backups_removed = expired;
    Ok((subscriber, guard))
}

/// Sets up logging for the process (see the module docs). Keep the guard until exit.
pub fn init(options: &LogOptions) -> Result<LogGuard, LogError> {
    let (subscriber, guard) = subscriber(options)?;
    subscriber
        .try_init()
        .map_err(|e| LogError::AlreadySet(e.to_string()))?;
    if guard.expired_backups_removed > 0 {
        tracing::info!(
            folder = %options.dir.display(),
            removed = guard.expired_backups_removed,
            "removed log backups older than the retention period"
        );
    }
    Ok(guard)
}

/// Console-only logging for the commands that do not run the bot (`plugins check`, ...):
/// `RUST_LOG` or `info`. Does nothing if logging is already set up.
pub fn init_console() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = Registry::default()
        .with(console_layer())
        .with(filter)
        .try_init();
}
