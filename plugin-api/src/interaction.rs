//! Interactions past commands and components (plugin-api 1.3): modals and what is typed into
//! them, autocomplete requests, and context menu commands on users and messages.
//!
//! ```
//! use zoryx_plugin_api::{Modal, TextInput};
//!
//! let modal = Modal::new("feedback:1", "Feedback")
//!     .input(TextInput::short("topic", "Topic").placeholder("What about?"))
//!     .input(TextInput::paragraph("body", "Tell us more").length(10, 1000).required(false));
//! assert!(modal.check().is_ok());
//! ```

use serde::{Deserialize, Serialize};

use crate::args::Args;
use crate::guild::ChannelMessage;
use crate::limits::{self, LimitError, chars, check};
use crate::model::{ChannelId, GuildId, Member, MessageId, User};
use crate::permissions::Permissions;

/// How a text input looks.
///
/// ```
/// use zoryx_plugin_api::{TextInput, TextInputStyle};
///
/// assert_eq!(TextInput::paragraph("body", "Details").style, TextInputStyle::Paragraph);
/// assert_eq!(TextInputStyle::Short.code(), 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextInputStyle {
    /// One line.
    #[default]
    Short,
    /// Several lines.
    Paragraph,
}

impl TextInputStyle {
    /// Discord's number for the style.
    pub const fn code(self) -> u8 {
        match self {
            Self::Short => 1,
            Self::Paragraph => 2,
        }
    }
}

/// A field of a [`Modal`] the user types into.
///
/// ```
/// use zoryx_plugin_api::TextInput;
///
/// let topic = TextInput::short("topic", "Topic").length(2, 50).placeholder("What about?");
/// assert!(topic.required);
/// assert_eq!((topic.min_length, topic.max_length), (Some(2), Some(50)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextInput {
    /// Names the value in the submission (1–100 characters).
    pub custom_id: String,
    /// The label above it (1–45 characters).
    pub label: String,
    /// One line or several.
    pub style: TextInputStyle,
    /// Whether it must be filled (default yes).
    pub required: bool,
    /// The fewest characters (0–4,000).
    pub min_length: Option<u16>,
    /// The most characters (1–4,000).
    pub max_length: Option<u16>,
    /// Grey text shown while it is empty (at most 100 characters).
    pub placeholder: Option<String>,
    /// What it is filled with at first (at most 4,000 characters).
    pub value: Option<String>,
}

impl TextInput {
    /// A required one-line input.
    pub fn short(custom_id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(custom_id, label, TextInputStyle::Short)
    }

    /// A required input of several lines.
    pub fn paragraph(custom_id: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(custom_id, label, TextInputStyle::Paragraph)
    }

    fn new(custom_id: impl Into<String>, label: impl Into<String>, style: TextInputStyle) -> Self {
        Self {
            custom_id: custom_id.into(),
            label: label.into(),
            style,
            required: true,
            min_length: None,
            max_length: None,
            placeholder: None,
            value: None,
        }
    }

    /// Whether it must be filled.
    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    /// The fewest and most characters.
    pub fn length(mut self, min: u16, max: u16) -> Self {
        self.min_length = Some(min);
        self.max_length = Some(max);
        self
    }

    /// Grey text shown while it is empty.
    pub fn placeholder(mut self, placeholder: impl Into<String>) -> Self {
        self.placeholder = Some(placeholder.into());
        self
    }

    /// What it is filled with at first.
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }
}

/// A form shown to the user in answer to a command or a component (interaction response 9);
/// what they type comes back to the handler registered with
/// [`Registrar::modal`](crate::Registrar::modal) for its `custom_id`'s prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Modal {
    /// Routes the submission (1–100 characters).
    pub custom_id: String,
    /// Its title (1–45 characters).
    pub title: String,
    /// Its text inputs, one to a row (1–5).
    pub inputs: Vec<TextInput>,
}

