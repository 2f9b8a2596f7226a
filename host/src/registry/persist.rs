//! Reading `plugin_registry.json` (a corrupt file is moved aside, never overwritten) and
//! writing it atomically (temp file, fsync, rename, fsync of the folder).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Enforcement, RegistryEntry, RegistryError};

/// How many `.corrupt-<ts>-<n>` names to try before giving up.
const QUARANTINE_ATTEMPTS: u32 = 1000;

/// Makes temp file names unique within the process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

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
            let aside = quarantine(path)?;
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

/// Moves `path` to `<name>.corrupt-<unix seconds>` (with `-<n>` added if that name is taken).
fn quarantine(path: &Path) -> Result<PathBuf, RegistryError> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let base = format!("{}.corrupt-{stamp}", file_name(path));
    for attempt in 0..QUARANTINE_ATTEMPTS {
        let name = match attempt {
            0 => base.clone(),
            n => format!("{base}-{n}"),
        };
        let aside = path.with_file_name(name);
        let taken = aside.try_exists().map_err(io_error("checking", &aside))?;
        if !taken {
            std::fs::rename(path, &aside).map_err(io_error("moving aside", path))?;
            return Ok(aside);
        }
    }
    Err(io_error("moving aside", path)(std::io::Error::new(
        ErrorKind::AlreadyExists,
        "every quarantine name is taken",
    )))
}

/// The file name of `path` as text (`plugin_registry.json` if it has none).
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || "plugin_registry.json".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The folder holding `path` (`.` for a bare file name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Writes `document` to `path` atomically: a unique temp file in the same folder is written
/// and synced, renamed over `path`, then the folder is synced. The temp file never outlives
/// a failure.
pub(super) fn write(path: &Path, document: &DocumentRef<'_>) -> Result<(), RegistryError> {
    let mut json = serde_json::to_vec_pretty(document)?;
    json.push(b'\n');
    let dir = folder(path);
    std::fs::create_dir_all(dir).map_err(io_error("creating", dir))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}-{}",
        file_name(path),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_temp(&temp, &json)
        .and_then(|()| std::fs::rename(&temp, path).map_err(io_error("renaming over", path)));
    if result.is_err() {
        remove_temp(&temp);
    }
    result?;
    sync_dir(dir)?;
    tracing::debug!(file = %path.display(), bytes = json.len(), "saved the plugin registry");
    Ok(())
}

/// Creates `temp` (it must not exist), writes `bytes` and syncs them to disk.
fn write_temp(temp: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io_error("creating", temp))?;
    file.write_all(bytes).map_err(io_error("writing", temp))?;
    file.sync_all().map_err(io_error("syncing", temp))
}

/// Removes a temp file left by a failed save, if it is there.
fn remove_temp(temp: &Path) {
    if let Err(error) = std::fs::remove_file(temp)
        && error.kind() != ErrorKind::NotFound
    {
        tracing::warn!(file = %temp.display(), %error, "could not remove a temp file");
    }
}

/// Syncs the folder so the rename itself is durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), RegistryError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error("syncing", dir))
}

/// Syncs the folder if the platform lets a folder be opened as a file (Windows does not;
/// there the rename is still atomic, only its durability is left to the OS).
#[cfg(not(unix))]
fn sync_dir(dir: &Path) -> Result<(), RegistryError> {
    if let Ok(handle) = File::open(dir) {
        handle.sync_all().map_err(io_error("syncing", dir))?;
    }
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
