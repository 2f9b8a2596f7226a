//! Simulator configuration.

use std::net::SocketAddr;
use std::time::Duration;

use crate::gateway::IdentifyCompress;

/// How a [`crate::Simulator`] is started.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address the HTTP/WebSocket server binds to (default `127.0.0.1:0`: any free port).
    pub bind: SocketAddr,
    /// The bot token the simulator accepts (`Authorization: Bot <token>`, IDENTIFY).
    pub token: String,
    /// World seed: varies the snowflake worker bits and the session ids, so two simulators
    /// never hand out the same ids.
    pub seed: u64,
    /// `heartbeat_interval` sent in HELLO (default 41 250 ms, like Discord).
    pub heartbeat_interval: Duration,
    /// The shard count `/gateway/bot` recommends (default 1).
    pub recommended_shards: u32,
    /// When `false`, an IDENTIFY that asks for a privileged intent (GUILD_MEMBERS,
    /// GUILD_PRESENCES, MESSAGE_CONTENT) is closed with 4014 "Disallowed intent(s)", as Discord
    /// does when the intent is not enabled in the developer portal. Default `true`.
    pub privileged_intents_enabled: bool,
    /// `session_start_limit.max_concurrency`: identify buckets (`shard_id % max_concurrency`),
    /// each allowed one IDENTIFY per [`SimConfig::identify_interval`]. Default 1.
    pub max_concurrency: u16,
    /// How long a bucket waits between IDENTIFYs (Discord: 5 s; a twentieth of it early is
    /// let through, the jitter of a queue's release). An IDENTIFY sooner is
    /// answered with op 9 Invalid Session and counted in
    /// [`crate::Simulator::identify_refusals`], as Discord does. Default 5 s; zero lets a
    /// bucket identify again at once.
    pub identify_interval: Duration,
    /// `session_start_limit.total`: IDENTIFYs allowed per day (Discord: 1000). Past it an
    /// IDENTIFY is refused with op 9 as well. Default 1000.
    pub session_start_limit: u32,
    /// What IDENTIFY's `"compress": true` turns on: [`IdentifyCompress::PerPayload`] as
    /// Discord does (default), or [`IdentifyCompress::SharedStream`] as Gelbpunkt/gateway-proxy
    /// does (one zlib stream over the rest of the connection), to test a client behind that
    /// proxy. `?compress=zlib-stream` on the gateway URL means one stream either way (see
    /// [`crate::gateway::compression`]).
    pub identify_compress: IdentifyCompress,
    /// `retry_after` answered by scripted rate limits (see [`crate::Simulator::rate_limit`]).
    pub rate_limit_retry_after: Duration,
    /// Capacity of the [`crate::SimEvent`] broadcast channel.
    pub event_capacity: usize,
    /// How many REST requests [`crate::Simulator::requests`] keeps; past it the oldest half
    /// is dropped (a long offline session must not grow without bound).
    pub request_log_capacity: usize,
    /// The application's OAuth2 client secret (`POST /oauth2/token`; the client id is the
    /// application id).
    pub oauth_client_secret: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: "sim.bot.token-zoryx-offline".to_owned(),
            seed: 1,
            heartbeat_interval: Duration::from_millis(41_250),
            recommended_shards: 1,
            privileged_intents_enabled: true,
            max_concurrency: 1,
            identify_interval: Duration::from_secs(5),
            session_start_limit: 1000,
            identify_compress: IdentifyCompress::PerPayload,
            rate_limit_retry_after: Duration::from_millis(50),
            event_capacity: 65_536,
            request_log_capacity: 200_000,
            oauth_client_secret: "sim-oauth-client-secret".to_owned(),
        }
    }
}
