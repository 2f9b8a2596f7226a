//! Plugin `ctx.send(channel, message)`: posts to Discord.

use std::sync::Arc;

use futures::future::BoxFuture;
use zoryx_plugin_api::{ChannelId, Message, MessageId};

use super::rest::Rest;
use super::{Counters, reply};
use crate::runtime::Outbox;

/// The outbox installed with `Shared::set_outbox` while connected.
pub struct DiscordOutbox {
    pub(crate) rest: Rest,
    pub(crate) counters: Arc<Counters>,
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
}
