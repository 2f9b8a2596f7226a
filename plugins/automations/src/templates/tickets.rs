//! Tickets: a panel with a button; a click opens a private channel for the member and staff;
//! closing it posts a transcript (a text file) to the log channel and deletes the channel.
//!
//! The buttons carry the automation's number only (`automations-ticket-open:{"a":3}`), so a
//! panel keeps working across restarts. Open tickets are rows of the guild's `tickets` table
//! (automation, channel, user, opened_at, closed_at, closed_by). Clicks count as the
//! automation's runs and failures as events do; a permission the bot lacks turns it off.

use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{
    ChannelMessage, CustomId, GuildHandle, Overwrite, OverwriteTarget, palette,
};

use super::{Run, Template};
use crate::Automations;
use crate::conditions::{Conditions, Facts};
use crate::settings::{Key, Kind, Settings};
use crate::store::{self, Automation};

pub(crate) const KEYS: &[Key] = &[
    Key::required(
        "channel",
        Kind::Channel,
        "where the panel with the button goes",
    ),
    Key::required(
        "staff",
        Kind::Role,
        "the role that sees and answers tickets",
    ),
    Key::optional(
        "category",
        Kind::Category,
        "the category ticket channels go in",
    ),
    Key::optional(
        "text",
        Kind::Text,
        "the panel's text (Need help? Open a ticket.)",
    ),
    Key::optional("button", Kind::Text, "the button's label (Open a ticket)"),
    Key::optional(
        "log",
        Kind::Channel,
        "where transcripts go (else the member's DMs)",
    ),
    Key::optional(
        "max_open",
        Kind::Number(1, 10),
        "open tickets per member (1)",
    ),
];

pub(crate) const EVENTS: &[EventKind] = &[];

/// The setting where `started` remembers the panel it posted (not a key people set).
const PANEL: &str = "panel";
const TEXT: &str = "Need help? Open a ticket.";
const BUTTON: &str = "Open a ticket";
/// Discord's longest button label.
const LABEL_MAX: usize = 80;
/// The most messages a transcript holds (the newest).
const HISTORY_MAX: usize = 1000;
/// The largest transcript file sent.
const TRANSCRIPT_MAX: usize = 8 * 1024 * 1024;
/// Discord's epoch in Unix milliseconds (snowflakes count from it).
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The panel's button: opens a ticket for whoever clicks.
#[derive(Serialize, Deserialize)]
struct Open {
    /// The automation's number.
    a: i64,
}

impl CustomId for Open {
    const PREFIX: &'static str = "automations-ticket-open";
}

/// The button in a ticket channel: closes it.
#[derive(Serialize, Deserialize)]
struct Close {
    /// The automation's number.
    a: i64,
}

impl CustomId for Close {
    const PREFIX: &'static str = "automations-ticket-close";
}

/// One ticket as stored.
#[derive(Deserialize)]
struct Ticket {
    channel: u64,
    user: u64,
    opened_at: u64,
}

/// The guild's ticket table.
async fn tickets(host: &Host, guild: u64) -> PluginResult<String> {
    store::table(
        host,
        guild,
        "tickets",
        "channel INTEGER PRIMARY KEY,
         automation INTEGER NOT NULL,
         user INTEGER NOT NULL,
         opened_at INTEGER NOT NULL,
         closed_at INTEGER,
         closed_by INTEGER",
    )
    .await
}

/// The button's label: the setting, cut to Discord's limit.
fn label(settings: &Settings) -> String {
    let label: String = settings
        .text("button")
        .unwrap_or_else(|| BUTTON.to_owned())
        .trim()
        .chars()
        .take(LABEL_MAX)
        .collect();
    if label.is_empty() {
        BUTTON.to_owned()
    } else {
        label
    }
}

fn panel(automation: &Automation) -> PluginResult<Message> {
    let settings = &automation.settings;
    let embed = Embed::new()
        .title("Tickets")
        .description(settings.text("text").unwrap_or_else(|| TEXT.to_owned()))
        .colour(palette::INFO);
    Ok(Message::new().embed(embed).button(
        Open { a: automation.id }
            .button(label(settings))?
            .style(ButtonStyle::Primary),
    ))
}

