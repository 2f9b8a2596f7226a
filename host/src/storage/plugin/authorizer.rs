//! The SQLite authorizer that confines a plugin's statement to its own tables.
//!
//! SQLite calls the authorizer for every object a statement touches while it compiles it, so the
//! check does not depend on parsing SQL. [`Rules::decide`] is the policy; [`Authorizer`] installs
//! it on one raw connection and records why a statement was refused.

use std::collections::HashSet;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use libsqlite3_sys as ffi;

/// The tables SQLite keeps its schema in.
const SCHEMA_TABLES: [&str; 4] = [
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sqlite_temp_schema",
];

/// `PRAGMA`s that only describe one table or index; allowed on the plugin's own objects.
const READ_PRAGMAS: [&str; 6] = [
    "table_info",
    "table_xinfo",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
];

/// Why one action of a statement was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A table (or index, view) without the plugin's prefix.
    Table(String),
    /// Something a plugin may not do at all (`ATTACH`, `PRAGMA x`, a trigger, a transaction).
    Action(String),
}

/// What the authorizer saw while one statement compiled.
#[derive(Debug, Default)]
pub struct Seen {
    /// The first refusal.
    pub refusal: Option<Refusal>,
    /// The statement writes SQLite's schema table (as `CREATE`, `DROP` and `ALTER` do).
    pub schema_write: bool,
    /// The statement is `CREATE`, `DROP` or `ALTER` of the plugin's own object.
    pub ddl: bool,
    /// The statement is `DROP` or `ALTER` of the plugin's own object, after which SQLite
    /// finds the object's rows in its schema table by name.
    pub changes_schema: bool,
}

/// The policy for one plugin.
#[derive(Debug)]
pub struct Rules {
    /// `p_<plugin>__`, lower case.
    prefix: String,
    /// The database's real tables, lower case: a name read that is not one of them is a
    /// common table expression of the statement itself.
    tables: HashSet<String>,
}

fn allow() -> Result<(), Refusal> {
    Ok(())
}

