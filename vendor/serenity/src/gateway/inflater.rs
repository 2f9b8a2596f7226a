//! Zoryx patch: the gateway's transport compression (`compress=zlib-stream`).
//!
//! With `compress=zlib-stream` on the gateway URL, every message of a connection, HELLO
//! included, is deflated on one zlib stream that lives as long as the connection. Each message
//! is flushed with Z_SYNC_FLUSH, so it ends with the bytes `00 00 ff ff`; a long message may
//! arrive as several binary frames, only the last ending with them. An [`Inflater`] belongs to
//! one connection ([`super::WsClient`]): a new connection, a RESUME's too, starts a new one.
//!
//! This replaces serenity 0.12's payload compression (IDENTIFY `compress: true`, each binary
//! frame inflated on its own), which Discord supports but gateway proxies such as
//! Gelbpunkt/gateway-proxy read as a request for one shared stream: there, every frame after
//! the first failed to inflate. A shared stream is what both Discord and such proxies send when
//! the URL asks for it.

use std::io;

use flate2::{Decompress, FlushDecompress, Status};

/// The end of every message of the stream (Z_SYNC_FLUSH's empty stored block).
const SUFFIX: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What the output buffer starts with, and grows by at least.
const INITIAL_CAPACITY: usize = 32 * 1024;

/// A buffer grown past this by one large message (a READY, a big GUILD_CREATE) is given back
/// once that message is read, so a shard does not keep its largest message's size for good.
const KEEP_CAPACITY: usize = 1024 * 1024;

/// Inflates the messages of one connection's zlib stream.
pub(crate) struct Inflater {
    /// The stream's state: its window is what later messages refer back to.
    decompress: Decompress,
    /// The frames of a message whose last frame has not arrived yet.
    partial: Vec<u8>,
    /// The last message inflated.
    output: Vec<u8>,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("total_in", &self.decompress.total_in())
            .field("total_out", &self.decompress.total_out())
            .field("partial", &self.partial.len())
            .finish()
    }
}

impl Inflater {
    /// The inflater of a new connection.
    pub(crate) fn new() -> Self {
        Self {
            decompress: Decompress::new(true),
            partial: Vec::new(),
            output: Vec::with_capacity(INITIAL_CAPACITY),
        }
    }

    /// Takes one binary frame of the stream. Returns the message it completes (JSON bytes), or
    /// `None` while the message's last frame is still to come.
    ///
    /// # Errors
    /// The bytes are not the continuation of this stream (corrupt, or not a zlib stream): the
    /// connection cannot be read any further.
    pub(crate) fn inflate(&mut self, frame: &[u8]) -> io::Result<Option<&[u8]>> {
        let Self {
            decompress,
            partial,
            output,
        } = self;
        // A message in one frame, the usual case, is inflated without being copied.
        let input: &[u8] = if partial.is_empty() && frame.ends_with(&SUFFIX) {
            frame
        } else {
            partial.extend_from_slice(frame);
            if !partial.ends_with(&SUFFIX) {
                return Ok(None);
            }
            partial
        };
        if output.capacity() > KEEP_CAPACITY {
            *output = Vec::with_capacity(INITIAL_CAPACITY);
        }
        output.clear();
        let mut consumed = 0;
        loop {
            if output.capacity() - output.len() < INITIAL_CAPACITY / 4 {
                output.reserve(output.capacity().max(INITIAL_CAPACITY));
            }
            let (before_in, before_out) = (decompress.total_in(), decompress.total_out());
            let status = decompress
                .decompress_vec(&input[consumed..], output, FlushDecompress::Sync)
                .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))?;
            let read = usize::try_from(decompress.total_in() - before_in).unwrap_or(usize::MAX);
            consumed = consumed.saturating_add(read).min(input.len());
            let wrote = decompress.total_out() - before_out;
            if status == Status::StreamEnd {
                // The sender finished its stream: what follows, if anything, starts a new one.
                decompress.reset(true);
            }
            // Done once every byte went in and the inflater did not run out of room (it would
            // still hold output otherwise).
            if consumed == input.len() && output.len() < output.capacity() {
                break;
            }
            if read == 0 && wrote == 0 && output.len() < output.capacity() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the zlib stream stalled: truncated or corrupt message",
                ));
            }
        }
        if partial.capacity() > KEEP_CAPACITY {
            *partial = Vec::new();
        } else {
            partial.clear();
        }
        Ok(Some(output))
    }
}
