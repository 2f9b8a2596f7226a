//! The byte streams the IPC runs over: plain TCP, or TLS around it ([`crate::tls`]).

use tokio::io::{AsyncRead, AsyncWrite};

/// A connection's byte stream.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connection, plain or TLS.
pub(crate) type Stream = Box<dyn Io>;
