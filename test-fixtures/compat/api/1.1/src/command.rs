//! Declaring commands: name, arguments, kind, cooldown and who may run them.

use std::time::Duration;

/// How a command can be invoked.
#[repr(u8)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum CommandKind {
    /// Only as a prefixed message (`!name`).
    Prefix = 0,
    /// Only as a slash command (`/name`).
    Slash = 1,
    /// Both.
    #[default]
    Hybrid = 2,
}

/// Who may run a command.
#[repr(u8)]
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Permission {
    /// Anyone.
    #[default]
    Everyone = 0,
    /// Members who can manage messages.
    Moderator = 1,
    /// Guild administrators.
    Administrator = 2,
    /// Bot owners only.
    Owner = 3,
}

/// What a cooldown counts uses per.
#[repr(u8)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Bucket {
    /// Each user has their own budget.
    #[default]
    User = 0,
    /// Each channel.
    Channel = 1,
    /// Each guild.
    Guild = 2,
    /// One budget for everyone.
    Global = 3,
}

/// `rate` uses per `per`, counted per [`Bucket`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cooldown {
    /// Uses allowed in one window.
    pub rate: u32,
    /// The window.
    pub per: Duration,
    /// What the uses are counted per.
    pub bucket: Bucket,
}

/// The declared type of an argument; the host parses and checks it before the handler runs.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ArgKind {
    /// One word, or a `"quoted string"`.
    Text = 0,
    /// Everything left on the line.
    Rest = 1,
    /// A whole number.
    Integer = 2,
    /// A decimal number.
    Float = 3,
    /// `true/yes/1/y/on` or `false/no/0/n/off`.
    Bool = 4,
    /// A user mention or id.
    User = 5,
    /// A guild member mention or id.
    Member = 6,
    /// A role mention or id.
    Role = 7,
    /// A channel mention or id.
    Channel = 8,
}

impl ArgKind {
    /// A short name for usage lines (`text`, `integer`, `user`...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Rest => "text...",
            Self::Integer => "integer",
            Self::Float => "number",
            Self::Bool => "yes/no",
            Self::User => "user",
            Self::Member => "member",
            Self::Role => "role",
            Self::Channel => "channel",
        }
    }
}

/// A declared command argument.
///
/// ```
/// use zoryx_plugin_api::{Arg, ArgKind};
///
/// let amount = Arg::integer("amount").description("How many coins");
/// let note = Arg::rest("note").optional();
/// assert_eq!(amount.kind, ArgKind::Integer);
/// assert!(amount.required && !note.required);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Arg {
    /// The argument's name, as shown in usage and slash options.
    pub name: String,
    /// Help text.
    pub description: String,
    /// Its type.
    pub kind: ArgKind,
    /// Whether it must be given.
    pub required: bool,
}

macro_rules! arg_constructors {
    ($($(#[$doc:meta])* $fn_name:ident => $kind:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $fn_name(name: impl Into<String>) -> Self {
                Self::new(name, ArgKind::$kind)
            }
        )*
    };
}

impl Arg {
    /// A required argument of the given kind.
    pub fn new(name: impl Into<String>, kind: ArgKind) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            kind,
            required: true,
        }
    }

    arg_constructors! {
        /// One word or a quoted string.
        text => Text,
        /// The rest of the line.
        rest => Rest,
        /// A whole number.
        integer => Integer,
        /// A decimal number.
        float => Float,
        /// A yes/no value.
        boolean => Bool,
        /// A user mention or id.
        user => User,
        /// A member mention or id.
        member => Member,
        /// A role mention or id.
        role => Role,
        /// A channel mention or id.
        channel => Channel,
    }

    /// Sets the help text.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Makes the argument optional.
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// Everything about a command except its handler.
///
/// ```
/// use std::time::Duration;
/// use zoryx_plugin_api::{Arg, CommandKind, CommandSpec, Permission};
///
/// let spec = CommandSpec::new("ban")
///     .description("Ban a member")
///     .alias("b")
///     .category("moderation")
///     .arg(Arg::member("who"))
///     .arg(Arg::rest("reason").optional())
///     .kind(CommandKind::Prefix)
///     .permission(Permission::Moderator)
///     .cooldown(1, Duration::from_secs(5));
/// assert_eq!(spec.usage("!"), "!ban <who: member> [reason: text...]");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandSpec {
    /// The command name.
    pub name: String,
    /// Help text.
    pub description: String,
    /// Other names it answers to (prefix form).
    pub aliases: Vec<String>,
    /// Help menu category.
    pub category: String,
    /// Declared arguments, in order.
    pub args: Vec<Arg>,
    /// Prefix, slash or hybrid.
    pub kind: CommandKind,
    /// An optional cooldown.
    pub cooldown: Option<Cooldown>,
    /// Who may run it.
    pub permission: Permission,
}

impl CommandSpec {
    /// A hybrid command open to everyone, with no arguments.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            aliases: Vec::new(),
            category: "general".to_owned(),
            args: Vec::new(),
            kind: CommandKind::Hybrid,
            cooldown: None,
            permission: Permission::Everyone,
        }
    }

    /// Sets the help text.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Adds an alias.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// Sets the help category.
    pub fn category(mut self, category: impl Into<String>) -> Self {
        self.category = category.into();
        self
    }

    /// Appends an argument.
    pub fn arg(mut self, arg: Arg) -> Self {
        self.args.push(arg);
        self
    }

    /// Sets prefix, slash or hybrid.
    pub fn kind(mut self, kind: CommandKind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets who may run it.
    pub fn permission(mut self, permission: Permission) -> Self {
        self.permission = permission;
        self
    }

    /// Allows `rate` uses per `per` for each user.
    pub fn cooldown(self, rate: u32, per: Duration) -> Self {
        self.cooldown_per(rate, per, Bucket::User)
    }

    /// Allows `rate` uses per `per`, counted per `bucket`.
    pub fn cooldown_per(mut self, rate: u32, per: Duration, bucket: Bucket) -> Self {
        self.cooldown = Some(Cooldown { rate, per, bucket });
        self
    }

    /// The usage line: `<required: kind>` and `[optional: kind]` after the prefix and name.
    pub fn usage(&self, prefix: &str) -> String {
        let mut usage = format!("{prefix}{}", self.name);
        for arg in &self.args {
            let (open, close) = if arg.required { ('<', '>') } else { ('[', ']') };
            usage.push_str(&format!(" {open}{}: {}{close}", arg.name, arg.kind.name()));
        }
        usage
    }
}
