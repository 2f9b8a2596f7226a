//! [`SqliteSettings`]: guild settings in the guild databases with a cache in front, and command
//! usage counted by a background writer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use zoryx_plugin_api::GuildId;

use super::{Databases, DbError};
use crate::gate::CommandRoles;
use crate::guild_settings::{GuildSettings, GuildSettingsStore, SettingsError};

/// How long the writer gathers command uses before writing them in one transaction.
const DEFAULT_BATCH_WINDOW: Duration = Duration::from_secs(2);

/// A message to the usage writer.
enum Usage {
    /// One use of a command.
    Count(Option<u64>, String),
    /// Write everything pending now and answer.
    Flush(oneshot::Sender<Result<(), String>>),
    /// Write everything pending, answer and stop.
    Stop(oneshot::Sender<Result<(), String>>),
}

/// Guild settings stored in each guild's `guild_settings` table, behind an in-memory cache.
///
/// - [`GuildSettingsStore::cached`] is a map lookup: no I/O, no await.
/// - [`GuildSettingsStore::load`] reads the database on a miss and fills the cache.
/// - `set_*` write the database first, then update the cached entry (if the guild is cached).
/// - [`GuildSettingsStore::record_command`] sends the use to a background task that writes
///   batches in transactions; [`SqliteSettings::flush`] and [`SqliteSettings::close`] write what
///   is pending.
pub struct SqliteSettings {
    databases: Arc<Databases>,
    cache: RwLock<HashMap<GuildId, Arc<GuildSettings>>>,
    /// Bumped by every settings write, so a load that raced with a write does not cache what it
    /// read before the write.
    writes: AtomicU64,
    usage: mpsc::UnboundedSender<Usage>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SqliteSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSettings")
            .field("cached_guilds", &self.cached_guilds())
            .finish_non_exhaustive()
    }
}

impl SqliteSettings {
    /// Settings on top of `databases`, command uses written every 2 s. Needs a tokio runtime.
    pub fn new(databases: Arc<Databases>) -> Arc<Self> {
        Self::with_batch_window(databases, DEFAULT_BATCH_WINDOW)
    }

    /// Like [`SqliteSettings::new`], gathering command uses for `window` before each write.
    pub fn with_batch_window(databases: Arc<Databases>, window: Duration) -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_usage(Arc::clone(&databases), rx, window));
        Arc::new(Self {
            databases,
            cache: RwLock::new(HashMap::new()),
            writes: AtomicU64::new(0),
            usage: tx,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// The databases underneath.
    pub fn databases(&self) -> &Arc<Databases> {
        &self.databases
    }

    /// How many guilds' settings are cached.
    pub fn cached_guilds(&self) -> usize {
        self.cache.read().map_or(0, |cache| cache.len())
    }

    /// Drops `guild` from the cache (the next lookup reads the database).
    pub fn evict(&self, guild: GuildId) {
        self.writes.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(&guild);
        }
    }

    /// Drops every cached guild not in `current_guilds`; returns how many were dropped.
    pub fn retain_guilds(&self, current_guilds: &HashSet<u64>) -> usize {
        let Ok(mut cache) = self.cache.write() else {
            return 0;
        };
        let before = cache.len();
        cache.retain(|guild, _| current_guilds.contains(&guild.get()));
        before - cache.len()
    }

    /// Writes every command use recorded so far.
    pub async fn flush(&self) -> Result<(), DbError> {
        let (tx, rx) = oneshot::channel();
        if self.usage.send(Usage::Flush(tx)).is_err() {
            return Ok(());
        }
        rx.await
            .unwrap_or(Ok(()))
            .map_err(|e| DbError::Invalid(format!("cannot write command counts: {e}")))
    }

    /// Writes every command use recorded so far and stops the writer; later uses are dropped.
    pub async fn close(&self) -> Result<(), DbError> {
        let (tx, rx) = oneshot::channel();
        let result = if self.usage.send(Usage::Stop(tx)).is_ok() {
            rx.await.unwrap_or(Ok(()))
        } else {
            Ok(())
        };
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        result.map_err(|e| DbError::Invalid(format!("cannot write command counts: {e}")))
    }

    /// After a write of `guild`'s settings: applies `change` to the cached entry, if any (an
    /// uncached guild is read from the database on its next load).
    fn written(&self, guild: GuildId, change: impl FnOnce(&mut GuildSettings)) {
        self.writes.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut cache) = self.cache.write()
            && let Some(entry) = cache.get_mut(&guild)
        {
            let mut settings = (**entry).clone();
            change(&mut settings);
            *entry = Arc::new(settings);
        }
    }
}

