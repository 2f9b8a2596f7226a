//! # zoryx-host
//!
//! The Zoryx bot host. It loads plugin libraries from `extensions/`, refuses bad ones with a
//! clear reason, and reloads changed ones with no downtime.
//!
//! The layers, bottom up (see `docs/ARCHITECTURE.md`):
//! - [`loader`]: file → checked, opened library (private copy, library check, trial load, layout);
//! - [`runtime`]: generations, host services, the routing table, calls into plugins;
//! - [`isolation`]: plugins in worker processes (isolation mode);
//! - [`registry`]: manifests, dependencies, conflicts, cycles, persistence;
//! - [`manager`]: the operations (load, unload, reload, list, info) everyone calls;
//! - [`watcher`]: file changes in `extensions/` → operations;
//! - [`console`], [`cli`]: the operator's front ends;
//! - [`dashboard`]: the web dashboard the host serves (pages, live figures, actions through the
//!   same operations as the console, logins, roles, the audit log);
//! - [`stop`]: stop requests (signals, `quit`) and the forced exit on a second signal.
//! - [`health`]: `GET /healthz` for service managers and container health checks.
//! - [`alerts`]: alert channels set by the owner, rate-limited alerts to them.
//! - [`diagnostics`]: figures, the health loop and its history, `/metrics`.
//! - [`cluster`]: the shard manager: this host among the bot's clusters (the cluster IPC).

pub mod alerts;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod console;
pub mod dashboard;
pub mod diagnostics;
pub mod discord;
pub mod gate;
pub mod guild_settings;
pub mod health;
pub mod http;
pub mod isolation;
pub mod loader;
pub mod logging;
pub mod manager;
pub mod market;
pub mod offline;
pub mod registry;
pub mod runtime;
pub mod stop;
pub mod storage;
pub mod watcher;

use std::sync::Arc;

use manager::Manager;
use watcher::{ExtensionWatcher, WatchEvent, WatchOptions};

/// Starts watching `extensions/` and feeding changes to `manager`. Dropping the returned watcher
/// stops it.
pub fn watch(manager: &Arc<Manager>) -> Result<ExtensionWatcher, watcher::WatchError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher =
        ExtensionWatcher::start(&manager.paths().extensions, WatchOptions::default(), tx)?;
    let manager = Arc::clone(manager);
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            match event {
                WatchEvent::Changed(path) => manager.file_changed(&path).await,
                WatchEvent::Removed(path) => manager.file_removed(&path).await,
            }
        }
    });
    Ok(watcher)
}

/// Turns transparent huge pages off for this process and its children (Linux; elsewhere it
/// does nothing). mimalloc asks the kernel for them on its arenas, and then a block touched
/// anywhere in 2 MiB makes all 2 MiB resident: a third of the idle host's memory, and more with
/// the cache (measured by `make bench`, `scale`), and every fresh 2 MiB is zeroed at its first
/// touch, which under load costs more CPU than the host's own work (the `discord` bench). The
/// host's heap is many small objects spread over time; 4 KiB pages keep RSS at what is used.
///
/// # Errors
/// The kernel's refusal.
pub fn no_huge_pages() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on this process
        // (inherited by children); it reads and writes no memory of ours.
        let result = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if result != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
