//! Restoring a snapshot: a plan first (what would be created or updated, shown before anything
//! changes), then the steps one by one with a journal.
//!
//! Every step is "make this item of the snapshot exist as it was": a role, the order of the
//! roles, a channel (categories first), the server's settings, the bot's settings, one member's
//! roles, an emoji. An item is found by its id, then by name (and kind), and only
//! then created, so a step can run twice without making anything twice. The journal
//! (`<guild>/restore.json`) records the step about to run before it runs and the ids each created
//! item got after; a restore interrupted at any point (a crash, a restart, a kill) starts again at
//! the recorded step, where the lookup by name finds what the interrupted step may have made.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::{
    BotGuildSettings, Channel, ChannelId, ChannelSpec, Emoji, GuildHandle, GuildInfo, GuildSpec,
    Host, Overwrite, OverwriteTarget, Permissions, PluginError, PluginResult, Role, RoleId,
    RoleSpec, UserId,
};

use crate::snapshot::{ChannelSnap, EmojiSnap, RoleSnap, Snapshot};

/// What a restore brings back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Parts {
    pub(crate) roles: bool,
    pub(crate) channels: bool,
    pub(crate) members: bool,
    /// The server's settings and the bot's own.
    pub(crate) settings: bool,
    pub(crate) emojis: bool,
}

impl Parts {
    /// `all`, or a list of `roles`, `channels`, `members`, `settings`, `emojis` (commas or
    /// spaces).
    pub(crate) fn parse(text: &str) -> PluginResult<Self> {
        let text = text.trim().to_ascii_lowercase();
        if text.is_empty() || text == "all" {
            return Ok(Self {
                roles: true,
                channels: true,
                members: true,
                settings: true,
                emojis: true,
            });
        }
        let mut parts = Self {
            roles: false,
            channels: false,
            members: false,
            settings: false,
            emojis: false,
        };
        for word in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            match word {
                "roles" | "role" => parts.roles = true,
                "channels" | "channel" => parts.channels = true,
                "members" | "member" | "member_roles" => parts.members = true,
                "settings" | "setting" => parts.settings = true,
                "emojis" | "emoji" => parts.emojis = true,
                other => {
                    return Err(PluginError::user(format!(
                        "`{other}` is not a part of a backup: roles, channels, members, \
                         settings, emojis or all"
                    )));
                }
            }
        }
        Ok(parts)
    }

    /// The parts as one letter each (`rcmse`), for a button's custom id.
    pub(crate) fn code(self) -> String {
        [
            (self.roles, 'r'),
            (self.channels, 'c'),
            (self.members, 'm'),
            (self.settings, 's'),
            (self.emojis, 'e'),
        ]
        .into_iter()
        .filter_map(|(on, letter)| on.then_some(letter))
        .collect()
    }

    /// The parts [`Parts::code`] wrote.
    pub(crate) fn from_code(code: &str) -> Self {
        Self {
            roles: code.contains('r'),
            channels: code.contains('c'),
            members: code.contains('m'),
            settings: code.contains('s'),
            emojis: code.contains('e'),
        }
    }

    pub(crate) fn describe(self) -> String {
        let mut names = Vec::new();
        if self.roles {
            names.push("roles");
        }
        if self.channels {
            names.push("channels");
        }
        if self.members {
            names.push("member roles");
        }
        if self.settings {
            names.push("settings");
        }
        if self.emojis {
            names.push("emojis");
        }
        names.join(", ")
    }
}

/// One step: make an item of the snapshot exist as it was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step", content = "id")]
pub(crate) enum Step {
    Role(u64),
    /// The order of the roles.
    Positions,
    Channel(u64),
    /// The server's settings (name, description, safety, AFK and system channels).
    Settings,
    /// The bot's own settings for the server.
    BotSettings,
    Member(u64),
    Emoji(u64),
}

/// The plan as shown before a restore: counts of what would change.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    pub(crate) create_roles: usize,
    pub(crate) update_roles: usize,
    pub(crate) create_channels: usize,
    pub(crate) update_channels: usize,
    pub(crate) members: usize,
    /// Members of the snapshot no longer in the server.
    pub(crate) members_gone: usize,
    /// Roles managed by an integration: never recreated.
    pub(crate) managed: usize,
    /// Whether the roles' order changes.
    pub(crate) positions: bool,
    /// What of the server's settings and the bot's changes, in words.
    pub(crate) settings: Vec<&'static str>,
    pub(crate) emojis: usize,
}

