//! Forms (modals: interaction response type 9) as the chat console shows and fills them: the
//! modal's title and text inputs, a prompt for each field in turn, and the limits Discord's
//! client enforces before it lets a user submit (required inputs, lengths).

use serde_json::Value;

/// The most characters of a text input whose modal sets no `max_length`, as on Discord.
pub const MAX_LENGTH: u64 = 4000;

/// One text input of a modal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// What its value is sent under.
    pub custom_id: String,
    /// Its label.
    pub label: String,
    /// Several lines (style 2) rather than one (style 1).
    pub paragraph: bool,
    /// Whether it must be filled (Discord's default when the modal does not say).
    pub required: bool,
    /// The fewest characters of a filled value.
    pub min_length: u64,
    /// The most characters.
    pub max_length: u64,
    /// Grey text shown while it is empty.
    pub placeholder: Option<String>,
    /// What it is filled with at first.
    pub value: Option<String>,
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Field {
    /// A text input (component type 4) of a modal's JSON; `None` for anything else.
    fn from_json(input: &Value) -> Option<Self> {
        if input.get("type").and_then(Value::as_u64) != Some(4) {
            return None;
        }
        Some(Self {
            custom_id: text(input, "custom_id").unwrap_or_default(),
            label: text(input, "label").unwrap_or_default(),
            paragraph: input.get("style").and_then(Value::as_u64) == Some(2),
            required: input.get("required").and_then(Value::as_bool) != Some(false),
            min_length: input.get("min_length").and_then(Value::as_u64).unwrap_or(0),
            max_length: input
                .get("max_length")
                .and_then(Value::as_u64)
                .unwrap_or(MAX_LENGTH),
            placeholder: text(input, "placeholder"),
            value: input
                .get("value")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// `short, required, 2–20 characters; placeholder "What about?"`.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{}, {}",
            if self.paragraph { "paragraph" } else { "short" },
            if self.required {
                "required"
            } else {
                "optional"
            }
        );
        match (self.min_length, self.max_length) {
            (0, MAX_LENGTH) => {}
            (0, max) => out.push_str(&format!(", at most {max} characters")),
            (min, MAX_LENGTH) => out.push_str(&format!(", at least {min} characters")),
            (min, max) => out.push_str(&format!(", {min}–{max} characters")),
        }
        if let Some(placeholder) = &self.placeholder {
            out.push_str(&format!("; placeholder \"{placeholder}\""));
        }
        if let Some(value) = &self.value {
            out.push_str(&format!("; filled with \"{}\"", shown(value)));
        }
        out
    }

    /// What Discord's client checks before it submits `value` for this input: a required one
    /// filled, a filled one within its lengths. The error names the field.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let chars = value.chars().count() as u64;
        let name = format!("`{}` ({})", self.label, self.custom_id);
        if value.is_empty() {
            return if self.required {
                Err(format!("{name} is required"))
            } else {
                Ok(())
            };
        }
        if chars < self.min_length {
            return Err(format!(
                "{name} takes at least {} characters, not {chars}",
                self.min_length
            ));
        }
        if chars > self.max_length {
            return Err(format!(
                "{name} takes at most {} characters, not {chars}",
                self.max_length
            ));
        }
        Ok(())
    }

    /// A value as typed on one console line: in a paragraph, `\n` starts a new line.
    pub fn typed(&self, line: &str) -> String {
        if self.paragraph {
            line.replace("\\n", "\n")
        } else {
            line.to_owned()
        }
    }
}

/// A value on one line: new lines as `\n`, long ones cut.
fn shown(value: &str) -> String {
    let one_line = value.replace('\n', "\\n");
    if one_line.chars().count() > 60 {
        format!("{}…", one_line.chars().take(59).collect::<String>())
    } else {
        one_line
    }
}

/// A modal the bot showed, being filled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    /// The interaction the bot answered with the modal (the submission refers to it).
    pub interaction: u64,
    /// The modal's `custom_id`.
    pub custom_id: String,
    /// Its title.
    pub title: String,
    /// Its text inputs, in order.
    pub fields: Vec<Field>,
    /// What was typed for each field so far (`None`: not answered).
    answers: Vec<Option<String>>,
    /// The field the next plain line answers.
    next: usize,
}

