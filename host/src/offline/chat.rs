//! The chat console: the operator's lines become messages from a simulated user in the
//! simulated guild; the bot's answers are printed as they arrive.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use zoryx_sim::{SimEvent, Simulator, UserInfo};

use super::line::{self, Line};
use super::render::{self, Origin};
use crate::console;
use crate::manager::Manager;

/// Writes console output to stdout in one piece, so lines from the bot and from commands never
/// interleave mid-line.
pub(crate) fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}

/// Who is who and what was injected, shared by the input loop and the event printer.
#[derive(Debug)]
struct State {
    /// Known users by lower-case name.
    users: BTreeMap<String, UserInfo>,
    /// The user the operator speaks as.
    current: UserInfo,
    /// Injected message id → who wrote it.
    injected: HashMap<u64, String>,
    /// Injected interaction id → what it was (`/ping`, `click poll:yes`), and by whom.
    interactions: HashMap<u64, String>,
}

/// The chat console over a running simulator and host.
pub struct ChatConsole {
    sim: Simulator,
    manager: Arc<Manager>,
    guild: u64,
    channel: u64,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ChatConsole {
    /// A console speaking as the simulator's owner in its default guild and channel.
    pub fn new(sim: Simulator, manager: Arc<Manager>) -> Self {
        let owner = sim.owner();
        let guest = sim.guest();
        let users = [&owner, &guest]
            .into_iter()
            .map(|u| (u.name.to_lowercase(), u.clone()))
            .collect();
        Self {
            guild: sim.default_guild(),
            channel: sim.default_channel(),
            state: Arc::new(Mutex::new(State {
                users,
                current: owner,
                injected: HashMap::new(),
                interactions: HashMap::new(),
            })),
            sim,
            manager,
        }
    }

    /// The user the operator currently speaks as.
    pub fn current_user(&self) -> UserInfo {
        lock(&self.state).current.clone()
    }

    /// The banner: offline mode, where you are, who you are, what to try.
    pub fn banner(&self) -> String {
        let me = self.current_user();
        format!(
            "Zoryx offline mode: no DISCORD_TOKEN, so the bot is connected to a built-in Discord simulator.\n\
             guild: {} ({}), channel: {} ({})\n\
             you are {} (the bot owner). Type chat lines, or `:commands`.\n\
             try: !ping   !hello   !echo hi   :as guest   :help   :quit",
            self.guild_name(),
            self.guild,
            self.channel_name(self.channel),
            self.channel,
            me.name,
        )
    }

    fn guild_name(&self) -> String {
        self.sim
            .guild_name(self.guild)
            .unwrap_or_else(|| format!("guild {}", self.guild))
    }

    fn channel_name(&self, channel: u64) -> String {
        self.sim
            .channel_name(channel)
            .map_or_else(|| format!("channel {channel}"), |name| format!("#{name}"))
    }

    /// Prints what the bot does until the simulator stops. Spawned by [`ChatConsole::run`].
    async fn print_events(self: Arc<Self>) {
        let bot = self.sim.bot_user().name;
        let mut events = self.sim.subscribe();
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    emit(&format!("({missed} bot events were too many to print)"));
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            if let Some(text) = self.describe(&bot, &event) {
                emit(&render::name_mentions(&text, |id| self.user_name(id)));
            }
        }
    }

