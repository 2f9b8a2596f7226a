//! A browser-like client of the web dashboard for the benches: logs in with a one-time code
//! (posted as the login page does), loads the overview page, and holds the overview's figures
//! stream and the live log open, reading every event as a browser would.

use std::time::Duration;

/// An open dashboard page: its two live streams read until dropped.
pub(crate) struct Browser {
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Browser {
    /// Logs in at `url` with `code`, loads `/`, and opens `/live/overview` and `/live/logs`.
    pub(crate) async fn open(url: &str, code: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let login = http
            .post(format!("{url}/login/code"))
            .form(&[("code", code)])
            .send()
            .await
            .expect("login");
        let token = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| {
                v.to_str()
                    .ok()?
                    .split(';')
                    .next()?
                    .strip_prefix("zoryx_session=")
            })
            .find(|v| !v.is_empty())
            .expect("a session cookie")
            .to_owned();
        let cookie = format!("zoryx_session={token}");
        let page = http
            .get(format!("{url}/"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("overview");
        assert_eq!(page.status(), 200, "the overview page");
        let _ = page.text().await;
        // Streams are long-lived: no overall timeout on them.
        let streaming = reqwest::Client::new();
        let mut readers = Vec::new();
        for path in ["/live/overview", "/live/logs"] {
            let mut stream = streaming
                .get(format!("{url}{path}"))
                .header("cookie", &cookie)
                .send()
                .await
                .expect("stream");
            assert_eq!(stream.status(), 200, "{path}");
            readers.push(tokio::spawn(async move {
                while let Ok(Some(_)) = stream.chunk().await {}
            }));
        }
        Self { readers }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}
