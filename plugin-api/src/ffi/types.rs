//! FFI-safe mirrors of the plugin-api types, and the conversions between them.
//!
//! Everything that crosses the library boundary is one of these `#[repr(C)]` types with a
//! checked layout. Both sides convert to and from the plain Rust types at once, so no value
//! allocated by one side is kept by the other.

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RString, RVec, Tuple2};

use crate::args::{ArgValue, Args};
use crate::command::{Arg, ArgKind, Bucket, CommandKind, CommandSpec, Cooldown, Permission};
use crate::error::PluginError;
use crate::manifest::Manifest;
use crate::message::{
    Button, ButtonStyle, Component, Embed, EmbedField, Message, SelectMenu, SelectOption,
};
use crate::model::{
    ChannelId, Event, EventKind, Guild, GuildId, HookEvent, IncomingMessage, Interaction,
    InteractionKind, Invocation, Member, MessageId, RoleId, Source, User, UserId,
};
use std::time::Duration;

fn ropt_string(value: &Option<String>) -> ROption<RString> {
    value.as_deref().map(RString::from).into()
}

fn opt_string(value: &ROption<RString>) -> Option<String> {
    value.as_ref().map(|s| s.as_str().to_owned()).into_option()
}

fn strings(values: &RVec<RString>) -> Vec<String> {
    values.iter().map(|s| s.as_str().to_owned()).collect()
}

fn rstrings(values: &[String]) -> RVec<RString> {
    values.iter().map(|s| RString::from(s.as_str())).collect()
}

/// A value the other side sent that this side cannot interpret.
fn bad(what: &str, value: u8) -> PluginError {
    PluginError::Internal(format!("unknown {what} discriminant {value}"))
}

/// [`PluginError`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct ErrorFfi {
    /// 0 user, 1 internal, 2 panic, 3 argument, 4 host, 5 not available; 6 (1.3): any other
    /// [`PluginError`], its JSON form in `message`.
    pub kind: u8,
    /// The message.
    pub message: RString,
    /// The argument name for argument errors.
    pub name: RString,
}

impl From<&PluginError> for ErrorFfi {
    fn from(error: &PluginError) -> Self {
        let (kind, message, name) = match error {
            PluginError::User(m) => (0, m.as_str(), ""),
            PluginError::Internal(m) => (1, m.as_str(), ""),
            PluginError::Panic(m) => (2, m.as_str(), ""),
            PluginError::Argument { name, problem } => (3, problem.as_str(), name.as_str()),
            PluginError::Host(m) => (4, m.as_str(), ""),
            PluginError::NotAvailable(m) => (5, m.as_str(), ""),
            other => {
                return Self {
                    kind: 6,
                    message: serde_json::to_string(other)
                        .unwrap_or_else(|_| other.to_string())
                        .into(),
                    name: RString::new(),
                };
            }
        };
        Self {
            kind,
            message: message.into(),
            name: name.into(),
        }
    }
}

impl From<PluginError> for ErrorFfi {
    fn from(error: PluginError) -> Self {
        Self::from(&error)
    }
}

impl From<&ErrorFfi> for PluginError {
    fn from(error: &ErrorFfi) -> Self {
        let message = error.message.as_str().to_owned();
        match error.kind {
            0 => Self::User(message),
            2 => Self::Panic(message),
            3 => Self::Argument {
                name: error.name.as_str().to_owned(),
                problem: message,
            },
            4 => Self::Host(message),
            5 => Self::NotAvailable(message),
            6 => serde_json::from_str(&message).unwrap_or(Self::Internal(message)),
            _ => Self::Internal(message),
        }
    }
}

/// [`User`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct UserFfi {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: RString,
    /// Bot account.
    pub bot: bool,
}

impl From<&User> for UserFfi {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.0,
            name: user.name.as_str().into(),
            bot: user.bot,
        }
    }
}

impl From<&UserFfi> for User {
    fn from(user: &UserFfi) -> Self {
        Self {
            id: UserId(user.id),
            name: user.name.as_str().to_owned(),
            bot: user.bot,
        }
    }
}

/// [`Member`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct MemberFfi {
    /// The user.
    pub user: UserFfi,
    /// The guild.
    pub guild_id: u64,
    /// Nickname.
    pub nick: ROption<RString>,
    /// Role ids.
    pub roles: RVec<u64>,
}

