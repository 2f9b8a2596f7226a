//! A dashboard over a [`TestBot`]: the simulator (with its OAuth2 endpoints), a plugin, the
//! live log, and a small HTTP client that keeps a session cookie and its CSRF token.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use tracing_subscriber::layer::SubscriberExt as _;
use zoryx_host::dashboard::{self, Dashboard, Sources};
use zoryx_host::logging::LogTail;

use super::bot::TestBot;

/// The process's live log (one per test binary): a global subscriber feeding it.
pub fn log_tail() -> LogTail {
    static TAIL: OnceLock<LogTail> = OnceLock::new();
    TAIL.get_or_init(|| {
        let tail = LogTail::new(1000);
        let subscriber = tracing_subscriber::Registry::default()
            .with(tail.layer())
            .with(tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing::subscriber::set_global_default(subscriber);
        tail
    })
    .clone()
}

/// A bot with the `basic` fixture plugin and its dashboard.
pub struct TestDash {
    pub bot: TestBot,
    pub dash: Option<Dashboard>,
    pub url: String,
    pub config_file: PathBuf,
    /// The `dashboard` section it was started with (a restart uses it again).
    pub config: zoryx_host::config::DashboardConfig,
}

impl TestDash {
    /// Starts the bot (with its SQLite databases in its temp folder) and the dashboard on a
    /// free port, with Discord login against the simulator and the simulator's guest as a
    /// viewer.
    pub async fn start() -> Self {
        Self::start_with(&[("basic-v1.so", "basic.so")], "version", "").await
    }

    /// As [`TestDash::start`] with these plugin files, up once command `ready` is registered;
    /// `extra` is more of the config's top level (`"key": value, ...`, or empty).
    pub async fn start_with(files: &[(&str, &str)], ready: &str, extra: &str) -> Self {
        log_tail();
        let bot = TestBot::start_for_stored(files, |sim| {
            format!(
                r#""dashboard": {{"enabled": true, "bind": "127.0.0.1:0",
                    "oauth_client_id": "{}", "oauth_client_secret": "{}",
                    "login_attempts_per_minute": 30,
                    "users": {{"{}": "viewer"}}}}{}{extra}"#,
                sim.application_id(),
                sim.oauth_client_secret(),
                sim.guest().id,
                if extra.is_empty() { "" } else { ", " },
            )
        })
        .await;
        // Up: the plugin's commands are registered.
        let mut bot = bot;
        bot.wait_registered(ready).await;
        // The config file the editor writes: the bot's own config text.
        let config_file = bot.host.dir.path().join("config.json");
        let text = bot.host.manager.dispatcher().shared().config_document();
        std::fs::write(
            &config_file,
            serde_json::to_string_pretty(&text).expect("json"),
        )
        .expect("config file");
        bot.host
            .manager
            .dispatcher()
            .shared()
            .set_config_file(config_file.clone());
        let core = zoryx_host::config::Config::parse(
            &config_file,
            &std::fs::read_to_string(&config_file).expect("read"),
        )
        .expect("config")
        .core;
        let mut t = Self {
            bot,
            dash: None,
            url: String::new(),
            config_file,
            config: core.dashboard,
        };
        t.start_dashboard().await;
        t
    }

    /// What the dashboard shows: this bot's parts, the data folder in its temp dir.
    fn sources(&self) -> Sources {
        Sources {
            manager: Arc::clone(&self.bot.host.manager),
            gateway: self.bot.gateway.clone(),
            diagnostics: Some(Arc::clone(&self.bot.diagnostics)),
            databases: self.bot.db.clone(),
            logs: Some(log_tail()),
            owners: vec![self.bot.sim.owner().id],
            api_base: Some(self.bot.sim.base_url()),
            data_dir: Some(self.bot.host.dir.path().join("data")),
        }
    }

    /// A client logged in as the owner, with a console code.
    pub async fn owner(&self) -> Client {
        let mut owner = Client::new(&self.url);
        owner.login_code(&self.code()).await;
        owner
    }

    /// Asserts that the audit log on disk has an entry of each of `actions`; the log's text.
    pub fn assert_audited(&self, actions: &[&str]) -> String {
        let audit =
            std::fs::read_to_string(self.bot.host.dir.path().join("data/dashboard_audit.json"))
                .expect("audit file");
        for action in actions {
            assert!(
                audit.contains(&format!("\"action\":\"{action}\"")),
                "{action}: {audit}"
            );
        }
        audit
    }

    /// Starts the dashboard (on a new port) and registers its callback with the simulator.
    async fn start_dashboard(&mut self) {
        let dash = dashboard::start(&self.config, self.sources())
            .await
            .expect("dashboard")
            .expect("on");
        self.url = dash.url().to_owned();
        self.bot
            .sim
            .add_oauth_redirect(&format!("{}/login/callback", self.url));
        self.dash = Some(dash);
    }

    /// Stops the dashboard and starts a new one on the same data folder, as a host restart
    /// does; [`TestDash::url`] is its new address.
    pub async fn restart_dashboard(&mut self) {
        if let Some(dash) = self.dash.take() {
            dash.shutdown().await;
        }
        self.start_dashboard().await;
    }

    pub fn dashboard(&self) -> &Dashboard {
        self.dash.as_ref().expect("running")
    }

    /// A one-time code from a console link.
    pub fn code(&self) -> String {
        let link = self.dashboard().login_link().expect("link");
        link.split_once("#code=").expect("code").1.to_owned()
    }

    /// The generation of loaded plugin `name`.
    pub async fn generation(&self, name: &str) -> Option<u64> {
        self.bot
            .host
            .manager
            .info(name)
            .await
            .and_then(|i| i.generation)
    }

    pub async fn shutdown(mut self) {
        if let Some(dash) = self.dash.take() {
            dash.shutdown().await;
        }
        self.bot.shutdown().await;
    }
}

