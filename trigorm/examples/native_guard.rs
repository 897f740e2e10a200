//! The seed's tables kept honest by the database itself, whoever writes: `log` is
//! append-only, `users.created_at` never changes, and every insert, update and delete of
//! `users` writes its `log` row — three native triggers, declared here (the first two on
//! the models, the audit with the builder, its bodies made at run time) and installed by
//! `create_all` on SQLite, PostgreSQL or MariaDB/MySQL.
//!
//! `cargo run --example native_guard -- sqlite://guard.db` (or a `postgres://` or
//! `mysql://` URL) creates the tables if missing, installs the triggers, and shows them at
//! work: a user inserted, renamed and deleted leaves its three `log` rows, and the writes the
//! triggers forbid are refused. It checks all of that, exiting non-zero if anything does not
//! hold, and can run again and again. With `check` after the URL it installs nothing,
//! prints each managed trigger's status, and exits non-zero on any drift.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use trigorm::trigger::{CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Engine, Model};

#[derive(Model, Clone, Debug)]
#[trigorm(table = "users", read_only(name = "created_at_fixed", columns(created_at)))]
struct User {
    id: i64,
    name: String,
    created_at: DateTime<Utc>,
}

#[derive(Model, Clone, Debug)]
#[trigorm(table = "log", protect(name = "append_only", update, delete))]
struct Log {
    id: i64,
    user_id: i64,
    change_type: String,
    old_name: Option<String>,
    new_name: Option<String>,
    changed_at: DateTime<Utc>,
}

/// The audit trigger of one operation: the same `INSERT INTO log` in each backend's words.
fn audit(op: &str, ops: Ops) -> TriggerDef {
    let (id, old, new) = match op {
        "insert" => ("NEW.id", "NULL", "NEW.name"),
        "update" => ("NEW.id", "OLD.name", "NEW.name"),
        _ => ("OLD.id", "OLD.name", "NULL"),
    };
    let insert = |now: &str| {
        format!(
            "INSERT INTO log (user_id, change_type, old_name, new_name, changed_at) \
             VALUES ({id}, '{op}', {old}, {new}, {now});"
        )
    };
    TriggerDef::custom(
        &format!("{op}_audit"),
        User::table(),
        Timing::After,
        ops,
        CustomBodies {
            // trigorm's timestamp text, at the milliseconds SQLite's clock gives.
            sqlite: Some(insert("strftime('%Y-%m-%d %H:%M:%f', 'now') || '000000+00:00'")),
            postgres: Some(format!("{} RETURN NULL;", insert("now()"))),
            mysql: Some(insert("UTC_TIMESTAMP(6)")),
        },
    )
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("native_guard: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "sqlite://guard.db".to_string());
    let check_only = args.next().as_deref() == Some("check");
    let engine = Engine::builder(url)
        .model::<User>()
        .model::<Log>()
        .trigger(audit("insert", Ops::INSERT))
        .trigger(audit("update", Ops::UPDATE))
        .trigger(audit("delete", Ops::DELETE))
        .build()?;

    if check_only {
        let status = engine.trigger_status()?;
        for (name, state) in &status.declared {
            println!("{name:<40} {state:?}");
        }
        for (table, name) in &status.orphaned {
            println!("{name:<40} orphaned (on {table})");
        }
        for name in &status.orphaned_functions {
            println!("{name:<40} orphaned function");
        }
        if !status.in_sync() {
            return Err("the database's triggers differ from their declarations".into());
        }
        return Ok(());
    }

    engine.create_all()?;
    println!("triggers installed: {:?}", engine.trigger_status()?.declared);

    // The log as it was: earlier runs left their rows (and SQLite may give Ada again the
    // id of a user deleted before).
    let mut s = engine.session()?;
    let last_before = s
        .query::<Log>()
        .order_by(Log::ID.desc())
        .first()?
        .map_or(0, |row| row.id);

    // Raw SQL, as any other program would write: the database writes the log row.
    s.execute(
        "INSERT INTO users (name, created_at) VALUES ('Ada', '2024-01-01 00:00:00')",
        &[],
    )?;
    s.commit()?;
    let ada = s
        .query::<User>()
        .order_by(User::ID.desc())
        .first()?
        .ok_or("the user just inserted is not there")?;

    // Through trigorm, as the application writes: the database writes this log row too.
    let mut renamed = ada.clone();
    renamed.name = "Ada L.".into();
    s.update(&renamed)?;
    s.commit()?;

    // `created_at` is read-only, whoever asks.
    let mut moved = renamed.clone();
    moved.created_at = Utc::now();
    s.update(&moved)?;
    let changing_created_at = s.commit();
    s.rollback()?;
    refused_by(
        "changing users.created_at",
        "trigorm_users_created_at_fixed",
        changing_created_at,
    )?;

    // Raw SQL again (with the key written into it: placeholders differ between backends):
    // the delete is logged as well.
    s.execute(&format!("DELETE FROM users WHERE id = {}", ada.id), &[])?;
    s.commit()?;

    // The log is append-only: its rows can be neither changed nor removed.
    let forging = s.execute(
        &format!("UPDATE log SET new_name = 'forged' WHERE id > {last_before}"),
        &[],
    );
    s.rollback()?;
    refused_by("UPDATE log", "trigorm_log_append_only", forging)?;
    let erasing = s.execute(&format!("DELETE FROM log WHERE id > {last_before}"), &[]);
    s.rollback()?;
    refused_by("DELETE FROM log", "trigorm_log_append_only", erasing)?;

    // What the database logged in this run, untouched by the refused writes.
    let logged: Vec<(i64, String, Option<String>, Option<String>)> = s
        .query::<Log>()
        .filter(Log::ID.gt(last_before))
        .order_by(Log::ID.asc())
        .all()?
        .into_iter()
        .map(|row| (row.user_id, row.change_type, row.old_name, row.new_name))
        .collect();
    let name = |n: &str| Some(n.to_string());
    let expected = vec![
        (ada.id, "insert".to_string(), None, name("Ada")),
        (ada.id, "update".to_string(), name("Ada"), name("Ada L.")),
        (ada.id, "delete".to_string(), name("Ada L."), None),
    ];
    if logged != expected {
        return Err(format!("the log rows of this run: expected {expected:?}, found {logged:?}").into());
    }
    println!("log rows the database wrote: {logged:?}");
    Ok(())
}

/// Check that `result` is a refusal by the managed trigger `trigger` (its name in the
/// database, to which SQLite and MariaDB add the operation: `trigorm_log_append_only_update`),
/// and say so.
fn refused_by<T>(what: &str, trigger: &str, result: trigorm::Result<T>) -> Result<(), String> {
    let err = match result {
        Ok(_) => return Err(format!("{what}: accepted, but {trigger} should refuse it")),
        Err(err) => err,
    };
    match err.trigger_refusal() {
        Some(refusal) if refusal.trigger.starts_with(trigger) => {
            println!(
                "{what}: refused by {} on {}: {}",
                refusal.trigger, refusal.table, refusal.reason
            );
            Ok(())
        }
        Some(refusal) => Err(format!("{what}: refused by {} instead of {trigger}", refusal.trigger)),
        None => Err(format!("{what}: failed, but not refused by a trigger: {err}")),
    }
}
