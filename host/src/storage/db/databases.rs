//! [`Databases`]: `main.db`, the lazily opened guild pools, guild settings and command counts.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::Row as _;
use sqlx::sqlite::SqlitePool;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use super::connect::{GUILD_MIGRATIONS, MAIN_MIGRATIONS, open_pool};
use super::{DbError, DbOptions};
use crate::gate::CommandRoles;
use crate::guild_settings::{AutoDelete, GuildSettings};

/// `guild_settings` key of a guild's prefix.
pub(crate) const PREFIX_KEY: &str = "prefix";
/// `guild_settings` key of a guild's @mention-prefix toggle (`"true"` / `"false"`).
pub(crate) const MENTION_PREFIX_KEY: &str = "mention_prefix";
/// `guild_settings` key of the guild's role grants (JSON: command → role ids).
pub(crate) const COMMAND_ROLES_KEY: &str = "command_roles";
/// `guild_settings` key of what the bot deletes after a while (JSON: `{errors, commands}`).
pub(crate) const AUTO_DELETE_KEY: &str = "auto_delete";
/// The longest prefix accepted.
pub(crate) const MAX_PREFIX_CHARS: usize = 32;

/// One guild's pool, opened on first use.
pub(crate) struct GuildSlot {
    pub(crate) pool: OnceCell<SqlitePool>,
    last_used: Mutex<Instant>,
}

impl GuildSlot {
    fn touch(&self) {
        *self
            .last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .elapsed()
    }
}

/// The bot's SQLite databases: `main.db` (global) and one `<guild>/guild.db` per guild.
///
/// Shared as an `Arc`. Ask [`Databases::guild`] for a guild's pool each time it is needed rather
/// than keeping it: a pool unused for [`DbOptions::guild_idle`] is closed, and the next
/// [`Databases::guild`] opens a fresh one.
pub struct Databases {
    pub(crate) options: DbOptions,
    main: SqlitePool,
    main_path: PathBuf,
    pub(crate) guilds: Mutex<HashMap<u64, Arc<GuildSlot>>>,
    closed: AtomicBool,
    sweeper: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Databases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Databases")
            .field("base_path", &self.options.base_path)
            .field("open_guild_pools", &self.open_guilds().len())
            .finish_non_exhaustive()
    }
}

impl Databases {
    /// Opens (creating and migrating) `main.db` under `options.base_path` and starts the sweeper
    /// that closes idle guild pools. Needs a tokio runtime.
    pub async fn open(options: DbOptions) -> Result<Arc<Self>, DbError> {
        std::fs::create_dir_all(&options.base_path).map_err(|source| DbError::Io {
            path: options.base_path.clone(),
            source,
        })?;
        let main_path = options.base_path.join("main.db");
        let main = open_pool(&main_path, &options, &MAIN_MIGRATIONS).await?;
        let databases = Arc::new(Self {
            options,
            main,
            main_path,
            guilds: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            sweeper: Mutex::new(None),
        });
        if !databases.options.guild_idle.is_zero() {
            let every = (databases.options.guild_idle / 2)
                .clamp(Duration::from_millis(10), Duration::from_secs(60));
            let handle = tokio::spawn(sweep(Arc::downgrade(&databases), every));
            *databases
                .sweeper
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        }
        databases.migrate_backup_folder();
        tracing::debug!(path = %databases.main_path.display(), "main database open");
        Ok(databases)
    }

    /// The options the databases were opened with.
    pub fn options(&self) -> &DbOptions {
        &self.options
    }

    /// The pool of `main.db`.
    pub fn main(&self) -> &SqlitePool {
        &self.main
    }

    /// Where `main.db` is.
    pub fn main_path(&self) -> &Path {
        &self.main_path
    }

    /// Where `guild`'s database is (whether or not it exists yet).
    pub fn guild_path(&self, guild: u64) -> PathBuf {
        self.options
            .base_path
            .join(guild.to_string())
            .join("guild.db")
    }

