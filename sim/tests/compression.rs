//! Gateway compression over a real WebSocket, as Discord does it and as Gelbpunkt/gateway-proxy
//! does it: transport compression (`?compress=zlib-stream`, one zlib stream per connection),
//! payload compression (IDENTIFY `compress: true`, each large payload a zlib stream of its own),
//! and the proxy's reading of `compress: true` as a shared stream, where a client inflating
//! each frame on its own (serenity 0.12.5 as released) cannot read past the first frame.

mod support;

use std::io::Read;

use flate2::read::ZlibDecoder;
use flate2::{Decompress, FlushDecompress, Status};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use serenity::model::event::Event;
use support::{ALL_INTENTS, WAIT, parse_dispatch};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use zoryx_sim::gateway::compression::{PAYLOAD_COMPRESSION_MIN, STREAM_FRAME_MAX, ZLIB_SUFFIX};
use zoryx_sim::{GatewayCompression, IdentifyCompress, SimConfig, SimEvent, Simulator};

/// A frame as it came off the socket.
#[derive(Debug)]
enum Raw {
    Text(String),
    Binary(Vec<u8>),
}

/// A gateway client that sees every frame as sent.
struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    async fn connect(sim: &Simulator, query: &str) -> Self {
        let url = format!("{}?{query}", sim.gateway_url());
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("gateway connects");
        Self { ws }
    }

    async fn raw(&mut self) -> Raw {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame within the timeout")
                .expect("the socket stays open")
                .expect("a frame");
            match msg {
                WsMessage::Text(text) => return Raw::Text(text),
                WsMessage::Binary(bytes) => return Raw::Binary(bytes),
                WsMessage::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    async fn send(&mut self, v: Value) {
        self.ws
            .send(WsMessage::Text(v.to_string()))
            .await
            .expect("gateway accepts a frame");
    }

    async fn identify(&mut self, sim: &Simulator, compress: bool) {
        self.send(json!({"op": 2, "d": {
            "token": sim.token(),
            "intents": ALL_INTENTS,
            "properties": {"os": "linux", "browser": "test", "device": "test"},
            "shard": [0, 1],
            "compress": compress,
        }}))
        .await;
    }

    async fn close(mut self) {
        self.ws
            .close(Some(CloseFrame {
                code: CloseCode::from(4000),
                reason: "".into(),
            }))
            .await
            .expect("close");
    }
}

/// One connection's zlib stream, read as Discord's documentation says: frames are buffered
/// until one ends with the Z_SYNC_FLUSH suffix, then inflated with the connection's context.
struct Stream {
    inflate: Decompress,
    buffer: Vec<u8>,
    /// Frames that made up the last message.
    frames: usize,
}

impl Stream {
    fn new() -> Self {
        Self {
            inflate: Decompress::new(true),
            buffer: Vec::new(),
            frames: 0,
        }
    }

    /// The message a frame completes, if it does.
    fn push(&mut self, frame: &[u8]) -> Option<String> {
        self.buffer.extend_from_slice(frame);
        self.frames += 1;
        if !self.buffer.ends_with(&ZLIB_SUFFIX) {
            return None;
        }
        let mut out = Vec::with_capacity(self.buffer.len() * 10);
        let start = self.inflate.total_in();
        loop {
            let done = usize::try_from(self.inflate.total_in() - start).expect("fits");
            if done == self.buffer.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve(64 * 1024);
            let status = self
                .inflate
                .decompress_vec(&self.buffer[done..], &mut out, FlushDecompress::Sync)
                .expect("the stream inflates");
            assert_ne!(status, Status::StreamEnd, "the stream never ends");
        }
        self.buffer.clear();
        Some(String::from_utf8(out).expect("UTF-8 JSON"))
    }

    /// The next whole message of the stream (every frame must be binary).
    async fn next(&mut self, client: &mut Client) -> Value {
        self.frames = 0;
        loop {
            match client.raw().await {
                Raw::Binary(bytes) => {
                    if let Some(text) = self.push(&bytes) {
                        return serde_json::from_str(&text).expect("JSON");
                    }
                }
                Raw::Text(text) => panic!("a text frame on a zlib stream: {text}"),
            }
        }
    }

    /// Messages until the dispatch `name`; each dispatch on the way parses with serenity.
    async fn dispatch(&mut self, client: &mut Client, name: &str) -> (Value, Event) {
        loop {
            let v = self.next(client).await;
            if v["op"] != 0 {
                continue;
            }
            let (_, event) = parse_dispatch(&v.to_string());
            if v["t"] == name {
                return (v, event);
            }
        }
    }
}

/// Inflates one binary frame on its own, as serenity 0.12.5 as released does: a fresh
/// decoder for each frame.
fn inflate_alone(bytes: &[u8]) -> std::io::Result<String> {
    let mut text = String::new();
    ZlibDecoder::new(bytes).read_to_string(&mut text)?;
    Ok(text)
}

async fn sim_with(identify_compress: IdentifyCompress) -> Simulator {
    Simulator::start(SimConfig {
        identify_compress,
        ..SimConfig::default()
    })
    .await
    .expect("simulator")
}

async fn compression_of(
    events: &mut tokio::sync::broadcast::Receiver<SimEvent>,
) -> (bool, GatewayCompression) {
    loop {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Ok(SimEvent::Identified { compression, .. })) => return (false, compression),
            Ok(Ok(SimEvent::Resumed { compression, .. })) => return (true, compression),
            Ok(Ok(_)) => {}
            other => panic!("no IDENTIFY or RESUME: {other:?}"),
        }
    }
}

