//! Outgoing messages: text, embeds, buttons, select menus and files.

use serde::ser::{SerializeStruct, Serializer};

/// A message a plugin sends or replies with.
///
/// Strings convert directly, so `ctx.reply("pong")` works; build richer messages with the methods.
///
/// ```
/// use zoryx_plugin_api::{Button, ButtonStyle, Embed, Message};
///
/// let message = Message::text("Pick one")
///     .embed(Embed::new().title("Poll").colour(0x5865F2).field("Option A", "cats", true))
///     .button(Button::new("poll:a", "A").style(ButtonStyle::Primary))
///     .ephemeral();
/// assert_eq!(message.embeds[0].fields.len(), 1);
/// assert!(message.ephemeral);
/// ```
///
/// Files go along as attachments (plugin-api 1.3):
///
/// ```
/// use zoryx_plugin_api::{FileUpload, Message};
///
/// let report = Message::text("Today's numbers")
///     .file("report.csv", b"day,count\nmonday,3\n".to_vec())
///     .attach(FileUpload::new("chart.png", vec![0x89, b'P', b'N', b'G']).description("The chart"));
/// assert_eq!(report.files[1].name, "chart.png");
/// assert!(report.needs_json());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Message {
    /// Plain text content.
    pub content: Option<String>,
    /// Up to ten embeds.
    pub embeds: Vec<Embed>,
    /// Buttons and select menus, laid out in rows by the host.
    pub components: Vec<Component>,
    /// Only the invoking user sees it (interaction replies only).
    pub ephemeral: bool,
    /// Files sent as attachments (plugin-api 1.3): at most ten, together at most 10 MiB (see
    /// [`limits`](crate::limits)). In JSON the contents are base64 and the field is left out
    /// when empty. An edit with files replaces the message's attachments; an edit without
    /// leaves them as they are.
    pub files: Vec<FileUpload>,
    /// Seconds after which the host greys out the message's buttons and select menus
    /// (plugin-api 1.3; see [`Message::expire_components`]). Left out of JSON when `None`.
    pub expire_components: Option<u32>,
}

// By hand rather than derived: `files` is left out of JSON when empty (the JSON of a message
// without files is what it was before 1.3), but always written in binary formats, which read
// fields by position (the isolation protocol's postcard).
impl serde::Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let readable = serializer.is_human_readable();
        let skip_files = self.files.is_empty() && readable;
        let skip_expiry = self.expire_components.is_none() && readable;
        let fields = 4 + usize::from(!skip_files) + usize::from(!skip_expiry);
        let mut out = serializer.serialize_struct("Message", fields)?;
        out.serialize_field("content", &self.content)?;
        out.serialize_field("embeds", &self.embeds)?;
        out.serialize_field("components", &self.components)?;
        out.serialize_field("ephemeral", &self.ephemeral)?;
        if skip_files {
            out.skip_field("files")?;
        } else {
            out.serialize_field("files", &self.files)?;
        }
        if skip_expiry {
            out.skip_field("expire_components")?;
        } else {
            out.serialize_field("expire_components", &self.expire_components)?;
        }
        out.end()
    }
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// A plain text message.
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: Some(content.into()),
            ..Self::default()
        }
    }

    /// Sets the text content.
    pub fn content(mut self, content: impl Into<String>) -> Self {
        self.content = Some(content.into());
        self
    }

    /// Adds an embed.
    pub fn embed(mut self, embed: Embed) -> Self {
        self.embeds.push(embed);
        self
    }

    /// Adds a button.
    pub fn button(mut self, button: Button) -> Self {
        self.components.push(Component::Button(button));
        self
    }

    /// Adds a select menu.
    pub fn select(mut self, menu: SelectMenu) -> Self {
        self.components.push(Component::Select(menu));
        self
    }

    /// Marks the reply as visible only to the invoking user.
    pub fn ephemeral(mut self) -> Self {
        self.ephemeral = true;
        self
    }

    /// Adds a file named `name` with `bytes` as its contents (plugin-api 1.3).
    pub fn file(self, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.attach(FileUpload::new(name, bytes))
    }

    /// Adds a file built with [`FileUpload`] (with a description, say; plugin-api 1.3).
    pub fn attach(mut self, file: FileUpload) -> Self {
        self.files.push(file);
        self
    }

    /// Greys out every button and select menu (plugin-api 1.3): for a message whose components
    /// have had their time, shown but no longer clickable.
    ///
    /// ```
    /// use zoryx_plugin_api::{Button, Component, Message, SelectMenu};
    ///
    /// let poll = Message::text("Vote!")
    ///     .button(Button::new("vote:yes", "Yes"))
    ///     .select(SelectMenu::new("vote:pick", "Pick one").option("A", "a"));
    /// let closed = poll.content("Voting closed").disable_components();
    /// assert!(closed.components.iter().all(|c| match c {
    ///     Component::Button(b) => b.disabled,
    ///     Component::Select(s) => s.disabled,
    /// }));
    /// ```
    pub fn disable_components(mut self) -> Self {
        for component in &mut self.components {
            match component {
                Component::Button(button) => button.disabled = true,
                Component::Select(menu) => menu.disabled = true,
            }
        }
        self
    }

    /// Greys out the message's buttons and select menus `after` this long (plugin-api 1.3),
    /// the way a bot shows that a menu no longer answers: the host edits the message with its
    /// components disabled. A component handler that updates the message with the setting
    /// again restarts the clock; an update without it stops the clock. At most 15 minutes
    /// (how long Discord lets an interaction's answers be edited); whole seconds, at least one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use zoryx_plugin_api::{Button, Message};
    ///
    /// let menu = Message::text("Next page?")
    ///     .button(Button::new("page:2", "Next"))
    ///     .expire_components(Duration::from_secs(60));
    /// assert_eq!(menu.expire_components, Some(60));
    /// assert!(menu.needs_json());
    /// assert!(Message::text("x").expire_components(Duration::from_secs(901)).check().is_err());
    /// ```
    pub fn expire_components(mut self, after: std::time::Duration) -> Self {
        self.expire_components = Some(u32::try_from(after.as_secs().max(1)).unwrap_or(u32::MAX));
        self
    }

    /// Whether the message carries what the frozen 1.0 layout of a message has no place for:
    /// files, a disabled select menu, or components that expire (plugin-api 1.3). Such a message goes to the host as
    /// JSON; every other one through the 1.0 layout, the faster path.
    ///
    /// ```
    /// use zoryx_plugin_api::{Message, SelectMenu};
    ///
    /// assert!(!Message::text("hi").needs_json());
    /// assert!(Message::text("hi").file("a.txt", "a").needs_json());
    /// assert!(Message::new().select(SelectMenu::new("s", "p").disabled()).needs_json());
    /// ```
    pub fn needs_json(&self) -> bool {
        !self.files.is_empty()
            || self.expire_components.is_some()
            || self
                .components
                .iter()
                .any(|c| matches!(c, Component::Select(menu) if menu.disabled))
    }
}

