//! Webhook bridge: a channel's messages relayed to a webhook URL (a Discord webhook, or any
//! http(s) endpoint the operator allows), filtered by the automation's conditions.
//!
//! A Discord webhook URL (`https://discord.com/api/webhooks/{id}/{token}`, also
//! `discordapp.com` and the canary and ptb hosts) is executed through the bot's Discord
//! connection, under the author's name: no `http.allow` entry is needed. Any other URL gets a
//! JSON `POST` through [`Host::http`], which reaches only hosts the operator lists in
//! `http.allow.automations`; a refused host is a failure whose error names that key. The host
//! never hands plugins messages of bots (webhooks' included), so a relay cannot loop back;
//! the webhook's own messages are skipped here too.

use std::time::Duration;

use serde_json::json;
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{IncomingMessage, Webhook};

use super::Run;
use crate::settings::{Key, Kind};

pub(crate) const KEYS: &[Key] = &[
    Key::required("channel", Kind::Channel, "the channel relayed"),
    Key::required(
        "webhook",
        Kind::Url,
        "where to: a Discord webhook URL, or an http(s) URL allowed in http.allow.automations",
    ),
];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::MessageCreate];

/// Discord's longest message.
const CONTENT_MAX: usize = 2000;
/// Discord's longest webhook user name.
const NAME_MAX: usize = 80;
/// How long an endpoint has to answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The hosts of Discord webhook URLs.
const DISCORD_HOSTS: [&str; 6] = [
    "discord.com",
    "discordapp.com",
    "canary.discord.com",
    "ptb.discord.com",
    "canary.discordapp.com",
    "ptb.discordapp.com",
];

/// Where a bridge relays to.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A Discord channel webhook.
    Discord { id: u64, token: String },
    /// Any other http(s) endpoint.
    Http(String),
}

