//! A plugin's key-value store: rows of `plugin_kv(plugin, key, value, updated_at)`, in main.db for
//! the global scope and in each guild's database for that guild. The plugin's name is part of
//! every statement's key, so a plugin only ever sees its own rows.

use sqlx::SqlitePool;

/// Reads a key's JSON text.
pub async fn get(
    pool: &SqlitePool,
    plugin: &str,
    key: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM plugin_kv WHERE plugin = ?1 AND key = ?2")
        .bind(plugin)
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// Writes a key's JSON text.
pub async fn set(
    pool: &SqlitePool,
    plugin: &str,
    key: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO plugin_kv (plugin, key, value, updated_at) VALUES (?1, ?2, ?3, CURRENT_TIMESTAMP) \
         ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(plugin)
    .bind(key)
    .bind(value)
    .execute(pool)
    .await
    .map(|_| ())
}

/// Deletes a key; whether it existed.
pub async fn delete(pool: &SqlitePool, plugin: &str, key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM plugin_kv WHERE plugin = ?1 AND key = ?2")
        .bind(plugin)
        .bind(key)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() > 0)
}

/// The keys starting with `prefix`, sorted.
pub async fn keys(
    pool: &SqlitePool,
    plugin: &str,
    prefix: &str,
) -> Result<Vec<String>, sqlx::Error> {
    // `substr` rather than `LIKE`: no wildcard in the prefix can widen the match.
    sqlx::query_scalar(
        "SELECT key FROM plugin_kv WHERE plugin = ?1 AND substr(key, 1, length(?2)) = ?2 ORDER BY key",
    )
    .bind(plugin)
    .bind(prefix)
    .fetch_all(pool)
    .await
}
