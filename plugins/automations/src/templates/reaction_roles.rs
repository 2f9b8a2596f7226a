//! Reaction roles: members react on a message to get a role and take the reaction back to lose
//! it; in unique mode, one role of the set at a time.
//!
//! The emojis are kept as `check` leaves them: the character of a unicode emoji, or `name:id`
//! of a custom one (a name alone is turned into `name:id` when the automation starts).

use zoryx_plugin_api::{
    ChannelId, Embed, Event, EventKind, Member, Message, MessageId, PluginError, PluginResult,
    RoleId, UserReaction, palette,
};

use super::Run;
use crate::settings::{Key, Kind, Settings, snowflake};

pub(crate) const KEYS: &[Key] = &[
    Key::required("channel", Kind::Channel, "the channel of the message"),
    Key::required(
        "roles",
        Kind::EmojiRoles,
        "emoji and role pairs: 👍 @Member, 🎮 @Gamer",
    ),
    Key::optional(
        "message",
        Kind::Text,
        "the id (or link) of a message to use; without one the bot posts `text`",
    ),
    Key::optional(
        "text",
        Kind::Text,
        "the message the bot posts (React to get a role)",
    ),
    Key::optional("unique", Kind::Flag, "one role of the set at a time (no)"),
    Key::optional(
        "remove",
        Kind::Flag,
        "taking the reaction back takes the role (yes)",
    ),
];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::ReactionAdd, EventKind::ReactionRemove];

/// The text of the message the bot posts.
const TEXT: &str = "React to get a role.";

/// Reactions a message may carry.
const MAX_EMOJIS: usize = 20;

/// The message of the set: an id, or a message link (its last part).
fn message_of(settings: &Settings) -> Option<MessageId> {
    let value = settings.get("message")?;
    let last = value.trim().trim_end_matches('/').rsplit('/').next()?;
    snowflake(last).map(MessageId)
}

/// Whether `emoji` (a setting: the character, `name:id`, or a custom emoji's name) is the
/// emoji Discord names `reacted` (the character, or `name:id`).
pub(crate) fn same(emoji: &str, reacted: &str) -> bool {
    let emoji = emoji.trim().trim_matches(':');
    if emoji == reacted {
        return true;
    }
    // The same character with or without its emoji presentation selector.
    let plain = |s: &str| s.replace('\u{fe0f}', "");
    if !emoji.contains(':') && !reacted.contains(':') {
        return plain(emoji) == plain(reacted);
    }
    match (emoji.rsplit_once(':'), reacted.rsplit_once(':')) {
        // A custom emoji is its id, whatever it is called now.
        (Some((_, a)), Some((_, b))) => a.parse::<u64>().is_ok() && a == b,
        (None, Some((name, _))) => name == emoji,
        _ => false,
    }
}

/// A custom emoji named without its id (`party`).
fn is_name(emoji: &str) -> bool {
    let emoji = emoji.trim_matches(':');
    !emoji.is_empty()
        && !emoji.contains(':')
        && emoji.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && emoji.chars().any(|c| c.is_ascii_alphabetic())
}

/// How an emoji shows in a message: the character, or `<:name:id>`.
fn shown(emoji: &str) -> String {
    match emoji.rsplit_once(':') {
        Some((name, id)) if id.parse::<u64>().is_ok() => format!("<:{name}:{id}>"),
        _ => emoji.to_owned(),
    }
}

fn reason(run: &Run<'_>) -> String {
    format!("automation `{}` (reaction roles)", run.automation.name)
}