impl GuildSettingsStore for SqliteSettings {
    fn cached(&self, guild: GuildId) -> Option<Arc<GuildSettings>> {
        self.cache.read().ok()?.get(&guild).cloned()
    }

    fn load(&self, guild: GuildId) -> BoxFuture<'_, Result<Arc<GuildSettings>, SettingsError>> {
        Box::pin(async move {
            if let Some(settings) = self.cached(guild) {
                return Ok(settings);
            }
            let writes_before = self.writes.load(Ordering::Acquire);
            let settings = Arc::new(
                self.databases
                    .guild_settings(guild.get())
                    .await
                    .map_err(|e| SettingsError(e.to_string()))?,
            );
            if let Ok(mut cache) = self.cache.write() {
                if let Some(newer) = cache.get(&guild) {
                    return Ok(Arc::clone(newer));
                }
                if self.writes.load(Ordering::Acquire) == writes_before {
                    cache.insert(guild, Arc::clone(&settings));
                }
            }
            Ok(settings)
        })
    }

    fn set_prefix(
        &self,
        guild: GuildId,
        prefix: Option<String>,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        Box::pin(async move {
            let result = self
                .databases
                .set_guild_prefix(guild.get(), prefix.as_deref())
                .await;
            match result {
                Ok(()) => {
                    self.written(guild, |s| s.prefix = prefix);
                    Ok(())
                }
                // Refused before the database: nothing changed.
                Err(error @ DbError::Invalid(_)) => Err(SettingsError(error.to_string())),
                Err(error) => {
                    // What is on disk is unknown: read it again next time.
                    self.evict(guild);
                    Err(SettingsError(error.to_string()))
                }
            }
        })
    }

    fn set_mention_prefix(
        &self,
        guild: GuildId,
        enabled: Option<bool>,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        Box::pin(async move {
            match self
                .databases
                .set_mention_prefix(guild.get(), enabled)
                .await
            {
                Ok(()) => {
                    self.written(guild, |s| s.mention_prefix = enabled);
                    Ok(())
                }
                Err(error) => {
                    self.evict(guild);
                    Err(SettingsError(error.to_string()))
                }
            }
        })
    }

    fn set_command_roles(
        &self,
        guild: GuildId,
        roles: CommandRoles,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        Box::pin(async move {
            match self.databases.set_command_roles(guild.get(), &roles).await {
                Ok(()) => {
                    self.written(guild, |s| s.command_roles = roles);
                    Ok(())
                }
                Err(error) => {
                    self.evict(guild);
                    Err(SettingsError(error.to_string()))
                }
            }
        })
    }

    fn set_auto_delete(
        &self,
        guild: GuildId,
        auto_delete: crate::guild_settings::AutoDelete,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        Box::pin(async move {
            match self
                .databases
                .set_auto_delete(guild.get(), auto_delete)
                .await
            {
                Ok(()) => {
                    self.written(guild, |s| s.auto_delete = auto_delete);
                    Ok(())
                }
                Err(error) => {
                    self.evict(guild);
                    Err(SettingsError(error.to_string()))
                }
            }
        })
    }

    fn record_command(&self, guild: Option<GuildId>, command: &str) {
        let sent = self
            .usage
            .send(Usage::Count(guild.map(GuildId::get), command.to_owned()));
        if sent.is_err() {
            tracing::debug!(
                command,
                "command use after the settings store closed; not counted"
            );
        }
    }
}

