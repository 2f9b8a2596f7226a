//! Pages a plugin adds to the host's web dashboard (plugin-api 1.3).
//!
//! A plugin registers a panel with [`Registrar::panel`](crate::Registrar::panel); the dashboard
//! lists it in its menu (for roles with `view.panels`) and asks the plugin's handler for the page
//! each time someone opens it or takes one of its actions. The handler returns a [`Panel`]: a
//! title and [`Block`]s (text, key–value fields, tables with buttons, forms). The host renders
//! it as HTML (everything escaped; no script or markup from the plugin reaches the browser), so a
//! plugin describes what to show, never how.
//!
//! A button or a form posts an action: its name and values arrive in
//! [`PanelRequest::action`], behind the dashboard's login, CSRF check and the `panels.act`
//! permission; the handler does it and returns the page as it is now, usually with a
//! [`Block::Notice`] saying what happened. [`PanelRequest::view`] carries the page's own
//! navigation (a chosen server, a page number) from [`Block::Links`].
//!
//! ```
//! use zoryx_plugin_api::prelude::*;
//! use zoryx_plugin_api::panel::{Block, Panel, PanelButton, PanelContext};
//!
//! pub struct Notes;
//!
//! impl Plugin for Notes {
//!     fn manifest() -> Manifest {
//!         Manifest::new("notes", "0.1.0")
//!     }
//!
//!     fn register(plugin: &mut Registrar<Self>) {
//!         plugin.panel("notes", "Notes", |ctx: PanelContext<Notes>| async move {
//!             let mut panel = Panel::new("Notes");
//!             if let Some(action) = ctx.action() {
//!                 if action.name == "clear" {
//!                     panel = panel.block(Block::notice(true, "Cleared."));
//!                 }
//!             }
//!             Ok(panel
//!                 .block(Block::fields([("Notes kept", "0".to_owned())]))
//!                 .block(Block::buttons([PanelButton::new("Clear", "clear").danger()])))
//!         });
//!     }
//!
//!     async fn init(_host: Host) -> PluginResult<Self> {
//!         Ok(Notes)
//!     }
//! }
//! ```

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::context::Host;

/// The most blocks a panel shows; the host cuts the rest with a notice.
pub const MAX_BLOCKS: usize = 100;
/// The most rows a table shows; the host cuts the rest with a notice (page through
/// [`Block::Links`] instead).
pub const MAX_ROWS: usize = 500;

/// A panel a plugin registered: its id (in the dashboard's address, `/panels/PLUGIN/ID`) and
/// the title in the menu.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelSpec {
    /// Letters, digits, `-` and `_`; unique within the plugin.
    pub id: String,
    /// The menu's label.
    pub title: String,
}

impl PanelSpec {
    /// Whether `id` can be a panel id: 1–32 ASCII letters, digits, `-` or `_`.
    pub fn valid_id(id: &str) -> bool {
        (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

/// Someone opened a panel, or took one of its actions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelRequest {
    /// Which of the plugin's panels ([`PanelSpec::id`]).
    pub panel: String,
    /// Who: their Discord user id (a console login is the first bot owner's).
    pub user_id: u64,
    /// Their name.
    pub user: String,
    /// Their dashboard role (`owner`, `admin`, `viewer` or a custom role's name).
    pub role: String,
    /// Whether their role may take the panel's actions (`panels.act`): show buttons and forms
    /// only then (the host refuses actions from anyone else anyway).
    pub can_act: bool,
    /// The page's navigation, from the address's query (`?guild=123&page=2`; see
    /// [`Block::Links`]).
    pub view: BTreeMap<String, String>,
    /// The action taken, if any (`None`: the page is only being shown).
    pub action: Option<PanelAction>,
}

impl PanelRequest {
    /// A navigation value, e.g. `view("guild")`.
    pub fn view(&self, key: &str) -> Option<&str> {
        self.view
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// A button pressed or a form sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelAction {
    /// The action's name ([`PanelButton::action`], [`Form::action`]).
    pub name: String,
    /// The button's values, or the form's fields by name (a checkbox left off is absent; one
    /// ticked is `"on"`).
    pub values: BTreeMap<String, String>,
}

impl PanelAction {
    /// A value by name, empty strings as absent.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Whether the checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.values
            .get(name)
            .is_some_and(|v| v == "on" || v == "true")
    }
}

/// A page: a title and what it shows, top to bottom.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Panel {
    /// The heading.
    pub title: String,
    /// What it shows.
    pub blocks: Vec<Block>,
}

impl Panel {
    /// A panel titled `title`, empty.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// Adds a block at the end.
    #[must_use]
    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    /// Adds a block at the end, in place.
    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }
}

