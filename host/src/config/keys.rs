//! The typed keys of `config.json`, with the seed's defaults.
//!
//! Every section is `#[serde(default)]`: a missing key takes its default, a key of the wrong type
//! is refused with its dotted path named (see [`super::Config::parse`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `extensions.*` keys.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ExtensionsConfig {
    /// Load every library in `extensions/` at start.
    pub auto_load: bool,
    /// Extension names to skip when loading at start and on file changes.
    pub blacklist: Vec<String>,
}

impl Default for ExtensionsConfig {
    fn default() -> Self {
        Self {
            auto_load: true,
            blacklist: Vec::new(),
        }
    }
}

/// `status.*`: the bot's presence, shown under its name in the member list.
///
/// One status (`type`, `text`, `url`, `presence`) or a rotation (`statuses`, each with the same
/// keys), advanced every `interval_seconds`. `{guilds}`, `{users}`, `{commands}` and `{prefix}`
/// in a text are filled in each time it is shown.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StatusConfig {
    /// `playing`, `watching`, `listening`, `competing`, `streaming` (with `url`) or `custom`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text; `{guilds}`, `{users}`, `{commands}` and `{prefix}` are filled in.
    pub text: String,
    /// The stream's URL, for `streaming` (Discord shows Twitch and YouTube links as live).
    pub url: Option<String>,
    /// `online`, `idle`, `dnd` or `invisible`.
    pub presence: String,
    /// A rotation; when not empty, it is shown instead of `type`/`text`/`url`/`presence`.
    pub statuses: Vec<StatusEntry>,
    /// Seconds between two statuses of the rotation (and between refreshes of the
    /// placeholders); at least 15.
    pub interval_seconds: u64,
    /// Log each status change at INFO.
    pub log_status_updates: bool,
}

impl Default for StatusConfig {
    fn default() -> Self {
        Self {
            kind: "watching".to_owned(),
            text: "{guilds} servers".to_owned(),
            url: None,
            presence: "online".to_owned(),
            statuses: Vec::new(),
            interval_seconds: 300,
            log_status_updates: false,
        }
    }
}

impl StatusConfig {
    /// The statuses to show, in order: `statuses`, or the single one of the section.
    pub fn entries(&self) -> Vec<StatusEntry> {
        if self.statuses.is_empty() {
            vec![StatusEntry {
                kind: self.kind.clone(),
                text: self.text.clone(),
                url: self.url.clone(),
                presence: self.presence.clone(),
            }]
        } else {
            self.statuses.clone()
        }
    }
}

/// One status of `status.statuses`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct StatusEntry {
    /// As `status.type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// As `status.text`.
    pub text: String,
    /// As `status.url`.
    pub url: Option<String>,
    /// As `status.presence`.
    pub presence: String,
}

impl Default for StatusEntry {
    fn default() -> Self {
        let status = StatusConfig::default();
        Self {
            kind: status.kind,
            text: status.text,
            url: None,
            presence: status.presence,
        }
    }
}

/// `database.*`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DatabaseConfig {
    /// Where `main.db` and the per-guild databases live.
    pub base_path: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            base_path: "./data".to_owned(),
        }
    }
}

/// `logging.*`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LoggingConfig {
    /// `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL` (`RUST_LOG` overrides it).
    pub level: String,
    /// Size at which `botlogs/permanent.log` is rotated.
    pub max_bytes: u64,
    /// Rotated files kept.
    pub backup_count: u32,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "INFO".to_owned(),
            max_bytes: 10 * 1024 * 1024,
            backup_count: 5,
        }
    }
}

/// `cooldowns.*`: the cooldown of every command that declares none of its own, per user
/// (bot owners are not held by it).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CooldownsConfig {
    /// Uses per window; 0 turns the default cooldown off.
    pub default_rate: u32,
    /// The window, in seconds.
    pub default_per: f64,
}

