//! Plugin `ctx.send(channel, message)` (through the 1.0 layout, or as [`Action::Send`] with
//! files) and every other request of a plugin to Discord.

use std::sync::Arc;

use futures::future::BoxFuture;
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
        Box::pin(async move {
            let result = reply::post(&rest, &counters, channel, &message, None).await;
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
        let rest = self.rest.clone();
        let counters = Arc::clone(&self.counters);
        let bot_id = self.bot_id;
        let plugin = plugin.to_owned();
        Box::pin(async move {
            let what = action.describe();
            let sent = matches!(action, Action::Send { .. });
            let result = actions::run(&rest, bot_id, action).await;
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