/// The member who reacted: as the event carries them (additions do), else asked for. `None`
/// when they are no longer in the server.
async fn member_of(
    run: &Run<'_>,
    reaction: &UserReaction,
    carried: bool,
) -> PluginResult<Option<Member>> {
    if carried && let Some(member) = &reaction.member {
        return Ok(Some(member.clone()));
    }
    match run.guild.member(reaction.user_id).await {
        Ok(member) => Ok(Some(member)),
        Err(PluginError::Discord { status: 404, .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let (added, reaction) = match event {
        Event::ReactionAdd(r) => (true, r),
        Event::ReactionRemove(r) => (false, r),
        _ => return Ok(false),
    };
    let settings = &run.automation.settings;
    if message_of(settings) != Some(reaction.message_id)
        || settings.channel("channel") != Some(reaction.channel_id)
    {
        return Ok(false);
    }
    let pairs = settings.emoji_roles("roles");
    let Some(&(_, role)) = pairs.iter().find(|(e, _)| same(e, &reaction.emoji)) else {
        return Ok(false);
    };
    if !added && !settings.flag("remove", true) {
        return Ok(false);
    }
    // Removals carry no member: asked for, with the roles as they are now.
    let Some(member) = member_of(run, reaction, added).await? else {
        return Ok(false);
    };
    if member.user.bot {
        return Ok(false);
    }
    let user = member.user.id;
    let why = reason(run);
    if !added {
        if !member.roles.contains(&role) {
            return Ok(false);
        }
        run.guild.remove_role(user, role, &why).await?;
        return Ok(true);
    }
    let mut changed = false;
    if !member.roles.contains(&role) {
        run.guild.add_role(user, role, &why).await?;
        changed = true;
    }
    if settings.flag("unique", false) {
        let others: Vec<&(String, RoleId)> = pairs
            .iter()
            .filter(|(e, r)| *r != role && !same(e, &reaction.emoji))
            .collect();
        for (_, other) in &others {
            if member.roles.contains(other) {
                run.guild.remove_role(user, *other, &why).await?;
                changed = true;
            }
        }
        // Their other reactions of the set go too (their removal events find no role left).
        let message = run
            .host
            .fetch_message(reaction.channel_id, reaction.message_id)
            .await?;
        for on_message in &message.reactions {
            let someone_else = on_message.count > u32::from(on_message.me);
            if someone_else && others.iter().any(|(e, _)| same(e, &on_message.emoji)) {
                run.host
                    .unreact(
                        reaction.channel_id,
                        reaction.message_id,
                        on_message.emoji.clone(),
                        Some(user),
                    )
                    .await?;
            }
        }
    }
    Ok(changed)
}

/// Posts the message (unless one is set), remembers its id, and adds the bot's reactions.
pub(crate) async fn started(run: &Run<'_>) -> PluginResult<(Option<String>, Option<Settings>)> {
    let settings = &run.automation.settings;
    let channel: ChannelId = settings
        .channel("channel")
        .ok_or_else(|| PluginError::user("`channel` is needed: the channel of the message"))?;
    let mut pairs = settings.emoji_roles("roles");
    if pairs.is_empty() {
        return Err(PluginError::user(
            "`roles` is needed: emoji and role pairs, e.g. 👍 @Member",
        ));
    }
    if pairs.len() > MAX_EMOJIS {
        return Err(PluginError::user(format!(
            "`roles`: a message takes at most {MAX_EMOJIS} reactions"
        )));
    }
    let mut filled = settings.clone();
    let mut changed = false;
    // Custom emojis named without their id: the server's emoji of that name.
    if pairs.iter().any(|(e, _)| is_name(e)) {
        let emojis = run.guild.emojis().await?;
        for (emoji, _) in &mut pairs {
            if !is_name(emoji) {
                continue;
            }
            let name = emoji.trim_matches(':').to_owned();
            let found = emojis
                .iter()
                .find(|e| e.name == name)
                .or_else(|| emojis.iter().find(|e| e.name.eq_ignore_ascii_case(&name)))
                .ok_or_else(|| {
                    PluginError::user(format!("`roles`: this server has no emoji `:{name}:`"))
                })?;
            *emoji = found.reaction();
        }
        let value: Vec<String> = pairs.iter().map(|(e, r)| format!("{e}={}", r.0)).collect();
        filled.0.insert("roles".to_owned(), value.join(","));
        changed = true;
    }
    let posted = match message_of(settings) {
        Some(message) => message,
        None if settings.get("message").is_some() => {
            return Err(PluginError::user(
                "`message`: the id of a message, or its link",
            ));
        }
        None => {
            let list: Vec<String> = pairs
                .iter()
                .map(|(e, r)| format!("{} → <@&{}>", shown(e), r.0))
                .collect();
            let mut embed = Embed::new()
                .title("Roles")
                .description(format!(
                    "{}\n\n{}",
                    settings.text("text").unwrap_or_else(|| TEXT.to_owned()),
                    list.join("\n")
                ))
                .colour(palette::INFO);
            if settings.flag("unique", false) {
                embed = embed.footer("One role of these at a time");
            }
            let id = run.host.send(channel, Message::new().embed(embed)).await?;
            filled.0.insert("message".to_owned(), id.0.to_string());
            changed = true;
            id
        }
    };
    for (emoji, _) in &pairs {
        run.host.react(channel, posted, emoji.clone()).await?;
    }
    let note = format!(
        "Members react on [the message](https://discord.com/channels/{}/{}/{}) in <#{}> to get \
         a role ({} emoji).",
        run.guild.id().0,
        channel.0,
        posted.0,
        channel.0,
        pairs.len()
    );
    Ok((Some(note), changed.then_some(filled)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emojis_match_by_character_id_or_name() {
        assert!(same("👍", "👍"));
        assert!(same("❤️", "❤"));
        assert!(!same("👍", "👎"));
        assert!(same("party:123", "party:123"));
        // Renamed since: the id decides.
        assert!(same("party:123", "fiesta:123"));
        assert!(!same("party:123", "party:124"));
        assert!(same("party", "party:123"));
        assert!(same("party:", "party:123"));
        assert!(!same("party", "👍"));
        assert!(!same("👍", "party:123"));
    }

    #[test]
    fn names_links_and_display() {
        assert!(is_name("party") && is_name(":party_time:"));
        assert!(!is_name("👍") && !is_name("party:123") && !is_name("1️⃣"));
        assert_eq!(shown("party:123"), "<:party:123>");
        assert_eq!(shown("👍"), "👍");
        let link = Settings::parse("message=https://discord.com/channels/1/2/345").expect("parse");
        assert_eq!(message_of(&link), Some(MessageId(345)));
        let id = Settings::parse("message=345").expect("parse");
        assert_eq!(message_of(&id), Some(MessageId(345)));
        let bad = Settings::parse("message=hello").expect("parse");
        assert_eq!(message_of(&bad), None);
    }
}
