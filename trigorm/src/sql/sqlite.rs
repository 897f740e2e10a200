//! The SQLite dialect.

use sea_query::SqliteQueryBuilder;

use super::DialectSpec;
use crate::backend::Backend;
use crate::schema::ColumnType;

/// SQLite: `INTEGER PRIMARY KEY` is the rowid (generated keys), timestamps and dates are
/// fixed-width text, JSON is text.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl DialectSpec for SqliteDialect {
    type Builder = SqliteQueryBuilder;
    const BACKEND: Backend = Backend::Sqlite;

    fn column_type(ty: ColumnType, _auto_increment_key: bool) -> &'static str {
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
