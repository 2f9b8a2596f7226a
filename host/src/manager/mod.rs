//! The plugin operations — load, unload, reload, list, info — in one layer.
//!
//! The operator console, the file watcher and (later) the Discord owner commands all call these.
//! Mutating operations are serialised by one lock; calls into plugins never take it.

mod error;
mod info;
mod names;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use zoryx_plugin_api::Manifest;
use zoryx_plugin_api::ffi::PluginModuleRef;

pub use error::OpError;
pub use info::PluginInfo;
pub use names::normalise;

use crate::config::Config;
use crate::isolation::{self, IsolationOptions, Launcher};
use crate::loader::{Code, LoadError, Loader, Opened, Staging};
use crate::registry::{
    Enforcement, PluginManifest, PluginStatus, Registry, RegistryEntry, Validation, load_order,
};
use crate::runtime::{
    Dispatcher, Generation, LibraryStats, LibraryTracker, Limits, LogOutbox, PoolOptions, Shared,
    Table,
};
use crate::storage::atomic::{AtomicOptions, AtomicStore};
use crate::storage::db::DbOptions;
use crate::storage::plugin::PluginStorage;

/// Where the host keeps things, and how it checks libraries.
#[derive(Clone, Debug)]
pub struct HostPaths {
    /// The drop folder.
    pub extensions: PathBuf,
    /// Runtime data (`plugin_registry.json`, private library copies).
    pub data: PathBuf,
    /// The `zoryx` binary for trial loads in a child process; `None` skips them (not for
    /// production: a truncated library then kills the host).
    pub checker: Option<PathBuf>,
}

/// Outcome of loading one file at start.
#[derive(Debug)]
pub struct StartReport {
    /// Plugins loaded, in load order.
    pub loaded: Vec<String>,
    /// Files refused, with the reason.
    pub refused: Vec<(String, OpError)>,
}

/// A loaded plugin as the reload report sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Reloaded {
    /// Plugin name.
    pub name: String,
    /// The retired generation.
    pub from: u64,
    /// The new generation.
    pub to: u64,
    /// Milliseconds from reading the file to the new version answering.
    pub millis: f64,
}

/// Something the manager did, broadcast to whoever listens (console, tests, alerts).
#[derive(Clone, Debug, PartialEq)]
pub enum ManagerEvent {
    /// A plugin was loaded.
    Loaded {
        /// Plugin name.
        name: String,
        /// Its generation.
        generation: u64,
    },
    /// A plugin was reloaded.
    Reloaded(Reloaded),
    /// A plugin was unloaded.
    Unloaded {
        /// Plugin name.
        name: String,
        /// The retired generation.
        generation: u64,
    },
    /// A file was refused (at load, reload or on a file change).
    Refused {
        /// The file or plugin.
        target: String,
        /// Why.
        reason: String,
    },
}

struct State {
    plugins: BTreeMap<String, Arc<Generation>>,
    registry: Registry,
}

/// The plugin host core.
pub struct Manager {
    paths: HostPaths,
    config: Config,
    loader: Loader,
    /// Starts isolated plugins' workers; `None` without the `zoryx` binary.
    launcher: Option<Arc<Launcher>>,
    dispatcher: Arc<Dispatcher>,
    tracker: Arc<LibraryTracker>,
    events: tokio::sync::broadcast::Sender<ManagerEvent>,
    state: tokio::sync::Mutex<State>,
    /// The plugin marketplace (`marketplace.*`), made on first use.
    market: std::sync::OnceLock<Arc<crate::market::Marketplace>>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

/// The call limits of `limits.*` in `config.json` (validated: positive, finite).
pub(crate) fn limits_of(config: &crate::config::LimitsConfig) -> Limits {
    let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(30));
    Limits {
        command: secs(config.command_seconds),
        commands: config
            .commands
            .iter()
            .map(|(name, s)| (name.to_lowercase(), secs(*s)))
            .collect(),
        listener: secs(config.listener_seconds),
        hook: secs(config.hook_seconds),
        task: secs(config.task_seconds),
    }
}

fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Converts a plugin's manifest into the registry's checked form.
fn registry_manifest(manifest: &Manifest) -> Result<PluginManifest, String> {
    let version = semver::Version::parse(&manifest.version)
        .map_err(|e| format!("manifest version `{}` is not semver: {e}", manifest.version))?;
    let mut dependencies = BTreeMap::new();
    for (name, requirement) in &manifest.dependencies {
        let req = semver::VersionReq::parse(requirement).map_err(|e| {
            format!("dependency `{name}` has an invalid requirement `{requirement}`: {e}")
        })?;
        dependencies.insert(normalise(name), req);
    }
    Ok(PluginManifest {
        name: normalise(&manifest.name),
        version,
        author: manifest.author.clone(),
        description: manifest.description.clone(),
        dependencies,
        conflicts: manifest.conflicts.iter().map(|c| normalise(c)).collect(),
    })
}

impl Manager {
    /// Creates the host core: opens the registry, prepares private copies and the dispatcher.
    /// Nothing is loaded yet; call [`Manager::load_all`].
    pub fn new(paths: HostPaths, config: Config) -> Result<Arc<Self>, OpError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| OpError::Io { path, source }
        };
        std::fs::create_dir_all(&paths.extensions).map_err(io(&paths.extensions))?;
        std::fs::create_dir_all(&paths.data).map_err(io(&paths.data))?;
        let staging_dir = paths.data.join(".loaded");
        let staging = Staging::new(&staging_dir).map_err(io(&staging_dir))?;
        let registry_path = paths.data.join("plugin_registry.json");
        let mut registry = Registry::open(&registry_path).map_err(|e| OpError::Io {
            path: registry_path.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })?;
        // What a previous run loaded is not loaded in this one until it is loaded again.
        let known: Vec<String> = registry
            .entries()
            .map(|e| e.manifest.name.clone())
            .collect();
        for name in known {
            registry.mark_unloaded(&name);
        }
        let shared = Shared::new(config.raw.clone(), Box::new(LogOutbox::default()));
        shared.set_limits(limits_of(&config.core.limits));
        shared.set_state_dir(paths.data.clone());
        let http = &config.core.http;
        shared.set_http(crate::http::HttpService::new(crate::http::HttpOptions {
            allow: http.allow.clone(),
            timeout: Duration::from_secs_f64(http.timeout_seconds),
            max_response_bytes: usize::try_from(http.max_response_kb.saturating_mul(1024))
                .unwrap_or(usize::MAX),
        }));
        shared.set_pool_options(PoolOptions {
            max_threads: usize::try_from(config.core.limits.plugin_threads).unwrap_or(256),
            blocked_after: Duration::from_millis(config.core.limits.blocked_thread_ms),
            ..PoolOptions::default()
        });
        // Plugin storage under the data folder, its databases opened on first use (`zoryx run`
        // replaces it with one over the databases it opened).
        shared.set_plugin_storage(PluginStorage::open_lazily(
            &paths.data,
            DbOptions::from_config(&config.core.database, &paths.data),
            AtomicStore::new(AtomicOptions::from(&config.core.atomic_files)),
        ));
        let isolation = &config.core.isolation;
        let launcher = paths.checker.clone().map(|exe| {
            Launcher::new(
                exe,
                IsolationOptions {
                    memory_mb: isolation.memory_mb,
                    max_crashes: isolation.max_crashes,
                    crash_window: Duration::from_secs(isolation.crash_window_seconds),
                },
            )
        });
        let dispatcher = Dispatcher::new(shared);
        dispatcher
            .hook_health()
            .open(&paths.data.join("event_hooks.json"));
        dispatcher.alerts().open(&paths.data.join("alerts.json"));
        // `command_permissions`: role grants that hold in every guild.
        dispatcher
            .gate()
            .set_global_roles(config.core.command_permissions.clone());
        // `framework.enable_event_hooks`.
        let framework = &config.core.framework;
        dispatcher.set_hooks_enabled(framework.event_hooks());
        if !framework.load_cogs {
            tracing::info!(
                "the framework's systems are off (framework.load_cogs): no event hooks, no \
                 registry enforcement, no slash command limiter"
            );
        } else {
            if !framework.enable_event_hooks {
                tracing::info!(
                    "event hooks are off (framework.enable_event_hooks): emitted events reach no hook"
                );
            }
            if !framework.enable_plugin_registry {
                tracing::info!(
                    "the plugin registry is off (framework.enable_plugin_registry): missing \
                     dependencies and conflicts are warnings, not refusals"
                );
            }
        }
        // `cooldowns.*`: the cooldown of commands that declare none.
        dispatcher
            .gate()
            .set_default_cooldown(config.core.cooldowns.cooldown());
        Ok(Arc::new(Self {
            loader: Loader::new(staging, paths.checker.clone()),
            launcher,
            paths,
            config,
            dispatcher,
            tracker: Arc::new(LibraryTracker::default()),
            events: tokio::sync::broadcast::channel(1024).0,
            state: tokio::sync::Mutex::new(State {
                plugins: BTreeMap::new(),
                registry,
            }),
            market: std::sync::OnceLock::new(),
        }))
    }

    /// The plugin marketplace of `marketplace.*`, installing into this host's `extensions/`
    /// and loading through this manager.
    pub fn marketplace(
        self: &Arc<Self>,
    ) -> Result<Arc<crate::market::Marketplace>, crate::market::MarketError> {
        if let Some(market) = self.market.get() {
            return Ok(Arc::clone(market));
        }
        let options = crate::market::MarketOptions::new(
            &self.config.core.marketplace,
            &self.paths.data,
            &self.paths.extensions,
            self.paths.checker.clone(),
        )?;
        let market = Arc::new(crate::market::Marketplace::new(
            options,
            Some(Arc::downgrade(self)),
        )?);
        Ok(Arc::clone(self.market.get_or_init(|| market)))
    }

    /// Subscribes to what the manager does from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ManagerEvent> {
        self.events.subscribe()
    }

    fn announce(&self, event: ManagerEvent) {
        let _ = self.events.send(event);
    }

    /// The dispatcher that calls into plugins.
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// The folders in use.
    pub fn paths(&self) -> &HostPaths {
        &self.paths
    }

    /// The extension names of the libraries in `extensions/` now, sorted (what `load NAME`
    /// takes without a path).
    pub fn extension_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.paths.extensions)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| crate::loader::is_library(path))
            .map(|path| names::extension_name(&path))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Open and closed libraries, and pinned ones.
    pub fn library_stats(&self) -> LibraryStats {
        self.tracker.stats()
    }

    /// The generation tracker (tests and benchmarks wait on it).
    pub fn tracker(&self) -> &Arc<LibraryTracker> {
        &self.tracker
    }

    /// The current routing snapshot.
    pub fn table(&self) -> Arc<Table> {
        self.dispatcher.table()
    }

    /// Whether `isolation.plugins` names the extension in `file` (or is `"*"`).
    fn wants_isolation(&self, file: &Path) -> bool {
        let name = names::extension_name(file);
        self.config
            .core
            .isolation
            .plugins
            .iter()
            .any(|p| p.trim() == "*" || normalise(p) == name)
    }

    fn is_blacklisted(&self, name: &str) -> bool {
        let name = normalise(name);
        self.config
            .core
            .extensions
            .blacklist
            .iter()
            .any(|b| normalise(b) == name)
    }

    /// The library files in `extensions/`, sorted.
    fn library_files(&self) -> Result<Vec<PathBuf>, OpError> {
        let dir = &self.paths.extensions;
        let entries = std::fs::read_dir(dir).map_err(|source| OpError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| crate::loader::is_library(p) && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    }

    /// Finds the file for an extension name (`hello`, `libhello`, `my plugin`) or path.
    fn resolve_file(&self, target: &str) -> Result<PathBuf, OpError> {
        let as_path = Path::new(target);
        if as_path.is_file() {
            return Ok(as_path.to_owned());
        }
        let wanted = normalise(target);
        self.library_files()?
            .into_iter()
            .find(|p| names::extension_name(p) == wanted)
            .ok_or_else(|| OpError::NotFound(target.to_owned()))
    }

    /// Loads every library in `extensions/` (unless `extensions.auto_load` is off), skipping the
    /// blacklist, in dependency order.
    pub async fn load_all(&self) -> StartReport {
        let mut report = StartReport {
            loaded: Vec::new(),
            refused: Vec::new(),
        };
        if !self.config.core.extensions.auto_load {
            tracing::info!("extensions.auto_load is off: not loading extensions at start");
            return report;
        }
        let files = match self.library_files() {
            Ok(files) => files,
            Err(error) => {
                report
                    .refused
                    .push((self.paths.extensions.display().to_string(), error));
                return report;
            }
        };
        let mut state = self.state.lock().await;
        let mut opened: BTreeMap<String, (PathBuf, Opened, PluginManifest, Instant)> =
            BTreeMap::new();
        for file in files {
            let started = Instant::now();
            let label = file_label(&file);
            if self.is_blacklisted(&names::extension_name(&file)) {
                tracing::info!(file = %label, "skipped: blacklisted");
                continue;
            }
            let isolated = self.wants_isolation(&file);
            match self.open_checked(&file, isolated).await {
                Err(error) => report.refused.push((label, error)),
                Ok((o, manifest)) => {
                    if self.is_blacklisted(&manifest.name) {
                        tracing::info!(file = %label, "skipped: blacklisted");
                        continue;
                    }
                    if let Some((other, _, _, _)) = opened.get(&manifest.name) {
                        report.refused.push((
                            label,
                            OpError::Invalid {
                                file: file_label(&file),
                                reason: format!(
                                    "duplicate plugin name `{}` (also in {})",
                                    manifest.name,
                                    file_label(other)
                                ),
                            },
                        ));
                        continue;
                    }
                    opened.insert(manifest.name.clone(), (file, o, manifest, started));
                }
            }
        }
        let manifests: Vec<PluginManifest> =
            opened.values().map(|(_, _, m, _)| m.clone()).collect();
        let plan = load_order(&manifests);
        let enforcement = self.enforced(&state);
        for cycle in &plan.cycles {
            let path = cycle.join(" -> ");
            for name in cycle.iter().take(cycle.len().saturating_sub(1)) {
                if let Some((file, _, manifest, _)) = opened.get(name) {
                    state.registry.upsert(entry_for(
                        manifest,
                        PluginStatus::Cycle,
                        format!("dependency cycle {path}"),
                        file,
                        None,
                        false,
                    ));
                }
                if enforcement.dependencies
                    && let Some((file, _, _, _)) = opened.remove(name)
                {
                    report.refused.push((
                        file_label(&file),
                        OpError::Invalid {
                            file: file_label(&file),
                            reason: format!("dependency cycle {path}"),
                        },
                    ));
                }
            }
        }
        let mut order = plan.order.clone();
        // Cycle members that were not refused (dependencies not enforced) load last.
        order.extend(opened.keys().filter(|n| !plan.order.contains(n)).cloned());
        for name in order {
            let Some((file, o, manifest, started)) = opened.remove(&name) else {
                continue;
            };
            let label = file_label(&file);
            match self
                .activate(&mut state, file, o, manifest, started, None)
                .await
            {
                Ok(generation) => report.loaded.push(generation.name.clone()),
                Err(error) => report.refused.push((label, error)),
            }
        }
        self.save_registry(&state);
        for (file, error) in &report.refused {
            tracing::warn!(file = %file, "{error}");
        }
        report
    }

    /// Copies, checks and opens a file, and validates its manifest's syntax. An `isolated`
    /// plugin is opened in a worker process, never in this one.
    async fn open_checked(
        &self,
        file: &Path,
        isolated: bool,
    ) -> Result<(Opened, PluginManifest), OpError> {
        let label = file_label(file);
        let stem = names::extension_name(file);
        let refused = |source| OpError::Refused {
            file: label.clone(),
            source,
        };
        let opened = if isolated {
            let started = Instant::now();
            let launcher = self.launcher.as_ref().ok_or_else(|| {
                refused(LoadError::Worker(
                    "isolation needs the zoryx binary to start workers, and this host has none"
                        .into(),
                ))
            })?;
            let copy = self
                .loader
                .stage_checked(file, &stem)
                .await
                .map_err(refused)?;
            let (worker, api_version, description) =
                isolation::launch(launcher, &stem, copy.path(), self.dispatcher.shared())
                    .await
                    .map_err(refused)?;
            Opened {
                code: Code::Worker(worker),
                api_version,
                copy: Some(copy),
                description,
                elapsed: started.elapsed(),
            }
        } else {
            self.loader.open(file, &stem).await.map_err(refused)?
        };
        let manifest =
            registry_manifest(&opened.description.manifest).map_err(|reason| OpError::Invalid {
                file: label.clone(),
                reason,
            })?;
        if manifest.name.is_empty() {
            return Err(OpError::Invalid {
                file: label,
                reason: "the manifest has an empty name".into(),
            });
        }
        Ok((opened, manifest))
    }

    /// Validates against the loaded set, initialises, and publishes a new generation.
    /// `replacing` is the plugin being reloaded (excluded from duplicate checks).
    async fn activate(
        &self,
        state: &mut State,
        file: PathBuf,
        opened: Opened,
        manifest: PluginManifest,
        started: Instant,
        replacing: Option<&str>,
    ) -> Result<Arc<Generation>, OpError> {
        let label = file_label(&file);
        let invalid = |reason: String| OpError::Invalid {
            file: label.clone(),
            reason,
        };
        if replacing != Some(manifest.name.as_str())
            && let Some(existing) = state.plugins.get(&manifest.name)
        {
            return Err(if existing.source == file {
                OpError::AlreadyLoaded(manifest.name.clone())
            } else {
                invalid(format!(
                    "duplicate plugin name `{}` (already loaded from {})",
                    manifest.name,
                    file_label(&existing.source)
                ))
            });
        }
        if let Some(old) = replacing
            && old != manifest.name
        {
            return Err(invalid(format!(
                "the new build is named `{}`, not `{old}`: unload `{old}` and load it instead",
                manifest.name
            )));
        }
        // Discord's registration limits, before anything is registered: a slash command or
        // context menu past one refuses the load, naming the command and option.
        for spec in &opened.description.commands {
            let slash = !matches!(spec.kind, zoryx_plugin_api::CommandKind::Prefix);
            if slash && !spec.name.contains(' ') {
                spec.check().map_err(|e| invalid(e.to_string()))?;
            }
        }
        for menu in &opened.description.extras.context_menus {
            menu.check().map_err(|e| invalid(e.to_string()))?;
        }
        let table = self.dispatcher.table();
        for spec in &opened.description.commands {
            for name in std::iter::once(&spec.name).chain(&spec.aliases) {
                if let Some((_, owner)) = table
                    .command_owners()
                    .find(|(n, owner)| *n == name.to_lowercase() && *owner != manifest.name)
                {
                    return Err(invalid(format!(
                        "command `{name}` is already registered by plugin `{owner}`"
                    )));
                }
            }
        }
        let others: Vec<PluginManifest> = state
            .plugins
            .keys()
            .filter(|n| n.as_str() != manifest.name)
            .filter_map(|n| state.registry.get(n).map(|e| e.manifest.clone()))
            .collect();
        let loaded: Vec<&PluginManifest> = others.iter().collect();
        let validation: Validation = state.registry.validate(&manifest, &loaded);
        let enforcement = self.enforced(state);
        if validation.is_refused(&enforcement) {
            self.dispatcher.alerts().raise(
                crate::alerts::Topic::Registry,
                &manifest.name,
                &format!(
                    "❌ `{}` {} was refused: {}",
                    manifest.name,
                    manifest.version,
                    validation.reason()
                ),
                zoryx_plugin_api::palette::ERROR,
            );
            state.registry.upsert(entry_for(
                &manifest,
                validation.status(),
                validation.reason(),
                &file,
                None,
                replacing.is_some(),
            ));
            return Err(invalid(validation.reason()));
        }
        if !validation.issues.is_empty() {
            tracing::warn!(plugin = %manifest.name, "loading despite: {}", validation.reason());
        }
        let generation = Generation::start(
            manifest.name.clone(),
            file.clone(),
            opened,
            Arc::clone(self.dispatcher.shared()),
            Arc::clone(&self.tracker),
            started,
        )
        .await
        .map_err(|error| OpError::Init {
            file: label.clone(),
            error,
        })?;
        state
            .plugins
            .insert(manifest.name.clone(), Arc::clone(&generation));
        self.dispatcher.publish(Table::build(state.plugins.clone()));
        self.dispatcher.start_tasks(&generation);
        let mut entry = entry_for(
            &manifest,
            validation.status(),
            validation.reason(),
            &file,
            Some(generation.load_time.as_secs_f64() * 1000.0),
            true,
        );
        entry.commands = generation
            .description
            .commands
            .iter()
            .map(|c| c.name.clone())
            .collect();
        state.registry.upsert(entry);
        tracing::info!(
            plugin = %generation.name,
            version = %manifest.version,
            generation = generation.id,
            load_ms = format_args!("{:.1}", generation.load_time.as_secs_f64() * 1000.0),
            "loaded"
        );
        if replacing.is_none() {
            self.announce(ManagerEvent::Loaded {
                name: generation.name.clone(),
                generation: generation.id,
            });
        }
        self.dispatcher
            .emit_in_background("extension_loaded", json!({"extension_name": generation.name, "version": manifest.version.to_string(), "generation": generation.id}));
        Ok(generation)
    }

    fn save_registry(&self, state: &State) {
        if let Err(error) = state.registry.save() {
            tracing::error!(%error, "could not save the plugin registry");
        }
    }

    fn loaded_name(state: &State, target: &str) -> Option<String> {
        let wanted = normalise(target);
        if state.plugins.contains_key(&wanted) {
            return Some(wanted);
        }
        state
            .plugins
            .values()
            .find(|g| names::extension_name(&g.source) == wanted || g.source == Path::new(target))
            .map(|g| g.name.clone())
    }

    /// Loads the extension `target` (a name in `extensions/` or a path), isolated if
    /// `isolation.plugins` names it.
    pub async fn load(&self, target: &str) -> Result<String, OpError> {
        self.load_with(target, false).await
    }

    /// Loads the extension `target`; `isolated` runs it in a worker process whatever
    /// `isolation.plugins` says. A loaded plugin whose worker was disabled after repeated
    /// failures is started again (reloaded from its file).
    pub async fn load_with(&self, target: &str, isolated: bool) -> Result<String, OpError> {
        let started = Instant::now();
        let mut state = self.state.lock().await;
        if let Some(name) = Self::loaded_name(&state, target) {
            let disabled = state
                .plugins
                .get(&name)
                .and_then(|g| g.worker_status())
                .is_some_and(|s| s.is_disabled());
            if !disabled {
                return Err(OpError::AlreadyLoaded(name));
            }
            drop(state);
            self.reload(&name).await?;
            return Ok(name);
        }
        let file = self.resolve_file(target)?;
        let isolated = isolated || self.wants_isolation(&file);
        let (opened, manifest) = match self.open_checked(&file, isolated).await {
            Ok(opened) => opened,
            Err(error) => {
                self.announce(ManagerEvent::Refused {
                    target: target.to_owned(),
                    reason: error.to_string(),
                });
                return Err(error);
            }
        };
        let result = self
            .activate(&mut state, file, opened, manifest, started, None)
            .await
            .map(|g| g.name.clone());
        self.save_registry(&state);
        if let Err(error) = &result {
            self.announce(ManagerEvent::Refused {
                target: target.to_owned(),
                reason: error.to_string(),
            });
        }
        result
    }

    /// Loads a plugin compiled into this process (its function table), with the same manifest
    /// checks, registry validation and lifecycle as a library. Used to test plugins without
    /// building a library; such a plugin cannot be reloaded from a file.
    pub async fn load_in_process(&self, module: PluginModuleRef) -> Result<String, OpError> {
        // The plugin shares this process's std: its quiet panic hook would replace the host's
        // (and swallow the host's own panic messages), so it must keep the process's hook.
        zoryx_plugin_api::ffi::shim::keep_process_panic_hook();
        let started = Instant::now();
        let label = "<in-process>".to_owned();
        let opened = Opened::in_process(module).map_err(|source| OpError::Refused {
            file: label.clone(),
            source,
        })?;
        let manifest =
            registry_manifest(&opened.description.manifest).map_err(|reason| OpError::Invalid {
                file: label,
                reason,
            })?;
        let file = PathBuf::from(format!("<in-process {}>", manifest.name));
        let mut state = self.state.lock().await;
        let result = self
            .activate(&mut state, file, opened, manifest, started, None)
            .await
            .map(|g| g.name.clone());
        self.save_registry(&state);
        result
    }

    /// The loaded plugins that depend on `name`, in dependency order.
    fn dependents(state: &State, name: &str) -> Vec<String> {
        let manifests: Vec<PluginManifest> = state
            .plugins
            .keys()
            .filter_map(|n| state.registry.get(n).map(|e| e.manifest.clone()))
            .collect();
        let loaded: Vec<&PluginManifest> = manifests.iter().collect();
        state.registry.dependents(name, &loaded)
    }

    /// Unloads `target`. Refused if other plugins depend on it, unless `force`, which unloads
    /// them first (dependents of dependents first). Returns the plugins unloaded, in order.
    pub async fn unload(&self, target: &str, force: bool) -> Result<Vec<String>, OpError> {
        let mut state = self.state.lock().await;
        let name = Self::loaded_name(&state, target)
            .ok_or_else(|| OpError::NotLoaded(target.to_owned()))?;
        let dependents = Self::dependents(&state, &name);
        if !dependents.is_empty() && !force {
            return Err(OpError::HasDependents { name, dependents });
        }
        let mut order: Vec<String> = dependents.into_iter().rev().collect();
        order.push(name);
        let mut retired = Vec::new();
        for plugin in &order {
            if let Some(generation) = state.plugins.remove(plugin) {
                state.registry.mark_unloaded(plugin);
                retired.push(generation);
            }
        }
        self.dispatcher.publish(Table::build(state.plugins.clone()));
        self.save_registry(&state);
        drop(state);
        for generation in retired {
            generation.retire().await;
            tracing::info!(plugin = %generation.name, generation = generation.id, "unloaded");
            self.announce(ManagerEvent::Unloaded {
                name: generation.name.clone(),
                generation: generation.id,
            });
            self.dispatcher.emit_in_background(
                "extension_unloaded",
                json!({"extension_name": generation.name, "generation": generation.id}),
            );
        }
        Ok(order)
    }

    /// Reloads `target` atomically, then its dependents in dependency order. If the new build
    /// fails anywhere, the old generation keeps serving and the error is returned.
    pub async fn reload(&self, target: &str) -> Result<Vec<Reloaded>, OpError> {
        let mut state = self.state.lock().await;
        let name = Self::loaded_name(&state, target)
            .ok_or_else(|| OpError::NotLoaded(target.to_owned()))?;
        let mut order = vec![name.clone()];
        order.extend(Self::dependents(&state, &name));
        let mut done = Vec::new();
        let mut first_error = None;
        for plugin in order {
            match self.reload_one(&mut state, &plugin).await {
                Ok(reloaded) => done.push(reloaded),
                Err(error) => {
                    tracing::warn!(
                        plugin,
                        "reload failed, the previous version keeps running: {error}"
                    );
                    self.announce(ManagerEvent::Refused {
                        target: plugin.clone(),
                        reason: error.to_string(),
                    });
                    if plugin == name {
                        first_error = Some(error);
                        break;
                    }
                }
            }
        }
        self.save_registry(&state);
        match first_error {
            Some(error) => Err(error),
            None => Ok(done),
        }
    }

    async fn reload_one(&self, state: &mut State, name: &str) -> Result<Reloaded, OpError> {
        let started = Instant::now();
        let old = state
            .plugins
            .get(name)
            .cloned()
            .ok_or_else(|| OpError::NotLoaded(name.to_owned()))?;
        let (opened, manifest) = self.open_checked(&old.source, old.is_isolated()).await?;
        let new = self
            .activate(
                state,
                old.source.clone(),
                opened,
                manifest,
                started,
                Some(name),
            )
            .await?;
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            plugin = name,
            from = old.id,
            to = new.id,
            ms = format_args!("{millis:.1}"),
            "reloaded"
        );
        let reloaded = Reloaded {
            name: name.to_owned(),
            from: old.id,
            to: new.id,
            millis,
        };
        self.announce(ManagerEvent::Reloaded(reloaded.clone()));
        tokio::spawn(async move { old.retire().await });
        Ok(reloaded)
    }

    /// Reacts to a file change in `extensions/`: reload if loaded, otherwise load.
    pub async fn file_changed(&self, path: &Path) {
        let stem = names::extension_name(path);
        if self.is_blacklisted(&stem) {
            return;
        }
        let loaded = {
            let state = self.state.lock().await;
            state
                .plugins
                .values()
                .find(|g| g.source == path)
                .map(|g| g.name.clone())
        };
        let result = match loaded {
            Some(name) => self.reload(&name).await.map(|_| ()),
            None => self.load(&path.display().to_string()).await.map(|_| ()),
        };
        if let Err(error) = result {
            tracing::warn!(file = %file_label(path), "{error}");
        }
    }

    /// Reacts to a file removed from `extensions/`: unload its plugin (and dependents).
    pub async fn file_removed(&self, path: &Path) {
        let loaded = {
            let state = self.state.lock().await;
            state
                .plugins
                .values()
                .find(|g| g.source == path)
                .map(|g| g.name.clone())
        };
        if let Some(name) = loaded
            && let Err(error) = self.unload(&name, true).await
        {
            tracing::warn!(file = %file_label(path), "{error}");
        }
    }

    /// Turns dependency or conflict enforcement on or off, and saves the choice.
    pub async fn set_enforcement(&self, enforcement: Enforcement) {
        let mut state = self.state.lock().await;
        state.registry.set_enforcement(enforcement);
        self.save_registry(&state);
    }

    /// The enforcement settings saved in the registry (see [`Manager::registry_on`]).
    pub async fn enforcement(&self) -> Enforcement {
        self.state.lock().await.registry.enforcement()
    }

    /// Whether the registry enforces its settings (`framework.enable_plugin_registry` and
    /// `framework.load_cogs`); off, nothing is refused for dependencies or conflicts.
    pub fn registry_on(&self) -> bool {
        self.config.core.framework.plugin_registry()
    }

    /// What loads are checked against: the saved settings, or nothing with the registry off.
    fn enforced(&self, state: &State) -> Enforcement {
        if self.registry_on() {
            state.registry.enforcement()
        } else {
            Enforcement {
                dependencies: false,
                conflicts: false,
            }
        }
    }

    /// Every loaded plugin, and every refused one the registry remembers.
    pub async fn list(&self) -> Vec<PluginInfo> {
        let state = self.state.lock().await;
        let stats = self.tracker.stats();
        let pool = self.dispatcher.shared().pool();
        state
            .registry
            .entries()
            .map(|entry| {
                PluginInfo::new(
                    entry,
                    state.plugins.get(&entry.manifest.name),
                    &stats,
                    &pool,
                )
            })
            .collect()
    }

    /// One plugin's details.
    pub async fn info(&self, target: &str) -> Option<PluginInfo> {
        let state = self.state.lock().await;
        let name = Self::loaded_name(&state, target).unwrap_or_else(|| normalise(target));
        let stats = self.tracker.stats();
        let pool = self.dispatcher.shared().pool();
        state
            .registry
            .get(&name)
            .map(|entry| PluginInfo::new(entry, state.plugins.get(&name), &stats, &pool))
    }

    /// Checks `target`'s dependencies and conflicts against the plugins loaded now, as a load
    /// would (`pr_validate`): its name, the result, and the loaded plugins that depend on it.
    /// `None` if the registry does not know it.
    pub async fn validate(&self, target: &str) -> Option<(String, Validation, Vec<String>)> {
        let state = self.state.lock().await;
        let name = Self::loaded_name(&state, target).unwrap_or_else(|| normalise(target));
        let entry = state.registry.get(&name)?;
        let others: Vec<PluginManifest> = state
            .plugins
            .keys()
            .filter(|n| **n != name)
            .filter_map(|n| state.registry.get(n).map(|e| e.manifest.clone()))
            .collect();
        let loaded: Vec<&PluginManifest> = others.iter().collect();
        let validation = state.registry.validate(&entry.manifest, &loaded);
        let dependents = state.registry.dependents(&name, &loaded);
        Some((name, validation, dependents))
    }

    /// Unloads everything, dependents first, and waits for the plugins' `shutdown`.
    pub async fn shutdown(&self) {
        let names: Vec<String> = self.state.lock().await.plugins.keys().cloned().collect();
        for name in names {
            let _ = self.unload(&name, true).await;
        }
    }
}

fn entry_for(
    manifest: &PluginManifest,
    status: PluginStatus,
    reason: String,
    file: &Path,
    load_time_ms: Option<f64>,
    loaded: bool,
) -> RegistryEntry {
    RegistryEntry {
        manifest: manifest.clone(),
        status,
        reason,
        commands: Vec::new(),
        file: Some(file_label(file)),
        load_time_ms,
        loaded,
    }
}
