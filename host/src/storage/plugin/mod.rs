//! Plugin storage: each plugin's key-value store, its own SQL tables in the guild databases and
//! its JSON files in `data/plugins/<name>/`, all namespaced by the plugin's manifest name.
//!
//! [`PluginStorage`] is what the host functions behind `HostVtable` call. Every operation takes
//! the calling plugin's name from the host's own state for that plugin, never from the plugin,
//! so a plugin cannot name another's namespace. Nothing here deletes data when a plugin is
//! unloaded.

pub mod authorizer;
pub mod kv;
pub mod paths;
pub mod sql;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::storage::atomic::{AtomicError, AtomicStore, CacheMode};
use crate::storage::db::{Databases, DbError, DbOptions};
use paths::{PathError, PluginFolder, Resolved};
use sql::{Outcome, SqlError};

/// Why a storage call failed; the text is what the plugin sees.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The databases could not be opened or a statement failed.
    #[error("{0}")]
    Db(#[from] DbError),
    /// A key-value statement failed.
    #[error("key-value store: {0}")]
    Kv(#[from] sqlx::Error),
    /// A plugin SQL statement was refused or failed.
    #[error("{0}")]
    Sql(#[from] SqlError),
    /// A file path was refused.
    #[error("{0}")]
    Path(#[from] PathError),
    /// The file store failed.
    #[error("{0}")]
    Files(#[from] AtomicError),
    /// The value is not valid JSON, or a key is unusable.
    #[error("{0}")]
    Invalid(String),
    /// A blocking file task failed.
    #[error("file task: {0}")]
    Task(String),
}

/// Where the databases come from: already open, or opened on first use.
#[derive(Debug)]
enum Source {
    Open(Arc<Databases>),
    Lazy {
        options: DbOptions,
        cell: tokio::sync::OnceCell<Arc<Databases>>,
    },
}

/// The storage every plugin's host functions use.
#[derive(Debug)]
pub struct PluginStorage {
    databases: Source,
    files: Arc<AtomicStore>,
    /// `data/plugins`.
    files_base: PathBuf,
}

fn json_text(value: &str) -> Result<Value, StorageError> {
    serde_json::from_str(value)
        .map_err(|e| StorageError::Invalid(format!("the value is not JSON: {e}")))
}

fn check_key(key: &str) -> Result<(), StorageError> {
    if key.is_empty() {
        Err(StorageError::Invalid("the key is empty".into()))
    } else {
        Ok(())
    }
}

impl PluginStorage {
    /// Storage over databases the host already opened; files go under `data_dir/plugins/`.
    pub fn new(data_dir: &Path, databases: Arc<Databases>, files: Arc<AtomicStore>) -> Arc<Self> {
        Arc::new(Self {
            databases: Source::Open(databases),
            files,
            files_base: data_dir.join("plugins"),
        })
    }

    /// Storage that opens the databases described by `options` when a plugin first needs them
    /// (for hosts that do not open them up front: tests, `zoryx-plugin-test`).
    pub fn open_lazily(data_dir: &Path, options: DbOptions, files: Arc<AtomicStore>) -> Arc<Self> {
        Arc::new(Self {
            databases: Source::Lazy {
                options,
                cell: tokio::sync::OnceCell::new(),
            },
            files,
            files_base: data_dir.join("plugins"),
        })
    }

    /// The folder holding every plugin's file folder (`data/plugins`).
    pub fn files_base(&self) -> &Path {
        &self.files_base
    }

    /// The databases, opening them first if needed.
    pub async fn databases(&self) -> Result<Arc<Databases>, StorageError> {
        match &self.databases {
            Source::Open(databases) => Ok(Arc::clone(databases)),
            Source::Lazy { options, cell } => cell
                .get_or_try_init(|| Databases::open(options.clone()))
                .await
                .map(Arc::clone)
                .map_err(StorageError::from),
        }
    }

    async fn kv_pool(&self, guild: Option<u64>) -> Result<sqlx::SqlitePool, StorageError> {
        let databases = self.databases().await?;
        match guild {
            None => Ok(databases.main().clone()),
            Some(guild) => Ok(databases.guild(guild).await?),
        }
    }

    /// Reads `key` of `plugin` in the global scope (`None`) or a guild's; its JSON text.
    pub async fn kv_get(
        &self,
        plugin: &str,
        guild: Option<u64>,
        key: &str,
    ) -> Result<Option<String>, StorageError> {
        check_key(key)?;
        Ok(kv::get(&self.kv_pool(guild).await?, plugin, key).await?)
    }

    /// Writes `key` of `plugin` (`value` is JSON text).
    pub async fn kv_set(
        &self,
        plugin: &str,
        guild: Option<u64>,
        key: &str,
        value: &str,
    ) -> Result<(), StorageError> {
        check_key(key)?;
        let value = json_text(value)?.to_string();
        Ok(kv::set(&self.kv_pool(guild).await?, plugin, key, &value).await?)
    }

    /// Deletes `key` of `plugin`; whether it existed.
    pub async fn kv_delete(
        &self,
        plugin: &str,
        guild: Option<u64>,
        key: &str,
    ) -> Result<bool, StorageError> {
        check_key(key)?;
        Ok(kv::delete(&self.kv_pool(guild).await?, plugin, key).await?)
    }

    /// The keys of `plugin` starting with `prefix`, sorted.
    pub async fn kv_keys(
        &self,
        plugin: &str,
        guild: Option<u64>,
        prefix: &str,
    ) -> Result<Vec<String>, StorageError> {
        Ok(kv::keys(&self.kv_pool(guild).await?, plugin, prefix).await?)
    }

    /// The table prefix of `plugin`.
    pub fn sql_prefix(plugin: &str) -> Result<String, StorageError> {
        Ok(sql::table_prefix(plugin)?)
    }

    /// Runs one statement of `plugin` in `guild`'s database; a query when `rows` is set.
    pub async fn sql(
        &self,
        plugin: &str,
        guild: u64,
        statement: &str,
        params: &str,
        rows: bool,
    ) -> Result<Outcome, StorageError> {
        let prefix = sql::table_prefix(plugin)?;
        let pool = self.databases().await?.guild(guild).await?;
        Ok(sql::run(
            pool,
            prefix,
            statement.to_owned(),
            params.to_owned(),
            rows,
            sql::STATEMENT_LIMIT,
        )
        .await?)
    }

    /// Resolves `path` in `plugin`'s folder off the async threads.
    async fn resolve(
        &self,
        plugin: &str,
        path: &str,
        create: bool,
        dir: bool,
    ) -> Result<Resolved, StorageError> {
        let base = self.files_base.clone();
        let (plugin, path) = (plugin.to_owned(), path.to_owned());
        tokio::task::spawn_blocking(move || {
            let folder = PluginFolder::open(&base, &plugin)?;
            if dir {
                folder.dir(&path)
            } else {
                folder.file(&path, create)
            }
        })
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
        .map_err(StorageError::from)
    }

    /// Reads file `path` of `plugin`; its JSON text, `None` if it does not exist.
    pub async fn file_read(
        &self,
        plugin: &str,
        path: &str,
    ) -> Result<Option<String>, StorageError> {
        match self.resolve(plugin, path, false, false).await? {
            Resolved::Missing => Ok(None),
            Resolved::Path(file) => Ok(self
                .files
                .read_json_shared(&file)
                .await?
                .map(|v| v.to_string())),
        }
    }

    /// Writes file `path` of `plugin` atomically (`value` is JSON text).
    pub async fn file_write(
        &self,
        plugin: &str,
        path: &str,
        value: &str,
    ) -> Result<(), StorageError> {
        let value = json_text(value)?;
        match self.resolve(plugin, path, true, false).await? {
            Resolved::Path(file) => Ok(self
                .files
                .write_json(&file, &value, CacheMode::Keep)
                .await?),
            Resolved::Missing => Err(StorageError::Invalid(format!(
                "cannot create the folders of `{path}`"
            ))),
        }
    }

    /// Deletes file `path` of `plugin`; whether it existed.
    pub async fn file_delete(&self, plugin: &str, path: &str) -> Result<bool, StorageError> {
        match self.resolve(plugin, path, false, false).await? {
            Resolved::Missing => Ok(false),
            Resolved::Path(file) => Ok(self.files.delete(&file).await?),
        }
    }

    /// The files (`name`) and folders (`name/`) in folder `dir` of `plugin`, sorted; temp files
    /// of unfinished writes are left out.
    pub async fn file_list(&self, plugin: &str, dir: &str) -> Result<Vec<String>, StorageError> {
        let Resolved::Path(dir) = self.resolve(plugin, dir, false, true).await? else {
            return Ok(Vec::new());
        };
        tokio::task::spawn_blocking(move || {
            let entries = std::fs::read_dir(&dir).map_err(|source| PathError::Io {
                path: dir.display().to_string(),
                source,
            })?;
            let mut names = Vec::new();
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.contains(".zoryx-tmp-") {
                    continue;
                }
                match entry.file_type() {
                    Ok(kind) if kind.is_dir() => names.push(format!("{name}/")),
                    Ok(kind) if kind.is_file() => names.push(name),
                    _ => {}
                }
            }
            names.sort();
            Ok(names)
        })
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
    }
}
