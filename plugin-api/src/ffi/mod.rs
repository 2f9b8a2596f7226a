//! The binary boundary between host and plugin.
//!
//! Plugin authors never touch this module: [`export_plugin!`](crate::export_plugin) wires a
//! [`Plugin`](crate::Plugin) type to it. The host uses it to find, check and call plugins.
//!
//! The design rules, each one learned from a crash:
//! - only `#[repr(C)]` types with abi_stable layouts cross, and both sides convert them to plain
//!   Rust values at once, so nothing allocated by a library outlives it;
//! - every plugin function catches panics and returns them as [`types::ErrorFfi`];
//! - futures are `async_ffi::FfiFuture`s driven by the host's runtime; plugins have none;
//! - the function tables are abi_stable prefix types whose last required field never moves, so
//!   newer minors only append.

pub mod extra;
pub mod host_vtable;
pub mod module;
pub mod shim;
pub mod types;

pub use host_vtable::{CallData, HostData, HostHandle, HostVtable, HostVtableRef};
pub use module::{
    CallFfi, DECLARATION_SYMBOL, DECLARATION_VERSION, InstanceHandle, MAGIC, PluginDeclaration,
    PluginModule, PluginModuleRef,
};

/// The function table of plugin type `P`, as a `'static` prefix-type reference.
#[doc(hidden)]
pub struct ModuleOf<P>(std::marker::PhantomData<P>);

impl<P: crate::Plugin> ModuleOf<P> {
    abi_stable::staticref! {
        const TABLE: abi_stable::prefix_type::WithMetadata<PluginModule> =
            abi_stable::prefix_type::WithMetadata::new(PluginModule {
                describe: shim::describe::<P>,
                init: shim::init::<P>,
                call_command: shim::call_command::<P>,
                on_event: shim::on_event::<P>,
                on_hook: shim::on_hook::<P>,
                run_task: shim::run_task::<P>,
                on_component: shim::on_component::<P>,
                shutdown: shim::shutdown::<P>,
                drop_instance: shim::drop_instance::<P>,
                describe_extra: shim::describe_extra::<P>,
                call_extra: shim::call_extra::<P>,
            })
    }

    /// The declaration to export for `P`.
    pub const DECLARATION: PluginDeclaration =
        PluginDeclaration::new(PluginModuleRef(Self::TABLE.as_prefix()));
}

/// Exports a [`Plugin`](crate::Plugin) type from a `cdylib` crate so the Zoryx host can load it.
///
/// Use it once per plugin crate, whose `Cargo.toml` has `crate-type = ["cdylib"]`.
///
/// ```
/// use zoryx_plugin_api::prelude::*;
///
/// pub struct Ping;
///
/// impl Plugin for Ping {
///     fn manifest() -> Manifest {
///         Manifest::new("ping", "1.0.0")
///     }
///     fn register(plugin: &mut Registrar<Self>) {
///         plugin.command(CommandSpec::new("ping"), |ctx: CommandContext<Ping>| async move {
///             ctx.reply("pong").await?;
///             Ok(())
///         });
///     }
///     async fn init(_host: Host) -> PluginResult<Self> {
///         Ok(Ping)
///     }
/// }
///
/// zoryx_plugin_api::export_plugin!(Ping);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub static ZORYX_PLUGIN_DECLARATION: $crate::ffi::PluginDeclaration =
            $crate::ffi::ModuleOf::<$plugin>::DECLARATION;
    };
}
