//! Discord's OAuth2 authorization code grant, as a web application (a dashboard) uses it:
//!
//! - `GET /oauth2/authorize`: the consent page (Discord's own is on discord.com, not under
//!   `/api`). The simulator has no login, so the page lets the person pick which simulated user
//!   they are, then Authorize or Cancel; `POST /oauth2/authorize` answers with Discord's redirect
//!   to `redirect_uri?code=…&state=…` (or `error=access_denied`).
//! - `POST /api/v10/oauth2/token`: `grant_type=authorization_code`, the code (one use, 10
//!   minutes), the same `redirect_uri`; the client authenticated by HTTP Basic or by
//!   `client_id`/`client_secret` in the form. Errors as Discord's: `invalid_client` (401),
//!   `invalid_grant`, `unsupported_grant_type`, `invalid_request` (400).
//! - `GET /api/v10/users/@me` with `Authorization: Bearer <access token>`: the user who
//!   authorized (answered in [`crate::rest`]).
//!
//! A browser already logged in to the simulated Discord
//! ([`crate::Simulator::sign_in_oauth_as`], what offline mode does for its operator) skips the
//! consent page: `GET /oauth2/authorize` redirects straight back with a code for that user, as
//! Discord does for an account that authorized the application before.
//!
//! The client id is the application id; the secret is [`crate::SimConfig::oauth_client_secret`];
//! redirect URIs must be registered first ([`crate::Simulator::add_oauth_redirect`]), as in the
//! Developer Portal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use crate::simulator::Inner;

/// How long a code may wait to be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The grants in flight and the tokens handed out.
#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    /// Registered redirect URIs.
    pub(crate) redirects: Vec<String>,
    codes: HashMap<String, Grant>,
    /// Access token → (user, scope).
    tokens: HashMap<String, (u64, String)>,
    /// The user the browser is logged in as: the consent page is skipped for them.
    pub(crate) signed_in: Option<u64>,
    counter: u64,
}

#[derive(Debug)]
struct Grant {
    user: u64,
    redirect_uri: String,
    scope: String,
    until: Instant,
}

impl OAuthState {
    fn secret(&mut self, seed: u64, kind: &str) -> String {
        self.counter += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{kind}{seed:x}{:x}{nanos:x}", self.counter)
    }

    /// The user whose access token this is.
    pub(crate) fn user_of(&self, token: &str) -> Option<u64> {
        self.tokens.get(token).map(|(user, _)| *user)
    }
}

/// The authorize request's parameters.
#[derive(Debug, Deserialize)]
pub(crate) struct Authorize {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    redirect_uri: String,
    /// The consent form's choice: the simulated user.
    #[serde(default)]
    user_id: Option<String>,
    /// `authorize` or `cancel`.
    #[serde(default)]
    decision: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What is wrong with an authorize request, as Discord's page says it.
fn check(inner: &Inner, request: &Authorize) -> Result<(), String> {
    let world = inner.world();
    if request.client_id != world.application_id.to_string() {
        return Err("Unknown application (invalid client_id).".to_owned());
    }
    drop(world);
    if request.response_type != "code" {
        return Err("Invalid response_type: only \"code\" is supported.".to_owned());
    }
    if request.scope.split_whitespace().all(|s| s != "identify") {
        return Err("Invalid scope: this application asks for \"identify\".".to_owned());
    }
    let state = inner.oauth();
    if !state.redirects.contains(&request.redirect_uri) {
        return Err("Invalid OAuth2 redirect_uri.".to_owned());
    }
    Ok(())
}

/// `GET /oauth2/authorize`: the consent page.
pub(crate) async fn authorize_page(
    State(inner): State<Arc<Inner>>,
    Query(request): Query<Authorize>,
) -> Response {
    if let Err(error) = check(&inner, &request) {
        return (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!doctype html><title>Discord</title><p id=\"error\">{}</p>",
                escape(&error)
            )),
        )
            .into_response();
    }
    let signed_in = inner.oauth().signed_in;
    if let Some(user) = signed_in {
        return grant(&inner, &request, user);
    }
    let world = inner.world();
    let users: String = world
        .users
        .values()
        .filter(|u| !u.bot)
        .map(|u| format!("<option value=\"{}\">{}</option>", u.id, escape(&u.name)))
        .collect();
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        )
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Discord (simulated): authorize</title></head>\
         <body><h1>Zoryx wants to access your account</h1><p>It will be able to: know your username and avatar (identify).</p>\
         <form method=\"post\" action=\"/oauth2/authorize\">{}{}{}{}{}\
         <label>Logged in to the simulated Discord as <select name=\"user_id\" id=\"user\">{users}</select></label>\
         <button type=\"submit\" name=\"decision\" value=\"cancel\" id=\"cancel\">Cancel</button>\
         <button type=\"submit\" name=\"decision\" value=\"authorize\" id=\"authorize\">Authorize</button></form></body></html>",
        hidden("response_type", &request.response_type),
        hidden("client_id", &request.client_id),
        hidden("scope", &request.scope),
        hidden("state", request.state.as_deref().unwrap_or_default()),
        hidden("redirect_uri", &request.redirect_uri),
    );
    Html(page).into_response()
}

