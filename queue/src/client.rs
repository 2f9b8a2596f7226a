//! The client a bot process calls before each shard's IDENTIFY.

use std::time::Duration;

use crate::error::{QueueError, excerpt};

/// The default overall timeout of [`QueueClient::wait`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The first pause after a failed attempt.
const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(250);
/// The longest pause between attempts.
const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Asks a gateway queue (this crate's server, twilight's gateway-queue, or anything speaking
/// its protocol) whether a shard may IDENTIFY.
///
/// Cloning is cheap (the HTTP connection pool is shared).
#[derive(Clone, Debug)]
pub struct QueueClient {
    /// The HTTP client; no per-request timeout, as the queue holds requests open.
    http: reqwest::Client,
    /// The queue's base URL, without a trailing `/`.
    base_url: String,
    /// The overall timeout of [`QueueClient::wait`].
    timeout: Option<Duration>,
    /// The first pause after a failed attempt.
    initial_backoff: Duration,
    /// The longest pause between attempts.
    max_backoff: Duration,
}

/// Why one attempt failed.
enum Attempt {
    /// Worth another try: a connection error, a 5xx.
    Retry(String),
    /// Not worth another try: a 4xx.
    Fatal(QueueError),
}

impl QueueClient {
    /// A client for the queue at `base_url` (e.g. `http://127.0.0.1:8080`; a path is kept,
    /// `?shard=N` goes after `base_url/`). Defaults: overall timeout 10 minutes, backoff
    /// 250 ms doubling up to 10 s.
    pub fn new(base_url: impl Into<String>) -> Result<Self, QueueError> {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(QueueError::Config(format!(
                "the queue URL must start with http:// or https://, got {base_url:?}"
            )));
        }
        Ok(Self {
            http: reqwest::Client::builder().build()?,
            base_url,
            timeout: Some(DEFAULT_TIMEOUT),
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
        })
    }

    /// Sets the overall timeout of [`QueueClient::wait`], retries included; `None` waits for
    /// ever (a bot with many shards behind `max_concurrency` 1 waits 5 s per shard before it,
    /// and an exhausted daily limit holds everything until its reset).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the pause after the first failed attempt (doubled after each further one) and the
    /// longest pause.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The queue's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL asked for `shard`: `{base_url}/?shard={shard}`.
    pub fn url_for(&self, shard: u32) -> String {
        format!("{}/?shard={shard}", self.base_url)
    }

    /// Waits until `shard` may IDENTIFY: `GET {base_url}/?shard={shard}` until a `200`.
    ///
    /// Connection errors, cut answers and `5xx` are retried with backoff (the request joins
    /// the queue again at its end); a `4xx` is returned as [`QueueError::Rejected`]; past the
    /// overall timeout, [`QueueError::Timeout`]. Dropping the future leaves the queue without
    /// taking a session start (see the [crate] docs).
    pub async fn wait(&self, shard: u32) -> Result<(), QueueError> {
        let url = self.url_for(shard);
        let attempts = self.attempts(&url, shard);
        match self.timeout {
            Some(timeout) => {
                tokio::time::timeout(timeout, attempts)
                    .await
                    .map_err(|_| QueueError::Timeout {
                        url: url.clone(),
                        shard,
                        timeout,
                    })?
            }
            None => attempts.await,
        }
    }

    /// Asks until released or rejected.
    async fn attempts(&self, url: &str, shard: u32) -> Result<(), QueueError> {
        let mut backoff = self.initial_backoff;
        loop {
            match self.attempt(url, shard).await {
                Ok(()) => {
                    tracing::debug!(shard, "queue released shard");
                    return Ok(());
                }
                Err(Attempt::Fatal(error)) => return Err(error),
                Err(Attempt::Retry(reason)) => {
                    tracing::warn!(shard, %url, %reason, retry_in = ?backoff, "queue request failed");
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2).min(self.max_backoff);
                }
            }
        }
    }

    /// One request.
    async fn attempt(&self, url: &str, shard: u32) -> Result<(), Attempt> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|error| Attempt::Retry(error.to_string()))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|error| Attempt::Retry(error.to_string()))?;
        if status.is_success() {
            Ok(())
        } else if status.is_client_error()
            && status != reqwest::StatusCode::REQUEST_TIMEOUT
            && status != reqwest::StatusCode::TOO_MANY_REQUESTS
        {
            Err(Attempt::Fatal(QueueError::Rejected {
                url: url.to_owned(),
                shard,
                status: status.as_u16(),
                body: excerpt(&body),
            }))
        } else {
            Err(Attempt::Retry(format!("{status}: {}", excerpt(&body))))
        }
    }
}
