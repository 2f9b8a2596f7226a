//! SQLite databases: the global `main.db` and one `<guild>/guild.db` per guild, under the
//! configured `database.base_path`.
//!
//! - [`Databases`] owns the pools: `main.db` opens at start, a guild's pool opens on first use
//!   and closes again after [`DbOptions::guild_idle`] without use (a sweeper task). Every file is
//!   migrated when opened ([`MAIN_MIGRATIONS`], [`GUILD_MIGRATIONS`]), uses WAL,
//!   `synchronous=NORMAL`, foreign keys and a busy timeout, and counts the statements run on it.
//! - Maintenance: [`Databases::backup`] (`VACUUM INTO` timestamped folders under
//!   `backups/`, the newest [`DbOptions::backup_keep`] kept), [`Databases::stats`],
//!   [`Databases::integrity_check`], [`Databases::cleanup_orphans`].
//! - [`SqliteSettings`] is the [`crate::guild_settings::GuildSettingsStore`] the Discord layer
//!   reads prefixes from: a cache in front of `guild_settings`, command usage batched by a
//!   background writer.
//! - [`browse`]: the dashboard's read-only looks: the known databases by name, an integrity
//!   check and a table's rows a page at a time, each on a read-only connection.
//! - [`report`] renders the owner commands `dbstats`, `integritycheck` and `cleanup`.

pub mod browse;
mod connect;
mod databases;
mod maintenance;
mod migrations;
pub mod report;
mod settings;

use std::path::PathBuf;
use std::time::Duration;

pub use connect::{GUILD_MIGRATIONS, MAIN_MIGRATIONS};
pub use databases::Databases;
pub use maintenance::{CleanupReport, DbFileStats, DbStats, IntegrityReport};
pub use migrations::{Migrated, MigrationStatus};
pub use settings::{SqliteSettings, shutdown};

use crate::config::keys::DatabaseConfig;

/// How the databases are opened and kept.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Folder of `main.db`, the `<guild>/guild.db` folders and `backups/` (`database.base_path`).
    pub base_path: PathBuf,
    /// Connections per database pool (each database has its own small pool).
    pub max_connections: u32,
    /// How long a statement waits for a lock held by another connection.
    pub busy_timeout: Duration,
    /// A guild's pool closes after this long without use; zero keeps guild pools open.
    pub guild_idle: Duration,
    /// How many backup folders [`Databases::backup`] keeps (the newest); zero keeps all.
    pub backup_keep: usize,
}

impl DbOptions {
    /// Options with the defaults for databases under `base_path`.
    pub fn new(base_path: impl Into<PathBuf>) -> Self {
        Self {
            base_path: base_path.into(),
            ..Self::default()
        }
    }

    /// Options from `config.json`'s `database.*`: the configured `base_path`, or `data_dir`
    /// (`--data` / `ZORYX_DATA`) when the key is left at its default.
    pub fn from_config(config: &DatabaseConfig, data_dir: &std::path::Path) -> Self {
        let base_path = if config.base_path == DatabaseConfig::default().base_path {
            data_dir.to_path_buf()
        } else {
            PathBuf::from(&config.base_path)
        };
        Self::new(base_path)
    }
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            base_path: PathBuf::from("./data"),
            max_connections: 4,
            busy_timeout: Duration::from_secs(5),
            guild_idle: Duration::from_secs(10 * 60),
            backup_keep: 10,
        }
    }
}

/// A database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A folder or file could not be created, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A database file could not be opened.
    #[error("cannot open database {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate database {}: {source}", path.display())]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The migration that failed and why.
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error("database {}: {source}", path.display())]
    Query {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason.
        source: sqlx::Error,
    },
    /// A value was refused before it reached the database.
    #[error("{0}")]
    Invalid(String),
    /// [`Databases::close`] was called.
    #[error("the databases are closed")]
    Closed,
}