/// `POST /oauth2/authorize`: the consent, answered with the redirect back.
pub(crate) async fn authorize(
    State(inner): State<Arc<Inner>>,
    Form(request): Form<Authorize>,
) -> Response {
    if let Err(error) = check(&inner, &request) {
        return (StatusCode::BAD_REQUEST, error).into_response();
    }
    if request.decision.as_deref() != Some("authorize") {
        let (separator, state) = back(&request);
        return Redirect::to(&format!(
            "{}{separator}error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request{state}",
            request.redirect_uri
        ))
        .into_response();
    }
    let user = request
        .user_id
        .as_deref()
        .and_then(|u| u.parse::<u64>().ok());
    let Some(user) = user.filter(|u| inner.world().users.get(u).is_some_and(|u| !u.bot)) else {
        return (StatusCode::BAD_REQUEST, "Unknown user.").into_response();
    };
    grant(&inner, &request, user)
}

/// What goes before the answer's parameters in the redirect URI, and its `&state=…`.
fn back(request: &Authorize) -> (char, String) {
    let state = request
        .state
        .as_deref()
        .map(|s| format!("&state={}", encode(s)))
        .unwrap_or_default();
    let separator = if request.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    (separator, state)
}

/// A code for `user`, and the redirect back with it.
fn grant(inner: &Inner, request: &Authorize, user: u64) -> Response {
    let (separator, state) = back(request);
    let seed = inner.config.seed;
    let mut oauth = inner.oauth();
    let code = oauth.secret(seed, "c");
    oauth.codes.insert(
        code.clone(),
        Grant {
            user,
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            until: Instant::now() + CODE_LIFETIME,
        },
    );
    Redirect::to(&format!(
        "{}{separator}code={code}{state}",
        request.redirect_uri
    ))
    .into_response()
}

/// The token request's form.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": error, "error_description": description}).to_string(),
    )
        .into_response()
}

/// The client id and secret of HTTP Basic `Authorization`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let decoded = base64_decode(value.strip_prefix("Basic ")?.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /api/v10/oauth2/token`.
pub(crate) async fn token(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let (client_id, secret) = match basic(&headers) {
        Some(pair) => pair,
        None => (
            form.client_id.clone().unwrap_or_default(),
            form.client_secret.clone().unwrap_or_default(),
        ),
    };
    let app_id = inner.world().application_id.to_string();
    if client_id != app_id || secret != inner.config.oauth_client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Invalid client");
    }
    if form.grant_type != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        );
    }
    let seed = inner.config.seed;
    let mut oauth = inner.oauth();
    let Some(grant) = oauth.codes.remove(&form.code) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid \"code\" in request.",
        );
    };
    if grant.until < Instant::now() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid \"code\" in request.",
        );
    }
    if grant.redirect_uri != form.redirect_uri {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid \"redirect_uri\" in request.",
        );
    }
    let access = oauth.secret(seed, "a");
    let refresh = oauth.secret(seed, "r");
    oauth
        .tokens
        .insert(access.clone(), (grant.user, grant.scope.clone()));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 604_800,
            "refresh_token": refresh,
            "scope": grant.scope,
        })
        .to_string(),
    )
        .into_response()
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Standard base64 (with or without padding); `None` when it is not base64.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode() {
        let mut headers = HeaderMap::new();
        // "42:s3cret"
        headers.insert(
            header::AUTHORIZATION,
            "Basic NDI6czNjcmV0".parse().expect("header"),
        );
        assert_eq!(
            basic(&headers),
            Some(("42".to_owned(), "s3cret".to_owned()))
        );
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
