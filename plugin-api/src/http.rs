//! Outbound HTTP through the host (plugin-api 1.3): plugins have no network of their own.
//!
//! The host sends the request with its own client, within its time and size limits, and only to
//! hosts the operator allowed for this plugin in `config.json` (`http.allow`): everything else
//! is refused with an error that says which key to set. Redirects are followed only to allowed
//! hosts.
//!
//! ```no_run
//! # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
//! use zoryx_plugin_api::HttpRequest;
//!
//! let weather = host.http(HttpRequest::get("https://api.example.com/weather?city=Oslo")).await?;
//! let body: serde_json::Value = weather.json()?;
//!
//! let posted = host
//!     .http(
//!         HttpRequest::post("https://hooks.example.com/notify")
//!             .header("Authorization", "Bearer secret")
//!             .json(&serde_json::json!({"text": "deployed"}))?,
//!     )
//!     .await?;
//! assert!(posted.is_success());
//! # Ok(()) }
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::actions::{Action, Outcome};
use crate::context::Host;
use crate::error::{PluginError, PluginResult};

/// An HTTP request a plugin asks the host to send.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE` or `HEAD`.
    pub method: String,
    /// An `http` or `https` URL.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// A shorter time limit than the host's `http.timeout_seconds`, in milliseconds.
    pub timeout_ms: Option<u64>,
}

impl HttpRequest {
    /// A request with `method` to `url`.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            ..Self::default()
        }
    }

    /// A `GET`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a JSON body and its `Content-Type`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> PluginResult<Self> {
        let body = serde_json::to_vec(value)?;
        Ok(self.header("Content-Type", "application/json").body(body))
    }

    /// Gives up sooner than the host's limit.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout_ms = Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        self
    }
}

/// The answer to an [`HttpRequest`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers (names in lower case), in order.
    pub headers: Vec<(String, String)>,
    /// The body (at most the host's `http.max_response_kb`).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header by name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> PluginResult<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            PluginError::Internal(format!(
                "the answer (HTTP {}) is not that JSON: {e}",
                self.status
            ))
        })
    }
}

/// An HTTP answer read in pieces as they arrive ([`Host::http_stream`]): the status and
/// headers at once, the body chunk by chunk. Read it to the end or [`HttpStream::close`] it;
/// the host closes a stream left alone when its time limit passes.
#[derive(Debug)]
pub struct HttpStream {
    host: Host,
    id: u64,
    done: bool,
    /// The status code.
    pub status: u16,
    /// Response headers (names in lower case), in order.
    pub headers: Vec<(String, String)>,
}

impl HttpStream {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header by name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The next piece of the body, `None` at its end. An error (the time or size limit
    /// passed, the connection broke) ends the stream.
    pub async fn next_chunk(&mut self) -> PluginResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let outcome = self.host.act(&Action::HttpStreamNext { id: self.id }).await;
        match outcome {
            Ok(Outcome::HttpChunk { data, done }) => {
                self.done = done;
                if done && data.is_empty() {
                    Ok(None)
                } else {
                    Ok(Some(data))
                }
            }
            Ok(other) => {
                self.done = true;
                Err(PluginError::Host(format!(
                    "the host answered a stream read with {other:?}"
                )))
            }
            Err(error) => {
                self.done = true;
                Err(error)
            }
        }
    }

    /// The rest of the body, as one piece.
    pub async fn read_to_end(&mut self) -> PluginResult<Vec<u8>> {
        let mut body = Vec::new();
        while let Some(chunk) = self.next_chunk().await? {
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Closes the stream before its end (nothing happens at or past the end).
    pub async fn close(mut self) -> PluginResult {
        if self.done {
            return Ok(());
        }
        self.done = true;
        self.host
            .act(&Action::HttpStreamClose { id: self.id })
            .await
            .map(|_| ())
    }
}

impl Host {
    /// Sends an HTTP request through the host and returns as soon as the status and headers
    /// are in; the body is read with [`HttpStream::next_chunk`] as it arrives (server-sent
    /// events from a model's API, say). The allow-list, time limit (over the whole answer) and
    /// size limit (over every chunk together) of [`Host::http`] apply (plugin-api 1.3).
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// use zoryx_plugin_api::HttpRequest;
    ///
    /// let mut stream = host.http_stream(HttpRequest::get("https://api.example.com/events")).await?;
    /// assert!(stream.is_success());
    /// while let Some(chunk) = stream.next_chunk().await? {
    ///     host.info(String::from_utf8_lossy(&chunk));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn http_stream(&self, request: HttpRequest) -> PluginResult<HttpStream> {
        match self.act(&Action::HttpStream(request)).await? {
            Outcome::HttpStream {
                id,
                status,
                headers,
            } => Ok(HttpStream {
                host: *self,
                id,
                done: false,
                status,
                headers,
            }),
            other => Err(PluginError::Host(format!(
                "the host answered an HTTP stream with {other:?}"
            ))),
        }
    }

    /// Sends an HTTP request through the host; any status is an answer (check
    /// [`HttpResponse::is_success`]); a host not allowed for this plugin, a time-out or an
    /// answer past the size limit is an error.
    pub async fn http(&self, request: HttpRequest) -> PluginResult<HttpResponse> {
        match self.act(&Action::Http(request)).await? {
            Outcome::Http(response) => Ok(response),
            other => Err(PluginError::Host(format!(
                "the host answered an HTTP request with {other:?}"
            ))),
        }
    }
}
