//! Keeping the databases healthy: backups, statistics, integrity checks and orphan cleanup.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sqlx::{Connection as _, SqliteExecutor};
use tokio::task::JoinHandle;

use super::connect::{open_existing, queries_of};
use super::{Databases, DbError};

/// Name of the folder under the base path that holds the backups.
const BACKUPS_DIR: &str = "db-backups";
/// Where earlier versions put database backups: `backups/` is the guild snapshots' name in the
/// original framework (and the `backups` plugin's).
const OLD_BACKUPS_DIR: &str = "backups";

/// One database file as `!dbstats` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbFileStats {
    /// The database file.
    pub path: PathBuf,
    /// The guild, or `None` for `main.db`.
    pub guild: Option<u64>,
    /// Whether its pool is open.
    pub open: bool,
    /// Connections in its pool (0 when closed).
    pub connections: u32,
    /// Of those, connections not in use.
    pub idle_connections: usize,
    /// Size of the database file in bytes.
    pub file_bytes: u64,
    /// Size of its write-ahead log (`-wal`) in bytes.
    pub wal_bytes: u64,
    /// Statements run on it since the process started.
    pub queries: u64,
}

/// Every database file under the base path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbStats {
    /// `main.db` first, then the guild databases by guild id.
    pub databases: Vec<DbFileStats>,
}

impl DbStats {
    /// Open pools, `main.db`'s included.
    pub fn open_pools(&self) -> usize {
        self.databases.iter().filter(|d| d.open).count()
    }

    /// Guild database files on disk.
    pub fn guild_files(&self) -> usize {
        self.databases.iter().filter(|d| d.guild.is_some()).count()
    }

    /// Bytes of every database file and write-ahead log.
    pub fn total_bytes(&self) -> u64 {
        self.databases
            .iter()
            .map(|d| d.file_bytes + d.wal_bytes)
            .sum()
    }

    /// Statements run on all databases.
    pub fn total_queries(&self) -> u64 {
        self.databases.iter().map(|d| d.queries).sum()
    }
}

/// What an orphan cleanup did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Guilds the bot is no longer in whose pools were closed.
    pub closed_pools: Vec<u64>,
    /// Guilds the bot is no longer in that still have a database on disk (kept, never deleted).
    pub orphan_files: Vec<u64>,
}

/// Result of `PRAGMA integrity_check` on one database file.
pub type IntegrityReport = Vec<(PathBuf, Result<(), String>)>;

