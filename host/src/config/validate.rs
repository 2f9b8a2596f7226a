//! Checks of `config.json` beyond types: allowed values and ranges (errors naming the dotted
//! key and the expected form) and unknown keys (warnings, with a "did you mean" when a known key
//! is close).

use serde_json::Value;

use super::CoreConfig;

/// One value outside its allowed range or set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The dotted key, e.g. `logging.level`.
    pub key: String,
    /// The form it should have.
    pub expected: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.key, self.expected)
    }
}

/// A key of `config.json` the core does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKey {
    /// The dotted key.
    pub key: String,
    /// A known key with a similar name, if there is one.
    pub suggestion: Option<String>,
}

impl std::fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown key `{}`", self.key)?;
        match &self.suggestion {
            Some(suggestion) => write!(f, " (did you mean `{suggestion}`?)"),
            None if !self.key.contains('.') => {
                f.write_str(" (ignored by the core; plugins may read it)")
            }
            None => f.write_str(" (ignored)"),
        }
    }
}

/// The `logging.level` names.
pub const LOG_LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
/// The `status.type` names.
pub const STATUS_TYPES: [&str; 6] = [
    "playing",
    "watching",
    "listening",
    "competing",
    "streaming",
    "custom",
];
/// The `status.presence` names.
pub const PRESENCES: [&str; 4] = ["online", "idle", "dnd", "invisible"];
/// The longest activity text Discord takes.
pub const STATUS_TEXT_MAX: usize = 128;

