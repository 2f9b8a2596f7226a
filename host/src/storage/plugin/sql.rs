//! A plugin's statements in a guild database, confined to its own tables.
//!
//! One call: take a pooled connection, install the [`Authorizer`], compile the statement once
//! with SQLite's own compiler to learn what it touches and whether more text follows, then run
//! it through sqlx with parameters bound (never cached on the shared connection), and remove the
//! authorizer before the connection goes back to the pool. The whole call runs in its own task,
//! so a caller that gives up halfway cannot leave a connection with an authorizer installed.

use std::ffi::{c_char, c_int};
use std::ptr;
use std::time::Duration;

use libsqlite3_sys as ffi;
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Column, Decode, Row, Sqlite, SqlitePool, TypeInfo, ValueRef};

use super::authorizer::{Authorizer, Refusal, Rules};

/// Why a plugin's statement was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The plugin's name cannot make a table prefix.
    #[error(
        "plugin name `{0}` cannot prefix SQL tables: SQL storage needs a snake_case name \
         (a-z, 0-9, single underscores)"
    )]
    BadPluginName(String),
    /// A table outside the plugin's prefix.
    #[error("refused: table `{table}` is not this plugin's (its tables start with `{prefix}`)")]
    Table {
        /// The table, index or view refused.
        table: String,
        /// The plugin's prefix.
        prefix: String,
    },
    /// An action no plugin may take.
    #[error("refused: {0} is not allowed in plugin SQL")]
    Action(String),
    /// SQLite's own protection of its tables answered first.
    #[error("refused: {0}")]
    Protected(String),
    /// More than one statement in one call.
    #[error("refused: one statement per call, but more follows: `{0}`")]
    Trailing(String),
    /// The statement ran longer than allowed.
    #[error("interrupted: the statement ran longer than {0:?}")]
    Interrupted(Duration),
    /// No statement at all.
    #[error("refused: the SQL text holds no statement")]
    Empty,
    /// The parameters were not a JSON array of scalars.
    #[error("parameters: {0}")]
    Params(String),
    /// SQLite or the pool failed.
    #[error("sqlite: {0}")]
    Sqlite(String),
}

impl From<sqlx::Error> for SqlError {
    fn from(error: sqlx::Error) -> Self {
        Self::Sqlite(error.to_string())
    }
}

/// The table prefix of plugin `name`: `p_<name>__`, for snake_case names only (no double or
/// trailing underscore, so no plugin's prefix is the start of another's).
pub fn table_prefix(name: &str) -> Result<String, SqlError> {
    let snake = !name.is_empty()
        && name.split('_').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if snake {
        Ok(format!("p_{name}__"))
    } else {
        Err(SqlError::BadPluginName(name.to_owned()))
    }
}

/// What a call returns.
#[derive(Debug)]
pub enum Outcome {
    /// Rows changed.
    Changed(u64),
    /// Rows read, as JSON objects.
    Rows(Vec<Map<String, Value>>),
}

/// Binds JSON parameters (an array of scalars; `null` means none).
fn arguments(params: &str) -> Result<Vec<Value>, SqlError> {
    let value: Value =
        serde_json::from_str(params).map_err(|e| SqlError::Params(format!("not JSON: {e}")))?;
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items),
        other => Err(SqlError::Params(format!(
            "expected an array (or a tuple) of values, got `{other}`"
        ))),
    }
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    params: Vec<Value>,
) -> Result<sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>, SqlError> {
    for (i, param) in params.into_iter().enumerate() {
        query = match param {
            Value::Null => query.bind(None::<i64>),
            Value::Bool(b) => query.bind(b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    query.bind(i)
                } else if let Some(f) = n.as_f64().filter(|_| n.as_u64().is_none()) {
                    query.bind(f)
                } else {
                    return Err(SqlError::Params(format!(
                        "parameter {} ({n}) does not fit a 64-bit signed integer",
                        i + 1
                    )));
                }
            }
            Value::String(s) => query.bind(s),
            // Arrays and objects are stored as their JSON text.
            nested @ (Value::Array(_) | Value::Object(_)) => query.bind(nested.to_string()),
        };
    }
    Ok(query)
}

fn decode<'r, T: Decode<'r, Sqlite>>(
    value: sqlx::sqlite::SqliteValueRef<'r>,
) -> Result<T, SqlError> {
    T::decode(value).map_err(|e| SqlError::Sqlite(e.to_string()))
}

