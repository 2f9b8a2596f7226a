//! Routes: webhooks.

use super::{ApiError, Reply, Req};
use crate::simulator::Inner;

/// Answers the webhooks routes; `None` when the path is not one of them.
pub(crate) fn route(_inner: &Inner, _req: &Req<'_>) -> Option<Result<Reply, ApiError>> {
    None
}
