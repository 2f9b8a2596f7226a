//! Routes: `GET /gateway`, `GET /gateway/bot`.

use axum::http::Method;
use serde_json::json;

use super::{ApiError, Reply, Req};
use crate::simulator::Inner;

/// Answers the gateway routes.
pub(crate) fn route(inner: &Inner, req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    let url = inner.gateway_url();
    Some(match (req.method, req.segs.as_slice()) {
        (&Method::GET, ["gateway"]) => Reply::ok(json!({"url": url})),
        (&Method::GET, ["gateway", "bot"]) => Reply::ok(json!({
            "url": url,
            "shards": inner.config.recommended_shards.max(1),
            "session_start_limit": {
                "total": inner.config.session_start_limit,
                "remaining": inner.identify_limits().remaining(&inner.config),
                "reset_after": 86_400_000,
                "max_concurrency": inner.config.max_concurrency.max(1),
            },
        })),
        (_, ["gateway"] | ["gateway", "bot"]) => Err(ApiError::method_not_allowed()),
        _ => return None,
    })
}
