//! Zoryx patch: let the application coordinate shard starts and carry sessions across restarts.
//!
//! Upstream serenity 0.12 waits a fixed five seconds between shard starts and always identifies a
//! new shard. A [`ShardStartHook`] replaces both: the application decides when a shard may
//! identify (for example by asking a gateway-queue service, which knows the bot's
//! `max_concurrency` and every process of a cluster), and may hand a shard a saved session to
//! RESUME instead of identifying. When a shard is shut down with a close code that keeps its
//! session alive (anything but 1000 and 1001), the hook receives the session to save.

use async_trait::async_trait;

use crate::model::gateway::ShardInfo;

/// A gateway session that can be resumed: its id and the last sequence number received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumableSession {
    /// The session id READY gave.
    pub session_id: String,
    /// The sequence number of the last dispatch received.
    pub sequence: u64,
}

/// Coordination of shard starts, installed with `ClientBuilder::shard_start_hook`.
#[async_trait]
pub trait ShardStartHook: std::fmt::Debug + Send + Sync + 'static {
    /// Called before a shard opens a connection that will IDENTIFY; the shard waits until this
    /// returns. With a hook installed, the fixed five-second wait between starts is not applied.
    async fn before_identify(&self, shard: ShardInfo);

    /// A saved session for `shard` to RESUME instead of identifying. Asked once per start; a
    /// session that Discord no longer accepts ends in a normal identify (through
    /// [`Self::before_identify`]).
    fn take_session(&self, shard: ShardInfo) -> Option<ResumableSession>;

    /// A shard was shut down on request with a close code that keeps its session resumable.
    fn session_closed(&self, shard: ShardInfo, session: ResumableSession);
}
