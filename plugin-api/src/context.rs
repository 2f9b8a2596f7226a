//! What handlers receive: the host's services, and the invocation they answer.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use abi_stable::std_types::{RResult, RStr};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::actions::{CallAction, Outcome};
use crate::args::{Args, FromArg};
use crate::error::{PluginError, PluginResult};
use crate::ffi::host_vtable::{CallData, HostHandle, ScopeFfi, level};
use crate::interaction::{AutocompleteRequest, Modal, ModalSubmit};
use crate::message::Message;
use crate::model::{ChannelId, GuildId, Interaction, Invocation, MessageId, User};

/// Log severities for [`Host::log`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed.
    Error,
    /// Something looks wrong.
    Warn,
    /// Normal operation.
    Info,
    /// Details for debugging.
    Debug,
    /// Very fine details.
    Trace,
}

/// The host's services for this plugin: logging, config, time, messages, events and storage.
///
/// It is cheap to copy. Every context a handler receives dereferences to it, so
/// `ctx.info("...")` and `ctx.sleep(..)` work directly on contexts.
#[derive(Clone, Copy)]
pub struct Host {
    handle: HostHandle,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Host")
    }
}

pub(crate) fn from_ffi<T>(result: RResult<T, crate::ffi::types::ErrorFfi>) -> PluginResult<T> {
    result.into_result().map_err(|e| PluginError::from(&e))
}

impl Host {
    pub(crate) fn new(handle: HostHandle) -> Self {
        Self { handle }
    }

    pub(crate) fn handle(&self) -> HostHandle {
        self.handle
    }

    /// Logs through the host's tracing, tagged with this plugin's name.
    pub fn log(&self, level: Level, message: impl AsRef<str>) {
        let code = match level {
            Level::Error => level::ERROR,
            Level::Warn => level::WARN,
            Level::Info => level::INFO,
            Level::Debug => level::DEBUG,
            Level::Trace => level::TRACE,
        };
        (self.handle.vtable.log())(self.handle.data, code, RStr::from_str(message.as_ref()));
    }

    /// Logs at error level.
    pub fn error(&self, message: impl AsRef<str>) {
        self.log(Level::Error, message);
    }

    /// Logs at warning level.
    pub fn warn(&self, message: impl AsRef<str>) {
        self.log(Level::Warn, message);
    }

    /// Logs at info level.
    pub fn info(&self, message: impl AsRef<str>) {
        self.log(Level::Info, message);
    }

    /// Logs at debug level.
    pub fn debug(&self, message: impl AsRef<str>) {
        self.log(Level::Debug, message);
    }

    /// A config value by dotted key (`prefix`, `plugins.hello.greeting`), as JSON.
    pub fn config_value(&self, key: &str) -> Option<serde_json::Value> {
        let text = (self.handle.vtable.config())(self.handle.data, RStr::from_str(key));
        text.into_option()
            .and_then(|t| serde_json::from_str(t.as_str()).ok())
    }

    /// A config value by dotted key, converted to `T`; `Ok(None)` when absent.
    pub fn config<T: DeserializeOwned>(&self, key: &str) -> PluginResult<Option<T>> {
        match self.config_value(key) {
            None => Ok(None),
            Some(value) => serde_json::from_value(value).map(Some).map_err(|e| {
                PluginError::Internal(format!("config `{key}` has an unexpected form: {e}"))
            }),
        }
    }

    /// Waits for `duration` on the host's timer (plugins have no runtime of their own).
    pub async fn sleep(&self, duration: Duration) {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        (self.handle.vtable.sleep())(millis).await;
    }

