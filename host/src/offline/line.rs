//! What the operator types in the chat console: chat to send, or a `:command`.

/// One console line, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Nothing (a blank line).
    Empty,
    /// Chat: sent as a message from the current user in the current channel.
    Say(String),
    /// `:help`.
    Help,
    /// `:as NAME`: switch the simulated user.
    As(String),
    /// `:users`.
    Users,
    /// `:slash NAME [opt=value ...]`.
    Slash {
        /// The command name, without `/`.
        name: String,
        /// `(option, value)` pairs in the order typed.
        options: Vec<(String, String)>,
    },
    /// `:slash NAME [opt=value ...] opt=typed?`: the suggestions for one option as it is
    /// being typed (Discord's autocomplete), the other options as filled so far.
    Complete {
        /// The command name, without `/`.
        name: String,
        /// The other options, `(option, value)` in the order typed.
        options: Vec<(String, String)>,
        /// The option being typed.
        option: String,
        /// What is typed into it so far (without the `?`).
        typed: String,
    },
    /// `:pick N`: run the command of the last suggestions with suggestion N (from 1).
    Pick(usize),
    /// `:modal [field=value ...]`: fill the open form in one line and submit it.
    Modal(Vec<(String, String)>),
    /// `:cancel`: close the open form without submitting it.
    Cancel,
    /// `:click CUSTOM_ID [values...]`.
    Click {
        /// The component's custom id.
        custom_id: String,
        /// Values chosen in a select menu.
        values: Vec<String>,
    },
    /// `:react MESSAGE_ID EMOJI`: the current user reacts to a message.
    React {
        /// The message.
        message: u64,
        /// The emoji: the character, or `name:id` of a custom emoji.
        emoji: String,
    },
    /// `:edit MESSAGE_ID TEXT`: the current user edits their message.
    Edit {
        /// The message.
        message: u64,
        /// Its new text, as typed.
        text: String,
    },
    /// `:delete MESSAGE_ID`: the current user deletes a message.
    Delete {
        /// The message.
        message: u64,
    },
    /// `:history [N]`: the channel's last messages with their ids.
    History(usize),
    /// `:join VOICE_CHANNEL`: the current user joins (or moves to) a voice channel.
    Join(String),
    /// `:leave`: the current user leaves voice.
    Leave,
    /// `:guild`.
    Guild,
    /// `:channel`.
    Channel,
    /// `:drop`: drop the gateway session.
    Drop,
    /// `:quit`.
    Quit,
    /// Any other `:command`: one of the operator console's (`list`, `reload NAME`, ...).
    Operator(String),
    /// A `:command` typed wrong; the text says how to type it.
    Usage(&'static str),
}

/// The chat console's own commands, for `:help`.
pub const HELP: &str = "\
chat console: plain lines are sent as chat messages; lines starting with `:` are commands
  :as NAME                 speak as NAME (a new plain member if unknown); `:as operator` goes back
  :users                   the simulated users, and who you are
  :slash NAME [opt=value]  run a slash command (quote values with spaces: opt=\"a b\")
  :slash NAME opt=typed?   the bot's suggestions for opt as typed so far (autocomplete), numbered;
                           other options may come too; quote a value that ends in ? (opt=\"why?\")
  :pick N                  run the command of the last suggestions with suggestion N
  (forms)                  when the bot shows a form (modal), plain lines answer its fields in turn:
                           an empty line keeps the field's value or skips an optional field,
                           `\\n` starts a new line in a paragraph field, `::text` answers `:text`
  :modal [field=value]     fill the open form in one line and submit it (unnamed fields keep their
                           value or stay empty)
  :cancel                  close the open form without submitting it
  :click ID [values...]    click a button / choose in a select menu of the last bot message with it
  :history [N]             the last N messages here (default 10); ids are shown in brackets: [123]
  :react ID EMOJI          react to message ID with EMOJI (👍, or name:id of a custom emoji)
  :edit ID TEXT            edit your message ID to read TEXT
  :delete ID               delete message ID (yours; anyone's as the owner)
  :join NAME, :leave       join (or move to) the voice channel NAME; leave voice
  :guild, :channel         where you are
  :drop                    drop the gateway session (the bot resumes)
  :quit                    stop (Ctrl-C and end of input too)
  ::text                   send `:text` as chat
operator commands (with `:`): ";

/// One word of a line: its text, and whether it ends in a `?` typed outside quotes (the
/// autocomplete mark of `:slash`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Word {
    text: String,
    asks: bool,
}

/// Splits `text` into [`Word`]s; `"..."` or `'...'` keeps spaces, also inside a word.
fn split(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    // Whether the last character of the word was typed outside quotes.
    let mut bare_end = false;
    let mut end_word = |current: &mut String, bare_end: bool| {
        let text = std::mem::take(current);
        let asks = bare_end && text.ends_with('?');
        out.push(Word { text, asks });
    };
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {
                current.push(c);
                bare_end = false;
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    end_word(&mut current, bare_end);
                    in_word = false;
                    bare_end = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
                bare_end = true;
            }
        }
    }
    if in_word {
        end_word(&mut current, bare_end);
    }
    out
}

