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
use super::dispatch::{Dispatcher, Limits};
use super::pool::{PluginPool, PoolOptions};
use crate::storage::plugin::PluginStorage;
use crate::storage::plugin::sql::Outcome;

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
    storage: arc_swap::ArcSwapOption<PluginStorage>,
    limits: arc_swap::ArcSwap<Limits>,
    pool_options: std::sync::Mutex<PoolOptions>,
    pool: OnceLock<PluginPool>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.get() {
            pool.shutdown();
        }
    }
}

impl Shared {
    /// Services reading `config` and sending through `outbox`.
    pub fn new(config: serde_json::Value, outbox: Box<dyn Outbox>) -> Arc<Self> {
        Arc::new(Self {
            config: arc_swap::ArcSwap::from_pointee(config),
            outbox: arc_swap::ArcSwap::from_pointee(outbox),
            dispatcher: OnceLock::new(),
            storage: arc_swap::ArcSwapOption::empty(),
            limits: arc_swap::ArcSwap::from_pointee(Limits::default()),
            pool_options: std::sync::Mutex::new(PoolOptions::default()),
            pool: OnceLock::new(),
        })
    }

    /// Sets the time limits of plugin calls.
    pub fn set_limits(&self, limits: Limits) {
        self.limits.store(Arc::new(limits));
    }

    /// The time limits of plugin calls.
    pub fn limits(&self) -> Arc<Limits> {
        self.limits.load_full()
    }

    /// Sets the options of the plugin threads; only before the first plugin call.
    pub fn set_pool_options(&self, options: PoolOptions) {
        if let Ok(mut current) = self.pool_options.lock() {
            *current = options;
        }
    }

    /// The threads plugin code runs on, started on first use inside the host's runtime.
    pub fn pool(&self) -> PluginPool {
        self.pool
            .get_or_init(|| {
                let options = self.pool_options.lock().map(|o| *o).unwrap_or_default();
                PluginPool::new(tokio::runtime::Handle::current(), options)
            })
            .clone()
    }

    /// Installs the storage plugins use (key-value, SQL tables, files); without one, storage
    /// calls answer "not available".
    pub fn set_plugin_storage(&self, storage: Arc<PluginStorage>) {
        self.storage.store(Some(storage));
    }

