//! The seed's tables kept honest by the database itself, whoever writes: `log` is
//! append-only, `users.created_at` never changes, and every insert, update and delete of
//! `users` writes its `log` row — three native triggers, declared here (the first two on
//! the models, the audit with the builder, its bodies made at run time) and installed by
//! `create_all` on SQLite, PostgreSQL or MariaDB/MySQL.
//!
//! `cargo run --example native_guard -- sqlite://guard.db` (or a `postgres://` or
//! `mysql://` URL) creates the tables if missing, installs the triggers, and shows them at
//! work through raw SQL; it can run again and again. With `check` after the URL it installs
//! nothing, prints each managed trigger's status, and exits non-zero on any drift.

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
            eprintln!("the database's triggers differ from their declarations");
            std::process::exit(1);
        }
        return Ok(());
    }

    engine.create_all()?;
    println!("triggers installed: {:?}", engine.trigger_status()?.declared);

    // Raw SQL, as any other program would write: the database writes the log rows.
    let mut s = engine.session()?;
    let before = s.query::<Log>().count()?;
    s.execute(
        "INSERT INTO users (name, created_at) VALUES ('Ada', '2024-01-01 00:00:00')",
        &[],
    )?;
    s.commit()?;
    let ada = s
        .query::<User>()
        .order_by(User::ID.desc())
        .first()?
        .ok_or("the user just inserted")?;
    let mut renamed = ada.clone();
    renamed.name = "Ada L.".into();
    s.update(&renamed)?;
    s.commit()?;
    println!(
        "log rows written by the database: {}",
        s.query::<Log>().count()? - before
    );

    // What the triggers refuse, whoever asks.
    let refused = s.execute("UPDATE log SET new_name = 'forged'", &[]).unwrap_err();
    s.rollback()?;
    println!(
        "UPDATE log: refused by {:?}",
        refused.trigger_refusal().map(|r| r.trigger)
    );
    let mut moved = renamed.clone();
    moved.created_at = Utc::now();
    s.update(&moved)?;
    let refused = s.commit().unwrap_err();
    s.rollback()?;
    println!(
        "changing created_at: refused by {:?}",
        refused.trigger_refusal().map(|r| r.trigger)
    );
    Ok(())
}