impl CooldownsConfig {
    /// The default cooldown these keys describe (`None` with `default_rate` 0).
    pub fn cooldown(&self) -> Option<zoryx_plugin_api::Cooldown> {
        (self.default_rate > 0 && self.default_per.is_finite() && self.default_per > 0.0).then(
            || zoryx_plugin_api::Cooldown {
                rate: self.default_rate,
                per: std::time::Duration::from_secs_f64(self.default_per.min(86_400.0)),
                bucket: zoryx_plugin_api::Bucket::User,
            },
        )
    }
}

impl Default for CooldownsConfig {
    fn default() -> Self {
        Self {
            default_rate: 3,
            default_per: 5.0,
        }
    }
}

/// `slash_limiter.*`: Discord allows 100 global slash commands.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SlashLimiterConfig {
    /// Discord's hard limit.
    pub max_limit: u32,
    /// Warn from this many commands on.
    pub warning_threshold: u32,
    /// From this many commands on, new commands are registered prefix-only.
    pub safe_limit: u32,
}

impl Default for SlashLimiterConfig {
    fn default() -> Self {
        Self {
            max_limit: 100,
            warning_threshold: 90,
            safe_limit: 95,
        }
    }
}

/// `framework.*`: switches for the built-in systems.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FrameworkConfig {
    /// Load the framework's systems at all: off, every `enable_*` switch below is off.
    pub load_cogs: bool,
    /// Framework event hooks.
    pub enable_event_hooks: bool,
    /// The plugin registry.
    pub enable_plugin_registry: bool,
    /// Framework diagnostics.
    pub enable_framework_diagnostics: bool,
    /// The slash command limiter.
    pub enable_slash_command_limiter: bool,
    /// Shard monitor (`ENABLE_SHARD_MONITOR` takes precedence).
    pub enable_shard_monitor: bool,
    /// Shard manager: the cluster IPC of `cluster.*`, for a bot run as several host processes
    /// (`ENABLE_SHARD_MANAGER` takes precedence; off by default).
    pub enable_shard_manager: bool,
}

impl FrameworkConfig {
    /// Event hooks on: `load_cogs` and `enable_event_hooks`.
    pub fn event_hooks(&self) -> bool {
        self.load_cogs && self.enable_event_hooks
    }

    /// The plugin registry's enforcement on: `load_cogs` and `enable_plugin_registry`. Off,
    /// plugins with missing dependencies or conflicts load with a warning (as without the
    /// seed's registry cog), whatever enforcement the registry file holds.
    pub fn plugin_registry(&self) -> bool {
        self.load_cogs && self.enable_plugin_registry
    }

    /// Whether framework diagnostics run (`load_cogs` and
    /// `enable_framework_diagnostics`): the health loop, its alerts and `/metrics`.
    pub fn framework_diagnostics(&self) -> bool {
        self.load_cogs && self.enable_framework_diagnostics
    }

    /// Whether the slash command limiter runs (`load_cogs` and
    /// `enable_slash_command_limiter`).
    pub fn slash_command_limiter(&self) -> bool {
        self.load_cogs && self.enable_slash_command_limiter
    }
}

impl Default for FrameworkConfig {
    fn default() -> Self {
        Self {
            load_cogs: true,
            enable_event_hooks: true,
            enable_plugin_registry: true,
            enable_framework_diagnostics: true,
            enable_slash_command_limiter: true,
            enable_shard_monitor: true,
            enable_shard_manager: false,
        }
    }
}

