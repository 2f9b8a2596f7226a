//! The blocking file operations under the store: atomic replace, read, quarantine of corrupt
//! files, clean-up of leftover temp files, and retries of transient errors.
//!
//! Temp files are named `.<name>.zoryx-tmp-<pid>-<n>` and live beside their target, so the
//! final rename never crosses a file system. A write that fails removes its temp file; one cut
//! short by a crash (SIGKILL, power loss) leaves it behind, and [`remove_stale_temp_files`]
//! removes those whose writing process is gone.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::AtomicError;

/// The marker between a target's name and the temp file's process id and counter.
const TEMP_MARKER: &str = ".zoryx-tmp-";

/// How many `.corrupt-<ts>-<n>` names to try before giving up.
const QUARANTINE_ATTEMPTS: u32 = 1000;

/// Where no process table can be read, temp files older than this are taken as abandoned.
#[cfg(not(target_os = "linux"))]
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Makes temp file names unique within the process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// An I/O error about `path` while doing `action`.
pub(super) fn io_error(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> AtomicError {
    let path = path.to_owned();
    move |source| AtomicError::Io {
        action,
        path,
        source,
    }
}

/// Whether an I/O error may go away if the operation is tried again (a busy file, an
/// interrupted call, a timeout). Missing files, permissions and bad data are not retried.
pub fn is_transient(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Interrupted
            | ErrorKind::WouldBlock
            | ErrorKind::TimedOut
            | ErrorKind::ResourceBusy
            | ErrorKind::ExecutableFileBusy
            | ErrorKind::Deadlock
    )
}

/// Runs `op` up to `attempts` times while it fails with a transient I/O error, sleeping
/// `backoff`, then twice that, and so on between attempts.
pub(super) fn retry<T>(
    attempts: u32,
    backoff: Duration,
    mut op: impl FnMut() -> Result<T, AtomicError>,
) -> Result<T, AtomicError> {
    let mut wait = backoff;
    let mut attempt = 1;
    loop {
        match op() {
            Err(AtomicError::Io {
                action,
                path,
                source,
            }) if attempt < attempts && is_transient(source.kind()) => {
                tracing::debug!(file = %path.display(), action, error = %source, attempt, "transient I/O error, retrying");
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The file name of `path` as text.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The folder holding `path` (`.` for a bare file name).
pub(super) fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Replaces `path` with `bytes` atomically: a unique temp file in the same folder is written
/// and synced, renamed over `path`, then the folder is synced. Creates missing folders. The
/// temp file never outlives a failure.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), AtomicError> {
    let dir = folder(path);
    std::fs::create_dir_all(dir).map_err(io_error("creating", dir))?;
    let temp = dir.join(format!(
        ".{}{TEMP_MARKER}{}-{}",
        file_name(path),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_temp(&temp, bytes)
        .and_then(|()| std::fs::rename(&temp, path).map_err(io_error("renaming over", path)));
    if result.is_err() {
        remove_temp(&temp);
    }
    result?;
    sync_dir(dir)
}

/// Serialises `value` (pretty, with a final newline) and writes it with [`write_bytes`],
/// retrying transient errors `attempts` times. The blocking form, for start-up code that runs
/// before the async runtime serves anything.
pub fn write_json_sync(
    path: &Path,
    value: &serde_json::Value,
    attempts: u32,
) -> Result<(), AtomicError> {
    let bytes = to_bytes(path, value)?;
    retry(attempts, Duration::from_millis(10), || {
        write_bytes(path, &bytes)
    })
}

/// `value` as pretty JSON with a final newline.
pub(super) fn to_bytes(path: &Path, value: &serde_json::Value) -> Result<Vec<u8>, AtomicError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| AtomicError::Serialize {
        path: path.to_owned(),
        source,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Creates `temp` (it must not exist), writes `bytes` and syncs them to disk.
fn write_temp(temp: &Path, bytes: &[u8]) -> Result<(), AtomicError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io_error("creating", temp))?;
    file.write_all(bytes).map_err(io_error("writing", temp))?;
    file.sync_all().map_err(io_error("syncing", temp))
}

/// Removes a temp file left by a failed write, if it is there.
fn remove_temp(temp: &Path) {
    if let Err(error) = std::fs::remove_file(temp)
        && error.kind() != ErrorKind::NotFound
    {
        tracing::warn!(file = %temp.display(), %error, "could not remove a temp file");
    }
}

/// Syncs the folder so the rename itself is durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), AtomicError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error("syncing", dir))
}

/// Syncs the folder if the platform lets a folder be opened as a file (Windows does not;
/// there the rename is still atomic, only its durability is left to the OS).
#[cfg(not(unix))]
fn sync_dir(dir: &Path) -> Result<(), AtomicError> {
    if let Ok(handle) = File::open(dir) {
        handle.sync_all().map_err(io_error("syncing", dir))?;
    }
    Ok(())
}

/// Reads `path`; `None` if it does not exist.
pub(super) fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, AtomicError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("reading", path)(e)),
    }
}