impl From<&Member> for MemberFfi {
    fn from(member: &Member) -> Self {
        Self {
            user: (&member.user).into(),
            guild_id: member.guild_id.0,
            nick: ropt_string(&member.nick),
            roles: member.roles.iter().map(|r| r.0).collect(),
        }
    }
}

impl From<&MemberFfi> for Member {
    fn from(member: &MemberFfi) -> Self {
        Self {
            user: (&member.user).into(),
            guild_id: GuildId(member.guild_id),
            nick: opt_string(&member.nick),
            roles: member.roles.iter().map(|r| RoleId(*r)).collect(),
        }
    }
}

/// [`Guild`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct GuildFfi {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: RString,
    /// Member count.
    pub member_count: u64,
}

impl From<&Guild> for GuildFfi {
    fn from(guild: &Guild) -> Self {
        Self {
            id: guild.id.0,
            name: guild.name.as_str().into(),
            member_count: guild.member_count,
        }
    }
}

impl From<&GuildFfi> for Guild {
    fn from(guild: &GuildFfi) -> Self {
        Self {
            id: GuildId(guild.id),
            name: guild.name.as_str().to_owned(),
            member_count: guild.member_count,
        }
    }
}

/// [`IncomingMessage`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct IncomingMessageFfi {
    /// Id.
    pub id: u64,
    /// Channel.
    pub channel_id: u64,
    /// Guild.
    pub guild_id: ROption<u64>,
    /// Author.
    pub author: UserFfi,
    /// Text.
    pub content: RString,
}

impl From<&IncomingMessage> for IncomingMessageFfi {
    fn from(message: &IncomingMessage) -> Self {
        Self {
            id: message.id.0,
            channel_id: message.channel_id.0,
            guild_id: message.guild_id.map(|g| g.0).into(),
            author: (&message.author).into(),
            content: message.content.as_str().into(),
        }
    }
}

impl From<&IncomingMessageFfi> for IncomingMessage {
    fn from(message: &IncomingMessageFfi) -> Self {
        Self {
            id: MessageId(message.id),
            channel_id: ChannelId(message.channel_id),
            guild_id: message.guild_id.map(GuildId).into_option(),
            author: (&message.author).into(),
            content: message.content.as_str().to_owned(),
            // The 1.0 layout carries none of 1.3's additions.
            ..IncomingMessage::default()
        }
    }
}

/// [`Interaction`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct InteractionFfi {
    /// Id.
    pub id: u64,
    /// 0 command, 1 component.
    pub kind: u8,
    /// Command name or custom id.
    pub name: RString,
    /// Select values.
    pub values: RVec<RString>,
    /// Who.
    pub user: UserFfi,
    /// Channel.
    pub channel_id: u64,
    /// Guild.
    pub guild_id: ROption<u64>,
}

impl From<&Interaction> for InteractionFfi {
    fn from(interaction: &Interaction) -> Self {
        Self {
            id: interaction.id,
            kind: match interaction.kind {
                InteractionKind::Command => 0,
                InteractionKind::Component => 1,
            },
            name: interaction.name.as_str().into(),
            values: rstrings(&interaction.values),
            user: (&interaction.user).into(),
            channel_id: interaction.channel_id.0,
            guild_id: interaction.guild_id.map(|g| g.0).into(),
        }
    }
}

impl From<&InteractionFfi> for Interaction {
    fn from(interaction: &InteractionFfi) -> Self {
        Self {
            id: interaction.id,
            kind: if interaction.kind == 0 {
                InteractionKind::Command
            } else {
                InteractionKind::Component
            },
            name: interaction.name.as_str().to_owned(),
            values: strings(&interaction.values),
            user: (&interaction.user).into(),
            channel_id: ChannelId(interaction.channel_id),
            guild_id: interaction.guild_id.map(GuildId).into_option(),
        }
    }
}

/// [`Event`] across the boundary.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug)]
pub enum EventFfi {
    /// [`Event::Ready`].
    Ready {
        /// Bot user.
        user: UserFfi,
        /// Guild count.
        guild_count: u64,
    },
    /// [`Event::MessageCreate`].
    MessageCreate(IncomingMessageFfi),
    /// [`Event::GuildJoin`].
    GuildJoin(GuildFfi),
    /// [`Event::GuildLeave`].
    GuildLeave(u64),
    /// [`Event::MemberJoin`].
    MemberJoin(MemberFfi),
    /// [`Event::MemberLeave`].
    MemberLeave {
        /// Guild.
        guild_id: u64,
        /// User.
        user: UserFfi,
    },
    /// [`Event::Interaction`].
    Interaction(InteractionFfi),
}

