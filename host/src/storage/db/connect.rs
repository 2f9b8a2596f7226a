//! Opening SQLite files: connection settings, bounded pools, migrations and per-database
//! statement counters.

use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_void};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions as _, Connection as _};

use super::{DbError, DbOptions};

/// The schema of `main.db`, applied in order by [`super::Databases::open`].
pub static MAIN_MIGRATIONS: Migrator = sqlx::migrate!("migrations/main");

/// The schema of every `<guild>/guild.db`, applied when the guild's pool opens.
pub static GUILD_MIGRATIONS: Migrator = sqlx::migrate!("migrations/guild");

/// Settings every connection gets: WAL, `synchronous=NORMAL`, foreign keys, a busy timeout.
pub(crate) fn connect_options(path: &Path, options: &DbOptions) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(options.busy_timeout)
}

/// Opens a bounded pool on `path` (creating the file and its folder) and applies `migrator`.
pub(crate) async fn open_pool(
    path: &Path,
    options: &DbOptions,
    migrator: &Migrator,
) -> Result<SqlitePool, DbError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| DbError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let counter = query_counter(path);
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .min_connections(0)
        .idle_timeout(Some(
            options.guild_idle.max(std::time::Duration::from_secs(1)),
        ))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                count_statements(handle.as_raw_handle().as_ptr(), counter);
                Ok(())
            })
        })
        .connect_with(connect_options(path, options))
        .await
        .map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    if let Err(source) = migrator.run(&pool).await {
        pool.close().await;
        return Err(DbError::Migrate {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(pool)
}

/// Settings for a file that must exist already: never created, a busy timeout.
fn existing(path: &Path, options: &DbOptions) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(options.busy_timeout)
}

/// A read-only connection (`SQLITE_OPEN_READONLY`) to an existing file: nothing run on it can
/// write.
pub(crate) async fn open_read_only(
    path: &Path,
    options: &DbOptions,
) -> Result<SqliteConnection, DbError> {
    existing(path, options)
        .read_only(true)
        .connect()
        .await
        .map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// One plain connection to an existing file (never created, never migrated), for maintenance
/// on databases whose pool is not open.
pub(crate) async fn open_existing(
    path: &Path,
    options: &DbOptions,
) -> Result<SqliteConnection, DbError> {
    let counter = query_counter(path);
    let mut conn = existing(path, options)
        .connect()
        .await
        .map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let locked = match conn.lock_handle().await {
        Ok(mut handle) => {
            count_statements(handle.as_raw_handle().as_ptr(), counter);
            Ok(())
        }
        Err(source) => Err(source),
    };
    if let Err(source) = locked {
        let _ = conn.close().await;
        return Err(DbError::Open {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(conn)
}

/// The statement counter of the database at `path`. Counters live as long as the process, so a
/// guild pool that closes when idle and opens again keeps counting.
pub(crate) fn query_counter(path: &Path) -> &'static AtomicU64 {
    static COUNTERS: OnceLock<Mutex<HashMap<PathBuf, &'static AtomicU64>>> = OnceLock::new();
    let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut counters = COUNTERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    counters
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(AtomicU64::new(0))))
}

/// Statements run so far on the database at `path` (by any connection of this process).
pub(crate) fn queries_of(path: &Path) -> u64 {
    query_counter(path).load(Ordering::Relaxed)
}

/// `SQLITE_TRACE_STMT`: called when a statement starts running.
const TRACE_STMT: c_uint = 0x01;

unsafe extern "C" fn on_statement(
    _event: c_uint,
    context: *mut c_void,
    _statement: *mut c_void,
    sql: *mut c_void,
) -> c_int {
    // Statements run by triggers are reported with their SQL starting with "--"; they are part
    // of the statement that fired them and are not counted again.
    let sql = sql.cast::<u8>();
    // SAFETY: for SQLITE_TRACE_STMT, `sql` is the statement's NUL-terminated text; reading its
    // first two bytes stops at the terminator.
    let from_trigger = !sql.is_null() && unsafe { *sql == b'-' && *sql.add(1) == b'-' };
    if !from_trigger && !context.is_null() {
        // SAFETY: `context` is the `&'static AtomicU64` given to `count_statements`.
        let counter = unsafe { &*context.cast::<AtomicU64>() };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    0
}

/// Counts every statement run on `db` into `counter`.
fn count_statements(db: *mut libsqlite3_sys::sqlite3, counter: &'static AtomicU64) {
    let context = std::ptr::from_ref(counter).cast_mut().cast::<c_void>();
    // SAFETY: `db` is a live connection handle held locked by the caller; the callback only
    // reads its arguments and `context` points to a counter that lives for the whole process.
    let rc =
        unsafe { libsqlite3_sys::sqlite3_trace_v2(db, TRACE_STMT, Some(on_statement), context) };
    if rc != 0 {
        tracing::debug!(rc, "cannot count statements on a SQLite connection");
    }
}
