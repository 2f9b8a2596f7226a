//! Shared helpers for the simulator's tests: a raw gateway client, serenity parsing with
//! diagnostics, and an authorised HTTP client.

#![allow(dead_code, unreachable_pub)]

pub mod moderation_tour;
pub mod tour;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use serenity::model::event::{Event, GatewayEvent};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use zoryx_sim::{SimConfig, SimEvent, Simulator};

/// Generous timeout for anything awaited in tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// GUILDS | GUILD_MEMBERS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT.
pub const ALL_INTENTS: u64 = 1 | 2 | (1 << 9) | (1 << 12) | (1 << 15);

/// Starts a simulator with the default config.
pub async fn start() -> Simulator {
    Simulator::start(SimConfig::default())
        .await
        .expect("simulator starts")
}

/// One frame from the gateway.
#[derive(Debug)]
pub enum Frame {
    /// A JSON text frame and its raw text.
    Json(Value, String),
    /// The server closed the socket with this code.
    Close(Option<u16>),
}

/// A hand-driven gateway client.
pub struct RawGateway {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Last dispatch sequence seen.
    pub seq: u64,
}

impl RawGateway {
    /// Connects to the simulator's gateway URL with `?v=10`.
    pub async fn connect(sim: &Simulator) -> Self {
        let url = format!("{}?v=10", sim.gateway_url());
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("gateway connects");
        Self { ws, seq: 0 }
    }

    /// The next frame (panics after [`WAIT`]).
    pub async fn frame(&mut self) -> Frame {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a gateway frame within the timeout");
            match msg {
                Some(Ok(WsMessage::Text(text))) => {
                    let v: Value = serde_json::from_str(&text).expect("gateway frames are JSON");
                    if let Some(s) = v.get("s").and_then(Value::as_u64) {
                        self.seq = s;
                    }
                    return Frame::Json(v, text);
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    return Frame::Close(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Frame::Close(None),
            }
        }
    }

    /// The next JSON frame (panics on close).
    pub async fn json(&mut self) -> (Value, String) {
        match self.frame().await {
            Frame::Json(v, text) => (v, text),
            Frame::Close(code) => panic!("gateway closed with {code:?} while a frame was expected"),
        }
    }

    /// Waits for the socket to close; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Frame::Close(code) = self.frame().await {
                return code;
            }
        }
    }

    /// Sends a JSON frame.
    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(WsMessage::Text(v.to_string()))
            .await
            .expect("gateway accepts a frame");
    }

    /// Reads HELLO and returns its heartbeat interval.
    pub async fn hello(&mut self) -> u64 {
        let (v, _) = self.json().await;
        assert_eq!(v["op"], 10, "first frame is HELLO: {v}");
        v["d"]["heartbeat_interval"]
            .as_u64()
            .expect("heartbeat_interval")
    }

    /// Sends IDENTIFY.
    pub async fn identify(&mut self, token: &str, intents: u64, shard: [u32; 2]) {
        self.send(json!({"op": 2, "d": {
            "token": token,
            "intents": intents,
            "properties": {"os": "linux", "browser": "test", "device": "test"},
            "shard": shard,
        }}))
        .await;
    }

    /// HELLO + IDENTIFY + READY; returns READY's data.
    pub async fn login(&mut self, sim: &Simulator, intents: u64) -> Value {
        self.hello().await;
        self.identify(sim.token(), intents, [0, 1]).await;
        let (_, d, _) = self.dispatch("READY").await;
        d
    }

    /// Reads frames until a dispatch named `name`; every dispatch on the way must parse with
    /// serenity. Returns `(seq, data, serenity event)`.
    pub async fn dispatch(&mut self, name: &str) -> (u64, Value, Event) {
        loop {
            let (v, text) = self.json().await;
            if v["op"] != 0 {
                continue;
            }
            let (seq, event) = parse_dispatch(&text);
            if v["t"] == name {
                return (seq, v["d"].clone(), event);
            }
        }
    }

    /// Reads dispatches until none arrives for `quiet`; returns their names.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<String> {
        let mut names = Vec::new();
        while let Ok(Some(Ok(WsMessage::Text(text)))) =
            tokio::time::timeout(quiet, self.ws.next()).await
        {
            let v: Value = serde_json::from_str(&text).expect("json");
            if let Some(s) = v.get("s").and_then(Value::as_u64) {
                self.seq = s;
            }
            if v["op"] == 0 {
                parse_dispatch(&text);
                names.push(v["t"].as_str().unwrap_or_default().to_owned());
            }
        }
        names
    }
}

/// Parses a dispatch frame with serenity's `GatewayEvent`, failing the test (with the typed
/// parser's error) when serenity would turn it into `Event::Unknown`.
pub fn parse_dispatch(text: &str) -> (u64, Event) {
    let parsed: GatewayEvent = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("serenity cannot parse the frame: {e}\n{text}"));
    let GatewayEvent::Dispatch(seq, event) = parsed else {
        panic!("not a dispatch: {text}");
    };
    if let Event::Unknown(_) = &event {
        let v: Value = serde_json::from_str(text).expect("json");
        panic!(
            "serenity parses {} as Event::Unknown: {}\n{text}",
            v["t"],
            diagnose(v["t"].as_str().unwrap_or_default(), &v["d"])
        );
    }
    (seq, event)
}

