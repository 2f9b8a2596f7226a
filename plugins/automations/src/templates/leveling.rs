//! XP leveling: XP per message (a random amount in a range, at most once a cooldown), levels,
//! a level-up message, role rewards; `rank` and `leaderboard`.
//!
//! Levels follow MEE6's curve: going from level `l` to `l + 1` takes `5l² + 50l + 100` XP.
//! Each member's XP is a row of the guild's `levels` table, keyed by the automation (its number
//! and when it was made: a new automation that reuses a deleted one's number starts from zero)
//! and the member, so two leveling automations keep separate scores.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use serde::Deserialize;
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{GuildId, IncomingMessage, palette};

use super::{Run, Template, fill};
use crate::settings::{Key, Kind};
use crate::store::{self, Automation};

pub(crate) const KEYS: &[Key] = &[
    Key::optional("xp_min", Kind::Number(1, 1000), "least XP per message (15)"),
    Key::optional("xp_max", Kind::Number(1, 1000), "most XP per message (25)"),
    Key::optional(
        "xp_cooldown",
        Kind::Number(0, 3600),
        "seconds before a member earns again (60)",
    ),
    Key::optional(
        "channel",
        Kind::Channel,
        "where level-ups are announced (where they wrote)",
    ),
    Key::optional(
        "message",
        Kind::Text,
        "the level-up; {mention}, {user}, {level} are filled in",
    ),
    Key::optional(
        "rewards",
        Kind::LevelRoles,
        "level and role pairs: 5 @Regular, 10 @Veteran",
    ),
    Key::optional(
        "stack",
        Kind::Flag,
        "keep lower rewards when a higher one comes (yes)",
    ),
];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::MessageCreate];

const MESSAGE: &str = "{mention} reached level **{level}**!";

/// Members per page of `leaderboard`.
const PAGE: i64 = 10;

/// The highest level counted (far beyond any XP a server gathers).
const MAX_LEVEL: u64 = 100_000;

/// XP to go from `level` to the next.
pub(crate) fn to_next(level: u64) -> u64 {
    5 * level * level + 50 * level + 100
}

/// The level `xp` in total reaches, and the XP earned into it.
pub(crate) fn level_of(xp: u64) -> (u64, u64) {
    let mut level = 0;
    let mut left = xp;
    while level < MAX_LEVEL && left >= to_next(level) {
        left -= to_next(level);
        level += 1;
    }
    (level, left)
}

