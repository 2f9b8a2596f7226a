//! The plugin side of the function table: generic `extern "C"` functions that turn host calls
//! into calls on the plugin's Rust type. Every one catches panics and returns them as errors,
//! because a panic must never unwind into the host.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, OnceLock};

use std::pin::Pin;

use abi_stable::std_types::{RErr, ROk, ROption, RResult, RStr, RString};
use async_ffi::{FfiFuture, FutureExt as _};
use futures::FutureExt as _;

use super::host_vtable::{CallData, HostHandle, level};
use super::module::{CallFfi, InstanceHandle};
use super::types::{
    DescriptionFfi, ErrorFfi, EventFfi, HookEventFfi, InteractionFfi, args_from_ffi,
};
use crate::context::{
    AutocompleteContext, CallHandle, CommandContext, ComponentContext, ContextMenuContext, Host,
    ModalContext, PluginContext,
};
use crate::error::{PluginError, PluginResult};
use crate::plugin::{HandlerFuture, Plugin, Registrar};

/// The live instance behind an [`InstanceHandle`].
struct Runtime<P: Plugin> {
    plugin: Arc<P>,
    host: Host,
    handlers: Registrar<P>,
}

/// The host of this library copy, for the panic hook's log line.
static PANIC_HOST: OnceLock<HostHandle> = OnceLock::new();
static PANIC_HOOK: Once = Once::new();
static KEEP_PROCESS_HOOK: AtomicBool = AtomicBool::new(false);

/// Leaves the process's panic hook alone. For plugins linked into the host process (plugin
/// tests), where the hook belongs to the test harness; a plugin library has a std of its own and
/// always installs its hook.
#[doc(hidden)]
pub fn keep_process_panic_hook() {
    KEEP_PROCESS_HOOK.store(true, Ordering::SeqCst);
}

/// Installs this library's own panic hook: one log line through the host, no backtrace.
///
/// The default hook with `RUST_BACKTRACE=1` makes the library's std map its own file for debug
/// info, which pins memory on every reload.
fn install_panic_hook() {
    if KEEP_PROCESS_HOOK.load(Ordering::SeqCst) {
        return;
    }
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let line = format!("panic {info}");
            match PANIC_HOST.get() {
                Some(host) => (host.vtable.log())(host.data, level::ERROR, RStr::from_str(&line)),
                None => {
                    use std::io::Write as _;
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        }));
    });
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(text) => (*text).to_owned(),
            Err(_) => "non-string panic payload".to_owned(),
        },
    }
}

fn to_ffi<T>(result: PluginResult<T>) -> RResult<T, ErrorFfi> {
    match result {
        Ok(value) => ROk(value),
        Err(error) => RErr(ErrorFfi::from(error)),
    }
}

/// Runs `f`, turning errors and panics into an [`ErrorFfi`].
fn guard<T>(f: impl FnOnce() -> PluginResult<T>) -> RResult<T, ErrorFfi> {
    install_panic_hook();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => to_ffi(result),
        Err(payload) => RErr(PluginError::Panic(panic_message(payload)).into()),
    }
}

/// Builds a future with `make` and wraps it so that panics while building or polling it come out
/// as errors.
fn guard_future<T, F>(make: impl FnOnce() -> PluginResult<F>) -> FfiFuture<RResult<T, ErrorFfi>>
where
    T: Send + 'static,
    F: Future<Output = PluginResult<T>> + Send + 'static,
{
    match guard(make) {
        RErr(error) => async move { RErr(error) }.into_ffi(),
        ROk(future) => async move {
            match AssertUnwindSafe(future).catch_unwind().await {
                Ok(result) => to_ffi(result),
                Err(payload) => RErr(PluginError::Panic(panic_message(payload)).into()),
            }
        }
        .into_ffi(),
    }
}

/// # Safety contract
/// `instance` comes from this library's [`init`] for the same `P` and has not been dropped.
fn runtime<'a, P: Plugin>(instance: InstanceHandle) -> &'a Runtime<P> {
    // SAFETY: the host passes back exactly the pointer `init` produced (an `Arc<Runtime<P>>`
    // turned into a raw pointer) and keeps it alive until `drop_instance`.
    unsafe { &*instance.0.cast::<Runtime<P>>() }
}

fn handler<'a, T>(list: &'a [T], index: u32, what: &str) -> PluginResult<&'a T> {
    list.get(index as usize)
        .ok_or_else(|| PluginError::Internal(format!("no {what} with index {index}")))
}

