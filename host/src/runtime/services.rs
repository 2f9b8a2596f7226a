//! The host services behind a plugin's [`HostVtable`]: logging, config, time, messages, events
//! and storage.

use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use abi_stable::prefix_type::WithMetadata;
use abi_stable::std_types::{RErr, ROk, ROption, RResult, RStr, RString};
use async_ffi::FfiFuture;
use futures::future::BoxFuture;
use zoryx_plugin_api::ffi::host_vtable::{ScopeFfi, level};
use zoryx_plugin_api::ffi::types::{ErrorFfi, MessageFfi};
use zoryx_plugin_api::ffi::{CallData, HostData, HostHandle, HostVtable, HostVtableRef};
use zoryx_plugin_api::{ChannelId, Message, MessageId, PluginError};

use super::bridge::host_future;
use super::call::{call_state, into_call_data, release_call_data};
use super::dispatch::Dispatcher;

/// Where plugin messages to channels go.
pub trait Outbox: Send + Sync {
    /// Sends `message` to `channel` on behalf of `plugin`.
    fn send(
        &self,
        plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>>;
}

/// An outbox that logs messages; used until a Discord connection provides a real one.
#[derive(Debug, Default)]
pub struct LogOutbox {
    next_id: std::sync::atomic::AtomicU64,
}

impl Outbox for LogOutbox {
    fn send(
        &self,
        plugin: &str,
        channel: ChannelId,
        message: Message,
    ) -> BoxFuture<'static, Result<MessageId, String>> {
        tracing::info!(plugin, channel = channel.0, content = ?message.content, embeds = message.embeds.len(), "message to channel");
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        Box::pin(async move { Ok(MessageId(id)) })
    }
}

/// Services shared by every plugin.
pub struct Shared {
    config: arc_swap::ArcSwap<serde_json::Value>,
    outbox: arc_swap::ArcSwap<Box<dyn Outbox>>,
    dispatcher: OnceLock<Weak<Dispatcher>>,
}

impl Shared {
    /// Services reading `config` and sending through `outbox`.
    pub fn new(config: serde_json::Value, outbox: Box<dyn Outbox>) -> Arc<Self> {
        Arc::new(Self {
            config: arc_swap::ArcSwap::from_pointee(config),
            outbox: arc_swap::ArcSwap::from_pointee(outbox),
            dispatcher: OnceLock::new(),
        })
    }

    pub(crate) fn dispatcher(&self) -> Option<Arc<Dispatcher>> {
        self.dispatcher.get().and_then(Weak::upgrade)
    }

    pub(crate) fn attach(&self, dispatcher: &Arc<Dispatcher>) {
        let _ = self.dispatcher.set(Arc::downgrade(dispatcher));
    }

    /// Replaces where plugin messages go (the Discord layer installs its own).
    pub fn set_outbox(&self, outbox: Box<dyn Outbox>) {
        self.outbox.store(Arc::new(outbox));
    }

    /// Replaces the config plugins read.
    pub fn set_config(&self, config: serde_json::Value) {
        self.config.store(Arc::new(config));
    }

    /// A config value by dotted key.
    pub fn config_value(&self, key: &str) -> Option<serde_json::Value> {
        let config = self.config.load();
        let mut value: &serde_json::Value = &config;
        for part in key.split('.') {
            value = value.get(part)?;
        }
        Some(value.clone())
    }
}

/// Host state for one plugin generation; plugins see it as [`HostData`].
pub(crate) struct PluginHost {
    pub(crate) name: String,
    pub(crate) shared: Arc<Shared>,
}

impl PluginHost {
    pub(crate) fn handle(self: &Arc<Self>) -> HostHandle {
        HostHandle {
            vtable: vtable(),
            data: HostData(Arc::as_ptr(self).cast()),
        }
    }
}

fn host(data: HostData) -> &'static PluginHost {
    // SAFETY: `data` is `Arc::as_ptr` of the generation's `PluginHost`, which the generation keeps
    // alive for as long as the plugin can run (every call and future holds the generation). The
    // `'static` here never escapes a single host function call.
    unsafe { &*data.0.cast::<PluginHost>() }
}

fn error(e: PluginError) -> ErrorFfi {
    ErrorFfi::from(&e)
}

extern "C" fn log(data: HostData, level: u8, message: RStr<'_>) {
    let plugin = host(data).name.as_str();
    let message = message.as_str();
    match level {
        level::ERROR => tracing::error!(plugin, "{message}"),
        level::WARN => tracing::warn!(plugin, "{message}"),
        level::INFO => tracing::info!(plugin, "{message}"),
        level::DEBUG => tracing::debug!(plugin, "{message}"),
        _ => tracing::trace!(plugin, "{message}"),
    }
}

