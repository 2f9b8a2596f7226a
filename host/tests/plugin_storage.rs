//! Plugin storage through real compiled plugins (`storage-a.so`, `storage-b.so`): key-value,
//! SQL tables and files, across reloads, unloads and a host restart, and between two plugins;
//! in-process and isolated.

mod support;

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use support::{Mode, TestHost, call_as, checker};
use zoryx_host::config::Config;
use zoryx_host::manager::{HostPaths, Manager};

/// Sends one request to a storage fixture; its answer, `{"ok": ..}` or `{"err": ".."}`.
async fn ask(manager: &Arc<Manager>, plugin: &str, request: Value) -> Value {
    let (outcome, replies) = call_as(manager, plugin, &request.to_string(), true).await;
    assert_eq!(replies.len(), 1, "{plugin} {request}: {outcome:?}");
    serde_json::from_str(&replies[0]).expect("the fixture replies JSON")
}

/// The `ok` value of an answer, failing the test on an error.
async fn ok(manager: &Arc<Manager>, plugin: &str, request: Value) -> Value {
    let answer = ask(manager, plugin, request.clone()).await;
    match answer.get("ok") {
        Some(value) => value.clone(),
        None => panic!("{plugin} {request}: {answer}"),
    }
}

/// The error text of an answer, failing the test if it succeeded.
async fn err(manager: &Arc<Manager>, plugin: &str, request: Value) -> String {
    let answer = ask(manager, plugin, request.clone()).await;
    match answer.get("err").and_then(Value::as_str) {
        Some(text) => text.to_owned(),
        None => panic!("{plugin} {request} should fail: {answer}"),
    }
}

/// A second host over the same folder, as after a restart.
fn restart(dir: &Path, mode: Mode) -> Arc<Manager> {
    let config = Config::parse(Path::new("config.json"), &mode.config("{}")).expect("config");
    Manager::new(
        HostPaths {
            extensions: dir.join("extensions"),
            data: dir.join("data"),
            checker: Some(checker()),
        },
        config,
    )
    .expect("manager")
}

async fn loaded(host: &TestHost) {
    let report = host.manager.load_all().await;
    assert!(report.refused.is_empty(), "{:?}", report.refused);
}

