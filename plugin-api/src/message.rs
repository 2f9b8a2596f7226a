//! Outgoing messages: text, embeds, buttons and select menus.

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
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
}