    /// `guild`'s pool, opening (creating and migrating) `<guild>/guild.db` on first use.
    pub async fn guild(&self, guild: u64) -> Result<SqlitePool, DbError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(DbError::Closed);
        }
        let slot = {
            let mut guilds = self
                .guilds
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let slot = guilds.entry(guild).or_insert_with(|| {
                Arc::new(GuildSlot {
                    pool: OnceCell::new(),
                    last_used: Mutex::new(Instant::now()),
                })
            });
            slot.touch();
            Arc::clone(slot)
        };
        let path = self.guild_path(guild);
        let pool = slot
            .pool
            .get_or_try_init(|| async {
                tracing::debug!(guild, path = %path.display(), "opening guild database");
                open_pool(&path, &self.options, &GUILD_MIGRATIONS).await
            })
            .await;
        match pool {
            Ok(pool) => {
                slot.touch();
                Ok(pool.clone())
            }
            Err(error) => {
                // Forget the failed slot so the next call tries again.
                let mut guilds = self
                    .guilds
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if guilds.get(&guild).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                    guilds.remove(&guild);
                }
                Err(error)
            }
        }
    }

    /// Whether `guild`'s pool is open right now.
    pub fn is_guild_open(&self, guild: u64) -> bool {
        self.guilds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&guild)
            .is_some_and(|slot| slot.pool.initialized())
    }

    /// The guilds whose pools are open, sorted.
    pub fn open_guilds(&self) -> Vec<u64> {
        let mut open: Vec<u64> = self
            .guilds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(_, slot)| slot.pool.initialized())
            .map(|(guild, _)| *guild)
            .collect();
        open.sort_unstable();
        open
    }

    /// Closes `guild`'s pool if it is open (its data stays on disk). Returns whether one was open.
    pub async fn cleanup_guild(&self, guild: u64) -> bool {
        let slot = self
            .guilds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&guild);
        match slot.as_ref().and_then(|slot| slot.pool.get()) {
            Some(pool) => {
                pool.close().await;
                tracing::debug!(guild, "guild database closed");
                true
            }
            None => false,
        }
    }

    /// Closes the pools of guilds unused for longer than [`DbOptions::guild_idle`] and with no
    /// connection in use; returns those guilds. The sweeper task calls this periodically.
    pub async fn close_idle_guilds(&self) -> Vec<u64> {
        let idle = self.options.guild_idle;
        let closing: Vec<(u64, SqlitePool)> = {
            let mut guilds = self
                .guilds
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let due: Vec<u64> = guilds
                .iter()
                .filter(|(_, slot)| {
                    slot.pool.get().is_some_and(|pool| {
                        slot.idle_for() >= idle && pool.size() as usize == pool.num_idle()
                    })
                })
                .map(|(guild, _)| *guild)
                .collect();
            due.into_iter()
                .filter_map(|guild| {
                    let slot = guilds.remove(&guild)?;
                    slot.pool.get().cloned().map(|pool| (guild, pool))
                })
                .collect()
        };
        let mut closed = Vec::with_capacity(closing.len());
        for (guild, pool) in closing {
            pool.close().await;
            tracing::debug!(guild, "idle guild database closed");
            closed.push(guild);
        }
        closed.sort_unstable();
        closed
    }

    /// Sets (or with `None` removes) `guild`'s prefix. Empty prefixes, prefixes with whitespace
    /// and prefixes longer than 32 characters are refused.
    pub async fn set_guild_prefix(&self, guild: u64, prefix: Option<&str>) -> Result<(), DbError> {
        if let Some(prefix) = prefix {
            validate_prefix(prefix)?;
        }
        self.set_setting(guild, PREFIX_KEY, prefix).await
    }

    /// `guild`'s prefix, if one is set.
    pub async fn get_guild_prefix(&self, guild: u64) -> Result<Option<String>, DbError> {
        self.get_setting(guild, PREFIX_KEY).await
    }

    /// Sets (or with `None` removes) `guild`'s @mention-prefix toggle.
    pub async fn set_mention_prefix(
        &self,
        guild: u64,
        enabled: Option<bool>,
    ) -> Result<(), DbError> {
        let value = enabled.map(|e| if e { "true" } else { "false" });
        self.set_setting(guild, MENTION_PREFIX_KEY, value).await
    }

    /// `guild`'s @mention-prefix toggle, if one is set.
    pub async fn get_mention_prefix(&self, guild: u64) -> Result<Option<bool>, DbError> {
        Ok(self
            .get_setting(guild, MENTION_PREFIX_KEY)
            .await?
            .and_then(|v| parse_bool(&v)))
    }

    /// Replaces `guild`'s role grants by command (stored as JSON; none: the row is removed).
    pub async fn set_command_roles(&self, guild: u64, roles: &CommandRoles) -> Result<(), DbError> {
        let roles: CommandRoles = roles
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(name, ids)| (name.clone(), ids.clone()))
            .collect();
        if roles.is_empty() {
            return self.set_setting(guild, COMMAND_ROLES_KEY, None).await;
        }
        let json = serde_json::to_string(&roles)
            .map_err(|e| DbError::Invalid(format!("role grants: {e}")))?;
        self.set_setting(guild, COMMAND_ROLES_KEY, Some(&json))
            .await
    }

    /// Sets what the bot deletes after a while in `guild` (the defaults: the row is removed).
    pub async fn set_auto_delete(
        &self,
        guild: u64,
        auto_delete: AutoDelete,
    ) -> Result<(), DbError> {
        if auto_delete == AutoDelete::default() {
            return self.set_setting(guild, AUTO_DELETE_KEY, None).await;
        }
        let json = serde_json::to_string(&auto_delete)
            .map_err(|e| DbError::Invalid(format!("auto-delete: {e}")))?;
        self.set_setting(guild, AUTO_DELETE_KEY, Some(&json)).await
    }

    /// All of `guild`'s settings in one read. Role grants that do not parse are reported in
    /// the log and left on disk untouched (the guild gets none until they are set again).
    pub async fn guild_settings(&self, guild: u64) -> Result<GuildSettings, DbError> {
        let pool = self.guild(guild).await?;
        let rows = sqlx::query("SELECT key, value FROM guild_settings WHERE key IN (?, ?, ?, ?)")
            .bind(PREFIX_KEY)
            .bind(MENTION_PREFIX_KEY)
            .bind(COMMAND_ROLES_KEY)
            .bind(AUTO_DELETE_KEY)
            .fetch_all(&pool)
            .await
            .map_err(|source| self.query_error(Some(guild), source))?;
        let mut settings = GuildSettings::default();
        for row in rows {
            let key: String = row.get(0);
            let value: Option<String> = row.get(1);
            match (key.as_str(), value) {
                (PREFIX_KEY, Some(value)) => settings.prefix = Some(value),
                (MENTION_PREFIX_KEY, Some(value)) => settings.mention_prefix = parse_bool(&value),
                (COMMAND_ROLES_KEY, Some(value)) => match serde_json::from_str(&value) {
                    Ok(roles) => settings.command_roles = roles,
                    Err(error) => {
                        tracing::warn!(guild, %error, "the guild's role grants do not parse; none applied");
                    }
                },
                (AUTO_DELETE_KEY, Some(value)) => match serde_json::from_str(&value) {
                    Ok(auto_delete) => settings.auto_delete = auto_delete,
                    Err(error) => {
                        tracing::warn!(guild, %error, "the guild's auto-delete setting does not parse; the defaults apply");
                    }
                },
                _ => {}
            }
        }
        Ok(settings)
    }

    /// Reads one `guild_settings` value.
    pub async fn get_setting(&self, guild: u64, key: &str) -> Result<Option<String>, DbError> {
        let pool = self.guild(guild).await?;
        let value: Option<Option<String>> =
            sqlx::query_scalar("SELECT value FROM guild_settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&pool)
                .await
                .map_err(|source| self.query_error(Some(guild), source))?;
        Ok(value.flatten())
    }

    /// Writes (or with `None` deletes) one `guild_settings` value.
    pub async fn set_setting(
        &self,
        guild: u64,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), DbError> {
        let pool = self.guild(guild).await?;
        let result = match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO guild_settings (key, value, updated_at) \
                     VALUES (?, ?, CURRENT_TIMESTAMP) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value, \
                     updated_at = excluded.updated_at",
                )
                .bind(key)
                .bind(value)
                .execute(&pool)
                .await
            }
            None => {
                sqlx::query("DELETE FROM guild_settings WHERE key = ?")
                    .bind(key)
                    .execute(&pool)
                    .await
            }
        };
        result
            .map(|_| ())
            .map_err(|source| self.query_error(Some(guild), source))
    }

    /// Counts one use of `command`: in `main.db` (all uses) and, for a guild, in its database.
    pub async fn increment_command_usage(
        &self,
        guild: Option<u64>,
        command: &str,
    ) -> Result<(), DbError> {
        self.record_command_counts(&[(guild, command.to_owned(), 1)])
            .await
    }

    /// Adds batched counts `(guild, command, uses)`: one transaction on `main.db` with every
    /// count, and one per guild database with that guild's counts.
    pub async fn record_command_counts(
        &self,
        counts: &[(Option<u64>, String, u64)],
    ) -> Result<(), DbError> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut global: BTreeMap<&str, u64> = BTreeMap::new();
        let mut per_guild: BTreeMap<u64, BTreeMap<&str, u64>> = BTreeMap::new();
        for (guild, command, uses) in counts {
            *global.entry(command).or_default() += uses;
            if let Some(guild) = guild {
                *per_guild
                    .entry(*guild)
                    .or_default()
                    .entry(command)
                    .or_default() += uses;
            }
        }
        self.add_command_counts(None, &global).await?;
        for (guild, commands) in per_guild {
            self.add_command_counts(Some(guild), &commands).await?;
        }
        Ok(())
    }

    /// Adds `uses` to each command's count in one database (`main.db` for `None`), in one
    /// transaction: all of them or none.
    pub async fn add_command_counts(
        &self,
        guild: Option<u64>,
        counts: &BTreeMap<&str, u64>,
    ) -> Result<(), DbError> {
        if counts.is_empty() {
            return Ok(());
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(DbError::Closed);
        }
        let pool = match guild {
            None => self.main.clone(),
            Some(guild) => self.guild(guild).await?,
        };
        add_counts(&pool, counts)
            .await
            .map_err(|source| self.query_error(guild, source))
    }

    /// Command usage counts, most used first: `main.db`'s (all uses) or one guild's.
    pub async fn command_stats(&self, guild: Option<u64>) -> Result<Vec<(String, u64)>, DbError> {
        let sql = "SELECT command_name, usage_count FROM command_stats \
                   ORDER BY usage_count DESC, command_name";
        let rows: Vec<(String, i64)> = match guild {
            None => sqlx::query_as(sql).fetch_all(&self.main).await,
            Some(guild) => {
                let pool = self.guild(guild).await?;
                sqlx::query_as(sql).fetch_all(&pool).await
            }
        }
        .map_err(|source| self.query_error(guild, source))?;
        Ok(rows
            .into_iter()
            .map(|(name, count)| (name, u64::try_from(count).unwrap_or(0)))
            .collect())
    }

    /// Whether [`Databases::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Stops the sweeper and closes every pool (waiting for connections in use to come back).
    /// Later calls that need a database answer [`DbError::Closed`].
    pub async fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(sweeper) = self
            .sweeper
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            sweeper.abort();
        }
        let slots: Vec<Arc<GuildSlot>> = self
            .guilds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain()
            .map(|(_, slot)| slot)
            .collect();
        for slot in slots {
            if let Some(pool) = slot.pool.get() {
                pool.close().await;
            }
        }
        self.main.close().await;
        tracing::debug!("databases closed");
    }

    pub(crate) fn query_error(&self, guild: Option<u64>, source: sqlx::Error) -> DbError {
        DbError::Query {
            path: match guild {
                Some(guild) => self.guild_path(guild),
                None => self.main_path.clone(),
            },
            source,
        }
    }
}

