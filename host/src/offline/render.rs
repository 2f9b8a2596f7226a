//! Bot messages as the chat console prints them, from the JSON the bot sent to the simulator:
//! the message id in brackets (`[123]`, what `:react`, `:edit` and `:delete` take), text,
//! embeds (title, description, fields, colour by name, footer), buttons and select menus with
//! their custom ids, files by name and size, and an ephemeral marker.

use serde_json::Value;

use super::colour::describe_colour;

/// Discord's `EPHEMERAL` message flag.
const EPHEMERAL: u64 = 1 << 6;

/// Where a rendered message came from, for its header line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A message the bot posted in a channel (a reply to a message, or a plain send).
    Channel {
        /// The channel's display name (`#general`).
        channel: String,
        /// Whom it answers, when it is a reply (`operator [456]`).
        reply_to: Option<String>,
    },
    /// The answer to an interaction (a slash command or a click).
    Interaction {
        /// What the interaction was (`/ping`, `click poll:yes`).
        what: String,
    },
    /// A follow-up to an interaction.
    Followup {
        /// What the interaction was.
        what: String,
    },
    /// An edit of an earlier message (the id is the edited message's).
    Edit,
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Whether a message body carries Discord's ephemeral flag.
pub fn is_ephemeral(body: &Value) -> bool {
    body.get("flags")
        .and_then(Value::as_u64)
        .is_some_and(|flags| flags & EPHEMERAL != 0)
}

/// A message id as the console shows it: `[123]`.
pub fn id(message: u64) -> String {
    format!("[{message}]")
}

/// Renders a message body (`content`, `embeds`, `components`, `attachments`, `flags`) under a
/// header line naming the bot, the message's id when known, and where the message went. Every
/// line ends with `\n`.
pub fn render(bot: &str, message: Option<u64>, origin: &Origin, body: &Value) -> String {
    let mut header = format!("{bot} ");
    if let Some(message) = message {
        header.push_str(&format!("{} ", id(message)));
    }
    match origin {
        Origin::Channel { channel, reply_to } => {
            header.push_str(&format!("in {channel}"));
            if let Some(who) = reply_to {
                header.push_str(&format!(", replying to {who}"));
            }
        }
        Origin::Interaction { what } => header.push_str(&format!("answering {what}")),
        Origin::Followup { what } => header.push_str(&format!("following up {what}")),
        Origin::Edit => header.push_str("(edited)"),
    }
    if is_ephemeral(body) {
        header.push_str(" [ephemeral: only you can see this]");
    }
    let mut out = format!("{header}:\n");
    out.push_str(&render_body(body));
    out
}

/// Renders the message itself, indented, without a header.
pub fn render_body(body: &Value) -> String {
    let mut out = String::new();
    if let Some(content) = text(body, "content") {
        for line in content.lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    for embed in body
        .get("embeds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str(&render_embed(embed));
    }
    for row in body
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // Action rows (type 1) hold the components; a bare component renders on its own.
        let items: Vec<&Value> = match row.get("components").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None => vec![row],
        };
        let line: Vec<String> = items.into_iter().map(render_component).collect();
        if !line.is_empty() {
            out.push_str(&format!("  {}\n", line.join("  ")));
        }
    }
    for file in body
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str(&format!("  {}\n", attachment(file)));
    }
    if out.is_empty() {
        out.push_str("  (empty message)\n");
    }
    out
}

/// `body` with the attachments of the message it made (`stored`, as the simulator keeps them):
/// a request body names the bot's files (`attachments` entries of a multipart body) without
/// their sizes, the stored message has both. Unchanged when nothing is stored.
pub fn with_stored_files(body: &Value, stored: Option<&Value>) -> Value {
    let mut body = body.clone();
    if let (Some(files), Some(object)) = (
        stored.and_then(Value::as_array).filter(|f| !f.is_empty()),
        body.as_object_mut(),
    ) {
        object.insert("attachments".into(), Value::Array(files.clone()));
    }
    body
}

/// A file of a message: `📎 name (size)`, the size when known.
pub fn attachment(file: &Value) -> String {
    let name = text(file, "filename").unwrap_or("(unnamed file)");
    match file.get("size").and_then(Value::as_u64) {
        Some(size) => format!("📎 {name} ({})", size_text(size)),
        None => format!("📎 {name}"),
    }
}

/// A size in bytes for people: `12 B`, `2.0 KiB`, `3.5 MiB`.
pub fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * KIB;
    match bytes {
        b if b < KIB => format!("{b} B"),
        b if b < MIB => format!("{:.1} KiB", b as f64 / KIB as f64),
        b => format!("{:.1} MiB", b as f64 / MIB as f64),
    }
}

