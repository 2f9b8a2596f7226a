//! What a snapshot holds, how it is taken from the live guild, and its checksum: SHA-256 over
//! the canonical JSON of the snapshot (fields in declaration order, lists sorted), all 64 hex
//! characters, checked again on every read.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zoryx_plugin_api::{
    BotGuildSettings, Channel, ChannelKind, GuildHandle, GuildInfo, OverwriteTarget, PluginError,
    PluginResult, Role, UserId,
};

/// The snapshot format this plugin writes. Format 1 (no server settings, no bot settings, no
/// emoji roles) is still read: its new fields are absent, and absent fields are left out of
/// the canonical encoding, so its checksum still holds.
pub(crate) const FORMAT: u32 = 2;
/// The formats this plugin reads.
const READS: std::ops::RangeInclusive<u32> = 1..=FORMAT;

/// A guild's structure at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Snapshot {
    pub(crate) format: u32,
    pub(crate) guild: GuildMeta,
    /// When it was taken, in seconds since the epoch.
    pub(crate) taken_at: u64,
    /// Highest position first.
    pub(crate) roles: Vec<RoleSnap>,
    /// Categories first, then by position.
    pub(crate) channels: Vec<ChannelSnap>,
    /// Members with at least one role, by user id.
    pub(crate) members: Vec<MemberRoles>,
    pub(crate) emojis: Vec<EmojiSnap>,
    /// The server's settings the bot can read (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) settings: Option<SettingsSnap>,
    /// The bot's own settings for the server: prefix, role grants, auto-delete (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bot: Option<BotGuildSettings>,
}

/// The server's settings (Server Settings → Overview, Safety, Notifications).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsSnap {
    pub(crate) verification_level: u8,
    pub(crate) default_notifications: u8,
    pub(crate) explicit_content_filter: u8,
    /// A channel of the snapshot.
    pub(crate) afk_channel: Option<u64>,
    pub(crate) afk_timeout: u32,
    /// A channel of the snapshot.
    pub(crate) system_channel: Option<u64>,
    pub(crate) system_channel_flags: u64,
    pub(crate) preferred_locale: String,
}

