//! Discord's limits on a message, checked before it is sent.
//!
//! The host checks every message a plugin sends ([`Message::check`]) and refuses one past a
//! limit with an error that names it, instead of letting Discord answer 400 or cutting the text
//! short. Plugins can check first, and split long text with [`split_text`]:
//!
//! ```
//! use zoryx_plugin_api::limits::{self, split_text};
//! use zoryx_plugin_api::Message;
//!
//! let report = "line\n".repeat(1_000); // 5,000 characters
//! let error = Message::text(report.clone()).check().expect_err("past the limit");
//! assert_eq!(error.field, "content");
//! assert_eq!(error.max, limits::CONTENT);
//!
//! let parts = split_text(&report, limits::CONTENT);
//! assert_eq!(parts.len(), 3);
//! assert!(parts.iter().all(|p| Message::text(p.as_str()).check().is_ok()));
//! ```

use crate::message::{Component, Embed, Message};

/// Characters of a message's text.
pub const CONTENT: usize = 2000;
/// Embeds on one message.
pub const EMBEDS: usize = 10;
/// Characters of an embed title.
pub const EMBED_TITLE: usize = 256;
/// Characters of an embed description.
pub const EMBED_DESCRIPTION: usize = 4096;
/// Fields of one embed.
pub const EMBED_FIELDS: usize = 25;
/// Characters of an embed field's name.
pub const FIELD_NAME: usize = 256;
/// Characters of an embed field's value.
pub const FIELD_VALUE: usize = 1024;
/// Characters of an embed footer.
pub const EMBED_FOOTER: usize = 2048;
/// Characters of all the embeds of one message together (titles, descriptions, field names and
/// values, footers).
pub const EMBEDS_TOTAL: usize = 6000;
/// Rows of components on one message (five buttons to a row; a select menu takes a row).
pub const ACTION_ROWS: usize = 5;
/// Buttons in one row.
pub const BUTTONS_PER_ROW: usize = 5;
/// Characters of a button label.
pub const BUTTON_LABEL: usize = 80;
/// Characters of a component's `custom_id`.
pub const CUSTOM_ID: usize = 100;
/// Options of a select menu.
pub const SELECT_OPTIONS: usize = 25;
/// Characters of a select option's label, value or description.
pub const SELECT_OPTION_TEXT: usize = 100;
/// Characters of a select menu's placeholder.
pub const SELECT_PLACEHOLDER: usize = 150;
/// Characters of a modal's title (plugin-api 1.3).
pub const MODAL_TITLE: usize = 45;
/// Text inputs of one modal, one to a row (plugin-api 1.3).
pub const MODAL_INPUTS: usize = 5;
/// Characters of a text input's label (plugin-api 1.3).
pub const TEXT_INPUT_LABEL: usize = 45;
/// Characters of a text input's placeholder (plugin-api 1.3).
pub const TEXT_INPUT_PLACEHOLDER: usize = 100;
/// Characters of a text input's value and lengths (plugin-api 1.3).
pub const TEXT_INPUT_VALUE: usize = 4000;
/// Suggestions of one autocomplete answer (plugin-api 1.3).
pub const AUTOCOMPLETE_CHOICES: usize = 25;
/// Characters of a choice's name (plugin-api 1.3).
pub const CHOICE_NAME: usize = 100;
/// Files on one message (plugin-api 1.3).
pub const FILES: usize = 10;
/// Bytes of all the files of one message together: Discord's default upload limit, 10 MiB
/// (plugin-api 1.3).
pub const FILES_TOTAL_BYTES: usize = 10 * 1024 * 1024;
/// Characters of a file's name, at least 1 (plugin-api 1.3).
pub const FILENAME: usize = 1024;
/// Characters of a file's description (plugin-api 1.3).
pub const FILE_DESCRIPTION: usize = 1024;

/// How long [`Message::expire_components`] may wait: 15 minutes, as long as Discord lets an
/// interaction's answers be edited.
///
/// [`Message::expire_components`]: crate::Message::expire_components
pub const EXPIRE_COMPONENTS_SECONDS: usize = 15 * 60;

