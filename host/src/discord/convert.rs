//! Conversions between serenity's model, plugin-api types and Discord JSON bodies.
//!
//! Outgoing messages are built as Discord JSON directly (the same shape serenity's
//! `CreateMessage` / `CreateInteractionResponseMessage` serialise to). A plugin's message has
//! been checked against Discord's limits already (`runtime/services.rs`, with
//! `zoryx_plugin_api::limits`: past one, the plugin gets an error naming it); the clipping here
//! only keeps the host's own messages within them.

use serde_json::{Map, Value, json};
use serenity::model::application::{
    CommandDataOption, CommandDataOptionValue, CommandDataResolved,
};
use serenity::model::channel::{
    GuildChannel, PermissionOverwriteType, Reaction as SReaction, ReactionType,
};
use serenity::model::event::MessageUpdateEvent;
use zoryx_plugin_api::{
    ArgKind, ArgValue, Attachment, ButtonStyle, Channel, ChannelId, ChannelKind, Component, Embed,
    GuildId, IncomingMessage, Member, Message, MessageId, MessageUpdate, Overwrite,
    OverwriteTarget, Permissions, Role, RoleId, User, UserId, UserReaction, VoiceState,
};

/// Discord's limits.
const CONTENT_MAX: usize = 2000;
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4096;
const FIELD_NAME_MAX: usize = 256;
const FIELD_VALUE_MAX: usize = 1024;
const FIELDS_MAX: usize = 25;
const FOOTER_MAX: usize = 2048;
const EMBEDS_MAX: usize = 10;
const LABEL_MAX: usize = 80;
const BUTTONS_PER_ROW: usize = 5;
const ROWS_MAX: usize = 5;
const SELECT_OPTIONS_MAX: usize = 25;
/// The "only you can see this" message flag.
pub const EPHEMERAL: u64 = 1 << 6;

/// `text` cut to at most `max` characters (on a char boundary, with an ellipsis when cut).
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn embed_json(embed: &Embed) -> Value {
    let mut out = Map::new();
    if let Some(title) = &embed.title {
        out.insert("title".into(), json!(clip(title, TITLE_MAX)));
    }
    if let Some(description) = &embed.description {
        out.insert(
            "description".into(),
            json!(clip(description, DESCRIPTION_MAX)),
        );
    }
    if let Some(colour) = embed.colour {
        out.insert("color".into(), json!(colour & 0x00ff_ffff));
    }
    if !embed.fields.is_empty() {
        let fields: Vec<Value> = embed
            .fields
            .iter()
            .take(FIELDS_MAX)
            .map(|f| {
                json!({
                    "name": non_empty(clip(&f.name, FIELD_NAME_MAX)),
                    "value": non_empty(clip(&f.value, FIELD_VALUE_MAX)),
                    "inline": f.inline,
                })
            })
            .collect();
        out.insert("fields".into(), Value::Array(fields));
    }
    if let Some(footer) = &embed.footer {
        out.insert("footer".into(), json!({"text": clip(footer, FOOTER_MAX)}));
    }
    if let Some(timestamp) = &embed.timestamp {
        out.insert("timestamp".into(), json!(timestamp));
    }
    if let Some(url) = &embed.thumbnail {
        out.insert("thumbnail".into(), json!({"url": url}));
    }
    Value::Object(out)
}

/// Discord refuses empty field names and values; a zero-width space stands in.
fn non_empty(text: String) -> String {
    if text.is_empty() {
        "\u{200b}".to_owned()
    } else {
        text
    }
}

fn button_style(style: ButtonStyle) -> u8 {
    style as u8
}

