//! activity, in-process: counts messages from listeners and commands from hooks.

use activity::Activity;
use zoryx_plugin_api::{ChannelId, Event, IncomingMessage, MessageId, User, UserId};
use zoryx_plugin_test::{PluginTest, TestError};

fn message(author: u64, bot: bool) -> Event {
    Event::MessageCreate(IncomingMessage {
        id: MessageId(1),
        channel_id: ChannelId(1),
        guild_id: None,
        author: User {
            id: UserId(author),
            name: format!("u{author}"),
            bot,
        },
        content: "hi".into(),
        ..IncomingMessage::default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn ranks_members_and_ignores_bots() {
    let bot = PluginTest::new::<Activity>().await.expect("loads");
    for event in [
        message(1, false),
        message(2, false),
        message(2, false),
        message(3, true),
    ] {
        bot.event(&event).await.expect("listener");
    }
    assert_eq!(
        bot.emit("command_executed", serde_json::json!({"command_name": "x"}))
            .await,
        1
    );
    let replies = bot.run("top").await.expect("top");
    let embed = &replies[0].embeds[0];
    let fields: Vec<(&str, &str)> = embed
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![("#1 u2", "2 messages"), ("#2 u1", "1 messages")]
    );
    assert_eq!(embed.footer.as_deref(), Some("1 commands run since load"));
    assert!(
        matches!(bot.run("top 99").await, Err(TestError::Failed(e)) if e.to_string().contains("between 1 and 25"))
    );
}
