//! The simulated CDN, on the simulator's own listener: what `https://cdn.discordapp.com` and
//! `https://media.discordapp.net` serve, under the same paths, for a host that rewrites those
//! origins to [`crate::Simulator::cdn_url`] (keeping path and query).
//!
//! - `GET /attachments/{channel_id}/{attachment_id}/{filename}`: a message's file;
//! - `GET /ephemeral-attachments/{application_id}/{attachment_id}/{filename}`: a file a user
//!   uploaded for a slash command's attachment option;
//! - `GET /emojis/{emoji_id}.{png|gif|webp|jpg|jpeg|avif}`: a custom emoji's image.
//!
//! Query strings (`?size=96&quality=lossless`, signed-URL parameters) are ignored. Answers
//! carry `Content-Type` and `Content-Length`; anything unknown, or a file stored without
//! contents ([`crate::Simulator::inject_files`], [`crate::Simulator::upload`]), is a plain-text
//! 404. No `Authorization` is needed and these requests are not in
//! [`crate::Simulator::requests`] (they are not API calls). Files stay served after their
//! message or emoji is deleted (see [`crate::world::cdn`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;

use crate::simulator::Inner;

/// `GET /attachments/{channel}/{id}/{filename}`.
pub(crate) async fn attachment(
    State(inner): State<Arc<Inner>>,
    Path((channel, id, filename)): Path<(String, String, String)>,
) -> Response {
    let (Ok(channel), Ok(id)) = (channel.parse::<u64>(), id.parse::<u64>()) else {
        return not_found();
    };
    file(&inner, Some(channel), id, &filename)
}

/// `GET /ephemeral-attachments/{application}/{id}/{filename}`.
pub(crate) async fn ephemeral_attachment(
    State(inner): State<Arc<Inner>>,
    Path((_owner, id, filename)): Path<(String, String, String)>,
) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    file(&inner, None, id, &filename)
}

fn file(inner: &Inner, channel: Option<u64>, id: u64, filename: &str) -> Response {
    let found = inner.world().cdn.file(channel, id, filename).map(|f| {
        let kind = f
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        (kind, f.data.clone())
    });
    match found {
        Some((kind, data)) => bytes(&kind, &data),
        None => not_found(),
    }
}

/// `GET /emojis/{id}.{ext}`: the stored image whatever the extension asks for (the real CDN
/// converts; the simulator answers the uploaded format and says so in `Content-Type`).
pub(crate) async fn emoji(State(inner): State<Arc<Inner>>, Path(file): Path<String>) -> Response {
    let Some((id, ext)) = file.rsplit_once('.') else {
        return not_found();
    };
    if !matches!(ext, "png" | "gif" | "webp" | "jpg" | "jpeg" | "avif") {
        return not_found();
    }
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let image = inner
        .world()
        .cdn
        .emojis
        .get(&id)
        .map(|i| (i.content_type, i.data.clone()));
    match image {
        Some((kind, data)) => bytes(kind, &data),
        None => not_found(),
    }
}

fn bytes(content_type: &str, data: &Arc<[u8]>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, data.len())
        .header(header::CACHE_CONTROL, "public, max-age=31536000")
        .body(Body::from(data.to_vec()))
        .unwrap_or_else(|_| not_found())
}

/// The CDN's 404: a plain-text body, as the real CDN answers.
pub(crate) fn not_found() -> Response {
    let mut response = Response::new(Body::from("404: Not Found"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
