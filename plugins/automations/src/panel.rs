//! The automations page of the host's web dashboard: a server's automations (the bot's servers
//! as tabs) with their counters, on/off and delete, and a form that creates one from a
//! template — as `/hooks` does, with the same checks.

use zoryx_plugin_api::panel::{
    Block, Field, Form, Panel, PanelAction, PanelButton, PanelContext, TableRow, server_tabs, time,
};
use zoryx_plugin_api::{Host, PluginError, PluginResult};

use crate::settings::Settings;
use crate::store::{self, Automation};
use crate::templates::Template;
use crate::{Automations, PER_GUILD, find, make, remove, switch};

/// The page: the chosen server's automations, after the action taken, if any.
pub(crate) async fn show(ctx: PanelContext<Automations>) -> PluginResult<Panel> {
    let host: &Host = &ctx;
    let mut panel = Panel::new("Automations");
    let kept = store::guilds(host).await.unwrap_or_default();
    let Some((chosen, tabs)) = server_tabs(host, ctx.request(), &kept).await? else {
        panel.push(Block::text("The bot is in no server yet."));
        return Ok(panel);
    };
    panel.push(tabs);
    if let Some(action) = ctx.action() {
        let (ok, text) = match act(host, ctx.data(), chosen, ctx.request().user_id, action).await {
            Ok(text) => (true, text),
            Err(PluginError::User(why)) => (false, why),
            Err(other) => (false, other.to_string()),
        };
        panel.push(Block::notice(ok, text));
    }
    let all: Vec<Automation> = ctx
        .data()
        .of(host, chosen)
        .await?
        .iter()
        .filter_map(|l| l.get())
        .collect();
    panel.push(Block::fields([
        (
            "Automations",
            format!(
                "{} of at most {PER_GUILD}, {} on",
                all.len(),
                all.iter().filter(|a| a.enabled).count()
            ),
        ),
        ("Runs", all.iter().map(|a| a.runs).sum::<u64>().to_string()),
        (
            "Failures",
            all.iter().map(|a| a.failures).sum::<u64>().to_string(),
        ),
    ]));
    let rows = all.iter().map(row).collect();
    panel.push(Block::table(
        [
            "#",
            "Name",
            "Template",
            "State",
            "Runs",
            "Last run",
            "Failures",
            "Last error",
        ],
        rows,
        "No automations in this server yet.",
    ));
    if ctx.can_act() {
        panel.push(Block::heading("New automation"));
        panel.push(
            Form::new("create", "Create")
                .field(Field::select(
                    "template",
                    "Template",
                    Template::ALL.iter().map(|t| (t.name(), t.title())),
                ))
                .field(Field::text("name", "Name").required().max_length(32))
                .field(
                    Field::paragraph("settings", "Settings")
                        .max_length(4_000)
                        .help(
                            "key=value pairs, one a line (a value with spaces in quotes), as \
                             `/hooks create` takes them; the templates below list their keys.",
                        ),
                )
                .into(),
        );
    }
    panel.push(Block::heading("Templates"));
    panel.push(Block::table(
        ["Template", "What it does", "Settings"],
        Template::ALL
            .iter()
            .map(|t| {
                TableRow::new([
                    format!("{} ({})", t.title(), t.name()),
                    t.description().to_owned(),
                    t.keys()
                        .iter()
                        .map(|k| {
                            format!("{}{}", k.name, if k.required { " (required)" } else { "" })
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ])
            })
            .collect(),
        "",
    ));
    Ok(panel)
}

fn row(a: &Automation) -> TableRow {
    let state = match (&a.enabled, &a.disabled_reason) {
        (true, _) => "on".to_owned(),
        (false, Some(why)) => format!("off: {why}"),
        (false, None) => "off".to_owned(),
    };
    TableRow::new([
        format!("#{}", a.id),
        a.name.clone(),
        a.template.title().to_owned(),
        state,
        a.runs.to_string(),
        a.last_run.map(time).unwrap_or_default(),
        a.failures.to_string(),
        a.last_error.clone().unwrap_or_default(),
    ])
    .button(
        PanelButton::new(if a.enabled { "Turn off" } else { "Turn on" }, "toggle")
            .value("id", a.id),
    )
    .button(
        PanelButton::new("Delete", "delete")
            .value("id", a.id)
            .confirm(format!("Delete automation {}?", a.name))
            .danger(),
    )
}

/// Does `action` on `guild`'s automations for `user`; what happened.
async fn act(
    host: &Host,
    plugin: &Automations,
    guild: u64,
    user: u64,
    action: &PanelAction,
) -> PluginResult<String> {
    let named = || async {
        let key = action
            .value("id")
            .ok_or_else(|| PluginError::user("which automation?"))?;
        find(&plugin.of(host, guild).await?, &format!("#{key}"))
    };
    match action.name.as_str() {
        "create" => {
            let template_name = action.value("template").unwrap_or_default();
            let template = Template::named(template_name)
                .ok_or_else(|| PluginError::user(format!("`{template_name}` is not a template")))?;
            let raw = Settings::parse(action.value("settings").unwrap_or_default())?;
            let name = action.value("name").unwrap_or_default();
            let (automation, note) = make(host, plugin, guild, template, name, &raw, user).await?;
            Ok(format!(
                "Automation {} (#{}) created{}",
                automation.name,
                automation.id,
                note.map_or_else(|| ".".to_owned(), |n| format!(": {n}"))
            ))
        }
        "toggle" => {
            let automation = switch(host, plugin, guild, named().await?).await?;
            Ok(format!(
                "Automation {} is {}.",
                automation.name,
                if automation.enabled { "on" } else { "off" }
            ))
        }
        "delete" => {
            let automation = named().await?;
            remove(host, plugin, guild, &automation, user).await?;
            Ok(format!(
                "Automation {} (#{}) deleted.",
                automation.name, automation.id
            ))
        }
        other => Err(PluginError::user(format!("no action `{other}` here"))),
    }
}