impl Rules {
    /// Rules for tables starting with `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into().to_ascii_lowercase(),
            tables: HashSet::new(),
        }
    }

    /// The names of the database's real tables and views, so that reads of the statement's own
    /// `WITH` tables (which SQLite reports like tables) are told apart.
    pub fn with_tables(mut self, tables: impl IntoIterator<Item = String>) -> Self {
        self.tables = tables.into_iter().map(|t| t.to_ascii_lowercase()).collect();
        self
    }

    /// The prefix these rules allow (lower case).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether `name` carries the plugin's prefix (SQLite names are case-insensitive).
    pub fn owns(&self, name: &str) -> bool {
        name.to_ascii_lowercase().starts_with(&self.prefix)
    }

    fn own(&self, name: Option<&str>, what: &str) -> Result<(), Refusal> {
        match name {
            Some(name) if self.owns(name) => Ok(()),
            Some(name) => Err(Refusal::Table(name.to_owned())),
            None => Err(Refusal::Action(what.to_owned())),
        }
    }

    /// Decides one authorizer call: `action` with its two arguments and database name.
    pub fn decide(
        &self,
        seen: &mut Seen,
        action: c_int,
        a: Option<&str>,
        b: Option<&str>,
        db: Option<&str>,
    ) -> Result<(), Refusal> {
        // SQLite's own bookkeeping for the plugin's DROP or ALTER also visits the temp schema.
        let bookkeeping = seen.changes_schema
            && a.is_some_and(|t| {
                SCHEMA_TABLES.iter().any(|s| t.eq_ignore_ascii_case(s))
                    || t.eq_ignore_ascii_case("sqlite_sequence")
            });
        if let Some(db) = db
            && db != "main"
            && !bookkeeping
            && !matches!(action, ffi::SQLITE_PRAGMA | ffi::SQLITE_FUNCTION)
        {
            return Err(Refusal::Action(format!("using database `{db}`")));
        }
        match action {
            ffi::SQLITE_SELECT | ffi::SQLITE_RECURSIVE => allow(),
            ffi::SQLITE_READ | ffi::SQLITE_UPDATE | ffi::SQLITE_INSERT | ffi::SQLITE_DELETE => {
                let table = a.unwrap_or_default();
                if SCHEMA_TABLES.iter().any(|t| table.eq_ignore_ascii_case(t)) {
                    if action == ffi::SQLITE_READ {
                        // SQLite's own bookkeeping after the plugin's CREATE reads the schema
                        // table by rowid, after DROP or ALTER by name; any other read (a
                        // query, or `CREATE TABLE .. AS SELECT` from it) is refused.
                        let rowid = b.is_some_and(|c| c.eq_ignore_ascii_case("rowid"));
                        if (seen.ddl && rowid) || seen.changes_schema {
                            return allow();
                        }
                        return Err(Refusal::Table(table.to_owned()));
                    }
                    // Allowed only as part of the plugin's own CREATE/DROP/ALTER, which the
                    // caller checks once the statement compiled (SQLite reports this write
                    // before the CREATE itself).
                    seen.schema_write = true;
                    return allow();
                }
                // A recursive `WITH` table of the statement itself, not a table of the database.
                if action == ffi::SQLITE_READ
                    && !self.owns(table)
                    && !table.is_empty()
                    && !self.tables.contains(&table.to_ascii_lowercase())
                    && !table.eq_ignore_ascii_case("sqlite_sequence")
                {
                    return allow();
                }
                // SQLite's AUTOINCREMENT counters, updated by SQLite itself when the plugin
                // renames or drops its own table; the plugin cannot touch them directly.
                if table.eq_ignore_ascii_case("sqlite_sequence") && seen.changes_schema {
                    return allow();
                }
                self.own(a, "a table without a name")
            }
            // SQLite creates its counter table for the plugin's first AUTOINCREMENT table.
            ffi::SQLITE_CREATE_TABLE
                if seen.ddl && a.is_some_and(|t| t.eq_ignore_ascii_case("sqlite_sequence")) =>
            {
                allow()
            }
            ffi::SQLITE_CREATE_TABLE | ffi::SQLITE_DROP_TABLE => {
                self.own(a, "an unnamed table")?;
                seen.ddl = true;
                seen.changes_schema |= action == ffi::SQLITE_DROP_TABLE;
                allow()
            }
            // SQLite checks a view's query when the view is read, not when it is created: no
            // plugin object may even name another table.
            ffi::SQLITE_CREATE_VIEW | ffi::SQLITE_DROP_VIEW => {
                Err(Refusal::Action("a view".into()))
            }
            ffi::SQLITE_CREATE_INDEX | ffi::SQLITE_DROP_INDEX => {
                // The index SQLite makes itself for a UNIQUE or non-integer PRIMARY KEY column
                // of the plugin's table: `sqlite_autoindex_<table>_<n>` (no table of anyone's
                // may be named `sqlite_…`, so the name cannot be forged).
                let automatic = b.is_some_and(|table| {
                    self.owns(table)
                        && a.is_some_and(|index| {
                            index.to_ascii_lowercase().starts_with(&format!(
                                "sqlite_autoindex_{}_",
                                table.to_ascii_lowercase()
                            ))
                        })
                });
                if !automatic {
                    self.own(a, "an unnamed index")?;
                }
                self.own(b, "an index without a table")?;
                seen.ddl = true;
                seen.changes_schema |= action == ffi::SQLITE_DROP_INDEX;
                allow()
            }
            ffi::SQLITE_ALTER_TABLE => {
                // a: database, b: table.
                self.own(b, "ALTER TABLE")?;
                seen.ddl = true;
                seen.changes_schema = true;
                allow()
            }
            ffi::SQLITE_REINDEX | ffi::SQLITE_ANALYZE => {
                self.own(a, "REINDEX or ANALYZE of everything")
            }
            ffi::SQLITE_PRAGMA => {
                let pragma = a.unwrap_or_default().to_ascii_lowercase();
                if READ_PRAGMAS.contains(&pragma.as_str()) && b.is_some_and(|t| self.owns(t)) {
                    allow()
                } else {
                    Err(Refusal::Action(format!("PRAGMA {pragma}")))
                }
            }
            ffi::SQLITE_FUNCTION => {
                let name = b.unwrap_or_default();
                if name.eq_ignore_ascii_case("load_extension") {
                    Err(Refusal::Action("load_extension()".into()))
                } else {
                    allow()
                }
            }
            ffi::SQLITE_ATTACH => Err(Refusal::Action("ATTACH".into())),
            ffi::SQLITE_DETACH => Err(Refusal::Action("DETACH".into())),
            ffi::SQLITE_TRANSACTION | ffi::SQLITE_SAVEPOINT => Err(Refusal::Action(
                "a transaction (each call is one statement)".into(),
            )),
            ffi::SQLITE_CREATE_TRIGGER | ffi::SQLITE_DROP_TRIGGER => {
                Err(Refusal::Action("a trigger".into()))
            }
            ffi::SQLITE_CREATE_TEMP_TABLE
            | ffi::SQLITE_CREATE_TEMP_INDEX
            | ffi::SQLITE_CREATE_TEMP_VIEW
            | ffi::SQLITE_CREATE_TEMP_TRIGGER
            | ffi::SQLITE_DROP_TEMP_TABLE
            | ffi::SQLITE_DROP_TEMP_INDEX
            | ffi::SQLITE_DROP_TEMP_VIEW
            | ffi::SQLITE_DROP_TEMP_TRIGGER => Err(Refusal::Action("a temporary object".into())),
            ffi::SQLITE_CREATE_VTABLE | ffi::SQLITE_DROP_VTABLE => {
                Err(Refusal::Action("a virtual table".into()))
            }
            _ => Err(Refusal::Action(format!("SQLite action {action}"))),
        }
    }
}

