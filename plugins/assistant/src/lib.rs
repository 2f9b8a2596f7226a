//! `assistant`: ask the bot about itself, with any model provider.
//!
//! - `/ask_zdbf ACTION [QUERY] [FILE]` (the seed's twelve actions: help, framework, plugins,
//!   diagnose, database, file, extension, slash, hooks, automations, readme, permission): the
//!   model answers from live data it reads with tools ([`tools`]) — the command catalogue,
//!   the plugin registry, diagnostics, databases, hooks, the slash limit, permission
//!   explanations, and the project's docs (never `.env` or paths outside `README.md`, `docs/`
//!   and `data/`). Providers without function calling get the action's data as context.
//! - `zai [ask] QUESTION`, `zai find QUERY`, `zai list`, `zai status`, `zai refresh` (owner):
//!   "is there a plugin for X?" answered from a BM25 index ([`search`]) over the marketplace
//!   index, the installed plugins, the commands and the docs; `zai provider`, `zai model` and
//!   `zai usage` for owners.
//!
//! Any OpenAI-compatible endpoint (OpenAI, llama.cpp, Ollama...) or Gemini ([`provider`]),
//! through the host's outbound HTTP (`http.allow.assistant`). Answers stream into the reply,
//! edited in place at most once per `edit_interval_ms`, and continue in further messages past
//! 2,000 characters. A per-member cooldown and a daily budget per server (requests and
//! tokens); errors, rate limits and time-outs are answered, never left hanging. The key is
//! read from the environment (or the secret `api_key` setting), sent only to the provider,
//! and masked in anything shown.

mod panel;
pub mod provider;
pub mod search;
pub mod tools;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Value, json};
use zoryx_plugin_api::prelude::*;
use zoryx_plugin_api::{palette, split_text};

use provider::{Kind, Provider, ProviderError, Reply, StreamParser, ToolCall, Turn};
use search::{Doc, Index, Source};
use tools::Asker;

/// Discord's limit on a message's content.
pub const MESSAGE_MAX_CHARS: usize = 2000;
/// Rounds of tool calls before the model must answer.
pub const MAX_TOOL_ROUNDS: usize = 4;
/// The environment variable read for the key unless `api_key_env` names another.
pub const DEFAULT_KEY_ENV: &str = "ZORYX_ASSISTANT_API_KEY";

/// `plugins.assistant` in `config.json`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `openai` (any OpenAI-compatible endpoint) or `gemini`.
    pub provider: String,
    /// The API's base URL (default: llama.cpp's `http://127.0.0.1:8080/v1`, or Gemini's).
    pub base_url: Option<String>,
    /// The model (default: `local-model`, or `gemini-2.0-flash`).
    pub model: Option<String>,
    /// The key itself (a secret setting; prefer the environment).
    pub api_key: Option<String>,
    /// The environment variable holding the key.
    pub api_key_env: String,
    /// Stream answers into the reply.
    pub stream: bool,
    /// Offer the model tools (function calling); off: each action's data as context.
    pub tools: bool,
    /// The time limit of one request to the provider (the host's `http.timeout_seconds`
    /// caps it).
    pub timeout_seconds: u64,
    /// Seconds between one member's questions.
    pub cooldown_seconds: u64,
    /// Questions per server per day (UTC).
    pub daily_requests: u64,
    /// Tokens per server per day (UTC).
    pub daily_tokens: u64,
    /// The marketplace index (`index.json`) URL `zai` searches.
    pub market_index: Option<String>,
    /// Project files `zai` indexes (README.md, docs/*.md).
    pub docs: Vec<String>,
    /// The least time between two edits of a streamed reply, in ms.
    pub edit_interval_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            provider: "openai".to_owned(),
            base_url: None,
            model: None,
            api_key: None,
            api_key_env: DEFAULT_KEY_ENV.to_owned(),
            stream: true,
            tools: true,
            timeout_seconds: 60,
            cooldown_seconds: 15,
            daily_requests: 200,
            daily_tokens: 200_000,
            market_index: None,
            docs: vec!["README.md".to_owned()],
            edit_interval_ms: 1200,
        }
    }
}

/// Requests and tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Usage {
    /// Questions asked.
    pub requests: u64,
    /// Tokens counted by the provider (estimated where it did not say).
    pub tokens: u64,
}

/// The plugin's state.
#[derive(Default)]
pub struct Assistant {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When each member last asked.
    asked: HashMap<u64, Instant>,
    /// Usage by (guild, UTC day); guild 0 is DMs.
    usage: BTreeMap<(u64, u64), Usage>,
    /// Usage since start, by provider and model.
    totals: BTreeMap<String, Usage>,
    /// The owner's choice of provider and model (`zai provider`, `zai model`), over the config.
    provider: Option<Kind>,
    model: Option<String>,
    /// The `zai` index and when it was built.
    index: Arc<Index>,
    refreshed: Option<SystemTime>,
    market: usize,
}

impl Assistant {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Plugin for Assistant {
    fn manifest() -> Manifest {
        Manifest::new("assistant", env!("CARGO_PKG_VERSION"))
            .author("Zoryx")
            .description("Ask the bot about itself, with any model provider")
    }

