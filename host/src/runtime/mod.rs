//! Running loaded plugins: generations, the routing table, host services and dispatch.

pub mod bridge;
pub mod call;
pub mod dispatch;
pub mod generation;
pub mod hooks;
pub mod services;
pub mod table;

pub use call::ReplySink;
pub use dispatch::{CommandOutcome, CommandRequest, Dispatcher, call_command};
pub use generation::{Generation, LibraryStats, LibraryTracker, PinnedLibrary};
pub use services::{LogOutbox, Outbox, Shared};
pub use table::{Route, Table};
