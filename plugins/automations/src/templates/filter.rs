//! Message filter (auto-mod): blocked words, a pattern, invite links, caps, mention spam; the
//! message is deleted, its author warned or timed out.
//!
//! Bots, the server's owner and members with Administrator are never filtered (Discord would
//! refuse to time them out); other exemptions are the common conditions (`except_roles`,
//! `except_channels`). Patterns are compiled once per automation and kept.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use regex::Regex;
use zoryx_plugin_api::{
    Embed, Event, EventKind, IncomingMessage, Message, Permissions, PluginError, PluginResult,
    palette,
};

use super::{Run, fill};
use crate::settings::{Key, Kind, Settings};

pub(crate) const KEYS: &[Key] = &[
    Key::optional(
        "words",
        Kind::List,
        "blocked words or phrases, separated by commas (whole words, any case)",
    ),
    Key::optional(
        "pattern",
        Kind::Regex,
        "a blocked pattern (a regular expression, any case)",
    ),
    Key::optional("invites", Kind::Flag, "block Discord invite links (no)"),
    Key::optional(
        "caps",
        Kind::Number(0, 100),
        "block messages over this % of capitals (0: off)",
    ),
    Key::optional(
        "caps_min",
        Kind::Number(1, 2000),
        "only messages with at least this many letters (10)",
    ),
    Key::optional(
        "mentions",
        Kind::Number(0, 100),
        "block messages mentioning more users and roles (0: off)",
    ),
    Key::optional(
        "action",
        Kind::Choice(&["delete", "warn", "timeout"]),
        "delete the message, also warn the author, or also time them out (delete)",
    ),
    Key::optional(
        "timeout",
        Kind::Number(1, 40_320),
        "minutes of time-out (10)",
    ),
    Key::optional(
        "warning",
        Kind::Text,
        "the warning; {mention} and {reason} are filled in",
    ),
    Key::optional("log", Kind::Channel, "where each action is reported"),
];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::MessageCreate];

const WARNING: &str = "{mention}, your message was removed: {reason}.";

/// Compiled patterns by (guild, automation, what and its source); `None` for one that does
/// not compile within the size limit.
type Cache = HashMap<(u64, i64, String), Option<Arc<Regex>>>;

static PATTERNS: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// Patterns kept at most (the cache starts over beyond: automations changed or deleted leave
/// theirs behind).
const CACHED: usize = 1000;

static INVITE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:^|[^a-z0-9.])(?:https?://)?(?:www\.)?(?:discord\.gg|discord(?:app)?\.com/invite)/[a-z0-9-]+",
    )
    .ok()
});

static MENTION: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"<@([!&]?)(\d+)>").ok());

/// Mentions, channels, custom emojis and timestamps: not letters anyone typed.
static TOKEN: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"<[^<>\s]+>").ok());

/// The compiled form of `source` (`kind` tells words from a pattern), from the cache.
fn compiled(guild: u64, automation: i64, kind: &str, source: &str) -> Option<Arc<Regex>> {
    let key = (guild, automation, format!("{kind}:{source}"));
    if let Some(found) = PATTERNS.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return found;
    }
    let pattern = match kind {
        "words" => words_pattern(source)?,
        _ => source.to_owned(),
    };
    let regex = regex::RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .ok()
        .map(Arc::new);
    if let Ok(mut cache) = PATTERNS.lock() {
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(key, regex.clone());
    }
    regex
}

