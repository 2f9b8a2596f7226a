//! Host services of plugin-api 1.3 that are not Discord: outbound HTTP behind the operator's
//! allow-list, the plugin's own config section (read and written back to config.json), and the
//! command catalogue; in-process and isolated, with a real plugin library and a real HTTP
//! server on loopback.

mod support;

use std::net::SocketAddr;

use support::{Mode, TestHost};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A small HTTP/1.1 server on loopback: `/hello` answers 200 "hi there", `/big` 4 KiB,
/// `/away` redirects to `other`, `/teapot` answers 418.
async fn server(other: Option<SocketAddr>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0_u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, headers, body) = match path.as_str() {
                    "/hello" => ("200 OK", String::new(), "hi there".to_owned()),
                    "/big" => ("200 OK", String::new(), "x".repeat(4096)),
                    "/away" => (
                        "302 Found",
                        format!(
                            "Location: http://{}/hello\r\n",
                            other.map_or_else(|| "127.0.0.1:9".to_owned(), |a| a.to_string())
                        ),
                        String::new(),
                    ),
                    _ => (
                        "418 I'm a teapot",
                        String::new(),
                        "short and stout".to_owned(),
                    ),
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    address
}

async fn http_requests_go_only_where_allowed(mode: Mode) {
    let forbidden = server(None).await;
    let allowed = server(Some(forbidden)).await;
    let config = format!(
        r#"{{"http": {{"allow": {{"basic": ["127.0.0.1:{}"]}}, "max_response_kb": 2}}}}"#,
        allowed.port()
    );
    let host = TestHost::with_config(&[("basic-v1.so", "basic.so")], &mode.config(&config));
    host.manager.load_all().await;

    let reply = |args: String| {
        let host = &host;
        async move { host.call("fetch", &args).await.1.join("\n") }
    };
    assert_eq!(
        reply(format!("http://{allowed}/hello")).await,
        "200 hi there"
    );
    assert_eq!(
        reply(format!("http://{allowed}/teapot")).await,
        "418 short and stout"
    );
    assert_eq!(
        reply(format!("http://{forbidden}/hello")).await,
        "refused: host: plugin `basic` may not reach `127.0.0.1`: add it to `http.allow.basic` in \
         config.json"
    );
    // A redirect to a host that is not allowed is refused like a first request.
    assert_eq!(
        reply(format!("http://{allowed}/away")).await,
        "refused: host: plugin `basic` may not reach `127.0.0.1`: add it to `http.allow.basic` in \
         config.json"
    );
    assert_eq!(
        reply(format!("http://{allowed}/big")).await,
        format!(
            "refused: host: the answer of http://{allowed}/big is over 2 KiB \
             (`http.max_response_kb`)"
        )
    );
    assert_eq!(
        reply("file:///etc/passwd".to_owned()).await,
        "refused: host: `file:///etc/passwd` is not an http or https URL"
    );
    host.manager.shutdown().await;
}

async fn the_plugin_config_section_is_written_back(mode: Mode) {
    let text = mode.config(r#"{"prefix": "?", "plugins": {"basic": {"greeting": "hi"}}}"#);
    let host = TestHost::with_config(&[("basic-v1.so", "basic.so")], &text);
    let file = host.dir.path().join("config.json");
    std::fs::write(&file, &text).expect("config file");
    host.manager
        .dispatcher()
        .shared()
        .set_config_file(file.clone());
    host.manager.load_all().await;

    let (_, replies) = host.call("setting", "colour teal").await;
    assert_eq!(replies, vec![r#"{"colour":"teal","greeting":"hi"}"#]);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    assert_eq!(
        written["plugins"]["basic"],
        serde_json::json!({"colour": "teal", "greeting": "hi"})
    );
    // The rest of the file is as it was.
    assert_eq!(written["prefix"], "?");

    // A file that no longer parses is not overwritten: the write is refused, the file kept.
    std::fs::write(&file, "{ broken").expect("break the file");
    let (_, replies) = host.call("setting", "colour red").await;
    assert!(
        replies[0].starts_with("refused: host: config not written: ")
            && replies[0].contains("does not parse now"),
        "{replies:?}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "{ broken");
    host.manager.shutdown().await;
}

async fn the_catalogue_lists_every_plugins_commands(mode: Mode) {
    let host = TestHost::in_mode(
        &[("basic-v1.so", "basic.so"), ("plugin-polls.so", "polls.so")],
        mode,
    );
    host.manager.load_all().await;
    let (_, replies) = host.call("catalogue", "").await;
    let names: Vec<&str> = replies[0].split(' ').collect();
    for expected in [
        "basic:catalogue",
        "basic:echo",
        "polls:poll",
        "polls:closepoll",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    host.manager.shutdown().await;
}

async fn a_missed_cron_run_catches_up_at_start(mode: Mode) {
    let host = TestHost::in_mode(&[("basic-v1.so", "basic.so")], mode);
    let data = host.dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // The bot was down for an hour: the minutely task missed its runs.
    std::fs::write(
        data.join("schedules.json"),
        format!(r#"{{"basic": {{"minutely": {}}}}}"#, now - 3600),
    )
    .expect("state");
    host.manager.load_all().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let runs: u64 = host.call("cron_runs", "").await.1[0]
            .parse()
            .expect("count");
        if runs > 0 {
            // Once, not once per missed minute.
            assert_eq!(runs, 1);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the missed run never ran"
        );
        tokio::task::yield_now().await;
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("schedules.json")).expect("state"))
            .expect("json");
    let last = state["basic"]["minutely"].as_u64().expect("last run");
    assert!(last >= now, "the run was recorded: {last} < {now}");
    host.manager.shutdown().await;
}

both_modes!(
    a_missed_cron_run_catches_up_at_start,
    http_requests_go_only_where_allowed,
    the_plugin_config_section_is_written_back,
    the_catalogue_lists_every_plugins_commands,
);
