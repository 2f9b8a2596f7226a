//! Declaring commands: name, arguments, kind, cooldown and who may run them; the rules of an
//! argument (choices, ranges, lengths, channel types, autocomplete), subcommands and the
//! permissions Discord asks for (plugin-api 1.3).

use std::time::Duration;

use crate::guild::ChannelKind;
use crate::permissions::Permissions;

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
    /// The only values it takes (plugin-api 1.3; at most 25 for a slash command). Empty: any.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// The smallest number it takes (integers and numbers; plugin-api 1.3).
    #[serde(default)]
    pub min: Option<Number>,
    /// The largest number it takes (integers and numbers; plugin-api 1.3).
    #[serde(default)]
    pub max: Option<Number>,
    /// The fewest characters it takes (text; 0–6,000; plugin-api 1.3).
    #[serde(default)]
    pub min_length: Option<u16>,
    /// The most characters it takes (text; 1–6,000; plugin-api 1.3).
    #[serde(default)]
    pub max_length: Option<u16>,
    /// The kinds of channel a slash command offers (channels; empty: any; plugin-api 1.3).
    #[serde(default)]
    pub channel_types: Vec<ChannelKind>,
    /// Discord asks the plugin for suggestions while the user types (plugin-api 1.3; set by
    /// [`Registrar::autocomplete`](crate::Registrar::autocomplete)).
    #[serde(default)]
    pub autocomplete: bool,
    /// A file the user attaches (plugin-api 1.3; see [`Arg::attachment`]); its kind is
    /// [`ArgKind::Text`], which carries the file's metadata.
    #[serde(default)]
    pub attachment: bool,
}

/// A number an argument's range is given in: whole or decimal.
///
/// Converts from the integer and float types, so `Arg::integer("n").range(1, 100)` and
/// `Arg::float("f").min(0.5)` read naturally.
///
/// ```
/// use zoryx_plugin_api::{Arg, Number};
///
/// assert_eq!(Arg::integer("n").range(1, 100).max, Some(Number::Integer(100)));
/// assert_eq!(Arg::float("f").min(0.5).min, Some(Number::Float(0.5)));
/// assert_eq!(Number::Integer(3).as_f64(), 3.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Number {
    /// A whole number.
    Integer(i64),
    /// A decimal number.
    Float(f64),
}

// Ranges are finite numbers (the builders and `CommandSpec::check` keep NaN out).
impl Eq for Number {}

impl Number {
    /// The number as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Integer(i) => i as f64,
            Self::Float(f) => f,
        }
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
        }
    }
}

macro_rules! number_from {
    ($($ty:ty => $variant:ident),*) => {$(
        impl From<$ty> for Number {
            fn from(value: $ty) -> Self {
                Self::$variant(value.into())
            }
        }
    )*};
}

number_from!(i64 => Integer, i32 => Integer, u32 => Integer, i16 => Integer, u16 => Integer, u8 => Integer, f64 => Float, f32 => Float);

/// One of the values an argument takes: the name shown to the user and the value the handler
/// gets (plugin-api 1.3).
///
/// ```
/// use zoryx_plugin_api::command::{Choice, ChoiceValue};
///
/// let red = Choice::from("red");
/// assert_eq!((red.name.as_str(), &red.value), ("red", &ChoiceValue::Text("red".into())));
/// let big = Choice::new("Big", 10);
/// assert_eq!(big.value, ChoiceValue::Integer(10));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Choice {
    /// What the user sees (1–100 characters).
    pub name: String,
    /// What the handler gets.
    pub value: ChoiceValue,
}

impl Choice {
    /// A choice showing `name` for `value`.
    pub fn new(name: impl Into<String>, value: impl Into<ChoiceValue>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl From<&str> for Choice {
    fn from(value: &str) -> Self {
        Self::new(value, value)
    }
}

impl From<String> for Choice {
    fn from(value: String) -> Self {
        Self::new(value.clone(), value)
    }
}

macro_rules! choice_from_number {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Choice {
            fn from(value: $ty) -> Self {
                Self::new(value.to_string(), value)
            }
        }
    )*};
}

choice_from_number!(i64, i32, u32, f64);

impl<N: Into<String>, V: Into<ChoiceValue>> From<(N, V)> for Choice {
    fn from((name, value): (N, V)) -> Self {
        Self::new(name, value)
    }
}

