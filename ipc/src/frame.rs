//! Length-prefixed JSON frames.
//!
//! Wire layout of one frame:
//!
//! ```text
//! +----------------------+---------------------------------------------+
//! | length: u32, BE (4B) | payload: `length` bytes of UTF-8 JSON        |
//! +----------------------+---------------------------------------------+
//! payload = {"op": str, "data": object, "source": str, "target": str, "timestamp": float}
//! ```
//!
//! `op` and `data` are required; `source` defaults to `""`, `target` to `"all"` and
//! `timestamp` to `0`. Unknown fields (such as the seed's `nonce`) are ignored. The length is
//! checked against the maximum before any buffer is allocated, and the payload buffer grows
//! only as bytes actually arrive.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::FrameError;

/// Default maximum payload size of a frame: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;

/// Maximum payload size of handshake frames (before a peer is authenticated).
pub const HANDSHAKE_MAX_FRAME: usize = 4 * 1024;

/// The `target` that addresses every other cluster.
pub const TARGET_ALL: &str = "all";

/// Maximum length of an `op`, in bytes.
pub const MAX_OP_LEN: usize = 64;

/// Size of the length prefix.
pub const HEADER_LEN: usize = 4;

fn default_target() -> String {
    TARGET_ALL.to_owned()
}

/// One IPC message (the JSON payload of a frame).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Operation name, e.g. `stats_broadcast`.
    pub op: String,
    /// Operation data; always a JSON object.
    pub data: Map<String, Value>,
    /// Sending cluster. The server overwrites it with the authenticated name.
    #[serde(default)]
    pub source: String,
    /// `"all"` or one cluster's name.
    #[serde(default = "default_target")]
    pub target: String,
    /// Seconds since the Unix epoch when the message was created.
    #[serde(default)]
    pub timestamp: f64,
}

/// Seconds since the Unix epoch, as a float (0 if the clock is before 1970).
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Message {
    /// A message to every cluster (`target: "all"`), stamped with the current time.
    pub fn new(op: impl Into<String>, data: Map<String, Value>) -> Self {
        Self {
            op: op.into(),
            data,
            source: String::new(),
            target: default_target(),
            timestamp: now_secs(),
        }
    }

    /// The same message addressed to `target`.
    #[must_use]
    pub fn to(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// The same message with `source` set.
    #[must_use]
    pub fn from_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Whether the message is addressed to every cluster.
    pub fn is_broadcast(&self) -> bool {
        self.target == TARGET_ALL
    }

    /// A string field of `data`.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    /// Checks the fields serde cannot: `op` is 1..=[`MAX_OP_LEN`] bytes.
    pub fn validate(&self) -> Result<(), FrameError> {
        if self.op.is_empty() {
            return Err(FrameError::Invalid("empty op"));
        }
        if self.op.len() > MAX_OP_LEN {
            return Err(FrameError::Invalid("op too long"));
        }
        if !self.timestamp.is_finite() {
            return Err(FrameError::Invalid("timestamp not finite"));
        }
        Ok(())
    }
}

/// Parses a frame payload (without its length prefix).
pub fn decode_payload(payload: &[u8]) -> Result<Message, FrameError> {
    let message: Message = serde_json::from_slice(payload)?;
    message.validate()?;
    Ok(message)
}

/// Decodes the first frame in `buf`.
///
/// Returns `Ok(None)` when `buf` does not yet hold a whole frame, or the message and the
/// number of bytes it used. A length above `max` is an error as soon as the 4-byte header is
/// there. Never panics, whatever the input.
pub fn decode_frame(buf: &[u8], max: usize) -> Result<Option<(Message, usize)>, FrameError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let len_usize = usize::try_from(len).map_err(|_| FrameError::TooLarge {
        len: u64::from(len),
        max,
    })?;
    if len_usize > max {
        return Err(FrameError::TooLarge {
            len: u64::from(len),
            max,
        });
    }
    let end = HEADER_LEN + len_usize;
    let Some(payload) = buf.get(HEADER_LEN..end) else {
        return Ok(None);
    };
    Ok(Some((decode_payload(payload)?, end)))
}

