//! serenity's gateway events → the command pipeline and plugin listeners.
//!
//! serenity runs each event in its own task, so a slow command never holds up the next message.
//! Listener deliveries never wait for the listeners; a message that is a command goes to its
//! listeners once the command's own call is queued, so the command is answered first.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;
use serenity::all::{
    ActionRowComponent, ChannelId as SChannelId, CommandType, ComponentInteraction,
    ComponentInteractionDataKind, Context, EventHandler, GuildChannel, GuildId as SGuildId,
    GuildMemberUpdateEvent, Interaction as SInteraction, Member as SMember,
    MessageId as SMessageId, MessageUpdateEvent, ModalInteraction, Reaction as SReaction, Ready,
    ResolvedTarget, ResumedEvent, Role as SRole, RoleId as SRoleId, ShardStageUpdateEvent,
    UnavailableGuild, User as SUser, VoiceState as SVoiceState,
};
use serenity::model::application::CommandInteraction;
use zoryx_plugin_api::ffi::extra::MenuCall;
use zoryx_plugin_api::{
    Args, AutocompleteRequest, CallAction, ChannelId, ContextMenuKind, Event, EventKind, Guild,
    GuildId, Interaction, InteractionKind, Invocation, Member, MenuTarget, Message, MessageId,
    ModalSubmit, RoleId, Source, TargetUser, UserReaction,
};

use super::bot::{Bot, CommandInput};
use super::embeds::{self, colour, embed};
use super::reply::{ChannelReply, InteractionReply};
use super::status::EventFamily;
use super::{bump, convert, prefix};
use crate::runtime::ReplySink;

/// The serenity event handler.
pub(crate) struct Handler {
    pub(crate) bot: Arc<Bot>,
}

impl Handler {
    /// Counts an event of `family` on the context's shard (the shard monitor's figures).
    fn count(&self, ctx: &Context, family: EventFamily) {
        self.bot.shard_metrics.event(ctx.shard_id.0, family);
    }

    /// Delivers `event` to plugin listeners in the background, if anyone listens.
    fn deliver(&self, make: impl FnOnce() -> Event) {
        let event = make();
        if self.bot.manager.table().listeners(event.kind()).is_empty() {
            return;
        }
        self.bot.manager.dispatcher().deliver_event(event);
    }

    fn has_listeners(&self, kind: EventKind) -> bool {
        !self.bot.manager.table().listeners(kind).is_empty()
    }

    /// A user's reaction as an event, unless nobody listens or the bot itself reacted.
    fn reaction(&self, kind: EventKind, reaction: &SReaction) -> Option<UserReaction> {
        if !self.has_listeners(kind) {
            return None;
        }
        convert::user_reaction(reaction).filter(|r| r.user_id.0 != self.bot.bot_id())
    }

    fn interaction_sink(
        &self,
        id: u64,
        token: &str,
        component: Option<(ChannelId, MessageId)>,
    ) -> Arc<InteractionReply> {
        Arc::new(InteractionReply::new(
            self.bot.rest.clone(),
            Arc::clone(&self.bot.counters),
            self.bot.application_id.load(Ordering::Relaxed),
            id,
            token.to_owned(),
            component,
            Arc::clone(&self.bot.expiry),
        ))
    }

