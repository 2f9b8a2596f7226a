//! The first-party `assistant` plugin (a real compiled library) through the simulator, against
//! a fake model provider on loopback that speaks OpenAI's chat completions and Gemini's
//! generateContent, whole and streamed (server-sent events), with tool calls, 429s, 500s and a
//! provider that never answers. Proves: the tool the model asks for is run and its live data
//! reaches the answer; `.env` and paths outside the allowed folders give the model nothing;
//! the key leaves the process only in the provider's auth header; answers stream into the
//! reply in place and continue past 2,000 characters; `zai` names real marketplace plugins
//! with their install command; cooldown, daily budget and owner commands; no key → how to set
//! one up.

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use support::bot::{TestBot, text_of};
use zoryx_sim::SimEvent;

const ASSISTANT: (&str, &str) = ("plugin-assistant.so", "assistant.so");
const KEY: &str = "sk-fake-SECRET-4242";
/// Every answer of the fake provider ends with it: the answer is complete.
const END: &str = "∎";

/// Everything the host logs in this test binary, at every level.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing the logs (once per binary); what was logged so far.
fn logs() -> String {
    let buffer = LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogBuffer(Arc::clone(&sink)))
            .try_init();
        buffer
    });
    String::from_utf8_lossy(&buffer.lock().expect("logs")).into_owned()
}

/// One request the fake provider got.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
    raw: String,
}

#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }
}

