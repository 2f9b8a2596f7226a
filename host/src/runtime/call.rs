//! Where a call's replies go, shared with the plugin as a counted handle.

use std::sync::Arc;

use futures::future::BoxFuture;
use zoryx_plugin_api::ffi::CallData;
use zoryx_plugin_api::{CallAction, Message, MessageId, Outcome, PluginError};

/// Receives a call's replies: the console prints them, tests collect them, the Discord layer
/// sends them.
pub trait ReplySink: Send + Sync {
    /// Delivers one reply.
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>>;

    /// Edits or deletes a reply, follows up, updates a component's message or defers
    /// (plugin-api 1.3). A sink that cannot answers "not available".
    fn act(&self, action: CallAction) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        let error = PluginError::NotAvailable(format!("{} here", action.describe()));
        Box::pin(async move { Err(error) })
    }
}

/// Carries out a call action on `sink`: a reply as JSON (plugin-api 1.3's path for a message
/// the 1.0 layout cannot carry, with files or a disabled select menu) through
/// [`ReplySink::reply`] like one through the 1.0 layout, anything else through
/// [`ReplySink::act`]. Every sink answers replies the same way, whichever path they took.
pub(crate) fn call_act(
    sink: &dyn ReplySink,
    action: CallAction,
) -> BoxFuture<'static, Result<Outcome, PluginError>> {
    match action {
        CallAction::Reply { message } => {
            let reply = sink.reply(message);
            Box::pin(async move {
                reply
                    .await
                    .map(|id| Outcome::Id(id.0))
                    .map_err(PluginError::Host)
            })
        }
        other => sink.act(other),
    }
}

/// A sink that refuses replies once its call ran past its time limit: the user already got a
/// "took too long" answer, and a late result is dropped.
pub(crate) struct ExpiringSink {
    inner: Arc<dyn ReplySink>,
    expired: std::sync::atomic::AtomicBool,
}

impl ExpiringSink {
    pub(crate) fn wrap(inner: Arc<dyn ReplySink>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            expired: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub(crate) fn expire(&self) {
        self.expired
            .store(true, std::sync::atomic::Ordering::Release);
    }
}

impl ReplySink for ExpiringSink {
    fn reply(&self, message: Message) -> BoxFuture<'static, Result<MessageId, String>> {
        if self.expired.load(std::sync::atomic::Ordering::Acquire) {
            return Box::pin(async {
                Err("the command ran past its time limit; this reply was dropped".to_owned())
            });
        }
        self.inner.reply(message)
    }

    fn act(&self, action: CallAction) -> BoxFuture<'static, Result<Outcome, PluginError>> {
        if self.expired.load(std::sync::atomic::Ordering::Acquire) {
            return Box::pin(async {
                Err(PluginError::Host(
                    "the command ran past its time limit; this request was dropped".to_owned(),
                ))
            });
        }
        self.inner.act(action)
    }
}

/// Host state behind a [`CallData`] handle.
pub(crate) struct CallState {
    pub(crate) sink: Arc<dyn ReplySink>,
}

/// Makes a handle owning one reference to `state`.
pub(crate) fn into_call_data(state: Arc<CallState>) -> CallData {
    CallData(Arc::into_raw(state).cast())
}

/// Borrows the state behind a handle.
///
/// # Safety
/// `data` must come from [`into_call_data`] and still own its reference.
pub(crate) unsafe fn call_state(data: &CallData) -> Arc<CallState> {
    let ptr = data.0.cast::<CallState>();
    // SAFETY: per the contract, `ptr` came from `Arc::into_raw` and its reference is live, so
    // incrementing and then re-owning one more reference is sound.
    unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    }
}

/// Releases the reference a handle owns.
///
/// # Safety
/// `data` must come from [`into_call_data`] (or `call_clone`) and not be released twice.
pub(crate) unsafe fn release_call_data(data: &mut CallData) {
    let ptr = std::mem::replace(&mut data.0, std::ptr::null());
    if !ptr.is_null() {
        // SAFETY: per the contract, `ptr` owns one reference from `Arc::into_raw`.
        drop(unsafe { Arc::from_raw(ptr.cast::<CallState>()) });
    }
}
