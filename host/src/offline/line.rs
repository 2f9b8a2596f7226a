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

/// Splits `text` into words; `"..."` or `'...'` keeps spaces, also inside a word (`opt="a b"`).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(current);
    }
    out
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
        "slash" => {
            let mut parts = words(rest).into_iter();
            let Some(name) = parts.next() else {
                return Line::Usage("usage: :slash NAME [option=value ...]");
            };
            let mut options = Vec::new();
            for part in parts {
                match part.split_once('=') {
                    Some((key, value)) if !key.is_empty() => {
                        options.push((key.to_owned(), value.to_owned()));
                    }
                    _ => return Line::Usage("usage: :slash NAME [option=value ...]"),
                }
            }
            Line::Slash {
                name: name.trim_start_matches('/').to_owned(),
                options,
            }
        }
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
