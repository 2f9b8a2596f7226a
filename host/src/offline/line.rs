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
    fn words_split_like_a_shell() {
        assert_eq!(words(r#"a "b c" d'e f'g ''"#), ["a", "b c", "de fg", ""]);
    }
}
