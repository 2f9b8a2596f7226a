//! One gateway WebSocket connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::compression::{self, Encoder, GatewayCompression, WireFrame};
use super::hub::{Outgoing, Session};
use super::opcodes;
use crate::SimEvent;
use crate::simulator::Inner;

/// The axum handler upgrading `GET /ws` to a gateway connection (`?compress=zlib-stream`
/// turns on transport compression).
/// While [`crate::Simulator::refuse_gateway`] is on, it answers 503 instead.
pub(crate) async fn upgrade(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    if inner.gateway_refused.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "gateway unavailable").into_response();
    }
    let compression = if compression::wants_zlib_stream(query.as_deref()) {
        GatewayCompression::ZlibStream
    } else {
        GatewayCompression::None
    };
    ws.on_upgrade(move |socket| run(inner, socket, compression))
}

struct Conn {
    id: u64,
    tx: mpsc::UnboundedSender<Outgoing>,
    session: Option<String>,
    /// The shard the session runs (`[id, count]`), once identified or resumed.
    shard: Option<[u32; 2]>,
    /// When the connection last heard a heartbeat.
    last_heartbeat: Option<std::time::Instant>,
    /// How the connection compresses what it sends now.
    compression: GatewayCompression,
}

async fn run(inner: Arc<Inner>, socket: WebSocket, compression: GatewayCompression) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    let mut conn = Conn {
        id: inner.hub.next_conn_id(),
        tx,
        session: None,
        shard: None,
        last_heartbeat: None,
        compression,
    };
    let interval = inner.config.heartbeat_interval.as_millis() as u64;
    let _ = conn.tx.send(Outgoing::Text(
        json!({"op": opcodes::HELLO, "d": {"heartbeat_interval": interval}}).to_string(),
    ));
    let shutdown = inner.shutdown.clone();
    let writer = tokio::spawn(async move {
        // Transport compression starts with HELLO.
        let mut encoder = Encoder::new(compression);
        let mut frames = Vec::new();
        while let Some(frame) = rx.recv().await {
            match frame {
                Outgoing::Text(text) => {
                    frames.clear();
                    if let Err(error) = encoder.encode(text, &mut frames) {
                        tracing::warn!(%error, "gateway frame not compressed; closing");
                        frames.clear();
                        let _ = sink
                            .send(WsMessage::Close(Some(CloseFrame {
                                code: opcodes::CLOSE_UNKNOWN_ERROR,
                                reason: opcodes::close_reason(opcodes::CLOSE_UNKNOWN_ERROR).into(),
                            })))
                            .await;
                        return Some(opcodes::CLOSE_UNKNOWN_ERROR);
                    }
                    for frame in frames.drain(..) {
                        let message = match frame {
                            WireFrame::Text(text) => WsMessage::Text(text.into()),
                            WireFrame::Binary(bytes) => WsMessage::Binary(bytes.into()),
                        };
                        if sink.send(message).await.is_err() {
                            return None;
                        }
                    }
                }
                Outgoing::Compression(mode) => encoder = Encoder::new(mode),
                Outgoing::Close(code) => {
                    let _ = sink
                        .send(WsMessage::Close(Some(CloseFrame {
                            code,
                            reason: opcodes::close_reason(code).into(),
                        })))
                        .await;
                    return Some(code);
                }
            }
        }
        None
    });
    let mut writer = writer;
    // The close code the bot sent, if it closed the socket itself.
    let mut client_close = None;
    let closed_by_us = loop {
        tokio::select! {
            () = shutdown.cancelled() => break None,
            done = &mut writer => break done.ok().flatten(),
            msg = stream.next() => match msg {
                Some(Ok(WsMessage::Text(text))) => {
                    if let Err(code) = handle_frame(&inner, &mut conn, text.as_str()) {
                        let _ = conn.tx.send(Outgoing::Close(code));
                    }
                }
                Some(Ok(WsMessage::Binary(_))) => {
                    let _ = conn.tx.send(Outgoing::Close(opcodes::CLOSE_DECODE_ERROR));
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    client_close = frame.map(|f| f.code);
                    break None;
                }
                None | Some(Err(_)) => break None,
                Some(Ok(_)) => {}
            },
        }
    };
    writer.abort();
    if let Some(session) = &conn.session {
        // As on Discord, a client closing with 1000 or 1001 ends its session (it cannot be
        // resumed, and it no longer collects dispatches); any other way of leaving keeps it for
        // a RESUME.
        if matches!(client_close, Some(1000 | 1001)) {
            inner.hub.end(session, conn.id);
        } else {
            inner.hub.detach(session, conn.id);
        }
    }
    let _ = inner.events.send(SimEvent::Disconnected {
        session_id: conn.session.clone(),
        code: closed_by_us,
        client_code: client_close,
    });
}

