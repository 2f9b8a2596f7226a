//! Voice activity: each member's time in voice, kept per guild; `voicetop` ranks them.
//!
//! The guild's `voice_time` table holds, per automation and member, the seconds counted so far
//! and, while they are in a counted voice channel, when that stretch began (`joined_at`). A
//! voice update closes or opens a stretch by comparing the row with where the member is now,
//! so moves between counted channels keep counting, and the AFK channel (unless `afk=yes`)
//! pauses it. Rows survive restarts: a member still in voice when the bot comes back keeps
//! counting from their join, downtime included. If the bot missed a leave (the member left
//! while it was down), the row still counts them as in voice (rankings show the open stretch)
//! until their next voice update; that update is a fresh join, so the open stretch, whose
//! end is unknown, is dropped rather than credited, and counting starts again from the join.

use serde::Deserialize;
use zoryx_plugin_api::prelude::*;

use super::{Run, Template};
use crate::Automations;
use crate::settings::{Key, Kind};
use crate::store::{self, Automation};

pub(crate) const KEYS: &[Key] = &[Key::optional(
    "afk",
    Kind::Flag,
    "count time in the server's AFK channel too (no)",
)];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::VoiceStateUpdate];

/// Members per page of `voicetop`.
const PAGE: usize = 10;

async fn voice_time(host: &Host, guild: u64) -> PluginResult<String> {
    store::table(
        host,
        guild,
        "voice_time",
        "automation INTEGER NOT NULL,
         user INTEGER NOT NULL,
         seconds INTEGER NOT NULL DEFAULT 0,
         joined_at INTEGER,
         PRIMARY KEY (automation, user)",
    )
    .await
}

