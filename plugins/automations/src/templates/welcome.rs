//! Welcome: a new member is greeted in a channel with an embed (placeholders `{user}`,
//! `{mention}`, `{id}`, `{server}`, `{count}`), optionally given a role and sent a DM.

use zoryx_plugin_api::{ChannelId, Embed, Event, EventKind, Message, PluginResult, palette};

use super::{Run, fill};
use crate::settings::{Key, Kind};

pub(crate) const KEYS: &[Key] = &[
    Key::required("channel", Kind::Channel, "where the greeting goes"),
    Key::optional(
        "message",
        Kind::Text,
        "the greeting; {mention}, {user}, {server}, {count} are filled in",
    ),
    Key::optional("title", Kind::Text, "the embed's title (Welcome!)"),
    Key::optional("colour", Kind::Colour, "the embed's colour, e.g. #57f287"),
    Key::optional(
        "image",
        Kind::Url,
        "an image or banner URL shown in the embed",
    ),
    Key::optional("role", Kind::Role, "a role given to every new member"),
    Key::optional("dm", Kind::Text, "a direct message sent to the new member"),
    Key::optional("bots", Kind::Flag, "greet bots too (no)"),
];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::MemberJoin];

const MESSAGE: &str = "Welcome {mention} to **{server}**! You are member #{count}.";

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let Event::MemberJoin(member) = event else {
        return Ok(false);
    };
    let settings = &run.automation.settings;
    if member.user.bot && !settings.flag("bots", false) {
        return Ok(false);
    }
    let info = run.guild.info().await?;
    let text = |template: &str| fill(template, &member.user, &info.name, info.member_count);
    if let Some(channel) = settings.channel("channel") {
        let mut embed = Embed::new()
            .title(text(
                &settings
                    .text("title")
                    .unwrap_or_else(|| "Welcome!".to_owned()),
            ))
            .description(text(
                &settings
                    .text("message")
                    .unwrap_or_else(|| MESSAGE.to_owned()),
            ))
            .colour(settings.colour("colour").unwrap_or(palette::SUCCESS));
        if let Some(image) = settings.text("image") {
            embed = embed.thumbnail(image);
        }
        send(run, channel, Message::new().embed(embed)).await?;
    }
    if let Some(role) = settings.role("role") {
        run.guild
            .add_role(
                member.user.id,
                role,
                &format!("automation `{}`", run.automation.name),
            )
            .await?;
    }
    if let Some(dm) = settings.text("dm") {
        // Members who close their DMs are common: not a failure of the automation.
        if let Err(error) = run.host.dm(member.user.id, text(&dm)).await {
            run.host.debug(format!(
                "automation `{}`: no DM to {}: {error}",
                run.automation.name, member.user.id.0
            ));
        }
    }
    Ok(true)
}

/// Sends `message` to `channel` in the automation's name.
pub(crate) async fn send(run: &Run<'_>, channel: ChannelId, message: Message) -> PluginResult {
    run.host.send(channel, message).await.map(drop)
}
