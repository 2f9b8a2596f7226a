//! The alert channel commands (`eh_alert_channel`, `pr_alert_channel`, `fw_alert_channel`):
//! one handler, one [`Topic`] each.

use zoryx_plugin_api::{Arg, ChannelId, CommandSpec, Message};

use super::BuiltinCall;
use crate::alerts::Topic;
use crate::discord::embeds::{colour, embed};

/// The spec of an alert channel command named `name` for alerts about `what`.
pub(super) fn spec(name: &str, category: &str, what: &str) -> CommandSpec {
    super::owner_command(
        name,
        &format!("Set the channel {what} alerts go to (Bot Owner Only)"),
        category,
    )
    .arg(
        Arg::text("channel")
            .description("#channel or its id (default: this one), or `off`")
            .optional(),
    )
}

/// Reads `#channel`, `<#id>`, an id, or `off`/`none` (`Ok(None)`).
fn parse_channel(text: &str) -> Result<Option<ChannelId>, String> {
    let text = text.trim();
    if matches!(text.to_lowercase().as_str(), "off" | "none" | "disable") {
        return Ok(None);
    }
    let digits = text
        .strip_prefix("<#")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(text);
    digits
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .map(|id| Some(ChannelId(id)))
        .ok_or_else(|| {
            format!("`{text}` is not a channel: mention it (#channel), give its id, or say `off`")
        })
}

/// Sets (or clears) the alert channel of `topic` and says so.
pub(super) async fn set(call: BuiltinCall, topic: Topic) -> Result<Message, String> {
    let given: Option<String> = call.args.get("channel").map_err(|e| e.to_string())?;
    let channel = match given.as_deref() {
        None => Some(call.channel_id),
        Some(text) => parse_channel(text)?,
    };
    let alerts = call.manager().dispatcher().alerts();
    alerts
        .set_channel(topic, channel)
        .map_err(|e| e.to_string())?;
    tracing::info!(user = call.author.id.0, topic = topic.key(), channel = ?channel.map(|c| c.0), "alert channel set");
    Ok(match channel {
        Some(channel) => embed(
            colour::SUCCESS,
            "✅ Alert channel set",
            format!("{} alerts go to <#{}>.", label(topic), channel.0),
        ),
        None => embed(
            colour::SUCCESS,
            "✅ Alerts off",
            format!(
                "{} alerts go nowhere (they are still logged).",
                label(topic)
            ),
        ),
    }
    .ephemeral())
}

fn label(topic: Topic) -> &'static str {
    match topic {
        Topic::Hooks => "Event hook",
        Topic::Registry => "Plugin registry",
        Topic::Health => "Framework health",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_read_from_mentions_ids_and_off() {
        assert_eq!(parse_channel("<#42>"), Ok(Some(ChannelId(42))));
        assert_eq!(parse_channel("42"), Ok(Some(ChannelId(42))));
        assert_eq!(parse_channel("OFF"), Ok(None));
        assert!(parse_channel("general").is_err());
        assert!(parse_channel("0").is_err());
    }
}
