//! The owner's side of the marketplace: one entry point, [`Marketplace::handle`], for list,
//! search, info, install, update, pin, remove and refresh.
//!
//! An install goes, for each plugin of its plan (dependencies first):
//!
//! 1. **index**: `index.json` and `index.json.sig` fetched (size-limited) or taken from the
//!    cache in `data/marketplace/` while it is younger than `marketplace.cache_ttl_seconds`, or
//!    when the marketplace cannot be reached;
//! 2. **signature**: signed by one of `marketplace.trusted_keys`, and not older than the last
//!    index this host accepted from that key (kept in `data/marketplace/state.json`, written
//!    with the host's atomic write);
//! 3. **compatibility** and **dependencies**: the plan (`zoryx_market::plan`) against the
//!    index and the plugins installed or loaded: this host's target triple and plugin API,
//!    missing dependencies first, conflicts and cycles refused;
//! 4. **download**: streamed into `data/marketplace/downloads/`, never more bytes than the
//!    index says (a larger `Content-Length` is refused before any byte), with progress;
//! 5. **checksum**: the SHA-256 of the index;
//! 6. **library check**: the host's own checks, first in a child (`zoryx plugins check
//!    --quiet`, the loader's trial load), then for the reason; the manifest must name the
//!    index's plugin and version;
//! 7. **publish**: each library written into `extensions/` atomically;
//! 8. **load**: loaded (or, for an update, reloaded: the old version serves until the new one
//!    answers) through the plugin manager.
//!
//! Nothing is written into `extensions/` before step 7; a failure at 7 or 8 puts back every
//! file as it was. The error names the step and the reason ([`MarketError::step`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zoryx_market::plan::{Installed, api_compatible};
use zoryx_market::{
    ArtifactCheck, ArtifactError, Entry, PlanError, PublicKey, SignatureFile, SigningError, Step,
    Verified,
};
use zoryx_plugin_api::market::{MarketPlugin, MarketReport, MarketRequest};

use crate::config::MarketplaceConfig;
use crate::manager::{Manager, OpError};

/// The largest library the marketplace downloads, whatever an index says.
pub const MAX_ARTIFACT_BYTES: u64 = 512 * 1024 * 1024;
/// The largest signature file.
const MAX_SIGNATURE_BYTES: usize = 4096;
/// How long one request may take to start answering.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a download may stall between two chunks.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a marketplace request was refused; [`MarketError::step`] names the step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MarketError {
    /// No index URL or no trusted key.
    #[error(
        "no marketplace is configured: set `marketplace.index_url` and `marketplace.trusted_keys`"
    )]
    NotConfigured,
    /// A configured value that does not parse.
    #[error("config: {0}")]
    Config(String),
    /// The index could not be fetched, and no cached one can stand in.
    #[error("index: could not fetch {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The index's signature, key or version refused it.
    #[error("signature: {0}")]
    Signature(#[from] SigningError),
    /// No version runs here (target triple or plugin API).
    #[error("compatibility: {0}")]
    Compatibility(PlanError),
    /// Not in the index, a conflict, a cycle, or already installed.
    #[error("dependencies: {0}")]
    Dependencies(PlanError),
    /// The download failed, was cut short or was larger than the index says.
    #[error("download of {plugin}: {reason}")]
    Download {
        /// `name version`.
        plugin: String,
        /// Why.
        reason: String,
    },
    /// The bytes are not the ones the index signed for.
    #[error("checksum of {plugin}: {source}")]
    Checksum {
        /// `name version`.
        plugin: String,
        /// The mismatch.
        source: ArtifactError,
    },
    /// The host's library checks refused the download.
    #[error("library check of {plugin}: {reason}")]
    LibraryCheck {
        /// `name version`.
        plugin: String,
        /// The loader's reason.
        reason: String,
    },
    /// Writing into `extensions/` failed (and was undone).
    #[error("publish: {0}")]
    Publish(String),
    /// The plugin manager refused the new library (and `extensions/` was put back).
    #[error("load of {plugin}: {reason} (extensions/ was put back as it was)")]
    Load {
        /// The plugin.
        plugin: String,
        /// The manager's reason.
        reason: String,
    },
    /// Remove or update of a plugin the marketplace did not install.
    #[error("`{0}` was not installed from the marketplace")]
    NotInstalled(String),
    /// Nothing newer within the pin.
    #[error("`{name}` {version} is the newest version{pin}")]
    UpToDate {
        /// The plugin.
        name: String,
        /// The installed version.
        version: String,
        /// ` allowed by its pin X`, or nothing.
        pin: String,
    },
    /// Other installed plugins need it.
    #[error("`{name}` is needed by {}: remove those first", .by.join(", "))]
    Needed {
        /// The plugin.
        name: String,
        /// Who needs it.
        by: Vec<String>,
    },
    /// A request that does not make sense (a bad version requirement, a pin conflict).
    #[error("{0}")]
    Request(String),
    /// The marketplace's own files in `data/` could not be read or written.
    #[error("state: {0}")]
    State(String),
}