impl Databases {
    /// The guilds that have a `<guild>/guild.db` under the base path, sorted.
    pub fn guild_files(&self) -> Vec<u64> {
        let Ok(entries) = std::fs::read_dir(&self.options.base_path) else {
            return Vec::new();
        };
        let mut guilds: Vec<u64> = entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u64>().ok())
            .filter(|guild| self.guild_path(*guild).is_file())
            .collect();
        guilds.sort_unstable();
        guilds
    }

    /// Pools, file and WAL sizes and statement counts of every database file.
    pub async fn stats(&self) -> DbStats {
        let mut databases = vec![file_stats(
            self.main_path(),
            None,
            (!self.is_closed()).then(|| self.main()),
        )];
        let mut guilds = self.guild_files();
        for guild in self.open_guilds() {
            if let Err(at) = guilds.binary_search(&guild) {
                guilds.insert(at, guild);
            }
        }
        for guild in guilds {
            let pool = self
                .guilds
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&guild)
                .and_then(|slot| slot.pool.get().cloned());
            databases.push(file_stats(
                &self.guild_path(guild),
                Some(guild),
                pool.as_ref(),
            ));
        }
        DbStats { databases }
    }

    /// `PRAGMA integrity_check` on `main.db` and every guild database on disk: `Ok` when SQLite
    /// answers `ok`, else its findings (or why the file could not be read).
    pub async fn integrity_check(&self) -> IntegrityReport {
        let mut report = Vec::new();
        let main = if self.is_closed() {
            self.check_file(self.main_path()).await
        } else {
            integrity_of(self.main()).await
        };
        report.push((self.main_path().to_path_buf(), main));
        for guild in self.guild_files() {
            let path = self.guild_path(guild);
            let result = match self.open_pool_of(guild) {
                Some(pool) => integrity_of(&pool).await,
                None => self.check_file(&path).await,
            };
            report.push((path, result));
        }
        report
    }

    async fn check_file(&self, path: &Path) -> Result<(), String> {
        let mut conn = open_existing(path, &self.options)
            .await
            .map_err(|e| e.to_string())?;
        let result = integrity_of(&mut conn).await;
        let _ = conn.close().await;
        result
    }

    fn open_pool_of(&self, guild: u64) -> Option<sqlx::SqlitePool> {
        self.guilds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&guild)
            .and_then(|slot| slot.pool.get().cloned())
    }

    /// Closes the pools of guilds not in `current_guilds` (the bot left them). Their files are
    /// kept and listed in [`CleanupReport::orphan_files`].
    pub async fn cleanup_orphans(&self, current_guilds: &HashSet<u64>) -> CleanupReport {
        let mut report = CleanupReport::default();
        for guild in self.open_guilds() {
            if !current_guilds.contains(&guild) && self.cleanup_guild(guild).await {
                report.closed_pools.push(guild);
            }
        }
        report.orphan_files = self
            .guild_files()
            .into_iter()
            .filter(|guild| !current_guilds.contains(guild))
            .collect();
        if !report.closed_pools.is_empty() {
            tracing::info!(closed = ?report.closed_pools, "closed databases of departed guilds");
        }
        report
    }

    /// Runs [`Databases::cleanup_orphans`] every `every` (hourly in the host) with the guilds
    /// `current_guilds` returns, until the databases are closed or dropped.
    pub fn spawn_orphan_cleanup<F>(
        self: &Arc<Self>,
        every: Duration,
        current_guilds: F,
    ) -> JoinHandle<()>
    where
        F: Fn() -> HashSet<u64> + Send + Sync + 'static,
    {
        let databases = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every.max(Duration::from_millis(10)));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(databases) = databases.upgrade() else {
                    return;
                };
                if databases.is_closed() {
                    return;
                }
                databases.cleanup_orphans(&current_guilds()).await;
            }
        })
    }

    /// Backs up with `VACUUM INTO`: `guild`'s database, or with `None` `main.db` and every guild
    /// database. Each backup is a new folder `backups/<UTC timestamp>/` (`main.db`,
    /// `<guild>/guild.db`), written under a temporary name and renamed when complete; existing
    /// backups are never overwritten. Afterwards only the newest [`super::DbOptions::backup_keep`]
    /// folders are kept. Returns the files written.
    pub async fn backup(&self, guild: Option<u64>) -> Result<Vec<PathBuf>, DbError> {
        let root = self.options.base_path.join(BACKUPS_DIR);
        create_dir(&root)?;
        let (stamp, target) = unused_folder(&root);
        let staging = root.join(format!(".partial-{stamp}"));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|source| DbError::Io {
                path: staging.clone(),
                source,
            })?;
        }
        create_dir(&staging)?;
        let result = self.backup_into(&staging, guild).await;
        let written = match result {
            Ok(written) => written,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(error);
            }
        };
        std::fs::rename(&staging, &target).map_err(|source| DbError::Io {
            path: target.clone(),
            source,
        })?;
        sync_dir(&root);
        let files = written
            .into_iter()
            .map(|relative| target.join(relative))
            .collect();
        self.prune_backups(&root);
        tracing::info!(folder = %target.display(), "databases backed up");
        Ok(files)
    }

    /// Writes the backups into `staging`; returns their paths relative to it.
    async fn backup_into(
        &self,
        staging: &Path,
        guild: Option<u64>,
    ) -> Result<Vec<PathBuf>, DbError> {
        let mut written = Vec::new();
        let guilds = match guild {
            Some(guild) => vec![guild],
            None => {
                let relative = PathBuf::from("main.db");
                if self.is_closed() {
                    return Err(DbError::Closed);
                }
                vacuum_into(self.main(), &staging.join(&relative))
                    .await
                    .map_err(|source| self.query_error(None, source))?;
                written.push(relative);
                self.guild_files()
            }
        };
        for guild in guilds {
            let relative = PathBuf::from(guild.to_string()).join("guild.db");
            let destination = staging.join(&relative);
            if let Some(parent) = destination.parent() {
                create_dir(parent)?;
            }
            let result = match self.open_pool_of(guild) {
                Some(pool) => vacuum_into(&pool, &destination).await,
                None => {
                    let path = self.guild_path(guild);
                    if !path.is_file() {
                        // A guild with no database yet: open it, so its backup has the schema.
                        let pool = self.guild(guild).await?;
                        vacuum_into(&pool, &destination).await
                    } else {
                        let mut conn = open_existing(&path, &self.options).await?;
                        let result = vacuum_into(&mut conn, &destination).await;
                        let _ = conn.close().await;
                        result
                    }
                }
            };
            result.map_err(|source| self.query_error(Some(guild), source))?;
            written.push(relative);
        }
        for file in &written {
            sync_file(&staging.join(file));
        }
        Ok(written)
    }

    /// Deletes the oldest backup folders beyond `backup_keep`.
    fn prune_backups(&self, root: &Path) {
        let keep = self.options.backup_keep;
        if keep == 0 {
            return;
        }
        let mut folders = backup_folders(root);
        if folders.len() <= keep {
            return;
        }
        folders.sort_by_key(|name| stamp_order(name));
        let excess = folders.len() - keep;
        for name in folders.into_iter().take(excess) {
            let path = root.join(&name);
            match std::fs::remove_dir_all(&path) {
                Ok(()) => tracing::debug!(folder = %path.display(), "old backup removed"),
                Err(error) => {
                    tracing::warn!(folder = %path.display(), %error, "cannot remove an old backup");
                }
            }
        }
        sync_dir(root);
    }

    /// Moves database backups from their old folder (`backups/<timestamp>/`) to
    /// `db-backups/`: only the timestamped folders, so anything else in `backups/` stays; the
    /// old folder is removed once empty. Returns how many moved.
    pub fn migrate_backup_folder(&self) -> usize {
        let old = self.options.base_path.join(OLD_BACKUPS_DIR);
        let folders = backup_folders(&old);
        if folders.is_empty() {
            return 0;
        }
        let root = self.options.base_path.join(BACKUPS_DIR);
        if let Err(error) = create_dir(&root) {
            tracing::warn!(%error, "cannot move the database backups to db-backups/");
            return 0;
        }
        let mut moved = 0;
        for name in folders {
            let target = root.join(&name);
            if target.exists() {
                continue;
            }
            match std::fs::rename(old.join(&name), &target) {
                Ok(()) => moved += 1,
                Err(error) => {
                    tracing::warn!(folder = %name, %error, "cannot move a database backup");
                }
            }
        }
        sync_dir(&root);
        // Only if nothing else is in there (`remove_dir` refuses a folder that is not empty).
        if std::fs::remove_dir(&old).is_ok() {
            sync_dir(&self.options.base_path);
        }
        if moved > 0 {
            tracing::info!(
                moved,
                from = %old.display(),
                to = %root.display(),
                "database backups moved to their new folder"
            );
        }
        moved
    }

    /// The backup folders under the base path, oldest first.
    pub fn backups(&self) -> Vec<PathBuf> {
        let root = self.options.base_path.join(BACKUPS_DIR);
        let mut folders = backup_folders(&root);
        folders.sort_by_key(|name| stamp_order(name));
        folders.into_iter().map(|name| root.join(name)).collect()
    }
}

