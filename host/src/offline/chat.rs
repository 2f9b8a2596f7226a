//! The chat console: the operator's lines become messages from a simulated user in the
//! simulated guild; the bot's answers are printed as they arrive.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;
use zoryx_sim::{SimEvent, Simulator, UserInfo};

use super::form::{Form, Step};
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
    interactions: HashMap<u64, Asked>,
    /// The newest interaction injected whose first answer the printer has not seen yet.
    awaiting: Option<u64>,
    /// The form (modal) the bot showed last, while it is being filled.
    form: Option<Form>,
    /// The last suggestions shown, for `:pick`.
    suggestions: Option<Suggestions>,
}

/// What an injected interaction was, and who did it.
#[derive(Clone, Debug)]
struct Asked {
    /// `/ping`, `click poll:yes`, `form "Feedback"`.
    what: String,
    /// The user's name.
    by: String,
}

/// Suggestions shown for one option of a slash command, for `:pick`.
#[derive(Clone, Debug)]
struct Suggestions {
    /// The command.
    name: String,
    /// Its other options as typed.
    options: Vec<(String, String)>,
    /// The option the suggestions are for.
    option: String,
    /// The suggested values, as they would be typed.
    values: Vec<String>,
}

/// How long `:modal` waits for the form of a command or click it follows (Discord gives a bot
/// 3 s for its first answer).
const FORM_WAIT: Duration = Duration::from_secs(3);

/// How long suggestions are waited for (the host answers an autocomplete within 2.5 s).
const SUGGESTIONS_WAIT: Duration = Duration::from_secs(5);

/// A typed value for a message: quoted, new lines as `\n`.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\n', "\\n"))
}

