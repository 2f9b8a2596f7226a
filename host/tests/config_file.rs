//! `config.json` on real files: generated with every key on first run, never rewritten,
//! unknown keys reported, wrong types and out-of-range values named, corrupt files kept, and
//! the environment taking precedence where the seed says so.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};
use zoryx_host::config::{BotEnv, Config, ConfigError};

/// Every dotted key the seed documents, plus `discord.*`, `atomic_files.*`, `limits.*`,
/// `health.*` and `isolation.*`.
const KEYS: &[&str] = &[
    "http.allow",
    "http.timeout_seconds",
    "http.max_response_kb",
    "marketplace.index_url",
    "marketplace.trusted_keys",
    "marketplace.cache_ttl_seconds",
    "plugins",
    "prefix",
    "allow_mention_prefix",
    "owner_ids",
    "auto_reload",
    "status.type",
    "status.text",
    "status.url",
    "status.presence",
    "status.statuses",
    "status.interval_seconds",
    "status.log_status_updates",
    "database.base_path",
    "logging.level",
    "logging.max_bytes",
    "logging.backup_count",
    "extensions.auto_load",
    "extensions.blacklist",
    "cooldowns.default_rate",
    "dashboard.bind",
    "dashboard.enabled",
    "dashboard.login_attempts_per_minute",
    "dashboard.oauth_client_id",
    "dashboard.oauth_client_secret",
    "dashboard.public_url",
    "dashboard.session_hours",
    "dashboard.trust_forwarded_for",
    "cooldowns.default_per",
    "command_permissions",
    "slash_limiter.max_limit",
    "slash_limiter.warning_threshold",
    "slash_limiter.safe_limit",
    "framework.load_cogs",
    "framework.enable_event_hooks",
    "framework.enable_plugin_registry",
    "framework.enable_framework_diagnostics",
    "framework.enable_slash_command_limiter",
    "framework.enable_shard_monitor",
    "framework.enable_shard_manager",
    "discord.api_base",
    "discord.cdn_base",
    "discord.gateway_url",
    "discord.gateway_queue",
    "discord.resume_sessions",
    "discord.test_guild_id",
    "cluster.mode",
    "cluster.host",
    "cluster.port",
    "cluster.secret",
    "cluster.name",
    "cluster.stats_interval_seconds",
    "cluster.tls_cert",
    "cluster.tls_key",
    "cluster.tls_ca",
    "cluster.tls_server_name",
    "atomic_files.cache_ttl_secs",
    "atomic_files.cache_max_entries",
    "atomic_files.lock_cleanup_threshold",
    "atomic_files.retries",
    "limits.command_seconds",
    "limits.commands",
    "limits.listener_seconds",
    "limits.hook_seconds",
    "limits.task_seconds",
    "limits.blocked_thread_ms",
    "limits.plugin_threads",
    "health.bind",
    "diagnostics.interval_seconds",
    "diagnostics.history_days",
    "diagnostics.error_rate_degraded",
    "diagnostics.error_rate_critical",
    "diagnostics.lag_degraded_ms",
    "diagnostics.lag_critical_ms",
    "diagnostics.memory_degraded_mb",
    "diagnostics.memory_critical_mb",
    "diagnostics.latency_degraded_ms",
    "diagnostics.latency_critical_ms",
    "isolation.plugins",
    "isolation.memory_mb",
    "isolation.max_crashes",
    "isolation.crash_window_seconds",
];

fn lookup<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(value, |node, key| node.get(key))
}

fn leaf_keys(value: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = value {
        for (key, child) in map {
            let dotted = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if child.is_object()
                && ![
                    "command_permissions",
                    "limits.commands",
                    "http.allow",
                    "plugins",
                ]
                .contains(&dotted.as_str())
            {
                leaf_keys(child, &dotted, out);
            } else {
                out.push(dotted);
            }
        }
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("config.json"), text)
}