    /// Runs `future`, giving up after `duration`.
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) {
    /// use std::time::Duration;
    /// let slow = async { 42 };
    /// match host.timeout(Duration::from_secs(2), slow).await {
    ///     Ok(value) => host.info(format!("got {value}")),
    ///     Err(_) => host.warn("gave up after 2 s"),
    /// }
    /// # }
    /// ```
    pub async fn timeout<F: Future>(
        &self,
        duration: Duration,
        future: F,
    ) -> Result<F::Output, TimedOut> {
        let future = std::pin::pin!(future);
        let timer = std::pin::pin!(self.sleep(duration));
        match futures::future::select(future, timer).await {
            futures::future::Either::Left((value, _)) => Ok(value),
            futures::future::Either::Right(((), _)) => Err(TimedOut(duration)),
        }
    }

    /// The host's wall clock.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis((self.handle.vtable.now_unix_ms())())
    }

    /// Sends a message to a channel; resolves to its id. Files and disabled select menus go
    /// too (plugin-api 1.3).
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// use zoryx_plugin_api::{ChannelId, Message};
    ///
    /// let csv = "name,score\nada,3\n";
    /// host.send(ChannelId(10), Message::text("The scores").file("scores.csv", csv)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(
        &self,
        channel: ChannelId,
        message: impl Into<Message>,
    ) -> PluginResult<MessageId> {
        let message = message.into();
        if message.needs_json() {
            // What the 1.0 layout cannot carry goes as JSON (plugin-api 1.3).
            let action = crate::actions::Action::Send { channel, message };
            return match self.act(&action).await? {
                Outcome::Id(id) => Ok(MessageId(id)),
                other => Err(PluginError::Host(format!(
                    "the host answered a send with {other:?}"
                ))),
            };
        }
        let future = (self.handle.vtable.send())(self.handle.data, channel.0, (&message).into());
        from_ffi(future.await).map(MessageId)
    }

    /// Emits a named event to every registered hook (of every plugin); returns how many ran.
    pub async fn emit(&self, event: &str, payload: serde_json::Value) -> PluginResult<u32> {
        let payload = payload.to_string();
        let future = (self.handle.vtable.emit())(
            self.handle.data,
            RStr::from_str(event),
            RStr::from_str(&payload),
        );
        from_ffi(future.await)
    }

    /// Emits `payload` under its type's event name (see [`HookPayload`](crate::HookPayload));
    /// returns how many hooks ran.
    pub async fn emit_payload<T: crate::typed::HookPayload>(
        &self,
        payload: &T,
    ) -> PluginResult<u32> {
        self.emit(T::EVENT, serde_json::to_value(payload)?).await
    }

    /// This plugin's key-value storage; see also [`Host::sql`] and [`Host::files`].
    pub fn storage(&self) -> Storage {
        Storage { host: *self }
    }
}

/// [`Host::timeout`] ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {0:?}")]
pub struct TimedOut(pub Duration);

/// Where a stored value lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Shared across guilds.
    Global,
    /// One guild's data.
    Guild(GuildId),
}

impl Scope {
    pub(crate) fn to_ffi(self) -> ScopeFfi {
        match self {
            Self::Global => ScopeFfi::RNone,
            Self::Guild(id) => ScopeFfi::RSome(id.0),
        }
    }
}

/// A plugin's own key-value store with JSON values, per guild and global.
///
/// Data survives reloads and restarts; unloading a plugin never deletes it. A host that does not
/// offer storage answers [`PluginError::NotAvailable`].
///
/// ```no_run
/// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
/// use zoryx_plugin_api::Scope;
/// let storage = host.storage();
/// let visits: u64 = storage.get(Scope::Global, "visits").await?.unwrap_or(0);
/// storage.set(Scope::Global, "visits", &(visits + 1)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Storage {
    host: Host,
}

fn storage_missing() -> PluginError {
    PluginError::NotAvailable("plugin storage".to_owned())
}

impl Storage {
    /// Reads `key`; `Ok(None)` when it was never set.
    pub async fn get<T: DeserializeOwned>(
        &self,
        scope: Scope,
        key: &str,
    ) -> PluginResult<Option<T>> {
        let get = self
            .host
            .handle
            .vtable
            .kv_get()
            .ok_or_else(storage_missing)?;
        let text = from_ffi(get(self.host.handle.data, scope.to_ffi(), RStr::from_str(key)).await)?;
        match text.into_option() {
            None => Ok(None),
            Some(text) => Ok(Some(serde_json::from_str(text.as_str())?)),
        }
    }