async fn data_survives_reload_unload_and_restart(mode: Mode) {
    let host = TestHost::in_mode(&[("storage-a.so", "storage_a.so")], mode);
    loaded(&host).await;
    let m = &host.manager;

    ok(
        m,
        "storage_a",
        json!({"op": "kv_set", "key": "greeting", "value": {"text": "hi"}}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "kv_set", "scope": 5, "key": "count", "value": 3}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "kv_set", "scope": 5, "key": "warn:1", "value": "a"}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "kv_set", "scope": 5, "key": "warn:2", "value": "b"}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "file_write", "path": "notes/today.json", "value": [1, 2]}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "sql_execute", "guild": 5,
        "sql": "CREATE TABLE p_storage_a__things (name TEXT, n INTEGER)"}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "sql_execute", "guild": 5,
        "sql": "INSERT INTO p_storage_a__things VALUES (?1, ?2)", "params": ["cup", 2]}),
    )
    .await;

    // Scopes are separate stores.
    assert_eq!(
        ok(m, "storage_a", json!({"op": "kv_get", "key": "count"})).await,
        Value::Null
    );
    assert_eq!(
        ok(
            m,
            "storage_a",
            json!({"op": "kv_keys", "scope": 5, "prefix": "warn:"})
        )
        .await,
        json!(["warn:1", "warn:2"])
    );

    let everything = |m: Arc<Manager>| async move {
        (
            ok(&m, "storage_a", json!({"op": "kv_get", "key": "greeting"})).await,
            ok(
                &m,
                "storage_a",
                json!({"op": "kv_get", "scope": 5, "key": "count"}),
            )
            .await,
            ok(
                &m,
                "storage_a",
                json!({"op": "file_read", "path": "notes/today.json"}),
            )
            .await,
            ok(
                &m,
                "storage_a",
                json!({"op": "sql_query", "guild": 5,
                "sql": "SELECT name, n FROM p_storage_a__things"}),
            )
            .await,
        )
    };
    let expected = (
        json!({"text": "hi"}),
        json!(3),
        json!([1, 2]),
        json!([{"name": "cup", "n": 2}]),
    );
    assert_eq!(everything(Arc::clone(m)).await, expected);

    m.reload("storage_a").await.expect("reload");
    assert_eq!(everything(Arc::clone(m)).await, expected, "after a reload");

    m.unload("storage_a", false).await.expect("unload");
    m.load("storage_a").await.expect("load again");
    assert_eq!(
        everything(Arc::clone(m)).await,
        expected,
        "after unload and load"
    );

    // On disk where the docs say: the file, and the key in main.db under the plugin's name.
    let data = host.dir.path().join("data");
    let file =
        std::fs::read_to_string(data.join("plugins/storage_a/notes/today.json")).expect("file");
    assert_eq!(
        serde_json::from_str::<Value>(&file).expect("json"),
        json!([1, 2])
    );
    let main = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("main.db").display()))
        .await
        .expect("main.db");
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT plugin, key, value FROM plugin_kv")
            .fetch_all(&main)
            .await
            .expect("plugin_kv");
    assert_eq!(
        rows,
        vec![(
            "storage_a".into(),
            "greeting".into(),
            r#"{"text":"hi"}"#.into()
        )]
    );
    main.close().await;

    // A restart: a new host over the same folders.
    host.manager.shutdown().await;
    let second = restart(host.dir.path(), mode);
    let report = second.load_all().await;
    assert_eq!(
        report.loaded,
        vec!["storage_a".to_string()],
        "{:?}",
        report.refused
    );
    assert_eq!(
        everything(Arc::clone(&second)).await,
        expected,
        "after a restart"
    );

    // Deleting works and says whether there was something.
    assert_eq!(
        ok(
            &second,
            "storage_a",
            json!({"op": "kv_delete", "key": "greeting"})
        )
        .await,
        json!(true)
    );
    assert_eq!(
        ok(
            &second,
            "storage_a",
            json!({"op": "kv_delete", "key": "greeting"})
        )
        .await,
        json!(false)
    );
    assert_eq!(
        ok(
            &second,
            "storage_a",
            json!({"op": "file_delete", "path": "notes/today.json"})
        )
        .await,
        json!(true)
    );
    assert_eq!(
        ok(
            &second,
            "storage_a",
            json!({"op": "file_read", "path": "notes/today.json"})
        )
        .await,
        Value::Null
    );
    second.shutdown().await;
}

async fn two_plugins_never_see_each_others_data(mode: Mode) {
    let host = TestHost::in_mode(
        &[
            ("storage-a.so", "storage_a.so"),
            ("storage-b.so", "storage_b.so"),
        ],
        mode,
    );
    loaded(&host).await;
    let m = &host.manager;

    assert_eq!(
        ok(m, "storage_a", json!({"op": "sql_prefix"})).await,
        json!("p_storage_a__")
    );
    assert_eq!(
        ok(m, "storage_b", json!({"op": "sql_prefix"})).await,
        json!("p_storage_b__")
    );

    for scope in [Value::Null, json!(7)] {
        ok(
            m,
            "storage_a",
            json!({"op": "kv_set", "scope": scope, "key": "secret", "value": "a's"}),
        )
        .await;
        assert_eq!(
            ok(
                m,
                "storage_b",
                json!({"op": "kv_get", "scope": scope, "key": "secret"})
            )
            .await,
            Value::Null
        );
        assert_eq!(
            ok(
                m,
                "storage_b",
                json!({"op": "kv_keys", "scope": scope, "prefix": ""})
            )
            .await,
            json!([])
        );
        assert_eq!(
            ok(
                m,
                "storage_b",
                json!({"op": "kv_delete", "scope": scope, "key": "secret"})
            )
            .await,
            json!(false)
        );
        ok(
            m,
            "storage_b",
            json!({"op": "kv_set", "scope": scope, "key": "secret", "value": "b's"}),
        )
        .await;
        assert_eq!(
            ok(
                m,
                "storage_a",
                json!({"op": "kv_get", "scope": scope, "key": "secret"})
            )
            .await,
            json!("a's")
        );
        assert_eq!(
            ok(
                m,
                "storage_b",
                json!({"op": "kv_get", "scope": scope, "key": "secret"})
            )
            .await,
            json!("b's")
        );
    }

    ok(
        m,
        "storage_a",
        json!({"op": "file_write", "path": "x.json", "value": "a's"}),
    )
    .await;
    assert_eq!(
        ok(m, "storage_b", json!({"op": "file_read", "path": "x.json"})).await,
        Value::Null
    );
    assert_eq!(
        ok(m, "storage_b", json!({"op": "file_list", "path": ""})).await,
        json!([])
    );
    let escape = err(
        m,
        "storage_b",
        json!({"op": "file_read", "path": "../storage_a/x.json"}),
    )
    .await;
    assert!(escape.contains("`..`"), "{escape}");

    ok(
        m,
        "storage_a",
        json!({"op": "sql_execute", "guild": 7,
        "sql": "CREATE TABLE p_storage_a__things (v TEXT)"}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "sql_execute", "guild": 7,
        "sql": "INSERT INTO p_storage_a__things VALUES (?1)", "params": ["a's"]}),
    )
    .await;
    for sql in [
        "SELECT * FROM p_storage_a__things",
        "DELETE FROM p_storage_a__things",
        "DROP TABLE p_storage_a__things",
    ] {
        let refused = err(
            m,
            "storage_b",
            json!({"op": "sql_execute", "guild": 7, "sql": sql}),
        )
        .await;
        assert!(
            refused.contains("table `p_storage_a__things` is not this plugin's"),
            "{sql}: {refused}"
        );
    }
    assert_eq!(
        ok(
            m,
            "storage_a",
            json!({"op": "sql_query", "guild": 7, "sql": "SELECT v FROM p_storage_a__things"})
        )
        .await,
        json!([{"v": "a's"}])
    );
}

