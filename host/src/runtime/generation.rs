//! One loaded version of a plugin: its library, its instance and what it registered.
//!
//! Every call into the plugin holds an `Arc<Generation>`. When the last one drops, the instance
//! is freed, the library is closed, and `/proc/self/maps` tells whether it really went away.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use zoryx_plugin_api::ffi::types::Description;
use zoryx_plugin_api::ffi::{InstanceHandle, PluginModuleRef};
use zoryx_plugin_api::{ApiVersion, PluginError};

use super::bridge::PluginCall;
use super::services::{PluginHost, Shared};
use crate::loader::maps::Mapping;
use crate::loader::{LoadedLibrary, Opened, StagedCopy};

/// How long a plugin's `init` may take.
const INIT_TIMEOUT: Duration = Duration::from_secs(30);

/// A library that stayed mapped after it was closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedLibrary {
    /// Plugin name.
    pub plugin: String,
    /// Generation number.
    pub generation: u64,
    /// The private copy's path.
    pub path: PathBuf,
    /// What is still mapped.
    pub mapping: Mapping,
}

/// Counts generations and remembers pinned libraries.
#[derive(Debug, Default)]
pub struct LibraryTracker {
    live: AtomicU64,
    closed: AtomicU64,
    pinned: Mutex<Vec<PinnedLibrary>>,
    changed: tokio::sync::Notify,
}

/// A snapshot of [`LibraryTracker`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LibraryStats {
    /// Generations whose library is open.
    pub live: u64,
    /// Generations closed so far.
    pub closed: u64,
    /// Closed libraries still mapped, re-checked now.
    pub pinned: Vec<PinnedLibrary>,
}

impl LibraryStats {
    /// Total bytes still mapped by pinned libraries.
    pub fn pinned_bytes(&self) -> u64 {
        self.pinned.iter().map(|p| p.mapping.bytes).sum()
    }
}

impl LibraryTracker {
    /// The current counts; pinned libraries that have since been unmapped are forgotten.
    pub fn stats(&self) -> LibraryStats {
        let mut pinned = self.pinned.lock().map(|p| p.clone()).unwrap_or_default();
        pinned.retain_mut(|p| {
            p.mapping = crate::loader::maps::mapping_of(&p.path);
            p.mapping.is_mapped()
        });
        if let Ok(mut stored) = self.pinned.lock() {
            stored.retain(|s| pinned.iter().any(|p| p.path == s.path));
        }
        LibraryStats {
            live: self.live.load(Ordering::SeqCst),
            closed: self.closed.load(Ordering::SeqCst),
            pinned,
        }
    }

    /// Waits until at least `closed` generations have been closed, or `timeout` passes.
    pub async fn wait_closed(&self, closed: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if self.closed.load(Ordering::SeqCst) >= closed {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return self.closed.load(Ordering::SeqCst) >= closed;
            }
        }
    }
}

/// One loaded version of a plugin.
pub struct Generation {
    /// Unique number across all plugins of this host.
    pub id: u64,
    /// The plugin's (normalised) name.
    pub name: String,
    /// The file in `extensions/` it came from.
    pub source: PathBuf,
    /// Manifest and registrations.
    pub description: Description,
    /// The plugin-api version it was built against.
    pub api_version: ApiVersion,
    /// Time from reading the file to the plugin being initialised.
    pub load_time: Duration,
    /// When it went live.
    pub loaded_at: SystemTime,
    /// Cancels its scheduled tasks.
    pub(crate) cancel: tokio_util::sync::CancellationToken,
    pub(crate) module: PluginModuleRef,
    instance: InstanceHandle,
    /// Kept alive for the plugin: its `HostData` points here.
    _host: Arc<PluginHost>,
    tracker: Arc<LibraryTracker>,
    // Dropped last, in this order: close the library, then delete its file.
    library: Option<LoadedLibrary>,
    copy: Option<StagedCopy>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

impl Generation {
    /// Initialises the plugin in `opened` and makes it a generation.
    pub(crate) async fn start(
        name: String,
        source: PathBuf,
        opened: Opened,
        shared: Arc<Shared>,
        tracker: Arc<LibraryTracker>,
        started: Instant,
    ) -> Result<Arc<Self>, PluginError> {
        let Opened {
            module,
            api_version,
            library,
            copy,
            description,
            ..
        } = opened;
        let host = Arc::new(PluginHost {
            name: name.clone(),
            shared,
        });
        let init = PluginCall::new((module.init())(host.handle()), ());
        let instance = match tokio::time::timeout(INIT_TIMEOUT, init).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(PluginError::Internal(format!(
                    "init did not finish within {}s",
                    INIT_TIMEOUT.as_secs()
                )));
            }
        };
        tracker.live.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(Self {
            id: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            name,
            source,
            api_version,
            description,
            load_time: started.elapsed(),
            loaded_at: SystemTime::now(),
            cancel: tokio_util::sync::CancellationToken::new(),
            module,
            instance,
            _host: host,
            tracker,
            library,
            copy,
        }))
    }

    /// The instance handle for calls.
    pub(crate) fn instance(&self) -> InstanceHandle {
        self.instance
    }

    /// Lets the plugin clean up (its `shutdown`), then stops its tasks.
    pub(crate) async fn retire(self: &Arc<Self>) {
        self.cancel.cancel();
        let call = PluginCall::new((self.module.shutdown())(self.instance), Arc::clone(self));
        match tokio::time::timeout(Duration::from_secs(10), call).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(plugin = %self.name, generation = self.id, %error, "shutdown failed");
            }
            Err(_) => {
                tracing::warn!(plugin = %self.name, generation = self.id, "shutdown timed out")
            }
        }
    }

    /// The private copy the library was loaded from.
    pub fn library_path(&self) -> Option<PathBuf> {
        self.library.as_ref().map(|l| l.path().to_owned())
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Err(error) = (self.module.drop_instance())(self.instance).into_result() {
            let error = PluginError::from(&error);
            tracing::warn!(plugin = %self.name, generation = self.id, %error, "dropping the plugin instance failed");
        }
        if let Some(library) = self.library.take() {
            let path = library.path().to_owned();
            match library.close() {
                Ok(mapping) if mapping.is_mapped() => {
                    tracing::warn!(
                        plugin = %self.name,
                        generation = self.id,
                        regions = mapping.regions,
                        bytes = mapping.bytes,
                        "library still mapped after unload (pinned by a thread-local or a runtime in the plugin)"
                    );
                    if let Ok(mut pinned) = self.tracker.pinned.lock() {
                        pinned.push(PinnedLibrary {
                            plugin: self.name.clone(),
                            generation: self.id,
                            path,
                            mapping,
                        });
                    }
                }
                Ok(_) => {
                    tracing::debug!(plugin = %self.name, generation = self.id, "library unmapped")
                }
                Err(error) => tracing::warn!(plugin = %self.name, %error, "closing library failed"),
            }
        }
        self.copy.take();
        self.tracker.live.fetch_sub(1, Ordering::SeqCst);
        self.tracker.closed.fetch_add(1, Ordering::SeqCst);
        self.tracker.changed.notify_waiters();
    }
}
