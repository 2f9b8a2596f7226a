//! Parsed command arguments and typed access to them.

use crate::command::{Arg, ArgKind};
use crate::error::{PluginError, PluginResult};
use crate::model::{ChannelId, RoleId, UserId};

/// One parsed argument value. The host produces these from the declared [`ArgKind`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ArgValue {
    /// Text, quoted text or rest of line.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A decimal number.
    Float(f64),
    /// A yes/no value.
    Bool(bool),
    /// A user.
    User(UserId),
    /// A guild member (by user id).
    Member(UserId),
    /// A role.
    Role(RoleId),
    /// A channel.
    Channel(ChannelId),
}

/// The arguments of one invocation, by declared name. Optional arguments not given are absent.
///
/// ```
/// use zoryx_plugin_api::{ArgValue, Args, UserId};
///
/// let args = Args::new(vec![
///     ("amount".into(), ArgValue::Integer(5)),
///     ("to".into(), ArgValue::User(UserId(42))),
/// ]);
/// let amount: i64 = args.get("amount")?;
/// let to: UserId = args.get("to")?;
/// let note: Option<String> = args.get("note")?;
/// assert_eq!((amount, to, note), (5, UserId(42), None));
/// assert!(args.get::<String>("amount").is_err());
/// # Ok::<(), zoryx_plugin_api::PluginError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Args {
    values: Vec<(String, ArgValue)>,
}

impl Args {
    /// Arguments from `(name, value)` pairs.
    pub fn new(values: Vec<(String, ArgValue)>) -> Self {
        Self { values }
    }

    /// The raw value of `name`, if given.
    pub fn value(&self, name: &str) -> Option<&ArgValue> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Typed access: `T` is `String`, `i64`, `i32`, `u64`, `f64`, `bool`, an id type, or an
    /// `Option` of one of those for optional arguments.
    pub fn get<T: FromArg>(&self, name: &str) -> Result<T, PluginError> {
        T::from_arg(name, self.value(name))
    }

    /// All values in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArgValue)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// How many arguments were given.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no argument was given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Conversion from an argument value to a Rust type, used by [`Args::get`].
pub trait FromArg: Sized {
    /// Converts `value` (absent when an optional argument was not given).
    fn from_arg(name: &str, value: Option<&ArgValue>) -> Result<Self, PluginError>;
}

fn mismatch(name: &str, expected: &str, value: Option<&ArgValue>) -> PluginError {
    PluginError::Argument {
        name: name.to_owned(),
        problem: match value {
            None => "missing".to_owned(),
            Some(v) => format!("expected {expected}, got {v:?}"),
        },
    }
}

macro_rules! from_arg {
    ($ty:ty, $expected:literal, $($pat:pat => $out:expr),+) => {
        impl FromArg for $ty {
            fn from_arg(name: &str, value: Option<&ArgValue>) -> Result<Self, PluginError> {
                match value {
                    $(Some($pat) => Ok($out),)+
                    other => Err(mismatch(name, $expected, other)),
                }
            }
        }
    };
}

from_arg!(String, "text", ArgValue::Text(s) => s.clone());
from_arg!(i64, "an integer", ArgValue::Integer(i) => *i);
from_arg!(f64, "a number", ArgValue::Float(f) => *f, ArgValue::Integer(i) => *i as f64);
from_arg!(bool, "yes or no", ArgValue::Bool(b) => *b);
from_arg!(UserId, "a user", ArgValue::User(u) => *u, ArgValue::Member(u) => *u);
from_arg!(RoleId, "a role", ArgValue::Role(r) => *r);
from_arg!(ChannelId, "a channel", ArgValue::Channel(c) => *c);

/// An [`Arg::attachment`]: the host gives its metadata as JSON text.
impl FromArg for crate::guild::Attachment {
    fn from_arg(name: &str, value: Option<&ArgValue>) -> Result<Self, PluginError> {
        match value {
            Some(ArgValue::Text(json)) => {
                serde_json::from_str(json).map_err(|_| mismatch(name, "an attached file", value))
            }
            other => Err(mismatch(name, "an attached file", other)),
        }
    }
}

impl FromArg for i32 {
    fn from_arg(name: &str, value: Option<&ArgValue>) -> Result<Self, PluginError> {
        let wide = i64::from_arg(name, value)?;
        i32::try_from(wide).map_err(|_| PluginError::Argument {
            name: name.to_owned(),
            problem: format!("{wide} is out of range"),
        })
    }
}

impl FromArg for u64 {
    fn from_arg(name: &str, value: Option<&ArgValue>) -> Result<Self, PluginError> {
        let wide = i64::from_arg(name, value)?;
        u64::try_from(wide).map_err(|_| PluginError::Argument {
            name: name.to_owned(),
            problem: format!("{wide} must not be negative"),
        })
    }
}

impl<T: FromArg> FromArg for Option<T> {
    fn from_arg(name: &str, value: Option<&ArgValue>) -> Result<Self, PluginError> {
        match value {
            None => Ok(None),
            Some(_) => T::from_arg(name, value).map(Some),
        }
    }
}

/// A Rust type a command argument is read as, and the kind it is declared with: what
/// [`derive(CommandArgs)`](macro@crate::CommandArgs) uses to declare a field.
pub trait ArgType: FromArg {
    /// The kind the argument is declared with.
    const KIND: ArgKind;
    /// Whether it may be left out (`Option<_>`).
    const OPTIONAL: bool = false;