    async fn slash(&self, command: CommandInteraction) {
        let bot = &self.bot;
        // A subcommand runs as the command named by its path (`config set`).
        let (name, options) = convert::command_path(&command.data.name, &command.data.options);
        let author = convert::user(&command.user);
        let guild_id = command.guild_id.map(|g| GuildId(g.get()));
        let channel_id = ChannelId(command.channel_id.get());
        if self.has_listeners(EventKind::Interaction) {
            let interaction = Interaction {
                id: command.id.get(),
                kind: InteractionKind::Command,
                name: name.clone(),
                values: Vec::new(),
                user: author.clone(),
                channel_id,
                guild_id,
            };
            self.deliver(|| Event::Interaction(interaction));
        }
        let sink = self.interaction_sink(command.id.get(), &command.token, None);
        // The declared arguments: a built-in's, else the plugin command's.
        let specs = match bot.builtins.get(&name) {
            Some(builtin) => Some(builtin.spec.args.clone()),
            None => {
                let table = bot.manager.table();
                table.command(&name).and_then(|route| {
                    route
                        .generation
                        .description
                        .commands
                        .get(route.index as usize)
                        .map(|spec| spec.args.clone())
                })
            }
        };
        let Some(specs) = specs else {
            let _ = sink
                .reply(
                    Message::text(
                        "That command is not available right now (its plugin is not loaded).",
                    )
                    .ephemeral(),
                )
                .await;
            return;
        };
        let args = match convert::slash_args(&specs, options, &command.data.resolved) {
            Ok(values) => Args::new(values),
            Err(error) => {
                let _ = sink
                    .reply(embed(colour::ERROR, "Invalid options", error).ephemeral())
                    .await;
                return;
            }
        };
        let permissions = command
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .map(|p| zoryx_plugin_api::Permissions(p.bits()));
        let roles = command
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default();
        let prefix = prefix::resolve(
            bot.settings.as_ref(),
            guild_id,
            &bot.options.prefix,
            bot.options.allow_mention_prefix,
        )
        .await
        .prefix;
        let input = CommandInput {
            command: name,
            args: String::new(),
            slash_args: Some(args),
            author,
            permissions,
            roles,
            guild_id,
            channel_id,
            message_id: None,
            source: Source::Slash,
            prefix,
            attachments: Vec::new(),
        };
        sink.defer_after(bot.options.defer_after);
        let handled = bot
            .run_command(input, Arc::clone(&sink) as Arc<dyn ReplySink>)
            .await;
        if !sink.answered().await {
            let text = if handled {
                "✅ Done."
            } else {
                "That command is not available right now (its plugin is not loaded)."
            };
            let _ = sink.reply(Message::text(text).ephemeral()).await;
        }
    }

    /// The answer to a message that is only `@Bot`: the prefix here and how to get help.
    async fn introduce(
        &self,
        message: &serenity::model::channel::Message,
        effective: &prefix::Effective,
    ) {
        let bot = &self.bot;
        let p = &effective.prefix;
        let mut text = format!("My prefix here is `{p}`");
        if effective.mention {
            text.push_str(&format!(", and <@{}> works too", bot.bot_id()));
        }
        text.push_str(&format!(
            ".\nTry `{p}help` (or `/help`) to see what you can run."
        ));
        let reply = Message::new().embed(zoryx_plugin_api::Embed::info("👋 Hello!", &text));
        let sent = super::reply::post(
            &bot.rest,
            &bot.counters,
            ChannelId(message.channel_id.get()),
            &reply,
            Some(MessageId(message.id.get())),
        )
        .await;
        if let Err(error) = sent {
            tracing::debug!(%error, "could not answer a bare mention");
        }
    }

    /// An option being typed (interaction type 4): the plugin's suggestions answer it
    /// (callback type 8), an empty list when none come within the limit.
    async fn autocomplete(&self, command: CommandInteraction) {
        let bot = &self.bot;
        let Some(focused) = command.data.autocomplete() else {
            return;
        };
        let (path, options) = convert::command_path(&command.data.name, &command.data.options);
        if let Some(builtin) = bot.builtins.get(&path) {
            // The host's own suggestions, for the bot owners only: extension names for load /
            // unload / reload and the registry's commands, hook names for the hook commands.
            let name = builtin.spec.name.clone();
            let owner = bot.is_owner(command.user.id.get());
            let choices = match name.as_str() {
                "load" | "unload" | "reload" | "pr_info" | "pr_validate" if owner => {
                    super::builtins::owner::suggest_plugins(&name, focused.value, &bot.manager)
                        .await
                }
                "eh_disable" | "eh_enable" | "eh_reset_circuit" if owner => {
                    super::builtins::hooks::suggest_hooks(focused.value, &bot.manager)
                }
                _ => Vec::new(),
            };
            let sink = self.interaction_sink(command.id.get(), &command.token, None);
            if let Err(error) = sink.act(CallAction::Autocomplete { choices }).await {
                tracing::debug!(%error, command = name, "could not answer an autocomplete");
            }
            return;
        }
        let specs = {
            let table = bot.manager.table();
            table
                .command(&path)
                .and_then(|route| {
                    route
                        .generation
                        .description
                        .commands
                        .get(route.index as usize)
                        .map(|spec| spec.args.clone())
                })
                .unwrap_or_default()
        };
        let request = AutocompleteRequest {
            id: command.id.get(),
            command: path,
            option: focused.name.to_owned(),
            value: focused.value.to_owned(),
            args: Args::new(convert::partial_args(
                &specs,
                options,
                &command.data.resolved,
            )),
            user: convert::user(&command.user),
            channel_id: ChannelId(command.channel_id.get()),
            guild_id: command.guild_id.map(|g| GuildId(g.get())),
        };
        let sink = self.interaction_sink(command.id.get(), &command.token, None);
        sink.suggest_nothing_after(crate::runtime::AUTOCOMPLETE_DEADLINE);
        let _in_flight = super::bot::InFlight::new(bot);
        let result = bot
            .manager
            .dispatcher()
            .autocomplete(&request, Arc::clone(&sink) as Arc<dyn ReplySink>)
            .await;
        match result {
            None => tracing::debug!(
                command = request.command,
                option = request.option,
                "no autocomplete handler"
            ),
            Some(Err(error)) => {
                tracing::warn!(command = request.command, option = request.option, %error, "autocomplete failed");
            }
            Some(Ok(())) => {}
        }
        if !sink.answered().await {
            let _ = sink
                .act(CallAction::Autocomplete {
                    choices: Vec::new(),
                })
                .await;
        }
    }