/// The member's last question and the last tool result in a request, in either API's shape.
fn last_turns(body: &Value) -> (String, Option<String>, String) {
    if let Some(messages) = body["messages"].as_array() {
        let system = messages
            .iter()
            .find(|m| m["role"] == "system")
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        let last = messages.last().cloned().unwrap_or_default();
        let question = messages
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        let tool = (last["role"] == "tool")
            .then(|| last["content"].as_str().unwrap_or_default().to_owned());
        return (question, tool, system);
    }
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    let system = body["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let last = contents.last().cloned().unwrap_or_default();
    let tool = last["parts"][0]["functionResponse"]["response"]["result"]
        .as_str()
        .map(str::to_owned);
    let question = contents
        .iter()
        .rev()
        .find_map(|c| c["parts"][0]["text"].as_str())
        .unwrap_or_default()
        .to_owned();
    (question, tool, system)
}

/// What the fake model says: a tool call when asked `CALL {json}` (until a tool answered), the
/// tool's result echoed after one, the install commands of the search results when asked about a
/// plugin, a long text for `LONG`, else the question echoed.
enum Said {
    Text(String),
    Call(String, Value),
}

fn model_says(body: &Value) -> Said {
    let (question, tool, system) = last_turns(body);
    if let Some(result) = tool {
        return Said::Text(format!(
            "Tool said: {} {END}",
            result.chars().take(1500).collect::<String>()
        ));
    }
    if let Some(call) = question.strip_prefix("CALL ") {
        let call: Value = serde_json::from_str(call).expect("a CALL is JSON");
        return Said::Call(
            call["name"].as_str().expect("name").to_owned(),
            call["arguments"].clone(),
        );
    }
    if system.contains("Search results:") && question.contains("plugin") {
        let installs: Vec<String> = system
            .match_indices("zoryx market install ")
            .map(|(at, _)| {
                system[at..]
                    .split(['"', '`', '\n'])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        return Said::Text(format!("I found: {} {END}", installs.join(", ")));
    }
    if question == "LONG" {
        let words: String = (0..900).map(|i| format!("w{i} ")).collect();
        return Said::Text(format!("{words}{END}"));
    }
    Said::Text(format!("You asked: {question} {END}"))
}

fn sse(events: Vec<Value>, openai: bool) -> Response {
    let mut text = String::new();
    for event in events {
        text.push_str(&format!("data: {event}\n\n"));
    }
    if openai {
        text.push_str("data: [DONE]\n\n");
    }
    ([("content-type", "text/event-stream")], text).into_response()
}

/// Pieces of `text` as a streaming API sends them.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(40).map(|c| c.iter().collect()).collect()
}

async fn provider(
    fake: Fake,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw = String::from_utf8_lossy(&body).into_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fake.seen.lock().expect("seen").push(Seen {
        path: uri.to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: json.clone(),
        raw,
    });
    let path = uri.path().to_owned();
    if method == Method::GET && path == "/index.json" {
        return axum::Json(json!({
            "format": 1, "name": "Test market", "version": 3,
            "plugins": [
                {"name": "tickets", "version": "1.2.0", "description": "Support tickets with transcripts saved as HTML files", "category": "Support", "author": "ana"},
                {"name": "tickets", "version": "1.0.0", "description": "old", "category": "Support", "author": "ana"},
                {"name": "music", "version": "0.3.0", "description": "Plays music in voice channels", "category": "Fun", "author": "bo"},
                {"name": "help", "version": "0.1.0", "description": "The interactive help menu", "category": "Core", "author": "Zoryx"},
            ]
        }))
        .into_response();
    }
    let model = json["model"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            path.rsplit('/')
                .next()
                .and_then(|m| m.split(':').next())
                .unwrap_or_default()
                .to_owned()
        });
    match model.as_str() {
        "status-429" => {
            return (axum::http::StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
        }
        "status-500" => {
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response();
        }
        "never" => std::future::pending::<()>().await,
        _ => {}
    }
    if last_turns(&json).0 == "SLOW" && json["stream"] == true {
        return slow_stream();
    }
    let said = model_says(&json);
    let gemini = path.contains(":generateContent") || path.contains(":streamGenerateContent");
    let streamed = json["stream"] == true || path.contains(":streamGenerateContent");
    match (gemini, streamed, said) {
        (false, false, Said::Text(text)) => axum::Json(json!({
            "choices": [{"message": {"role": "assistant", "content": text}}],
            "usage": {"total_tokens": 30},
        }))
        .into_response(),
        (false, false, Said::Call(name, arguments)) => axum::Json(json!({
            "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments.to_string()}}
            ]}}],
            "usage": {"total_tokens": 20},
        }))
        .into_response(),
        (false, true, Said::Text(text)) => {
            let mut events: Vec<Value> = pieces(&text)
                .into_iter()
                .map(|p| json!({"choices": [{"delta": {"content": p}}]}))
                .collect();
            events.push(json!({"choices": [], "usage": {"total_tokens": 30}}));
            sse(events, true)
        }
        (false, true, Said::Call(name, arguments)) => {
            let text = arguments.to_string();
            let (a, b) = text.split_at(text.len() / 2);
            sse(
                vec![
                    json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": name, "arguments": a}}]}}]}),
                    json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": b}}]}}]}),
                ],
                true,
            )
        }
        (true, false, said) => axum::Json(gemini_chunk(said)).into_response(),
        (true, true, Said::Text(text)) => sse(
            pieces(&text)
                .into_iter()
                .map(|p| gemini_chunk(Said::Text(p)))
                .collect(),
            false,
        ),
        (true, true, said) => sse(vec![gemini_chunk(said)], false),
    }
}

/// An answer in four pieces 1.1 s apart, as a slow model writes it.
fn slow_stream() -> Response {
    const PIECES: [&str; 4] = ["Slow ", "and ", "steady ", END];
    let events = futures::stream::unfold(0_usize, |i| async move {
        let piece = PIECES.get(i)?;
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        let event = json!({"choices": [{"delta": {"content": piece}}]});
        Some((
            Ok::<_, std::io::Error>(Bytes::from(format!("data: {event}\n\n"))),
            i + 1,
        ))
    });
    (
        [("content-type", "text/event-stream")],
        axum::body::Body::from_stream(events),
    )
        .into_response()
}

fn gemini_chunk(said: Said) -> Value {
    let part = match said {
        Said::Text(text) => json!({"text": text}),
        Said::Call(name, args) => json!({"functionCall": {"name": name, "args": args}}),
    };
    json!({
        "candidates": [{"content": {"role": "model", "parts": [part]}}],
        "usageMetadata": {"totalTokenCount": 25},
    })
}