/// `discord.*`: where Discord is and where slash commands are registered.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DiscordConfig {
    /// Base URL of Discord's API (a REST proxy, or a simulator), e.g. `http://127.0.0.1:8080`.
    /// `None` is Discord itself. `DISCORD_API_BASE` overrides it.
    pub api_base: Option<String>,
    /// Where Discord's CDN is, for attachments and emoji images plugins download
    /// (`Host::download`), e.g. a simulator's `http://127.0.0.1:8080`. `None` is
    /// `https://cdn.discordapp.com`. `DISCORD_CDN_BASE` overrides it.
    pub cdn_base: Option<String>,
    /// The gateway to connect to instead of the one Discord names (a gateway proxy such as
    /// gateway-proxy), e.g. `ws://127.0.0.1:7878`. `DISCORD_GATEWAY_URL` overrides it.
    pub gateway_url: Option<String>,
    /// A gateway queue (twilight's gateway-queue HTTP protocol: `zoryx queue`, or twilight's
    /// service) every shard asks before it identifies, e.g. `http://127.0.0.1:5000`. All
    /// processes of a cluster use the same one. `None`: the host keeps Discord's identify limits
    /// itself (one identify per `max_concurrency` bucket every 5 s). `DISCORD_GATEWAY_QUEUE`
    /// overrides it.
    pub gateway_queue: Option<String>,
    /// Save each shard's gateway session on a graceful stop and resume it on the next start
    /// instead of identifying (no events missed, no identify spent). Default `true`.
    pub resume_sessions: bool,
    /// Register slash commands to this guild only (instant, for testing) instead of globally.
    pub test_guild_id: Option<u64>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            api_base: None,
            cdn_base: None,
            gateway_url: None,
            gateway_queue: None,
            resume_sessions: true,
            test_guild_id: None,
        }
    }
}

/// `cluster.*`: the shard manager's IPC between the host processes of one bot (used when
/// `framework.enable_shard_manager` is on). One process runs the server, the others connect to
/// it as clients; each `SHARD_IPC_*` / `SHARD_CLUSTER_NAME` variable overrides its key.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ClusterConfig {
    /// `server` (listens on `host`:`port`) or `client` (connects there). `SHARD_IPC_MODE`.
    pub mode: String,
    /// The address the server listens on, or the client connects to. `SHARD_IPC_HOST`.
    pub host: String,
    /// Its port; a server given 0 takes any free port. `SHARD_IPC_PORT`.
    pub port: u16,
    /// The shared secret, at least 16 bytes, the same in every cluster; it never crosses the
    /// wire (HMAC challenge-response). `SHARD_IPC_SECRET` (better kept in `.env`).
    pub secret: Option<String>,
    /// This cluster's name, unique in the bot: ASCII letters, digits, `-`, `_`, `.`.
    /// `SHARD_CLUSTER_NAME`.
    pub name: String,
    /// Seconds between two publications of this cluster's figures (at least 1).
    pub stats_interval_seconds: u64,
    /// TLS for the link (off while none of the `tls_*` keys is set): the server's certificate
    /// chain, a PEM file. The server needs it with `tls_key`. `SHARD_IPC_TLS_CERT`.
    pub tls_cert: Option<String>,
    /// The server's private key, a PEM file (PKCS#8, PKCS#1 or SEC1). `SHARD_IPC_TLS_KEY`.
    pub tls_key: Option<String>,
    /// The certificates a client trusts (a private CA's, or the server's self-signed one), a
    /// PEM file; a client with TLS needs it. `SHARD_IPC_TLS_CA`.
    pub tls_ca: Option<String>,
    /// The name a client expects in the server's certificate (a DNS name or an IP address;
    /// default `host`). `SHARD_IPC_TLS_SERVER_NAME`.
    pub tls_server_name: Option<String>,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("mode", &self.mode)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .field("stats_interval_seconds", &self.stats_interval_seconds)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("tls_ca", &self.tls_ca)
            .field("tls_server_name", &self.tls_server_name)
            .finish()
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            mode: "server".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 20000,
            secret: None,
            name: "cluster-0".to_owned(),
            stats_interval_seconds: 60,
            tls_cert: None,
            tls_key: None,
            tls_ca: None,
            tls_server_name: None,
        }
    }
}

/// `atomic_files.*`: the atomic JSON file store.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AtomicFilesConfig {
    /// How long a cached read stays valid, in seconds.
    pub cache_ttl_secs: u64,
    /// How many files the read cache holds.
    pub cache_max_entries: usize,
    /// Above this many per-path locks, unused ones are cleaned up.
    pub lock_cleanup_threshold: usize,
    /// Attempts for a file operation that fails with a transient I/O error.
    pub retries: u32,
}

impl Default for AtomicFilesConfig {
    fn default() -> Self {
        Self {
            cache_ttl_secs: 300,
            cache_max_entries: 1000,
            lock_cleanup_threshold: 500,
            retries: 3,
        }
    }
}

