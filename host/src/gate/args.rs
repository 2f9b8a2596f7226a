//! Parsing a command's argument text by its declared types.

use zoryx_plugin_api::{Arg, ArgKind, ArgValue, Args, Attachment, ChannelId, RoleId, UserId};

/// Why the arguments did not fit the command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// A required argument was not given.
    #[error("missing argument `{0}`")]
    Missing(String),
    /// A required file argument, and no (more) file attached to the message.
    #[error("attach a file for `{0}`")]
    MissingFile(String),
    /// An argument did not parse as its type.
    #[error("`{value}` is not a valid {expected} for `{name}`")]
    Invalid {
        /// The argument.
        name: String,
        /// What it should be.
        expected: &'static str,
        /// What was typed.
        value: String,
    },
    /// More was typed than the command takes.
    #[error("unexpected extra input `{0}`")]
    Extra(String),
    /// A quote was opened and never closed.
    #[error("unclosed quote")]
    UnclosedQuote,
    /// A value outside the argument's choices, range or lengths.
    #[error("`{name}` {problem}")]
    Rule {
        /// The argument.
        name: String,
        /// What it must be ("must be one of: red, blue").
        problem: String,
    },
    /// The word after a command with subcommands names none of them.
    #[error("{} is not a subcommand: expected one of {}", given.as_deref().map_or_else(|| "nothing".to_owned(), |g| format!("`{g}`")), expected.join(", "))]
    Subcommand {
        /// What was typed (`None`: nothing).
        given: Option<String>,
        /// The subcommands there are.
        expected: Vec<String>,
    },
}

/// Applies the arguments' rules to parsed values (plugin-api 1.3): a typed word naming a text
/// choice (its value or its name, any case) becomes that choice's value; then every value is
/// checked against its argument's choices, range and lengths.
///
/// ```
/// use zoryx_host::gate::args::{apply_rules, parse_args};
/// use zoryx_plugin_api::Arg;
///
/// let specs = [Arg::text("colour").choices([("Red", "red"), ("Blue", "blue")]), Arg::integer("n").range(1, 3)];
/// let args = apply_rules(&specs, parse_args(&specs, "RED 2").unwrap()).unwrap();
/// assert_eq!(args.get::<String>("colour").unwrap(), "red");
/// let error = apply_rules(&specs, parse_args(&specs, "red 4").unwrap()).unwrap_err();
/// assert_eq!(error.to_string(), "`n` must be at most 3");
/// ```
pub fn apply_rules(specs: &[Arg], args: Args) -> Result<Args, ArgError> {
    if specs.iter().all(|a| {
        a.choices.is_empty()
            && a.min.is_none()
            && a.max.is_none()
            && a.min_length.is_none()
            && a.max_length.is_none()
    }) {
        return Ok(args);
    }
    let mut values = Vec::with_capacity(args.len());
    for (name, value) in args.iter() {
        let mut value = value.clone();
        if let Some(spec) = specs.iter().find(|a| a.name == name) {
            if let ArgValue::Text(text) = &value
                && let Some(choice) = spec.choice_for(text)
                && let zoryx_plugin_api::ChoiceValue::Text(chosen) = &choice.value
            {
                value = ArgValue::Text(chosen.clone());
            }
            spec.check_value(&value).map_err(|problem| ArgError::Rule {
                name: name.to_owned(),
                problem,
            })?;
        }
        values.push((name.to_owned(), value));
    }
    Ok(Args::new(values))
}

