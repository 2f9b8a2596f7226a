//! The model providers: any OpenAI-compatible chat-completions endpoint (OpenAI, llama.cpp's
//! server, Ollama, vLLM...) and Google's Gemini API. Requests are built here and answers
//! parsed here, whole or as server-sent events; sending goes through the host
//! (`Host::http`, `Host::http_stream`).

use serde_json::{Value, json};
use zoryx_plugin_api::HttpRequest;

/// Which API a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `POST {base}/chat/completions`, `Authorization: Bearer KEY`.
    OpenAi,
    /// `POST {base}/models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`),
    /// `x-goog-api-key: KEY`.
    Gemini,
}

impl Kind {
    /// From the config's `provider` value.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "openai" | "openai-compatible" | "llama.cpp" | "ollama" | "local" => Some(Kind::OpenAi),
            "gemini" | "google" => Some(Kind::Gemini),
            _ => None,
        }
    }

    /// The config's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::OpenAi => "openai",
            Kind::Gemini => "gemini",
        }
    }

    /// The base URL used when none is configured.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Kind::OpenAi => "http://127.0.0.1:8080/v1",
            Kind::Gemini => "https://generativelanguage.googleapis.com/v1beta",
        }
    }

    /// The model used when none is configured.
    pub fn default_model(self) -> &'static str {
        match self {
            Kind::OpenAi => "local-model",
            Kind::Gemini => "gemini-2.0-flash",
        }
    }
}

/// Where and how to ask.
#[derive(Clone)]
pub struct Provider {
    /// The API.
    pub kind: Kind,
    /// The API's base URL, without a trailing `/`.
    pub base_url: String,
    /// The model.
    pub model: String,
    /// The key (never logged: `Debug` hides it).
    pub key: Option<String>,
    /// Whether answers are streamed.
    pub stream: bool,
    /// Whether the model is offered tools (function calling).
    pub tools: bool,
    /// The time limit of one request, in ms.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("key", &self.key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    /// Its name.
    pub name: &'static str,
    /// What it returns, for the model.
    pub description: &'static str,
    /// Its parameters, as JSON Schema.
    pub parameters: Value,
}

/// One call of a tool by the model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolCall {
    /// The provider's id of the call (OpenAI), or the tool's name (Gemini).
    pub id: String,
    /// The tool.
    pub name: String,
    /// Its arguments.
    pub arguments: Value,
}

/// One turn of the conversation.
#[derive(Clone, Debug, PartialEq)]
pub enum Turn {
    /// The member's question.
    User(String),
    /// The model's answer: text, tool calls or both.
    Assistant {
        /// Its text.
        text: String,
        /// Its calls.
        calls: Vec<ToolCall>,
    },
    /// A tool's result.
    Tool {
        /// The call it answers.
        call: ToolCall,
        /// The result, as text (JSON usually).
        result: String,
    },
}

/// What one request produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    /// The text.
    pub text: String,
    /// Tools the model wants called.
    pub calls: Vec<ToolCall>,
    /// Tokens the provider counted (prompt and answer), if it said.
    pub tokens: Option<u64>,
}

/// Why asking failed, in words a member can act on (no key, no provider internals).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// 401 or 403.
    #[error(
        "the model provider refused the key (HTTP {0}); the owner should check `plugins.assistant.api_key_env`"
    )]
    Unauthorized(u16),
    /// 429.
    #[error("the model provider is rate limiting this bot (HTTP 429); try again in a minute")]
    RateLimited,
    /// 5xx.
    #[error("the model provider failed (HTTP {0}); try again later")]
    Unavailable(u16),
    /// Another status.
    #[error("the model provider refused the request (HTTP {status}): {detail}")]
    Refused {
        /// The status.
        status: u16,
        /// The provider's message, clipped.
        detail: String,
    },
    /// No answer in time.
    #[error("the model provider did not answer in time ({0})")]
    Timeout(String),
    /// The request never got an answer (refused by the host, connection failed).
    #[error("the model provider could not be reached: {0}")]
    Unreachable(String),
    /// An answer that is not what the API sends.
    #[error("the model provider's answer could not be read: {0}")]
    Malformed(String),
}

