//! What `list` and `info` show about a plugin.

use std::sync::Arc;
use std::time::SystemTime;

use crate::isolation::WorkerStatus;
use crate::registry::{PluginStatus, RegistryEntry};
use crate::runtime::{CallStats, Generation, LibraryStats, PluginPool};

/// A plugin's registry entry joined with its live generation.
#[derive(Clone, Debug)]
pub struct PluginInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Author.
    pub author: String,
    /// Description.
    pub description: String,
    /// Registry status.
    pub status: PluginStatus,
    /// Why, when not valid.
    pub reason: String,
    /// `name requirement` dependencies.
    pub dependencies: Vec<String>,
    /// Conflicts.
    pub conflicts: Vec<String>,
    /// The file in `extensions/`.
    pub file: Option<String>,
    /// Whether it is loaded.
    pub loaded: bool,
    /// Live generation number.
    pub generation: Option<u64>,
    /// plugin-api version it was built against.
    pub api_version: Option<String>,
    /// Load time of the live generation (ms).
    pub load_time_ms: Option<f64>,
    /// When the live generation started.
    pub loaded_at: Option<SystemTime>,
    /// Command names.
    pub commands: Vec<String>,
    /// Listened events.
    pub listeners: Vec<String>,
    /// Hooks as `event (priority)`.
    pub hooks: Vec<String>,
    /// Tasks as `name every Ns`.
    pub tasks: Vec<String>,
    /// Pinned (closed but still mapped) libraries of this plugin: count.
    pub pinned: usize,
    /// ... and their mapped bytes.
    pub pinned_bytes: u64,
    /// Calls since start, polls that blocked a thread past `limits.blocked_thread_ms`, and
    /// calls cancelled at their time limit (every generation of the plugin together).
    pub calls: CallStats,
    /// Its worker process, when it runs isolated.
    pub worker: Option<WorkerStatus>,
}

impl PluginInfo {
    /// Where it runs, in a word or a few: `loaded`, `isolated (pid N)`, `disabled: ...`,
    /// `unloaded`.
    pub fn state(&self) -> String {
        match (&self.worker, self.loaded) {
            (Some(worker), true) => worker.to_string(),
            (None, true) => "loaded".to_owned(),
            (_, false) => "unloaded".to_owned(),
        }
    }

    /// Whether it is loaded but disabled after its worker failed too often.
    pub fn is_disabled(&self) -> bool {
        self.worker.as_ref().is_some_and(WorkerStatus::is_disabled)
    }

    /// A short line about how the plugin's code behaves: calls, blocked threads, time-outs.
    pub fn calls_line(&self) -> String {
        format!(
            "{} calls, {} blocked a thread, {} over the time limit",
            self.calls.calls, self.calls.blocked, self.calls.timed_out
        )
    }
}

impl PluginInfo {
    pub(crate) fn new(
        entry: &RegistryEntry,
        live: Option<&Arc<Generation>>,
        stats: &LibraryStats,
        pool: &PluginPool,
    ) -> Self {
        let m = &entry.manifest;
        let pinned: Vec<_> = stats.pinned.iter().filter(|p| p.plugin == m.name).collect();
        let d = live.map(|g| &g.description);
        Self {
            name: m.name.clone(),
            version: m.version.to_string(),
            author: m.author.clone(),
            description: m.description.clone(),
            status: entry.status,
            reason: entry.reason.clone(),
            dependencies: m
                .dependencies
                .iter()
                .map(|(n, r)| format!("{n} {r}"))
                .collect(),
            conflicts: m.conflicts.clone(),
            file: entry.file.clone(),
            loaded: live.is_some(),
            generation: live.map(|g| g.id),
            api_version: live.map(|g| g.api_version.to_string()),
            load_time_ms: live.map(|g| g.load_time.as_secs_f64() * 1000.0),
            loaded_at: live.map(|g| g.loaded_at),
            commands: d.map_or_else(
                || entry.commands.clone(),
                |d| d.commands.iter().map(|c| c.name.clone()).collect(),
            ),
            listeners: d.map_or_else(Vec::new, |d| {
                d.listened().map(|k| k.name().to_owned()).collect()
            }),
            hooks: d.map_or_else(Vec::new, |d| {
                d.hooks.iter().map(|(e, p)| format!("{e} ({p})")).collect()
            }),
            tasks: d.map_or_else(Vec::new, |d| {
                d.tasks
                    .iter()
                    .map(|(n, p)| format!("{n} every {}s", p.as_secs_f64()))
                    .collect()
            }),
            pinned: pinned.len(),
            pinned_bytes: pinned.iter().map(|p| p.mapping.bytes).sum(),
            calls: pool.stats(&m.name),
            worker: live.and_then(|g| g.worker_status()),
        }
    }
}