/// A message past one of Discord's limits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} has {actual} {unit}; Discord allows at most {max}")]
pub struct LimitError {
    /// Where, as Discord names it: `content`, `embeds.0.fields.3.value`, `components`, ...;
    /// files as the message names them: `files`, `files.2.filename`, `files.2.description`.
    pub field: String,
    /// What it has.
    pub actual: usize,
    /// What Discord allows.
    pub max: usize,
    /// What is counted: `characters`, `embeds`, `fields`, `rows`, `files`, `bytes in all`, ...
    pub unit: &'static str,
}

pub(crate) fn check(
    field: impl FnOnce() -> String,
    actual: usize,
    max: usize,
    unit: &'static str,
) -> Result<(), LimitError> {
    if actual <= max {
        return Ok(());
    }
    Err(LimitError {
        field: field(),
        actual,
        max,
        unit,
    })
}

pub(crate) fn chars(text: &str) -> usize {
    text.chars().count()
}

impl Message {
    /// Checks the message against Discord's limits (see the constants of [`limits`](self));
    /// the first limit passed is the error.
    ///
    /// ```
    /// use zoryx_plugin_api::{Embed, Message};
    ///
    /// let mut embed = Embed::new();
    /// for n in 0..26 {
    ///     embed = embed.field(format!("#{n}"), "x", true);
    /// }
    /// let error = Message::new().embed(embed).check().expect_err("past the limit");
    /// assert_eq!(error.to_string(), "embeds.0.fields has 26 fields; Discord allows at most 25");
    /// ```
    ///
    /// Files (plugin-api 1.3): at most [`FILES`], together at most [`FILES_TOTAL_BYTES`], each
    /// named (at most [`FILENAME`] characters) with a description of at most
    /// [`FILE_DESCRIPTION`]:
    ///
    /// ```
    /// use zoryx_plugin_api::Message;
    ///
    /// let big = Message::new().file("a.bin", vec![0; 6 << 20]).file("b.bin", vec![0; 5 << 20]);
    /// assert_eq!(
    ///     big.check().unwrap_err().to_string(),
    ///     "files has 11534336 bytes in all; Discord allows at most 10485760"
    /// );
    /// let unnamed = Message::new().file("", "x");
    /// assert_eq!(unnamed.check().unwrap_err().field, "files.0.filename");
    /// ```
    pub fn check(&self) -> Result<(), LimitError> {
        if let Some(content) = &self.content {
            check(
                || "content".to_owned(),
                chars(content),
                CONTENT,
                "characters",
            )?;
        }
        check(|| "embeds".to_owned(), self.embeds.len(), EMBEDS, "embeds")?;
        let mut total = 0;
        for (i, embed) in self.embeds.iter().enumerate() {
            total += check_embed(embed, i)?;
        }
        check(
            || "embeds".to_owned(),
            total,
            EMBEDS_TOTAL,
            "characters in all",
        )?;
        check_components(&self.components)?;
        if let Some(seconds) = self.expire_components {
            check(
                || "expire_components".to_owned(),
                seconds as usize,
                EXPIRE_COMPONENTS_SECONDS,
                "seconds",
            )?;
        }
        check_files(&self.files)
    }
}

/// The files of a message: how many, their size together, their names and descriptions.
fn check_files(files: &[crate::message::FileUpload]) -> Result<(), LimitError> {
    check(|| "files".to_owned(), files.len(), FILES, "files")?;
    let total = files.iter().map(|f| f.bytes.len()).sum();
    check(
        || "files".to_owned(),
        total,
        FILES_TOTAL_BYTES,
        "bytes in all",
    )?;
    for (i, file) in files.iter().enumerate() {
        let at = |name: &str| format!("files.{i}.{name}");
        if file.name.is_empty() {
            return Err(LimitError {
                field: at("filename"),
                actual: 0,
                max: FILENAME,
                unit: "characters (at least 1 needed)",
            });
        }
        check(|| at("filename"), chars(&file.name), FILENAME, "characters")?;
        if let Some(description) = &file.description {
            check(
                || at("description"),
                chars(description),
                FILE_DESCRIPTION,
                "characters",
            )?;
        }
    }
    Ok(())
}

