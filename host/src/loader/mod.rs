//! Turning a file in `extensions/` into an opened, checked plugin library.
//!
//! The pipeline, in order: private copy ([`staging`]), file check ([`binary`]: ELF, PE or
//! Mach-O, complete, this CPU, a library), trial load in
//! a child process ([`trial`]), then `dlopen` with declaration, version and layout checks
//! ([`library`]). Each step refuses with a [`LoadError`] that says what to do. An isolated
//! plugin stops after the trial load ([`Loader::stage_checked`]): its worker process opens it.

pub mod binary;
pub(crate) mod fingerprint;
pub mod layout;
pub mod library;
pub mod maps;
pub mod staging;
pub mod trial;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zoryx_plugin_api::ffi::PluginModuleRef;
use zoryx_plugin_api::ffi::types::Description;
use zoryx_plugin_api::{ApiVersion, PluginError};

pub use library::LoadedLibrary;
pub use staging::{StagedCopy, Staging};

/// The platform's shared-library extension (`so`, `dylib` or `dll`).
pub const fn library_extension() -> &'static str {
    if cfg!(target_os = "macos") {
        "dylib"
    } else if cfg!(windows) {
        "dll"
    } else {
        "so"
    }
}

/// Whether `path` names a plugin library: the platform extension after a non-empty stem, not
/// hidden (`make plugins` writes `.hello.so.tmp` first) and not a temporary name (`.tmp`,
/// `.part`, `.partial`, `~`).
pub fn is_library(path: &Path) -> bool {
    let Some(name) = path.file_name() else {
        return false;
    };
    let name = name.to_string_lossy().to_ascii_lowercase();
    let temporary = [".tmp", ".part", ".partial", "~"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    !name.starts_with('.')
        && !temporary
        && name
            .strip_suffix(library_extension())
            .and_then(|stem| stem.strip_suffix('.'))
            .is_some_and(|stem| !stem.is_empty())
}

/// Why a library was refused. Each message is one line meant for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Not a loadable shared library (wrong format, truncated, ...).
    #[error("{0}")]
    NotLibrary(String),
    /// A shared library without a Zoryx plugin declaration.
    #[error(
        "not a Zoryx plugin: no ZORYX_PLUGIN_DECLARATION (build it with zoryx-plugin-api and `export_plugin!`)"
    )]
    NotAPlugin,
    /// Built against a plugin-api this host cannot run.
    #[error("{}", version_message(*plugin, *host))]
    Version {
        /// What the plugin was built against.
        plugin: ApiVersion,
        /// What this host has.
        host: ApiVersion,
    },
    /// The plugin's types differ from the host's.
    #[error(
        "incompatible plugin-api layout (rebuild the plugin against this host's zoryx-plugin-api): {0}"
    )]
    Layout(String),
    /// `dlopen` failed.
    #[error("could not open library: {0}")]
    Open(String),
    /// `dlclose` failed.
    #[error("could not close library: {0}")]
    Close(String),
    /// The plugin's `describe` failed or panicked.
    #[error("reading the manifest failed: {0}")]
    Describe(PluginError),
    /// The trial load in a child process failed.
    #[error("trial load failed: {0}")]
    Trial(String),
    /// An isolated plugin's worker refused the library (the loader's message) or could not
    /// load it.
    #[error("{0}")]
    Worker(String),
    /// The file kept changing while being copied.
    #[error("the file kept changing while it was copied; try again once it is fully written")]
    Unstable,
    /// Reading or copying the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn version_message(plugin: ApiVersion, host: ApiVersion) -> String {
    if plugin.major == host.major && plugin.minor > host.minor {
        format!(
            "needs plugin-api {plugin}, but this host has plugin-api {host}: update the host, or build the plugin against zoryx-plugin-api {host}"
        )
    } else {
        format!(
            "built against plugin-api {plugin}, which this host (plugin-api {host}) cannot run: rebuild it against zoryx-plugin-api {}.x",
            host.major
        )
    }
}

