//! Item by item differences between two snapshots (or a snapshot and the live guild): roles and
//! channels matched by id, then by name (and kind); member roles by user.

use std::collections::HashSet;

use crate::snapshot::{ChannelSnap, RoleSnap, Snapshot};

/// What changed from `old` to `new`, one line per item.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Diff {
    pub(crate) added: Vec<String>,
    pub(crate) removed: Vec<String>,
    pub(crate) changed: Vec<String>,
}

impl Diff {
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn role_changes(old: &RoleSnap, new: &RoleSnap) -> Vec<&'static str> {
    let mut what = Vec::new();
    if old.name != new.name {
        what.push("name");
    }
    if old.colour != new.colour {
        what.push("colour");
    }
    if old.permissions != new.permissions {
        what.push("permissions");
    }
    if old.hoist != new.hoist {
        what.push("hoist");
    }
    if old.mentionable != new.mentionable {
        what.push("mentionable");
    }
    if old.position != new.position {
        what.push("position");
    }
    what
}

fn channel_changes(
    old: &ChannelSnap,
    new: &ChannelSnap,
    old_names: &dyn Fn(u64) -> Option<String>,
    new_names: &dyn Fn(u64) -> Option<String>,
) -> Vec<&'static str> {
    let mut what = Vec::new();
    if old.name != new.name {
        what.push("name");
    }
    if old.topic != new.topic {
        what.push("topic");
    }
    if old.nsfw != new.nsfw {
        what.push("nsfw");
    }
    if old.slowmode != new.slowmode {
        what.push("slowmode");
    }
    if old.position != new.position {
        what.push("position");
    }
    if old.parent.and_then(old_names) != new.parent.and_then(new_names) {
        what.push("category");
    }
    if old.overwrites != new.overwrites {
        what.push("permission overwrites");
    }
    what
}

