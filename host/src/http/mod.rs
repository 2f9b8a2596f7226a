//! Outbound HTTP for plugins (`Host::http`): one client, the operator's allow-list per plugin
//! (`http.allow`, deny by default), a time limit (`http.timeout_seconds`), a size limit on the
//! answer (`http.max_response_kb`) and on the request body (1 MiB). Redirects are followed by
//! hand, at most five, each hop checked against the allow-list like the first.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode, Url};
use zoryx_plugin_api::{HttpRequest, HttpResponse, PluginError};

use crate::discord::rest::with_causes;

/// The largest request body a plugin may send.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
/// HTTP streams one plugin may have open at once.
const MAX_STREAMS_PER_PLUGIN: usize = 8;
/// Redirects followed at most.
const MAX_REDIRECTS: usize = 5;

/// `http.*` as the service uses it.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Plugin name → host patterns (`api.example.com`, `*.example.com`, `host:port`, `*`).
    pub allow: BTreeMap<String, Vec<String>>,
    /// The longest a request may take, redirects included.
    pub timeout: Duration,
    /// The largest answer body.
    pub max_response_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            allow: BTreeMap::new(),
            timeout: Duration::from_secs(10),
            max_response_bytes: 1 << 20,
        }
    }
}

/// The host's HTTP client for plugins.
pub struct HttpService {
    client: reqwest::Client,
    options: HttpOptions,
    /// Answers read in pieces (`Host::http_stream`), by id.
    streams: std::sync::Mutex<std::collections::HashMap<u64, OpenStream>>,
    next_stream: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Whether `pattern` allows `host` (lower case) on `port`.
fn allows(pattern: &str, host: &str, port: u16) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    if pattern == "*" {
        return true;
    }
    let (name, wanted_port) = match pattern.rsplit_once(':') {
        Some((name, p)) if !name.contains(':') => (name.to_owned(), p.parse::<u16>().ok()),
        _ => (pattern.clone(), None),
    };
    if wanted_port.is_some_and(|p| p != port) {
        return false;
    }
    match name.strip_prefix("*.") {
        Some(domain) => host.len() > domain.len() + 1 && host.ends_with(&format!(".{domain}")),
        None => host == name,
    }
}

fn refused(message: impl Into<String>) -> PluginError {
    PluginError::Host(message.into())
}

