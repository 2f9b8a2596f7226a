//! Server-Sent Events: the overview's figures every [`FIGURES_EVERY`] while a page is open, and
//! the log tail as lines are logged. Each event carries an HTML fragment the htmx SSE extension
//! swaps in. Streams end when the dashboard stops; nothing runs while no page listens.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::App;
use super::pages::{LogFilter, figures};

/// How often the overview's figures are sent.
pub const FIGURES_EVERY: Duration = Duration::from_secs(2);

fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `GET /live/overview`: `stats` events.
pub(crate) async fn overview(
    State(app): State<Arc<App>>,
    Extension(stop): Extension<CancellationToken>,
) -> Response {
    let mut tick = tokio::time::interval(FIGURES_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = stream::unfold((app, tick, stop), |(app, mut tick, stop)| async move {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return None,
        }
        let figures = figures(&app).await;
        let html = app
            .templates
            .get_template("overview_figures.html")
            .and_then(|t| {
                t.render(minijinja::context! { figures => minijinja::value::Serde(figures) })
            })
            .unwrap_or_default();
        let event = Event::default().event("stats").data(html);
        Some((Ok(event), (app, tick, stop)))
    });
    sse(stream)
}

/// `GET /live/logs?level=&plugin=`: a `line` event per new log line that passes the filters.
pub(crate) async fn logs(
    State(app): State<Arc<App>>,
    Extension(stop): Extension<CancellationToken>,
    Query(filter): Query<LogFilter>,
) -> Response {
    let Some(tail) = app.sources.logs.clone() else {
        return sse(stream::empty());
    };
    let feed = tail.subscribe();
    let stream = stream::unfold(
        (app, feed, stop, filter),
        |(app, mut feed, stop, filter)| async move {
            loop {
                let next = tokio::select! {
                    next = feed.recv() => next,
                    () = stop.cancelled() => return None,
                };
                let line = match next {
                    Ok(line) if filter.keeps(&line) => line,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => crate::logging::LogLine {
                        id: 0,
                        time: String::new(),
                        level: "WARN",
                        target: "dashboard".to_owned(),
                        plugin: None,
                        text: format!("{missed} lines went by too fast to show"),
                    },
                    Err(RecvError::Closed) => return None,
                };
                let html = app
                    .templates
                    .get_template("log_line.html")
                    .and_then(|t| {
                        t.render(minijinja::context! { line => minijinja::value::Serde(line) })
                    })
                    .unwrap_or_default();
                let event = Event::default().event("line").data(html);
                return Some((Ok(event), (app, feed, stop, filter)));
            }
        },
    );
    sse(stream)
}
