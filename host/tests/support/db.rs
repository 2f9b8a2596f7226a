//! Looking inside SQLite files the host wrote.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// Opens an existing database file for inspection.
pub async fn inspect(path: &Path) -> SqlitePool {
    SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false),
    )
    .await
    .expect("open for inspection")
}

/// The user tables of a database, sorted.
pub async fn tables(pool: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("list tables")
}
