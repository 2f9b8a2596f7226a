//! `status` (owners): the bot's status and its rotation; set one, advance, pause or resume.

use zoryx_plugin_api::{Arg, CommandKind, CommandSpec, Embed, Message, Permission};

use super::{BuiltinCall, Builtins};
use crate::config::StatusEntry;
use crate::config::validate::{STATUS_TEXT_MAX, STATUS_TYPES};
use crate::discord::embeds::{colour, embed};
use crate::discord::presence;

pub(super) fn register(builtins: &mut Builtins) {
    builtins.add(
        CommandSpec::new("status")
            .description("The bot's status: show it, set one, go to the next, pause or resume")
            .category("Owner")
            .permission(Permission::Owner)
            .kind(CommandKind::Hybrid)
            .arg(
                Arg::text("action")
                    .description("What to do (nothing: show the status and the rotation)")
                    .choices(["show", "set", "next", "pause", "resume"])
                    .optional(),
            )
            .arg(
                Arg::text("type")
                    .description("For set: the status type")
                    .choices(STATUS_TYPES)
                    .optional(),
            )
            .arg(
                Arg::rest("text")
                    .description("For set: the text (streaming: the stream URL, then the text)")
                    .optional(),
            ),
        |call| Box::pin(status(call)),
    );
}

async fn status(call: BuiltinCall) -> Result<Message, String> {
    let action: Option<String> = call.args.get("action").map_err(|e| e.to_string())?;
    let rotator = &call.bot.presence;
    match action.as_deref().unwrap_or("show") {
        "set" => {
            let entry = entry(&call)?;
            rotator.set(entry);
            tracing::info!(user = call.author.id.0, "owner command: status set");
        }
        "next" => {
            rotator.pause(false);
            rotator.advance();
        }
        "pause" => rotator.pause(true),
        "resume" => rotator.pause(false),
        _ => return Ok(show(&call)),
    }
    let shown = presence::apply(&call.bot, false).await;
    rotator.restart_interval();
    let paused = rotator.snapshot().paused;
    let state = if paused {
        "The rotation is paused: `status resume` goes back to it."
    } else {
        "The rotation goes on."
    };
    Ok(embed(
        colour::SUCCESS,
        "✅ Status",
        format!(
            "Now: **{}** ({})\n{state}",
            shown.describe(),
            shown.presence
        ),
    ))
}

/// The status `status set TYPE TEXT` describes; it keeps the current online status.
fn entry(call: &BuiltinCall) -> Result<StatusEntry, String> {
    let usage = "`status set TYPE TEXT` (streaming: `status set streaming URL TEXT`)";
    let kind: Option<String> = call.args.get("type").map_err(|e| e.to_string())?;
    let text: Option<String> = call.args.get("text").map_err(|e| e.to_string())?;
    let (Some(kind), Some(text)) = (kind, text) else {
        return Err(format!("Set needs a type and a text: {usage}."));
    };
    let (url, text) = if kind == "streaming" {
        let (url, rest) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("Streaming needs the stream's URL first: {usage}."));
        }
        (Some(url.to_owned()), rest.trim().to_owned())
    } else {
        (None, text.trim().to_owned())
    };
    let length = text.chars().count();
    if !(1..=STATUS_TEXT_MAX).contains(&length) {
        return Err(format!(
            "The text must be 1 to {STATUS_TEXT_MAX} characters (got {length})."
        ));
    }
    let presence = call
        .bot
        .presence
        .snapshot()
        .shown
        .map_or_else(|| "online".to_owned(), |s| s.presence);
    Ok(StatusEntry {
        kind,
        text,
        url,
        presence,
    })
}

fn show(call: &BuiltinCall) -> Message {
    let snapshot = call.bot.presence.snapshot();
    let now = snapshot.shown.as_ref().map_or_else(
        || "not set yet (the bot is not connected)".to_owned(),
        |s| format!("{} ({})", s.describe(), s.presence),
    );
    let rotation: Vec<String> = snapshot
        .statuses
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let marker = if i == snapshot.index && snapshot.fixed.is_none() {
                "▶"
            } else {
                "•"
            };
            format!("{marker} {} `{}`", s.kind, s.text)
        })
        .collect();
    let state = match (&snapshot.fixed, snapshot.paused) {
        (Some(_), _) => "set by `status set` (`status resume` goes back to the rotation)",
        (None, true) => "paused",
        (None, false) if snapshot.statuses.len() > 1 => "rotating",
        (None, false) => "one status, placeholders refreshed",
    };
    Message::new().embed(
        Embed::new()
            .title("🟢 Status")
            .field("Now", now, false)
            .field("Rotation", rotation.join("\n"), false)
            .field("State", state, true)
            .field("Every", format!("{} s", snapshot.interval.as_secs()), true)
            .footer("status set TYPE TEXT · next · pause · resume")
            .colour(colour::INFO),
    )
}
