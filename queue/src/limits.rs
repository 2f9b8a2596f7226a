//! Discord's `session_start_limit`, from `GET /gateway/bot`.

use std::time::Duration;

use serde::Deserialize;

use crate::error::{QueueError, excerpt};

/// How long one `GET /gateway/bot` may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The queue's limits: what `GET /gateway/bot` reports as `session_start_limit`, checked.
///
/// Always `max_concurrency >= 1` and `remaining <= total`, which twilight's
/// [`InMemoryQueue`](twilight_gateway_queue::InMemoryQueue) needs (it panics otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionStartLimit {
    /// IDENTIFYs allowed per 5 s: the number of buckets (`shard % max_concurrency`).
    pub max_concurrency: u16,
    /// Session starts left until the reset.
    pub remaining: u32,
    /// Time until `remaining` goes back to `total`.
    pub reset_after: Duration,
    /// Session starts per day.
    pub total: u32,
}

impl SessionStartLimit {
    /// Checks the values: `max_concurrency` at least 1, `remaining` at most `total`.
    pub fn new(
        max_concurrency: u16,
        remaining: u32,
        reset_after: Duration,
        total: u32,
    ) -> Result<Self, QueueError> {
        if max_concurrency == 0 {
            return Err(QueueError::Config(
                "max_concurrency must be at least 1".to_owned(),
            ));
        }
        if remaining > total {
            return Err(QueueError::Config(format!(
                "remaining ({remaining}) must not exceed total ({total})"
            )));
        }
        Ok(Self {
            max_concurrency,
            remaining,
            reset_after,
            total,
        })
    }
}

/// `session_start_limit` as Discord sends it (integers of any size, checked afterwards).
#[derive(Debug, Deserialize)]
struct RawLimit {
    total: u64,
    remaining: u64,
    reset_after: u64,
    max_concurrency: u64,
}

/// The part of `GET /gateway/bot` that matters here.
#[derive(Debug, Deserialize)]
struct GatewayBot {
    session_start_limit: RawLimit,
}

/// Reads `session_start_limit` from `GET {api_base}/api/v10/gateway/bot`.
///
/// `api_base` is the origin, as the host's `discord.api_base`: `https://discord.com`, a REST
/// proxy or the simulator's `http://127.0.0.1:PORT`. `token` is the bot token, with or without
/// the `Bot ` prefix. `https://` needs reqwest's TLS feature, which the host build enables
/// (through serenity's `rustls_backend`); this crate alone speaks plain HTTP.
pub async fn fetch_session_start_limit(
    http: &reqwest::Client,
    api_base: &str,
    token: &str,
) -> Result<SessionStartLimit, QueueError> {
    let url = format!("{}/api/v10/gateway/bot", api_base.trim_end_matches('/'));
    let authorization = if token.starts_with("Bot ") {
        token.to_owned()
    } else {
        format!("Bot {token}")
    };
    let response = http
        .get(&url)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        return Err(QueueError::Status {
            url,
            status: status.as_u16(),
            body: excerpt(&body),
        });
    }
    let parsed: GatewayBot = serde_json::from_str(&body)
        .map_err(|error| QueueError::InvalidLimits(format!("{error} in {}", excerpt(&body))))?;
    let raw = parsed.session_start_limit;
    let max_concurrency = u16::try_from(raw.max_concurrency).map_err(|_| {
        QueueError::InvalidLimits(format!(
            "max_concurrency {} is too large",
            raw.max_concurrency
        ))
    })?;
    let total = u32::try_from(raw.total)
        .map_err(|_| QueueError::InvalidLimits(format!("total {} is too large", raw.total)))?;
    let remaining = u32::try_from(raw.remaining).map_err(|_| {
        QueueError::InvalidLimits(format!("remaining {} is too large", raw.remaining))
    })?;
    SessionStartLimit::new(
        max_concurrency,
        remaining,
        Duration::from_millis(raw.reset_after),
        total,
    )
    .map_err(|error| match error {
        QueueError::Config(message) => QueueError::InvalidLimits(message),
        other => other,
    })
}