/// Posts the panel (or brings the one posted before up to date); remembers its id.
pub(crate) async fn started(run: &Run<'_>) -> PluginResult<(Option<String>, Option<Settings>)> {
    let settings = &run.automation.settings;
    let Some(channel) = settings.channel("channel") else {
        return Ok((None, None));
    };
    let message = panel(run.automation)?;
    let note = format!(
        "The panel is in <#{}>: members click **{}** to open a ticket.",
        channel.0,
        label(settings)
    );
    if let Some(id) = settings.get(PANEL).and_then(|p| p.parse::<u64>().ok())
        && run
            .host
            .edit_message(channel, MessageId(id), message.clone())
            .await
            .is_ok()
    {
        return Ok((Some(note), None));
    }
    let id = run.host.send(channel, message).await?;
    let mut filled = settings.clone();
    filled.0.insert(PANEL.to_owned(), id.0.to_string());
    Ok((Some(note), Some(filled)))
}

/// Its buttons.
pub(crate) fn register(plugin: &mut Registrar<Automations>) {
    plugin.on_click(open).on_click(close);
}

/// The guild's tickets automation number `id`, as stored.
async fn find(host: &Host, guild: u64, id: i64) -> PluginResult<Option<Automation>> {
    Ok(store::load(host, guild)
        .await?
        .into_iter()
        .find(|a| a.id == id && a.template == Template::Tickets))
}

