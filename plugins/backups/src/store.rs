//! Snapshots in the plugin's files: `<guild>/index.json` lists a guild's backups (what the
//! list and stats commands read without opening each snapshot), `<guild>/<id>.json` holds one
//! sealed snapshot, `<guild>/schedule.json` its automatic backups. Every write is atomic (the
//! host's file store).

use serde::{Deserialize, Serialize};
use zoryx_plugin_api::{Host, PluginError, PluginResult};

use crate::snapshot::{Sealed, Snapshot, refused, unseal};

/// One backup as the index lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) created_at: u64,
    /// Who asked for it (`None`: the automatic schedule).
    pub(crate) created_by: Option<u64>,
    pub(crate) checksum: String,
    pub(crate) bytes: u64,
    pub(crate) roles: usize,
    pub(crate) channels: usize,
    pub(crate) members: usize,
    pub(crate) emojis: usize,
    #[serde(default)]
    pub(crate) pinned: bool,
    #[serde(default)]
    pub(crate) note: Option<String>,
}

impl Entry {
    /// How lists name it: 📌 when pinned, its id and label.
    pub(crate) fn title(&self) -> String {
        format!(
            "{}{} · {}",
            if self.pinned { "📌 " } else { "" },
            self.id,
            self.label
        )
    }
}

/// A guild's automatic backups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Schedule {
    /// Every this many hours (1–168); `None`: off.
    pub(crate) every_hours: Option<u32>,
    /// The newest this many unpinned automatic backups are kept.
    pub(crate) keep: u32,
    pub(crate) last_run: Option<u64>,
}

fn index_path(guild: u64) -> String {
    format!("{guild}/index.json")
}

fn snapshot_path(guild: u64, id: &str) -> String {
    format!("{guild}/{id}.json")
}

/// A guild's backups, oldest first.
pub(crate) async fn index(host: &Host, guild: u64) -> PluginResult<Vec<Entry>> {
    Ok(host
        .files()
        .read::<Vec<Entry>>(&index_path(guild))
        .await?
        .unwrap_or_default())
}

pub(crate) async fn write_index(host: &Host, guild: u64, entries: &[Entry]) -> PluginResult {
    host.files().write(&index_path(guild), entries).await
}

/// The guilds that have a folder of backups.
pub(crate) async fn guilds(host: &Host) -> PluginResult<Vec<u64>> {
    Ok(host
        .files()
        .list("")
        .await?
        .iter()
        .filter_map(|name| name.strip_suffix('/'))
        .filter_map(|name| name.parse().ok())
        .collect())
}

/// The backup `key` of the guild: its id, or the first one whose id starts with it.
pub(crate) fn find<'a>(entries: &'a [Entry], key: &str) -> PluginResult<&'a Entry> {
    let key = key.trim();
    entries
        .iter()
        .find(|e| e.id == key)
        .or_else(|| {
            let mut matching = entries.iter().filter(|e| e.id.starts_with(key));
            match (matching.next(), matching.next()) {
                (Some(one), None) if key.len() >= 4 => Some(one),
                _ => None,
            }
        })
        .ok_or_else(|| {
            PluginError::user(format!(
                "there is no backup `{key}` in this server; `backuplist` shows them"
            ))
        })
}

/// Stores a new snapshot and lists it; returns its entry.
/// Stores `snapshot` as a backup of `guild` (the server it was taken of, or the one it was
/// imported into).
pub(crate) async fn save(
    host: &Host,
    guild: u64,
    snapshot: Snapshot,
    label: String,
    created_by: Option<u64>,
) -> PluginResult<Entry> {
    let id = new_id(&snapshot, host)?;
    let counts = (
        snapshot.roles.len(),
        snapshot.channels.len(),
        snapshot.members.len(),
        snapshot.emojis.len(),
    );
    let created_at = snapshot.taken_at;
    let sealed = snapshot.seal()?;
    let bytes = serde_json::to_vec(&sealed)?.len() as u64;
    host.files()
        .write(&snapshot_path(guild, &id), &sealed)
        .await?;
    let entry = Entry {
        id,
        label,
        created_at,
        created_by,
        checksum: sealed.checksum,
        bytes,
        roles: counts.0,
        channels: counts.1,
        members: counts.2,
        emojis: counts.3,
        pinned: false,
        note: None,
    };
    let mut entries = index(host, guild).await?;
    entries.push(entry.clone());
    write_index(host, guild, &entries).await?;
    Ok(entry)
}

