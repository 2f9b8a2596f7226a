//! Goodbye: a message in a channel when a member leaves (placeholders as for welcome).

use zoryx_plugin_api::{Embed, Event, EventKind, Message, PluginResult, palette};

use super::{Run, fill, welcome::send};
use crate::settings::{Key, Kind};

pub(crate) const KEYS: &[Key] = &[
    Key::required("channel", Kind::Channel, "where the goodbye goes"),
    Key::optional(
        "message",
        Kind::Text,
        "the goodbye; {user}, {mention}, {server}, {count} are filled in",
    ),
    Key::optional("title", Kind::Text, "the embed's title (Goodbye)"),
    Key::optional("colour", Kind::Colour, "the embed's colour"),
    Key::optional("bots", Kind::Flag, "say goodbye to bots too (no)"),
];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::MemberLeave];

const MESSAGE: &str = "**{user}** left {server}. We are {count} now.";

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let Event::MemberLeave { user, .. } = event else {
        return Ok(false);
    };
    let settings = &run.automation.settings;
    if user.bot && !settings.flag("bots", false) {
        return Ok(false);
    }
    let Some(channel) = settings.channel("channel") else {
        return Ok(false);
    };
    let info = run.guild.info().await?;
    let text = |template: &str| fill(template, user, &info.name, info.member_count);
    let embed = Embed::new()
        .title(text(
            &settings
                .text("title")
                .unwrap_or_else(|| "Goodbye".to_owned()),
        ))
        .description(text(
            &settings
                .text("message")
                .unwrap_or_else(|| MESSAGE.to_owned()),
        ))
        .colour(settings.colour("colour").unwrap_or(palette::WARNING));
    send(run, channel, Message::new().embed(embed)).await?;
    Ok(true)
}
