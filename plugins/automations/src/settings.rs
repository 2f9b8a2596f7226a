//! An automation's settings: `key=value` pairs as the owner typed them (in `/hooks create`'s
//! `settings`, a prefix command, or a modal), checked against the template's keys and kept
//! normalised (mentions and names turned into ids) so events read them without lookups.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::{
    Channel, ChannelId, ChannelKind, PluginError, PluginResult, Role, RoleId, UserId,
};

/// What a key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Free text (up to 2,000 characters).
    Text,
    /// A text channel of the guild (`#name`, a mention or an id).
    Channel,
    /// A voice channel of the guild.
    Voice,
    /// A category of the guild.
    Category,
    /// Channels, separated by commas.
    Channels,
    /// A role (`@name`, a mention or an id).
    Role,
    /// Roles, separated by commas.
    Roles,
    /// Users (mentions or ids), separated by commas.
    Users,
    /// A whole number in a range.
    Number(i64, i64),
    /// `yes`/`no`.
    Flag,
    /// `#rrggbb`.
    Colour,
    /// An `http://` or `https://` URL.
    Url,
    /// Words or phrases, separated by commas.
    List,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// `emoji role` pairs, separated by commas (reaction roles).
    EmojiRoles,
    /// `level role` pairs, separated by commas (leveling rewards).
    LevelRoles,
    /// A regular expression.
    Regex,
    /// Hours of the day, `9-17`.
    Hours,
    /// Days of the week, `mon-fri` or `sat,sun`.
    Days,
    /// An IANA time zone.
    Zone,
    /// A 5-field cron expression.
    Cron,
}

/// One key a template takes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) required: bool,
    pub(crate) help: &'static str,
}

impl Key {
    pub(crate) const fn required(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Self {
            name,
            kind,
            required: true,
            help,
        }
    }

    pub(crate) const fn optional(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Self {
            name,
            kind,
            required: false,
            help,
        }
    }
}

/// The keys every template takes: its conditions and its cooldown.
pub(crate) const COMMON: &[Key] = &[
    Key::optional(
        "cooldown",
        Kind::Number(0, 86_400),
        "seconds between two runs (0)",
    ),
    Key::optional(
        "only_channels",
        Kind::Channels,
        "act only in these channels",
    ),
    Key::optional(
        "except_channels",
        Kind::Channels,
        "never act in these channels",
    ),
    Key::optional(
        "only_roles",
        Kind::Roles,
        "act only for members with one of these roles",
    ),
    Key::optional(
        "except_roles",
        Kind::Roles,
        "never act for members with these roles",
    ),
    Key::optional("only_users", Kind::Users, "act only for these users"),
    Key::optional(
        "contains",
        Kind::List,
        "act only on messages containing one of these",
    ),
    Key::optional(
        "matches",
        Kind::Regex,
        "act only on messages matching this pattern",
    ),
    Key::optional(
        "hours",
        Kind::Hours,
        "act only between these hours, e.g. 9-17",
    ),
    Key::optional("days", Kind::Days, "act only on these days, e.g. mon-fri"),
    Key::optional(
        "timezone",
        Kind::Zone,
        "the time zone of hours and days (UTC)",
    ),
];

/// The settings of one automation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Settings(pub(crate) BTreeMap<String, String>);

fn bad(key: &str, why: impl std::fmt::Display) -> PluginError {
    PluginError::user(format!("`{key}`: {why}"))
}

/// A snowflake from `<#1>`, `<@&1>`, `<@!1>`, `<@1>` or `1`.
pub(crate) fn snowflake(text: &str) -> Option<u64> {
    let inner = text
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_start_matches(['#', '@', '&', '!']);
    inner.parse().ok().filter(|id| *id > 0)
}