    /// A context menu command on a user or a message (application command types 2 and 3).
    async fn context_menu(&self, command: CommandInteraction) {
        let bot = &self.bot;
        let kind = match command.data.kind {
            CommandType::User => ContextMenuKind::User,
            _ => ContextMenuKind::Message,
        };
        let guild_id = command.guild_id.map(|g| GuildId(g.get()));
        let target = match command.data.target() {
            Some(ResolvedTarget::User(user, member)) => MenuTarget::User(TargetUser {
                user: convert::user(user),
                member: member.zip(guild_id).map(|(m, guild_id)| Member {
                    user: convert::user(user),
                    guild_id,
                    nick: m.nick.clone(),
                    roles: m.roles.iter().map(|r| RoleId(r.get())).collect(),
                }),
            }),
            Some(ResolvedTarget::Message(message)) => {
                MenuTarget::Message(super::actions::message_from_json(
                    &serde_json::to_value(message).unwrap_or_default(),
                ))
            }
            _ => return,
        };
        let author = convert::user(&command.user);
        let invocation = Invocation {
            command: command.data.name.clone(),
            author: author.clone(),
            guild_id,
            channel_id: ChannelId(command.channel_id.get()),
            message_id: None,
            is_owner: bot.is_owner(author.id.0),
            source: Source::Slash,
        };
        let sink = self.interaction_sink(command.id.get(), &command.token, None);
        sink.defer_after(bot.options.defer_after);
        let _in_flight = super::bot::InFlight::new(bot);
        let call = MenuCall { invocation, target };
        let result = bot
            .manager
            .dispatcher()
            .context_menu(kind, &call, Arc::clone(&sink) as Arc<dyn ReplySink>)
            .await;
        self.finish(&sink, result, &call.invocation.command, false)
            .await;
    }

    /// A modal's submission (interaction type 5), to the plugin of its `custom_id` prefix.
    async fn modal_submit(&self, modal: ModalInteraction) {
        let bot = &self.bot;
        let values = modal
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .filter_map(|c| match c {
                ActionRowComponent::InputText(input) => Some((
                    input.custom_id.clone(),
                    input.value.clone().unwrap_or_default(),
                )),
                _ => None,
            })
            .collect();
        let on = modal
            .message
            .as_ref()
            .map(|m| (ChannelId(m.channel_id.get()), MessageId(m.id.get())));
        let submit = ModalSubmit {
            id: modal.id.get(),
            custom_id: modal.data.custom_id.clone(),
            values,
            user: convert::user(&modal.user),
            channel_id: ChannelId(modal.channel_id.get()),
            guild_id: modal.guild_id.map(|g| GuildId(g.get())),
            message_id: on.map(|(_, m)| m),
        };
        let sink = self.interaction_sink(modal.id.get(), &modal.token, on);
        sink.defer_after(bot.options.defer_after);
        let _in_flight = super::bot::InFlight::new(bot);
        let result = bot
            .manager
            .dispatcher()
            .modal(&submit, Arc::clone(&sink) as Arc<dyn ReplySink>)
            .await;
        self.finish(&sink, result, &submit.custom_id, on.is_some())
            .await;
    }