extern "C" fn config(data: HostData, key: RStr<'_>) -> ROption<RString> {
    host(data)
        .shared
        .config_value(key.as_str())
        .map(|v| RString::from(v.to_string()))
        .into()
}

extern "C" fn sleep(millis: u64) -> FfiFuture<()> {
    host_future(tokio::time::sleep(Duration::from_millis(millis)))
}

extern "C" fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

extern "C" fn send(
    data: HostData,
    channel: u64,
    message: MessageFfi,
) -> FfiFuture<RResult<u64, ErrorFfi>> {
    let host = host(data);
    let message = Message::from(&message);
    let future = host
        .shared
        .outbox
        .load()
        .send(&host.name, ChannelId(channel), message);
    host_future(async move {
        match future.await {
            Ok(id) => ROk(id.0),
            Err(e) => RErr(error(PluginError::Host(e))),
        }
    })
}

extern "C" fn reply(call: &CallData, message: MessageFfi) -> FfiFuture<RResult<u64, ErrorFfi>> {
    // SAFETY: the plugin only passes handles the host gave it, released through `call_drop`.
    let state = unsafe { call_state(call) };
    let future = state.sink.reply(Message::from(&message));
    host_future(async move {
        match future.await {
            Ok(id) => ROk(id.0),
            Err(e) => RErr(error(PluginError::Host(e))),
        }
    })
}

extern "C" fn call_clone(call: &CallData) -> CallData {
    // SAFETY: as in `reply`.
    into_call_data(unsafe { call_state(call) })
}

extern "C" fn call_drop(call: &mut CallData) {
    // SAFETY: the plugin's handle owns one reference and drops it once.
    unsafe { release_call_data(call) };
}

extern "C" fn emit(
    data: HostData,
    name: RStr<'_>,
    payload: RStr<'_>,
) -> FfiFuture<RResult<u32, ErrorFfi>> {
    let host = host(data);
    let name = name.as_str().to_owned();
    let payload = serde_json::from_str(payload.as_str()).unwrap_or(serde_json::Value::Null);
    let dispatcher = host.shared.dispatcher.get().and_then(Weak::upgrade);
    host_future(async move {
        match dispatcher {
            Some(dispatcher) => ROk(dispatcher.emit(&name, payload).await),
            None => RErr(error(PluginError::Host(
                "the event bus is not running".into(),
            ))),
        }
    })
}

fn storage_unavailable<T: Send + 'static>() -> FfiFuture<RResult<T, ErrorFfi>> {
    host_future(async { RErr(error(PluginError::NotAvailable("plugin storage".into()))) })
}

extern "C" fn kv_get(
    _: HostData,
    _: ScopeFfi,
    _: RStr<'_>,
) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn kv_set(
    _: HostData,
    _: ScopeFfi,
    _: RStr<'_>,
    _: RStr<'_>,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn kv_delete(
    _: HostData,
    _: ScopeFfi,
    _: RStr<'_>,
) -> FfiFuture<RResult<bool, ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn kv_keys(
    _: HostData,
    _: ScopeFfi,
    _: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn sql_prefix(_: HostData) -> RResult<RString, ErrorFfi> {
    RErr(error(PluginError::NotAvailable("plugin storage".into())))
}

extern "C" fn sql_execute(
    _: HostData,
    _: u64,
    _: RStr<'_>,
    _: RStr<'_>,
) -> FfiFuture<RResult<u64, ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn sql_query(
    _: HostData,
    _: u64,
    _: RStr<'_>,
    _: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn file_read(
    _: HostData,
    _: RStr<'_>,
) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn file_write(
    _: HostData,
    _: RStr<'_>,
    _: RStr<'_>,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn file_delete(_: HostData, _: RStr<'_>) -> FfiFuture<RResult<bool, ErrorFfi>> {
    storage_unavailable()
}

extern "C" fn file_list(_: HostData, _: RStr<'_>) -> FfiFuture<RResult<RString, ErrorFfi>> {
    storage_unavailable()
}

const VTABLE: &WithMetadata<HostVtable> = &WithMetadata::new(HostVtable {
    log,
    config,
    sleep,
    now_unix_ms,
    send,
    reply,
    call_clone,
    call_drop,
    emit,
    kv_get,
    kv_set,
    kv_delete,
    kv_keys,
    sql_prefix,
    sql_execute,
    sql_query,
    file_read,
    file_write,
    file_delete,
    file_list,
});

fn vtable() -> HostVtableRef {
    HostVtableRef(VTABLE.static_as_prefix())
}
