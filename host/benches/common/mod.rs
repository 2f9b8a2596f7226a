//! What the benches share: the bare serenity bot they measure the host against.

use serenity::all::{Context, CreateMessage, EventHandler, Message};

/// The baseline: answers `!ping` straight from serenity's handler.
pub(crate) struct Bare;

#[serenity::async_trait]
impl EventHandler for Bare {
    async fn message(&self, ctx: Context, msg: Message) {
        if msg.content == "!ping" {
            let reply = CreateMessage::new().content("pong").reference_message(&msg);
            if let Err(error) = msg.channel_id.send_message(&ctx.http, reply).await {
                eprintln!("bare handler: {error}");
            }
        }
    }
}
