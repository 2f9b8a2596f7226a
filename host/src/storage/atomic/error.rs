//! Why an atomic file operation failed.

use std::path::PathBuf;

/// An atomic store failure; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    /// An I/O error that persisted through the retries (or was not worth retrying).
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`, `renaming over`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not valid JSON. It was moved aside to `moved_to` (never overwritten), so the
    /// caller may write fresh content to `path`.
    #[error(
        "{path} is corrupt ({message} at line {line}, column {column}); it was moved aside to {moved_to}"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where its original bytes now are (`<name>.corrupt-<timestamp>`).
        moved_to: PathBuf,
        /// The parser's message.
        message: String,
        /// Line of the error (1-based).
        line: usize,
        /// Column of the error (1-based).
        column: usize,
    },
    /// The JSON is valid but does not have the shape the caller asked for (the file is kept).
    #[error("{path} does not match the expected shape: {message}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// The value could not be serialised.
    #[error("cannot serialise the value for {path}: {source}")]
    Serialize {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
    /// The blocking worker running the file operation was lost (the runtime is shutting down).
    #[error("the file operation on {path} was cancelled")]
    Cancelled {
        /// The file.
        path: PathBuf,
    },
}