    fn register(plugin: &mut Registrar<Self>) {
        plugin
            .setting(
                Setting::text("provider")
                    .choices(["openai", "gemini"])
                    .default("openai")
                    .description(
                        "openai (any OpenAI-compatible endpoint: llama.cpp, Ollama...) or gemini",
                    ),
            )
            .setting(
                Setting::text("base_url").description(
                    "The API's base URL (default http://127.0.0.1:8080/v1, or Gemini's)",
                ),
            )
            .setting(
                Setting::text("model")
                    .description("The model (default local-model, or gemini-2.0-flash)"),
            )
            .setting(
                Setting::text("api_key")
                    .secret()
                    .description("The key itself; prefer api_key_env"),
            )
            .setting(
                Setting::text("api_key_env")
                    .default(DEFAULT_KEY_ENV)
                    .description("The environment variable holding the key"),
            )
            .setting(
                Setting::boolean("stream")
                    .default(true)
                    .description("Stream answers into the reply"),
            )
            .setting(
                Setting::boolean("tools")
                    .default(true)
                    .description("Offer the model tools (off: each action's data as context)"),
            )
            .setting(
                Setting::integer("timeout_seconds")
                    .range(1, 600)
                    .default(60)
                    .description("Time limit of one request (http.timeout_seconds caps it)"),
            )
            .setting(
                Setting::integer("cooldown_seconds")
                    .range(0, 3600)
                    .default(15)
                    .description("Seconds between one member's questions"),
            )
            .setting(
                Setting::integer("daily_requests")
                    .range(0, 1_000_000)
                    .default(200)
                    .description("Questions per server per day (UTC)"),
            )
            .setting(
                Setting::integer("daily_tokens")
                    .range(0, 1_000_000_000)
                    .default(200_000)
                    .description("Tokens per server per day (UTC)"),
            )
            .setting(Setting::text("market_index").description(
                "The marketplace index.json URL zai searches (its host in http.allow.assistant)",
            ))
            .setting(
                Setting::list("docs")
                    .default(json!(["README.md"]))
                    .description("Project files zai indexes (README.md, docs/*.md)"),
            )
            .setting(
                Setting::integer("edit_interval_ms")
                    .range(1000, 60_000)
                    .default(1200)
                    .description("Least time between two edits of a streamed reply"),
            )
            .command(
                CommandSpec::new("ask_zdbf")
                    .description("Ask the assistant about the bot, its plugins, health or docs")
                    .category("Assistant")
                    .arg(
                        Arg::text("action")
                            .description("What to ask about")
                            .choices(tools::ACTIONS),
                    )
                    .arg(
                        Arg::text("query")
                            .description("Your question")
                            .optional()
                            .max_length(1000),
                    )
                    .arg(
                        Arg::text("file")
                            .description("A file (docs/..., data/...) or a plugin's name")
                            .optional()
                            .max_length(200),
                    )
                    .kind(CommandKind::Slash),
                ask_zdbf,
            )
            .command(
                CommandSpec::new("zai")
                    .description(
                        "Find the plugin that does what you want; ask, find, list, status, refresh",
                    )
                    .category("Assistant")
                    .arg(
                        Arg::rest("request")
                            .description(
                                "A question, or find/list/status/refresh/provider/model/usage",
                            )
                            .optional()
                            .max_length(1000),
                    )
                    .kind(CommandKind::Hybrid),
                zai,
            )
            .panel("assistant", "AI assistant", panel::show);
    }

    async fn init(_host: Host) -> PluginResult<Self> {
        Ok(Self::default())
    }
}

/// The settings now (defaults where the section is absent or unreadable).
async fn settings(host: &Host) -> Settings {
    match host.plugin_config::<Settings>().await {
        Ok(Some(settings)) => settings,
        Ok(None) => Settings::default(),
        Err(error) => {
            host.warn(format!(
                "plugins.assistant is not valid, defaults used: {error}"
            ));
            Settings::default()
        }
    }
}

/// Whether `url` points at this machine (a local server needs no key).
fn is_local(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

/// The provider as configured and chosen by the owner, or how to configure one.
fn provider_of(settings: &Settings, state: &State) -> Result<Provider, String> {
    let kind = match state.provider {
        Some(kind) => kind,
        None => Kind::parse(&settings.provider).ok_or_else(|| {
            format!(
                "`plugins.assistant.provider` is `{}`; set it to `openai` or `gemini`",
                settings.provider
            )
        })?,
    };
    let base_url = settings
        .base_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| kind.default_base_url().to_owned())
        .trim_end_matches('/')
        .to_owned();
    let model = state
        .model
        .clone()
        .or_else(|| settings.model.clone())
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| kind.default_model().to_owned());
    let key = settings
        .api_key
        .clone()
        .filter(|k| !k.trim().is_empty())
        .or_else(|| {
            std::env::var(&settings.api_key_env)
                .ok()
                .filter(|k| !k.trim().is_empty())
        });
    if key.is_none() && !(kind == Kind::OpenAi && is_local(&base_url)) {
        return Err(format!(
            "No model provider key is configured. The bot's owner sets the environment variable \
             `{}` (in `.env`) to the provider's API key, and `plugins.assistant` in config.json: \
             `provider` (`openai` for any OpenAI-compatible API, or `gemini`), `model`, \
             `base_url`, with the API's host in `http.allow.assistant`. A local llama.cpp or \
             Ollama server on 127.0.0.1 needs no key.",
            settings.api_key_env
        ));
    }
    Ok(Provider {
        kind,
        base_url,
        model,
        key,
        stream: settings.stream,
        tools: settings.tools,
        timeout_ms: settings.timeout_seconds.saturating_mul(1000),
    })
}

