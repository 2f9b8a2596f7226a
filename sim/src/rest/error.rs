//! Discord's error answers.

use serde_json::{Value, json};

/// An error answer: status and Discord's JSON error body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// JSON body (`{"message": .., "code": ..}`, plus `errors` for 50035).
    pub body: Value,
}

impl ApiError {
    /// 404 for an unknown route.
    pub fn not_found() -> Self {
        Self {
            status: 404,
            body: json!({"message": "404: Not Found", "code": 0}),
        }
    }

    /// 404 for an unknown entity (`Unknown Channel`, code 10003, ...).
    pub fn unknown(what: &str, code: u32) -> Self {
        Self {
            status: 404,
            body: json!({"message": format!("Unknown {what}"), "code": code}),
        }
    }

    /// 401 for a missing or wrong token.
    pub fn unauthorized() -> Self {
        Self {
            status: 401,
            body: json!({"message": "401: Unauthorized", "code": 0}),
        }
    }

    /// 403 Missing Access / Permissions.
    pub fn forbidden(message: &str, code: u32) -> Self {
        Self {
            status: 403,
            body: json!({"message": message, "code": code}),
        }
    }

    /// 403 Missing Permissions (50013).
    pub fn missing_permissions() -> Self {
        Self::forbidden("Missing Permissions", 50013)
    }

    /// 403 Missing Access (50001): the bot cannot see the channel.
    pub fn missing_access() -> Self {
        Self::forbidden("Missing Access", 50001)
    }

    /// 405 for a known path with a wrong method.
    pub fn method_not_allowed() -> Self {
        Self {
            status: 405,
            body: json!({"message": "405: Method Not Allowed", "code": 0}),
        }
    }

    /// 400 Invalid Form Body (code 50035) with one field error.
    pub fn invalid_form(field: &str, code: &str, message: &str) -> Self {
        let mut errors = json!({"_errors": [{"code": code, "message": message}]});
        for part in field.rsplit('.').filter(|p| !p.is_empty()) {
            errors = json!({ part: errors });
        }
        Self {
            status: 400,
            body: json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}),
        }
    }

    /// 413 for a body past the upload limit (40005).
    pub fn entity_too_large() -> Self {
        Self {
            status: 413,
            body: json!({"message": "Request entity too large", "code": 40005}),
        }
    }

    /// 400 for a body that is not JSON.
    pub fn bad_json() -> Self {
        Self {
            status: 400,
            body: json!({"message": "400: Bad Request", "code": 50109}),
        }
    }

    /// 400 for a request Discord refuses with a specific code (e.g. 50006 Cannot send an
    /// empty message, 40060 Interaction has already been acknowledged).
    pub fn bad_request(message: &str, code: u32) -> Self {
        Self {
            status: 400,
            body: json!({"message": message, "code": code}),
        }
    }
}