/// A row as a JSON object.
fn row_json(row: &SqliteRow) -> Result<Map<String, Value>, SqlError> {
    let mut object = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let value = row.try_get_raw(i)?;
        let json = if value.is_null() {
            Value::Null
        } else {
            match value.type_info().name() {
                "INTEGER" | "BOOLEAN" => Value::from(decode::<i64>(value)?),
                "REAL" | "NUMERIC" => Value::from(decode::<f64>(value)?),
                "BLOB" => Value::from(decode::<Vec<u8>>(value)?),
                _ => Value::from(decode::<String>(value)?),
            }
        };
        object.insert(column.name().to_owned(), json);
    }
    Ok(object)
}

/// Compiles `sql` once under the authorizer: refuses what it touches, and text after the first
/// statement. Nothing is run.
///
/// # Safety
/// `db` must be a valid connection used by this thread only, with `authorizer` installed.
unsafe fn precheck(
    db: *mut ffi::sqlite3,
    authorizer: &Authorizer,
    sql: &str,
) -> Result<(), SqlError> {
    let prefix = || authorizer.rules().prefix().to_owned();
    let refused = |seen_refusal: Option<Refusal>, fallback: String| match seen_refusal {
        Some(Refusal::Table(table)) => SqlError::Table {
            table,
            prefix: prefix(),
        },
        Some(Refusal::Action(action)) => SqlError::Action(action),
        None => SqlError::Sqlite(fallback),
    };
    let Ok(len) = c_int::try_from(sql.len()) else {
        return Err(SqlError::Params("the SQL text is too long".into()));
    };
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    let mut tail: *const c_char = ptr::null();
    authorizer.take_seen();
    // SAFETY: `db` is valid (caller); the text pointer and length describe `sql`.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr().cast(), len, &mut stmt, &mut tail) };
    let seen = authorizer.take_seen();
    if rc != ffi::SQLITE_OK {
        // SAFETY: `db` is valid; the message is copied at once.
        let message = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
            .to_string_lossy()
            .into_owned();
        if seen.refusal.is_none() && seen.schema_write && !seen.ddl {
            return Err(SqlError::Action(
                "writing `sqlite_master` (SQLite's schema table)".into(),
            ));
        }
        // A table that does not exist is refused like one that does, so that a plugin cannot
        // probe which tables others have.
        if let Some(missing) = message.strip_prefix("no such table: ")
            && seen.refusal.is_none()
        {
            let missing = missing.rsplit('.').next().unwrap_or(missing);
            if !authorizer.rules().owns(missing) {
                return Err(SqlError::Table {
                    table: missing.to_owned(),
                    prefix: prefix(),
                });
            }
        }
        if seen.refusal.is_none() && message.contains("may not be modified") {
            return Err(SqlError::Protected(message));
        }
        return Err(refused(seen.refusal, message));
    }
    if stmt.is_null() {
        return Err(SqlError::Empty);
    }
    // SAFETY: `stmt` was prepared above and is finalised once.
    unsafe { ffi::sqlite3_finalize(stmt) };
    if seen.schema_write && !seen.ddl {
        return Err(SqlError::Action(
            "writing `sqlite_master` (SQLite's schema table)".into(),
        ));
    }
    // Where the first statement ends.
    let consumed = (tail as usize)
        .saturating_sub(sql.as_ptr() as usize)
        .min(sql.len());
    let rest = &sql[consumed..];
    if let Some(target) = renamed_table(sql)
        && !authorizer.rules().owns(&target)
    {
        return Err(SqlError::Table {
            table: target,
            prefix: prefix(),
        });
    }
    // Whatever follows must compile to nothing (spaces, comments, semicolons).
    authorizer.set_checking(false);
    let mut rest_ptr = rest.as_ptr().cast::<c_char>();
    let mut rest_len = c_int::try_from(rest.len()).unwrap_or(0);
    let mut result = Ok(());
    while rest_len > 0 {
        let mut next: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let mut after: *const c_char = ptr::null();
        // SAFETY: the pointer and length describe the rest of `sql`.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, rest_ptr, rest_len, &mut next, &mut after) };
        if !next.is_null() {
            // SAFETY: prepared just above, finalised once.
            unsafe { ffi::sqlite3_finalize(next) };
        }
        if rc != ffi::SQLITE_OK || !next.is_null() {
            result = Err(SqlError::Trailing(rest.trim().chars().take(60).collect()));
            break;
        }
        let step = (after as usize).saturating_sub(rest_ptr as usize);
        if step == 0 {
            break;
        }
        rest_len -= c_int::try_from(step).unwrap_or(rest_len);
        rest_ptr = after;
    }
    authorizer.set_checking(true);
    result
}

