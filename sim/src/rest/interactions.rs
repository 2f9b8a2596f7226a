//! Route: `POST /interactions/{id}/{token}/callback` (with `?with_response=true`, the answer
//! names the message the response created or updated).

use axum::http::Method;
use serde_json::{Value, json};

use super::messages::{apply_edit, create_bot_message, message_json, validate_message_body};
use super::{ApiError, Reply, Req, id};
use crate::events::SimEvent;
use crate::simulator::Inner;

/// Callback types the simulator accepts: pong (acknowledged, nothing shown), channel message,
/// deferred channel message, deferred update, update message.
const KNOWN_TYPES: [u64; 5] = [1, 4, 5, 6, 7];

/// Answers the interaction callback route.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let ["interactions", iid, token, "callback"] = req.segs.as_slice() else {
        return None;
    };
    if req.method != Method::POST {
        return Some(Err(ApiError::method_not_allowed()));
    }
    Some(callback(inner, iid, token, req))
}

fn callback(inner: &Inner, iid: &str, token: &str, req: &Req<'_>) -> Result<Reply, ApiError> {
    let iid = id(iid, "interaction", 10062)?;
    let world = &mut *inner.world();
    let interaction = world
        .interactions
        .get(&iid)
        .filter(|i| i.token == token)
        .cloned()
        .ok_or_else(|| ApiError::unknown("interaction", 10062))?;
    if interaction.response_kind.is_some() {
        return Err(ApiError::bad_request(
            "Interaction has already been acknowledged.",
            40060,
        ));
    }
    let body = req.body();
    let kind = body
        .get("type")
        .and_then(Value::as_u64)
        .filter(|k| KNOWN_TYPES.contains(k))
        .ok_or_else(|| {
            ApiError::invalid_form(
                "type",
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 4, 5, 6, 7}.",
            )
        })?;
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let is_component = interaction.kind == 3;
    let mut original = None;
    match kind {
        4 => {
            validate_message_body(&data, true)?;
            original = Some(create_bot_message(
                inner,
                world,
                interaction.channel_id,
                &data,
                Some(iid),
            ));
        }
        5 => {
            let mut deferred = serde_json::json!({"content": "", "flags": 128});
            if let Some(flags) = data.get("flags").and_then(Value::as_u64) {
                deferred["flags"] = (flags | 128).into();
            }
            original = Some(create_bot_message(
                inner,
                world,
                interaction.channel_id,
                &deferred,
                Some(iid),
            ));
        }
        6 | 7 if !is_component => {
            return Err(ApiError::bad_request(
                "Interaction callback type is only valid for component interactions",
                50035,
            ));
        }
        7 => {
            validate_message_body(&data, false)?;
            if let Some(mid) = interaction.message_id {
                apply_edit(inner, world, mid, &data);
            }
        }
        _ => {}
    }
    if let Some(i) = world.interactions.get_mut(&iid) {
        i.response_kind = Some(kind as u8);
        i.original_message = original;
    }
    inner.emit(SimEvent::InteractionResponse {
        interaction_id: iid,
        kind: kind as u8,
        body: data,
    });
    if req.query_param("with_response") != Some("true") {
        return Reply::no_content();
    }
    // `?with_response=true`: the interaction and the message the response created or updated.
    let shown = match kind {
        4 | 5 => original,
        7 => interaction.message_id,
        _ => None,
    };
    let message = shown.and_then(|m| world.messages.get(&m));
    let mut answer = json!({
        "interaction": {
            "id": iid.to_string(),
            "type": interaction.kind,
            "channel_id": interaction.channel_id.to_string(),
        }
    });
    if let Some(g) = interaction.guild_id {
        answer["interaction"]["guild_id"] = json!(g.to_string());
    }
    if let Some(m) = message {
        answer["interaction"]["response_message_id"] = json!(m.id.to_string());
        answer["interaction"]["response_message_loading"] = json!(kind == 5);
        answer["interaction"]["response_message_ephemeral"] = json!(m.flags & 64 != 0);
        if kind != 5 {
            answer["resource"] = json!({"type": kind, "message": message_json(world, m)});
        }
    }
    Reply::ok(answer)
}