/// The authorizer's state while installed: the rules, what it saw, and whether it checks at all
/// (off while the host only looks for a second statement it will not run).
#[derive(Debug)]
pub struct Authorizer {
    rules: Rules,
    state: Mutex<(Seen, bool)>,
    /// When the statement is interrupted (a runaway query must not hold a pooled connection).
    deadline: Instant,
}

impl Authorizer {
    /// An authorizer enforcing `rules`, interrupting the statement after `limit`.
    pub fn new(rules: Rules, limit: Duration) -> Self {
        Self {
            rules,
            state: Mutex::new((Seen::default(), true)),
            deadline: Instant::now() + limit,
        }
    }

    /// The rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Turns checking on or off.
    pub fn set_checking(&self, on: bool) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = on;
        }
    }

    /// Takes what was seen since the last call.
    pub fn take_seen(&self) -> Seen {
        self.state
            .lock()
            .map(|mut s| std::mem::take(&mut s.0))
            .unwrap_or_default()
    }

    /// Installs this authorizer on `db`.
    ///
    /// # Safety
    /// `db` must be a valid connection used by one thread at a time, and `self` must stay at
    /// this address until [`Authorizer::remove`] ran on the same connection.
    pub unsafe fn install(&self, db: *mut ffi::sqlite3) -> c_int {
        let data = std::ptr::from_ref(self).cast_mut().cast::<c_void>();
        // SAFETY: the caller guarantees `db` is valid and `self` outlives the installation.
        unsafe {
            ffi::sqlite3_progress_handler(db, PROGRESS_STEPS, Some(progress), data);
            ffi::sqlite3_set_authorizer(db, Some(callback), data)
        }
    }

    /// Removes any authorizer from `db`.
    ///
    /// # Safety
    /// `db` must be a valid connection used by one thread at a time.
    pub unsafe fn remove(db: *mut ffi::sqlite3) -> c_int {
        // SAFETY: the caller guarantees `db` is valid.
        unsafe {
            ffi::sqlite3_progress_handler(db, 0, None, std::ptr::null_mut());
            ffi::sqlite3_set_authorizer(db, None, std::ptr::null_mut())
        }
    }
}