fn render_embed(embed: &Value) -> String {
    let mut out = String::new();
    let colour = embed
        .get("color")
        .and_then(Value::as_u64)
        .map(|c| format!("  [{}]", describe_colour(u32::try_from(c).unwrap_or(0))))
        .unwrap_or_default();
    let title = text(embed, "title").unwrap_or("(no title)");
    out.push_str(&format!("  ┃ {title}{colour}\n"));
    if let Some(author) = embed.get("author").and_then(|a| text(a, "name")) {
        out.push_str(&format!("  ┃ by {author}\n"));
    }
    if let Some(description) = text(embed, "description") {
        for line in description.lines() {
            out.push_str(&format!("  ┃ {line}\n"));
        }
    }
    for field in embed
        .get("fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = text(field, "name").unwrap_or("");
        let mut lines = text(field, "value").unwrap_or("").lines();
        out.push_str(&format!(
            "  ┃ {name}: {}\n",
            lines.next().unwrap_or_default()
        ));
        for line in lines {
            out.push_str(&format!("  ┃   {line}\n"));
        }
    }
    if let Some(thumbnail) = embed.get("thumbnail").and_then(|t| text(t, "url")) {
        out.push_str(&format!("  ┃ thumbnail: {thumbnail}\n"));
    }
    let footer = embed.get("footer").and_then(|f| text(f, "text"));
    let timestamp = text(embed, "timestamp");
    match (footer, timestamp) {
        (Some(footer), Some(time)) => out.push_str(&format!("  ┃ — {footer} · {time}\n")),
        (Some(footer), None) => out.push_str(&format!("  ┃ — {footer}\n")),
        (None, Some(time)) => out.push_str(&format!("  ┃ — {time}\n")),
        (None, None) => {}
    }
    out
}

fn render_component(component: &Value) -> String {
    let id = text(component, "custom_id");
    let disabled = component
        .get("disabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let off = if disabled { " (disabled)" } else { "" };
    match component.get("type").and_then(Value::as_u64) {
        Some(2) => {
            let label = text(component, "label").unwrap_or("");
            match (id, text(component, "url")) {
                (Some(id), _) => format!("[ {label} ] ({id}){off}"),
                (None, Some(url)) => format!("[ {label} ↗ ] ({url}){off}"),
                (None, None) => format!("[ {label} ]{off}"),
            }
        }
        Some(kind @ (3 | 5..=8)) => {
            let placeholder = text(component, "placeholder").unwrap_or(match kind {
                5 => "choose a user",
                6 => "choose a role",
                7 => "choose a user or role",
                8 => "choose a channel",
                _ => "choose",
            });
            let options: Vec<String> = component
                .get("options")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|o| {
                    let label = text(o, "label").unwrap_or("");
                    match text(o, "value") {
                        Some(value) if value != label => format!("{label}={value}"),
                        _ => label.to_owned(),
                    }
                })
                .collect();
            let options = if options.is_empty() {
                String::new()
            } else {
                format!(": {}", options.join(" | "))
            };
            format!("[ {placeholder} ▾ ] ({}{options}){off}", id.unwrap_or("?"))
        }
        _ => format!("[ component {} ]", id.unwrap_or("?")),
    }
}

