//! A plugin's own SQL tables and JSON files (plugin-api 1.2).
//!
//! Both live with the bot's data and survive reloads and restarts; unloading a plugin never
//! deletes them. On a host older than 1.2 every method answers [`PluginError::NotAvailable`].
//! The key-value store is [`Storage`](crate::Storage).

use abi_stable::std_types::RStr;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::{Host, from_ffi};
use crate::error::{PluginError, PluginResult};
use crate::model::GuildId;

/// One row of a query: column name → JSON value (`null`, a number, a string; BLOBs as arrays
/// of byte values).
pub type Row = serde_json::Map<String, serde_json::Value>;

impl Host {
    /// This plugin's SQL tables in `guild`'s database.
    pub fn sql(&self, guild: GuildId) -> Sql {
        Sql { host: *self, guild }
    }

    /// This plugin's JSON files (its folder `data/plugins/<name>/`).
    pub fn files(&self) -> Files {
        Files { host: *self }
    }
}

fn missing(what: &str) -> PluginError {
    PluginError::NotAvailable(what.to_owned())
}

fn params_json<P: Serialize>(params: P) -> PluginResult<String> {
    Ok(serde_json::to_string(&params)?)
}

/// A plugin's own tables inside one guild's database.
///
/// Every table (and index and view) the plugin creates must carry its prefix,
/// `p_<plugin name>__` (see [`Sql::table`]); the host refuses statements that touch anything
/// else, `ATTACH`, transactions, most `PRAGMA`s and more than one statement per call, and names
/// the refused table in the error. Values are always bound as parameters: pass them as a tuple,
/// an array or a slice of JSON scalars (`()` for none), and refer to them as `?1`, `?2`, …
///
/// ```no_run
/// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
/// use zoryx_plugin_api::GuildId;
/// let sql = host.sql(GuildId(1));
/// let notes = sql.table("notes")?; // "p_<plugin>__notes"
/// sql.execute(
///     &format!("CREATE TABLE IF NOT EXISTS {notes} (author INTEGER, text TEXT)"),
///     (),
/// )
/// .await?;
/// sql.execute(&format!("INSERT INTO {notes} VALUES (?1, ?2)"), (42, "hello")).await?;
/// let rows = sql
///     .query(&format!("SELECT text FROM {notes} WHERE author = ?1"), [42])
///     .await?;
/// assert_eq!(rows[0]["text"], "hello");
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Sql {
    host: Host,
    guild: GuildId,
}

impl Sql {
    /// The guild whose database this is.
    pub fn guild(&self) -> GuildId {
        self.guild
    }

    /// The prefix every table of this plugin carries: `p_<plugin name>__`.
    pub fn prefix(&self) -> PluginResult<String> {
        let prefix = self
            .host
            .handle()
            .vtable
            .sql_prefix()
            .ok_or_else(|| missing("plugin SQL tables"))?;
        from_ffi(prefix(self.host.handle().data)).map(|p| p.as_str().to_owned())
    }

    /// The full name of this plugin's table `name` (`things` → `p_<plugin name>__things`).
    pub fn table(&self, name: &str) -> PluginResult<String> {
        Ok(format!("{}{name}", self.prefix()?))
    }

    /// Runs one statement (`CREATE TABLE`, `INSERT`, `UPDATE`, `DELETE`, …); returns how many
    /// rows it changed.
    pub async fn execute<P: Serialize>(&self, sql: &str, params: P) -> PluginResult<u64> {
        let execute = self
            .host
            .handle()
            .vtable
            .sql_execute()
            .ok_or_else(|| missing("plugin SQL tables"))?;
        let params = params_json(params)?;
        from_ffi(
            execute(
                self.host.handle().data,
                self.guild.0,
                RStr::from_str(sql),
                RStr::from_str(&params),
            )
            .await,
        )
    }

    /// Runs one query; returns its rows as JSON objects keyed by column name.
    pub async fn query<P: Serialize>(&self, sql: &str, params: P) -> PluginResult<Vec<Row>> {
        let query = self
            .host
            .handle()
            .vtable
            .sql_query()
            .ok_or_else(|| missing("plugin SQL tables"))?;
        let params = params_json(params)?;
        let text = from_ffi(
            query(
                self.host.handle().data,
                self.guild.0,
                RStr::from_str(sql),
                RStr::from_str(&params),
            )
            .await,
        )?;
        Ok(serde_json::from_str(text.as_str())?)
    }

    /// As [`Sql::query`], each row converted to `T` (a struct with the columns as fields).
    pub async fn query_as<T: DeserializeOwned, P: Serialize>(
        &self,
        sql: &str,
        params: P,
    ) -> PluginResult<Vec<T>> {
        self.query(sql, params)
            .await?
            .into_iter()
            .map(|row| Ok(serde_json::from_value(serde_json::Value::Object(row))?))
            .collect()
    }
}

/// A plugin's own JSON files, in its folder `data/plugins/<plugin name>/`.
///
/// Paths are relative, `/`-separated and stay inside that folder: absolute paths, `..`,
/// NUL bytes and symbolic links that lead out of it are refused. Writes are atomic (a crash
/// leaves the old or the new content, never a mix); missing folders are created.
///
/// ```no_run
/// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
/// let files = host.files();
/// files.write("polls/42.json", &serde_json::json!({"question": "Tea?"})).await?;
/// let poll: Option<serde_json::Value> = files.read("polls/42.json").await?;
/// assert_eq!(files.list("polls").await?, vec!["42.json".to_string()]);
/// files.delete("polls/42.json").await?;
/// # let _ = poll; Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Files {
    host: Host,
}

impl Files {
    /// Reads and parses `path`; `Ok(None)` when it does not exist.
    pub async fn read<T: DeserializeOwned>(&self, path: &str) -> PluginResult<Option<T>> {
        let read = self
            .host
            .handle()
            .vtable
            .file_read()
            .ok_or_else(|| missing("plugin files"))?;
        let text = from_ffi(read(self.host.handle().data, RStr::from_str(path)).await)?;
        match text.into_option() {
            None => Ok(None),
            Some(text) => Ok(Some(serde_json::from_str(text.as_str())?)),
        }
    }

    /// Writes `value` as JSON to `path`, atomically.
    pub async fn write<T: Serialize + ?Sized>(&self, path: &str, value: &T) -> PluginResult {
        let write = self
            .host
            .handle()
            .vtable
            .file_write()
            .ok_or_else(|| missing("plugin files"))?;
        let json = serde_json::to_string(value)?;
        from_ffi(
            write(
                self.host.handle().data,
                RStr::from_str(path),
                RStr::from_str(&json),
            )
            .await,
        )
    }

    /// Deletes `path`; returns whether it existed.
    pub async fn delete(&self, path: &str) -> PluginResult<bool> {
        let delete = self
            .host
            .handle()
            .vtable
            .file_delete()
            .ok_or_else(|| missing("plugin files"))?;
        from_ffi(delete(self.host.handle().data, RStr::from_str(path)).await)
    }

    /// The entries of folder `dir` (`""` for the plugin's folder itself), sorted; folders end
    /// with `/`. A folder that does not exist lists as empty.
    pub async fn list(&self, dir: &str) -> PluginResult<Vec<String>> {
        let list = self
            .host
            .handle()
            .vtable
            .file_list()
            .ok_or_else(|| missing("plugin files"))?;
        let text = from_ffi(list(self.host.handle().data, RStr::from_str(dir)).await)?;
        Ok(serde_json::from_str(text.as_str())?)
    }
}