/// Buttons grouped five to a row; each select menu on a row of its own; at most five rows.
pub(crate) fn components_json(components: &[Component]) -> Vec<Value> {
    let mut rows: Vec<Value> = Vec::new();
    let mut buttons: Vec<Value> = Vec::new();
    let flush = |buttons: &mut Vec<Value>, rows: &mut Vec<Value>| {
        if !buttons.is_empty() {
            rows.push(json!({"type": 1, "components": std::mem::take(buttons)}));
        }
    };
    for component in components {
        match component {
            Component::Button(button) => {
                if buttons.len() == BUTTONS_PER_ROW {
                    flush(&mut buttons, &mut rows);
                }
                buttons.push(json!({
                    "type": 2,
                    "style": button_style(button.style),
                    "label": clip(&button.label, LABEL_MAX),
                    "custom_id": clip(&button.custom_id, 100),
                    "disabled": button.disabled,
                }));
            }
            Component::Select(menu) => {
                flush(&mut buttons, &mut rows);
                let options: Vec<Value> = menu
                    .options
                    .iter()
                    .take(SELECT_OPTIONS_MAX)
                    .map(|o| {
                        let mut option = json!({
                            "label": clip(&o.label, 100),
                            "value": clip(&o.value, 100),
                        });
                        if !o.description.is_empty() {
                            option["description"] = json!(clip(&o.description, 100));
                        }
                        option
                    })
                    .collect();
                let count = u8::try_from(options.len()).unwrap_or(25);
                let max = menu.max_values.clamp(1, count.max(1));
                let min = menu.min_values.min(max);
                let mut select = json!({
                    "type": 3,
                    "custom_id": clip(&menu.custom_id, 100),
                    "options": options,
                    "min_values": min,
                    "max_values": max,
                });
                if !menu.placeholder.is_empty() {
                    select["placeholder"] = json!(clip(&menu.placeholder, 150));
                }
                if menu.disabled {
                    select["disabled"] = json!(true);
                }
                rows.push(json!({"type": 1, "components": [select]}));
            }
        }
    }
    flush(&mut buttons, &mut rows);
    rows.truncate(ROWS_MAX);
    rows
}

/// The common message fields: content, embeds, components. Files are not among them: they go
/// as the parts of a multipart body, with their `attachments` entries
/// ([`Rest::send_message`](super::rest::Rest::send_message)).
fn message_fields(message: &Message) -> Map<String, Value> {
    let mut out = Map::new();
    match &message.content {
        Some(content) if !content.is_empty() => {
            out.insert("content".into(), json!(clip(content, CONTENT_MAX)));
        }
        _ if message.embeds.is_empty() && message.files.is_empty() => {
            // Discord refuses a message with nothing in it.
            out.insert("content".into(), json!("\u{200b}"));
        }
        _ => {}
    }
    if !message.embeds.is_empty() {
        let embeds: Vec<Value> = message
            .embeds
            .iter()
            .take(EMBEDS_MAX)
            .map(embed_json)
            .collect();
        out.insert("embeds".into(), Value::Array(embeds));
    }
    if !message.components.is_empty() {
        out.insert(
            "components".into(),
            Value::Array(components_json(&message.components)),
        );
    }
    out
}

/// The body of `POST /channels/{id}/messages`; a reply to `reply_to` when given (without
/// pinging its author). Channel messages cannot be ephemeral, so that flag is dropped.
pub fn channel_message(message: &Message, reply_to: Option<MessageId>) -> Value {
    let mut out = message_fields(message);
    if let Some(id) = reply_to {
        out.insert(
            "message_reference".into(),
            json!({"message_id": id.0.to_string(), "fail_if_not_exists": false}),
        );
        out.insert(
            "allowed_mentions".into(),
            json!({"parse": ["users", "roles"], "replied_user": false}),
        );
    }
    Value::Object(out)
}

/// The body of a message edit: the message becomes exactly `message` (embeds and components it
/// does not have are removed).
pub fn edited_message(message: &Message) -> Value {
    let mut out = message_fields(message);
    out.entry("embeds").or_insert_with(|| json!([]));
    out.entry("components").or_insert_with(|| json!([]));
    Value::Object(out)
}

/// The `data` of an interaction callback or the body of a followup; flag 64 when ephemeral.
pub fn interaction_message(message: &Message) -> Value {
    let mut out = message_fields(message);
    if message.ephemeral {
        out.insert("flags".into(), json!(EPHEMERAL));
    }
    Value::Object(out)
}

/// A serenity user as a plugin-api user.
pub fn user(user: &serenity::model::user::User) -> User {
    User {
        id: UserId(user.id.get()),
        name: user.name.clone(),
        bot: user.bot,
    }
}

