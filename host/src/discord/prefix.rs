//! Prefix resolution: which messages are commands, and what the command and its arguments are.
//!
//! Per guild: the stored prefix, else the configured default; the @mention prefix (`<@id>` or
//! `<@!id>`) when the guild's stored toggle allows it, else when the global
//! `allow_mention_prefix` does. In DMs: the default prefix, a mention, or no prefix at all.

use std::sync::Arc;

use crate::guild_settings::{GuildSettings, GuildSettingsStore};
use zoryx_plugin_api::GuildId;

/// A message recognised as a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// The prefix that applies where it was typed (for usage lines).
    pub prefix: String,
    /// The command name as typed.
    pub command: &'a str,
    /// The argument text after it.
    pub args: &'a str,
}

/// What applies in one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// The command prefix.
    pub prefix: String,
    /// Whether `@Bot command` works.
    pub mention: bool,
}

/// Whether `content` is nothing but a mention of the bot (`<@id>` or `<@!id>`).
pub fn is_bare_mention(content: &str, bot_id: u64) -> bool {
    let Some(inner) = content
        .trim()
        .strip_prefix("<@")
        .and_then(|c| c.strip_suffix('>'))
    else {
        return false;
    };
    let id = inner.strip_prefix('!').unwrap_or(inner);
    bot_id != 0 && id.parse::<u64>().ok() == Some(bot_id)
}

/// The effective prefix and mention toggle for `settings` with the configured defaults.
pub fn effective(settings: &GuildSettings, default: &str, allow_mention: bool) -> Effective {
    Effective {
        prefix: settings
            .prefix
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| default.to_owned()),
        mention: settings.mention_prefix.unwrap_or(allow_mention),
    }
}

/// The guild's effective settings: from the store's cache (no I/O), else loaded; a store error
/// falls back to the defaults (logged) so commands keep working.
pub async fn resolve(
    store: &dyn GuildSettingsStore,
    guild: Option<GuildId>,
    default: &str,
    allow_mention: bool,
) -> Effective {
    let Some(guild) = guild else {
        return Effective {
            prefix: default.to_owned(),
            mention: true,
        };
    };
    let settings: Arc<GuildSettings> = match store.cached(guild) {
        Some(settings) => settings,
        None => match store.load(guild).await {
            Ok(settings) => settings,
            Err(error) => {
                tracing::warn!(guild = guild.0, %error, "guild settings unavailable; using defaults");
                Arc::new(GuildSettings::default())
            }
        },
    };
    effective(&settings, default, allow_mention)
}

/// Strips a leading `<@id>` or `<@!id>` mention of `bot`.
fn strip_mention(content: &str, bot: u64) -> Option<&str> {
    let rest = content.strip_prefix("<@")?;
    let rest = rest.strip_prefix('!').unwrap_or(rest);
    let rest = rest.strip_prefix(bot.to_string().as_str())?;
    rest.strip_prefix('>')
}

/// Splits `text` into the command name and the rest.
fn split(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    let (command, args) = text.split_at(end);
    Some((command, args.trim_start()))
}

/// Recognises a command in `content` (`dm`: a direct message, where no prefix is needed).
pub fn parse<'a>(
    content: &'a str,
    effective: &Effective,
    bot: u64,
    dm: bool,
) -> Option<Parsed<'a>> {
    let prefix = effective.prefix.as_str();
    let rest = if let Some(rest) = content.strip_prefix(prefix).filter(|_| !prefix.is_empty()) {
        rest
    } else if let Some(rest) = strip_mention(content, bot).filter(|_| effective.mention) {
        rest
    } else if dm {
        content
    } else {
        return None;
    };
    let (command, args) = split(rest)?;
    Some(Parsed {
        prefix: effective.prefix.clone(),
        command,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eff(prefix: &str, mention: bool) -> Effective {
        Effective {
            prefix: prefix.into(),
            mention,
        }
    }

    #[test]
    fn prefixes_mentions_and_dms() {
        let parsed = parse("!echo  hi there", &eff("!", true), 5, false).expect("command");
        assert_eq!((parsed.command, parsed.args), ("echo", "hi there"));
        assert!(parse("?ping", &eff("!", true), 5, false).is_none());
        assert_eq!(
            parse("<@5> ping", &eff("!", true), 5, false).map(|p| p.command),
            Some("ping")
        );
        assert_eq!(
            parse("<@!5>ping x", &eff("!", true), 5, false).map(|p| p.args),
            Some("x")
        );
        assert!(parse("<@5> ping", &eff("!", false), 5, false).is_none());
        assert!(parse("<@6> ping", &eff("!", true), 5, false).is_none());
        assert_eq!(
            parse("ping", &eff("!", true), 5, true).map(|p| p.command),
            Some("ping")
        );
        assert!(parse("!", &eff("!", true), 5, false).is_none());
    }

    #[test]
    fn a_bare_mention_is_only_the_mention() {
        assert!(is_bare_mention("<@42>", 42));
        assert!(is_bare_mention(" <@!42> ", 42));
        assert!(!is_bare_mention("<@42> ping", 42));
        assert!(!is_bare_mention("<@43>", 42));
        assert!(!is_bare_mention("<@&42>", 42));
        assert!(!is_bare_mention("hello", 42));
    }

    #[test]
    fn stored_settings_win_over_defaults() {
        let settings = GuildSettings {
            prefix: Some("?".into()),
            mention_prefix: Some(false),
            ..GuildSettings::default()
        };
        assert_eq!(effective(&settings, "!", true), eff("?", false));
        assert_eq!(
            effective(&GuildSettings::default(), "!", true),
            eff("!", true)
        );
        let on = GuildSettings {
            prefix: None,
            mention_prefix: Some(true),
            ..GuildSettings::default()
        };
        assert_eq!(effective(&on, "!", false), eff("!", true));
    }
}