    /// Answers what a handler left unanswered: a missing plugin or a failure ephemerally,
    /// success silently (`acknowledge`, for an interaction on a message) or with "Done".
    async fn finish(
        &self,
        sink: &InteractionReply,
        result: Option<Result<(), crate::runtime::CallError>>,
        what: &str,
        acknowledge: bool,
    ) {
        match result {
            None => {
                let _ = sink
                    .reply(
                        Message::text("That plugin is not loaded, so this no longer works.")
                            .ephemeral(),
                    )
                    .await;
            }
            Some(Err(error)) => {
                tracing::warn!(what, %error, "interaction handler failed");
                if !sink.answered().await {
                    let _ = sink
                        .reply(embed(colour::ERROR, "Error", error.to_string()).ephemeral())
                        .await;
                }
            }
            Some(Ok(())) if acknowledge => {
                sink.acknowledge(Message::text("✅ Done.").ephemeral())
                    .await
            }
            Some(Ok(())) => {
                if !sink.answered().await {
                    let _ = sink.reply(Message::text("✅ Done.").ephemeral()).await;
                }
            }
        }
    }

    /// The gate's refusal of a component for its user, when its custom id names a command
    /// (`NAME:…`) that the user may not run here.
    async fn component_refusal(
        &self,
        component: &ComponentInteraction,
        invocation: &Invocation,
    ) -> Option<crate::gate::Refusal> {
        let bot = &self.bot;
        let (name, _) = component.data.custom_id.split_once(':')?;
        let spec = super::pipeline::find_spec(bot, name)?;
        let roles: Vec<u64> = component
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default();
        let permissions = component
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .map(|p| zoryx_plugin_api::Permissions(p.bits()));
        let settings = bot.guild_settings(invocation.guild_id).await;
        let caller = crate::gate::Caller::new(invocation, &roles, || {
            bot.standing(
                invocation.guild_id,
                invocation.author.id.0,
                &roles,
                permissions,
            )
        })
        .guild_roles(settings.as_deref().map(|s| &s.command_roles));
        bot.manager.dispatcher().gate().check(&spec, &caller).err()
    }

