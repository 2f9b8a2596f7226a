//! The state changes (POST, behind the guard's CSRF and permission checks) and the logins.
//!
//! Plugin operations call the same [`Manager`] operations as the console (`load NAME`,
//! `unload NAME`, `reload NAME`), with names only (never a path: a library is loaded from
//! `extensions/` or not at all); config changes go through the same checked, atomic
//! [`crate::runtime::Shared::set_config_key`] as `fw_config_set`. Each is audited.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::App;
use super::audit::Entry;
use super::auth::{self, Via};
use super::routes::{Current, refusal};
use crate::manager::Manager;

/// The libraries in `extensions/` by extension name (what may be loaded).
pub(crate) fn library_names(manager: &Manager) -> Vec<String> {
    manager.extension_names()
}

async fn record(app: &App, current: &Current, action: &str, target: &str, outcome: &str) {
    let (user_id, user) = current
        .session()
        .map(|s| (s.user_id, s.user_name.clone()))
        .unwrap_or_default();
    app.audit
        .record(Entry {
            at: auth::unix_now(),
            user_id,
            user,
            ip: current.ip.to_string(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.to_owned(),
        })
        .await;
}

/// A notice for the page's notice area plus, when given, a fragment for the action's target.
fn answer(ok: bool, message: &str, fragment: Option<String>) -> Response {
    let notice = format!(
        "<div id=\"flash\" hx-swap-oob=\"innerHTML\"><p class=\"notice {}\">{}</p></div>",
        if ok { "ok" } else { "error" },
        minijinja::HtmlEscape(message)
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("{}{notice}", fragment.unwrap_or_default()),
    )
        .into_response()
}

/// The plugins table after an action.
async fn plugins_table(app: &App, current: &Current) -> Option<String> {
    let ctx = super::pages::plugins_context(app, current).await;
    app.templates
        .get_template("plugins_table.html")
        .and_then(|t| t.render(ctx))
        .ok()
}

/// A plugin name as the console takes it, refused when it could be a path.
fn plugin_name(name: &str) -> Option<String> {
    let name = crate::manager::normalise(name);
    (!name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then_some(name)
}

/// `POST /plugins/{name}/reload`.
pub(crate) async fn plugin_reload(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(name): Path<String>,
) -> Response {
    let Some(name) = plugin_name(&name) else {
        return refusal(StatusCode::BAD_REQUEST, "Not a plugin name.", true);
    };
    let (ok, message) = match app.sources.manager.reload(&name).await {
        Ok(done) => (
            true,
            done.iter()
                .map(|r| {
                    format!(
                        "reloaded {} (generation {} -> {}, {:.1} ms)",
                        r.name, r.from, r.to, r.millis
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(error) => (false, format!("error: {error}")),
    };
    record(
        &app,
        &current,
        "plugins.reload",
        &name,
        &outcome(ok, &message),
    )
    .await;
    answer(ok, &message, plugins_table(&app, &current).await)
}

/// `POST /plugins/{name}/unload` (`force=true` also unloads dependents, as `unload --force`).
pub(crate) async fn plugin_unload(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(name): Path<String>,
    Query(force): Query<ForceQuery>,
) -> Response {
    let Some(name) = plugin_name(&name) else {
        return refusal(StatusCode::BAD_REQUEST, "Not a plugin name.", true);
    };
    let (ok, message) = match app.sources.manager.unload(&name, force.force).await {
        Ok(names) => (true, format!("unloaded {}", names.join(", "))),
        Err(error) => (false, format!("error: {error}")),
    };
    record(
        &app,
        &current,
        "plugins.unload",
        &name,
        &outcome(ok, &message),
    )
    .await;
    answer(ok, &message, plugins_table(&app, &current).await)
}

/// `?force=true`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ForceQuery {
    #[serde(default)]
    force: bool,
}

/// `POST /plugins/{name}/load`: a library of `extensions/`, by name.
pub(crate) async fn plugin_load(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(name): Path<String>,
) -> Response {
    let known = library_names(&app.sources.manager);
    let Some(name) = plugin_name(&name).filter(|n| known.contains(n)) else {
        record(
            &app,
            &current,
            "plugins.load",
            &name,
            "refused: not a library in extensions/",
        )
        .await;
        return refusal(
            StatusCode::BAD_REQUEST,
            "No such library in extensions/ (only those can be loaded).",
            true,
        );
    };
    let (ok, message) = match app.sources.manager.load(&name).await {
        Ok(loaded) => (true, format!("loaded {loaded}")),
        Err(error) => (false, format!("error: {error}")),
    };
    record(
        &app,
        &current,
        "plugins.load",
        &name,
        &outcome(ok, &message),
    )
    .await;
    answer(ok, &message, plugins_table(&app, &current).await)
}

fn outcome(ok: bool, message: &str) -> String {
    if ok {
        "ok".to_owned()
    } else {
        format!("failed: {message}")
    }
}

/// The config editor's form.
#[derive(Debug, Deserialize)]
pub(crate) struct ConfigForm {
    key: String,
    value: String,
}

/// `POST /config`: one key, checked with the whole file and written atomically, as
/// `fw_config_set` does.
pub(crate) async fn config_set(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Form(form): Form<ConfigForm>,
) -> Response {
    use crate::config::edit;
    let key = form.key.trim().to_owned();
    let value = edit::parse_value(&form.value);
    let shown = edit::shown(&key, &value);
    let result = app
        .sources
        .manager
        .dispatcher()
        .shared()
        .set_config_key(&key, value)
        .await;
    let (ok, message) = match result {
        Ok(true) => (true, format!("{key} = {shown}: saved and applied now.")),
        Ok(false) => (
            true,
            format!("{key} = {shown}: saved; it takes effect at the next start."),
        ),
        Err(error) => (
            false,
            format!("Not changed: {error}. config.json was left as it was."),
        ),
    };
    record(
        &app,
        &current,
        "config.edit",
        &format!("{key} = {shown}"),
        &outcome(ok, &message),
    )
    .await;
    answer(ok, &message, None)
}

/// `POST /sessions/{id}/revoke`.
pub(crate) async fn session_revoke(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path(id): Path<String>,
) -> Response {
    let ended = app.sessions.revoke(&id).await;
    let (ok, message) = match &ended {
        Some(session) => (
            true,
            format!(
                "ended the session of {} ({})",
                session.user_name, session.id
            ),
        ),
        None => (false, "no such session".to_owned()),
    };
    record(
        &app,
        &current,
        "sessions.revoke",
        &id,
        &outcome(ok, &message),
    )
    .await;
    answer(ok, &message, None)
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    if let Some(token) = &current.token {
        app.sessions.end(token).await;
    }
    record(&app, &current, "logout", "", "ok").await;
    (
        StatusCode::OK,
        [
            (
                header::SET_COOKIE,
                auth::set_cookie(auth::SESSION_COOKIE, "", 0, app.secure),
            ),
            (
                header::HeaderName::from_static("hx-redirect"),
                "/login".to_owned(),
            ),
        ],
        "logged out",
    )
        .into_response()
}

/// The login form: a one-time code.
#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    code: String,
}

/// Starts a session for `user` and sends the browser to the overview.
async fn logged_in(app: &App, current: &Current, user_id: u64, name: &str, via: Via) -> Response {
    let Ok((token, session)) = app.sessions.start(user_id, name, current.ip, via).await else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No random numbers for a session.",
            false,
        );
    };
    let mut as_user = current.clone();
    as_user.session = Some(session);
    record(app, &as_user, "login", &format!("{via:?}"), "ok").await;
    let cookie = auth::set_cookie(
        auth::SESSION_COOKIE,
        &token,
        app.config.session_hours * 3600,
        app.secure,
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// A refused login: audited, and the login page's message.
async fn login_refused(app: &App, current: &Current, who: &str, why: &str) -> Response {
    app.audit
        .record(Entry {
            at: auth::unix_now(),
            user_id: 0,
            user: who.to_owned(),
            ip: current.ip.to_string(),
            action: "login".to_owned(),
            target: String::new(),
            outcome: format!("refused: {why}"),
        })
        .await;
    refusal(
        StatusCode::FORBIDDEN,
        &format!("Login refused: {why}."),
        false,
    )
}

fn too_many() -> Response {
    refusal(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many login attempts from this address; wait a minute.",
        false,
    )
}

/// `POST /login/code`: a one-time code from the console.
pub(crate) async fn login_code(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Form(form): Form<CodeForm>,
) -> Response {
    if !app.sessions.attempt(current.ip) {
        return too_many();
    }
    match app.sessions.redeem_code(form.code.trim()) {
        Some((user_id, name)) => logged_in(&app, &current, user_id, &name, Via::ConsoleCode).await,
        None => {
            login_refused(
                &app,
                &current,
                "console code",
                "unknown, used or expired code",
            )
            .await
        }
    }
}

/// `GET /login/discord`: off to Discord's authorize page, with a `state` kept in a cookie and
/// here (one use, 10 minutes).
pub(crate) async fn login_discord(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
) -> Response {
    let Some(oauth) = &app.oauth else {
        return refusal(
            StatusCode::NOT_FOUND,
            "Discord login is not set up (dashboard.oauth_client_id and its secret).",
            false,
        );
    };
    if !app.sessions.attempt(current.ip) {
        return too_many();
    }
    let Ok(state) = auth::new_secret() else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No random numbers.",
            false,
        );
    };
    if let Ok(mut states) = app.states.lock() {
        let now = Instant::now();
        states.retain(|(_, until)| *until > now);
        states.push((auth::digest(&state), now + Duration::from_secs(600)));
    }
    let cookie = auth::set_cookie(auth::STATE_COOKIE, &state, 600, app.secure);
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&oauth.authorize_url(&state)),
    )
        .into_response()
}

