//! The command path shared by messages and slash commands: find the command (a built-in first,
//! then a plugin's), pass it through the one gate ([`crate::gate`]), run it, answer the outcome.
//! Built-ins and plugin commands are counted, recorded and reported to the command hooks alike.

use std::sync::Arc;
use std::time::Duration;

use zoryx_plugin_api::{ChannelId, CommandSpec, GuildId, Invocation, Message, MessageId, Source};

use super::bot::{Bot, CommandInput, InFlight};
use super::builtins::{Builtin, BuiltinCall};
use super::bump;
use super::embeds::{self, colour, embed};
use crate::gate::{Caller, CommandRoles, Input, Refusal};
use crate::guild_settings::{AutoDelete, GuildSettings, settings_of};
use crate::runtime::{CommandOutcome, ReplySink, Resolved};

/// Where a command's error replies go and how long they stay (0: for good).
#[derive(Clone, Copy)]
struct Cleanup {
    channel: ChannelId,
    errors: u32,
}

/// What a command name found.
enum Target<'a> {
    Builtin(&'a Builtin),
    Plugin(Resolved),
}

impl Bot {
    /// Runs one command and answers through `sink`. Returns whether a command ran, once it
    /// has finished and its outcome is answered.
    pub(crate) async fn run_command(
        self: &Arc<Self>,
        input: CommandInput,
        sink: Arc<dyn ReplySink>,
    ) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.start_command(input, sink, move |ran| {
            let _ = tx.send(ran);
        })
        .await;
        rx.await.unwrap_or(false)
    }

    /// As [`Bot::run_command`], without waiting for a plugin's command: it returns once the
    /// command is started on the plugin threads, and `finished` gets whether a command ran
    /// once it has finished and its outcome is answered (from the thread that finished it).
    /// A message's command needs nothing after that, so no thread of the host's runtime is
    /// woken for its end.
    pub(crate) async fn start_command(
        self: &Arc<Self>,
        mut input: CommandInput,
        sink: Arc<dyn ReplySink>,
        finished: impl FnOnce(bool) + Send + 'static,
    ) {
        let in_flight = InFlight::new(self);
        let dispatcher = self.manager.dispatcher();
        let typed = input.slash_args.is_some();
        let target = match self.builtins.get(&input.command) {
            Some(builtin) => Target::Builtin(builtin),
            None => match dispatcher.resolve(&input.command, &input.args, typed) {
                Ok(Some(resolved)) => Target::Plugin(resolved),
                Ok(None) => return finished(false),
                Err((error, usage)) => {
                    let refusal = Refusal::Arguments {
                        error,
                        usage: format!("{}{usage}", input.prefix),
                    };
                    let settings = self.guild_settings(input.guild_id).await;
                    let after = self.auto_delete(&input, settings.as_deref());
                    self.refuse(&refusal, &input.command, input.guild_id, &sink, after)
                        .await;
                    return finished(true);
                }
            },
        };
        let Some(spec) = (match &target {
            Target::Builtin(builtin) => Some(&builtin.spec),
            Target::Plugin(resolved) => resolved.spec(),
        }) else {
            return finished(false);
        };
        let invocation = Invocation {
            command: spec.name.clone(),
            author: input.author.clone(),
            guild_id: input.guild_id,
            channel_id: input.channel_id,
            message_id: input.message_id,
            is_owner: self.is_owner(input.author.id.0),
            source: input.source,
        };
        let settings = self.guild_settings(input.guild_id).await;
        let after = self.auto_delete(&input, settings.as_deref());
        let slash_args = input.slash_args.take();
        let admitted = {
            let caller = self.caller(&invocation, &input, settings.as_deref());
            let args = match slash_args {
                Some(args) => Input::Typed(args),
                None => Input::Text {
                    text: match &target {
                        Target::Plugin(resolved) => &resolved.args,
                        Target::Builtin(_) => &input.args,
                    },
                    attachments: &input.attachments,
                },
            };
            dispatcher.gate().admit(spec, &caller, args, &input.prefix)
        };
        let args = match admitted {
            Ok(args) => args,
            Err(refusal) => {
                if refusal == Refusal::OwnerOnly {
                    tracing::warn!(
                        user = input.author.id.0,
                        name = input.author.name,
                        command = spec.name,
                        "owner-only command refused"
                    );
                }
                self.refuse(&refusal, &spec.name, input.guild_id, &sink, after)
                    .await;
                return finished(true);
            }
        };
        match &target {
            Target::Builtin(builtin) => {
                let call = BuiltinCall {
                    bot: Arc::clone(self),
                    args,
                    author: input.author,
                    guild_id: input.guild_id,
                    channel_id: input.channel_id,
                    prefix: input.prefix,
                    is_owner: invocation.is_owner,
                    roles: input.roles,
                    permissions: input.permissions,
                    source: input.source,
                };
                self.count(input.guild_id, &spec.name);
                let result = (builtin.run)(call).await;
                let error = result.as_ref().err().cloned();
                dispatcher.command_finished(&invocation, None, error);
                let reply = match result {
                    Ok(message) => message,
                    Err(error) => embed(colour::ERROR, "Error", error).ephemeral(),
                };
                let red = is_error(&reply);
                let sent = sink.reply(reply).await;
                if red && let Ok(id) = sent {
                    self.delete_later(after.channel, id, after.errors);
                }
                drop(in_flight);
                finished(true);
            }
            Target::Plugin(resolved) => {
                let name = spec.name.clone();
                self.count(input.guild_id, &name);
                let bot = Arc::clone(self);
                let answer = Arc::clone(&sink);
                dispatcher.start(resolved, invocation, args, sink, move |outcome| {
                    let ran = !matches!(outcome, CommandOutcome::Unknown);
                    let Some(reply) = outcome_reply(outcome, &name) else {
                        drop(in_flight);
                        return finished(ran);
                    };
                    tokio::spawn(async move {
                        bot.reply_error(&answer, reply, after).await;
                        drop(in_flight);
                        finished(ran);
                    });
                });
            }
        }
    }

    /// The guild's settings (from memory; loaded on a miss), for its role grants.
    pub(crate) async fn guild_settings(
        &self,
        guild: Option<GuildId>,
    ) -> Option<Arc<GuildSettings>> {
        let guild = guild?;
        match settings_of(self.settings.as_ref(), guild).await {
            Ok(settings) => Some(settings),
            Err(error) => {
                tracing::warn!(guild = guild.0, %error, "guild settings unavailable; no role grants applied");
                None
            }
        }
    }

    /// The gate's view of whoever sent `input`.
    pub(crate) fn caller<'a>(
        &'a self,
        invocation: &'a Invocation,
        input: &'a CommandInput,
        settings: Option<&'a GuildSettings>,
    ) -> Caller<'a> {
        let roles: Option<&CommandRoles> = settings.map(|s| &s.command_roles);
        Caller::new(invocation, &input.roles, move || {
            self.standing(
                input.guild_id,
                input.author.id.0,
                &input.roles,
                input.permissions,
            )
        })
        .guild_roles(roles)
    }

    /// Counts one command (run or refused) in memory and in the guild's usage table, before it
    /// runs (so its replies never arrive before it is counted).
    fn count(&self, guild: Option<GuildId>, name: &str) {
        bump(&self.counters.commands_run);
        self.settings.record_command(guild, name);
    }

    /// What to delete after a while for `input` (a prefix command in a guild; nothing for
    /// slash commands and DMs), and schedules the invoking message's deletion when the guild
    /// asked for it. Returns the delays; the errors' one applies once a reply is sent.
    fn auto_delete(&self, input: &CommandInput, settings: Option<&GuildSettings>) -> Cleanup {
        let mut cleanup = Cleanup {
            channel: input.channel_id,
            errors: 0,
        };
        if input.source != Source::Prefix || input.guild_id.is_none() {
            return cleanup;
        }
        let after: AutoDelete = settings.map(|s| s.auto_delete).unwrap_or_default();
        if let Some(message) = input.message_id {
            self.delete_later(input.channel_id, message, after.commands);
        }
        cleanup.errors = after.errors;
        cleanup
    }

    /// Deletes `message` in `channel` after `seconds` (0: never). A message already gone, or
    /// one the bot may not delete, is left (in the log at debug).
    fn delete_later(&self, channel: ChannelId, message: MessageId, seconds: u32) {
        if seconds == 0 {
            return;
        }
        let rest = self.rest.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(u64::from(seconds))).await;
            let path = format!("/channels/{}/messages/{}", channel.0, message.0);
            if let Err(error) = rest.request(reqwest::Method::DELETE, &path, None).await {
                tracing::debug!(%error, channel = channel.0, message = message.0, "auto-delete failed");
            }
        });
    }

    async fn refuse(
        &self,
        refusal: &Refusal,
        name: &str,
        guild: Option<GuildId>,
        sink: &Arc<dyn ReplySink>,
        after: Cleanup,
    ) {
        self.count(guild, name);
        self.reply_error(sink, embeds::refusal(refusal, name), after)
            .await;
    }

    /// Sends an error reply, deleted after the guild's delay.
    async fn reply_error(&self, sink: &Arc<dyn ReplySink>, reply: Message, after: Cleanup) {
        if let Ok(id) = sink.reply(reply).await {
            self.delete_later(after.channel, id, after.errors);
        }
    }
}