impl EventFfi {
    /// The 1.0 form of `event`; `None` for kinds added later, which travel as JSON through
    /// `call_extra` instead.
    pub fn of(event: &Event) -> Option<Self> {
        Some(match event {
            Event::Ready { user, guild_count } => Self::Ready {
                user: user.into(),
                guild_count: *guild_count,
            },
            Event::MessageCreate(m) => Self::MessageCreate(m.into()),
            Event::GuildJoin(g) => Self::GuildJoin(g.into()),
            Event::GuildLeave(id) => Self::GuildLeave(id.0),
            Event::MemberJoin(m) => Self::MemberJoin(m.into()),
            Event::MemberLeave { guild_id, user } => Self::MemberLeave {
                guild_id: guild_id.0,
                user: user.into(),
            },
            Event::Interaction(i) => Self::Interaction(i.into()),
            _ => return None,
        })
    }
}

impl From<&EventFfi> for Event {
    fn from(event: &EventFfi) -> Self {
        match event {
            EventFfi::Ready { user, guild_count } => Self::Ready {
                user: user.into(),
                guild_count: *guild_count,
            },
            EventFfi::MessageCreate(m) => Self::MessageCreate(m.into()),
            EventFfi::GuildJoin(g) => Self::GuildJoin(g.into()),
            EventFfi::GuildLeave(id) => Self::GuildLeave(GuildId(*id)),
            EventFfi::MemberJoin(m) => Self::MemberJoin(m.into()),
            EventFfi::MemberLeave { guild_id, user } => Self::MemberLeave {
                guild_id: GuildId(*guild_id),
                user: user.into(),
            },
            EventFfi::Interaction(i) => Self::Interaction(i.into()),
        }
    }
}

/// [`HookEvent`] across the boundary; the payload travels as JSON text.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct HookEventFfi {
    /// Event name.
    pub name: RString,
    /// JSON payload.
    pub payload_json: RString,
}

impl From<&HookEvent> for HookEventFfi {
    fn from(event: &HookEvent) -> Self {
        Self {
            name: event.name.as_str().into(),
            payload_json: event.payload.to_string().into(),
        }
    }
}