    /// Writes `key`.
    pub async fn set<T: Serialize + ?Sized>(
        &self,
        scope: Scope,
        key: &str,
        value: &T,
    ) -> PluginResult {
        let set = self
            .host
            .handle
            .vtable
            .kv_set()
            .ok_or_else(storage_missing)?;
        let json = serde_json::to_string(value)?;
        from_ffi(
            set(
                self.host.handle.data,
                scope.to_ffi(),
                RStr::from_str(key),
                RStr::from_str(&json),
            )
            .await,
        )
    }

    /// Deletes `key`; returns whether it existed.
    pub async fn delete(&self, scope: Scope, key: &str) -> PluginResult<bool> {
        let delete = self
            .host
            .handle
            .vtable
            .kv_delete()
            .ok_or_else(storage_missing)?;
        from_ffi(delete(self.host.handle.data, scope.to_ffi(), RStr::from_str(key)).await)
    }

    /// The keys that start with `prefix` (all keys for `""`), sorted. Since plugin-api 1.2;
    /// an older host answers [`PluginError::NotAvailable`].
    ///
    /// ```no_run
    /// # async fn demo(host: zoryx_plugin_api::Host) -> zoryx_plugin_api::PluginResult {
    /// use zoryx_plugin_api::{GuildId, Scope};
    /// let storage = host.storage();
    /// for key in storage.keys(Scope::Guild(GuildId(1)), "warn:").await? {
    ///     storage.delete(Scope::Guild(GuildId(1)), &key).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn keys(&self, scope: Scope, prefix: &str) -> PluginResult<Vec<String>> {
        let keys = self
            .host
            .handle
            .vtable
            .kv_keys()
            .ok_or_else(|| PluginError::NotAvailable("listing storage keys".to_owned()))?;
        let text = from_ffi(
            keys(
                self.host.handle.data,
                scope.to_ffi(),
                RStr::from_str(prefix),
            )
            .await,
        )?;
        Ok(serde_json::from_str(text.as_str())?)
    }
}

/// A counted reference to where a call's replies go.
pub(crate) struct CallHandle {
    data: CallData,
    host: HostHandle,
}

// SAFETY: the host's call state is `Send + Sync` and reference-counted through the vtable.
unsafe impl Send for CallHandle {}
// SAFETY: see `Send` above.
unsafe impl Sync for CallHandle {}

impl CallHandle {
    pub(crate) fn new(data: CallData, host: HostHandle) -> Self {
        Self { data, host }
    }

    async fn reply(&self, message: Message) -> PluginResult<MessageId> {
        if message.needs_json() {
            // What the 1.0 layout cannot carry goes as JSON (plugin-api 1.3).
            return match self.act(&CallAction::Reply { message }).await? {
                Outcome::Id(id) => Ok(MessageId(id)),
                other => Err(PluginError::Host(format!(
                    "the host answered a reply with {other:?}"
                ))),
            };
        }
        let future = (self.host.vtable.reply())(&self.data, (&message).into());
        from_ffi(future.await).map(MessageId)
    }

    async fn act(&self, action: &CallAction) -> PluginResult<Outcome> {
        let request = self
            .host
            .vtable
            .call_request()
            .ok_or_else(|| PluginError::NotAvailable(action.describe().to_owned()))?;
        let json = serde_json::to_string(action)?;
        let answer = from_ffi(request(&self.data, RStr::from_str(&json)).await)?;
        Ok(serde_json::from_str(answer.as_str())?)
    }

    async fn edit(&self, reply: MessageId, edit: Message) -> PluginResult {
        self.act(&CallAction::EditReply {
            reply: Some(reply),
            edit,
        })
        .await
        .map(drop)
    }

    async fn delete(&self, reply: MessageId) -> PluginResult {
        self.act(&CallAction::DeleteReply { reply: Some(reply) })
            .await
            .map(drop)
    }