/// Every out-of-range value in `core`, in key order.
pub fn problems(core: &CoreConfig) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut check = |ok: bool, key: &str, expected: String| {
        if !ok {
            found.push(Problem {
                key: key.to_owned(),
                expected,
            });
        }
    };
    check(
        !core.prefix.is_empty() && !core.prefix.chars().any(char::is_whitespace),
        "prefix",
        format!("a non-empty prefix without spaces, got {:?}", core.prefix),
    );
    let status = &core.status;
    let entries: Vec<(String, crate::config::StatusEntry)> = if status.statuses.is_empty() {
        vec![("status".to_owned(), status.entries().remove(0))]
    } else {
        status
            .statuses
            .iter()
            .enumerate()
            .map(|(i, entry)| (format!("status.statuses[{i}]"), entry.clone()))
            .collect()
    };
    for (at, entry) in &entries {
        check(
            STATUS_TYPES.contains(&entry.kind.as_str()),
            &format!("{at}.type"),
            format!("one of {}, got {:?}", STATUS_TYPES.join("/"), entry.kind),
        );
        let length = entry.text.chars().count();
        check(
            (1..=STATUS_TEXT_MAX).contains(&length) && !entry.text.trim().is_empty(),
            &format!("{at}.text"),
            format!("1 to {STATUS_TEXT_MAX} characters, got {length}"),
        );
        check(
            entry.kind != "streaming" || entry.url.as_deref().is_some_and(is_http_url),
            &format!("{at}.url"),
            format!(
                "an http(s) URL for streaming (a Twitch or YouTube channel), got {:?}",
                entry.url
            ),
        );
        check(
            PRESENCES.contains(&entry.presence.as_str()),
            &format!("{at}.presence"),
            format!("one of {}, got {:?}", PRESENCES.join("/"), entry.presence),
        );
    }
    check(
        status.interval_seconds >= 15,
        "status.interval_seconds",
        format!(
            "at least 15 seconds (Discord limits presence updates), got {}",
            status.interval_seconds
        ),
    );
    check(
        !core.database.base_path.trim().is_empty(),
        "database.base_path",
        "a non-empty folder path".to_owned(),
    );
    check(
        LOG_LEVELS.contains(&core.logging.level.to_ascii_uppercase().as_str()),
        "logging.level",
        format!(
            "one of {}, got {:?}",
            LOG_LEVELS.join("/"),
            core.logging.level
        ),
    );
    check(
        core.logging.max_bytes >= 1024,
        "logging.max_bytes",
        format!(
            "a size in bytes of at least 1024 (1 KB), got {}",
            core.logging.max_bytes
        ),
    );
    check(
        core.logging.backup_count <= 1000,
        "logging.backup_count",
        format!(
            "a number of backups from 0 to 1000, got {}",
            core.logging.backup_count
        ),
    );
    check(
        core.cooldowns.default_rate <= 1000,
        "cooldowns.default_rate",
        format!(
            "a number of uses from 0 (no default cooldown) to 1000, got {}",
            core.cooldowns.default_rate
        ),
    );
    check(
        core.cooldowns.default_per.is_finite()
            && core.cooldowns.default_per > 0.0
            && core.cooldowns.default_per <= 86_400.0,
        "cooldowns.default_per",
        format!(
            "a number of seconds above 0, at most a day, got {}",
            core.cooldowns.default_per
        ),
    );
    let s = &core.slash_limiter;
    check(
        (1..=100).contains(&s.max_limit),
        "slash_limiter.max_limit",
        format!(
            "a number from 1 to 100 (Discord's limit), got {}",
            s.max_limit
        ),
    );
    check(
        s.safe_limit <= s.max_limit,
        "slash_limiter.safe_limit",
        format!(
            "at most slash_limiter.max_limit ({}), got {}",
            s.max_limit, s.safe_limit
        ),
    );
    check(
        s.warning_threshold <= s.safe_limit,
        "slash_limiter.warning_threshold",
        format!(
            "at most slash_limiter.safe_limit ({}), got {}",
            s.safe_limit, s.warning_threshold
        ),
    );
    if let Some(base) = &core.discord.api_base {
        check(
            is_http_url(base),
            "discord.api_base",
            format!("an http:// or https:// URL such as http://127.0.0.1:8080, got {base:?}"),
        );
    }
    if let Some(base) = &core.discord.cdn_base {
        check(
            is_http_url(base),
            "discord.cdn_base",
            format!("an http:// or https:// URL such as http://127.0.0.1:8080, got {base:?}"),
        );
    }
    if let Some(url) = &core.discord.gateway_url {
        check(
            url.starts_with("ws://") || url.starts_with("wss://"),
            "discord.gateway_url",
            format!("a ws:// or wss:// URL such as ws://127.0.0.1:7878, got {url:?}"),
        );
    }
    if let Some(url) = &core.discord.gateway_queue {
        check(
            is_http_url(url),
            "discord.gateway_queue",
            format!("an http:// or https:// URL such as http://127.0.0.1:5000, got {url:?}"),
        );
    }
    let c = &core.cluster;
    let tls = [&c.tls_cert, &c.tls_key, &c.tls_ca, &c.tls_server_name]
        .iter()
        .any(|key| key.is_some());
    if tls && c.mode == "server" {
        check(
            c.tls_cert.is_some() && c.tls_key.is_some(),
            "cluster.tls_cert",
            "with TLS on, a server needs cluster.tls_cert and cluster.tls_key (PEM files)"
                .to_owned(),
        );
    }
    if tls && c.mode == "client" {
        check(
            c.tls_ca.is_some(),
            "cluster.tls_ca",
            "with TLS on, a client needs cluster.tls_ca (a PEM file of the certificates it trusts)"
                .to_owned(),
        );
    }
    check(
        matches!(c.mode.as_str(), "server" | "client"),
        "cluster.mode",
        format!("server or client, got {:?}", c.mode),
    );
    check(
        !c.host.trim().is_empty(),
        "cluster.host",
        "an address such as 127.0.0.1".to_owned(),
    );
    check(
        c.port != 0 || c.mode == "server",
        "cluster.port",
        "the server's port (1-65535) for a client".to_owned(),
    );
    check(
        zoryx_ipc::handshake::is_valid_cluster_name(&c.name),
        "cluster.name",
        format!(
            "1-64 ASCII letters, digits, `-`, `_` or `.` (not `all`), got {:?}",
            c.name
        ),
    );
    check(
        (1..=86_400).contains(&c.stats_interval_seconds),
        "cluster.stats_interval_seconds",
        format!("1 to 86400 seconds, got {}", c.stats_interval_seconds),
    );
    if let Some(secret) = &c.secret {
        check(
            secret.len() >= zoryx_ipc::Secret::MIN_LEN,
            "cluster.secret",
            format!(
                "at least {} bytes (the value is not shown)",
                zoryx_ipc::Secret::MIN_LEN
            ),
        );
    }
    let a = &core.atomic_files;
    check(
        a.cache_ttl_secs >= 1,
        "atomic_files.cache_ttl_secs",
        format!("a positive number of seconds, got {}", a.cache_ttl_secs),
    );
    check(
        a.lock_cleanup_threshold >= 1,
        "atomic_files.lock_cleanup_threshold",
        format!(
            "a positive number of locks, got {}",
            a.lock_cleanup_threshold
        ),
    );
    check(
        (1..=10).contains(&a.retries),
        "atomic_files.retries",
        format!("a number of attempts from 1 to 10, got {}", a.retries),
    );
    let l = &core.limits;
    let seconds = |value: f64| value.is_finite() && (0.01..=86_400.0).contains(&value);
    for (key, value) in [
        ("limits.command_seconds", l.command_seconds),
        ("limits.listener_seconds", l.listener_seconds),
        ("limits.hook_seconds", l.hook_seconds),
        ("limits.task_seconds", l.task_seconds),
    ] {
        check(
            seconds(value),
            key,
            format!("a number of seconds from 0.01 to 86400, got {value}"),
        );
    }
    for (name, value) in &l.commands {
        check(
            seconds(*value),
            &format!("limits.commands.{name}"),
            format!("a number of seconds from 0.01 to 86400, got {value}"),
        );
    }
    check(
        l.blocked_thread_ms >= 10,
        "limits.blocked_thread_ms",
        format!(
            "a number of milliseconds of at least 10, got {}",
            l.blocked_thread_ms
        ),
    );
    check(
        (2..=4096).contains(&l.plugin_threads),
        "limits.plugin_threads",
        format!(
            "a number of threads from 2 to 4096, got {}",
            l.plugin_threads
        ),
    );
    if let Some(bind) = core.health.bind.as_deref().map(str::trim)
        && !bind.is_empty()
    {
        check(
            bind.parse::<std::net::SocketAddr>().is_ok(),
            "health.bind",
            format!(
                "an IP address and port such as 127.0.0.1:8081 (or \"\" for off), got {bind:?}"
            ),
        );
    }
    let d = &core.diagnostics;
    check(
        (1..=86_400).contains(&d.interval_seconds),
        "diagnostics.interval_seconds",
        format!(
            "a number of seconds from 1 to 86400, got {}",
            d.interval_seconds
        ),
    );
    check(
        (1..=365).contains(&d.history_days),
        "diagnostics.history_days",
        format!("a number of days from 1 to 365, got {}", d.history_days),
    );
    for (name, degraded, critical) in [
        ("error_rate", d.error_rate_degraded, d.error_rate_critical),
        ("lag", d.lag_degraded_ms, d.lag_critical_ms),
        ("memory", d.memory_degraded_mb, d.memory_critical_mb),
        ("latency", d.latency_degraded_ms, d.latency_critical_ms),
    ] {
        let unit = match name {
            "error_rate" => "",
            "memory" => "_mb",
            _ => "_ms",
        };
        check(
            degraded.is_finite() && degraded > 0.0 && critical.is_finite() && critical >= degraded,
            &format!("diagnostics.{name}_critical{unit}"),
            format!(
                "above zero, with `{name}_critical{unit}` at least `{name}_degraded{unit}`, got {degraded} and {critical}"
            ),
        );
    }
    let i = &core.isolation;
    check(
        i.memory_mb == 0 || (64..=1_048_576).contains(&i.memory_mb),
        "isolation.memory_mb",
        format!(
            "0 (no limit) or a number of megabytes from 64 to 1048576, got {}",
            i.memory_mb
        ),
    );
    check(
        (1..=1000).contains(&i.max_crashes),
        "isolation.max_crashes",
        format!("a number of failures from 1 to 1000, got {}", i.max_crashes),
    );
    check(
        (1..=86_400).contains(&i.crash_window_seconds),
        "isolation.crash_window_seconds",
        format!(
            "a number of seconds from 1 to 86400, got {}",
            i.crash_window_seconds
        ),
    );
    for name in &i.plugins {
        check(
            !name.trim().is_empty(),
            "isolation.plugins",
            "extension names (or \"*\" for all), got an empty name".to_owned(),
        );
    }
    let h = &core.http;
    check(
        h.timeout_seconds.is_finite() && h.timeout_seconds > 0.0 && h.timeout_seconds <= 300.0,
        "http.timeout_seconds",
        format!(
            "a number of seconds above 0, at most 300, got {}",
            h.timeout_seconds
        ),
    );
    check(
        (1..=1_048_576).contains(&h.max_response_kb),
        "http.max_response_kb",
        format!(
            "a number of KiB from 1 to 1048576, got {}",
            h.max_response_kb
        ),
    );
    for (plugin, hosts) in &h.allow {
        for host in hosts {
            check(
                is_host_pattern(host),
                &format!("http.allow.{plugin}"),
                format!(
                    "host names such as api.example.com, *.example.com, host:port or \"*\" \
                     (no scheme or path), got {host:?}"
                ),
            );
        }
    }
    dashboard(&core.dashboard, &mut check);
    marketplace(&core.marketplace, &mut check);
    found
}