    /// The declaration of an argument `name` of this type.
    fn declare(name: &str) -> Arg {
        declare_as(name, Self::KIND, Self::OPTIONAL)
    }
}

/// The declaration of an argument `name` of `kind`, optional or not.
pub fn declare_as(name: &str, kind: ArgKind, optional: bool) -> Arg {
    let arg = Arg::new(name, kind);
    if optional { arg.optional() } else { arg }
}

macro_rules! arg_type {
    ($($ty:ty => $kind:ident),* $(,)?) => {$(
        impl ArgType for $ty {
            const KIND: ArgKind = ArgKind::$kind;
        }
    )*};
}

arg_type! {
    String => Text,
    i64 => Integer,
    i32 => Integer,
    u64 => Integer,
    f64 => Float,
    bool => Bool,
    UserId => User,
    RoleId => Role,
    ChannelId => Channel,
}

impl ArgType for crate::guild::Attachment {
    const KIND: ArgKind = ArgKind::Text;

    fn declare(name: &str) -> Arg {
        Arg::attachment(name)
    }
}

impl<T: ArgType> ArgType for Option<T> {
    const KIND: ArgKind = T::KIND;
    const OPTIONAL: bool = true;

    fn declare(name: &str) -> Arg {
        T::declare(name).optional()
    }
}

/// A command's arguments as a struct: declared from its fields and read into it, so a name
/// cannot be misspelt between the declaration and the handler. Derive it:
///
/// ```
/// use zoryx_plugin_api::prelude::*;
/// use zoryx_plugin_api::{ArgKind, ArgValue, Args};
///
/// #[derive(CommandArgs)]
/// struct Give {
///     /// Who receives.
///     to: UserId,
///     /// How many.
///     amount: i64,
///     /// Why (the rest of the line).
///     #[arg(rest)]
///     note: Option<String>,
/// }
///
/// let declared = Give::declare();
/// assert_eq!(declared[0].name, "to");
/// assert_eq!(declared[0].description, "Who receives.");
/// assert_eq!((declared[2].kind, declared[2].required), (ArgKind::Rest, false));
///
/// let args = Args::new(vec![
///     ("to".into(), ArgValue::User(UserId(42))),
///     ("amount".into(), ArgValue::Integer(5)),
/// ]);
/// let give = Give::parse(&args)?;
/// assert_eq!((give.to, give.amount, give.note), (UserId(42), 5, None));
/// # Ok::<(), PluginError>(())
/// ```
///
/// Choices, ranges and lengths go in the `arg` attribute (plugin-api 1.3); the host checks
/// them before the handler runs, and slash commands offer them:
///
/// ```
/// use zoryx_plugin_api::prelude::*;
/// use zoryx_plugin_api::{ArgValue, Number};
///
/// #[derive(CommandArgs)]
/// struct Paint {
///     /// The colour.
///     #[arg(choices("red", "blue"))]
///     colour: String,
///     /// How many coats.
///     #[arg(min = 1, max = 3)]
///     coats: Option<i64>,
///     /// A name for it.
///     #[arg(min_length = 2, max_length = 20)]
///     name: Option<String>,
/// }
///
/// let declared = Paint::declare();
/// assert_eq!(declared[0].choices.len(), 2);
/// assert_eq!((declared[1].min, declared[1].max), (Some(Number::Integer(1)), Some(Number::Integer(3))));
/// assert!(declared[1].check_value(&ArgValue::Integer(4)).is_err());
/// assert_eq!(declared[2].max_length, Some(20));
/// ```
///
/// and register the command with [`Registrar::command_with`](crate::Registrar::command_with),
/// whose handler gets the struct.
pub trait CommandArgs: Sized {
    /// The argument declarations, in field order.
    fn declare() -> Vec<Arg>;
    /// Reads the parsed arguments into the struct.
    fn parse(args: &Args) -> PluginResult<Self>;
}
