//! The route table and the one guard every request passes.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use super::access::{Permission, Role};
use super::auth::{self, Session};
use super::{App, actions, assets, live, pages, panels};

/// What a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing: the login pages and the assets.
    Public,
    /// A login, whatever the role.
    LoggedIn,
    /// A login whose role has this permission.
    Can(Permission),
}

/// Every route: method, path (as routed), what it needs. A request whose route is not here is
/// refused, whoever sends it.
pub const ROUTES: &[(&str, &str, Need)] = &[
    ("GET", "/login", Need::Public),
    ("POST", "/login/code", Need::Public),
    ("GET", "/login/discord", Need::Public),
    ("GET", "/login/callback", Need::Public),
    ("GET", "/static/{file}", Need::Public),
    ("POST", "/logout", Need::LoggedIn),
    ("GET", "/credits", Need::LoggedIn),
    ("GET", "/invite", Need::LoggedIn),
    ("GET", "/", Need::Can(Permission::ViewOverview)),
    ("GET", "/live/overview", Need::Can(Permission::ViewOverview)),
    ("GET", "/plugins", Need::Can(Permission::ViewPlugins)),
    (
        "POST",
        "/plugins/{name}/reload",
        Need::Can(Permission::PluginsReload),
    ),
    (
        "POST",
        "/plugins/{name}/unload",
        Need::Can(Permission::PluginsUnload),
    ),
    (
        "POST",
        "/plugins/{name}/load",
        Need::Can(Permission::PluginsLoad),
    ),
    ("GET", "/commands", Need::Can(Permission::ViewCommands)),
    (
        "POST",
        "/commands/permissions",
        Need::Can(Permission::CommandsPermissions),
    ),
    ("GET", "/hooks", Need::Can(Permission::ViewHooks)),
    (
        "POST",
        "/hooks/{action}",
        Need::Can(Permission::HooksManage),
    ),
    ("GET", "/chat", Need::Can(Permission::ChatSend)),
    ("POST", "/chat", Need::Can(Permission::ChatSend)),
    ("GET", "/shards", Need::Can(Permission::ViewShards)),
    ("GET", "/system", Need::Can(Permission::ViewSystem)),
    (
        "GET",
        "/system/chart.png",
        Need::Can(Permission::ViewSystem),
    ),
    ("GET", "/logs", Need::Can(Permission::ViewLogs)),
    ("GET", "/live/logs", Need::Can(Permission::ViewLogs)),
    ("GET", "/config", Need::Can(Permission::ViewConfig)),
    ("POST", "/config", Need::Can(Permission::ConfigEdit)),
    ("GET", "/databases", Need::Can(Permission::ViewDatabases)),
    (
        "GET",
        "/databases/browse",
        Need::Can(Permission::ViewDatabases),
    ),
    (
        "POST",
        "/databases/check",
        Need::Can(Permission::DatabasesCheck),
    ),
    ("GET", "/guilds", Need::Can(Permission::ViewGuilds)),
    (
        "POST",
        "/guilds/{id}/settings",
        Need::Can(Permission::GuildsManage),
    ),
    (
        "POST",
        "/guilds/{id}/leave",
        Need::Can(Permission::GuildsLeave),
    ),
    ("GET", "/security", Need::Can(Permission::ViewSecurity)),
    (
        "POST",
        "/sessions/{id}/revoke",
        Need::Can(Permission::SessionsRevoke),
    ),
    (
        "GET",
        "/panels/{plugin}/{panel}",
        Need::Can(Permission::ViewPanels),
    ),
    (
        "POST",
        "/panels/{plugin}/{panel}",
        Need::Can(Permission::PanelsAct),
    ),
];

/// Who is asking, put in the request by `guard` for the handlers.
#[derive(Clone, Debug)]
pub struct Current {
    /// The session (`None` on public routes).
    pub session: Option<Session>,
    /// Its role.
    pub role: Option<Role>,
    /// The client's address.
    pub ip: IpAddr,
    /// The session cookie's value (to end it at logout).
    pub token: Option<String>,
}