impl From<&HookEventFfi> for HookEvent {
    fn from(event: &HookEventFfi) -> Self {
        Self {
            name: event.name.as_str().to_owned(),
            payload: serde_json::from_str(event.payload_json.as_str())
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

/// [`Invocation`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct InvocationFfi {
    /// Command name.
    pub command: RString,
    /// Author.
    pub author: UserFfi,
    /// Guild.
    pub guild_id: ROption<u64>,
    /// Channel.
    pub channel_id: u64,
    /// Triggering message.
    pub message_id: ROption<u64>,
    /// Owner flag.
    pub is_owner: bool,
    /// 0 prefix, 1 slash, 2 console.
    pub source: u8,
}

impl From<&Invocation> for InvocationFfi {
    fn from(invocation: &Invocation) -> Self {
        Self {
            command: invocation.command.as_str().into(),
            author: (&invocation.author).into(),
            guild_id: invocation.guild_id.map(|g| g.0).into(),
            channel_id: invocation.channel_id.0,
            message_id: invocation.message_id.map(|m| m.0).into(),
            is_owner: invocation.is_owner,
            source: match invocation.source {
                Source::Prefix => 0,
                Source::Slash => 1,
                Source::Console => 2,
            },
        }
    }
}

impl From<&InvocationFfi> for Invocation {
    fn from(invocation: &InvocationFfi) -> Self {
        Self {
            command: invocation.command.as_str().to_owned(),
            author: (&invocation.author).into(),
            guild_id: invocation.guild_id.map(GuildId).into_option(),
            channel_id: ChannelId(invocation.channel_id),
            message_id: invocation.message_id.map(MessageId).into_option(),
            is_owner: invocation.is_owner,
            source: match invocation.source {
                0 => Source::Prefix,
                1 => Source::Slash,
                _ => Source::Console,
            },
        }
    }
}

/// [`ArgValue`] across the boundary.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug)]
pub enum ArgValueFfi {
    /// Text.
    Text(RString),
    /// Integer.
    Integer(i64),
    /// Float.
    Float(f64),
    /// Bool.
    Bool(bool),
    /// User id.
    User(u64),
    /// Member (user id).
    Member(u64),
    /// Role id.
    Role(u64),
    /// Channel id.
    Channel(u64),
}

impl From<&ArgValue> for ArgValueFfi {
    fn from(value: &ArgValue) -> Self {
        match value {
            ArgValue::Text(s) => Self::Text(s.as_str().into()),
            ArgValue::Integer(i) => Self::Integer(*i),
            ArgValue::Float(f) => Self::Float(*f),
            ArgValue::Bool(b) => Self::Bool(*b),
            ArgValue::User(u) => Self::User(u.0),
            ArgValue::Member(u) => Self::Member(u.0),
            ArgValue::Role(r) => Self::Role(r.0),
            ArgValue::Channel(c) => Self::Channel(c.0),
        }
    }
}

impl From<&ArgValueFfi> for ArgValue {
    fn from(value: &ArgValueFfi) -> Self {
        match value {
            ArgValueFfi::Text(s) => Self::Text(s.as_str().to_owned()),
            ArgValueFfi::Integer(i) => Self::Integer(*i),
            ArgValueFfi::Float(f) => Self::Float(*f),
            ArgValueFfi::Bool(b) => Self::Bool(*b),
            ArgValueFfi::User(u) => Self::User(UserId(*u)),
            ArgValueFfi::Member(u) => Self::Member(UserId(*u)),
            ArgValueFfi::Role(r) => Self::Role(RoleId(*r)),
            ArgValueFfi::Channel(c) => Self::Channel(ChannelId(*c)),
        }
    }
}

/// Parsed arguments across the boundary: `(name, value)` pairs.
pub type ArgsFfi = RVec<Tuple2<RString, ArgValueFfi>>;

/// Converts [`Args`] for the boundary.
pub fn args_to_ffi(args: &Args) -> ArgsFfi {
    args.iter()
        .map(|(name, value)| Tuple2(RString::from(name), value.into()))
        .collect()
}

/// Converts boundary arguments back into [`Args`].
pub fn args_from_ffi(args: &ArgsFfi) -> Args {
    Args::new(
        args.iter()
            .map(|Tuple2(name, value)| (name.as_str().to_owned(), value.into()))
            .collect(),
    )
}

/// [`EmbedField`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct EmbedFieldFfi {
    /// Name.
    pub name: RString,
    /// Value.
    pub value: RString,
    /// Inline.
    pub inline: bool,
}

/// [`Embed`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct EmbedFfi {
    /// Title.
    pub title: ROption<RString>,
    /// Description.
    pub description: ROption<RString>,
    /// Colour.
    pub colour: ROption<u32>,
    /// Fields.
    pub fields: RVec<EmbedFieldFfi>,
    /// Footer.
    pub footer: ROption<RString>,
    /// Timestamp.
    pub timestamp: ROption<RString>,
    /// Thumbnail URL.
    pub thumbnail: ROption<RString>,
}

impl From<&Embed> for EmbedFfi {
    fn from(embed: &Embed) -> Self {
        Self {
            title: ropt_string(&embed.title),
            description: ropt_string(&embed.description),
            colour: embed.colour.into(),
            fields: embed
                .fields
                .iter()
                .map(|f| EmbedFieldFfi {
                    name: f.name.as_str().into(),
                    value: f.value.as_str().into(),
                    inline: f.inline,
                })
                .collect(),
            footer: ropt_string(&embed.footer),
            timestamp: ropt_string(&embed.timestamp),
            thumbnail: ropt_string(&embed.thumbnail),
        }
    }
}

impl From<&EmbedFfi> for Embed {
    fn from(embed: &EmbedFfi) -> Self {
        Self {
            title: opt_string(&embed.title),
            description: opt_string(&embed.description),
            colour: embed.colour.into_option(),
            fields: embed
                .fields
                .iter()
                .map(|f| EmbedField {
                    name: f.name.as_str().to_owned(),
                    value: f.value.as_str().to_owned(),
                    inline: f.inline,
                })
                .collect(),
            footer: opt_string(&embed.footer),
            timestamp: opt_string(&embed.timestamp),
            thumbnail: opt_string(&embed.thumbnail),
        }
    }
}