/// The `marketplace.*` keys.
fn marketplace(m: &crate::config::MarketplaceConfig, check: &mut impl FnMut(bool, &str, String)) {
    if let Some(url) = &m.index_url {
        check(
            is_http_url(url) && !url.contains(['?', '#']),
            "marketplace.index_url",
            format!(
                "an http:// or https:// URL of an index.json such as \
                 https://plugins.example.org/index.json, got {url:?}"
            ),
        );
    }
    for key in &m.trusted_keys {
        check(
            zoryx_market::PublicKey::parse(key).is_ok(),
            "marketplace.trusted_keys",
            format!(
                "public keys such as zoryx-ed25519:BASE64 (printed by `zoryx market keygen`), \
                 got {key:?}"
            ),
        );
    }
    check(
        (1..=604_800).contains(&m.cache_ttl_seconds),
        "marketplace.cache_ttl_seconds",
        format!(
            "a number of seconds from 1 to 604800, got {}",
            m.cache_ttl_seconds
        ),
    );
}

/// The `dashboard.*` keys.
fn dashboard(d: &crate::config::DashboardConfig, check: &mut impl FnMut(bool, &str, String)) {
    use crate::config::{DASHBOARD_PERMISSIONS, DASHBOARD_ROLES};
    check(
        d.bind.trim().parse::<std::net::SocketAddr>().is_ok(),
        "dashboard.bind",
        format!(
            "an IP address and port such as 127.0.0.1:8750, got {:?}",
            d.bind
        ),
    );
    if let Some(url) = &d.public_url {
        check(
            is_http_url(url) && !url.contains(['?', '#']),
            "dashboard.public_url",
            format!("an http:// or https:// URL such as https://bot.example.com, got {url:?}"),
        );
    }
    if let Some(id) = &d.oauth_client_id {
        check(
            is_snowflake(id),
            "dashboard.oauth_client_id",
            format!("the application's id (digits), got {id:?}"),
        );
    }
    check(
        d.oauth_client_id.is_none()
            || d.oauth_client_secret
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty()),
        "dashboard.oauth_client_secret",
        "the application's client secret, with oauth_client_id set (the value is not shown)"
            .to_owned(),
    );
    check(
        (1..=720).contains(&d.session_hours),
        "dashboard.session_hours",
        format!("1 to 720 hours, got {}", d.session_hours),
    );
    check(
        (1..=1000).contains(&d.login_attempts_per_minute),
        "dashboard.login_attempts_per_minute",
        format!("1 to 1000 attempts, got {}", d.login_attempts_per_minute),
    );
    for (user, role) in &d.users {
        check(
            is_snowflake(user),
            &format!("dashboard.users.{user}"),
            "Discord user ids (digits) as keys".to_owned(),
        );
        check(
            (DASHBOARD_ROLES.contains(&role.as_str()) && role != "owner")
                || d.roles.contains_key(role),
            &format!("dashboard.users.{user}"),
            format!(
                "admin, viewer or a role of dashboard.roles (owners are the bot owners), got {role:?}"
            ),
        );
    }
    for (role, permissions) in &d.roles {
        check(
            !DASHBOARD_ROLES.contains(&role.as_str())
                && !role.is_empty()
                && role
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            &format!("dashboard.roles.{role}"),
            "a new role name (letters, digits, `-`, `_`; not owner, admin or viewer)".to_owned(),
        );
        for permission in permissions {
            check(
                DASHBOARD_PERMISSIONS.contains(&permission.as_str()),
                &format!("dashboard.roles.{role}"),
                format!(
                    "permissions among {}, got {permission:?}",
                    DASHBOARD_PERMISSIONS.join(", ")
                ),
            );
        }
    }
}