/// Splits off the next token: a word, or a `"quoted string"` with `\"` escapes.
/// Returns the token and the rest of the input.
fn next_token(input: &str) -> Result<Option<(String, &str)>, ArgError> {
    let input = input.trim_start();
    if input.is_empty() {
        return Ok(None);
    }
    let mut chars = input.char_indices();
    if let Some((_, quote @ ('"' | '“'))) = chars.clone().next() {
        let close = if quote == '“' { '”' } else { '"' };
        chars.next();
        let mut token = String::new();
        let mut escaped = false;
        for (i, c) in chars {
            if escaped {
                token.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == close {
                return Ok(Some((token, &input[i + c.len_utf8()..])));
            } else {
                token.push(c);
            }
        }
        return Err(ArgError::UnclosedQuote);
    }
    let end = input.find(char::is_whitespace).unwrap_or(input.len());
    Ok(Some((input[..end].to_owned(), &input[end..])))
}

fn snowflake(text: &str, prefixes: &[&str]) -> Option<u64> {
    if let Ok(id) = text.parse::<u64>() {
        return Some(id);
    }
    let inner = text.strip_prefix('<')?.strip_suffix('>')?;
    prefixes
        .iter()
        .find_map(|p| inner.strip_prefix(p))
        .and_then(|id| id.parse().ok())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" | "on" | "enable" | "enabled" => Some(true),
        "false" | "no" | "0" | "n" | "off" | "disable" | "disabled" => Some(false),
        _ => None,
    }
}

fn convert(arg: &Arg, token: String) -> Result<ArgValue, ArgError> {
    let invalid = |token: &str| ArgError::Invalid {
        name: arg.name.clone(),
        expected: arg.kind.name(),
        value: token.to_owned(),
    };
    let value = match arg.kind {
        ArgKind::Text | ArgKind::Rest => Some(ArgValue::Text(token.clone())),
        ArgKind::Integer => token.parse().ok().map(ArgValue::Integer),
        ArgKind::Float => token
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(ArgValue::Float),
        ArgKind::Bool => parse_bool(&token).map(ArgValue::Bool),
        ArgKind::User => snowflake(&token, &["@!", "@"]).map(|id| ArgValue::User(UserId(id))),
        ArgKind::Member => snowflake(&token, &["@!", "@"]).map(|id| ArgValue::Member(UserId(id))),
        ArgKind::Role => snowflake(&token, &["@&"]).map(|id| ArgValue::Role(RoleId(id))),
        ArgKind::Channel => snowflake(&token, &["#"]).map(|id| ArgValue::Channel(ChannelId(id))),
    };
    value.ok_or_else(|| invalid(&token))
}

/// Parses `input` against the declared `specs`, in order.
///
/// ```
/// use zoryx_host::gate::args::parse_args;
/// use zoryx_plugin_api::{Arg, ArgValue};
///
/// let specs = [Arg::integer("amount"), Arg::user("to"), Arg::rest("note").optional()];
/// let args = parse_args(&specs, r#"5 <@!42> thanks for "lunch""#).unwrap();
/// assert_eq!(args.value("amount"), Some(&ArgValue::Integer(5)));
/// assert_eq!(args.get::<String>("note").unwrap(), r#"thanks for "lunch""#);
/// ```
pub fn parse_args(specs: &[Arg], input: &str) -> Result<Args, ArgError> {
    parse_args_with_files(specs, input, &[])
}