/// Splits `text` into words; `"..."` or `'...'` keeps spaces, also inside a word (`opt="a b"`).
pub fn words(text: &str) -> Vec<String> {
    split(text).into_iter().map(|w| w.text).collect()
}

/// `field=value` pairs, in the order typed; `None` when a word has no `=` or no field name.
fn pairs(words: impl IntoIterator<Item = String>) -> Option<Vec<(String, String)>> {
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => Some((key.to_owned(), value.to_owned())),
            _ => None,
        })
        .collect()
}

const SLASH_USAGE: &str =
    "usage: :slash NAME [option=value ...], or with one option=typed? for suggestions";

/// `:slash`'s words: a plain run, or suggestions for the one option that ends in a bare `?`
/// (`fruit=ap?`, or `fruit?` with nothing typed yet).
fn slash(rest: &str) -> Line {
    let mut parts = split(rest).into_iter();
    let Some(name) = parts.next() else {
        return Line::Usage(SLASH_USAGE);
    };
    let name = name.text.trim_start_matches('/').to_owned();
    let mut options = Vec::new();
    let mut focus: Option<(String, String)> = None;
    for part in parts {
        let (key, value) = match part.text.split_once('=') {
            Some((key, value)) if !key.is_empty() => (key.to_owned(), value.to_owned()),
            // `fruit?`: suggestions with nothing typed yet.
            None if part.asks && part.text.len() > 1 => {
                (part.text.trim_end_matches('?').to_owned(), "?".to_owned())
            }
            _ => return Line::Usage(SLASH_USAGE),
        };
        if part.asks {
            if focus.is_some() {
                return Line::Usage(
                    "only one option can be typed into at a time: end only one value with `?`",
                );
            }
            let typed = value.strip_suffix('?').unwrap_or(&value).to_owned();
            focus = Some((key, typed));
        } else {
            options.push((key, value));
        }
    }
    match focus {
        Some((option, typed)) => Line::Complete {
            name,
            options,
            option,
            typed,
        },
        None => Line::Slash { name, options },
    }
}

