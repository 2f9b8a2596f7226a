//! The one command gate. Every command — a built-in or a plugin's, typed with a prefix, sent as
//! a slash command or run from the console — passes [`Gate::admit`] before its handler runs,
//! and is either admitted with its parsed arguments or refused with a [`Refusal`] that says
//! why. The checks, in order:
//!
//! 1. **owner-only**: a command of [`Permission::Owner`] is for the bot owners; no role grant
//!    opens it;
//! 2. **servers only**: a command that does not allow DMs (`CommandSpec::dm(false)`), or one
//!    with role grants, refused in a DM;
//! 3. **role grants** (`config COMMAND @role` per guild, `command_permissions` in `config.json`
//!    everywhere): a command with roles set is for members holding one of them (and the bot
//!    owners and the guild owner), whatever its level; holding one is enough, it stands in for
//!    the level and the default permissions below;
//! 4. **level**: Moderator (Manage Messages or Manage Server) or Administrator, from the
//!    member's permissions, computed only for a command that needs more than Everyone;
//! 5. **default permissions** (`CommandSpec::default_permissions`): Discord applies them to the
//!    slash form itself; the gate applies them to the other forms;
//! 6. **arguments**: parsed by their declared types (slash options arrive typed) and checked
//!    against their rules; the refusal carries the usage line;
//! 7. **cooldown**, last, so that a refused or mistyped call does not use up a turn.
//!
//! Bot owners pass 3–5. [`Gate::check`] runs 1–5 without side effects: `whycant` and the help
//! menu ask it which commands a member may run.

pub mod args;
pub mod cooldown;

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use std::time::{Duration, Instant};

use zoryx_plugin_api::{
    Args, Attachment, CommandSpec, Cooldown, Invocation, Permission, Permissions, Source,
};

use self::args::{ArgError, apply_rules, parse_args_with_files};
use self::cooldown::Cooldowns;

/// Role ids allowed to run a command, by command name (lowercase).
pub type CommandRoles = BTreeMap<String, Vec<u64>>;

/// Why the gate refused a command. [`Refusal::explain`] words it for the member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The command is for the bot owners.
    OwnerOnly,
    /// The command only works in servers.
    GuildOnly,
    /// The command is restricted to roles the member holds none of.
    Roles {
        /// The roles that may run it.
        roles: Vec<u64>,
    },
    /// The member's level is below the command's.
    Level {
        /// What the command needs.
        required: Permission,
    },
    /// The member lacks Discord permissions the command asks for.
    Permissions {
        /// The missing permissions, by Discord's names.
        missing: Vec<&'static str>,
    },
    /// The command is on cooldown for the member (or channel, guild).
    Cooldown {
        /// Until it may run again.
        left: Duration,
    },
    /// The arguments did not fit.
    Arguments {
        /// What was wrong.
        error: ArgError,
        /// The expected form, with the prefix.
        usage: String,
    },
}

impl Refusal {
    /// One sentence for the member refused `command`.
    pub fn explain(&self, command: &str) -> String {
        match self {
            Self::OwnerOnly => format!("`{command}` is for the bot owners only."),
            Self::GuildOnly => format!("`{command}` only works in servers, not in DMs."),
            Self::Roles { roles } => {
                let mentions: Vec<String> = roles.iter().map(|r| format!("<@&{r}>")).collect();
                format!(
                    "`{command}` is restricted to these roles here, and you have none of them: {}.",
                    mentions.join(", ")
                )
            }
            Self::Level { required } => format!(
                "You need {} permission to use `{command}`.",
                level_name(*required)
            ),
            Self::Permissions { missing } => format!(
                "You need the {} permission to use `{command}`.",
                missing.join(", ")
            ),
            Self::Cooldown { left } => format!(
                "`{command}` is on cooldown: try again in {}s.",
                left.as_secs_f64().ceil().max(1.0) as u64
            ),
            Self::Arguments { error, .. } => error.to_string(),
        }
    }

    /// A short title for the refusal's embed.
    pub fn title(&self) -> &'static str {
        match self {
            Self::OwnerOnly
            | Self::Roles { .. }
            | Self::Level { .. }
            | Self::Permissions { .. } => "Permission denied",
            Self::GuildOnly => "Servers only",
            Self::Cooldown { .. } => "Cooldown",
            Self::Arguments { .. } => "Invalid arguments",
        }
    }
}

/// How a permission level is named to members.
pub fn level_name(level: Permission) -> &'static str {
    match level {
        Permission::Everyone => "no special",
        Permission::Moderator => "Moderator (Manage Messages or Manage Server)",
        Permission::Administrator => "Administrator",
        Permission::Owner => "bot owner",
    }
}