/// A serenity message as a plugin-api incoming message.
pub fn incoming(message: &serenity::model::channel::Message) -> IncomingMessage {
    IncomingMessage {
        id: MessageId(message.id.get()),
        channel_id: ChannelId(message.channel_id.get()),
        guild_id: message.guild_id.map(|g| GuildId(g.get())),
        author: user(&message.author),
        content: message.content.clone(),
        attachments: message.attachments.iter().map(attachment).collect(),
        reply_to: message
            .message_reference
            .as_ref()
            .and_then(|r| r.message_id)
            .map(|m| MessageId(m.get())),
        member_roles: message
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| RoleId(r.get())).collect())
            .unwrap_or_default(),
    }
}

/// A serenity attachment as a plugin-api one.
pub fn attachment(file: &serenity::model::channel::Attachment) -> Attachment {
    Attachment {
        id: file.id.get(),
        filename: file.filename.clone(),
        size: u64::from(file.size),
        url: file.url.clone(),
        content_type: file.content_type.clone(),
    }
}

/// A MESSAGE_UPDATE as a plugin-api message update: what the update carries.
pub fn message_update(event: &MessageUpdateEvent) -> MessageUpdate {
    MessageUpdate {
        message_id: MessageId(event.id.get()),
        channel_id: ChannelId(event.channel_id.get()),
        guild_id: event.guild_id.map(|g| GuildId(g.get())),
        content: event.content.clone(),
        author: event.author.as_ref().map(user),
        edited_at: event.edited_timestamp.and_then(|t| t.to_rfc3339()),
        attachments: event
            .attachments
            .as_ref()
            .map(|files| files.iter().map(attachment).collect()),
    }
}

/// An emoji as reactions name it: the character, or `name:id` for a custom emoji.
pub fn emoji(emoji: &ReactionType) -> String {
    match emoji {
        ReactionType::Unicode(text) => text.clone(),
        ReactionType::Custom { id, name, .. } => {
            format!("{}:{}", name.as_deref().unwrap_or_default(), id.get())
        }
        other => other.to_string(),
    }
}

/// A serenity reaction as one user's plugin-api reaction (`None` without a user, which the
/// gateway always sends).
pub fn user_reaction(reaction: &SReaction) -> Option<UserReaction> {
    Some(UserReaction {
        user_id: UserId(reaction.user_id?.get()),
        channel_id: ChannelId(reaction.channel_id.get()),
        message_id: MessageId(reaction.message_id.get()),
        guild_id: reaction.guild_id.map(|g| GuildId(g.get())),
        emoji: emoji(&reaction.emoji),
        member: reaction.member.as_ref().map(member),
    })
}

/// A serenity guild channel (or category) as a plugin-api channel.
pub fn channel(channel: &GuildChannel) -> Channel {
    Channel {
        id: ChannelId(channel.id.get()),
        guild_id: Some(GuildId(channel.guild_id.get())),
        name: channel.name.clone(),
        kind: ChannelKind::from_code(u8::from(channel.kind)),
        parent_id: channel.parent_id.map(|p| ChannelId(p.get())),
        position: i32::from(channel.position),
        topic: channel.topic.clone(),
        nsfw: channel.nsfw,
        slowmode_seconds: channel.rate_limit_per_user.map_or(0, u32::from),
        overwrites: channel
            .permission_overwrites
            .iter()
            .filter_map(|o| {
                let target = match o.kind {
                    PermissionOverwriteType::Member(u) => OverwriteTarget::Member(UserId(u.get())),
                    PermissionOverwriteType::Role(r) => OverwriteTarget::Role(RoleId(r.get())),
                    _ => return None,
                };
                Some(Overwrite {
                    target,
                    allow: Permissions(o.allow.bits()),
                    deny: Permissions(o.deny.bits()),
                })
            })
            .collect(),
    }
}

/// A serenity role as a plugin-api role.
pub fn role(role: &serenity::model::guild::Role) -> Role {
    Role {
        id: RoleId(role.id.get()),
        name: role.name.clone(),
        permissions: Permissions(role.permissions.bits()),
        position: i32::from(role.position),
        colour: role.colour.0,
        hoist: role.hoist,
        mentionable: role.mentionable,
        managed: role.managed,
    }
}

