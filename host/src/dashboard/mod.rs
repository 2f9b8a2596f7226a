//! The web dashboard, served by the host itself (off unless `dashboard.enabled`).
//!
//! One entry point, [`start`]: an axum server on `dashboard.bind` with server-rendered pages
//! ([`pages`], templates in `templates/` rendered by minijinja), htmx for actions and
//! Server-Sent Events for live figures and the log tail ([`live`]); every asset is embedded in
//! the binary ([`assets`]), nothing comes from a CDN.
//!
//! Every route is in one table ([`routes::ROUTES`]) with what it needs: nothing (the login
//! pages, assets), a login, or a [`Permission`]. One guard (`routes::guard`) applies it before
//! any handler runs: no session → the login page (pages) or 401; a role without the permission
//! → 403; a state change without the session's CSRF token, or from another site → 403. A route
//! missing from the table is refused for everybody. Actions go through the same operations as
//! the console ([`crate::manager::Manager`]'s load, unload and reload; the config's checked,
//! atomic [`crate::runtime::Shared::set_config_key`]) and are written to the audit log
//! ([`audit`]) with logins and refusals.
//!
//! Who gets in ([`auth`], [`access`], [`oauth`]): a one-time login code printed on the console
//! (the first bot owner; offline mode), or Discord login (OAuth2) for bot owners and the people
//! `dashboard.users` names.

pub mod access;
pub mod actions;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod live;
pub mod oauth;
pub mod pages;
pub mod panels;
pub mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::config::DashboardConfig;
use crate::diagnostics::Diagnostics;
use crate::discord::GatewayStatus;
use crate::logging::LogTail;
use crate::manager::Manager;
use crate::storage::db::SqliteSettings;

pub use access::{Access, Permission, Role};

/// The largest request body taken (a config value is the largest thing sent); past it, 413.
pub const MAX_BODY: usize = 64 * 1024;

/// Why the dashboard could not start.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The address could not be bound.
    #[error("cannot serve the dashboard on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `dashboard.bind` does not parse (validation refuses it first).
    #[error("dashboard.bind {0:?} is not an address and port")]
    Address(String),
    /// The system's random source failed.
    #[error("no random numbers for the login code: {0}")]
    Random(String),
    /// A template does not compile (a build defect).
    #[error("dashboard template: {0}")]
    Template(String),
}