/// The statistics of one database file.
fn file_stats(path: &Path, guild: Option<u64>, pool: Option<&sqlx::SqlitePool>) -> DbFileStats {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    DbFileStats {
        path: path.to_path_buf(),
        guild,
        open: pool.is_some_and(|p| !p.is_closed()),
        connections: pool.map_or(0, sqlx::SqlitePool::size),
        idle_connections: pool.map_or(0, sqlx::SqlitePool::num_idle),
        file_bytes: size(path),
        wal_bytes: size(Path::new(&wal)),
        queries: queries_of(path),
    }
}

/// `PRAGMA integrity_check` through `executor`.
pub(super) async fn integrity_of<'e, E: SqliteExecutor<'e>>(executor: E) -> Result<(), String> {
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(executor)
        .await
        .map_err(|e| e.to_string())?;
    match rows.as_slice() {
        [only] if only == "ok" => Ok(()),
        [] => Err("no answer from integrity_check".to_owned()),
        findings => Err(findings.join("; ")),
    }
}

/// `VACUUM INTO destination` through `executor`.
async fn vacuum_into<'e, E: SqliteExecutor<'e>>(
    executor: E,
    destination: &Path,
) -> Result<(), sqlx::Error> {
    let Some(target) = destination.to_str() else {
        return Err(sqlx::Error::Protocol(format!(
            "backup path is not UTF-8: {}",
            destination.display()
        )));
    };
    let sql = format!("VACUUM INTO '{}'", target.replace('\'', "''"));
    executor.execute(sql.as_str()).await.map(|_| ())
}

