//! The MariaDB / MySQL dialect.

use std::fmt::Write as _;

use super::{
    create_tables_late_fks, on_delete_sql, push_list, render_create_table_styled, Capabilities, Ddl, Dialect,
    SqlSyntax, TableStyle,
};
use crate::backend::Backend;
use crate::error::Error;
use crate::model::ColumnSet;
use crate::schema::{ColumnType, TableDef};

/// Which server a [`MysqlDialect`] writes for: they share the protocol and most SQL, and
/// differ in what trigorm leans on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MysqlFlavor {
    /// MariaDB 10.5 and later: `INSERT … RETURNING` and `DELETE … RETURNING` (no
    /// `UPDATE … RETURNING`), `ADD FOREIGN KEY IF NOT EXISTS`, a binary collation
    /// without trailing-space padding.
    MariaDb,
    /// MySQL 8 (and MariaDB before 10.5): no `RETURNING`; generated keys of a flush's
    /// inserts come one statement per row.
    Mysql,
}

/// MariaDB / MySQL: `BIGINT AUTO_INCREMENT` keys, `DATETIME(6)` timestamps (UTC: every
/// connection sets `time_zone = '+00:00'`), `LONGBLOB` bytes, tables `InnoDB` in
/// `utf8mb4` with a binary collation without trailing-space padding (text compares as on
/// SQLite and PostgreSQL); text
/// that is a key, unique or indexed is `VARCHAR(255)`. Rows are locked where they are
/// written, and many rows go in one statement with a placeholder per value.
///
/// ```
/// use trigorm::sql::{Dialect, MysqlDialect};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// #[trigorm(table = "users")]
/// struct User { id: i64, name: String }
///
/// let d = MysqlDialect::mariadb();
/// assert_eq!(d.delete(User::table()), "DELETE FROM `users` WHERE `id` = ?");
/// assert_eq!(
///     d.delete_many(User::table(), 2).as_deref(),
///     Some("DELETE FROM `users` WHERE `id` IN (?, ?) RETURNING `id`")
/// );
/// assert!(d.capabilities().sized_batches);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MysqlDialect {
    flavor: MysqlFlavor,
}

/// What MariaDB 10.5+ can do.
static MARIADB: Capabilities = Capabilities {
    returning: true,
    update_returning: false,
    delete_returning: true,
    transactional_ddl: false,
    stores_nan: false,
    text_nul: true,
    timestamp_digits: 6,
    max_bound_parameters: 65_535,
    batch_parameters: 65_535,
    // MariaDB has CREATE INDEX IF NOT EXISTS, but sea-query's MySQL builder does not
    // write it: indexes go inside the CREATE TABLE.
    index_if_not_exists: false,
    row_locks: true,
    batches: true,
    batches_tables_with_triggers: false,
    random_keys_when_full: false,
    sized_batches: true,
    // InnoDB checks a foreign key at each row, not when the statement ends.
    statement_fk_checks: false,
};

/// What MySQL 8 can do.
static MYSQL: Capabilities = Capabilities {
    returning: false,
    delete_returning: false,
    ..MARIADB
};

/// The type of a text column that is a key, unique or indexed (InnoDB indexes 3072 bytes:
/// 255 four-byte characters fit).
const KEYED_TEXT: &str = "VARCHAR(255)";

impl MysqlDialect {
    /// The dialect for MariaDB 10.5 or later.
    pub fn mariadb() -> MysqlDialect {
        MysqlDialect {
            flavor: MysqlFlavor::MariaDb,
        }
    }

    /// The dialect for MySQL 8 (what is common to both servers).
    pub fn mysql() -> MysqlDialect {
        MysqlDialect {
            flavor: MysqlFlavor::Mysql,
        }
    }

    /// The dialect for a server that reports `version` (`SELECT VERSION()`): MariaDB 10.5
    /// or later, else MySQL.
    ///
    /// ```
    /// use trigorm::sql::{MysqlDialect, MysqlFlavor};
    /// assert_eq!(MysqlDialect::for_version("10.11.19-MariaDB-0+deb12u1").flavor(), MysqlFlavor::MariaDb);
    /// assert_eq!(MysqlDialect::for_version("10.4.2-MariaDB").flavor(), MysqlFlavor::Mysql);
    /// assert_eq!(MysqlDialect::for_version("8.0.36").flavor(), MysqlFlavor::Mysql);
    /// ```
    pub fn for_version(version: &str) -> MysqlDialect {
        let mut parts = version.split(|c: char| !c.is_ascii_digit());
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if version.contains("MariaDB") && (major, minor) >= (10, 5) {
            MysqlDialect::mariadb()
        } else {
            MysqlDialect::mysql()
        }
    }

