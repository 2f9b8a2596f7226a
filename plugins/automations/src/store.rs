//! Automations in the guild databases: one table per guild (`p_automations__hooks`), and the
//! list of guilds that have any in the plugin's global key-value scope, so a restart finds them.
//! Templates keep their own data (levels, voice time, tickets, rooms) in tables made with
//! [`table`].

use serde::Deserialize;
use zoryx_plugin_api::{GuildId, Host, PluginError, PluginResult, Scope};

use crate::settings::Settings;
use crate::templates::Template;

/// The key of the guild list.
const GUILDS: &str = "guilds";

/// One automation as stored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Automation {
    /// Its number in the guild (shown as `#n`).
    pub(crate) id: i64,
    pub(crate) guild: u64,
    pub(crate) template: Template,
    /// Unique in the guild.
    pub(crate) name: String,
    pub(crate) enabled: bool,
    /// Checked and normalised (see [`crate::settings::check`]).
    pub(crate) settings: Settings,
    pub(crate) runs: u64,
    pub(crate) last_run: Option<u64>,
    pub(crate) failures: u64,
    pub(crate) last_error: Option<String>,
    /// Why the bot turned it off (a permission it lacks), if it did.
    pub(crate) disabled_reason: Option<String>,
    pub(crate) created_by: u64,
    pub(crate) created_at: u64,
}

#[derive(Deserialize)]
struct Row {
    id: i64,
    template: String,
    name: String,
    enabled: i64,
    settings: String,
    runs: i64,
    last_run: Option<i64>,
    failures: i64,
    last_error: Option<String>,
    disabled_reason: Option<String>,
    created_by: i64,
    created_at: i64,
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n.max(0)).unwrap_or(0)
}

impl Row {
    fn into_automation(self, guild: u64) -> PluginResult<Automation> {
        let template = Template::named(&self.template).ok_or_else(|| {
            PluginError::internal(format!(
                "automation `{}`: unknown template `{}`",
                self.name, self.template
            ))
        })?;
        let settings = serde_json::from_str(&self.settings).map_err(|e| {
            PluginError::internal(format!(
                "automation `{}`: its settings do not read: {e}",
                self.name
            ))
        })?;
        Ok(Automation {
            id: self.id,
            guild,
            template,
            name: self.name,
            enabled: self.enabled != 0,
            settings,
            runs: unsigned(self.runs),
            last_run: self.last_run.map(unsigned),
            failures: unsigned(self.failures),
            last_error: self.last_error,
            disabled_reason: self.disabled_reason,
            created_by: unsigned(self.created_by),
            created_at: unsigned(self.created_at),
        })
    }
}

/// Creates a table of this plugin in the guild's database if it is not there; returns its
/// full name. `columns` is the body of `CREATE TABLE`.
pub(crate) async fn table(
    host: &Host,
    guild: u64,
    name: &str,
    columns: &str,
) -> PluginResult<String> {
    let sql = host.sql(GuildId(guild));
    let table = sql.table(name)?;
    sql.execute(
        &format!("CREATE TABLE IF NOT EXISTS {table} ({columns})"),
        (),
    )
    .await?;
    Ok(table)
}

async fn hooks_table(host: &Host, guild: u64) -> PluginResult<String> {
    table(
        host,
        guild,
        "hooks",
        "id INTEGER PRIMARY KEY,
         template TEXT NOT NULL,
         name TEXT NOT NULL UNIQUE,
         enabled INTEGER NOT NULL DEFAULT 1,
         settings TEXT NOT NULL,
         runs INTEGER NOT NULL DEFAULT 0,
         last_run INTEGER,
         failures INTEGER NOT NULL DEFAULT 0,
         last_error TEXT,
         disabled_reason TEXT,
         created_by INTEGER NOT NULL,
         created_at INTEGER NOT NULL",
    )
    .await
}

/// The guilds that have (or had) automations.
pub(crate) async fn guilds(host: &Host) -> PluginResult<Vec<u64>> {
    Ok(host
        .storage()
        .get::<Vec<u64>>(Scope::Global, GUILDS)
        .await?
        .unwrap_or_default())
}

/// Every automation of `guild`.
pub(crate) async fn load(host: &Host, guild: u64) -> PluginResult<Vec<Automation>> {
    let table = hooks_table(host, guild).await?;
    let rows: Vec<Row> = host
        .sql(GuildId(guild))
        .query_as(&format!("SELECT * FROM {table} ORDER BY id"), ())
        .await?;
    rows.into_iter().map(|r| r.into_automation(guild)).collect()
}

/// Stores a new automation; refuses a name the guild already uses.
pub(crate) async fn insert(host: &Host, automation: &Automation) -> PluginResult<Automation> {
    let guild = automation.guild;
    let table = hooks_table(host, guild).await?;
    let sql = host.sql(GuildId(guild));
    let taken: Vec<Row> = sql
        .query_as(
            &format!("SELECT * FROM {table} WHERE name = ?1"),
            [&automation.name],
        )
        .await?;
    if !taken.is_empty() {
        return Err(PluginError::user(format!(
            "this server has an automation named `{}` already",
            automation.name
        )));
    }
    let mut guilds = guilds(host).await?;
    if !guilds.contains(&guild) {
        guilds.push(guild);
        host.storage().set(Scope::Global, GUILDS, &guilds).await?;
    }
    sql.execute(
        &format!(
            "INSERT INTO {table} (template, name, enabled, settings, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ),
        (
            automation.template.name(),
            automation.name.as_str(),
            i64::from(automation.enabled),
            serde_json::to_string(&automation.settings)?,
            automation.created_by,
            automation.created_at,
        ),
    )
    .await?;
    let rows: Vec<Row> = sql
        .query_as(
            &format!("SELECT * FROM {table} WHERE name = ?1"),
            [&automation.name],
        )
        .await?;
    rows.into_iter()
        .next()
        .ok_or_else(|| PluginError::internal("the automation was not stored"))?
        .into_automation(guild)
}

/// Writes an automation's state (enabled, counters, errors, settings); `false` if it was
/// deleted meanwhile.
pub(crate) async fn save(host: &Host, automation: &Automation) -> PluginResult<bool> {
    let table = hooks_table(host, automation.guild).await?;
    let changed = host
        .sql(GuildId(automation.guild))
        .execute(
            &format!(
                "UPDATE {table} SET enabled = ?2, settings = ?3, runs = ?4, last_run = ?5,
                    failures = ?6, last_error = ?7, disabled_reason = ?8
                 WHERE id = ?1"
            ),
            (
                automation.id,
                i64::from(automation.enabled),
                serde_json::to_string(&automation.settings)?,
                automation.runs,
                automation.last_run,
                automation.failures,
                automation.last_error.as_deref(),
                automation.disabled_reason.as_deref(),
            ),
        )
        .await?;
    Ok(changed > 0)
}

/// Deletes automation `id` of `guild`; `false` if there was none.
pub(crate) async fn delete(host: &Host, guild: u64, id: i64) -> PluginResult<bool> {
    let table = hooks_table(host, guild).await?;
    let changed = host
        .sql(GuildId(guild))
        .execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])
        .await?;
    Ok(changed > 0)
}