/// One pattern for a comma-separated list of words and phrases: each whole (not inside a
/// longer word), the spaces of a phrase matching any run of spaces.
fn words_pattern(list: &str) -> Option<String> {
    let words: Vec<String> = list
        .split(',')
        .map(|w| {
            w.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s+")
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(format!(
        r"(?:^|[^\p{{L}}\p{{N}}_])(?:{})(?:$|[^\p{{L}}\p{{N}}_])",
        words.join("|")
    ))
}

/// Whether `text` carries a Discord invite link.
fn has_invite(text: &str) -> bool {
    INVITE.as_ref().is_some_and(|r| r.is_match(text))
}

/// The distinct users and roles `text` mentions.
fn mentions(text: &str) -> usize {
    let Some(regex) = MENTION.as_ref() else {
        return 0;
    };
    regex
        .captures_iter(text)
        .map(|c| {
            let role = c.get(1).is_some_and(|k| k.as_str() == "&");
            (role, c.get(2).map_or("", |id| id.as_str()).to_owned())
        })
        .collect::<HashSet<_>>()
        .len()
}

/// (capitals, letters) of `text`, mentions and custom emojis left out.
fn capitals(text: &str) -> (usize, usize) {
    let text = TOKEN.as_ref().map_or_else(
        || text.to_owned(),
        |r| r.replace_all(text, " ").into_owned(),
    );
    let upper = text.chars().filter(|c| c.is_uppercase()).count();
    let lower = text.chars().filter(|c| c.is_lowercase()).count();
    (upper, upper + lower)
}

/// What an automation's settings block.
struct Rules {
    words: Option<Arc<Regex>>,
    pattern: Option<Arc<Regex>>,
    invites: bool,
    /// Percent of capitals above which a message is blocked (0: off).
    caps: usize,
    caps_min: usize,
    /// Mentions above which a message is blocked (0: off).
    mentions: usize,
}

impl Rules {
    fn of(settings: &Settings, guild: u64, automation: i64) -> Self {
        let number =
            |key: &str, default: i64| usize::try_from(settings.number(key, default)).unwrap_or(0);
        Self {
            words: settings
                .get("words")
                .and_then(|w| compiled(guild, automation, "words", w)),
            pattern: settings
                .get("pattern")
                .and_then(|p| compiled(guild, automation, "pattern", p)),
            invites: settings.flag("invites", false),
            caps: number("caps", 0),
            caps_min: number("caps_min", 10).max(1),
            mentions: number("mentions", 0),
        }
    }

    /// Why `text` is blocked, if it is.
    fn violation(&self, text: &str) -> Option<String> {
        if self.words.as_ref().is_some_and(|r| r.is_match(text)) {
            return Some("it contains a blocked word".to_owned());
        }
        if self.pattern.as_ref().is_some_and(|r| r.is_match(text)) {
            return Some("it matches a blocked pattern".to_owned());
        }
        if self.invites && has_invite(text) {
            return Some("invite links are not allowed".to_owned());
        }
        if self.mentions > 0 {
            let count = mentions(text);
            if count > self.mentions {
                return Some(format!(
                    "too many mentions ({count}, at most {})",
                    self.mentions
                ));
            }
        }
        if self.caps > 0 {
            let (upper, letters) = capitals(text);
            if letters >= self.caps_min && upper * 100 > self.caps * letters {
                return Some(format!(
                    "too many capitals ({}%)",
                    upper * 100 / letters.max(1)
                ));
            }
        }
        None
    }
}

/// `text` cut to `max` characters.
fn cut(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let Event::MessageCreate(message) = event else {
        return Ok(false);
    };
    if message.author.bot || message.content.trim().is_empty() {
        return Ok(false);
    }
    let automation = run.automation;
    let rules = Rules::of(&automation.settings, run.guild.id().0, automation.id);
    let Some(reason) = rules.violation(&message.content) else {
        return Ok(false);
    };
    let info = run.guild.info().await?;
    if info.owner_id == message.author.id || administrator(run, message).await? {
        return Ok(false);
    }
    let settings = &automation.settings;
    let action = settings.get("action").unwrap_or("delete");
    let audit = format!("automation `{}`: {reason}", automation.name);
    match run
        .host
        .delete_message(message.channel_id, message.id)
        .await
    {
        // Already gone (another automation, a moderator): the rest still applies.
        Ok(()) | Err(PluginError::Discord { status: 404, .. }) => {}
        Err(error) => return Err(error),
    }
    let mut done = "deleted".to_owned();
    if matches!(action, "warn" | "timeout") {
        let warning = settings
            .text("warning")
            .unwrap_or_else(|| WARNING.to_owned());
        let text = fill(
            &warning.replace("{reason}", &reason),
            &message.author,
            &info.name,
            info.member_count,
        );
        run.host
            .send(message.channel_id, Message::text(cut(&text, 1999)))
            .await?;
        done.push_str(", author warned");
    }
    if action == "timeout" {
        let minutes = u64::try_from(settings.number("timeout", 10))
            .unwrap_or(10)
            .max(1);
        run.guild
            .timeout(message.author.id, Duration::from_secs(minutes * 60), &audit)
            .await?;
        done.push_str(&format!(", timed out for {minutes} min"));
    }
    run.host.debug(format!(
        "automation `{}` of guild {}: message {} of {} {done}: {reason}",
        automation.name, automation.guild, message.id.0, message.author.id.0
    ));
    if let Some(log) = settings.channel("log") {
        let embed = Embed::new()
            .title("Message filtered")
            .description(format!(
                "A message of <@{}> in <#{}> was {done}.",
                message.author.id.0, message.channel_id.0
            ))
            .colour(palette::WARNING)
            .field(
                "Member",
                format!("<@{}> ({})", message.author.id.0, message.author.id.0),
                true,
            )
            .field("Channel", format!("<#{}>", message.channel_id.0), true)
            .field("Reason", reason.clone(), false)
            .field("Content", cut(&message.content, 1000), false)
            .footer(format!("Automation {}", automation.name));
        run.host.send(log, Message::new().embed(embed)).await?;
    }
    Ok(true)
}

/// Whether the author has Administrator through one of their roles (or @everyone).
async fn administrator(run: &Run<'_>, message: &IncomingMessage) -> PluginResult<bool> {
    let guild = run.guild.id().0;
    Ok(run.guild.roles().await?.iter().any(|r| {
        (r.id.0 == guild || message.member_roles.contains(&r.id))
            && r.permissions.contains(Permissions::ADMINISTRATOR)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Rules {
        Rules::of(&Settings::parse(text).expect("parse"), 1, 1)
    }

    #[test]
    fn words_are_whole_and_any_case() {
        let r = rules("words=\"darn,free nitro\"");
        assert!(r.violation("well DARN it").is_some());
        assert!(r.violation("darn!").is_some());
        assert!(r.violation("get FREE   nitro now").is_some());
        assert!(r.violation("darnation").is_none());
        assert!(r.violation("freenitro").is_none());
        assert!(r.violation("nothing here").is_none());
    }

    #[test]
    fn patterns_are_compiled_once() {
        let first = compiled(7, 3, "pattern", "b[a4]d+").expect("compiles");
        let again = compiled(7, 3, "pattern", "b[a4]d+").expect("compiles");
        assert!(Arc::ptr_eq(&first, &again));
        assert!(rules("pattern=b[a4]d+").violation("so B4DDD").is_some());
    }

    #[test]
    fn invites_are_found() {
        assert!(has_invite("join discord.gg/abc"));
        assert!(has_invite("https://discord.com/invite/xyz-1"));
        assert!(has_invite("http://www.discordapp.com/invite/q"));
        assert!(has_invite("DISCORD.GG/Zoryx"));
        assert!(!has_invite("discord.com/channels/1/2"));
        assert!(!has_invite("mydiscord.gg/abc"));
        assert!(!has_invite("discord.gg/"));
        let r = rules("invites=yes");
        assert!(r.violation("come to discord.gg/abc").is_some());
        assert!(rules("invites=no").violation("discord.gg/abc").is_none());
    }

    #[test]
    fn caps_count_letters_only() {
        assert_eq!(capitals("HELLO world!! 123"), (5, 10));
        assert_eq!(capitals("<@123> <:PARTY:1> ok"), (0, 2));
        let r = rules("caps=70 caps_min=10");
        assert!(r.violation("THIS IS SO LOUD").is_some());
        assert!(r.violation("LOUD").is_none(), "too short to judge");
        assert!(r.violation("This Is Normal Text").is_none());
    }

    #[test]
    fn mentions_are_distinct_users_and_roles() {
        assert_eq!(mentions("<@1> <@!1> <@2> <@&1> <#5>"), 3);
        let r = rules("mentions=2");
        assert!(r.violation("<@1> <@2>").is_none());
        let why = r.violation("<@1> <@2> <@&3>").expect("blocked");
        assert!(why.contains("3, at most 2"), "{why}");
    }

    #[test]
    fn long_content_is_cut() {
        let long = "é".repeat(1200);
        let out = cut(&long, 1000);
        assert_eq!(out.chars().count(), 1001);
        assert_eq!(cut("short", 1000), "short");
    }
}
