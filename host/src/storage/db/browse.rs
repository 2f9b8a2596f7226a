//! Looking into the databases without changing them (the dashboard's Databases page): which
//! files the host knows, by name; `PRAGMA integrity_check`; a table's rows a page at a time.
//!
//! A database is named, never given by path: `main` or a guild's id, looked up among the
//! files the host knows ([`Databases::known`]). Each look opens its own read-only connection
//! (`SQLITE_OPEN_READONLY`), so nothing here can write, whatever it runs. A table is taken
//! only when `sqlite_master` lists it, and quoted in the statement.

use std::path::PathBuf;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Connection as _, Row as _, TypeInfo as _, ValueRef as _};

use super::Databases;

/// Rows on one page of [`Databases::table_page`].
pub const PAGE_ROWS: u64 = 50;

/// Characters of a text cell shown; the rest is cut.
pub const CELL_CHARS: usize = 200;

/// Why a look into a database failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    /// Not the name of a database the host knows.
    #[error("no database named `{0}`")]
    UnknownDatabase(String),
    /// Not a table of that database.
    #[error("no table named `{0}` in this database")]
    UnknownTable(String),
    /// The file could not be opened.
    #[error(transparent)]
    Open(#[from] super::DbError),
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: sqlx::Error,
    },
}

/// One cell, as it can be shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// A floating point number.
    Real(f64),
    /// Text, cut to [`CELL_CHARS`] characters (an ellipsis ends a cut one).
    Text(String),
    /// A BLOB: only its size in bytes.
    Blob(usize),
}

/// A page of a table's rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TablePage {
    /// The table.
    pub table: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// The rows of this page.
    pub rows: Vec<Vec<Cell>>,
    /// Rows in the table.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// Pages in all (at least 1).
    pub pages: u64,
}

/// `name` as an SQL identifier: in double quotes, its own double quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(CELL_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn cell(row: &SqliteRow, index: usize) -> Cell {
    let Ok(raw) = row.try_get_raw(index) else {
        return Cell::Null;
    };
    if raw.is_null() {
        return Cell::Null;
    }
    let kind = raw.type_info().name().to_owned();
    match kind.as_str() {
        "INTEGER" => row
            .try_get_unchecked::<i64, _>(index)
            .map_or(Cell::Null, Cell::Integer),
        "REAL" => row
            .try_get_unchecked::<f64, _>(index)
            .map_or(Cell::Null, Cell::Real),
        "BLOB" => row
            .try_get_unchecked::<Vec<u8>, _>(index)
            .map_or(Cell::Null, |b| Cell::Blob(b.len())),
        _ => row
            .try_get_unchecked::<String, _>(index)
            .map_or(Cell::Null, |t| Cell::Text(cut(&t))),
    }
}

impl Databases {
    /// The databases the host knows, by name: `main` (`main.db`), then each guild's id (its
    /// `guild.db`, on disk or open).
    pub fn known(&self) -> Vec<(String, PathBuf)> {
        let mut guilds = self.guild_files();
        for guild in self.open_guilds() {
            if let Err(at) = guilds.binary_search(&guild) {
                guilds.insert(at, guild);
            }
        }
        std::iter::once(("main".to_owned(), self.main_path().to_path_buf()))
            .chain(
                guilds
                    .into_iter()
                    .map(|g| (g.to_string(), self.guild_path(g))),
            )
            .collect()
    }

    /// A read-only connection to the database named `name`.
    async fn read_only(&self, name: &str) -> Result<(PathBuf, SqliteConnection), BrowseError> {
        let path = self
            .known()
            .into_iter()
            .find(|(known, _)| known == name)
            .map(|(_, path)| path)
            .ok_or_else(|| BrowseError::UnknownDatabase(name.to_owned()))?;
        let conn = super::connect::open_read_only(&path, &self.options).await?;
        Ok((path, conn))
    }

    /// `PRAGMA integrity_check` of the database named `name`, on a read-only connection:
    /// `Ok(())` when SQLite answers `ok`, else its findings.
    pub async fn check_read_only(&self, name: &str) -> Result<Result<(), String>, BrowseError> {
        let (_, mut conn) = self.read_only(name).await?;
        let result = super::maintenance::integrity_of(&mut conn).await;
        let _ = conn.close().await;
        Ok(result)
    }

    /// The tables of the database named `name` (`sqlite_master`), by name.
    pub async fn tables(&self, name: &str) -> Result<Vec<String>, BrowseError> {
        let (path, mut conn) = self.read_only(name).await?;
        let tables = list_tables(&mut conn).await;
        let _ = conn.close().await;
        tables.map_err(|source| BrowseError::Sqlite { path, source })
    }

    /// Page `page` (from 1; past the end: the last) of `table` in the database named `name`,
    /// [`PAGE_ROWS`] rows a page. `table` must be one `sqlite_master` lists.
    pub async fn table_page(
        &self,
        name: &str,
        table: &str,
        page: u64,
    ) -> Result<TablePage, BrowseError> {
        let (path, mut conn) = self.read_only(name).await?;
        let result = read_page(&mut conn, table, page).await;
        let _ = conn.close().await;
        result.map_err(|error| match error {
            PageError::Table => BrowseError::UnknownTable(table.to_owned()),
            PageError::Sqlite(source) => BrowseError::Sqlite { path, source },
        })
    }
}

async fn list_tables(conn: &mut SqliteConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(conn)
        .await
}

enum PageError {
    Table,
    Sqlite(sqlx::Error),
}

impl From<sqlx::Error> for PageError {
    fn from(error: sqlx::Error) -> Self {
        Self::Sqlite(error)
    }
}

async fn read_page(
    conn: &mut SqliteConnection,
    table: &str,
    page: u64,
) -> Result<TablePage, PageError> {
    let tables = list_tables(&mut *conn).await?;
    let Some(table) = tables.into_iter().find(|t| t == table) else {
        return Err(PageError::Table);
    };
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
        .bind(&table)
        .fetch_all(&mut *conn)
        .await?;
    let quoted = quote_identifier(&table);
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {quoted}"))
        .fetch_one(&mut *conn)
        .await?;
    let total = u64::try_from(total).unwrap_or(0);
    let pages = total.div_ceil(PAGE_ROWS).max(1);
    let page = page.clamp(1, pages);
    let offset = i64::try_from((page - 1) * PAGE_ROWS).unwrap_or(i64::MAX);
    let rows = sqlx::query(&format!("SELECT * FROM {quoted} LIMIT ?1 OFFSET ?2"))
        .bind(PAGE_ROWS as i64)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    let rows = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| cell(row, i)).collect())
        .collect();
    Ok(TablePage {
        table,
        columns,
        rows,
        total,
        page,
        pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_long_text_cut() {
        assert_eq!(quote_identifier("guild_settings"), "\"guild_settings\"");
        assert_eq!(quote_identifier("a\"; DROP"), "\"a\"\"; DROP\"");
        assert_eq!(cut("short"), "short");
        let long = cut(&"é".repeat(CELL_CHARS + 5));
        assert_eq!(long.chars().count(), CELL_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
