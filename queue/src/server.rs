//! The HTTP side of the queue: twilight's gateway-queue protocol on axum.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::net::TcpListener;
use tokio::sync::watch;
use twilight_gateway_queue::Queue;

use crate::error::QueueError;

/// The body of the answer that lets a shard IDENTIFY, byte for byte as twilight's
/// gateway-queue service sends it.
pub const PROCESSED: &str = r#"{"message": "You're free to connect now! :)"}"#;

/// The path that answers `200` at once instead of queueing.
pub const HEALTH_PATH: &str = "/health";

/// What every handler shares.
struct Shared<Q> {
    /// The queue.
    queue: Q,
    /// Turns `true` when the server shuts down.
    shutdown: watch::Receiver<bool>,
}

/// The queue's routes, to serve or to nest in another axum app: [`HEALTH_PATH`], and every
/// other path and method as the queue (see the [crate] docs for the protocol).
///
/// Requests waiting in a router made this way are only ended by their clients; use
/// [`serve_with_shutdown`] to answer them `503` on shutdown.
pub fn router<Q>(queue: Q) -> Router
where
    Q: Queue + Send + Sync + 'static,
{
    // The sender is dropped: `until_shutdown` then never fires.
    let (_tx, rx) = watch::channel(false);
    router_with(queue, rx)
}

/// [`router`] whose waiting requests end when `shutdown` turns `true`.
fn router_with<Q>(queue: Q, shutdown: watch::Receiver<bool>) -> Router
where
    Q: Queue + Send + Sync + 'static,
{
    let shared = Arc::new(Shared { queue, shutdown });
    Router::new()
        .route(HEALTH_PATH, any(health))
        .fallback(enqueue::<Q>)
        .with_state(shared)
}

/// Serves the queue on `listener` until the process ends or the server fails.
pub async fn serve<Q>(listener: TcpListener, queue: Q) -> Result<(), QueueError>
where
    Q: Queue + Send + Sync + 'static,
{
    serve_with_shutdown(listener, queue, std::future::pending()).await
}

/// Serves the queue on `listener` until `shutdown` completes: then requests still waiting are
/// answered `503` (clients retry elsewhere or later), and the server stops when their answers
/// are sent.
pub async fn serve_with_shutdown<Q, F>(
    listener: TcpListener,
    queue: Q,
    shutdown: F,
) -> Result<(), QueueError>
where
    Q: Queue + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = watch::channel(false);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "gateway queue listening");
    }
    axum::serve(listener, router_with(queue, rx))
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("gateway queue shutting down");
            // Nobody listening is fine: no request was waiting.
            let _ = tx.send(true);
        })
        .await
        .map_err(QueueError::Serve)
}

/// `GET /health`.
async fn health() -> Response {
    json_response(StatusCode::OK, r#"{"status": "ok"}"#.to_owned())
}

/// Completes once the shutdown flag turns `true`; never if its sender is gone unset.
async fn until_shutdown(mut rx: watch::Receiver<bool>) {
    if rx.wait_for(|stopping| *stopping).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Logs a request that ended before its turn (its client left or the server stopped).
struct WaitGuard {
    /// The shard waiting.
    shard: u32,
    /// Set once the request has its answer.
    done: bool,
}

impl Drop for WaitGuard {
    fn drop(&mut self) {
        if !self.done {
            tracing::debug!(shard = self.shard, "queue request ended before its turn");
        }
    }
}

/// Every path but [`HEALTH_PATH`]: wait for the shard's turn.
async fn enqueue<Q>(
    State(shared): State<Arc<Shared<Q>>>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response
where
    Q: Queue + Send + Sync + 'static,
{
    let shard = match parse_shard(query) {
        Ok(shard) => shard,
        Err(message) => {
            tracing::debug!(%message, "bad queue request");
            return json_response(StatusCode::BAD_REQUEST, message_json(&message));
        }
    };
    tracing::debug!(shard, "shard waiting to identify");
    let mut guard = WaitGuard { shard, done: false };
    let turn = shared.queue.enqueue(shard);
    let response = tokio::select! {
        released = turn => match released {
            Ok(()) => {
                tracing::info!(shard, "shard may identify");
                json_response(StatusCode::OK, PROCESSED.to_owned())
            }
            Err(_) => {
                tracing::warn!(shard, "the queue dropped a waiting shard");
                json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    message_json("the queue dropped this request; ask again"),
                )
            }
        },
        () = until_shutdown(shared.shutdown.clone()) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            message_json("the queue is shutting down; ask again"),
        ),
    };
    guard.done = true;
    response
}

/// The `shard` query parameter, or why it is unusable.
fn parse_shard(
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<u32, String> {
    let Query(params) = query.map_err(|error| format!("malformed query string: {error}"))?;
    let raw = params
        .get("shard")
        .ok_or_else(|| "missing `shard` query parameter: ask GET /?shard=N".to_owned())?;
    raw.trim().parse::<u32>().map_err(|_| {
        format!("invalid `shard` query parameter {raw:?}: expected an integer from 0 to 4294967295")
    })
}

/// `{"message": message}`.
fn message_json(message: &str) -> String {
    serde_json::json!({ "message": message }).to_string()
}

/// A JSON answer.
fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