/// The permission level Discord permissions amount to.
pub fn level_of(permissions: Permissions) -> Permission {
    if permissions.contains(Permissions::ADMINISTRATOR) {
        Permission::Administrator
    } else if permissions.contains(Permissions::MANAGE_MESSAGES)
        || permissions.contains(Permissions::MANAGE_GUILD)
    {
        Permission::Moderator
    } else {
        Permission::Everyone
    }
}

/// What the gate may ask about a member of a guild.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Their guild permissions (all of them for the guild owner).
    pub permissions: Permissions,
    /// Whether they own the guild (role grants do not lock the owner out).
    pub guild_owner: bool,
}

/// Who runs a command and where, as the gate needs it. What costs a lookup (the member's
/// permissions and ownership) is computed on first use only.
pub struct Caller<'a> {
    invocation: &'a Invocation,
    roles: &'a [u64],
    guild_roles: Option<&'a CommandRoles>,
    standing: OnceCell<Standing>,
    lookup: Box<dyn Fn() -> Standing + Send + Sync + 'a>,
}

impl<'a> Caller<'a> {
    /// The caller of `invocation` (author, place, source, owner flag), with the role ids they
    /// hold in the guild and a way to find their standing there when needed.
    pub fn new(
        invocation: &'a Invocation,
        roles: &'a [u64],
        standing: impl Fn() -> Standing + Send + Sync + 'a,
    ) -> Self {
        Self {
            invocation,
            roles,
            guild_roles: None,
            standing: OnceCell::new(),
            lookup: Box::new(standing),
        }
    }

    /// A caller whose standing is already known as a level (the console's operator, tests).
    pub fn with_level(invocation: &'a Invocation, level: Permission) -> Self {
        let permissions = match level {
            Permission::Administrator | Permission::Owner => Permissions::ADMINISTRATOR,
            Permission::Moderator => Permissions::MANAGE_MESSAGES,
            Permission::Everyone => Permissions::NONE,
        };
        Self::new(invocation, &[], move || Standing {
            permissions,
            guild_owner: false,
        })
    }

    /// The guild's own role grants (from its settings).
    pub fn guild_roles(mut self, roles: Option<&'a CommandRoles>) -> Self {
        self.guild_roles = roles;
        self
    }

    /// The invocation.
    pub fn invocation(&self) -> &Invocation {
        self.invocation
    }

    /// The caller's standing in the guild (looked up once).
    pub fn standing(&self) -> Standing {
        *self.standing.get_or_init(|| (self.lookup)())
    }

    fn permissions(&self) -> Permissions {
        self.standing().permissions
    }

    fn is_owner(&self) -> bool {
        self.invocation.is_owner
    }
}

/// The arguments as they arrived: text to parse, or typed slash options.
pub enum Input<'a> {
    /// Text after the command name, and the message's files.
    Text {
        /// The text.
        text: &'a str,
        /// The files attached to the message.
        attachments: &'a [Attachment],
    },
    /// Slash command options, already typed.
    Typed(Args),
}

/// The command gate: the checks, the cooldown windows and the global role grants.
#[derive(Debug, Default)]
pub struct Gate {
    cooldowns: Cooldowns,
    global_roles: ArcSwap<CommandRoles>,
    /// `cooldowns.default_rate` / `default_per`: the cooldown of commands that declare none.
    default_cooldown: ArcSwap<Option<Cooldown>>,
}

impl Gate {
    /// A gate with the global role grants of `command_permissions`.
    pub fn new(global_roles: CommandRoles) -> Self {
        let gate = Self::default();
        gate.set_global_roles(global_roles);
        gate
    }

