//! Error types.

use std::io;

/// A frame could not be read, decoded, encoded or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix announces more than the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Announced (or encoded) length.
        len: u64,
        /// Configured maximum.
        max: usize,
    },
    /// The stream ended inside a frame.
    #[error("connection closed in the middle of a frame")]
    Truncated,
    /// The payload is not UTF-8 JSON of the message shape.
    #[error("malformed frame: {0}")]
    Malformed(#[from] serde_json::Error),
    /// The payload is JSON but a field has an invalid value.
    #[error("invalid frame: {0}")]
    Invalid(&'static str),
    /// Reading or writing the socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// The authentication handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The peer's proof did not verify (wrong secret, replayed or tampered answer).
    #[error("authentication failed")]
    BadProof,
    /// The server refused our credentials.
    #[error("the server refused authentication")]
    Refused,
    /// A handshake message had the wrong op or shape.
    #[error("unexpected handshake message: {0}")]
    Unexpected(&'static str),
    /// The cluster name is empty, too long, reserved or has forbidden characters.
    #[error("invalid cluster name")]
    InvalidName,
    /// The handshake did not finish before its deadline.
    #[error("handshake deadline exceeded")]
    Timeout,
    /// The connection closed during the handshake.
    #[error("connection closed during the handshake")]
    Closed,
    /// No random nonce could be drawn from the operating system.
    #[error("no randomness available: {0}")]
    Random(String),
    /// A frame error during the handshake.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// A configuration value is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The shared secret is shorter than [`Secret::MIN_LEN`](crate::Secret::MIN_LEN) bytes.
    #[error("the shared secret must be at least {0} bytes")]
    SecretTooShort(usize),
    /// A cluster name is empty, too long, reserved (`all`) or uses characters other than
    /// ASCII letters, digits, `-`, `_` and `.`.
    #[error("invalid cluster name {0:?}")]
    InvalidName(String),
    /// A duration or size is zero or inconsistent.
    #[error("invalid setting: {0}")]
    Invalid(&'static str),
}

/// Errors of the IPC server and client.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Binding or connecting failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// A frame error.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A handshake error.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The client's TLS handshake with the server failed: a server without TLS, or one whose
    /// certificate the client does not trust (or not for this server name).
    #[error(
        "TLS handshake failed: {0} (does the server use TLS, with a certificate the CA file vouches for and the server name?)"
    )]
    Tls(io::Error),
    /// The outbound queue is full; try again later.
    #[error("outbound queue full")]
    QueueFull,
    /// The client is not connected to the server right now.
    #[error("not connected")]
    NotConnected,
    /// The client or server has been shut down.
    #[error("shut down")]
    Closed,
    /// No answer arrived in time.
    #[error("request timed out")]
    Timeout,
    /// The answer to a request had an unexpected shape.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
}