    /// Which server this dialect writes for.
    pub fn flavor(&self) -> MysqlFlavor {
        self.flavor
    }

    fn style(&self) -> TableStyle {
        let collation = match self.flavor {
            // Binary and without PAD SPACE: 'a' and 'a ' are two values, as elsewhere.
            MysqlFlavor::MariaDb => "utf8mb4_nopad_bin",
            // utf8mb4_bin pads trailing spaces on MySQL too; the 0900 collations do not.
            MysqlFlavor::Mysql => "utf8mb4_0900_bin",
        };
        TableStyle {
            keyed_text: Some(KEYED_TEXT),
            inline_indexes: true,
            options: Some(("InnoDB", "utf8mb4", collation)),
            naive_timestamps: true,
            expression_defaults: self.flavor == MysqlFlavor::Mysql,
        }
    }

    /// `CAST(? AS type)` for column `i` of `table`, in each row of a derived table, so that
    /// its columns have the types of the table's, whatever the first row's values are (a
    /// `NULL`, a short string).
    fn typed_param(&self, table: &TableDef, i: usize) -> &'static str {
        match table.columns[i].ty {
            ColumnType::Integer | ColumnType::Bool => "CAST(? AS SIGNED)",
            ColumnType::Float => "CAST(? AS DOUBLE)",
            ColumnType::Text | ColumnType::Json => "CONVERT(? USING utf8mb4)",
            ColumnType::Blob => "CAST(? AS BINARY)",
            ColumnType::Timestamp => "CAST(? AS DATETIME(6))",
            ColumnType::Date => "CAST(? AS DATE)",
        }
    }
}

impl Default for MysqlDialect {
    /// MariaDB, the server this is tested on.
    fn default() -> MysqlDialect {
        MysqlDialect::mariadb()
    }
}

impl Dialect for MysqlDialect {
    fn backend(&self) -> Backend {
        Backend::Mysql
    }