/// `describe` for plugin type `P`.
pub extern "C" fn describe<P: Plugin>() -> RResult<DescriptionFfi, ErrorFfi> {
    guard(|| {
        let registrar = Registrar::<P>::collect();
        registrar.problems()?;
        Ok(registrar.describe(&P::manifest()))
    })
}

/// `init` for plugin type `P`.
pub extern "C" fn init<P: Plugin>(
    host: HostHandle,
) -> FfiFuture<RResult<InstanceHandle, ErrorFfi>> {
    let _ = PANIC_HOST.set(host);
    guard_future(|| {
        let handlers = Registrar::<P>::collect();
        let host = Host::new(host);
        Ok(async move {
            let plugin = Arc::new(P::init(host).await?);
            let runtime = Arc::new(Runtime {
                plugin,
                host,
                handlers,
            });
            Ok(InstanceHandle(Arc::into_raw(runtime).cast()))
        })
    })
}

fn context<P: Plugin>(rt: &Runtime<P>) -> PluginContext<P> {
    PluginContext {
        plugin: Arc::clone(&rt.plugin),
        host: rt.host,
    }
}

/// `call_command` for plugin type `P`.
pub extern "C" fn call_command<P: Plugin>(
    instance: InstanceHandle,
    index: u32,
    call: CallFfi,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    guard_future(|| -> PluginResult<HandlerFuture> {
        let rt = runtime::<P>(instance);
        let (_, run) = handler(&rt.handlers.commands, index, "command")?;
        let ctx = CommandContext {
            plugin: Arc::clone(&rt.plugin),
            host: rt.host,
            invocation: (&call.invocation).into(),
            args: args_from_ffi(&call.args),
            call: CallHandle::new(call.call, host_handle(rt)),
        };
        Ok(run(ctx))
    })
}

fn host_handle<P: Plugin>(rt: &Runtime<P>) -> HostHandle {
    rt.host.handle()
}

/// `on_event` for plugin type `P`: never called, as a 1.3 plugin describes no listener in the
/// 1.0 layout (they all come through [`call_extra`]); it answers with an error if it is.
pub extern "C" fn on_event<P: Plugin>(
    _instance: InstanceHandle,
    index: u32,
    _event: EventFfi,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    guard_future(|| -> PluginResult<HandlerFuture> {
        Err(PluginError::Internal(format!(
            "no 1.0 listener with index {index}: this plugin's listeners are called through \
             call_extra"
        )))
    })
}

/// `on_hook` for plugin type `P`.
pub extern "C" fn on_hook<P: Plugin>(
    instance: InstanceHandle,
    index: u32,
    event: HookEventFfi,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    guard_future(|| -> PluginResult<HandlerFuture> {
        let rt = runtime::<P>(instance);
        let (_, _, run) = handler(&rt.handlers.hooks, index, "hook")?;
        Ok(run(context(rt), (&event).into()))
    })
}

/// `run_task` for plugin type `P`.
pub extern "C" fn run_task<P: Plugin>(
    instance: InstanceHandle,
    index: u32,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    guard_future(|| -> PluginResult<HandlerFuture> {
        let rt = runtime::<P>(instance);
        let (_, _, run) = handler(&rt.handlers.tasks, index, "task")?;
        Ok(run(context(rt)))
    })
}

/// `on_component` for plugin type `P`.
pub extern "C" fn on_component<P: Plugin>(
    instance: InstanceHandle,
    index: u32,
    call: CallFfi,
    interaction: InteractionFfi,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    guard_future(|| -> PluginResult<HandlerFuture> {
        let rt = runtime::<P>(instance);
        let (_, run) = handler(&rt.handlers.components, index, "component handler")?;
        let ctx = ComponentContext {
            plugin: Arc::clone(&rt.plugin),
            host: rt.host,
            interaction: (&interaction).into(),
            call: CallHandle::new(call.call, host_handle(rt)),
        };
        Ok(run(ctx))
    })
}

/// `shutdown` for plugin type `P`.
pub extern "C" fn shutdown<P: Plugin>(
    instance: InstanceHandle,
) -> FfiFuture<RResult<(), ErrorFfi>> {
    guard_future(|| {
        let rt = runtime::<P>(instance);
        let plugin = Arc::clone(&rt.plugin);
        let host = rt.host;
        Ok(async move { plugin.shutdown(host).await })
    })
}

/// `describe_extra` for plugin type `P`: the registrations of 1.3 and later, as JSON.
pub extern "C" fn describe_extra<P: Plugin>() -> RResult<RString, ErrorFfi> {
    match guard(|| Ok(Registrar::<P>::collect().extras())) {
        ROk(extras) => super::extra::to_json(&extras),
        RErr(error) => RErr(error),
    }
}

