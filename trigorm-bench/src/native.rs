//! The `native` variant: the same trigorm models, sessions, steps and transactions as the
//! `listeners` variant ([`crate::listeners::run_on`]), with no listener: the `log` rows are
//! written by three database triggers (after insert, after update of the name, after
//! delete of `users`), declared with trigorm's trigger API ([`TriggerDef::custom`]) and
//! installed by the engine's `create_all` before the timed work starts.
//!
//! The bodies are those of trigorm's `examples/native_guard.rs`: one `INSERT INTO log` per
//! backend, `changed_at` the database's clock (`now()` on PostgreSQL, `UTC_TIMESTAMP(6)` on
//! MariaDB/MySQL; on SQLite `CURRENT_TIMESTAMP`, to the second, as a hand-written trigger
//! would write it, see [`SQLITE_NOW`]). The update trigger fires only when the name changed
//! (`WHEN OLD.name IS NOT NEW.name` or its dialect's form), as the listener logs only such
//! updates.
//!
//! What the triggers leave on a server goes with the run's schema or database: on
//! PostgreSQL their functions (`trigorm_users_*_audit_fn`) are created in the run's schema
//! (the first of the connection's `search_path`) and dropped with it (`DROP SCHEMA ...
//! CASCADE`); on MariaDB/MySQL a trigger belongs to its table's database.
//!
//! ## What it costs on SQLite
//! Under callgrind at N = 20000 (`--child native --rows 20000 --batch 1000 --db F`): 740M
//! instructions against the floor's 510M (1.45) and the listeners' 669M. Over the floor,
//! about (measured by changing one thing at a time):
//! - ~150M, SQLite's statement journal: a statement that fires a trigger writing another
//!   table, inside a transaction, opens a statement savepoint and copies each page it
//!   first touches into the sub-journal (`subjournalPageIfRequired`, `pagerOpenSavepoint`,
//!   `vdbeCloseStatement`), about 3,000 instructions a row; a hand-written trigger pays it
//!   too (SQLite needs it whenever a statement writes two tables and a constraint may
//!   abort it);
//! - ~20M, the clock (`CURRENT_TIMESTAMP`; `datetime('now', 'subsec')` for milliseconds
//!   costs 30M more, 1.51 times the floor, and is unknown to SQLite before 3.42, whose
//!   clients would then fail to write; `strftime` costs 1,083M in all);
//! - under 1M, the update trigger's condition on the name.
//!
//! trigorm's compiled triggers check nothing else per row: an ignore for one transaction
//! drops the trigger inside it instead (an earlier `WHEN NOT EXISTS` on an ignore table
//! cost 84M here).

use anyhow::{Context, Result};
use trigorm::trigger::{changed, CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Engine, EngineBuilder, Model};

use crate::listeners::{Log, User};
use crate::workload::{Plan, Timings};

/// The current time as trigorm's SQLite timestamp text (`YYYY-MM-DD HH:MM:SS.000000000+00:00`),
/// to the second: `CURRENT_TIMESTAMP`, which every SQLite client knows.
///
/// Milliseconds (`datetime('now', 'subsec') || '000000+00:00'`, SQLite 3.42 and later)
/// cost about 600 instructions more a row, 30M at N = 20000 (1.51 times the floor instead
/// of 1.45); `strftime('%Y-%m-%d %H:%M:%f', 'now')`, the example's, about 5,200 a row.
pub const SQLITE_NOW: &str = "CURRENT_TIMESTAMP || '.000000000+00:00'";

/// The name of the audit trigger of `op` (`insert`, `update` or `delete`) as declared;
/// the database names it `trigorm_users_<op>_audit` (and `..._<op>` per operation on
/// SQLite and MariaDB/MySQL, `..._fn` for the function on PostgreSQL).
fn declared_name(op: &str) -> String {
    format!("{op}_audit")
}