/// The value of a [`Choice`]: text, a whole number or a decimal number, as the argument's kind.
///
/// ```
/// use zoryx_plugin_api::ChoiceValue;
///
/// assert_eq!(ChoiceValue::from("red"), ChoiceValue::Text("red".into()));
/// assert_eq!(ChoiceValue::from(3).to_string(), "3");
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceValue {
    /// For text arguments.
    Text(String),
    /// For integer (and number) arguments.
    Integer(i64),
    /// For number arguments.
    Float(f64),
}

// Choice values are finite numbers (`CommandSpec::check` keeps NaN out).
impl Eq for ChoiceValue {}

impl std::fmt::Display for ChoiceValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(t) => f.write_str(t),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
        }
    }
}

impl From<&str> for ChoiceValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for ChoiceValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

macro_rules! choice_value_from {
    ($($ty:ty => $variant:ident),*) => {$(
        impl From<$ty> for ChoiceValue {
            fn from(value: $ty) -> Self {
                Self::$variant(value.into())
            }
        }
    )*};
}

choice_value_from!(i64 => Integer, i32 => Integer, u32 => Integer, f64 => Float, f32 => Float);

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
            choices: Vec::new(),
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            channel_types: Vec::new(),
            autocomplete: false,
            attachment: false,
        }
    }

    /// A file the user attaches (plugin-api 1.3): a slash command's attachment option, or on
    /// a prefix command the message's next attached file (in the order of the files, one per
    /// such argument). The handler reads its metadata — name, size, type and a URL to download
    /// it from (through [`Host::http`](crate::Host::http)) — as an
    /// [`Attachment`](crate::Attachment).
    ///
    /// ```
    /// use zoryx_plugin_api::{Arg, ArgValue, Args, Attachment};
    ///
    /// let arg = Arg::attachment("image").description("The picture to check");
    /// assert!(arg.attachment && arg.required);
    /// // The host hands the handler the file's metadata:
    /// let file = Attachment { id: 1, filename: "cat.png".into(), size: 2048, ..Attachment::default() };
    /// let args = Args::new(vec![("image".into(), ArgValue::Text(serde_json::to_string(&file)?))]);
    /// assert_eq!(args.get::<Attachment>("image")?.filename, "cat.png");
    /// # Ok::<(), zoryx_plugin_api::PluginError>(())
    /// ```
    pub fn attachment(name: impl Into<String>) -> Self {
        let mut arg = Self::new(name, ArgKind::Text);
        arg.attachment = true;
        arg
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

    /// Limits the argument to these values (plugin-api 1.3): text, whole or decimal numbers,
    /// as the argument's kind; a plain value is shown as itself, a `(name, value)` pair shows
    /// `name`. Slash commands offer them as a list; prefix commands accept a value or a name
    /// (any case) and refuse anything else with the list.
    ///
    /// ```
    /// use zoryx_plugin_api::{Arg, CommandSpec};
    ///
    /// let colour = Arg::text("colour").choices(["red", "blue"]);
    /// let size = Arg::integer("size").choices([("Small", 1), ("Large", 3)]);
    /// assert_eq!(colour.choices.len(), 2);
    /// assert_eq!(size.choices[1].name, "Large");
    /// assert!(CommandSpec::new("paint").arg(colour).arg(size).check().is_ok());
    /// ```
    pub fn choices<C: Into<Choice>>(mut self, choices: impl IntoIterator<Item = C>) -> Self {
        self.choices.extend(choices.into_iter().map(Into::into));
        self
    }

    /// Adds one choice showing `name` for `value` (plugin-api 1.3).
    pub fn choice(mut self, name: impl Into<String>, value: impl Into<ChoiceValue>) -> Self {
        self.choices.push(Choice::new(name, value));
        self
    }

    /// The smallest and largest number it takes, both included (integers and numbers;
    /// plugin-api 1.3).
    ///
    /// ```
    /// use zoryx_plugin_api::Arg;
    ///
    /// let n = Arg::integer("n").range(1, 100);
    /// assert!(n.check_value(&zoryx_plugin_api::ArgValue::Integer(100)).is_ok());
    /// assert_eq!(
    ///     n.check_value(&zoryx_plugin_api::ArgValue::Integer(101)).unwrap_err(),
    ///     "must be at most 100"
    /// );
    /// ```
    pub fn range(self, min: impl Into<Number>, max: impl Into<Number>) -> Self {
        self.min(min).max(max)
    }

    /// The smallest number it takes (plugin-api 1.3).
    pub fn min(mut self, min: impl Into<Number>) -> Self {
        self.min = Some(min.into());
        self
    }

    /// The largest number it takes (plugin-api 1.3).
    pub fn max(mut self, max: impl Into<Number>) -> Self {
        self.max = Some(max.into());
        self
    }

    /// The fewest and most characters a text takes, both included (plugin-api 1.3).
    pub fn length(mut self, min: u16, max: u16) -> Self {
        self.min_length = Some(min);
        self.max_length = Some(max);
        self
    }

    /// The fewest characters a text takes (plugin-api 1.3).
    pub fn min_length(mut self, min: u16) -> Self {
        self.min_length = Some(min);
        self
    }

    /// The most characters a text takes (plugin-api 1.3).
    pub fn max_length(mut self, max: u16) -> Self {
        self.max_length = Some(max);
        self
    }

    /// The kinds of channel a slash command offers for a channel argument (plugin-api 1.3).
    pub fn channel_types(mut self, kinds: impl IntoIterator<Item = ChannelKind>) -> Self {
        self.channel_types.extend(kinds);
        self
    }

    /// Marks the argument as suggested while the user types; register the suggestions with
    /// [`Registrar::autocomplete`](crate::Registrar::autocomplete), which marks it too
    /// (plugin-api 1.3).
    pub fn autocomplete(mut self) -> Self {
        self.autocomplete = true;
        self
    }

    /// Checks a parsed value against the argument's choices, range and lengths; the error says
    /// what it must be (the host refuses such a value with the command's usage).
    ///
    /// ```
    /// use zoryx_plugin_api::{Arg, ArgValue};
    ///
    /// let colour = Arg::text("colour").choices(["red", "blue"]);
    /// assert!(colour.check_value(&ArgValue::Text("red".into())).is_ok());
    /// assert_eq!(
    ///     colour.check_value(&ArgValue::Text("green".into())).unwrap_err(),
    ///     "must be one of: red, blue"
    /// );
    /// let name = Arg::text("name").length(2, 4);
    /// assert_eq!(
    ///     name.check_value(&ArgValue::Text("x".into())).unwrap_err(),
    ///     "must be at least 2 characters long"
    /// );
    /// ```
    pub fn check_value(&self, value: &crate::ArgValue) -> Result<(), String> {
        use crate::ArgValue;
        if !self.choices.is_empty() {
            let matches = |choice: &Choice| match (&choice.value, value) {
                (ChoiceValue::Text(a), ArgValue::Text(b)) => a == b,
                (ChoiceValue::Integer(a), ArgValue::Integer(b)) => a == b,
                (ChoiceValue::Integer(a), ArgValue::Float(b)) => (*a as f64) == *b,
                (ChoiceValue::Float(a), ArgValue::Float(b)) => a == b,
                (ChoiceValue::Float(a), ArgValue::Integer(b)) => *a == (*b as f64),
                _ => false,
            };
            if !self.choices.iter().any(matches) {
                let names: Vec<&str> = self.choices.iter().map(|c| c.name.as_str()).collect();
                return Err(format!("must be one of: {}", names.join(", ")));
            }
        }
        let number = match value {
            ArgValue::Integer(i) => Some(*i as f64),
            ArgValue::Float(f) => Some(*f),
            _ => None,
        };
        if let Some(n) = number {
            if let Some(min) = self.min.filter(|m| n < m.as_f64()) {
                return Err(format!("must be at least {min}"));
            }
            if let Some(max) = self.max.filter(|m| n > m.as_f64()) {
                return Err(format!("must be at most {max}"));
            }
        }
        if let ArgValue::Text(text) = value {
            let chars = text.chars().count();
            if let Some(min) = self.min_length.filter(|m| chars < usize::from(*m)) {
                return Err(format!("must be at least {min} characters long"));
            }
            if let Some(max) = self.max_length.filter(|m| chars > usize::from(*m)) {
                return Err(format!("must be at most {max} characters long"));
            }
        }
        Ok(())
    }

    /// The choice a prefix command's typed `text` names: a choice's value, or its name, in any
    /// case. `None` when the argument has no text choices or none matches.
    pub fn choice_for(&self, text: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| match &c.value {
            ChoiceValue::Text(value) => {
                value.eq_ignore_ascii_case(text) || c.name.eq_ignore_ascii_case(text)
            }
            _ => c.name.eq_ignore_ascii_case(text),
        })
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
    /// Subcommands (plugin-api 1.3): `config set`, `config show`; one level of groups
    /// (`config role add`). A command with subcommands takes no arguments of its own.
    #[serde(default)]
    pub subcommands: Vec<CommandSpec>,
    /// The permissions a member needs by default (Discord's `default_member_permissions`;
    /// server admins can change who may use it); `None`: everyone (plugin-api 1.3), except a
    /// [`Permission::Owner`] command, whose slash form the host offers to server
    /// administrators only (`0`), so members never see it.
    #[serde(default)]
    pub default_permissions: Option<Permissions>,
    /// Whether it can be used in DMs with the bot (plugin-api 1.3; default yes).
    #[serde(default = "yes")]
    pub dm: bool,
}

