//! # zoryx-openapi
//!
//! Validation of REST bodies against Discord's official OpenAPI 3.1 spec, for the tests of the
//! simulator and the host (a dev-dependency only, so it never changes how the bot is built).
//!
//! [`Spec`] matches a method and a concrete path (`/api/v10/channels/123/messages`) to the
//! spec's operation (`POST /channels/{channel_id}/messages`), then validates a request body
//! against its `requestBody` schema or a response body against the schema of the answered
//! status (exact, then `2XX`-style, then `default`). Schemas are JSON Schema 2020-12; each is
//! compiled once, as a document that embeds the spec's `components` so `#/components/...`
//! references resolve.
//!
//! The spec is not part of the repository. [`locate`] finds it: the file named by
//! `ZORYX_DISCORD_OPENAPI` if set, else `../shared/discord-api-spec/openapi.json` beside the
//! repository. [`load_or_skip`] is what a test calls: the spec, or `None` with a notice on
//! stderr when there is none, so a plain clone runs every other check.
//!
//! ```no_run
//! let Some(spec) = zoryx_openapi::load_or_skip("example") else { return };
//! let body = serde_json::json!({"content": "hi"});
//! spec.validate_request("POST", "/api/v10/channels/1234/messages", &body).expect("valid");
//! ```

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::Value;

/// The variable naming the spec file.
pub const SPEC_ENV: &str = "ZORYX_DISCORD_OPENAPI";

/// The spec's place beside the repository: `<repo>/../shared/discord-api-spec/openapi.json`.
pub fn shared_path() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let beside_repository = manifest.parent().and_then(Path::parent).unwrap_or(manifest);
    beside_repository.join("shared/discord-api-spec/openapi.json")
}

/// Where the spec is: the file named by `ZORYX_DISCORD_OPENAPI` when that is set (whether or not
/// it exists, so a wrong setting fails instead of skipping), else [`shared_path`] when it
/// exists, else `None`.
pub fn locate() -> Option<PathBuf> {
    locate_from(std::env::var_os(SPEC_ENV), shared_path())
}

/// [`locate`] with the variable's value and the shared path given.
fn locate_from(variable: Option<std::ffi::OsString>, shared: PathBuf) -> Option<PathBuf> {
    match variable {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => Some(shared).filter(|p| p.is_file()),
    }
}

/// The spec for the checks named by `what`, loaded once per process; `None`, with a notice on
/// stderr, when [`locate`] finds none. A spec that is named but cannot be read or parsed
/// panics: a configured check must never be skipped silently.
pub fn load_or_skip(what: &str) -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    let spec = SPEC.get_or_init(|| {
        let path = locate()?;
        match Spec::load(&path) {
            Ok(spec) => Some(spec),
            Err(error) => panic!("{error} (set by {SPEC_ENV} or found beside the repository)"),
        }
    });
    if spec.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "notice: skipping {what}: Discord's OpenAPI spec is not here (set {SPEC_ENV} to its openapi.json, or put it at {})",
            shared_path().display()
        );
    }
    spec.as_ref()
}

/// What can go wrong loading the spec or validating against it.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    /// The spec file could not be read.
    #[error("cannot read the OpenAPI spec {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The spec file is not JSON.
    #[error("the OpenAPI spec {path} is not valid JSON: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// No operation of the spec matches the method and path.
    #[error("no operation in the spec for {method} {path}")]
    UnknownOperation {
        /// Method.
        method: String,
        /// Path.
        path: String,
    },
    /// The operation declares no body for this request or status.
    #[error("{operation}: the spec declares no {what}")]
    NoSchema {
        /// `METHOD /template`.
        operation: String,
        /// What is missing ("request body", "response for status 201").
        what: String,
    },
    /// A schema of the spec does not compile.
    #[error("{operation}: schema does not compile: {message}")]
    Schema {
        /// `METHOD /template`.
        operation: String,
        /// The compiler's message.
        message: String,
    },
    /// The body does not satisfy the schema.
    #[error("{operation} {what} violates the spec:\n  {}", errors.join("\n  "))]
    Invalid {
        /// `METHOD /template`.
        operation: String,
        /// "request body" or "response 200".
        what: String,
        /// One line per violation: instance path and message.
        errors: Vec<String>,
    },
}

