//! The log files: `permanent.log` rotated by size with numbered backups, `current_run.log`
//! truncated at each start, and removal of expired backups.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file every run appends to.
pub const PERMANENT: &str = "permanent.log";
/// The file holding this run only.
pub const CURRENT_RUN: &str = "current_run.log";

/// A file that, before a write would take it past `max_bytes`, is renamed to `<name>.1` (the
/// older backups shift up to `<name>.<backups>`, the oldest is removed) and started afresh.
/// With no backups it is simply emptied. Writes are whole log lines, so files break between
/// lines.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    backups: u32,
    file: BufWriter<File>,
    size: u64,
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl RotatingFile {
    /// Opens `path` for appending (creating it).
    pub fn open(path: &Path, max_bytes: u64, backups: u32) -> io::Result<Self> {
        let file = append(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            max_bytes,
            backups,
            file: BufWriter::new(file),
            size,
        })
    }

    /// `<name>.<n>`.
    fn backup(&self, n: u32) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.backups == 0 {
            self.file = BufWriter::new(File::create(&self.path)?);
        } else {
            match std::fs::remove_file(self.backup(self.backups)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            for n in (1..self.backups).rev() {
                match std::fs::rename(self.backup(n), self.backup(n + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            std::fs::rename(&self.path, self.backup(1))?;
            self.file = BufWriter::new(append(&self.path)?);
        }
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Creates (or empties) `current_run.log` in `dir`.
pub fn start_current_run(dir: &Path) -> io::Result<BufWriter<File>> {
    File::create(dir.join(CURRENT_RUN)).map(BufWriter::new)
}

/// Whether `name` is a numbered backup of a log file (`<anything>.log.<digits>`).
fn is_backup(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, n)| {
        stem.ends_with(".log") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Removes numbered backups in `dir` last modified more than `retention` ago. Returns how many.
pub fn remove_expired_backups(dir: &Path, retention: Duration) -> io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !is_backup(&entry.file_name().to_string_lossy()) || !entry.file_type()?.is_file() {
            continue;
        }
        let age = entry
            .metadata()?
            .modified()?
            .elapsed()
            .unwrap_or(Duration::ZERO);
        if age > retention {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_names() {
        assert!(is_backup("permanent.log.1"));
        assert!(is_backup("permanent.log.12"));
        assert!(!is_backup("permanent.log"));
        assert!(!is_backup("current_run.log"));
        assert!(!is_backup("notes.txt.1"));
        assert!(!is_backup("permanent.log.x"));
    }
}