/// What one answered line did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The answer was refused; the text says why and asks again.
    Again(String),
    /// The answer was taken; the text asks for the next field.
    Next(String),
    /// That was the last field: the form is ready to submit.
    Done,
}

impl Form {
    /// The form of a modal's JSON (the callback's `data`) shown for `interaction`.
    pub fn from_modal(interaction: u64, modal: &Value) -> Self {
        let fields: Vec<Field> = modal
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(
                |row| match row.get("components").and_then(Value::as_array) {
                    Some(inner) => inner.iter().collect(),
                    None => vec![row],
                },
            )
            .filter_map(Field::from_json)
            .collect();
        Self {
            interaction,
            custom_id: text(modal, "custom_id").unwrap_or_default(),
            title: text(modal, "title").unwrap_or_default(),
            answers: vec![None; fields.len()],
            fields,
            next: 0,
        }
    }

    /// The form for the console, indented, each line ending with `\n`: its title and
    /// `custom_id`, each field with its rules, and how to fill it.
    pub fn render(&self) -> String {
        let mut out = format!("  ┌ {} ({})\n", self.title, self.custom_id);
        for field in &self.fields {
            out.push_str(&format!(
                "  │ {}: {} — {}\n",
                field.custom_id,
                field.label,
                field.describe()
            ));
        }
        if self.fields.is_empty() {
            out.push_str("  │ (no fields)\n");
        }
        let example: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{}=…", f.custom_id))
            .collect();
        out.push_str(&format!(
            "  └ answer the fields below one line each, or in one line: `:modal {}`; `:cancel` closes it\n",
            example.join(" ")
        ));
        out
    }

    /// The question for the field the next plain line answers; `None` when all are answered.
    pub fn prompt(&self) -> Option<String> {
        let field = self.fields.get(self.next)?;
        let mut notes = vec![format!("{}/{}", self.next + 1, self.fields.len())];
        match (&field.value, field.required) {
            (Some(value), _) => notes.push(format!("empty keeps \"{}\"", shown(value))),
            (None, true) => notes.push("required".to_owned()),
            (None, false) => notes.push("optional: empty skips".to_owned()),
        }
        if field.paragraph {
            notes.push("\\n for a new line".to_owned());
        }
        Some(format!("› {} ({}):", field.label, notes.join("; ")))
    }

    /// Answers the current field with one typed line (empty: its prefilled value, or nothing).
    pub fn answer(&mut self, line: &str) -> Step {
        let Some(field) = self.fields.get(self.next) else {
            return Step::Done;
        };
        let value = if line.trim().is_empty() {
            field.value.clone().unwrap_or_default()
        } else {
            field.typed(line)
        };
        if let Err(why) = field.check(&value) {
            let again = self.prompt().unwrap_or_default();
            return Step::Again(format!("{why}\n{again}"));
        }
        self.answers[self.next] = Some(value);
        self.next += 1;
        match self.prompt() {
            Some(prompt) => Step::Next(prompt),
            None => Step::Done,
        }
    }