/// A file to send with a [`Message`]: its name, contents and an optional description (alt
/// text; plugin-api 1.3).
///
/// ```
/// use zoryx_plugin_api::{FileUpload, Message};
///
/// let file = FileUpload::new("notes.txt", "remember the milk").description("A note");
/// let json = serde_json::to_value(Message::new().attach(file.clone())).unwrap();
/// assert_eq!(json["files"][0]["bytes"], "cmVtZW1iZXIgdGhlIG1pbGs=");
/// let back: Message = serde_json::from_value(json).unwrap();
/// assert_eq!(back.files, [file]);
/// ```
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileUpload {
    /// The file name Discord shows (1–1,024 characters); its extension decides how it is shown.
    pub name: String,
    /// The contents; base64 in JSON.
    #[serde(with = "crate::base64::bytes")]
    pub bytes: Vec<u8>,
    /// A description (alt text), at most 1,024 characters.
    #[serde(default)]
    pub description: Option<String>,
}

impl FileUpload {
    /// A file named `name` with `bytes` as its contents.
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.into(),
            description: None,
        }
    }

    /// Sets the description (alt text).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

// The contents are left out: a message in a log line should not print megabytes.
impl std::fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileUpload")
            .field("name", &self.name)
            .field("size", &self.bytes.len())
            .field("description", &self.description)
            .finish()
    }
}

impl From<&str> for Message {
    fn from(content: &str) -> Self {
        Self::text(content)
    }
}

impl From<String> for Message {
    fn from(content: String) -> Self {
        Self::text(content)
    }
}

impl From<Embed> for Message {
    fn from(embed: Embed) -> Self {
        Self::new().embed(embed)
    }
}

/// The one colour palette of Zoryx: the host's own embeds use it, and so should plugins, so
/// that a bot reads the same whoever answers. [`Embed::success`], [`Embed::error`],
/// [`Embed::info`] and [`Embed::warning`] build embeds in these colours.
///
/// ```
/// use zoryx_plugin_api::{Embed, palette};
///
/// let embed = Embed::new().title("Saved").colour(palette::SUCCESS);
/// assert_eq!(embed, Embed::success("Saved", ""));
/// ```
pub mod palette {
    /// Something worked (green).
    pub const SUCCESS: u32 = 0x2ecc71;
    /// Something failed or was refused (red).
    pub const ERROR: u32 = 0xe74c3c;
    /// Information (blue).
    pub const INFO: u32 = 0x3498db;
    /// Something to look at: a cooldown, a limit, a timeout (yellow).
    pub const WARNING: u32 = 0xf1c40f;
}

