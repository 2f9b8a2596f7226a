//! The audit log: every login (and refused one) and every action, who, from where, what and how
//! it ended. Kept in `data/dashboard_audit.json` (atomic writes, the last [`KEEP`] entries) and
//! shown on the Security page.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Entries kept.
pub const KEEP: usize = 5000;

/// The file's name in the data folder.
pub const FILE: &str = "dashboard_audit.json";

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Unix seconds.
    pub at: u64,
    /// The person's Discord id (0 when unknown: a refused login).
    pub user_id: u64,
    /// Their name, or what was tried.
    pub user: String,
    /// The address.
    pub ip: String,
    /// What: `login`, `logout`, `plugins.reload`, `config.edit`, ...
    pub action: String,
    /// On what: a plugin, a key, a session.
    pub target: String,
    /// `ok`, `refused: ...` or `failed: ...`.
    pub outcome: String,
}

/// The log.
#[derive(Debug)]
pub struct Audit {
    file: Option<PathBuf>,
    entries: tokio::sync::Mutex<Vec<Entry>>,
}

impl Audit {
    /// The log kept in `data_dir` (read back when it exists); `None`: in memory only.
    pub fn open(data_dir: Option<&std::path::Path>) -> Arc<Self> {
        let file = data_dir.map(|d| d.join(FILE));
        let entries = file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|bytes| match serde_json::from_slice::<Vec<Entry>>(&bytes) {
                Ok(entries) => Some(entries),
                Err(error) => {
                    tracing::warn!(%error, "the dashboard's audit log does not parse; starting a new one");
                    None
                }
            })
            .unwrap_or_default();
        Arc::new(Self {
            file,
            entries: tokio::sync::Mutex::new(entries),
        })
    }

    /// Appends `entry` (logged too) and writes the file.
    pub async fn record(&self, entry: Entry) {
        tracing::info!(
            user = %entry.user,
            user_id = entry.user_id,
            ip = %entry.ip,
            action = %entry.action,
            target = %entry.target,
            outcome = %entry.outcome,
            "dashboard"
        );
        let mut entries = self.entries.lock().await;
        entries.push(entry);
        if entries.len() > KEEP {
            let extra = entries.len() - KEEP;
            entries.drain(..extra);
        }
        let Some(file) = self.file.clone() else {
            return;
        };
        let bytes = match serde_json::to_vec(&*entries) {
            Ok(bytes) => bytes,
            Err(_) => return,
        };
        // Written while the lock is held, so files are written in the order of entries.
        let written =
            tokio::task::spawn_blocking(move || crate::storage::atomic::write_bytes(&file, &bytes))
                .await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::warn!("the dashboard's audit log could not be written");
        }
    }

    /// The newest `limit` entries, newest first.
    pub async fn newest(&self, limit: usize) -> Vec<Entry> {
        self.entries
            .lock()
            .await
            .iter()
            .rev()
            .take(limit)
            .cloned()
            .collect()
    }
}
