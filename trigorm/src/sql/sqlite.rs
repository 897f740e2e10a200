//! The SQLite dialect.

use std::fmt::Write as _;

use super::{push_list, Capabilities, Dialect, SqlSyntax};
use crate::backend::Backend;
use crate::model::ColumnSet;
use crate::schema::{ColumnType, TableDef};

/// SQLite: `INTEGER PRIMARY KEY` is the rowid (generated keys), timestamps and dates are
/// fixed-width text, JSON is text.
///
/// ```
/// use trigorm::sql::{Dialect, SqliteDialect};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// #[trigorm(table = "users")]
/// struct User { id: i64, name: String }
///
/// assert_eq!(SqliteDialect.delete(User::table()), r#"DELETE FROM "users" WHERE "id" = ?"#);
/// // One writer at a time: no row locks. Rows go one statement each, except to a table
/// // with triggers, where a flush writes them in statements of many.
/// assert!(!SqliteDialect.capabilities().row_locks);
/// assert!(SqliteDialect.capabilities().batches_tables_with_triggers);
/// assert_eq!(
///     SqliteDialect.insert_many(User::table(), false, 2).as_deref(),
///     Some(r#"INSERT INTO "users" ("name") VALUES (?), (?) RETURNING "id""#)
/// );
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

/// What SQLite can do.
static CAPABILITIES: Capabilities = Capabilities {
    // RETURNING since 3.35 (the bundled library is newer): a statement of many rows says
    // which keys it generated or deleted (not rows a trigger wrote). An UPDATE's rows are
    // counted: its RETURNING costs a trigger program per row, and the count is exact here
    // (a table whose triggers may skip a row, `RAISE(IGNORE)`, is not batched).
    returning: true,
    update_returning: false,
    delete_returning: true,
    transactional_ddl: true,
    // SQLite stores a NaN as NULL.
    stores_nan: false,
    text_nul: true,
    timestamp_digits: 6,
    max_bound_parameters: 32_766,
    batch_parameters: 128,
    index_if_not_exists: true,
    row_locks: false,
    // A statement costs no round trip in-process: rows go one by one, as hand-written code
    // would send them, except to a table with triggers (see `batches_tables_with_triggers`).
    batches: false,
    batches_tables_with_triggers: true,
    random_keys_when_full: true,
    sized_batches: true,
    statement_fk_checks: true,
};

impl Dialect for SqliteDialect {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn syntax(&self) -> SqlSyntax {
        SqlSyntax::Sqlite
    }

    fn column_type(&self, ty: ColumnType, _auto_increment_key: bool) -> &'static str {
        match ty {
            // Exactly "INTEGER" for the key to be the rowid.
            ColumnType::Integer => "INTEGER",
            ColumnType::Float => "REAL",
            ColumnType::Bool => "BOOLEAN",
            ColumnType::Text => "TEXT",
            ColumnType::Blob => "BLOB",
            ColumnType::Timestamp => "TIMESTAMP",
            ColumnType::Date => "DATE",
            ColumnType::Json => "TEXT",
        }
    }

    /// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?) RETURNING id`, `RETURNING` when the
    /// database generates the keys (they come in insertion order: each new rowid is the
    /// largest plus one).
    fn insert_many(&self, table: &TableDef, with_key: bool, rows: usize) -> Option<String> {
        let cols: Vec<usize> = (0..table.columns.len())
            .filter(|&i| with_key || i != table.primary_key)
            .collect();
        if cols.is_empty() || rows == 0 {
            // A model with only a generated key: DEFAULT VALUES, row by row.
            return None;
        }
        let mut sql = format!("INSERT INTO {} (", quote(table.name));
        push_list(&mut sql, cols.iter().map(|&i| quote(table.columns[i].name)));
        sql.push_str(") VALUES ");
        push_rows(&mut sql, cols.len(), rows);
        if !with_key && table.auto_increment() {
            let _ = write!(sql, " RETURNING {}", quote(table.pk().name));
        }
        Some(sql)
    }

    /// `UPDATE t SET a = v.column1 FROM (VALUES (?, ?), (?, ?)) AS v WHERE t.id =
    /// v.column2` (SQLite 3.33's `UPDATE … FROM`), counted.
    fn update_many(&self, table: &TableDef, columns: ColumnSet, rows: usize) -> Option<String> {
        let cols: Vec<usize> = columns.iter().collect();
        if cols.is_empty() || rows == 0 {
            return None;
        }
        let t = quote(table.name);
        let pk = quote(table.pk().name);
        let mut sql = format!("UPDATE {t} SET ");
        push_list(
            &mut sql,
            cols.iter()
                .enumerate()
                .map(|(n, &i)| format!("{} = \"~v\".\"column{}\"", quote(table.columns[i].name), n + 1)),
        );
        sql.push_str(" FROM (VALUES ");
        push_rows(&mut sql, cols.len() + 1, rows);
        let _ = write!(sql, ") AS \"~v\" WHERE {t}.{pk} = \"~v\".\"column{}\"", cols.len() + 1);
        Some(sql)
    }

    /// `DELETE FROM t WHERE id IN (?, ?) RETURNING id`.
    fn delete_many(&self, table: &TableDef, rows: usize) -> Option<String> {
        if rows == 0 {
            return None;
        }
        let pk = quote(table.pk().name);
        let mut sql = format!("DELETE FROM {} WHERE {pk} IN (", quote(table.name));
        push_list(&mut sql, std::iter::repeat_n("?".to_string(), rows));
        let _ = write!(sql, ") RETURNING {pk}");
        Some(sql)
    }

    /// The SQL of each trigger on the table, in the main or the temporary schema.
    fn table_triggers(&self) -> Option<&'static str> {
        Some(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE \
             UNION ALL SELECT sql FROM sqlite_temp_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE",
        )
    }

    /// `SELECT max(id) FROM t`: past the largest integer, SQLite picks a new rowid at
    /// random.
    fn largest_key(&self, table: &TableDef) -> Option<String> {
        Some(format!(
            "SELECT max({}) FROM {}",
            quote(table.pk().name),
            quote(table.name)
        ))
    }

    /// `SELECT columns FROM t WHERE id IN (?, ?) ORDER BY id`: the writing transaction
    /// holds the database's write lock, so nothing is locked row by row.
    fn select_many_locked(&self, table: &TableDef, rows: usize) -> Option<String> {
        if rows == 0 {
            return None;
        }
        let pk = quote(table.pk().name);
        let mut sql = String::from("SELECT ");
        push_list(&mut sql, table.columns.iter().map(|c| quote(c.name)));
        let _ = write!(sql, " FROM {} WHERE {pk} IN (", quote(table.name));
        push_list(&mut sql, std::iter::repeat_n("?".to_string(), rows));
        let _ = write!(sql, ") ORDER BY {pk}");
        Some(sql)
    }
}

/// A name in double quotes (names are validated before any SQL is rendered: no quote can
/// be in them).
fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// `rows` rows of `per_row` placeholders: `(?, ?), (?, ?)`.
fn push_rows(sql: &mut String, per_row: usize, rows: usize) {
    let row = format!("({})", vec!["?"; per_row].join(", "));
    push_list(sql, std::iter::repeat_n(row, rows));
}
