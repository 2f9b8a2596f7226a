//! The host's REST client for Discord API v10, with its own rate-limit handling.
//!
//! When an API base is configured (a simulator or a proxy), serenity's rate limiter must be off
//! (with it on, serenity ignores the proxy), so the host honours Discord's limits itself: an HTTP
//! 429 is answered by waiting `retry_after` (from the JSON body, else the `Retry-After` header)
//! and retrying, a bounded number of times. A rate-limiting proxy in front of Discord may also do
//! this; then the host simply never sees a 429.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use zoryx_plugin_api::FileUpload;

/// How many times one request is retried after a 429.
const MAX_RETRIES: u32 = 5;
/// The longest single wait the host accepts before giving up on a request.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Requests in flight at most; more wait for a free connection. HTTP/1.1 carries one request
/// per connection, so without a bound a burst of replies opens a socket each (thousands, until
/// the process runs out of file descriptors); with it, a few connections are kept and reused.
const MAX_IN_FLIGHT: usize = 64;

/// Discord's CDN.
const DISCORD_CDN: &str = "https://cdn.discordapp.com";
/// The hosts Discord serves files from.
const CDN_HOSTS: [&str; 2] = ["cdn.discordapp.com", "media.discordapp.net"];
/// The largest file [`Rest::download`] reads (Discord's upload limit for boosted servers is
/// larger; bots rarely need more).
pub const MAX_DOWNLOAD: u64 = 25 << 20;

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

/// A small Discord REST client (`Authorization: Bot <token>`, JSON in and out; messages with
/// files as `multipart/form-data`, see [`Rest::send_message`]).
///
/// Built for the reply hot path: the API root, the `Authorization` header value and the user
/// agent are made once; a request body is serialised once (not once per retry); the response
/// headers are only looked at for a 429; callers that only need a field of the answer (a created
/// message's id) deserialise just that field instead of building a full JSON tree.
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    /// Shared, so that cloning the client (once per reply sink) copies no strings.
    base: Arc<str>,
    /// `<base>/api/v10`, built once.
    api: Arc<str>,
    auth: HeaderValue,
    /// Where Discord's CDN is (`https://cdn.discordapp.com`, or a simulator's origin).
    cdn: Arc<str>,
    /// One permit per request in flight (see [`MAX_IN_FLIGHT`]).
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest").field("base", &self.base).finish()
    }
}

/// The user agent Discord asks bots to send.
const USER_AGENT: HeaderValue =
    HeaderValue::from_static("DiscordBot (https://github.com/zoryx, 0.1)");

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

/// What a request carries.
#[derive(Clone, Copy)]
enum Payload<'a> {
    /// Nothing.
    Empty,
    /// A JSON body.
    Json(&'a Value),
    /// A message body with files (Discord's "uploading files"): `multipart/form-data` with a
    /// `payload_json` part, the body with an `attachments` entry per file (`id` = the file's
    /// index), and one `files[n]` part per file.
    Files(&'a Value, &'a [FileUpload]),
}

/// A request body, encoded once for every attempt.
enum Encoded {
    Empty,
    Json(Bytes),
    Multipart {
        payload: String,
        files: Vec<FilePart>,
    },
}

/// One `files[n]` part.
struct FilePart {
    name: String,
    mime: Option<&'static str>,
    bytes: Bytes,
}

/// The message body with an `attachments` entry for each file, `id` its part's index:
/// Discord takes the name and description from there. An interaction callback
/// (`{"type": 4, "data": {..}}`) has them in its `data`.
fn with_attachments(body: &Value, files: &[FileUpload]) -> Value {
    let mut body = body.clone();
    let message = match body.get("data") {
        Some(Value::Object(_)) => body.get_mut("data"),
        _ => Some(&mut body),
    };
    if let Some(object) = message.and_then(Value::as_object_mut) {
        let entries: Vec<Value> = files
            .iter()
            .enumerate()
            .map(|(n, file)| {
                let mut entry = json!({"id": n.to_string(), "filename": file.name});
                if let Some(description) = &file.description {
                    entry["description"] = json!(description);
                }
                entry
            })
            .collect();
        object.insert("attachments".into(), Value::Array(entries));
    }
    body
}

impl Encoded {
    fn new(payload: Payload<'_>) -> Result<Self, String> {
        Ok(match payload {
            Payload::Empty => Self::Empty,
            Payload::Json(body) => Self::Json(Bytes::from(
                serde_json::to_vec(body).map_err(|e| e.to_string())?,
            )),
            Payload::Files(body, files) => Self::Multipart {
                payload: serde_json::to_string(&with_attachments(body, files))
                    .map_err(|e| e.to_string())?,
                files: files
                    .iter()
                    .map(|file| FilePart {
                        name: file.name.clone(),
                        mime: mime_guess::from_path(&file.name).first_raw(),
                        bytes: Bytes::copy_from_slice(&file.bytes),
                    })
                    .collect(),
            },
        })
    }