/// Parses `bytes` read from `path`. Invalid JSON moves the file aside (see [`quarantine`]) and
/// gives [`AtomicError::Corrupt`]; it is logged as a warning.
pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<serde_json::Value, AtomicError> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(error) => {
            let moved_to = quarantine(path)?;
            tracing::warn!(
                file = %path.display(),
                moved_to = %moved_to.display(),
                %error,
                "corrupt JSON file moved aside; its original bytes are kept there"
            );
            Err(AtomicError::Corrupt {
                path: path.to_owned(),
                moved_to,
                message: error.to_string(),
                line: error.line(),
                column: error.column(),
            })
        }
    }
}

/// Moves `path` to `<name>.corrupt-<unix seconds>` (with `-<n>` added if that name is taken).
pub fn quarantine(path: &Path) -> Result<PathBuf, AtomicError> {
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

/// The process id in a temp file name made by [`write_bytes`], if `name` is one.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(TEMP_MARKER)?;
    let (pid, counter) = tail.split_once('-')?;
    counter.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Whether the process that made a temp file can no longer finish it.
fn abandoned(pid: u32, file: &Path) -> bool {
    if pid == std::process::id() {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        let _ = file;
        !Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE)
    }
}

/// Removes, under `dir` and its sub-folders, the temp files of atomic writes whose process has
/// died (on Linux: no `/proc/<pid>`; elsewhere: older than an hour). A live writer's temp files
/// are never touched. Returns how many were removed. The host calls it for its data folder at
/// start; a missing `dir` removes nothing.
pub fn remove_stale_temp_files(dir: &Path) -> Result<usize, AtomicError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error("listing", dir)(e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(io_error("listing", dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io_error("inspecting", &path))?;
        if kind.is_dir() {
            removed += remove_stale_temp_files(&path)?;
            continue;
        }
        let Some(pid) = temp_owner(&entry.file_name().to_string_lossy()) else {
            continue;
        };
        if kind.is_file() && abandoned(pid, &path) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("removing", &path)(e)),
            }
        }
    }
    if removed > 0 {
        tracing::info!(folder = %dir.display(), removed, "removed temp files left by interrupted writes");
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised() {
        assert_eq!(temp_owner(".a.json.zoryx-tmp-42-7"), Some(42));
        assert_eq!(temp_owner("a.json.zoryx-tmp-42-7"), None);
        assert_eq!(temp_owner(".a.json"), None);
        assert_eq!(temp_owner(".a.json.zoryx-tmp-x-7"), None);
    }

    #[test]
    fn only_transient_kinds_are_retried() {
        assert!(is_transient(ErrorKind::Interrupted));
        assert!(!is_transient(ErrorKind::NotFound));
        assert!(!is_transient(ErrorKind::PermissionDenied));
        assert!(!is_transient(ErrorKind::InvalidData));
    }

    #[test]
    fn retry_stops_after_the_attempts_and_on_permanent_errors() {
        let mut calls = 0;
        let result: Result<(), _> = retry(3, Duration::ZERO, || {
            calls += 1;
            Err(io_error("reading", Path::new("x"))(
                ErrorKind::Interrupted.into(),
            ))
        });
        assert!(result.is_err());
        assert_eq!(calls, 3);
        let mut calls = 0;
        let result: Result<(), _> = retry(3, Duration::ZERO, || {
            calls += 1;
            Err(io_error("reading", Path::new("x"))(
                ErrorKind::NotFound.into(),
            ))
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }
}
