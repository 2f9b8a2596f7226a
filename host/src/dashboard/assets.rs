//! What is embedded in the binary: the templates, the stylesheet, the dashboard's script and the
//! vendored htmx with its SSE extension (`assets/vendor/`, see its README). Assets are served by
//! exact name from a fixed list, so no request can name a file on disk.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `/static/NAME` → content type and bytes.
const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/dashboard.css"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/dashboard.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/vendor/htmx-2.0.4.min.js"),
    ),
    (
        "htmx-ext-sse.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/vendor/htmx-ext-sse-2.2.2.js"),
    ),
];

/// The templates, by name.
const TEMPLATES: [(&str, &str); 25] = [
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("overview.html", include_str!("templates/overview.html")),
    (
        "overview_figures.html",
        include_str!("templates/overview_figures.html"),
    ),
    ("plugins.html", include_str!("templates/plugins.html")),
    (
        "plugins_table.html",
        include_str!("templates/plugins_table.html"),
    ),
    ("commands.html", include_str!("templates/commands.html")),
    ("shards.html", include_str!("templates/shards.html")),
    ("system.html", include_str!("templates/system.html")),
    ("logs.html", include_str!("templates/logs.html")),
    ("log_line.html", include_str!("templates/log_line.html")),
    ("config.html", include_str!("templates/config.html")),
    ("databases.html", include_str!("templates/databases.html")),
    ("guilds.html", include_str!("templates/guilds.html")),
    ("security.html", include_str!("templates/security.html")),
    ("invite.html", include_str!("templates/invite.html")),
    ("credits.html", include_str!("templates/credits.html")),
    ("panel.html", include_str!("templates/panel.html")),
    ("panel_body.html", include_str!("templates/panel_body.html")),
    (
        "panel_button.html",
        include_str!("templates/panel_button.html"),
    ),
    ("hooks.html", include_str!("templates/hooks.html")),
    (
        "hooks_table.html",
        include_str!("templates/hooks_table.html"),
    ),
    ("chat.html", include_str!("templates/chat.html")),
    ("chat_panel.html", include_str!("templates/chat_panel.html")),
    (
        "database_browse.html",
        include_str!("templates/database_browse.html"),
    ),
];

/// The template environment (HTML-escaped by default).
pub fn templates() -> Result<minijinja::Environment<'static>, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_filter("bytes", |n: u64| size(n));
    env.add_filter("unixtime", |secs: u64| unix_time(secs));
    env.add_filter("query", |view: minijinja::Value| {
        let pairs: std::collections::BTreeMap<String, String> = view
            .try_iter()
            .into_iter()
            .flatten()
            .filter_map(|key| {
                let value = view.get_item(&key).ok()?;
                Some((key.to_string(), value.to_string()))
            })
            .collect();
        super::panels::query_of(&pairs)
    });
    env.add_filter("urlencode", |text: String| super::oauth::encode(&text));
    Ok(env)
}

/// `GET /static/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, bytes)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// `1.5 MiB`: the one byte-size format of the host's reports.
pub use crate::storage::db::report::human_bytes as size;

/// `2025-01-31 12:00:00 UTC` of Unix seconds.
pub fn unix_time(secs: u64) -> String {
    let rest = secs % 86_400;
    let (year, month, day) = crate::clock::civil_date(i64::try_from(secs / 86_400).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_figures_read_well() {
        templates().expect("templates");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(unix_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(unix_time(1_709_210_096), "2024-02-29 12:34:56 UTC");
    }
}
