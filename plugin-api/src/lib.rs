//! # zoryx-plugin-api
//!
//! The API a Zoryx plugin is written against. A plugin is a plain Rust type that implements
//! [`Plugin`], built as a `cdylib` and exported with [`export_plugin!`]. The Zoryx host loads it
//! from `extensions/`, checks its layout and version, and hot-reloads it when the file changes.
//!
//! ```
//! use zoryx_plugin_api::prelude::*;
//!
//! pub struct Hello;
//!
//! impl Plugin for Hello {
//!     fn manifest() -> Manifest {
//!         Manifest::new("hello", "0.1.0").description("Says hello")
//!     }
//!
//!     fn register(plugin: &mut Registrar<Self>) {
//!         plugin.command(CommandSpec::new("hello").description("Say hello"), hello);
//!     }
//!
//!     async fn init(_host: Host) -> PluginResult<Self> {
//!         Ok(Hello)
//!     }
//! }
//!
//! async fn hello(ctx: CommandContext<Hello>) -> PluginResult {
//!     ctx.reply(format!("Hello, {}!", ctx.author().name)).await?;
//!     Ok(())
//! }
//!
//! zoryx_plugin_api::export_plugin!(Hello);
//! ```
//!
//! ## Rules for plugin code
//! - Do not start a runtime or threads; use the host's services ([`Host::sleep`], [`Host::send`]).
//! - Avoid `thread_local!` values with destructors and the `tracing` crate: they keep the library
//!   mapped after unload. Log with [`Host::info`] and friends.
//! - Panics are caught and reported as errors; they never take the host down.
//!
//! ## Versioning
//! [`API_VERSION`] is this crate's version. A host accepts plugins built against its own minor or
//! an older one of the same major; see [`ApiVersion::accepts`].

#![warn(missing_docs)]

// The derive names this crate by its path, here as anywhere else.
extern crate self as zoryx_plugin_api;

pub mod actions;
pub mod args;
mod base64;
pub mod cluster;
pub mod command;
pub mod context;
pub mod error;
pub mod events;
pub mod ffi;
pub mod guild;
pub mod http;
pub mod interaction;
pub mod introspect;
pub mod limits;
pub mod manifest;
pub mod market;
pub mod message;
pub mod model;
pub mod panel;
pub mod permissions;
pub mod plugin;
pub mod schedule;
pub mod settings;
pub mod storage;
pub mod typed;
pub mod version;

pub use actions::{
    Action, BotGuild, BotStats, CallAction, Catalogue, CommandInfo, GuildHandle, Outcome, ShardInfo,
};
pub use args::{ArgType, ArgValue, Args, CommandArgs, FromArg};
pub use cluster::{
    ClusterBroadcast, ClusterHealth, ClusterInfo, ClusterOverview, ClusterStats, ClusterTotals,
    IpcPeer, IpcStatus,
};
pub use command::{
    Arg, ArgKind, Bucket, Choice, ChoiceValue, CommandKind, CommandSpec, Cooldown, Number,
    Permission, RegistrationError,
};
pub use context::{
    AutocompleteContext, CommandContext, ComponentContext, ContextMenuContext, Host, Level,
    MessageCommandContext, ModalContext, PluginContext, Scope, Storage, TimedOut,
    UserCommandContext,
};
pub use error::{PluginError, PluginResult};
pub use events::{MessageUpdate, UserReaction, VoiceState};
pub use guild::{
    Attachment, Ban, BotGuildSettings, Channel, ChannelKind, ChannelMessage, ChannelSpec, Emoji,
    GuildInfo, GuildSpec, Overwrite, OverwriteTarget, Reaction, Role, RoleSpec, Webhook,
    image_data_uri, image_type,
};
pub use http::{HttpRequest, HttpResponse, HttpStream};
pub use interaction::{
    AutocompleteRequest, ContextMenu, ContextMenuKind, MenuTarget, Modal, ModalSubmit, TargetUser,
    TextInput, TextInputStyle,
};
pub use introspect::Report;
pub use limits::{LimitError, split_text};
pub use manifest::Manifest;
pub use message::{
    Button, ButtonStyle, Component, Embed, EmbedField, FileUpload, Message, SelectMenu,
    SelectOption, palette,
};
pub use model::{
    ChannelId, Event, EventKind, Guild, GuildId, HookEvent, IncomingMessage, Interaction,
    InteractionKind, Invocation, Member, MessageId, RoleId, Source, User, UserId,
};
pub use permissions::Permissions;
pub use plugin::{Plugin, Registrar};
pub use schedule::{Cron, Missed, ScheduledTask, TaskAction};
pub use settings::{Setting, SettingKind};
pub use storage::{Files, Row, Sql};
pub use typed::{CustomId, HookPayload};
pub use version::{API_VERSION, ApiVersion};
/// Derives [`CommandArgs`](trait@CommandArgs) for a struct with named fields: each field is an
/// argument of the same name, its kind from its type (`Option<_>` makes it optional), its help
/// text from its doc comment; `#[arg(rest)]` takes the rest of the line, `#[arg(member)]` a guild
/// member, `#[arg(name = "...")]` renames it; `#[arg(choices("a", "b"))]`, `#[arg(min = 1,
/// max = 10)]` and `#[arg(min_length = 2, max_length = 20)]` set its rules (plugin-api 1.3).
pub use zoryx_plugin_macros::CommandArgs;

/// Everything a plugin usually needs: `use zoryx_plugin_api::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Arg, ArgKind, Attachment, AutocompleteContext, Bucket, Button, ButtonStyle, ChannelId,
        ChannelSpec, CommandArgs, CommandContext, CommandKind, CommandSpec, ComponentContext,
        Embed, Event, EventKind, FileUpload, GuildId, HookEvent, Host, HttpRequest, Manifest,
        Message, MessageId, Permission, Permissions, Plugin, PluginContext, PluginError,
        PluginResult, Registrar, RoleId, RoleSpec, Scope, SelectMenu, Setting, User, UserId,
    };
}
