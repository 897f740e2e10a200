//! Native triggers for an application that uses another ORM (Diesel, SeaORM, sqlx, ...):
//! no trigorm model, only the table described by hand and its triggers declared with the
//! builder, installed and checked through a URL.
//!
//! `cargo run --example triggers_only -- sqlite://shop.db` (or a `postgres://` or
//! `mysql://` URL) installs them; with `check` after the URL it only checks, exiting
//! non-zero on drift.

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
        let status = engine.check_triggers()?;
        println!("in sync: {:?}", status.declared);
        return Ok(());
    }
    // What the other ORM's migration would have done.
    engine.with_connection(|c| {
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, state VARCHAR(20) NOT NULL, total INTEGER NOT NULL)",
        )
        .map_err(|e| trigorm::Error::Statement {
            operation: "create table",
            model: None,
            pk: None,
            sql: "CREATE TABLE orders".into(),
            source: Box::new(e),
        })
    })?;
    let status = engine.install_triggers()?;
    println!("installed: {:?}", status.declared);
    Ok(())
}
