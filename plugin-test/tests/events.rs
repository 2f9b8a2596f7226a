//! Events reach a plugin's listeners in-process, the kinds of plugin-api 1.3 included: the
//! listeners run through the same JSON path as in a library, with everything the events carry.

use std::sync::Mutex;

use zoryx_plugin_api::events::{UserReaction, VoiceState};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{Attachment, IncomingMessage, Role};
use zoryx_plugin_test::{PluginTest, TestError};

/// Writes down what its listeners saw; `seen` tells.
#[derive(Default)]
struct Diary {
    lines: Mutex<Vec<String>>,
}

impl Diary {
    fn note(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line);
        }
    }
}

async fn note(ctx: PluginContext<Diary>, event: Event) -> PluginResult {
    let line = match event {
        Event::MessageCreate(m) => format!(
            "message {} files={:?} reply_to={:?}",
            m.content,
            m.attachments
                .iter()
                .map(|a| a.filename.as_str())
                .collect::<Vec<_>>(),
            m.reply_to.map(|r| r.0),
        ),
        Event::ReactionAdd(r) if r.is("👋") => format!("wave from {}", r.user_id),
        Event::ReactionAdd(r) => format!("reaction {}", r.emoji),
        Event::VoiceStateUpdate(v) => match (v.joined(), v.left()) {
            (Some(c), _) => format!("{} joined {c}", v.user_id),
            (_, Some(c)) => format!("{} left {c}", v.user_id),
            _ => format!("{} moved", v.user_id),
        },
        Event::RoleCreate { role, .. } => format!("role {}", role.name),
        Event::Ready { .. } => "ready".to_owned(),
        // Listened to, to show how a listener's error comes back.
        other => return Err(PluginError::user(format!("unexpected {other:?}"))),
    };
    ctx.data().note(line);
    Ok(())
}

impl Plugin for Diary {
    fn manifest() -> Manifest {
        Manifest::new("diary", "1.0.0")
    }

    fn register(plugin: &mut Registrar<Self>) {
        for kind in [
            EventKind::Ready,
            EventKind::MessageCreate,
            EventKind::ReactionAdd,
            EventKind::VoiceStateUpdate,
            EventKind::RoleCreate,
            EventKind::BanAdd,
        ] {
            plugin.listen(kind, note);
        }
        plugin.command(
            CommandSpec::new("seen"),
            |ctx: CommandContext<Diary>| async move {
                let lines = ctx
                    .data()
                    .lines
                    .lock()
                    .map(|l| l.join("\n"))
                    .unwrap_or_default();
                ctx.reply(lines).await?;
                Ok(())
            },
        );
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Diary::default())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn listeners_get_every_kind_with_everything_it_carries() {
    let bot = PluginTest::new::<Diary>().await.expect("load");
    let events = [
        Event::Ready {
            user: User::default(),
            guild_count: 1,
        },
        Event::MessageCreate(IncomingMessage {
            content: "hi".into(),
            attachments: vec![Attachment {
                filename: "cat.png".into(),
                size: 10,
                ..Attachment::default()
            }],
            reply_to: Some(MessageId(7)),
            ..IncomingMessage::default()
        }),
        Event::ReactionAdd(UserReaction {
            user_id: UserId(3),
            emoji: "👋".into(),
            ..UserReaction::default()
        }),
        Event::ReactionAdd(UserReaction {
            emoji: "party:12".into(),
            ..UserReaction::default()
        }),
        Event::VoiceStateUpdate(VoiceState {
            user_id: UserId(3),
            channel_id: Some(ChannelId(9)),
            ..VoiceState::default()
        }),
        Event::VoiceStateUpdate(VoiceState {
            user_id: UserId(3),
            previous: Some(ChannelId(9)),
            ..VoiceState::default()
        }),
        Event::RoleCreate {
            guild_id: GuildId(1),
            role: Role {
                name: "Helpers".into(),
                ..Role::default()
            },
        },
    ];
    for event in &events {
        bot.event(event).await.expect("listener");
    }
    let seen = bot.run("seen").await.expect("seen");
    assert_eq!(
        seen[0].content.as_deref(),
        Some(
            "ready\nmessage hi files=[\"cat.png\"] reply_to=Some(7)\nwave from 3\n\
             reaction party:12\n3 joined 9\n3 left 9\nrole Helpers"
        )
    );

    // A kind nobody listens to goes nowhere; a listener's error is the test's.
    assert!(
        bot.event(&Event::MemberUpdate(Default::default()))
            .await
            .is_ok()
    );
    let refused = bot
        .event(&Event::BanAdd {
            guild_id: GuildId(1),
            user: User::default(),
        })
        .await;
    assert!(
        matches!(&refused, Err(TestError::Failed(e)) if e.to_string().contains("unexpected BanAdd")),
        "{refused:?}"
    );
}