#[derive(Debug)]
struct Operation {
    method: String,
    template: String,
    segments: Vec<Option<String>>,
    node: Value,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// The loaded spec with a cache of compiled schemas.
#[derive(Debug)]
pub struct Spec {
    doc: Value,
    operations: Vec<Operation>,
    compiled: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Spec {
    /// Loads a spec file.
    pub fn load(path: &Path) -> Result<Self, OpenApiError> {
        let text = std::fs::read_to_string(path).map_err(|source| OpenApiError::Read {
            path: path.to_owned(),
            source,
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|source| OpenApiError::Parse {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::from_value(doc))
    }

    /// A spec from an already parsed document.
    pub fn from_value(doc: Value) -> Self {
        let mut operations = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (template, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (method, node) in item {
                    if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                        continue;
                    }
                    let segments = template
                        .split('/')
                        .filter(|s| !s.is_empty())
                        .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                        .collect();
                    operations.push(Operation {
                        method: method.to_ascii_uppercase(),
                        template: template.clone(),
                        segments,
                        node: node.clone(),
                    });
                }
            }
        }
        Self {
            doc,
            operations,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    fn find(&self, method: &str, path: &str) -> Result<&Operation, OpenApiError> {
        let path = path.split('?').next().unwrap_or_default();
        let path = path.strip_prefix("/api/v10").unwrap_or(path);
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let method = method.to_ascii_uppercase();
        self.operations
            .iter()
            .filter(|op| op.method == method && op.segments.len() == segs.len())
            .filter(|op| {
                op.segments
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.as_deref().is_none_or(|lit| lit == *s))
            })
            .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
            .ok_or_else(|| OpenApiError::UnknownOperation {
                method,
                path: path.to_owned(),
            })
    }

    /// The spec template (`/channels/{channel_id}/messages`) of a concrete path, if any.
    pub fn template(&self, method: &str, path: &str) -> Option<String> {
        self.find(method, path).ok().map(|op| op.template.clone())
    }

    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..8 {
            let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(pointer) = reference.strip_prefix('#') else {
                break;
            };
            match self.doc.pointer(pointer) {
                Some(target) => node = target,
                None => break,
            }
        }
        node
    }

    fn json_schema<'a>(&'a self, content: &'a Value) -> Option<&'a Value> {
        let content = self.resolve(content).get("content")?;
        content
            .get("application/json")
            .or_else(|| content.as_object()?.values().next())?
            .get("schema")
    }

    fn validator(
        &self,
        key: String,
        schema: &Value,
        operation: &str,
    ) -> Result<Arc<jsonschema::Validator>, OpenApiError> {
        if let Some(v) = self
            .compiled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(v.clone());
        }
        let mut document = match schema {
            Value::Object(map) => Value::Object(map.clone()),
            Value::Bool(b) => {
                let mut map = serde_json::Map::new();
                if !b {
                    map.insert("not".into(), Value::Object(serde_json::Map::new()));
                }
                Value::Object(map)
            }
            other => other.clone(),
        };
        if let (Some(obj), Some(components)) =
            (document.as_object_mut(), self.doc.get("components"))
        {
            obj.insert("components".into(), components.clone());
            obj.entry("$schema").or_insert_with(|| {
                Value::String("https://json-schema.org/draft/2020-12/schema".into())
            });
        }
        let validator = jsonschema::draft202012::options()
            .build(&document)
            .map_err(|e| OpenApiError::Schema {
                operation: operation.to_owned(),
                message: e.to_string(),
            })?;
        let validator = Arc::new(validator);
        self.compiled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, validator.clone());
        Ok(validator)
    }

