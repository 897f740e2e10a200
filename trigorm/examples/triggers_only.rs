//! Native triggers for an application that uses another ORM (Diesel, SeaORM, sqlx, ...):
//! no trigorm model, only the table described by hand and its triggers declared with the
//! builder, installed and checked through a URL.
//!
//! `cargo run --example triggers_only -- sqlite://shop.db` (or a `postgres://` or
//! `mysql://` URL) creates the table if missing (as the other ORM's migration would),
//! installs the triggers, and shows them at work on raw SQL: an order goes new, paid,
//! shipped; going back, changing its total and deleting it are refused. It checks all of
//! that, exiting non-zero if anything does not hold, and can run again and again. With
//! `check` after the URL it only checks the triggers, exiting non-zero on drift.

use std::process::ExitCode;

use trigorm::driver::Backend;
use trigorm::schema::{ColumnDef, ColumnType, TableDef};
use trigorm::trigger::{Ops, TriggerDef, TriggerKind};
use trigorm::{Engine, Value};

/// `orders(id, state, total)`, as the other ORM created it.
static COLUMNS: [ColumnDef; 3] = [
    ColumnDef {
        primary_key: true,
        auto_increment: true,
        ..ColumnDef::new("id", "id", ColumnType::Integer)
    },
    ColumnDef::new("state", "state", ColumnType::Text),
    ColumnDef::new("total", "total", ColumnType::Integer),
];
static ORDERS: TableDef = TableDef {
    name: "orders",
    model: "orders",
    columns: &COLUMNS,
    primary_key: 0,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("triggers_only: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "sqlite://shop.db".to_string());
    let check_only = args.next().as_deref() == Some("check");
    let edge = |a: &str, b: &str| (Value::from(a), Value::from(b));
    let engine = Engine::builder(url)
        .trigger(TriggerDef::new(
            "state_flow",
            &ORDERS,
            TriggerKind::Transitions {
                column: "state".into(),
                allowed: vec![edge("new", "paid"), edge("paid", "shipped"), edge("new", "cancelled")],
            },
        ))
        .trigger(TriggerDef::read_only("total_fixed", &ORDERS, ["total"]))
        .trigger(TriggerDef::protect("no_deletes", &ORDERS, Ops::DELETE))
        .build()?;
    if check_only {
        // Fails with `Error::TriggerDrift`, naming what differs.
        let status = engine.check_triggers()?;
        for (name, state) in &status.declared {
            println!("{name:<40} {state:?}");
        }
        return Ok(());
    }

    // What the other ORM's migration would have done.
    let create = match engine.backend() {
        Backend::Postgres => "CREATE TABLE IF NOT EXISTS orders (id BIGSERIAL PRIMARY KEY, state VARCHAR(20) NOT NULL, total INTEGER NOT NULL)",
        Backend::Mysql => "CREATE TABLE IF NOT EXISTS orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, state VARCHAR(20) NOT NULL, total INTEGER NOT NULL)",
        _ => "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, state VARCHAR(20) NOT NULL, total INTEGER NOT NULL)",
    };
    engine.with_connection(|c| {
        c.execute_batch(create).map_err(|e| trigorm::Error::Statement {
            operation: "create table",
            model: None,
            pk: None,
            sql: create.into(),
            source: Box::new(e),
        })
    })?;
    let status = engine.install_triggers()?;
    println!("installed: {:?}", status.declared);

    // The other ORM's writes, as raw SQL. A trigorm session carries them here (no model is
    // involved); any other client gets the same refusals as its own database errors.
    let mut db = engine.session()?;
    db.execute("INSERT INTO orders (state, total) VALUES ('new', 100)", &[])?;
    let rows = db.query_raw("SELECT MAX(id) FROM orders", &[])?;
    let Some(&Value::Int(id)) = rows.first().and_then(|row| row.first()) else {
        return Err(format!("the order just inserted is not there: {rows:?}").into());
    };
    db.commit()?;

    // Allowed: from new to paid.
    db.execute(&format!("UPDATE orders SET state = 'paid' WHERE id = {id}"), &[])?;
    db.commit()?;

    // Refused: going back, changing the total, deleting.
    let back = db.execute(&format!("UPDATE orders SET state = 'new' WHERE id = {id}"), &[]);
    db.rollback()?;
    refused_by("paid -> new", "trigorm_orders_state_flow", back)?;
    let total = db.execute(&format!("UPDATE orders SET total = 0 WHERE id = {id}"), &[]);
    db.rollback()?;
    refused_by("changing the total", "trigorm_orders_total_fixed", total)?;
    let delete = db.execute(&format!("DELETE FROM orders WHERE id = {id}"), &[]);
    db.rollback()?;
    refused_by("deleting the order", "trigorm_orders_no_deletes", delete)?;

    // Allowed: from paid to shipped.
    db.execute(&format!("UPDATE orders SET state = 'shipped' WHERE id = {id}"), &[])?;
    db.commit()?;

    // The order as the rules left it.
    let order = db.query_raw(&format!("SELECT state, total FROM orders WHERE id = {id}"), &[])?;
    let expected = vec![vec![Value::from("shipped"), Value::Int(100)]];
    if order != expected {
        return Err(format!("order {id}: expected {expected:?}, found {order:?}").into());
    }
    println!("order {id}: new -> paid -> shipped, total 100, still there");
    Ok(())
}

/// Check that `result` is a refusal by the managed trigger `trigger` (its name in the
/// database, to which SQLite and MariaDB add the operation: `trigorm_orders_no_deletes_delete`),
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