/// A cheap, well-spread hash of a member and a message: the random part of the XP.
fn spread(user: u64, message: u64) -> u64 {
    let mut x = user ^ message.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The XP a message earns, between `min` and `max` (either order).
fn gain(min: i64, max: i64, user: u64, message: u64) -> i64 {
    let (low, high) = if min > max { (max, min) } else { (min, max) };
    let low = low.max(0);
    let span = u64::try_from(high.max(low) - low + 1).unwrap_or(1);
    low + i64::try_from(spread(user, message) % span).unwrap_or(0)
}

/// Guilds whose table this process made sure of.
static TABLES: LazyLock<Mutex<HashSet<u64>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

/// The guild's `levels` table, created at its first use.
async fn table(host: &Host, guild: u64) -> PluginResult<String> {
    if TABLES.lock().is_ok_and(|t| t.contains(&guild)) {
        return host.sql(GuildId(guild)).table("levels");
    }
    let table = store::table(
        host,
        guild,
        "levels",
        "automation INTEGER NOT NULL,
         created INTEGER NOT NULL,
         user INTEGER NOT NULL,
         xp INTEGER NOT NULL DEFAULT 0,
         level INTEGER NOT NULL DEFAULT 0,
         messages INTEGER NOT NULL DEFAULT 0,
         last_xp_at INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (automation, created, user)",
    )
    .await?;
    host.sql(GuildId(guild))
        .execute(
            &format!("CREATE INDEX IF NOT EXISTS {table}_xp ON {table} (automation, created, xp)"),
            (),
        )
        .await?;
    if let Ok(mut tables) = TABLES.lock() {
        tables.insert(guild);
    }
    Ok(table)
}

#[derive(Deserialize)]
struct Score {
    xp: i64,
    level: i64,
    messages: i64,
}

#[derive(Deserialize)]
struct Ranked {
    user: i64,
    xp: i64,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let Event::MessageCreate(message) = event else {
        return Ok(false);
    };
    if message.author.bot {
        return Ok(false);
    }
    let automation = run.automation;
    let settings = &automation.settings;
    let guild = run.guild.id().0;
    let table = table(run.host, guild).await?;
    let sql = run.host.sql(GuildId(guild));
    let user = message.author.id.0;
    let now = i64::try_from(run.now).unwrap_or(i64::MAX);
    let cooldown = settings.number("xp_cooldown", 60).max(0);
    let earned = gain(
        settings.number("xp_min", 15),
        settings.number("xp_max", 25),
        user,
        message.id.0,
    );
    let key = (automation.id, automation.created_at, user);
    let params = (
        key.0,
        key.1,
        key.2,
        earned,
        now,
        // No cooldown: every message earns, whatever order they are dealt with in.
        if cooldown == 0 {
            i64::MAX
        } else {
            now.saturating_sub(cooldown)
        },
    );
    // One statement decides, so two messages at once do not both earn.
    let earn = format!(
        "UPDATE {table} SET xp = xp + ?4, messages = messages + 1,
            last_xp_at = MAX(last_xp_at, ?5)
         WHERE automation = ?1 AND created = ?2 AND user = ?3 AND last_xp_at <= ?6"
    );
    let changed = match sql.execute(&earn, params).await {
        Ok(changed) => changed,
        Err(error) => {
            // Made again next time, should the database have gone meanwhile.
            if let Ok(mut tables) = TABLES.lock() {
                tables.remove(&guild);
            }
            return Err(error);
        }
    };
    if changed == 0 {
        let inserted = sql
            .execute(
                &format!(
                    "INSERT OR IGNORE INTO {table}
                        (automation, created, user, xp, level, messages, last_xp_at)
                     VALUES (?1, ?2, ?3, ?4, 0, 1, ?5)"
                ),
                (key.0, key.1, key.2, earned, now),
            )
            .await?;
        // The row may have been made by another message of theirs since the first statement
        // (a burst of messages): that one is tried again before the XP waits.
        if inserted == 0 && sql.execute(&earn, params).await? == 0 {
            // Still cooling down: the message counts, the XP waits.
            sql.execute(
                &format!(
                    "UPDATE {table} SET messages = messages + 1
                     WHERE automation = ?1 AND created = ?2 AND user = ?3"
                ),
                key,
            )
            .await?;
            return Ok(false);
        }
    }
    let Some(score) = sql
        .query_as::<Score, _>(
            &format!(
                "SELECT xp, level, messages FROM {table}
                 WHERE automation = ?1 AND created = ?2 AND user = ?3"
            ),
            key,
        )
        .await?
        .into_iter()
        .next()
    else {
        return Ok(true);
    };
    let (level, _) = level_of(unsigned(score.xp));
    let before = unsigned(score.level);
    if level <= before {
        return Ok(true);
    }
    // Whoever moves the stored level up announces it, once.
    let won = sql
        .execute(
            &format!(
                "UPDATE {table} SET level = ?4
                 WHERE automation = ?1 AND created = ?2 AND user = ?3 AND level < ?4"
            ),
            (key.0, key.1, key.2, level),
        )
        .await?;
    if won > 0 {
        level_up(run, message, level).await?;
    }
    Ok(true)
}

/// Announces `level` and gives the rewards up to it.
async fn level_up(run: &Run<'_>, message: &IncomingMessage, level: u64) -> PluginResult {
    let automation = run.automation;
    let settings = &automation.settings;
    let template = settings
        .text("message")
        .unwrap_or_else(|| MESSAGE.to_owned())
        .replace("{level}", &level.to_string());
    let (server, count) = if template.contains("{server}") || template.contains("{count}") {
        let info = run.guild.info().await?;
        (info.name, info.member_count)
    } else {
        (String::new(), None)
    };
    let text: String = fill(&template, &message.author, &server, count)
        .chars()
        .take(2000)
        .collect();
    let channel = settings.channel("channel").unwrap_or(message.channel_id);
    run.host.send(channel, Message::text(text)).await?;
    run.host.debug(format!(
        "automation `{}` of guild {}: {} reached level {level}",
        automation.name, automation.guild, message.author.id.0
    ));

    let reached: Vec<(u32, RoleId)> = settings
        .level_roles("rewards")
        .into_iter()
        .filter(|(l, _)| u64::from(*l) <= level)
        .collect();
    let Some(&(top, _)) = reached.last() else {
        return Ok(());
    };
    let stack = settings.flag("stack", true);
    let user = message.author.id;
    let roles = &message.member_roles;
    let reason = format!("automation `{}`: level {level}", automation.name);
    let give: Vec<RoleId> = reached
        .iter()
        .filter(|(l, _)| stack || *l == top)
        .map(|(_, r)| *r)
        .collect();
    for role in &give {
        if !roles.contains(role) {
            run.guild.add_role(user, *role, &reason).await?;
        }
    }
    if !stack {
        for (_, role) in reached.iter().filter(|(l, _)| *l < top) {
            if roles.contains(role) && !give.contains(role) {
                run.guild.remove_role(user, *role, &reason).await?;
            }
        }
    }
    Ok(())
}

/// Its commands.
pub(crate) fn register(plugin: &mut Registrar<crate::Automations>) {
    plugin
        .command(
            CommandSpec::new("rank")
                .description("A member's level, XP and place in this server")
                .category("Automations")
                .dm(false)
                .arg(
                    Arg::user("user")
                        .description("Whose rank (yours)")
                        .optional(),
                ),
            rank,
        )
        .command(
            CommandSpec::new("leaderboard")
                .description("This server's members by XP")
                .category("Automations")
                .dm(false)
                .arg(
                    Arg::integer("page")
                        .description("Which page (1)")
                        .optional()
                        .range(1, 1000),
                ),
            leaderboard,
        );
}

/// The guild of a command and its leveling automation: the first one on, else the first one.
async fn leveling_of(ctx: &CommandContext<crate::Automations>) -> PluginResult<(u64, Automation)> {
    let guild = ctx
        .invocation()
        .guild_id
        .map(|g| g.0)
        .ok_or_else(|| PluginError::user("levels belong to a server: use this in one"))?;
    let all: Vec<Automation> = ctx
        .data()
        .of(ctx.host(), guild)
        .await?
        .iter()
        .filter_map(|l| l.get())
        .filter(|a| a.template == Template::Leveling)
        .collect();
    all.iter()
        .find(|a| a.enabled)
        .or_else(|| all.first())
        .cloned()
        .map(|a| (guild, a))
        .ok_or_else(|| {
            PluginError::user(
                "this server has no XP leveling: an administrator turns it on with \
                 `/hooks create leveling NAME`",
            )
        })
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A bar of ten for `part` of `whole`.
fn bar(part: u64, whole: u64) -> String {
    let filled = usize::try_from((part * 10).checked_div(whole).unwrap_or(0).min(10)).unwrap_or(0);
    format!("{}{}", "▰".repeat(filled), "▱".repeat(10 - filled))
}

async fn rank(ctx: CommandContext<crate::Automations>) -> PluginResult {
    let (guild, automation) = leveling_of(&ctx).await?;
    let host = ctx.host();
    let target: UserId = ctx
        .arg::<Option<UserId>>("user")?
        .unwrap_or(ctx.author().id);
    let name = if target == ctx.author().id {
        ctx.author().name.clone()
    } else {
        match host.guild(GuildId(guild)).member(target).await {
            Ok(member) => {
                if member.user.bot {
                    return Err(PluginError::user("bots do not earn XP"));
                }
                member.nick.unwrap_or(member.user.name)
            }
            Err(PluginError::Discord { status: 404, .. }) => format!("<@{}>", target.0),
            Err(error) => return Err(error),
        }
    };
    let table = table(host, guild).await?;
    let sql = host.sql(GuildId(guild));
    let key = (automation.id, automation.created_at);
    let score = sql
        .query_as::<Score, _>(
            &format!(
                "SELECT xp, level, messages FROM {table}
                 WHERE automation = ?1 AND created = ?2 AND user = ?3"
            ),
            (key.0, key.1, target.0),
        )
        .await?
        .into_iter()
        .next();
    let Some(score) = score else {
        ctx.reply(Message::new().embed(Embed::info(
            &format!("{name}'s rank"),
            &format!("<@{}> has no XP yet: it comes with messages.", target.0),
        )))
        .await?;
        return Ok(());
    };
    let count = |sql_text: String, xp: Option<i64>| async move {
        let rows: Vec<Count> = match xp {
            Some(xp) => sql.query_as(&sql_text, (key.0, key.1, xp)).await?,
            None => sql.query_as(&sql_text, key).await?,
        };
        PluginResult::Ok(rows.first().map_or(0, |c| unsigned(c.n)))
    };
    let above = count(
        format!(
            "SELECT COUNT(*) AS n FROM {table}
             WHERE automation = ?1 AND created = ?2 AND xp > ?3"
        ),
        Some(score.xp),
    )
    .await?;
    let ranked = count(
        format!("SELECT COUNT(*) AS n FROM {table} WHERE automation = ?1 AND created = ?2"),
        None,
    )
    .await?;
    let xp = unsigned(score.xp);
    let (level, into) = level_of(xp);
    let need = to_next(level);
    let embed = Embed::new()
        .title(format!("{name}'s rank"))
        .description(format!("<@{}>", target.0))
        .colour(palette::INFO)
        .field("Rank", format!("#{} of {}", above + 1, ranked), true)
        .field("Level", level.to_string(), true)
        .field("XP", thousands(xp), true)
        .field(
            format!("Progress to level {}", level + 1),
            format!(
                "{} {} / {} XP",
                bar(into, need),
                thousands(into),
                thousands(need)
            ),
            false,
        )
        .field("Messages", thousands(unsigned(score.messages)), true)
        .footer(format!("Automation {}", automation.name));
    ctx.reply(Message::new().embed(embed)).await?;
    Ok(())
}

async fn leaderboard(ctx: CommandContext<crate::Automations>) -> PluginResult {
    let (guild, automation) = leveling_of(&ctx).await?;
    let host = ctx.host();
    let table = table(host, guild).await?;
    let sql = host.sql(GuildId(guild));
    let key = (automation.id, automation.created_at);
    let total = sql
        .query_as::<Count, _>(
            &format!("SELECT COUNT(*) AS n FROM {table} WHERE automation = ?1 AND created = ?2"),
            key,
        )
        .await?
        .first()
        .map_or(0, |c| c.n);
    if total == 0 {
        ctx.reply(Message::new().embed(Embed::info(
            "Leaderboard",
            "No one has XP here yet: it comes with messages.",
        )))
        .await?;
        return Ok(());
    }
    let pages = (total + PAGE - 1) / PAGE;
    let page = ctx.arg::<Option<i64>>("page")?.unwrap_or(1).clamp(1, pages);
    let rows: Vec<Ranked> = sql
        .query_as(
            &format!(
                "SELECT user, xp FROM {table} WHERE automation = ?1 AND created = ?2
                 ORDER BY xp DESC, user ASC LIMIT ?3 OFFSET ?4"
            ),
            (key.0, key.1, PAGE, (page - 1) * PAGE),
        )
        .await?;
    let lines: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let place = (page - 1) * PAGE + i64::try_from(i).unwrap_or(0) + 1;
            let xp = unsigned(r.xp);
            format!(
                "**{place}.** <@{}> · level {} · {} XP",
                r.user,
                level_of(xp).0,
                thousands(xp)
            )
        })
        .collect();
    let embed = Embed::new()
        .title("Leaderboard")
        .description(lines.join("\n"))
        .colour(palette::INFO)
        .footer(format!(
            "Page {page}/{pages} · {total} member(s) · automation {}",
            automation.name
        ));
    ctx.reply(Message::new().embed(embed)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_is_mee6s() {
        assert_eq!(to_next(0), 100);
        assert_eq!(to_next(1), 155);
        assert_eq!(to_next(2), 220);
        assert_eq!(level_of(0), (0, 0));
        assert_eq!(level_of(99), (0, 99));
        assert_eq!(level_of(100), (1, 0));
        assert_eq!(level_of(254), (1, 154));
        assert_eq!(level_of(255), (2, 0));
        assert_eq!(level_of(475), (3, 0));
        // MEE6's level 10 takes 4,675 XP in total.
        assert_eq!(level_of(4675), (10, 0));
        assert_eq!(level_of(u64::MAX).0, MAX_LEVEL);
    }

    #[test]
    fn gains_stay_in_their_range() {
        for message in 0..500 {
            let g = gain(15, 25, 42, message);
            assert!((15..=25).contains(&g), "{g}");
            let swapped = gain(30, 10, 42, message);
            assert!((10..=30).contains(&swapped), "{swapped}");
        }
        assert_eq!(gain(7, 7, 1, 2), 7);
        let spread: HashSet<i64> = (0..200).map(|m| gain(15, 25, 9, m)).collect();
        assert!(spread.len() > 5, "{spread:?}");
    }

    #[test]
    fn numbers_and_bars() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(bar(0, 100), "▱▱▱▱▱▱▱▱▱▱");
        assert_eq!(bar(55, 100), "▰▰▰▰▰▱▱▱▱▱");
        assert_eq!(bar(100, 100), "▰▰▰▰▰▰▰▰▰▰");
    }
}