async fn plugin_sql_is_confined_and_leaves_the_database_unharmed(mode: Mode) {
    let host = TestHost::in_mode(&[("storage-a.so", "storage_a.so")], mode);
    loaded(&host).await;
    let m = &host.manager;
    let exec = |sql: &str, params: Value| json!({"op": "sql_execute", "guild": 3, "sql": sql, "params": params});

    assert_eq!(ok(m, "storage_a", exec("CREATE TABLE IF NOT EXISTS p_storage_a__things (id INTEGER PRIMARY KEY, name TEXT, weight REAL, tags TEXT)", json!([]))).await, json!(0));
    assert_eq!(
        ok(
            m,
            "storage_a",
            exec(
                "INSERT INTO p_storage_a__things (name, weight, tags) VALUES (?1, ?2, ?3)",
                json!(["cup", 0.25, ["a", "b"]])
            )
        )
        .await,
        json!(1)
    );
    assert_eq!(
        ok(
            m,
            "storage_a",
            exec(
                "INSERT INTO p_storage_a__things (name, weight) VALUES (?1, ?2)",
                json!(["pot'; DROP TABLE guild_settings; --", null])
            )
        )
        .await,
        json!(1)
    );
    let rows = ok(
        m,
        "storage_a",
        json!({"op": "sql_query", "guild": 3,
        "sql": "SELECT id, name, weight, tags FROM p_storage_a__things ORDER BY id", "params": []}),
    )
    .await;
    assert_eq!(
        rows,
        json!([
            {"id": 1, "name": "cup", "weight": 0.25, "tags": "[\"a\",\"b\"]"},
            {"id": 2, "name": "pot'; DROP TABLE guild_settings; --", "weight": null, "tags": null}
        ])
    );

    // The host's view of guild 3's database before the refused attempts.
    let path = host.dir.path().join("data/3/guild.db");
    let snapshot = || async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("guild.db");
        let schema: Vec<(String, String)> =
            sqlx::query_as("SELECT name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
                .fetch_all(&pool)
                .await
                .expect("schema");
        let things: Vec<(i64,)> = sqlx::query_as("SELECT count(*) FROM p_storage_a__things")
            .fetch_all(&pool)
            .await
            .expect("count");
        pool.close().await;
        (schema, things)
    };
    let before = snapshot().await;
    assert!(
        before.0.iter().any(|(name, _)| name == "guild_settings"),
        "{before:?}"
    );

    for (sql, named) in [
        ("SELECT * FROM guild_settings", "table `guild_settings`"),
        (
            "INSERT INTO guild_settings (key, value) VALUES ('prefix', '$')",
            "table `guild_settings`",
        ),
        ("DELETE FROM plugin_kv", "table `plugin_kv`"),
        (
            "SELECT * FROM p_storage_b__things",
            "table `p_storage_b__things`",
        ),
        (
            "CREATE TABLE p_storage_b__things (x)",
            "table `p_storage_b__things`",
        ),
        ("DELETE FROM sqlite_master", "sqlite_master"),
        ("ATTACH DATABASE 'elsewhere.db' AS elsewhere", "ATTACH"),
        ("PRAGMA journal_mode = DELETE", "PRAGMA journal_mode"),
        (
            "DELETE FROM p_storage_a__things; DROP TABLE guild_settings",
            "one statement per call",
        ),
    ] {
        let refused = err(m, "storage_a", exec(sql, json!([]))).await;
        assert!(refused.contains("refused"), "{sql}: {refused}");
        assert!(refused.contains(named), "{sql}: {refused}");
    }
    assert_eq!(snapshot().await, before, "nothing changed");
}

