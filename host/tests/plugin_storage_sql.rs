//! The SQL confinement on a real SQLite file: what a plugin's statement may touch, and that a
//! refused statement leaves the database as it was.

use serde_json::json;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::time::Duration;

use zoryx_host::storage::plugin::sql::{Outcome, STATEMENT_LIMIT, SqlError, run, table_prefix};

async fn pool(dir: &tempfile::TempDir) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("guild.db"))
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open");
    sqlx::query("CREATE TABLE guild_settings (key TEXT PRIMARY KEY, value TEXT)")
        .execute(&pool)
        .await
        .expect("host table");
    sqlx::query("INSERT INTO guild_settings VALUES ('prefix', '?')")
        .execute(&pool)
        .await
        .expect("host row");
    pool
}

async fn exec(
    pool: &SqlitePool,
    plugin: &str,
    sql: &str,
    params: serde_json::Value,
) -> Result<u64, SqlError> {
    let prefix = table_prefix(plugin).expect("prefix");
    match run(
        pool.clone(),
        prefix,
        sql.into(),
        params.to_string(),
        false,
        STATEMENT_LIMIT,
    )
    .await?
    {
        Outcome::Changed(n) => Ok(n),
        Outcome::Rows(_) => panic!("rows from execute"),
    }
}

async fn query(
    pool: &SqlitePool,
    plugin: &str,
    sql: &str,
    params: serde_json::Value,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, SqlError> {
    let prefix = table_prefix(plugin).expect("prefix");
    match run(
        pool.clone(),
        prefix,
        sql.into(),
        params.to_string(),
        true,
        STATEMENT_LIMIT,
    )
    .await?
    {
        Outcome::Rows(rows) => Ok(rows),
        Outcome::Changed(_) => panic!("count from query"),
    }
}

/// The host's schema and rows, to compare before and after.
async fn snapshot(pool: &SqlitePool) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> =
        sqlx::query_as("SELECT name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
            .fetch_all(pool)
            .await
            .expect("schema");
    let settings: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM guild_settings ORDER BY key")
            .fetch_all(pool)
            .await
            .expect("settings");
    rows.extend(settings);
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_tables_work_and_everything_else_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = pool(&dir).await;

    exec(&pool, "demo", "CREATE TABLE IF NOT EXISTS p_demo__things (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, n REAL)", json!(null))
        .await
        .expect("create own table");
    exec(
        &pool,
        "demo",
        "CREATE INDEX p_demo__things_name ON p_demo__things (name)",
        json!([]),
    )
    .await
    .expect("own index");
    for (name, n) in [("a", 1.5), ("b", 2.0)] {
        let changed = exec(
            &pool,
            "demo",
            "INSERT INTO p_demo__things (name, n) VALUES (?1, ?2);  -- trailing comment",
            json!([name, n]),
        )
        .await
        .expect("insert");
        assert_eq!(changed, 1);
    }
    let rows = query(
        &pool,
        "demo",
        "SELECT id, name, n, NULL AS nada FROM p_demo__things WHERE name = ?1",
        json!(["b"]),
    )
    .await
    .expect("query");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], json!("b"));
    assert_eq!(rows[0]["n"], json!(2.0));
    assert_eq!(rows[0]["id"], json!(2));
    assert_eq!(rows[0]["nada"], json!(null));
    let counted = query(
        &pool,
        "demo",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT sum(x) AS total FROM c",
        json!([]),
    )
    .await
    .expect("a recursive WITH of the statement's own");
    assert_eq!(counted[0]["total"], json!(15));
    let info = query(
        &pool,
        "demo",
        "PRAGMA table_info(p_demo__things)",
        json!([]),
    )
    .await
    .expect("describe own table");
    assert_eq!(info.len(), 3);

    let before = snapshot(&pool).await;
    let refused = [
        ("SELECT * FROM guild_settings", "guild_settings"),
        ("UPDATE guild_settings SET value = 'x'", "guild_settings"),
        ("DROP TABLE guild_settings", "guild_settings"),
        ("CREATE TABLE p_other__things (x)", "p_other__things"),
        ("CREATE TABLE things (x)", "things"),
        ("SELECT name FROM sqlite_master", "sqlite_master"),
        ("DELETE FROM sqlite_master", "sqlite_master"),
        (
            "CREATE TABLE p_demo__leak AS SELECT * FROM sqlite_master",
            "sqlite_master",
        ),
        (
            "CREATE TABLE p_demo__copy AS SELECT * FROM guild_settings",
            "guild_settings",
        ),
        ("UPDATE sqlite_master SET sql = 'x'", "sqlite_master"),
        (
            "INSERT INTO sqlite_master VALUES ('table', 'x', 'x', 0, '')",
            "sqlite_master",
        ),
        ("ATTACH DATABASE 'other.db' AS other", "ATTACH"),
        ("PRAGMA writable_schema = ON", "PRAGMA writable_schema"),
        ("PRAGMA table_info(guild_settings)", "PRAGMA table_info"),
        ("BEGIN", "transaction"),
        ("UPDATE sqlite_sequence SET seq = 0", "sqlite_sequence"),
        (
            "CREATE TRIGGER p_demo__t AFTER INSERT ON p_demo__things BEGIN DELETE FROM guild_settings; END",
            "trigger",
        ),
        ("CREATE TEMP TABLE p_demo__tmp (x)", "temp"),
        (
            "CREATE VIEW p_demo__v AS SELECT * FROM guild_settings",
            "view",
        ),
        (
            "CREATE INDEX p_demo__i ON guild_settings (value)",
            "guild_settings",
        ),
        ("ALTER TABLE p_demo__things RENAME TO guild_x", "guild_x"),
        (
            "INSERT INTO p_demo__things (name) VALUES ('x'); DELETE FROM guild_settings",
            "one statement per call",
        ),
        ("SELECT 1; SELECT 2", "one statement per call"),
        (
            "WITH s AS (SELECT * FROM guild_settings) SELECT * FROM s",
            "guild_settings",
        ),
        (
            "WITH RECURSIVE c(x) AS (SELECT key FROM guild_settings UNION SELECT x FROM c) SELECT * FROM c",
            "guild_settings",
        ),
        (
            "SELECT * FROM p_demo__things WHERE name IN (SELECT key FROM guild_settings)",
            "guild_settings",
        ),
        ("   ", "no statement"),
    ];
    for (sql, named) in refused {
        let error = exec(&pool, "demo", sql, json!([]))
            .await
            .expect_err(sql)
            .to_string();
        assert!(error.contains("refused"), "{sql}: {error}");
        assert!(error.contains(named), "{sql}: {error}");
    }
    // Another plugin cannot reach demo's table either.
    let error = query(&pool, "other", "SELECT * FROM p_demo__things", json!([]))
        .await
        .expect_err("other plugin")
        .to_string();
    assert!(
        error.contains("`p_demo__things` is not this plugin's"),
        "{error}"
    );
    assert!(error.contains("p_other__"), "{error}");

    assert_eq!(snapshot(&pool).await, before, "the database is unharmed");
    let count = query(
        &pool,
        "demo",
        "SELECT count(*) AS n FROM p_demo__things",
        json!([]),
    )
    .await
    .expect("count");
    assert_eq!(
        count[0]["n"],
        json!(2),
        "the refused trailing INSERT did not run"
    );

    // The pool's connection serves the host normally afterwards: no authorizer left behind.
    let host_rows: Vec<(String,)> = sqlx::query_as("SELECT key FROM guild_settings")
        .fetch_all(&pool)
        .await
        .expect("host still reads its table");
    assert_eq!(host_rows, vec![("prefix".to_string(),)]);

    // Bad parameters are refused before anything runs.
    let error = exec(
        &pool,
        "demo",
        "INSERT INTO p_demo__things (name) VALUES (?1)",
        json!({"a": 1}),
    )
    .await
    .expect_err("object params")
    .to_string();
    assert!(error.contains("parameters"), "{error}");
    let error = exec(
        &pool,
        "demo",
        "INSERT INTO p_demo__things (n) VALUES (?1)",
        json!([u64::MAX]),
    )
    .await
    .expect_err("too big")
    .to_string();
    assert!(error.contains("does not fit"), "{error}");

    // The plugin's own table can be altered and dropped.
    exec(
        &pool,
        "demo",
        "ALTER TABLE p_demo__things ADD COLUMN extra TEXT",
        json!([]),
    )
    .await
    .expect("alter own table");
    exec(&pool, "demo", "DROP TABLE p_demo__things", json!([]))
        .await
        .expect("drop own table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_query_is_interrupted_and_the_connection_serves_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = pool(&dir).await;
    let endless =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
    let prefix = table_prefix("demo").expect("prefix");
    let error = run(
        pool.clone(),
        prefix.clone(),
        endless.into(),
        "[]".into(),
        true,
        Duration::from_millis(200),
    )
    .await
    .expect_err("interrupted")
    .to_string();
    assert!(error.contains("interrupted"), "{error}");
    // The pool's only connection is back, without the plugin's handlers.
    let rows: Vec<(String,)> = sqlx::query_as("SELECT key FROM guild_settings")
        .fetch_all(&pool)
        .await
        .expect("host query");
    assert_eq!(rows.len(), 1);
    let done = run(
        pool.clone(),
        prefix,
        "SELECT 1 AS one".into(),
        "[]".into(),
        true,
        STATEMENT_LIMIT,
    )
    .await
    .expect("next statement");
    assert!(matches!(done, Outcome::Rows(rows) if rows[0]["one"] == json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_columns_get_their_automatic_index_and_upserts_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = pool(&dir).await;
    let before = snapshot(&pool).await;
    // UNIQUE and a TEXT PRIMARY KEY make SQLite create `sqlite_autoindex_…` indexes itself.
    exec(
        &pool,
        "demo",
        "CREATE TABLE p_demo__tasks (key TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, runs INTEGER)",
        json!(null),
    )
    .await
    .expect("a table with unique columns");
    let upsert = "INSERT INTO p_demo__tasks (key, name, runs) VALUES (?1, ?2, 0)
                  ON CONFLICT(name) DO UPDATE SET runs = runs + 1";
    for _ in 0..3 {
        exec(&pool, "demo", upsert, json!(["k", "daily"]))
            .await
            .expect("upsert");
    }
    let rows = query(&pool, "demo", "SELECT runs FROM p_demo__tasks", json!([]))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["runs"], json!(2));
    // The uniqueness holds, and the index is the table's alone: dropped with it.
    let twin = exec(
        &pool,
        "demo",
        "INSERT INTO p_demo__tasks (key, name) VALUES ('k2', 'daily')",
        json!(null),
    )
    .await;
    assert!(
        matches!(twin, Err(SqlError::Sqlite(ref e)) if e.contains("UNIQUE")),
        "{twin:?}"
    );
    // Another plugin cannot name that index.
    let foreign = exec(
        &pool,
        "other",
        "DROP INDEX sqlite_autoindex_p_demo__tasks_1",
        json!(null),
    )
    .await;
    assert!(foreign.is_err(), "{foreign:?}");
    exec(&pool, "demo", "DROP TABLE p_demo__tasks", json!(null))
        .await
        .expect("drop");
    assert_eq!(snapshot(&pool).await, before);
}

#[tokio::test]
async fn numbered_parameters_bind_by_their_number_in_any_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = pool(&dir).await;
    exec(
        &pool,
        "demo",
        "CREATE TABLE p_demo__levels (user INTEGER PRIMARY KEY, xp INTEGER NOT NULL, at INTEGER NOT NULL)",
        json!(null),
    )
    .await
    .expect("table");
    exec(
        &pool,
        "demo",
        "INSERT INTO p_demo__levels (user, xp, at) VALUES (?1, ?2, ?3)",
        json!([1_577_411_242_073_526_363_u64, 20, 100]),
    )
    .await
    .expect("insert");
    // ?4 and ?5 come first in the text; ?1 and ?6 after.
    let changed = exec(
        &pool,
        "demo",
        "UPDATE p_demo__levels SET xp = xp + ?4, at = ?5 WHERE user = ?1 AND at <= ?6",
        json!([1_577_411_242_073_526_363_u64, 0, 0, 17, 101, 100]),
    )
    .await
    .expect("update");
    assert_eq!(changed, 1);
    let rows = query(
        &pool,
        "demo",
        "SELECT xp, at FROM p_demo__levels",
        json!([]),
    )
    .await
    .expect("rows");
    assert_eq!(rows[0]["xp"], json!(37));
    assert_eq!(rows[0]["at"], json!(101));
    exec(
        &pool,
        "demo",
        "CREATE TABLE IF NOT EXISTS p_demo__l2 (automation INTEGER NOT NULL,
         created INTEGER NOT NULL,
         user INTEGER NOT NULL,
         xp INTEGER NOT NULL DEFAULT 0,
         level INTEGER NOT NULL DEFAULT 0,
         messages INTEGER NOT NULL DEFAULT 0,
         last_xp_at INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (automation, created, user))",
        json!(null),
    )
    .await
    .expect("t2");
    exec(
        &pool,
        "demo",
        "CREATE INDEX IF NOT EXISTS p_demo__l2_xp ON p_demo__l2 (automation, created, xp)",
        json!(null),
    )
    .await
    .expect("idx");
    let user = 1_577_411_242_073_526_363_u64;
    exec(
        &pool,
        "demo",
        "INSERT OR IGNORE INTO p_demo__l2
                        (automation, created, user, xp, level, messages, last_xp_at)
                     VALUES (?1, ?2, ?3, ?4, 0, 1, ?5)",
        json!([3, 1796154547_u64, user, 20, 1796154547_i64]),
    )
    .await
    .expect("ins");
    let changed = exec(
        &pool,
        "demo",
        "UPDATE p_demo__l2 SET xp = xp + ?4, messages = messages + 1, last_xp_at = ?5
                 WHERE automation = ?1 AND created = ?2 AND user = ?3 AND last_xp_at <= ?6",
        json!([3, 1796154547_u64, user, 17, 1796154547_i64, 1796154547_i64]),
    )
    .await
    .expect("upd");
    assert_eq!(changed, 1, "the leveling statement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_from_many_tasks_lose_no_increment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("guild.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("open");
    exec(
        &pool,
        "demo",
        "CREATE TABLE p_demo__n (user INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
        json!(null),
    )
    .await
    .expect("table");
    exec(
        &pool,
        "demo",
        "INSERT INTO p_demo__n (user, n) VALUES (?1, 0)",
        json!([7]),
    )
    .await
    .expect("row");
    for round in 0..8 {
        let changed = exec(
            &pool,
            "demo",
            "UPDATE p_demo__n SET n = n + 1 WHERE user = ?1",
            json!([7]),
        )
        .await
        .expect("update");
        assert_eq!(changed, 1, "round {round}");
    }
    let mut tasks = Vec::new();
    for i in 0..400_u64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let user = 1_577_411_943_243_714_561_u64 + i % 10;
            let changed = exec(
                &pool,
                "demo",
                "UPDATE p_demo__n SET n = n + 1 WHERE user = ?1",
                json!([user]),
            )
            .await
            .expect("update");
            if changed == 0 {
                let inserted = exec(
                    &pool,
                    "demo",
                    "INSERT OR IGNORE INTO p_demo__n (user, n) VALUES (?1, 1)",
                    json!([user]),
                )
                .await
                .expect("insert");
                if inserted == 0 {
                    exec(
                        &pool,
                        "demo",
                        "UPDATE p_demo__n SET n = n + 1 WHERE user = ?1",
                        json!([user]),
                    )
                    .await
                    .expect("update again");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let rows = query(
        &pool,
        "demo",
        "SELECT SUM(n) AS total FROM p_demo__n",
        json!([]),
    )
    .await
    .expect("rows");
    assert_eq!(rows[0]["total"], json!(408), "no increment lost");
}
