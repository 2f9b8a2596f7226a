//! Who may do what: roles and their permissions, deny by default.
//!
//! Bot owners are `owner` (everything). `dashboard.users` gives others `admin`, `viewer` or a
//! custom role of `dashboard.roles`, a list of permission names. A person in neither is refused
//! at login; a permission not in a role's table is refused. The table is read from the running
//! config at each request, so a change of `dashboard.users` or `dashboard.roles` (the config page,
//! `fw_config_set`) applies at once.

use std::collections::BTreeMap;

use crate::config::{DASHBOARD_PERMISSIONS, DashboardConfig};

/// One thing the dashboard lets someone do; `View*` opens a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// The overview page and its live figures.
    ViewOverview,
    /// The plugins page.
    ViewPlugins,
    /// The commands page.
    ViewCommands,
    /// The shards page.
    ViewShards,
    /// The system page.
    ViewSystem,
    /// The logs page and its live tail.
    ViewLogs,
    /// The config page (secrets masked).
    ViewConfig,
    /// The databases page.
    ViewDatabases,
    /// The security page: audit log and sessions.
    ViewSecurity,
    /// The guilds page.
    ViewGuilds,
    /// Load a plugin.
    PluginsLoad,
    /// Unload a plugin.
    PluginsUnload,
    /// Reload a plugin.
    PluginsReload,
    /// Change a config key.
    ConfigEdit,
    /// End someone's session.
    SessionsRevoke,
    /// Send a message as the bot.
    ChatSend,
    /// The hooks and circuit breakers page.
    ViewHooks,
    /// The plugins' own pages (read).
    ViewPanels,
    /// Disable or enable a hook, close a circuit breaker by hand.
    HooksManage,
    /// Change a guild's settings (prefix, language...).
    GuildsManage,
    /// Make the bot leave a guild.
    GuildsLeave,
    /// Change who may run a command (`command_permissions`).
    CommandsPermissions,
    /// Run a database integrity check.
    DatabasesCheck,
    /// Take the actions of the plugins' own pages.
    PanelsAct,
}

impl Permission {
    /// Every permission, in [`DASHBOARD_PERMISSIONS`] order.
    pub const ALL: [Permission; 24] = [
        Self::ViewOverview,
        Self::ViewPlugins,
        Self::ViewCommands,
        Self::ViewShards,
        Self::ViewSystem,
        Self::ViewLogs,
        Self::ViewConfig,
        Self::ViewDatabases,
        Self::ViewSecurity,
        Self::ViewGuilds,
        Self::PluginsLoad,
        Self::PluginsUnload,
        Self::PluginsReload,
        Self::ConfigEdit,
        Self::SessionsRevoke,
        Self::ChatSend,
        Self::ViewHooks,
        Self::ViewPanels,
        Self::HooksManage,
        Self::GuildsManage,
        Self::GuildsLeave,
        Self::CommandsPermissions,
        Self::DatabasesCheck,
        Self::PanelsAct,
    ];

    /// Its name in `dashboard.roles`.
    pub fn name(self) -> &'static str {
        let index = Self::ALL.iter().position(|p| *p == self).unwrap_or(0);
        DASHBOARD_PERMISSIONS[index]
    }

    /// The permission named `name`.
    pub fn named(name: &str) -> Option<Self> {
        DASHBOARD_PERMISSIONS
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// Whether it only opens a page.
    pub fn is_view(self) -> bool {
        self.name().starts_with("view.")
    }
}

/// A person's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A bot owner: everything.
    Owner,
    /// Every page but the security page; the plugin operations, chat, hooks, guild settings,
    /// integrity checks and the plugins' page actions; not the config editor nor command
    /// permissions, not leaving guilds, not ending sessions.
    Admin,
    /// Every page but the security page, read only.
    Viewer,
    /// A role of `dashboard.roles`: the permissions it lists.
    Custom {
        /// Its name.
        name: String,
        /// What it may do.
        permissions: Vec<Permission>,
    },
}

