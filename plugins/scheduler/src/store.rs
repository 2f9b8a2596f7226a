//! Tasks in the guild databases: one table per guild (`p_scheduler__tasks`), and the list of
//! guilds that have tasks in the plugin's global key-value scope, so a restart finds them all.

use serde::Deserialize;
use zoryx_plugin_api::schedule::{Missed, ScheduledTask};
use zoryx_plugin_api::{GuildId, Host, PluginError, PluginResult, Scope};

/// The key of the guild list.
const GUILDS: &str = "guilds";

/// One task as stored and as the scheduler keeps it in memory: what it is (as a plugin would
/// ask for it) and how it has run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Task {
    /// Its number in the guild (shown as `#n`).
    pub(crate) id: i64,
    pub(crate) spec: ScheduledTask,
    pub(crate) enabled: bool,
    pub(crate) run_count: u32,
    /// Scheduled times that passed without a run of their own (the bot was down).
    pub(crate) missed_runs: u32,
    pub(crate) failures: u32,
    /// Failures in a row; five disable the task.
    pub(crate) failing: u32,
    pub(crate) last_error: Option<String>,
    pub(crate) last_run: Option<u64>,
    pub(crate) next_run: Option<u64>,
    /// Who created it: a user, or `None` for a plugin through the API.
    pub(crate) creator: Option<u64>,
    pub(crate) created_at: u64,
}

impl Task {
    /// The guild's id.
    pub(crate) fn guild(&self) -> u64 {
        self.spec.guild.0
    }
}

/// A row as SQLite returns it.
#[derive(Deserialize)]
struct Row {
    id: i64,
    name: String,
    cron: String,
    zone: Option<String>,
    action: String,
    enabled: i64,
    missed: String,
    max_runs: Option<i64>,
    run_count: i64,
    missed_runs: i64,
    failures: i64,
    failing: i64,
    last_error: Option<String>,
    last_run: Option<i64>,
    next_run: Option<i64>,
    creator: Option<i64>,
    created_at: i64,
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn time(n: i64) -> u64 {
    u64::try_from(n.max(0)).unwrap_or(0)
}

impl Row {
    fn into_task(self, guild: u64) -> PluginResult<Task> {
        let action = serde_json::from_str(&self.action).map_err(|e| {
            PluginError::internal(format!(
                "task `{}`: its action does not read: {e}",
                self.name
            ))
        })?;
        Ok(Task {
            id: self.id,
            spec: ScheduledTask {
                guild: GuildId(guild),
                name: self.name,
                cron: self.cron,
                zone: self.zone,
                action,
                max_runs: self.max_runs.map(count),
                missed: if self.missed == "skip" {
                    Missed::Skip
                } else {
                    Missed::RunOnce
                },
            },
            enabled: self.enabled != 0,
            run_count: count(self.run_count),
            missed_runs: count(self.missed_runs),
            failures: count(self.failures),
            failing: count(self.failing),
            last_error: self.last_error,
            last_run: self.last_run.map(time),
            next_run: self.next_run.map(time),
            creator: self.creator.and_then(|c| u64::try_from(c).ok()),
            created_at: time(self.created_at),
        })
    }
}

fn missed_text(missed: Missed) -> &'static str {
    match missed {
        Missed::RunOnce => "run_once",
        Missed::Skip => "skip",
    }
}

/// Creates the guild's table if it has none.
async fn ensure_table(host: &Host, guild: u64) -> PluginResult<String> {
    let sql = host.sql(GuildId(guild));
    let table = sql.table("tasks")?;
    sql.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                cron TEXT NOT NULL,
                zone TEXT,
                action TEXT NOT NULL,
                enabled INTEGER NOT NULL DEFAULT 1,
                missed TEXT NOT NULL DEFAULT 'run_once',
                max_runs INTEGER,
                run_count INTEGER NOT NULL DEFAULT 0,
                missed_runs INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                failing INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                last_run INTEGER,
                next_run INTEGER,
                creator INTEGER,
                created_at INTEGER NOT NULL
            )"
        ),
        (),
    )
    .await?;
    Ok(table)
}

/// The guilds that have (or had) tasks.
pub(crate) async fn guilds(host: &Host) -> PluginResult<Vec<u64>> {
    Ok(host
        .storage()
        .get::<Vec<u64>>(Scope::Global, GUILDS)
        .await?
        .unwrap_or_default())
}

/// Every task of `guild`.
pub(crate) async fn load(host: &Host, guild: u64) -> PluginResult<Vec<Task>> {
    let table = ensure_table(host, guild).await?;
    let rows: Vec<Row> = host
        .sql(GuildId(guild))
        .query_as(&format!("SELECT * FROM {table} ORDER BY id"), ())
        .await?;
    rows.into_iter().map(|row| row.into_task(guild)).collect()
}

/// Creates the guild's task `task.name`, or replaces its definition keeping its counters;
/// returns the stored task.
pub(crate) async fn upsert(host: &Host, task: &Task) -> PluginResult<Task> {
    let spec = &task.spec;
    let guild = task.guild();
    let table = ensure_table(host, guild).await?;
    let mut guilds = guilds(host).await?;
    if !guilds.contains(&guild) {
        guilds.push(guild);
        host.storage().set(Scope::Global, GUILDS, &guilds).await?;
    }
    let sql = host.sql(spec.guild);
    let action = serde_json::to_string(&spec.action)?;
    sql.execute(
        &format!(
            "INSERT INTO {table} (name, cron, zone, action, enabled, missed, max_runs, next_run,
                creator, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT(name) DO UPDATE SET cron = ?2, zone = ?3, action = ?4, enabled = ?5,
                missed = ?6, max_runs = ?7, next_run = ?8, failing = 0"
        ),
        (
            spec.name.as_str(),
            spec.cron.as_str(),
            spec.zone.as_deref(),
            action.as_str(),
            i64::from(task.enabled),
            missed_text(spec.missed),
            spec.max_runs,
            task.next_run,
            task.creator,
            task.created_at,
        ),
    )
    .await?;
    let rows: Vec<Row> = sql
        .query_as(
            &format!("SELECT * FROM {table} WHERE name = ?1"),
            [&spec.name],
        )
        .await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| PluginError::internal("the task was not stored"))?
        .into_task(guild)
}

/// Writes a task's state after a run or a toggle; `false` if it was deleted meanwhile.
pub(crate) async fn save_state(host: &Host, task: &Task) -> PluginResult<bool> {
    let table = ensure_table(host, task.guild()).await?;
    let changed = host
        .sql(task.spec.guild)
        .execute(
            &format!(
                "UPDATE {table} SET enabled = ?2, run_count = ?3, missed_runs = ?4,
                    failures = ?5, failing = ?6, last_error = ?7, last_run = ?8, next_run = ?9
                 WHERE id = ?1"
            ),
            (
                task.id,
                i64::from(task.enabled),
                task.run_count,
                task.missed_runs,
                task.failures,
                task.failing,
                task.last_error.as_deref(),
                task.last_run,
                task.next_run,
            ),
        )
        .await?;
    Ok(changed > 0)
}

/// Deletes the task `id` of `guild`; `false` if there was none.
pub(crate) async fn delete(host: &Host, guild: u64, id: i64) -> PluginResult<bool> {
    let table = ensure_table(host, guild).await?;
    let changed = host
        .sql(GuildId(guild))
        .execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])
        .await?;
    Ok(changed > 0)
}