/// Choices (`{"name", "value"}`, registered or suggested) as `(name, value)`, each value as it
/// would be typed: text as is, numbers in JSON.
fn choice_pairs(choices: &[Value]) -> Vec<(String, String)> {
    choices
        .iter()
        .map(|choice| {
            let name = choice
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let value = match choice.get("value") {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            (name, value)
        })
        .collect()
}

/// The chat console over a running simulator and host.
pub struct ChatConsole {
    sim: Simulator,
    manager: Arc<Manager>,
    guild: u64,
    channel: u64,
    state: Arc<Mutex<State>>,
    /// Woken whenever the printer has seen the first answer to an interaction.
    answered: Notify,
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
                awaiting: None,
                form: None,
                suggestions: None,
            })),
            answered: Notify::new(),
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

    /// `#name`, or `🔊name` for a voice channel.
    fn channel_name(&self, channel: u64) -> String {
        let mark = if self.is_voice(channel) { "🔊" } else { "#" };
        self.sim.channel_name(channel).map_or_else(
            || format!("channel {channel}"),
            |name| format!("{mark}{name}"),
        )
    }

    /// Prints what the bot does until the simulator stops. Spawned by [`ChatConsole::run`].
    async fn print_events(self: Arc<Self>) {
        let bot = self.sim.bot_user().name;
        let mut events = self.sim.subscribe();
        // The status the bot set when it connected, before this console listened.
        if let Some(presence) = self.sim.presence(0) {
            emit(&render::presence(&bot, &presence));
        }
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
            if let SimEvent::InteractionResponse { interaction_id, .. } = &event {
                let mut state = lock(&self.state);
                if state.awaiting == Some(*interaction_id) {
                    state.awaiting = None;
                }
                drop(state);
                self.answered.notify_waiters();
            }
        }
    }

    /// The console text for one simulator event, if it is worth showing.
    fn describe(&self, bot: &str, event: &SimEvent) -> Option<String> {
        match event {
            SimEvent::BotMessage {
                channel_id,
                message_id,
                reply_to,
                body,
            } => {
                let reply_to = reply_to.map(|id| {
                    let who = lock(&self.state).injected.get(&id).cloned();
                    match who {
                        Some(who) => format!("{who} {}", render::id(id)),
                        None => format!("message {}", render::id(id)),
                    }
                });
                let origin = Origin::Channel {
                    channel: self.channel_name(*channel_id),
                    reply_to,
                };
                let body = self.with_files(Some(*message_id), body);
                Some(render::render(bot, Some(*message_id), &origin, &body))
            }
            SimEvent::InteractionResponse {
                interaction_id,
                kind,
                body,
            } => {
                let what = self.interaction(*interaction_id);
                let message = self.response_message(*interaction_id);
                match kind {
                    4 => Some(render::render(
                        bot,
                        message,
                        &Origin::Interaction { what },
                        &self.with_files(message, body),
                    )),
                    5 => Some(format!("{bot} is thinking about {what}…")),
                    7 => Some(render::render(bot, None, &Origin::Edit, body)),
                    // Suggestions (8) are printed by the `:slash ...?` that asked for them.
                    9 => Some(self.show_form(bot, *interaction_id, &what, body)),
                    _ => None,
                }
            }
            SimEvent::Followup {
                interaction_id,
                message_id,
                body,
                ..
            } => {
                let what = self.interaction(*interaction_id);
                Some(render::render(
                    bot,
                    Some(*message_id),
                    &Origin::Followup { what },
                    &self.with_files(Some(*message_id), body),
                ))
            }
            SimEvent::OriginalEdited {
                interaction_id,
                body,
                deleted: false,
            } => {
                // A deferred answer (type 5) arrives as an edit of the original response.
                let what = self.interaction(*interaction_id);
                let message = self.response_message(*interaction_id);
                Some(render::render(
                    bot,
                    message,
                    &Origin::Interaction { what },
                    &self.with_files(message, body),
                ))
            }
            SimEvent::MessageEdited {
                message_id, body, ..
            } => Some(render::render(
                bot,
                Some(*message_id),
                &Origin::Edit,
                &self.with_files(Some(*message_id), body),
            )),
            SimEvent::PresenceUpdated { presence, .. } => Some(render::presence(bot, presence)),
            SimEvent::MessageDeleted {
                channel_id,
                message_id,
            } => Some(format!(
                "{bot} deleted message {} in {}",
                render::id(*message_id),
                self.channel_name(*channel_id)
            )),
            SimEvent::MessagesBulkDeleted {
                channel_id,
                message_ids,
            } => Some(format!(
                "{bot} deleted {} messages in {}: {}",
                message_ids.len(),
                self.channel_name(*channel_id),
                message_ids
                    .iter()
                    .map(|m| render::id(*m))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            SimEvent::BotReactionAdded {
                message_id, emoji, ..
            } => Some(format!(
                "{bot} reacted {emoji} to {}",
                render::id(*message_id)
            )),
            SimEvent::BotReactionRemoved {
                message_id,
                emoji,
                user_id,
                ..
            } => Some(if self.sim.bot_user().id == *user_id {
                format!("{bot} took back its {emoji} on {}", render::id(*message_id))
            } else {
                let who = self
                    .user_name(*user_id)
                    .unwrap_or_else(|| format!("user {user_id}"));
                format!(
                    "{bot} removed {who}'s {emoji} from {}",
                    render::id(*message_id)
                )
            }),
            SimEvent::BotReactionsCleared {
                message_id, emoji, ..
            } => Some(match emoji {
                Some(emoji) => format!(
                    "{bot} cleared the {emoji} reactions of {}",
                    render::id(*message_id)
                ),
                None => format!("{bot} cleared the reactions of {}", render::id(*message_id)),
            }),
            SimEvent::MemberKicked { user_id, .. } => Some(format!(
                "{bot} kicked {}",
                self.user_name(*user_id)
                    .unwrap_or_else(|| format!("user {user_id}"))
            )),
            SimEvent::MemberBanned { user_id, .. } => Some(format!(
                "{bot} banned {}",
                self.user_name(*user_id)
                    .unwrap_or_else(|| format!("user {user_id}"))
            )),
            SimEvent::MemberUnbanned { user_id, .. } => Some(format!(
                "{bot} lifted the ban of {}",
                self.user_name(*user_id)
                    .unwrap_or_else(|| format!("user {user_id}"))
            )),
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

    /// `body` with the files of the stored message `message`, their sizes included (see
    /// [`render::with_stored_files`]).
    fn with_files(&self, message: Option<u64>, body: &Value) -> Value {
        let stored = message.and_then(|id| self.sim.message(id));
        render::with_stored_files(body, stored.as_ref().map(|m| &m.payload["attachments"]))
    }

    /// The message an interaction's response became, if the simulator stored one in the
    /// console's channel: the first tied to the interaction (followups come after it).
    fn response_message(&self, interaction: u64) -> Option<u64> {
        self.sim
            .messages(self.channel)
            .iter()
            .find(|m| m.interaction_id == Some(interaction))
            .map(|m| m.id)
    }

    fn interaction(&self, id: u64) -> String {
        lock(&self.state).interactions.get(&id).map_or_else(
            || format!("interaction {id}"),
            |asked| format!("{} by {}", asked.what, asked.by),
        )
    }

    /// Records an interaction the console injected, as the newest awaiting its answer.
    fn asked(&self, id: u64, what: String, by: &str) {
        let mut state = lock(&self.state);
        state.interactions.insert(
            id,
            Asked {
                what,
                by: by.to_owned(),
            },
        );
        state.awaiting = Some(id);
    }

    /// A modal the bot answered `interaction` with: kept as the open form (replacing one left
    /// open, as a new modal does on Discord) and shown with the question for its first field.
    fn show_form(&self, bot: &str, interaction: u64, what: &str, modal: &Value) -> String {
        let form = Form::from_modal(interaction, modal);
        let mut out = format!("{bot} answering {what} with a form:\n{}", form.render());
        match form.prompt() {
            Some(prompt) => out.push_str(&prompt),
            None => out.push_str("(nothing to fill: `:modal` submits it)"),
        }
        lock(&self.state).form = Some(form);
        out
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
            Line::Empty if self.form_open() => self.answer("").await,
            Line::Empty => String::new(),
            Line::Quit => return None,
            Line::Say(text) if self.form_open() => self.answer(&text).await,
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
            Line::Complete {
                name,
                options,
                option,
                typed,
            } => self.complete(&name, options, &option, &typed).await,
            Line::Pick(n) => self.pick(n).await,
            Line::Modal(fields) => self.fill_form(&fields).await,
            Line::Cancel => match lock(&self.state).form.take() {
                Some(form) => format!("closed the form \"{}\" without submitting it", form.title),
                None => "no form is open".to_owned(),
            },
            Line::Click { custom_id, values } => self.click(&custom_id, values).await,
            Line::React { message, emoji } => self.react(message, &emoji).await,
            Line::Edit { message, text } => self.edit(message, &text).await,
            Line::Delete { message } => self.delete(message).await,
            Line::History(count) => self.history(count),
            Line::Join(name) => self.join(&name).await,
            Line::Leave => self.leave().await,
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

    fn is_voice(&self, channel: u64) -> bool {
        self.sim
            .channel(channel)
            .is_some_and(|c| c.get("type").and_then(Value::as_u64) == Some(2))
    }

    /// The current user reacts to a message.
    async fn react(&self, message: u64, emoji: &str) -> String {
        let Some(record) = self.sim.message(message) else {
            return format!("no message {}", render::id(message));
        };
        let me = self.current_user();
        match self
            .sim
            .inject_reaction(record.channel_id, message, me.id, emoji)
            .await
        {
            Ok(()) => format!("{} reacted {emoji} to {}", me.name, render::id(message)),
            Err(error) => format!("could not react: {error}"),
        }
    }

    /// The current user edits their message.
    async fn edit(&self, message: u64, text: &str) -> String {
        let me = self.current_user();
        match self.sim.inject_edit(message, me.id, text).await {
            Ok(()) => format!("{} edited {}", me.name, render::id(message)),
            Err(error) => format!("could not edit: {error}"),
        }
    }

    /// The current user deletes a message (theirs, or anyone's with MANAGE_MESSAGES).
    async fn delete(&self, message: u64) -> String {
        let me = self.current_user();
        match self.sim.inject_delete(message, me.id).await {
            Ok(()) => format!("{} deleted {}", me.name, render::id(message)),
            Err(error) => format!("could not delete: {error}"),
        }
    }

    /// The channel's last `count` messages, oldest first, with their ids.
    fn history(&self, count: usize) -> String {
        let messages = self.sim.messages(self.channel);
        if messages.is_empty() {
            return format!("no messages in {} yet", self.channel_name(self.channel));
        }
        let skip = messages.len().saturating_sub(count);
        let mut out = format!("last messages in {}:", self.channel_name(self.channel));
        for m in &messages[skip..] {
            let author = self
                .user_name(m.author_id)
                .unwrap_or_else(|| format!("user {}", m.author_id));
            let edited = if m.payload["edited_timestamp"].is_string() {
                " (edited)"
            } else {
                ""
            };
            let mut text = m.content.lines().next().unwrap_or_default().to_owned();
            if text.chars().count() > 80 {
                text = format!("{}…", text.chars().take(79).collect::<String>());
            }
            if text.is_empty()
                && m.payload["embeds"]
                    .as_array()
                    .is_some_and(|e| !e.is_empty())
            {
                text = "(embed)".to_owned();
            }
            out.push_str(&format!(
                "\n  {} {author}{edited}: {text}",
                render::id(m.id)
            ));
            for file in m.payload["attachments"].as_array().into_iter().flatten() {
                out.push_str(&format!("\n    {}", render::attachment(file)));
            }
        }
        render::name_mentions(&out, |id| self.user_name(id))
    }

    /// The guild's voice channel called `name` (case-insensitive).
    fn voice_channel(&self, name: &str) -> Result<u64, String> {
        let voice: Vec<(u64, String)> = self
            .sim
            .channels(self.guild)
            .into_iter()
            .filter(|id| self.is_voice(*id))
            .filter_map(|id| Some((id, self.sim.channel_name(id)?)))
            .collect();
        if let Some((id, _)) = voice.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
            return Ok(*id);
        }
        let names: Vec<&str> = voice.iter().map(|(_, n)| n.as_str()).collect();
        Err(if names.is_empty() {
            format!("no voice channel `{name}`: the guild has none")
        } else {
            format!(
                "no voice channel `{name}`; voice channels: {}",
                names.join(", ")
            )
        })
    }

    /// The current user joins the voice channel `name`, or moves there from another.
    async fn join(&self, name: &str) -> String {
        let channel = match self.voice_channel(name) {
            Ok(channel) => channel,
            Err(text) => return text,
        };
        let me = self.current_user();
        let shown = self.channel_name(channel);
        let result = match self.sim.voice_channel(self.guild, me.id) {
            Some(now) if now == channel => return format!("{} is in {shown} already", me.name),
            Some(_) => self.sim.inject_voice_move(self.guild, channel, me.id).await,
            None => self.sim.inject_voice_join(self.guild, channel, me.id).await,
        };
        match result {
            Ok(()) => format!("{} joined {shown}", me.name),
            Err(error) => format!("could not join {shown}: {error}"),
        }
    }

    /// The current user leaves voice.
    async fn leave(&self) -> String {
        let me = self.current_user();
        let Some(channel) = self.sim.voice_channel(self.guild, me.id) else {
            return format!("{} is in no voice channel", me.name);
        };
        match self.sim.inject_voice_leave(self.guild, me.id).await {
            Ok(()) => format!("{} left {}", me.name, self.channel_name(channel)),
            Err(error) => format!("could not leave voice: {error}"),
        }
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

    /// The registered options of a slash command.
    fn declared_options(command: &Value) -> Vec<Value> {
        command
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// The registered option `key` of `/name`, or a line naming its options.
    fn declared<'a>(name: &str, declared: &'a [Value], key: &str) -> Result<&'a Value, String> {
        declared
            .iter()
            .find(|o| o.get("name").and_then(Value::as_str) == Some(key))
            .ok_or_else(|| {
                let known: Vec<&str> = declared
                    .iter()
                    .filter_map(|o| o.get("name").and_then(Value::as_str))
                    .collect();
                format!(
                    "/{name} has no option `{key}`; its options: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )
            })
    }

    /// Typed options as the `data.options` Discord sends for `/name`.
    fn typed_options(
        &self,
        name: &str,
        declared: &[Value],
        options: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let mut sent = Vec::new();
        for (key, value) in options {
            let option = Self::declared(name, declared, key)?;
            let kind = option.get("type").and_then(Value::as_u64).unwrap_or(3);
            match self.option_value(kind, value) {
                Ok(value) => sent.push(json!({"name": key, "type": kind, "value": value})),
                Err(text) => return Err(format!("option `{key}`: {text}")),
            }
        }
        Ok(sent)
    }

    async fn slash(&self, name: &str, options: &[(String, String)]) -> String {
        let command = match self.slash_command(name) {
            Ok(command) => command,
            Err(text) => return text,
        };
        let declared = Self::declared_options(&command);
        let sent = match self.typed_options(name, &declared, options) {
            Ok(sent) => sent,
            Err(text) => return text,
        };
        let me = self.current_user();
        match self
            .sim
            .inject_slash(self.guild, self.channel, me.id, name, Value::Array(sent))
            .await
        {
            Ok(id) => {
                self.asked(id, format!("/{name}"), &me.name);
                String::new()
            }
            Err(error) => format!("could not run /{name}: {error}"),
        }
    }

    /// `:slash NAME option=typed?`: what Discord's client lists while `option` is typed — the
    /// bot's suggestions (an autocomplete interaction answered with type 8) for an option
    /// marked autocomplete, the registered choices matching what is typed for an option with
    /// choices. Numbered for `:pick`.
    async fn complete(
        &self,
        name: &str,
        options: Vec<(String, String)>,
        option: &str,
        typed: &str,
    ) -> String {
        let command = match self.slash_command(name) {
            Ok(command) => command,
            Err(text) => return text,
        };
        let declared = Self::declared_options(&command);
        let focused = match Self::declared(name, &declared, option) {
            Ok(focused) => focused.clone(),
            Err(text) => return text,
        };
        let asked = format!("/{name} {option} {}", quoted(typed));
        if focused.get("autocomplete").and_then(Value::as_bool) != Some(true) {
            return match focused.get("choices").and_then(Value::as_array) {
                Some(choices) if !choices.is_empty() => {
                    self.fixed_choices(name, options, option, typed, choices)
                }
                _ => format!(
                    "/{name}'s option `{option}` has no autocomplete and no choices: Discord's \
                     client suggests nothing for it (type the value: `:slash {name} {option}=…`)"
                ),
            };
        }
        let others = match self.typed_options(name, &declared, &options) {
            Ok(others) => others,
            Err(text) => return text,
        };
        let me = self.current_user();
        let bot = self.sim.bot_user().name;
        // Subscribed before asking, so the answer cannot come first.
        let mut events = self.sim.subscribe();
        let id = match self
            .sim
            .inject_autocomplete(
                self.guild,
                self.channel,
                me.id,
                name,
                (option, typed),
                Value::Array(others),
            )
            .await
        {
            Ok(id) => id,
            Err(error) => return format!("could not ask for suggestions: {error}"),
        };
        let answer = async {
            loop {
                match events.recv().await {
                    Ok(SimEvent::InteractionResponse {
                        interaction_id,
                        body,
                        ..
                    }) if interaction_id == id => return Some(body),
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                }
            }
        };
        let Ok(Some(body)) = tokio::time::timeout(SUGGESTIONS_WAIT, answer).await else {
            return format!(
                "{bot} answered nothing for {asked} within {}s",
                SUGGESTIONS_WAIT.as_secs()
            );
        };
        let choices = choice_pairs(
            body.get("choices")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        );
        if choices.is_empty() {
            return format!("{bot} suggests nothing for {asked}");
        }
        let header = format!("{bot} suggests for {asked}:");
        self.numbered(header, name, options, option, choices)
    }

    /// The registered choices of an option matching what is typed (Discord's client lists
    /// them itself: the bot is not asked).
    fn fixed_choices(
        &self,
        name: &str,
        options: Vec<(String, String)>,
        option: &str,
        typed: &str,
        choices: &[Value],
    ) -> String {
        let all = choice_pairs(choices);
        let wanted = typed.to_lowercase();
        let matching: Vec<(String, String)> = all
            .iter()
            .filter(|(n, v)| {
                n.to_lowercase().contains(&wanted) || v.to_lowercase().contains(&wanted)
            })
            .cloned()
            .collect();
        if matching.is_empty() {
            let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
            return format!(
                "no choice of /{name} {option} matches {}; its choices: {}",
                quoted(typed),
                names.join(", ")
            );
        }
        let header = format!(
            "/{name}'s option `{option}` has fixed choices (Discord's client lists them; the bot \
             is not asked):"
        );
        self.numbered(header, name, options, option, matching)
    }

    /// Suggestions numbered under `header`, kept for `:pick`.
    fn numbered(
        &self,
        header: String,
        name: &str,
        options: Vec<(String, String)>,
        option: &str,
        choices: Vec<(String, String)>,
    ) -> String {
        let mut out = header;
        for (n, (label, value)) in choices.iter().enumerate() {
            out.push_str(&format!("\n  {}. {label} → {value}", n + 1));
        }
        out.push_str(&format!(
            "\n`:pick N` runs /{name} with {option} set to suggestion N"
        ));
        lock(&self.state).suggestions = Some(Suggestions {
            name: name.to_owned(),
            options,
            option: option.to_owned(),
            values: choices.into_iter().map(|(_, v)| v).collect(),
        });
        out
    }

    /// `:pick N`: runs the command of the last suggestions with suggestion N.
    async fn pick(&self, n: usize) -> String {
        let Some(suggestions) = lock(&self.state).suggestions.clone() else {
            return "no suggestions to pick from: ask with `:slash NAME option=typed?`".to_owned();
        };
        let Some(value) = n.checked_sub(1).and_then(|i| suggestions.values.get(i)) else {
            return format!(
                "there are {} suggestions: pick 1 to {}",
                suggestions.values.len(),
                suggestions.values.len()
            );
        };
        let mut options = suggestions.options;
        options.push((suggestions.option, value.clone()));
        self.slash(&suggestions.name, &options).await
    }

    fn form_open(&self) -> bool {
        lock(&self.state).form.is_some()
    }

    /// One plain line answers the open form's current field; after the last, it is submitted.
    async fn answer(&self, line: &str) -> String {
        let step = match lock(&self.state).form.as_mut() {
            Some(form) => form.answer(line),
            None => return "no form is open".to_owned(),
        };
        match step {
            Step::Again(text) | Step::Next(text) => text,
            Step::Done => self.submit().await,
        }
    }

    /// Waits (up to [`FORM_WAIT`]) for a form when the newest interaction the console sent
    /// has not been answered yet: `:modal` may follow the command or click at once.
    async fn wait_for_form(&self) -> bool {
        let deadline = tokio::time::Instant::now() + FORM_WAIT;
        loop {
            let answered = self.answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            {
                let state = lock(&self.state);
                if state.form.is_some() {
                    return true;
                }
                if state.awaiting.is_none() {
                    return false;
                }
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                return self.form_open();
            }
        }
    }

    /// `:modal [field=value ...]`: fills the open form and submits it.
    async fn fill_form(&self, fields: &[(String, String)]) -> String {
        if !self.wait_for_form().await {
            return "no form is open: a command or a button of the bot shows one".to_owned();
        }
        let filled = match lock(&self.state).form.as_mut() {
            Some(form) => form.fill(fields),
            None => return "no form is open".to_owned(),
        };
        match filled {
            Ok(()) => self.submit().await,
            Err(text) => text,
        }
    }

    /// Submits the open form, once Discord's client would: a MODAL_SUBMIT interaction
    /// through the simulator, from the user who was shown it. A form the client would not
    /// submit (a required field empty, a value outside its lengths) stays open, unsent.
    async fn submit(&self) -> String {
        let Some(form) = lock(&self.state).form.take() else {
            return "no form is open".to_owned();
        };
        if let Err(why) = form.check() {
            let title = form.title.clone();
            lock(&self.state).form = Some(form);
            return format!(
                "not submitted (Discord's client would not send it): {why}; \"{title}\" is \
                 still open: `:modal field=value ...` again, or `:cancel`"
            );
        }
        let values = form.values();
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|(id, value)| (id.as_str(), value.as_str()))
            .collect();
        let shown_to = lock(&self.state)
            .interactions
            .get(&form.interaction)
            .map(|asked| asked.by.clone());
        let by = shown_to.unwrap_or_else(|| self.current_user().name);
        match self.sim.inject_modal_submit(form.interaction, &pairs).await {
            Ok(id) => {
                self.asked(id, format!("form \"{}\"", form.title), &by);
                let shown: Vec<String> = values
                    .iter()
                    .map(|(id, value)| format!("{id}={}", quoted(value)))
                    .collect();
                format!(
                    "{by} submitted the form \"{}\": {}",
                    form.title,
                    shown.join(" ")
                )
            }
            Err(error) => format!("could not submit the form \"{}\": {error}", form.title),
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
                self.asked(id, format!("click {custom_id}"), &me.name);
                String::new()
            }
            Err(error) => format!("could not click `{custom_id}`: {error}"),
        }
    }
}