    async fn followup(&self, message: Message) -> PluginResult<MessageId> {
        match self.act(&CallAction::Followup { message }).await? {
            Outcome::Id(id) => Ok(MessageId(id)),
            other => Err(PluginError::Host(format!(
                "the host answered a followup with {other:?}"
            ))),
        }
    }

    async fn defer(&self, ephemeral: bool) -> PluginResult {
        self.act(&CallAction::Defer { ephemeral }).await.map(drop)
    }

    async fn modal(&self, modal: Modal) -> PluginResult {
        self.act(&CallAction::Modal { modal }).await.map(drop)
    }

    pub(crate) async fn suggest(&self, choices: Vec<crate::command::Choice>) -> PluginResult {
        self.act(&CallAction::Autocomplete { choices })
            .await
            .map(drop)
    }

    pub(crate) async fn show_panel(&self, panel: crate::panel::Panel) -> PluginResult {
        self.act(&CallAction::Panel { panel }).await.map(drop)
    }
}

impl Clone for CallHandle {
    fn clone(&self) -> Self {
        Self {
            data: (self.host.vtable.call_clone())(&self.data),
            host: self.host,
        }
    }
}

impl Drop for CallHandle {
    fn drop(&mut self) {
        (self.host.vtable.call_drop())(&mut self.data);
    }
}

/// What an event, hook or task handler receives: the plugin's data and the host.
pub struct PluginContext<P> {
    pub(crate) plugin: Arc<P>,
    pub(crate) host: Host,
}

impl<P> Clone for PluginContext<P> {
    fn clone(&self) -> Self {
        Self {
            plugin: Arc::clone(&self.plugin),
            host: self.host,
        }
    }
}

impl<P> PluginContext<P> {
    /// The plugin instance (its state).
    pub fn data(&self) -> &P {
        &self.plugin
    }

    /// The host's services.
    pub fn host(&self) -> &Host {
        &self.host
    }
}

impl<P> Deref for PluginContext<P> {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

/// What a command handler receives: the plugin's data, the invocation, its arguments and a way
/// to reply.
///
/// ```no_run
/// use zoryx_plugin_api::prelude::*;
///
/// # struct Bank;
/// async fn pay(ctx: CommandContext<Bank>) -> PluginResult {
///     let to: UserId = ctx.arg("to")?;
///     let amount: i64 = ctx.arg("amount")?;
///     ctx.reply(format!("{} paid {} {amount} coins", ctx.author().name, to.mention())).await?;
///     Ok(())
/// }
/// ```
pub struct CommandContext<P> {
    pub(crate) plugin: Arc<P>,
    pub(crate) host: Host,
    pub(crate) invocation: Invocation,
    pub(crate) args: Args,
    pub(crate) call: CallHandle,
}

impl<P> CommandContext<P> {
    /// The plugin instance (its state).
    pub fn data(&self) -> &P {
        &self.plugin
    }

    /// The host's services.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Who invoked the command, where and how.
    pub fn invocation(&self) -> &Invocation {
        &self.invocation
    }

    /// The invoking user.
    pub fn author(&self) -> &User {
        &self.invocation.author
    }

    /// All parsed arguments.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// One argument, typed; see [`Args::get`].
    pub fn arg<T: FromArg>(&self, name: &str) -> PluginResult<T> {
        self.args.get(name)
    }

    /// Replies where the command was invoked (a message, an interaction response, the console);
    /// resolves to the reply's message id, for [`CommandContext::edit_reply`]. Files and
    /// disabled select menus go too (plugin-api 1.3).
    ///
    /// ```no_run
    /// # async fn demo(ctx: zoryx_plugin_api::CommandContext<()>) -> zoryx_plugin_api::PluginResult {
    /// use zoryx_plugin_api::{FileUpload, Message};
    ///
    /// let log = FileUpload::new("today.log", "12:00 started\n").description("Today's log");
    /// ctx.reply(Message::text("Here is the log").attach(log)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reply(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.reply(message.into()).await
    }

