//! What a plugin may read about the bot it runs in, past the statistics and the catalogue
//! (plugin-api 1.3): reports on its plugins, health, databases and hooks, and the project's
//! documentation. An assistant that answers questions about the bot reads these.
//!
//! ```no_run
//! # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
//! use zoryx_plugin_api::Report;
//!
//! let plugins = host.report(Report::Plugins).await?;
//! for plugin in plugins["plugins"].as_array().into_iter().flatten() {
//!     host.info(format!("{} v{}", plugin["name"], plugin["version"]));
//! }
//! let readme: String = host.project_file("README.md").await?;
//! assert!(!readme.is_empty());
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use crate::actions::{Action, Outcome};
use crate::context::Host;
use crate::error::{PluginError, PluginResult};

/// The largest project file [`Host::project_file`] reads.
pub const PROJECT_FILE_MAX_BYTES: usize = 64 * 1024;

/// Which report [`Host::report`] reads. Each is a JSON object; fields may be added in later
/// minor versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Report {
    /// `{"plugins": [{name, version, author, description, status, reason, loaded,
    /// api_version, dependencies, conflicts, commands, listeners, hooks, tasks}]}`: the
    /// plugin registry joined with what is loaded.
    Plugins,
    /// `{"health": {tier, reasons}, "uptime_seconds", "cpu_percent", "memory_mb", "threads",
    /// "commands", "errors", "error_rate", "loop_lag_ms", "shards", "plugin_calls": [...]}`:
    /// the framework diagnostics and the health grade (`null` fields where not measured).
    Diagnostics,
    /// `{"databases": [{name, bytes, ...}], "top_commands": [[name, count]]}`: the bot's
    /// SQLite databases.
    Database,
    /// `{"enabled", "hooks": [{event, plugin, priority, runs, failures, skipped, mean_ms,
    /// circuit_open, disabled}]}`: event hooks and their circuit breakers.
    Hooks,
}

impl Report {
    /// Every report.
    pub const ALL: [Report; 4] = [
        Report::Plugins,
        Report::Diagnostics,
        Report::Database,
        Report::Hooks,
    ];

    /// The report's name, as in JSON (`"plugins"`).
    pub fn name(self) -> &'static str {
        match self {
            Report::Plugins => "plugins",
            Report::Diagnostics => "diagnostics",
            Report::Database => "database",
            Report::Hooks => "hooks",
        }
    }
}

/// Why a project path is refused, or `Ok` with the path cleaned (`/` separators, no `.`
/// parts). The rule [`Host::project_file`] and the host share: `README.md`, or a `.md` or
/// `.txt` file under `docs/` or `data/`; no hidden part (`.env`, `.git`), no `..`, no absolute
/// path, no name that looks like a secret (`secret`, `token`, `password`, `credential`, `key`).
///
/// ```
/// use zoryx_plugin_api::introspect::check_project_path;
///
/// assert_eq!(check_project_path("./docs/ARCHITECTURE.md").unwrap(), "docs/ARCHITECTURE.md");
/// assert!(check_project_path(".env").is_err());
/// assert!(check_project_path("docs/../.env").is_err());
/// assert!(check_project_path("/etc/passwd").is_err());
/// assert!(check_project_path("data/api_token.txt").is_err());
/// assert!(check_project_path("data/main.db").is_err());
/// ```
pub fn check_project_path(path: &str) -> Result<String, String> {
    let path = path.trim();
    if path.starts_with('/') || path.starts_with('\\') || path.contains(':') {
        return Err(format!("`{path}` is not a path inside the project"));
    }
    let parts: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() {
        return Err("no file named".to_owned());
    }
    for part in &parts {
        if *part == ".." || part.starts_with('.') {
            return Err(format!("`{path}` leaves the allowed folders or is hidden"));
        }
        let lower = part.to_ascii_lowercase();
        if ["secret", "token", "password", "credential", "key", "env"]
            .iter()
            .any(|word| lower.contains(word))
        {
            return Err(format!("`{path}` may hold secrets"));
        }
    }
    let clean = parts.join("/");
    if clean.eq_ignore_ascii_case("readme.md") {
        return Ok(clean);
    }
    let folder_ok = parts.len() >= 2 && matches!(parts[0], "docs" | "data");
    let lower = clean.to_ascii_lowercase();
    let kind_ok = lower.ends_with(".md") || lower.ends_with(".txt");
    if folder_ok && kind_ok {
        Ok(clean)
    } else {
        Err(format!(
            "`{path}` is not README.md or a .md/.txt file under docs/ or data/"
        ))
    }
}

impl Host {
    /// A report on the running bot, as JSON (see [`Report`] for each one's shape;
    /// plugin-api 1.3).
    pub async fn report(&self, topic: Report) -> PluginResult<serde_json::Value> {
        match self.act(&Action::Report { topic }).await? {
            Outcome::Json(text) => serde_json::from_str(&text)
                .map_err(|e| PluginError::Host(format!("the {} report: {e}", topic.name()))),
            other => Err(PluginError::Host(format!(
                "the host answered a report with {other:?}"
            ))),
        }
    }

    /// A text file of the project (see [`check_project_path`] for which), at most
    /// [`PROJECT_FILE_MAX_BYTES`]; an error says why a file is refused or missing
    /// (plugin-api 1.3).
    pub async fn project_file(&self, path: &str) -> PluginResult<String> {
        let path = check_project_path(path).map_err(PluginError::User)?;
        match self.act(&Action::ProjectFile { path }).await? {
            Outcome::Json(text) => serde_json::from_str(&text)
                .map_err(|e| PluginError::Host(format!("a project file: {e}"))),
            other => Err(PluginError::Host(format!(
                "the host answered a file read with {other:?}"
            ))),
        }
    }
}