/// The journal of a restore in progress or finished.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Journal {
    pub(crate) backup: String,
    pub(crate) steps: Vec<Step>,
    /// The step about to run (or running when the bot stopped).
    pub(crate) next: usize,
    /// Snapshot role id → live role id.
    pub(crate) roles: BTreeMap<u64, u64>,
    /// Snapshot channel id → live channel id.
    pub(crate) channels: BTreeMap<u64, u64>,
    /// `running`, `done` or `cancelled`.
    pub(crate) status: String,
    pub(crate) started_at: u64,
    pub(crate) created: usize,
    pub(crate) updated: usize,
    /// Items that could not be restored, with the reason.
    pub(crate) skipped: Vec<String>,
    /// The progress message: channel and message ids.
    pub(crate) progress: Option<(u64, u64)>,
    /// Who asked.
    pub(crate) user: u64,
    /// Tries of the step at `next` that met a passing error (a rate limit, a time-out).
    #[serde(default)]
    pub(crate) retries: u32,
}

pub(crate) fn journal_path(guild: u64) -> String {
    format!("{guild}/restore.json")
}

pub(crate) async fn journal(host: &Host, guild: u64) -> PluginResult<Option<Journal>> {
    host.files().read(&journal_path(guild)).await
}

pub(crate) async fn save_journal(host: &Host, guild: u64, journal: &Journal) -> PluginResult {
    host.files().write(&journal_path(guild), journal).await
}

fn role_differs(live: &Role, snap: &RoleSnap) -> bool {
    live.name != snap.name
        || live.colour != snap.colour
        || live.permissions.0 != snap.permissions
        || live.hoist != snap.hoist
        || live.mentionable != snap.mentionable
}

fn role_spec(snap: &RoleSnap) -> RoleSpec {
    RoleSpec {
        name: Some(snap.name.clone()),
        permissions: Some(Permissions(snap.permissions)),
        colour: Some(snap.colour),
        hoist: Some(snap.hoist),
        mentionable: Some(snap.mentionable),
    }
}

/// The live role that stands for `snap`: the one mapped, the one with its id, or the first one
/// of its name not standing for another.
fn find_role<'a>(live: &'a [Role], snap: &RoleSnap, map: &BTreeMap<u64, u64>) -> Option<&'a Role> {
    let taken = |id: u64| map.iter().any(|(s, l)| *l == id && *s != snap.id);
    map.get(&snap.id)
        .and_then(|id| live.iter().find(|r| r.id.0 == *id))
        .or_else(|| live.iter().find(|r| r.id.0 == snap.id))
        .or_else(|| {
            live.iter()
                .find(|r| r.name == snap.name && !r.managed && !taken(r.id.0))
        })
}

fn find_channel<'a>(
    live: &'a [Channel],
    snap: &ChannelSnap,
    map: &BTreeMap<u64, u64>,
) -> Option<&'a Channel> {
    let taken = |id: u64| map.iter().any(|(s, l)| *l == id && *s != snap.id);
    map.get(&snap.id)
        .and_then(|id| live.iter().find(|c| c.id.0 == *id))
        .or_else(|| live.iter().find(|c| c.id.0 == snap.id))
        .or_else(|| {
            live.iter()
                .find(|c| c.name == snap.name && c.kind == snap.kind && !taken(c.id.0))
        })
}

/// The overwrites of `snap` with roles as they are now (roles not restored are left out).
fn overwrites(
    snap: &ChannelSnap,
    guild: u64,
    snapshot_guild: u64,
    roles: &BTreeMap<u64, u64>,
) -> Vec<Overwrite> {
    let mut out: Vec<Overwrite> = snap
        .overwrites
        .iter()
        .filter_map(|o| {
            let target = if o.kind == "member" {
                OverwriteTarget::Member(UserId(o.id))
            } else if o.id == snapshot_guild {
                OverwriteTarget::Role(RoleId(guild))
            } else {
                OverwriteTarget::Role(RoleId(*roles.get(&o.id)?))
            };
            Some(Overwrite {
                target,
                allow: Permissions(o.allow),
                deny: Permissions(o.deny),
            })
        })
        .collect();
    out.sort_by_key(|o| match o.target {
        OverwriteTarget::Role(r) => (0, r.0),
        OverwriteTarget::Member(u) => (1, u.0),
    });
    out
}

fn sorted(mut list: Vec<Overwrite>) -> Vec<Overwrite> {
    list.sort_by_key(|o| match o.target {
        OverwriteTarget::Role(r) => (0, r.0),
        OverwriteTarget::Member(u) => (1, u.0),
    });
    list
}