/// A folder name for a new backup that does not exist yet: the UTC time, with `-2`, `-3`, ...
/// appended when a backup of the same second exists.
fn unused_folder(root: &Path) -> (String, PathBuf) {
    let base = utc_stamp(SystemTime::now());
    let mut stamp = base.clone();
    let mut n = 2;
    while root.join(&stamp).exists() || root.join(format!(".partial-{stamp}")).exists() {
        stamp = format!("{base}-{n}");
        n += 1;
    }
    let target = root.join(&stamp);
    (stamp, target)
}

/// Folder names under `root` that are complete backups (`YYYYMMDDTHHMMSSZ[-n]`).
fn backup_folders(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| is_stamp(name))
        .collect()
}

/// Sort key of a backup folder name: its time, then its `-n` suffix.
fn stamp_order(name: &str) -> (String, u64) {
    match name.split_once('-') {
        Some((stamp, n)) => (stamp.to_owned(), n.parse().unwrap_or(0)),
        None => (name.to_owned(), 0),
    }
}

fn is_stamp(name: &str) -> bool {
    let stamp = name.split('-').next().unwrap_or(name);
    let bytes = stamp.as_bytes();
    bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[9..15].iter().all(u8::is_ascii_digit)
}

/// `YYYYMMDDTHHMMSSZ` of `time` in UTC.
pub(crate) fn utc_stamp(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn create_dir(path: &Path) -> Result<(), DbError> {
    std::fs::create_dir_all(path).map_err(|source| DbError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn sync_file(path: &Path) {
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.sync_all();
    }
}

fn sync_dir(path: &Path) {
    if let Ok(dir) = std::fs::File::open(path) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps_are_calendar_dates() {
        let at = |secs: u64| utc_stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_764_031_446), "20251125T004406Z");
        assert!(is_stamp(&at(1_764_031_446)));
        assert!(is_stamp("20251125T004406Z-3"));
        assert!(!is_stamp(".partial-20251125T004406Z"));
        assert!(!is_stamp("20251125"));
        let mut names = vec![
            "20251125T004406Z-10",
            "20251125T004406Z-2",
            "20251125T004406Z",
        ];
        names.sort_by_key(|n| stamp_order(n));
        assert_eq!(
            names,
            [
                "20251125T004406Z",
                "20251125T004406Z-2",
                "20251125T004406Z-10"
            ]
        );
    }
}