    /// Replaces the global role grants (`command_permissions`); names are matched lowercase.
    pub fn set_global_roles(&self, roles: CommandRoles) {
        let roles: CommandRoles = roles
            .into_iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(name, ids)| (name.to_lowercase(), ids))
            .collect();
        self.global_roles.store(Arc::new(roles));
    }

    /// Sets the cooldown of commands that declare none (`cooldowns.default_rate` uses per
    /// `cooldowns.default_per` seconds, per user); `None` turns it off.
    pub fn set_default_cooldown(&self, cooldown: Option<Cooldown>) {
        self.default_cooldown.store(Arc::new(cooldown));
    }

    /// The cooldown `spec` runs under for `caller`: its own, or the default one. Bot owners
    /// are held by none: cooldowns protect the bot from its members, not from its operators.
    fn cooldown_for(&self, spec: &CommandSpec, caller: &Caller<'_>) -> Option<Cooldown> {
        if caller.invocation.is_owner {
            return None;
        }
        match &spec.cooldown {
            Some(own) => Some(*own),
            None => **self.default_cooldown.load(),
        }
    }

    /// The global role grants.
    pub fn global_roles(&self) -> Arc<CommandRoles> {
        self.global_roles.load_full()
    }

    /// The roles that may run `command` for this caller: the guild's grants and the global
    /// ones together (empty: no restriction).
    pub fn roles_for(&self, command: &str, caller: &Caller<'_>) -> Vec<u64> {
        let global = self.global_roles.load();
        let guild = caller.guild_roles.filter(|g| !g.is_empty());
        if global.is_empty() && guild.is_none() {
            return Vec::new();
        }
        let lowered;
        let key = if command.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = command.to_lowercase();
            lowered.as_str()
        } else {
            command
        };
        let mut roles = Vec::new();
        if let Some(guild) = guild
            && let Some(ids) = guild.get(key)
        {
            roles.extend_from_slice(ids);
        }
        if let Some(ids) = global.get(key) {
            for id in ids {
                if !roles.contains(id) {
                    roles.push(*id);
                }
            }
        }
        roles
    }

    /// Checks 1–5 (who may run `spec` where), without parsing or using a cooldown turn.
    pub fn check(&self, spec: &CommandSpec, caller: &Caller<'_>) -> Result<(), Refusal> {
        let owner = caller.is_owner();
        if spec.permission == Permission::Owner {
            return if owner {
                Ok(())
            } else {
                Err(Refusal::OwnerOnly)
            };
        }
        // The console has no guild: the rules of places are Discord's.
        let in_dm =
            caller.invocation.guild_id.is_none() && caller.invocation.source != Source::Console;
        if in_dm && !spec.dm {
            return Err(Refusal::GuildOnly);
        }
        if owner {
            return Ok(());
        }
        // Role grants, by the command's own name and, for a subcommand, its parent's.
        let mut roles = self.roles_for(&spec.name, caller);
        if let Some((root, _)) = spec.name.split_once(' ') {
            for id in self.roles_for(root, caller) {
                if !roles.contains(&id) {
                    roles.push(id);
                }
            }
        }
        if !roles.is_empty() {
            if in_dm {
                return Err(Refusal::GuildOnly);
            }
            if caller.roles.iter().any(|r| roles.contains(r)) || caller.standing().guild_owner {
                return Ok(());
            }
            return Err(Refusal::Roles { roles });
        }
        if spec.permission != Permission::Everyone && !in_dm {
            if level_of(caller.permissions()) < spec.permission {
                return Err(Refusal::Level {
                    required: spec.permission,
                });
            }
        } else if spec.permission != Permission::Everyone {
            // Levels are guild permissions: nobody holds one in a DM.
            return Err(Refusal::Level {
                required: spec.permission,
            });
        }
        if let Some(wanted) = spec.default_permissions
            && caller.invocation.source != Source::Slash
            && !in_dm
        {
            let missing = caller.permissions().missing(wanted);
            if !missing.is_empty() {
                return Err(Refusal::Permissions {
                    missing: missing.names(),
                });
            }
        }
        Ok(())
    }

    /// Checks 1–5 and the cooldown, without using a turn: what `whycant` reports.
    pub fn explain(&self, spec: &CommandSpec, caller: &Caller<'_>) -> Result<(), Refusal> {
        self.check(spec, caller)?;
        if let Some(cooldown) = self.cooldown_for(spec, caller)
            && let Some(left) =
                self.cooldowns
                    .remaining(&spec.name, &cooldown, caller.invocation, Instant::now())
        {
            return Err(Refusal::Cooldown { left });
        }
        Ok(())
    }

    /// Admits `spec` for `caller` with `input`, or refuses it: checks 1–5, then the arguments,
    /// then the cooldown (a turn is used only by an admitted call). `prefix` goes in the usage
    /// line of a refusal.
    pub fn admit(
        &self,
        spec: &CommandSpec,
        caller: &Caller<'_>,
        input: Input<'_>,
        prefix: &str,
    ) -> Result<Args, Refusal> {
        self.check(spec, caller)?;
        let parsed = match input {
            Input::Typed(args) => Ok(args),
            Input::Text { text, attachments } => {
                parse_args_with_files(&spec.args, text, attachments)
            }
        }
        .and_then(|args| apply_rules(&spec.args, args));
        let args = parsed.map_err(|error| Refusal::Arguments {
            error,
            usage: spec.usage(prefix),
        })?;
        if let Some(cooldown) = self.cooldown_for(spec, caller) {
            self.cooldowns
                .check(&spec.name, &cooldown, caller.invocation, Instant::now())
                .map_err(|left| Refusal::Cooldown { left })?;
        }
        Ok(args)
    }
}
