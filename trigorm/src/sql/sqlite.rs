//! The SQLite dialect.

use super::{Capabilities, Dialect, SqlSyntax};
use crate::backend::Backend;
use crate::schema::ColumnType;

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
/// // One writer at a time: no row locks, and rows go one statement each.
/// assert!(!SqliteDialect.capabilities().row_locks);
/// assert!(SqliteDialect.insert_many(User::table(), false, 10).is_none());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

/// What SQLite can do.
static CAPABILITIES: Capabilities = Capabilities {
    // SQLite has RETURNING since 3.35, but its last-insert rowid is the statement's own
    // (a trigger's insert does not change it once the trigger ends): no need.
    returning: false,
    update_returning: false,
    delete_returning: false,
    transactional_ddl: true,
    // SQLite stores a NaN as NULL.
    stores_nan: false,
    text_nul: true,
    timestamp_digits: 6,
    max_bound_parameters: 32_766,
    index_if_not_exists: true,
    row_locks: false,
    // A statement costs no round trip in-process: rows go one by one, as hand-written code
    // would send them.
    batches: false,
    sized_batches: false,
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
}