fn channel_spec(
    snap: &ChannelSnap,
    parent: Option<u64>,
    overwrites: Vec<Overwrite>,
) -> ChannelSpec {
    ChannelSpec {
        name: Some(snap.name.clone()),
        kind: Some(snap.kind),
        parent_id: parent.map(ChannelId),
        position: Some(snap.position),
        topic: snap.topic.clone(),
        nsfw: Some(snap.nsfw),
        slowmode_seconds: Some(snap.slowmode),
        overwrites: Some(overwrites),
    }
}

fn channel_differs(
    live: &Channel,
    snap: &ChannelSnap,
    parent: Option<u64>,
    wanted: &[Overwrite],
) -> bool {
    live.name != snap.name
        || live.topic.as_deref().unwrap_or_default() != snap.topic.as_deref().unwrap_or_default()
        || live.nsfw != snap.nsfw
        || live.slowmode_seconds != snap.slowmode
        || live.parent_id.map(|p| p.0) != parent
        || sorted(live.overwrites.clone()) != wanted
}

/// Roles of the snapshot a restore handles, highest first (Discord puts a new role just above
/// @everyone, so making them in this order stacks them as they were); managed ones are left
/// to their integration.
fn restorable(snapshot: &Snapshot) -> impl Iterator<Item = &RoleSnap> {
    snapshot.roles.iter().filter(|r| !r.managed)
}

/// Whether the live roles standing for the snapshot's are in another order than the
/// snapshot's.
fn out_of_order(snapshot: &Snapshot, live: &[Role], map: &BTreeMap<u64, u64>) -> bool {
    let mut by_live: Vec<(i32, u64, u64)> = restorable(snapshot)
        .filter(|r| r.id != snapshot.guild.id)
        .filter_map(|r| {
            let id = *map.get(&r.id)?;
            let role = live.iter().find(|l| l.id.0 == id)?;
            Some((role.position, role.id.0, r.id))
        })
        .collect();
    by_live.sort_unstable();
    let mut by_snapshot: Vec<(i32, u64)> = restorable(snapshot)
        .filter(|r| r.id != snapshot.guild.id && map.contains_key(&r.id))
        .map(|r| (r.position, r.id))
        .collect();
    by_snapshot.sort_unstable();
    by_live
        .iter()
        .map(|x| x.2)
        .ne(by_snapshot.iter().map(|x| x.1))
}

/// The order to give the roles the bot may move (those below its highest role, or every role
/// when it owns the server): the ones standing for the snapshot's in the snapshot's order, in
/// the places they hold between them now; the others where they are. Positions from 1 (just
/// above @everyone), every movable role listed lowest first (so the order holds whether Discord
/// applies the list at once or one move at a time); empty when nothing moves.
fn reorder(
    snapshot: &Snapshot,
    live: &[Role],
    map: &BTreeMap<u64, u64>,
    everyone: u64,
    top: Option<i32>,
) -> Vec<(RoleId, i32)> {
    let mut movable: Vec<&Role> = live
        .iter()
        .filter(|r| r.id.0 != everyone && top.is_none_or(|t| r.position < t))
        .collect();
    movable.sort_by_key(|r| (r.position, r.id.0));
    let snapshot_position = |live_id: u64| {
        restorable(snapshot)
            .filter(|r| r.id != snapshot.guild.id)
            .find(|r| map.get(&r.id) == Some(&live_id))
            .map(|r| (r.position, r.id))
    };
    let slots: Vec<usize> = movable
        .iter()
        .enumerate()
        .filter(|(_, r)| snapshot_position(r.id.0).is_some())
        .map(|(i, _)| i)
        .collect();
    let mut ours: Vec<&Role> = slots.iter().map(|i| movable[*i]).collect();
    ours.sort_by_key(|r| snapshot_position(r.id.0));
    let mut order = movable.clone();
    for (slot, role) in slots.into_iter().zip(ours) {
        order[slot] = role;
    }
    let moves: Vec<(RoleId, i32)> = order
        .iter()
        .zip(1..)
        .map(|(role, position)| (role.id, position))
        .collect();
    let unchanged = order
        .iter()
        .zip(&moves)
        .all(|(role, (_, position))| role.position == *position);
    if unchanged { Vec::new() } else { moves }
}