/// A rich embed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Embed {
    /// The title.
    pub title: Option<String>,
    /// The body text.
    pub description: Option<String>,
    /// The side colour, `0xRRGGBB`.
    pub colour: Option<u32>,
    /// Name/value fields.
    pub fields: Vec<EmbedField>,
    /// Footer text.
    pub footer: Option<String>,
    /// An RFC 3339 timestamp shown in the footer.
    pub timestamp: Option<String>,
    /// A thumbnail image URL.
    pub thumbnail: Option<String>,
}

/// One name/value field of an [`Embed`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmbedField {
    /// The field name.
    pub name: String,
    /// The field value.
    pub value: String,
    /// Whether it may sit beside other inline fields.
    pub inline: bool,
}

impl Embed {
    /// An empty embed.
    pub fn new() -> Self {
        Self::default()
    }

    /// An embed in one of the [`palette`]'s colours with a title and (when not empty) a body.
    fn toned(colour: u32, title: &str, description: &str) -> Self {
        let embed = Self::new().title(title).colour(colour);
        if description.is_empty() {
            embed
        } else {
            embed.description(description)
        }
    }

    /// A green embed: something worked.
    ///
    /// ```
    /// use zoryx_plugin_api::{Embed, palette};
    /// let done = Embed::success("Saved", "Your note is stored.");
    /// assert_eq!(done.colour, Some(palette::SUCCESS));
    /// ```
    pub fn success(title: &str, description: &str) -> Self {
        Self::toned(palette::SUCCESS, title, description)
    }

    /// A red embed: something failed or was refused.
    ///
    /// ```
    /// use zoryx_plugin_api::{Embed, palette};
    /// assert_eq!(Embed::error("Failed", "No such note.").colour, Some(palette::ERROR));
    /// ```
    pub fn error(title: &str, description: &str) -> Self {
        Self::toned(palette::ERROR, title, description)
    }

    /// A blue embed: information.
    ///
    /// ```
    /// use zoryx_plugin_api::{Embed, palette};
    /// assert_eq!(Embed::info("Notes", "3 stored").colour, Some(palette::INFO));
    /// ```
    pub fn info(title: &str, description: &str) -> Self {
        Self::toned(palette::INFO, title, description)
    }

    /// A yellow embed: a warning (a cooldown, a limit, a timeout).
    ///
    /// ```
    /// use zoryx_plugin_api::{Embed, palette};
    /// assert_eq!(Embed::warning("Slow down", "").colour, Some(palette::WARNING));
    /// ```
    pub fn warning(title: &str, description: &str) -> Self {
        Self::toned(palette::WARNING, title, description)
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the body text.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the colour (`0xRRGGBB`).
    pub fn colour(mut self, colour: u32) -> Self {
        self.colour = Some(colour);
        self
    }

    /// Adds a field.
    pub fn field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        inline: bool,
    ) -> Self {
        self.fields.push(EmbedField {
            name: name.into(),
            value: value.into(),
            inline,
        });
        self
    }

    /// Sets the footer text.
    pub fn footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = Some(footer.into());
        self
    }

    /// Sets the timestamp (RFC 3339, e.g. `2026-01-31T12:00:00Z`).
    pub fn timestamp(mut self, timestamp: impl Into<String>) -> Self {
        self.timestamp = Some(timestamp.into());
        self
    }

    /// Sets the thumbnail URL.
    pub fn thumbnail(mut self, url: impl Into<String>) -> Self {
        self.thumbnail = Some(url.into());
        self
    }
}

/// An interactive component attached to a message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Component {
    /// A button.
    Button(Button),
    /// A select menu.
    Select(SelectMenu),
}

/// Button colours.
#[repr(u8)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ButtonStyle {
    /// Blurple.
    #[default]
    Primary = 1,
    /// Grey.
    Secondary = 2,
    /// Green.
    Success = 3,
    /// Red.
    Danger = 4,
}

/// A clickable button; clicks come back to the plugin's component handler for `custom_id`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Button {
    /// The id routed back on click.
    pub custom_id: String,
    /// The visible label.
    pub label: String,
    /// The colour.
    pub style: ButtonStyle,
    /// Whether it is greyed out.
    pub disabled: bool,
}

