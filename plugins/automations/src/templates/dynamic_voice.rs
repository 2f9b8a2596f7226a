//! Dynamic voice channels: joining the hub creates a personal voice channel and moves the
//! member there; the channel is deleted when the last member leaves.
//!
//! The plugin API reads no voice states, so who is in a room is counted here from the voice
//! updates the automation sees: the guild's `voice_rooms` table holds each room (automation,
//! channel, owner, created_at) and `voice_room_members` who is in it. A member's rows follow
//! where they are now (a member is in one voice channel at most), so a missed update is put
//! right by their next one. A room found empty is looked at again three seconds later (updates
//! are handled side by side, so someone's join may still be on its way) and deleted if it still
//! is. What this cannot see is a member who passes none of the automation's conditions: keep
//! conditions for who may create rooms off such automations (they take no cooldown).

use std::time::Duration;

use serde::Deserialize;
use zoryx_plugin_api::events::VoiceState;
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{ChannelKind, Overwrite, OverwriteTarget};

use super::Run;
use crate::settings::{Key, Kind};
use crate::store;

pub(crate) const KEYS: &[Key] = &[
    Key::required(
        "hub",
        Kind::Voice,
        "the voice channel members join to get their own",
    ),
    Key::optional(
        "category",
        Kind::Category,
        "where the channels go (the hub's category)",
    ),
    Key::optional(
        "name",
        Kind::Text,
        "the channel's name; {user} is filled in ({user}'s room)",
    ),
];

pub(crate) const EVENTS: &[EventKind] = &[EventKind::VoiceStateUpdate];

const NAME: &str = "{user}'s room";
/// How long a room stays empty before it is deleted.
const GRACE: Duration = Duration::from_secs(3);
/// What the owner may do in their room.
const OWNER: Permissions =
    Permissions(Permissions::MANAGE_CHANNELS.0 | Permissions::MOVE_MEMBERS.0);

/// The guild's tables: rooms, and who is in them.
async fn tables(host: &Host, guild: u64) -> PluginResult<(String, String)> {
    let rooms = store::table(
        host,
        guild,
        "voice_rooms",
        "channel INTEGER PRIMARY KEY,
         automation INTEGER NOT NULL,
         owner INTEGER NOT NULL,
         created_at INTEGER NOT NULL",
    )
    .await?;
    let members = store::table(
        host,
        guild,
        "voice_room_members",
        "channel INTEGER NOT NULL,
         user INTEGER NOT NULL,
         PRIMARY KEY (channel, user)",
    )
    .await?;
    Ok((rooms, members))
}

