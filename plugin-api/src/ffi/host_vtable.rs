//! The services the host offers a plugin: a vtable of host functions plus opaque handles.
//!
//! This is a prefix type. Fields up to and including `emit` existed in plugin-api 1.0 and are
//! always present. Later minors append fields after it (1.1: key-value storage; 1.2: key
//! listing, SQL tables, JSON files; 1.3: Discord actions and call actions); a plugin reads them as
//! `Option`s, so an older plugin keeps working on a newer host, which has every field it knows.

use std::ffi::c_void;

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RResult, RStr, RString};
use async_ffi::FfiFuture;

use super::types::{ErrorFfi, MessageFfi};

/// An opaque pointer to the host's state for one loaded plugin generation.
///
/// Valid for as long as the generation is loaded, which covers every call the host makes into
/// the plugin and every future it polls.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct HostData(pub *const c_void);

/// An opaque, reference-counted pointer to the host's state for one command or component call
/// (where replies go). Clone and drop it only through [`HostVtable`]'s `call_clone`/`call_drop`.
#[repr(transparent)]
#[derive(StableAbi, Debug)]
pub struct CallData(pub *const c_void);

/// Log levels for [`HostVtable`]'s `log`.
pub mod level {
    /// Error.
    pub const ERROR: u8 = 1;
    /// Warning.
    pub const WARN: u8 = 2;
    /// Information.
    pub const INFO: u8 = 3;
    /// Debugging.
    pub const DEBUG: u8 = 4;
    /// Tracing.
    pub const TRACE: u8 = 5;
}

/// Storage scope on the wire: `RNone` is global, `RSome(guild_id)` one guild.
pub type ScopeFfi = ROption<u64>;

/// The host function table.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostVtableRef)))]
#[sabi(missing_field(option))]
pub struct HostVtable {
    /// Logs a line through the host's tracing, tagged with the plugin's name.
    pub log: extern "C" fn(host: HostData, level: u8, message: RStr<'_>),
    /// A config value as JSON text, `RNone` if the key is absent.
    pub config: extern "C" fn(host: HostData, key: RStr<'_>) -> ROption<RString>,
    /// A future that completes after `millis` milliseconds, driven by the host's runtime.
    pub sleep: extern "C" fn(millis: u64) -> FfiFuture<()>,
    /// The host's wall clock, milliseconds since the Unix epoch.
    pub now_unix_ms: extern "C" fn() -> u64,
    /// Sends a message to a channel; resolves to the new message's id.
    pub send: extern "C" fn(
        host: HostData,
        channel_id: u64,
        message: MessageFfi,
    ) -> FfiFuture<RResult<u64, ErrorFfi>>,
    /// Replies to the invocation behind `call`; resolves to the new message's id.
    pub reply:
        extern "C" fn(call: &CallData, message: MessageFfi) -> FfiFuture<RResult<u64, ErrorFfi>>,
    /// Takes another reference to a call handle.
    pub call_clone: extern "C" fn(call: &CallData) -> CallData,
    /// Releases a reference to a call handle.
    pub call_drop: extern "C" fn(call: &mut CallData),
    /// Emits a named framework event to every hook; resolves to how many hooks ran.
    #[sabi(last_prefix_field)]
    pub emit: extern "C" fn(
        host: HostData,
        name: RStr<'_>,
        payload_json: RStr<'_>,
    ) -> FfiFuture<RResult<u32, ErrorFfi>>,
    /// (1.1) Reads a key of the plugin's key-value store as JSON text.
    pub kv_get: extern "C" fn(
        host: HostData,
        scope: ScopeFfi,
        key: RStr<'_>,
    ) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>>,
    /// (1.1) Writes a key of the plugin's key-value store (JSON text).
    pub kv_set: extern "C" fn(
        host: HostData,
        scope: ScopeFfi,
        key: RStr<'_>,
        value_json: RStr<'_>,
    ) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// (1.1) Deletes a key; resolves to whether it existed.
    pub kv_delete: extern "C" fn(
        host: HostData,
        scope: ScopeFfi,
        key: RStr<'_>,
    ) -> FfiFuture<RResult<bool, ErrorFfi>>,
    /// (1.2) The keys of the plugin's key-value store that start with `prefix`, sorted, as a
    /// JSON array of strings.
    pub kv_keys: extern "C" fn(
        host: HostData,
        scope: ScopeFfi,
        prefix: RStr<'_>,
    ) -> FfiFuture<RResult<RString, ErrorFfi>>,
    /// (1.2) The prefix every SQL table of the plugin must carry (`p_<name>__`).
    pub sql_prefix: extern "C" fn(host: HostData) -> RResult<RString, ErrorFfi>,
    /// (1.2) Runs one parameterised SQL statement in a guild's database; resolves to the number
    /// of rows it changed. `params_json` is a JSON array of scalars.
    pub sql_execute: extern "C" fn(
        host: HostData,
        guild_id: u64,
        sql: RStr<'_>,
        params_json: RStr<'_>,
    ) -> FfiFuture<RResult<u64, ErrorFfi>>,
    /// (1.2) Runs one parameterised SQL query in a guild's database; resolves to its rows as a
    /// JSON array of objects (column name → value).
    pub sql_query: extern "C" fn(
        host: HostData,
        guild_id: u64,
        sql: RStr<'_>,
        params_json: RStr<'_>,
    ) -> FfiFuture<RResult<RString, ErrorFfi>>,
    /// (1.2) Reads a JSON file of the plugin's folder as JSON text; `RNone` if it does not exist.
    pub file_read: extern "C" fn(
        host: HostData,
        path: RStr<'_>,
    ) -> FfiFuture<RResult<ROption<RString>, ErrorFfi>>,
    /// (1.2) Writes a JSON file of the plugin's folder atomically.
    pub file_write: extern "C" fn(
        host: HostData,
        path: RStr<'_>,
        value_json: RStr<'_>,
    ) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// (1.2) Deletes a file of the plugin's folder; resolves to whether it existed.
    pub file_delete:
        extern "C" fn(host: HostData, path: RStr<'_>) -> FfiFuture<RResult<bool, ErrorFfi>>,
    /// (1.2) The entries of a folder inside the plugin's folder, sorted, as a JSON array of
    /// strings (folders end with `/`).
    pub file_list:
        extern "C" fn(host: HostData, dir: RStr<'_>) -> FfiFuture<RResult<RString, ErrorFfi>>,
    /// (1.3) Carries out one [`Action`](crate::actions::Action), given as JSON; resolves to its
    /// [`Outcome`](crate::actions::Outcome) as JSON.
    pub request: extern "C" fn(
        host: HostData,
        action_json: RStr<'_>,
    ) -> FfiFuture<RResult<RString, ErrorFfi>>,
    /// (1.3) Carries out one [`CallAction`](crate::actions::CallAction) of the call behind
    /// `call`, given as JSON; resolves to its [`Outcome`](crate::actions::Outcome) as JSON.
    pub call_request: extern "C" fn(
        call: &CallData,
        action_json: RStr<'_>,
    ) -> FfiFuture<RResult<RString, ErrorFfi>>,
}

/// What the host hands a plugin at initialisation: its function table and its state pointer.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct HostHandle {
    /// The host functions.
    pub vtable: HostVtableRef,
    /// The host's state for this plugin generation.
    pub data: HostData,
}

// SAFETY: the host's functions behind `vtable` are thread-safe and `data` points to host state
// that is `Send + Sync` (an `Arc`-held struct) and outlives every use by the plugin.
unsafe impl Send for HostHandle {}
// SAFETY: see `Send` above.
unsafe impl Sync for HostHandle {}
