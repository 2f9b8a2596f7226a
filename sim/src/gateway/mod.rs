//! The gateway: a WebSocket endpoint speaking Discord's gateway protocol v10 (JSON text frames,
//! no compression), with sessions that survive disconnects so a RESUME replays what was missed.
//!
//! - [`hub`] owns the sessions, sequence numbers, replay buffers and fan-out of dispatches to
//!   shards by guild and by intents.
//! - [`connection`] runs one WebSocket: HELLO, IDENTIFY/RESUME, heartbeats, close codes.
//! - [`opcodes`] names the opcodes, intents and close codes.

pub mod connection;
pub mod hub;
pub mod opcodes;

pub use hub::{Dispatch, Hub, Target};