    async fn component(&self, component: ComponentInteraction) {
        let bot = &self.bot;
        let values = match &component.data.kind {
            ComponentInteractionDataKind::StringSelect { values } => values.clone(),
            ComponentInteractionDataKind::UserSelect { values } => {
                values.iter().map(|v| v.get().to_string()).collect()
            }
            ComponentInteractionDataKind::RoleSelect { values } => {
                values.iter().map(|v| v.get().to_string()).collect()
            }
            ComponentInteractionDataKind::ChannelSelect { values } => {
                values.iter().map(|v| v.get().to_string()).collect()
            }
            _ => Vec::new(),
        };
        let author = convert::user(&component.user);
        let interaction = Interaction {
            id: component.id.get(),
            kind: InteractionKind::Component,
            name: component.data.custom_id.clone(),
            values,
            user: author.clone(),
            channel_id: ChannelId(component.channel_id.get()),
            guild_id: component.guild_id.map(|g| GuildId(g.get())),
        };
        if self.has_listeners(EventKind::Interaction) {
            let event = Event::Interaction(interaction.clone());
            self.deliver(|| event);
        }
        let invocation = Invocation {
            command: interaction.name.clone(),
            author: author.clone(),
            guild_id: interaction.guild_id,
            channel_id: interaction.channel_id,
            message_id: Some(MessageId(component.message.id.get())),
            is_owner: bot.is_owner(author.id.0),
            source: Source::Slash,
        };
        let sink = self.interaction_sink(
            component.id.get(),
            &component.token,
            Some((
                ChannelId(component.channel_id.get()),
                MessageId(component.message.id.get()),
            )),
        );
        // A component whose custom id starts with a command's name (`help:…`) is that
        // command's: the gate's checks for it (owner-only, servers only, role grants, level)
        // hold for its buttons and menus too.
        if let Some(refusal) = self.component_refusal(&component, &invocation).await {
            let name = invocation.command.split(':').next().unwrap_or_default();
            let _ = sink.reply(embeds::refusal(&refusal, name)).await;
            return;
        }
        sink.defer_after(bot.options.defer_after);
        let _in_flight = super::bot::InFlight::new(bot);
        let result = bot
            .manager
            .dispatcher()
            .component(
                &interaction,
                &invocation,
                Arc::clone(&sink) as Arc<dyn ReplySink>,
            )
            .await;
        match result {
            None => {
                let _ = sink
                    .reply(
                        Message::text("That plugin is not loaded, so this button no longer works.")
                            .ephemeral(),
                    )
                    .await;
            }
            Some(Err(error)) => {
                tracing::warn!(custom_id = interaction.name, %error, "component handler failed");
                if !sink.answered().await {
                    let _ = sink
                        .reply(embed(colour::ERROR, "Error", error.to_string()).ephemeral())
                        .await;
                }
            }
            Some(Ok(())) => {
                sink.acknowledge(Message::text("✅ Done.").ephemeral())
                    .await
            }
        }
    }
    /// What READY means to the host (and, for a session resumed from the last stop, the READY
    /// saved with it).
    fn on_ready(&self, ctx: &Context, ready: &Ready) {
        let bot = &self.bot;
        bot.services
            .gateway
            .shard_ready(ctx.shard_id.0, ready.shard.map(|s| s.total));
        bot.bot_id.store(ready.user.id.get(), Ordering::Relaxed);
        bot.application_id
            .store(ready.application.id.get(), Ordering::Relaxed);
        bot.counters
            .guilds
            .fetch_add(ready.guilds.len() as u64, Ordering::Relaxed);
        tracing::info!(
            user = ready.user.name,
            shard = ?ready.shard,
            guilds = ready.guilds.len(),
            "connected to Discord"
        );
        bot.state.set_ready();
        super::presence::on_ready(bot, ctx);
        bot.slash_wake.notify_one();
        let user = convert::user(&SUser::from(ready.user.clone()));
        let guild_count = ready.guilds.len() as u64;
        self.deliver(|| Event::Ready { user, guild_count });
        bot.manager.dispatcher().emit_in_background(
            "bot_ready",
            json!({"user": ready.user.id.get(), "guilds": guild_count}),
        );
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn message(&self, ctx: Context, message: serenity::model::channel::Message) {
        self.count(&ctx, EventFamily::Messages);
        if message.author.bot {
            return;
        }
        let bot = &self.bot;
        bump(&bot.counters.messages_seen);
        // Listeners get the message once a command in it is on its way (below), so that the
        // command's call is queued on the plugin threads before theirs and is answered first.
        let mut event = self
            .has_listeners(EventKind::MessageCreate)
            .then(|| Event::MessageCreate(convert::incoming(&message)));
        let deliver = |event: &mut Option<Event>| {
            if let Some(event) = event.take() {
                self.bot.manager.dispatcher().deliver_event(event);
            }
        };
        let guild_id = message.guild_id.map(|g| GuildId(g.get()));
        let effective = prefix::resolve(
            bot.settings.as_ref(),
            guild_id,
            &bot.options.prefix,
            bot.options.allow_mention_prefix,
        )
        .await;
        let Some(parsed) = prefix::parse(
            &message.content,
            &effective,
            bot.bot_id(),
            guild_id.is_none(),
        ) else {
            deliver(&mut event);
            if prefix::is_bare_mention(&message.content, bot.bot_id()) {
                self.introduce(&message, &effective).await;
            }
            return;
        };
        let input = CommandInput {
            command: parsed.command.to_owned(),
            args: parsed.args.to_owned(),
            slash_args: None,
            author: convert::user(&message.author),
            permissions: None,
            roles: message
                .member
                .as_ref()
                .map(|m| m.roles.iter().map(|r| r.get()).collect())
                .unwrap_or_default(),
            guild_id,
            channel_id: ChannelId(message.channel_id.get()),
            message_id: Some(MessageId(message.id.get())),
            source: Source::Prefix,
            prefix: parsed.prefix,
            attachments: message
                .attachments
                .iter()
                .map(convert::attachment)
                .collect(),
        };
        let sink = Arc::new(ChannelReply {
            expiry: Arc::clone(&bot.expiry),
            rest: bot.rest.clone(),
            counters: Arc::clone(&bot.counters),
            channel: input.channel_id,
            reply_to: input.message_id,
        });
        // A message's command needs nothing once it has finished: it is started, not awaited.
        let mut command = std::pin::pin!(bot.start_command(input, sink, |_| {}));
        if event.is_some() {
            // Runs the command up to its first wait (its call queued), then the listeners; their
            // calls and the command's go to the plugin threads as one job, the command's first.
            let first = std::future::poll_fn(|cx| {
                let batch = crate::runtime::Batch::open();
                let first = command.as_mut().poll(cx);
                deliver(&mut event);
                drop(batch);
                std::task::Poll::Ready(first)
            })
            .await;
            if first.is_ready() {
                return;
            }
        }
        command.await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: SInteraction) {
        self.count(&ctx, EventFamily::Interactions);
        match interaction {
            SInteraction::Command(command) => match command.data.kind {
                CommandType::User | CommandType::Message => self.context_menu(command).await,
                _ => self.slash(command).await,
            },
            SInteraction::Autocomplete(command) => self.autocomplete(command).await,
            SInteraction::Modal(modal) => self.modal_submit(modal).await,
            SInteraction::Component(component) => self.component(component).await,
            _ => {}
        }
    }

    async fn ready(&self, ctx: Context, ready: Ready) {
        if let Ok(mut readies) = self.bot.readies.lock() {
            readies.insert(ctx.shard_id.0, ready.clone());
        }
        self.on_ready(&ctx, &ready);
    }

    async fn resume(&self, ctx: Context, _event: ResumedEvent) {
        self.bot.shard_metrics.resumed(ctx.shard_id.0);
        tracing::info!(shard = ctx.shard_id.0, "gateway session resumed");
        // A session saved at the last stop: this process has seen no READY for the shard, so
        // the one saved with the session stands in for it.
        if let Some(ready) = self.bot.start_hook.resumed(ctx.shard_id.0) {
            if let Ok(mut readies) = self.bot.readies.lock() {
                readies.insert(ctx.shard_id.0, ready.clone());
            }
            self.on_ready(&ctx, &ready);
        }
    }

    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        self.bot
            .shard_metrics
            .stage(event.shard_id.0, event.old, event.new);
    }