/// How many virtual machine steps pass between two deadline checks.
const PROGRESS_STEPS: c_int = 10_000;

unsafe extern "C" fn progress(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Authorizer` installed with this handler, alive while installed.
    let authorizer = unsafe { &*data.cast::<Authorizer>() };
    c_int::from(Instant::now() >= authorizer.deadline)
}

/// A C string argument from SQLite, or `None`.
///
/// # Safety
/// `text` is null or a NUL-terminated string valid for the call.
unsafe fn text<'a>(text: *const c_char) -> Option<&'a str> {
    if text.is_null() {
        None
    } else {
        // SAFETY: SQLite passes NUL-terminated UTF-8 valid during the callback.
        unsafe { CStr::from_ptr(text) }.to_str().ok()
    }
}

unsafe extern "C" fn callback(
    data: *mut c_void,
    action: c_int,
    a: *const c_char,
    b: *const c_char,
    db: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    // SAFETY: `data` is the `Authorizer` installed with this callback, alive while installed.
    let authorizer = unsafe { &*data.cast::<Authorizer>() };
    // SAFETY: SQLite's arguments are null or valid strings for this call.
    let (a, b, db) = unsafe { (text(a), text(b), text(db)) };
    let Ok(mut state) = authorizer.state.lock() else {
        return ffi::SQLITE_DENY;
    };
    let (seen, checking) = &mut *state;
    if !*checking {
        return ffi::SQLITE_OK;
    }
    match authorizer.rules.decide(seen, action, a, b, db) {
        Ok(()) => ffi::SQLITE_OK,
        Err(refusal) => {
            tracing::debug!(action, ?a, ?b, ?db, ?refusal, "plugin SQL refused");
            seen.refusal.get_or_insert(refusal);
            ffi::SQLITE_DENY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(action: c_int, a: Option<&str>, b: Option<&str>) -> Result<(), Refusal> {
        Rules::new("p_demo__")
            .with_tables(["guild_settings".to_string(), "P_OTHER__things".to_string()])
            .decide(&mut Seen::default(), action, a, b, Some("main"))
    }

    #[test]
    fn policy() {
        assert!(decide(ffi::SQLITE_CREATE_TABLE, Some("p_demo__things"), None).is_ok());
        assert!(decide(ffi::SQLITE_READ, Some("P_DEMO__things"), Some("x")).is_ok());
        assert_eq!(
            decide(ffi::SQLITE_READ, Some("guild_settings"), Some("key")),
            Err(Refusal::Table("guild_settings".into()))
        );
        assert_eq!(
            decide(ffi::SQLITE_INSERT, Some("p_other__things"), None),
            Err(Refusal::Table("p_other__things".into()))
        );
        assert!(decide(ffi::SQLITE_READ, Some("sqlite_master"), None).is_err());
        assert!(decide(ffi::SQLITE_READ, Some("cte"), Some("x")).is_ok());
        assert!(decide(ffi::SQLITE_INSERT, Some("cte"), None).is_err());
        assert!(decide(ffi::SQLITE_ATTACH, Some("x.db"), None).is_err());
        assert!(decide(ffi::SQLITE_PRAGMA, Some("writable_schema"), Some("1")).is_err());
        assert!(
            decide(
                ffi::SQLITE_PRAGMA,
                Some("table_info"),
                Some("p_demo__things")
            )
            .is_ok()
        );
        assert!(
            decide(
                ffi::SQLITE_PRAGMA,
                Some("table_info"),
                Some("guild_settings")
            )
            .is_err()
        );
        assert!(
            decide(
                ffi::SQLITE_CREATE_INDEX,
                Some("p_demo__i"),
                Some("guild_settings")
            )
            .is_err()
        );
        assert!(decide(ffi::SQLITE_TRANSACTION, Some("BEGIN"), None).is_err());
    }
}