/// A message id as typed: digits, optionally in the brackets the console shows them in.
fn message_id(text: &str) -> Option<u64> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Parses one line the operator typed.
pub fn parse(line: &str) -> Line {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Line::Empty;
    }
    let Some(command) = line.trim_start().strip_prefix(':') else {
        return Line::Say(line.to_owned());
    };
    if command.starts_with(':') {
        return Line::Say(command.to_owned());
    }
    let command = command.trim();
    let (verb, rest) = command
        .split_once(char::is_whitespace)
        .unwrap_or((command, ""));
    let rest = rest.trim();
    match verb {
        "help" | "?" => Line::Help,
        "quit" | "exit" | "q" => Line::Quit,
        "users" | "who" => Line::Users,
        "guild" => Line::Guild,
        "channel" => Line::Channel,
        "drop" => Line::Drop,
        "as" => match words(rest).as_slice() {
            [name] => Line::As(name.clone()),
            _ => Line::Usage("usage: :as NAME"),
        },
        "slash" => slash(rest),
        "pick" => match rest.parse::<usize>() {
            Ok(n) if n > 0 => Line::Pick(n),
            _ => Line::Usage("usage: :pick N (the number of one of the last suggestions)"),
        },
        "modal" | "submit" => match pairs(words(rest)) {
            Some(fields) => Line::Modal(fields),
            None => Line::Usage("usage: :modal [field=value ...] (quote values with spaces)"),
        },
        "cancel" => Line::Cancel,
        "react" => match words(rest).as_slice() {
            [message, emoji] => match message_id(message) {
                Some(message) => Line::React {
                    message,
                    emoji: emoji.clone(),
                },
                None => Line::Usage("usage: :react MESSAGE_ID EMOJI"),
            },
            _ => Line::Usage("usage: :react MESSAGE_ID EMOJI"),
        },
        "edit" => {
            let (message, text) = rest
                .split_once(char::is_whitespace)
                .map_or((rest, ""), |(m, t)| (m, t.trim_start()));
            match message_id(message) {
                Some(message) if !text.is_empty() => Line::Edit {
                    message,
                    text: text.to_owned(),
                },
                _ => Line::Usage("usage: :edit MESSAGE_ID TEXT"),
            }
        }
        "delete" => match message_id(rest) {
            Some(message) => Line::Delete { message },
            None => Line::Usage("usage: :delete MESSAGE_ID"),
        },
        "history" => match rest {
            "" => Line::History(10),
            n => match n.parse::<usize>() {
                Ok(n) if n > 0 => Line::History(n),
                _ => Line::Usage("usage: :history [N]"),
            },
        },
        "join" => match rest.trim_start_matches(['#', '🔊']).trim() {
            "" => Line::Usage("usage: :join VOICE_CHANNEL"),
            name => Line::Join(name.to_owned()),
        },
        "leave" => Line::Leave,
        "click" => {
            let mut parts = words(rest).into_iter();
            match parts.next() {
                Some(custom_id) => Line::Click {
                    custom_id,
                    values: parts.collect(),
                },
                None => Line::Usage("usage: :click CUSTOM_ID [values...]"),
            }
        }
        _ => Line::Operator(command.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_and_escapes() {
        assert_eq!(parse("!ping"), Line::Say("!ping".into()));
        assert_eq!(parse("  hi there "), Line::Say("  hi there ".into()));
        assert_eq!(parse("::smile:"), Line::Say(":smile:".into()));
        assert_eq!(parse("   \r\n"), Line::Empty);
    }

    #[test]
    fn console_commands() {
        assert_eq!(parse(":as guest"), Line::As("guest".into()));
        assert_eq!(parse(":as"), Line::Usage("usage: :as NAME"));
        assert_eq!(parse(":quit"), Line::Quit);
        assert_eq!(parse(":drop"), Line::Drop);
        assert_eq!(
            parse(":reload hello"),
            Line::Operator("reload hello".into())
        );
        assert_eq!(parse(":list"), Line::Operator("list".into()));
    }

    #[test]
    fn slash_options_keep_quoted_spaces() {
        assert_eq!(
            parse(r#":slash /echo text="hi there" n=3"#),
            Line::Slash {
                name: "echo".into(),
                options: vec![("text".into(), "hi there".into()), ("n".into(), "3".into())],
            }
        );
        assert!(matches!(parse(":slash echo nonsense"), Line::Usage(_)));
    }

    #[test]
    fn a_bare_question_mark_asks_for_suggestions() {
        assert_eq!(
            parse(":slash buy fruit=ap? limit=2"),
            Line::Complete {
                name: "buy".into(),
                options: vec![("limit".into(), "2".into())],
                option: "fruit".into(),
                typed: "ap".into(),
            }
        );
        // Nothing typed yet: `fruit?` or `fruit=?`.
        for line in [":slash /buy fruit?", ":slash buy fruit=?"] {
            assert_eq!(
                parse(line),
                Line::Complete {
                    name: "buy".into(),
                    options: vec![],
                    option: "fruit".into(),
                    typed: String::new(),
                },
                "{line}"
            );
        }
        // What is typed may have spaces; only the `?` itself must be outside the quotes.
        assert_eq!(
            parse(r#":slash buy fruit="blue b"?"#),
            Line::Complete {
                name: "buy".into(),
                options: vec![],
                option: "fruit".into(),
                typed: "blue b".into(),
            }
        );
        // A quoted `?` is part of the value: a plain run.
        assert_eq!(
            parse(r#":slash ask q="why?" n='3?'"#),
            Line::Slash {
                name: "ask".into(),
                options: vec![("q".into(), "why?".into()), ("n".into(), "3?".into())],
            }
        );
        assert!(
            matches!(parse(":slash buy fruit=a? limit=1?"), Line::Usage(m) if m.contains("one option"))
        );
        assert!(matches!(parse(":slash buy =a?"), Line::Usage(_)));
        assert!(matches!(parse(":slash buy ?"), Line::Usage(_)));
    }

    #[test]
    fn picks_take_a_number_from_one() {
        assert_eq!(parse(":pick 2"), Line::Pick(2));
        assert!(matches!(parse(":pick 0"), Line::Usage(_)));
        assert!(matches!(parse(":pick"), Line::Usage(_)));
        assert!(matches!(parse(":pick two"), Line::Usage(_)));
    }

    #[test]
    fn forms_fill_in_one_line_or_close() {
        assert_eq!(
            parse(r#":modal topic=docs body="more, please" note="#),
            Line::Modal(vec![
                ("topic".into(), "docs".into()),
                ("body".into(), "more, please".into()),
                ("note".into(), String::new()),
            ])
        );
        assert_eq!(parse(":modal"), Line::Modal(vec![]));
        assert_eq!(
            parse(":submit topic=x"),
            Line::Modal(vec![("topic".into(), "x".into())])
        );
        assert!(matches!(parse(":modal docs"), Line::Usage(_)));
        assert!(matches!(parse(":modal =docs"), Line::Usage(_)));
        assert_eq!(parse(":cancel"), Line::Cancel);
    }

    #[test]
    fn click_with_values() {
        assert_eq!(
            parse(":click poll:pick cats 'big dogs'"),
            Line::Click {
                custom_id: "poll:pick".into(),
                values: vec!["cats".into(), "big dogs".into()],
            }
        );
    }

    #[test]
    fn message_verbs_take_an_id() {
        assert_eq!(
            parse(":react 123 👍"),
            Line::React {
                message: 123,
                emoji: "👍".into()
            }
        );
        assert_eq!(
            parse(":react [123] party:42"),
            Line::React {
                message: 123,
                emoji: "party:42".into()
            }
        );
        assert!(matches!(parse(":react 123"), Line::Usage(_)));
        assert!(matches!(parse(":react abc 👍"), Line::Usage(_)));
        assert_eq!(
            parse(":edit 123   new  words "),
            Line::Edit {
                message: 123,
                text: "new  words".into()
            }
        );
        assert!(matches!(parse(":edit 123"), Line::Usage(_)));
        assert_eq!(parse(":delete 9"), Line::Delete { message: 9 });
        assert!(matches!(parse(":delete"), Line::Usage(_)));
        assert_eq!(parse(":history"), Line::History(10));
        assert_eq!(parse(":history 3"), Line::History(3));
        assert!(matches!(parse(":history 0"), Line::Usage(_)));
    }

    #[test]
    fn voice_verbs() {
        assert_eq!(parse(":join Lounge"), Line::Join("Lounge".into()));
        assert_eq!(parse(":join #Music Room"), Line::Join("Music Room".into()));
        assert_eq!(parse(":join 🔊Lounge"), Line::Join("Lounge".into()));
        assert!(matches!(parse(":join"), Line::Usage(_)));
        assert_eq!(parse(":leave"), Line::Leave);
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(words(r#"a "b c" d'e f'g ''"#), ["a", "b c", "de fg", ""]);
    }
}