    fn capabilities(&self) -> &'static Capabilities {
        match self.flavor {
            MysqlFlavor::MariaDb => &MARIADB,
            MysqlFlavor::Mysql => &MYSQL,
        }
    }

    fn for_server(&self, version: &str) -> Option<Box<dyn Dialect>> {
        Some(Box::new(MysqlDialect::for_version(version)))
    }

    fn syntax(&self) -> SqlSyntax {
        SqlSyntax::Mysql
    }

    fn column_type(&self, ty: ColumnType, auto_increment_key: bool) -> &'static str {
        match ty {
            ColumnType::Integer if auto_increment_key => "BIGINT AUTO_INCREMENT",
            ColumnType::Integer => "BIGINT",
            ColumnType::Float => "DOUBLE",
            ColumnType::Bool => "BOOLEAN",
            // TEXT holds 64 KiB; the other backends' text has no such bound.
            ColumnType::Text => "LONGTEXT",
            ColumnType::Blob => "LONGBLOB",
            ColumnType::Timestamp => "DATETIME(6)",
            ColumnType::Date => "DATE",
            // MariaDB's JSON is LONGTEXT with a validity check; MySQL's is binary JSON.
            ColumnType::Json => "JSON",
        }
    }

    fn create_table(&self, table: &TableDef) -> Result<Vec<String>, Error> {
        render_create_table_styled(self, table, &|_| true, &self.style())
    }

    /// Tables in order, each with its indexes inside its `CREATE TABLE IF NOT EXISTS`
    /// (idempotent without `CREATE INDEX IF NOT EXISTS`). A foreign key to a table created
    /// later is added once both exist: on MariaDB with `ADD FOREIGN KEY IF NOT EXISTS`;
    /// MySQL has no such clause, and such a reference is refused there.
    fn create_tables(&self, tables: &[&'static TableDef]) -> Result<Vec<Ddl>, Error> {
        create_tables_late_fks(self, tables, &self.style(), &|fk| {
            if self.flavor == MysqlFlavor::Mysql {
                return Err(Error::Unsupported {
                    backend: "MySQL",
                    feature: format!(
                        "a foreign key to a table created after it ({}.{} -> {}): create the tables in two steps",
                        fk.table.name, fk.column.name, fk.parent.name
                    ),
                });
            }
            Ok(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY IF NOT EXISTS ({}) REFERENCES {} ({}) ON DELETE {}",
                quote(fk.table.name),
                quote(&fk.name),
                quote(fk.column.name),
                quote(fk.parent.name),
                quote(fk.parent.pk().name),
                on_delete_sql(fk.on_delete),
            ))
        })
    }

    /// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?) RETURNING id` on MariaDB: the generated
    /// keys of every row, from the statement. MySQL cannot return them: `None` there when
    /// the keys are generated (those rows go one by one, each with its own insert id).
    fn insert_many(&self, table: &TableDef, with_key: bool, rows: usize) -> Option<String> {
        let generated = !with_key && table.auto_increment();
        if generated && !self.capabilities().returning {
            return None;
        }
        let cols: Vec<usize> = (0..table.columns.len())
            .filter(|&i| with_key || i != table.primary_key)
            .collect();
        if cols.is_empty() || rows == 0 {
            return None;
        }
        let mut sql = format!("INSERT INTO {} (", quote(table.name));
        push_list(&mut sql, cols.iter().map(|&i| quote(table.columns[i].name)));
        sql.push_str(") VALUES ");
        let row = format!("({})", vec!["?"; cols.len()].join(", "));
        push_list(&mut sql, std::iter::repeat_n(row, rows));
        if generated {
            let _ = write!(sql, " RETURNING {}", quote(table.pk().name));
        }
        Some(sql)
    }

    /// `UPDATE t JOIN (SELECT CAST(? AS …) AS c0, CAST(? AS …) AS k UNION ALL SELECT
    /// CAST(? AS …), CAST(? AS …)) AS v ON t.id = v.k SET t.a = v.c0`: no `RETURNING`; the
    /// session counts the rows (found rows, not changed ones: the driver asks for
    /// `CLIENT_FOUND_ROWS`).
    fn update_many(&self, table: &TableDef, columns: ColumnSet, rows: usize) -> Option<String> {
        let cols: Vec<usize> = columns.iter().collect();
        if cols.is_empty() || rows == 0 {
            return None;
        }
        let t = quote(table.name);
        let pk = quote(table.pk().name);
        let mut sql = format!("UPDATE {t} JOIN (SELECT ");
        let first = cols
            .iter()
            .enumerate()
            .map(|(n, &i)| format!("{} AS `c{n}`", self.typed_param(table, i)))
            .chain(std::iter::once(format!(
                "{} AS `k`",
                self.typed_param(table, table.primary_key)
            )));
        push_list(&mut sql, first);
        // Every row converts its values: a derived table's column takes its type from its
        // rows, and a text or blob column typed by the first row alone cuts longer values
        // of later rows short, silently.
        let mut other = String::from(" UNION ALL SELECT ");
        push_list(
            &mut other,
            cols.iter()
                .chain(std::iter::once(&table.primary_key))
                .map(|&i| self.typed_param(table, i).to_string()),
        );
        for _ in 1..rows {
            sql.push_str(&other);
        }
        let _ = write!(sql, ") AS `~v` ON {t}.{pk} = `~v`.`k` SET ");
        push_list(
            &mut sql,
            cols.iter()
                .enumerate()
                .map(|(n, &i)| format!("{t}.{} = `~v`.`c{n}`", quote(table.columns[i].name))),
        );
        Some(sql)
    }

    /// `DELETE FROM t WHERE id IN (?, ?)`, with `RETURNING id` on MariaDB.
    fn delete_many(&self, table: &TableDef, rows: usize) -> Option<String> {
        if rows == 0 {
            return None;
        }
        let pk = quote(table.pk().name);
        let mut sql = format!(
            "DELETE FROM {} WHERE {pk} IN ({})",
            quote(table.name),
            placeholders(rows)
        );
        if self.capabilities().delete_returning {
            let _ = write!(sql, " RETURNING {pk}");
        }
        Some(sql)
    }

    /// `SELECT columns FROM t WHERE id IN (?, ?) ORDER BY id FOR UPDATE`.
    fn select_many_locked(&self, table: &TableDef, rows: usize) -> Option<String> {
        if rows == 0 {
            return None;
        }
        let pk = quote(table.pk().name);
        let mut sql = String::from("SELECT ");
        push_list(&mut sql, table.columns.iter().map(|c| quote(c.name)));
        let _ = write!(
            sql,
            " FROM {} WHERE {pk} IN ({}) ORDER BY {pk} FOR UPDATE",
            quote(table.name),
            placeholders(rows)
        );
        Some(sql)
    }
}

/// A name in backquotes (names are validated before any SQL is rendered: no quote can be
/// in them).
fn quote(name: &str) -> String {
    format!("`{name}`")
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