/// `call_extra` for plugin type `P`: runs a handler registered through 1.3's JSON path.
pub extern "C" fn call_extra<P: Plugin>(
    instance: InstanceHandle,
    kind: RStr<'_>,
    index: u32,
    call: ROption<CallData>,
    input: RStr<'_>,
) -> FfiFuture<RResult<RString, ErrorFfi>> {
    // Everything borrowed is read before this function returns.
    let kind = kind.as_str().to_owned();
    let input = input.as_str().to_owned();
    guard_future(|| -> PluginResult<_> {
        let rt = runtime::<P>(instance);
        // A handle given for a handler that does not reply is released when it drops.
        let call = call
            .into_option()
            .map(|c| CallHandle::new(c, host_handle(rt)));
        let what = kind.clone();
        let call = move || {
            call.ok_or_else(|| {
                PluginError::Internal(format!("a `{what}` call needs a reply route"))
            })
        };
        type Output = Pin<Box<dyn Future<Output = PluginResult<RString>> + Send>>;
        let done = |future: HandlerFuture| -> Output {
            Box::pin(async move {
                future.await?;
                Ok(RString::from("null"))
            })
        };
        match kind.as_str() {
            super::extra::kind::AUTOCOMPLETE => {
                let (_, run) = handler(&rt.handlers.autocompletes, index, "autocomplete handler")?;
                let request: crate::AutocompleteRequest = serde_json::from_str(&input)?;
                let call = call()?;
                let future = run(AutocompleteContext {
                    plugin: Arc::clone(&rt.plugin),
                    host: rt.host,
                    request,
                });
                Ok(done(Box::pin(async move {
                    let choices = future.await?;
                    call.suggest(choices).await
                })))
            }
            super::extra::kind::MODAL => {
                let (_, run) = handler(&rt.handlers.modals, index, "modal handler")?;
                let submit: crate::ModalSubmit = serde_json::from_str(&input)?;
                Ok(done(run(ModalContext {
                    plugin: Arc::clone(&rt.plugin),
                    host: rt.host,
                    submit,
                    call: call()?,
                })))
            }
            super::extra::kind::CONTEXT_MENU => {
                let (_, run) = handler(&rt.handlers.context_menus, index, "context menu command")?;
                let menu: super::extra::MenuCall = serde_json::from_str(&input)?;
                Ok(done(run(ContextMenuContext {
                    plugin: Arc::clone(&rt.plugin),
                    host: rt.host,
                    invocation: menu.invocation,
                    target: menu.target,
                    call: call()?,
                })))
            }
            super::extra::kind::PANEL => {
                let (_, run) = handler(&rt.handlers.panels, index, "panel")?;
                let request: crate::panel::PanelRequest = serde_json::from_str(&input)?;
                let call = call()?;
                let future = run(crate::panel::PanelContext {
                    plugin: Arc::clone(&rt.plugin),
                    host: rt.host,
                    request,
                });
                Ok(done(Box::pin(async move {
                    let panel = future.await?;
                    call.show_panel(panel).await
                })))
            }
            super::extra::kind::EVENT => {
                let (_, run) = handler(&rt.handlers.extra_listeners, index, "listener")?;
                let event: crate::Event = serde_json::from_str(&input)?;
                let future = run(context(rt), event);
                Ok(Box::pin(async move {
                    future.await?;
                    Ok(RString::from("null"))
                })
                    as Pin<
                        Box<dyn Future<Output = PluginResult<RString>> + Send>,
                    >)
            }
            super::extra::kind::CRON => {
                let (_, run) = handler(&rt.handlers.cron_tasks, index, "cron task")?;
                let future = run(context(rt));
                Ok(Box::pin(async move {
                    future.await?;
                    Ok(RString::from("null"))
                })
                    as Pin<
                        Box<dyn Future<Output = PluginResult<RString>> + Send>,
                    >)
            }
            other => Err(PluginError::Internal(format!(
                "this plugin has no `{other}` handlers (built against an older plugin-api?)"
            ))),
        }
    })
}

/// `drop_instance` for plugin type `P`.
pub extern "C" fn drop_instance<P: Plugin>(instance: InstanceHandle) -> RResult<(), ErrorFfi> {
    guard(|| {
        // SAFETY: `instance` is the pointer `init` made with `Arc::into_raw` for this `P`; the
        // host calls `drop_instance` once, after its last call into the instance.
        drop(unsafe { Arc::from_raw(instance.0.cast::<Runtime<P>>()) });
        Ok(())
    })
}