/// Handles one text frame; `Err(code)` closes the socket with that code.
fn handle_frame(inner: &Arc<Inner>, conn: &mut Conn, text: &str) -> Result<(), u16> {
    let frame: Value = serde_json::from_str(text).map_err(|_| opcodes::CLOSE_DECODE_ERROR)?;
    let op = frame
        .get("op")
        .and_then(Value::as_u64)
        .ok_or(opcodes::CLOSE_DECODE_ERROR)?;
    let d = frame.get("d").cloned().unwrap_or(Value::Null);
    match u8::try_from(op).unwrap_or(u8::MAX) {
        opcodes::HEARTBEAT => {
            // A heartbeat carries the last sequence the client received: nothing up to it
            // can be asked for on RESUME, so the replay buffer lets it go.
            if let (Some(session), Some(seq)) = (&conn.session, d.as_u64()) {
                inner.hub.acknowledge(session, seq);
            }
            let now = std::time::Instant::now();
            let _ = inner.events.send(SimEvent::Heartbeat {
                session_id: conn.session.clone(),
                since_last: conn.last_heartbeat.map(|last| now.duration_since(last)),
            });
            conn.last_heartbeat = Some(now);
            let _ = conn.tx.send(Outgoing::Text(
                json!({"op": opcodes::HEARTBEAT_ACK}).to_string(),
            ));
            Ok(())
        }
        opcodes::IDENTIFY => identify(inner, conn, &d),
        opcodes::RESUME => resume(inner, conn, &d),
        opcodes::PRESENCE_UPDATE => {
            if conn.session.is_none() {
                return Err(opcodes::CLOSE_NOT_AUTHENTICATED);
            }
            let presence = presence(&d)?;
            record_presence(inner, conn, presence);
            Ok(())
        }
        // Voice state, request guild members, request soundboard sounds.
        4 | 8 | 31 => {
            if conn.session.is_none() {
                return Err(opcodes::CLOSE_NOT_AUTHENTICATED);
            }
            Ok(())
        }
        _ => Err(opcodes::CLOSE_UNKNOWN_OPCODE),
    }
}

/// The activity types a bot may set, as Discord numbers them: playing, streaming, listening,
/// watching, custom, competing.
const ACTIVITY_TYPES: std::ops::RangeInclusive<u64> = 0..=5;

/// A presence (op 3's `d`, IDENTIFY's `presence`) checked as Discord checks it: `status` one
/// of online/dnd/idle/invisible/offline, `activities` an array of `{name, type}` (`url` for
/// streaming, `state` for custom), `afk` a boolean where given. Anything else closes the
/// connection with 4002, as on Discord. `since` is not checked: Discord takes what serenity
/// sends there (a serialized `SystemTime`, not the documented integer).
fn presence(d: &Value) -> Result<Value, u16> {
    let bad = Err(opcodes::CLOSE_DECODE_ERROR);
    let Some(object) = d.as_object() else {
        return bad;
    };
    if object.get("afk").is_some_and(|v| !v.is_boolean()) {
        return bad;
    }
    let status = object.get("status").and_then(Value::as_str);
    if !matches!(
        status,
        Some("online" | "dnd" | "idle" | "invisible" | "offline")
    ) {
        return bad;
    }
    let Some(activities) = object.get("activities").and_then(Value::as_array) else {
        return bad;
    };
    for activity in activities {
        let name = activity.get("name").and_then(Value::as_str);
        let kind = activity.get("type").and_then(Value::as_u64);
        match (name, kind) {
            (Some(name), Some(kind))
                if ACTIVITY_TYPES.contains(&kind) && name.chars().count() <= 128 => {}
            _ => return bad,
        }
    }
    Ok(d.clone())
}

/// Keeps `presence` as the shard's and announces it.
fn record_presence(inner: &Inner, conn: &Conn, presence: Value) {
    let shard = conn.shard.map_or(0, |[id, _]| id);
    inner
        .presences
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(shard, presence.clone());
    let _ = inner.events.send(SimEvent::PresenceUpdated {
        session_id: conn.session.clone(),
        shard,
        presence,
    });
}

fn token_ok(inner: &Inner, token: Option<&str>) -> bool {
    token.is_some_and(|t| t.strip_prefix("Bot ").unwrap_or(t) == inner.config.token)
}

