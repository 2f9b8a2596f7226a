//! Gateway compression, both of Discord's kinds, and gateway-proxy's reading of the older one.
//!
//! - **Transport compression** (`?compress=zlib-stream` on the gateway URL): every message the
//!   gateway sends, HELLO included, goes through one zlib stream that lives as long as the
//!   connection. Each message is flushed with Z_SYNC_FLUSH, so its bytes end with
//!   [`ZLIB_SUFFIX`]; a long one is cut into several binary frames ([`STREAM_FRAME_MAX`]), and a
//!   client inflates once it has a frame ending with the suffix. A new connection (a RESUME
//!   too) starts a new stream. Payload compression is then off, whatever IDENTIFY asks.
//! - **Payload compression** (`"compress": true` in IDENTIFY): Discord may send a payload as a
//!   binary frame holding a complete zlib stream of its own; there is no context shared
//!   between messages. Discord does this for its large payloads: the simulator compresses every
//!   payload of [`PAYLOAD_COMPRESSION_MIN`] bytes or more and sends smaller ones as text, so a
//!   client has to take both.
//! - **gateway-proxy** ([`IdentifyCompress::SharedStream`]): Gelbpunkt/gateway-proxy takes
//!   IDENTIFY's `compress: true` as a request for a shared zlib stream, as if the URL had asked
//!   for it, from the message after IDENTIFY on. A client that inflates each binary frame on
//!   its own (serenity 0.12 as released) reads the first and fails on every later one.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::{Compress, Compression, FlushCompress};
use serde::Serialize;

/// What ends every message of a zlib stream: the empty stored block of Z_SYNC_FLUSH.
pub const ZLIB_SUFFIX: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Under payload compression, payloads of at least this many bytes go out compressed.
pub const PAYLOAD_COMPRESSION_MIN: usize = 1024;

/// Under a zlib stream, a message whose compressed bytes pass this many goes out as several
/// binary frames, only the last ending with [`ZLIB_SUFFIX`].
pub const STREAM_FRAME_MAX: usize = 16 * 1024;

/// What IDENTIFY's `"compress": true` turns on ([`crate::SimConfig::identify_compress`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum IdentifyCompress {
    /// As Discord: payload compression, each large payload a complete zlib stream of its own.
    #[default]
    PerPayload,
    /// As Gelbpunkt/gateway-proxy: one zlib stream shared by every later message of the
    /// connection, each ending with Z_SYNC_FLUSH.
    SharedStream,
}

/// How a gateway connection's messages are compressed (reported with
/// [`crate::SimEvent::Identified`] and [`crate::SimEvent::Resumed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum GatewayCompression {
    /// Plain JSON text frames.
    #[default]
    None,
    /// Payload compression (IDENTIFY `compress: true`): large payloads each as a complete
    /// zlib stream in a binary frame, the others as text.
    PerPayload,
    /// Transport compression (`?compress=zlib-stream`): one zlib stream from HELLO on.
    ZlibStream,
    /// gateway-proxy's reading of IDENTIFY `compress: true`: one zlib stream from the message
    /// after IDENTIFY on (HELLO was text).
    SharedStream,
}

impl GatewayCompression {
    /// The mode a connection asking for `compress` (IDENTIFY's flag) in `current` mode gets.
    pub(crate) fn after_identify(self, compress: bool, flavour: IdentifyCompress) -> Self {
        match (self, compress, flavour) {
            // Transport compression turns payload compression off.
            (Self::ZlibStream | Self::SharedStream, _, _) => self,
            (_, false, _) => Self::None,
            (_, true, IdentifyCompress::PerPayload) => Self::PerPayload,
            (_, true, IdentifyCompress::SharedStream) => Self::SharedStream,
        }
    }
}

/// Whether a gateway URL's query (`v=10&compress=zlib-stream`) asks for transport compression.
pub(crate) fn wants_zlib_stream(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split_once('=') == Some(("compress", "zlib-stream")))
    })
}

/// One WebSocket frame to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireFrame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// A connection's compressor.
pub(crate) enum Encoder {
    Plain,
    PerPayload,
    /// The stream's deflate state (boxed: it holds the window).
    Stream(Box<Compress>),
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain => "Plain",
            Self::PerPayload => "PerPayload",
            Self::Stream(_) => "Stream",
        })
    }
}