impl MarketError {
    /// The step that refused: `config`, `index`, `signature`, `compatibility`,
    /// `dependencies`, `download`, `checksum`, `library check`, `publish`, `load` or `request`.
    pub fn step(&self) -> &'static str {
        match self {
            Self::NotConfigured | Self::Config(_) => "config",
            Self::Fetch { .. } => "index",
            Self::Signature(_) => "signature",
            Self::Compatibility(_) => "compatibility",
            Self::Dependencies(_) => "dependencies",
            Self::Download { .. } => "download",
            Self::Checksum { .. } => "checksum",
            Self::LibraryCheck { .. } => "library check",
            Self::Publish(_) => "publish",
            Self::Load { .. } => "load",
            Self::NotInstalled(_)
            | Self::UpToDate { .. }
            | Self::Needed { .. }
            | Self::Request(_) => "request",
            Self::State(_) => "state",
        }
    }
}

fn plan_error(error: PlanError) -> MarketError {
    match error {
        PlanError::Incompatible { .. } => MarketError::Compatibility(error),
        PlanError::AlreadyInstalled { .. } => MarketError::Request(error.to_string()),
        other => MarketError::Dependencies(other),
    }
}

/// Where an operation is; shown on the console and in the progress embed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Fetching the index.
    Index {
        /// Its URL.
        url: String,
    },
    /// The plan: `name version` in install order.
    Planned {
        /// The steps.
        steps: Vec<String>,
    },
    /// Bytes of one library so far.
    Downloading {
        /// `name version`.
        plugin: String,
        /// Received.
        received: u64,
        /// The index's size.
        total: u64,
    },
    /// A check passed or is running.
    Checking {
        /// `name version`.
        plugin: String,
        /// `checksum` or `library check`.
        what: &'static str,
    },
    /// Writing into `extensions/`.
    Publishing {
        /// How many libraries.
        files: usize,
    },
    /// Loading or reloading one plugin.
    Loading {
        /// The plugin.
        plugin: String,
    },
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Index { url } => write!(f, "fetching the index {url}"),
            Self::Planned { steps } => write!(f, "plan: {}", steps.join(", then ")),
            Self::Downloading {
                plugin,
                received,
                total,
            } => {
                let percent = received
                    .saturating_mul(100)
                    .checked_div(*total)
                    .unwrap_or(100);
                write!(
                    f,
                    "downloading {plugin}: {percent}% ({} of {})",
                    crate::storage::db::report::human_bytes(*received),
                    crate::storage::db::report::human_bytes(*total)
                )
            }
            Self::Checking { plugin, what } => write!(f, "{plugin}: {what} passed"),
            Self::Publishing { files } => write!(f, "publishing {files} file(s) into extensions/"),
            Self::Loading { plugin } => write!(f, "loading {plugin}"),
        }
    }
}

/// Where progress goes.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// The marketplace's settings, checked.
#[derive(Clone, Debug)]
pub struct MarketOptions {
    /// `marketplace.index_url`.
    pub index_url: Option<String>,
    /// `marketplace.trusted_keys`.
    pub trusted_keys: Vec<PublicKey>,
    /// `marketplace.cache_ttl_seconds`.
    pub cache_ttl: Duration,
    /// The host's data folder (the marketplace keeps `marketplace/` in it).
    pub data: PathBuf,
    /// The extensions folder.
    pub extensions: PathBuf,
    /// The `zoryx` binary for the library checks in a child; `None` skips the child (tests
    /// of other things only).
    pub checker: Option<PathBuf>,
}

impl MarketOptions {
    /// The options of `config`, with the host's folders.
    pub fn new(
        config: &MarketplaceConfig,
        data: &Path,
        extensions: &Path,
        checker: Option<PathBuf>,
    ) -> Result<Self, MarketError> {
        let trusted_keys = config
            .trusted_keys
            .iter()
            .map(|k| {
                PublicKey::parse(k)
                    .map_err(|e| MarketError::Config(format!("marketplace.trusted_keys: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            index_url: config.index_url.clone(),
            trusted_keys,
            cache_ttl: Duration::from_secs(config.cache_ttl_seconds),
            data: data.to_owned(),
            extensions: extensions.to_owned(),
            checker,
        })
    }

    fn folder(&self) -> PathBuf {
        self.data.join("marketplace")
    }
}

/// A plugin the marketplace installed, as `state.json` keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Record {
    version: semver::Version,
    /// The file name in `extensions/`.
    file: String,
    sha256: String,
    #[serde(default)]
    dependencies: BTreeMap<String, semver::VersionReq>,
}

/// The cached index's origin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CacheInfo {
    url: String,
    fetched_unix: u64,
}

/// `data/marketplace/state.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    /// Publisher key → the highest index version accepted from it (the replay check).
    #[serde(default)]
    last_versions: BTreeMap<String, u64>,
    #[serde(default)]
    cache: Option<CacheInfo>,
    #[serde(default)]
    installed: BTreeMap<String, Record>,
    /// Plugin → the versions it is pinned to.
    #[serde(default)]
    pins: BTreeMap<String, String>,
}