/// [`SelectOption`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct SelectOptionFfi {
    /// Label.
    pub label: RString,
    /// Value.
    pub value: RString,
    /// Description.
    pub description: RString,
}

/// [`Component`] across the boundary.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug)]
pub enum ComponentFfi {
    /// A button.
    Button {
        /// Custom id.
        custom_id: RString,
        /// Label.
        label: RString,
        /// Style discriminant.
        style: u8,
        /// Disabled.
        disabled: bool,
    },
    /// A select menu.
    Select {
        /// Custom id.
        custom_id: RString,
        /// Placeholder.
        placeholder: RString,
        /// Options.
        options: RVec<SelectOptionFfi>,
        /// Min choices.
        min_values: u8,
        /// Max choices.
        max_values: u8,
    },
}

impl From<&Component> for ComponentFfi {
    fn from(component: &Component) -> Self {
        match component {
            Component::Button(b) => Self::Button {
                custom_id: b.custom_id.as_str().into(),
                label: b.label.as_str().into(),
                style: b.style as u8,
                disabled: b.disabled,
            },
            Component::Select(s) => Self::Select {
                custom_id: s.custom_id.as_str().into(),
                placeholder: s.placeholder.as_str().into(),
                options: s
                    .options
                    .iter()
                    .map(|o| SelectOptionFfi {
                        label: o.label.as_str().into(),
                        value: o.value.as_str().into(),
                        description: o.description.as_str().into(),
                    })
                    .collect(),
                min_values: s.min_values,
                max_values: s.max_values,
            },
        }
    }
}

impl From<&ComponentFfi> for Component {
    fn from(component: &ComponentFfi) -> Self {
        match component {
            ComponentFfi::Button {
                custom_id,
                label,
                style,
                disabled,
            } => Self::Button(Button {
                custom_id: custom_id.as_str().to_owned(),
                label: label.as_str().to_owned(),
                style: match style {
                    2 => ButtonStyle::Secondary,
                    3 => ButtonStyle::Success,
                    4 => ButtonStyle::Danger,
                    _ => ButtonStyle::Primary,
                },
                disabled: *disabled,
            }),
            ComponentFfi::Select {
                custom_id,
                placeholder,
                options,
                min_values,
                max_values,
            } => Self::Select(SelectMenu {
                custom_id: custom_id.as_str().to_owned(),
                placeholder: placeholder.as_str().to_owned(),
                options: options
                    .iter()
                    .map(|o| SelectOption {
                        label: o.label.as_str().to_owned(),
                        value: o.value.as_str().to_owned(),
                        description: o.description.as_str().to_owned(),
                    })
                    .collect(),
                min_values: *min_values,
                max_values: *max_values,
                // The 1.0 layout has no place for it: a disabled menu goes as JSON.
                disabled: false,
            }),
        }
    }
}

/// [`Message`] across the boundary: the frozen 1.0 layout, without files or disabled select
/// menus (such a message crosses as JSON; see [`Message::needs_json`]).
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct MessageFfi {
    /// Text.
    pub content: ROption<RString>,
    /// Embeds.
    pub embeds: RVec<EmbedFfi>,
    /// Components.
    pub components: RVec<ComponentFfi>,
    /// Ephemeral.
    pub ephemeral: bool,
}

impl From<&Message> for MessageFfi {
    fn from(message: &Message) -> Self {
        Self {
            content: ropt_string(&message.content),
            embeds: message.embeds.iter().map(Into::into).collect(),
            components: message.components.iter().map(Into::into).collect(),
            ephemeral: message.ephemeral,
        }
    }
}

impl From<&MessageFfi> for Message {
    fn from(message: &MessageFfi) -> Self {
        Self {
            content: opt_string(&message.content),
            embeds: message.embeds.iter().map(Into::into).collect(),
            components: message.components.iter().map(Into::into).collect(),
            ephemeral: message.ephemeral,
            // Files have no place in the 1.0 layout: such messages go as JSON.
            files: Vec::new(),
            expire_components: None,
        }
    }
}

