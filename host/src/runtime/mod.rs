//! Running loaded plugins: generations, the routing table, host services and dispatch.

pub mod bridge;
pub mod call;
pub mod dispatch;
pub mod generation;
pub mod hooks;
pub mod pool;
pub mod services;
pub mod table;

pub use call::ReplySink;
pub use dispatch::{
    AUTOCOMPLETE_DEADLINE, CommandOutcome, CommandRequest, Dispatcher, Limits, Resolved,
    call_command,
};
pub use generation::CallError;
pub use generation::{Generation, LibraryStats, LibraryTracker, PinnedLibrary};
pub use pool::{Batch, CallStats, PluginPool, PoolOptions};
pub use services::{LogOutbox, LoginLinks, Outbox, Shared};
pub use table::{Route, Table};