/// A serenity voice state as a plugin-api one; `previous` is the channel the user was in
/// before (from the cache of voice states the gateway keeps up to date).
pub fn voice_state(
    state: &serenity::model::voice::VoiceState,
    previous: Option<&serenity::model::voice::VoiceState>,
) -> Option<VoiceState> {
    Some(VoiceState {
        guild_id: GuildId(state.guild_id?.get()),
        user_id: UserId(state.user_id.get()),
        channel_id: state.channel_id.map(|c| ChannelId(c.get())),
        previous: previous
            .and_then(|p| p.channel_id)
            .map(|c| ChannelId(c.get())),
        member: state.member.as_ref().map(member),
        mute: state.mute,
        deaf: state.deaf,
        self_mute: state.self_mute,
        self_deaf: state.self_deaf,
    })
}

/// A serenity member as a plugin-api member.
pub fn member(member: &serenity::model::guild::Member) -> Member {
    Member {
        user: user(&member.user),
        guild_id: GuildId(member.guild_id.get()),
        nick: member.nick.clone(),
        roles: member.roles.iter().map(|r| RoleId(r.get())).collect(),
    }
}

/// The command an application command interaction runs: its name, or the path of its
/// subcommand (`config set`, `config role add`), and the options given to that one.
pub fn command_path<'a>(
    name: &str,
    options: &'a [CommandDataOption],
) -> (String, &'a [CommandDataOption]) {
    let mut path = name.to_owned();
    let mut options = options;
    while let [only] = options
        && let CommandDataOptionValue::SubCommand(inner)
        | CommandDataOptionValue::SubCommandGroup(inner) = &only.value
    {
        path.push(' ');
        path.push_str(&only.name);
        options = inner;
    }
    (path, options)
}

/// One option's value as the declared argument expects it; `None` when it is of another type.
/// An attachment option's file comes from the interaction's `resolved` data.
fn slash_value(
    value: &CommandDataOptionValue,
    spec: &zoryx_plugin_api::Arg,
    resolved: &CommandDataResolved,
) -> Option<ArgValue> {
    Some(match (value, spec.kind) {
        (CommandDataOptionValue::Attachment(id), _) if spec.attachment => {
            let file = resolved.attachments.get(id)?;
            ArgValue::Text(serde_json::to_string(&attachment(file)).ok()?)
        }
        (CommandDataOptionValue::String(s), ArgKind::Text | ArgKind::Rest) if !spec.attachment => {
            ArgValue::Text(s.clone())
        }
        (CommandDataOptionValue::Integer(i), ArgKind::Integer) => ArgValue::Integer(*i),
        (CommandDataOptionValue::Integer(i), ArgKind::Float) => ArgValue::Float(*i as f64),
        (CommandDataOptionValue::Number(n), ArgKind::Float) => ArgValue::Float(*n),
        (CommandDataOptionValue::Boolean(b), ArgKind::Bool) => ArgValue::Bool(*b),
        (CommandDataOptionValue::User(u), ArgKind::User) => ArgValue::User(UserId(u.get())),
        (CommandDataOptionValue::User(u), ArgKind::Member) => ArgValue::Member(UserId(u.get())),
        (CommandDataOptionValue::Role(r), ArgKind::Role) => ArgValue::Role(RoleId(r.get())),
        (CommandDataOptionValue::Channel(c), ArgKind::Channel) => {
            ArgValue::Channel(ChannelId(c.get()))
        }
        _ => return None,
    })
}

/// The options filled so far while an option is being typed (autocomplete): those of the
/// declared type, the one being typed left out.
pub fn partial_args(
    specs: &[zoryx_plugin_api::Arg],
    options: &[CommandDataOption],
    resolved: &CommandDataResolved,
) -> Vec<(String, ArgValue)> {
    specs
        .iter()
        .filter_map(|spec| {
            let option = options.iter().find(|o| o.name == spec.name)?;
            Some((
                spec.name.clone(),
                slash_value(&option.value, spec, resolved)?,
            ))
        })
        .collect()
}

/// A slash command's options as the argument values the command's handler expects, in
/// declaration order. Options the command does not declare are ignored; a value of the wrong
/// type is an error naming the option.
pub fn slash_args(
    specs: &[zoryx_plugin_api::Arg],
    options: &[CommandDataOption],
    resolved: &CommandDataResolved,
) -> Result<Vec<(String, ArgValue)>, String> {
    let mut out = Vec::new();
    for spec in specs {
        let Some(option) = options.iter().find(|o| o.name == spec.name) else {
            if spec.required {
                return Err(format!("missing required option `{}`", spec.name));
            }
            continue;
        };
        let Some(value) = slash_value(&option.value, spec, resolved) else {
            let expected = if spec.attachment {
                "a file"
            } else {
                spec.kind.name()
            };
            return Err(format!(
                "option `{}` should be {expected}, got {:?}",
                spec.name, option.value
            ));
        };
        out.push((spec.name.clone(), value));
    }
    Ok(out)
}

