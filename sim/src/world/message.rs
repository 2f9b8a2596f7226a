//! Messages.

use serde_json::{Value, json};

use crate::snowflake::{iso8601, timestamp_ms};

/// A stored message.
#[derive(Debug, Clone)]
pub struct Message {
    /// Message id.
    pub id: u64,
    /// Channel id.
    pub channel_id: u64,
    /// Guild id (`None` in DMs).
    pub guild_id: Option<u64>,
    /// Author user id.
    pub author_id: u64,
    /// Content.
    pub content: String,
    /// Embeds as sent.
    pub embeds: Vec<Value>,
    /// Components as sent.
    pub components: Vec<Value>,
    /// Message flags.
    pub flags: u64,
    /// Replied-to message.
    pub reply_to: Option<u64>,
    /// The interaction this message answers.
    pub interaction_id: Option<u64>,
    /// Edit time (Unix ms).
    pub edited_at_ms: Option<u64>,
    /// Written by a webhook: the application id for interaction responses, the webhook id
    /// for channel webhooks.
    pub webhook_id: Option<u64>,
    /// For channel-webhook messages: the author object Discord shows (webhook id, the
    /// `username` it was executed with). Such messages carry no `application_id`.
    pub webhook_author: Option<Value>,
    /// Reactions, in the order they first appeared.
    pub reactions: Vec<Reaction>,
    /// Its files: a user's (name and size), or uploaded by the bot (with their contents).
    pub attachments: Vec<Attachment>,
}

/// A file on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Attachment id.
    pub id: u64,
    /// File name.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// The media type its upload gave, if any.
    pub content_type: Option<String>,
    /// Its description (alt text), if any.
    pub description: Option<String>,
    /// The contents, for files the bot uploaded (`None` for users' files, which are only
    /// named and sized).
    pub data: Option<std::sync::Arc<[u8]>>,
}

impl Attachment {
    /// The attachment object of a message in `channel`; its URLs have Discord's CDN form and
    /// lead nowhere.
    pub fn to_json(&self, channel: u64) -> Value {
        let url = format!(
            "https://cdn.discordapp.com/attachments/{channel}/{}/{}",
            self.id, self.filename
        );
        let mut v = json!({
            "id": self.id.to_string(),
            "filename": self.filename,
            "size": self.size,
            "url": url,
            "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
        });
        if let Some(kind) = &self.content_type {
            v["content_type"] = json!(kind);
        }
        if let Some(description) = &self.description {
            v["description"] = json!(description);
        }
        v
    }
}

/// The emoji of a reaction: a unicode emoji (`id` `None`) or a custom emoji.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionEmoji {
    /// Custom emoji id.
    pub id: Option<u64>,
    /// The unicode emoji, or the custom emoji's name.
    pub name: String,
    /// Animated custom emoji?
    pub animated: bool,
}

impl ReactionEmoji {
    /// The partial emoji object (`{id, name}`, plus `animated` for animated ones).
    pub fn to_json(&self) -> Value {
        let mut v = json!({"id": self.id.map(|i| i.to_string()), "name": self.name});
        if self.animated {
            v["animated"] = json!(true);
        }
        v
    }

    /// The emoji as written in a reaction route: the unicode emoji or `name:id`.
    pub fn key(&self) -> String {
        match self.id {
            Some(id) => format!("{}:{id}", self.name),
            None => self.name.clone(),
        }
    }
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone)]
pub struct Reaction {
    /// The emoji.
    pub emoji: ReactionEmoji,
    /// Who reacted, in order.
    pub users: Vec<u64>,
    /// Whether the bot is among them.
    pub me: bool,
}

impl Reaction {
    /// The reaction object of a message.
    pub fn to_json(&self) -> Value {
        json!({
            "emoji": self.emoji.to_json(),
            "count": self.users.len(),
            "count_details": {"burst": 0, "normal": self.users.len()},
            "burst_colors": [],
            "me": self.me,
            "me_burst": false,
        })
    }
}

impl Message {
    /// A plain message.
    pub fn new(
        id: u64,
        channel_id: u64,
        guild_id: Option<u64>,
        author_id: u64,
        content: &str,
    ) -> Self {
        Self {
            id,
            channel_id,
            guild_id,
            author_id,
            content: content.to_owned(),
            embeds: Vec::new(),
            components: Vec::new(),
            flags: 0,
            reply_to: None,
            interaction_id: None,
            edited_at_ms: None,
            webhook_id: None,
            webhook_author: None,
            reactions: Vec::new(),
            attachments: Vec::new(),
        }
    }