impl Role {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Viewer => "viewer",
            Self::Custom { name, .. } => name,
        }
    }

    /// Whether it may do `permission`. Anything not granted here is refused.
    pub fn allows(&self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Self::Owner => true,
            Self::Admin => matches!(
                permission,
                ViewOverview
                    | ViewPlugins
                    | ViewCommands
                    | ViewShards
                    | ViewSystem
                    | ViewLogs
                    | ViewConfig
                    | ViewDatabases
                    | ViewGuilds
                    | ViewHooks
                    | ViewPanels
                    | PluginsLoad
                    | PluginsUnload
                    | PluginsReload
                    | ChatSend
                    | HooksManage
                    | GuildsManage
                    | DatabasesCheck
                    | PanelsAct
            ),
            Self::Viewer => matches!(
                permission,
                ViewOverview
                    | ViewPlugins
                    | ViewCommands
                    | ViewShards
                    | ViewSystem
                    | ViewLogs
                    | ViewConfig
                    | ViewDatabases
                    | ViewGuilds
                    | ViewHooks
                    | ViewPanels
            ),
            Self::Custom { permissions, .. } => permissions.contains(&permission),
        }
    }
}

/// The roles in force: bot owners, and `dashboard.users` / `dashboard.roles`.
#[derive(Clone, Debug, Default)]
pub struct Access {
    owners: Vec<u64>,
    users: BTreeMap<String, String>,
    roles: BTreeMap<String, Vec<String>>,
}

impl Access {
    /// The table for `owners` and the config's `dashboard` section.
    pub fn new(owners: &[u64], config: &DashboardConfig) -> Self {
        Self {
            owners: owners.to_vec(),
            users: config.users.clone(),
            roles: config.roles.clone(),
        }
    }

    /// The bot owners.
    pub fn owners(&self) -> &[u64] {
        &self.owners
    }

    /// `user`'s role, or `None`: not let in.
    pub fn role_of(&self, user: u64) -> Option<Role> {
        if self.owners.contains(&user) {
            return Some(Role::Owner);
        }
        match self.users.get(&user.to_string())?.as_str() {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            // Never from the table: owners are the bot owners.
            "owner" => None,
            custom => self.roles.get(custom).map(|names| Role::Custom {
                name: custom.to_owned(),
                permissions: names.iter().filter_map(|n| Permission::named(n)).collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_config_list_both_ways() {
        for (permission, name) in Permission::ALL.iter().zip(DASHBOARD_PERMISSIONS) {
            assert_eq!(permission.name(), name);
            assert_eq!(Permission::named(name), Some(*permission));
        }
        assert_eq!(Permission::named("plugins.delete"), None);
    }

    #[test]
    fn owners_everything_viewers_read_only_custom_as_listed_others_nothing() {
        let mut config = DashboardConfig::default();
        config.users.insert("2".into(), "viewer".into());
        config.users.insert("3".into(), "reloader".into());
        config.users.insert("4".into(), "owner".into());
        config.users.insert("5".into(), "gone".into());
        config.roles.insert(
            "reloader".into(),
            vec!["view.plugins".into(), "plugins.reload".into()],
        );
        let access = Access::new(&[1], &config);
        let owner = access.role_of(1).expect("owner");
        assert!(Permission::ALL.iter().all(|p| owner.allows(*p)));
        let viewer = access.role_of(2).expect("viewer");
        assert!(
            Permission::ALL
                .iter()
                .all(|p| viewer.allows(*p) == (p.is_view() && *p != Permission::ViewSecurity))
        );
        let custom = access.role_of(3).expect("custom");
        assert!(custom.allows(Permission::PluginsReload));
        assert!(!custom.allows(Permission::PluginsUnload));
        assert!(!custom.allows(Permission::ViewOverview));
        assert_eq!(access.role_of(4), None, "owner is not given by the table");
        assert_eq!(access.role_of(5), None, "a role that does not exist");
        assert_eq!(access.role_of(6), None);
        let admin = Role::Admin;
        assert!(!admin.allows(Permission::ConfigEdit) && !admin.allows(Permission::ViewSecurity));
    }
}
