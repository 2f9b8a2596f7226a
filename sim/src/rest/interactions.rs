//! Route: `POST /interactions/{id}/{token}/callback` (with `?with_response=true`, the answer
//! names the message the response created or updated).

use axum::http::Method;
use serde_json::{Value, json};

use super::messages::{
    apply_edit, attachments, create_bot_message, message_json, validate_message_body,
};
use super::{ApiError, Reply, Req, id};
use crate::events::SimEvent;
use crate::simulator::Inner;

/// Callback types the simulator accepts: pong (acknowledged, nothing shown), channel message,
/// deferred channel message, deferred update, update message, autocomplete result, modal.
const KNOWN_TYPES: [u64; 7] = [1, 4, 5, 6, 7, 8, 9];

/// The callback types Discord takes for an interaction type, as its 50035 error lists them:
/// commands and context menus (2), components (3), autocomplete (4), modal submissions (5).
fn allowed_types(interaction: u8) -> &'static [u64] {
    match interaction {
        2 => &[4, 5, 9, 10, 12],
        3 => &[4, 5, 6, 7, 9, 10, 12],
        4 => &[8],
        5 => &[4, 5, 6, 7, 10],
        _ => &[1, 4, 5, 6, 7],
    }
}

fn type_refused(interaction: u8) -> ApiError {
    let list: Vec<String> = allowed_types(interaction)
        .iter()
        .map(u64::to_string)
        .collect();
    ApiError::invalid_form(
        "type",
        "BASE_TYPE_CHOICES",
        &format!("Value must be one of {{{}}}.", list.join(", ")),
    )
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn length_error(field: &str, min: usize, max: usize) -> ApiError {
    if min == 0 {
        ApiError::invalid_form(
            field,
            "BASE_TYPE_MAX_LENGTH",
            &format!("Must be {max} or fewer in length."),
        )
    } else {
        ApiError::invalid_form(
            field,
            "BASE_TYPE_BAD_LENGTH",
            &format!("Must be between {min} and {max} in length."),
        )
    }
}

/// A string field of `value` of `min..=max` characters (absent: only when `min` is 0).
fn text_field(value: &Value, key: &str, at: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let field = format!("{at}{key}");
    match value.get(key) {
        None | Some(Value::Null) if min == 0 => Ok(()),
        None | Some(Value::Null) => Err(ApiError::invalid_form(
            &field,
            "BASE_TYPE_REQUIRED",
            "This field is required",
        )),
        Some(Value::String(s)) if (min..=max).contains(&chars(s)) => Ok(()),
        Some(Value::String(_)) => Err(length_error(&field, min, max)),
        Some(_) => Err(ApiError::invalid_form(
            &field,
            "BASE_TYPE_STRING",
            "Must be a string.",
        )),
    }
}

/// Validates an autocomplete result (type 8) as Discord does: at most 25 choices, names of
/// 1–100 characters, string values of at most 100.
fn validate_autocomplete(data: &Value) -> Result<(), ApiError> {
    let Some(choices) = data.get("choices").filter(|c| !c.is_null()) else {
        return Ok(());
    };
    let Some(list) = choices.as_array() else {
        return Err(ApiError::invalid_form(
            "data.choices",
            "BASE_TYPE_LIST",
            "Must be an array.",
        ));
    };
    if list.len() > 25 {
        return Err(ApiError::invalid_form(
            "data.choices",
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        ));
    }
    for (i, choice) in list.iter().enumerate() {
        let at = format!("data.choices.{i}.");
        text_field(choice, "name", &at, 1, 100)?;
        match choice.get("value") {
            Some(Value::String(s)) if chars(s) <= 100 => {}
            Some(Value::String(_)) => return Err(length_error(&format!("{at}value"), 0, 100)),
            Some(Value::Number(_)) => {}
            _ => {
                return Err(ApiError::invalid_form(
                    &format!("{at}value"),
                    "BASE_TYPE_REQUIRED",
                    "This field is required",
                ));
            }
        }
    }
    Ok(())
}

/// Validates a modal (type 9) as Discord does: `custom_id` 1–100, title 1–45, 1–5 action
/// rows of one text input each (style 1 or 2, label 1–45, `custom_id` 1–100, lengths 0–4000
/// and 1–4000, placeholder ≤ 100, value ≤ 4000).
fn validate_modal(data: &Value) -> Result<(), ApiError> {
    if !data.is_object() {
        return Err(ApiError::invalid_form(
            "data",
            "BASE_TYPE_REQUIRED",
            "This field is required",
        ));
    }
    text_field(data, "custom_id", "data.", 1, 100)?;
    text_field(data, "title", "data.", 1, 45)?;
    let rows = data
        .get("components")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ApiError::invalid_form(
                "data.components",
                "BASE_TYPE_REQUIRED",
                "This field is required",
            )
        })?;
    if rows.is_empty() || rows.len() > 5 {
        return Err(length_error("data.components", 1, 5));
    }
    for (i, row) in rows.iter().enumerate() {
        let at = format!("data.components.{i}");
        if row.get("type").and_then(Value::as_u64) != Some(1) {
            return Err(ApiError::invalid_form(
                &format!("{at}.type"),
                "UNION_TYPE_CHOICES",
                "Value of field \"type\" must be one of (1, 10, 18).",
            ));
        }
        let inner = row
            .get("components")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if inner.len() != 1 {
            return Err(length_error(&format!("{at}.components"), 1, 1));
        }
        let input = &inner[0];
        let at = format!("{at}.components.0.");
        if input.get("type").and_then(Value::as_u64) != Some(4) {
            return Err(ApiError::invalid_form(
                &format!("{at}type"),
                "COMPONENT_TYPE_INVALID",
                "The specified component type is invalid in this context",
            ));
        }
        if !matches!(input.get("style").and_then(Value::as_u64), Some(1 | 2)) {
            return Err(ApiError::invalid_form(
                &format!("{at}style"),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 2}.",
            ));
        }
        text_field(input, "custom_id", &at, 1, 100)?;
        text_field(input, "label", &at, 1, 45)?;
        text_field(input, "placeholder", &at, 0, 100)?;
        text_field(input, "value", &at, 0, 4000)?;
        for (key, min) in [("min_length", 0), ("max_length", 1)] {
            match input.get(key) {
                None | Some(Value::Null) => {}
                Some(n) if n.as_u64().is_some_and(|n| (min..=4000).contains(&n)) => {}
                Some(_) => {
                    return Err(ApiError::invalid_form(
                        &format!("{at}{key}"),
                        "NUMBER_TYPE_MAX",
                        &format!("int value should be between {min} and 4000."),
                    ));
                }
            }
        }
    }
    Ok(())
}

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
                "Value must be one of {1, 4, 5, 6, 7, 8, 9}.",
            )
        })?;
    // Each interaction type takes its own callback types: suggestions only for autocomplete,
    // a modal never for a modal submission.
    if kind != 1 && !allowed_types(interaction.kind).contains(&kind) {
        return Err(type_refused(interaction.kind));
    }
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    // A modal shown by a component submits with that component's message: its updates work.
    let is_component = interaction.kind == 3 || interaction.message_id.is_some();
    let mut original = None;
    match kind {
        8 => validate_autocomplete(&data)?,
        9 => validate_modal(&data)?,
        4 => {
            validate_message_body(&data, req.files.is_empty())?;
            let files = attachments(world, &data, &req.files, &[])?.unwrap_or_default();
            original = Some(create_bot_message(
                inner,
                world,
                interaction.channel_id,
                &data,
                files,
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
                Vec::new(),
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
                let existing = world
                    .messages
                    .get(&mid)
                    .map(|m| m.attachments.clone())
                    .unwrap_or_default();
                let files = attachments(world, &data, &req.files, &existing)?;
                apply_edit(inner, world, mid, &data, files);
            }
        }
        _ => {}
    }
    if let Some(i) = world.interactions.get_mut(&iid) {
        i.response_kind = Some(kind as u8);
        i.original_message = original;
        if kind == 9 {
            i.modal = Some(data.clone());
        }
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