fn yes() -> bool {
    true
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
            subcommands: Vec::new(),
            default_permissions: None,
            dm: true,
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

    /// Adds a subcommand (plugin-api 1.3); register its handler with
    /// [`Registrar::subcommand`](crate::Registrar::subcommand) under its path
    /// (`"config set"`). A subcommand with subcommands of its own is a group.
    ///
    /// ```
    /// use zoryx_plugin_api::{Arg, CommandSpec, Permissions};
    ///
    /// let config = CommandSpec::new("config")
    ///     .description("Server settings")
    ///     .default_permissions(Permissions::MANAGE_GUILD)
    ///     .dm(false)
    ///     .subcommand(CommandSpec::new("show").description("Show the settings"))
    ///     .subcommand(
    ///         CommandSpec::new("set")
    ///             .description("Change a setting")
    ///             .arg(Arg::text("key").choices(["colour", "size"]))
    ///             .arg(Arg::rest("value")),
    ///     );
    /// assert_eq!(config.usage("!"), "!config <show|set>");
    /// assert!(config.check().is_ok());
    /// ```
    pub fn subcommand(mut self, subcommand: CommandSpec) -> Self {
        self.subcommands.push(subcommand);
        self
    }

    /// The permissions a member needs by default (plugin-api 1.3). Discord hides the slash
    /// command from others (server admins can change that per server); the host refuses the
    /// prefix form to members without them (bot owners excepted).
    pub fn default_permissions(mut self, permissions: Permissions) -> Self {
        self.default_permissions = Some(permissions);
        self
    }

    /// Whether the command works in DMs with the bot (plugin-api 1.3; default `true`).
    pub fn dm(mut self, allowed: bool) -> Self {
        self.dm = allowed;
        self
    }

    /// The subcommand at `path` below this command (`["set"]`, `["role", "add"]`).
    pub fn find_subcommand(&self, path: &[&str]) -> Option<&CommandSpec> {
        let (first, rest) = path.split_first()?;
        let sub = self
            .subcommands
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(first))?;
        if rest.is_empty() {
            Some(sub)
        } else {
            sub.find_subcommand(rest)
        }
    }

    /// The usage line: `<required: kind>` and `[optional: kind]` after the prefix and name
    /// (`<name: a|b>` for choices); `<a|b>` for the subcommands of a command that has them.
    pub fn usage(&self, prefix: &str) -> String {
        let mut usage = format!("{prefix}{}", self.name);
        if !self.subcommands.is_empty() {
            let names: Vec<&str> = self.subcommands.iter().map(|s| s.name.as_str()).collect();
            usage.push_str(&format!(" <{}>", names.join("|")));
            return usage;
        }
        for arg in &self.args {
            let (open, close) = if arg.required { ('<', '>') } else { ('[', ']') };
            let kind = if arg.attachment {
                "file".to_owned()
            } else if arg.choices.is_empty() {
                arg.kind.name().to_owned()
            } else {
                let names: Vec<&str> = arg.choices.iter().map(|c| c.name.as_str()).collect();
                names.join("|")
            };
            usage.push_str(&format!(" {open}{}: {kind}{close}", arg.name));
        }
        usage
    }

    /// Checks the command against Discord's registration limits and the rules of its options
    /// (plugin-api 1.3): names of 1–32 lowercase letters, digits, `-` or `_`; descriptions of
    /// at most 100 characters; at most 25 options, subcommands and choices; choice names of
    /// 1–100 characters; choices, ranges, lengths, channel types and autocomplete only on the
    /// kinds that take them; one level of subcommand groups, and no arguments beside
    /// subcommands. The host refuses to load a plugin whose slash command fails this, with
    /// the error naming the command and option.
    ///
    /// ```
    /// use zoryx_plugin_api::{Arg, CommandSpec};
    ///
    /// let spec = CommandSpec::new("pick").arg(Arg::integer("n").choices(0..26));
    /// let error = spec.check().unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "command `pick`, option `n`: 26 choices; Discord allows at most 25"
    /// );
    /// ```
    pub fn check(&self) -> Result<(), RegistrationError> {
        self.check_at(&self.name, 0)
    }

    fn check_at(&self, path: &str, depth: usize) -> Result<(), RegistrationError> {
        let fail = |option: Option<&str>, problem: String| RegistrationError {
            command: path.to_owned(),
            option: option.map(str::to_owned),
            problem,
        };
        if !valid_name(&self.name) {
            return Err(fail(
                None,
                "the name must be 1-32 lowercase letters, digits, - or _".to_owned(),
            ));
        }
        if chars(&self.description) > DESCRIPTION {
            return Err(fail(
                None,
                format!(
                    "the description has {} characters; Discord allows at most {DESCRIPTION}",
                    chars(&self.description)
                ),
            ));
        }
        if depth > 0 && (self.default_permissions.is_some() || !self.dm) {
            return Err(fail(
                None,
                "default permissions and DM use are set on the top-level command".to_owned(),
            ));
        }
        if !self.subcommands.is_empty() {
            if depth >= 2 {
                return Err(fail(
                    None,
                    "subcommands nest at most two levels deep (a group, then its subcommands)"
                        .to_owned(),
                ));
            }
            if !self.args.is_empty() {
                return Err(fail(
                    None,
                    "a command with subcommands takes no arguments of its own".to_owned(),
                ));
            }
            if self.subcommands.len() > OPTIONS {
                return Err(fail(
                    None,
                    format!(
                        "{} subcommands; Discord allows at most {OPTIONS}",
                        self.subcommands.len()
                    ),
                ));
            }
            let mut names = std::collections::HashSet::new();
            for sub in &self.subcommands {
                if !names.insert(sub.name.to_lowercase()) {
                    return Err(fail(
                        None,
                        format!("two subcommands are named `{}`", sub.name),
                    ));
                }
                sub.check_at(&format!("{path} {}", sub.name), depth + 1)?;
            }
            return Ok(());
        }
        if self.args.len() > OPTIONS {
            return Err(fail(
                None,
                format!(
                    "{} options; Discord allows at most {OPTIONS}",
                    self.args.len()
                ),
            ));
        }
        let mut names = std::collections::HashSet::new();
        for arg in &self.args {
            let fail = |problem: String| fail(Some(&arg.name), problem);
            if !valid_name(&arg.name) {
                return Err(fail(
                    "the name must be 1-32 lowercase letters, digits, - or _".to_owned(),
                ));
            }
            if !names.insert(arg.name.as_str()) {
                return Err(fail("two options have this name".to_owned()));
            }
            arg.check_rules().map_err(fail)?;
        }
        Ok(())
    }
}