/// The `data` of a modal callback (type 9): one text input to an action row.
pub fn modal_json(modal: &zoryx_plugin_api::Modal) -> Value {
    let rows: Vec<Value> = modal
        .inputs
        .iter()
        .map(|input| {
            let mut text = json!({
                "type": 4,
                "custom_id": input.custom_id,
                "style": input.style.code(),
                "label": input.label,
                "required": input.required,
            });
            if let Some(min) = input.min_length {
                text["min_length"] = json!(min);
            }
            if let Some(max) = input.max_length {
                text["max_length"] = json!(max);
            }
            if let Some(placeholder) = &input.placeholder {
                text["placeholder"] = json!(placeholder);
            }
            if let Some(value) = &input.value {
                text["value"] = json!(value);
            }
            json!({"type": 1, "components": [text]})
        })
        .collect();
    json!({"custom_id": modal.custom_id, "title": modal.title, "components": rows})
}

/// The `data` of an autocomplete callback (type 8): at most 25 choices, names of 1–100
/// characters (longer ones shortened, empty ones named by their value).
pub fn autocomplete_json(choices: &[zoryx_plugin_api::Choice]) -> Value {
    use zoryx_plugin_api::ChoiceValue;
    use zoryx_plugin_api::limits::{AUTOCOMPLETE_CHOICES, CHOICE_NAME};
    let choices: Vec<Value> = choices
        .iter()
        .take(AUTOCOMPLETE_CHOICES)
        .map(|c| {
            let name = if c.name.is_empty() {
                c.value.to_string()
            } else {
                c.name.clone()
            };
            let value = match &c.value {
                ChoiceValue::Text(t) => json!(clip(t, CHOICE_NAME)),
                ChoiceValue::Integer(i) => json!(i),
                ChoiceValue::Float(f) => json!(f),
            };
            json!({"name": non_empty(clip(&name, CHOICE_NAME)), "value": value})
        })
        .collect();
    json!({"choices": choices})
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoryx_plugin_api::{Button, SelectMenu};

    #[test]
    fn buttons_fill_rows_and_selects_get_their_own() {
        let mut message = Message::text("hi");
        for i in 0..6 {
            message = message.button(Button::new(format!("b{i}"), "x"));
        }
        message = message.select(SelectMenu::new("s", "pick").option("a", "a"));
        let body = channel_message(&message, Some(MessageId(9)));
        let rows = body["components"].as_array().expect("rows");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["components"].as_array().expect("row").len(), 5);
        assert_eq!(rows[2]["components"][0]["type"], 3);
        assert_eq!(body["message_reference"]["message_id"], "9");
    }

    #[test]
    fn long_text_is_clipped_and_ephemeral_sets_the_flag() {
        let message = Message::text("x".repeat(3000)).ephemeral();
        let body = interaction_message(&message);
        assert_eq!(
            body["content"].as_str().expect("content").chars().count(),
            2000
        );
        assert_eq!(body["flags"], EPHEMERAL);
        assert!(channel_message(&message, None).get("flags").is_none());
    }

    #[test]
    fn disabled_menus_say_so_and_a_file_alone_needs_no_placeholder_text() {
        let message = Message::new()
            .select(SelectMenu::new("s", "pick").option("a", "a"))
            .disable_components();
        let body = edited_message(&message);
        assert_eq!(body["components"][0]["components"][0]["disabled"], true);
        assert_eq!(body["content"], "\u{200b}");
        let enabled = channel_message(&Message::new().select(SelectMenu::new("s", "p")), None);
        assert!(
            enabled["components"][0]["components"][0]
                .get("disabled")
                .is_none()
        );
        let file_only = channel_message(&Message::new().file("a.txt", "a"), None);
        assert!(file_only.get("content").is_none(), "{file_only}");
    }
}