    /// The form of one attempt (a form is consumed by sending it; the bytes are shared).
    fn form(payload: &str, files: &[FilePart]) -> Result<Form, String> {
        let mut form = Form::new().text("payload_json", payload.to_owned());
        for (n, file) in files.iter().enumerate() {
            let length = u64::try_from(file.bytes.len()).unwrap_or(u64::MAX);
            let mut part =
                Part::stream_with_length(file.bytes.clone(), length).file_name(file.name.clone());
            if let Some(mime) = file.mime {
                part = part.mime_str(mime).map_err(|e| e.to_string())?;
            }
            form = form.part(format!("files[{n}]"), part);
        }
        Ok(form)
    }
}

/// The `id` of a created object; every other field of the answer is skipped unparsed.
#[derive(serde::Deserialize)]
struct Created {
    #[serde(default)]
    id: Option<String>,
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
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            .build()
            .unwrap_or_default();
        let mut auth = HeaderValue::from_str(&format!("Bot {token}"))
            .unwrap_or_else(|_| HeaderValue::from_static("Bot"));
        auth.set_sensitive(true);
        Self {
            client,
            api: Arc::from(format!("{base}/api/v10")),
            base: Arc::from(base),
            auth,
            cdn: Arc::from(DISCORD_CDN),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// The same client, downloading files from `cdn` (`None`: Discord's own CDN) instead of
    /// `https://cdn.discordapp.com` (`discord.cdn_base`; a simulator serves both).
    pub fn with_cdn(mut self, cdn: Option<&str>) -> Self {
        self.cdn = Arc::from(cdn.unwrap_or(DISCORD_CDN).trim_end_matches('/'));
        self
    }

    /// Downloads a file Discord's CDN serves (attachments, emoji images): `url` must be on
    /// `cdn.discordapp.com` or `media.discordapp.net` over https; it is fetched from the
    /// configured CDN with the same path, without the bot's token, and at most `max_bytes`
    /// (capped at [`MAX_DOWNLOAD`]) are read. Any status is an answer.
    pub async fn download(
        &self,
        url: &str,
        max_bytes: u64,
    ) -> Result<zoryx_plugin_api::HttpResponse, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        if parsed.scheme() != "https" || !CDN_HOSTS.contains(&host.as_str()) {
            return Err(format!(
                "`{url}` is not on Discord's CDN (cdn.discordapp.com, media.discordapp.net); \
                 other hosts go through `Host::http` and `http.allow`"
            ));
        }
        let mut target = format!("{}{}", self.cdn, parsed.path());
        if let Some(query) = parsed.query() {
            target.push('?');
            target.push_str(query);
        }
        let max = max_bytes.min(MAX_DOWNLOAD);
        let mut response = self
            .client
            .get(&target)
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .send()
            .await
            .map_err(|e| format!("could not reach Discord's CDN: {}", with_causes(&e)))?;
        if response.content_length().is_some_and(|n| n > max) {
            return Err(format!("the file is over {} KiB", max / 1024));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("the download broke off: {}", with_causes(&e)))?
        {
            if (body.len() + chunk.len()) as u64 > max {
                return Err(format!("the file is over {} KiB", max / 1024));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(zoryx_plugin_api::HttpResponse {
            status,
            headers,
            body,
        })
    }

    /// The API root, e.g. `http://127.0.0.1:4000/api/v10`.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// Sends one request and returns the raw answer body. Retries on 429.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        payload: Payload<'_>,
        reason: Option<&str>,
    ) -> Result<impl AsRef<[u8]> + use<>, RestError> {
        let url = format!("{}{path}", self.api);
        let transport = |message: String| RestError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            message,
        };
        let body = Encoded::new(payload).map_err(transport)?;
        // Discord takes the audit log reason URL-encoded, at most 512 characters.
        let reason = reason
            .map(|r| {
                let r: String = r.chars().take(512).collect();
                HeaderValue::from_str(&percent_encode(&r))
            })
            .transpose()
            .map_err(|e| transport(e.to_string()))?;
        for attempt in 0..=MAX_RETRIES {
            // Never closed, so `acquire` only fails if it were; then go on unbounded.
            let permit = self.in_flight.acquire().await.ok();
            let mut request = self
                .client
                .request(method.clone(), &url)
                .header(AUTHORIZATION, self.auth.clone())
                .header(reqwest::header::USER_AGENT, USER_AGENT);
            if let Some(reason) = &reason {
                request = request.header("X-Audit-Log-Reason", reason.clone());
            }
            match &body {
                Encoded::Empty => {}
                Encoded::Json(json) => {
                    request = request
                        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                        .body(json.clone());
                }
                Encoded::Multipart { payload, files } => {
                    // Sets the `multipart/form-data; boundary=...` content type itself.
                    request = request.multipart(Encoded::form(payload, files).map_err(transport)?);
                }
            }
            let response = request
                .send()
                .await
                .map_err(|e| transport(with_causes(&e)))?;
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let headers = response.headers().clone();
                let text = response
                    .text()
                    .await
                    .map_err(|e| transport(with_causes(&e)))?;
                let wait = retry_after(&headers, &text);
                if attempt == MAX_RETRIES || wait > MAX_WAIT {
                    break;
                }
                tracing::warn!(%method, path, wait_ms = wait.as_millis() as u64, attempt, "rate limited by Discord; waiting");
                drop(permit);
                tokio::time::sleep(wait).await;
                continue;
            }
            let answer = response
                .bytes()
                .await
                .map_err(|e| transport(with_causes(&e)))?;
            drop(permit);
            if !status.is_success() {
                return Err(RestError::Status {
                    method: method.to_string(),
                    path: path.to_owned(),
                    status: status.as_u16(),
                    body: String::from_utf8_lossy(answer.as_ref()).into_owned(),
                });
            }
            return Ok(answer);
        }
        Err(RestError::RateLimited {
            method: method.to_string(),
            path: path.to_owned(),
        })
    }

    /// Sends one request; `path` starts with `/` and is relative to `/api/v10`. Retries on 429.
    /// Returns the JSON answer (`Null` for 204).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, RestError> {
        self.request_with_reason(method, path, body, None).await
    }

    /// [`Rest::request`] with a reason for the guild's audit log.
    pub async fn request_with_reason(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        reason: Option<&str>,
    ) -> Result<Value, RestError> {
        let payload = body.map_or(Payload::Empty, Payload::Json);
        self.answer(method, path, payload, reason).await
    }

    /// A message body (`POST` or `PATCH` of a message, an interaction callback, a webhook
    /// execution): JSON without files; with files `multipart/form-data`, a `payload_json` part
    /// (the body with an `attachments` entry per file, `id` the file's index; in `data` for an
    /// interaction callback) and a `files[n]` part per file. Retries on 429; returns the JSON
    /// answer (`Null` for 204).
    pub async fn send_message(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        files: &[FileUpload],
    ) -> Result<Value, RestError> {
        self.answer(method, path, message_payload(body, files), None)
            .await
    }

    async fn answer(
        &self,
        method: reqwest::Method,
        path: &str,
        payload: Payload<'_>,
        reason: Option<&str>,
    ) -> Result<Value, RestError> {
        let answer = self.send(method.clone(), path, payload, reason).await?;
        let answer = answer.as_ref();
        if answer.trim_ascii().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(answer).map_err(|e| RestError::Transport {
            method: method.to_string(),
            path: path.to_owned(),
            message: format!("bad JSON: {e}"),
        })
    }

    /// `POST path` with a message body (and its files, as [`Rest::send_message`]), returning
    /// only the `id` of what was created (0 when the answer has none). The rest of the answer
    /// is not parsed into a tree.
    pub async fn post_for_id(
        &self,
        path: &str,
        body: &Value,
        files: &[FileUpload],
    ) -> Result<u64, RestError> {
        let answer = self
            .send(
                reqwest::Method::POST,
                path,
                message_payload(body, files),
                None,
            )
            .await?;
        Ok(created_id(answer.as_ref()))
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

/// JSON without files, multipart with.
fn message_payload<'a>(body: &'a Value, files: &'a [FileUpload]) -> Payload<'a> {
    if files.is_empty() {
        Payload::Json(body)
    } else {
        Payload::Files(body, files)
    }
}

/// `text` percent-encoded for a header: unreserved characters stay, every other byte of its
/// UTF-8 becomes `%XX`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The snowflake `id` of an answer body, 0 when absent or not a JSON object with one.
fn created_id(answer: &[u8]) -> u64 {
    serde_json::from_slice::<Created>(answer)
        .ok()
        .and_then(|c| c.id)
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

/// An error with its chain of causes, `outer: inner: ...`: reqwest's own message ("error sending
/// request") leaves out why (refused, reset, no address...).
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
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

    #[test]
    fn audit_reasons_are_percent_encoded() {
        assert_eq!(percent_encode("spam, again ü"), "spam%2C%20again%20%C3%BC");
    }

    #[test]
    fn files_are_listed_as_attachments_by_part_index() {
        let files = [
            FileUpload::new("a.txt", "a"),
            FileUpload::new("b.png", vec![1, 2]).description("two bytes"),
        ];
        let body = with_attachments(&json!({"content": "x"}), &files);
        assert_eq!(
            body,
            json!({"content": "x", "attachments": [
                {"id": "0", "filename": "a.txt"},
                {"id": "1", "filename": "b.png", "description": "two bytes"},
            ]})
        );
        let callback = with_attachments(&json!({"type": 4, "data": {"content": "x"}}), &files);
        assert_eq!(callback["data"]["attachments"][1]["id"], "1");
        assert!(callback.get("attachments").is_none());
        let Ok(Encoded::Multipart { files: parts, .. }) =
            Encoded::new(Payload::Files(&body, &files))
        else {
            panic!("a body with files is multipart");
        };
        assert_eq!(
            parts.iter().map(|p| p.mime).collect::<Vec<_>>(),
            [Some("text/plain"), Some("image/png")]
        );
    }

    #[test]
    fn created_id_reads_only_the_id() {
        assert_eq!(
            created_id(br#"{"id": "1234", "content": "x", "author": {"id": "9"}, "embeds": []}"#),
            1234
        );
        assert_eq!(created_id(br#"{"content": "no id"}"#), 0);
        assert_eq!(created_id(b""), 0);
        assert_eq!(created_id(b"not json"), 0);
    }
}