#[derive(Deserialize)]
struct Open {
    joined_at: Option<u64>,
}

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let Event::VoiceStateUpdate(state) = event else {
        return Ok(false);
    };
    if state.member.as_ref().is_some_and(|m| m.user.bot) {
        return Ok(false);
    }
    let counted_now = match state.channel_id {
        None => false,
        Some(_) if run.automation.settings.flag("afk", false) => true,
        Some(channel) => run.guild.info().await?.afk_channel != Some(channel),
    };
    let host = run.host;
    let guild = run.guild.id();
    let table = voice_time(host, guild.0).await?;
    let sql = host.sql(guild);
    let key = (run.automation.id, state.user_id.0);
    let open = sql
        .query_as::<Open, _>(
            &format!("SELECT joined_at FROM {table} WHERE automation = ?1 AND user = ?2"),
            key,
        )
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.joined_at);
    match (open, counted_now) {
        (Some(since), false) => {
            sql.execute(
                &format!(
                    "UPDATE {table} SET seconds = seconds + ?3, joined_at = NULL
                     WHERE automation = ?1 AND user = ?2"
                ),
                (key.0, key.1, run.now.saturating_sub(since)),
            )
            .await?;
            Ok(true)
        }
        (None, true) => {
            start(run, &table, key).await?;
            Ok(true)
        }
        (Some(since), true) if state.previous.is_none() => {
            // A join while a stretch is open: the bot missed the leave that ended it.
            host.debug(format!(
                "automation `{}`: {} joined voice with a stretch open since {since}; its end \
                 was missed, so it is dropped",
                run.automation.name, key.1
            ));
            start(run, &table, key).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Opens a stretch now.
async fn start(run: &Run<'_>, table: &str, key: (i64, u64)) -> PluginResult {
    run.host
        .sql(run.guild.id())
        .execute(
            &format!(
                "INSERT INTO {table} (automation, user, seconds, joined_at) VALUES (?1, ?2, 0, ?3)
                 ON CONFLICT (automation, user) DO UPDATE SET joined_at = excluded.joined_at"
            ),
            (key.0, key.1, run.now),
        )
        .await
        .map(drop)
}

/// Its commands.
pub(crate) fn register(plugin: &mut Registrar<Automations>) {
    plugin
        .command(
            CommandSpec::new("voicetop")
                .description("Who spent the most time in voice here")
                .category("Automations")
                .dm(false)
                .arg(
                    Arg::integer("page")
                        .description("The page of the ranking")
                        .optional()
                        .range(1, 1000),
                ),
            voicetop,
        )
        .command(
            CommandSpec::new("voicetime")
                .description("How long a member has spent in voice here")
                .category("Automations")
                .dm(false)
                .arg(
                    Arg::user("user")
                        .description("Whose time (yours by default)")
                        .optional(),
                ),
            voicetime,
        );
}

/// `2 h 05 min`, `45 min`.
fn duration(seconds: u64) -> String {
    let (hours, minutes) = (seconds / 3600, seconds % 3600 / 60);
    if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else {
        format!("{minutes} min")
    }
}

/// One member's time, with the open stretch counted up to now.
#[derive(Debug, Deserialize, PartialEq)]
struct Total {
    user: u64,
    total: u64,
    joined_at: Option<u64>,
}

/// The guild's voice activity automation (the first, when there are several).
async fn tracker(ctx: &CommandContext<Automations>) -> PluginResult<(u64, Automation)> {
    let guild = ctx
        .invocation()
        .guild_id
        .ok_or_else(|| PluginError::user("voice time is counted per server: use this in one"))?;
    store::load(ctx.host(), guild.0)
        .await?
        .into_iter()
        .find(|a| a.template == Template::VoiceTracker)
        .map(|a| (guild.0, a))
        .ok_or_else(|| {
            PluginError::user(
                "this server does not count time in voice: an administrator can start with \
                 `/hooks create voice_tracker NAME`",
            )
        })
}

/// Every member with time counted, most first.
async fn ranking(
    ctx: &CommandContext<Automations>,
    guild: u64,
    automation: &Automation,
) -> PluginResult<Vec<Total>> {
    let host = ctx.host();
    let table = voice_time(host, guild).await?;
    let now = host
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let rows: Vec<Total> = host
        .sql(GuildId(guild))
        .query_as(
            &format!(
                "SELECT user, joined_at, seconds + CASE
                     WHEN joined_at IS NOT NULL AND ?2 > joined_at THEN ?2 - joined_at ELSE 0
                 END AS total
                 FROM {table} WHERE automation = ?1 ORDER BY total DESC, user"
            ),
            (automation.id, now),
        )
        .await?;
    Ok(rows.into_iter().filter(|r| r.total > 0).collect())
}

/// The lines of one page of the ranking.
fn page_lines(ranking: &[Total], page: usize) -> String {
    ranking
        .iter()
        .enumerate()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .map(|(i, t)| {
            format!(
                "**{}.** <@{}> — {}{}",
                i + 1,
                t.user,
                duration(t.total),
                if t.joined_at.is_some() {
                    " 🎙️"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn voicetop(ctx: CommandContext<Automations>) -> PluginResult {
    let (guild, automation) = tracker(&ctx).await?;
    let ranking = ranking(&ctx, guild, &automation).await?;
    if ranking.is_empty() {
        ctx.reply("Nobody has spent time in voice here yet.")
            .await?;
        return Ok(());
    }
    let pages = ranking.len().div_ceil(PAGE);
    let page = usize::try_from(ctx.arg::<i64>("page").unwrap_or(1).max(1))
        .unwrap_or(1)
        .min(pages);
    let embed = Embed::new()
        .title("Time in voice")
        .description(page_lines(&ranking, page))
        .colour(zoryx_plugin_api::palette::INFO)
        .footer(format!(
            "Page {page}/{pages} · {} member(s) · 🎙️ in voice now",
            ranking.len()
        ));
    ctx.reply(Message::new().embed(embed)).await?;
    Ok(())
}

async fn voicetime(ctx: CommandContext<Automations>) -> PluginResult {
    let (guild, automation) = tracker(&ctx).await?;
    let user = ctx.arg::<UserId>("user").unwrap_or(ctx.author().id);
    let ranking = ranking(&ctx, guild, &automation).await?;
    let text = match ranking.iter().position(|t| t.user == user.0) {
        None => format!("<@{}> has not spent time in voice here yet.", user.0),
        Some(i) => {
            let t = &ranking[i];
            let now = t.joined_at.map_or_else(String::new, |since| {
                format!("\nIn voice now, since <t:{since}:R>.")
            });
            format!(
                "<@{}> has spent **{}** in voice here: #{} of {}.{now}",
                user.0,
                duration(t.total),
                i + 1,
                ranking.len()
            )
        }
    };
    let embed = Embed::new()
        .title("Time in voice")
        .description(text)
        .colour(zoryx_plugin_api::palette::INFO);
    ctx.reply(Message::new().embed(embed)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_hours_and_minutes() {
        assert_eq!(duration(0), "0 min");
        assert_eq!(duration(59), "0 min");
        assert_eq!(duration(45 * 60), "45 min");
        assert_eq!(duration(2 * 3600 + 5 * 60 + 30), "2 h 05 min");
    }

    #[test]
    fn pages_number_their_places() {
        let ranking: Vec<Total> = (0..12)
            .map(|i| Total {
                user: 100 + i,
                total: 3600 - i * 60,
                joined_at: (i == 10).then_some(5),
            })
            .collect();
        let first = page_lines(&ranking, 1);
        assert_eq!(first.lines().count(), 10);
        assert!(first.starts_with("**1.** <@100> — 1 h 00 min\n"), "{first}");
        let second = page_lines(&ranking, 2);
        assert_eq!(
            second,
            "**11.** <@110> — 50 min 🎙️\n**12.** <@111> — 49 min"
        );
    }
}