    async fn guild_create(
        &self,
        ctx: Context,
        guild: serenity::model::guild::Guild,
        is_new: Option<bool>,
    ) {
        self.count(&ctx, EventFamily::Guilds);
        if is_new == Some(true) {
            let joined = Guild {
                id: GuildId(guild.id.get()),
                name: guild.name.clone(),
                member_count: guild.member_count,
            };
            self.bot.manager.dispatcher().emit_in_background(
                "guild_joined",
                json!({"guild": joined.id.0, "name": joined.name, "member_count": joined.member_count}),
            );
            self.deliver(|| Event::GuildJoin(joined));
        }
    }

    async fn guild_delete(
        &self,
        ctx: Context,
        incomplete: UnavailableGuild,
        _full: Option<serenity::model::guild::Guild>,
    ) {
        self.count(&ctx, EventFamily::Guilds);
        if !incomplete.unavailable {
            self.bot
                .manager
                .dispatcher()
                .emit_in_background("guild_left", json!({"guild": incomplete.id.get()}));
            self.deliver(|| Event::GuildLeave(GuildId(incomplete.id.get())));
        }
    }

    async fn guild_member_addition(&self, ctx: Context, member: SMember) {
        self.count(&ctx, EventFamily::Members);
        self.deliver(|| Event::MemberJoin(convert::member(&member)));
    }

    async fn guild_member_removal(
        &self,
        ctx: Context,
        guild_id: SGuildId,
        user: SUser,
        _member: Option<SMember>,
    ) {
        self.count(&ctx, EventFamily::Members);
        self.deliver(|| Event::MemberLeave {
            guild_id: GuildId(guild_id.get()),
            user: convert::user(&user),
        });
    }

    async fn message_delete(
        &self,
        ctx: Context,
        channel_id: serenity::model::id::ChannelId,
        message_id: serenity::model::id::MessageId,
        guild_id: Option<SGuildId>,
    ) {
        self.count(&ctx, EventFamily::Messages);
        self.deliver(|| Event::MessageDelete {
            message_id: MessageId(message_id.get()),
            channel_id: ChannelId(channel_id.get()),
            guild_id: guild_id.map(|g| GuildId(g.get())),
        });
    }

    async fn message_delete_bulk(
        &self,
        ctx: Context,
        channel_id: SChannelId,
        message_ids: Vec<SMessageId>,
        guild_id: Option<SGuildId>,
    ) {
        self.count(&ctx, EventFamily::Messages);
        self.deliver(|| Event::MessageBulkDelete {
            message_ids: message_ids.iter().map(|m| MessageId(m.get())).collect(),
            channel_id: ChannelId(channel_id.get()),
            guild_id: guild_id.map(|g| GuildId(g.get())),
        });
    }