/// Whether `text` is a Discord id (a snowflake's digits).
fn is_snowflake(text: &str) -> bool {
    !text.is_empty() && text.len() <= 20 && text.parse::<u64>().is_ok()
}

/// Whether `text` is an `http.allow` host pattern.
fn is_host_pattern(text: &str) -> bool {
    let text = text.trim();
    if text == "*" {
        return true;
    }
    let name = text.strip_prefix("*.").unwrap_or(text);
    let (name, port) = match name.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (name, None),
    };
    !name.is_empty()
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
}

/// Whether `text` is an absolute http(s) URL with a host.
fn is_http_url(text: &str) -> bool {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty()
            && !host.starts_with(':')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Keys of `raw` that the core does not know, depth first. `command_permissions` holds command
/// names, so its keys are not checked.
pub fn unknown_keys(raw: &Value) -> Vec<UnknownKey> {
    let known = match serde_json::to_value(CoreConfig::default()) {
        Ok(known) => known,
        Err(_) => return Vec::new(),
    };
    let mut found = Vec::new();
    walk(raw, &known, "", &mut found);
    found
}

/// Maps whose keys are data, not settings.
const FREE_MAPS: [&str; 6] = [
    "command_permissions",
    "limits.commands",
    "http.allow",
    "plugins",
    "dashboard.users",
    "dashboard.roles",
];

fn walk(raw: &Value, known: &Value, prefix: &str, found: &mut Vec<UnknownKey>) {
    let (Value::Object(raw), Value::Object(known)) = (raw, known) else {
        return;
    };
    for (key, value) in raw {
        let dotted = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match known.get(key) {
            Some(_) if FREE_MAPS.contains(&dotted.as_str()) => {}
            Some(known_value) => walk(value, known_value, &dotted, found),
            None => {
                let suggestion = known
                    .keys()
                    .map(|k| (edit_distance(key, k), k))
                    .filter(|(d, k)| *d <= 2.max(k.len() / 4))
                    .min_by_key(|(d, _)| *d)
                    .map(|(_, k)| {
                        if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        }
                    });
                found.push(UnknownKey {
                    key: dotted,
                    suggestion,
                });
            }
        }
    }
}

/// Levenshtein distance between `a` and `b` (case-insensitive).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_urls() {
        assert_eq!(edit_distance("prefx", "prefix"), 1);
        assert_eq!(edit_distance("levle", "level"), 2);
        assert!(is_http_url("http://127.0.0.1:8080"));
        assert!(is_http_url("https://discord.com/api"));
        assert!(!is_http_url("ftp://x"));
        assert!(!is_http_url("http://"));
        assert!(!is_http_url("127.0.0.1:8080"));
    }
}
