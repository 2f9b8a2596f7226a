//! `make bench`: the database figures, printed as a table.
//!
//! - prefix resolution: cached (`GuildSettingsStore::cached`, target < 1 µs) and uncached (a read
//!   of `guild_settings`);
//! - `record_command` on the message path (a channel send);
//! - per-guild SQLite upserts: one statement per transaction, and batched in one transaction.
#![allow(clippy::print_stdout, unreachable_pub)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zoryx_host::guild_settings::GuildSettingsStore;
use zoryx_host::storage::db::{Databases, DbOptions, SqliteSettings};
use zoryx_plugin_api::GuildId;

fn row(name: &str, value: String) {
    println!("{name:<52} {value}");
}

fn per_op(total: Duration, ops: u32) -> String {
    let ns = total.as_nanos() as f64 / f64::from(ops);
    if ns < 1_000.0 {
        format!("{ns:.0} ns/op")
    } else {
        format!("{:.1} µs/op", ns / 1_000.0)
    }
}

fn rate(total: Duration, rows: u32) -> String {
    format!("{:.0} rows/s", f64::from(rows) / total.as_secs_f64())
}

async fn upserts(pool: &sqlx::SqlitePool, rows: u32, start: u32) -> Result<(), sqlx::Error> {
    for i in start..start + rows {
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, key, value) VALUES ('bench', ?, ?) \
             ON CONFLICT(plugin, key) DO UPDATE SET value = excluded.value",
        )
        .bind(format!("key{}", i % 5_000))
        .bind(i.to_string())
        .execute(pool)
        .await?;
    }
    Ok(())
}

async fn batched_upserts(pool: &sqlx::SqlitePool, rows: u32) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for i in 0..rows {
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, key, value) VALUES ('bench', ?, ?) \
             ON CONFLICT(plugin, key) DO UPDATE SET value = excluded.value",
        )
        .bind(format!("key{}", i % 5_000))
        .bind(i.to_string())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

async fn run() {
    let dir = tempfile::tempdir().expect("tmp");
    let dbs = Databases::open(DbOptions::new(dir.path()))
        .await
        .expect("open");
    let settings = SqliteSettings::with_batch_window(Arc::clone(&dbs), Duration::from_secs(3600));
    let store: &dyn GuildSettingsStore = settings.as_ref();
    let guild = GuildId(1);
    store
        .set_prefix(guild, Some("?".into()))
        .await
        .expect("prefix");
    store.load(guild).await.expect("load");
    for other in 2..200 {
        store.load(GuildId(other)).await.expect("warm other guilds");
    }

    // Cached prefix resolution: a map lookup behind a read lock.
    let iterations = 2_000_000;
    let start = Instant::now();
    for _ in 0..iterations {
        let settings = store.cached(black_box(guild)).expect("cached");
        black_box(settings.prefix.as_deref());
    }
    row(
        "prefix resolution, cached (200 guilds cached)",
        per_op(start.elapsed(), iterations),
    );

    // Uncached: evict, then load (a read of guild_settings on an open pool).
    let iterations = 2_000;
    let mut total = Duration::ZERO;
    for _ in 0..iterations {
        settings.evict(guild);
        let start = Instant::now();
        let loaded = store.load(guild).await.expect("load");
        total += start.elapsed();
        black_box(loaded);
    }
    row(
        "prefix resolution, uncached (DB read)",
        per_op(total, iterations),
    );

    // The message path's usage counter.
    let iterations = 200_000;
    let start = Instant::now();
    for _ in 0..iterations {
        store.record_command(Some(guild), black_box("ping"));
    }
    row(
        "record_command (message path)",
        per_op(start.elapsed(), iterations),
    );
    let start = Instant::now();
    settings.flush().await.expect("flush");
    row(
        &format!("  flush of {iterations} uses (batched writer)"),
        format!("{:.1} ms", start.elapsed().as_secs_f64() * 1_000.0),
    );

    let pool = dbs.guild(1).await.expect("guild pool");
    let rows = 2_000;
    let start = Instant::now();
    upserts(&pool, rows, 0).await.expect("single upserts");
    row(
        "guild upsert, one statement per transaction",
        rate(start.elapsed(), rows),
    );
    let rows = 50_000;
    let start = Instant::now();
    batched_upserts(&pool, rows).await.expect("batched upserts");
    row(
        "guild upsert, batched in one transaction",
        rate(start.elapsed(), rows),
    );

    settings.close().await.expect("close");
    dbs.close().await;
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters nothing here.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!("database benchmarks");
    runtime.block_on(run());
}