impl Target {
    fn parse(url: &str) -> PluginResult<Self> {
        let url = url.trim();
        let bad = || {
            PluginError::user(format!(
                "`webhook`: `{url}` is not an http(s) URL (a Discord webhook URL, or an \
                 endpoint allowed in http.allow.automations)"
            ))
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https")
            || rest.is_empty()
            || rest.starts_with('/')
            || url.chars().any(char::is_whitespace)
        {
            return Err(bad());
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.to_ascii_lowercase();
        if scheme == "https" && DISCORD_HOSTS.contains(&host.as_str()) {
            let path = path.split(['?', '#']).next().unwrap_or_default();
            let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
            let parts = match parts.as_slice() {
                ["api", version, rest @ ..]
                    if version.len() > 1
                        && version.starts_with('v')
                        && version[1..].chars().all(|c| c.is_ascii_digit()) =>
                {
                    rest.to_vec()
                }
                ["api", rest @ ..] => rest.to_vec(),
                _ => Vec::new(),
            };
            return match parts.as_slice() {
                ["webhooks", id, token]
                    if !token.is_empty()
                        && token
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
                {
                    let id = id.parse::<u64>().map_err(|_| bad())?;
                    Ok(Self::Discord {
                        id,
                        token: (*token).to_owned(),
                    })
                }
                _ => Err(PluginError::user(format!(
                    "`webhook`: `{url}` is a Discord URL but not a webhook's \
                     (https://discord.com/api/webhooks/ID/TOKEN)"
                ))),
            };
        }
        Ok(Self::Http(url.to_owned()))
    }
}

/// `text` cut to `max` characters, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// What a Discord relay says: the content with mass mentions defused, then the files' URLs.
fn relayed(message: &IncomingMessage) -> String {
    let mut text = message
        .content
        .replace("@everyone", "@\u{200b}everyone")
        .replace("@here", "@\u{200b}here")
        .replace("<@&", "<@\u{200b}&");
    for file in &message.attachments {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&file.url);
    }
    cut(&text, CONTENT_MAX)
}

/// The author's name as a webhook may show it: 1 to 80 characters, without the words Discord
/// refuses in webhook names.
fn webhook_name(name: &str) -> String {
    // Break up "discord" and "clyde" (any case) with a zero-width space after their first
    // letter. ASCII lower-casing keeps every byte where it was, so indices carry over.
    let lower = name.to_ascii_lowercase();
    let mut out = String::new();
    let mut from = 0;
    while let Some((at, len)) = ["discord", "clyde"]
        .iter()
        .filter_map(|w| lower[from..].find(w).map(|i| (from + i, w.len())))
        .min()
    {
        out.push_str(&name[from..=at]);
        out.push('\u{200b}');
        out.push_str(&name[at + 1..at + len]);
        from = at + len;
    }
    out.push_str(&name[from..]);
    let out = cut(out.trim(), NAME_MAX);
    if out.is_empty() {
        "Member".to_owned()
    } else {
        out
    }
}

/// `2026-11-30T12:00:00Z`.
fn timestamp(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || unix.to_string(),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

/// The JSON an endpoint receives.
fn payload(message: &IncomingMessage, now: u64) -> serde_json::Value {
    let attachments: Vec<serde_json::Value> = message
        .attachments
        .iter()
        .map(|a| {
            json!({
                "filename": a.filename,
                "url": a.url,
                "size": a.size,
                "content_type": a.content_type,
            })
        })
        .collect();
    json!({
        "guild": message.guild_id.map(|g| g.0.to_string()),
        "channel": message.channel_id.0.to_string(),
        "message": message.id.0.to_string(),
        "author": {"id": message.author.id.0.to_string(), "name": message.author.name},
        "content": cut(&message.content, CONTENT_MAX),
        "attachments": attachments,
        "timestamp": timestamp(now),
    })
}

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let Event::MessageCreate(message) = event else {
        return Ok(false);
    };
    let settings = &run.automation.settings;
    if settings.channel("channel") != Some(message.channel_id) {
        return Ok(false);
    }
    let Some(url) = settings.get("webhook") else {
        return Ok(false);
    };
    let target = Target::parse(url)?;
    if let Target::Discord { id, .. } = &target
        && message.author.id.0 == *id
    {
        // Its own relay, come back: never again.
        return Ok(false);
    }
    if message.author.bot {
        return Ok(false);
    }
    match target {
        Target::Discord { id, token } => {
            let text = relayed(message);
            if text.is_empty() {
                return Ok(false);
            }
            let webhook = Webhook {
                id,
                token: Some(token),
                ..Webhook::default()
            };
            run.host
                .execute_webhook(&webhook, text, Some(webhook_name(&message.author.name)))
                .await?;
        }
        Target::Http(url) => {
            let request = HttpRequest::post(url.as_str())
                .timeout(TIMEOUT)
                .json(&payload(message, run.now))?;
            let answer = run.host.http(request).await?;
            if !answer.is_success() {
                return Err(PluginError::internal(format!(
                    "the endpoint answered HTTP {}",
                    answer.status
                )));
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoryx_plugin_api::Attachment;

    #[test]
    fn discord_webhook_urls_are_told_from_other_endpoints() {
        let discord = |id: u64| Target::Discord {
            id,
            token: "ab-C_9".to_owned(),
        };
        for url in [
            "https://discord.com/api/webhooks/123/ab-C_9",
            "https://discordapp.com/api/webhooks/123/ab-C_9/",
            "https://canary.discord.com/api/v10/webhooks/123/ab-C_9?wait=true",
            "https://PTB.discordapp.com/api/webhooks/123/ab-C_9",
        ] {
            assert_eq!(Target::parse(url).expect(url), discord(123), "{url}");
        }
        assert_eq!(
            Target::parse("http://127.0.0.1:8080/hook").expect("http"),
            Target::Http("http://127.0.0.1:8080/hook".to_owned())
        );
        // Plain http to Discord is not Discord's webhook API.
        assert!(matches!(
            Target::parse("http://discord.com/api/webhooks/1/x"),
            Ok(Target::Http(_))
        ));
        assert!(Target::parse("https://discord.com/channels/1/2").is_err());
        assert!(Target::parse("https://discord.com/api/webhooks/x/y").is_err());
        assert!(Target::parse("ftp://example.com").is_err());
        assert!(Target::parse("example.com/hook").is_err());
        assert!(Target::parse("https://").is_err());
    }

    #[test]
    fn relays_are_cut_and_defused() {
        let message = IncomingMessage {
            content: "@everyone look".to_owned(),
            attachments: vec![Attachment {
                url: "https://cdn.example/a.png".to_owned(),
                ..Attachment::default()
            }],
            ..IncomingMessage::default()
        };
        assert_eq!(
            relayed(&message),
            "@\u{200b}everyone look\nhttps://cdn.example/a.png"
        );
        let long = IncomingMessage {
            content: "é".repeat(2500),
            ..IncomingMessage::default()
        };
        let text = relayed(&long);
        assert_eq!(text.chars().count(), 2000);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn webhook_names_avoid_the_refused_words() {
        assert_eq!(webhook_name("Ada"), "Ada");
        assert_eq!(webhook_name("MyDiscordFan"), "MyD\u{200b}iscordFan");
        assert_eq!(webhook_name("clyde"), "c\u{200b}lyde");
        assert_eq!(webhook_name("   "), "Member");
        assert_eq!(webhook_name(&"n".repeat(100)).chars().count(), 80);
    }

    #[test]
    fn payloads_carry_ids_as_text() {
        let message = IncomingMessage {
            id: MessageId(3),
            channel_id: ChannelId(2),
            guild_id: Some(GuildId(1)),
            author: User {
                id: UserId(4),
                name: "ada".to_owned(),
                bot: false,
            },
            content: "hi".to_owned(),
            ..IncomingMessage::default()
        };
        let body = payload(&message, 1_796_040_000);
        assert_eq!(body["guild"], "1");
        assert_eq!(body["author"], json!({"id": "4", "name": "ada"}));
        assert_eq!(body["timestamp"], "2026-11-30T12:00:00Z");
        assert_eq!(body["attachments"], json!([]));
    }
}