/// Checks one embed; returns its characters (for the total).
fn check_embed(embed: &Embed, i: usize) -> Result<usize, LimitError> {
    let at = |name: &str| format!("embeds.{i}.{name}");
    let mut total = 0;
    for (name, text, max) in [
        ("title", &embed.title, EMBED_TITLE),
        ("description", &embed.description, EMBED_DESCRIPTION),
        ("footer.text", &embed.footer, EMBED_FOOTER),
    ] {
        if let Some(text) = text {
            let n = chars(text);
            check(|| at(name), n, max, "characters")?;
            total += n;
        }
    }
    check(|| at("fields"), embed.fields.len(), EMBED_FIELDS, "fields")?;
    for (j, field) in embed.fields.iter().enumerate() {
        let name = chars(&field.name);
        let value = chars(&field.value);
        check(
            || at(&format!("fields.{j}.name")),
            name,
            FIELD_NAME,
            "characters",
        )?;
        check(
            || at(&format!("fields.{j}.value")),
            value,
            FIELD_VALUE,
            "characters",
        )?;
        total += name + value;
    }
    Ok(total)
}

/// The rows the components take: buttons five to a row, a select menu on a row of its own (the
/// way the host lays them out).
pub fn action_rows(components: &[Component]) -> usize {
    let (mut rows, mut buttons) = (0, 0);
    for component in components {
        match component {
            Component::Button(_) => {
                if buttons == BUTTONS_PER_ROW {
                    rows += 1;
                    buttons = 0;
                }
                buttons += 1;
            }
            Component::Select(_) => {
                if buttons > 0 {
                    rows += 1;
                    buttons = 0;
                }
                rows += 1;
            }
        }
    }
    rows + usize::from(buttons > 0)
}

