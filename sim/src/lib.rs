//! # zoryx-sim
//!
//! A Discord simulator on loopback: a gateway WebSocket and the REST API v10.