/// The changes that make the server's settings the snapshot's (channels as they map now;
/// ones not restored are left as they are).
fn settings_spec(
    snapshot: &Snapshot,
    live: &GuildInfo,
    channels: &BTreeMap<u64, u64>,
) -> GuildSpec {
    let mut spec = GuildSpec::default();
    if live.name != snapshot.guild.name {
        spec.name = Some(snapshot.guild.name.clone());
    }
    if live.description != snapshot.guild.description {
        spec.description = Some(snapshot.guild.description.clone());
    }
    let Some(wanted) = &snapshot.settings else {
        return spec;
    };
    if live.verification_level != wanted.verification_level {
        spec.verification_level = Some(wanted.verification_level);
    }
    if live.default_notifications != wanted.default_notifications {
        spec.default_notifications = Some(wanted.default_notifications);
    }
    if live.explicit_content_filter != wanted.explicit_content_filter {
        spec.explicit_content_filter = Some(wanted.explicit_content_filter);
    }
    if live.afk_timeout != wanted.afk_timeout {
        spec.afk_timeout = Some(wanted.afk_timeout);
    }
    if live.system_channel_flags != wanted.system_channel_flags {
        spec.system_channel_flags = Some(wanted.system_channel_flags);
    }
    if !wanted.preferred_locale.is_empty() && live.preferred_locale != wanted.preferred_locale {
        spec.preferred_locale = Some(wanted.preferred_locale.clone());
    }
    let map = |channel: Option<u64>| -> Option<Option<ChannelId>> {
        match channel {
            None => Some(None),
            Some(c) => channels.get(&c).map(|live| Some(ChannelId(*live))),
        }
    };
    if let Some(afk) = map(wanted.afk_channel)
        && afk != live.afk_channel
    {
        spec.afk_channel = Some(afk);
    }
    if let Some(system) = map(wanted.system_channel)
        && system != live.system_channel
    {
        spec.system_channel = Some(system);
    }
    spec
}

/// Whether a channel the settings name is not in the server yet.
fn settings_unmapped(snapshot: &Snapshot, channels: &BTreeMap<u64, u64>) -> bool {
    snapshot.settings.as_ref().is_some_and(|s| {
        [s.afk_channel, s.system_channel]
            .into_iter()
            .flatten()
            .any(|c| !channels.contains_key(&c))
    })
}

/// The bot's settings of the snapshot with roles as they map now (grants of roles not in the
/// server are dropped).
fn bot_settings(wanted: &BotGuildSettings, roles: &BTreeMap<u64, u64>) -> BotGuildSettings {
    let mut out = wanted.clone();
    out.command_roles = wanted
        .command_roles
        .iter()
        .filter_map(|(command, list)| {
            let mut mapped: Vec<RoleId> = list
                .iter()
                .filter_map(|r| roles.get(&r.0).map(|l| RoleId(*l)))
                .collect();
            mapped.sort_unstable();
            (!mapped.is_empty()).then(|| (command.clone(), mapped))
        })
        .collect();
    out
}

/// Whether a role a grant names is not in the server yet.
fn grants_unmapped(wanted: &BotGuildSettings, roles: &BTreeMap<u64, u64>) -> bool {
    wanted
        .command_roles
        .values()
        .flatten()
        .any(|r| !roles.contains_key(&r.0))
}

/// The live emoji that stands for `snap`: by id, then by name.
fn find_emoji<'a>(
    live: &'a [Emoji],
    snap: &EmojiSnap,
    map: &BTreeMap<u64, u64>,
) -> Option<&'a Emoji> {
    let taken = |id: u64| map.iter().any(|(s, l)| *l == id && *s != snap.id);
    live.iter()
        .find(|e| e.id == snap.id)
        .or_else(|| live.iter().find(|e| e.name == snap.name && !taken(e.id)))
}

/// The largest emoji image Discord takes.
const EMOJI_MAX_BYTES: u64 = 256 * 1024;

