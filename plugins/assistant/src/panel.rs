//! The assistant's page on the host's web dashboard: its provider, model, key (set or not,
//! never shown), index and usage; ask it a question as `/ask_zdbf` does, find a plugin as
//! `zai find` does, rebuild the index.

use zoryx_plugin_api::panel::{
    Block, Field, Form, Panel, PanelAction, PanelButton, PanelContext, TableRow,
};
use zoryx_plugin_api::{ChannelId, Host, PluginError, PluginResult, UserId};

use crate::tools::{self, Asker};
use crate::{
    Assistant, answer, build_index, clip, day, ensure_index, provider_of, settings, zdbf_question,
};

/// The page, after the action taken, if any.
pub(crate) async fn show(ctx: PanelContext<Assistant>) -> PluginResult<Panel> {
    let host: &Host = &ctx;
    let plugin = ctx.data();
    let mut panel = Panel::new("AI assistant");
    // Asked from the dashboard: as its user, outside any server (its budget is the DMs').
    let asker = Asker {
        user: UserId(ctx.request().user_id),
        guild: None,
        channel: ChannelId(0),
    };
    let mut results = Vec::new();
    if let Some(action) = ctx.action() {
        match act(host, plugin, asker, action, &mut results).await {
            Ok(text) => panel.push(Block::notice(true, text)),
            Err(PluginError::User(why)) => panel.push(Block::notice(false, why)),
            Err(other) => panel.push(Block::notice(false, other.to_string())),
        }
    }
    panel.blocks.extend(results);
    let settings = settings(host).await;
    let today = day(host.now());
    let (provider, docs, market, totals, servers) = {
        let state = plugin.state();
        (
            provider_of(&settings, &state),
            state.index.len(),
            state.market,
            state
                .totals
                .iter()
                .map(|(model, u)| {
                    TableRow::new([model.clone(), u.requests.to_string(), u.tokens.to_string()])
                })
                .collect::<Vec<_>>(),
            state
                .usage
                .iter()
                .filter(|((_, d), _)| *d == today)
                .map(|((g, _), u)| {
                    let place = if *g == 0 {
                        "DMs and the dashboard".to_owned()
                    } else {
                        format!("server {g}")
                    };
                    TableRow::new([place, u.requests.to_string(), u.tokens.to_string()])
                })
                .collect::<Vec<_>>(),
        )
    };
    let key = if settings.api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        "set (config)".to_owned()
    } else if std::env::var(&settings.api_key_env).is_ok_and(|k| !k.is_empty()) {
        format!("set ({})", settings.api_key_env)
    } else {
        format!("not set ({})", settings.api_key_env)
    };
    let mut fields = match &provider {
        Ok(p) => vec![
            ("Provider", p.kind.name().to_owned()),
            ("Model", clip(&p.model, 100)),
            ("Endpoint", clip(&p.base_url, 200)),
        ],
        Err(how) => vec![("Set up", clip(how, 1000))],
    };
    fields.extend([
        ("Key", key),
        (
            "Streaming / tools",
            format!(
                "{} / {}",
                if settings.stream { "on" } else { "off" },
                if settings.tools { "on" } else { "off" }
            ),
        ),
        (
            "Index",
            format!("{docs} documents ({market} from the marketplace)"),
        ),
        (
            "Budget",
            format!(
                "{} questions and {} tokens a day per server; {} s between a member's questions",
                settings.daily_requests, settings.daily_tokens, settings.cooldown_seconds
            ),
        ),
    ]);
    panel.push(Block::fields(fields));
    if ctx.can_act() {
        panel.push(Block::heading("Ask"));
        panel.push(
            Form::new("ask", "Ask")
                .field(Field::select(
                    "topic",
                    "Topic",
                    tools::ACTIONS
                        .iter()
                        .filter(|a| **a != "help")
                        .map(|a| (*a, *a)),
                ))
                .field(
                    Field::paragraph("question", "Question")
                        .required()
                        .max_length(1000),
                )
                .into(),
        );
        panel.push(
            Form::new("find", "Find")
                .field(
                    Field::text("query", "Find a plugin")
                        .required()
                        .max_length(200)
                        .help("Searches the installed plugins, the marketplace and the docs."),
                )
                .into(),
        );
        panel.push(Block::buttons([PanelButton::new(
            "Rebuild the index",
            "refresh",
        )]));
    }
    panel.push(Block::heading("Usage since start, by model"));
    panel.push(Block::table(
        ["Model", "Questions", "Tokens"],
        totals,
        "No questions yet.",
    ));
    panel.push(Block::heading("Today (UTC), by server"));
    panel.push(Block::table(
        ["Where", "Questions", "Tokens"],
        servers,
        "No questions today.",
    ));
    Ok(panel)
}

/// Does `action`; what happened, and blocks to show under it.
async fn act(
    host: &Host,
    plugin: &Assistant,
    asker: Asker,
    action: &PanelAction,
    out: &mut Vec<Block>,
) -> PluginResult<String> {
    match action.name.as_str() {
        "ask" => {
            let topic = action.value("topic").unwrap_or("framework");
            if !tools::ACTIONS.contains(&topic) {
                return Err(PluginError::user(format!("`{topic}` is not a topic")));
            }
            let text = action
                .value("question")
                .ok_or_else(|| PluginError::user("ask a question"))?;
            if text.chars().count() > 1000 {
                return Err(PluginError::user("a question has at most 1,000 characters"));
            }
            let question = zdbf_question(host, plugin, asker, topic, text, None).await;
            let said = answer(host, plugin, asker, "ask_zdbf", None, question, true).await?;
            out.push(Block::heading(format!("Q: {}", clip(text, 200))));
            out.push(Block::text(said));
            Ok("Answered.".to_owned())
        }
        "find" => {
            let query = action
                .value("query")
                .ok_or_else(|| PluginError::user("name what you are looking for"))?;
            let settings = settings(host).await;
            let index = ensure_index(host, plugin, &settings, asker).await;
            let rows: Vec<TableRow> = index
                .search(query, 10)
                .into_iter()
                .map(|(doc, _)| {
                    TableRow::new([
                        doc.title.clone(),
                        doc.source.label().to_owned(),
                        clip(&doc.text, 300),
                        doc.install.clone().unwrap_or_default(),
                    ])
                })
                .collect();
            let found = rows.len();
            out.push(Block::table(
                ["Found", "From", "About", "Install"],
                rows,
                "Nothing in the index matches.",
            ));
            Ok(format!("{found} found for \"{}\".", clip(query, 100)))
        }
        "refresh" => {
            let settings = settings(host).await;
            let (index, problems) = build_index(host, plugin, &settings, asker).await;
            let mut text = format!("The index was rebuilt: {} documents.", index.len());
            if !problems.is_empty() {
                text.push_str(&format!(" Not read: {}.", problems.join("; ")));
            }
            Ok(text)
        }
        other => Err(PluginError::user(format!("no action `{other}` here"))),
    }
}