#[tokio::test]
async fn transport_compression_carries_every_message_on_one_stream_from_hello_on() {
    for flavour in [IdentifyCompress::PerPayload, IdentifyCompress::SharedStream] {
        let sim = sim_with(flavour).await;
        let mut events = sim.subscribe();
        let mut client = Client::connect(&sim, "v=10&compress=zlib-stream").await;
        let mut stream = Stream::new();
        // HELLO is the stream's first message: it carries the zlib header.
        let hello = match client.raw().await {
            Raw::Binary(bytes) => {
                assert_eq!(bytes[0], 0x78, "a zlib header");
                stream.push(&bytes).expect("HELLO in one frame")
            }
            Raw::Text(text) => panic!("HELLO as text: {text}"),
        };
        assert_eq!(
            serde_json::from_str::<Value>(&hello).expect("JSON")["op"],
            10
        );
        // Payload compression is off under transport compression, whatever IDENTIFY asks.
        client.identify(&sim, true).await;
        let (_, ready) = stream.dispatch(&mut client, "READY").await;
        assert!(matches!(ready, Event::Ready(_)), "{ready:?}");
        assert_eq!(
            compression_of(&mut events).await,
            (false, GatewayCompression::ZlibStream)
        );
        let (_, create) = stream.dispatch(&mut client, "GUILD_CREATE").await;
        assert!(matches!(create, Event::GuildCreate(_)), "{create:?}");
        // Small messages too: a heartbeat ACK, a message.
        client.send(json!({"op": 1, "d": 2})).await;
        assert_eq!(stream.next(&mut client).await["op"], 11);
        sim.inject_message(sim.default_channel(), sim.guest().id, "on the stream")
            .await
            .expect("inject");
        let (message, _) = stream.dispatch(&mut client, "MESSAGE_CREATE").await;
        assert_eq!(message["d"]["content"], "on the stream");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn payload_compression_sends_large_payloads_each_as_a_zlib_stream_of_its_own() {
    let sim = sim_with(IdentifyCompress::PerPayload).await;
    let mut events = sim.subscribe();
    let mut client = Client::connect(&sim, "v=10").await;
    assert!(matches!(client.raw().await, Raw::Text(_)), "HELLO as text");
    client.identify(&sim, true).await;
    assert_eq!(
        compression_of(&mut events).await,
        (false, GatewayCompression::PerPayload)
    );
    client.send(json!({"op": 1, "d": null})).await;
    let (mut binary, mut text) = (0, 0);
    loop {
        let payload = match client.raw().await {
            Raw::Binary(bytes) => {
                binary += 1;
                // Each one inflates by itself, the second as well as the first.
                let payload = inflate_alone(&bytes).expect("a complete zlib stream");
                assert!(payload.len() >= PAYLOAD_COMPRESSION_MIN, "{payload}");
                payload
            }
            Raw::Text(payload) => {
                text += 1;
                assert!(payload.len() < PAYLOAD_COMPRESSION_MIN, "{payload}");
                payload
            }
        };
        let v: Value = serde_json::from_str(&payload).expect("JSON");
        if v["op"] == 0 {
            parse_dispatch(&payload);
        }
        if v["op"] == 11 {
            break;
        }
    }
    // GUILD_CREATE compressed, the ACK as text.
    assert!(binary >= 1, "{binary} binary frames");
    assert!(text >= 1, "{text} text frames");
    sim.shutdown().await;
}

/// The pitfall behind gateway-proxy: it takes IDENTIFY's `compress: true` for a shared stream,
/// and a client inflating each frame on its own reads the first frame and none after it.
#[tokio::test]
async fn behind_gateway_proxy_identify_compress_is_a_shared_stream_that_frames_alone_cannot_read() {
    let sim = sim_with(IdentifyCompress::SharedStream).await;
    let mut events = sim.subscribe();
    // As serenity 0.12.5 as released connects: no `compress` on the URL, `compress: true` in
    // IDENTIFY.
    let mut client = Client::connect(&sim, "v=10").await;
    assert!(matches!(client.raw().await, Raw::Text(_)), "HELLO as text");
    client.identify(&sim, true).await;
    assert_eq!(
        compression_of(&mut events).await,
        (false, GatewayCompression::SharedStream)
    );
    client.send(json!({"op": 1, "d": null})).await;
    let mut frames = Vec::new();
    let mut stream = Stream::new();
    loop {
        let Raw::Binary(bytes) = client.raw().await else {
            panic!("a text frame after IDENTIFY on the shared stream");
        };
        let message = stream.push(&bytes).expect("one frame a message");
        frames.push(bytes);
        if serde_json::from_str::<Value>(&message).expect("JSON")["op"] == 11 {
            break;
        }
    }
    assert!(frames.len() >= 3, "READY, GUILD_CREATE, the ACK");
    // Read frame by frame, the first (READY) has the zlib header but no end: flate2 1.0 read
    // what it had, flate2 1.1 refuses it as incomplete. None after it has a chance: they
    // continue the stream.
    assert_eq!(frames[0][0], 0x78, "the zlib header");
    for (i, frame) in frames.iter().enumerate().skip(1) {
        assert!(
            inflate_alone(frame).is_err(),
            "frame {i} inflated on its own"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_resume_starts_a_new_stream_and_keeps_the_sessions_compression() {
    for (flavour, query, compress, expected) in [
        (
            IdentifyCompress::PerPayload,
            "v=10&compress=zlib-stream",
            false,
            GatewayCompression::ZlibStream,
        ),
        (
            IdentifyCompress::SharedStream,
            "v=10",
            true,
            GatewayCompression::SharedStream,
        ),
    ] {
        let sim = sim_with(flavour).await;
        let mut events = sim.subscribe();
        let mut client = Client::connect(&sim, query).await;
        let mut stream = Stream::new();
        if let Raw::Binary(bytes) = client.raw().await {
            stream.push(&bytes).expect("HELLO");
        }
        client.identify(&sim, compress).await;
        let (ready, _) = stream.dispatch(&mut client, "READY").await;
        let session = ready["d"]["session_id"]
            .as_str()
            .expect("session")
            .to_owned();
        let (create, _) = stream.dispatch(&mut client, "GUILD_CREATE").await;
        let seq = create["s"].as_u64().expect("seq");
        assert_eq!(compression_of(&mut events).await, (false, expected));
        client.close().await;
        // Missed while away, replayed on the new connection's stream.
        sim.inject_message(sim.default_channel(), sim.guest().id, "while away")
            .await
            .expect("inject");

        let mut client = Client::connect(&sim, query).await;
        let mut stream = Stream::new();
        if let Raw::Binary(bytes) = client.raw().await {
            assert_eq!(bytes[0], 0x78, "a new stream, with its zlib header");
            stream.push(&bytes).expect("HELLO");
        }
        client
            .send(json!({"op": 6, "d": {"token": sim.token(), "session_id": session, "seq": seq}}))
            .await;
        let (missed, _) = stream.dispatch(&mut client, "MESSAGE_CREATE").await;
        assert_eq!(missed["d"]["content"], "while away");
        stream.dispatch(&mut client, "RESUMED").await;
        assert_eq!(compression_of(&mut events).await, (true, expected));
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_long_message_spans_frames_and_only_its_last_frame_ends_with_the_suffix() {
    let sim = sim_with(IdentifyCompress::PerPayload).await;
    // The guild the host's compression test uses: its GUILD_CREATE is far past one frame.
    let big = sim.populate(1, 2000)[0].to_string();
    let mut client = Client::connect(&sim, "v=10&compress=zlib-stream").await;
    let mut stream = Stream::new();
    stream.next(&mut client).await;
    client.identify(&sim, false).await;
    loop {
        let (create, event) = stream.dispatch(&mut client, "GUILD_CREATE").await;
        if create["d"]["id"] != big.as_str() {
            continue;
        }
        let Event::GuildCreate(create) = event else {
            panic!("{event:?}")
        };
        assert_eq!(create.guild.members.len(), 2000);
        assert!(
            stream.frames > 1,
            "{} frame(s) of at most {STREAM_FRAME_MAX} bytes",
            stream.frames
        );
        break;
    }
    sim.shutdown().await;
}