    /// Fills fields by `custom_id` (`:modal topic=docs`). Refuses an unknown field, naming the
    /// form's fields, and changes nothing then.
    pub fn fill(&mut self, pairs: &[(String, String)]) -> Result<(), String> {
        let mut found = Vec::with_capacity(pairs.len());
        for (id, value) in pairs {
            let Some(at) = self.fields.iter().position(|f| &f.custom_id == id) else {
                let known: Vec<&str> = self.fields.iter().map(|f| f.custom_id.as_str()).collect();
                return Err(format!(
                    "the form has no field `{id}`; its fields: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ));
            };
            found.push((at, self.fields[at].typed(value)));
        }
        for (at, value) in found {
            self.answers[at] = Some(value);
        }
        Ok(())
    }

    /// What would be submitted now, `(custom_id, value)` for every field: the answer, else
    /// the prefilled value, else empty.
    pub fn values(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .zip(&self.answers)
            .map(|(field, answer)| {
                let value = answer
                    .clone()
                    .or_else(|| field.value.clone())
                    .unwrap_or_default();
                (field.custom_id.clone(), value)
            })
            .collect()
    }

    /// Whether Discord's client would submit [`Form::values`]; the first field it would stop
    /// at otherwise.
    pub fn check(&self) -> Result<(), String> {
        for (field, (_, value)) in self.fields.iter().zip(self.values()) {
            field.check(&value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn feedback() -> Form {
        Form::from_modal(
            7,
            &json!({"custom_id": "feedback:1", "title": "Feedback", "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": "topic", "label": "Topic",
                    "style": 1, "placeholder": "What about?", "required": true}]},
                {"type": 1, "components": [{"type": 4, "custom_id": "body", "label": "Details",
                    "style": 2, "required": false, "min_length": 0, "max_length": 20}]},
                {"type": 1, "components": [{"type": 4, "custom_id": "mood", "label": "Mood",
                    "style": 1, "min_length": 2, "value": "fine"}]},
            ]}),
        )
    }

    #[test]
    fn a_modal_renders_its_fields_and_rules() {
        let form = feedback();
        assert_eq!(form.interaction, 7);
        assert_eq!(
            form.render(),
            "  ┌ Feedback (feedback:1)\n  \
             │ topic: Topic — short, required; placeholder \"What about?\"\n  \
             │ body: Details — paragraph, optional, at most 20 characters\n  \
             │ mood: Mood — short, required, at least 2 characters; filled with \"fine\"\n  \
             └ answer the fields below one line each, or in one line: \
             `:modal topic=… body=… mood=…`; `:cancel` closes it\n"
        );
        assert_eq!(form.prompt().as_deref(), Some("› Topic (1/3; required):"));
    }

    #[test]
    fn answers_go_field_by_field_with_the_rules_checked() {
        let mut form = feedback();
        // Required: an empty line is refused and asked again.
        assert_eq!(
            form.answer(""),
            Step::Again("`Topic` (topic) is required\n› Topic (1/3; required):".into())
        );
        assert_eq!(
            form.answer("docs"),
            Step::Next("› Details (2/3; optional: empty skips; \\n for a new line):".into())
        );
        assert!(matches!(form.answer(&"x".repeat(21)), Step::Again(m)
            if m.starts_with("`Details` (body) takes at most 20 characters, not 21\n")));
        assert_eq!(
            form.answer("two\\nlines"),
            Step::Next("› Mood (3/3; empty keeps \"fine\"):".into())
        );
        assert!(matches!(form.answer("x"), Step::Again(m) if m.contains("at least 2")));
        // Empty keeps the prefilled value.
        assert_eq!(form.answer("  "), Step::Done);
        assert_eq!(
            form.values(),
            [
                ("topic".to_owned(), "docs".to_owned()),
                ("body".to_owned(), "two\nlines".to_owned()),
                ("mood".to_owned(), "fine".to_owned()),
            ]
        );
        assert_eq!(form.check(), Ok(()));
    }

    #[test]
    fn one_line_fills_are_checked_as_a_whole() {
        let mut form = feedback();
        // Unnamed fields keep their value or stay empty: the required topic stops it.
        form.fill(&[("body".into(), "hi".into())]).expect("fill");
        assert_eq!(form.check(), Err("`Topic` (topic) is required".into()));
        assert_eq!(
            form.fill(&[("nope".into(), "x".into()), ("topic".into(), "y".into())]),
            Err("the form has no field `nope`; its fields: topic, body, mood".into())
        );
        assert_eq!(form.check(), Err("`Topic` (topic) is required".into()));
        form.fill(&[
            ("topic".into(), "docs".into()),
            ("mood".into(), String::new()),
        ])
        .expect("fill");
        // An explicitly emptied field is sent empty.
        assert_eq!(form.check(), Err("`Mood` (mood) is required".into()));
        form.fill(&[("mood".into(), "ok".into())]).expect("fill");
        assert_eq!(form.check(), Ok(()));
        // Short inputs take `\n` as typed; lengths count characters, not bytes.
        assert_eq!(form.fields[0].typed("a\\nb"), "a\\nb");
        assert_eq!(form.fields[1].check(&"é".repeat(20)), Ok(()));
    }

    #[test]
    fn a_modal_without_inputs_has_nothing_to_ask() {
        let form = Form::from_modal(1, &json!({"custom_id": "x", "title": "Empty"}));
        assert!(form.fields.is_empty());
        assert_eq!(form.prompt(), None);
        assert_eq!(form.check(), Ok(()));
        assert!(form.render().contains("(no fields)"));
    }
}