/// Adds `uses` to each command's count in one transaction.
async fn add_counts(pool: &SqlitePool, counts: &BTreeMap<&str, u64>) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (command, uses) in counts {
        sqlx::query(
            "INSERT INTO command_stats (command_name, usage_count, last_used) \
             VALUES (?, ?, CURRENT_TIMESTAMP) \
             ON CONFLICT(command_name) DO UPDATE SET \
             usage_count = usage_count + excluded.usage_count, last_used = excluded.last_used",
        )
        .bind(*command)
        .bind(i64::try_from(*uses).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Closes idle guild pools every `every` until the databases are dropped or closed.
async fn sweep(databases: Weak<Databases>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(databases) = databases.upgrade() else {
            return;
        };
        if databases.is_closed() {
            return;
        }
        let closed = databases.close_idle_guilds().await;
        if !closed.is_empty() {
            tracing::debug!(?closed, "closed idle guild databases");
        }
    }
}

fn validate_prefix(prefix: &str) -> Result<(), DbError> {
    if prefix.is_empty() {
        return Err(DbError::Invalid("a prefix cannot be empty".to_owned()));
    }
    if prefix.chars().any(char::is_whitespace) {
        return Err(DbError::Invalid(format!(
            "a prefix cannot contain spaces: {prefix:?}"
        )));
    }
    if prefix.chars().count() > MAX_PREFIX_CHARS {
        return Err(DbError::Invalid(format!(
            "a prefix is at most {MAX_PREFIX_CHARS} characters"
        )));
    }
    Ok(())
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "enabled" => Some(true),
        "false" | "0" | "no" | "off" | "disabled" => Some(false),
        _ => None,
    }
}
