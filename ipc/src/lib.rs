//! Authenticated IPC between Zoryx clusters.
//!
//! A hardened replacement for the original framework's shard-manager IPC: one [`Server`]
//! (the primary cluster) and any number of [`Client`]s (secondary clusters) exchange
//! length-prefixed JSON [`Message`]s over TCP.
//!
//! * Frames are a 4-byte big-endian length followed by that many bytes of UTF-8 JSON; the
//!   length is checked against a maximum before anything is allocated ([`frame`]).
//! * Connections are authenticated by a mutual HMAC-SHA256 challenge-response over a shared
//!   secret that never crosses the wire ([`handshake`]); the handshake has a deadline and the
//!   number of connections still in it is limited.
//! * Clients send heartbeats and stats on intervals and reconnect with capped, jittered
//!   exponential backoff; the server drops clusters whose heartbeats stop.
//! * Optionally, TLS (rustls) around every connection ([`tls`]): the server presents a
//!   certificate, clients trust a CA (or that certificate) and check the server's name; the
//!   HMAC handshake runs inside the encrypted channel all the same.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod crypto;
mod error;
pub mod frame;
pub mod handshake;
mod io;
mod server;
mod stats;
pub mod tls;

pub use client::{Backoff, Client, ClientConfig, ClientEvent};
pub use crypto::{Secret, hmac_sha256};
pub use error::{ConfigError, FrameError, HandshakeError, IpcError};
pub use frame::{DEFAULT_MAX_FRAME, Message, TARGET_ALL};
pub use server::{LeaveReason, Server, ServerConfig, ServerEvent};
pub use stats::{ClusterInfo, ClusterOverview, ClusterStats, Totals};
pub use tls::{ClientTls, ServerTls, TlsError};

/// Operation names used by the protocol itself.
pub mod ops {
    /// Server → client, first frame: the server's nonce.
    pub const CHALLENGE: &str = "challenge";
    /// Client → server: cluster name, client nonce and proof.
    pub const AUTH: &str = "auth";
    /// Server → client: the server's proof; the connection is now authenticated.
    pub const AUTH_OK: &str = "auth_ok";
    /// Server → client: authentication refused; the server closes the connection.
    pub const AUTH_FAILED: &str = "auth_failed";
    /// Client → server, every heartbeat interval.
    pub const HEARTBEAT: &str = "heartbeat";
    /// Server → client, the answer to each heartbeat.
    pub const HEARTBEAT_ACK: &str = "heartbeat_ack";
    /// Client → server (and routed on to `target`): the cluster's [`ClusterStats`](crate::ClusterStats).
    pub const STATS_BROADCAST: &str = "stats_broadcast";
    /// Client → server: ask for every cluster's stats; the server answers with the same op.
    pub const CLUSTERS: &str = "clusters";
    /// Server → clients: a cluster joined.
    pub const CLUSTER_JOIN: &str = "cluster_join";
    /// Server → clients: a cluster left.
    pub const CLUSTER_LEAVE: &str = "cluster_leave";

    /// Ops only the server may send; a client sending one is not routed.
    pub(crate) const SERVER_ONLY: &[&str] = &[
        CHALLENGE,
        AUTH,
        AUTH_OK,
        AUTH_FAILED,
        HEARTBEAT_ACK,
        CLUSTER_JOIN,
        CLUSTER_LEAVE,
    ];
}