impl HttpService {
    /// A service with `options`.
    pub fn new(options: HttpOptions) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .build()
            .unwrap_or_default();
        Self {
            client,
            options,
            streams: std::sync::Mutex::default(),
            next_stream: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// Checks that `plugin` may reach `url`.
    fn check(&self, plugin: &str, url: &Url) -> Result<(), PluginError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused(format!("`{url}` is not an http or https URL")));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let port = url.port_or_known_default().unwrap_or(0);
        let allowed = self
            .options
            .allow
            .get(plugin)
            .is_some_and(|patterns| patterns.iter().any(|p| allows(p, &host, port)));
        if allowed {
            Ok(())
        } else {
            Err(refused(format!(
                "plugin `{plugin}` may not reach `{host}`: add it to `http.allow.{plugin}` in \
                 config.json"
            )))
        }
    }

    /// Sends `request` for `plugin` and follows its redirects: the final answer with its body
    /// unread, its URL, and when the request's time runs out.
    async fn open(
        &self,
        plugin: &str,
        request: HttpRequest,
    ) -> Result<(reqwest::Response, Url, tokio::time::Instant), PluginError> {
        let mut method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| refused(format!("`{}` is not an HTTP method", request.method)))?;
        let mut url = Url::parse(&request.url)
            .map_err(|e| refused(format!("`{}` is not a URL: {e}", request.url)))?;
        let mut body = request.body;
        if body.as_ref().is_some_and(|b| b.len() > MAX_REQUEST_BYTES) {
            return Err(refused(format!(
                "the request body is over {} KiB",
                MAX_REQUEST_BYTES / 1024
            )));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| refused(format!("`{name}` is not a header name")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| refused(format!("the value of header `{name}` is not valid")))?;
            headers.append(name, value);
        }
        let timeout = request
            .timeout_ms
            .map(Duration::from_millis)
            .map_or(self.options.timeout, |t| t.min(self.options.timeout));
        let deadline = tokio::time::Instant::now() + timeout;
        let exchange = async {
            for _ in 0..=MAX_REDIRECTS {
                self.check(plugin, &url)?;
                let mut builder = self
                    .client
                    .request(method.clone(), url.clone())
                    .headers(headers.clone());
                if let Some(body) = &body {
                    builder = builder.body(body.clone());
                }
                let response = builder.send().await.map_err(|e| {
                    if e.is_timeout() {
                        timed_out(&request.url, timeout)
                    } else {
                        refused(format!("{method} {url}: {}", with_causes(&e)))
                    }
                })?;
                let status = response.status();
                if status.is_redirection()
                    && let Some(next) = response
                        .headers()
                        .get(LOCATION)
                        .and_then(|l| l.to_str().ok())
                        .and_then(|l| url.join(l).ok())
                {
                    if status == StatusCode::SEE_OTHER
                        || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                            && method == Method::POST)
                    {
                        method = Method::GET;
                        body = None;
                    }
                    url = next;
                    continue;
                }
                let limit = self.options.max_response_bytes;
                if response
                    .content_length()
                    .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
                {
                    return Err(too_large(&url, limit));
                }
                return Ok(response);
            }
            Err(refused(format!(
                "{} redirected more than {MAX_REDIRECTS} times",
                request.url
            )))
        };
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(result) => result.map(|response| {
                let url = response.url().clone();
                (response, url, deadline)
            }),
            Err(_) => Err(timed_out(&request.url, timeout)),
        }
    }

    /// Sends `request` for `plugin`.
    pub async fn send(
        &self,
        plugin: &str,
        request: HttpRequest,
    ) -> Result<HttpResponse, PluginError> {
        let (started, asked) = (tokio::time::Instant::now(), request.url.clone());
        let (mut response, url, deadline) = self.open(plugin, request).await?;
        let status = response.status().as_u16();
        let headers = headers_of(&response);
        let limit = self.options.max_response_bytes;
        let read = async {
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| {
                if e.is_timeout() {
                    timed_out(&asked, deadline - started)
                } else {
                    refused(format!("{url}: {}", with_causes(&e)))
                }
            })? {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(&url, limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        match tokio::time::timeout_at(deadline, read).await {
            Ok(body) => Ok(HttpResponse {
                status,
                headers,
                body: body?,
            }),
            Err(_) => Err(timed_out(&asked, deadline - started)),
        }
    }

    /// Sends `request` for `plugin` and keeps its body to be read in pieces
    /// ([`HttpService::next_chunk`]); the time and size limits run over the whole answer.
    pub async fn open_stream(
        &self,
        plugin: &str,
        request: HttpRequest,
    ) -> Result<(u64, u16, Vec<(String, String)>), PluginError> {
        let (started, asked) = (tokio::time::Instant::now(), request.url.clone());
        self.forget_expired();
        let open = self
            .streams
            .lock()
            .map(|s| s.values().filter(|s| s.plugin == plugin).count())
            .unwrap_or(0);
        if open >= MAX_STREAMS_PER_PLUGIN {
            return Err(refused(format!(
                "plugin `{plugin}` has {open} HTTP streams open already; read or close one first"
            )));
        }
        let (response, url, deadline) = self.open(plugin, request).await?;
        let status = response.status().as_u16();
        let headers = headers_of(&response);
        let id = self
            .next_stream
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stream = OpenStream {
            plugin: plugin.to_owned(),
            url,
            asked,
            timeout: deadline - started,
            deadline,
            received: 0,
            response: Arc::new(tokio::sync::Mutex::new(response)),
        };
        if let Ok(mut streams) = self.streams.lock() {
            streams.insert(id, stream);
        }
        Ok((id, status, headers))
    }

    /// The next piece of stream `id` of `plugin`: `(bytes, done)`. The stream is forgotten at
    /// its end and on any error.
    pub async fn next_chunk(&self, plugin: &str, id: u64) -> Result<(Vec<u8>, bool), PluginError> {
        let found = self.streams.lock().ok().and_then(|streams| {
            streams.get(&id).filter(|s| s.plugin == plugin).map(|s| {
                (
                    Arc::clone(&s.response),
                    s.url.clone(),
                    s.asked.clone(),
                    s.timeout,
                    s.deadline,
                    s.received,
                )
            })
        });
        let Some((response, url, asked, timeout, deadline, received)) = found else {
            return Err(refused(format!(
                "there is no HTTP stream {id} of plugin `{plugin}` (it ended or timed out)"
            )));
        };
        let limit = self.options.max_response_bytes;
        let read = async { response.lock().await.chunk().await };
        let result = match tokio::time::timeout_at(deadline, read).await {
            Err(_) => Err(timed_out(&asked, timeout)),
            // The client's own time limit is the same one, reached first by a hair.
            Ok(Err(error)) if error.is_timeout() => Err(timed_out(&asked, timeout)),
            Ok(Err(error)) => Err(refused(format!("{url}: {}", with_causes(&error)))),
            Ok(Ok(None)) => Ok((Vec::new(), true)),
            Ok(Ok(Some(chunk))) if received + chunk.len() > limit => Err(too_large(&url, limit)),
            Ok(Ok(Some(chunk))) => Ok((chunk.to_vec(), false)),
        };
        if let Ok(mut streams) = self.streams.lock() {
            match &result {
                Ok((chunk, false)) => {
                    if let Some(stream) = streams.get_mut(&id) {
                        stream.received += chunk.len();
                    }
                }
                _ => {
                    streams.remove(&id);
                }
            }
        }
        result
    }

    /// Forgets stream `id` of `plugin` (closing its connection).
    pub fn close_stream(&self, plugin: &str, id: u64) {
        if let Ok(mut streams) = self.streams.lock()
            && streams.get(&id).is_some_and(|s| s.plugin == plugin)
        {
            streams.remove(&id);
        }
    }

    /// Forgets streams past their time limit (a plugin that stopped reading).
    fn forget_expired(&self) {
        let now = tokio::time::Instant::now();
        if let Ok(mut streams) = self.streams.lock() {
            streams.retain(|_, s| s.deadline > now);
        }
    }
}

/// An answer being read in pieces.
struct OpenStream {
    plugin: String,
    url: Url,
    /// The URL as the plugin gave it (for errors).
    asked: String,
    timeout: Duration,
    deadline: tokio::time::Instant,
    received: usize,
    response: Arc<tokio::sync::Mutex<reqwest::Response>>,
}

fn headers_of(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn timed_out(url: &str, timeout: Duration) -> PluginError {
    refused(format!(
        "{url} took longer than {:.1} s",
        timeout.as_secs_f64()
    ))
}

fn too_large(url: &Url, limit: usize) -> PluginError {
    refused(format!(
        "the answer of {url} is over {} KiB (`http.max_response_kb`)",
        limit / 1024
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::body::{Body, Bytes};
    use futures::StreamExt;

    /// A server with `/sse` (three pieces), `/big` (three pieces of 600 bytes) and `/stall`
    /// (one piece, then nothing).
    async fn server() -> u16 {
        let piece = |text: &'static str| Ok::<_, std::io::Error>(Bytes::from(text));
        let app = axum::Router::new()
            .route(
                "/sse",
                axum::routing::get(move || async move {
                    Body::from_stream(futures::stream::iter([
                        piece("data: one\n\n"),
                        piece("data: two\n\n"),
                        piece("data: [DONE]\n\n"),
                    ]))
                }),
            )
            .route(
                "/big",
                axum::routing::get(|| async {
                    let block = Bytes::from(vec![b'x'; 600]);
                    Body::from_stream(futures::stream::iter(
                        (0..3).map(move |_| Ok::<_, std::io::Error>(block.clone())),
                    ))
                }),
            )
            .route(
                "/stall",
                axum::routing::get(move || async move {
                    Body::from_stream(
                        futures::stream::iter([piece("first")]).chain(futures::stream::pending()),
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        port
    }

    fn service(port: u16) -> HttpService {
        HttpService::new(HttpOptions {
            allow: [("p".to_owned(), vec![format!("127.0.0.1:{port}")])].into(),
            timeout: Duration::from_millis(500),
            max_response_bytes: 1000,
        })
    }

    async fn read_all(http: &HttpService, plugin: &str, id: u64) -> Result<Vec<u8>, PluginError> {
        let mut body = Vec::new();
        loop {
            let (chunk, done) = http.next_chunk(plugin, id).await?;
            body.extend_from_slice(&chunk);
            if done {
                return Ok(body);
            }
        }
    }

    #[tokio::test]
    async fn streamed_answers_keep_the_allow_list_and_the_limits_over_the_whole_body() {
        let port = server().await;
        let http = service(port);
        let url = |path: &str| format!("http://127.0.0.1:{port}{path}");

        let (id, status, _) = http
            .open_stream("p", HttpRequest::get(url("/sse")))
            .await
            .expect("open");
        assert_eq!(status, 200);
        // Another plugin cannot read it.
        assert!(http.next_chunk("q", id).await.is_err());
        let body = read_all(&http, "p", id).await.expect("body");
        assert_eq!(body, b"data: one\n\ndata: two\n\ndata: [DONE]\n\n");
        // Read to its end, it is gone.
        assert!(http.next_chunk("p", id).await.is_err());

        // Not allowed for this plugin: refused before any connection.
        let refused = http
            .open_stream("q", HttpRequest::get(url("/sse")))
            .await
            .expect_err("not allowed");
        assert!(refused.to_string().contains("http.allow.q"), "{refused}");

        // 1,800 bytes in pieces of 600 against a limit of 1,000: refused once past it.
        let (id, _, _) = http
            .open_stream("p", HttpRequest::get(url("/big")))
            .await
            .expect("open");
        let error = read_all(&http, "p", id).await.expect_err("too large");
        assert!(error.to_string().contains("max_response_kb"), "{error}");

        // A body that stops coming: the time limit ends it.
        let (id, _, _) = http
            .open_stream("p", HttpRequest::get(url("/stall")))
            .await
            .expect("open");
        let error = read_all(&http, "p", id).await.expect_err("stalled");
        assert!(error.to_string().contains("took longer than"), "{error}");

        // At most eight open at once; closing one makes room.
        let mut open = Vec::new();
        for _ in 0..MAX_STREAMS_PER_PLUGIN {
            let (id, _, _) = http
                .open_stream("p", HttpRequest::get(url("/sse")))
                .await
                .expect("open");
            open.push(id);
        }
        assert!(
            http.open_stream("p", HttpRequest::get(url("/sse")))
                .await
                .is_err()
        );
        http.close_stream("p", open[0]);
        assert!(
            http.open_stream("p", HttpRequest::get(url("/sse")))
                .await
                .is_ok()
        );
    }

    #[test]
    fn patterns_match_hosts_ports_and_subdomains() {
        assert!(allows("api.example.com", "api.example.com", 443));
        assert!(allows("API.example.com", "api.example.com", 80));
        assert!(!allows("api.example.com", "evil.com", 443));
        assert!(!allows("example.com", "api.example.com", 443));
        assert!(allows("*.example.com", "api.example.com", 443));
        assert!(!allows("*.example.com", "example.com", 443));
        assert!(!allows("*.example.com", "badexample.com", 443));
        assert!(allows("127.0.0.1:8080", "127.0.0.1", 8080));
        assert!(!allows("127.0.0.1:8080", "127.0.0.1", 8081));
        assert!(allows("*", "anything.org", 1));
    }
}