    /// The console text for one simulator event, if it is worth showing.
    fn describe(&self, bot: &str, event: &SimEvent) -> Option<String> {
        match event {
            SimEvent::BotMessage {
                channel_id,
                reply_to,
                body,
                ..
            } => {
                let reply_to = reply_to.map(|id| {
                    lock(&self.state)
                        .injected
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| format!("message {id}"))
                });
                let origin = Origin::Channel {
                    channel: self.channel_name(*channel_id),
                    reply_to,
                };
                Some(render::render(bot, &origin, body))
            }
            SimEvent::InteractionResponse {
                interaction_id,
                kind,
                body,
            } => {
                let what = self.interaction(*interaction_id);
                match kind {
                    4 => Some(render::render(bot, &Origin::Interaction { what }, body)),
                    5 => Some(format!("{bot} is thinking about {what}…")),
                    7 => Some(render::render(bot, &Origin::Edit, body)),
                    _ => None,
                }
            }
            SimEvent::Followup {
                interaction_id,
                body,
                ..
            } => {
                let what = self.interaction(*interaction_id);
                Some(render::render(bot, &Origin::Followup { what }, body))
            }
            SimEvent::OriginalEdited {
                interaction_id,
                body,
                deleted: false,
            } => {
                // A deferred answer (type 5) arrives as an edit of the original response.
                let what = self.interaction(*interaction_id);
                Some(render::render(bot, &Origin::Interaction { what }, body))
            }
            SimEvent::MessageEdited { body, .. } => Some(render::render(bot, &Origin::Edit, body)),
            SimEvent::MessageDeleted { message_id, .. } => {
                Some(format!("{bot} deleted message {message_id}"))
            }
            SimEvent::Resumed { replayed, .. } => Some(format!(
                "(gateway session resumed; {replayed} missed events replayed)"
            )),
            SimEvent::Disconnected {
                code: Some(code), ..
            } => Some(format!("(gateway session dropped with close code {code})")),
            _ => None,
        }
    }

    /// The name of a known user, the bot included.
    fn user_name(&self, id: u64) -> Option<String> {
        let known = lock(&self.state)
            .users
            .values()
            .find(|u| u.id == id)
            .map(|u| u.name.clone());
        known.or_else(|| self.sim.user(id).map(|u| u.name))
    }

    fn interaction(&self, id: u64) -> String {
        lock(&self.state)
            .interactions
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("interaction {id}"))
    }

    /// Reads `input` until `:quit` or its end, printing the bot's answers meanwhile.
    pub async fn run(self, mut input: console::Input) -> console::Ended {
        let console = Arc::new(self);
        let printer = tokio::spawn(Arc::clone(&console).print_events());
        emit(&console.banner());
        let mut ended = console::Ended::EndOfInput;
        while let Some(text) = input.next().await {
            match console.execute(line::parse(&text)).await {
                Some(reply) if !reply.is_empty() => emit(&reply),
                Some(_) => {}
                None => {
                    ended = console::Ended::Quit;
                    break;
                }
            }
        }
        printer.abort();
        ended
    }

    /// Runs one parsed line; returns the text to show (often empty: the bot answers on its
    /// own), or `None` to quit.
    pub async fn execute(&self, line: Line) -> Option<String> {
        let text = match line {
            Line::Empty => String::new(),
            Line::Quit => return None,
            Line::Say(text) => self.say(&text).await,
            Line::Help => {
                let operator = console::execute(&self.manager, "help")
                    .await
                    .unwrap_or_default();
                format!("{}\n{operator}", line::HELP)
            }
            Line::As(name) => self.switch_user(&name).await,
            Line::Users => self.users(),
            Line::Slash { name, options } => self.slash(&name, &options).await,
            Line::Click { custom_id, values } => self.click(&custom_id, values).await,
            Line::Guild => self.guild_info(),
            Line::Channel => format!(
                "channel {} ({}) in {}",
                self.channel_name(self.channel),
                self.channel,
                self.guild_name()
            ),
            Line::Drop => {
                self.sim.drop_session(4000).await;
                "dropped the gateway session (close code 4000); the bot will resume".into()
            }
            Line::Operator(command) => match console::execute(&self.manager, &command).await {
                Some(text) => text,
                None => return None,
            },
            Line::Usage(usage) => usage.to_owned(),
        };
        Some(text)
    }

    async fn say(&self, text: &str) -> String {
        let me = self.current_user();
        match self.sim.inject_message(self.channel, me.id, text).await {
            Ok(id) => {
                lock(&self.state).injected.insert(id, me.name);
                String::new()
            }
            Err(error) => format!("could not send: {error}"),
        }
    }

    async fn switch_user(&self, name: &str) -> String {
        let key = name.to_lowercase();
        let known = lock(&self.state).users.get(&key).cloned();
        let (user, created) = match known {
            Some(user) => (user, false),
            None => {
                let user = self.sim.add_user(name);
                if let Err(error) = self.sim.add_member(self.guild, user.id) {
                    return format!("could not add {name} to the guild: {error}");
                }
                lock(&self.state).users.insert(key, user.clone());
                (user, true)
            }
        };
        let role = if user.id == self.sim.owner().id {
            "the bot owner"
        } else {
            "a plain member"
        };
        let text = if created {
            format!(
                "created {} ({}), {role}; you are now {}",
                user.name, user.id, user.name
            )
        } else {
            format!("you are now {} ({role})", user.name)
        };
        lock(&self.state).current = user;
        text
    }

    fn users(&self) -> String {
        let state = lock(&self.state);
        let owner = self.sim.owner().id;
        let mut out = String::from("users:");
        for user in state.users.values() {
            let me = if user.id == state.current.id {
                "  ← you"
            } else {
                ""
            };
            let role = if user.id == owner { " (owner)" } else { "" };
            out.push_str(&format!("\n  {} {}{role}{me}", user.name, user.id));
        }
        let bot = self.sim.bot_user();
        out.push_str(&format!("\n  {} {} (the bot)", bot.name, bot.id));
        out
    }

    fn guild_info(&self) -> String {
        let channels = self
            .sim
            .channels(self.guild)
            .into_iter()
            .map(|id| {
                let here = if id == self.channel { " ← here" } else { "" };
                format!("\n  {} {id}{here}", self.channel_name(id))
            })
            .collect::<String>();
        format!(
            "guild {} ({}), channels:{channels}",
            self.guild_name(),
            self.guild
        )
    }

    /// Finds the registered slash command `name` (guild commands first, then global).
    fn slash_command(&self, name: &str) -> Result<Value, String> {
        let mut all = self.sim.registered_commands(Some(self.guild));
        all.extend(self.sim.registered_commands(None));
        if let Some(command) = all
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
        {
            return Ok(command.clone());
        }
        let mut names: Vec<&str> = all
            .iter()
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        Err(if names.is_empty() {
            format!("no slash command `{name}`: the bot has registered none yet")
        } else {
            format!(
                "no slash command `{name}`; registered: {}",
                names.join(", ")
            )
        })
    }

    /// One typed option value as the JSON Discord would send for the option's type.
    fn option_value(&self, kind: u64, value: &str) -> Result<Value, String> {
        let id = |what: &str| -> Result<Value, String> {
            // An id, or a mention: <@id>, <@!id>, <@&id>, <#id>.
            let bare = value
                .trim_start_matches(['<', '@', '!', '&', '#'])
                .trim_end_matches('>');
            if !bare.is_empty() && bare.parse::<u64>().is_ok() {
                return Ok(json!(bare));
            }
            if what == "user"
                && let Some(user) = lock(&self.state).users.get(&value.to_lowercase())
            {
                return Ok(json!(user.id.to_string()));
            }
            let wanted = value.trim_start_matches('#');
            if what == "channel"
                && let Some(id) = self
                    .sim
                    .channels(self.guild)
                    .into_iter()
                    .find(|id| self.sim.channel_name(*id).as_deref() == Some(wanted))
            {
                return Ok(json!(id.to_string()));
            }
            Err(format!("`{value}` is not a {what} (a name or an id)"))
        };
        match kind {
            4 => value
                .parse::<i64>()
                .map(|n| json!(n))
                .map_err(|_| format!("`{value}` is not an integer")),
            10 => value
                .parse::<f64>()
                .map(|n| json!(n))
                .map_err(|_| format!("`{value}` is not a number")),
            5 => match value.to_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(json!(true)),
                "false" | "no" | "off" | "0" => Ok(json!(false)),
                _ => Err(format!("`{value}` is not true or false")),
            },
            6 => id("user"),
            7 => id("channel"),
            8 => id("role"),
            9 => id("user"),
            _ => Ok(json!(value)),
        }
    }

    async fn slash(&self, name: &str, options: &[(String, String)]) -> String {
        let command = match self.slash_command(name) {
            Ok(command) => command,
            Err(text) => return text,
        };
        let declared = command
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut sent = Vec::new();
        for (key, value) in options {
            let Some(option) = declared
                .iter()
                .find(|o| o.get("name").and_then(Value::as_str) == Some(key))
            else {
                let known: Vec<&str> = declared
                    .iter()
                    .filter_map(|o| o.get("name").and_then(Value::as_str))
                    .collect();
                return format!(
                    "/{name} has no option `{key}`; its options: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                );
            };
            let kind = option.get("type").and_then(Value::as_u64).unwrap_or(3);
            match self.option_value(kind, value) {
                Ok(value) => sent.push(json!({"name": key, "type": kind, "value": value})),
                Err(text) => return format!("option `{key}`: {text}"),
            }
        }
        let me = self.current_user();
        match self
            .sim
            .inject_slash(self.guild, self.channel, me.id, name, Value::Array(sent))
            .await
        {
            Ok(id) => {
                lock(&self.state)
                    .interactions
                    .insert(id, format!("/{name} by {}", me.name));
                String::new()
            }
            Err(error) => format!("could not run /{name}: {error}"),
        }
    }

    /// The newest message in the channel that carries a component `custom_id`.
    fn message_with(&self, custom_id: &str) -> Option<u64> {
        self.sim
            .messages(self.channel)
            .into_iter()
            .filter(|m| {
                render::custom_ids(&m.payload)
                    .iter()
                    .any(|id| id == custom_id)
            })
            .map(|m| m.id)
            .max()
    }

    async fn click(&self, custom_id: &str, values: Vec<String>) -> String {
        let Some(message) = self.message_with(custom_id) else {
            return format!("no bot message in this channel has a component `{custom_id}`");
        };
        let me = self.current_user();
        match self
            .sim
            .inject_component(message, me.id, custom_id, values)
            .await
        {
            Ok(id) => {
                lock(&self.state)
                    .interactions
                    .insert(id, format!("click {custom_id} by {}", me.name));
                String::new()
            }
            Err(error) => format!("could not click `{custom_id}`: {error}"),
        }
    }
}