impl Modal {
    /// An empty modal; add inputs with [`Modal::input`].
    pub fn new(custom_id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            custom_id: custom_id.into(),
            title: title.into(),
            inputs: Vec::new(),
        }
    }

    /// Adds a text input on a row of its own.
    pub fn input(mut self, input: TextInput) -> Self {
        self.inputs.push(input);
        self
    }

    /// Checks the modal against Discord's limits (the host refuses one past them, naming the
    /// field as Discord would).
    ///
    /// ```
    /// use zoryx_plugin_api::{Modal, TextInput};
    ///
    /// let error = Modal::new("m", "x".repeat(46)).input(TextInput::short("a", "A")).check();
    /// assert_eq!(
    ///     error.unwrap_err().to_string(),
    ///     "title has 46 characters; Discord allows at most 45"
    /// );
    /// assert_eq!(Modal::new("m", "Empty").check().unwrap_err().field, "components");
    /// ```
    pub fn check(&self) -> Result<(), LimitError> {
        let at_least_one = |field: &str, text: &str, max: usize| {
            if text.is_empty() {
                return Err(LimitError {
                    field: field.to_owned(),
                    actual: 0,
                    max,
                    unit: "characters (at least 1 needed)",
                });
            }
            check(|| field.to_owned(), chars(text), max, "characters")
        };
        at_least_one("custom_id", &self.custom_id, limits::CUSTOM_ID)?;
        at_least_one("title", &self.title, limits::MODAL_TITLE)?;
        if self.inputs.is_empty() {
            return Err(LimitError {
                field: "components".to_owned(),
                actual: 0,
                max: limits::MODAL_INPUTS,
                unit: "rows (at least 1 needed)",
            });
        }
        check(
            || "components".to_owned(),
            self.inputs.len(),
            limits::MODAL_INPUTS,
            "rows",
        )?;
        for (i, input) in self.inputs.iter().enumerate() {
            let at = |name: &str| format!("components.{i}.components.0.{name}");
            at_least_one(&at("custom_id"), &input.custom_id, limits::CUSTOM_ID)?;
            at_least_one(&at("label"), &input.label, limits::TEXT_INPUT_LABEL)?;
            if let Some(text) = &input.placeholder {
                check(
                    || at("placeholder"),
                    chars(text),
                    limits::TEXT_INPUT_PLACEHOLDER,
                    "characters",
                )?;
            }
            if let Some(text) = &input.value {
                check(
                    || at("value"),
                    chars(text),
                    limits::TEXT_INPUT_VALUE,
                    "characters",
                )?;
            }
            for (name, length) in [
                ("min_length", input.min_length),
                ("max_length", input.max_length),
            ] {
                if let Some(n) = length {
                    check(
                        || at(name),
                        usize::from(n),
                        limits::TEXT_INPUT_VALUE,
                        "characters",
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// What the user typed into a modal (interaction type 5).
///
/// ```
/// use zoryx_plugin_api::{ChannelId, ModalSubmit, User};
///
/// let submit = ModalSubmit {
///     id: 1,
///     custom_id: "feedback:1".into(),
///     values: vec![("topic".into(), "docs".into()), ("body".into(), String::new())],
///     user: User::default(),
///     channel_id: ChannelId(2),
///     guild_id: None,
///     message_id: None,
/// };
/// assert_eq!(submit.value("topic"), Some("docs"));
/// assert_eq!(submit.value("body"), Some(""));
/// assert_eq!(submit.value("other"), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModalSubmit {
    /// The interaction id.
    pub id: u64,
    /// The modal's `custom_id`.
    pub custom_id: String,
    /// `(input custom_id, value)` in the modal's order.
    pub values: Vec<(String, String)>,
    /// Who submitted it.
    pub user: User,
    /// Where.
    pub channel_id: ChannelId,
    /// In which guild, if any.
    pub guild_id: Option<GuildId>,
    /// The message of the component the modal answered, if it answered one.
    pub message_id: Option<MessageId>,
}

impl ModalSubmit {
    /// The value typed into input `custom_id` (`None` for an unknown input; an optional input
    /// left empty is `Some("")`).
    pub fn value(&self, custom_id: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(id, _)| id == custom_id)
            .map(|(_, v)| v.as_str())
    }
}

/// A user typing into an option marked for autocomplete (interaction type 4).
///
/// ```
/// use zoryx_plugin_api::{ArgValue, Args, AutocompleteRequest, ChannelId, User};
///
/// let request = AutocompleteRequest {
///     id: 1,
///     command: "buy".into(),
///     option: "fruit".into(),
///     value: "ap".into(),
///     args: Args::new(vec![("limit".into(), ArgValue::Integer(2))]),
///     user: User::default(),
///     channel_id: ChannelId(2),
///     guild_id: None,
/// };
/// assert_eq!(request.args.get::<i64>("limit")?, 2);
/// # Ok::<(), zoryx_plugin_api::PluginError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutocompleteRequest {
    /// The interaction id.
    pub id: u64,
    /// The command's path (`search`, `config set`).
    pub command: String,
    /// The option being typed.
    pub option: String,
    /// What is typed so far (numbers as typed).
    pub value: String,
    /// The other options filled so far, typed as declared (those that do not parse yet are
    /// left out).
    pub args: Args,
    /// Who types.
    pub user: User,
    /// Where.
    pub channel_id: ChannelId,
    /// In which guild, if any.
    pub guild_id: Option<GuildId>,
}

/// On what a context menu command appears.
///
/// ```
/// use zoryx_plugin_api::ContextMenuKind;
///
/// assert_eq!((ContextMenuKind::User.code(), ContextMenuKind::Message.code()), (2, 3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContextMenuKind {
    /// "Apps" on a user (application command type 2).
    User,
    /// "Apps" on a message (application command type 3).
    Message,
}

impl ContextMenuKind {
    /// Discord's application command type.
    pub const fn code(self) -> u8 {
        match self {
            Self::User => 2,
            Self::Message => 3,
        }
    }
}

/// A context menu command's registration: its name (1–32 characters, spaces and capitals
/// allowed), who may use it and where.
///
/// ```
/// use zoryx_plugin_api::{ContextMenu, Permissions};
///
/// let menu = ContextMenu::from("Report").default_permissions(Permissions::MODERATE_MEMBERS);
/// assert_eq!(menu.name, "Report");
/// assert!(menu.dm);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextMenu {
    /// The name shown in the menu.
    pub name: String,
    /// On users or on messages (set by the registration).
    pub kind: ContextMenuKind,
    /// The permissions a member needs by default.
    pub default_permissions: Option<Permissions>,
    /// Whether it can be used in DMs with the bot.
    pub dm: bool,
}