impl LoadError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Where an opened plugin's code is.
pub enum Code {
    /// Opened in this process.
    Library {
        /// The plugin's function table.
        module: PluginModuleRef,
        /// The library (closed when dropped); `None` for a plugin linked into this process.
        library: Option<LoadedLibrary>,
    },
    /// Opened in a worker process (isolation mode); this process never opens the library.
    Worker(crate::isolation::Worker),
}

/// An opened plugin library, its private copy, and what it declared.
pub struct Opened {
    /// Where its code is.
    pub code: Code,
    /// The plugin-api version it was built against.
    pub api_version: ApiVersion,
    /// The private copy (deleted when dropped, after the library).
    pub copy: Option<StagedCopy>,
    /// Manifest and registrations.
    pub description: Description,
    /// Time spent copying, checking and opening.
    pub elapsed: Duration,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("copy", &self.copy)
            .field("manifest", &self.description.manifest)
            .finish_non_exhaustive()
    }
}

impl Opened {
    /// A plugin compiled into this process (tests of plugins, see `zoryx-plugin-test`): no
    /// library to open or close, same checks of its manifest and registrations.
    pub fn in_process(module: PluginModuleRef) -> Result<Self, LoadError> {
        let description =
            zoryx_plugin_api::ffi::extra::describe(module).map_err(LoadError::Describe)?;
        Ok(Self {
            code: Code::Library {
                module,
                library: None,
            },
            api_version: zoryx_plugin_api::API_VERSION,
            copy: None,
            description,
            elapsed: Duration::ZERO,
        })
    }
}

/// Runs the load pipeline.
#[derive(Debug)]
pub struct Loader {
    staging: Staging,
    checker: Option<PathBuf>,
}

impl Loader {
    /// A loader copying into `staging`, trial-loading with `checker` (the `zoryx` binary) when
    /// given.
    pub fn new(staging: Staging, checker: Option<PathBuf>) -> Self {
        Self { staging, checker }
    }

    /// The folder private copies are made in.
    pub fn staging_dir(&self) -> &Path {
        self.staging.dir()
    }

    /// Copies, checks and opens `source`; `name` labels the private copy.
    pub async fn open(&self, source: &Path, name: &str) -> Result<Opened, LoadError> {
        let started = Instant::now();
        let copy = self.stage_checked(source, name).await?;
        let library = LoadedLibrary::open(copy.path())?;
        let description = library.describe()?;
        Ok(Opened {
            api_version: library.api_version(),
            code: Code::Library {
                module: library.module(),
                library: Some(library),
            },
            copy: Some(copy),
            description,
            elapsed: started.elapsed(),
        })
    }

    /// Copies and checks `source` (file check, trial load in a child) without opening it in
    /// this process; `name` labels the private copy. An isolated plugin's worker opens it.
    pub async fn stage_checked(&self, source: &Path, name: &str) -> Result<StagedCopy, LoadError> {
        let copy = self.staging.stage(source, name)?;
        binary::check_library_file(copy.path())
            .map_err(|e| LoadError::NotLibrary(e.to_string()))?;
        if let Some(checker) = &self.checker {
            trial::trial_load(checker, copy.path()).await?;
        }
        Ok(copy)
    }
}

/// Checks a library without keeping it: file check, declaration, version, layout, manifest.
/// Used by `zoryx plugins check` (also as the trial load's child).
pub fn check_file(path: &Path) -> Result<(ApiVersion, Description), LoadError> {
    binary::check_library_file(path).map_err(|e| LoadError::NotLibrary(e.to_string()))?;
    let library = LoadedLibrary::open(path)?;
    let description = library.describe()?;
    Ok((library.api_version(), description))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names() {
        let ext = library_extension();
        assert!(is_library(Path::new(&format!("a/b.{ext}"))));
        assert!(!is_library(Path::new(&format!("a/.b.{ext}.tmp"))));
        assert!(!is_library(Path::new(&format!("a/.b.{ext}"))));
        assert!(!is_library(Path::new(&format!("a/b.{ext}.part"))));
        assert!(!is_library(Path::new("a/notes.txt")));
    }
}
