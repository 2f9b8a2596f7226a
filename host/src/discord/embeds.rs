//! How the host's answers look: embeds in the one palette ([`zoryx_plugin_api::palette`]),
//! the usage embed and the gate's refusals.

use zoryx_plugin_api::{Embed, Message, palette};

use crate::gate::Refusal;

/// The palette's colours under the names the host's code uses.
pub mod colour {
    pub use zoryx_plugin_api::palette::{ERROR, INFO, SUCCESS, WARNING};
}

/// A message with one embed of `colour`, a title and a description.
pub fn embed(colour: u32, title: &str, description: impl Into<String>) -> Message {
    Message::new().embed(
        Embed::new()
            .title(title)
            .description(description)
            .colour(colour),
    )
}

/// The usage embed for bad arguments: what was wrong, then the expected form once.
pub fn usage_embed(usage: &str, error: &str) -> Message {
    Message::new().embed(
        Embed::new()
            .title("Invalid arguments")
            .description(error)
            .field("Usage", format!("`{usage}`"), false)
            .colour(palette::WARNING),
    )
}

/// The answer to a refused command: the usage embed for arguments, else the reason in red (a
/// cooldown in yellow). Ephemeral where the command came as an interaction.
pub fn refusal(refusal: &Refusal, command: &str) -> Message {
    let message = match refusal {
        Refusal::Arguments { error, usage } => usage_embed(usage, &error.to_string()),
        Refusal::Cooldown { .. } => embed(
            palette::WARNING,
            refusal.title(),
            format!("⏳ {}", refusal.explain(command)),
        ),
        _ => embed(
            palette::ERROR,
            refusal.title(),
            format!("⛔ {}", refusal.explain(command)),
        ),
    };
    message.ephemeral()
}