impl Button {
    /// A primary button.
    pub fn new(custom_id: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            custom_id: custom_id.into(),
            label: label.into(),
            style: ButtonStyle::Primary,
            disabled: false,
        }
    }

    /// Sets the colour.
    pub fn style(mut self, style: ButtonStyle) -> Self {
        self.style = style;
        self
    }

    /// Greys it out.
    pub fn disabled(mut self) -> Self {
        self.disabled = true;
        self
    }
}

/// A drop-down menu of options.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SelectMenu {
    /// The id routed back on choice.
    pub custom_id: String,
    /// Text shown when nothing is chosen.
    pub placeholder: String,
    /// The options.
    pub options: Vec<SelectOption>,
    /// Minimum number of choices.
    pub min_values: u8,
    /// Maximum number of choices.
    pub max_values: u8,
    /// Whether it is greyed out (plugin-api 1.3; `false` when absent from JSON).
    #[serde(default)]
    pub disabled: bool,
}

/// One option of a [`SelectMenu`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SelectOption {
    /// Visible label.
    pub label: String,
    /// Value sent back when chosen.
    pub value: String,
    /// Optional help text.
    pub description: String,
}

impl SelectMenu {
    /// A single-choice menu.
    pub fn new(custom_id: impl Into<String>, placeholder: impl Into<String>) -> Self {
        Self {
            custom_id: custom_id.into(),
            placeholder: placeholder.into(),
            options: Vec::new(),
            min_values: 1,
            max_values: 1,
            disabled: false,
        }
    }

    /// Adds an option.
    pub fn option(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.push(SelectOption {
            label: label.into(),
            value: value.into(),
            description: String::new(),
        });
        self
    }

    /// Sets how many options may be chosen.
    pub fn choices(mut self, min: u8, max: u8) -> Self {
        self.min_values = min;
        self.max_values = max;
        self
    }

    /// Greys it out (plugin-api 1.3). A message with a disabled select menu goes to the host
    /// as JSON ([`Message::needs_json`]).
    pub fn disabled(mut self) -> Self {
        self.disabled = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_disabled_menus_round_trip_through_json() {
        let message = Message::text("report")
            .file("a.bin", vec![0_u8, 1, 2, 253, 254, 255])
            .attach(FileUpload::new("b.txt", "hello").description("greeting"))
            .select(SelectMenu::new("pick", "Pick").option("A", "a").disabled());
        let json = serde_json::to_value(&message).expect("to JSON");
        assert_eq!(json["files"][0]["bytes"], "AAEC/f7/");
        assert_eq!(json["files"][1]["description"], "greeting");
        assert_eq!(json["components"][0]["Select"]["disabled"], true);
        let back: Message = serde_json::from_value(json).expect("from JSON");
        assert_eq!(back, message);
    }

    #[test]
    fn json_from_before_1_3_still_reads() {
        let message = Message::text("hi").select(SelectMenu::new("s", "p").option("A", "a"));
        let json = serde_json::to_value(&message).expect("to JSON");
        assert!(json.get("files").is_none(), "no files, no field: {json}");
        let mut old = json.clone();
        if let Some(menu) = old["components"][0]["Select"].as_object_mut() {
            menu.remove("disabled");
        }
        let back: Message = serde_json::from_value(old).expect("from JSON");
        assert_eq!(back, message);
        assert!(!back.needs_json());
    }

    #[test]
    fn bad_base64_is_refused_naming_it() {
        let json = serde_json::json!({"files": [{"name": "a", "bytes": "no!"}]});
        let error = serde_json::from_value::<Message>(json).expect_err("not base64");
        assert!(error.to_string().contains("base64"), "{error}");
    }

    #[test]
    fn disable_components_greys_out_everything_and_needs_json_for_menus() {
        let message = Message::text("x")
            .button(Button::new("b", "B"))
            .select(SelectMenu::new("s", "S"));
        assert!(!message.needs_json());
        let closed = message.disable_components();
        assert!(closed.needs_json());
        assert!(matches!(&closed.components[0], Component::Button(b) if b.disabled));
        assert!(matches!(&closed.components[1], Component::Select(s) if s.disabled));
        let only_buttons = Message::new()
            .button(Button::new("b", "B"))
            .disable_components();
        assert!(
            !only_buttons.needs_json(),
            "buttons carry `disabled` in 1.0"
        );
        assert_eq!(
            format!("{:?}", FileUpload::new("big.bin", vec![0; 1 << 20])),
            r#"FileUpload { name: "big.bin", size: 1048576, description: None }"#
        );
    }
}
