//! What the dashboard asks of the Discord connection besides its figures: a guild's text
//! channels and recent messages, a message sent as the bot, leaving a guild, and a guild's
//! settings read and changed. Every REST call goes through the connection's own client
//! ([`super::rest::Rest`], with its rate-limit handling); settings through the same store and
//! checks as the settings commands ([`crate::guild_settings::change`]).

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};
use zoryx_plugin_api::GuildId;

use super::bot::Bot;
use super::rest::RestError;
use super::status::GatewayStatus;
use crate::guild_settings::{Change, ChangeError, GuildSettings};

/// The longest message Discord takes, in characters.
pub const MESSAGE_MAX: usize = 2000;

/// Messages shown of a channel at most.
pub const RECENT_MAX: u8 = 10;

/// Why an operation was not done.
#[derive(Debug, thiserror::Error)]
pub enum OperateError {
    /// No connection is running.
    #[error("the bot is not connected to Discord")]
    NotConnected,
    /// The message is empty or blank.
    #[error("the message is empty")]
    Empty,
    /// The message is past Discord's limit.
    #[error("the message is {0} characters; Discord takes at most {MESSAGE_MAX}")]
    TooLong(usize),
    /// Discord refused (its code and message), or could not be reached.
    #[error("Discord refused: {0}")]
    Discord(String),
    /// A settings change was refused or not saved.
    #[error(transparent)]
    Settings(#[from] ChangeError),
}

impl From<RestError> for OperateError {
    fn from(error: RestError) -> Self {
        match &error {
            RestError::Status { body, status, .. } => {
                let (code, message) = super::actions::discord_error(body);
                Self::Discord(format!("{message} (HTTP {status}, code {code})"))
            }
            other => Self::Discord(other.to_string()),
        }
    }
}

/// A text channel of a guild.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelSummary {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// A message of a channel, as the chat page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecentMessage {
    /// Its id.
    pub id: u64,
    /// The author's user name.
    pub author: String,
    /// Its text (empty when it has only embeds or files).
    pub content: String,
    /// When it was sent (Discord's ISO 8601 timestamp).
    pub at: String,
}

/// Checks a message for Discord's limits: not blank, at most [`MESSAGE_MAX`] characters.
pub fn check_message(content: &str) -> Result<(), OperateError> {
    let length = content.chars().count();
    if content.trim().is_empty() {
        Err(OperateError::Empty)
    } else if length > MESSAGE_MAX {
        Err(OperateError::TooLong(length))
    } else {
        Ok(())
    }
}

fn id_of(value: &Value) -> u64 {
    value
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

impl GatewayStatus {
    fn bot(&self) -> Result<Arc<Bot>, OperateError> {
        self.running().ok_or(OperateError::NotConnected)
    }

    /// The text and announcement channels of `guild`, in Discord's order.
    pub async fn text_channels(&self, guild: u64) -> Result<Vec<ChannelSummary>, OperateError> {
        let bot = self.bot()?;
        let answer = bot.rest.get(&format!("/guilds/{guild}/channels")).await?;
        let mut channels: Vec<(i64, ChannelSummary)> = answer
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|c| matches!(c.get("type").and_then(Value::as_u64), Some(0 | 5)))
            .map(|c| {
                let position = c.get("position").and_then(Value::as_i64).unwrap_or(0);
                let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                (
                    position,
                    ChannelSummary {
                        id: id_of(c),
                        name: name.to_owned(),
                    },
                )
            })
            .collect();
        channels.sort_by_key(|(position, c)| (*position, c.id));
        Ok(channels.into_iter().map(|(_, c)| c).collect())
    }

    /// The last `limit` (at most [`RECENT_MAX`]) messages of `channel`, newest first.
    pub async fn recent_messages(
        &self,
        channel: u64,
        limit: u8,
    ) -> Result<Vec<RecentMessage>, OperateError> {
        let bot = self.bot()?;
        let limit = limit.clamp(1, RECENT_MAX);
        let answer = bot
            .rest
            .get(&format!("/channels/{channel}/messages?limit={limit}"))
            .await?;
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        Ok(answer
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|m| RecentMessage {
                id: id_of(m),
                author: m
                    .get("author")
                    .and_then(|a| text(a, "global_name").or_else(|| text(a, "username")))
                    .unwrap_or_default(),
                content: text(m, "content").unwrap_or_default(),
                at: text(m, "timestamp").unwrap_or_default(),
            })
            .collect())
    }

    /// Sends `content` to `channel` as the bot, after [`check_message`]; the new message's id.
    /// Mentions of users ping; `@everyone`, `@here` and roles do not.
    pub async fn send_text(&self, channel: u64, content: &str) -> Result<u64, OperateError> {
        check_message(content)?;
        let bot = self.bot()?;
        let body = json!({
            "content": content,
            "allowed_mentions": {"parse": ["users"]},
        });
        let id = bot
            .rest
            .post_for_id(&format!("/channels/{channel}/messages"), &body, &[])
            .await?;
        Ok(id)
    }

    /// Makes the bot leave `guild` (`DELETE /users/@me/guilds/{id}`); Discord then sends
    /// GUILD_DELETE, which takes it out of the cache.
    pub async fn leave_guild(&self, guild: u64) -> Result<(), OperateError> {
        let bot = self.bot()?;
        bot.rest
            .request(
                reqwest::Method::DELETE,
                &format!("/users/@me/guilds/{guild}"),
                None,
            )
            .await?;
        Ok(())
    }

    /// `guild`'s own settings (what the settings commands set), and the defaults they
    /// override: the configured prefix and whether the @mention prefix is on.
    pub async fn guild_settings(
        &self,
        guild: u64,
    ) -> Result<(Arc<GuildSettings>, String, bool), OperateError> {
        let bot = self.bot()?;
        let settings = crate::guild_settings::settings_of(bot.settings.as_ref(), GuildId(guild))
            .await
            .map_err(ChangeError::from)?;
        Ok((
            settings,
            bot.options.prefix.clone(),
            bot.options.allow_mention_prefix,
        ))
    }

    /// Makes `changes` in `guild`'s settings, through the settings commands' path; all are
    /// checked before any is made.
    pub async fn change_guild_settings(
        &self,
        guild: u64,
        changes: Vec<Change>,
    ) -> Result<(), OperateError> {
        for change in &changes {
            change.check()?;
        }
        let bot = self.bot()?;
        for change in changes {
            crate::guild_settings::change(bot.settings.as_ref(), GuildId(guild), change).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_checked_for_discords_limits() {
        assert!(check_message("hello").is_ok());
        assert!(matches!(check_message("  \n"), Err(OperateError::Empty)));
        assert!(check_message(&"é".repeat(MESSAGE_MAX)).is_ok());
        assert!(matches!(
            check_message(&"x".repeat(MESSAGE_MAX + 1)),
            Err(OperateError::TooLong(2001))
        ));
    }
}