impl ContextMenu {
    /// A context menu command on users named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: ContextMenuKind::User,
            default_permissions: None,
            dm: true,
        }
    }

    /// The permissions a member needs by default.
    pub fn default_permissions(mut self, permissions: Permissions) -> Self {
        self.default_permissions = Some(permissions);
        self
    }

    /// Whether it can be used in DMs with the bot (default `true`).
    pub fn dm(mut self, allowed: bool) -> Self {
        self.dm = allowed;
        self
    }

    /// Checks the name against Discord's limit (1–32 characters).
    pub fn check(&self) -> Result<(), crate::command::RegistrationError> {
        let count = chars(&self.name);
        if (1..=32).contains(&count) {
            return Ok(());
        }
        Err(crate::command::RegistrationError {
            command: self.name.clone(),
            option: None,
            problem: format!("a context menu name has 1-32 characters, this one {count}"),
        })
    }
}

impl From<&str> for ContextMenu {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for ContextMenu {
    fn from(name: String) -> Self {
        Self::new(name)
    }
}

/// The user a user command was run on.
///
/// ```
/// use zoryx_plugin_api::{MenuTarget, TargetUser, User};
///
/// let target = MenuTarget::User(TargetUser { user: User::default(), member: None });
/// assert!(matches!(target, MenuTarget::User(TargetUser { member: None, .. })));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetUser {
    /// The user.
    pub user: User,
    /// Their membership of the guild, if it was run in one and they are a member.
    pub member: Option<Member>,
}

/// What a context menu command was run on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MenuTarget {
    /// A user.
    User(TargetUser),
    /// A message.
    Message(ChannelMessage),
}