/// Replaces user mentions (`<@id>`, `<@!id>`) whose id `name` knows with `@name`.
pub fn name_mentions(text: &str, name: impl Fn(u64) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<@") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let digits_from = usize::from(after.starts_with('!'));
        let replaced = after.find('>').and_then(|end| {
            let id = after.get(digits_from..end)?.parse::<u64>().ok()?;
            Some((name(id)?, end))
        });
        match replaced {
            Some((name, end)) => {
                out.push('@');
                out.push_str(&name);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("<@");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every custom id of the components in a message body.
pub fn custom_ids(body: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for row in body
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match row.get("components").and_then(Value::as_array) {
            Some(items) => ids.extend(items.iter().filter_map(|c| text(c, "custom_id"))),
            None => ids.extend(text(row, "custom_id")),
        }
    }
    ids.into_iter().map(str::to_owned).collect()
}

/// A presence the bot set (gateway op 3), as the member list shows it:
/// `● Zoryx is now Watching 1 servers (online)`.
pub fn presence(bot: &str, presence: &Value) -> String {
    let status = presence
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("online");
    let activity = presence
        .get("activities")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let shown = activity.map_or_else(String::new, |a| {
        let name = a.get("name").and_then(Value::as_str).unwrap_or_default();
        match a.get("type").and_then(Value::as_u64) {
            Some(0) => format!("Playing {name}"),
            Some(1) => {
                let url = a.get("url").and_then(Value::as_str).unwrap_or_default();
                format!("Streaming {name} <{url}>")
            }
            Some(2) => format!("Listening to {name}"),
            Some(3) => format!("Watching {name}"),
            Some(4) => a
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_owned(),
            Some(5) => format!("Competing in {name}"),
            _ => name.to_owned(),
        }
    });
    if shown.is_empty() {
        format!("● {bot} is {status}")
    } else {
        format!("● {bot} is now {shown} ({status})")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plain_reply() {
        let body = json!({"content": "pong", "message_reference": {"message_id": "1"}});
        let origin = Origin::Channel {
            channel: "#general".into(),
            reply_to: Some("operator".into()),
        };
        assert_eq!(
            render("zoryx", Some(7), &origin, &body),
            "zoryx [7] in #general, replying to operator:\n  pong\n"
        );
    }

    #[test]
    fn embed_with_everything() {
        let body = json!({
            "embeds": [{
                "title": "Reloaded",
                "description": "hello 0.1.0\ngeneration 2",
                "color": 0x57F287,
                "fields": [{"name": "Time", "value": "3 ms", "inline": true}],
                "footer": {"text": "owner command"}
            }],
            "flags": 64
        });
        let text = render(
            "zoryx",
            None,
            &Origin::Interaction {
                what: "/reload".into(),
            },
            &body,
        );
        assert_eq!(
            text,
            "zoryx answering /reload [ephemeral: only you can see this]:\n  \
             ┃ Reloaded  [green #57f287]\n  ┃ hello 0.1.0\n  ┃ generation 2\n  \
             ┃ Time: 3 ms\n  ┃ — owner command\n"
        );
    }

    #[test]
    fn buttons_and_selects_show_their_ids() {
        let body = json!({
            "content": "Vote",
            "components": [
                {"type": 1, "components": [
                    {"type": 2, "style": 1, "label": "Yes", "custom_id": "poll:yes"},
                    {"type": 2, "style": 4, "label": "No", "custom_id": "poll:no", "disabled": true}
                ]},
                {"type": 1, "components": [
                    {"type": 3, "custom_id": "poll:pick", "placeholder": "Pick",
                     "options": [{"label": "Cats", "value": "cats"}, {"label": "Dogs", "value": "d"}]}
                ]}
            ]
        });
        let out = render_body(&body);
        assert_eq!(
            out,
            "  Vote\n  [ Yes ] (poll:yes)  [ No ] (poll:no) (disabled)\n  \
             [ Pick ▾ ] (poll:pick: Cats=cats | Dogs=d)\n"
        );
        assert_eq!(custom_ids(&body), ["poll:yes", "poll:no", "poll:pick"]);
    }

    #[test]
    fn files_show_their_name_and_size_and_edits_say_so() {
        let body = json!({
            "content": "here",
            "attachments": [
                {"id": "1", "filename": "cat.png", "size": 2048},
                {"id": "2", "filename": "notes.txt", "size": 12},
                {"id": "3", "filename": "big.zip", "size": 3_670_016},
                {"id": "0", "filename": "upload.bin"}
            ]
        });
        assert_eq!(
            render("zoryx", Some(5), &Origin::Edit, &body),
            "zoryx [5] (edited):\n  here\n  📎 cat.png (2.0 KiB)\n  📎 notes.txt (12 B)\n  \
             📎 big.zip (3.5 MiB)\n  📎 upload.bin\n"
        );
    }

    #[test]
    fn the_bots_files_show_their_stored_sizes() {
        // A multipart body names its files; the simulator's message has their sizes.
        let sent = json!({"content": "report", "attachments": [{"id": "0", "filename": "a.csv"}]});
        let stored = json!([{"id": "99", "filename": "a.csv", "size": 18, "url": "u"}]);
        let origin = Origin::Channel {
            channel: "#general".into(),
            reply_to: None,
        };
        assert_eq!(
            render(
                "zoryx",
                Some(7),
                &origin,
                &with_stored_files(&sent, Some(&stored))
            ),
            "zoryx [7] in #general:\n  report\n  📎 a.csv (18 B)\n"
        );
        assert_eq!(with_stored_files(&sent, Some(&json!([]))), sent);
        assert_eq!(with_stored_files(&sent, None), sent);
    }

    #[test]
    fn mentions_become_names() {
        let name = |id| (id == 42).then(|| "guest".to_owned());
        assert_eq!(
            name_mentions("Hello, <@42>, <@!42> and <@7>! <@", name),
            "Hello, @guest, @guest and <@7>! <@"
        );
        assert_eq!(name_mentions("<@&42> <#42>", name), "<@&42> <#42>");
    }

    #[test]
    fn empty_and_unflagged() {
        assert_eq!(render_body(&json!({})), "  (empty message)\n");
        assert!(!is_ephemeral(&json!({"flags": 4})));
        assert!(is_ephemeral(&json!({"flags": 68})));
    }

    #[test]
    fn presences_read_as_the_member_list_shows_them() {
        let watching =
            serde_json::json!({"status": "idle", "activities": [{"name": "3 servers", "type": 3}]});
        assert_eq!(
            presence("Zoryx", &watching),
            "● Zoryx is now Watching 3 servers (idle)"
        );
        let custom = serde_json::json!({"status": "online", "activities": [{"name": "~", "type": 4, "state": "hi"}]});
        assert_eq!(presence("Zoryx", &custom), "● Zoryx is now hi (online)");
        let none = serde_json::json!({"status": "dnd", "activities": []});
        assert_eq!(presence("Zoryx", &none), "● Zoryx is dnd");
    }
}