/// [`Manifest`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct ManifestFfi {
    /// Name.
    pub name: RString,
    /// Version.
    pub version: RString,
    /// Author.
    pub author: RString,
    /// Description.
    pub description: RString,
    /// `(name, requirement)` pairs.
    pub dependencies: RVec<Tuple2<RString, RString>>,
    /// Conflicting plugin names.
    pub conflicts: RVec<RString>,
}

impl From<&Manifest> for ManifestFfi {
    fn from(manifest: &Manifest) -> Self {
        Self {
            name: manifest.name.as_str().into(),
            version: manifest.version.as_str().into(),
            author: manifest.author.as_str().into(),
            description: manifest.description.as_str().into(),
            dependencies: manifest
                .dependencies
                .iter()
                .map(|(n, r)| Tuple2(n.as_str().into(), r.as_str().into()))
                .collect(),
            conflicts: rstrings(&manifest.conflicts),
        }
    }
}

impl From<&ManifestFfi> for Manifest {
    fn from(manifest: &ManifestFfi) -> Self {
        Self {
            name: manifest.name.as_str().to_owned(),
            version: manifest.version.as_str().to_owned(),
            author: manifest.author.as_str().to_owned(),
            description: manifest.description.as_str().to_owned(),
            dependencies: manifest
                .dependencies
                .iter()
                .map(|Tuple2(n, r)| (n.as_str().to_owned(), r.as_str().to_owned()))
                .collect(),
            conflicts: strings(&manifest.conflicts),
        }
    }
}

/// [`Arg`] declaration across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct ArgSpecFfi {
    /// Name.
    pub name: RString,
    /// Help.
    pub description: RString,
    /// [`ArgKind`] discriminant.
    pub kind: u8,
    /// Required.
    pub required: bool,
}

/// [`Cooldown`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct CooldownFfi {
    /// Uses per window.
    pub rate: u32,
    /// Window in milliseconds.
    pub per_ms: u64,
    /// [`Bucket`] discriminant.
    pub bucket: u8,
}

/// [`CommandSpec`] across the boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct CommandSpecFfi {
    /// Name.
    pub name: RString,
    /// Help.
    pub description: RString,
    /// Aliases.
    pub aliases: RVec<RString>,
    /// Category.
    pub category: RString,
    /// Arguments.
    pub args: RVec<ArgSpecFfi>,
    /// [`CommandKind`] discriminant.
    pub kind: u8,
    /// Cooldown.
    pub cooldown: ROption<CooldownFfi>,
    /// [`Permission`] discriminant.
    pub permission: u8,
}

const ARG_KINDS: [ArgKind; 9] = [
    ArgKind::Text,
    ArgKind::Rest,
    ArgKind::Integer,
    ArgKind::Float,
    ArgKind::Bool,
    ArgKind::User,
    ArgKind::Member,
    ArgKind::Role,
    ArgKind::Channel,
];

impl From<&CommandSpec> for CommandSpecFfi {
    fn from(spec: &CommandSpec) -> Self {
        Self {
            name: spec.name.as_str().into(),
            description: spec.description.as_str().into(),
            aliases: rstrings(&spec.aliases),
            category: spec.category.as_str().into(),
            args: spec
                .args
                .iter()
                .map(|a| ArgSpecFfi {
                    name: a.name.as_str().into(),
                    description: a.description.as_str().into(),
                    kind: a.kind as u8,
                    required: a.required,
                })
                .collect(),
            kind: spec.kind as u8,
            cooldown: spec
                .cooldown
                .map(|c| CooldownFfi {
                    rate: c.rate,
                    per_ms: u64::try_from(c.per.as_millis()).unwrap_or(u64::MAX),
                    bucket: c.bucket as u8,
                })
                .into(),
            permission: spec.permission as u8,
        }
    }
}

impl TryFrom<&CommandSpecFfi> for CommandSpec {
    type Error = PluginError;

