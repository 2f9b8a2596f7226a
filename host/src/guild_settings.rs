//! Per-guild settings the command pipeline reads on every message (prefix, mention toggle), and
//! where command usage is recorded.
//!
//! The Discord layer talks to a [`GuildSettingsStore`]; [`MemorySettings`] keeps everything in
//! memory, the storage layer provides a SQLite-backed store with a cache in front.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use zoryx_plugin_api::GuildId;

use crate::gate::CommandRoles;

/// One guild's overrides; `None` means "use the configured default".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuildSettings {
    /// The guild's prefix (`!setprefix`).
    pub prefix: Option<String>,
    /// The guild's @mention-prefix toggle (`!mentionprefix enable|disable`).
    pub mention_prefix: Option<bool>,
    /// Role grants by command (`!config COMMAND @role`): a command listed here is for members
    /// holding one of its roles (see [`crate::gate`]).
    pub command_roles: CommandRoles,
    /// What the bot deletes after a while (`!autodelete`).
    pub auto_delete: AutoDelete,
}

/// What the bot deletes after a while in a guild (prefix commands only: a slash command's
/// errors are ephemeral and it has no message of its own), in seconds; 0 is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AutoDelete {
    /// The bot's refusals and error embeds (10 s unless set, as the seed).
    pub errors: u32,
    /// The member's message that ran a command (off unless set; needs Manage Messages).
    pub commands: u32,
}

impl Default for AutoDelete {
    fn default() -> Self {
        Self {
            errors: 10,
            commands: 0,
        }
    }
}

impl AutoDelete {
    /// The longest delay accepted, in seconds (an hour).
    pub const MAX_SECONDS: u32 = 3600;
}

/// A settings store failed.
#[derive(Debug, thiserror::Error)]
#[error("guild settings: {0}")]
pub struct SettingsError(pub String);

/// Where guild settings live and command usage is counted.
pub trait GuildSettingsStore: Send + Sync {
    /// The guild's settings if they are in memory: the hot path, no I/O.
    fn cached(&self, guild: GuildId) -> Option<Arc<GuildSettings>>;

    /// The guild's settings, reading them from storage on a cache miss.
    fn load(&self, guild: GuildId) -> BoxFuture<'_, Result<Arc<GuildSettings>, SettingsError>>;

    /// Sets (or with `None` clears) the guild's prefix.
    fn set_prefix(
        &self,
        guild: GuildId,
        prefix: Option<String>,
    ) -> BoxFuture<'_, Result<(), SettingsError>>;

    /// Sets (or with `None` clears) the guild's @mention-prefix toggle.
    fn set_mention_prefix(
        &self,
        guild: GuildId,
        enabled: Option<bool>,
    ) -> BoxFuture<'_, Result<(), SettingsError>>;

    /// Replaces the guild's role grants (`!config`); commands with no roles are dropped.
    fn set_command_roles(
        &self,
        guild: GuildId,
        roles: CommandRoles,
    ) -> BoxFuture<'_, Result<(), SettingsError>>;

    /// Sets what the bot deletes after a while in the guild (`!autodelete`).
    fn set_auto_delete(
        &self,
        guild: GuildId,
        auto_delete: AutoDelete,
    ) -> BoxFuture<'_, Result<(), SettingsError>>;

    /// Counts one use of `command` (in `guild`, or in DMs); never blocks the caller.
    fn record_command(&self, guild: Option<GuildId>, command: &str);
}

/// The guild's settings: from memory when cached, else loaded.
pub async fn settings_of(
    store: &dyn GuildSettingsStore,
    guild: GuildId,
) -> Result<Arc<GuildSettings>, SettingsError> {
    match store.cached(guild) {
        Some(settings) => Ok(settings),
        None => store.load(guild).await,
    }
}

/// The longest prefix a guild may set.
pub const PREFIX_MAX: usize = 10;

/// Whether a guild may use `prefix`: 1 to [`PREFIX_MAX`] characters without spaces.
pub fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.chars().count() <= PREFIX_MAX
        && !prefix.contains(char::is_whitespace)
}

