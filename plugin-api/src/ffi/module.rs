//! The plugin's side of the boundary: the declaration the host finds by symbol, and the
//! function table it calls.

use std::ffi::c_void;

use abi_stable::StableAbi;
use abi_stable::std_types::{ROption, RResult, RStr, RString};
use abi_stable::type_layout::TypeLayout;
use async_ffi::FfiFuture;

use super::host_vtable::{CallData, HostHandle};
use super::types::{
    ArgsFfi, DescriptionFfi, ErrorFfi, EventFfi, HookEventFfi, InteractionFfi, InvocationFfi,
};
use crate::version::{API_VERSION, ApiVersion};

/// The symbol every plugin library exports (see [`export_plugin!`](crate::export_plugin)).
pub const DECLARATION_SYMBOL: &[u8] = b"ZORYX_PLUGIN_DECLARATION\0";

/// The first bytes of a [`PluginDeclaration`].
pub const MAGIC: [u8; 8] = *b"ZORYX\0PL";

/// The version of the [`PluginDeclaration`] struct itself, which never changes shape within it.
pub const DECLARATION_VERSION: u32 = 1;

/// An opaque pointer to a plugin instance, owned by the plugin.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct InstanceHandle(pub *const c_void);

// SAFETY: the instance is a `Send + Sync` plugin type behind an `Arc`; the handle is only a
// pointer to it, used through the plugin's own functions.
unsafe impl Send for InstanceHandle {}
// SAFETY: see `Send` above.
unsafe impl Sync for InstanceHandle {}

/// One command or component call: who, with which arguments, and where replies go.
#[repr(C)]
#[derive(StableAbi)]
pub struct CallFfi {
    /// Who invoked what, where.
    pub invocation: InvocationFfi,
    /// Parsed arguments.
    pub args: ArgsFfi,
    /// The reply route; the plugin owns this reference.
    pub call: CallData,
}

/// The plugin's function table. Every function catches panics and returns them as errors.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(option))]
pub struct PluginModule {
    /// Manifest and registrations, without initialising anything.
    pub describe: extern "C" fn() -> RResult<DescriptionFfi, ErrorFfi>,
    /// Creates the plugin instance.
    pub init: extern "C" fn(host: HostHandle) -> FfiFuture<RResult<InstanceHandle, ErrorFfi>>,
    /// Runs command `index` of the description.
    pub call_command: extern "C" fn(
        instance: InstanceHandle,
        index: u32,
        call: CallFfi,
    ) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// Runs listener `index` for an event.
    pub on_event: extern "C" fn(
        instance: InstanceHandle,
        index: u32,
        event: EventFfi,
    ) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// Runs hook `index` for a framework event.
    pub on_hook: extern "C" fn(
        instance: InstanceHandle,
        index: u32,
        event: HookEventFfi,
    ) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// Runs scheduled task `index` once.
    pub run_task:
        extern "C" fn(instance: InstanceHandle, index: u32) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// Runs component handler `index` for a click or choice.
    pub on_component: extern "C" fn(
        instance: InstanceHandle,
        index: u32,
        call: CallFfi,
        interaction: InteractionFfi,
    ) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// Lets the plugin clean up before it is retired.
    pub shutdown: extern "C" fn(instance: InstanceHandle) -> FfiFuture<RResult<(), ErrorFfi>>,
    /// Frees the instance. No call may follow.
    #[sabi(last_prefix_field)]
    pub drop_instance: extern "C" fn(instance: InstanceHandle) -> RResult<(), ErrorFfi>,
    /// (1.3) The registrations 1.3 and later added, as JSON ([`Extras`](super::extra::Extras)).
    pub describe_extra: extern "C" fn() -> RResult<RString, ErrorFfi>,
    /// (1.3) Runs handler `index` of [`kind`](super::extra::kind) `kind` with `input` (JSON);
    /// `call` is where replies go for handlers that reply. Resolves to the handler's output as
    /// JSON.
    pub call_extra: extern "C" fn(
        instance: InstanceHandle,
        kind: RStr<'_>,
        index: u32,
        call: ROption<CallData>,
        input: RStr<'_>,
    ) -> FfiFuture<RResult<RString, ErrorFfi>>,
}

/// The static every plugin exports under [`DECLARATION_SYMBOL`].
///
/// Its shape is frozen: the host reads `magic`, `declaration_version` and `api_version` before it
/// trusts anything else, then checks `layout` against its own layout of [`PluginModuleRef`].
#[repr(C)]
pub struct PluginDeclaration {
    /// Always [`MAGIC`].
    pub magic: [u8; 8],
    /// Always [`DECLARATION_VERSION`].
    pub declaration_version: u32,
    /// The plugin-api version the plugin was built against.
    pub api_version: ApiVersion,
    /// The plugin's layout of [`PluginModuleRef`], checked by the host.
    pub layout: &'static TypeLayout,
    /// The plugin's function table.
    pub module: PluginModuleRef,
}

// SAFETY: every field is immutable static data (bytes, numbers, a `'static` layout and a pointer
// to a `'static` function table).
unsafe impl Sync for PluginDeclaration {}

impl PluginDeclaration {
    /// The declaration for a function table; used by [`export_plugin!`](crate::export_plugin).
    pub const fn new(module: PluginModuleRef) -> Self {
        Self {
            magic: MAGIC,
            declaration_version: DECLARATION_VERSION,
            api_version: API_VERSION,
            layout: <PluginModuleRef as StableAbi>::LAYOUT,
            module,
        }
    }
}