    fn try_from(spec: &CommandSpecFfi) -> Result<Self, PluginError> {
        let args = spec
            .args
            .iter()
            .map(|a| {
                let kind = *ARG_KINDS
                    .get(usize::from(a.kind))
                    .ok_or_else(|| bad("argument kind", a.kind))?;
                let arg = Arg::new(a.name.as_str(), kind).description(a.description.as_str());
                Ok(if a.required { arg } else { arg.optional() })
            })
            .collect::<Result<Vec<_>, PluginError>>()?;
        let kind = match spec.kind {
            0 => CommandKind::Prefix,
            1 => CommandKind::Slash,
            2 => CommandKind::Hybrid,
            other => return Err(bad("command kind", other)),
        };
        let permission = match spec.permission {
            0 => Permission::Everyone,
            1 => Permission::Moderator,
            2 => Permission::Administrator,
            3 => Permission::Owner,
            other => return Err(bad("permission", other)),
        };
        let cooldown = match spec.cooldown.into_option() {
            None => None,
            Some(c) => Some(Cooldown {
                rate: c.rate,
                per: Duration::from_millis(c.per_ms),
                bucket: match c.bucket {
                    0 => Bucket::User,
                    1 => Bucket::Channel,
                    2 => Bucket::Guild,
                    3 => Bucket::Global,
                    other => return Err(bad("cooldown bucket", other)),
                },
            }),
        };
        Ok(Self {
            name: spec.name.as_str().to_owned(),
            description: spec.description.as_str().to_owned(),
            aliases: strings(&spec.aliases),
            category: spec.category.as_str().to_owned(),
            args,
            kind,
            cooldown,
            permission,
            // The 1.3 fields travel in the extras (`extra::CommandExtras`).
            ..CommandSpec::new(spec.name.as_str())
        })
    }
}

/// A hook registration: event name and priority (higher runs first).
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct HookSpecFfi {
    /// Event name.
    pub event: RString,
    /// Priority.
    pub priority: i32,
}

/// A scheduled task registration.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct TaskSpecFfi {
    /// Task name.
    pub name: RString,
    /// Period in milliseconds.
    pub every_ms: u64,
}

/// Everything a plugin declares, read before it is initialised.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct DescriptionFfi {
    /// The manifest.
    pub manifest: ManifestFfi,
    /// Commands, by index.
    pub commands: RVec<CommandSpecFfi>,
    /// Listened event kinds ([`EventKind`] discriminants), by index.
    pub listeners: RVec<u8>,
    /// Hooks, by index.
    pub hooks: RVec<HookSpecFfi>,
    /// Scheduled tasks, by index.
    pub tasks: RVec<TaskSpecFfi>,
    /// Component `custom_id` prefixes, by index.
    pub components: RVec<RString>,
}

/// A host-owned copy of a [`DescriptionFfi`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Description {
    /// The manifest.
    pub manifest: Manifest,
    /// Commands, by index.
    pub commands: Vec<CommandSpec>,
    /// Listened event kinds, by index.
    pub listeners: Vec<EventKind>,
    /// `(event, priority)` hooks, by index.
    pub hooks: Vec<(String, i32)>,
    /// `(name, period)` tasks, by index.
    pub tasks: Vec<(String, Duration)>,
    /// Component `custom_id` prefixes, by index.
    pub components: Vec<String>,
    /// What plugin-api 1.3 and later added (empty for older plugins).
    pub extras: super::extra::Extras,
}

impl Description {
    /// Every listened event kind in routing order: the 1.0 list (plugins built against 1.0 to
    /// 1.2), then the listeners of [`Extras`](super::extra::Extras) (1.3 and later).
    pub fn listened(&self) -> impl Iterator<Item = EventKind> + '_ {
        self.listeners.iter().chain(&self.extras.listeners).copied()
    }
}

impl TryFrom<&DescriptionFfi> for Description {
    type Error = PluginError;

    fn try_from(d: &DescriptionFfi) -> Result<Self, PluginError> {
        Ok(Self {
            manifest: (&d.manifest).into(),
            commands: d
                .commands
                .iter()
                .map(CommandSpec::try_from)
                .collect::<Result<_, _>>()?,
            listeners: d
                .listeners
                .iter()
                .map(|k| EventKind::from_u8(*k).ok_or_else(|| bad("event kind", *k)))
                .collect::<Result<_, _>>()?,
            hooks: d
                .hooks
                .iter()
                .map(|h| (h.event.as_str().to_owned(), h.priority))
                .collect(),
            tasks: d
                .tasks
                .iter()
                .map(|t| {
                    (
                        t.name.as_str().to_owned(),
                        Duration::from_millis(t.every_ms),
                    )
                })
                .collect(),
            components: strings(&d.components),
            extras: super::extra::Extras::default(),
        })
    }
}
