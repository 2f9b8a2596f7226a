//! Futures across the library boundary, made safe to outlive nothing.
//!
//! Two hazards are handled here:
//! - a plugin future's code lives in the plugin library, so the library must stay open until the
//!   future is dropped: [`PluginCall`] owns the future *and* an `Arc` of its generation, and drops
//!   the future first;
//! - a host-service future polled by a plugin is woken through the plugin's waker, whose code is
//!   also in the library. Host internals may keep a waker after the future is gone (channels do).
//!   [`host_future`] therefore hands inner futures a host-owned waker, and lets go of the
//!   plugin's waker when the future is dropped, while the library is certainly still open.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use abi_stable::std_types::RResult;
use async_ffi::{FfiFuture, FutureExt as _};
use zoryx_plugin_api::PluginError;
use zoryx_plugin_api::ffi::types::ErrorFfi;

/// A host-owned waker that forwards to the latest plugin waker while the future is alive.
#[derive(Default)]
struct WakeSlot {
    waker: Mutex<Option<Waker>>,
}

impl Wake for WakeSlot {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // The plugin's waker is called under the lock: its code is in the plugin library, and
        // `Bridged::drop` (which runs before the library can be closed) takes the same lock,
        // so the library stays open until this wake has returned. Waking a clone outside the
        // lock could race a completing call and jump into an unmapped library.
        if let Ok(slot) = self.waker.lock()
            && let Some(waker) = slot.as_ref()
        {
            waker.wake_by_ref();
        }
    }
}

struct Bridged<F> {
    inner: Pin<Box<F>>,
    slot: Arc<WakeSlot>,
    waker: Waker,
}

impl<F: Future> Future for Bridged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if let Ok(mut slot) = self.slot.waker.lock() {
            match slot.as_ref() {
                Some(current) if current.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        let waker = self.waker.clone();
        let mut inner_cx = Context::from_waker(&waker);
        self.inner.as_mut().poll(&mut inner_cx)
    }
}

impl<F> Drop for Bridged<F> {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.slot.waker.lock() {
            slot.take();
        }
    }
}

/// Wraps a host future for a plugin to await.
pub fn host_future<T, F>(future: F) -> FfiFuture<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let slot = Arc::new(WakeSlot::default());
    Bridged {
        inner: Box::pin(future),
        waker: Waker::from(Arc::clone(&slot)),
        slot,
    }
    .into_ffi()
}

/// Runs a host service on the host's runtime, for a plugin to await.
///
/// The service's first step runs at once, where the plugin asked: one that answers then (a
/// refusal, a reply past its call's time limit) costs nothing more. The rest (a Discord
/// request waiting for its answer, a storage query) runs as a task of the host's runtime,
/// next to the connections it uses; the plugin's future is woken once, when it is done,
/// instead of at every step on the plugin's thread, and a plugin that blocks its thread
/// meanwhile does not hold the service up. Dropping the plugin's future cancels the task.
/// Outside a runtime the service runs in the plugin's future as [`host_future`] does.
pub fn host_task<T, F>(future: F) -> FfiFuture<RResult<T, ErrorFfi>>
where
    T: Send + 'static,
    F: Future<Output = RResult<T, ErrorFfi>> + Send + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return host_future(future);
    };
    let mut future = Box::pin(future);
    // No waker needed: if it is not done, the spawned task polls it again at once, with its own.
    if let Poll::Ready(output) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        return host_future(std::future::ready(output));
    }
    let task = AbortOnDrop(runtime.spawn(future));
    host_future(async move {
        let mut task = task;
        match (&mut task.0).await {
            Ok(output) => output,
            Err(e) => RResult::RErr(ErrorFfi::from(&PluginError::Internal(format!(
                "the host's service stopped: {e}"
            )))),
        }
    })
}

/// A spawned task that is cancelled when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A call into a plugin that keeps the plugin's library open until it is done.
///
/// Only until then: an output the plugin allocated (an `RString`, an `RVec`) is freed through
/// the plugin's code, so whoever drops it must keep the library open too (hold another `Arc`
/// of the generation while dropping it, or convert it first).
pub struct PluginCall<T, G> {
    // Field order matters: the future (plugin code) is dropped before the guard.
    future: Option<FfiFuture<RResult<T, ErrorFfi>>>,
    _guard: G,
}

impl<T, G> PluginCall<T, G> {
    /// Ties `future` to `guard` (an `Arc` of the generation that made it).
    pub fn new(future: FfiFuture<RResult<T, ErrorFfi>>, guard: G) -> Self {
        Self {
            future: Some(future),
            _guard: guard,
        }
    }
}

impl<T, G> Unpin for PluginCall<T, G> {}

impl<T, G> Future for PluginCall<T, G> {
    type Output = Result<T, PluginError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(Err(PluginError::Internal("polled after completion".into())));
        };
        match Pin::new(future).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                // Convert while the library is open: the error text was allocated by it.
                let result = result.into_result().map_err(|e| PluginError::from(&e));
                self.future = None;
                Poll::Ready(result)
            }
        }
    }
}