/// How long this command may still take: the host's limit on it (`limits.commands.NAME`, else
/// `limits.command_seconds`, 30 s by default) less a margin for the last edit.
fn time_left(host: &Host, command: &str) -> Duration {
    let root = command.split_whitespace().next().unwrap_or(command);
    let seconds = host
        .config_value(&format!("limits.commands.{root}"))
        .and_then(|v| v.as_f64())
        .or_else(|| {
            host.config_value("limits.command_seconds")
                .and_then(|v| v.as_f64())
        })
        .unwrap_or(30.0);
    Duration::from_secs_f64((seconds - 3.0).clamp(1.0, 86_400.0))
}

/// `text` with the key masked (defence in depth: a provider echoing it back).
fn redact(text: &str, key: Option<&str>) -> String {
    match key {
        Some(key) if key.len() >= 4 => text.replace(key, "••••••••"),
        _ => text.to_owned(),
    }
}

fn day(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400)
}

/// Where a day's usage is kept: the guild's storage (DMs: the global one).
fn usage_place(guild: Option<GuildId>, day: u64) -> (Scope, String) {
    match guild {
        Some(guild) => (Scope::Guild(guild), format!("usage:{day}")),
        None => (Scope::Global, format!("usage:dm:{day}")),
    }
}

async fn load_usage(host: &Host, guild: Option<GuildId>, day: u64) -> Option<Usage> {
    let (scope, key) = usage_place(guild, day);
    host.storage()
        .get::<Usage>(scope, &key)
        .await
        .ok()
        .flatten()
}

/// Keeps a day's usage (best effort: without storage it lives in memory only) and forgets
/// the day before.
async fn save_usage(host: &Host, guild: Option<GuildId>, day: u64, usage: Usage) {
    let (scope, key) = usage_place(guild, day);
    if host.storage().set(scope, &key, &usage).await.is_ok() {
        let (scope, old) = usage_place(guild, day.saturating_sub(1));
        let _ = host.storage().delete(scope, &old).await;
    }
}

/// A reply that grows as the answer streams: edited in place at most once per interval,
/// continued in further messages past [`MESSAGE_MAX_CHARS`].
struct Live<'a> {
    /// Where it is shown; `None`: kept for a dashboard page, shown once at the end.
    ctx: Option<&'a CommandContext<Assistant>>,
    ids: Vec<MessageId>,
    shown: Vec<String>,
    last: Instant,
    interval: Duration,
    key: Option<String>,
}

impl<'a> Live<'a> {
    async fn start(
        ctx: Option<&'a CommandContext<Assistant>>,
        interval: Duration,
        key: Option<String>,
    ) -> PluginResult<Live<'a>> {
        let first = "🤔 Thinking…".to_owned();
        let ids = match ctx {
            Some(ctx) => vec![ctx.reply(first.clone()).await?],
            None => Vec::new(),
        };
        Ok(Self {
            ctx,
            ids,
            shown: vec![first],
            last: Instant::now(),
            interval,
            key,
        })
    }

    /// Shows `text` if the interval has passed since the last edit (or `force`).
    async fn show(&mut self, text: &str, force: bool) -> PluginResult {
        if !force && self.last.elapsed() < self.interval {
            return Ok(());
        }
        let text = redact(text, self.key.as_deref());
        let Some(ctx) = self.ctx else {
            if force {
                self.shown = vec![text];
            }
            return Ok(());
        };
        let parts = split_text(&text, MESSAGE_MAX_CHARS);
        for (i, part) in parts.into_iter().enumerate() {
            if let Some(shown) = self.shown.get(i) {
                if *shown != part {
                    ctx.edit_reply(self.ids[i], part.clone()).await?;
                    self.shown[i] = part;
                }
            } else {
                let id = ctx.followup(part.clone()).await?;
                self.ids.push(id);
                self.shown.push(part);
            }
        }
        self.last = Instant::now();
        Ok(())
    }
}

/// What is asked, and with which tools.
struct Question {
    system: String,
    turns: Vec<Turn>,
    tools: Vec<provider::ToolSpec>,
}

/// Sends one request and reads its answer, streaming text into `live`.
async fn exchange(
    host: &Host,
    provider: &Provider,
    question: &Question,
    live: &mut Live<'_>,
    before: &str,
) -> Result<Reply, ProviderError> {
    let request = provider.request(&question.system, &question.turns, &question.tools);
    if !provider.stream {
        let response = host
            .http(request)
            .await
            .map_err(|e| ProviderError::from_host(&e.to_string()))?;
        if !response.is_success() {
            return Err(ProviderError::from_status(response.status, &response.body));
        }
        return provider.parse(&response.body);
    }
    let mut stream = host
        .http_stream(request)
        .await
        .map_err(|e| ProviderError::from_host(&e.to_string()))?;
    if !stream.is_success() {
        let status = stream.status;
        let body = stream.read_to_end().await.unwrap_or_default();
        return Err(ProviderError::from_status(status, &body));
    }
    let mut parser = StreamParser::new(provider.kind);
    loop {
        match stream.next_chunk().await {
            Ok(Some(chunk)) => {
                if parser.feed(&chunk) {
                    let text = format!("{before}{}", parser.text());
                    // A failed edit is not worth losing the answer over; the end shows it.
                    let _ = live.show(&text, false).await;
                }
            }
            Ok(None) => break,
            Err(error) => return Err(ProviderError::from_host(&error.to_string())),
        }
    }
    Ok(parser.finish())
}