/// [`parse_args`] for a message with `files` attached: each [`Arg::attachment`] takes the next
/// file, in order, and no text.
///
/// ```
/// use zoryx_host::gate::args::parse_args_with_files;
/// use zoryx_plugin_api::{Arg, Attachment};
///
/// let specs = [Arg::attachment("image"), Arg::text("caption")];
/// let file = Attachment { id: 9, filename: "cat.png".into(), ..Attachment::default() };
/// let args = parse_args_with_files(&specs, "cute", &[file]).unwrap();
/// assert_eq!(args.get::<Attachment>("image").unwrap().filename, "cat.png");
/// let error = parse_args_with_files(&specs, "cute", &[]).unwrap_err();
/// assert_eq!(error.to_string(), "attach a file for `image`");
/// ```
pub fn parse_args_with_files(
    specs: &[Arg],
    input: &str,
    files: &[Attachment],
) -> Result<Args, ArgError> {
    let mut rest = input;
    let mut files = files.iter();
    let mut values = Vec::with_capacity(specs.len());
    for arg in specs {
        if arg.attachment {
            match files.next() {
                Some(file) => {
                    let json = serde_json::to_string(file)
                        .map_err(|_| ArgError::MissingFile(arg.name.clone()))?;
                    values.push((arg.name.clone(), ArgValue::Text(json)));
                }
                None if arg.required => return Err(ArgError::MissingFile(arg.name.clone())),
                None => {}
            }
            continue;
        }
        if arg.kind == ArgKind::Rest {
            let text = rest.trim();
            rest = "";
            if text.is_empty() {
                if arg.required {
                    return Err(ArgError::Missing(arg.name.clone()));
                }
                continue;
            }
            values.push((arg.name.clone(), ArgValue::Text(text.to_owned())));
            continue;
        }
        match next_token(rest)? {
            Some((token, after)) => {
                values.push((arg.name.clone(), convert(arg, token)?));
                rest = after;
            }
            None if arg.required => return Err(ArgError::Missing(arg.name.clone())),
            None => {}
        }
    }
    let extra = rest.trim();
    if !extra.is_empty() {
        return Err(ArgError::Extra(extra.to_owned()));
    }
    Ok(Args::new(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(specs: &[Arg], input: &str) -> Result<Args, ArgError> {
        parse_args(specs, input)
    }

    #[test]
    fn parses_each_kind() {
        let specs = [
            Arg::text("word"),
            Arg::integer("n"),
            Arg::float("f"),
            Arg::boolean("b"),
            Arg::user("u"),
            Arg::role("r"),
            Arg::channel("c"),
            Arg::member("m"),
        ];
        let args = parse(&specs, r#""two words" -3 2.5 yes <@!7> <@&8> <#9> 10"#).expect("parse");
        assert_eq!(args.get::<String>("word").expect("word"), "two words");
        assert_eq!(args.get::<i64>("n").expect("n"), -3);
        assert_eq!(args.get::<f64>("f").expect("f"), 2.5);
        assert!(args.get::<bool>("b").expect("b"));
        assert_eq!(args.get::<UserId>("u").expect("u"), UserId(7));
        assert_eq!(args.get::<RoleId>("r").expect("r"), RoleId(8));
        assert_eq!(args.get::<ChannelId>("c").expect("c"), ChannelId(9));
        assert_eq!(args.value("m"), Some(&ArgValue::Member(UserId(10))));
    }

    #[test]
    fn bool_words() {
        for (word, value) in [
            ("on", true),
            ("Y", true),
            ("1", true),
            ("off", false),
            ("n", false),
            ("No", false),
        ] {
            let args = parse(&[Arg::boolean("b")], word).expect("bool");
            assert_eq!(args.get::<bool>("b").expect("b"), value, "{word}");
        }
        assert!(matches!(
            parse(&[Arg::boolean("b")], "maybe"),
            Err(ArgError::Invalid { .. })
        ));
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(
            parse(&[Arg::integer("n")], ""),
            Err(ArgError::Missing("n".into()))
        );
        assert!(matches!(
            parse(&[Arg::integer("n")], "x"),
            Err(ArgError::Invalid {
                expected: "integer",
                ..
            })
        ));
        assert_eq!(
            parse(&[Arg::integer("n")], "1 2"),
            Err(ArgError::Extra("2".into()))
        );
        assert_eq!(
            parse(&[Arg::text("t")], "\"open"),
            Err(ArgError::UnclosedQuote)
        );
        assert!(matches!(
            parse(&[Arg::user("u")], "<@&5>"),
            Err(ArgError::Invalid { .. })
        ));
    }

    #[test]
    fn optional_and_rest() {
        let specs = [Arg::text("a"), Arg::integer("n").optional()];
        assert_eq!(parse(&specs, "x").expect("ok").len(), 1);
        let specs = [Arg::rest("all")];
        assert_eq!(
            parse(&specs, "  a  b \"c\" ")
                .expect("ok")
                .get::<String>("all")
                .expect("all"),
            "a  b \"c\""
        );
        assert_eq!(parse(&specs, " "), Err(ArgError::Missing("all".into())));
    }
}