/// `limits.*`: how long plugin code may run, and the threads it runs on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LimitsConfig {
    /// A command or component handler: past it the user gets a "took too long" answer, the
    /// call is cancelled and its late replies are dropped.
    pub command_seconds: f64,
    /// Per-command limits, by command name, overriding `command_seconds`.
    pub commands: BTreeMap<String, f64>,
    /// One call of an event listener.
    pub listener_seconds: f64,
    /// One call of a hook.
    pub hook_seconds: f64,
    /// One run of a scheduled task.
    pub task_seconds: f64,
    /// A plugin call that holds its thread longer than this is reported (once) and counted.
    pub blocked_thread_ms: u64,
    /// Threads plugin code may run on at most (a blocked thread is replaced by a new one).
    pub plugin_threads: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            command_seconds: 30.0,
            commands: BTreeMap::new(),
            listener_seconds: 30.0,
            hook_seconds: 10.0,
            task_seconds: 300.0,
            blocked_thread_ms: 1000,
            plugin_threads: 256,
        }
    }
}

/// `diagnostics.*`: the health loop of framework diagnostics, its history and thresholds
/// (a figure at or past its `_degraded` value makes the bot degraded, at or past `_critical`
/// critical).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DiagnosticsConfig {
    /// Seconds between health checks.
    pub interval_seconds: u64,
    /// Days of health checks kept in `main.db`.
    pub history_days: u64,
    /// Failed commands, in % of those since the previous check (the seed's tiers: 5 and 10).
    pub error_rate_degraded: f64,
    /// See `error_rate_degraded`.
    pub error_rate_critical: f64,
    /// The async runtime's lag in ms (the seed's `FW_LOOP_LAG_THRESHOLD_MS`: 500).
    pub lag_degraded_ms: f64,
    /// See `lag_degraded_ms`.
    pub lag_critical_ms: f64,
    /// Resident memory in MB.
    pub memory_degraded_mb: f64,
    /// See `memory_degraded_mb`.
    pub memory_critical_mb: f64,
    /// The worst shard's heartbeat latency in ms (the seed's shard monitor: 1,000 and 2,000).
    pub latency_degraded_ms: f64,
    /// See `latency_degraded_ms`.
    pub latency_critical_ms: f64,
}

impl Default for DiagnosticsConfig {
    fn default() -> Self {
        Self {
            interval_seconds: 60,
            history_days: 7,
            error_rate_degraded: 5.0,
            error_rate_critical: 10.0,
            lag_degraded_ms: 500.0,
            lag_critical_ms: 2000.0,
            memory_degraded_mb: 1024.0,
            memory_critical_mb: 2048.0,
            latency_degraded_ms: 1000.0,
            latency_critical_ms: 2000.0,
        }
    }
}

/// `health.*`: the health endpoint (`GET /healthz`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HealthConfig {
    /// Address and port to serve it on, e.g. `127.0.0.1:8081`; `null` or `""` is off (the
    /// default). `ZORYX_HEALTH_BIND` overrides it.
    pub bind: Option<String>,
}

impl HealthConfig {
    /// The address to serve on, or `None` when the endpoint is off (or the value does not parse,
    /// which validation refuses first).
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        self.bind
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .and_then(|b| b.parse().ok())
    }
}

/// `isolation.*`: plugins that run in a worker process of their own.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IsolationConfig {
    /// Extension names (as in `extensions/`, file name without extension) loaded in a worker
    /// process; `"*"` isolates every plugin. `load NAME --isolated` isolates one more.
    pub plugins: Vec<String>,
    /// A worker's address-space limit (`RLIMIT_AS`) in MB; past it the plugin's allocations
    /// fail and its worker ends. 0: no limit.
    pub memory_mb: u64,
    /// This many worker failures (crash, exit, kill at the time limit, out of memory) within
    /// `crash_window_seconds` disable the plugin until it is loaded or reloaded again.
    pub max_crashes: u32,
    /// The window `max_crashes` counts in, in seconds.
    pub crash_window_seconds: u64,
}

