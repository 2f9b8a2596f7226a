//! The error type plugin code returns and receives.

use std::fmt;

/// What went wrong in a plugin, or in a host service a plugin called.
///
/// Handlers return `Result<(), PluginError>`; `?` converts strings and the errors of the
/// plugin-api itself. The host shows the message to the user who ran the command, so write it
/// for them.
///
/// ```
/// use zoryx_plugin_api::PluginError;
///
/// fn parse_amount(text: &str) -> Result<u32, PluginError> {
///     text.parse().map_err(|_| PluginError::user(format!("`{text}` is not an amount")))
/// }
/// assert_eq!(parse_amount("x").unwrap_err().to_string(), "`x` is not an amount");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum PluginError {
    /// A message meant for the user who triggered the handler.
    #[error("{0}")]
    User(String),
    /// A failure inside the plugin, reported to the operator.
    #[error("{0}")]
    Internal(String),
    /// The handler panicked; the panic was caught inside the plugin.
    #[error("plugin panicked: {0}")]
    Panic(String),
    /// A command argument was missing or of the wrong type.
    #[error("argument `{name}`: {problem}")]
    Argument {
        /// The declared argument name.
        name: String,
        /// What was wrong with it.
        problem: String,
    },
    /// A host service failed (sending a message, storage, ...).
    #[error("host: {0}")]
    Host(String),
    /// The host does not offer this service (yet, or in this version).
    #[error("{0} is not available in this host yet")]
    NotAvailable(String),
    /// The bot lacks a Discord permission for what the plugin asked (plugin-api 1.3).
    #[error("the bot cannot {action}: it lacks the {permission} permission")]
    MissingPermission {
        /// What was asked ("kick a member").
        action: String,
        /// The permission, as Discord names it ("Kick Members").
        permission: String,
    },
    /// Discord refused the request (plugin-api 1.3).
    #[error("Discord refused to {action}: {message} (error {code}, HTTP {status})")]
    Discord {
        /// What was asked.
        action: String,
        /// The HTTP status.
        status: u16,
        /// Discord's error code (`50013`, `10008`...; 0 when it sent none).
        code: u32,
        /// Discord's message, with the fields it names for a 400.
        message: String,
    },
}

impl PluginError {
    /// An error shown to the user as it is.
    pub fn user(message: impl Into<String>) -> Self {
        Self::User(message.into())
    }

    /// An internal error, logged by the host.
    pub fn internal(message: impl fmt::Display) -> Self {
        Self::Internal(message.to_string())
    }
}

impl From<String> for PluginError {
    fn from(message: String) -> Self {
        Self::User(message)
    }
}

impl From<&str> for PluginError {
    fn from(message: &str) -> Self {
        Self::User(message.to_owned())
    }
}

impl From<serde_json::Error> for PluginError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(format!("json: {error}"))
    }
}

/// `Result` with [`PluginError`] as its error.
pub type PluginResult<T = ()> = Result<T, PluginError>;
