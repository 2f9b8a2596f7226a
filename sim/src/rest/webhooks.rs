//! Routes: interaction webhooks — `POST /webhooks/{app}/{token}` (followups) and
//! `GET|PATCH|DELETE /webhooks/{app}/{token}/messages/{@original|mid}`.

use axum::http::Method;
use serde_json::Value;

use super::messages::{
    apply_edit, create_bot_message, delete, message_json, validate_message_body,
};
use super::{ApiError, Reply, Req, id};
use crate::events::SimEvent;
use crate::simulator::Inner;
use crate::world::{Interaction, World};

/// Answers the webhook routes.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let ["webhooks", app, token, rest @ ..] = req.segs.as_slice() else {
        return None;
    };
    let world = &mut *inner.world();
    let interaction = match find_interaction(world, app, token) {
        Ok(i) => i,
        Err(e) => return Some(Err(e)),
    };
    Some(match (req.method, rest) {
        (&Method::POST, []) => followup(inner, world, &interaction, req),
        (&Method::GET, ["messages", which]) => target(world, &interaction, which)
            .map(|m| message_json(world, &world.messages[&m]))
            .and_then(Reply::ok),
        (&Method::PATCH, ["messages", which]) => match target(world, &interaction, which) {
            Ok(m) => {
                let body = req.body();
                match validate_message_body(&body, false) {
                    Ok(()) => {
                        let json = apply_edit(inner, world, m, &body);
                        if *which == "@original" {
                            inner.emit(SimEvent::OriginalEdited {
                                interaction_id: interaction.id,
                                body,
                                deleted: false,
                            });
                        }
                        Reply::ok(json)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        },
        (&Method::DELETE, ["messages", which]) => match target(world, &interaction, which) {
            Ok(m) => {
                delete(inner, world, m);
                if *which == "@original" {
                    inner.emit(SimEvent::OriginalEdited {
                        interaction_id: interaction.id,
                        body: Value::Null,
                        deleted: true,
                    });
                }
                Reply::no_content()
            }
            Err(e) => Err(e),
        },
        (_, [] | ["messages", _]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found()),
    })
}

fn find_interaction(world: &World, app: &str, token: &str) -> Result<Interaction, ApiError> {
    let app = id(app, "Webhook", 10015)?;
    if app != world.application_id {
        return Err(ApiError::unknown("Webhook", 10015));
    }
    world
        .interaction_tokens
        .get(token)
        .and_then(|i| world.interactions.get(i))
        .cloned()
        .ok_or_else(|| ApiError::unknown("Webhook", 10015))
}

/// The message a `messages/{which}` path names for this interaction.
fn target(world: &World, interaction: &Interaction, which: &str) -> Result<u64, ApiError> {
    let mid = if which == "@original" {
        match interaction.response_kind {
            Some(4 | 5) => interaction.original_message,
            Some(6 | 7) => interaction.message_id,
            _ => None,
        }
    } else {
        let mid = id(which, "Message", 10008)?;
        world
            .messages
            .get(&mid)
            .filter(|m| m.interaction_id == Some(interaction.id))
            .map(|m| m.id)
    };
    mid.filter(|m| world.messages.contains_key(m))
        .ok_or_else(|| ApiError::unknown("Message", 10008))
}

fn followup(
    inner: &Inner,
    world: &mut World,
    interaction: &Interaction,
    req: &Req<'_>,
) -> Result<Reply, ApiError> {
    if world
        .interactions
        .get(&interaction.id)
        .is_none_or(|i| i.response_kind.is_none())
    {
        return Err(ApiError::unknown("Webhook", 10015));
    }
    let body = req.body();
    validate_message_body(&body, true)?;
    let mid = create_bot_message(
        inner,
        world,
        interaction.channel_id,
        &body,
        Some(interaction.id),
    );
    inner.emit(SimEvent::Followup {
        interaction_id: interaction.id,
        token: interaction.token.clone(),
        message_id: mid,
        body,
    });
    Reply::ok(message_json(world, &world.messages[&mid]))
}