impl Default for IsolationConfig {
    fn default() -> Self {
        Self {
            plugins: Vec::new(),
            memory_mb: 1024,
            max_crashes: 5,
            crash_window_seconds: 60,
        }
    }
}

/// `http.*`: outbound HTTP of plugins (`Host::http`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpConfig {
    /// Plugin name → the hosts it may reach: `api.example.com`, `*.example.com` (subdomains),
    /// `host:port`, or `*` (any). A plugin not listed may reach none.
    pub allow: BTreeMap<String, Vec<String>>,
    /// The longest one request may take, redirects included, in seconds.
    pub timeout_seconds: f64,
    /// The largest answer body a plugin may receive, in KiB.
    pub max_response_kb: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            allow: BTreeMap::new(),
            timeout_seconds: 10.0,
            max_response_kb: 1024,
        }
    }
}

/// `marketplace.*`: where plugins are installed from (`marketplace` commands, `zoryx market
/// install`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MarketplaceConfig {
    /// The signed index, an http(s) URL of `index.json` (its signature is `index.json.sig`
    /// beside it); `None`: no marketplace.
    pub index_url: Option<String>,
    /// The publishers' public keys (`zoryx-ed25519:...`) an index must be signed by.
    pub trusted_keys: Vec<String>,
    /// How long the cached index is used before it is fetched again, in seconds.
    pub cache_ttl_seconds: u64,
}

impl Default for MarketplaceConfig {
    fn default() -> Self {
        Self {
            index_url: None,
            trusted_keys: Vec::new(),
            cache_ttl_seconds: 300,
        }
    }
}

/// What the dashboard lets a role do, by name: `view.*` opens a page, the others are actions.
/// `dashboard.roles` gives custom roles a list of these; anything not listed is refused.
pub const DASHBOARD_PERMISSIONS: [&str; 24] = [
    "view.overview",
    "view.plugins",
    "view.commands",
    "view.shards",
    "view.system",
    "view.logs",
    "view.config",
    "view.databases",
    "view.security",
    "view.guilds",
    "plugins.load",
    "plugins.unload",
    "plugins.reload",
    "config.edit",
    "sessions.revoke",
    "chat.send",
    "view.hooks",
    "view.panels",
    "hooks.manage",
    "guilds.manage",
    "guilds.leave",
    "commands.permissions",
    "databases.check",
    "panels.act",
];

/// The dashboard's built-in roles (bot owners are always `owner`).
pub const DASHBOARD_ROLES: [&str; 3] = ["owner", "admin", "viewer"];

/// `dashboard.*`: the web dashboard the host serves itself (off by default).
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DashboardConfig {
    /// Serve it.
    pub enabled: bool,
    /// Address and port, e.g. `127.0.0.1:8750` (loopback: put a TLS reverse proxy in front
    /// to reach it from elsewhere).
    pub bind: String,
    /// The address people open, when it is not `http://BIND` (behind a reverse proxy), e.g.
    /// `https://bot.example.com`; an `https://` one makes the session cookie `Secure`. Discord
    /// login's redirect URI is `PUBLIC_URL/login/callback`.
    pub public_url: Option<String>,
    /// The Discord application's client id, for Discord login (`None`: only one-time links).
    pub oauth_client_id: Option<String>,
    /// The application's client secret (better in `.env` as `DASHBOARD_OAUTH_CLIENT_SECRET`).
    pub oauth_client_secret: Option<String>,
    /// How long a login lasts, in hours.
    pub session_hours: u64,
    /// Login attempts one address may make per minute; past it, 429.
    pub login_attempts_per_minute: u32,
    /// Take the client's address from the reverse proxy's `X-Forwarded-For` (for the login
    /// limit and the audit log); only behind a proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Discord user id → role: `admin`, `viewer` or a custom role of `roles`. Bot owners are
    /// owners; anybody else is refused.
    pub users: BTreeMap<String, String>,
    /// Custom role name → the permissions it has (see the README's list).
    pub roles: BTreeMap<String, Vec<String>>,
}

