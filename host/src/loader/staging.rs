//! Private, uniquely named copies of plugin libraries under `data/`.
//!
//! The host never opens a file in `extensions/` directly: the user may overwrite it at any time,
//! and glibc hands back the already-open handle for a path it has seen. Each load gets a copy of
//! its own; the copy is deleted when the generation that uses it is gone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::LoadError;
use super::fingerprint::Fingerprint;

/// Where copies go, and the counter that makes their names unique.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    counter: AtomicU64,
}

/// One private copy; deleted from disk when dropped.
#[derive(Debug)]
pub struct StagedCopy {
    path: PathBuf,
}

impl StagedCopy {
    /// The copy's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StagedCopy {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_file(&self.path)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(file = %self.path.display(), %error, "could not remove plugin copy");
        }
    }
}

fn pid_alive(pid: u32) -> bool {
    cfg!(not(target_os = "linux")) || Path::new(&format!("/proc/{pid}")).exists()
}

impl Staging {
    /// Uses `dir` for copies, creating it, and removes copies left by processes that are gone.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let owner = name.split('.').nth(1).and_then(|p| p.parse::<u32>().ok());
            if owner.is_some_and(|pid| pid != std::process::id() && !pid_alive(pid)) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            dir,
            counter: AtomicU64::new(0),
        })
    }

    /// The folder copies are made in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Copies `source` to a new private file, retrying if the source changed while being read.
    pub fn stage(&self, source: &Path, name: &str) -> Result<StagedCopy, LoadError> {
        let extension = source
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        for _ in 0..3 {
            let before = Fingerprint::of(source)
                .ok_or_else(|| LoadError::io(source, io::ErrorKind::NotFound.into()))?;
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let path = self
                .dir
                .join(format!("{name}.{}.{n}.{extension}", std::process::id()));
            let copy = StagedCopy { path };
            fs::copy(source, copy.path()).map_err(|e| LoadError::io(source, e))?;
            if Fingerprint::of(source) == Some(before) {
                return Ok(copy);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Err(LoadError::Unstable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_unique_and_removed_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("x.so");
        fs::write(&source, b"bytes").expect("write");
        let staging = Staging::new(dir.path().join("staged")).expect("staging");
        let a = staging.stage(&source, "x").expect("stage a");
        let b = staging.stage(&source, "x").expect("stage b");
        assert_ne!(a.path(), b.path());
        assert_eq!(fs::read(a.path()).expect("read"), b"bytes");
        let path = a.path().to_owned();
        drop(a);
        assert!(!path.exists());
    }

    #[test]
    fn stale_copies_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stale = dir.path().join("x.999999999.0.so");
        fs::write(&stale, b"old").expect("write");
        let _staging = Staging::new(dir.path()).expect("staging");
        assert!(!stale.exists());
    }
}