/// One part of a panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// A section heading.
    Heading {
        /// Its text.
        text: String,
    },
    /// A paragraph (plain text; line breaks kept).
    Text {
        /// Its text.
        text: String,
    },
    /// A message in a box: what an action did, or a warning.
    Notice {
        /// Green (`true`) or red.
        ok: bool,
        /// Its text.
        text: String,
    },
    /// Names and values, as a definition list.
    Fields {
        /// `(name, value)`, in order.
        fields: Vec<(String, String)>,
    },
    /// A table; each row may carry buttons.
    Table {
        /// The column headings.
        columns: Vec<String>,
        /// The rows.
        rows: Vec<TableRow>,
        /// Shown when there are no rows.
        empty: String,
    },
    /// A row of buttons.
    Buttons {
        /// The buttons.
        buttons: Vec<PanelButton>,
    },
    /// A form whose fields are sent with its action.
    Form(Form),
    /// Navigation: links that open the same panel with other [`PanelRequest::view`] values
    /// (tabs, a chosen server, pages).
    Links {
        /// The links.
        links: Vec<Link>,
    },
}

impl Block {
    /// A heading.
    pub fn heading(text: impl Into<String>) -> Self {
        Self::Heading { text: text.into() }
    }

    /// A paragraph.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }

    /// A notice: `ok` green, else red.
    pub fn notice(ok: bool, text: impl Into<String>) -> Self {
        Self::Notice {
            ok,
            text: text.into(),
        }
    }

    /// Names and values.
    pub fn fields<N: Into<String>>(fields: impl IntoIterator<Item = (N, String)>) -> Self {
        Self::Fields {
            fields: fields.into_iter().map(|(n, v)| (n.into(), v)).collect(),
        }
    }

    /// A table with these column headings and rows; `empty` is shown when there are none.
    pub fn table<C: Into<String>>(
        columns: impl IntoIterator<Item = C>,
        rows: Vec<TableRow>,
        empty: impl Into<String>,
    ) -> Self {
        Self::Table {
            columns: columns.into_iter().map(Into::into).collect(),
            rows,
            empty: empty.into(),
        }
    }

    /// A row of buttons.
    pub fn buttons(buttons: impl IntoIterator<Item = PanelButton>) -> Self {
        Self::Buttons {
            buttons: buttons.into_iter().collect(),
        }
    }

    /// Navigation links.
    pub fn links(links: impl IntoIterator<Item = Link>) -> Self {
        Self::Links {
            links: links.into_iter().collect(),
        }
    }
}

/// A table's row: its cells (plain text) and buttons at its end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableRow {
    /// The cells, one a column.
    pub cells: Vec<String>,
    /// Buttons for this row.
    pub buttons: Vec<PanelButton>,
}

impl TableRow {
    /// A row of these cells.
    pub fn new<C: Into<String>>(cells: impl IntoIterator<Item = C>) -> Self {
        Self {
            cells: cells.into_iter().map(Into::into).collect(),
            buttons: Vec::new(),
        }
    }

    /// Adds a button.
    #[must_use]
    pub fn button(mut self, button: PanelButton) -> Self {
        self.buttons.push(button);
        self
    }
}

/// How a button looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelStyle {
    /// The usual.
    #[default]
    Secondary,
    /// The page's main action.
    Primary,
    /// Destroys or removes something.
    Danger,
}

/// A button: pressing it posts `action` with `values`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PanelButton {
    /// Its label.
    pub label: String,
    /// The action's name.
    pub action: String,
    /// Values sent with it (which item it acts on).
    pub values: BTreeMap<String, String>,
    /// A question the browser asks before posting (`None`: no question).
    pub confirm: Option<String>,
    /// How it looks.
    pub style: PanelStyle,
}