#[test]
fn first_run_writes_every_key_with_its_default_and_later_runs_only_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.json");
    let loaded = Config::load_or_create(&path).expect("create");
    assert!(loaded.created);
    let text = std::fs::read_to_string(&path).expect("written");
    let written: Value = serde_json::from_str(&text).expect("valid JSON");
    let mut keys = Vec::new();
    leaf_keys(&written, "", &mut keys);
    keys.sort();
    let mut expected: Vec<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
    expected.sort();
    assert_eq!(keys, expected);
    for (key, value) in [
        ("prefix", json!("!")),
        ("status.type", json!("watching")),
        ("status.text", json!("{guilds} servers")),
        ("database.base_path", json!("./data")),
        ("logging.level", json!("INFO")),
        ("logging.max_bytes", json!(10_485_760)),
        ("logging.backup_count", json!(5)),
        ("cooldowns.default_per", json!(5.0)),
        ("slash_limiter.safe_limit", json!(95)),
        ("framework.enable_shard_manager", json!(false)),
        ("cluster.mode", json!("server")),
        ("cluster.port", json!(20000)),
        ("cluster.secret", Value::Null),
        ("discord.api_base", Value::Null),
        ("atomic_files.cache_ttl_secs", json!(300)),
        ("atomic_files.cache_max_entries", json!(1000)),
        ("atomic_files.lock_cleanup_threshold", json!(500)),
        ("atomic_files.retries", json!(3)),
        ("health.bind", Value::Null),
        ("marketplace.index_url", Value::Null),
        ("marketplace.trusted_keys", json!([])),
        ("marketplace.cache_ttl_seconds", json!(300)),
    ] {
        assert_eq!(lookup(&written, key), Some(&value), "{key}");
    }
    // Keys appear in the documented order, not sorted.
    let prefix_at = text.find("\"prefix\"").expect("prefix");
    let auto_reload_at = text.find("\"auto_reload\"").expect("auto_reload");
    assert!(prefix_at < auto_reload_at);
    // A second run reads the (edited) file and leaves it as it is.
    let edited = text.replace("\"!\"", "\"?\"");
    std::fs::write(&path, &edited).expect("edit");
    let loaded = Config::load_or_create(&path).expect("load");
    assert!(!loaded.created);
    assert_eq!(loaded.config.core.prefix, "?");
    assert!(loaded.unknown_keys.is_empty(), "{:?}", loaded.unknown_keys);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), edited);
    // No temp files beside it.
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
}

#[test]
fn marketplace_keys_are_checked() {
    let error = parse(
        r#"{"marketplace": {"index_url": "ftp://x/index.json", "trusted_keys": ["abc"],
            "cache_ttl_seconds": 0}}"#,
    )
    .expect_err("invalid");
    let text = error.to_string();
    for key in [
        "marketplace.index_url",
        "marketplace.trusted_keys",
        "marketplace.cache_ttl_seconds",
    ] {
        assert!(text.contains(key), "{key} not named: {text}");
    }
    let key = zoryx_market::KeyPair::generate().expect("key").public();
    let config = parse(&format!(
        r#"{{"marketplace": {{"index_url": "https://plugins.example.org/index.json",
            "trusted_keys": ["{key}"], "cache_ttl_seconds": 60}}}}"#
    ))
    .expect("valid");
    assert_eq!(config.core.marketplace.cache_ttl_seconds, 60);
}

#[test]
fn unknown_keys_are_reported_with_suggestions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        r#"{"prefx": "?", "logging": {"levle": "DEBUG"}, "my_plugin": {"x": 1},
            "command_permissions": {"ban": [1, 2]}}"#,
    )
    .expect("write");
    let loaded = Config::load_or_create(&path).expect("load");
    let unknown: Vec<(String, Option<String>)> = loaded
        .unknown_keys
        .iter()
        .map(|u| (u.key.clone(), u.suggestion.clone()))
        .collect();
    assert_eq!(
        unknown,
        [
            ("logging.levle".to_owned(), Some("logging.level".to_owned())),
            ("my_plugin".to_owned(), None),
            ("prefx".to_owned(), Some("prefix".to_owned())),
        ]
    );
    let text = loaded.unknown_keys[0].to_string();
    assert!(text.contains("did you mean `logging.level`"), "{text}");
    // Unknown keys stay in the document for plugins.
    assert_eq!(loaded.config.raw["my_plugin"]["x"], 1);
}