/// Twelve hex characters from the snapshot's checksum, the moment and a counter: two
/// snapshots of an unchanged server in the same instant still differ.
fn new_id(snapshot: &Snapshot, host: &Host) -> PluginResult<String> {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static TAKEN: AtomicU64 = AtomicU64::new(0);
    let nanos = host
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = TAKEN.fetch_add(1, Ordering::Relaxed);
    let seed = format!("{}:{}:{nanos}:{n}", snapshot.guild.id, snapshot.checksum()?);
    Ok(Sha256::digest(seed.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Reads and checks one snapshot: the checksum recomputed, the structure checked, and the
/// checksum the index recorded compared too.
pub(crate) async fn load(host: &Host, guild: u64, entry: &Entry) -> PluginResult<Snapshot> {
    let sealed: Option<serde_json::Value> =
        host.files().read(&snapshot_path(guild, &entry.id)).await?;
    let value = sealed.ok_or_else(|| refused(&entry.id, "its file is missing".to_owned()))?;
    let bytes = serde_json::to_vec(&value)?;
    let snapshot = unseal(&bytes).map_err(|why| refused(&entry.id, why))?;
    let recorded: Sealed = serde_json::from_value(value)?;
    if recorded.checksum != entry.checksum {
        return Err(refused(
            &entry.id,
            "its checksum is not the one recorded when it was made".to_owned(),
        ));
    }
    Ok(snapshot)
}

/// The raw sealed file, for export.
pub(crate) async fn raw(
    host: &Host,
    guild: u64,
    id: &str,
) -> PluginResult<Option<serde_json::Value>> {
    host.files().read(&snapshot_path(guild, id)).await
}

/// Deletes a backup's file and its index entry.
pub(crate) async fn delete(host: &Host, guild: u64, id: &str) -> PluginResult {
    let mut entries = index(host, guild).await?;
    entries.retain(|e| e.id != id);
    write_index(host, guild, &entries).await?;
    host.files().delete(&snapshot_path(guild, id)).await?;
    Ok(())
}

pub(crate) async fn schedule(host: &Host, guild: u64) -> PluginResult<Schedule> {
    Ok(host
        .files()
        .read::<Schedule>(&format!("{guild}/schedule.json"))
        .await?
        .unwrap_or_default())
}

pub(crate) async fn set_schedule(host: &Host, guild: u64, schedule: &Schedule) -> PluginResult {
    host.files()
        .write(&format!("{guild}/schedule.json"), schedule)
        .await
}

/// One line of a server's backup audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Audit {
    pub(crate) at: u64,
    /// Who (`None`: the schedule).
    pub(crate) user: Option<u64>,
    /// `create`, `delete`, `pin`, `note`, `restore`, `schedule`, …
    pub(crate) action: String,
    pub(crate) detail: String,
}

/// Audit entries a server keeps (the newest).
const AUDIT_KEPT: usize = 200;

/// The server's audit log, oldest first.
pub(crate) async fn audit_log(host: &Host, guild: u64) -> PluginResult<Vec<Audit>> {
    Ok(host
        .files()
        .read::<Vec<Audit>>(&format!("{guild}/audit.json"))
        .await?
        .unwrap_or_default())
}

/// Adds a line to the server's audit log. A log that cannot be written does not undo what it
/// records: the failure is logged.
pub(crate) async fn audit(
    host: &Host,
    guild: u64,
    user: Option<u64>,
    action: &str,
    detail: String,
) {
    let at = host
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let written = async {
        let mut log = audit_log(host, guild).await?;
        log.push(Audit {
            at,
            user,
            action: action.to_owned(),
            detail,
        });
        let excess = log.len().saturating_sub(AUDIT_KEPT);
        log.drain(..excess);
        host.files()
            .write(&format!("{guild}/audit.json"), &log)
            .await
    }
    .await;
    if let Err(error) = written {
        host.warn(format!("the backup audit log of guild {guild}: {error}"));
    }
}
