//! The simulator's error type.

/// What can go wrong when starting or scripting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The server could not bind its address.
    #[error("cannot bind the simulator to {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A scripted action named an entity the world does not hold.
    #[error("unknown {kind} {id}")]
    Unknown {
        /// Entity kind ("guild", "channel", "user", "message", ...).
        kind: &'static str,
        /// The id asked for.
        id: u64,
    },
    /// A scripted action is not valid in the current world state.
    #[error("invalid action: {0}")]
    Invalid(String),
    /// Waiting for something timed out.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
}