    fn check(
        validator: &jsonschema::Validator,
        body: &Value,
        operation: String,
        what: String,
    ) -> Result<(), OpenApiError> {
        let errors: Vec<String> = validator
            .iter_errors(body)
            .take(20)
            .map(|e| {
                format!(
                    "at `{}`: {}",
                    e.instance_path,
                    truncate(&e.to_string(), 300)
                )
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(OpenApiError::Invalid {
                operation,
                what,
                errors,
            })
        }
    }

    /// Validates a JSON request body against the operation's `requestBody` schema.
    pub fn validate_request(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<(), OpenApiError> {
        let op = self.find(method, path)?;
        let schema = op
            .node
            .get("requestBody")
            .and_then(|rb| self.json_schema(rb))
            .ok_or_else(|| OpenApiError::NoSchema {
                operation: op.name(),
                what: "request body".into(),
            })?;
        let validator = self.validator(format!("{} req", op.name()), schema, &op.name())?;
        Self::check(&validator, body, op.name(), "request body".into())
    }

    /// Validates a response body against the schema of `status` (exact, `2XX`-style or
    /// `default`). A status the spec declares without content accepts only an absent body
    /// (`None`).
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Result<(), OpenApiError> {
        let op = self.find(method, path)?;
        let responses = op.node.get("responses");
        let exact = status.to_string();
        let class = format!("{}XX", status / 100);
        let response = responses
            .and_then(|r| {
                r.get(&exact)
                    .or_else(|| r.get(&class))
                    .or_else(|| r.get("default"))
            })
            .ok_or_else(|| OpenApiError::NoSchema {
                operation: op.name(),
                what: format!("response for status {status}"),
            })?;
        let what = format!("response {status}");
        match (self.json_schema(response), body) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(OpenApiError::Invalid {
                operation: op.name(),
                what,
                errors: vec!["the spec declares no body for this status, but one was sent".into()],
            }),
            (Some(_), None) => Err(OpenApiError::Invalid {
                operation: op.name(),
                what,
                errors: vec!["the spec declares a body for this status, but none was sent".into()],
            }),
            (Some(schema), Some(body)) => {
                let validator =
                    self.validator(format!("{} resp {status}", op.name()), schema, &op.name())?;
                Self::check(&validator, body, op.name(), what)
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A two-operation spec written here, so the validator is tested on any clone.
    fn tiny() -> Spec {
        Spec::from_value(json!({
            "paths": {
                "/channels/{channel_id}/messages": {
                    "post": {
                        "requestBody": {"content": {"application/json": {"schema": {
                            "$ref": "#/components/schemas/Create"
                        }}}},
                        "responses": {"200": {"content": {"application/json": {"schema": {
                            "type": "object", "required": ["id"]
                        }}}}, "204": {"description": "none"}}
                    }
                },
                "/channels/{channel_id}/messages/@me": {"get": {"responses": {}}}
            },
            "components": {"schemas": {"Create": {
                "type": "object",
                "properties": {"content": {"type": "string", "maxLength": 5}},
                "additionalProperties": false
            }}}
        }))
    }

    #[test]
    fn the_variable_wins_then_the_shared_file_if_it_exists() {
        let dir = std::env::temp_dir().join(format!("zoryx-openapi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let shared = dir.join("openapi.json");
        let named = PathBuf::from("/elsewhere/openapi.json");
        // Named: used even if absent, so a wrong setting fails instead of skipping.
        assert_eq!(
            locate_from(Some(named.clone().into_os_string()), shared.clone()),
            Some(named)
        );
        assert_eq!(locate_from(None, shared.clone()), None, "absent: skipped");
        assert_eq!(locate_from(Some("".into()), shared.clone()), None);
        std::fs::write(&shared, "{}").expect("write");
        assert_eq!(locate_from(None, shared.clone()), Some(shared.clone()));
        assert!(Spec::load(&shared).is_ok());
        std::fs::write(&shared, "not json").expect("write");
        assert!(matches!(
            Spec::load(&shared),
            Err(OpenApiError::Parse { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn templates_references_and_statuses() {
        let spec = tiny();
        let path = "/api/v10/channels/7/messages";
        assert_eq!(
            spec.template("POST", path).as_deref(),
            Some("/channels/{channel_id}/messages")
        );
        assert_eq!(
            spec.template("GET", "/channels/7/messages/@me").as_deref(),
            Some("/channels/{channel_id}/messages/@me")
        );
        spec.validate_request("POST", path, &json!({"content": "hi"}))
            .expect("valid body");
        let error = spec
            .validate_request("POST", path, &json!({"content": "too long", "x": 1}))
            .expect_err("two violations");
        assert!(
            matches!(&error, OpenApiError::Invalid { errors, .. } if errors.len() == 2),
            "{error}"
        );
        spec.validate_response("POST", path, 200, Some(&json!({"id": "1"})))
            .expect("has an id");
        assert!(
            spec.validate_response("POST", path, 200, Some(&json!({})))
                .is_err()
        );
        spec.validate_response("POST", path, 204, None)
            .expect("no body");
        assert!(matches!(
            spec.validate_response("POST", path, 500, None),
            Err(OpenApiError::NoSchema { .. })
        ));
        assert!(matches!(
            spec.validate_request("GET", "/nowhere", &json!({})),
            Err(OpenApiError::UnknownOperation { .. })
        ));
    }
}