/// Seconds since the epoch, on the host's clock.
fn unix_now(host: &Host) -> u64 {
    host.now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether `error` is the bot lacking a permission (which turns the automation off).
fn lacks_permission(error: &PluginError) -> bool {
    matches!(
        error,
        PluginError::MissingPermission { .. } | PluginError::Discord { code: 50013, .. }
    )
}

async fn tell(ctx: &ComponentContext<Automations>, text: impl Into<String>) -> PluginResult {
    ctx.reply(Message::text(text).ephemeral()).await.map(drop)
}

/// What a click on the panel came to.
enum Opened {
    Channel(ChannelId),
    /// Refused, with the reason for the member (not a run, not a failure).
    Refused(String),
}

async fn open(ctx: ComponentContext<Automations>, click: Open) -> PluginResult {
    let host: &Host = &ctx;
    let interaction = ctx.interaction().clone();
    let Some(guild) = interaction.guild_id else {
        return tell(&ctx, "Tickets are opened in a server.").await;
    };
    let Some(automation) = find(host, guild.0, click.a).await? else {
        return tell(
            &ctx,
            "This panel no longer opens tickets: its automation was deleted.",
        )
        .await;
    };
    if !automation.enabled {
        return tell(
            &ctx,
            "Tickets are closed right now: the server's administrators turned them off.",
        )
        .await;
    }
    // The conditions and the cooldown apply to clicks as to events.
    let now = unix_now(host);
    let handle = host.guild(guild);
    let roles = handle
        .member(interaction.user.id)
        .await
        .map(|m| m.roles)
        .unwrap_or_default();
    let facts = Facts {
        channel: Some(interaction.channel_id),
        user: Some(interaction.user.id),
        roles: &roles,
        now,
        ..Facts::default()
    };
    if let Err(why) = Conditions::of(&automation.settings).check(&facts) {
        return tell(&ctx, format!("You cannot open a ticket now: {why}.")).await;
    }
    let cooldown = u64::try_from(automation.settings.number("cooldown", 0)).unwrap_or(0);
    if let Some(last) = automation.last_run
        && cooldown > 0
        && now < last + cooldown
    {
        return tell(
            &ctx,
            format!("Tickets can be opened again <t:{}:R>.", last + cooldown),
        )
        .await;
    }
    let run = Run {
        host,
        automation: &automation,
        guild: handle,
        now,
    };
    let outcome = open_ticket(&run, &interaction.user).await;
    let answer = match &outcome {
        Ok(Opened::Channel(channel)) => {
            host.info(format!(
                "ticket <#{}> opened for {} in guild {} (automation `{}`)",
                channel.0, interaction.user.id.0, guild.0, automation.name
            ));
            format!("Your ticket is open: <#{}>.", channel.0)
        }
        Ok(Opened::Refused(why)) => why.clone(),
        Err(error) if lacks_permission(error) => format!(
            "Your ticket could not be opened: {error}. The server's administrators have been \
             told, and the ticket panel is off until they fix it."
        ),
        Err(error) => format!("Your ticket could not be opened: {error}."),
    };
    let counted = outcome.map(|o| matches!(o, Opened::Channel(_)));
    // Answer first: the click has 3 seconds; an alert for a refusal takes its time.
    let replied = tell(&ctx, answer).await;
    crate::count_run(host, ctx.data(), guild.0, automation.id, counted).await;
    replied
}

/// Lowercase letters, digits, `-` and `_`, as Discord names text channels: `ticket-<name>`.
fn channel_name(user: &str, id: UserId) -> String {
    let mut slug = String::new();
    for c in user.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let name = if slug.is_empty() {
        format!("ticket-{}", id.0)
    } else {
        format!("ticket-{slug}")
    };
    name.chars().take(100).collect()
}

const MEMBER: Permissions = Permissions(
    Permissions::VIEW_CHANNEL.0
        | Permissions::SEND_MESSAGES.0
        | Permissions::READ_MESSAGE_HISTORY.0
        | Permissions::ATTACH_FILES.0,
);
const BOT: Permissions = Permissions(
    Permissions::VIEW_CHANNEL.0
        | Permissions::SEND_MESSAGES.0
        | Permissions::MANAGE_CHANNELS.0
        | Permissions::READ_MESSAGE_HISTORY.0,
);

/// Who sees a ticket: nobody but the member, the staff and the bot.
fn overwrites(guild: GuildId, member: UserId, staff: Option<RoleId>, bot: u64) -> Vec<Overwrite> {
    let mut out = vec![
        Overwrite {
            target: OverwriteTarget::Role(RoleId(guild.0)),
            allow: Permissions::NONE,
            deny: Permissions::VIEW_CHANNEL,
        },
        Overwrite {
            target: OverwriteTarget::Member(member),
            allow: MEMBER,
            deny: Permissions::NONE,
        },
    ];
    if let Some(staff) = staff {
        out.push(Overwrite {
            target: OverwriteTarget::Role(staff),
            allow: MEMBER,
            deny: Permissions::NONE,
        });
    }
    if bot != 0 {
        out.push(Overwrite {
            target: OverwriteTarget::Member(UserId(bot)),
            allow: BOT,
            deny: Permissions::NONE,
        });
    }
    out
}

async fn open_ticket(run: &Run<'_>, user: &User) -> PluginResult<Opened> {
    let settings = &run.automation.settings;
    let guild = run.guild.id();
    let host = run.host;
    let table = tickets(host, guild.0).await?;
    let sql = host.sql(guild);
    let max = usize::try_from(settings.number("max_open", 1).clamp(1, 10)).unwrap_or(1);
    let open: Vec<Ticket> = sql
        .query_as(
            &format!(
                "SELECT channel, user, opened_at FROM {table}
                 WHERE automation = ?1 AND user = ?2 AND closed_at IS NULL"
            ),
            (run.automation.id, user.id.0),
        )
        .await?;
    if open.len() >= max {
        // A ticket whose channel was deleted by hand no longer counts.
        let channels = run.guild.channels().await?;
        let mut alive = Vec::new();
        for ticket in open {
            if channels.iter().any(|c| c.id.0 == ticket.channel) {
                alive.push(ticket.channel);
            } else {
                sql.execute(
                    &format!("UPDATE {table} SET closed_at = ?2 WHERE channel = ?1"),
                    (ticket.channel, run.now),
                )
                .await?;
            }
        }
        if alive.len() >= max {
            let list: Vec<String> = alive.iter().map(|c| format!("<#{c}>")).collect();
            return Ok(Opened::Refused(format!(
                "You have {} open ticket{} already ({}): close {} before opening another.",
                alive.len(),
                if alive.len() == 1 { "" } else { "s" },
                list.join(", "),
                if alive.len() == 1 { "it" } else { "one" },
            )));
        }
    }
    let bot = host.stats().await?.bot_id;
    let staff = settings.role("staff");
    let mut spec = ChannelSpec::named(channel_name(&user.name, user.id))
        .topic(format!(
            "Ticket of {} ({}), opened <t:{}:f>",
            user.name, user.id.0, run.now
        ))
        .overwrites(overwrites(guild, user.id, staff, bot));
    if let Some(category) = settings.channel("category") {
        spec = spec.parent(category);
    }
    let channel = run.guild.create_channel(spec).await?.id;
    sql.execute(
        &format!(
            "INSERT INTO {table} (channel, automation, user, opened_at) VALUES (?1, ?2, ?3, ?4)"
        ),
        (channel.0, run.automation.id, user.id.0, run.now),
    )
    .await?;
    let mention = staff.map_or_else(String::new, |r| format!(" <@&{}>", r.0));
    let welcome = Message::text(format!("<@{}>{mention}", user.id.0))
        .embed(
            Embed::new()
                .title("Ticket opened")
                .description(
                    "Say what you need; the staff answer here. **Close** ends the ticket: the \
                     conversation is kept as a transcript and this channel is deleted.",
                )
                .colour(palette::SUCCESS),
        )
        .button(
            Close {
                a: run.automation.id,
            }
            .button("Close")?
            .style(ButtonStyle::Danger),
        );
    if let Err(error) = host.send(channel, welcome).await {
        // Nothing half made stays behind.
        if let Err(e) = host.delete_channel(channel).await {
            host.warn(format!("ticket channel {} was left behind: {e}", channel.0));
        }
        sql.execute(
            &format!("DELETE FROM {table} WHERE channel = ?1"),
            [channel.0],
        )
        .await?;
        return Err(error);
    }
    Ok(Opened::Channel(channel))
}

/// Whether `user` may close a ticket of `owner`: they are its member, staff, an administrator
/// or the server's owner.
async fn may_close(
    guild: GuildHandle,
    user: UserId,
    owner: u64,
    staff: Option<RoleId>,
) -> PluginResult<bool> {
    if user.0 == owner {
        return Ok(true);
    }
    let member = guild.member(user).await?;
    if staff.is_some_and(|s| member.roles.contains(&s)) {
        return Ok(true);
    }
    let roles = guild.roles().await?;
    let admin = roles.iter().any(|r| {
        (member.roles.contains(&r.id) || r.id.0 == guild.id().0)
            && r.permissions.0 & Permissions::ADMINISTRATOR.0 != 0
    });
    Ok(admin || guild.info().await?.owner_id == user)
}

async fn close(ctx: ComponentContext<Automations>, click: Close) -> PluginResult {
    let host: &Host = &ctx;
    let interaction = ctx.interaction().clone();
    let Some(guild) = interaction.guild_id else {
        return tell(&ctx, "Tickets are closed in a server.").await;
    };
    let channel = interaction.channel_id;
    let table = tickets(host, guild.0).await?;
    let sql = host.sql(guild);
    let ticket: Option<Ticket> = sql
        .query_as(
            &format!(
                "SELECT channel, user, opened_at FROM {table}
                 WHERE channel = ?1 AND automation = ?2 AND closed_at IS NULL"
            ),
            (channel.0, click.a),
        )
        .await?
        .into_iter()
        .next();
    let Some(ticket) = ticket else {
        return tell(&ctx, "This ticket is closed already.").await;
    };
    let automation = find(host, guild.0, click.a).await?;
    let settings = automation
        .as_ref()
        .map(|a| a.settings.clone())
        .unwrap_or_default();
    let handle = host.guild(guild);
    if !may_close(
        handle,
        interaction.user.id,
        ticket.user,
        settings.role("staff"),
    )
    .await?
    {
        return tell(
            &ctx,
            format!(
                "Only <@{}>, the staff or an administrator can close this ticket.",
                ticket.user
            ),
        )
        .await;
    }
    let log = settings.channel("log");
    let whereto = match log {
        Some(log) => format!("the transcript goes to <#{}>", log.0),
        None => format!(
            "the transcript goes to <@{}>'s direct messages",
            ticket.user
        ),
    };
    ctx.reply(Message::text(format!(
        "🔒 Ticket closed by <@{}>; {whereto}. This channel is deleted in a moment.",
        interaction.user.id.0
    )))
    .await?;
    let now = unix_now(host);
    let outcome = close_ticket(host, handle, &table, &ticket, &interaction.user, log, now).await;
    match &outcome {
        Ok(()) => host.info(format!(
            "ticket <#{}> of {} closed by {} in guild {}",
            channel.0, ticket.user, interaction.user.id.0, guild.0
        )),
        Err(error) => {
            let text = format!("The ticket could not be closed: {error}.");
            if let Err(e) = ctx.followup(Message::text(text).ephemeral()).await {
                host.debug(format!("ticket <#{}>: no followup: {e}", channel.0));
            }
        }
    }
    if automation.is_some() {
        crate::count_run(host, ctx.data(), guild.0, click.a, outcome.map(|()| true)).await;
    }
    Ok(())
}

/// Sends the transcript, deletes the channel, marks the ticket closed.
async fn close_ticket(
    host: &Host,
    guild: GuildHandle,
    table: &str,
    ticket: &Ticket,
    closer: &User,
    log: Option<ChannelId>,
    now: u64,
) -> PluginResult {
    let channel = ChannelId(ticket.channel);
    let name = guild
        .channels()
        .await?
        .into_iter()
        .find(|c| c.id == channel)
        .map_or_else(|| format!("ticket-{}", channel.0), |c| c.name);
    let messages = history(host, channel).await?;
    let mut text = transcript(&name, ticket, closer, now, &messages);
    if text.len() > TRANSCRIPT_MAX {
        let mut cut = TRANSCRIPT_MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[cut: the transcript is too long]\n");
    }
    let message = Message::text(format!(
        "Transcript of ticket `#{name}` of <@{}>, opened <t:{}:f>, closed by <@{}>.",
        ticket.user, ticket.opened_at, closer.id.0
    ))
    .file(format!("transcript-{name}.txt"), text.into_bytes());
    match log {
        Some(log) => {
            host.send(log, message).await?;
        }
        None => {
            // Members who close their DMs are common: the ticket still closes.
            if let Err(error) = host.dm(UserId(ticket.user), message).await {
                host.debug(format!(
                    "ticket <#{}>: the transcript was not sent to {}: {error}",
                    channel.0, ticket.user
                ));
            }
        }
    }
    match host.delete_channel(channel).await {
        Ok(()) => {}
        // Deleted by hand meanwhile.
        Err(PluginError::Discord { code: 10003, .. }) => {}
        Err(error) => return Err(error),
    }
    host.sql(guild.id())
        .execute(
            &format!("UPDATE {table} SET closed_at = ?2, closed_by = ?3 WHERE channel = ?1"),
            (channel.0, now, closer.id.0),
        )
        .await?;
    Ok(())
}

/// The channel's messages, oldest first: the newest [`HISTORY_MAX`].
async fn history(host: &Host, channel: ChannelId) -> PluginResult<Vec<ChannelMessage>> {
    let mut out: Vec<ChannelMessage> = Vec::new();
    let mut before = None;
    while out.len() < HISTORY_MAX {
        let page = host.fetch_messages(channel, 100, before).await?;
        let full = page.len() == 100;
        before = page.last().map(|m| m.id);
        out.extend(page);
        if !full {
            break;
        }
    }
    out.truncate(HISTORY_MAX);
    out.reverse();
    Ok(out)
}

/// `2026-11-30 12:00:00 UTC`.
fn time(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || unix.to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}

/// When a message was posted, from its id.
fn posted(message: MessageId) -> u64 {
    ((message.0 >> 22) + DISCORD_EPOCH_MS) / 1000
}

/// The plain-text transcript: a header, then each message (oldest first) with its time, its
/// author, its text and its files' URLs.
fn transcript(
    name: &str,
    ticket: &Ticket,
    closer: &User,
    now: u64,
    messages: &[ChannelMessage],
) -> String {
    let mut out = format!(
        "Transcript of #{name}\nOpened for user {} at {}\nClosed by {} ({}) at {}\n{} message{}\n\n",
        ticket.user,
        time(ticket.opened_at),
        closer.name,
        closer.id.0,
        time(now),
        messages.len(),
        if messages.len() == 1 { "" } else { "s" },
    );
    for m in messages {
        out.push_str(&format!(
            "[{}] {} ({}): {}",
            time(posted(m.id)),
            m.author.name,
            m.author.id.0,
            m.content
        ));
        if m.embed_count > 0 {
            out.push_str(&format!(
                " [{} embed{}]",
                m.embed_count,
                if m.embed_count == 1 { "" } else { "s" }
            ));
        }
        out.push('\n');
        for file in &m.attachments {
            out.push_str(&format!("    attachment {}: {}\n", file.filename, file.url));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoryx_plugin_api::Attachment;

    #[test]
    fn channel_names_are_slugs_of_the_user_name() {
        assert_eq!(
            channel_name("Ada Lovelace", UserId(5)),
            "ticket-ada-lovelace"
        );
        assert_eq!(channel_name("--Zoë!!", UserId(5)), "ticket-zoë");
        assert_eq!(channel_name("!!!", UserId(5)), "ticket-5");
        assert_eq!(
            channel_name(&"x".repeat(300), UserId(5)).chars().count(),
            100
        );
    }

    #[test]
    fn custom_ids_carry_the_automation_only() {
        let id = Open { a: 12 }.to_custom_id().expect("id");
        assert_eq!(id, r#"automations-ticket-open:{"a":12}"#);
        assert_eq!(
            Close::from_custom_id(r#"automations-ticket-close:{"a":3}"#)
                .expect("close")
                .a,
            3
        );
        assert!(Close::from_custom_id(&id).is_err());
    }

    #[test]
    fn labels_default_and_are_cut() {
        assert_eq!(label(&Settings::default()), BUTTON);
        let long = Settings([("button".to_owned(), "y".repeat(200))].into());
        assert_eq!(label(&long).chars().count(), LABEL_MAX);
    }

    #[test]
    fn transcripts_list_messages_oldest_first_with_their_files() {
        // 2026-11-30 12:00:00 UTC as a snowflake.
        let id = |unix: u64| MessageId((unix * 1000 - DISCORD_EPOCH_MS) << 22);
        let author = |id: u64, name: &str| User {
            id: UserId(id),
            name: name.to_owned(),
            bot: false,
        };
        let messages = vec![
            ChannelMessage {
                id: id(1_796_040_000),
                author: author(1, "guest"),
                content: "my printer is on fire".to_owned(),
                attachments: vec![Attachment {
                    filename: "fire.png".to_owned(),
                    url: "https://cdn.example/fire.png".to_owned(),
                    ..Attachment::default()
                }],
                ..ChannelMessage::default()
            },
            ChannelMessage {
                id: id(1_796_040_060),
                author: author(2, "mod"),
                content: "on our way".to_owned(),
                embed_count: 1,
                ..ChannelMessage::default()
            },
        ];
        let ticket = Ticket {
            channel: 9,
            user: 1,
            opened_at: 1_796_039_990,
        };
        let text = transcript(
            "ticket-guest",
            &ticket,
            &author(2, "mod"),
            1_796_040_100,
            &messages,
        );
        assert!(text.starts_with("Transcript of #ticket-guest\n"), "{text}");
        assert!(
            text.contains("Closed by mod (2) at 2026-11-30 12:01:40 UTC"),
            "{text}"
        );
        let fire = text
            .find("[2026-11-30 12:00:00 UTC] guest (1): my printer is on fire\n    attachment fire.png: https://cdn.example/fire.png")
            .expect(&text);
        let way = text
            .find("[2026-11-30 12:01:00 UTC] mod (2): on our way [1 embed]")
            .expect(&text);
        assert!(fire < way);
    }
}