impl ProviderError {
    /// The error for an answer with a non-2xx `status` and `body`.
    pub fn from_status(status: u16, body: &[u8]) -> Self {
        match status {
            401 | 403 => Self::Unauthorized(status),
            429 => Self::RateLimited,
            500..=599 => Self::Unavailable(status),
            _ => {
                let text = String::from_utf8_lossy(body);
                let detail = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| {
                        v.pointer("/error/message")
                            .or_else(|| v.pointer("/0/error/message"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_else(|| text.into_owned());
                Self::Refused {
                    status,
                    detail: detail.chars().take(200).collect(),
                }
            }
        }
    }

    /// The error for a host refusal or transport failure (`message` from the host).
    pub fn from_host(message: &str) -> Self {
        if message.contains("took longer than") {
            Self::Timeout(message.rsplit("took longer than").next().map_or_else(
                || message.to_owned(),
                |t| format!("over{}", t.trim_end_matches('.')),
            ))
        } else {
            Self::Unreachable(message.chars().take(300).collect())
        }
    }
}

impl Provider {
    /// The request for `turns` after `system`, offering `tools` (when the provider takes
    /// them).
    pub fn request(&self, system: &str, turns: &[Turn], tools: &[ToolSpec]) -> HttpRequest {
        let (url, body) = match self.kind {
            Kind::OpenAi => (
                format!("{}/chat/completions", self.base_url),
                self.openai_body(system, turns, tools),
            ),
            Kind::Gemini => {
                let method = if self.stream {
                    "streamGenerateContent?alt=sse"
                } else {
                    "generateContent"
                };
                (
                    format!("{}/models/{}:{method}", self.base_url, self.model),
                    self.gemini_body(system, turns, tools),
                )
            }
        };
        let mut request = HttpRequest::post(url)
            .header("Content-Type", "application/json")
            .body(body.to_string().into_bytes())
            .timeout(std::time::Duration::from_millis(self.timeout_ms));
        if self.stream {
            request = request.header("Accept", "text/event-stream");
        }
        if let Some(key) = &self.key {
            request = match self.kind {
                Kind::OpenAi => request.header("Authorization", format!("Bearer {key}")),
                Kind::Gemini => request.header("x-goog-api-key", key.clone()),
            };
        }
        request
    }

    fn openai_body(&self, system: &str, turns: &[Turn], tools: &[ToolSpec]) -> Value {
        let mut messages = vec![json!({"role": "system", "content": system})];
        for turn in turns {
            messages.push(match turn {
                Turn::User(text) => json!({"role": "user", "content": text}),
                Turn::Assistant { text, calls } if calls.is_empty() => {
                    json!({"role": "assistant", "content": text})
                }
                Turn::Assistant { text, calls } => json!({
                    "role": "assistant",
                    "content": if text.is_empty() { Value::Null } else { json!(text) },
                    "tool_calls": calls.iter().map(|c| json!({
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments.to_string()},
                    })).collect::<Vec<_>>(),
                }),
                Turn::Tool { call, result } => json!({
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": result,
                }),
            });
        }
        let mut body = json!({"model": self.model, "messages": messages, "stream": self.stream});
        if self.stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        if self.tools && !tools.is_empty() {
            body["tools"] = tools
                .iter()
                .map(|t| {
                    json!({"type": "function", "function": {
                        "name": t.name, "description": t.description, "parameters": t.parameters,
                    }})
                })
                .collect();
        }
        body
    }

    fn gemini_body(&self, system: &str, turns: &[Turn], tools: &[ToolSpec]) -> Value {
        let contents: Vec<Value> =
            turns
                .iter()
                .map(|turn| match turn {
                    Turn::User(text) => json!({"role": "user", "parts": [{"text": text}]}),
                    Turn::Assistant { text, calls } => {
                        let mut parts: Vec<Value> = Vec::new();
                        if !text.is_empty() {
                            parts.push(json!({"text": text}));
                        }
                        parts.extend(calls.iter().map(
                            |c| json!({"functionCall": {"name": c.name, "args": c.arguments}}),
                        ));
                        json!({"role": "model", "parts": parts})
                    }
                    Turn::Tool { call, result } => json!({
                        "role": "user",
                        "parts": [{"functionResponse": {
                            "name": call.name,
                            "response": {"result": result},
                        }}],
                    }),
                })
                .collect();
        let mut body = json!({
            "systemInstruction": {"parts": [{"text": system}]},
            "contents": contents,
        });
        if self.tools && !tools.is_empty() {
            body["tools"] = json!([{ "functionDeclarations": tools.iter().map(|t| json!({
                "name": t.name, "description": t.description, "parameters": t.parameters,
            })).collect::<Vec<_>>() }]);
        }
        body
    }

    /// Reads a whole (not streamed) answer.
    pub fn parse(&self, body: &[u8]) -> Result<Reply, ProviderError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| ProviderError::Malformed(e.to_string()))?;
        let mut parser = StreamParser::new(self.kind);
        match self.kind {
            Kind::OpenAi => {
                let message = value
                    .pointer("/choices/0/message")
                    .ok_or_else(|| ProviderError::Malformed("no `choices[0].message`".into()))?;
                let mut reply = Reply {
                    text: message["content"].as_str().unwrap_or_default().to_owned(),
                    calls: Vec::new(),
                    tokens: value.pointer("/usage/total_tokens").and_then(Value::as_u64),
                };
                for call in message["tool_calls"].as_array().into_iter().flatten() {
                    reply.calls.push(ToolCall {
                        id: call["id"].as_str().unwrap_or_default().to_owned(),
                        name: call
                            .pointer("/function/name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        arguments: arguments_of(call.pointer("/function/arguments")),
                    });
                }
                Ok(reply)
            }
            Kind::Gemini => {
                parser.gemini_event(&value);
                if value.get("candidates").is_none() {
                    return Err(ProviderError::Malformed("no `candidates`".into()));
                }
                Ok(parser.finish())
            }
        }
    }
}

/// Tool arguments: a JSON object, or a JSON text holding one (OpenAI's form).
fn arguments_of(value: Option<&Value>) -> Value {
    match value {
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or_else(|_| json!({})),
        Some(other @ Value::Object(_)) => other.clone(),
        _ => json!({}),
    }
}

/// Reads server-sent events as they arrive: text as it grows, tool calls once complete.
#[derive(Debug)]
pub struct StreamParser {
    kind: Kind,
    buffer: Vec<u8>,
    text: String,
    /// OpenAI's calls arrive in fragments by index: (id, name, argument text).
    partial: Vec<(String, String, String)>,
    calls: Vec<ToolCall>,
    tokens: Option<u64>,
}

impl StreamParser {
    /// A parser for `kind`'s events.
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            buffer: Vec::new(),
            text: String::new(),
            partial: Vec::new(),
            calls: Vec::new(),
            tokens: None,
        }
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Feeds bytes; returns whether the text grew.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        self.buffer.extend_from_slice(bytes);
        let before = self.text.len();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            self.line(&String::from_utf8_lossy(&line));
        }
        self.text.len() != before
    }

    fn line(&mut self, line: &str) {
        let Some(data) = line.trim_end().strip_prefix("data:") else {
            return;
        };
        let data = data.trim();
        if data.is_empty() || data == "[DONE]" {
            return;
        }
        let Ok(event) = serde_json::from_str::<Value>(data) else {
            return;
        };
        match self.kind {
            Kind::OpenAi => self.openai_event(&event),
            Kind::Gemini => self.gemini_event(&event),
        }
    }

    fn openai_event(&mut self, event: &Value) {
        if let Some(total) = event.pointer("/usage/total_tokens").and_then(Value::as_u64) {
            self.tokens = Some(total);
        }
        let Some(delta) = event.pointer("/choices/0/delta") else {
            return;
        };
        if let Some(text) = delta["content"].as_str() {
            self.text.push_str(text);
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"]
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .unwrap_or(self.partial.len())
                .min(32);
            while self.partial.len() <= index {
                self.partial.push(Default::default());
            }
            let slot = &mut self.partial[index];
            if let Some(id) = call["id"].as_str() {
                slot.0.push_str(id);
            }
            if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                slot.1.push_str(name);
            }
            if let Some(arguments) = call.pointer("/function/arguments").and_then(Value::as_str) {
                slot.2.push_str(arguments);
            }
        }
    }

    fn gemini_event(&mut self, event: &Value) {
        if let Some(total) = event
            .pointer("/usageMetadata/totalTokenCount")
            .and_then(Value::as_u64)
        {
            self.tokens = Some(total);
        }
        let parts = event
            .pointer("/candidates/0/content/parts")
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if let Some(text) = part["text"].as_str() {
                self.text.push_str(text);
            }
            if let Some(call) = part.get("functionCall") {
                let name = call["name"].as_str().unwrap_or_default().to_owned();
                self.calls.push(ToolCall {
                    id: name.clone(),
                    name,
                    arguments: arguments_of(call.get("args")),
                });
            }
        }
    }

    /// The whole reply, once the stream ended.
    pub fn finish(mut self) -> Reply {
        if !self.buffer.is_empty() {
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buffer)).into_owned();
            self.line(&rest);
        }
        let mut calls = self.calls;
        for (i, (id, name, arguments)) in self.partial.into_iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            calls.push(ToolCall {
                id: if id.is_empty() {
                    format!("call_{i}")
                } else {
                    id
                },
                name,
                arguments: arguments_of(Some(&Value::String(arguments))),
            });
        }
        Reply {
            text: self.text,
            calls,
            tokens: self.tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(kind: Kind, stream: bool) -> Provider {
        Provider {
            kind,
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "m".into(),
            key: Some("sk-test".into()),
            stream,
            tools: true,
            timeout_ms: 1000,
        }
    }

    #[test]
    fn openai_streams_text_and_tool_calls_in_fragments() {
        let mut parser = StreamParser::new(Kind::OpenAi);
        let events = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"list_plugins\",\"arguments\":\"{\\\"na\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"me\\\":\\\"x\\\"}\"}}]}}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"total_tokens\":42}}\n\ndata: [DONE]\n\n",
        );
        // Fed in awkward pieces, as a network delivers them.
        for piece in events.as_bytes().chunks(7) {
            parser.feed(piece);
        }
        let reply = parser.finish();
        assert_eq!(reply.text, "Hello");
        assert_eq!(reply.tokens, Some(42));
        assert_eq!(
            reply.calls,
            [ToolCall {
                id: "c1".into(),
                name: "list_plugins".into(),
                arguments: json!({"name": "x"})
            }]
        );
    }

    #[test]
    fn gemini_reads_function_calls_and_usage() {
        let p = provider(Kind::Gemini, false);
        let body = br#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"read_file","args":{"path":"README.md"}}}]}}],"usageMetadata":{"totalTokenCount":7}}"#;
        let reply = p.parse(body).expect("reply");
        assert_eq!(reply.calls[0].name, "read_file");
        assert_eq!(reply.calls[0].arguments, json!({"path": "README.md"}));
        assert_eq!(reply.tokens, Some(7));
    }

    #[test]
    fn the_key_goes_in_a_header_only() {
        for kind in [Kind::OpenAi, Kind::Gemini] {
            let request = provider(kind, true).request("sys", &[Turn::User("q".into())], &[]);
            let body = String::from_utf8(request.body.clone().unwrap_or_default()).expect("utf8");
            assert!(!body.contains("sk-test") && !request.url.contains("sk-test"));
            assert!(request.headers.iter().any(|(_, v)| v.contains("sk-test")));
            assert!(!format!("{:?}", provider(kind, true)).contains("sk-test"));
        }
    }

    #[test]
    fn statuses_become_clear_errors() {
        assert_eq!(
            ProviderError::from_status(429, b""),
            ProviderError::RateLimited
        );
        assert_eq!(
            ProviderError::from_status(503, b""),
            ProviderError::Unavailable(503)
        );
        assert!(
            ProviderError::from_status(400, br#"{"error":{"message":"bad model"}}"#)
                .to_string()
                .contains("bad model")
        );
        assert!(
            ProviderError::from_host("http://x took longer than 2.0 s")
                .to_string()
                .contains("in time")
        );
    }
}