/// One change of a guild's settings, as `setprefix`, `mentionprefix` and `autodelete` make it
/// (and the dashboard's Guilds page): checked by [`Change::check`], made by [`change`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The prefix; `None` goes back to the configured default.
    Prefix(Option<String>),
    /// The @mention-prefix toggle; `None` goes back to the configured default.
    MentionPrefix(Option<bool>),
    /// Seconds before the bot's refusals and error replies are deleted (0: never).
    AutoDeleteErrors(u32),
    /// Seconds before a member's command message is deleted (0: never).
    AutoDeleteCommands(u32),
}

/// Why a [`Change`] was refused or not saved.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The prefix is empty, too long or has spaces.
    #[error("A prefix is 1 to {PREFIX_MAX} characters without spaces.")]
    Prefix,
    /// An auto-delete delay past [`AutoDelete::MAX_SECONDS`].
    #[error("`{0}`: give a number of seconds from 1 to {max}, or `off`.", max = AutoDelete::MAX_SECONDS)]
    Seconds(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] SettingsError),
}

impl Change {
    /// Whether the change may be made (the commands' checks).
    pub fn check(&self) -> Result<(), ChangeError> {
        match self {
            Self::Prefix(Some(prefix)) if !valid_prefix(prefix) => Err(ChangeError::Prefix),
            Self::AutoDeleteErrors(s) | Self::AutoDeleteCommands(s)
                if *s > AutoDelete::MAX_SECONDS =>
            {
                Err(ChangeError::Seconds(s.to_string()))
            }
            _ => Ok(()),
        }
    }
}

/// An auto-delete delay as people type it: `off`, `never` or `0` (never), or 1 to
/// [`AutoDelete::MAX_SECONDS`] seconds (a trailing `s` allowed).
pub fn parse_seconds(text: &str) -> Result<u32, ChangeError> {
    match text.trim().to_lowercase().trim_end_matches('s') {
        "off" | "never" | "0" => Ok(0),
        number => match number.parse::<u32>() {
            Ok(n) if (1..=AutoDelete::MAX_SECONDS).contains(&n) => Ok(n),
            _ => Err(ChangeError::Seconds(text.trim().to_owned())),
        },
    }
}

/// Checks `change` and makes it in `guild`'s settings: the one path of the settings commands
/// and the dashboard.
pub async fn change(
    store: &dyn GuildSettingsStore,
    guild: GuildId,
    change: Change,
) -> Result<(), ChangeError> {
    change.check()?;
    match change {
        Change::Prefix(prefix) => store.set_prefix(guild, prefix).await?,
        Change::MentionPrefix(enabled) => store.set_mention_prefix(guild, enabled).await?,
        Change::AutoDeleteErrors(seconds) | Change::AutoDeleteCommands(seconds) => {
            let mut auto_delete = settings_of(store, guild).await?.auto_delete;
            if matches!(change, Change::AutoDeleteErrors(_)) {
                auto_delete.errors = seconds;
            } else {
                auto_delete.commands = seconds;
            }
            store.set_auto_delete(guild, auto_delete).await?;
        }
    }
    Ok(())
}

/// The guild's settings as plugins see them ([`zoryx_plugin_api::BotGuildSettings`]).
pub fn to_api(settings: &GuildSettings) -> zoryx_plugin_api::BotGuildSettings {
    zoryx_plugin_api::BotGuildSettings {
        prefix: settings.prefix.clone(),
        mention_prefix: settings.mention_prefix,
        command_roles: settings
            .command_roles
            .iter()
            .map(|(command, roles)| {
                (
                    command.clone(),
                    roles
                        .iter()
                        .copied()
                        .map(zoryx_plugin_api::RoleId)
                        .collect(),
                )
            })
            .collect(),
        auto_delete_errors: settings.auto_delete.errors,
        auto_delete_commands: settings.auto_delete.commands,
    }
}