/// The error answer to a plugin command's outcome, if it needs one.
fn outcome_reply(outcome: CommandOutcome, name: &str) -> Option<Message> {
    match outcome {
        CommandOutcome::Unknown | CommandOutcome::Done { .. } => None,
        CommandOutcome::Refused(refusal) => Some(embeds::refusal(&refusal, name)),
        CommandOutcome::TimedOut { limit, .. } => Some(
            embed(
                colour::WARNING,
                "Took too long",
                format!(
                    "`{name}` did not finish within {}s, so it was stopped.",
                    limit.as_secs_f64()
                ),
            )
            .ephemeral(),
        ),
        CommandOutcome::Failed { plugin, error, .. } => {
            tracing::warn!(plugin, command = name, %error, "command failed");
            Some(embed(colour::ERROR, "Command failed", error.to_string()).ephemeral())
        }
    }
}

/// Whether `message` is an error answer: its first embed is in the palette's error colour.
fn is_error(message: &Message) -> bool {
    message
        .embeds
        .first()
        .is_some_and(|e| e.colour == Some(colour::ERROR))
}

/// The spec `name` names for this bot: a built-in's or a plugin command's.
pub(crate) fn find_spec(bot: &Bot, name: &str) -> Option<CommandSpec> {
    if let Some(builtin) = bot.builtins.get(name) {
        return Some(builtin.spec.clone());
    }
    let table = bot.manager.table();
    let route = table.command(name)?;
    route
        .generation
        .description
        .commands
        .get(route.index as usize)
        .cloned()
}