/// Encodes a message as one frame (length prefix and JSON).
pub fn encode_frame(message: &Message, max: usize) -> Result<Vec<u8>, FrameError> {
    message.validate()?;
    let payload = serde_json::to_vec(message)?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&l| usize::try_from(l).is_ok_and(|l| l <= max))
        .ok_or(FrameError::TooLarge {
            len: payload.len() as u64,
            max,
        })?;
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// Reads one frame. `Ok(None)` is a clean end of stream between frames.
///
/// The length is checked against `max` before the payload is read; the payload buffer grows
/// with the bytes received, so a peer announcing a large frame and sending nothing costs
/// nothing. Not cancel-safe: a frame read half-way is lost if the future is dropped.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Message>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < HEADER_LEN {
        let n = reader.read(&mut header[filled..]).await?;
        if n == 0 {
            return if filled == 0 {
                Ok(None)
            } else {
                Err(FrameError::Truncated)
            };
        }
        filled += n;
    }
    let len = u64::from(u32::from_be_bytes(header));
    if usize::try_from(len).map_or(true, |l| l > max) {
        return Err(FrameError::TooLarge { len, max });
    }
    let mut payload = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(64 * 1024));
    reader.take(len).read_to_end(&mut payload).await?;
    if (payload.len() as u64) < len {
        return Err(FrameError::Truncated);
    }
    decode_payload(&payload).map(Some)
}

/// Encodes and writes one frame, then flushes.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &Message,
    max: usize,
) -> Result<(), FrameError> {
    let frame = encode_frame(message, max)?;
    writer.write_all(&frame).await?;
    writer.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn round_trip_and_seed_compatibility() {
        let mut m = Message::new("stats_broadcast", obj(json!({"guild_count": 3}))).to("c1");
        // serde_json's default float parser may be 1 ulp off; use an exact value.
        m.timestamp = 1_700_000_000.5;
        let frame = encode_frame(&m, DEFAULT_MAX_FRAME).expect("encode");
        let (back, used) = decode_frame(&frame, DEFAULT_MAX_FRAME)
            .expect("decode")
            .expect("whole");
        assert_eq!(used, frame.len());
        assert_eq!(back, m);
        // The seed's shape, with its extra `nonce` field.
        let seed = br#"{"op":"heartbeat","data":{"guild_count":1},"source":"cluster-1","target":"all","timestamp":1.5,"nonce":"abc"}"#;
        let mut f = (seed.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(seed);
        let (m, _) = decode_frame(&f, DEFAULT_MAX_FRAME)
            .expect("decode")
            .expect("whole");
        assert_eq!(m.op, "heartbeat");
        assert_eq!(m.source, "cluster-1");
    }

    #[test]
    fn huge_length_is_rejected_from_the_header_alone() {
        let f = [0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            decode_frame(&f, DEFAULT_MAX_FRAME),
            Err(FrameError::TooLarge { .. })
        ));
        let m = Message::new("x", obj(json!({"s": "a".repeat(100)})));
        assert!(matches!(
            encode_frame(&m, 50),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn wrong_shapes_are_errors() {
        for payload in [
            &b"[]"[..],
            b"{}",
            b"{\"op\":1,\"data\":{}}",
            b"{\"op\":\"x\",\"data\":[]}",
            b"{\"op\":\"\",\"data\":{}}",
            b"\xff\xfe",
            b"null",
        ] {
            assert!(decode_payload(payload).is_err(), "{payload:?}");
        }
    }

    #[tokio::test]
    async fn read_frame_handles_eof_and_truncation() {
        let mut empty: &[u8] = &[];
        assert!(matches!(read_frame(&mut empty, 16).await, Ok(None)));
        let mut half: &[u8] = &[0, 0];
        assert!(matches!(
            read_frame(&mut half, 16).await,
            Err(FrameError::Truncated)
        ));
        let mut short: &[u8] = &[0, 0, 0, 10, b'{'];
        assert!(matches!(
            read_frame(&mut short, 16).await,
            Err(FrameError::Truncated)
        ));
        let mut big: &[u8] = &[0, 0, 0, 17];
        assert!(matches!(
            read_frame(&mut big, 16).await,
            Err(FrameError::TooLarge { len: 17, max: 16 })
        ));
    }
}