/// Replaces the guild's settings with a plugin's (`GuildHandle::set_bot_settings`), after
/// checking them as the commands that set them do ([`Change::check`]): a prefix of 1 to
/// [`PREFIX_MAX`] characters without spaces, auto-delete delays up to an hour.
pub async fn apply_api(
    store: &dyn GuildSettingsStore,
    guild: GuildId,
    settings: zoryx_plugin_api::BotGuildSettings,
) -> Result<(), String> {
    for change in [
        Change::Prefix(settings.prefix.clone()),
        Change::AutoDeleteErrors(settings.auto_delete_errors),
        Change::AutoDeleteCommands(settings.auto_delete_commands),
    ] {
        change.check().map_err(|e| e.to_string())?;
    }
    let failed = |e: SettingsError| e.to_string();
    store
        .set_prefix(guild, settings.prefix)
        .await
        .map_err(failed)?;
    store
        .set_mention_prefix(guild, settings.mention_prefix)
        .await
        .map_err(failed)?;
    let roles: CommandRoles = settings
        .command_roles
        .into_iter()
        .map(|(command, roles)| (command, roles.into_iter().map(|r| r.0).collect()))
        .collect();
    store
        .set_command_roles(guild, roles)
        .await
        .map_err(failed)?;
    store
        .set_auto_delete(
            guild,
            AutoDelete {
                errors: settings.auto_delete_errors,
                commands: settings.auto_delete_commands,
            },
        )
        .await
        .map_err(failed)
}

/// Settings and counters kept in memory only (lost at exit).
#[derive(Debug, Default)]
pub struct MemorySettings {
    guilds: RwLock<HashMap<GuildId, Arc<GuildSettings>>>,
    usage: RwLock<HashMap<(Option<GuildId>, String), u64>>,
}

impl MemorySettings {
    /// How often `command` was recorded in `guild`.
    pub fn usage(&self, guild: Option<GuildId>, command: &str) -> u64 {
        self.usage
            .read()
            .map(|u| u.get(&(guild, command.to_owned())).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn update(&self, guild: GuildId, change: impl FnOnce(&mut GuildSettings)) {
        if let Ok(mut guilds) = self.guilds.write() {
            let mut settings = guilds
                .get(&guild)
                .map(|s| (**s).clone())
                .unwrap_or_default();
            change(&mut settings);
            guilds.insert(guild, Arc::new(settings));
        }
    }
}

impl GuildSettingsStore for MemorySettings {
    fn cached(&self, guild: GuildId) -> Option<Arc<GuildSettings>> {
        Some(
            self.guilds
                .read()
                .ok()
                .and_then(|g| g.get(&guild).cloned())
                .unwrap_or_default(),
        )
    }

    fn load(&self, guild: GuildId) -> BoxFuture<'_, Result<Arc<GuildSettings>, SettingsError>> {
        let settings = self.cached(guild).unwrap_or_default();
        Box::pin(async move { Ok(settings) })
    }

    fn set_prefix(
        &self,
        guild: GuildId,
        prefix: Option<String>,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        self.update(guild, |s| s.prefix = prefix);
        Box::pin(async { Ok(()) })
    }

    fn set_mention_prefix(
        &self,
        guild: GuildId,
        enabled: Option<bool>,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        self.update(guild, |s| s.mention_prefix = enabled);
        Box::pin(async { Ok(()) })
    }

    fn set_command_roles(
        &self,
        guild: GuildId,
        roles: CommandRoles,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        self.update(guild, |s| s.command_roles = roles);
        Box::pin(async { Ok(()) })
    }

    fn set_auto_delete(
        &self,
        guild: GuildId,
        auto_delete: AutoDelete,
    ) -> BoxFuture<'_, Result<(), SettingsError>> {
        self.update(guild, |s| s.auto_delete = auto_delete);
        Box::pin(async { Ok(()) })
    }

    fn record_command(&self, guild: Option<GuildId>, command: &str) {
        if let Ok(mut usage) = self.usage.write() {
            *usage.entry((guild, command.to_owned())).or_insert(0) += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_settings_round_trip() {
        let store = MemorySettings::default();
        let guild = GuildId(7);
        assert_eq!(
            *settings_of(&store, guild).await.expect("load"),
            GuildSettings::default()
        );
        store
            .set_prefix(guild, Some("?".into()))
            .await
            .expect("set");
        store
            .set_mention_prefix(guild, Some(false))
            .await
            .expect("set");
        let settings = settings_of(&store, guild).await.expect("load");
        assert_eq!(settings.prefix.as_deref(), Some("?"));
        assert_eq!(settings.mention_prefix, Some(false));
        store.record_command(Some(guild), "ping");
        store.record_command(Some(guild), "ping");
        assert_eq!(store.usage(Some(guild), "ping"), 2);
    }
}
