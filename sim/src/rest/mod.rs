//! The REST API under `/api/v10`: one file per route family, dispatched from one fallback handler.
//!
//! Every answer carries Discord's rate-limit headers; every request is recorded
//! ([`crate::RecordedRequest`]); `Authorization: Bot <token>` is checked (401 otherwise);
//! unknown routes get Discord's 404 JSON and bodies that are not JSON get a 400.

pub mod channels;
pub mod commands;
pub mod emojis;
pub mod error;
pub mod gateway;
pub mod guilds;
pub mod interactions;
pub mod members;
pub mod messages;
pub mod multipart;
pub mod ratelimit;
pub mod reactions;
pub mod users;
pub mod webhooks;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

pub use error::ApiError;
pub use multipart::FilePart;

use crate::events::{RecordedRequest, SimEvent};
use crate::simulator::Inner;

/// A parsed request handed to the route families.
#[derive(Debug)]
pub struct Req<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path segments after `/api/v10`.
    pub segs: Vec<&'a str>,
    /// Parsed JSON body (`None` when empty).
    pub body: Option<Value>,
    /// Query string.
    pub query: Option<&'a str>,
    /// The `X-Audit-Log-Reason` header, percent-decoded.
    pub reason: Option<String>,
    /// The files of a multipart body (`files[n]` parts), in the order sent.
    pub files: Vec<FilePart>,
}

impl Req<'_> {
    /// The JSON body, or an empty object.
    pub fn body(&self) -> Value {
        self.body.clone().unwrap_or_else(|| json!({}))
    }

    /// A query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query?
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// An integer query parameter within `min..=max`, checked as Discord does (50035 on the
    /// parameter's name); `default` when absent.
    pub fn int_param(&self, name: &str, min: u64, max: u64, default: u64) -> Result<u64, ApiError> {
        let Some(raw) = self.query_param(name) else {
            return Ok(default);
        };
        let Ok(n) = raw.parse::<i64>() else {
            return Err(ApiError::invalid_form(
                name,
                "NUMBER_TYPE_COERCE",
                &format!("Value \"{raw}\" is not int."),
            ));
        };
        if n < min as i64 {
            return Err(ApiError::invalid_form(
                name,
                "NUMBER_TYPE_MIN",
                &format!("int value should be greater than or equal to {min}."),
            ));
        }
        if n as u64 > max {
            return Err(ApiError::invalid_form(
                name,
                "NUMBER_TYPE_MAX",
                &format!("int value should be less than or equal to {max}."),
            ));
        }
        Ok(n as u64)
    }

    /// A snowflake query parameter (50035 on the parameter's name when it is not one).
    pub fn snowflake_param(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.query_param(name) {
            None => Ok(None),
            Some(raw) => raw.parse().map(Some).map_err(|_| {
                ApiError::invalid_form(
                    name,
                    "NUMBER_TYPE_COERCE",
                    &format!("Value \"{raw}\" is not snowflake."),
                )
            }),
        }
    }
}

/// A snowflake in a JSON body: a string of digits or a number.
pub fn snowflake(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Percent-decodes a path segment or header value (`%F0%9F%91%8D` → 👍); `None` if the
/// result is not UTF-8 or an escape is malformed.
pub fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    /// Status (200, 201, 204).
    pub status: u16,
    /// JSON body (`None` for 204).
    pub body: Option<Value>,
}

impl Reply {
    /// 200 with a body.
    pub fn ok(body: Value) -> Result<Self, ApiError> {
        Ok(Self {
            status: 200,
            body: Some(body),
        })
    }

    /// 204 No Content.
    pub fn no_content() -> Result<Self, ApiError> {
        Ok(Self {
            status: 204,
            body: None,
        })
    }
}

/// Parses a snowflake path segment.
pub fn id(seg: &str, what: &str, code: u32) -> Result<u64, ApiError> {
    seg.parse().map_err(|_| ApiError::unknown(what, code))
}

/// The largest request body taken: ten files at the upload limit and their JSON. Past it,
/// Discord's 413 (40005).
const MAX_BODY: usize = 10 * messages::MAX_FILE_BYTES + (1 << 20);

/// The server: the gateway WebSocket at `/ws`, the CDN's paths ([`crate::cdn`]), everything
/// else through [`handle`].
pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/ws", get(crate::gateway::connection::upgrade))
        .route(
            "/attachments/{channel}/{id}/{filename}",
            get(crate::cdn::attachment),
        )
        .route(
            "/ephemeral-attachments/{owner}/{id}/{filename}",
            get(crate::cdn::ephemeral_attachment),
        )
        .route("/emojis/{file}", get(crate::cdn::emoji))
        .route(
            "/oauth2/authorize",
            get(crate::oauth::authorize_page).post(crate::oauth::authorize),
        )
        .route("/api/v10/oauth2/token", post(crate::oauth::token))
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(inner)
}

