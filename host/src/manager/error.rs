//! Errors of the plugin operations.

use crate::loader::LoadError;

/// Why a load, unload or reload did not happen. Each message is one line for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// No library file for that name in `extensions/`.
    #[error("no extension `{0}` in the extensions folder")]
    NotFound(String),
    /// Already loaded (use reload).
    #[error("`{0}` is already loaded (use reload)")]
    AlreadyLoaded(String),
    /// Not loaded.
    #[error("`{0}` is not loaded")]
    NotLoaded(String),
    /// The library was refused by the loader.
    #[error("refused {file}: {source}")]
    Refused {
        /// The file.
        file: String,
        /// Why.
        source: LoadError,
    },
    /// The manifest or registry validation refused the plugin.
    #[error("refused {file}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The plugin's init returned an error or panicked.
    #[error("refused {file}: init failed: {error}")]
    Init {
        /// The file.
        file: String,
        /// The plugin's error.
        error: zoryx_plugin_api::PluginError,
    },
    /// Other plugins depend on it.
    #[error("`{name}` is needed by {}: unload those first, or force the unload", dependents.join(", "))]
    HasDependents {
        /// The plugin.
        name: String,
        /// Plugins depending on it.
        dependents: Vec<String>,
    },
    /// The extensions folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}