/// The usage writer: gathers uses for `window`, then adds them in one transaction per database.
/// Counts that fail to write are kept and retried with the next batch.
async fn write_usage(
    databases: Arc<Databases>,
    mut rx: mpsc::UnboundedReceiver<Usage>,
    window: Duration,
) {
    let mut pending = Pending::default();
    let mut open = true;
    while open {
        let mut waiters = Vec::new();
        let mut stop = false;
        match rx.recv().await {
            None => open = false,
            Some(Usage::Count(guild, command)) => {
                pending.add(guild, command);
                let deadline = tokio::time::Instant::now() + window;
                loop {
                    tokio::select! {
                        message = rx.recv() => match message {
                            None => { open = false; break; }
                            Some(Usage::Count(guild, command)) => {
                                pending.add(guild, command);
                            }
                            Some(Usage::Flush(reply)) => { waiters.push(reply); break; }
                            Some(Usage::Stop(reply)) => { waiters.push(reply); stop = true; break; }
                        },
                        () = tokio::time::sleep_until(deadline) => break,
                    }
                }
            }
            Some(Usage::Flush(reply)) => waiters.push(reply),
            Some(Usage::Stop(reply)) => {
                waiters.push(reply);
                stop = true;
            }
        }
        if stop {
            // Take whatever arrived before the stop request.
            rx.close();
            while let Ok(message) = rx.try_recv() {
                match message {
                    Usage::Count(guild, command) => {
                        pending.add(guild, command);
                    }
                    Usage::Flush(reply) | Usage::Stop(reply) => waiters.push(reply),
                }
            }
        }
        let result = write_pending(&databases, &mut pending).await;
        if let Err(error) = &result {
            tracing::warn!(%error, databases = pending.len(), "cannot write command counts; will retry");
        }
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
        if stop {
            break;
        }
    }
    if !pending.is_empty()
        && let Err(error) = write_pending(&databases, &mut pending).await
    {
        tracing::warn!(%error, databases = pending.len(), "command counts not written");
    }
}

/// Command uses not written yet, per database: `None` is `main.db` (every use), `Some(guild)`
/// that guild's database. Each database's counts are written in one transaction and dropped
/// only once written, so a failure in one database neither loses nor double-counts the others.
#[derive(Default)]
struct Pending(HashMap<Option<u64>, HashMap<String, u64>>);

impl Pending {
    fn add(&mut self, guild: Option<u64>, command: String) {
        if let Some(guild) = guild {
            *self
                .0
                .entry(Some(guild))
                .or_default()
                .entry(command.clone())
                .or_default() += 1;
        }
        *self.0.entry(None).or_default().entry(command).or_default() += 1;
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Databases with counts waiting.
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Writes what is pending; what fails stays pending. Returns the first failure.
async fn write_pending(databases: &Databases, pending: &mut Pending) -> Result<(), String> {
    let mut first_error = None;
    let mut targets: Vec<Option<u64>> = pending.0.keys().copied().collect();
    targets.sort_unstable();
    for target in targets {
        let Some(counts) = pending.0.get(&target) else {
            continue;
        };
        let counts: BTreeMap<&str, u64> = counts.iter().map(|(c, n)| (c.as_str(), *n)).collect();
        match databases.add_command_counts(target, &counts).await {
            Ok(()) => {
                pending.0.remove(&target);
            }
            Err(error) => {
                first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The storage part of a graceful stop, run after commands have stopped and in-flight ones
/// finished: write pending command counts, back up every database, close the pools.
pub async fn shutdown(settings: &SqliteSettings) {
    if let Err(error) = settings.close().await {
        tracing::warn!(%error, "command counts not written at shutdown");
    }
    let databases = settings.databases();
    match databases.backup(None).await {
        Ok(files) => tracing::info!(files = files.len(), "shutdown backup written"),
        Err(error) => tracing::error!(%error, "shutdown backup failed"),
    }
    databases.close().await;
}