/// The differences from `old` to `new`.
pub(crate) fn diff(old: &Snapshot, new: &Snapshot) -> Diff {
    let mut out = Diff::default();
    // Roles.
    let mut matched_new = HashSet::new();
    for role in old.roles.iter().filter(|r| r.id != old.guild.id) {
        let found = new.roles.iter().find(|n| n.id == role.id).or_else(|| {
            new.roles
                .iter()
                .find(|n| n.name == role.name && !matched_new.contains(&n.id))
        });
        match found {
            Some(other) => {
                matched_new.insert(other.id);
                let what = role_changes(role, other);
                if !what.is_empty() {
                    out.changed
                        .push(format!("role @{}: {}", role.name, what.join(", ")));
                }
            }
            None => out.removed.push(format!("role @{}", role.name)),
        }
    }
    for role in new
        .roles
        .iter()
        .filter(|r| r.id != new.guild.id && !matched_new.contains(&r.id))
    {
        out.added.push(format!("role @{}", role.name));
    }
    // Channels.
    let old_name = |id: u64| {
        old.channels
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
    };
    let new_name = |id: u64| {
        new.channels
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
    };
    let mut matched_new = HashSet::new();
    for channel in &old.channels {
        let found = new
            .channels
            .iter()
            .find(|n| n.id == channel.id)
            .or_else(|| {
                new.channels.iter().find(|n| {
                    n.name == channel.name && n.kind == channel.kind && !matched_new.contains(&n.id)
                })
            });
        match found {
            Some(other) => {
                matched_new.insert(other.id);
                let what = channel_changes(channel, other, &old_name, &new_name);
                if !what.is_empty() {
                    out.changed
                        .push(format!("channel #{}: {}", channel.name, what.join(", ")));
                }
            }
            None => out.removed.push(format!("channel #{}", channel.name)),
        }
    }
    for channel in new.channels.iter().filter(|c| !matched_new.contains(&c.id)) {
        out.added.push(format!("channel #{}", channel.name));
    }
    // Member roles, by role name so that recreated roles compare equal.
    let names = |snap: &Snapshot, roles: &[u64]| -> Vec<String> {
        let mut names: Vec<String> = roles
            .iter()
            .filter_map(|r| {
                snap.roles
                    .iter()
                    .find(|x| x.id == *r)
                    .map(|x| x.name.clone())
            })
            .collect();
        names.sort();
        names
    };
    let mut members_changed = 0;
    let users: HashSet<u64> = old
        .members
        .iter()
        .chain(new.members.iter())
        .map(|m| m.user)
        .collect();
    for user in users {
        let before = old
            .members
            .iter()
            .find(|m| m.user == user)
            .map(|m| names(old, &m.roles))
            .unwrap_or_default();
        let after = new
            .members
            .iter()
            .find(|m| m.user == user)
            .map(|m| names(new, &m.roles))
            .unwrap_or_default();
        if before != after {
            members_changed += 1;
        }
    }
    if members_changed > 0 {
        out.changed
            .push(format!("member roles: {members_changed} member(s) differ"));
    }
    // Emojis, by id then name.
    let mut matched_new = HashSet::new();
    for emoji in &old.emojis {
        let found = new.emojis.iter().find(|n| n.id == emoji.id).or_else(|| {
            new.emojis
                .iter()
                .find(|n| n.name == emoji.name && !matched_new.contains(&n.id))
        });
        match found {
            Some(other) => {
                matched_new.insert(other.id);
                if other.name != emoji.name {
                    out.changed.push(format!("emoji :{}:: name", emoji.name));
                }
            }
            None => out.removed.push(format!("emoji :{}:", emoji.name)),
        }
    }
    for emoji in new.emojis.iter().filter(|e| !matched_new.contains(&e.id)) {
        out.added.push(format!("emoji :{}:", emoji.name));
    }
    // The server's settings and the bot's (compared only when both snapshots have them).
    if let (Some(a), Some(b)) = (&old.settings, &new.settings) {
        let mut what = Vec::new();
        if a.verification_level != b.verification_level {
            what.push("verification level");
        }
        if a.default_notifications != b.default_notifications {
            what.push("default notifications");
        }
        if a.explicit_content_filter != b.explicit_content_filter {
            what.push("content filter");
        }
        if a.afk_channel.and_then(old_name) != b.afk_channel.and_then(new_name)
            || a.afk_timeout != b.afk_timeout
        {
            what.push("AFK channel");
        }
        if a.system_channel.and_then(old_name) != b.system_channel.and_then(new_name)
            || a.system_channel_flags != b.system_channel_flags
        {
            what.push("system messages");
        }
        if a.preferred_locale != b.preferred_locale {
            what.push("language");
        }
        if !what.is_empty() {
            out.changed
                .push(format!("server settings: {}", what.join(", ")));
        }
    }
    if old.guild.name != new.guild.name || old.guild.description != new.guild.description {
        out.changed.push("server name or description".to_owned());
    }
    if let (Some(a), Some(b)) = (&old.bot, &new.bot) {
        let mut what = Vec::new();
        if a.prefix != b.prefix || a.mention_prefix != b.mention_prefix {
            what.push("prefix");
        }
        let grants = |snap: &Snapshot, s: &zoryx_plugin_api::BotGuildSettings| {
            s.command_roles
                .iter()
                .map(|(c, r)| {
                    let ids: Vec<u64> = r.iter().map(|r| r.0).collect();
                    (c.clone(), names(snap, &ids))
                })
                .collect::<Vec<_>>()
        };
        if grants(old, a) != grants(new, b) {
            what.push("role grants");
        }
        if a.auto_delete_errors != b.auto_delete_errors
            || a.auto_delete_commands != b.auto_delete_commands
        {
            what.push("auto-delete");
        }
        if !what.is_empty() {
            out.changed
                .push(format!("bot settings: {}", what.join(", ")));
        }
    }
    out.added.sort();
    out.removed.sort();
    out.changed.sort();
    out
}