#[test]
fn wrong_types_name_the_dotted_key() {
    for (text, key) in [
        (r#"{"logging": {"max_bytes": "big"}}"#, "logging.max_bytes"),
        (r#"{"prefix": 3}"#, "prefix"),
        (r#"{"owner_ids": ["me"]}"#, "owner_ids[0]"),
        (
            r#"{"framework": {"load_cogs": "yes"}}"#,
            "framework.load_cogs",
        ),
    ] {
        match parse(text) {
            Err(ConfigError::Invalid { key: named, .. }) => assert_eq!(named, key, "{text}"),
            other => panic!("{text}: expected a type error, got {other:?}"),
        }
    }
}

#[test]
fn out_of_range_values_name_the_key_and_the_expected_form() {
    for (text, key, expected) in [
        (
            r#"{"logging": {"level": "LOUD"}}"#,
            "logging.level",
            "DEBUG/INFO/WARNING/ERROR/CRITICAL",
        ),
        (
            r#"{"status": {"type": "singing"}}"#,
            "status.type",
            "playing/watching/listening/competing/streaming/custom",
        ),
        (
            r#"{"status": {"type": "streaming", "text": "live"}}"#,
            "status.url",
            "an http(s) URL for streaming",
        ),
        (
            r#"{"status": {"presence": "away"}}"#,
            "status.presence",
            "online/idle/dnd/invisible",
        ),
        (
            r#"{"status": {"statuses": [{"type": "watching"}, {"type": "dancing"}]}}"#,
            "status.statuses[1].type",
            "playing/watching",
        ),
        (
            r#"{"status": {"interval_seconds": 5}}"#,
            "status.interval_seconds",
            "at least 15",
        ),
        (
            r#"{"status": {"text": ""}}"#,
            "status.text",
            "1 to 128 characters",
        ),
        (
            r#"{"slash_limiter": {"max_limit": 120}}"#,
            "slash_limiter.max_limit",
            "1 to 100",
        ),
        (
            r#"{"slash_limiter": {"safe_limit": 80, "warning_threshold": 85}}"#,
            "slash_limiter.warning_threshold",
            "at most slash_limiter.safe_limit",
        ),
        (
            r#"{"slash_limiter": {"max_limit": 90}}"#,
            "slash_limiter.safe_limit",
            "at most slash_limiter.max_limit",
        ),
        (
            r#"{"cooldowns": {"default_rate": 5000}}"#,
            "cooldowns.default_rate",
            "from 0 (no default cooldown) to 1000",
        ),
        (
            r#"{"cooldowns": {"default_per": -1.0}}"#,
            "cooldowns.default_per",
            "above 0",
        ),
        (
            r#"{"discord": {"api_base": "localhost:8080"}}"#,
            "discord.api_base",
            "http://",
        ),
        (
            r#"{"discord": {"cdn_base": "cdn.example"}}"#,
            "discord.cdn_base",
            "http://",
        ),
        (
            r#"{"discord": {"gateway_url": "http://127.0.0.1:7878"}}"#,
            "discord.gateway_url",
            "ws://",
        ),
        (
            r#"{"discord": {"gateway_queue": "ws://127.0.0.1:8080"}}"#,
            "discord.gateway_queue",
            "http://",
        ),
        (r#"{"prefix": ""}"#, "prefix", "non-empty"),
        (r#"{"prefix": "! "}"#, "prefix", "without spaces"),
        (
            r#"{"logging": {"max_bytes": 100}}"#,
            "logging.max_bytes",
            "1024",
        ),
        (
            r#"{"atomic_files": {"retries": 0}}"#,
            "atomic_files.retries",
            "1 to 10",
        ),
        (
            r#"{"health": {"bind": "localhost:8081"}}"#,
            "health.bind",
            "127.0.0.1:8081",
        ),
        (r#"{"health": {"bind": "8081"}}"#, "health.bind", "port"),
        (
            r#"{"isolation": {"memory_mb": 10}}"#,
            "isolation.memory_mb",
            "0 (no limit) or a number of megabytes from 64",
        ),
        (
            r#"{"isolation": {"max_crashes": 0}}"#,
            "isolation.max_crashes",
            "1 to 1000",
        ),
        (
            r#"{"isolation": {"crash_window_seconds": 0}}"#,
            "isolation.crash_window_seconds",
            "1 to 86400",
        ),
        (
            r#"{"isolation": {"plugins": [" "]}}"#,
            "isolation.plugins",
            "extension names",
        ),
        (
            r#"{"dashboard": {"bind": "8750"}}"#,
            "dashboard.bind",
            "an IP address and port",
        ),
        (
            r#"{"dashboard": {"public_url": "bot.example.com"}}"#,
            "dashboard.public_url",
            "https://bot.example.com",
        ),
        (
            r#"{"dashboard": {"oauth_client_id": "42"}}"#,
            "dashboard.oauth_client_secret",
            "client secret",
        ),
        (
            r#"{"dashboard": {"session_hours": 0}}"#,
            "dashboard.session_hours",
            "1 to 720",
        ),
        (
            r#"{"dashboard": {"users": {"42": "owner"}}}"#,
            "dashboard.users.42",
            "owners are the bot owners",
        ),
        (
            r#"{"dashboard": {"roles": {"helper": ["plugins.delete"]}}}"#,
            "dashboard.roles.helper",
            "permissions among",
        ),
        (
            r#"{"diagnostics": {"interval_seconds": 0}}"#,
            "diagnostics.interval_seconds",
            "1 to 86400",
        ),
        (
            r#"{"diagnostics": {"history_days": 0}}"#,
            "diagnostics.history_days",
            "1 to 365",
        ),
        (
            r#"{"diagnostics": {"lag_degraded_ms": 900, "lag_critical_ms": 800}}"#,
            "diagnostics.lag_critical_ms",
            "at least `lag_degraded_ms`",
        ),
        (
            r#"{"diagnostics": {"error_rate_degraded": 0}}"#,
            "diagnostics.error_rate_critical",
            "above zero",
        ),
    ] {
        let error = parse(text).expect_err(text);
        let ConfigError::OutOfRange { problems, .. } = &error else {
            panic!("{text}: expected a range error, got {error:?}");
        };
        assert_eq!(problems.len(), 1, "{text}: {problems:?}");
        assert_eq!(problems[0].key, key, "{text}");
        assert!(
            problems[0].expected.contains(expected),
            "{text}: {}",
            problems[0]
        );
        assert!(error.to_string().contains(key), "{error}");
    }
    // Several problems are reported together.
    let error = parse(r#"{"prefix": "", "status": {"type": "x"}}"#).expect_err("two");
    let text = error.to_string();
    assert!(
        text.contains("`prefix`") && text.contains("`status.type`"),
        "{text}"
    );
    // Good values pass, levels case-insensitively.
    parse(
        r#"{"logging": {"level": "warning", "max_bytes": 1024},
            "discord": {"api_base": "http://127.0.0.1:8080"},
            "slash_limiter": {"max_limit": 50, "safe_limit": 50, "warning_threshold": 10}}"#,
    )
    .expect("valid");
    for bind in [r#""""#, "null", r#""127.0.0.1:0""#, r#""[::1]:8081""#] {
        let config = parse(&format!(r#"{{"health": {{"bind": {bind}}}}}"#)).expect(bind);
        assert_eq!(
            config.core.health.address().is_some(),
            bind.contains(':'),
            "{bind}"
        );
    }
}

#[test]
fn a_corrupt_file_is_named_with_line_and_column_and_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.json");
    let text = "{\n  \"prefix\": \"!\",\n  \"auto_reload\": yes\n}\n";
    std::fs::write(&path, text).expect("write");
    let error = Config::load_or_create(&path).expect_err("corrupt");
    let ConfigError::Syntax { line, column, .. } = &error else {
        panic!("expected a syntax error, got {error:?}");
    };
    assert_eq!(*line, 3);
    assert!(*column > 0);
    let message = error.to_string();
    assert!(
        message.contains("config.json") && message.contains("line 3"),
        "{message}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), text);
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
}

#[test]
fn the_environment_takes_precedence_over_the_file() {
    let config = parse(
        r#"{"framework": {"enable_shard_monitor": true, "enable_shard_manager": false},
            "discord": {"api_base": "http://file:1"}, "health": {"bind": "127.0.0.1:1"}}"#,
    )
    .expect("valid");
    let vars: HashMap<String, String> = [
        ("ENABLE_SHARD_MONITOR", "false"),
        ("ENABLE_SHARD_MANAGER", "yes"),
        ("DISCORD_API_BASE", "http://env:2"),
        ("ZORYX_HEALTH_BIND", "0.0.0.0:8081"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let env = BotEnv::from_map(&vars).expect("env");
    let effective = config.clone().with_env(&env);
    assert!(!effective.core.framework.enable_shard_monitor);
    assert!(effective.core.framework.enable_shard_manager);
    assert_eq!(
        effective.core.discord.api_base.as_deref(),
        Some("http://env:2")
    );
    assert_eq!(effective.raw["framework"]["enable_shard_monitor"], false);
    assert_eq!(effective.raw["discord"]["api_base"], "http://env:2");
    assert_eq!(
        effective.core.health.address(),
        Some(([0, 0, 0, 0], 8081).into())
    );
    assert_eq!(effective.raw["health"]["bind"], "0.0.0.0:8081");
    // Unset variables leave the file's values.
    let unchanged = config.clone().with_env(&BotEnv::default());
    assert!(unchanged.core.framework.enable_shard_monitor);
    assert!(!unchanged.core.framework.enable_shard_manager);
    assert_eq!(unchanged.raw, config.raw);
}