const RECORDED_HEADERS: [&str; 5] = [
    "content-type",
    "user-agent",
    "x-audit-log-reason",
    "x-ratelimit-precision",
    "accept",
];

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().map(str::to_owned);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut files = Vec::new();
    let parsed_body: Result<Option<Value>, ApiError> = match body {
        Err(_) => Err(ApiError::entity_too_large()),
        Ok(body) if body.is_empty() => Ok(None),
        Ok(body) if content_type.starts_with("multipart/") => multipart::parse(content_type, &body)
            .map(|parts| {
                files = parts.files;
                parts.payload
            }),
        Ok(body) => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|_| ApiError::bad_json()),
    };
    let recorded_files = files
        .iter()
        .map(|f| (f.index, f.filename.clone(), f.bytes.len()))
        .collect();
    let segs: Option<Vec<&str>> = path
        .strip_prefix("/api/v10")
        .map(|rest| rest.split('/').filter(|s| !s.is_empty()).collect());
    let auth_header = headers.get(header::AUTHORIZATION);
    let auth_ok = auth_header
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bot "))
        .is_some_and(|t| t == inner.config.token);
    // Webhook routes with a token authenticate with the token: Discord needs no
    // Authorization header there.
    let token_route = segs
        .as_deref()
        .is_some_and(|s| matches!(s, ["webhooks", _, _, ..]));
    let auth_ok = auth_ok || (token_route && auth_header.is_none());
    // An OAuth2 access token (`Bearer`) reads `GET /users/@me` only: the user who authorized.
    let bearer_user = auth_header
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| inner.oauth().user_of(t));
    let reason = headers
        .get("x-audit-log-reason")
        .and_then(|v| v.to_str().ok())
        .map(|v| percent_decode(v).unwrap_or_else(|| v.to_owned()));

    let mut rate_limited = false;
    let mut deferred = Vec::new();
    let result = match (&segs, parsed_body.clone()) {
        (None, _) => Err(ApiError::not_found()),
        (Some(segs), _) if inner.limits.hit(method.as_str(), segs) => {
            rate_limited = true;
            Err(ApiError {
                status: 429,
                body: json!({
                    "message": "You are being rate limited.",
                    "retry_after": inner.config.rate_limit_retry_after.as_secs_f64(),
                    "global": false,
                }),
            })
        }
        (Some(segs), _)
            if method == Method::GET
                && segs.as_slice() == ["users", "@me"]
                && bearer_user.is_some() =>
        {
            let world = inner.world();
            match bearer_user.and_then(|u| world.users.get(&u)) {
                Some(user) => Reply::ok(user.to_me_json()),
                None => Err(ApiError::unknown("User", 10013)),
            }
        }
        (Some(_), _) if !auth_ok => Err(ApiError::unauthorized()),
        (Some(_), Err(e)) => Err(e),
        (Some(segs), Ok(body)) => {
            let req = Req {
                method: &method,
                segs: segs.clone(),
                body,
                query: query.as_deref(),
                reason: reason.clone(),
                files: std::mem::take(&mut files),
            };
            let (result, held) = inner.deferring_events(|| route(&inner, &req));
            deferred = held;
            result
        }
    };
    let (status, out) = match result {
        Ok(reply) => (reply.status, reply.body),
        Err(e) => (e.status, Some(e.body)),
    };
    if rate_limited {
        inner.emit(SimEvent::RateLimited {
            route: format!("{method} {path}"),
        });
    }

    let recorded_headers = headers
        .iter()
        .filter(|(k, _)| RECORDED_HEADERS.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .chain(std::iter::once((
            "authorization".to_owned(),
            match (auth_ok || bearer_user.is_some(), auth_header.is_some()) {
                (true, true) => "valid",
                (true, false) => "none (webhook token)",
                _ => "invalid",
            }
            .to_owned(),
        )))
        .collect();
    inner.record(RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query,
        headers: recorded_headers,
        body: parsed_body.ok().flatten(),
        files: recorded_files,
        status,
        response: out.clone(),
        at: SystemTime::now(),
    });
    inner.release_events(deferred);

    let bucket = ratelimit::bucket(method.as_str(), segs.as_deref().unwrap_or_default());
    let retry = inner.config.rate_limit_retry_after.as_secs_f64();
    let now = crate::snowflake::now_ms() as f64 / 1000.0;
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("x-ratelimit-limit", "50")
        .header(
            "x-ratelimit-remaining",
            if rate_limited { "0" } else { "49" },
        )
        .header("x-ratelimit-reset", format!("{:.3}", now + retry.max(1.0)))
        .header("x-ratelimit-reset-after", format!("{:.3}", retry.max(1.0)))
        .header("x-ratelimit-bucket", bucket);
    if rate_limited {
        builder = builder
            .header("retry-after", format!("{}", retry.ceil().max(1.0) as u64))
            .header("x-ratelimit-scope", "user");
    }
    let response = match out {
        Some(v) => builder
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(Body::from(v.to_string())),
        None => builder.body(Body::empty()),
    };
    response.unwrap_or_else(|_| Response::new(Body::empty()))
}

fn route(inner: &Inner, req: &Req<'_>) -> Result<Reply, ApiError> {
    let family = req.segs.first().copied().unwrap_or_default();
    let answer = match family {
        "gateway" => gateway::route(inner, req),
        "users" | "oauth2" => users::route(inner, req),
        "applications" => match req.segs.get(1) {
            Some(&"@me") => users::route(inner, req),
            _ => commands::route(inner, req),
        },
        "channels" => messages::route(inner, req),
        "interactions" => interactions::route(inner, req),
        "webhooks" => webhooks::route(inner, req),
        "guilds" => guilds::route(inner, req),
        _ => None,
    };
    answer.unwrap_or_else(|| Err(ApiError::not_found()))
}