/// A browser-like client: no redirects followed, the session cookie and CSRF token kept.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

/// The value of `name` among a response's `Set-Cookie` headers.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: base.to_owned(),
            cookie: None,
            csrf: None,
        }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(token) => request.header(COOKIE, format!("zoryx_session={token}")),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .with_cookie(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// A POST as htmx sends it: form body, `HX-Request`, the CSRF token when known.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut request = self
            .with_cookie(self.http.post(format!("{}{path}", self.base)))
            .header("hx-request", "true")
            .form(form);
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        let response = request.send().await.expect("POST");
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// Reads the CSRF token from a page.
    pub async fn refresh_csrf(&mut self) {
        let (status, body) = self.get("/credits").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let marker = "\"X-CSRF-Token\": \"";
        let start = body.find(marker).expect("csrf in the page") + marker.len();
        self.csrf = Some(body[start..start + 64].to_owned());
    }

    /// Logs in with a one-time console code.
    pub async fn login_code(&mut self, code: &str) -> reqwest::Response {
        let response = self
            .http
            .post(format!("{}/login/code", self.base))
            .form(&[("code", code)])
            .send()
            .await
            .expect("login");
        if let Some(token) = set_cookie(&response, "zoryx_session") {
            self.cookie = Some(token);
            self.refresh_csrf().await;
        }
        response
    }

    /// Logs in with Discord (the simulator) as `user`; the final response (the callback's).
    pub async fn login_discord(&mut self, user: u64) -> reqwest::Response {
        let start = self
            .http
            .get(format!("{}/login/discord", self.base))
            .send()
            .await
            .expect("login/discord");
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
        let state_cookie = set_cookie(&start, "zoryx_oauth_state").expect("state cookie");
        let authorize = start.headers()[LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        // The consent page, then the consent as the simulated user.
        let page = self
            .http
            .get(&authorize)
            .send()
            .await
            .expect("authorize page");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap_or_default().contains("Authorize"));
        let query = authorize.split_once('?').expect("query").1.to_owned();
        let mut form: Vec<(String, String)> = url_pairs(&query);
        form.push(("user_id".into(), user.to_string()));
        form.push(("decision".into(), "authorize".into()));
        let (sim, _) = authorize.split_once("/oauth2/authorize").expect("sim base");
        let back = self
            .http
            .post(format!("{sim}/oauth2/authorize"))
            .form(&form)
            .send()
            .await
            .expect("consent");
        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        let callback = back.headers()[LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        let response = self
            .http
            .get(&callback)
            .header(COOKIE, format!("zoryx_oauth_state={state_cookie}"))
            .send()
            .await
            .expect("callback");
        if let Some(token) = set_cookie(&response, "zoryx_session") {
            self.cookie = Some(token);
            self.refresh_csrf().await;
        }
        response
    }
}

/// `a=1&b=x%20y` → pairs, percent-decoded.
pub fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() + 1 && text.get(i + 1..i + 3).is_some() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
