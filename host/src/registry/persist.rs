//! Reading `plugin_registry.json` (a corrupt file is moved aside, never overwritten) and
//! writing it atomically, both through the atomic file store's file operations.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Enforcement, RegistryEntry, RegistryError};
use crate::storage::atomic;

/// The file's contents, as read.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Document {
    /// Enforcement settings.
    #[serde(default)]
    pub(super) enforcement: Enforcement,
    /// Entries by plugin name.
    #[serde(default)]
    pub(super) plugins: BTreeMap<String, RegistryEntry>,
}

/// The file's contents, as written (borrowed, so saving does not clone the entries).
#[derive(Debug, Serialize)]
pub(super) struct DocumentRef<'a> {
    /// Enforcement settings.
    pub(super) enforcement: Enforcement,
    /// Entries by plugin name.
    pub(super) plugins: &'a BTreeMap<String, RegistryEntry>,
}

/// What reading the registry file gave.
#[derive(Debug, Default)]
pub(super) struct Loaded {
    /// The document (empty if the file was missing or corrupt).
    pub(super) document: Document,
    /// Where a corrupt file was moved, if it was.
    pub(super) quarantined: Option<PathBuf>,
}

/// An I/O error about `path` while doing `action`.
fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_owned();
    move |source| RegistryError::Io {
        action,
        path,
        source,
    }
}

/// Reads `path`: missing means empty; corrupt means moved aside and empty.
pub(super) fn read(path: &Path) -> Result<Loaded, RegistryError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(e) => return Err(io_error("reading", path)(e)),
    };
    match serde_json::from_slice::<Document>(&bytes) {
        Ok(document) => Ok(Loaded {
            document,
            quarantined: None,
        }),
        Err(error) => {
            let aside = atomic::quarantine(path)?;
            tracing::warn!(
                file = %path.display(),
                moved_to = %aside.display(),
                %error,
                "the plugin registry file is corrupt: moved it aside and started with an empty registry"
            );
            Ok(Loaded {
                document: Document::default(),
                quarantined: Some(aside),
            })
        }
    }
}

/// Writes `document` to `path` atomically: a unique temp file in the same folder is written
/// and synced, renamed over `path`, then the folder is synced. The temp file never outlives
/// a failure.
pub(super) fn write(path: &Path, document: &DocumentRef<'_>) -> Result<(), RegistryError> {
    let mut json = serde_json::to_vec_pretty(document)?;
    json.push(b'\n');
    atomic::write_bytes(path, &json)?;
    tracing::debug!(file = %path.display(), bytes = json.len(), "saved the plugin registry");
    Ok(())
}

/// The sorted file names in `dir` (tests of this module and of the registry).
#[cfg(test)]
pub(super) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_reads_as_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let loaded = read(&dir.path().join("plugin_registry.json")).expect("read");
        assert!(loaded.document.plugins.is_empty());
        assert_eq!(loaded.document.enforcement, Enforcement::default());
        assert!(loaded.quarantined.is_none());
        assert!(names(dir.path()).is_empty(), "reading creates nothing");
    }

    #[test]
    fn corrupt_file_is_moved_aside_with_its_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("plugin_registry.json");
        std::fs::write(&path, b"{\"plugins\": [1, 2").expect("write");
        let loaded = read(&path).expect("read");
        let aside = loaded.quarantined.expect("quarantined");
        assert!(!path.exists());
        assert_eq!(
            std::fs::read(&aside).expect("aside"),
            b"{\"plugins\": [1, 2"
        );
    }

    #[test]
    fn second_corruption_in_the_same_second_does_not_clobber_the_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("plugin_registry.json");
        std::fs::write(&path, b"first").expect("write");
        let first = read(&path).expect("read").quarantined.expect("first");
        std::fs::write(&path, b"second").expect("write");
        let second = read(&path).expect("read").quarantined.expect("second");
        assert_ne!(first, second);
        assert_eq!(std::fs::read(&first).expect("first"), b"first");
        assert_eq!(std::fs::read(&second).expect("second"), b"second");
    }

    #[test]
    fn unreadable_path_is_an_error_not_a_quarantine() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A folder where the file should be: reading fails with something other than NotFound.
        let path = dir.path().join("plugin_registry.json");
        std::fs::create_dir(&path).expect("mkdir");
        assert!(matches!(read(&path), Err(RegistryError::Io { .. })));
        assert!(path.is_dir(), "left alone");
    }

    #[test]
    fn write_creates_the_folder_and_leaves_only_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data").join("plugin_registry.json");
        let plugins = BTreeMap::new();
        let document = DocumentRef {
            enforcement: Enforcement::default(),
            plugins: &plugins,
        };
        write(&path, &document).expect("first write");
        write(&path, &document).expect("overwrite");
        assert_eq!(
            names(&dir.path().join("data")),
            vec!["plugin_registry.json"]
        );
    }

    #[test]
    fn failed_write_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The target is a non-empty folder: the rename over it fails.
        let path = dir.path().join("plugin_registry.json");
        std::fs::create_dir(&path).expect("mkdir");
        std::fs::write(path.join("keep"), b"x").expect("write");
        let plugins = BTreeMap::new();
        let document = DocumentRef {
            enforcement: Enforcement::default(),
            plugins: &plugins,
        };
        assert!(write(&path, &document).is_err());
        assert_eq!(names(dir.path()), vec!["plugin_registry.json"]);
        assert_eq!(names(&path), vec!["keep"]);
    }
}
