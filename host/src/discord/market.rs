//! [`Action::Market`](zoryx_plugin_api::Action::Market): a plugin's marketplace request on
//! behalf of a member, refused unless they are a bot owner; the install's progress edits the
//! message the plugin named, in place.

use std::sync::Arc;

use zoryx_plugin_api::market::{MarketReport, MarketRequest};
use zoryx_plugin_api::{Action, ChannelId, Embed, Message, MessageId, PluginError, UserId};

use super::bot::Bot;
use super::rest::Rest;
use crate::market::Progress;

const WORKING: u32 = 0x0058_65F2;
const DONE: u32 = 0x0057_F287;
const REFUSED: u32 = 0x00ED_4245;
/// Lines of progress the embed keeps.
const LINES: usize = 12;

fn embed(title: &str, lines: &[String], colour: u32) -> Message {
    let start = lines.len().saturating_sub(LINES);
    let text = lines[start..].join("\n");
    Message::new().embed(
        Embed::new()
            .title(title)
            .description(
                zoryx_plugin_api::split_text(&text, 4000)
                    .into_iter()
                    .next()
                    .unwrap_or_default(),
            )
            .colour(colour),
    )
}

/// Runs `request` for `plugin` on behalf of `user`.
pub(crate) async fn run(
    bot: Arc<Bot>,
    rest: Rest,
    bot_id: u64,
    plugin: String,
    user: UserId,
    request: MarketRequest,
    progress: Option<(ChannelId, MessageId)>,
) -> Result<MarketReport, PluginError> {
    if !bot.is_owner(user.0) {
        tracing::warn!(
            plugin,
            user = user.0,
            "marketplace request refused: not a bot owner"
        );
        let refusal = "only a bot owner may use the plugin marketplace";
        if let Some((channel, message)) = progress {
            let edit = embed(
                "Marketplace: refused",
                &[format!("❌ refused: {refusal}")],
                REFUSED,
            );
            let action = Action::EditMessage {
                channel,
                message,
                edit,
            };
            if let Err(error) = super::actions::run(&rest, bot_id, action).await {
                tracing::debug!(%error, "marketplace refusal not shown");
            }
        }
        return Err(PluginError::user(refusal));
    }
    let market = bot
        .manager
        .marketplace()
        .map_err(|e| PluginError::user(e.to_string()))?;
    let what = format!("{request:?}");
    tracing::info!(plugin, user = user.0, request = what, "marketplace request");
    // Progress lines go to an editor task, which edits the message with the latest lines (an
    // edit at a time; lines that came meanwhile are shown together).
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let editor = progress.map(|(channel, message)| {
        let rest = rest.clone();
        tokio::spawn(async move {
            let mut lines = Vec::new();
            while let Some(line) = lines_rx.recv().await {
                lines.push(line);
                while let Ok(more) = lines_rx.try_recv() {
                    lines.push(more);
                }
                let edit = embed("Marketplace: working…", &lines, WORKING);
                let action = Action::EditMessage {
                    channel,
                    message,
                    edit,
                };
                if let Err(error) = super::actions::run(&rest, bot_id, action).await {
                    tracing::debug!(%error, "marketplace progress not shown");
                }
            }
            lines
        })
    });
    let report = {
        let tx = lines_tx.clone();
        let on_progress = move |step: Progress| {
            tracing::info!("marketplace: {step}");
            let _ = tx.send(step.to_string());
        };
        market.handle(request, &on_progress).await
    };
    drop(lines_tx);
    if let (Some(editor), Some((channel, message))) = (editor, progress) {
        let mut lines = editor.await.unwrap_or_default();
        let (title, colour) = match &report {
            Ok(_) => ("Marketplace: done", DONE),
            Err(_) => ("Marketplace: refused", REFUSED),
        };
        lines.push(match &report {
            Ok(report) => format!("✅ {}", report.message),
            Err(error) => format!("❌ refused at **{}**: {error}", error.step()),
        });
        let action = Action::EditMessage {
            channel,
            message,
            edit: embed(title, &lines, colour),
        };
        if let Err(error) = super::actions::run(&rest, bot_id, action).await {
            tracing::debug!(%error, "marketplace result not shown");
        }
    }
    report.map_err(|error| {
        tracing::warn!(
            plugin,
            step = error.step(),
            "marketplace request refused: {error}"
        );
        PluginError::user(format!("refused at {}: {error}", error.step()))
    })
}