/// Asks `question` and streams the answer into a reply; records the usage.
async fn ask(
    ctx: &CommandContext<Assistant>,
    question: Question,
    tool_calls: bool,
) -> PluginResult {
    let command = ctx.invocation().command.clone();
    answer(
        ctx.host(),
        ctx.data(),
        asker_of(ctx),
        &command,
        Some(ctx),
        question,
        tool_calls,
    )
    .await
    .map(drop)
}

/// Refuses a question: in Discord as `message`, on a dashboard page as an error saying `text`.
async fn refuse(
    out: Option<&CommandContext<Assistant>>,
    message: Message,
    text: String,
) -> PluginResult<String> {
    match out {
        Some(ctx) => {
            ctx.reply(message).await?;
            Ok(String::new())
        }
        None => Err(PluginError::user(text)),
    }
}

/// Asks `question` for `asker` within `command`'s time limit, the answer streamed into a reply
/// (`out`) or, without one, returned; records the usage. Refusals (not set up, the cooldown,
/// the budget) are replies, or errors without a reply.
async fn answer(
    host: &Host,
    plugin: &Assistant,
    asker: Asker,
    command: &str,
    out: Option<&CommandContext<Assistant>>,
    mut question: Question,
    tool_calls: bool,
) -> PluginResult<String> {
    let host = *host;
    let deadline = Instant::now() + time_left(&host, command);
    let settings = settings(&host).await;
    let provider = {
        let state = plugin.state();
        provider_of(&settings, &state)
    };
    let provider = match provider {
        Ok(p) => p,
        Err(how) => {
            let message = Message::new().embed(Embed::warning("The assistant is not set up", &how));
            return refuse(out, message, how).await;
        }
    };
    let guild = asker.guild.map_or(0, |g| g.0);
    let today = day(host.now());
    // Today's usage survives restarts where the host has storage.
    let known = plugin.state().usage.contains_key(&(guild, today));
    if !known && let Some(stored) = load_usage(&host, asker.guild, today).await {
        plugin.state().usage.entry((guild, today)).or_insert(stored);
    }
    // The cooldown and the budget, checked and counted at once.
    let refusal = {
        let mut state = plugin.state();
        let cooldown = Duration::from_secs(settings.cooldown_seconds);
        let waited = state.asked.get(&asker.user.0).map(Instant::elapsed);
        let used = state
            .usage
            .get(&(guild, today))
            .copied()
            .unwrap_or_default();
        if used.requests >= settings.daily_requests || used.tokens >= settings.daily_tokens {
            Some(format!(
                "This server has used its assistant budget for today ({} of {} questions, {} of \
                 {} tokens); it resets at midnight UTC.",
                used.requests, settings.daily_requests, used.tokens, settings.daily_tokens
            ))
        } else if let Some(waited) = waited.filter(|w| *w < cooldown) {
            Some(format!(
                "⏳ You can ask again in {} s.",
                (cooldown - waited).as_secs().max(1)
            ))
        } else {
            state.asked.insert(asker.user.0, Instant::now());
            state.usage.entry((guild, today)).or_default().requests += 1;
            let total = format!("{} {}", provider.kind.name(), provider.model);
            state.totals.entry(total).or_default().requests += 1;
            None
        }
    };
    if let Some(refusal) = refusal {
        return refuse(out, Message::text(refusal.clone()).ephemeral(), refusal).await;
    }
    let interval = Duration::from_millis(settings.edit_interval_ms.max(1000));
    let mut live = Live::start(out, interval, provider.key.clone()).await?;
    let index = ensure_index(&host, plugin, &settings, asker).await;
    if !(provider.tools && tool_calls) {
        question.tools.clear();
    }
    let mut tokens = 0_u64;
    let mut answer = String::new();
    let mut outcome: Result<(), ProviderError> = Ok(());
    let mut provider = provider;
    for round in 0..=MAX_TOOL_ROUNDS {
        // Every request ends before the host's time limit on this command would cut the
        // reply short: the member gets an answer, never a "Thinking…" left hanging.
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_secs(1) {
            outcome = Err(ProviderError::Timeout(format!(
                "the command's time limit, `limits.command_seconds` or `limits.commands.{command}`"
            )));
            break;
        }
        provider.timeout_ms = provider
            .timeout_ms
            .min(u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
        let before = answer.clone();
        let reply = match exchange(&host, &provider, &question, &mut live, &before).await {
            Ok(reply) => reply,
            Err(error) => {
                outcome = Err(error);
                break;
            }
        };
        tokens += reply.tokens.unwrap_or_else(|| {
            let asked: usize = question.system.len()
                + question
                    .turns
                    .iter()
                    .map(|t| format!("{t:?}").len())
                    .sum::<usize>();
            ((asked + reply.text.len()) / 4) as u64
        });
        answer.push_str(&reply.text);
        if reply.calls.is_empty() || round == MAX_TOOL_ROUNDS {
            break;
        }
        let calls: Vec<ToolCall> = reply.calls.into_iter().take(8).collect();
        question.turns.push(Turn::Assistant {
            text: reply.text,
            calls: calls.clone(),
        });
        for call in calls {
            host.debug(format!("assistant tool call: {}", call.name));
            let result = tools::run(&host, asker, &index, &call).await;
            question.turns.push(Turn::Tool { call, result });
        }
    }
    let used = {
        let mut state = plugin.state();
        let total = format!("{} {}", provider.kind.name(), provider.model);
        state.totals.entry(total).or_default().tokens += tokens;
        let used = state.usage.entry((guild, today)).or_default();
        used.tokens += tokens;
        *used
    };
    save_usage(&host, asker.guild, today, used).await;
    let shown = match outcome {
        Ok(()) if answer.trim().is_empty() => "The model gave no answer.".to_owned(),
        Ok(()) => answer,
        Err(error) => {
            host.warn(format!("assistant: {error}"));
            let error = format!("⚠️ {}.", capitalise(&error.to_string()));
            if answer.trim().is_empty() {
                error
            } else {
                format!("{answer}\n\n{error}")
            }
        }
    };
    live.show(&shown, true).await?;
    Ok(live.shown.concat())
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const ASK_SYSTEM: &str = "You are the assistant built into a Zoryx Discord bot. Answer questions \
about this bot - its commands, plugins, health, databases, event hooks, automations, slash \
commands, permissions and documentation - from live data: call a tool rather than guess, and say \
when the data does not answer the question. Keep answers short and use Discord Markdown. Never \
reveal keys, tokens or secrets; only README.md and .md/.txt files under docs/ and data/ can be \
read.";

fn help_embed() -> Embed {
    Embed::new()
        .title("🤖 Assistant")
        .colour(palette::INFO)
        .description(
            "Ask about the bot with `/ask_zdbf ACTION [query] [file]`, or find plugins with \
             `zai QUESTION`.",
        )
        .field(
            "Actions",
            "`framework` the bot and its figures · `plugins` installed plugins · `diagnose` \
             health · `database` the databases · `file` a docs/ or data/ file · `extension` one \
             plugin · `slash` the slash command limit · `hooks` event hooks and breakers · \
             `automations` automations · `readme` the README · `permission` why a member \
             can't run a command (`@member command`)",
            false,
        )
        .field(
            "zai",
            "`zai QUESTION` · `zai find QUERY` · `zai list` · `zai status` · `zai refresh` \
             (owner) · `zai provider openai|gemini [model]`, `zai model NAME`, `zai usage` \
             (owner)",
            false,
        )
}

async fn ask_zdbf(ctx: CommandContext<Assistant>) -> PluginResult {
    let action: String = ctx.arg("action")?;
    let query: String = ctx.arg::<Option<String>>("query")?.unwrap_or_default();
    let file: Option<String> = ctx.arg::<Option<String>>("file")?;
    if action == "help" {
        ctx.reply(help_embed()).await?;
        return Ok(());
    }
    let question = zdbf_question(
        ctx.host(),
        ctx.data(),
        asker_of(&ctx),
        &action,
        &query,
        file.as_deref(),
    )
    .await;
    ask(&ctx, question, true).await
}

/// The question `/ask_zdbf ACTION QUERY [FILE]` asks (also the dashboard page's).
async fn zdbf_question(
    host: &Host,
    plugin: &Assistant,
    asker: Asker,
    action: &str,
    query: &str,
    file: Option<&str>,
) -> Question {
    let settings = settings(host).await;
    let mut system = format!(
        "{ASK_SYSTEM}\n\nThe member chose the topic `{action}`{}.",
        file.map(|f| format!(" and named `{f}`"))
            .unwrap_or_default()
    );
    let question = if query.trim().is_empty() {
        format!("Tell me about this bot's {action}.")
    } else {
        query.to_owned()
    };
    // Without function calling, the action's data is the context.
    if !settings.tools {
        let index = ensure_index(host, plugin, &settings, asker).await;
        for call in tools::calls_for(action, query, file) {
            let result = tools::run(host, asker, &index, &call).await;
            system.push_str(&format!("\n\nData from `{}`:\n{result}", call.name));
        }
    }
    Question {
        system,
        turns: vec![Turn::User(question)],
        tools: tools::specs(),
    }
}

async fn zai(ctx: CommandContext<Assistant>) -> PluginResult {
    let request: String = ctx.arg::<Option<String>>("request")?.unwrap_or_default();
    let request = request.trim();
    let (word, rest) = request
        .split_once(char::is_whitespace)
        .map_or((request, ""), |(w, r)| (w, r.trim()));
    let owner = ctx.invocation().is_owner;
    let owner_only = || async {
        ctx.reply(Message::text("Only the bot's owners may do that.").ephemeral())
            .await
            .map(|_| ())
    };
    match word.to_ascii_lowercase().as_str() {
        "" | "help" => {
            ctx.reply(help_embed()).await?;
            Ok(())
        }
        "find" | "search" => find(&ctx, rest).await,
        "list" => list(&ctx).await,
        "status" => status(&ctx).await,
        "refresh" if owner => refresh(&ctx).await,
        "provider" if owner => choose_provider(&ctx, rest).await,
        "model" if owner => choose_model(&ctx, rest).await,
        "usage" if owner => usage(&ctx).await,
        "refresh" | "provider" | "model" | "usage" => owner_only().await,
        "ask" => zai_ask(&ctx, rest).await,
        _ => zai_ask(&ctx, request).await,
    }
}

fn asker_of(ctx: &CommandContext<Assistant>) -> Asker {
    let invocation = ctx.invocation();
    Asker {
        user: invocation.author.id,
        guild: invocation.guild_id,
        channel: invocation.channel_id,
    }
}

async fn zai_ask(ctx: &CommandContext<Assistant>, question: &str) -> PluginResult {
    if question.is_empty() {
        ctx.reply("Ask a question: `zai is there a plugin for ticket transcripts?`")
            .await?;
        return Ok(());
    }
    let settings = settings(ctx.host()).await;
    let index = ensure_index(ctx.host(), ctx.data(), &settings, asker_of(ctx)).await;
    let found = tools::search(&index, question);
    let system = format!(
        "You help members of a Discord bot find plugins. Answer only from the search results \
         below. Name real plugins: for a marketplace plugin give its install command exactly \
         as listed; say when a plugin is already installed, and which command does the job. If \
         nothing fits, say so plainly.\n\nSearch results:\n{found}"
    );
    let question = Question {
        system,
        turns: vec![Turn::User(question.to_owned())],
        tools: Vec::new(),
    };
    ask(ctx, question, false).await
}

/// The index, built on first use.
async fn ensure_index(
    host: &Host,
    plugin: &Assistant,
    settings: &Settings,
    asker: Asker,
) -> Arc<Index> {
    let index = Arc::clone(&plugin.state().index);
    if !index.is_empty() {
        return index;
    }
    build_index(host, plugin, settings, asker).await.0
}

/// Builds the index and keeps it; also what could not be read.
async fn build_index(
    host: &Host,
    plugin: &Assistant,
    settings: &Settings,
    asker: Asker,
) -> (Arc<Index>, Vec<String>) {
    let mut docs = Vec::new();
    let mut problems = Vec::new();
    let mut installed = Vec::new();
    match host.report(zoryx_plugin_api::Report::Plugins).await {
        Ok(report) => {
            for plugin in report["plugins"].as_array().into_iter().flatten() {
                let name = plugin["name"].as_str().unwrap_or_default().to_owned();
                installed.push(name.to_lowercase());
                docs.push(Doc {
                    title: name,
                    source: Source::Installed,
                    text: format!(
                        "{} (v{}, by {}). Commands: {}",
                        plugin["description"].as_str().unwrap_or_default(),
                        plugin["version"].as_str().unwrap_or_default(),
                        plugin["author"].as_str().unwrap_or_default(),
                        plugin["commands"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    install: None,
                });
            }
        }
        Err(error) => problems.push(format!("installed plugins: {error}")),
    }
    match host
        .catalogue_for(asker.user, asker.guild, asker.channel)
        .await
    {
        Ok(catalogue) => {
            for info in catalogue.commands {
                docs.push(Doc {
                    title: info.spec.name.clone(),
                    source: Source::Command,
                    text: format!(
                        "{} Usage: {}. Plugin: {}.",
                        info.spec.description,
                        info.spec.usage(&catalogue.prefix),
                        info.plugin.as_deref().unwrap_or("the host")
                    ),
                    install: None,
                });
            }
        }
        Err(error) => problems.push(format!("commands: {error}")),
    }
    for file in &settings.docs {
        match host.project_file(file).await {
            Ok(text) => {
                for (heading, text) in search::sections(file, &text) {
                    docs.push(Doc {
                        title: heading,
                        source: Source::Doc,
                        text: text.chars().take(2000).collect(),
                        install: None,
                    });
                }
            }
            Err(error) => problems.push(format!("{file}: {error}")),
        }
    }
    let mut market = 0;
    if let Some(url) = settings.market_index.as_deref().filter(|u| !u.is_empty()) {
        match market_entries(host, url).await {
            Ok(entries) => {
                for entry in entries {
                    let is_installed = installed.contains(&entry.name.to_lowercase());
                    market += 1;
                    docs.push(Doc {
                        title: entry.name.clone(),
                        source: if is_installed {
                            Source::Installed
                        } else {
                            Source::Market
                        },
                        text: format!(
                            "{} Category: {}. Version {} by {}.{}",
                            entry.description,
                            entry.category,
                            entry.version,
                            entry.author,
                            if is_installed {
                                " Already installed."
                            } else {
                                ""
                            }
                        ),
                        install: (!is_installed)
                            .then(|| format!("zoryx market install {}", entry.name)),
                    });
                }
            }
            Err(error) => problems.push(format!("the marketplace index: {error}")),
        }
    }
    let index = Arc::new(Index::new(docs));
    let mut state = plugin.state();
    state.index = Arc::clone(&index);
    state.refreshed = Some(host.now());
    state.market = market;
    (index, problems)
}

/// One plugin of a marketplace index (`market/src/index.rs`'s format), its newest version.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct MarketEntry {
    name: String,
    version: String,
    description: String,
    category: String,
    author: String,
}

async fn market_entries(host: &Host, url: &str) -> PluginResult<Vec<MarketEntry>> {
    let response = host.http(HttpRequest::get(url)).await?;
    if !response.is_success() {
        return Err(PluginError::Internal(format!("HTTP {}", response.status)));
    }
    #[derive(Deserialize)]
    struct IndexFile {
        plugins: Vec<MarketEntry>,
    }
    let index: IndexFile = response.json()?;
    let mut newest: BTreeMap<String, MarketEntry> = BTreeMap::new();
    for entry in index.plugins {
        let newer = newest
            .get(&entry.name)
            .is_none_or(|old| version_key(&entry.version) > version_key(&old.version));
        if newer && !entry.name.is_empty() {
            newest.insert(entry.name.clone(), entry);
        }
    }
    Ok(newest.into_values().collect())
}

fn version_key(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

async fn find(ctx: &CommandContext<Assistant>, query: &str) -> PluginResult {
    if query.is_empty() {
        ctx.reply("Name what you are looking for: `zai find tickets`.")
            .await?;
        return Ok(());
    }
    let settings = settings(ctx.host()).await;
    let index = ensure_index(ctx.host(), ctx.data(), &settings, asker_of(ctx)).await;
    let found = index.search(query, 5);
    let mut embed = Embed::new()
        .title(format!("🔎 {}", clip(query, 200)))
        .colour(palette::INFO);
    if found.is_empty() {
        embed = embed.description("Nothing in the index matches. `zai refresh` rebuilds it.");
    }
    for (doc, _) in found {
        let mut text = clip(&doc.text, 300);
        if let Some(install) = &doc.install {
            text.push_str(&format!("\nInstall: `{install}`"));
        }
        embed = embed.field(
            format!("{} ({})", clip(&doc.title, 200), doc.source.label()),
            text,
            false,
        );
    }
    ctx.reply(embed).await?;
    Ok(())
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

async fn list(ctx: &CommandContext<Assistant>) -> PluginResult {
    let settings = settings(ctx.host()).await;
    let index = ensure_index(ctx.host(), ctx.data(), &settings, asker_of(ctx)).await;
    let names = |source: Source| {
        let list: Vec<String> = index
            .docs()
            .iter()
            .filter(|d| d.source == source)
            .map(|d| format!("`{}`", d.title))
            .collect();
        if list.is_empty() {
            "none".to_owned()
        } else {
            clip(&list.join(", "), 1000)
        }
    };
    let embed = Embed::new()
        .title("🧩 Plugins the assistant knows")
        .colour(palette::INFO)
        .field("Installed", names(Source::Installed), false)
        .field(
            "In the marketplace",
            if settings.market_index.is_some() {
                names(Source::Market)
            } else {
                "No marketplace index configured (`plugins.assistant.market_index`).".to_owned()
            },
            false,
        );
    ctx.reply(embed).await?;
    Ok(())
}

async fn status(ctx: &CommandContext<Assistant>) -> PluginResult {
    let host = ctx.host();
    let settings = settings(host).await;
    let guild = ctx.invocation().guild_id.map_or(0, |g| g.0);
    let (provider, docs, refreshed, market, used) = {
        let state = ctx.data().state();
        (
            provider_of(&settings, &state),
            state.index.len(),
            state.refreshed,
            state.market,
            state
                .usage
                .get(&(guild, day(host.now())))
                .copied()
                .unwrap_or_default(),
        )
    };
    let key_source = if settings.api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        "set (config)".to_owned()
    } else if std::env::var(&settings.api_key_env).is_ok_and(|k| !k.is_empty()) {
        format!("set (`{}`)", settings.api_key_env)
    } else {
        format!("not set (`{}`)", settings.api_key_env)
    };
    let mut embed = Embed::new()
        .title("🤖 Assistant status")
        .colour(palette::INFO);
    embed = match &provider {
        Ok(p) => embed
            .field("Provider", p.kind.name(), true)
            .field("Model", clip(&p.model, 100), true)
            .field("Endpoint", clip(&p.base_url, 200), true),
        Err(how) => embed.description(clip(how, 1000)),
    };
    let refreshed = refreshed
        .and_then(|t| host.now().duration_since(t).ok())
        .map_or("never".to_owned(), |d| format!("{} s ago", d.as_secs()));
    embed = embed
        .field("Key", key_source, true)
        .field(
            "Streaming / tools",
            format!(
                "{} / {}",
                if settings.stream { "on" } else { "off" },
                if settings.tools { "on" } else { "off" }
            ),
            true,
        )
        .field(
            "Index",
            format!("{docs} documents ({market} from the marketplace), built {refreshed}"),
            false,
        )
        .field(
            "Today in this server",
            format!(
                "{} of {} questions, {} of {} tokens",
                used.requests, settings.daily_requests, used.tokens, settings.daily_tokens
            ),
            false,
        )
        .field(
            "Cooldown",
            format!("{} s per member", settings.cooldown_seconds),
            true,
        );
    ctx.reply(embed).await?;
    Ok(())
}

async fn refresh(ctx: &CommandContext<Assistant>) -> PluginResult {
    let settings = settings(ctx.host()).await;
    let (index, problems) = build_index(ctx.host(), ctx.data(), &settings, asker_of(ctx)).await;
    let market = ctx.data().state().market;
    let mut embed = Embed::success(
        "Index rebuilt",
        &format!(
            "{} documents: installed plugins, commands, docs and {market} marketplace plugins.",
            index.len()
        ),
    );
    if !problems.is_empty() {
        embed = embed.field("Not read", clip(&problems.join("\n"), 1000), false);
    }
    ctx.reply(embed).await?;
    Ok(())
}

/// Writes `key` = `value` into the plugin's config section; whether it was saved.
async fn persist(host: &Host, key: &str, value: Value) -> bool {
    let mut section: Value = host
        .plugin_config::<Value>()
        .await
        .ok()
        .flatten()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    section[key] = value;
    host.set_plugin_config(&section).await.is_ok()
}

async fn choose_provider(ctx: &CommandContext<Assistant>, rest: &str) -> PluginResult {
    let mut words = rest.split_whitespace();
    let Some(kind) = words.next().and_then(Kind::parse) else {
        ctx.reply(
            "Name a provider: `zai provider openai [model]` or `zai provider gemini [model]`.",
        )
        .await?;
        return Ok(());
    };
    let model = words.next().map(str::to_owned);
    {
        let mut state = ctx.data().state();
        state.provider = Some(kind);
        state.model = model.clone();
    }
    let mut saved = persist(ctx.host(), "provider", json!(kind.name())).await;
    if let Some(model) = &model {
        saved &= persist(ctx.host(), "model", json!(model)).await;
    }
    ctx.reply(Embed::success(
        "Provider chosen",
        &format!(
            "Now `{}`{}{}",
            kind.name(),
            model.map(|m| format!(" with `{m}`")).unwrap_or_default(),
            if saved {
                " (saved in config.json)."
            } else {
                " (until restart: config.json could not be written)."
            }
        ),
    ))
    .await?;
    Ok(())
}

async fn choose_model(ctx: &CommandContext<Assistant>, rest: &str) -> PluginResult {
    let Some(model) = rest.split_whitespace().next() else {
        ctx.reply("Name a model: `zai model gemini-2.0-flash`.")
            .await?;
        return Ok(());
    };
    ctx.data().state().model = Some(model.to_owned());
    let saved = persist(ctx.host(), "model", json!(model)).await;
    ctx.reply(Embed::success(
        "Model chosen",
        &format!(
            "Now `{}`{}",
            clip(model, 100),
            if saved {
                " (saved in config.json)."
            } else {
                " (until restart: config.json could not be written)."
            }
        ),
    ))
    .await?;
    Ok(())
}

async fn usage(ctx: &CommandContext<Assistant>) -> PluginResult {
    let host = ctx.host();
    let settings = settings(host).await;
    let today = day(host.now());
    let (totals, servers) = {
        let state = ctx.data().state();
        let totals: Vec<String> = state
            .totals
            .iter()
            .map(|(model, u)| format!("`{model}`: {} questions, {} tokens", u.requests, u.tokens))
            .collect();
        let servers: Vec<String> = state
            .usage
            .iter()
            .filter(|((_, d), _)| *d == today)
            .map(|((g, _), u)| {
                let place = if *g == 0 {
                    "DMs".to_owned()
                } else {
                    format!("server {g}")
                };
                format!("{place}: {} questions, {} tokens", u.requests, u.tokens)
            })
            .collect();
        (totals, servers)
    };
    let or_none = |list: Vec<String>| {
        if list.is_empty() {
            "none yet".to_owned()
        } else {
            clip(&list.join("\n"), 1000)
        }
    };
    let embed = Embed::new()
        .title("📊 Assistant usage")
        .colour(palette::INFO)
        .field("Since start, by model", or_none(totals), false)
        .field("Today (UTC), by server", or_none(servers), false)
        .field(
            "Daily budget per server",
            format!(
                "{} questions, {} tokens",
                settings.daily_requests, settings.daily_tokens
            ),
            false,
        );
    ctx.reply(embed).await?;
    Ok(())
}

zoryx_plugin_api::export_plugin!(Assistant);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_servers_need_no_key_others_say_how_to_set_one() {
        let state = State::default();
        let local = Settings {
            api_key_env: "ZORYX_TEST_UNSET_KEY_VAR".into(),
            ..Settings::default()
        };
        assert!(provider_of(&local, &state).is_ok());
        let remote = Settings {
            provider: "gemini".into(),
            ..local.clone()
        };
        let how = provider_of(&remote, &state).expect_err("no key");
        assert!(how.contains("ZORYX_TEST_UNSET_KEY_VAR") && how.contains("http.allow.assistant"));
        let keyed = Settings {
            api_key: Some("k-123".into()),
            ..remote
        };
        assert_eq!(
            provider_of(&keyed, &state).expect("key").key.as_deref(),
            Some("k-123")
        );
    }

    #[test]
    fn keys_are_masked_in_anything_shown() {
        assert_eq!(
            redact("the key is sk-abcdef", Some("sk-abcdef")),
            "the key is ••••••••"
        );
        assert!(is_local("http://127.0.0.1:8080/v1") && is_local("http://localhost:11434/v1"));
        assert!(!is_local("https://api.openai.com/v1"));
    }
}