/// The new name in `ALTER TABLE x RENAME TO new`, which SQLite's authorizer does not report.
fn renamed_table(sql: &str) -> Option<String> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let first = words.first()?;
    if !first.eq_ignore_ascii_case("alter") {
        return None;
    }
    let at = words
        .iter()
        .position(|w| w.eq_ignore_ascii_case("rename"))?;
    let to = words.get(at + 1)?;
    if !to.eq_ignore_ascii_case("to") {
        return None;
    }
    let name = words.get(at + 2)?;
    let name = name.trim_end_matches(';');
    let name = name.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']' | '\''));
    let name = name.rsplit('.').next().unwrap_or(name);
    Some(name.to_owned())
}

/// How long one plugin statement may run before it is interrupted.
pub const STATEMENT_LIMIT: Duration = Duration::from_secs(5);

/// Runs one statement confined to tables starting with `prefix` on `pool`: a query when `rows`
/// is set. A statement still running after `limit` is interrupted.
pub async fn run(
    pool: SqlitePool,
    prefix: String,
    sql: String,
    params: String,
    rows: bool,
    limit: Duration,
) -> Result<Outcome, SqlError> {
    let params = arguments(&params)?;
    // Its own task: if the plugin drops the future, the connection is still cleaned up.
    let task = tokio::spawn(async move {
        let mut conn = pool.acquire().await?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema UNION SELECT name FROM sqlite_temp_schema",
        )
        .fetch_all(&mut *conn)
        .await?;
        let rules = Rules::new(prefix).with_tables(tables);
        let authorizer = Box::new(Authorizer::new(rules, limit));
        {
            let mut handle = conn.lock_handle().await?;
            // SAFETY: the handle is locked for us; the boxed authorizer stays at its address
            // until it is removed below (or leaked with the connection if removal fails).
            let rc = unsafe { authorizer.install(handle.as_raw_handle().as_ptr()) };
            if rc != ffi::SQLITE_OK {
                return Err(SqlError::Sqlite(format!(
                    "cannot install the authorizer ({rc})"
                )));
            }
            // SAFETY: as above; the locked handle gives this thread sole use of the connection.
            let checked = unsafe { precheck(handle.as_raw_handle().as_ptr(), &authorizer, &sql) };
            if let Err(e) = checked {
                // SAFETY: as above.
                unsafe { Authorizer::remove(handle.as_raw_handle().as_ptr()) };
                return Err(e);
            }
        }
        let result = match bind(sqlx::query(&sql).persistent(false), params) {
            Err(e) => Err(e),
            Ok(query) if rows => match query.fetch_all(&mut *conn).await {
                Ok(found) => found
                    .iter()
                    .map(row_json)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Outcome::Rows),
                Err(e) => Err(e.into()),
            },
            Ok(query) => query
                .execute(&mut *conn)
                .await
                .map(|done| Outcome::Changed(done.rows_affected()))
                .map_err(SqlError::from),
        };
        let seen = authorizer.take_seen();
        let result = match result {
            Err(SqlError::Sqlite(message)) if message.contains("interrupted") => {
                Err(SqlError::Interrupted(limit))
            }
            // SQLite's change count is the last INSERT/UPDATE/DELETE's on this pooled
            // connection: `CREATE`, `DROP` and `ALTER` change no rows.
            Ok(Outcome::Changed(_)) if seen.ddl => Ok(Outcome::Changed(0)),
            other => other,
        };
        let result = match (result, seen.refusal) {
            (Err(_), Some(Refusal::Table(table))) => Err(SqlError::Table {
                table,
                prefix: authorizer.rules().prefix().to_owned(),
            }),
            (Err(_), Some(Refusal::Action(action))) => Err(SqlError::Action(action)),
            (result, _) => result,
        };
        let removed = match conn.lock_handle().await {
            Ok(mut handle) => {
                // SAFETY: the handle is locked for us.
                unsafe { Authorizer::remove(handle.as_raw_handle().as_ptr()) };
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot remove the plugin SQL authorizer; closing the connection");
                false
            }
        };
        if !removed {
            // The authorizer may still be installed: never reuse this connection, and keep the
            // authorizer's memory alive for as long as the connection might use it.
            conn.close_on_drop();
            Box::leak(authorizer);
            return result;
        }
        drop(authorizer);
        result
    });
    task.await
        .map_err(|e| SqlError::Sqlite(format!("the SQL task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(table_prefix("polls").expect("valid"), "p_polls__");
        assert_eq!(
            table_prefix("fixture_storage").expect("valid"),
            "p_fixture_storage__"
        );
        for bad in ["", "a__b", "a_", "_a", "A", "a-b", "a b", "a/b"] {
            assert!(table_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn renames() {
        assert_eq!(
            renamed_table("ALTER TABLE p_x__a RENAME TO \"guild_settings\";").as_deref(),
            Some("guild_settings")
        );
        assert_eq!(
            renamed_table("alter table p_x__a rename column a to b"),
            None
        );
        assert_eq!(renamed_table("SELECT 1"), None);
    }
}