impl Encoder {
    /// A fresh encoder for `mode` (a new stream for the stream modes).
    pub(crate) fn new(mode: GatewayCompression) -> Self {
        match mode {
            GatewayCompression::None => Self::Plain,
            GatewayCompression::PerPayload => Self::PerPayload,
            GatewayCompression::ZlibStream | GatewayCompression::SharedStream => {
                Self::Stream(Box::new(Compress::new(Compression::fast(), true)))
            }
        }
    }

    /// The frames that carry `text`, appended to `out`.
    pub(crate) fn encode(
        &mut self,
        text: String,
        out: &mut Vec<WireFrame>,
    ) -> Result<(), std::io::Error> {
        match self {
            Self::Plain => out.push(WireFrame::Text(text)),
            Self::PerPayload if text.len() < PAYLOAD_COMPRESSION_MIN => {
                out.push(WireFrame::Text(text));
            }
            Self::PerPayload => {
                let mut encoder =
                    ZlibEncoder::new(Vec::with_capacity(text.len() / 4 + 64), Compression::fast());
                encoder.write_all(text.as_bytes())?;
                out.push(WireFrame::Binary(encoder.finish()?));
            }
            Self::Stream(deflate) => {
                let bytes = sync_flushed(deflate, text.as_bytes())?;
                split_frames(bytes, out);
            }
        }
        Ok(())
    }
}

/// Deflates `input` on the stream and flushes it with Z_SYNC_FLUSH: the bytes end with
/// [`ZLIB_SUFFIX`] and inflate, after everything the stream carried before, to `input`.
fn sync_flushed(deflate: &mut Compress, input: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::with_capacity(input.len() / 3 + 64);
    let start = deflate.total_in();
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let consumed = usize::try_from(deflate.total_in() - start).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or_default();
        deflate
            .compress_vec(rest, &mut out, FlushCompress::Sync)
            .map_err(std::io::Error::other)?;
        let consumed = usize::try_from(deflate.total_in() - start).unwrap_or(usize::MAX);
        // Done when every byte went in and the flush did not run out of room.
        if consumed >= input.len() && out.len() < out.capacity() && out.ends_with(&ZLIB_SUFFIX) {
            return Ok(out);
        }
    }
}