    /// The storage plugins use, if installed.
    pub fn plugin_storage(&self) -> Option<Arc<PluginStorage>> {
        self.storage.load_full()
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

fn storage_unavailable() -> PluginError {
    PluginError::NotAvailable("plugin storage".into())
}

/// Runs a storage operation for the calling plugin: `op` gets the storage and the plugin's name
/// (owned copies: nothing the plugin passed is kept past this call).
fn storage_call<T, F, Fut>(data: HostData, op: F) -> FfiFuture<RResult<T, ErrorFfi>>
where
    T: Send + 'static,
    F: FnOnce(Arc<PluginStorage>, String) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::storage::plugin::StorageError>>
        + Send
        + 'static,
{
    let host = host(data);
    let Some(storage) = host.shared.plugin_storage() else {
        return host_future(async { RErr(error(storage_unavailable())) });
    };
    let future = op(storage, host.name.clone());
    host_future(async move {
        match future.await {
            Ok(value) => ROk(value),
            Err(e) => RErr(error(PluginError::Host(e.to_string()))),
        }
    })
}

fn guild(scope: ScopeFfi) -> Option<u64> {
    scope.into_option()
}

extern "C" fn kv_get(
    data: HostData,
    scope: ScopeFfi,
    key: RStr<'_>,
) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>> {
    let key = key.as_str().to_owned();
    storage_call(data, move |storage, plugin| async move {
        let value = storage.kv_get(&plugin, guild(scope), &key).await?;
        Ok(value.map(RString::from).into())
    })
}

extern "C" fn kv_set(
    data: HostData,
    scope: ScopeFfi,
    key: RStr<'_>,
    value: RStr<'_>,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    let (key, value) = (key.as_str().to_owned(), value.as_str().to_owned());
    storage_call(data, move |storage, plugin| async move {
        storage.kv_set(&plugin, guild(scope), &key, &value).await
    })
}

extern "C" fn kv_delete(
    data: HostData,
    scope: ScopeFfi,
    key: RStr<'_>,
) -> FfiFuture<RResult<bool, ErrorFfi>> {
    let key = key.as_str().to_owned();
    storage_call(data, move |storage, plugin| async move {
        storage.kv_delete(&plugin, guild(scope), &key).await
    })
}

extern "C" fn kv_keys(
    data: HostData,
    scope: ScopeFfi,
    prefix: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    let prefix = prefix.as_str().to_owned();
    storage_call(data, move |storage, plugin| async move {
        let keys = storage.kv_keys(&plugin, guild(scope), &prefix).await?;
        Ok(RString::from(serde_json::Value::from(keys).to_string()))
    })
}

extern "C" fn sql_prefix(data: HostData) -> RResult<RString, ErrorFfi> {
    match PluginStorage::sql_prefix(&host(data).name) {
        Ok(prefix) => ROk(RString::from(prefix)),
        Err(e) => RErr(error(PluginError::Host(e.to_string()))),
    }
}

fn sql_call(
    data: HostData,
    guild: u64,
    sql: RStr<'_>,
    params: RStr<'_>,
    rows: bool,
) -> FfiFuture<RResult<Outcome, ErrorFfi>> {
    let (sql, params) = (sql.as_str().to_owned(), params.as_str().to_owned());
    storage_call(data, move |storage, plugin| async move {
        storage.sql(&plugin, guild, &sql, &params, rows).await
    })
}

extern "C" fn sql_execute(
    data: HostData,
    guild: u64,
    sql: RStr<'_>,
    params: RStr<'_>,
) -> FfiFuture<RResult<u64, ErrorFfi>> {
    let call = sql_call(data, guild, sql, params, false);
    host_future(async move {
        match call.await {
            ROk(Outcome::Changed(n)) => ROk(n),
            ROk(Outcome::Rows(rows)) => ROk(rows.len() as u64),
            RErr(e) => RErr(e),
        }
    })
}

extern "C" fn sql_query(
    data: HostData,
    guild: u64,
    sql: RStr<'_>,
    params: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    let call = sql_call(data, guild, sql, params, true);
    host_future(async move {
        match call.await {
            ROk(Outcome::Rows(rows)) => {
                let rows: Vec<serde_json::Value> =
                    rows.into_iter().map(serde_json::Value::Object).collect();
                ROk(RString::from(serde_json::Value::from(rows).to_string()))
            }
            ROk(Outcome::Changed(_)) => ROk(RString::from("[]")),
            RErr(e) => RErr(e),
        }
    })
}

extern "C" fn file_read(
    data: HostData,
    path: RStr<'_>,
) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>> {
    let path = path.as_str().to_owned();
    storage_call(data, move |storage, plugin| async move {
        let text = storage.file_read(&plugin, &path).await?;
        Ok(text.map(RString::from).into())
    })
}

extern "C" fn file_write(
    data: HostData,
    path: RStr<'_>,
    value: RStr<'_>,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    let (path, value) = (path.as_str().to_owned(), value.as_str().to_owned());
    storage_call(data, move |storage, plugin| async move {
        storage.file_write(&plugin, &path, &value).await
    })
}

extern "C" fn file_delete(data: HostData, path: RStr<'_>) -> FfiFuture<RResult<bool, ErrorFfi>> {
    let path = path.as_str().to_owned();
    storage_call(data, move |storage, plugin| async move {
        storage.file_delete(&plugin, &path).await
    })
}

extern "C" fn file_list(data: HostData, dir: RStr<'_>) -> FfiFuture<RResult<RString, ErrorFfi>> {
    let dir = dir.as_str().to_owned();
    storage_call(data, move |storage, plugin| async move {
        let names = storage.file_list(&plugin, &dir).await?;
        Ok(RString::from(serde_json::Value::from(names).to_string()))
    })
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