    async fn message_update(
        &self,
        ctx: Context,
        _old: Option<serenity::model::channel::Message>,
        _new: Option<serenity::model::channel::Message>,
        event: MessageUpdateEvent,
    ) {
        self.count(&ctx, EventFamily::Messages);
        // Bots' messages are left out, as they are from MESSAGE_CREATE.
        if event.author.as_ref().is_some_and(|a| a.bot) {
            return;
        }
        self.deliver(|| Event::MessageUpdate(convert::message_update(&event)));
    }

    async fn reaction_add(&self, ctx: Context, reaction: SReaction) {
        self.count(&ctx, EventFamily::Reactions);
        if let Some(reaction) = self.reaction(EventKind::ReactionAdd, &reaction) {
            self.deliver(|| Event::ReactionAdd(reaction));
        }
    }

    async fn reaction_remove(&self, ctx: Context, reaction: SReaction) {
        self.count(&ctx, EventFamily::Reactions);
        if let Some(reaction) = self.reaction(EventKind::ReactionRemove, &reaction) {
            self.deliver(|| Event::ReactionRemove(reaction));
        }
    }

    async fn guild_member_update(
        &self,
        ctx: Context,
        _old: Option<SMember>,
        _new: Option<SMember>,
        event: GuildMemberUpdateEvent,
    ) {
        self.count(&ctx, EventFamily::Members);
        // The event itself says what the member is now; the cache may not know the member.
        self.deliver(|| {
            Event::MemberUpdate(Member {
                user: convert::user(&event.user),
                guild_id: GuildId(event.guild_id.get()),
                nick: event.nick.clone(),
                roles: event.roles.iter().map(|r| RoleId(r.get())).collect(),
            })
        });
    }

    async fn voice_state_update(&self, ctx: Context, old: Option<SVoiceState>, new: SVoiceState) {
        self.count(&ctx, EventFamily::Voice);
        // `old` is the state the cache held (filled from GUILD_CREATE's voice states, then
        // kept up to date by these events).
        if let Some(state) = convert::voice_state(&new, old.as_ref()) {
            self.deliver(|| Event::VoiceStateUpdate(state));
        }
    }

    async fn channel_create(&self, ctx: Context, channel: GuildChannel) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::ChannelCreate(convert::channel(&channel)));
    }

    async fn category_create(&self, ctx: Context, category: GuildChannel) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::ChannelCreate(convert::channel(&category)));
    }

    async fn channel_update(&self, ctx: Context, _old: Option<GuildChannel>, new: GuildChannel) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::ChannelUpdate(convert::channel(&new)));
    }

    async fn channel_delete(
        &self,
        ctx: Context,
        channel: GuildChannel,
        _messages: Option<Vec<serenity::model::channel::Message>>,
    ) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::ChannelDelete(convert::channel(&channel)));
    }

    async fn category_delete(&self, ctx: Context, category: GuildChannel) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::ChannelDelete(convert::channel(&category)));
    }

    async fn guild_role_create(&self, ctx: Context, new: SRole) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::RoleCreate {
            guild_id: GuildId(new.guild_id.get()),
            role: convert::role(&new),
        });
    }

    async fn guild_role_update(&self, ctx: Context, _old: Option<SRole>, new: SRole) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::RoleUpdate {
            guild_id: GuildId(new.guild_id.get()),
            role: convert::role(&new),
        });
    }

    async fn guild_role_delete(
        &self,
        ctx: Context,
        guild_id: SGuildId,
        role_id: SRoleId,
        _role: Option<SRole>,
    ) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::RoleDelete {
            guild_id: GuildId(guild_id.get()),
            role_id: RoleId(role_id.get()),
        });
    }

    async fn guild_ban_addition(&self, ctx: Context, guild_id: SGuildId, user: SUser) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::BanAdd {
            guild_id: GuildId(guild_id.get()),
            user: convert::user(&user),
        });
    }

    async fn guild_ban_removal(&self, ctx: Context, guild_id: SGuildId, user: SUser) {
        self.count(&ctx, EventFamily::Other);
        self.deliver(|| Event::BanRemove {
            guild_id: GuildId(guild_id.get()),
            user: convert::user(&user),
        });
    }
}