/// A verified index and where it came from.
struct Current {
    verified: Verified,
    /// Taken from the cache because the marketplace could not be reached.
    offline: bool,
    /// The URL artifact URLs are relative to.
    url: String,
}

/// A file written into `extensions/`, with what was there before (to put it back).
struct Published {
    path: PathBuf,
    previous: Option<Vec<u8>>,
}

/// The plugin marketplace of one host.
pub struct Marketplace {
    options: MarketOptions,
    http: reqwest::Client,
    /// The running host's plugin manager, for the registry, loads and reloads; `None` for the
    /// command line (a running host's watcher loads what is published).
    manager: Option<Weak<Manager>>,
    /// One operation at a time.
    busy: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Marketplace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Marketplace")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An error with its causes, on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = cause_of(source);
    }
    text
}

fn cause_of<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(std::error::Error::source)
}

fn label(entry: &Entry) -> String {
    format!("{} {}", entry.name, entry.version)
}

/// A version requirement as owners type it: a bare version means exactly that version.
fn requirement(text: &str) -> Result<semver::VersionReq, MarketError> {
    let text = text.trim();
    if let Ok(version) = semver::Version::parse(text) {
        return semver::VersionReq::parse(&format!("={version}"))
            .map_err(|e| MarketError::Request(e.to_string()));
    }
    semver::VersionReq::parse(text)
        .map_err(|e| MarketError::Request(format!("`{text}` is not a version requirement: {e}")))
}

