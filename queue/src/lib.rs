//! # zoryx-queue
//!
//! IDENTIFY coordination for bots whose shards run in several processes, over the HTTP
//! protocol of twilight's [gateway-queue](https://github.com/twilight-rs/gateway-queue) service.
//! The queue itself is [`twilight_gateway_queue::InMemoryQueue`]; this crate puts it behind
//! HTTP ([`serve`], [`run`]) and gives processes a client ([`QueueClient`]).
//!
//! ## Protocol
//! - `GET {queue}/?shard=N` (any method, any path but [`HEALTH_PATH`], headers and body
//!   ignored). The request is held open until shard `N` may IDENTIFY, then answered `200` with
//!   the body [`PROCESSED`], byte for byte `{"message": "You're free to connect now! :)"}`
//!   (plus `content-type: application/json`, which the original did not send).
//! - `shard` must be a `u32`; a missing or invalid one is answered `400` with a JSON
//!   `{"message": ...}` that says why. The original service silently used shard 0 then (and
//!   outside its "big queue" mode ignored `shard` altogether), which buckets wrongly.
//! - [`HEALTH_PATH`] (`/health`) answers `200` `{"status": "ok"}` at once.
//! - While the server shuts down, requests still waiting are answered `503`; the client retries.
//!
//! ## Scheduling (twilight's `InMemoryQueue`, 0.16)
//! - Shard `N` is in bucket `N % max_concurrency`; each bucket is FIFO.
//! - One timer for all buckets: when it fires, each bucket releases its first waiter (so up to
//!   `max_concurrency` shards at once), and the timer restarts for
//!   [`IDENTIFY_DELAY`] (5 s). The timer is idle while
//!   nothing waits, so the first request after a quiet time is released at once, and shards
//!   asking just after it wait the full 5 s even in another bucket.
//! - Every release takes one of the day's `remaining` session starts; at zero, the queue
//!   holds everything until `reset_after` elapses, then refills to `total`.
//! - A request whose client disconnects before its turn is dropped by the HTTP server, which
//!   drops its `oneshot::Receiver`; twilight's runner then skips it (`tx.send` fails): no
//!   session start is counted and the next waiter of the same bucket goes in that same tick.
//!   A client that disconnects in the instant between its release and the answer still
//!   counts: the server cannot know whether the shard identified.
//! - `max_concurrency` 0 would turn twilight's queue off (and can panic in its re-bucketing),
//!   so this crate rejects it.

#![warn(missing_docs)]

mod client;
mod error;
mod limits;
mod run;
mod server;

pub use client::QueueClient;
pub use error::QueueError;
pub use limits::{SessionStartLimit, fetch_session_start_limit};
pub use run::{DEFAULT_API_BASE, QueueArgs, QueueOptions, run, run_on};
pub use server::{HEALTH_PATH, PROCESSED, router, serve, serve_with_shutdown};
pub use twilight_gateway_queue::{IDENTIFY_DELAY, InMemoryQueue, LIMIT_PERIOD, Queue};
