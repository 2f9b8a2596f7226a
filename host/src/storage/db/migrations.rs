//! Migration status of every database (`fw_migrations`) and applying what is pending
//! (`fw_migrate`).
//!
//! `main.db` is migrated when the host starts, a guild's database when its pool opens; a guild
//! database on disk that has not been opened since the host gained a migration is behind until
//! then. Its status is read without opening a pool (one read-only connection), so looking does
//! not change it.

use std::path::{Path, PathBuf};

use sqlx::Connection as _;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use super::connect::{GUILD_MIGRATIONS, MAIN_MIGRATIONS};
use super::{Databases, DbError};

/// Where one database stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationStatus {
    /// `None` for `main.db`, else the guild.
    pub guild: Option<u64>,
    /// The file.
    pub path: PathBuf,
    /// Versions applied.
    pub applied: Vec<i64>,
    /// Versions the host has and the file has not, with their descriptions.
    pub pending: Vec<(i64, String)>,
    /// Versions recorded as failed (a migration that did not finish).
    pub failed: Vec<i64>,
    /// Why the file could not be read, if it could not.
    pub error: Option<String>,
}

impl MigrationStatus {
    /// Whether it is up to date and sound.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.failed.is_empty() && self.error.is_none()
    }
}

/// What [`Databases::migrate_all`] did to one guild database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migrated {
    /// The guild.
    pub guild: u64,
    /// Versions applied now, or why it failed.
    pub result: Result<Vec<i64>, String>,
}

async fn status_of(path: &Path, guild: Option<u64>, migrator: &Migrator) -> MigrationStatus {
    let mut status = MigrationStatus {
        guild,
        path: path.to_owned(),
        applied: Vec::new(),
        pending: Vec::new(),
        failed: Vec::new(),
        error: None,
    };
    let rows = async {
        let mut conn = SqliteConnection::connect_with(
            &SqliteConnectOptions::new().filename(path).read_only(true),
        )
        .await?;
        let exists: Option<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&mut conn)
        .await?;
        let rows: Vec<(i64, bool)> = if exists.is_some() {
            sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await?
        } else {
            Vec::new()
        };
        conn.close().await?;
        Ok::<_, sqlx::Error>(rows)
    }
    .await;
    match rows {
        Ok(rows) => {
            for (version, success) in rows {
                if success {
                    status.applied.push(version);
                } else {
                    status.failed.push(version);
                }
            }
            status.pending = migrator
                .iter()
                .filter(|m| !m.migration_type.is_down_migration())
                .filter(|m| !status.applied.contains(&m.version))
                .map(|m| (m.version, m.description.to_string()))
                .collect();
        }
        Err(error) => status.error = Some(error.to_string()),
    }
    status
}

impl Databases {
    /// The migration status of `main.db` and of every guild database on disk.
    pub async fn migration_status(&self) -> Vec<MigrationStatus> {
        let mut all = vec![status_of(self.main_path(), None, &MAIN_MIGRATIONS).await];
        for guild in self.guild_files() {
            all.push(status_of(&self.guild_path(guild), Some(guild), &GUILD_MIGRATIONS).await);
        }
        all
    }

    /// Applies the pending migrations of every guild database on disk that is behind (each in
    /// its own transaction, as at open), and closes the pools it opened for that.
    pub async fn migrate_all(&self) -> Result<Vec<Migrated>, DbError> {
        if self.is_closed() {
            return Err(DbError::Closed);
        }
        let mut done = Vec::new();
        for status in self.migration_status().await {
            let Some(guild) = status.guild else {
                continue;
            };
            if status.pending.is_empty() {
                continue;
            }
            let was_open = self.is_guild_open(guild);
            let result = match self.guild(guild).await {
                Ok(_) => Ok(status.pending.iter().map(|(v, _)| *v).collect()),
                Err(error) => Err(error.to_string()),
            };
            if !was_open {
                self.cleanup_guild(guild).await;
            }
            tracing::info!(
                guild,
                ok = result.is_ok(),
                "guild database migrated on request"
            );
            done.push(Migrated { guild, result });
        }
        Ok(done)
    }
}