    /// Replaces one of this command's replies (plugin-api 1.3).
    ///
    /// ```no_run
    /// # async fn demo(ctx: zoryx_plugin_api::CommandContext<()>) -> zoryx_plugin_api::PluginResult {
    /// let reply = ctx.reply("Working on it…").await?;
    /// // ... the slow part ...
    /// ctx.edit_reply(reply, "Done.").await?;
    /// # Ok(()) }
    /// ```
    pub async fn edit_reply(&self, reply: MessageId, edit: impl Into<Message>) -> PluginResult {
        self.call.edit(reply, edit.into()).await
    }

    /// Deletes one of this command's replies (plugin-api 1.3).
    pub async fn delete_reply(&self, reply: MessageId) -> PluginResult {
        self.call.delete(reply).await
    }

    /// Deletes the message that invoked a prefix command (the bot needs Manage Messages in
    /// guilds); slash commands have no such message (plugin-api 1.3).
    pub async fn delete_invocation(&self) -> PluginResult {
        match self.invocation.message_id {
            Some(message) => {
                self.host
                    .delete_message(self.invocation.channel_id, message)
                    .await
            }
            None => Err(PluginError::user(
                "this command was not invoked by a message, so there is none to delete",
            )),
        }
    }

    /// Sends another message after the reply: an interaction followup (ephemeral if the
    /// message says so), or another reply in the channel (plugin-api 1.3). Replies after the
    /// first are followups already; this names the intent.
    pub async fn followup(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.followup(message.into()).await
    }

    /// Acknowledges a slash command now ("thinking…", only for the user when `ephemeral`) so
    /// a slow handler has 15 minutes to reply instead of 3 seconds; the first reply then
    /// replaces the "thinking…" message. Prefix commands show the typing indicator
    /// (plugin-api 1.3). The host defers on its own after 2.5 s; call this to do it at once.
    pub async fn defer(&self, ephemeral: bool) -> PluginResult {
        self.call.defer(ephemeral).await
    }

    /// Shows a form as the answer to a slash command (plugin-api 1.3); what the user types
    /// goes to the [`Registrar::modal`](crate::Registrar::modal) handler of its `custom_id`.
    /// Only as the first answer (not after a reply or a deferral), and only for slash
    /// commands: a prefix command gets [`PluginError::NotAvailable`]. The host checks
    /// Discord's limits first ([`Modal::check`]).
    pub async fn modal(&self, modal: Modal) -> PluginResult {
        self.call.modal(modal).await
    }
}

impl<P> Deref for CommandContext<P> {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

/// What a component handler receives: the click or choice, and a way to reply.
pub struct ComponentContext<P> {
    pub(crate) plugin: Arc<P>,
    pub(crate) host: Host,
    pub(crate) interaction: Interaction,
    pub(crate) call: CallHandle,
}

impl<P> ComponentContext<P> {
    /// The plugin instance (its state).
    pub fn data(&self) -> &P {
        &self.plugin
    }

    /// The value a typed custom id carries (see [`CustomId`](crate::CustomId)).
    pub fn custom_id<T: crate::typed::CustomId>(&self) -> PluginResult<T> {
        T::from_custom_id(&self.interaction.name)
    }

    /// The click or choice: `custom_id` in `name`, select values in `values`.
    pub fn interaction(&self) -> &Interaction {
        &self.interaction
    }

    /// Replies to the interaction with a new message; resolves to its id.
    pub async fn reply(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.reply(message.into()).await
    }

    /// Whether the click or choice is `user`'s, for a menu only the one who opened it may use
    /// (its custom id carries their id). Anyone else is told so, privately, and `false` comes
    /// back: return then (plugin-api 1.3).
    ///
    /// ```no_run
    /// # use zoryx_plugin_api::prelude::*;
    /// # async fn f(ctx: ComponentContext<()>, opener: u64) -> PluginResult {
    /// if !ctx.only_for(opener).await? {
    ///     return Ok(());
    /// }
    /// ctx.update(Message::text("Next page")).await
    /// # }
    /// ```
    pub async fn only_for(&self, user: u64) -> PluginResult<bool> {
        if self.interaction.user.id.0 == user {
            return Ok(true);
        }
        self.reply(Message::text("❌ Only the requester can use this menu!").ephemeral())
            .await?;
        Ok(false)
    }