fn items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Settings {
    /// Reads `key=value` pairs separated by spaces, `;` or new lines; a value with spaces is
    /// quoted (`message="Hello there"`, `\"` inside).
    pub(crate) fn parse(text: &str) -> PluginResult<Self> {
        let mut out = BTreeMap::new();
        let mut chars = text.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ';') {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let mut key = String::new();
            while let Some(c) = chars.peek().copied() {
                if c == '=' || c.is_whitespace() || c == ';' {
                    break;
                }
                key.push(c);
                chars.next();
            }
            if chars.next() != Some('=') {
                return Err(PluginError::user(format!(
                    "`{key}` has no value: write settings as key=value (quote values with \
                     spaces: message=\"Hello there\")"
                )));
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' if chars.peek() == Some(&'"') => {
                            value.push('"');
                            chars.next();
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                if !closed {
                    return Err(bad(&key, "its quote is not closed"));
                }
            } else {
                while let Some(c) = chars.peek().copied() {
                    if c.is_whitespace() || c == ';' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            let key = key.to_ascii_lowercase();
            if key.is_empty() {
                return Err(PluginError::user("a setting has no name before its `=`"));
            }
            out.insert(key, value);
        }
        Ok(Self(out))
    }

    /// The raw value of `key`, if set and not empty.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    pub(crate) fn channel(&self, key: &str) -> Option<ChannelId> {
        self.get(key).and_then(snowflake).map(ChannelId)
    }

    pub(crate) fn channels(&self, key: &str) -> Vec<ChannelId> {
        self.get(key)
            .map(|v| items(v).filter_map(snowflake).map(ChannelId).collect())
            .unwrap_or_default()
    }

    pub(crate) fn role(&self, key: &str) -> Option<RoleId> {
        self.get(key).and_then(snowflake).map(RoleId)
    }

    pub(crate) fn roles(&self, key: &str) -> Vec<RoleId> {
        self.get(key)
            .map(|v| items(v).filter_map(snowflake).map(RoleId).collect())
            .unwrap_or_default()
    }

    pub(crate) fn users(&self, key: &str) -> Vec<UserId> {
        self.get(key)
            .map(|v| items(v).filter_map(snowflake).map(UserId).collect())
            .unwrap_or_default()
    }

    pub(crate) fn flag(&self, key: &str, default: bool) -> bool {
        self.get(key).map_or(default, |v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "yes" | "true" | "on" | "1" | "enabled"
            )
        })
    }

    pub(crate) fn number(&self, key: &str, default: i64) -> i64 {
        self.get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| items(v).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    pub(crate) fn colour(&self, key: &str) -> Option<u32> {
        self.get(key)
            .and_then(|v| u32::from_str_radix(v.trim_start_matches('#'), 16).ok())
    }

    /// `emoji role` pairs (normalised to `emoji=roleid`).
    pub(crate) fn emoji_roles(&self, key: &str) -> Vec<(String, RoleId)> {
        self.get(key)
            .map(|v| {
                items(v)
                    .filter_map(|pair| {
                        let (emoji, role) = pair.rsplit_once('=')?;
                        Some((emoji.trim().to_owned(), RoleId(snowflake(role)?)))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `level role` pairs (normalised to `level=roleid`), lowest level first.
    pub(crate) fn level_roles(&self, key: &str) -> Vec<(u32, RoleId)> {
        let mut out: Vec<(u32, RoleId)> = self
            .get(key)
            .map(|v| {
                items(v)
                    .filter_map(|pair| {
                        let (level, role) = pair.split_once('=')?;
                        Some((level.trim().parse().ok()?, RoleId(snowflake(role)?)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable();
        out
    }

    /// `9-17` as (start, end) hours.
    pub(crate) fn hours(&self, key: &str) -> Option<(u32, u32)> {
        let (a, b) = self.get(key)?.split_once('-')?;
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    }

    /// Days as numbers from Monday (0).
    pub(crate) fn days(&self, key: &str) -> Vec<u32> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        let day = |d: &str| {
            WEEKDAYS
                .iter()
                .position(|w| d.trim().to_ascii_lowercase().starts_with(w))
        };
        let mut out = Vec::new();
        for part in items(value) {
            match part.split_once('-') {
                Some((a, b)) => {
                    if let (Some(a), Some(b)) = (day(a), day(b)) {
                        let mut d = a;
                        loop {
                            out.push(d as u32);
                            if d == b {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    }
                }
                None => out.extend(day(part).map(|d| d as u32)),
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// What `check` needs of the guild to turn names into ids.
pub(crate) struct Guild<'a> {
    pub(crate) roles: &'a [Role],
    pub(crate) channels: &'a [Channel],
}

fn find_role(guild: &Guild<'_>, key: &str, text: &str) -> PluginResult<u64> {
    if let Some(id) = snowflake(text) {
        if guild.roles.iter().any(|r| r.id.0 == id) {
            return Ok(id);
        }
        return Err(bad(key, format!("there is no role {id} here")));
    }
    let name = text.trim().trim_start_matches('@');
    guild
        .roles
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
        .map(|r| r.id.0)
        .ok_or_else(|| bad(key, format!("there is no role `{name}` here")))
}

fn find_channel(
    guild: &Guild<'_>,
    key: &str,
    text: &str,
    kinds: &[ChannelKind],
) -> PluginResult<u64> {
    let found = match snowflake(text) {
        Some(id) => guild.channels.iter().find(|c| c.id.0 == id),
        None => {
            let name = text.trim().trim_start_matches('#');
            let named = |c: &&Channel| c.name.eq_ignore_ascii_case(name);
            guild
                .channels
                .iter()
                .filter(named)
                .find(|c| kinds.contains(&c.kind))
                .or_else(|| guild.channels.iter().find(named))
        }
    };
    match found {
        Some(c) if kinds.contains(&c.kind) => Ok(c.id.0),
        Some(c) => Err(bad(
            key,
            format!("<#{}> is not a {} channel", c.id.0, kind_name(kinds)),
        )),
        None => Err(bad(
            key,
            format!("there is no channel `{}` here", text.trim()),
        )),
    }
}

fn kind_name(kinds: &[ChannelKind]) -> &'static str {
    match kinds.first() {
        Some(ChannelKind::Voice) => "voice",
        Some(ChannelKind::Category) => "category",
        _ => "text",
    }
}

const TEXT: &[ChannelKind] = &[ChannelKind::Text, ChannelKind::Announcement];

/// Checks `settings` against `keys` (and the common keys): unknown keys (with a suggestion),
/// missing required ones, values of the wrong form. Returns the settings with mentions and
/// names replaced by ids and flags by `yes`/`no`.
pub(crate) fn check(
    keys: &[Key],
    settings: &Settings,
    guild: &Guild<'_>,
) -> PluginResult<Settings> {
    let all: Vec<&Key> = keys.iter().chain(COMMON).collect();
    let mut out = BTreeMap::new();
    for (name, value) in &settings.0 {
        let Some(key) = all.iter().find(|k| k.name == name) else {
            let suggestion = all
                .iter()
                .min_by_key(|k| distance(k.name, name))
                .filter(|k| distance(k.name, name) <= 3)
                .map(|k| format!(" (did you mean `{}`?)", k.name))
                .unwrap_or_default();
            let names: Vec<&str> = keys.iter().map(|k| k.name).collect();
            return Err(PluginError::user(format!(
                "`{name}` is not a setting of this template{suggestion}; it takes {}",
                names.join(", ")
            )));
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let normalised = match key.kind {
            Kind::Text => {
                if value.chars().count() > 2000 {
                    return Err(bad(name, "at most 2000 characters"));
                }
                value.to_owned()
            }
            Kind::Channel => find_channel(guild, name, value, TEXT)?.to_string(),
            Kind::Voice => find_channel(guild, name, value, &[ChannelKind::Voice])?.to_string(),
            Kind::Category => {
                find_channel(guild, name, value, &[ChannelKind::Category])?.to_string()
            }
            Kind::Channels => items(value)
                .map(|c| {
                    find_channel(
                        guild,
                        name,
                        c,
                        &[
                            ChannelKind::Text,
                            ChannelKind::Announcement,
                            ChannelKind::Voice,
                            ChannelKind::Category,
                        ],
                    )
                    .map(|id| id.to_string())
                })
                .collect::<PluginResult<Vec<_>>>()?
                .join(","),
            Kind::Role => find_role(guild, name, value)?.to_string(),
            Kind::Roles => items(value)
                .map(|r| find_role(guild, name, r).map(|id| id.to_string()))
                .collect::<PluginResult<Vec<_>>>()?
                .join(","),
            Kind::Users => items(value)
                .map(|u| {
                    snowflake(u)
                        .map(|id| id.to_string())
                        .ok_or_else(|| bad(name, format!("`{u}` is not a user mention or id")))
                })
                .collect::<PluginResult<Vec<_>>>()?
                .join(","),
            Kind::Number(min, max) => match value.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => n.to_string(),
                _ => return Err(bad(name, format!("a whole number from {min} to {max}"))),
            },
            Kind::Flag => match value.to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" | "1" | "enabled" => "yes".to_owned(),
                "no" | "false" | "off" | "0" | "disabled" => "no".to_owned(),
                _ => return Err(bad(name, "yes or no")),
            },
            Kind::Colour => {
                let hex = value.trim_start_matches('#');
                match u32::from_str_radix(hex, 16) {
                    Ok(c) if hex.len() == 6 && c <= 0xff_ffff => format!("#{hex}"),
                    _ => return Err(bad(name, "a colour like #5865f2")),
                }
            }
            Kind::Url => {
                let scheme = value.starts_with("https://") || value.starts_with("http://");
                if !scheme || value.len() > 1000 || value.contains(char::is_whitespace) {
                    return Err(bad(name, "an http:// or https:// URL"));
                }
                value.to_owned()
            }
            Kind::List => items(value).collect::<Vec<_>>().join(","),
            Kind::Choice(choices) => {
                let lower = value.to_ascii_lowercase();
                if !choices.contains(&lower.as_str()) {
                    return Err(bad(name, format!("one of {}", choices.join(", "))));
                }
                lower
            }
            Kind::EmojiRoles => items(value)
                .map(|pair| {
                    let (emoji, role) = pair
                        .rsplit_once(['=', ' '])
                        .ok_or_else(|| bad(name, format!("`{pair}` is not `emoji role`")))?;
                    let emoji = emoji.trim().trim_start_matches('<').trim_end_matches('>');
                    let emoji = emoji.trim_start_matches("a:").trim_start_matches(':');
                    if emoji.is_empty() {
                        return Err(bad(name, format!("`{pair}` has no emoji")));
                    }
                    Ok(format!("{emoji}={}", find_role(guild, name, role)?))
                })
                .collect::<PluginResult<Vec<_>>>()?
                .join(","),
            Kind::LevelRoles => items(value)
                .map(|pair| {
                    let (level, role) = pair
                        .split_once(['=', ' '])
                        .ok_or_else(|| bad(name, format!("`{pair}` is not `level role`")))?;
                    let level: u32 = level
                        .trim()
                        .parse()
                        .ok()
                        .filter(|l| (1..=1000).contains(l))
                        .ok_or_else(|| bad(name, format!("`{level}` is not a level (1-1000)")))?;
                    Ok(format!("{level}={}", find_role(guild, name, role)?))
                })
                .collect::<PluginResult<Vec<_>>>()?
                .join(","),
            Kind::Regex => {
                regex::RegexBuilder::new(value)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| bad(name, format!("not a valid pattern: {e}")))?;
                value.to_owned()
            }
            Kind::Hours => {
                let ok = value.split_once('-').is_some_and(|(a, b)| {
                    matches!((a.trim().parse::<u32>(), b.trim().parse::<u32>()), (Ok(a), Ok(b)) if a <= 24 && b <= 24 && a != b)
                });
                if !ok {
                    return Err(bad(name, "hours like 9-17 (0-24; 22-6 goes past midnight)"));
                }
                value.replace(' ', "")
            }
            Kind::Days => {
                let probe = Settings([(name.clone(), value.to_owned())].into());
                if probe.days(name).is_empty() {
                    return Err(bad(name, "days like mon-fri or sat,sun"));
                }
                value.to_ascii_lowercase().replace(' ', "")
            }
            Kind::Zone => {
                zoryx_plugin_api::schedule::Cron::parse_in("* * * * *", value)
                    .map_err(|e| bad(name, e))?;
                value.to_owned()
            }
            Kind::Cron => {
                zoryx_plugin_api::schedule::Cron::parse(value).map_err(|e| bad(name, e))?;
                value.to_owned()
            }
        };
        out.insert(name.clone(), normalised);
    }
    if let Some(missing) = keys
        .iter()
        .find(|k| k.required && !out.contains_key(k.name))
    {
        return Err(PluginError::user(format!(
            "`{}` is needed: {}",
            missing.name, missing.help
        )));
    }
    Ok(Settings(out))
}

/// The edit distance of two short names.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guild() -> (Vec<Role>, Vec<Channel>) {
        let roles = vec![Role {
            id: RoleId(5),
            name: "Members".into(),
            ..Role::default()
        }];
        let channels = vec![
            Channel {
                id: ChannelId(9),
                name: "welcome".into(),
                kind: ChannelKind::Text,
                ..Channel::default()
            },
            Channel {
                id: ChannelId(10),
                name: "Lobby".into(),
                kind: ChannelKind::Voice,
                ..Channel::default()
            },
        ];
        (roles, channels)
    }

    const KEYS: &[Key] = &[
        Key::required("channel", Kind::Channel, "where"),
        Key::optional("role", Kind::Role, "which role"),
        Key::optional("dm", Kind::Flag, "a DM too"),
        Key::optional("message", Kind::Text, "what"),
    ];

    #[test]
    fn pairs_with_quotes_names_and_mentions_are_normalised() {
        let raw = Settings::parse(
            "channel=#welcome role=@members; message=\"Hi {mention}, \\\"welcome\\\"\" dm=on",
        )
        .expect("parse");
        let (roles, channels) = guild();
        let checked = check(
            KEYS,
            &raw,
            &Guild {
                roles: &roles,
                channels: &channels,
            },
        )
        .expect("check");
        assert_eq!(checked.channel("channel"), Some(ChannelId(9)));
        assert_eq!(checked.role("role"), Some(RoleId(5)));
        assert!(checked.flag("dm", false));
        assert_eq!(
            checked.text("message").as_deref(),
            Some("Hi {mention}, \"welcome\"")
        );
    }

    #[test]
    fn mistakes_are_named() {
        let (roles, channels) = guild();
        let g = Guild {
            roles: &roles,
            channels: &channels,
        };
        let error = |text: &str| {
            check(KEYS, &Settings::parse(text).expect("parse"), &g)
                .expect_err(text)
                .to_string()
        };
        assert!(error("chanel=#welcome").contains("did you mean `channel`"));
        assert!(error("role=@Members").contains("`channel` is needed"));
        assert!(error("channel=#Lobby").contains("is not a text channel"));
        assert!(error("channel=#welcome role=@Staff").contains("no role `Staff`"));
        assert!(error("channel=#welcome dm=maybe").contains("yes or no"));
        assert!(Settings::parse("channel").is_err());
        assert!(Settings::parse("message=\"open").is_err());
    }

    #[test]
    fn days_and_hours_read_ranges() {
        let s = Settings::parse("days=fri-mon hours=22-6").expect("parse");
        assert_eq!(s.days("days"), vec![0, 4, 5, 6]);
        assert_eq!(s.hours("hours"), Some((22, 6)));
    }
}