/// What the dashboard shows and acts on: the host's own parts.
#[derive(Clone)]
pub struct Sources {
    /// Plugins, the dispatcher (commands, hooks), the running config.
    pub manager: Arc<Manager>,
    /// Shards, and the connection's counters and guilds.
    pub gateway: GatewayStatus,
    /// System figures, grades and history.
    pub diagnostics: Option<Arc<Diagnostics>>,
    /// The databases (read only).
    pub databases: Option<Arc<SqliteSettings>>,
    /// The recent log and its feed.
    pub logs: Option<LogTail>,
    /// Bot owners (`BOT_OWNER_ID`, `owner_ids`): owners of the dashboard; the first one is who
    /// a console login code logs in.
    pub owners: Vec<u64>,
    /// Discord's API base (`discord.api_base`), for Discord login; `None`: discord.com.
    pub api_base: Option<String>,
    /// The data folder (the audit log's and the sessions' files); `None`: in memory only.
    pub data_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("owners", &self.owners)
            .field("api_base", &self.api_base)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// The running dashboard's shared state.
pub(crate) struct App {
    pub(crate) sources: Sources,
    pub(crate) config: DashboardConfig,
    pub(crate) sessions: auth::Sessions,
    pub(crate) audit: Arc<audit::Audit>,
    pub(crate) oauth: Option<oauth::OAuth>,
    pub(crate) templates: minijinja::Environment<'static>,
    /// Cookies get `Secure` (the public URL is https).
    pub(crate) secure: bool,
    pub(crate) public_url: String,
    pub(crate) started: Instant,
    /// OAuth2 `state`s handed out and not yet used (digests), with when they expire.
    pub(crate) states: std::sync::Mutex<Vec<([u8; 32], Instant)>>,
}

impl App {
    /// The roles in force now (the running config's `dashboard` section).
    pub(crate) fn access(&self) -> Access {
        let document = self.sources.manager.dispatcher().shared().config_document();
        let config = document
            .get("dashboard")
            .and_then(|d| serde_json::from_value::<DashboardConfig>(d.clone()).ok())
            .unwrap_or_else(|| self.config.clone());
        Access::new(&self.sources.owners, &config)
    }
}

/// A running dashboard. [`Dashboard::shutdown`] stops it.
pub struct Dashboard {
    addr: SocketAddr,
    public_url: String,
    app: Arc<App>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// The console's way to the running dashboard's login links. Weak: the dashboard's state holds
/// the manager, which holds this.
struct Links(std::sync::Weak<App>);

impl crate::runtime::LoginLinks for Links {
    fn login_link(&self) -> Result<String, String> {
        let app = self
            .0
            .upgrade()
            .ok_or_else(|| "the dashboard has stopped".to_owned())?;
        login_link(&app).map_err(|e| e.to_string())
    }
}

/// A new one-time login link for the first bot owner (offline mode: the operator), valid
/// [`auth::CODE_LIFETIME`].
fn login_link(app: &App) -> Result<String, DashboardError> {
    let owner = app.sources.owners.first().copied().unwrap_or(0);
    let code = app
        .sessions
        .issue_code(owner, "owner (console code)")
        .map_err(|e| DashboardError::Random(e.to_string()))?;
    Ok(format!("{}/login#code={code}", app.public_url))
}

/// How the console shows a login link.
pub fn link_line(link: &str) -> String {
    format!(
        "dashboard login link (once, {} min): {link}",
        auth::CODE_LIFETIME.as_secs() / 60
    )
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Dashboard {
    /// The address it is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn shared(&self) -> &crate::runtime::Shared {
        self.app.sources.manager.dispatcher().shared()
    }

    /// Where people open it: `dashboard.public_url`, else `http://ADDRESS`.
    pub fn url(&self) -> &str {
        &self.public_url
    }

    /// A new one-time login link for the first bot owner (offline mode: the operator), valid
    /// [`auth::CODE_LIFETIME`]. The code is in the fragment (`#code=`), which browsers never send
    /// to a server or a proxy: the login page posts it.
    /// The console's `dashboard link` asks for one too.
    pub fn login_link(&self) -> Result<String, DashboardError> {
        login_link(&self.app)
    }

    /// Stops serving (open live streams end) and waits for the server to end; the console's
    /// `dashboard link` then says it is off.
    pub async fn shutdown(self) {
        self.shared().set_login_links(None);
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

/// Serves the dashboard as `config` says, showing and acting on `sources`; `None` when
/// `dashboard.enabled` is off.
pub async fn start(
    config: &DashboardConfig,
    sources: Sources,
) -> Result<Option<Dashboard>, DashboardError> {
    if !config.enabled {
        return Ok(None);
    }
    let bind = config
        .address()
        .ok_or_else(|| DashboardError::Address(config.bind.clone()))?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|source| DashboardError::Bind { addr: bind, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| DashboardError::Bind { addr: bind, source })?;
    let public_url = config
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{addr}"));
    let oauth = match (&config.oauth_client_id, &config.oauth_client_secret) {
        (Some(id), Some(secret)) => Some(oauth::OAuth::new(
            id,
            secret,
            sources.api_base.as_deref(),
            &public_url,
        )),
        _ => None,
    };
    let stop = CancellationToken::new();
    let app = Arc::new(App {
        audit: audit::Audit::open(sources.data_dir.as_deref()),
        sessions: auth::Sessions::open(
            Duration::from_secs(config.session_hours * 3600),
            config.login_attempts_per_minute,
            sources.data_dir.as_deref(),
        ),
        secure: public_url.starts_with("https://"),
        public_url: public_url.clone(),
        templates: assets::templates().map_err(|e| DashboardError::Template(e.to_string()))?,
        oauth,
        config: config.clone(),
        sources,
        started: Instant::now(),
        states: std::sync::Mutex::new(Vec::new()),
    });
    app.sources
        .manager
        .dispatcher()
        .shared()
        .set_login_links(Some(Box::new(Links(Arc::downgrade(&app)))));
    let router = routes::router(Arc::clone(&app), stop.clone());
    let token = stop.clone();
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(token.cancelled_owned());
        if let Err(error) = serve.await {
            tracing::warn!(%error, "the dashboard stopped");
        }
    });
    tracing::info!(%addr, url = %public_url, "dashboard listening");
    Ok(Some(Dashboard {
        addr,
        public_url,
        app,
        stop,
        task,
    }))
}
