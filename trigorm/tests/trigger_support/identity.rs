//! What the database says identifies each trigger of a table: something that changes
//! whenever the trigger is dropped and created again, replaced, or switched. Used to show
//! that an install leaves alone what is already as declared.
//!
//! - SQLite: the trigger's row in `sqlite_master` (its SQL and rowid), and the schema's
//!   version (`PRAGMA schema_version`), which every schema change moves: a rowid can be
//!   reused when the newest trigger is dropped and made again, the version cannot.
//! - PostgreSQL: the trigger's oid, its row version (`xmin`: `ENABLE` / `DISABLE` move it),
//!   whether it is enabled, its comment (the fingerprint), and its function's oid and row
//!   version (`CREATE OR REPLACE FUNCTION` keeps the oid and moves the row version).
//! - MariaDB: `information_schema.TRIGGERS`' `CREATED` (centiseconds: call [`settle`]
//!   before an install whose effect is checked), `ACTION_ORDER` and body.
//!
//! Included by the test files that need it:
//! `#[path = "trigger_support/identity.rs"] mod identity;`
#![allow(dead_code)]

use std::collections::BTreeMap;

use trigorm::{Engine, Value};

use crate::common::Db;

/// The identity of each trigger of a table (by name), and of the schema as a whole where
/// the backend has one (SQLite's schema version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub triggers: BTreeMap<String, String>,
    pub schema: Option<String>,
}

impl Identity {
    /// The triggers whose identity differs from `before` (added, removed or changed).
    pub fn changed_since(&self, before: &Identity) -> Vec<String> {
        let mut names: Vec<String> = self
            .triggers
            .keys()
            .chain(before.triggers.keys())
            .filter(|n| self.triggers.get(*n) != before.triggers.get(*n))
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        other => format!("{other:?}"),
    }
}

/// The identity of every trigger of `table` (managed or not).
pub fn identity(db: &Db, engine: &Engine, table: &str) -> Identity {
    let mut s = engine.session().unwrap();
    let (sql, schema) = if db.is_postgres() {
        (
            "SELECT t.tgname::text, t.oid::bigint, t.xmin::text, t.tgenabled::text, \
             COALESCE(obj_description(t.oid, 'pg_trigger'), ''), p.oid::bigint, p.xmin::text \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() \
             JOIN pg_proc p ON p.oid = t.tgfoid \
             WHERE NOT t.tgisinternal AND c.relname = $1",
            None,
        )
    } else if db.is_mariadb() {
        (
            "SELECT TRIGGER_NAME, CREATED, ACTION_ORDER, ACTION_STATEMENT FROM information_schema.TRIGGERS \
             WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ?",
            None,
        )
    } else {
        (
            "SELECT name, rowid, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
            Some("SELECT schema_version FROM pragma_schema_version()"),
        )
    };
    let rows = s.query_raw(sql, &[Value::from(table)]).unwrap();
    let triggers = rows
        .iter()
        .map(|r| {
            let rest: Vec<String> = r[1..].iter().map(cell).collect();
            (cell(&r[0]), rest.join(" | "))
        })
        .collect();
    let schema = schema.map(|q| format!("{:?}", s.query_raw(q, &[]).unwrap()));
    s.commit().unwrap();
    Identity { triggers, schema }
}

/// Let MariaDB's trigger clock (`CREATED`, in centiseconds) move on, so that a trigger
/// made again from now on shows another creation time.
pub fn settle(db: &Db) {
    if db.is_mariadb() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