/// What a restore of `parts` would do to the server as it is now.
pub(crate) async fn plan(
    guild: &GuildHandle,
    snapshot: &Snapshot,
    parts: Parts,
) -> PluginResult<Plan> {
    let mut plan = Plan::default();
    let live_roles = guild.roles().await?;
    let live_channels = guild.channels().await?;
    let mut role_map = BTreeMap::new();
    for role in restorable(snapshot) {
        if role.id == snapshot.guild.id {
            let everyone = live_roles.iter().find(|r| r.id.0 == guild.id().0);
            if parts.roles && everyone.is_some_and(|e| e.permissions.0 != role.permissions) {
                plan.update_roles += 1;
                plan.steps.push(Step::Role(role.id));
            }
            continue;
        }
        match find_role(&live_roles, role, &role_map) {
            Some(live) => {
                role_map.insert(role.id, live.id.0);
                if parts.roles && role_differs(live, role) {
                    plan.update_roles += 1;
                    plan.steps.push(Step::Role(role.id));
                }
            }
            None if parts.roles => {
                plan.create_roles += 1;
                plan.steps.push(Step::Role(role.id));
            }
            None => {}
        }
    }
    plan.managed = snapshot.roles.iter().filter(|r| r.managed).count();
    if parts.roles && (plan.create_roles > 0 || out_of_order(snapshot, &live_roles, &role_map)) {
        plan.positions = true;
        plan.steps.push(Step::Positions);
    }
    let mut channel_map = BTreeMap::new();
    for channel in &snapshot.channels {
        if let Some(live) = find_channel(&live_channels, channel, &channel_map) {
            channel_map.insert(channel.id, live.id.0);
        }
    }
    if parts.channels {
        let mut channel_map = BTreeMap::new();
        for channel in &snapshot.channels {
            match find_channel(&live_channels, channel, &channel_map) {
                Some(live) => {
                    channel_map.insert(channel.id, live.id.0);
                    let parent = channel.parent.and_then(|p| channel_map.get(&p).copied());
                    let wanted = overwrites(channel, guild.id().0, snapshot.guild.id, &role_map);
                    // Roles still to be created make the overwrites differ too.
                    if channel_differs(live, channel, parent, &wanted)
                        || channel.overwrites.len() != wanted.len()
                    {
                        plan.update_channels += 1;
                        plan.steps.push(Step::Channel(channel.id));
                    }
                }
                None => {
                    plan.create_channels += 1;
                    plan.steps.push(Step::Channel(channel.id));
                }
            }
        }
    }
    if parts.settings {
        let info = guild.info().await?;
        // Channels still to be created count as a change.
        let server = settings_spec(snapshot, &info, &channel_map);
        if !server.is_empty() || settings_unmapped(snapshot, &channel_map) {
            plan.settings.push("server settings");
            plan.steps.push(Step::Settings);
        }
        if let Some(wanted) = &snapshot.bot {
            let have = guild.bot_settings().await?;
            if bot_settings(wanted, &role_map) != have || grants_unmapped(wanted, &role_map) {
                plan.settings.push("bot settings");
                plan.steps.push(Step::BotSettings);
            }
        }
    }
    if parts.members {
        // Integrations hand out their own roles.
        let managed: std::collections::HashSet<u64> = snapshot
            .roles
            .iter()
            .filter(|r| r.managed)
            .map(|r| r.id)
            .collect();
        let mut present = std::collections::HashSet::new();
        let mut after = None;
        loop {
            let page = guild.members(after, 1000).await?;
            let full = page.len() == 1000;
            for member in &page {
                let wanted = snapshot.members.iter().find(|m| m.user == member.user.id.0);
                if let Some(wanted) = wanted {
                    present.insert(member.user.id.0);
                    let have: Vec<u64> = member.roles.iter().map(|r| r.0).collect();
                    let missing =
                        wanted.roles.iter().filter(|r| !managed.contains(r)).any(
                            |r| match role_map.get(r) {
                                Some(live) => !have.contains(live),
                                None => true,
                            },
                        );
                    if missing {
                        plan.members += 1;
                        plan.steps.push(Step::Member(member.user.id.0));
                    }
                }
            }
            match page.last() {
                Some(last) if full => after = Some(last.user.id),
                _ => break,
            }
        }
        plan.members_gone = snapshot
            .members
            .iter()
            .filter(|m| !present.contains(&m.user))
            .count();
    }
    if parts.emojis && !snapshot.emojis.is_empty() {
        let live = guild.emojis().await?;
        let mut taken = BTreeMap::new();
        for emoji in &snapshot.emojis {
            match find_emoji(&live, emoji, &taken) {
                Some(found) => {
                    taken.insert(emoji.id, found.id);
                }
                None => {
                    plan.emojis += 1;
                    plan.steps.push(Step::Emoji(emoji.id));
                }
            }
        }
    }
    Ok(plan)
}

/// Whether an error may pass if the step is tried again later: rate limits the host gave up
/// waiting out, time-outs, Discord's server errors, a lost connection.
fn transient(error: &PluginError) -> bool {
    let text = error.to_string().to_ascii_lowercase();
    [
        "rate limited",
        "timed out",
        "timeout",
        "connection",
        "500",
        "502",
        "503",
        "504",
    ]
    .iter()
    .any(|t| text.contains(t))
}

/// Tries of one step that met only passing errors before it is skipped.
const RETRIES: u32 = 10;