fn diagnose(name: &str, d: &Value) -> String {
    use serenity::model::event as e;
    fn why<T: serde::de::DeserializeOwned>(d: &Value) -> String {
        match serde_json::from_value::<T>(d.clone()) {
            Ok(_) => "typed parse succeeds".into(),
            Err(err) => err.to_string(),
        }
    }
    match name {
        "READY" => why::<e::ReadyEvent>(d),
        "GUILD_CREATE" => why::<e::GuildCreateEvent>(d),
        "MESSAGE_CREATE" => why::<e::MessageCreateEvent>(d),
        "INTERACTION_CREATE" => why::<e::InteractionCreateEvent>(d),
        "GUILD_MEMBER_ADD" => why::<e::GuildMemberAddEvent>(d),
        "GUILD_ROLE_CREATE" => why::<e::GuildRoleCreateEvent>(d),
        "GUILD_MEMBER_UPDATE" => why::<e::GuildMemberUpdateEvent>(d),
        "GUILD_BAN_ADD" => why::<e::GuildBanAddEvent>(d),
        "CHANNEL_UPDATE" => why::<e::ChannelUpdateEvent>(d),
        "MESSAGE_REACTION_ADD" => why::<e::ReactionAddEvent>(d),
        "MESSAGE_REACTION_REMOVE_EMOJI" => why::<e::ReactionRemoveEmojiEvent>(d),
        "MESSAGE_DELETE_BULK" => why::<e::MessageDeleteBulkEvent>(d),
        "MESSAGE_UPDATE" => why::<e::MessageUpdateEvent>(d),
        "VOICE_STATE_UPDATE" => why::<e::VoiceStateUpdateEvent>(d),
        "RESUMED" => why::<e::ResumedEvent>(d),
        _ => "no typed diagnosis".into(),
    }
}

/// An HTTP client and the simulator's API base.
pub struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// A client authorised with the simulator's token.
    pub fn new(sim: &Simulator) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: format!("{}/api/v10", sim.base_url()),
            token: sim.token().to_owned(),
        }
    }

    /// Sends a request; returns status, headers and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Bot {}", self.token));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request is answered");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("answers are JSON")
        };
        (status, headers, json)
    }

    /// Like [`Api::call`] but asserts the status.
    pub async fn expect(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let (got, _, json) = self.call(method, path, body).await;
        assert_eq!(got, status, "{method} {path} answered {got}: {json}");
        json
    }

    /// Sends a request with a custom Authorization header (or none).
    pub async fn call_with_auth(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        let resp = req.send().await.expect("answered");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

impl Api {
    /// Sends a request with extra headers; `auth` false leaves out the Authorization header
    /// (webhook executions authenticate with their token). Returns status and JSON body.
    pub async fn call_headers(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
        auth: bool,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if auth {
            req = req.header("Authorization", format!("Bot {}", self.token));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("answered");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("answers are JSON")
        };
        (status, json)
    }

    /// Expects a Discord error: the status, the JSON `code`, and for 50035 the `_errors` code
    /// at `field` (a dotted path). Returns the body.
    pub async fn refused(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
        code: u64,
        field: Option<(&str, &str)>,
    ) -> Value {
        let json = self.expect(method, path, body, status).await;
        assert_eq!(json["code"], code, "{method} {path}: {json}");
        if let Some((field, error)) = field {
            let mut at = &json["errors"];
            for part in field.split('.') {
                at = &at[part];
            }
            assert_eq!(
                at["_errors"][0]["code"], error,
                "{method} {path}: the error at {field}: {json}"
            );
        }
        json
    }
}

/// The spec's per-field `errors` tree uses integer codes where Discord sends strings; the
/// tree is parsed with serenity's own parser and left out of the spec check.
pub fn without_form_errors(body: &Value) -> Value {
    let Some(errors) = body.get("errors") else {
        return body.clone();
    };
    let parsed: serenity::http::DiscordJsonError =
        serde_json::from_value(body.clone()).expect("serenity parses the error body");
    assert!(!parsed.errors.is_empty(), "field errors parse: {errors}");
    let mut body = body.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.remove("errors");
    }
    body
}

/// Every recorded response (and every request body answered 2xx) checked against Discord's
/// OpenAPI spec; the violations found. `None` when the spec is not available.
pub fn spec_violations(sim: &Simulator, what: &str) -> Option<Vec<String>> {
    let spec = zoryx_openapi::load_or_skip(what)?;
    let mut failures = Vec::new();
    for r in &sim.requests() {
        let response = r.response.as_ref().map(without_form_errors);
        if let Err(e) = spec.validate_response(&r.method, &r.path, r.status, response.as_ref()) {
            failures.push(format!("{} {} → {}: {e}", r.method, r.path, r.status));
        }
        if let Some(body) = &r.body
            && r.status < 300
            && let Err(e) = spec.validate_request(&r.method, &r.path, body)
        {
            failures.push(format!("request {} {}: {e}", r.method, r.path));
        }
    }
    Some(failures)
}

/// Asserts that everything the simulator answered so far matches the spec (skipped without
/// the spec).
pub fn assert_spec(sim: &Simulator, what: &str) {
    if let Some(failures) = spec_violations(sim, what) {
        assert!(
            failures.is_empty(),
            "{} spec violations:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Waits for the first event `pick` accepts.
pub async fn wait_for<T>(
    events: &mut tokio::sync::broadcast::Receiver<SimEvent>,
    mut pick: impl FnMut(&SimEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(t) = pick(&event) {
                        return t;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("the expected simulator event within the timeout")
}

impl RawGateway {
    /// Sends a raw text frame.
    pub async fn ws_send_text(&mut self, text: &str) {
        self.ws
            .send(WsMessage::Text(text.to_owned()))
            .await
            .expect("gateway accepts a frame");
    }
}

impl RawGateway {
    /// Closes the socket from the client side with `code`, as a bot shutting down does.
    pub async fn close_with(&mut self, code: u16) {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
        self.ws
            .close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: "".into(),
            }))
            .await
            .expect("gateway takes the close frame");
    }
}