impl Marketplace {
    /// A marketplace with `options`; `manager` loads what it installs.
    pub fn new(
        options: MarketOptions,
        manager: Option<Weak<Manager>>,
    ) -> Result<Self, MarketError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(STALL_TIMEOUT)
            .user_agent(concat!(
                "zoryx/",
                env!("CARGO_PKG_VERSION"),
                " (marketplace)"
            ))
            .build()
            .map_err(|e| MarketError::Config(chain(&e)))?;
        Ok(Self {
            options,
            http,
            manager,
            busy: tokio::sync::Mutex::new(()),
        })
    }

    /// Its settings.
    pub fn options(&self) -> &MarketOptions {
        &self.options
    }

    fn manager(&self) -> Option<Arc<Manager>> {
        self.manager.as_ref().and_then(Weak::upgrade)
    }

    /// Carries out one request, reporting progress to `progress`.
    ///
    /// ```no_run
    /// use std::path::Path;
    /// use zoryx_host::config::MarketplaceConfig;
    /// use zoryx_host::market::{MarketOptions, Marketplace, Progress};
    /// use zoryx_plugin_api::market::MarketRequest;
    ///
    /// # async fn demo() -> Result<(), zoryx_host::market::MarketError> {
    /// let config = MarketplaceConfig {
    ///     index_url: Some("https://plugins.example.org/index.json".into()),
    ///     trusted_keys: vec!["zoryx-ed25519:...".into()],
    ///     ..MarketplaceConfig::default()
    /// };
    /// let options = MarketOptions::new(&config, Path::new("data"), Path::new("extensions"), None)?;
    /// let market = Marketplace::new(options, None)?;
    /// let request = MarketRequest::Install { name: "polls".into(), version: None };
    /// match market.handle(request, &|step: Progress| println!("{step}")).await {
    ///     Ok(report) => println!("{}", report.message),
    ///     Err(refused) => println!("refused at {}: {refused}", refused.step()),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn handle(
        &self,
        request: MarketRequest,
        progress: ProgressFn<'_>,
    ) -> Result<MarketReport, MarketError> {
        let _one_at_a_time = self.busy.lock().await;
        match request {
            MarketRequest::Refresh => {
                let current = self.index(true, progress).await?;
                let mut report = self.report(&current, Vec::new()).await?;
                report.message = format!(
                    "index `{}` version {}: {} plugins",
                    current.verified.index.name,
                    current.verified.index.version,
                    current.verified.index.latest().len()
                );
                Ok(report)
            }
            MarketRequest::List => {
                let current = self.index(false, progress).await?;
                let latest: Vec<Entry> = current
                    .verified
                    .index
                    .latest()
                    .into_iter()
                    .cloned()
                    .collect();
                self.report(&current, latest).await
            }
            MarketRequest::Search { query } => {
                let current = self.index(false, progress).await?;
                let query = query.to_lowercase();
                let found: Vec<Entry> = current
                    .verified
                    .index
                    .latest()
                    .into_iter()
                    .filter(|e| {
                        [&e.name, &e.description, &e.category]
                            .iter()
                            .any(|t| t.to_lowercase().contains(&query))
                    })
                    .cloned()
                    .collect();
                let mut report = self.report(&current, found).await?;
                report.message = format!("{} plugin(s) match", report.plugins.len());
                Ok(report)
            }
            MarketRequest::Info { name } => {
                let current = self.index(false, progress).await?;
                let versions: Vec<Entry> = current
                    .verified
                    .index
                    .versions(&name)
                    .into_iter()
                    .cloned()
                    .collect();
                if versions.is_empty() {
                    return Err(MarketError::Dependencies(PlanError::NotFound {
                        name,
                        requirement: "*".to_owned(),
                    }));
                }
                self.report(&current, versions).await
            }
            MarketRequest::Install { name, version } => {
                let state = self.read_state()?;
                let pinned = state.pins.get(&name).map(|p| requirement(p)).transpose()?;
                let wanted = match (version, pinned) {
                    (Some(v), Some(pin)) => {
                        let asked = requirement(&v)?;
                        if asked != pin {
                            return Err(MarketError::Request(format!(
                                "`{name}` is pinned to {pin}: unpin it first"
                            )));
                        }
                        pin
                    }
                    (Some(v), None) => requirement(&v)?,
                    (None, Some(pin)) => pin,
                    (None, None) => semver::VersionReq::STAR,
                };
                let current = self.index(false, progress).await?;
                let changes = self.install(&current, &name, &wanted, progress).await?;
                let mut report = self.report(&current, Vec::new()).await?;
                report.message = changes.join(", ");
                report.changes = changes;
                Ok(report)
            }
            MarketRequest::Update { name } => {
                let state = self.read_state()?;
                let installed = self.installed(&state).await;
                let Some(have) = installed.get(&name).cloned() else {
                    return Err(MarketError::NotInstalled(name));
                };
                if !state.installed.contains_key(&name) {
                    return Err(MarketError::NotInstalled(name));
                }
                let pin = state.pins.get(&name).cloned();
                let wanted = pin
                    .as_deref()
                    .map(requirement)
                    .transpose()?
                    .unwrap_or(semver::VersionReq::STAR);
                let current = self.index(false, progress).await?;
                let newest = current
                    .verified
                    .index
                    .versions(&name)
                    .into_iter()
                    .find(|e| {
                        wanted.matches(&e.version)
                            && e.artifact(zoryx_market::HOST_TARGET).is_some()
                            && api_compatible(&e.api_version, &host_api())
                    })
                    .map(|e| e.version.clone());
                if newest.as_ref().is_none_or(|v| *v <= have) {
                    return Err(MarketError::UpToDate {
                        name,
                        version: have.to_string(),
                        pin: pin
                            .map(|p| format!(" allowed by its pin {p}"))
                            .unwrap_or_default(),
                    });
                }
                let exact = semver::VersionReq::parse(&format!(
                    "={}",
                    newest.unwrap_or_else(|| have.clone())
                ))
                .map_err(|e| MarketError::Request(e.to_string()))?;
                let changes = self.install(&current, &name, &exact, progress).await?;
                let mut report = self.report(&current, Vec::new()).await?;
                report.message = changes.join(", ");
                report.changes = changes;
                Ok(report)
            }
            MarketRequest::Remove { name } => {
                let change = self.remove(&name).await?;
                Ok(changed(change))
            }
            MarketRequest::Pin { name, version } => {
                let mut state = self.read_state()?;
                let message = match version {
                    Some(v) => {
                        let pin = requirement(&v)?;
                        state.pins.insert(name.clone(), pin.to_string());
                        format!("`{name}` is pinned to {pin}")
                    }
                    None => {
                        if state.pins.remove(&name).is_none() {
                            return Err(MarketError::Request(format!("`{name}` is not pinned")));
                        }
                        format!("`{name}` is no longer pinned")
                    }
                };
                self.write_state(&state)?;
                tracing::info!(plugin = name, "{message}");
                Ok(changed(message))
            }
            _ => Err(MarketError::Request(
                "this host does not know that marketplace request".to_owned(),
            )),
        }
    }

    // ---- state -------------------------------------------------------------------------

    fn state_path(&self) -> PathBuf {
        self.options.folder().join("state.json")
    }

    fn read_state(&self) -> Result<State, MarketError> {
        let path = self.state_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| MarketError::State(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(MarketError::State(format!("{}: {e}", path.display()))),
        }
    }

    /// The one atomic write of the host: a reader sees the old file or the new one.
    fn write_state(&self, state: &State) -> Result<(), MarketError> {
        let path = self.state_path();
        let mut bytes = serde_json::to_vec_pretty(state)
            .map_err(|e| MarketError::State(format!("{}: {e}", path.display())))?;
        bytes.push(b'\n');
        crate::storage::atomic::write_bytes(&path, &bytes)
            .map_err(|e| MarketError::State(format!("{}: {e}", path.display())))
    }

    /// What is installed: the marketplace's records, and every plugin the host has loaded.
    async fn installed(&self, state: &State) -> Installed {
        let mut installed: Installed = state
            .installed
            .iter()
            .map(|(name, record)| (name.clone(), record.version.clone()))
            .collect();
        if let Some(manager) = self.manager() {
            for info in manager.list().await {
                if info.loaded
                    && let Ok(version) = semver::Version::parse(&info.version)
                {
                    installed.insert(info.name, version);
                }
            }
        }
        installed
    }

    // ---- the index ---------------------------------------------------------------------

    /// The verified index: the cache while it is fresh (unless `force`), else fetched; the
    /// cache again if the marketplace cannot be reached.
    async fn index(&self, force: bool, progress: ProgressFn<'_>) -> Result<Current, MarketError> {
        let url = self
            .options
            .index_url
            .clone()
            .ok_or(MarketError::NotConfigured)?;
        if self.options.trusted_keys.is_empty() {
            return Err(MarketError::NotConfigured);
        }
        let mut state = self.read_state()?;
        let folder = self.options.folder();
        let cached_for_url = state.cache.as_ref().filter(|c| c.url == url).cloned();
        if !force
            && let Some(cache) = &cached_for_url
            && unix_now().saturating_sub(cache.fetched_unix) < self.options.cache_ttl.as_secs()
            && let Ok(verified) = self.cached(&state)
        {
            return Ok(Current {
                verified,
                offline: false,
                url,
            });
        }
        progress(Progress::Index { url: url.clone() });
        let fetched = async {
            let index = self
                .get_limited(&url, zoryx_market::index::MAX_INDEX_BYTES as u64)
                .await?;
            let signature = self
                .get_limited(&format!("{url}.sig"), MAX_SIGNATURE_BYTES as u64)
                .await?;
            Ok::<_, String>((index, signature))
        }
        .await;
        let (index_bytes, signature_bytes) = match fetched {
            Ok(bytes) => bytes,
            Err(reason) => {
                if cached_for_url.is_some()
                    && let Ok(verified) = self.cached(&state)
                {
                    tracing::warn!(
                        %url,
                        "the marketplace cannot be reached ({reason}); using the cached index \
                         version {}",
                        verified.index.version
                    );
                    return Ok(Current {
                        verified,
                        offline: true,
                        url,
                    });
                }
                return Err(MarketError::Fetch { url, reason });
            }
        };
        let verified = self.verify(&state, &index_bytes, &signature_bytes)?;
        let key = verified.key.to_string();
        let seen = state.last_versions.entry(key).or_insert(0);
        *seen = (*seen).max(verified.index.version);
        state.cache = Some(CacheInfo {
            url: url.clone(),
            fetched_unix: unix_now(),
        });
        let write = |name: &str, bytes: &[u8]| {
            crate::storage::atomic::write_bytes(&folder.join(name), bytes)
                .map_err(|e| MarketError::State(e.to_string()))
        };
        write("index.json", &index_bytes)?;
        write("index.json.sig", &signature_bytes)?;
        self.write_state(&state)?;
        tracing::info!(
            %url,
            version = verified.index.version,
            plugins = verified.index.plugins.len(),
            key = %verified.key,
            "marketplace index accepted"
        );
        Ok(Current {
            verified,
            offline: false,
            url,
        })
    }

    /// The cached index, checked again (the trusted keys may have changed since).
    fn cached(&self, state: &State) -> Result<Verified, MarketError> {
        let folder = self.options.folder();
        let read = |name: &str| {
            std::fs::read(folder.join(name)).map_err(|e| MarketError::State(e.to_string()))
        };
        self.verify(state, &read("index.json")?, &read("index.json.sig")?)
    }

    /// The signature by a trusted key, and no replay of an older version of that key.
    fn verify(
        &self,
        state: &State,
        index: &[u8],
        signature: &[u8],
    ) -> Result<Verified, MarketError> {
        let signature = SignatureFile::parse(signature)?;
        let last_seen = PublicKey::parse(&signature.key)
            .ok()
            .and_then(|key| state.last_versions.get(&key.to_string()).copied());
        Ok(zoryx_market::signing::verify(
            index,
            &signature,
            &self.options.trusted_keys,
            last_seen,
        )?)
    }

    /// GETs a small file (the index, its signature) of at most `limit` bytes.
    async fn get_limited(&self, url: &str, limit: u64) -> Result<Vec<u8>, String> {
        let mut response = self.http.get(url).send().await.map_err(|e| chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(format!("over the {limit}-byte limit"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| chain(&e))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(format!("over the {limit}-byte limit"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The answer for list, search and info: `entries` with what is installed here.
    async fn report(
        &self,
        current: &Current,
        entries: Vec<Entry>,
    ) -> Result<MarketReport, MarketError> {
        let state = self.read_state()?;
        let installed = self.installed(&state).await;
        let api = host_api();
        let plugins = entries
            .into_iter()
            .map(|e| {
                let artifact = e.artifact(zoryx_market::HOST_TARGET);
                let mut plugin = MarketPlugin::default();
                plugin.size = artifact.map(|a| a.size);
                plugin.compatible = artifact.is_some() && api_compatible(&e.api_version, &api);
                plugin.installed = installed.get(&e.name).map(ToString::to_string);
                plugin.pinned = state.pins.get(&e.name).cloned();
                plugin.name = e.name;
                plugin.version = e.version.to_string();
                plugin.description = e.description;
                plugin.category = e.category;
                plugin.author = e.author;
                plugin.license = e.license;
                plugin.homepage = e.homepage;
                plugin.api_version = e.api_version.to_string();
                plugin.dependencies = e
                    .dependencies
                    .into_iter()
                    .map(|(n, r)| (n, r.to_string()))
                    .collect();
                plugin
            })
            .collect();
        let mut report = MarketReport::default();
        report.index_name.clone_from(&current.verified.index.name);
        report.index_version = current.verified.index.version;
        report.offline = current.offline;
        report.plugins = plugins;
        Ok(report)
    }

    // ---- install -----------------------------------------------------------------------

    /// Plans, downloads, checks, publishes and loads `name`; the changes, one line each.
    async fn install(
        &self,
        current: &Current,
        name: &str,
        wanted: &semver::VersionReq,
        progress: ProgressFn<'_>,
    ) -> Result<Vec<String>, MarketError> {
        let mut state = self.read_state()?;
        let installed = self.installed(&state).await;
        let plan = zoryx_market::plan::plan(
            &current.verified.index,
            name,
            wanted,
            &installed,
            zoryx_market::HOST_TARGET,
            &host_api(),
        )
        .map_err(plan_error)?;
        progress(Progress::Planned {
            steps: plan.steps.iter().map(|s| label(&s.entry)).collect(),
        });
        tracing::info!(
            plugin = name,
            steps = plan.steps.len(),
            "marketplace install planned: {}",
            plan.steps
                .iter()
                .map(|s| label(&s.entry))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let downloads = self.options.folder().join("downloads");
        std::fs::create_dir_all(&downloads)
            .map_err(|e| MarketError::State(format!("{}: {e}", downloads.display())))?;
        // Downloads are removed whatever happens.
        let mut fetched = Vec::new();
        let result = async {
            for step in &plan.steps {
                let file = self
                    .fetch_checked(current, step, &downloads, progress)
                    .await?;
                fetched.push(file.clone());
            }
            Ok::<_, MarketError>(())
        }
        .await;
        if let Err(error) = result {
            for file in &fetched {
                let _ = std::fs::remove_file(file);
            }
            return Err(error);
        }
        let targets = plan
            .steps
            .iter()
            .map(|step| self.target_file(&state, step))
            .collect::<Result<Vec<_>, _>>()?;
        progress(Progress::Publishing {
            files: plan.steps.len(),
        });
        let published = self.publish(&fetched, &targets);
        for file in &fetched {
            let _ = std::fs::remove_file(file);
        }
        let published = published?;
        if let Err(error) = self.load(&plan.steps, &targets, progress).await {
            self.undo(&published).await;
            return Err(error);
        }
        let mut changes = Vec::new();
        for (step, target) in plan.steps.iter().zip(&targets) {
            let file = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            state.installed.insert(
                step.entry.name.clone(),
                Record {
                    version: step.entry.version.clone(),
                    file,
                    sha256: step.artifact.sha256.clone(),
                    dependencies: step.entry.dependencies.clone(),
                },
            );
            changes.push(match &step.replaces {
                Some(old) => format!("updated {} {old} → {}", step.entry.name, step.entry.version),
                None => format!("installed {}", label(&step.entry)),
            });
        }
        self.write_state(&state)?;
        for change in &changes {
            tracing::info!("marketplace: {change}");
        }
        Ok(changes)
    }

    /// Downloads one library into `downloads/` and checks it: size, SHA-256, the host's
    /// library checks. The file's path; nothing is left behind on failure.
    async fn fetch_checked(
        &self,
        current: &Current,
        step: &Step,
        downloads: &Path,
        progress: ProgressFn<'_>,
    ) -> Result<PathBuf, MarketError> {
        let plugin = label(&step.entry);
        let artifact = &step.artifact;
        let refused = |reason: String| MarketError::Download {
            plugin: plugin.clone(),
            reason,
        };
        if artifact.size > MAX_ARTIFACT_BYTES {
            return Err(refused(format!(
                "the index says {} bytes, over this host's {MAX_ARTIFACT_BYTES}-byte limit",
                artifact.size
            )));
        }
        let file = downloads.join(format!(
            "{}-{}.{}",
            step.entry.name,
            step.entry.version,
            crate::loader::library_extension()
        ));
        let result = async {
            let url = zoryx_market::index::artifact_url(&current.url, &artifact.url);
            let mut check = ArtifactCheck::new(artifact);
            let mut response = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| refused(format!("{url}: {}", chain(&e))))?;
            if !response.status().is_success() {
                return Err(refused(format!("{url}: HTTP {}", response.status())));
            }
            if let Some(length) = response.content_length() {
                check
                    .announced(length)
                    .map_err(|e| refused(format!("{url}: {e} (refused before any byte)")))?;
            }
            let mut out = tokio::fs::File::create(&file)
                .await
                .map_err(|e| MarketError::State(format!("{}: {e}", file.display())))?;
            let mut shown = 0u64;
            loop {
                let chunk = response.chunk().await.map_err(|e| {
                    refused(format!(
                        "{url}: cut off after {} of {} bytes: {}",
                        check.received(),
                        artifact.size,
                        chain(&e)
                    ))
                })?;
                let Some(chunk) = chunk else { break };
                check.update(&chunk).map_err(|e| refused(e.to_string()))?;
                tokio::io::AsyncWriteExt::write_all(&mut out, &chunk)
                    .await
                    .map_err(|e| MarketError::State(format!("{}: {e}", file.display())))?;
                // Progress at every tenth.
                let tenth = check.received().saturating_mul(10) / artifact.size.max(1);
                if tenth > shown {
                    shown = tenth;
                    progress(Progress::Downloading {
                        plugin: plugin.clone(),
                        received: check.received(),
                        total: artifact.size,
                    });
                }
            }
            tokio::io::AsyncWriteExt::flush(&mut out)
                .await
                .map_err(|e| MarketError::State(format!("{}: {e}", file.display())))?;
            drop(out);
            check.finish().map_err(|source| match source {
                ArtifactError::HashMismatch { .. } => MarketError::Checksum {
                    plugin: plugin.clone(),
                    source,
                },
                other => refused(other.to_string()),
            })?;
            progress(Progress::Checking {
                plugin: plugin.clone(),
                what: "checksum",
            });
            self.check_library(&file, &step.entry).await?;
            progress(Progress::Checking {
                plugin: plugin.clone(),
                what: "library check",
            });
            Ok(())
        }
        .await;
        match result {
            Ok(()) => Ok(file),
            Err(error) => {
                let _ = std::fs::remove_file(&file);
                Err(error)
            }
        }
    }

    /// The host's own checks, in a child (`zoryx plugins check --quiet --manifest`, the
    /// loader's trial load): a library that crashes whoever opens it crashes the child, and
    /// this process never opens the download (an isolated plugin stays out of it). Then the
    /// manifest must be the index's plugin, version and plugin API. Without a checker binary
    /// (tests of other things), the checks run here.
    async fn check_library(&self, file: &Path, entry: &Entry) -> Result<(), MarketError> {
        use crate::loader::trial::{ChildCheck, check_in_child};
        let refused = |reason: String| MarketError::LibraryCheck {
            plugin: label(entry),
            reason,
        };
        let (name, version, api) = match &self.options.checker {
            Some(checker) => match check_in_child(checker, file)
                .await
                .map_err(|e| refused(e.to_string()))?
            {
                ChildCheck::Valid { name, version, api } => (name, version, api),
                ChildCheck::Refused(reason) => return Err(refused(reason)),
            },
            None => {
                let path = file.to_owned();
                let (api, description) =
                    tokio::task::spawn_blocking(move || crate::loader::check_file(&path))
                        .await
                        .map_err(|e| refused(e.to_string()))?
                        .map_err(|e| refused(e.to_string()))?;
                let manifest = description.manifest;
                (manifest.name, manifest.version, api.to_string())
            }
        };
        if name != entry.name || version != entry.version.to_string() {
            return Err(refused(format!(
                "the library is {name} {version}, not the index's {}",
                label(entry)
            )));
        }
        if api != entry.api_version.to_string() {
            return Err(refused(format!(
                "built against plugin API {api}, the index says {}",
                entry.api_version
            )));
        }
        Ok(())
    }

    /// Where a step's library goes: the installed file it replaces, else `NAME.EXT`.
    fn target_file(&self, state: &State, step: &Step) -> Result<PathBuf, MarketError> {
        if step.replaces.is_some()
            && let Some(record) = state.installed.get(&step.entry.name)
        {
            return Ok(self.options.extensions.join(&record.file));
        }
        let path = self.options.extensions.join(format!(
            "{}.{}",
            step.entry.name,
            crate::loader::library_extension()
        ));
        if step.replaces.is_none() && path.exists() {
            return Err(MarketError::Publish(format!(
                "{} exists and was not installed from the marketplace: remove it first",
                path.display()
            )));
        }
        if step.replaces.is_some() && !state.installed.contains_key(&step.entry.name) {
            return Err(MarketError::NotInstalled(step.entry.name.clone()));
        }
        Ok(path)
    }

    /// Writes each library into `extensions/` atomically; on a failure, puts back the ones
    /// already written.
    fn publish(
        &self,
        files: &[PathBuf],
        targets: &[PathBuf],
    ) -> Result<Vec<Published>, MarketError> {
        let mut published = Vec::new();
        for (file, target) in files.iter().zip(targets) {
            let step = || -> Result<Published, String> {
                let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
                let previous = match std::fs::read(target) {
                    Ok(previous) => Some(previous),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(format!("{}: {e}", target.display())),
                };
                crate::storage::atomic::write_bytes(target, &bytes)
                    .map_err(|e| format!("{}: {e}", target.display()))?;
                Ok(Published {
                    path: target.clone(),
                    previous,
                })
            };
            match step() {
                Ok(done) => published.push(done),
                Err(reason) => {
                    put_back(&published);
                    return Err(MarketError::Publish(reason));
                }
            }
        }
        Ok(published)
    }

    /// Loads (or reloads) the published libraries in plan order through the manager.
    async fn load(
        &self,
        steps: &[Step],
        targets: &[PathBuf],
        progress: ProgressFn<'_>,
    ) -> Result<(), MarketError> {
        let Some(manager) = self.manager() else {
            return Ok(());
        };
        for (step, target) in steps.iter().zip(targets) {
            let plugin = step.entry.name.clone();
            progress(Progress::Loading {
                plugin: label(&step.entry),
            });
            let failed = |error: OpError| MarketError::Load {
                plugin: plugin.clone(),
                reason: error.to_string(),
            };
            let loaded = manager.info(&plugin).await.is_some_and(|i| i.loaded);
            if loaded {
                manager.reload(&plugin).await.map_err(failed)?;
            } else {
                match manager.load(&target.display().to_string()).await {
                    Ok(_) | Err(OpError::AlreadyLoaded(_)) => {}
                    Err(error) => return Err(failed(error)),
                }
            }
            // The watcher may have raced the load with the file's old bytes: the version
            // loaded must be the one installed.
            let version = manager.info(&plugin).await.map(|i| i.version);
            if version.as_deref() != Some(step.entry.version.to_string().as_str()) {
                manager.reload(&plugin).await.map_err(failed)?;
            }
        }
        Ok(())
    }

    /// After a failed load: every file back as it was, and the plugins loaded from them back
    /// to the old files (or unloaded).
    async fn undo(&self, published: &[Published]) {
        put_back(published);
        let Some(manager) = self.manager() else {
            return;
        };
        for file in published.iter().rev() {
            let name = crate::manager::normalise(
                &file
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            let loaded = manager.info(&name).await.is_some_and(|i| i.loaded);
            if !loaded {
                continue;
            }
            let result = match file.previous {
                Some(_) => manager.reload(&name).await.map(drop),
                None => manager.unload(&name, true).await.map(drop),
            };
            if let Err(error) = result {
                tracing::warn!(plugin = name, "undoing a failed install: {error}");
            }
        }
    }

    // ---- remove ------------------------------------------------------------------------

    async fn remove(&self, name: &str) -> Result<String, MarketError> {
        let mut state = self.read_state()?;
        let Some(record) = state.installed.get(name).cloned() else {
            return Err(MarketError::NotInstalled(name.to_owned()));
        };
        let by: Vec<String> = state
            .installed
            .iter()
            .filter(|(other, r)| *other != name && r.dependencies.contains_key(name))
            .map(|(other, _)| other.clone())
            .collect();
        if !by.is_empty() {
            return Err(MarketError::Needed {
                name: name.to_owned(),
                by,
            });
        }
        if let Some(manager) = self.manager()
            && manager.info(name).await.is_some_and(|i| i.loaded)
        {
            manager.unload(name, false).await.map_err(|e| match e {
                OpError::HasDependents { name, dependents } => MarketError::Needed {
                    name,
                    by: dependents,
                },
                other => MarketError::Request(other.to_string()),
            })?;
        }
        let path = self.options.extensions.join(&record.file);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(MarketError::Publish(format!("{}: {e}", path.display()))),
        }
        state.installed.remove(name);
        self.write_state(&state)?;
        let change = format!("removed {name} {}", record.version);
        tracing::info!("marketplace: {change}");
        Ok(change)
    }
}

/// A report of one change.
fn changed(change: String) -> MarketReport {
    let mut report = MarketReport::default();
    report.message.clone_from(&change);
    report.changes = vec![change];
    report
}

/// Puts back files written into `extensions/`, last first.
fn put_back(published: &[Published]) {
    for file in published.iter().rev() {
        let result = match &file.previous {
            Some(bytes) => {
                crate::storage::atomic::write_bytes(&file.path, bytes).map_err(|e| e.to_string())
            }
            None => std::fs::remove_file(&file.path).map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            tracing::error!(file = %file.path.display(), "could not put back: {error}");
        }
    }
}

/// This host's plugin API version.
pub fn host_api() -> semver::Version {
    let api = zoryx_plugin_api::API_VERSION;
    semver::Version::new(
        u64::from(api.major),
        u64::from(api.minor),
        u64::from(api.patch),
    )
}