/// Whether an error is Discord refusing for lack of permission (the role hierarchy, a missing
/// permission): the item is reported and skipped, the restore goes on.
fn forbidden(error: &PluginError) -> bool {
    let text = error.to_string();
    text.contains("Missing Permissions") || text.contains("50013") || text.contains("403")
}

/// The server's roles and channels as a slice of a restore knows them: read once at its start
/// and kept up to date with what the slice itself creates and changes (one read per slice,
/// not one per step, under Discord's rate limits).
pub(crate) struct Live {
    roles: Vec<Role>,
    channels: Vec<Channel>,
    /// Read at the first emoji step of the slice.
    emojis: Option<Vec<Emoji>>,
    /// Emojis the restore made or found: snapshot id → live id.
    emoji_map: BTreeMap<u64, u64>,
}

impl Live {
    pub(crate) async fn read(guild: &GuildHandle) -> PluginResult<Self> {
        Ok(Self {
            roles: guild.roles().await?,
            channels: guild.channels().await?,
            emojis: None,
            emoji_map: BTreeMap::new(),
        })
    }

    fn put_role(&mut self, role: Role) {
        match self.roles.iter_mut().find(|r| r.id == role.id) {
            Some(old) => *old = role,
            None => self.roles.push(role),
        }
    }

    fn put_channel(&mut self, channel: Channel) {
        match self.channels.iter_mut().find(|c| c.id == channel.id) {
            Some(old) => *old = channel,
            None => self.channels.push(channel),
        }
    }
}

/// Runs one step; returns whether it created something.
async fn run_step(
    host: &Host,
    live: &mut Live,
    guild: &GuildHandle,
    snapshot: &Snapshot,
    journal: &mut Journal,
    step: &Step,
) -> PluginResult<Option<bool>> {
    let id = guild.id().0;
    match step {
        Step::Role(sid) => {
            let Some(snap) = snapshot.roles.iter().find(|r| r.id == *sid) else {
                return Ok(None);
            };
            if *sid == snapshot.guild.id {
                guild
                    .edit_role(
                        RoleId(id),
                        RoleSpec::default().permissions(Permissions(snap.permissions)),
                    )
                    .await?;
                return Ok(Some(false));
            }
            match find_role(&live.roles, snap, &journal.roles) {
                Some(role) => {
                    let role = role.clone();
                    journal.roles.insert(*sid, role.id.0);
                    if role_differs(&role, snap) {
                        let edited = guild.edit_role(role.id, role_spec(snap)).await?;
                        live.put_role(edited);
                        return Ok(Some(false));
                    }
                    Ok(None)
                }
                None => {
                    let role = guild.create_role(role_spec(snap)).await?;
                    journal.roles.insert(*sid, role.id.0);
                    live.put_role(role);
                    Ok(Some(true))
                }
            }
        }
        Step::Channel(sid) => {
            let Some(snap) = snapshot.channels.iter().find(|c| c.id == *sid) else {
                return Ok(None);
            };
            let parent = snap.parent.and_then(|p| {
                journal
                    .channels
                    .get(&p)
                    .copied()
                    .or_else(|| live.channels.iter().find(|c| c.id.0 == p).map(|c| c.id.0))
            });
            let wanted = overwrites(snap, id, snapshot.guild.id, &journal.roles);
            match find_channel(&live.channels, snap, &journal.channels) {
                Some(channel) => {
                    let channel = channel.clone();
                    journal.channels.insert(*sid, channel.id.0);
                    if channel_differs(&channel, snap, parent, &wanted) {
                        let edited = host
                            .edit_channel(channel.id, channel_spec(snap, parent, wanted))
                            .await?;
                        live.put_channel(edited);
                        return Ok(Some(false));
                    }
                    Ok(None)
                }
                None => {
                    let channel = guild
                        .create_channel(channel_spec(snap, parent, wanted))
                        .await?;
                    journal.channels.insert(*sid, channel.id.0);
                    live.put_channel(channel);
                    Ok(Some(true))
                }
            }
        }
        Step::Positions => {
            let stats = host.stats().await?;
            let info = guild.info().await?;
            let top = if info.owner_id.0 == stats.bot_id {
                None
            } else {
                let me = guild.member(UserId(stats.bot_id)).await?;
                Some(
                    live.roles
                        .iter()
                        .filter(|r| me.roles.contains(&r.id))
                        .map(|r| r.position)
                        .max()
                        .unwrap_or(0),
                )
            };
            let moves = reorder(snapshot, &live.roles, &journal.roles, id, top);
            if moves.is_empty() {
                return Ok(None);
            }
            live.roles = guild
                .set_role_positions(moves, "restoring a backup")
                .await?;
            Ok(Some(false))
        }
        Step::Settings => {
            let info = guild.info().await?;
            let spec = settings_spec(snapshot, &info, &journal.channels);
            if spec.is_empty() {
                return Ok(None);
            }
            guild.edit(spec, "restoring a backup").await?;
            Ok(Some(false))
        }
        Step::BotSettings => {
            let Some(wanted) = &snapshot.bot else {
                return Ok(None);
            };
            let wanted = bot_settings(wanted, &journal.roles);
            if guild.bot_settings().await? == wanted {
                return Ok(None);
            }
            guild.set_bot_settings(wanted).await?;
            Ok(Some(false))
        }
        Step::Emoji(sid) => {
            let Some(snap) = snapshot.emojis.iter().find(|e| e.id == *sid) else {
                return Ok(None);
            };
            let emojis = match live.emojis.take() {
                Some(list) => list,
                None => guild.emojis().await?,
            };
            let found = find_emoji(&emojis, snap, &live.emoji_map).map(|e| e.id);
            live.emojis = Some(emojis);
            if let Some(found) = found {
                live.emoji_map.insert(*sid, found);
                return Ok(None);
            }
            let image = host.download(&snap.url, EMOJI_MAX_BYTES).await?;
            let roles = snap
                .roles
                .iter()
                .filter_map(|r| journal.roles.get(r).map(|l| RoleId(*l)))
                .collect();
            let emoji = guild
                .create_emoji(&snap.name, image, roles, "restoring a backup")
                .await?;
            live.emoji_map.insert(*sid, emoji.id);
            if let Some(list) = live.emojis.as_mut() {
                list.push(emoji);
            }
            Ok(Some(true))
        }
        Step::Member(user) => {
            let Some(snap) = snapshot.members.iter().find(|m| m.user == *user) else {
                return Ok(None);
            };
            let member = guild.member(UserId(*user)).await?;
            let mut changed = false;
            for role in &snap.roles {
                let Some(live) = journal.roles.get(role).copied() else {
                    continue;
                };
                if !member.roles.iter().any(|r| r.0 == live) {
                    guild
                        .add_role(UserId(*user), RoleId(live), "restoring a backup")
                        .await?;
                    changed = true;
                }
            }
            Ok(changed.then_some(false))
        }
    }
}

