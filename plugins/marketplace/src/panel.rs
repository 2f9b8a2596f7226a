//! The marketplace's page on the host's web dashboard: the index's plugins by category, what is
//! installed, and install / update / remove / refresh — through [`Host::market`], which refuses
//! anyone but a bot owner and runs every check before a library reaches `extensions/`.

use zoryx_plugin_api::market::{MarketPlugin, MarketReport, MarketRequest};
use zoryx_plugin_api::panel::{
    Block, Field, Form, Link, Panel, PanelAction, PanelButton, PanelContext, TableRow,
};
use zoryx_plugin_api::{Host, PluginError, PluginResult, UserId};

use crate::{ALL, Marketplace, categories, footer, size_text, state_of};

/// The page, after the action taken, if any.
pub(crate) async fn show(ctx: PanelContext<Marketplace>) -> PluginResult<Panel> {
    let host: &Host = &ctx;
    let user = UserId(ctx.request().user_id);
    let mut panel = Panel::new("Plugin marketplace");
    // Searching only filters the list: no action to report.
    let searched = ctx
        .action()
        .filter(|a| a.name == "search")
        .map(|a| a.value("q").unwrap_or_default().to_lowercase());
    if let Some(action) = ctx.action().filter(|_| searched.is_none()) {
        match act(host, user, action).await {
            Ok(report) => {
                let mut text = if report.message.is_empty() {
                    "Done.".to_owned()
                } else {
                    report.message.clone()
                };
                if !report.changes.is_empty() {
                    text.push_str(&format!(" {}", report.changes.join("; ")));
                }
                panel.push(Block::notice(true, text));
            }
            Err(PluginError::User(why)) => panel.push(Block::notice(false, why)),
            Err(other) => panel.push(Block::notice(false, other.to_string())),
        }
    }
    let report = match host.market(user, MarketRequest::List, None).await {
        Ok(report) => report,
        Err(error) => {
            panel.push(Block::notice(false, error.to_string()));
            return Ok(panel);
        }
    };
    let category = ctx.view("category").unwrap_or(ALL).to_owned();
    let query = searched.filter(|q| !q.is_empty());
    panel.push(Block::text(footer(&report)));
    let mut tabs = vec![Link::new("All").active(category == ALL)];
    tabs.extend(categories(&report).into_iter().map(|c| {
        Link::new(c.clone())
            .view("category", &c)
            .active(c == category)
    }));
    panel.push(Block::links(tabs));
    panel.push(
        Form::new("search", "Search")
            .field(
                Field::text("q", "Search the index")
                    .value(query.clone().unwrap_or_default())
                    .max_length(100),
            )
            .into(),
    );
    let shown: Vec<&MarketPlugin> = report
        .plugins
        .iter()
        .filter(|p| category == ALL || p.category == category)
        .filter(|p| {
            query.as_ref().is_none_or(|q| {
                p.name.to_lowercase().contains(q) || p.description.to_lowercase().contains(q)
            })
        })
        .collect();
    let can_act = ctx.can_act();
    panel.push(Block::table(
        [
            "Plugin", "Version", "Category", "State", "Size", "Needs", "About",
        ],
        shown.iter().map(|p| row(p, can_act)).collect(),
        "No plugin here.",
    ));
    if can_act {
        panel.push(Block::buttons([PanelButton::new(
            "Fetch the index again",
            "refresh",
        )]));
    }
    Ok(panel)
}

fn row(p: &MarketPlugin, can_act: bool) -> TableRow {
    let mut row = TableRow::new([
        p.name.clone(),
        p.version.clone(),
        p.category.clone(),
        format!(
            "{}{}",
            state_of(p),
            p.pinned
                .as_ref()
                .map(|v| format!(" · pinned {v}"))
                .unwrap_or_default()
        ),
        size_text(p.size),
        p.dependencies
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        p.description.clone(),
    ]);
    if !can_act {
        return row;
    }
    match &p.installed {
        None if p.compatible => {
            row = row.button(
                PanelButton::new("Install", "install")
                    .value("name", &p.name)
                    .confirm(format!(
                        "Install {} {}? It is checked (signature, SHA-256, a trial load) before it \
                         is loaded.",
                        p.name, p.version
                    ))
                    .primary(),
            );
        }
        None => {}
        Some(have) => {
            if *have != p.version {
                row = row.button(PanelButton::new("Update", "update").value("name", &p.name));
            }
            row = row.button(
                PanelButton::new("Remove", "remove")
                    .value("name", &p.name)
                    .confirm(format!("Unload and remove {}?", p.name))
                    .danger(),
            );
        }
    }
    row
}

/// Does `action` for `user` (the host refuses anyone but a bot owner).
async fn act(host: &Host, user: UserId, action: &PanelAction) -> PluginResult<MarketReport> {
    let name = || {
        action
            .value("name")
            .map(str::to_owned)
            .ok_or_else(|| PluginError::user("which plugin?"))
    };
    let request = match action.name.as_str() {
        "install" => MarketRequest::Install {
            name: name()?,
            version: None,
        },
        "update" => MarketRequest::Update { name: name()? },
        "remove" => MarketRequest::Remove { name: name()? },
        "refresh" => MarketRequest::Refresh,
        other => return Err(PluginError::user(format!("no action `{other}` here"))),
    };
    host.market(user, request, None).await
}