/// Cuts a stream message into frames of at most [`STREAM_FRAME_MAX`] bytes; only the last one
/// ends with [`ZLIB_SUFFIX`] (a cut that would leave the suffix at the end of an earlier frame
/// moves by a byte).
fn split_frames(bytes: Vec<u8>, out: &mut Vec<WireFrame>) {
    if bytes.len() <= STREAM_FRAME_MAX {
        out.push(WireFrame::Binary(bytes));
        return;
    }
    let mut start = 0;
    while bytes.len() - start > STREAM_FRAME_MAX {
        let mut end = start + STREAM_FRAME_MAX;
        if bytes[start..end].ends_with(&ZLIB_SUFFIX) {
            end -= 1;
        }
        out.push(WireFrame::Binary(bytes[start..end].to_vec()));
        start = end;
    }
    out.push(WireFrame::Binary(bytes[start..].to_vec()));
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::ZlibDecoder;
    use flate2::{Decompress, FlushDecompress};

    use super::*;

    fn binary(frame: &WireFrame) -> &[u8] {
        match frame {
            WireFrame::Binary(bytes) => bytes,
            WireFrame::Text(text) => panic!("a text frame: {text}"),
        }
    }

    /// Inflates `bytes` on `inflate` (a stream's state), as a client keeping one context does.
    fn inflate_on(inflate: &mut Decompress, bytes: &[u8]) -> String {
        let mut out = Vec::with_capacity(bytes.len() * 8 + 1024);
        let start = inflate.total_in();
        while usize::try_from(inflate.total_in() - start).expect("fits") < bytes.len() {
            let done = usize::try_from(inflate.total_in() - start).expect("fits");
            out.reserve(4096);
            inflate
                .decompress_vec(&bytes[done..], &mut out, FlushDecompress::Sync)
                .expect("inflates");
        }
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_identify_flag_picks_the_mode_and_transport_compression_wins() {
        use GatewayCompression as G;
        use IdentifyCompress as I;
        assert_eq!(G::None.after_identify(false, I::PerPayload), G::None);
        assert_eq!(G::None.after_identify(true, I::PerPayload), G::PerPayload);
        assert_eq!(
            G::None.after_identify(true, I::SharedStream),
            G::SharedStream
        );
        assert_eq!(
            G::ZlibStream.after_identify(true, I::PerPayload),
            G::ZlibStream
        );
        assert_eq!(
            G::ZlibStream.after_identify(false, I::SharedStream),
            G::ZlibStream
        );
        assert!(wants_zlib_stream(Some("v=10&compress=zlib-stream")));
        assert!(wants_zlib_stream(Some("compress=zlib-stream")));
        assert!(!wants_zlib_stream(Some("v=10")));
        assert!(!wants_zlib_stream(Some("compress=zstd-stream")));
        assert!(!wants_zlib_stream(None));
    }

    #[test]
    fn payload_compression_sends_large_payloads_as_whole_zlib_streams_and_small_ones_as_text() {
        let mut encoder = Encoder::new(GatewayCompression::PerPayload);
        let mut out = Vec::new();
        encoder
            .encode(r#"{"op":11}"#.to_owned(), &mut out)
            .expect("encodes");
        let large = format!(
            r#"{{"op":0,"d":"{}"}}"#,
            "x".repeat(PAYLOAD_COMPRESSION_MIN)
        );
        encoder.encode(large.clone(), &mut out).expect("encodes");
        encoder.encode(large.clone(), &mut out).expect("encodes");
        assert_eq!(out[0], WireFrame::Text(r#"{"op":11}"#.to_owned()));
        // Each binary frame inflates on its own, the second as well as the first.
        for frame in &out[1..] {
            let mut text = String::new();
            ZlibDecoder::new(binary(frame))
                .read_to_string(&mut text)
                .expect("a complete zlib stream");
            assert_eq!(text, large);
        }
    }

    #[test]
    fn a_stream_shares_one_context_and_ends_each_message_with_the_sync_suffix() {
        let mut encoder = Encoder::new(GatewayCompression::ZlibStream);
        let mut inflate = Decompress::new(true);
        let mut out = Vec::new();
        for i in 0..3 {
            out.clear();
            let text = format!(r#"{{"op":0,"s":{i},"d":"hello hello hello"}}"#);
            encoder.encode(text.clone(), &mut out).expect("encodes");
            assert_eq!(out.len(), 1);
            let bytes = binary(&out[0]);
            assert!(bytes.ends_with(&ZLIB_SUFFIX));
            // Only the first message carries the zlib header.
            assert_eq!(bytes[0] == 0x78, i == 0, "zlib header on message {i}");
            assert_eq!(inflate_on(&mut inflate, bytes), text);
        }
        // The second message does not inflate on its own: it needs the stream before it.
        let mut alone = String::new();
        out.clear();
        encoder
            .encode("{\"op\":11}".to_owned(), &mut out)
            .expect("encodes");
        assert!(
            ZlibDecoder::new(binary(&out[0]))
                .read_to_string(&mut alone)
                .is_err()
        );
    }

    #[test]
    fn a_long_stream_message_is_cut_into_frames_only_the_last_ending_with_the_suffix() {
        let mut encoder = Encoder::new(GatewayCompression::ZlibStream);
        // Incompressible enough to pass several frames.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let noise: String = (0..STREAM_FRAME_MAX * 3)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect();
        let text = format!(r#"{{"op":0,"d":"{noise}"}}"#);
        let mut out = Vec::new();
        encoder.encode(text.clone(), &mut out).expect("encodes");
        assert!(out.len() > 1, "{} frames", out.len());
        let mut joined = Vec::new();
        for (i, frame) in out.iter().enumerate() {
            let bytes = binary(frame);
            assert!(bytes.len() <= STREAM_FRAME_MAX);
            assert_eq!(bytes.ends_with(&ZLIB_SUFFIX), i == out.len() - 1);
            joined.extend_from_slice(bytes);
        }
        assert_eq!(inflate_on(&mut Decompress::new(true), &joined), text);
    }
}