/// The name of a step's item, for the skipped list.
fn name_of(snapshot: &Snapshot, step: &Step) -> String {
    match step {
        Step::Role(id) => snapshot
            .roles
            .iter()
            .find(|r| r.id == *id)
            .map_or_else(|| format!("role {id}"), |r| format!("role @{}", r.name)),
        Step::Channel(id) => snapshot.channels.iter().find(|c| c.id == *id).map_or_else(
            || format!("channel {id}"),
            |c| format!("channel #{}", c.name),
        ),
        Step::Member(user) => format!("the roles of <@{user}>"),
        Step::Positions => "the order of the roles".to_owned(),
        Step::Settings => "the server's settings".to_owned(),
        Step::BotSettings => "the bot's settings".to_owned(),
        Step::Emoji(id) => snapshot
            .emojis
            .iter()
            .find(|e| e.id == *id)
            .map_or_else(|| format!("emoji {id}"), |e| format!("emoji :{}:", e.name)),
    }
}

/// Fills the role map from the server as it is (roles the plan did not need to touch).
pub(crate) async fn map_existing(
    guild: &GuildHandle,
    snapshot: &Snapshot,
    journal: &mut Journal,
) -> PluginResult {
    let live = guild.roles().await?;
    for role in restorable(snapshot) {
        if role.id == snapshot.guild.id || journal.roles.contains_key(&role.id) {
            continue;
        }
        if let Some(found) = find_role(&live, role, &journal.roles) {
            journal.roles.insert(role.id, found.id.0);
        }
    }
    let live = guild.channels().await?;
    for channel in &snapshot.channels {
        if journal.channels.contains_key(&channel.id) {
            continue;
        }
        if let Some(found) = find_channel(&live, channel, &journal.channels) {
            journal.channels.insert(channel.id, found.id.0);
        }
    }
    Ok(())
}

