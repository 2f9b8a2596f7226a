//! The plugins' own pages ([`zoryx_plugin_api::panel`]): `GET /panels/{plugin}/{panel}` asks the
//! plugin's handler for the page; `POST` the same address takes one of its actions (a button, a
//! form) and answers with the page as it is after it, for htmx to swap in.
//!
//! The plugin describes the page; the host renders it (`panel_body.html`, everything escaped) and
//! bounds it: at most [`MAX_BLOCKS`] blocks, [`MAX_ROWS`] rows a table, [`MAX_TEXT`] characters a
//! text. Buttons and forms are shown only to roles with `panels.act`, and the guard refuses an
//! action from anyone else before the plugin hears of it. Every action is audited.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use zoryx_plugin_api::panel::{
    Block, MAX_BLOCKS, MAX_ROWS, Panel, PanelAction, PanelRequest, PanelSpec,
};

use super::App;
use super::access::Permission;
use super::routes::{Current, refusal};

/// The longest text a cell, field or paragraph shows; the rest is cut with `…`.
pub const MAX_TEXT: usize = 4_000;
/// The most navigation values an address carries, and their longest length.
const MAX_VIEW: (usize, usize) = (16, 200);
/// The most values an action carries.
const MAX_VALUES: usize = 64;

/// The pages of every loaded plugin, for the menu: `(href, title)`.
pub(crate) fn menu(app: &App) -> Vec<(String, String)> {
    app.sources
        .manager
        .dispatcher()
        .panels()
        .into_iter()
        .map(|(plugin, spec)| (format!("/panels/{plugin}/{}", spec.id), spec.title))
        .collect()
}

fn cut(text: &mut String) {
    if text.chars().count() > MAX_TEXT {
        *text = text.chars().take(MAX_TEXT).collect::<String>() + "…";
    }
}

/// `panel` within the dashboard's bounds.
fn bounded(mut panel: Panel) -> Panel {
    cut(&mut panel.title);
    if panel.blocks.len() > MAX_BLOCKS {
        let cut_blocks = panel.blocks.len() - MAX_BLOCKS;
        panel.blocks.truncate(MAX_BLOCKS);
        panel.blocks.push(Block::notice(
            false,
            format!("{cut_blocks} more parts of this page are not shown."),
        ));
    }
    let mut extra = Vec::new();
    for block in &mut panel.blocks {
        match block {
            Block::Heading { text } | Block::Text { text } | Block::Notice { text, .. } => {
                cut(text);
            }
            Block::Fields { fields } => {
                fields.truncate(MAX_ROWS);
                for (name, value) in fields {
                    cut(name);
                    cut(value);
                }
            }
            Block::Table { columns, rows, .. } => {
                if rows.len() > MAX_ROWS {
                    extra.push(rows.len() - MAX_ROWS);
                    rows.truncate(MAX_ROWS);
                }
                columns.iter_mut().for_each(cut);
                for row in rows {
                    row.cells.iter_mut().for_each(cut);
                }
            }
            Block::Buttons { .. } | Block::Form(_) | Block::Links { .. } => {}
        }
    }
    for rows in extra {
        panel.blocks.push(Block::notice(
            false,
            format!("{rows} more rows are not shown."),
        ));
    }
    panel
}

/// The page's navigation from the address's query, refused when too big.
fn view_of(query: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (query.len() <= MAX_VIEW.0
        && query
            .iter()
            .all(|(k, v)| k.len() <= MAX_VIEW.1 && v.len() <= MAX_VIEW.1))
    .then_some(query)
}

