//! The gateway: a WebSocket endpoint speaking Discord's gateway protocol v10 (JSON, plain or
//! compressed as Discord compresses it), with sessions that survive disconnects so a RESUME
//! replays what was missed.
//!
//! - [`compression`] does transport compression (`?compress=zlib-stream`), payload
//!   compression (IDENTIFY `compress: true`) and gateway-proxy's shared stream.
//! - [`hub`] owns the sessions, sequence numbers, replay buffers and fan-out of dispatches to
//!   shards by guild and by intents.
//! - [`connection`] runs one WebSocket: HELLO, IDENTIFY/RESUME, heartbeats, close codes.
//! - [`opcodes`] names the opcodes, intents and close codes.

pub mod compression;
pub mod connection;
pub mod hub;
pub mod opcodes;

pub use compression::{GatewayCompression, IdentifyCompress};
pub use hub::{Dispatch, Hub, Target};