#[derive(Deserialize)]
struct Room {
    channel: u64,
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

/// The room's name: the setting with `{user}` filled in, 1 to 100 characters.
fn room_name(template: &str, user: &str) -> String {
    let name: String = template
        .replace("{user}", user)
        .trim()
        .chars()
        .take(100)
        .collect();
    let name = name.trim().to_owned();
    if name.is_empty() {
        "room".to_owned()
    } else {
        name
    }
}

/// The room's overwrites: its category's (a channel made with overwrites does not follow its
/// category), and the owner's right to manage it and move members.
fn room_overwrites(parent: &[Overwrite], owner: UserId) -> Vec<Overwrite> {
    let mut out = parent.to_vec();
    match out
        .iter_mut()
        .find(|o| o.target == OverwriteTarget::Member(owner))
    {
        Some(o) => {
            o.allow |= OWNER;
            o.deny = Permissions(o.deny.0 & !OWNER.0);
        }
        None => out.push(Overwrite {
            target: OverwriteTarget::Member(owner),
            allow: OWNER,
            deny: Permissions::NONE,
        }),
    }
    out
}

pub(crate) async fn handle(run: &Run<'_>, event: &Event) -> PluginResult<bool> {
    let Event::VoiceStateUpdate(state) = event else {
        return Ok(false);
    };
    let Some(hub) = run.automation.settings.channel("hub") else {
        return Ok(false);
    };
    let host = run.host;
    let guild = run.guild.id();
    let (rooms, members) = tables(host, guild.0).await?;
    let sql = host.sql(guild);
    let user = state.user_id.0;
    let now_in = state.channel_id.map_or(0, |c| c.0);
    let mut acted = false;

    // Left: the rooms they were counted in, and the one they were in, other than where they
    // are now.
    let mut left: Vec<u64> = sql
        .query_as::<Room, _>(
            &format!(
                "SELECT m.channel FROM {members} m JOIN {rooms} r ON r.channel = m.channel
                 WHERE r.automation = ?1 AND m.user = ?2 AND m.channel != ?3"
            ),
            (run.automation.id, user, now_in),
        )
        .await?
        .into_iter()
        .map(|r| r.channel)
        .collect();
    if let Some(previous) = state.previous
        && previous.0 != now_in
        && !left.contains(&previous.0)
        && is_room(run, &rooms, previous.0).await?
    {
        left.push(previous.0);
    }
    for room in left {
        sql.execute(
            &format!("DELETE FROM {members} WHERE channel = ?1 AND user = ?2"),
            (room, user),
        )
        .await?;
        if occupants(run, &members, room).await? == 0 {
            // Updates are handled side by side: a join of this moment may not be counted yet.
            host.sleep(GRACE).await;
            if occupants(run, &members, room).await? == 0 {
                delete_room(run, &rooms, &members, room).await?;
                acted = true;
            }
        }
    }

    // Joined: the hub makes a room; a room counts them in.
    match state.channel_id {
        Some(channel) if channel == hub => {
            acted |= create_room(run, state, &rooms, &members).await?
        }
        Some(channel) if is_room(run, &rooms, channel.0).await? => {
            sql.execute(
                &format!("INSERT OR IGNORE INTO {members} (channel, user) VALUES (?1, ?2)"),
                (channel.0, user),
            )
            .await?;
        }
        _ => {}
    }
    Ok(acted)
}

/// How many members are counted in `room`.
async fn occupants(run: &Run<'_>, members: &str, room: u64) -> PluginResult<u64> {
    Ok(run
        .host
        .sql(run.guild.id())
        .query_as::<Count, _>(
            &format!("SELECT COUNT(*) AS n FROM {members} WHERE channel = ?1"),
            [room],
        )
        .await?
        .first()
        .map_or(0, |c| c.n))
}

/// Whether `channel` is a room of this automation.
async fn is_room(run: &Run<'_>, rooms: &str, channel: u64) -> PluginResult<bool> {
    Ok(!run
        .host
        .sql(run.guild.id())
        .query_as::<Room, _>(
            &format!("SELECT channel FROM {rooms} WHERE channel = ?1 AND automation = ?2"),
            (channel, run.automation.id),
        )
        .await?
        .is_empty())
}

async fn create_room(
    run: &Run<'_>,
    state: &VoiceState,
    rooms: &str,
    members: &str,
) -> PluginResult<bool> {
    let host = run.host;
    let settings = &run.automation.settings;
    let member = match &state.member {
        Some(member) => member.clone(),
        None => run.guild.member(state.user_id).await?,
    };
    if member.user.bot {
        return Ok(false);
    }
    // Both are needed (the owner is granted Move Members in the room, which only a bot that
    // has it may do): named up front, before anything is made.
    let held = run.guild.bot_permissions(None).await?;
    for (needed, action) in [
        (Permissions::MANAGE_CHANNELS, "create a channel"),
        (Permissions::MOVE_MEMBERS, "move a member in voice"),
    ] {
        if !held.contains(needed) {
            return Err(PluginError::MissingPermission {
                action: action.to_owned(),
                permission: needed.names().join(", "),
            });
        }
    }
    let shown = member
        .nick
        .clone()
        .unwrap_or_else(|| member.user.name.clone());
    let name = room_name(
        &settings.text("name").unwrap_or_else(|| NAME.to_owned()),
        &shown,
    );
    let channels = run.guild.channels().await?;
    let hub = channels
        .iter()
        .find(|c| Some(c.id) == settings.channel("hub"));
    let parent = settings
        .channel("category")
        .or_else(|| hub.and_then(|h| h.parent_id));
    let inherited = parent
        .and_then(|p| channels.iter().find(|c| c.id == p))
        .map(|c| c.overwrites.clone())
        .unwrap_or_default();
    let mut spec = ChannelSpec::named(name)
        .kind(ChannelKind::Voice)
        .overwrites(room_overwrites(&inherited, state.user_id));
    if let Some(parent) = parent {
        spec = spec.parent(parent);
    }
    let room = run.guild.create_channel(spec).await?.id;
    let sql = host.sql(run.guild.id());
    sql.execute(
        &format!(
            "INSERT INTO {rooms} (channel, automation, owner, created_at) VALUES (?1, ?2, ?3, ?4)"
        ),
        (room.0, run.automation.id, state.user_id.0, run.now),
    )
    .await?;
    sql.execute(
        &format!("INSERT OR IGNORE INTO {members} (channel, user) VALUES (?1, ?2)"),
        (room.0, state.user_id.0),
    )
    .await?;
    let reason = format!("automation `{}`", run.automation.name);
    if let Err(error) = run
        .guild
        .move_member(state.user_id, Some(room), &reason)
        .await
    {
        // Nothing half made stays behind.
        if let Err(e) = delete_room(run, rooms, members, room.0).await {
            host.warn(format!("voice room {} was left behind: {e}", room.0));
        }
        return Err(error);
    }
    host.debug(format!(
        "automation `{}`: room {} made for {} in guild {}",
        run.automation.name,
        room.0,
        state.user_id.0,
        run.guild.id().0
    ));
    Ok(true)
}

/// The automation is turned off or deleted: its empty rooms go (nothing would delete them
/// later); rooms with members in them stay as ordinary channels and are forgotten.
pub(crate) async fn stopped(run: &Run<'_>) -> PluginResult {
    let (rooms, members) = tables(run.host, run.guild.id().0).await?;
    let sql = run.host.sql(run.guild.id());
    let mine: Vec<Room> = sql
        .query_as(
            &format!("SELECT channel FROM {rooms} WHERE automation = ?1"),
            [run.automation.id],
        )
        .await?;
    for room in mine {
        if occupants(run, &members, room.channel).await? == 0 {
            delete_room(run, &rooms, &members, room.channel).await?;
        } else {
            sql.execute(
                &format!("DELETE FROM {members} WHERE channel = ?1"),
                [room.channel],
            )
            .await?;
            sql.execute(
                &format!("DELETE FROM {rooms} WHERE channel = ?1"),
                [room.channel],
            )
            .await?;
        }
    }
    Ok(())
}

/// Deletes a room and forgets it (a room deleted by hand already is forgotten too).
async fn delete_room(run: &Run<'_>, rooms: &str, members: &str, room: u64) -> PluginResult {
    match run.host.delete_channel(ChannelId(room)).await {
        Ok(()) | Err(PluginError::Discord { code: 10003, .. }) => {}
        Err(error) => return Err(error),
    }
    let sql = run.host.sql(run.guild.id());
    sql.execute(&format!("DELETE FROM {members} WHERE channel = ?1"), [room])
        .await?;
    sql.execute(&format!("DELETE FROM {rooms} WHERE channel = ?1"), [room])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_fill_the_user_in_and_fit() {
        assert_eq!(room_name(NAME, "Ada"), "Ada's room");
        assert_eq!(room_name("🎧 {user}", "Ada"), "🎧 Ada");
        assert_eq!(room_name("{user}", "  "), "room");
        assert_eq!(
            room_name(&"x{user}".repeat(30), "abcd").chars().count(),
            100
        );
    }

    #[test]
    fn the_owner_may_manage_and_move_in_the_category_permissions() {
        let everyone = Overwrite {
            target: OverwriteTarget::Role(RoleId(1)),
            allow: Permissions::NONE,
            deny: Permissions::VIEW_CHANNEL,
        };
        let owner = Overwrite {
            target: OverwriteTarget::Member(UserId(7)),
            allow: Permissions::SPEAK,
            deny: Permissions::MOVE_MEMBERS,
        };
        let out = room_overwrites(&[everyone, owner], UserId(7));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], everyone);
        assert_eq!(out[1].allow, Permissions::SPEAK | OWNER);
        assert!(out[1].deny.is_empty());
        let fresh = room_overwrites(&[], UserId(8));
        assert_eq!(fresh[0].target, OverwriteTarget::Member(UserId(8)));
        assert_eq!(fresh[0].allow, OWNER);
    }
}
