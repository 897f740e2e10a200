//! What the database's catalog says about the tables and indexes of a test's database, on
//! every backend: SQLite's `sqlite_master` and pragmas, PostgreSQL's `information_schema`
//! and `pg_catalog` (restricted to the test's own schema), MariaDB's `information_schema`
//! (restricted to the test's own database: `DATABASE()`).
//!
//! Included by the test files that need it: `#[path = "common/catalog.rs"] mod catalog;`
#![allow(dead_code)]

use trigorm::{Session, Value};

use crate::common::Db;

fn texts(rows: Vec<Vec<Value>>) -> Vec<String> {
    rows.into_iter()
        .map(|r| match &r[0] {
            Value::Text(t) => t.clone(),
            other => panic!("expected a name, got {other:?}"),
        })
        .collect()
}

/// The tables of the database, by name.
pub fn tables(db: &Db, s: &mut Session) -> Vec<String> {
    let sql = if db.is_postgres() {
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    } else if db.is_mariadb() {
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    };
    texts(s.query_raw(sql, &[]).unwrap())
}

/// How many indexes `table` has, not counting the primary key's.
pub fn index_count(db: &Db, s: &mut Session, table: &str) -> i64 {
    let sql = if db.is_postgres() {
        "SELECT count(*) FROM pg_index i \
         JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema() \
         WHERE t.relname = $1 AND NOT i.indisprimary"
    } else if db.is_mariadb() {
        // One row per column of each index: count the indexes.
        "SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY'"
    } else {
        // An INTEGER PRIMARY KEY is the rowid: it has no index of its own.
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? \
         AND name NOT IN (SELECT name FROM pragma_index_list(?) WHERE origin = 'pk')"
    };
    let params = if db.is_server() {
        vec![Value::from(table)]
    } else {
        vec![Value::from(table), Value::from(table)]
    };
    match s.query_raw(sql, &params).unwrap()[0][0] {
        Value::Int(n) => n,
        ref other => panic!("expected a count, got {other:?}"),
    }
}

/// The indexes of `table` created by a `CREATE INDEX` of their own (not those of a
/// `UNIQUE` or primary-key constraint), by name.
pub fn declared_indexes(db: &Db, s: &mut Session, table: &str) -> Vec<String> {
    let sql = if db.is_postgres() {
        "SELECT ic.relname::text FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema() \
         WHERE t.relname = $1 \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
         ORDER BY 1"
    } else if db.is_mariadb() {
        // MariaDB's indexes are declared inside the CREATE TABLE: those of a constraint
        // (the primary key, a UNIQUE column) are the ones named in TABLE_CONSTRAINTS.
        "SELECT DISTINCT s.INDEX_NAME FROM information_schema.STATISTICS s \
         WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME = ? \
         AND NOT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c \
           WHERE c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME \
           AND c.CONSTRAINT_NAME = s.INDEX_NAME AND c.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE')) \
         ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name"
    };
    texts(s.query_raw(sql, &[Value::from(table)]).unwrap())
}

/// The columns of index `index` of `table`, in the index's order.
pub fn index_columns(db: &Db, s: &mut Session, table: &str, index: &str) -> Vec<String> {
    if db.is_postgres() {
        let sql = "SELECT a.attname::text FROM pg_index i \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = current_schema() \
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE ic.relname = $1 ORDER BY k.pos";
        return texts(s.query_raw(sql, &[Value::from(index)]).unwrap());
    }
    if db.is_mariadb() {
        let sql = "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ? ORDER BY SEQ_IN_INDEX";
        return texts(s.query_raw(sql, &[Value::from(table), Value::from(index)]).unwrap());
    }
    let _ = table;
    texts(
        s.query_raw(
            "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
            &[Value::from(index)],
        )
        .unwrap(),
    )
}

/// Whether index `index` of `table` is unique.
pub fn index_is_unique(db: &Db, s: &mut Session, table: &str, index: &str) -> bool {
    let rows = if db.is_postgres() {
        s.query_raw(
            "SELECT i.indisunique::int FROM pg_index i \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = ic.relnamespace AND n.nspname = current_schema() \
             WHERE ic.relname = $1",
            &[Value::from(index)],
        )
    } else if db.is_mariadb() {
        s.query_raw(
            "SELECT DISTINCT 1 - NON_UNIQUE FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?",
            &[Value::from(table), Value::from(index)],
        )
    } else {
        s.query_raw(
            "SELECT \"unique\" FROM pragma_index_list(?) WHERE name = ?",
            &[Value::from(table), Value::from(index)],
        )
    }
    .unwrap();
    match rows.as_slice() {
        [row] => match row[0] {
            Value::Int(n) => n != 0,
            ref other => panic!("expected a flag, got {other:?}"),
        },
        other => panic!("no index {index:?} on {table:?}: {other:?}"),
    }
}

/// The columns of `table` that have a unique index of their own (the primary key's
/// aside), by name.
pub fn unique_columns(db: &Db, s: &mut Session, table: &str) -> Vec<String> {
    let sql = if db.is_postgres() {
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema() \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
         WHERE t.relname = $1 AND i.indisunique AND NOT i.indisprimary ORDER BY 1"
    } else if db.is_mariadb() {
        "SELECT COLUMN_NAME FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 \
         AND INDEX_NAME <> 'PRIMARY' ORDER BY 1"
    } else {
        "SELECT ii.name FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii \
         WHERE il.\"unique\" = 1 AND il.origin <> 'pk' ORDER BY ii.name"
    };
    texts(s.query_raw(sql, &[Value::from(table)]).unwrap())
}

/// The query plan of `query` (written with `?` placeholders), as text. On PostgreSQL,
/// sequential scans are disabled for the rest of the session's transaction (`SET
/// LOCAL`): an empty table would be scanned whatever its indexes, and the question is
/// whether an index can serve the query. On MariaDB, the plan is the index `EXPLAIN`
/// says each table is read with (its `key` column; not the indexes merely considered).
pub fn plan(db: &Db, s: &mut Session, query: &str, params: &[Value]) -> String {
    let rows = if db.is_postgres() {
        s.execute("SET LOCAL enable_seqscan = off", &[]).unwrap();
        s.query_raw(&format!("EXPLAIN {}", db.sql(query)), params).unwrap()
    } else if db.is_mariadb() {
        // id, select_type, table, type, possible_keys, key, key_len, ref, rows, Extra
        s.query_raw(&format!("EXPLAIN {}", db.sql(query)), params)
            .unwrap()
            .into_iter()
            .map(|row| vec![row[2].clone(), row[3].clone(), row[5].clone()])
            .collect()
    } else {
        s.query_raw(&format!("EXPLAIN QUERY PLAN {query}"), params).unwrap()
    };
    format!("{rows:?}")
}