async fn fake_provider() -> (u16, Fake) {
    logs();
    let fake = Fake::default();
    let state = fake.clone();
    let app = axum::Router::new().fallback(move |method, uri, headers, body| {
        provider(state.clone(), method, uri, headers, body)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, fake)
}

/// The config: the assistant pointed at the fake provider with `section`'s keys on top.
fn config(port: u16, section: Value) -> String {
    let mut assistant = json!({
        "base_url": format!("http://127.0.0.1:{port}/v1"),
        "api_key": KEY,
        "cooldown_seconds": 0,
        "edit_interval_ms": 1000,
        "market_index": format!("http://127.0.0.1:{port}/index.json"),
    });
    for (k, v) in section.as_object().cloned().unwrap_or_default() {
        match (v.is_null(), assistant.as_object_mut()) {
            (true, Some(map)) => {
                map.remove(&k);
            }
            _ => assistant[k] = v,
        }
    }
    let all = json!({
        "http": {"allow": {"assistant": [format!("127.0.0.1:{port}")]}},
        "plugins": {"assistant": assistant},
        "cooldowns": {"default_rate": 0},
    });
    let text = all.to_string();
    text[1..text.len() - 1].to_owned()
}

/// The content a message ends with: the edits of reply `id` until one is complete (the fake's
/// end mark or an error).
async fn finished(bot: &mut TestBot, id: u64) -> String {
    loop {
        let event = bot
            .wait_event(
                &format!("the answer in message {id}"),
                |e| matches!(e, SimEvent::MessageEdited { message_id, .. } if *message_id == id),
            )
            .await;
        if let SimEvent::MessageEdited { body, .. } = event {
            let text = text_of(&body);
            if text.contains(END) || text.contains("⚠️") || text.contains("no answer") {
                return text;
            }
        }
    }
}

/// The answer to slash interaction `interaction`: "Thinking" first, then the original response
/// edited until it is complete (the fake's end mark).
async fn slash_answer(bot: &mut TestBot, interaction: u64) -> String {
    let (_, first) = bot.callback(interaction).await;
    assert!(text_of(&first).contains("Thinking"), "{first}");
    loop {
        let event = bot
            .wait_event("the slash answer", |e| {
                matches!(e, SimEvent::OriginalEdited { interaction_id, .. } if *interaction_id == interaction)
            })
            .await;
        if let SimEvent::OriginalEdited { body, .. } = event
            && text_of(&body).contains(END)
        {
            return text_of(&body);
        }
    }
}

/// Asks `question` with the prefix form as `user`; the finished answer.
async fn ask(bot: &mut TestBot, user: u64, question: &str) -> String {
    let (_, id, first) = bot.asked(user, question).await;
    assert!(text_of(&first).contains("Thinking"), "{first}");
    finished(bot, id).await
}

fn call(name: &str, arguments: Value) -> String {
    format!(
        "!zai ask CALL {}",
        json!({"name": name, "arguments": arguments})
    )
}

/// Nothing the bot sent to Discord or logged (at any level) holds the key, and every request to
/// the provider carried it in its auth header only.
fn assert_key_kept(bot: &TestBot, fake: &Fake, header: &str) {
    let logged = logs();
    assert!(logged.contains("assistant"), "the logs are captured");
    assert!(!logged.contains(KEY), "the key was logged");
    for request in bot.sim.requests() {
        let sent = format!("{} {:?}", request.path, request.body);
        assert!(!sent.contains(KEY), "the key reached Discord: {sent}");
    }
    let model_requests: Vec<Seen> = fake
        .seen()
        .into_iter()
        .filter(|s| !s.path.contains("index.json"))
        .collect();
    assert!(!model_requests.is_empty());
    for seen in model_requests {
        assert!(
            !seen.raw.contains(KEY) && !seen.path.contains(KEY),
            "{seen:?}"
        );
        let with_key: Vec<&(String, String)> = seen
            .headers
            .iter()
            .filter(|(_, v)| v.contains(KEY))
            .collect();
        assert_eq!(with_key.len(), 1, "{seen:?}");
        assert_eq!(with_key[0].0, header, "{seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_the_model_calls_runs_and_its_live_data_reaches_the_answer() {
    let (port, fake) = fake_provider().await;
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, json!({}))).await;
    let owner = bot.sim.owner().id;

    // Streamed (the default): the tool call arrives in fragments.
    let answer = ask(&mut bot, owner, &call("list_plugins", json!({}))).await;
    assert!(answer.starts_with("Tool said:"), "{answer}");
    assert!(
        answer.contains(r#""name":"assistant""#) && answer.contains(r#""version":"0.1.0""#),
        "{answer}"
    );
    let seen = fake.seen();
    let second = &seen.last().expect("requests").body;
    let messages = second["messages"].as_array().expect("messages");
    let tool = messages.last().expect("the tool's result");
    assert_eq!(
        (tool["role"].as_str(), tool["tool_call_id"].as_str()),
        (Some("tool"), Some("call_1"))
    );
    assert_eq!(
        messages[messages.len() - 2]["tool_calls"][0]["function"]["name"],
        "list_plugins"
    );
    // `zai` answers from retrieval, without tools; `/ask_zdbf` offers them all.
    assert!(second.get("tools").is_none(), "{second}");

    // `/ask_zdbf` with a tool call: the permission explanation for another member.
    bot.wait_registered("ask_zdbf").await;
    let guest = bot.sim.guest().id;
    let question = json!({"name": "explain_permission", "arguments": {"user": guest.to_string(), "command": "reload"}});
    let interaction = bot
        .sim
        .inject_slash(
            bot.guild(),
            bot.channel(),
            owner,
            "ask_zdbf",
            json!([
                {"name": "action", "type": 3, "value": "permission"},
                {"name": "query", "type": 3, "value": format!("CALL {question}")},
            ]),
        )
        .await
        .expect("slash");
    let answer = slash_answer(&mut bot, interaction).await;
    assert!(
        answer.contains(r#""command":"reload""#) && answer.contains(r#""may_run_here":false"#),
        "{answer}"
    );
    let seen = fake.seen();
    let offered = &seen
        .iter()
        .find(|s| s.body.get("tools").is_some())
        .expect("a request with tools")
        .body["tools"];
    let names: Vec<&str> = offered
        .as_array()
        .expect("tools offered")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    for tool in [
        "list_commands",
        "diagnose",
        "database_stats",
        "read_file",
        "hooks",
        "slash_status",
        "explain_permission",
    ] {
        assert!(names.contains(&tool), "{names:?}");
    }
    assert_key_kept(&bot, &fake, "authorization");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_env_and_paths_outside_the_docs_give_the_model_nothing() {
    let (port, fake) = fake_provider().await;
    // Not streamed this time: the whole-answer path.
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, json!({"stream": false}))).await;
    let owner = bot.sim.owner().id;
    let root = bot.host.dir.path().to_owned();
    std::fs::write(root.join(".env"), "DISCORD_TOKEN=env-secret-XYZ\n").expect(".env");
    std::fs::create_dir_all(root.join("docs")).expect("docs");
    std::fs::write(root.join("docs/guide.md"), "# Guide\nMARKER-GUIDE-77\n").expect("guide");
    std::fs::write(root.join("docs/secret-notes.md"), "env-secret-XYZ").expect("notes");
    let outside = root.parent().expect("parent").join("outside.md");
    std::fs::write(&outside, "env-secret-XYZ").ok();

    let readable = ask(
        &mut bot,
        owner,
        &call("read_file", json!({"path": "docs/guide.md"})),
    )
    .await;
    assert!(readable.contains("MARKER-GUIDE-77"), "{readable}");
    for path in [
        ".env",
        "docs/../.env",
        "../outside.md",
        "/etc/passwd",
        "docs/secret-notes.md",
        "data/../../outside.md",
    ] {
        let answer = ask(&mut bot, owner, &call("read_file", json!({"path": path}))).await;
        assert!(answer.contains("refused"), "{path}: {answer}");
        assert!(!answer.contains("env-secret-XYZ"), "{path}: {answer}");
    }
    for seen in fake.seen() {
        assert!(
            !seen.raw.contains("env-secret-XYZ"),
            "the model was sent a secret: {}",
            seen.raw
        );
    }
    let _ = std::fs::remove_file(outside);
    assert_key_kept(&bot, &fake, "authorization");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gemini_streams_calls_tools_and_keeps_its_key_in_the_header() {
    let (port, fake) = fake_provider().await;
    let section = json!({"provider": "gemini", "model": "gem-test", "base_url": format!("http://127.0.0.1:{port}/v1beta")});
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, section)).await;
    let owner = bot.sim.owner().id;
    std::fs::write(
        bot.host.dir.path().join("README.md"),
        "# Bot\nMARKER-README-55\n",
    )
    .expect("readme");
    let answer = ask(
        &mut bot,
        owner,
        &call("read_file", json!({"path": "README.md"})),
    )
    .await;
    assert!(answer.contains("MARKER-README-55"), "{answer}");
    let paths: Vec<String> = fake.seen().iter().map(|s| s.path.clone()).collect();
    assert!(
        paths
            .iter()
            .any(|p| p == "/v1beta/models/gem-test:streamGenerateContent?alt=sse"),
        "{paths:?}"
    );
    let answer = ask(&mut bot, owner, &call("bot_stats", json!({}))).await;
    assert!(answer.contains("host_version"), "{answer}");
    assert_key_kept(&bot, &fake, "x-goog-api-key");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_failures_and_silence_get_a_clear_answer() {
    let (port, _fake) = fake_provider().await;
    let mut bot = TestBot::start(
        &[ASSISTANT],
        &config(port, json!({"model": "status-429", "timeout_seconds": 2})),
    )
    .await;
    let owner = bot.sim.owner().id;
    let answer = ask(&mut bot, owner, "!zai hello").await;
    assert!(
        answer.contains("rate limiting") && answer.contains("429"),
        "{answer}"
    );
    let chosen = text_of(&bot.ask(owner, "!zai model status-500").await);
    assert!(chosen.contains("Model chosen"), "{chosen}");
    let failed = ask(&mut bot, owner, "!zai hello").await;
    assert!(failed.contains("failed (HTTP 500)"), "{failed}");
    bot.ask(owner, "!zai model never").await;
    let answer = ask(&mut bot, owner, "!zai hello").await;
    assert!(answer.contains("did not answer in time"), "{answer}");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_answers_continue_past_two_thousand_characters_and_edit_in_place() {
    let (port, _fake) = fake_provider().await;
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, json!({}))).await;
    let owner = bot.sim.owner().id;
    let (_, id, _) = bot.asked(owner, "!zai LONG").await;
    // The last part carries the end mark; earlier parts are the reply (edited) and followups.
    let mut parts = Vec::new();
    loop {
        let event = bot
            .wait_event("the long answer", |e| {
                matches!(e, SimEvent::MessageEdited { message_id, .. } if *message_id == id)
                    || matches!(e, SimEvent::BotMessage { .. })
            })
            .await;
        let body = match event {
            SimEvent::MessageEdited { body, .. } | SimEvent::BotMessage { body, .. } => body,
            _ => unreachable!(),
        };
        let text = body["content"].as_str().unwrap_or_default().to_owned();
        assert!(text.chars().count() <= 2000, "{}", text.len());
        let done = text.contains(END);
        parts.push(text);
        if done {
            break;
        }
    }
    let all: Vec<String> = bot
        .sim
        .messages(bot.channel())
        .into_iter()
        .filter(|m| m.author_id != owner && m.id >= id)
        .map(|m| m.content)
        .collect();
    assert!(
        all.len() >= 3,
        "4,500 characters in three messages or more: {all:?}"
    );
    let joined = all.join(" ");
    assert!(joined.contains("w0 ") && joined.contains("w899") && joined.contains(END));
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_grows_in_place_at_most_once_a_second() {
    let (port, _fake) = fake_provider().await;
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, json!({}))).await;
    let owner = bot.sim.owner().id;
    let (_, id, _) = bot.asked(owner, "!zai SLOW").await;
    let mut edits: Vec<(Instant, String)> = Vec::new();
    loop {
        let event = bot
            .wait_event(
                "an edit of the answer",
                |e| matches!(e, SimEvent::MessageEdited { message_id, .. } if *message_id == id),
            )
            .await;
        if let SimEvent::MessageEdited { body, .. } = event {
            let text = text_of(&body);
            let done = text.contains(END);
            edits.push((Instant::now(), text));
            if done {
                break;
            }
        }
    }
    let last = edits.last().map(|(_, t)| t.clone()).unwrap_or_default();
    assert_eq!(last, format!("Slow and steady {END}"));
    assert!(edits.len() >= 3, "the answer grew in place: {edits:?}");
    for pair in edits.windows(2) {
        assert!(last.starts_with(pair[0].1.trim_end()), "{edits:?}");
        let apart = pair[1].0 - pair[0].0;
        assert!(
            apart >= Duration::from_millis(900),
            "edits {apart:?} apart: {edits:?}"
        );
    }
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zai_finds_real_plugins_with_their_install_command() {
    let (port, fake) = fake_provider().await;
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, json!({}))).await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let answer = ask(
        &mut bot,
        guest,
        "!zai is there a plugin for ticket transcripts?",
    )
    .await;
    assert!(answer.contains("zoryx market install tickets"), "{answer}");
    let system = last_turns(&fake.seen().last().expect("asked").body).2;
    assert!(
        system.contains("Support tickets with transcripts"),
        "{system}"
    );
    assert!(
        !system.contains("\"old\""),
        "only the newest version: {system}"
    );

    let found = text_of(&bot.ask(guest, "!zai find transcripts").await);
    assert!(
        found.contains("tickets (marketplace plugin)")
            && found.contains("zoryx market install tickets"),
        "{found}"
    );
    let list = text_of(&bot.ask(guest, "!zai list").await);
    assert!(
        list.contains("`music`") && list.contains("`assistant`"),
        "{list}"
    );
    let status = text_of(&bot.ask(guest, "!zai status").await);
    assert!(
        status.contains("openai") && status.contains("set (config)"),
        "{status}"
    );
    assert!(!status.contains(KEY), "{status}");
    let refused = text_of(&bot.ask(guest, "!zai refresh").await);
    assert!(refused.contains("Only the bot's owners"), "{refused}");
    let refreshed = text_of(&bot.ask(owner, "!zai refresh").await);
    assert!(
        refreshed.contains("Index rebuilt") && refreshed.contains("3 marketplace plugins"),
        "{refreshed}"
    );
    let usage = text_of(&bot.ask(owner, "!zai usage").await);
    assert!(
        usage.contains("`openai local-model`: 1 questions, 30 tokens"),
        "{usage}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldown_budget_and_a_missing_key_are_explained() {
    let (port, _fake) = fake_provider().await;
    let mut bot = TestBot::start(
        &[ASSISTANT],
        &config(port, json!({"cooldown_seconds": 15, "daily_requests": 2})),
    )
    .await;
    let (owner, guest) = (bot.sim.owner().id, bot.sim.guest().id);
    let answer = ask(&mut bot, guest, "!zai first").await;
    assert!(answer.contains("You asked: first"), "{answer}");
    let wait = text_of(&bot.ask(guest, "!zai second").await);
    assert!(wait.contains("You can ask again in"), "{wait}");
    ask(&mut bot, owner, "!zai third").await;
    let spent = text_of(&bot.ask(owner, "!zai fourth").await);
    assert!(
        spent.contains("budget for today") && spent.contains("2 of 2 questions"),
        "{spent}"
    );
    bot.shutdown().await;

    // Gemini without a key: the command says how to set one up, and asks nobody.
    let section =
        json!({"provider": "gemini", "api_key": null, "api_key_env": "ZORYX_TEST_NO_SUCH_KEY"});
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, section)).await;
    let how = text_of(&bot.ask(guest, "!zai hello").await);
    assert!(
        how.contains("not set up")
            && how.contains("ZORYX_TEST_NO_SUCH_KEY")
            && how.contains("http.allow.assistant"),
        "{how}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_databases_hooks_and_the_slash_limit_are_read_live() {
    let (port, _fake) = fake_provider().await;
    let mut bot =
        TestBot::start_stored(&[ASSISTANT], &config(port, json!({"stream": false}))).await;
    let owner = bot.sim.owner().id;
    for (tool, arguments, wanted) in [
        (
            "diagnose",
            json!({}),
            vec![r#""health":{"#, r#""tier":"#, r#""available":true"#],
        ),
        (
            "database_stats",
            json!({}),
            vec![r#""name":"main.db""#, r#""available":true"#],
        ),
        ("hooks", json!({}), vec![r#""enabled":"#, r#""hooks":["#]),
        (
            "slash_status",
            json!({}),
            vec![r#""limit":100"#, "ask_zdbf"],
        ),
        (
            "list_commands",
            json!({"query": "assistant"}),
            vec![r#""name":"ask_zdbf""#],
        ),
    ] {
        let answer = ask(&mut bot, owner, &call(tool, arguments)).await;
        for piece in wanted {
            assert!(answer.contains(piece), "{tool}: {piece} not in {answer}");
        }
    }
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_function_calling_the_action_s_data_is_the_context() {
    let (port, fake) = fake_provider().await;
    let mut bot = TestBot::start(&[ASSISTANT], &config(port, json!({"tools": false}))).await;
    let owner = bot.sim.owner().id;
    bot.wait_registered("ask_zdbf").await;
    let interaction = bot
        .sim
        .inject_slash(
            bot.guild(),
            bot.channel(),
            owner,
            "ask_zdbf",
            json!([{"name": "action", "type": 3, "value": "plugins"}]),
        )
        .await
        .expect("slash");
    let answer = slash_answer(&mut bot, interaction).await;
    assert!(
        answer.contains("You asked: Tell me about this bot's plugins."),
        "{answer}"
    );
    let asked = fake.seen().last().expect("asked").body.clone();
    assert!(asked.get("tools").is_none(), "{asked}");
    let system = last_turns(&asked).2;
    assert!(
        system.contains("Data from `list_plugins`") && system.contains(r#""name":"assistant""#),
        "{system}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_budget_survives_a_restart() {
    let (port, _fake) = fake_provider().await;
    let mut bot =
        TestBot::start_stored(&[ASSISTANT], &config(port, json!({"daily_requests": 1}))).await;
    let owner = bot.sim.owner().id;
    let answer = ask(&mut bot, owner, "!zai once").await;
    assert!(answer.contains("You asked: once"), "{answer}");
    let mut bot = bot.restart_after(|| {}).await;
    let spent = text_of(&bot.ask(owner, "!zai twice").await);
    assert!(
        spent.contains("budget for today") && spent.contains("1 of 1 questions"),
        "{spent}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_assistant_streams_and_calls_tools_through_its_worker() {
    let (port, fake) = fake_provider().await;
    let config = format!(
        r#"{}, "isolation": {{"plugins": ["*"]}}"#,
        config(port, json!({}))
    );
    let mut bot = TestBot::start(&[ASSISTANT], &config).await;
    let owner = bot.sim.owner().id;
    let answer = ask(&mut bot, owner, &call("hooks", json!({}))).await;
    assert!(answer.contains(r#""enabled":"#), "{answer}");
    let answer = ask(&mut bot, owner, "!zai streamed through a worker").await;
    assert!(
        answer.contains("You asked: streamed through a worker"),
        "{answer}"
    );
    assert_key_kept(&bot, &fake, "authorization");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_comes_before_the_host_s_time_limit_on_the_command() {
    let (port, _fake) = fake_provider().await;
    // The provider never answers; the plugin's own limit (60 s) is past the host's (5 s).
    let config = format!(
        r#"{}, "limits": {{"commands": {{"zai": 5}}}}"#,
        config(port, json!({"model": "never"}))
    );
    let mut bot = TestBot::start(&[ASSISTANT], &config).await;
    let owner = bot.sim.owner().id;
    let answer = ask(&mut bot, owner, "!zai hello").await;
    assert!(answer.contains("did not answer in time"), "{answer}");
    bot.shutdown().await;
}