    /// Applies the message fields of a create/edit body (content, embeds, components, flags).
    pub fn apply_body(&mut self, body: &Value) {
        if let Some(content) = body.get("content") {
            self.content = content.as_str().unwrap_or_default().to_owned();
        }
        if let Some(embeds) = body.get("embeds") {
            self.embeds = embeds.as_array().cloned().unwrap_or_default();
        }
        if let Some(components) = body.get("components") {
            self.components = components.as_array().cloned().unwrap_or_default();
            number_components(&mut self.components);
        }
        if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
            self.flags = flags;
        }
    }

    /// Finds the component with `custom_id` in the message's action rows.
    pub fn component(&self, custom_id: &str) -> Option<&Value> {
        fn find<'a>(v: &'a Value, custom_id: &str) -> Option<&'a Value> {
            if v.get("custom_id").and_then(Value::as_str) == Some(custom_id) {
                return Some(v);
            }
            v.get("components")?
                .as_array()?
                .iter()
                .find_map(|c| find(c, custom_id))
        }
        self.components.iter().find_map(|c| find(c, custom_id))
    }

    /// The type of the component with `custom_id` in the message's action rows.
    pub fn component_type(&self, custom_id: &str) -> Option<u64> {
        self.component(custom_id)?
            .get("type")
            .and_then(Value::as_u64)
    }

    /// Normalises embeds to what Discord returns (`type: "rich"`, integer colour).
    fn embeds_json(&self) -> Vec<Value> {
        self.embeds
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(obj) = e.as_object_mut() {
                    obj.entry("type").or_insert_with(|| json!("rich"));
                    obj.retain(|_, v| !v.is_null());
                }
                e
            })
            .collect()
    }

    /// The message object. `author` is the author's user JSON; `member` (guild messages in
    /// gateway events) the author's partial member; `content_visible` false blanks content,
    /// embeds and components as Discord does without MESSAGE_CONTENT.
    pub fn to_json(&self, author: Value, member: Option<Value>, content_visible: bool) -> Value {
        let mut v = json!({
            "id": self.id.to_string(),
            "channel_id": self.channel_id.to_string(),
            "author": author,
            "content": if content_visible { self.content.as_str() } else { "" },
            "timestamp": iso8601(timestamp_ms(self.id)),
            "edited_timestamp": self.edited_at_ms.map(iso8601),
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": if content_visible {
                self.attachments.iter().map(|a| a.to_json(self.channel_id)).collect()
            } else {
                Vec::new()
            },
            "embeds": if content_visible { self.embeds_json() } else { Vec::new() },
            "components": if content_visible { self.components.clone() } else { Vec::new() },
            "pinned": false,
            "type": if self.reply_to.is_some() { 19 } else { 0 },
            "flags": self.flags,
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(guild) = self.guild_id {
                obj.insert("guild_id".into(), json!(guild.to_string()));
            }
            if let Some(member) = member {
                obj.insert("member".into(), member);
            }
            if let Some(reply) = self.reply_to {
                let mut reference = json!({
                    "type": 0,
                    "message_id": reply.to_string(),
                    "channel_id": self.channel_id.to_string(),
                });
                if let (Some(guild), Some(r)) = (self.guild_id, reference.as_object_mut()) {
                    r.insert("guild_id".into(), json!(guild.to_string()));
                }
                obj.insert("message_reference".into(), reference);
            }
            if let Some(webhook) = self.webhook_id {
                obj.insert("webhook_id".into(), json!(webhook.to_string()));
                if self.webhook_author.is_none() {
                    obj.insert("application_id".into(), json!(webhook.to_string()));
                }
            }
            if !self.reactions.is_empty() {
                let reactions: Vec<Value> = self.reactions.iter().map(Reaction::to_json).collect();
                obj.insert("reactions".into(), json!(reactions));
            }
        }
        v
    }
}

/// Gives every component without one a numeric `id`, depth first from 1, as Discord does.
fn number_components(components: &mut [Value]) {
    fn walk(list: &mut [Value], next: &mut u64) {
        for c in list {
            if let Some(obj) = c.as_object_mut() {
                if !obj.get("id").is_some_and(Value::is_u64) {
                    obj.insert("id".into(), json!(*next));
                }
                *next += 1;
                if let Some(Value::Array(children)) = obj.get_mut("components") {
                    walk(children, next);
                }
            }
        }
    }
    let mut next = 1;
    walk(components, &mut next);
}