async fn file_paths_stay_inside_the_plugins_folder(mode: Mode) {
    let host = TestHost::in_mode(&[("storage-a.so", "storage_a.so")], mode);
    loaded(&host).await;
    let m = &host.manager;
    let folder = host.dir.path().join("data/plugins/storage_a");

    // Legit nested paths work, and list as files and folders.
    ok(
        m,
        "storage_a",
        json!({"op": "file_write", "path": "a/b/c.json", "value": {"deep": true}}),
    )
    .await;
    ok(
        m,
        "storage_a",
        json!({"op": "file_write", "path": "./a/top.json", "value": 1}),
    )
    .await;
    assert_eq!(
        ok(
            m,
            "storage_a",
            json!({"op": "file_read", "path": "a/b/c.json"})
        )
        .await,
        json!({"deep": true})
    );
    assert_eq!(
        ok(m, "storage_a", json!({"op": "file_list", "path": "a"})).await,
        json!(["b/", "top.json"])
    );
    assert_eq!(
        ok(
            m,
            "storage_a",
            json!({"op": "file_list", "path": "missing"})
        )
        .await,
        json!([])
    );
    assert!(folder.join("a/b/c.json").is_file());

    // An outside file and links to it from inside the folder.
    let outside = tempfile::tempdir().expect("outside");
    let secret = outside.path().join("secret.json");
    std::fs::write(&secret, "{\"secret\": 1}").expect("secret");
    std::os::unix::fs::symlink(outside.path(), folder.join("out")).expect("dir link");
    std::os::unix::fs::symlink(&secret, folder.join("evil.json")).expect("file link");

    let attempts = [
        ("../x.json", "`..`"),
        ("/etc/passwd", "absolute"),
        ("a/../../x.json", "`..`"),
        ("a/../b.json", "`..`"),
        ("a\u{0}b.json", "NUL"),
        ("out/secret.json", "outside the plugin's folder"),
        ("out/new.json", "outside the plugin's folder"),
        ("out/sub/new.json", "outside the plugin's folder"),
        ("evil.json", "symbolic link"),
        ("", "empty"),
        ("a\\..\\x.json", "backslash"),
    ];
    for (path, reason) in attempts {
        for op in ["file_read", "file_write", "file_delete"] {
            let refused = err(m, "storage_a", json!({"op": op, "path": path, "value": 0})).await;
            assert!(refused.contains(reason), "{op} {path:?}: {refused}");
        }
    }
    let refused = err(m, "storage_a", json!({"op": "file_list", "path": "out"})).await;
    assert!(refused.contains("outside"), "{refused}");
    let refused = err(m, "storage_a", json!({"op": "file_list", "path": "../"})).await;
    assert!(refused.contains("`..`"), "{refused}");

    // Nothing outside was read, written or created.
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        "{\"secret\": 1}"
    );
    let mut names: Vec<String> = std::fs::read_dir(outside.path())
        .expect("outside")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["secret.json".to_string()]);
    assert!(!host.dir.path().join("data/plugins/x.json").exists());
    assert!(!host.dir.path().join("data/x.json").exists());
}

both_modes!(
    data_survives_reload_unload_and_restart,
    two_plugins_never_see_each_others_data,
    plugin_sql_is_confined_and_leaves_the_database_unharmed,
    file_paths_stay_inside_the_plugins_folder,
);
