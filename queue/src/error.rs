//! The crate's error type.

use std::net::SocketAddr;
use std::time::Duration;

/// What can go wrong serving or asking the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The options cannot make a queue (e.g. `max_concurrency` 0, `remaining` > `total`).
    #[error("invalid queue configuration: {0}")]
    Config(String),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server stopped with an I/O error.
    #[error("queue server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// An HTTP request could not be made or its answer not read.
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// Discord (or the API base) answered `GET /gateway/bot` with an error status.
    #[error("GET {url} answered {status}: {body}")]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// `session_start_limit` is missing, malformed or out of range.
    #[error("invalid session_start_limit: {0}")]
    InvalidLimits(String),
    /// The queue answered a shard's request with a client error (4xx), e.g. a bad shard id.
    #[error("the queue at {url} rejected shard {shard}: {status} {body}")]
    Rejected {
        /// The URL asked.
        url: String,
        /// The shard.
        shard: u32,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The shard was not released within the client's overall timeout.
    #[error("the queue at {url} did not release shard {shard} within {timeout:?}")]
    Timeout {
        /// The URL asked.
        url: String,
        /// The shard.
        shard: u32,
        /// The timeout.
        timeout: Duration,
    },
}

/// At most this many characters of an error body go into an error.
const BODY_EXCERPT: usize = 200;

/// The first [`BODY_EXCERPT`] characters of `body`.
pub(crate) fn excerpt(body: &str) -> String {
    body.chars().take(BODY_EXCERPT).collect()
}