impl Current {
    /// Whether the role has `permission` (what pages show buttons for).
    pub fn can(&self, permission: Permission) -> bool {
        self.role.as_ref().is_some_and(|r| r.allows(permission))
    }

    /// The logged-in session; public routes have none.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }
}

pub(crate) fn router(app: Arc<App>, stop: CancellationToken) -> Router {
    Router::new()
        .route("/login", get(pages::login))
        .route("/login/code", post(actions::login_code))
        .route("/login/discord", get(actions::login_discord))
        .route("/login/callback", get(actions::login_callback))
        .route("/static/{file}", get(assets::serve))
        .route("/logout", post(actions::logout))
        .route("/credits", get(pages::credits))
        .route("/invite", get(pages::invite))
        .route("/", get(pages::overview))
        .route("/live/overview", get(live::overview))
        .route("/plugins", get(pages::plugins))
        .route("/plugins/{name}/reload", post(actions::plugin_reload))
        .route("/plugins/{name}/unload", post(actions::plugin_unload))
        .route("/plugins/{name}/load", post(actions::plugin_load))
        .route("/commands", get(pages::commands))
        .route("/commands/permissions", post(actions::command_permissions))
        .route("/hooks", get(pages::hooks))
        .route("/hooks/{action}", post(actions::hook_action))
        .route("/chat", get(pages::chat).post(actions::chat_send))
        .route("/shards", get(pages::shards))
        .route("/system", get(pages::system))
        .route("/system/chart.png", get(pages::system_chart))
        .route("/logs", get(pages::logs))
        .route("/live/logs", get(live::logs))
        .route("/config", get(pages::config).post(actions::config_set))
        .route("/databases", get(pages::databases))
        .route("/databases/browse", get(pages::database_browse))
        .route("/databases/check", post(actions::database_check))
        .route("/guilds", get(pages::guilds))
        .route("/guilds/{id}/settings", post(actions::guild_settings))
        .route("/guilds/{id}/leave", post(actions::guild_leave))
        .route("/security", get(pages::security))
        .route("/sessions/{id}/revoke", post(actions::session_revoke))
        .route(
            "/panels/{plugin}/{panel}",
            get(panels::show).post(panels::act),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            guard,
        ))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(super::MAX_BODY))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::Extension(stop))
        .with_state(app)
}

async fn not_found() -> Response {
    refusal(StatusCode::NOT_FOUND, "No such page.", false)
}

/// Headers on every answer: no framing, no sniffing, no referrer, scripts and styles from the
/// dashboard itself only, nothing cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // `same-origin`, not `no-referrer`: with the latter a form POST carries `Origin: null`.
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The client's address: the peer, or (with `dashboard.trust_forwarded_for`) the address the
/// proxy appended last to `X-Forwarded-For`.
pub(crate) fn client_ip(app: &App, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if app.config.trust_forwarded_for
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}

/// Whether a state change comes from the dashboard's own pages: no `Sec-Fetch-Site:
/// cross-site`, and an `Origin`, when sent, that is the public URL's or the `Host`'s.
pub(crate) fn same_origin(app: &App, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if matches!(text("sec-fetch-site"), Some("cross-site" | "same-site")) {
        return false;
    }
    let Some(origin) = text("origin") else {
        return true;
    };
    let public = app
        .public_url
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    origin == public
        || text("host").is_some_and(|host| {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        })
}

/// A refusal: an error page, or for htmx a message put in the page's notice area.
pub(crate) fn refusal(status: StatusCode, message: &str, htmx: bool) -> Response {
    let escaped = minijinja::HtmlEscape(message).to_string();
    if htmx {
        return (
            status,
            [
                ("hx-retarget", "#flash"),
                ("hx-reswap", "innerHTML"),
                ("content-type", "text/html; charset=utf-8"),
            ],
            format!("<p class=\"notice error\">{escaped}</p>"),
        )
            .into_response();
    }
    (
        status,
        [("content-type", "text/html; charset=utf-8")],
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Zoryx \
             dashboard: {code}</title><link rel=\"stylesheet\" href=\"/static/dashboard.css\">\
             </head><body class=\"bare\"><main><h1>{code}</h1><p class=\"notice error\">{escaped}\
             </p><p><a href=\"/\">Overview</a> · <a href=\"/login\">Log in</a></p></main></body>\
             </html>",
            code = status.as_u16()
        ),
    )
        .into_response()
}

