//! Checking a download against its index entry while it streams in: never more bytes than
//! the index says, then the SHA-256.

use sha2::{Digest as _, Sha256};

use crate::index::Artifact;

/// Why a download is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArtifactError {
    /// The server announced or sent more than the index's size.
    #[error("the download is larger than the index says ({got} bytes, expected {expected})")]
    TooLarge {
        /// Bytes announced or received so far.
        got: u64,
        /// The index's size.
        expected: u64,
    },
    /// The download ended early.
    #[error("the download stopped at {got} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        got: u64,
        /// The index's size.
        expected: u64,
    },
    /// The bytes are not the ones the index signed for.
    #[error("SHA-256 mismatch: the index says {expected}, the download is {got}")]
    HashMismatch {
        /// The index's hash.
        expected: String,
        /// The download's.
        got: String,
    },
}

/// A running check of one download.
#[derive(Debug)]
pub struct ArtifactCheck {
    expected_size: u64,
    expected_sha256: String,
    received: u64,
    hasher: Sha256,
}

impl ArtifactCheck {
    /// Starts checking a download of `artifact`.
    pub fn new(artifact: &Artifact) -> Self {
        Self {
            expected_size: artifact.size,
            expected_sha256: artifact.sha256.clone(),
            received: 0,
            hasher: Sha256::new(),
        }
    }

    /// Checks a `Content-Length` before any byte is read.
    pub fn announced(&self, length: u64) -> Result<(), ArtifactError> {
        if length > self.expected_size {
            return Err(ArtifactError::TooLarge {
                got: length,
                expected: self.expected_size,
            });
        }
        Ok(())
    }

    /// Takes the next chunk; refuses at once past the index's size.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), ArtifactError> {
        self.received = self.received.saturating_add(chunk.len() as u64);
        if self.received > self.expected_size {
            return Err(ArtifactError::TooLarge {
                got: self.received,
                expected: self.expected_size,
            });
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The end of the download: all the bytes, with the index's hash.
    pub fn finish(self) -> Result<(), ArtifactError> {
        if self.received < self.expected_size {
            return Err(ArtifactError::Truncated {
                got: self.received,
                expected: self.expected_size,
            });
        }
        let got = hex::encode(self.hasher.finalize());
        if got != self.expected_sha256 {
            return Err(ArtifactError::HashMismatch {
                expected: self.expected_sha256,
                got,
            });
        }
        Ok(())
    }
}

/// The SHA-256 of `bytes`, as an index writes it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