/// Discord's limits on a command's registration.
const OPTIONS: usize = 25;
const CHOICES: usize = 25;
const DESCRIPTION: usize = 100;
const CHOICE_NAME: usize = 100;
const TEXT_LENGTH: u16 = 6000;

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Whether Discord takes `name` as a slash command or option name: 1–32 lowercase letters,
/// digits, `-` and `_`.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&chars(name))
        && name
            .chars()
            .all(|c| c == '-' || c == '_' || (c.is_alphanumeric() && !c.is_uppercase()))
}

impl Arg {
    /// The rules of one option: limits, and each rule only on the kinds that take it.
    fn check_rules(&self) -> Result<(), String> {
        if chars(&self.description) > DESCRIPTION {
            return Err(format!(
                "the description has {} characters; Discord allows at most {DESCRIPTION}",
                chars(&self.description)
            ));
        }
        if self.attachment
            && (!self.choices.is_empty()
                || self.min_length.is_some()
                || self.max_length.is_some()
                || self.autocomplete)
        {
            return Err("a file option takes no choices, lengths or autocomplete".to_owned());
        }
        let numeric = matches!(self.kind, ArgKind::Integer | ArgKind::Float);
        let text = matches!(self.kind, ArgKind::Text | ArgKind::Rest);
        if !self.choices.is_empty() {
            if !numeric && !text {
                return Err(format!("a {} option takes no choices", self.kind.name()));
            }
            if self.choices.len() > CHOICES {
                return Err(format!(
                    "{} choices; Discord allows at most {CHOICES}",
                    self.choices.len()
                ));
            }
            if self.autocomplete {
                return Err("choices and autocomplete exclude each other".to_owned());
            }
            for choice in &self.choices {
                if !(1..=CHOICE_NAME).contains(&chars(&choice.name)) {
                    return Err(format!(
                        "the choice name `{}` has {} characters; Discord allows 1-{CHOICE_NAME}",
                        choice.name,
                        chars(&choice.name)
                    ));
                }
                let fits = match (&choice.value, self.kind) {
                    (ChoiceValue::Text(v), ArgKind::Text | ArgKind::Rest) => {
                        chars(v) <= CHOICE_NAME
                    }
                    (ChoiceValue::Integer(_), ArgKind::Integer | ArgKind::Float) => true,
                    (ChoiceValue::Float(f), ArgKind::Float) => f.is_finite(),
                    _ => false,
                };
                if !fits {
                    return Err(format!(
                        "the choice `{}` is not a {} value of at most {CHOICE_NAME} characters",
                        choice.name,
                        self.kind.name()
                    ));
                }
            }
        }
        if self.min.is_some() || self.max.is_some() {
            if !numeric {
                return Err(format!("a {} option takes no range", self.kind.name()));
            }
            for bound in [self.min, self.max].into_iter().flatten() {
                let whole = matches!(bound, Number::Integer(_));
                if !bound.as_f64().is_finite() || (self.kind == ArgKind::Integer && !whole) {
                    return Err(format!("the bound {bound} is not a {}", self.kind.name()));
                }
            }
            if let (Some(min), Some(max)) = (self.min, self.max)
                && min.as_f64() > max.as_f64()
            {
                return Err(format!("the range {min}..{max} is empty"));
            }
        }
        if self.min_length.is_some() || self.max_length.is_some() {
            if !text {
                return Err(format!("a {} option takes no length", self.kind.name()));
            }
            if self.min_length.is_some_and(|m| m > TEXT_LENGTH)
                || self.max_length.is_some_and(|m| m == 0 || m > TEXT_LENGTH)
            {
                return Err(format!(
                    "lengths are 0-{TEXT_LENGTH} (at least 1 for the most)"
                ));
            }
            if let (Some(min), Some(max)) = (self.min_length, self.max_length)
                && min > max
            {
                return Err(format!("the length {min}..{max} is empty"));
            }
        }
        if !self.channel_types.is_empty() && self.kind != ArgKind::Channel {
            return Err(format!(
                "a {} option takes no channel types",
                self.kind.name()
            ));
        }
        if self.autocomplete && !numeric && !text {
            return Err(format!("a {} option cannot autocomplete", self.kind.name()));
        }
        Ok(())
    }
}

/// A command Discord would refuse to register, or whose options contradict each other
/// (plugin-api 1.3; see [`CommandSpec::check`]).
///
/// ```
/// use zoryx_plugin_api::{Arg, CommandSpec};
///
/// let spec = CommandSpec::new("roll").arg(Arg::boolean("loud").range(1, 2));
/// let error = spec.check().unwrap_err();
/// assert_eq!((error.command.as_str(), error.option.as_deref()), ("roll", Some("loud")));
/// assert_eq!(error.problem, "a yes/no option takes no range");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("command `{command}`{}: {problem}", option.as_ref().map(|o| format!(", option `{o}`")).unwrap_or_default())]
pub struct RegistrationError {
    /// The command's path (`config set`).
    pub command: String,
    /// The option, if the problem is one option's.
    pub option: Option<String>,
    /// What is wrong.
    pub problem: String,
}