/// The audit trigger of one operation: the same `INSERT INTO log` in each backend's words.
pub fn audit(op: &'static str) -> TriggerDef {
    let (ops, id, old, new) = match op {
        "insert" => (Ops::INSERT, "NEW.id", "NULL", "NEW.name"),
        "update" => (Ops::UPDATE, "NEW.id", "OLD.name", "NEW.name"),
        _ => (Ops::DELETE, "OLD.id", "OLD.name", "NULL"),
    };
    let insert = |now: &str| {
        format!(
            "INSERT INTO log (user_id, change_type, old_name, new_name, changed_at) \
             VALUES ({id}, '{op}', {old}, {new}, {now});"
        )
    };
    let def = TriggerDef::custom(
        &declared_name(op),
        User::table(),
        Timing::After,
        ops,
        CustomBodies {
            sqlite: Some(insert(SQLITE_NOW)),
            // An AFTER row trigger's result is ignored.
            postgres: Some(format!("{} RETURN NULL;", insert("now()"))),
            mysql: Some(insert("UTC_TIMESTAMP(6)")),
        },
    );
    if ops == Ops::UPDATE {
        def.when(changed(User::NAME))
    } else {
        def
    }
}

/// The engine builder with the models and the three audit triggers, no listener.
pub fn audited(url: &str) -> EngineBuilder {
    Engine::builder(url)
        .model::<User>()
        .model::<Log>()
        .trigger(audit("insert"))
        .trigger(audit("update"))
        .trigger(audit("delete"))
}

/// Run the workload through trigorm's engine on `url` (a fresh SQLite file, a fresh
/// PostgreSQL schema or MariaDB/MySQL database with the tables in place): `create_all`
/// creates what is missing and installs the triggers (not timed), then the steps run
/// exactly as in the listeners' variant.
pub fn run(url: &str, plan: Plan) -> Result<Timings> {
    let engine = audited(url)
        .build()
        .with_context(|| format!("opening {}", crate::server::redact(url)))?;
    crate::listeners::run_on(&engine, plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::WorkDir;
    use rusqlite::Connection;

    /// The triggers are installed by `create_all` and are what writes the log: raw SQL
    /// through a plain connection is audited too, and an update leaving the name alone is
    /// not logged.
    #[test]
    fn create_all_installs_the_audit_triggers() {
        let dir = WorkDir::fresh().expect("temp dir");
        let db = dir.path().join("native.db");
        let engine = audited(&crate::sqlite_url(&db)).build().expect("engine");
        engine.create_all().expect("create_all");
        let status = engine.trigger_status().expect("status");
        assert!(status.in_sync(), "{status:?}");
        assert_eq!(status.declared.len(), 3, "{status:?}");
        drop(engine);

        let c = Connection::open(&db).expect("open");
        let mut names: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
            .expect("triggers");
        names.sort();
        assert_eq!(
            names,
            [
                "trigorm_users_delete_audit_delete",
                "trigorm_users_insert_audit_insert",
                "trigorm_users_update_audit_update"
            ]
        );
        c.execute_batch(
            "INSERT INTO users (name, email, created_at) VALUES ('a', 'a@x', '2026-01-01 00:00:00.000000000+00:00');
             UPDATE users SET email = 'b@x';
             UPDATE users SET name = 'b';
             DELETE FROM users;",
        )
        .expect("raw writes");
        let rows: Vec<(String, Option<String>, Option<String>, String)> = c
            .prepare("SELECT change_type, old_name, new_name, changed_at FROM log ORDER BY id")
            .and_then(|mut q| {
                q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect()
            })
            .expect("log");
        let kinds: Vec<(&str, Option<&str>, Option<&str>)> = rows
            .iter()
            .map(|r| (r.0.as_str(), r.1.as_deref(), r.2.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("insert", None, Some("a")),
                ("update", Some("a"), Some("b")),
                ("delete", Some("b"), None)
            ]
        );
        assert!(rows.iter().all(|r| crate::verify::is_timestamp_text(&r.3)), "{rows:?}");
    }

    /// [`SQLITE_NOW`] writes trigorm's timestamp text, the current second.
    #[test]
    fn the_sqlite_clock_text_is_trigorms() {
        let c = Connection::open_in_memory().expect("open");
        let (now, second): (String, String) = c
            .query_row(&format!("SELECT {SQLITE_NOW}, datetime('now')"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("query");
        assert!(crate::verify::is_timestamp_text(&now), "{now}");
        assert_eq!(now.len(), "2026-01-02 03:04:05.000000000+00:00".len(), "{now}");
        assert!(now.ends_with(".000000000+00:00"), "{now}");
        // The same second as SQLite's clock read in the same statement.
        assert_eq!(&now[..19], second, "{now}");
    }
}
