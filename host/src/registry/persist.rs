//! Reading and atomically writing `plugin_registry.json`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::{Enforcement, RegistryEntry, RegistryError};

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Document {
    #[serde(default)]
    pub(super) enforcement: Enforcement,
    #[serde(default)]
    pub(super) plugins: BTreeMap<String, RegistryEntry>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |source| RegistryError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the document; a corrupt file is moved aside and an empty document returned.
pub(super) fn read(path: &Path) -> Result<(Document, Option<PathBuf>), RegistryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Document::default(), None));
        }
        Err(e) => return Err(io(path)(e)),
    };
    match serde_json::from_str(&text) {
        Ok(document) => Ok((document, None)),
        Err(error) => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let aside = path.with_file_name(format!(
                "{}.corrupt-{stamp}",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ));
            std::fs::rename(path, &aside).map_err(io(path))?;
            tracing::warn!(file = %path.display(), moved_to = %aside.display(), %error, "the plugin registry was corrupt; kept it aside and started empty");
            Ok((Document::default(), Some(aside)))
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes atomically: temp file in the same folder, fsync, rename, fsync the folder.
pub(super) fn write(path: &Path, document: &Document) -> Result<(), RegistryError> {
    let json = serde_json::to_vec_pretty(document)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp).map_err(io(&temp))?;
        file.write_all(&json).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        std::fs::rename(&temp, path).map_err(io(path))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
