//! The host's REST client for Discord API v10, with its own rate-limit handling.
//!
//! When an API base is configured (a simulator or a proxy), serenity's rate limiter must be off
//! (with it on, serenity ignores the proxy), so the host honours Discord's limits itself: an HTTP
//! 429 is answered by waiting `retry_after` (from the JSON body, else the `Retry-After` header)
//! and retrying, a bounded number of times. A rate-limiting proxy in front of Discord may also do
//! this; then the host simply never sees a 429.

use std::time::Duration;

use serde_json::Value;

/// How many times one request is retried after a 429.
const MAX_RETRIES: u32 = 5;
/// The longest single wait the host accepts before giving up on a request.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A REST call failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The request could not be sent or the answer read.
    #[error("{method} {path}: {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Route.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Discord answered with an error status.
    #[error("{method} {path}: HTTP {status}: {body}")]
    Status {
        /// HTTP method.
        method: String,
        /// Route.
        path: String,
        /// The status.
        status: u16,
        /// The body Discord sent.
        body: String,
    },
    /// Still rate limited after every retry.
    #[error("{method} {path}: still rate limited after {MAX_RETRIES} retries")]
    RateLimited {
        /// HTTP method.
        method: String,
        /// Route.
        path: String,
    },
}

impl RestError {
    /// The HTTP status, if Discord answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A small Discord REST client (`Authorization: Bot <token>`, JSON in and out).
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    base: String,
    auth: String,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest").field("base", &self.base).finish()
    }
}

/// The wait a 429 asks for: `retry_after` in the body (seconds, fractional), else the
/// `Retry-After` header, else one second.
fn retry_after(headers: &reqwest::header::HeaderMap, body: &str) -> Duration {
    let from_body = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("retry_after").and_then(Value::as_f64));
    let from_header = || {
        headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    from_body
        .or_else(from_header)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::from_secs(1), Duration::from_secs_f64)
}

impl Rest {
    /// A client for `base` (`None` = `https://discord.com`) with `token`.
    pub fn new(base: Option<&str>, token: &str) -> Self {
        let base = base
            .unwrap_or("https://discord.com")
            .trim_end_matches('/')
            .to_owned();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            client,
            base,
            auth: format!("Bot {token}"),
        }
    }

    /// The API root, e.g. `http://127.0.0.1:4000/api/v10`.
    pub fn api(&self) -> String {
        format!("{}/api/v10", self.base)
    }

    /// Sends one request; `path` starts with `/` and is relative to `/api/v10`. Retries on 429.
    /// Returns the JSON answer (`Null` for 204).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, RestError> {
        let url = format!("{}{path}", self.api());
        let transport = |message: String| RestError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            message,
        };
        for attempt in 0..=MAX_RETRIES {
            let mut request = self
                .client
                .request(method.clone(), &url)
                .header(reqwest::header::AUTHORIZATION, &self.auth)
                .header(
                    reqwest::header::USER_AGENT,
                    "DiscordBot (https://github.com/zoryx, 0.1)",
                );
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| transport(e.to_string()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response
                .text()
                .await
                .map_err(|e| transport(e.to_string()))?;
            if status.as_u16() == 429 {
                let wait = retry_after(&headers, &text);
                if attempt == MAX_RETRIES || wait > MAX_WAIT {
                    break;
                }
                tracing::warn!(%method, path, wait_ms = wait.as_millis() as u64, attempt, "rate limited by Discord; waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            if !status.is_success() {
                return Err(RestError::Status {
                    method: method.to_string(),
                    path: path.to_owned(),
                    status: status.as_u16(),
                    body: text,
                });
            }
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| transport(format!("bad JSON: {e}")));
        }
        Err(RestError::RateLimited {
            method: method.to_string(),
            path: path.to_owned(),
        })
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Value, RestError> {
        self.request(reqwest::Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, RestError> {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, RestError> {
        self.request(reqwest::Method::PUT, path, Some(body)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_prefers_the_body() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(
            retry_after(&headers, r#"{"retry_after": 0.25, "global": false}"#),
            Duration::from_millis(250)
        );
        assert_eq!(retry_after(&headers, "not json"), Duration::from_secs(3));
        assert_eq!(
            retry_after(&reqwest::header::HeaderMap::new(), ""),
            Duration::from_secs(1)
        );
    }
}