    /// Replaces the message the component is on, in place: a counter that counts up, a page
    /// that turns, buttons that disable themselves (plugin-api 1.3). Works once as the
    /// interaction's answer, and again after it (it then edits that message).
    ///
    /// ```no_run
    /// # use zoryx_plugin_api::prelude::*;
    /// # async fn demo(ctx: ComponentContext<()>) -> PluginResult {
    /// ctx.update(Message::text("Vote closed").button(Button::new("vote", "Vote").disabled())).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// To grey out every button and select menu of a message whose time is up, send it again
    /// through [`Message::disable_components`]:
    ///
    /// ```no_run
    /// # use zoryx_plugin_api::prelude::*;
    /// # async fn demo(ctx: ComponentContext<()>) -> PluginResult {
    /// let poll = Message::text("Poll over")
    ///     .button(Button::new("vote:yes", "Yes"))
    ///     .select(SelectMenu::new("vote:pick", "Pick").option("A", "a"));
    /// ctx.update(poll.disable_components()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, message: impl Into<Message>) -> PluginResult {
        self.call
            .act(&CallAction::Update {
                message: message.into(),
            })
            .await
            .map(drop)
    }

    /// Acknowledges the click without changing anything yet (interaction response 6); a
    /// later [`ComponentContext::update`] edits the message (plugin-api 1.3).
    pub async fn defer_update(&self) -> PluginResult {
        self.call.defer(false).await
    }

    /// Replaces one of this interaction's replies (plugin-api 1.3).
    pub async fn edit_reply(&self, reply: MessageId, edit: impl Into<Message>) -> PluginResult {
        self.call.edit(reply, edit.into()).await
    }

    /// Deletes one of this interaction's replies (plugin-api 1.3).
    pub async fn delete_reply(&self, reply: MessageId) -> PluginResult {
        self.call.delete(reply).await
    }

    /// Sends a followup message (ephemeral if the message says so; plugin-api 1.3).
    pub async fn followup(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.followup(message.into()).await
    }

    /// Shows a form as the answer to the click (plugin-api 1.3); only as the first answer.
    pub async fn modal(&self, modal: Modal) -> PluginResult {
        self.call.modal(modal).await
    }
}

impl<P> Deref for ComponentContext<P> {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

/// What an autocomplete handler receives: what the user has typed so far into the option, and
/// the options filled already (plugin-api 1.3). It returns the suggestions.
pub struct AutocompleteContext<P> {
    pub(crate) plugin: Arc<P>,
    pub(crate) host: Host,
    pub(crate) request: AutocompleteRequest,
}

impl<P> AutocompleteContext<P> {
    /// The plugin instance (its state).
    pub fn data(&self) -> &P {
        &self.plugin
    }

    /// The whole request: command, option, user, place.
    pub fn request(&self) -> &AutocompleteRequest {
        &self.request
    }

    /// What is typed so far into the option.
    pub fn value(&self) -> &str {
        &self.request.value
    }

    /// The option being typed.
    pub fn option(&self) -> &str {
        &self.request.option
    }

    /// The other options filled so far.
    pub fn args(&self) -> &Args {
        &self.request.args
    }

    /// Another option, typed; see [`Args::get`].
    pub fn arg<T: FromArg>(&self, name: &str) -> PluginResult<T> {
        self.request.args.get(name)
    }
}

impl<P> Deref for AutocompleteContext<P> {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

/// What a modal submission handler receives: the typed values, and a way to answer like a
/// component handler (plugin-api 1.3).
pub struct ModalContext<P> {
    pub(crate) plugin: Arc<P>,
    pub(crate) host: Host,
    pub(crate) submit: ModalSubmit,
    pub(crate) call: CallHandle,
}

impl<P> ModalContext<P> {
    /// The plugin instance (its state).
    pub fn data(&self) -> &P {
        &self.plugin
    }

    /// The submission: the modal's `custom_id`, every value, who and where.
    pub fn submission(&self) -> &ModalSubmit {
        &self.submit
    }