fn identify(inner: &Arc<Inner>, conn: &mut Conn, d: &Value) -> Result<(), u16> {
    if conn.session.is_some() {
        return Err(opcodes::CLOSE_ALREADY_AUTHENTICATED);
    }
    if !token_ok(inner, d.get("token").and_then(Value::as_str)) {
        return Err(opcodes::CLOSE_AUTHENTICATION_FAILED);
    }
    let intents = d.get("intents").and_then(Value::as_u64).unwrap_or(0);
    if !inner.config.privileged_intents_enabled && intents & opcodes::PRIVILEGED != 0 {
        return Err(opcodes::CLOSE_DISALLOWED_INTENTS);
    }
    let shard = match d.get("shard").and_then(Value::as_array) {
        Some(arr) => {
            let id = arr.first().and_then(Value::as_u64).unwrap_or(0);
            let count = arr.get(1).and_then(Value::as_u64).unwrap_or(1);
            if count == 0 || id >= count || count > 1024 {
                return Err(opcodes::CLOSE_INVALID_SHARD);
            }
            [id as u32, count as u32]
        }
        None => [0, 1],
    };
    let initial_presence = match d.get("presence") {
        None | Some(Value::Null) => None,
        Some(given) => Some(presence(given)?),
    };
    if let Err(reason) = inner.identify_limits().take(&inner.config, shard[0]) {
        // Discord answers an IDENTIFY past its limits with op 9 (not resumable).
        tracing::warn!(shard = ?shard, reason, "IDENTIFY refused");
        let _ = conn.tx.send(Outgoing::Text(
            json!({"op": opcodes::INVALID_SESSION, "d": false}).to_string(),
        ));
        return Ok(());
    }
    let compress = d.get("compress").and_then(Value::as_bool).unwrap_or(false);
    compress_from_now(conn, compress, inner.config.identify_compress);
    let session_id = inner.new_session_id();
    let (ready, guilds) = inner.ready_payload(&session_id, shard);
    let mut session = Session {
        id: session_id.clone(),
        shard,
        intents,
        compress,
        seq: 0,
        buffer: Default::default(),
        overflowed: 0,
        conn: Some((conn.id, conn.tx.clone())),
    };
    // The session joins the hub in the same locked step that sends READY: a dispatch made as
    // soon as the bot has READY (a test's first message) must find the session.
    inner.hub.with(|sessions| {
        session.push("READY", &ready);
        if intents & opcodes::INTENT_GUILDS != 0 {
            for guild in &guilds {
                session.push("GUILD_CREATE", guild);
            }
        }
        sessions.insert(session_id.clone(), session)
    });
    conn.session = Some(session_id.clone());
    conn.shard = Some(shard);
    if let Some(initial) = initial_presence {
        record_presence(inner, conn, initial);
    }
    inner.hub.mark_ready();
    let _ = inner.events.send(SimEvent::Identified {
        session_id,
        shard,
        intents,
        compression: conn.compression,
    });
    Ok(())
}

/// Applies IDENTIFY's `compress` (the session's, on RESUME) to the frames the connection
/// sends from now on.
fn compress_from_now(conn: &mut Conn, compress: bool, flavour: compression::IdentifyCompress) {
    let mode = conn.compression.after_identify(compress, flavour);
    if mode != conn.compression {
        conn.compression = mode;
        let _ = conn.tx.send(Outgoing::Compression(mode));
    }
}

fn resume(inner: &Arc<Inner>, conn: &mut Conn, d: &Value) -> Result<(), u16> {
    if !token_ok(inner, d.get("token").and_then(Value::as_str)) {
        return Err(opcodes::CLOSE_AUTHENTICATION_FAILED);
    }
    let session_id = d
        .get("session_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let replayed = inner.hub.with(|sessions| {
        let session = sessions.get_mut(session_id)?;
        if seq < session.overflowed {
            // The events after `seq` are no longer buffered: the session cannot resume.
            sessions.remove(session_id);
            return None;
        }
        if let Some((_, old)) = session.conn.take() {
            let _ = old.send(Outgoing::Close(opcodes::CLOSE_UNKNOWN_ERROR));
        }
        compress_from_now(conn, session.compress, inner.config.identify_compress);
        let mut replayed = 0;
        for (s, frame) in &session.buffer {
            if *s > seq {
                let _ = conn.tx.send(Outgoing::Text(frame.clone()));
                replayed += 1;
            }
        }
        session.conn = Some((conn.id, conn.tx.clone()));
        session.push("RESUMED", &json!({"_trace": ["zoryx-sim"]}));
        Some((replayed, session.shard))
    });
    match replayed {
        Some((replayed, shard)) => {
            conn.session = Some(session_id.to_owned());
            conn.shard = Some(shard);
            let _ = inner.events.send(SimEvent::Resumed {
                session_id: session_id.to_owned(),
                replayed,
                compression: conn.compression,
            });
        }
        None => {
            let _ = conn.tx.send(Outgoing::Text(
                json!({"op": opcodes::INVALID_SESSION, "d": false}).to_string(),
            ));
        }
    }
    Ok(())
}