impl SettingsSnap {
    pub(crate) fn of(info: &GuildInfo) -> Self {
        Self {
            verification_level: info.verification_level,
            default_notifications: info.default_notifications,
            explicit_content_filter: info.explicit_content_filter,
            afk_channel: info.afk_channel.map(|c| c.0),
            afk_timeout: info.afk_timeout,
            system_channel: info.system_channel.map(|c| c.0),
            system_channel_flags: info.system_channel_flags,
            preferred_locale: info.preferred_locale.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuildMeta {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleSnap {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) colour: u32,
    pub(crate) permissions: u64,
    pub(crate) hoist: bool,
    pub(crate) mentionable: bool,
    pub(crate) position: i32,
    /// Managed by an integration (a bot's own role): recorded, never recreated.
    pub(crate) managed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelSnap {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) kind: ChannelKind,
    pub(crate) parent: Option<u64>,
    pub(crate) position: i32,
    pub(crate) topic: Option<String>,
    pub(crate) nsfw: bool,
    pub(crate) slowmode: u32,
    pub(crate) overwrites: Vec<OverwriteSnap>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverwriteSnap {
    /// `role` or `member`.
    pub(crate) kind: String,
    pub(crate) id: u64,
    pub(crate) allow: u64,
    pub(crate) deny: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberRoles {
    pub(crate) user: u64,
    pub(crate) roles: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmojiSnap {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) animated: bool,
    /// Where its image is.
    pub(crate) url: String,
    /// The roles that may use it (empty: everyone; format 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) roles: Vec<u64>,
}

/// A snapshot as stored and exported: the checksum next to what it covers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sealed {
    pub(crate) checksum: String,
    pub(crate) snapshot: Snapshot,
}

impl RoleSnap {
    fn of(role: &Role) -> Self {
        Self {
            id: role.id.0,
            name: role.name.clone(),
            colour: role.colour,
            permissions: role.permissions.0,
            hoist: role.hoist,
            mentionable: role.mentionable,
            position: role.position,
            managed: role.managed,
        }
    }
}

impl ChannelSnap {
    fn of(channel: &Channel) -> Self {
        let mut overwrites: Vec<OverwriteSnap> = channel
            .overwrites
            .iter()
            .map(|o| {
                let (kind, id) = match o.target {
                    OverwriteTarget::Role(role) => ("role", role.0),
                    OverwriteTarget::Member(user) => ("member", user.0),
                };
                OverwriteSnap {
                    kind: kind.to_owned(),
                    id,
                    allow: o.allow.0,
                    deny: o.deny.0,
                }
            })
            .collect();
        overwrites.sort();
        Self {
            id: channel.id.0,
            name: channel.name.clone(),
            kind: channel.kind,
            parent: channel.parent_id.map(|p| p.0),
            position: channel.position,
            topic: channel.topic.clone(),
            nsfw: channel.nsfw,
            slowmode: channel.slowmode_seconds,
            overwrites,
        }
    }
}

impl Snapshot {
    /// Reads the live guild: its settings, roles, channels, members' roles (a page of 1,000
    /// at a time), emojis, and the bot's own settings for it.
    pub(crate) async fn take(guild: &GuildHandle, now: u64) -> PluginResult<Self> {
        let info = guild.info().await?;
        let mut roles: Vec<RoleSnap> = guild.roles().await?.iter().map(RoleSnap::of).collect();
        roles.sort_by(|a, b| b.position.cmp(&a.position).then(a.id.cmp(&b.id)));
        let mut channels: Vec<ChannelSnap> = guild
            .channels()
            .await?
            .iter()
            .map(ChannelSnap::of)
            .collect();
        channels.sort_by_key(|c| (c.kind != ChannelKind::Category, c.position, c.id));
        let everyone = info.id.0;
        let mut members = Vec::new();
        let mut after: Option<UserId> = None;
        loop {
            let page = guild.members(after, 1000).await?;
            let full = page.len() == 1000;
            for member in &page {
                let mut roles: Vec<u64> = member
                    .roles
                    .iter()
                    .map(|r| r.0)
                    .filter(|r| *r != everyone)
                    .collect();
                roles.sort_unstable();
                if !roles.is_empty() {
                    members.push(MemberRoles {
                        user: member.user.id.0,
                        roles,
                    });
                }
            }
            match page.last() {
                Some(last) if full => after = Some(last.user.id),
                _ => break,
            }
        }
        members.sort_by_key(|m| m.user);
        let mut emojis: Vec<EmojiSnap> = guild
            .emojis()
            .await?
            .into_iter()
            .map(|e| {
                let mut roles: Vec<u64> = e.roles.iter().map(|r| r.0).collect();
                roles.sort_unstable();
                EmojiSnap {
                    url: e.image_url(),
                    id: e.id,
                    name: e.name,
                    animated: e.animated,
                    roles,
                }
            })
            .collect();
        emojis.sort_by_key(|e| e.id);
        let mut bot = guild.bot_settings().await?;
        for roles in bot.command_roles.values_mut() {
            roles.sort_unstable();
        }
        let settings = SettingsSnap::of(&info);
        Ok(Self {
            format: FORMAT,
            guild: GuildMeta {
                id: info.id.0,
                name: info.name,
                description: info.description,
            },
            taken_at: now,
            roles,
            channels,
            members,
            emojis,
            settings: Some(settings),
            bot: Some(bot),
        })
    }

    /// The canonical encoding the checksum covers.
    fn canonical(&self) -> PluginResult<Vec<u8>> {
        Ok(serde_json::to_vec(self)?)
    }

    /// SHA-256 of the canonical encoding, as 64 lower-case hex characters.
    pub(crate) fn checksum(&self) -> PluginResult<String> {
        let digest = Sha256::digest(self.canonical()?);
        Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The snapshot with its checksum.
    pub(crate) fn seal(self) -> PluginResult<Sealed> {
        Ok(Sealed {
            checksum: self.checksum()?,
            snapshot: self,
        })
    }

    /// What does not hold together: ids used twice, parents that are not categories of the
    /// snapshot, overwrites and member roles naming roles it does not have.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !READS.contains(&self.format) {
            problems.push(format!(
                "format {} (this version reads {} to {})",
                self.format,
                READS.start(),
                READS.end()
            ));
        }
        let role_ids: std::collections::HashSet<u64> = self.roles.iter().map(|r| r.id).collect();
        if role_ids.len() != self.roles.len() {
            problems.push("a role id appears twice".to_owned());
        }
        let categories: std::collections::HashSet<u64> = self
            .channels
            .iter()
            .filter(|c| c.kind == ChannelKind::Category)
            .map(|c| c.id)
            .collect();
        let channel_ids: std::collections::HashSet<u64> =
            self.channels.iter().map(|c| c.id).collect();
        if channel_ids.len() != self.channels.len() {
            problems.push("a channel id appears twice".to_owned());
        }
        for channel in &self.channels {
            if let Some(parent) = channel.parent
                && !categories.contains(&parent)
            {
                problems.push(format!(
                    "channel `{}`: its category {parent} is not in the snapshot",
                    channel.name
                ));
            }
            for o in &channel.overwrites {
                if o.kind == "role" && !role_ids.contains(&o.id) {
                    problems.push(format!(
                        "channel `{}`: an overwrite names role {} that is not in the snapshot",
                        channel.name, o.id
                    ));
                } else if o.kind != "role" && o.kind != "member" {
                    problems.push(format!(
                        "channel `{}`: an overwrite of kind `{}`",
                        channel.name, o.kind
                    ));
                }
            }
        }
        if let Some(settings) = &self.settings {
            for (what, channel) in [
                ("the AFK channel", settings.afk_channel),
                ("the system channel", settings.system_channel),
            ] {
                if let Some(channel) = channel
                    && !channel_ids.contains(&channel)
                {
                    problems.push(format!("settings: {what} {channel} is not in the snapshot"));
                }
            }
        }
        for emoji in &self.emojis {
            if let Some(role) = emoji.roles.iter().find(|r| !role_ids.contains(r)) {
                problems.push(format!(
                    "emoji `{}`: role {role} is not in the snapshot",
                    emoji.name
                ));
            }
        }
        for member in &self.members {
            if let Some(role) = member.roles.iter().find(|r| !role_ids.contains(r)) {
                problems.push(format!(
                    "member {}: role {role} is not in the snapshot",
                    member.user
                ));
            }
        }
        problems
    }
}

/// Why a stored or imported snapshot cannot be trusted.
pub(crate) fn unseal(bytes: &[u8]) -> Result<Snapshot, String> {
    let sealed: Sealed = serde_json::from_slice(bytes)
        .map_err(|e| format!("it does not read as a snapshot: {e}"))?;
    let actual = sealed
        .snapshot
        .checksum()
        .map_err(|e| format!("it cannot be encoded: {e}"))?;
    if actual != sealed.checksum {
        return Err(format!(
            "its checksum does not match: stored {}, computed {actual} (the file was changed)",
            short(&sealed.checksum)
        ));
    }
    let problems = sealed.snapshot.problems();
    if let Some(first) = problems.first() {
        return Err(format!(
            "its structure is broken ({} problem(s)): {first}",
            problems.len()
        ));
    }
    Ok(sealed.snapshot)
}

/// The first 16 characters of a checksum, for display.
pub(crate) fn short(checksum: &str) -> &str {
    checksum.get(..16).unwrap_or(checksum)
}

/// A plugin error for a snapshot that does not unseal.
pub(crate) fn refused(id: &str, why: String) -> PluginError {
    PluginError::user(format!("backup `{id}` cannot be trusted: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            format: FORMAT,
            guild: GuildMeta {
                id: 1,
                name: "Home".into(),
                description: None,
            },
            taken_at: 1_795_996_800,
            roles: vec![RoleSnap {
                id: 5,
                name: "Mods".into(),
                colour: 0xff0000,
                permissions: 8,
                hoist: true,
                mentionable: false,
                position: 1,
                managed: false,
            }],
            channels: vec![ChannelSnap {
                id: 9,
                name: "general".into(),
                kind: ChannelKind::Text,
                parent: None,
                position: 0,
                topic: Some("hi".into()),
                nsfw: false,
                slowmode: 0,
                overwrites: vec![OverwriteSnap {
                    kind: "role".into(),
                    id: 5,
                    allow: 1024,
                    deny: 0,
                }],
            }],
            members: vec![MemberRoles {
                user: 7,
                roles: vec![5],
            }],
            emojis: vec![],
            settings: None,
            bot: None,
        }
    }

    #[test]
    fn a_sealed_snapshot_reads_back_and_any_change_is_refused() {
        let sealed = sample().seal().expect("seal");
        assert_eq!(sealed.checksum.len(), 64);
        let bytes = serde_json::to_vec_pretty(&sealed).expect("json");
        assert_eq!(unseal(&bytes).expect("intact"), sample());
        // Whitespace and key order do not matter; values do.
        let text = String::from_utf8(bytes).expect("utf8");
        let tampered = text.replace("\"Mods\"", "\"Admins\"");
        let error = unseal(tampered.as_bytes()).expect_err("tampered");
        assert!(error.contains("checksum does not match"), "{error}");
        let extra = text.replacen("\"format\"", "\"extra\": 1, \"format\"", 1);
        assert!(
            unseal(extra.as_bytes())
                .expect_err("unknown field")
                .contains("does not read")
        );
    }

    #[test]
    fn a_format_1_file_still_reads_and_its_checksum_holds() {
        // Written by the first version: no settings, no bot settings, emojis without roles.
        let mut old = sample();
        old.format = 1;
        old.emojis = vec![EmojiSnap {
            id: 3,
            name: "wave".into(),
            animated: false,
            url: "https://cdn.discordapp.com/emojis/3.png".into(),
            roles: vec![],
        }];
        let sealed = old.clone().seal().expect("seal");
        let text = serde_json::to_string(&sealed).expect("json");
        assert!(
            !text.contains("settings") && !text.contains("roles\":[]"),
            "{text}"
        );
        assert_eq!(unseal(text.as_bytes()).expect("format 1 reads"), old);
    }

    #[test]
    fn a_settings_channel_outside_the_snapshot_is_a_problem() {
        let mut snapshot = sample();
        snapshot.settings = Some(SettingsSnap {
            verification_level: 1,
            default_notifications: 1,
            explicit_content_filter: 2,
            afk_channel: Some(77),
            afk_timeout: 300,
            system_channel: Some(9),
            system_channel_flags: 0,
            preferred_locale: "en-US".into(),
        });
        let problems = snapshot.problems();
        assert_eq!(
            problems,
            vec!["settings: the AFK channel 77 is not in the snapshot".to_owned()]
        );
    }

    #[test]
    fn broken_structure_is_named_even_with_a_matching_checksum() {
        let mut broken = sample();
        broken.members[0].roles = vec![99];
        let bytes = serde_json::to_vec(&broken.seal().expect("seal")).expect("json");
        let error = unseal(&bytes).expect_err("broken");
        assert!(error.contains("member 7: role 99"), "{error}");
    }
}