impl PanelButton {
    /// A button labelled `label` that posts `action`.
    pub fn new(label: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            action: action.into(),
            ..Self::default()
        }
    }

    /// Sends `name = value` with the action.
    #[must_use]
    pub fn value(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.values.insert(name.into(), value.to_string());
        self
    }

    /// Asks `question` before posting.
    #[must_use]
    pub fn confirm(mut self, question: impl Into<String>) -> Self {
        self.confirm = Some(question.into());
        self
    }

    /// The page's main action.
    #[must_use]
    pub fn primary(mut self) -> Self {
        self.style = PanelStyle::Primary;
        self
    }

    /// A destructive action (red).
    #[must_use]
    pub fn danger(mut self) -> Self {
        self.style = PanelStyle::Danger;
        self
    }
}

/// A form: its fields are posted with `action`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Form {
    /// The action's name.
    pub action: String,
    /// The submit button's label.
    pub submit: String,
    /// The fields.
    pub fields: Vec<Field>,
    /// Values sent along, unseen (which item the form edits).
    pub hidden: BTreeMap<String, String>,
}

impl Form {
    /// A form posting `action`, its button labelled `submit`.
    pub fn new(action: impl Into<String>, submit: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            submit: submit.into(),
            ..Self::default()
        }
    }

    /// Adds a field.
    #[must_use]
    pub fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// Sends `name = value` along, unseen.
    #[must_use]
    pub fn hidden(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.hidden.insert(name.into(), value.to_string());
        self
    }
}

impl From<Form> for Block {
    fn from(form: Form) -> Self {
        Self::Form(form)
    }
}

/// What a field takes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    #[default]
    Text,
    /// Several lines.
    Paragraph,
    /// A number.
    Number,
    /// One of these `(value, label)`s.
    Select {
        /// The options.
        options: Vec<(String, String)>,
    },
    /// On or off.
    Checkbox,
}

/// A form's field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Field {
    /// The name its value is sent under.
    pub name: String,
    /// Its label.
    pub label: String,
    /// What it takes.
    pub kind: FieldKind,
    /// Its value now (a checkbox: `"on"` when ticked).
    pub value: String,
    /// Whether the browser asks for it before sending.
    pub required: bool,
    /// The longest text it takes (the browser stops there; check it anyway).
    pub max_length: Option<u32>,
    /// A hint under it.
    pub help: Option<String>,
}

impl Field {
    fn of(kind: FieldKind, name: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            kind,
            ..Self::default()
        }
    }

    /// One line of text.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::of(FieldKind::Text, name, label)
    }

    /// Several lines of text.
    pub fn paragraph(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::of(FieldKind::Paragraph, name, label)
    }

    /// A number.
    pub fn number(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::of(FieldKind::Number, name, label)
    }

    /// A choice among `(value, label)`s.
    pub fn select<V: Into<String>, L: Into<String>>(
        name: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        let options = options
            .into_iter()
            .map(|(v, l)| (v.into(), l.into()))
            .collect();
        Self::of(FieldKind::Select { options }, name, label)
    }

    /// A checkbox.
    pub fn checkbox(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::of(FieldKind::Checkbox, name, label)
    }

    /// Its value now.
    #[must_use]
    pub fn value(mut self, value: impl ToString) -> Self {
        self.value = value.to_string();
        self
    }

    /// A checkbox ticked (or not).
    #[must_use]
    pub fn checked(mut self, on: bool) -> Self {
        self.value = if on { "on".into() } else { String::new() };
        self
    }

    /// The browser asks for it.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The longest text it takes.
    #[must_use]
    pub fn max_length(mut self, max: u32) -> Self {
        self.max_length = Some(max);
        self
    }

    /// A hint under it.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A navigation link: the same panel with these [`PanelRequest::view`] values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Link {
    /// Its label.
    pub label: String,
    /// The view values it opens (the others are dropped).
    pub view: BTreeMap<String, String>,
    /// Shown as the current one.
    pub active: bool,
}

impl Link {
    /// A link labelled `label`.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            ..Self::default()
        }
    }

    /// Opens the panel with `key = value`.
    #[must_use]
    pub fn view(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.view.insert(key.into(), value.to_string());
        self
    }

    /// Marks it as the current one.
    #[must_use]
    pub fn active(mut self, active: bool) -> Self {
        self.active = active;
        self
    }
}

