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
const TEMPLATES: [(&str, &str); 17] = [
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
];

/// The template environment (HTML-escaped by default).
pub fn templates() -> Result<minijinja::Environment<'static>, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_filter("bytes", |n: u64| size(n));
    env.add_filter("unixtime", |secs: u64| unix_time(secs));
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

/// `1.5 MiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `2025-01-31 12:00:00 UTC` of Unix seconds.
pub fn unix_time(secs: u64) -> String {
    let days = secs / 86_400;
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
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