/// Runs the journal's steps from `next` until done, cancelled (`cancel` says so) or `budget`
/// has passed; the journal is written before every step and at the end.
pub(crate) async fn run(
    host: &Host,
    guild_id: u64,
    snapshot: &Snapshot,
    journal: &mut Journal,
    budget: std::time::Duration,
    cancel: &(dyn Fn() -> bool + Sync),
) -> PluginResult {
    let guild = host.guild(zoryx_plugin_api::GuildId(guild_id));
    let started = std::time::Instant::now();
    let mut live = Live::read(&guild).await?;
    while journal.next < journal.steps.len() {
        if cancel() {
            journal.status = "cancelled".to_owned();
            break;
        }
        if started.elapsed() >= budget {
            save_journal(host, guild_id, journal).await?;
            return Ok(());
        }
        // Written before the step: after a crash the step runs again, and finds what it made.
        save_journal(host, guild_id, journal).await?;
        let step = journal.steps[journal.next].clone();
        match run_step(host, &mut live, &guild, snapshot, journal, &step).await {
            Ok(Some(true)) => journal.created += 1,
            Ok(Some(false)) => journal.updated += 1,
            Ok(None) => {}
            Err(error) if transient(&error) && journal.retries < RETRIES => {
                // Tried again at the next run, from the same step.
                journal.retries += 1;
                save_journal(host, guild_id, journal).await?;
                return Err(error);
            }
            Err(error) if forbidden(&error) => journal.skipped.push(format!(
                "{}: Discord refused (above the bot's highest role, or a permission the bot lacks)",
                name_of(snapshot, &step)
            )),
            Err(error) => journal
                .skipped
                .push(format!("{}: {error}", name_of(snapshot, &step))),
        }
        journal.next += 1;
        journal.retries = 0;
    }
    if journal.status == "running" {
        journal.status = "done".to_owned();
    }
    save_journal(host, guild_id, journal).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{FORMAT, GuildMeta};

    fn role(id: u64, name: &str, position: i32) -> Role {
        Role {
            id: RoleId(id),
            name: name.into(),
            position,
            ..Role::default()
        }
    }

    fn snap(id: u64, name: &str, position: i32) -> RoleSnap {
        RoleSnap {
            id,
            name: name.into(),
            colour: 0,
            permissions: 0,
            hoist: false,
            mentionable: false,
            position,
            managed: false,
        }
    }

    fn snapshot(roles: Vec<RoleSnap>) -> Snapshot {
        Snapshot {
            format: FORMAT,
            guild: GuildMeta {
                id: 1,
                name: "Home".into(),
                description: None,
            },
            taken_at: 0,
            roles,
            channels: vec![],
            members: vec![],
            emojis: vec![],
            settings: None,
            bot: None,
        }
    }

    #[test]
    fn roles_take_the_snapshot_order_in_the_places_they_hold_and_others_stay() {
        // Snapshot: a (1) < b (2) < c (3). Live: c, x (not in the snapshot), b, a from the
        // bottom, and the bot's role on top.
        let snapshot = snapshot(vec![snap(13, "c", 3), snap(12, "b", 2), snap(11, "a", 1)]);
        let live = vec![
            role(1, "@everyone", 0),
            role(23, "c", 1),
            role(50, "x", 2),
            role(22, "b", 3),
            role(21, "a", 4),
            role(99, "bot", 5),
        ];
        let map: BTreeMap<u64, u64> = [(11, 21), (12, 22), (13, 23)].into();
        assert!(out_of_order(&snapshot, &live, &map));
        let moves = reorder(&snapshot, &live, &map, 1, Some(5));
        let ids: Vec<(u64, i32)> = moves.iter().map(|(r, p)| (r.0, *p)).collect();
        assert_eq!(ids, vec![(21, 1), (50, 2), (22, 3), (23, 4)]);
        // In order already: nothing to send.
        let sorted = vec![
            role(1, "@everyone", 0),
            role(21, "a", 1),
            role(50, "x", 2),
            role(22, "b", 3),
            role(23, "c", 4),
        ];
        assert!(!out_of_order(&snapshot, &sorted, &map));
        assert!(reorder(&snapshot, &sorted, &map, 1, None).is_empty());
    }

    #[test]
    fn parts_name_settings_and_emojis() {
        let parts = Parts::parse("settings, emojis").expect("parts");
        assert!(parts.settings && parts.emojis && !parts.roles);
        assert_eq!(parts.describe(), "settings, emojis");
        assert_eq!(parts.code(), "se");
        assert_eq!(Parts::from_code(&parts.code()), parts);
        let all = Parts::parse("all").expect("all");
        assert!(all.settings && all.emojis && all.members);
        let error = Parts::parse("stickers").expect_err("unknown");
        assert!(
            error.to_string().contains("settings, emojis or all"),
            "{error}"
        );
    }
}
