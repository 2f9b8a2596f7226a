//! The first-party plugins, loaded as libraries: commands, listeners, buttons routed back;
//! in-process and isolated.

mod support;

use std::sync::Arc;

use support::{Collect, Mode, TestHost, request};
use zoryx_host::gate::Refusal;
use zoryx_host::runtime::CommandOutcome;
use zoryx_plugin_api::{
    ChannelId, Component, Event, IncomingMessage, Interaction, InteractionKind, Invocation,
    MessageId, Source, User, UserId,
};

fn user(id: u64) -> User {
    User {
        id: UserId(id),
        name: format!("user{id}"),
        bot: false,
    }
}

async fn hello_activity_and_polls(mode: Mode) {
    let host = TestHost::in_mode(
        &[
            ("plugin-hello.so", "hello.so"),
            ("plugin-activity.so", "activity.so"),
            ("plugin-polls.so", "polls.so"),
        ],
        mode,
    );
    let report = host.manager.load_all().await;
    assert_eq!(report.loaded.len(), 3, "{:?}", report.refused);

    assert_eq!(
        host.call("hello", "<@42>").await.1,
        vec!["Hello, <@42>! (1 greeted so far)"]
    );
    assert_eq!(host.call("echo", "some  text").await.1, vec!["some  text"]);

    for (id, n) in [(1, 3), (2, 1)] {
        for i in 0..n {
            let event = Event::MessageCreate(IncomingMessage {
                id: MessageId(i),
                channel_id: ChannelId(5),
                guild_id: None,
                author: user(id),
                content: "hi".into(),
                ..IncomingMessage::default()
            });
            host.manager.dispatcher().dispatch_event(&event).await;
        }
    }
    let sink = Arc::new(Collect::default());
    let outcome = host
        .manager
        .dispatcher()
        .invoke(request("top", "2", false), sink.clone())
        .await;
    assert!(
        matches!(outcome, CommandOutcome::Done { .. }),
        "{outcome:?}"
    );
    let replies = sink.0.lock().expect("lock").clone();
    let embed = &replies[0].embeds[0];
    assert_eq!(embed.fields[0].name, "#1 user1");
    assert_eq!(embed.fields[0].value, "3 messages");

    // A poll, then a click on its second button, routed back to the polls plugin.
    let sink = Arc::new(Collect::default());
    host.manager
        .dispatcher()
        .invoke(
            request("poll", r#""Lunch?" pizza | sushi"#, false),
            sink.clone(),
        )
        .await;
    let poll = sink.0.lock().expect("lock")[0].clone();
    let Component::Button(button) = &poll.components[1] else {
        panic!("{poll:?}")
    };
    assert_eq!(button.custom_id, "polls:1:1");
    let interaction = Interaction {
        id: 1,
        kind: InteractionKind::Component,
        name: button.custom_id.clone(),
        values: vec![],
        user: user(9),
        channel_id: ChannelId(5),
        guild_id: None,
    };
    let invocation = Invocation {
        command: String::new(),
        author: user(9),
        guild_id: None,
        channel_id: ChannelId(5),
        message_id: None,
        is_owner: false,
        source: Source::Slash,
    };
    let click = Arc::new(Collect::default());
    let result = host
        .manager
        .dispatcher()
        .component(&interaction, &invocation, click.clone())
        .await;
    assert!(matches!(result, Some(Ok(()))), "{result:?}");
    let vote = click.0.lock().expect("lock")[0].clone();
    assert!(vote.ephemeral);
    assert_eq!(vote.embeds[0].fields[1].value, "1 vote(s)");

    // Closing needs a moderator.
    let (outcome, _) = support::call_as(&host.manager, "closepoll", "1", false).await;
    assert!(
        matches!(
            outcome,
            CommandOutcome::Refused(Refusal::Level { .. } | Refusal::OwnerOnly)
        ),
        "{outcome:?}"
    );

    // Once polls is unloaded, its buttons route nowhere.
    host.manager.unload("polls", false).await.expect("unload");
    let result = host
        .manager
        .dispatcher()
        .component(&interaction, &invocation, click.clone())
        .await;
    assert!(result.is_none());
}

both_modes!(hello_activity_and_polls,);