/// Whether the request came from htmx.
pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// The one guard: the route's need from [`ROUTES`], the session, the role, and for state
/// changes the origin and the CSRF token. Refusals change nothing; refused actions are audited.
async fn guard(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let raw_path = request.uri().path().to_owned();
    let headers = request.headers();
    let htmx = is_htmx(headers);
    let ip = client_ip(&app, peer, headers);
    let Some(need) = ROUTES
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map(|(_, _, need)| *need)
    else {
        return refusal(StatusCode::FORBIDDEN, "This route is not allowed.", htmx);
    };
    let changes = method != Method::GET && method != Method::HEAD;
    if changes && !same_origin(&app, headers) {
        return refusal(
            StatusCode::FORBIDDEN,
            "Refused: the request did not come from the dashboard's own pages.",
            htmx,
        );
    }
    if need == Need::Public {
        request.extensions_mut().insert(Current {
            session: None,
            role: None,
            ip,
            token: None,
        });
        return next.run(request).await;
    }
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| auth::cookie(c, auth::SESSION_COOKIE))
        .map(str::to_owned);
    let Some((token, session)) = token.and_then(|t| app.sessions.get(&t).map(|s| (t, s))) else {
        if !changes && !path.starts_with("/live/") && !htmx {
            return Redirect::to("/login").into_response();
        }
        return refusal(
            StatusCode::UNAUTHORIZED,
            "Not logged in (or the session ended): log in again.",
            htmx,
        );
    };
    // A console code is given to whoever reads the host's console: the operator, an owner.
    let role = match session.via {
        auth::Via::ConsoleCode => Some(Role::Owner),
        auth::Via::Discord => app.access().role_of(session.user_id),
    };
    let Some(role) = role else {
        return refusal(
            StatusCode::FORBIDDEN,
            "Your account no longer has access to the dashboard.",
            htmx,
        );
    };
    if changes {
        let sent = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !auth::same_secret(sent, &session.csrf) {
            audit_refusal(
                &app,
                &session,
                ip,
                &method,
                &raw_path,
                "refused: no valid CSRF token",
            )
            .await;
            return refusal(
                StatusCode::FORBIDDEN,
                "Refused: the request had no valid CSRF token. Reload the page and try again.",
                htmx,
            );
        }
    }
    if let Need::Can(permission) = need
        && !role.allows(permission)
    {
        if changes {
            audit_refusal(
                &app,
                &session,
                ip,
                &method,
                &raw_path,
                &format!("refused: role {} lacks {}", role.name(), permission.name()),
            )
            .await;
        }
        return refusal(
            StatusCode::FORBIDDEN,
            &format!(
                "Your role ({}) does not allow this ({}).",
                role.name(),
                permission.name()
            ),
            htmx,
        );
    }
    request.extensions_mut().insert(Current {
        session: Some(session),
        role: Some(role),
        ip,
        token: Some(token),
    });
    next.run(request).await
}

async fn audit_refusal(
    app: &App,
    session: &Session,
    ip: IpAddr,
    method: &Method,
    path: &str,
    outcome: &str,
) {
    app.audit
        .record(super::audit::Entry {
            at: auth::unix_now(),
            user_id: session.user_id,
            user: session.user_name.clone(),
            ip: ip.to_string(),
            action: format!("{method} {path}"),
            target: String::new(),
            outcome: outcome.to_owned(),
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_needs_a_permission_that_is_not_a_view() {
        for (method, path, need) in ROUTES {
            if *method == "POST" && !path.starts_with("/login") && *path != "/logout" {
                assert!(
                    matches!(need, Need::Can(p) if !p.is_view()),
                    "{method} {path}: {need:?}"
                );
            }
        }
    }
}