impl std::fmt::Debug for DashboardConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardConfig")
            .field("enabled", &self.enabled)
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("oauth_client_id", &self.oauth_client_id)
            .field(
                "oauth_client_secret",
                &self.oauth_client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("session_hours", &self.session_hours)
            .field("login_attempts_per_minute", &self.login_attempts_per_minute)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("users", &self.users)
            .field("roles", &self.roles)
            .finish()
    }
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            bind: "127.0.0.1:8750".to_owned(),
            public_url: None,
            oauth_client_id: None,
            oauth_client_secret: None,
            session_hours: 12,
            login_attempts_per_minute: 10,
            trust_forwarded_for: false,
            users: BTreeMap::new(),
            roles: BTreeMap::new(),
        }
    }
}

impl DashboardConfig {
    /// The address to serve on (validation refuses one that does not parse first).
    pub fn address(&self) -> Option<std::net::SocketAddr> {
        self.bind.trim().parse().ok()
    }
}

/// Every key of `config.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CoreConfig {
    /// The default command prefix (per-guild overrides with `!setprefix`).
    pub prefix: String,
    /// Whether `@Bot command` works (per-guild overrides with `!mentionprefix`).
    pub allow_mention_prefix: bool,
    /// Bot owners besides `BOT_OWNER_ID`.
    pub owner_ids: Vec<u64>,
    /// Watch `extensions/` and reload changed libraries.
    pub auto_reload: bool,
    /// The bot's presence.
    pub status: StatusConfig,
    /// Databases.
    pub database: DatabaseConfig,
    /// Log files.
    pub logging: LoggingConfig,
    /// Extension loading.
    pub extensions: ExtensionsConfig,
    /// Default cooldowns.
    pub cooldowns: CooldownsConfig,
    /// Command name → role ids allowed to run it.
    pub command_permissions: BTreeMap<String, Vec<u64>>,
    /// Slash command limits.
    pub slash_limiter: SlashLimiterConfig,
    /// Built-in systems.
    pub framework: FrameworkConfig,
    /// Discord endpoint and slash registration.
    pub discord: DiscordConfig,
    /// The shard manager's cluster IPC.
    pub cluster: ClusterConfig,
    /// The atomic file store.
    pub atomic_files: AtomicFilesConfig,
    /// Time limits and threads of plugin calls.
    pub limits: LimitsConfig,
    /// The health endpoint.
    pub health: HealthConfig,
    /// The health loop of framework diagnostics.
    pub diagnostics: DiagnosticsConfig,
    /// Plugins in worker processes.
    pub isolation: IsolationConfig,
    /// Outbound HTTP of plugins.
    pub http: HttpConfig,
    /// The web dashboard.
    pub dashboard: DashboardConfig,
    /// The plugin marketplace.
    pub marketplace: MarketplaceConfig,
    /// Plugin name → the plugin's own settings (any JSON), read with `Host::plugin_config` and
    /// written with `Host::set_plugin_config`.
    pub plugins: BTreeMap<String, serde_json::Value>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            prefix: "!".to_owned(),
            allow_mention_prefix: true,
            owner_ids: Vec::new(),
            auto_reload: true,
            status: StatusConfig::default(),
            database: DatabaseConfig::default(),
            logging: LoggingConfig::default(),
            extensions: ExtensionsConfig::default(),
            cooldowns: CooldownsConfig::default(),
            command_permissions: BTreeMap::new(),
            slash_limiter: SlashLimiterConfig::default(),
            framework: FrameworkConfig::default(),
            discord: DiscordConfig::default(),
            cluster: ClusterConfig::default(),
            atomic_files: AtomicFilesConfig::default(),
            limits: LimitsConfig::default(),
            health: HealthConfig::default(),
            diagnostics: DiagnosticsConfig::default(),
            isolation: IsolationConfig::default(),
            http: HttpConfig::default(),
            dashboard: DashboardConfig::default(),
            marketplace: MarketplaceConfig::default(),
            plugins: BTreeMap::new(),
        }
    }
}