fn check_components(components: &[Component]) -> Result<(), LimitError> {
    check(
        || "components".to_owned(),
        action_rows(components),
        ACTION_ROWS,
        "rows",
    )?;
    for (i, component) in components.iter().enumerate() {
        let at = |name: &str| format!("components.{i}.{name}");
        match component {
            Component::Button(button) => {
                check(
                    || at("label"),
                    chars(&button.label),
                    BUTTON_LABEL,
                    "characters",
                )?;
                check(
                    || at("custom_id"),
                    chars(&button.custom_id),
                    CUSTOM_ID,
                    "characters",
                )?;
            }
            Component::Select(menu) => {
                check(
                    || at("custom_id"),
                    chars(&menu.custom_id),
                    CUSTOM_ID,
                    "characters",
                )?;
                check(
                    || at("placeholder"),
                    chars(&menu.placeholder),
                    SELECT_PLACEHOLDER,
                    "characters",
                )?;
                check(
                    || at("options"),
                    menu.options.len(),
                    SELECT_OPTIONS,
                    "options",
                )?;
                for (j, option) in menu.options.iter().enumerate() {
                    for (name, text) in [
                        ("label", &option.label),
                        ("value", &option.value),
                        ("description", &option.description),
                    ] {
                        check(
                            || at(&format!("options.{j}.{name}")),
                            chars(text),
                            SELECT_OPTION_TEXT,
                            "characters",
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Splits `text` into parts of at most `max` characters (at least 1), for sending a long text
/// as several messages: at the last line break that fits, else the last space, else anywhere
/// (on a character boundary). Nothing is lost but the one line break or space a part ends at;
/// a text that fits comes back whole, and an empty text as no parts.
///
/// ```
/// use zoryx_plugin_api::limits::split_text;
///
/// assert_eq!(split_text("one two three", 8), ["one two", "three"]);
/// assert_eq!(split_text("first\nsecond line", 13), ["first", "second line"]);
/// assert_eq!(split_text("abcdef", 4), ["abcd", "ef"]);
/// ```
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        // The byte index after `max` characters, or the whole rest if it fits.
        let Some((fit, _)) = rest.char_indices().nth(max) else {
            parts.push(rest.to_owned());
            break;
        };
        let head = &rest[..fit];
        let (part, skip) = match head.rfind('\n').or_else(|| head.rfind(' ')) {
            Some(0) | None => (head, 0),
            Some(at) => (&head[..at], 1),
        };
        parts.push(part.to_owned());
        rest = &rest[part.len() + skip..];
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Button, SelectMenu};

    #[test]
    fn content_at_the_limit_passes_and_one_more_character_fails() {
        assert!(Message::text("é".repeat(CONTENT)).check().is_ok());
        let error = Message::text("é".repeat(CONTENT + 1))
            .check()
            .expect_err("past the limit");
        assert_eq!(
            error,
            LimitError {
                field: "content".into(),
                actual: 2001,
                max: 2000,
                unit: "characters"
            }
        );
    }

    #[test]
    fn embeds_fields_and_totals_are_named() {
        let long = Embed::new().field("n", "v".repeat(FIELD_VALUE + 1), false);
        let error = Message::new()
            .embed(Embed::new())
            .embed(long)
            .check()
            .expect_err("past the limit");
        assert_eq!(error.field, "embeds.1.fields.0.value");
        let big = || Embed::new().description("d".repeat(EMBED_DESCRIPTION));
        let error = Message::new()
            .embed(big())
            .embed(big())
            .check()
            .expect_err("past the limit");
        assert_eq!((error.field.as_str(), error.actual), ("embeds", 8192));
        let mut many = Message::new();
        for _ in 0..=EMBEDS {
            many = many.embed(Embed::new());
        }
        assert_eq!(many.check().expect_err("past the limit").unit, "embeds");
    }

    #[test]
    fn rows_are_counted_as_the_host_lays_them_out() {
        let mut message = Message::new();
        for n in 0..25 {
            message = message.button(Button::new(format!("b{n}"), "b"));
        }
        assert_eq!(action_rows(&message.components), 5);
        assert!(message.check().is_ok());
        let message = message.select(SelectMenu::new("s", "pick").option("a", "a"));
        let error = message.check().expect_err("past the limit");
        assert_eq!((error.field.as_str(), error.actual), ("components", 6));
        let mixed = Message::new()
            .button(Button::new("a", "a"))
            .select(SelectMenu::new("s", "p"))
            .button(Button::new("b", "b"));
        assert_eq!(action_rows(&mixed.components), 3);
    }

    #[test]
    fn files_are_counted_weighed_and_named() {
        use crate::message::FileUpload;
        let mut ten = Message::new();
        for n in 0..FILES {
            ten = ten.file(format!("f{n}.txt"), vec![0; FILES_TOTAL_BYTES / FILES]);
        }
        assert!(ten.check().is_ok());
        let error = ten
            .clone()
            .file("one-more.txt", "x")
            .check()
            .expect_err("past the limit");
        assert_eq!(
            error,
            LimitError {
                field: "files".into(),
                actual: 11,
                max: 10,
                unit: "files"
            }
        );
        let exact = Message::new().file("all.bin", vec![7; FILES_TOTAL_BYTES]);
        assert!(exact.check().is_ok());
        let over = exact.file("byte.bin", vec![1]);
        let error = over.check().expect_err("past the limit");
        assert_eq!(
            (error.field.as_str(), error.actual, error.unit),
            ("files", FILES_TOTAL_BYTES + 1, "bytes in all")
        );
        let long_name = Message::new().file("n".repeat(FILENAME + 1), "x");
        assert_eq!(
            long_name.check().expect_err("past the limit").field,
            "files.0.filename"
        );
        assert!(
            Message::new()
                .file("n".repeat(FILENAME), "x")
                .check()
                .is_ok()
        );
        let described = Message::new()
            .file("a.txt", "a")
            .attach(FileUpload::new("b.txt", "b").description("d".repeat(FILE_DESCRIPTION + 1)));
        assert_eq!(
            described.check().expect_err("past the limit").to_string(),
            "files.1.description has 1025 characters; Discord allows at most 1024"
        );
        let error = Message::new()
            .file("", "x")
            .check()
            .expect_err("past the limit");
        assert_eq!(
            error.to_string(),
            "files.0.filename has 0 characters (at least 1 needed); Discord allows at most 1024"
        );
    }

    #[test]
    fn split_text_keeps_every_character_but_the_breaks() {
        let text = "alpha beta\ngamma delta epsilon ".repeat(200) + &"x".repeat(4500);
        let parts = split_text(&text, CONTENT);
        assert!(parts.iter().all(|p| p.chars().count() <= CONTENT));
        let kept: usize = parts.iter().map(|p| p.chars().count()).sum();
        let breaks = parts.len() - 1;
        assert!(
            text.chars().count() - kept <= breaks,
            "at most one break lost per cut"
        );
        assert_eq!(
            parts.concat().replace(['\n', ' '], ""),
            text.replace(['\n', ' '], "")
        );
        assert!(split_text("", 10).is_empty());
        assert_eq!(split_text("ééé", 2), ["éé", "é"]);
        assert_eq!(split_text(" lead", 3), [" le", "ad"]);
    }
}