/// A page's navigation as an address's query (`guild=1&page=2`): the address's query again,
/// for the page's forms to post to, and the `query` filter of the templates for its links.
pub(crate) fn query_of(view: &BTreeMap<String, String>) -> String {
    view.iter()
        .map(|(k, v)| format!("{}={}", super::oauth::encode(k), super::oauth::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What the plugin is asked, for `current`.
fn request(
    current: &Current,
    panel: &str,
    view: BTreeMap<String, String>,
    action: Option<PanelAction>,
) -> PanelRequest {
    let session = current.session();
    PanelRequest {
        panel: panel.to_owned(),
        user_id: session.map_or(0, |s| s.user_id),
        user: session.map(|s| s.user_name.clone()).unwrap_or_default(),
        role: current
            .role
            .as_ref()
            .map(|r| r.name().to_owned())
            .unwrap_or_default(),
        can_act: current.can(Permission::PanelsAct),
        view,
        action,
    }
}

/// Asks the plugin; the page, or why there is none (the status and the message).
async fn ask(
    app: &App,
    plugin: &str,
    request: &PanelRequest,
) -> Result<Panel, (StatusCode, String)> {
    let name = crate::manager::normalise(plugin);
    if !PanelSpec::valid_id(&name) || !PanelSpec::valid_id(&request.panel) {
        return Err((StatusCode::NOT_FOUND, "No such page.".to_owned()));
    }
    match app.sources.manager.dispatcher().panel(&name, request).await {
        None => Err((
            StatusCode::NOT_FOUND,
            format!(
                "No page `{}` from a loaded plugin `{name}` (it may have been unloaded).",
                request.panel
            ),
        )),
        Some(Ok(panel)) => Ok(bounded(panel)),
        Some(Err(error)) => {
            tracing::warn!(plugin = name, panel = request.panel, %error, "dashboard panel failed");
            Err((
                StatusCode::BAD_GATEWAY,
                format!("The {name} plugin could not show this page: {error}"),
            ))
        }
    }
}

/// The values the template needs besides the frame.
fn values(
    app: &App,
    plugin: &str,
    request: &PanelRequest,
    panel: &Panel,
    failed: Option<String>,
) -> minijinja::Value {
    let name = crate::manager::normalise(plugin);
    let base = format!("/panels/{name}/{}", request.panel);
    let query = query_of(&request.view);
    let post = if query.is_empty() {
        base.clone()
    } else {
        format!("{base}?{query}")
    };
    let menu_title = app
        .sources
        .manager
        .dispatcher()
        .panels()
        .into_iter()
        .find(|(p, spec)| *p == name && spec.id == request.panel)
        .map(|(_, spec)| spec.title)
        .unwrap_or_default();
    context! {
        panel => Serde(panel),
        plugin => name,
        panel_id => request.panel.clone(),
        menu_title,
        base,
        post,
        can_act => request.can_act,
        failed,
    }
}

/// `GET /panels/{plugin}/{panel}?VIEW`.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path((plugin, id)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(view) = view_of(query) else {
        return refusal(StatusCode::BAD_REQUEST, "The address is too long.", false);
    };
    let request = request(&current, &id, view, None);
    let page = format!("/panels/{}/{id}", crate::manager::normalise(&plugin));
    match ask(&app, &plugin, &request).await {
        Ok(panel) => {
            let ctx = values(&app, &plugin, &request, &panel, None);
            super::pages::render(&app, &current, "panel.html", &page, ctx)
        }
        Err((status, message)) if status == StatusCode::NOT_FOUND => {
            refusal(status, &message, false)
        }
        Err((status, message)) => {
            let ctx = values(&app, &plugin, &request, &Panel::default(), Some(message));
            let mut response = super::pages::render(&app, &current, "panel.html", &page, ctx);
            *response.status_mut() = status;
            response
        }
    }
}

/// `POST /panels/{plugin}/{panel}?VIEW` with `_action` and the action's values: the page after
/// it (the `#panel` fragment).
pub(crate) async fn act(
    State(app): State<Arc<App>>,
    Extension(current): Extension<Current>,
    Path((plugin, id)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(view) = view_of(query) else {
        return refusal(StatusCode::BAD_REQUEST, "The address is too long.", true);
    };
    let mut name = None;
    let mut sent = BTreeMap::new();
    for (key, value) in form {
        if key == "_action" {
            name = Some(value);
        } else {
            sent.insert(key, value);
        }
    }
    let Some(name) = name.filter(|n| !n.is_empty() && n.len() <= 64) else {
        return refusal(StatusCode::BAD_REQUEST, "No action was named.", true);
    };
    if sent.len() > MAX_VALUES {
        return refusal(StatusCode::BAD_REQUEST, "Too many values.", true);
    }
    let target = format!("{}/{id}", crate::manager::normalise(&plugin));
    let action = PanelAction {
        name: name.clone(),
        values: sent,
    };
    let request = request(&current, &id, view, Some(action));
    let answer = ask(&app, &plugin, &request).await;
    // The plugin's own red notice is the action's outcome as it saw it.
    let outcome = match &answer {
        Ok(panel) => panel
            .blocks
            .iter()
            .find_map(|b| match b {
                Block::Notice { ok: false, text } => Some(format!("failed: {text}")),
                _ => None,
            })
            .unwrap_or_else(|| "ok".to_owned()),
        Err((_, message)) => format!("failed: {message}"),
    };
    super::actions::record(&app, &current, &format!("panels.{name}"), &target, &outcome).await;
    let (panel, failed, status) = match answer {
        Ok(panel) => (panel, None, StatusCode::OK),
        Err((status, message)) => (Panel::default(), Some(message), status),
    };
    let ctx = values(&app, &plugin, &request, &panel, failed);
    let rendered = app
        .templates
        .get_template("panel_body.html")
        .and_then(|t| t.render(ctx));
    match rendered {
        // A failure still answers 200 so htmx swaps the page in, with its message.
        Ok(html) => (
            if status == StatusCode::NOT_FOUND {
                status
            } else {
                StatusCode::OK
            },
            Html(html),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "dashboard panel template failed");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be shown (see the host's log).",
                true,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoryx_plugin_api::panel::TableRow;

    #[test]
    fn pages_are_bounded() {
        let rows = (0..MAX_ROWS + 3)
            .map(|i| TableRow::new([i.to_string()]))
            .collect();
        let mut panel = Panel::new("x".repeat(MAX_TEXT + 10)).block(Block::table(["n"], rows, ""));
        for _ in 0..MAX_BLOCKS {
            panel.push(Block::text("t"));
        }
        let panel = bounded(panel);
        assert_eq!(panel.title.chars().count(), MAX_TEXT + 1);
        assert!(matches!(&panel.blocks[0], Block::Table { rows, .. } if rows.len() == MAX_ROWS));
        assert_eq!(panel.blocks.len(), MAX_BLOCKS + 2, "two notices added");
    }

    #[test]
    fn every_block_renders_escaped() {
        use zoryx_plugin_api::panel::{Field, Form, Link, PanelButton};
        let panel = Panel::new("<T>")
            .block(Block::heading("h"))
            .block(Block::text("a <b>"))
            .block(Block::notice(false, "bad"))
            .block(Block::fields([("k", "v".to_owned())]))
            .block(Block::table(
                ["c"],
                vec![
                    TableRow::new(["x"]).button(
                        PanelButton::new("Go", "go")
                            .value("id", 1)
                            .confirm("Sure?")
                            .danger(),
                    ),
                ],
                "none",
            ))
            .block(Block::buttons([PanelButton::new("B", "b")]))
            .block(
                Form::new("f", "Send")
                    .hidden("h", 2)
                    .field(Field::text("t", "T").value("\"x\"").required())
                    .field(Field::paragraph("p", "P").max_length(10))
                    .field(Field::number("n", "N"))
                    .field(Field::select("s", "S", [("a", "A"), ("b", "B")]).value("b"))
                    .field(Field::checkbox("c", "C").checked(true).help("hint"))
                    .into(),
            )
            .block(Block::links([Link::new("L").view("guild", 1).active(true)]));
        let html = super::super::assets::templates()
            .expect("templates")
            .get_template("panel_body.html")
            .and_then(|t| {
                t.render(context! {
                    panel => Serde(&panel), plugin => "p", panel_id => "i", menu_title => "M",
                    base => "/panels/p/i", post => "/panels/p/i?guild=1", can_act => true,
                    failed => None::<String>,
                })
            })
            .expect("renders");
        assert!(
            html.contains("&lt;T&gt;") && html.contains("a &lt;b&gt;") && !html.contains("<b>")
        );
        assert!(
            html.contains("name=\"_action\" value=\"go\"") && html.contains("hx-confirm=\"Sure?\"")
        );
        assert!(html.contains("<option value=\"b\" selected>"), "{html}");
        assert!(
            html.contains("type=\"checkbox\" name=\"c\" checked"),
            "{html}"
        );
        assert!(html.contains("guild=1"), "{html}");
    }

    #[test]
    fn views_are_bounded_and_post_back() {
        let mut view = BTreeMap::new();
        view.insert("guild".to_owned(), "1 2&x".to_owned());
        assert_eq!(query_of(&view), "guild=1%202%26x");
        view.insert("long".to_owned(), "y".repeat(201));
        assert_eq!(view_of(view), None);
    }
}
