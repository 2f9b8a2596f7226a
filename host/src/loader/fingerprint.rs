//! `(device, inode, size, mtime)`: enough to tell a real change from an open or a read, and a
//! re-created file (cargo's unlink + hard link gives a new inode) from the old one. The watcher
//! compares them, and staging uses them to notice a file changing while it is copied.

use std::path::Path;

/// A file's identity and state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl Fingerprint {
    /// The fingerprint of `path` (following symlinks), `None` if it is absent or not a regular
    /// file.
    pub(crate) fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
        #[cfg(unix)]
        let (dev, ino, mtime_ns) = {
            use std::os::unix::fs::MetadataExt as _;
            let ns = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            (meta.dev(), meta.ino(), ns)
        };
        #[cfg(not(unix))]
        let (dev, ino, mtime_ns) = {
            let ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            (0, 0, ns)
        };
        Some(Self {
            dev,
            ino,
            size: meta.len(),
            mtime_ns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_do_not_change_it_writes_and_new_inodes_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.so");
        assert_eq!(Fingerprint::of(&path), None);
        assert_eq!(
            Fingerprint::of(dir.path()),
            None,
            "directories are not files"
        );

        std::fs::write(&path, b"one").expect("write");
        let first = Fingerprint::of(&path).expect("exists");
        let _ = std::fs::read(&path).expect("read");
        assert_eq!(Fingerprint::of(&path), Some(first));

        std::fs::write(&path, b"longer").expect("write");
        let second = Fingerprint::of(&path).expect("exists");
        assert_ne!(second, first);

        let other = dir.path().join("b");
        std::fs::write(&other, b"longer").expect("write");
        std::fs::remove_file(&path).expect("unlink");
        std::fs::hard_link(&other, &path).expect("link");
        let third = Fingerprint::of(&path).expect("exists");
        assert_ne!(third.ino, second.ino);
        assert_ne!(third, second);
    }
}
