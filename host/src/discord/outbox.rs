//! Plugin `ctx.send(channel, message)` (through the 1.0 layout, or as [`Action::Send`] with
//! files) and every other request of a plugin to Discord.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;
use zoryx_plugin_api::{Action, ChannelId, Message, MessageId, Outcome, PluginError};

use super::actions;
use super::rest::Rest;
use super::{Counters, bump, reply};
use crate::runtime::Outbox;

/// The outbox installed with `Shared::set_outbox` while connected.
pub struct DiscordOutbox {
    pub(crate) rest: Rest,
    pub(crate) counters: Arc<Counters>,
    /// The bot's user id (its own member, its own permissions).
    pub(crate) bot_id: u64,
    /// The clocks of messages whose components expire.
    pub(crate) expiry: Arc<super::expiry::Expiry>,
    /// The connection (for what only it knows: the catalogue as a member sees it).
    pub(crate) bot: std::sync::Weak<super::bot::Bot>,
}

impl Outbox for DiscordOutbox {
    fn send(
        &self,
        plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>> {
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let plugin = plugin.to_owned();
        let expiry = Arc::clone(&self.expiry);
        Box::pin(async move {
            let result = reply::post(&rest, &counters, channel, &message, None).await;
            if let Ok(id) = &result {
                let path = format!("/channels/{}/messages/{}", channel.0, id.0);
                expiry.sent(id.0, path, &message);
            }
            if let Err(error) = &result {
                tracing::warn!(plugin, channel = channel.0, %error, "plugin message not sent");
            }
            result
        })
    }

    fn act(
        &self,
        plugin: &str,
        action: Action,
    ) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        if let Action::CatalogueFor {
            user,
            guild,
            channel,
        } = action
        {
            let bot = self.bot.upgrade();
            return Box::pin(async move {
                match bot {
                    Some(bot) => Ok(Outcome::Catalogue(
                        bot.catalogue_for(user.0, guild, channel).await,
                    )),
                    None => Err(PluginError::NotAvailable("the Discord connection".into())),
                }
            });
        }
        if matches!(action, Action::Guilds) {
            let bot = self.bot.upgrade();
            return Box::pin(async move {
                let bot =
                    bot.ok_or_else(|| PluginError::NotAvailable("the Discord connection".into()))?;
                Ok(Outcome::Guilds(bot.guild_list()))
            });
        }
        if matches!(action, Action::Shards | Action::ResetShardStats { .. }) {
            let bot = self.bot.upgrade();
            return Box::pin(async move {
                let bot =
                    bot.ok_or_else(|| PluginError::NotAvailable("the Discord connection".into()))?;
                match action {
                    Action::ResetShardStats { shard } => {
                        bot.shard_metrics.reset(shard);
                        Ok(Outcome::Done)
                    }
                    _ => Ok(Outcome::Shards(bot.shard_infos().await)),
                }
            });
        }
        if matches!(
            action,
            Action::Clusters | Action::IpcStatus | Action::Broadcast { .. }
        ) {
            let bot = self.bot.upgrade();
            let plugin = plugin.to_owned();
            return Box::pin(async move {
                let bot =
                    bot.ok_or_else(|| PluginError::NotAvailable("the Discord connection".into()))?;
                let cluster = bot
                    .services
                    .cluster
                    .clone()
                    .ok_or_else(crate::cluster::off)?;
                let failed = |e: crate::cluster::ClusterError| PluginError::Host(e.to_string());
                match action {
                    Action::Clusters => {
                        let local = bot.cluster_stats(&cluster).await;
                        cluster
                            .overview(local)
                            .await
                            .map(Outcome::Clusters)
                            .map_err(failed)
                    }
                    Action::Broadcast {
                        message,
                        author,
                        author_id,
                    } => {
                        let delivered = cluster
                            .broadcast(&message, author.as_deref(), author_id)
                            .await
                            .map_err(failed)?;
                        tracing::info!(plugin, delivered, "cluster broadcast sent");
                        Ok(Outcome::Broadcast { delivered })
                    }
                    _ => Ok(Outcome::IpcStatus(cluster.status().await)),
                }
            });
        }
        if let Action::Market {
            user,
            request,
            progress,
        } = action
        {
            let bot = self.bot.upgrade();
            let (rest, bot_id, plugin) = (self.rest.clone(), self.bot_id, plugin.to_owned());
            return Box::pin(async move {
                let bot =
                    bot.ok_or_else(|| PluginError::NotAvailable("the Discord connection".into()))?;
                super::market::run(bot, rest, bot_id, plugin, user, request, progress)
                    .await
                    .map(Outcome::Market)
            });
        }
        if matches!(action, Action::Report { .. } | Action::ProjectFile { .. }) {
            let bot = self.bot.upgrade();
            return Box::pin(async move {
                let bot =
                    bot.ok_or_else(|| PluginError::NotAvailable("the Discord connection".into()))?;
                match action {
                    Action::Report { topic } => super::introspect::report(&bot, topic)
                        .await
                        .map(|v| Outcome::Json(v.to_string())),
                    Action::ProjectFile { path } => {
                        let root = bot
                            .manager
                            .paths()
                            .data
                            .parent()
                            .map(std::path::Path::to_path_buf)
                            .unwrap_or_default();
                        let root = if root.as_os_str().is_empty() {
                            std::path::PathBuf::from(".")
                        } else {
                            root
                        };
                        let text = super::introspect::project_file(&root, &path).await?;
                        Ok(Outcome::Json(Value::String(text).to_string()))
                    }
                    _ => Err(PluginError::NotAvailable("this report".into())),
                }
            });
        }
        if let Action::BotSettings { guild } = action {
            let bot = self.bot.upgrade();
            return Box::pin(async move {
                let bot =
                    bot.ok_or_else(|| PluginError::NotAvailable("the Discord connection".into()))?;
                let settings = crate::guild_settings::settings_of(bot.settings.as_ref(), guild)
                    .await
                    .map_err(|e| PluginError::Host(e.to_string()))?;
                Ok(Outcome::BotSettings(crate::guild_settings::to_api(
                    &settings,
                )))
            });
        }
        if let Action::SetBotSettings { guild, settings } = action {
            let bot = self.bot.upgrade();
            let plugin = plugin.to_owned();
            return Box::pin(async move {
                let bot =
                    bot.ok_or_else(|| PluginError::NotAvailable("the Discord connection".into()))?;
                crate::guild_settings::apply_api(bot.settings.as_ref(), guild, settings)
                    .await
                    .map_err(PluginError::user)?;
                tracing::info!(
                    plugin,
                    guild = guild.0,
                    "the bot's server settings were replaced"
                );
                Ok(Outcome::Done)
            });
        }
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let bot_id = self.bot_id;
        let plugin = plugin.to_owned();
        let expiry = Arc::clone(&self.expiry);
        // Messages sent or edited here start or stop their components' clock.
        let clock = match &action {
            Action::Send { channel, message } => {
                Some((channel.0, None, super::expiry::Expiry::clock_of(message)))
            }
            Action::EditMessage {
                channel,
                message,
                edit,
            } => Some((
                channel.0,
                Some(message.0),
                super::expiry::Expiry::clock_of(edit),
            )),
            Action::DeleteMessage { message, .. } => {
                self.expiry.disarm(message.0);
                None
            }
            _ => None,
        };
        Box::pin(async move {
            let what = action.describe();
            let sent = matches!(action, Action::Send { .. });
            let result = actions::run(&rest, bot_id, action).await;
            if let (Some((channel, edited, clock)), Ok(outcome)) = (clock, &result) {
                let id = match outcome {
                    Outcome::Id(id) => Some(*id),
                    _ => edited,
                };
                if let Some(id) = id {
                    expiry.sent(id, format!("/channels/{channel}/messages/{id}"), &clock);
                }
            }
            if let Err(error) = &result {
                tracing::debug!(plugin, what, %error, "plugin request refused");
            }
            // A message sent as JSON (with files, say) counts as one sent through `send`.
            if sent {
                bump(match result {
                    Ok(_) => &counters.replies_sent,
                    Err(_) => &counters.replies_failed,
                });
            }
            result
        })
    }
}
