//! A headless Chromium driven through chromedriver (W3C WebDriver over HTTP, with the host's
//! own `reqwest`): just the commands the dashboard's browser test needs.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// The element key of W3C WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver and chromium, when both are installed (`None` otherwise).
pub fn installed() -> Option<(String, String)> {
    Some((
        on_path(&["chromedriver"])?,
        on_path(&["chromium", "chromium-browser", "google-chrome"])?,
    ))
}

/// The full path of the first of `names` found on `PATH`.
fn on_path(names: &[&str]) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|file| file.is_file())
            .map(|file| file.display().to_string())
    })
}

/// A chromedriver process and one browser session.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
    base: String,
}

impl Browser {
    /// Starts chromedriver on a free port (awaiting its "started" line) and a headless
    /// browser session whose element searches wait up to `wait`.
    pub async fn start(chromedriver: &str, chromium: &str, wait: Duration) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let stdout = driver.stdout.take().expect("stdout");
        let (ready, started) = tokio::sync::oneshot::channel();
        // A thread of its own, not the runtime's blocking pool: it lives as long as chromedriver.
        std::thread::spawn(move || {
            let mut ready = Some(ready);
            // Read to the end so chromedriver never blocks on a full pipe.
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("started successfully")
                    && let Some(ready) = ready.take()
                {
                    let _ = ready.send(());
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(30), started)
            .await
            .expect("chromedriver started in time")
            .expect("chromedriver started");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,900", "--no-first-run", "--no-default-browser-check"]
            }
        }}});
        let mut driver = Killed(Some(driver));
        let body: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session answer");
        let session = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {body}"))
            .to_owned();
        let browser = Self {
            driver: driver.0.take().expect("driver"),
            http,
            session,
            base,
        };
        browser
            .call(
                "POST",
                "timeouts",
                json!({"implicit": wait.as_millis() as u64}),
            )
            .await;
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let request = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).json(&body),
        };
        let answer: Value = request
            .send()
            .await
            .expect("webdriver")
            .json()
            .await
            .expect("webdriver answer");
        if answer["value"]["error"].is_string() {
            panic!("webdriver {method} {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "url", json!({"url": url})).await;
    }

    /// The address of the page now.
    pub async fn url(&self) -> String {
        self.call("GET", "url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching CSS `selector`, waiting for it (the implicit wait).
    pub async fn find(&self, selector: &str) -> String {
        self.find_by("css selector", selector).await
    }

    /// The first element matching XPath `path`, waiting for it.
    pub async fn find_xpath(&self, path: &str) -> String {
        self.find_by("xpath", path).await
    }

    async fn find_by(&self, using: &str, value: &str) -> String {
        let found = self
            .call("POST", "element", json!({"using": using, "value": value}))
            .await;
        found[ELEMENT].as_str().expect("element id").to_owned()
    }

    /// Clicks an element.
    pub async fn click(&self, element: &str) {
        self.call("POST", &format!("element/{element}/click"), json!({}))
            .await;
    }

    /// Types `text` into an element (an input or a textarea).
    pub async fn type_text(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &format!("element/{element}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// An element's text.
    pub async fn text(&self, element: &str) -> String {
        self.call("GET", &format!("element/{element}/text"), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a PNG of the window to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let data = self.call("GET", "screenshot", Value::Null).await;
        let png = decode_base64(data.as_str().expect("base64")).expect("png");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("screenshot");
    }

    /// Ends the session and chromedriver.
    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Kills chromedriver if the session cannot be made.
struct Killed(Option<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// Standard base64; `None` when it is not.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
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