/// What Discord sends back.
#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /login/callback?code=&state=`: the state checked against the cookie (constant-time)
/// and spent, the code exchanged, the user's role looked up; deny by default.
pub(crate) async fn login_callback(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(oauth) = &app.oauth else {
        return refusal(StatusCode::NOT_FOUND, "Discord login is not set up.", false);
    };
    if !app.sessions.attempt(current.ip) {
        return too_many();
    }
    if let Some(error) = &callback.error {
        return login_refused(&app, &current, "discord", &format!("Discord said {error}")).await;
    }
    let cookie_state = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| auth::cookie(c, auth::STATE_COOKIE))
        .unwrap_or_default();
    let (Some(code), Some(state)) = (&callback.code, &callback.state) else {
        return login_refused(&app, &current, "discord", "no code or state").await;
    };
    let known = app.states.lock().ok().is_some_and(|mut states| {
        let given = auth::digest(state);
        let now = Instant::now();
        let before = states.len();
        states.retain(|(digest, until)| {
            !(bool::from(subtle::ConstantTimeEq::ct_eq(&digest[..], &given[..])) && *until > now)
        });
        states.len() < before
    });
    if !known || !auth::same_secret(state, cookie_state) {
        return login_refused(&app, &current, "discord", "the state does not match").await;
    }
    let user = match oauth.user_of(code).await {
        Ok(user) => user,
        Err(error) => return login_refused(&app, &current, "discord", &error).await,
    };
    if app.access().role_of(user.id).is_none() {
        return login_refused(
            &app,
            &current,
            &format!("{} ({})", user.name, user.id),
            "not a bot owner nor in dashboard.users",
        )
        .await;
    }
    let mut response = logged_in(&app, &current, user.id, &user.name, Via::Discord).await;
    if let Ok(value) =
        auth::set_cookie(auth::STATE_COOKIE, "", 0, app.secure).parse::<header::HeaderValue>()
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_never_paths() {
        assert_eq!(plugin_name("hello").as_deref(), Some("hello"));
        assert_eq!(plugin_name("my plugin").as_deref(), Some("my_plugin"));
        for bad in ["../x", "/tmp/x.so", "a/b", "x.so", "", "..", "a\0b"] {
            assert_eq!(plugin_name(bad), None, "{bad:?}");
        }
    }
}
