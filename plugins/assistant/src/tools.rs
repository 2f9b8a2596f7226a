//! The tools the model may call (function calling), each a read of live data through the
//! public plugin API, and the `/ask_zdbf` actions mapped onto them. Results are JSON text,
//! clipped to [`RESULT_MAX_CHARS`].

use serde_json::{Value, json};
use zoryx_plugin_api::{ChannelId, CommandKind, GuildId, Host, Report, UserId};

use crate::provider::{ToolCall, ToolSpec};
use crate::search::Index;

/// The most characters of one tool result the model sees.
pub const RESULT_MAX_CHARS: usize = 6000;
/// Discord's limit on a bot's guild slash commands.
pub const SLASH_LIMIT: usize = 100;

/// Who asked, and where: what the tools read is what this member may see.
#[derive(Clone, Copy, Debug)]
pub struct Asker {
    /// The member.
    pub user: UserId,
    /// The guild (`None`: a DM).
    pub guild: Option<GuildId>,
    /// The channel.
    pub channel: ChannelId,
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

/// Every tool, as the model sees them.
pub fn specs() -> Vec<ToolSpec> {
    let none = || object(json!({}), &[]);
    vec![
        ToolSpec {
            name: "list_commands",
            description: "The bot's commands as the asking member sees them: name, description, usage, category, plugin, whether they may run it here (and why not), whether it is a slash command. Optional `query` filters by words in the name or description.",
            parameters: object(json!({"query": {"type": "string"}}), &[]),
        },
        ToolSpec {
            name: "bot_stats",
            description: "The bot's live statistics: uptime, guilds, users, latency, commands run, plugins loaded, host and plugin API versions, and its gateway shards.",
            parameters: none(),
        },
        ToolSpec {
            name: "list_plugins",
            description: "The installed plugins from the registry: version, author, description, status, whether loaded, dependencies, conflicts, commands, listeners, hooks, tasks. Optional `name` for one plugin.",
            parameters: object(json!({"name": {"type": "string"}}), &[]),
        },
        ToolSpec {
            name: "diagnose",
            description: "Health and diagnostics: the health tier and why, CPU, memory, threads, event loop lag, command error rate, shards, per-plugin call times and errors.",
            parameters: none(),
        },
        ToolSpec {
            name: "database_stats",
            description: "The bot's SQLite databases: files, sizes, open pools, queries, and the most used commands.",
            parameters: none(),
        },
        ToolSpec {
            name: "read_file",
            description: "Reads a documentation file of the project: README.md, or a .md/.txt file under docs/ or data/ (for example docs/ARCHITECTURE.md). Other paths are refused.",
            parameters: object(json!({"path": {"type": "string"}}), &["path"]),
        },
        ToolSpec {
            name: "slash_status",
            description: "The slash command limit state: how many commands are registered as slash commands, Discord's limit of 100, and which commands fell back to prefix only because of the limit.",
            parameters: none(),
        },
        ToolSpec {
            name: "hooks",
            description: "The framework's event hooks: each hook's event, plugin, priority, runs, failures, mean time, and whether its circuit breaker is open or it is disabled.",
            parameters: none(),
        },
        ToolSpec {
            name: "automations",
            description: "The automations plugin: whether it is installed, its commands and hooks (/hooks templates that members create).",
            parameters: none(),
        },
        ToolSpec {
            name: "explain_permission",
            description: "Explains whether a member may run a command here and why not: `user` is a user id or mention, `command` a command name.",
            parameters: object(
                json!({"user": {"type": "string"}, "command": {"type": "string"}}),
                &["user", "command"],
            ),
        },
        ToolSpec {
            name: "search_plugins",
            description: "Searches the marketplace index and the installed plugins, commands and docs for what a member wants to do; returns plugins with their install command.",
            parameters: object(json!({"query": {"type": "string"}}), &["query"]),
        },
    ]
}

/// The `/ask_zdbf` actions (the seed's twelve).
pub const ACTIONS: [&str; 12] = [
    "help",
    "framework",
    "plugins",
    "diagnose",
    "database",
    "file",
    "extension",
    "slash",
    "hooks",
    "automations",
    "readme",
    "permission",
];

/// The tool calls an action starts with when the provider takes no tools (the context it
/// answers from), or that are run for it before the model is asked.
pub fn calls_for(action: &str, query: &str, file: Option<&str>) -> Vec<ToolCall> {
    let call = |name: &str, arguments: Value| ToolCall {
        id: format!("ctx_{name}"),
        name: name.to_owned(),
        arguments,
    };
    match action {
        "framework" => vec![
            call("bot_stats", json!({})),
            call("list_plugins", json!({})),
        ],
        "plugins" => vec![call("list_plugins", json!({}))],
        "diagnose" => vec![call("diagnose", json!({}))],
        "database" => vec![call("database_stats", json!({}))],
        "file" => vec![call(
            "read_file",
            json!({"path": file.unwrap_or("README.md")}),
        )],
        "extension" => vec![call(
            "list_plugins",
            json!({"name": file.unwrap_or(query).trim()}),
        )],
        "slash" => vec![call("slash_status", json!({}))],
        "hooks" => vec![call("hooks", json!({}))],
        "automations" => vec![call("automations", json!({}))],
        "readme" => vec![call("read_file", json!({"path": "README.md"}))],
        "permission" => {
            let (user, command) = permission_question(query);
            vec![call(
                "explain_permission",
                json!({"user": user, "command": command}),
            )]
        }
        _ => vec![call("list_commands", json!({"query": query}))],
    }
}

/// The user (a mention or id) and command named in a permission question
/// ("why can't <@12> run ban").
fn permission_question(query: &str) -> (String, String) {
    let words: Vec<&str> = query.split_whitespace().collect();
    let user = words
        .iter()
        .find(|w| user_id(w).is_some())
        .map_or(String::new(), |w| (*w).to_owned());
    let command = words
        .iter()
        .rev()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_'))
        .find(|w| !w.is_empty() && user_id(w).is_none())
        .unwrap_or_default()
        .to_owned();
    (user, command)
}

/// A user id from `<@123>`, `<@!123>` or `123`.
fn user_id(text: &str) -> Option<u64> {
    let digits = text
        .trim()
        .trim_start_matches("<@")
        .trim_start_matches('!')
        .trim_end_matches('>');
    digits.parse().ok().filter(|id| *id > 1000)
}

fn clip(text: String) -> String {
    if text.chars().count() <= RESULT_MAX_CHARS {
        return text;
    }
    let cut: String = text.chars().take(RESULT_MAX_CHARS).collect();
    format!("{cut}… (cut)")
}

/// Runs `call` for `asker`; the result as text (an error is a result too: the model says
/// what could not be read).
pub async fn run(host: &Host, asker: Asker, index: &Index, call: &ToolCall) -> String {
    let text_arg = |name: &str| {
        call.arguments[name]
            .as_str()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let result: Result<Value, String> = match call.name.as_str() {
        "list_commands" => commands(host, asker, &text_arg("query")).await,
        "bot_stats" => bot_stats(host).await,
        "list_plugins" => plugins(host, &text_arg("name")).await,
        "diagnose" => report(host, Report::Diagnostics).await,
        "database_stats" => report(host, Report::Database).await,
        "read_file" => host
            .project_file(&text_arg("path"))
            .await
            .map(|text| json!({"path": text_arg("path"), "text": text}))
            .map_err(|e| format!("refused: {e}")),
        "slash_status" => slash(host, asker).await,
        "hooks" => report(host, Report::Hooks).await,
        "automations" => automations(host, asker).await,
        "explain_permission" => {
            permission(host, asker, &text_arg("user"), &text_arg("command")).await
        }
        "search_plugins" => Ok(search(index, &text_arg("query"))),
        other => Err(format!("there is no tool `{other}`")),
    };
    clip(match result {
        Ok(value) => value.to_string(),
        Err(error) => json!({ "error": error }).to_string(),
    })
}

async fn report(host: &Host, topic: Report) -> Result<Value, String> {
    host.report(topic).await.map_err(|e| e.to_string())
}

async fn commands(host: &Host, asker: Asker, query: &str) -> Result<Value, String> {
    let catalogue = host
        .catalogue_for(asker.user, asker.guild, asker.channel)
        .await
        .map_err(|e| e.to_string())?;
    let words: Vec<String> = crate::search::tokens(query);
    let list: Vec<Value> = catalogue
        .commands
        .iter()
        .filter(|c| {
            words.is_empty() || {
                let text =
                    crate::search::tokens(&format!("{} {}", c.spec.name, c.spec.description));
                words.iter().any(|w| text.contains(w))
            }
        })
        .map(|c| {
            json!({
                "name": c.spec.name,
                "description": c.spec.description,
                "usage": c.spec.usage(&catalogue.prefix),
                "category": c.spec.category,
                "plugin": c.plugin,
                "may_run_here": c.available,
                "why_not": c.refusal,
                "slash": c.slash,
            })
        })
        .collect();
    Ok(json!({"prefix": catalogue.prefix, "commands": list}))
}

async fn bot_stats(host: &Host) -> Result<Value, String> {
    let stats = host.stats().await.map_err(|e| e.to_string())?;
    let shards = host.shards().await.unwrap_or_default();
    Ok(json!({
        "uptime_seconds": stats.uptime_seconds,
        "connected": stats.connected,
        "guilds": stats.guilds,
        "users": stats.users,
        "latency_ms": stats.latency_ms,
        "commands_run": stats.commands_run,
        "messages_seen": stats.messages_seen,
        "slash_commands": stats.slash_commands,
        "plugins_loaded": stats.plugins_loaded,
        "commands": stats.commands,
        "memory_bytes": stats.memory_bytes,
        "host_version": stats.host_version,
        "api_version": stats.api_version,
        "shards": shards.iter().map(|s| json!({"id": s.id, "state": s.state, "latency_ms": s.latency_ms, "guilds": s.guilds})).collect::<Vec<_>>(),
    }))
}

async fn plugins(host: &Host, name: &str) -> Result<Value, String> {
    let mut report = report(host, Report::Plugins).await?;
    if !name.is_empty()
        && let Some(list) = report["plugins"].as_array_mut()
    {
        list.retain(|p| {
            p["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        if list.is_empty() {
            return Err(format!("no installed plugin is named `{name}`"));
        }
    }
    Ok(report)
}

async fn slash(host: &Host, asker: Asker) -> Result<Value, String> {
    let catalogue = host
        .catalogue_for(asker.user, asker.guild, asker.channel)
        .await
        .map_err(|e| e.to_string())?;
    let registered: Vec<&str> = catalogue
        .commands
        .iter()
        .filter(|c| c.slash)
        .map(|c| c.spec.name.as_str())
        .collect();
    let fell_back: Vec<&str> = catalogue
        .commands
        .iter()
        .filter(|c| !c.slash && c.spec.kind != CommandKind::Prefix)
        .map(|c| c.spec.name.as_str())
        .collect();
    Ok(json!({
        "limit": SLASH_LIMIT,
        "registered": registered.len(),
        "registered_commands": registered,
        "prefix_only_because_of_the_limit": fell_back,
        "note": "Commands past Discord's limit of 100 guild slash commands keep working as prefix commands.",
    }))
}

async fn automations(host: &Host, asker: Asker) -> Result<Value, String> {
    let plugins = plugins(host, "automations").await;
    let catalogue = host
        .catalogue_for(asker.user, asker.guild, asker.channel)
        .await
        .map_err(|e| e.to_string())?;
    let commands: Vec<Value> = catalogue
        .commands
        .iter()
        .filter(|c| c.plugin.as_deref() == Some("automations"))
        .map(|c| json!({"name": c.spec.name, "description": c.spec.description, "usage": c.spec.usage(&catalogue.prefix)}))
        .collect();
    let hooks = report(host, Report::Hooks).await.unwrap_or_default();
    let own: Vec<&Value> = hooks["hooks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h["plugin"] == "automations")
        .collect();
    Ok(json!({
        "installed": plugins.is_ok(),
        "plugin": plugins.ok().map(|p| p["plugins"][0].clone()),
        "commands": commands,
        "hooks": own,
    }))
}

async fn permission(host: &Host, asker: Asker, user: &str, command: &str) -> Result<Value, String> {
    let user = if user.is_empty() {
        asker.user.0
    } else {
        user_id(user).ok_or_else(|| format!("`{user}` is not a user id or mention"))?
    };
    let wanted = command.trim().trim_start_matches(['!', '/']).to_lowercase();
    let catalogue = host
        .catalogue_for(UserId(user), asker.guild, asker.channel)
        .await
        .map_err(|e| e.to_string())?;
    let info = catalogue
        .commands
        .iter()
        .find(|c| c.spec.name == wanted || c.spec.aliases.contains(&wanted))
        .ok_or_else(|| format!("there is no command `{wanted}`"))?;
    Ok(json!({
        "user": user.to_string(),
        "command": info.spec.name,
        "may_run_here": info.available,
        "why_not": info.refusal,
        "required": format!("{:?}", info.spec.permission),
        "role_grants": info.roles,
    }))
}

/// The best matches of `query` in the index, as JSON.
pub fn search(index: &Index, query: &str) -> Value {
    let found: Vec<Value> = index
        .search(query, 6)
        .into_iter()
        .map(|(doc, score)| {
            json!({
                "title": doc.title,
                "kind": doc.source.label(),
                "text": doc.text.chars().take(600).collect::<String>(),
                "install": doc.install,
                "score": (score * 100.0).round() / 100.0,
            })
        })
        .collect();
    json!({ "results": found })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_questions_name_a_user_and_a_command() {
        assert_eq!(
            permission_question("why can't <@123456> run ban?"),
            ("<@123456>".to_owned(), "ban".to_owned())
        );
        assert_eq!(user_id("<@!987654>"), Some(987_654));
        assert_eq!(user_id("ban"), None);
    }

    #[test]
    fn every_action_but_help_reads_something() {
        for action in ACTIONS.iter().filter(|a| **a != "help") {
            assert!(!calls_for(action, "q", None).is_empty(), "{action}");
        }
        let names: Vec<&str> = specs().iter().map(|s| s.name).collect();
        for action in ACTIONS {
            for call in calls_for(action, "<@1234> ping", Some("docs/a.md")) {
                assert!(names.contains(&call.name.as_str()), "{}", call.name);
            }
        }
    }
}
