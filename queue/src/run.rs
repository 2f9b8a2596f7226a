//! The `zoryx queue` entry point: options, Discord's limits, the server.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use twilight_gateway_queue::{InMemoryQueue, LIMIT_PERIOD};

use crate::error::QueueError;
use crate::limits::{SessionStartLimit, fetch_session_start_limit};
use crate::server::serve_with_shutdown;

/// Discord's API origin when no `api_base` is given.
pub const DEFAULT_API_BASE: &str = "https://discord.com";
/// Limits are read again at least this long apart.
const MIN_REFRESH: Duration = Duration::from_secs(60);
/// Limits are read this long after Discord's reset, to be past it.
const REFRESH_MARGIN: Duration = Duration::from_secs(1);
/// After a failed refresh, the next try comes this much later.
const REFRESH_RETRY: Duration = Duration::from_secs(60);

/// What [`run`] serves.
#[derive(Clone)]
pub struct QueueOptions {
    /// Where to listen. There is no authentication: keep it on loopback or a private network.
    pub bind: SocketAddr,
    /// IDENTIFYs per 5 s (buckets `shard % max_concurrency`), at least 1; used without a token.
    pub max_concurrency: u16,
    /// Session starts per day; used without a token.
    pub total: u32,
    /// Session starts left (default `total`); used without a token.
    pub remaining: Option<u32>,
    /// Time until `remaining` resets to `total`; used without a token.
    pub reset_after: Duration,
    /// Bot token: when set, the limits come from `GET /gateway/bot` `session_start_limit` at
    /// start and again after each reset, and the four values above are ignored.
    pub token: Option<String>,
    /// Discord's API origin (default [`DEFAULT_API_BASE`]), e.g. the simulator's.
    pub api_base: Option<String>,
}

impl fmt::Debug for QueueOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueOptions")
            .field("bind", &self.bind)
            .field("max_concurrency", &self.max_concurrency)
            .field("total", &self.total)
            .field("remaining", &self.remaining)
            .field("reset_after", &self.reset_after)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("api_base", &self.api_base)
            .finish()
    }
}

impl Default for QueueOptions {
    /// `127.0.0.1:8080`, `max_concurrency` 1, 1000 of 1000 session starts, reset in 24 h, no
    /// token.
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_concurrency: 1,
            total: 1000,
            remaining: None,
            reset_after: LIMIT_PERIOD,
            token: None,
            api_base: None,
        }
    }
}

impl QueueOptions {
    /// The limits given in the options (not Discord's).
    pub fn given_limits(&self) -> Result<SessionStartLimit, QueueError> {
        SessionStartLimit::new(
            self.max_concurrency,
            self.remaining.unwrap_or(self.total),
            self.reset_after,
            self.total,
        )
    }

    /// The token, if set and not blank.
    fn token(&self) -> Option<&str> {
        self.token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// The API origin.
    fn api_base(&self) -> &str {
        self.api_base
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .unwrap_or(DEFAULT_API_BASE)
    }
}

/// `zoryx queue` arguments, to embed in a clap CLI (`Queue(zoryx_queue::QueueArgs)`).
#[derive(Clone, clap::Args)]
pub struct QueueArgs {
    /// Where to listen (no authentication: loopback or a private network only).
    #[arg(long, default_value = "127.0.0.1:8080", env = "ZORYX_QUEUE_BIND")]
    pub bind: SocketAddr,
    /// IDENTIFYs allowed per 5 s (Discord's `max_concurrency`); ignored with a token.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrency: u16,
    /// Session starts per day; ignored with a token.
    #[arg(long, default_value_t = 1000)]
    pub total: u32,
    /// Session starts left (default: --total); ignored with a token.
    #[arg(long)]
    pub remaining: Option<u32>,
    /// Seconds until the session starts reset; ignored with a token.
    #[arg(long, default_value_t = LIMIT_PERIOD.as_secs())]
    pub reset_after_secs: u64,
    /// Bot token: read the limits from Discord's `GET /gateway/bot` instead.
    #[arg(long, env = "DISCORD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Discord's API origin, e.g. a simulator's `http://127.0.0.1:8080`.
    #[arg(long, env = "DISCORD_API_BASE")]
    pub api_base: Option<String>,
}

impl fmt::Debug for QueueArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&QueueOptions::from(self.clone()), f)
    }
}

impl From<QueueArgs> for QueueOptions {
    fn from(args: QueueArgs) -> Self {
        Self {
            bind: args.bind,
            max_concurrency: args.max_concurrency,
            total: args.total,
            remaining: args.remaining,
            reset_after: Duration::from_secs(args.reset_after_secs),
            token: args.token,
            api_base: args.api_base,
        }
    }
}

/// Binds `options.bind` and serves the queue until Ctrl-C (SIGINT).
pub async fn run(options: QueueOptions) -> Result<(), QueueError> {
    let listener = TcpListener::bind(options.bind)
        .await
        .map_err(|source| QueueError::Bind {
            addr: options.bind,
            source,
        })?;
    run_on(listener, options, async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C; the queue runs until killed");
            std::future::pending::<()>().await;
        }
    })
    .await
}

/// Serves the queue on `listener` (`options.bind` is not used) until `shutdown` completes.
///
/// With a token, reads the limits from `GET /gateway/bot` first (an error there is returned)
/// and again after each reset (errors there are logged and retried every minute, keeping the
/// current limits).
pub async fn run_on<F>(
    listener: TcpListener,
    options: QueueOptions,
    shutdown: F,
) -> Result<(), QueueError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let http = reqwest::Client::builder().build()?;
    let discord = options
        .token()
        .map(|token| (token.to_owned(), options.api_base().to_owned()));
    let limits = match &discord {
        Some((token, api_base)) => fetch_session_start_limit(&http, api_base, token).await?,
        None => options.given_limits()?,
    };
    tracing::info!(
        source = if discord.is_some() { "discord" } else { "options" },
        max_concurrency = limits.max_concurrency,
        remaining = limits.remaining,
        total = limits.total,
        reset_after = ?limits.reset_after,
        "gateway queue limits"
    );
    let queue = InMemoryQueue::new(
        limits.max_concurrency,
        limits.remaining,
        limits.reset_after,
        limits.total,
    );
    let refresher = discord.map(|(token, api_base)| {
        tokio::spawn(refresh(
            http,
            api_base,
            token,
            queue.clone(),
            limits.reset_after,
        ))
    });
    let served = serve_with_shutdown(listener, queue, shutdown).await;
    if let Some(task) = refresher {
        task.abort();
    }
    served
}

/// Reads the limits again after each reset and gives them to the queue.
async fn refresh(
    http: reqwest::Client,
    api_base: String,
    token: String,
    queue: InMemoryQueue,
    reset_after: Duration,
) {
    let mut wait = reset_after.max(MIN_REFRESH) + REFRESH_MARGIN;
    loop {
        tokio::time::sleep(wait).await;
        match fetch_session_start_limit(&http, &api_base, &token).await {
            Ok(limits) => {
                tracing::info!(
                    max_concurrency = limits.max_concurrency,
                    remaining = limits.remaining,
                    total = limits.total,
                    reset_after = ?limits.reset_after,
                    "gateway queue limits refreshed"
                );
                queue.update(
                    limits.max_concurrency,
                    limits.remaining,
                    limits.reset_after,
                    limits.total,
                );
                wait = limits.reset_after.max(MIN_REFRESH) + REFRESH_MARGIN;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot refresh the gateway queue limits; keeping the current ones");
                wait = REFRESH_RETRY;
            }
        }
    }
}
