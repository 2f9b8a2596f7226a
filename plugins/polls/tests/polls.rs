//! polls, in-process: buttons, votes, permissions, cooldown and the custom event.

use polls::Polls;
use zoryx_plugin_api::{Component, Permission, User, UserId};
use zoryx_plugin_test::{PluginTest, TestError, tester};

fn member(id: u64) -> User {
    User {
        id: UserId(id),
        name: format!("m{id}"),
        bot: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vote_change_vote_and_close() {
    let bot = PluginTest::new::<Polls>().await.expect("loads");
    let replies = bot
        .run(r#"poll "Lunch?" pizza | sushi | salad"#)
        .await
        .expect("poll");
    let ids: Vec<String> = replies[0]
        .components
        .iter()
        .filter_map(|c| match c {
            Component::Button(b) => Some(b.custom_id.clone()),
            Component::Select(_) => None,
        })
        .collect();
    assert_eq!(ids, vec!["polls:1:0", "polls:1:1", "polls:1:2"]);

    bot.click("polls:1:0", &[], member(5)).await.expect("vote");
    let replies = bot
        .click("polls:1:1", &[], member(5))
        .await
        .expect("change vote");
    assert!(replies[0].ephemeral);
    let tally: Vec<&str> = replies[0].embeds[0]
        .fields
        .iter()
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(tally, vec!["0 vote(s)", "1 vote(s)", "0 vote(s)"]);

    assert!(matches!(
        bot.run_as(member(5), Permission::Everyone, "closepoll 1")
            .await,
        Err(TestError::Denied(Permission::Moderator))
    ));
    let replies = bot
        .run_as(member(6), Permission::Moderator, "closepoll 1")
        .await
        .expect("close");
    assert_eq!(replies[0].content.as_deref(), Some("Poll #1 closed."));
    assert_eq!(
        replies[0].embeds[0].description.as_deref(),
        Some("Winner: **sushi**")
    );
    assert!(matches!(
        bot.run_as(member(6), Permission::Moderator, "closepoll 1").await,
        Err(TestError::Failed(e)) if e.to_string().contains("already closed")
    ));
    assert!(
        bot.click("polls:1:2", &[], member(7)).await.is_err(),
        "closed polls take no votes"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_and_cooldown() {
    let bot = PluginTest::new::<Polls>().await.expect("loads");
    assert!(matches!(
        bot.run_as(member(9), Permission::Everyone, r#"poll "Only one?" yes"#).await,
        Err(TestError::Failed(e)) if e.to_string().contains("2 to 5 options")
    ));
    bot.run_as(tester(), Permission::Everyone, r#"poll "Q?" a | b"#)
        .await
        .expect("first");
    assert!(matches!(
        bot.run_as(tester(), Permission::Everyone, r#"poll "Q?" a | b"#)
            .await,
        Err(TestError::Cooldown(_))
    ));
    assert!(matches!(
        bot.click("polls:nope", &[], member(1)).await,
        Err(TestError::Failed(_))
    ));
}