    /// The value typed into input `custom_id`.
    pub fn value(&self, custom_id: &str) -> Option<&str> {
        self.submit.value(custom_id)
    }

    /// Replies with a new message; resolves to its id.
    pub async fn reply(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.reply(message.into()).await
    }

    /// Replaces the message whose component showed the modal, in place (only for modals
    /// shown by a component).
    pub async fn update(&self, message: impl Into<Message>) -> PluginResult {
        self.call
            .act(&CallAction::Update {
                message: message.into(),
            })
            .await
            .map(drop)
    }

    /// Acknowledges now and answers later: silently for a modal shown by a component (a later
    /// [`ModalContext::update`] edits its message), with "thinking…" otherwise (ephemeral if
    /// asked).
    pub async fn defer(&self, ephemeral: bool) -> PluginResult {
        self.call.defer(ephemeral).await
    }

    /// Replaces one of the replies.
    pub async fn edit_reply(&self, reply: MessageId, edit: impl Into<Message>) -> PluginResult {
        self.call.edit(reply, edit.into()).await
    }

    /// Deletes one of the replies.
    pub async fn delete_reply(&self, reply: MessageId) -> PluginResult {
        self.call.delete(reply).await
    }

    /// Sends a followup message.
    pub async fn followup(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.followup(message.into()).await
    }
}

impl<P> Deref for ModalContext<P> {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

/// What a context menu command receives: who ran it where, what it was run on (`T`:
/// [`TargetUser`](crate::TargetUser) or [`ChannelMessage`](crate::ChannelMessage)), and a way
/// to answer (plugin-api 1.3).
pub struct ContextMenuContext<P, T> {
    pub(crate) plugin: Arc<P>,
    pub(crate) host: Host,
    pub(crate) invocation: Invocation,
    pub(crate) target: T,
    pub(crate) call: CallHandle,
}

/// What a user command receives.
pub type UserCommandContext<P> = ContextMenuContext<P, crate::interaction::TargetUser>;
/// What a message command receives.
pub type MessageCommandContext<P> = ContextMenuContext<P, crate::guild::ChannelMessage>;

impl<P, T> ContextMenuContext<P, T> {
    /// The plugin instance (its state).
    pub fn data(&self) -> &P {
        &self.plugin
    }

    /// Who ran it, where (`command` is the menu's name).
    pub fn invocation(&self) -> &Invocation {
        &self.invocation
    }

    /// What it was run on.
    pub fn target(&self) -> &T {
        &self.target
    }

    /// Replies with a new message; resolves to its id.
    pub async fn reply(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.reply(message.into()).await
    }

    /// Acknowledges now ("thinking…", ephemeral if asked) and replies later.
    pub async fn defer(&self, ephemeral: bool) -> PluginResult {
        self.call.defer(ephemeral).await
    }

    /// Replaces one of the replies.
    pub async fn edit_reply(&self, reply: MessageId, edit: impl Into<Message>) -> PluginResult {
        self.call.edit(reply, edit.into()).await
    }

    /// Deletes one of the replies.
    pub async fn delete_reply(&self, reply: MessageId) -> PluginResult {
        self.call.delete(reply).await
    }

    /// Sends a followup message.
    pub async fn followup(&self, message: impl Into<Message>) -> PluginResult<MessageId> {
        self.call.followup(message.into()).await
    }

    /// Shows a form as the answer; only as the first answer.
    pub async fn modal(&self, modal: Modal) -> PluginResult {
        self.call.modal(modal).await
    }

    /// The same call with its target converted; `None` when `f` refuses it.
    pub(crate) fn map_target<U>(
        self,
        f: impl FnOnce(T) -> Option<U>,
    ) -> Option<ContextMenuContext<P, U>> {
        let Self {
            plugin,
            host,
            invocation,
            target,
            call,
        } = self;
        Some(ContextMenuContext {
            plugin,
            host,
            invocation,
            target: f(target)?,
            call,
        })
    }
}

impl<P, T> Deref for ContextMenuContext<P, T> {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}
