//! Looking inside SQLite files the host wrote.

use std::path::{Path, PathBuf};

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

/// The migration files of one database folder (`main` or `guild`), in order.
pub fn migration_files(database: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(database);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("migrations folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

/// Creates `path` with only the first migration of `database` applied, as a database written by
/// the previous version of the schema.
pub async fn create_with_first_migration(path: &Path, database: &str) -> SqlitePool {
    let files = migration_files(database);
    assert!(
        files.len() >= 2,
        "{database}: a previous schema needs at least two migrations"
    );
    let old = tempfile::tempdir().expect("tmp");
    std::fs::copy(
        &files[0],
        old.path().join(files[0].file_name().expect("name")),
    )
    .expect("copy first migration");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true),
    )
    .await
    .expect("create old database");
    sqlx::migrate::Migrator::new(old.path())
        .await
        .expect("old migrator")
        .run(&pool)
        .await
        .expect("apply the first migration");
    pool
}
