//! The scripting calls that play other people: users editing, deleting and posting files,
//! members in voice. Each event over a real gateway socket, parsed by serenity, sent only to
//! sessions with its intent.

mod support;

use std::time::Duration;

use serenity::model::event::Event;
use support::{Api, RawGateway, start};
use zoryx_sim::{SimError, Simulator};

/// GUILDS | GUILD_MEMBERS | GUILD_VOICE_STATES | GUILD_MESSAGES | DIRECT_MESSAGES |
/// MESSAGE_CONTENT.
const INTENTS: u64 = 1 | 2 | (1 << 7) | (1 << 9) | (1 << 12) | (1 << 15);

async fn gateway(sim: &Simulator, intents: u64) -> RawGateway {
    let mut gw = RawGateway::connect(sim).await;
    gw.login(sim, intents).await;
    gw
}

#[tokio::test]
async fn users_edit_and_delete_messages_and_post_files() {
    let sim = start().await;
    let mut gw = gateway(&sim, INTENTS).await;
    let channel = sim.default_channel();
    let guest = sim.guest().id;
    let owner = sim.owner().id;

    let files = sim
        .inject_files(
            channel,
            guest,
            "look",
            &[("cat.png", 2048), ("notes.txt", 12)],
        )
        .await
        .expect("files");
    let (_, data, event) = gw.dispatch("MESSAGE_CREATE").await;
    let Event::MessageCreate(created) = event else {
        panic!("{data}")
    };
    let names: Vec<(&str, u32)> = created
        .message
        .attachments
        .iter()
        .map(|a| (a.filename.as_str(), a.size))
        .collect();
    assert_eq!(names, [("cat.png", 2048), ("notes.txt", 12)]);
    assert_eq!(created.message.id.get(), files);

    sim.inject_edit(files, guest, "look again")
        .await
        .expect("edit");
    let (_, data, event) = gw.dispatch("MESSAGE_UPDATE").await;
    let Event::MessageUpdate(update) = event else {
        panic!("{data}")
    };
    assert_eq!(update.id.get(), files);
    assert_eq!(update.content.as_deref(), Some("look again"));
    assert!(update.edited_timestamp.is_some(), "{data}");
    assert_eq!(update.author.map(|a| a.id.get()), Some(guest));
    assert_eq!(update.attachments.map(|a| a.len()), Some(2));
    assert_eq!(sim.message(files).expect("kept").content, "look again");

    // Only the author edits; only the author or a moderator deletes.
    let theirs = sim
        .inject_message(channel, owner, "mine")
        .await
        .expect("message");
    gw.dispatch("MESSAGE_CREATE").await;
    assert!(matches!(
        sim.inject_edit(theirs, guest, "not yours").await,
        Err(SimError::Invalid(_))
    ));
    assert!(matches!(
        sim.inject_delete(theirs, guest).await,
        Err(SimError::Invalid(_))
    ));
    assert!(matches!(
        sim.inject_edit(1, guest, "x").await,
        Err(SimError::Unknown {
            kind: "message",
            ..
        })
    ));
    sim.inject_delete(files, guest).await.expect("own message");
    let (_, data, event) = gw.dispatch("MESSAGE_DELETE").await;
    let Event::MessageDelete(deleted) = event else {
        panic!("{data}")
    };
    assert_eq!(deleted.message_id.get(), files);
    // The owner (all permissions) deletes someone else's.
    let guests = sim
        .inject_message(channel, guest, "spam")
        .await
        .expect("message");
    gw.dispatch("MESSAGE_CREATE").await;
    sim.inject_delete(guests, owner).await.expect("moderator");
    let (_, data, _) = gw.dispatch("MESSAGE_DELETE").await;
    assert_eq!(data["id"], guests.to_string());
    assert!(sim.message(guests).is_none());
    assert!(sim.message(theirs).is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn members_join_move_and_leave_voice() {
    // Two sessions of shard 0 identify one after the other: no 5 s between them here.
    let sim = Simulator::start(zoryx_sim::SimConfig {
        identify_interval: Duration::ZERO,
        ..zoryx_sim::SimConfig::default()
    })
    .await
    .expect("simulator");
    let guild = sim.default_guild();
    let guest = sim.guest().id;
    let lounge = sim.add_voice_channel(guild, "Lounge").expect("voice");
    let stage = sim.add_voice_channel(guild, "Stage").expect("voice");
    // A session without GUILD_VOICE_STATES hears nothing of it.
    let mut deaf = gateway(&sim, 1 | (1 << 9)).await;
    let mut gw = gateway(&sim, INTENTS).await;

    sim.inject_voice_join(guild, lounge, guest)
        .await
        .expect("join");
    let (_, data, event) = gw.dispatch("VOICE_STATE_UPDATE").await;
    let Event::VoiceStateUpdate(joined) = event else {
        panic!("{data}")
    };
    let state = joined.voice_state;
    assert_eq!(state.channel_id.map(|c| c.get()), Some(lounge));
    assert_eq!(state.guild_id.map(|g| g.get()), Some(guild));
    assert_eq!(state.user_id.get(), guest);
    assert_eq!(state.member.map(|m| m.user.id.get()), Some(guest));
    assert_eq!(sim.voice_channel(guild, guest), Some(lounge));
    let session = data["session_id"].clone();

    assert!(matches!(
        sim.inject_voice_join(guild, stage, guest).await,
        Err(SimError::Invalid(_))
    ));
    sim.inject_voice_move(guild, stage, guest)
        .await
        .expect("move");
    let (_, data, _) = gw.dispatch("VOICE_STATE_UPDATE").await;
    assert_eq!(data["channel_id"], stage.to_string());
    assert_eq!(data["session_id"], session, "a move keeps the session");

    // A reconnecting bot learns who is in voice from GUILD_CREATE.
    let mut late = RawGateway::connect(&sim).await;
    late.login(&sim, INTENTS).await;
    let (_, data, event) = late.dispatch("GUILD_CREATE").await;
    assert_eq!(data["voice_states"][0]["channel_id"], stage.to_string());
    let Event::GuildCreate(created) = event else {
        panic!("{data}")
    };
    assert!(
        created
            .guild
            .voice_states
            .values()
            .any(|v| v.channel_id.map(|c| c.get()) == Some(stage))
    );

    sim.inject_voice_leave(guild, guest).await.expect("leave");
    let (_, data, _) = gw.dispatch("VOICE_STATE_UPDATE").await;
    assert!(data["channel_id"].is_null(), "{data}");
    assert_eq!(sim.voice_channel(guild, guest), None);
    assert!(matches!(
        sim.inject_voice_leave(guild, guest).await,
        Err(SimError::Invalid(_))
    ));
    assert!(matches!(
        sim.inject_voice_move(guild, lounge, guest).await,
        Err(SimError::Invalid(_))
    ));
    // Text channels are not for voice.
    assert!(matches!(
        sim.inject_voice_join(guild, sim.default_channel(), guest)
            .await,
        Err(SimError::Invalid(_))
    ));

    // Kicked while in voice: disconnected first, then removed.
    sim.inject_voice_join(guild, lounge, guest)
        .await
        .expect("join");
    gw.dispatch("VOICE_STATE_UPDATE").await;
    let api = Api::new(&sim);
    api.expect(
        "DELETE",
        &format!("/guilds/{guild}/members/{guest}"),
        None,
        204,
    )
    .await;
    let names = gw.drain(Duration::from_millis(300)).await;
    assert_eq!(names, ["VOICE_STATE_UPDATE", "GUILD_MEMBER_REMOVE"]);
    assert_eq!(sim.voice_channel(guild, guest), None);

    // Deleting a voice channel disconnects whoever is in it.
    let owner = sim.owner().id;
    sim.inject_voice_join(guild, stage, owner)
        .await
        .expect("join");
    gw.dispatch("VOICE_STATE_UPDATE").await;
    let (status, _, _) = api
        .call("DELETE", &format!("/channels/{stage}"), None)
        .await;
    assert_eq!(status, 200);
    let names = gw.drain(Duration::from_millis(300)).await;
    assert_eq!(names, ["VOICE_STATE_UPDATE", "CHANNEL_DELETE"]);

    let heard = deaf.drain(Duration::from_millis(300)).await;
    assert!(
        !heard.iter().any(|n| n == "VOICE_STATE_UPDATE"),
        "{heard:?}"
    );
    sim.shutdown().await;
}
