//! The interactions fixture in-process, through zoryx-plugin-test: subcommands, option rules,
//! autocomplete, modals and context menu commands without a bot.

use fixture_interactions::Interactions;
use zoryx_plugin_api::{
    ArgValue, CallAction, ChannelId, ChannelMessage, MessageId, Permission, TargetUser, User,
    UserId,
};
use zoryx_plugin_test::{PluginTest, TestError, tester};

fn text(replies: &[zoryx_plugin_api::Message]) -> Vec<String> {
    replies
        .iter()
        .map(|m| m.content.clone().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn subcommands_and_rules_in_process() {
    let bot = PluginTest::new::<Interactions>().await.expect("load");
    assert_eq!(
        text(&bot.run("setup set colour teal").await.expect("set")),
        ["set colour=teal"]
    );
    assert_eq!(
        text(&bot.run("setup show").await.expect("show")),
        ["setup show: colour=red"]
    );
    assert_eq!(
        text(&bot.run("setup role add <@&77>").await.expect("role add")),
        ["role added: 77"]
    );
    assert_eq!(
        text(&bot.run("setup").await.expect("root")),
        ["setup: show, set or role add"]
    );
    match bot.run("setup reset").await {
        Err(TestError::BadArguments { error, usage }) => {
            assert_eq!(
                error,
                "`reset` is not a subcommand: expected one of show, set, role"
            );
            assert_eq!(usage, "!setup <show|set|role>");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        text(&bot.run("paint BLUE 2").await.expect("paint")),
        ["blue|2|"]
    );
    match bot.run("paint purple").await {
        Err(TestError::BadArguments { error, .. }) => {
            assert_eq!(error, "`colour` must be one of: Red, Blue, Green");
        }
        other => panic!("{other:?}"),
    }
    match bot.run("mix red 100").await {
        Err(TestError::BadArguments { error, .. }) => {
            assert_eq!(error, "`percent` must be at most 99")
        }
        other => panic!("{other:?}"),
    }
    let guest = User {
        id: UserId(5),
        name: "guest".into(),
        bot: false,
    };
    // The prefix form gets the command's default permissions from the host's gate (Discord
    // applies them to the slash form): Manage Server, which an administrator holds.
    match bot
        .run_as(guest.clone(), Permission::Everyone, "setup show")
        .await
    {
        Err(TestError::Refused(why)) => assert!(why.contains("Manage Server"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(
        bot.run_as(guest, Permission::Administrator, "setup show")
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn autocomplete_modals_and_menus_in_process() {
    let bot = PluginTest::new::<Interactions>().await.expect("load");
    let choices = bot
        .autocomplete(
            "buy",
            "fruit",
            "a",
            &[("limit", ArgValue::Integer(2))],
            tester(),
        )
        .await
        .expect("suggestions");
    let names: Vec<&str> = choices.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["APPLE", "APRICOT"]);
    let many = bot
        .autocomplete("buy", "fruit", "many", &[], tester())
        .await
        .expect("many");
    assert_eq!(many.len(), 25);
    assert!(matches!(
        bot.autocomplete("buy", "limit", "1", &[], tester()).await,
        Err(TestError::NoHandler(_))
    ));

    // Showing a modal is a call action; submitting it reaches the modal handler.
    bot.run("feedback").await.expect("feedback");
    let shown: Vec<CallAction> = bot.call_actions();
    match shown.as_slice() {
        [CallAction::Modal { modal }] => {
            assert_eq!(modal.custom_id, "feedback:command");
            assert_eq!(modal.inputs.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    let replies = bot
        .submit_modal(
            "feedback:command",
            &[("topic", "docs"), ("body", "more")],
            tester(),
        )
        .await
        .expect("submit");
    assert_eq!(text(&replies), ["feedback:command: topic=docs body=more"]);

    let member = TargetUser {
        user: User {
            id: UserId(9),
            name: "target".into(),
            bot: false,
        },
        member: None,
    };
    assert_eq!(
        text(
            &bot.user_command("Inspect", member, tester())
                .await
                .expect("inspect")
        ),
        ["tester is target (member: false)"]
    );
    let message = ChannelMessage {
        id: MessageId(3),
        channel_id: ChannelId(1),
        content: "quote me".into(),
        author: User {
            id: UserId(9),
            name: "target".into(),
            bot: false,
        },
        ..ChannelMessage::default()
    };
    assert_eq!(
        text(
            &bot.message_command("Quote", message, tester())
                .await
                .expect("quote")
        ),
        ["> quote me (by target)"]
    );
}