/// The bot's servers as a page's tabs (view key `guild`), and servers of `kept` the bot has
/// left (a plugin's data outlives its membership: "123 (left)"): the chosen server (the
/// view's, else the first) and the tabs. `None` when there is no server at all.
///
/// ```no_run
/// # use zoryx_plugin_api::prelude::*;
/// # use zoryx_plugin_api::panel::{Block, Panel, PanelContext, server_tabs};
/// # async fn page(ctx: PanelContext<()>) -> PluginResult<Panel> {
/// let mut page = Panel::new("Per server");
/// let Some((guild, tabs)) = server_tabs(&ctx, ctx.request(), &[]).await? else {
///     return Ok(page.block(Block::text("The bot is in no server yet.")));
/// };
/// page.push(tabs);
/// # Ok(page)
/// # }
/// ```
pub async fn server_tabs(
    host: &Host,
    request: &PanelRequest,
    kept: &[u64],
) -> crate::PluginResult<Option<(u64, Block)>> {
    let mut servers: Vec<(u64, String)> = host
        .guilds()
        .await?
        .into_iter()
        .map(|g| (g.id.0, g.name))
        .collect();
    for guild in kept {
        if !servers.iter().any(|(id, _)| id == guild) {
            servers.push((*guild, format!("{guild} (left)")));
        }
    }
    let Some(first) = servers.first().map(|(id, _)| *id) else {
        return Ok(None);
    };
    let chosen = request
        .view("guild")
        .and_then(|g| g.parse::<u64>().ok())
        .filter(|g| servers.iter().any(|(id, _)| id == g))
        .unwrap_or(first);
    let tabs = Block::links(servers.iter().map(|(id, name)| {
        Link::new(name.clone())
            .view("guild", id)
            .active(*id == chosen)
    }));
    Ok(Some((chosen, tabs)))
}

/// A Unix time (seconds) as a panel shows it: `2024-02-29 12:34 UTC`.
///
/// ```
/// assert_eq!(zoryx_plugin_api::panel::time(1_709_210_096), "2024-02-29 12:34 UTC");
/// ```
pub fn time(unix_secs: u64) -> String {
    // Days to a civil date (Howard Hinnant's algorithm), in the proleptic Gregorian calendar.
    let days = (unix_secs / 86_400) as i64;
    let rest = unix_secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60
    )
}

/// What a panel handler receives: who asks, the page's navigation and the action taken, if
/// any. It returns the page.
pub struct PanelContext<P> {
    pub(crate) plugin: Arc<P>,
    pub(crate) host: Host,
    pub(crate) request: PanelRequest,
}

impl<P> PanelContext<P> {
    /// The plugin instance (its state).
    pub fn data(&self) -> &P {
        &self.plugin
    }

    /// The whole request.
    pub fn request(&self) -> &PanelRequest {
        &self.request
    }

    /// The action taken, if any.
    pub fn action(&self) -> Option<&PanelAction> {
        self.request.action.as_ref()
    }

    /// A navigation value, e.g. `view("guild")`.
    pub fn view(&self, key: &str) -> Option<&str> {
        self.request.view(key)
    }

    /// Whether the viewer may take actions.
    pub fn can_act(&self) -> bool {
        self.request.can_act
    }
}

impl<P> Deref for PanelContext<P> {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_words() {
        assert!(PanelSpec::valid_id("backups"));
        assert!(PanelSpec::valid_id("ai-usage_2"));
        for bad in ["", "a/b", "../x", "a b", &"x".repeat(33)] {
            assert!(!PanelSpec::valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_panel_round_trips_as_json() {
        let panel = Panel::new("T")
            .block(Block::table(
                ["a"],
                vec![TableRow::new(["1"]).button(PanelButton::new("x", "del").value("id", 1))],
                "none",
            ))
            .block(
                Form::new("set", "Save")
                    .field(Field::checkbox("on", "On").checked(true))
                    .into(),
            );
        let json = serde_json::to_string(&panel).expect("json");
        assert_eq!(serde_json::from_str::<Panel>(&json).expect("back"), panel);
    }
}
