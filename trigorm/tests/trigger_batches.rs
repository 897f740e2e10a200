//! A flush of many rows to a table with native triggers. PostgreSQL and MariaDB send
//! every run of rows in statements of many; SQLite does so for a table with triggers
//! (each statement that fires a trigger writing another table copies the pages it touches
//! into a statement journal: one journal per statement, not one per row). What a user
//! relies on is the same everywhere: each row gets its own key, the trigger fires once per
//! row with that row's values, a refusal of one row fails the flush with a typed error and
//! leaves nothing behind, a row that vanished is not found, and the events fire per row
//! in staging order, `Before*` of the run, its statement, then `After*`.
mod common;
use common::*;

use trigorm::event::{AfterDelete, AfterInsert, AfterUpdate, BeforeDelete, BeforeInsert, BeforeUpdate};
use trigorm::trigger::new;
use trigorm::{Engine, EngineBuilder, Error, Model, Value};

/// An item whose every change a native trigger records in `item_audit`, and whose code
/// never changes.
// Clippy's `duplicated_attributes` takes the repeated `after` of the three custom
// triggers for a repeated attribute (rust-clippy#13238).
#[allow(clippy::duplicated_attributes)]
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "item",
    read_only(name = "fixed_code", columns(code)),
    custom(
        name = "ins_audit",
        after,
        insert,
        sqlite = "INSERT INTO item_audit (item_id, op, name) VALUES (NEW.id, 'insert', NEW.name);",
        postgres = "INSERT INTO item_audit (item_id, op, name) VALUES (NEW.id, 'insert', NEW.name); RETURN NULL;",
        mysql = "INSERT INTO item_audit (item_id, op, name) VALUES (NEW.id, 'insert', NEW.name);"
    ),
    custom(
        name = "upd_audit",
        after,
        update,
        sqlite = "INSERT INTO item_audit (item_id, op, name) VALUES (NEW.id, 'update', NEW.name);",
        postgres = "INSERT INTO item_audit (item_id, op, name) VALUES (NEW.id, 'update', NEW.name); RETURN NULL;",
        mysql = "INSERT INTO item_audit (item_id, op, name) VALUES (NEW.id, 'update', NEW.name);"
    ),
    custom(
        name = "del_audit",
        after,
        delete,
        sqlite = "INSERT INTO item_audit (item_id, op, name) VALUES (OLD.id, 'delete', OLD.name);",
        postgres = "INSERT INTO item_audit (item_id, op, name) VALUES (OLD.id, 'delete', OLD.name); RETURN NULL;",
        mysql = "INSERT INTO item_audit (item_id, op, name) VALUES (OLD.id, 'delete', OLD.name);"
    )
)]
struct Item {
    id: i64,
    code: String,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "item_audit")]
struct ItemAudit {
    id: i64,
    item_id: i64,
    op: String,
    name: String,
}

fn item(code: &str) -> Item {
    Item {
        id: 0,
        code: code.into(),
        name: format!("name of {code}"),
    }
}

/// The engine, with every event of `Item` traced, and the statements it sends.
fn engine(db: &Db, trace: &Trace, statements: &StatementLog) -> Engine {
    let mut b: EngineBuilder = statements.attach(Engine::builder(&db.url).model::<ItemAudit>().model::<Item>());
    macro_rules! traced {
        ($($event:ident),*) => {$(
            let t = trace.clone();
            b = b.listen::<Item>($event, move |_ctx, c| {
                let row = c.new().or(c.old()).map_or_else(String::new, |i| i.code.clone());
                t.push(format!("{} {row}", stringify!($event)));
                Ok(())
            });
        )*};
    }
    traced!(
        BeforeInsert,
        AfterInsert,
        BeforeUpdate,
        AfterUpdate,
        BeforeDelete,
        AfterDelete
    );
    let engine = b.build().unwrap();
    engine.create_all().unwrap();
    engine
}

/// `(item_id, op, name)` of every audit row, in order.
fn audit(engine: &Engine) -> Vec<(i64, String, String)> {
    let mut s = engine.session().unwrap();
    let mut rows = s.query::<ItemAudit>().all().unwrap();
    rows.sort_by_key(|a| a.id);
    rows.into_iter().map(|a| (a.item_id, a.op, a.name)).collect()
}

fn items(engine: &Engine) -> Vec<Item> {
    let mut s = engine.session().unwrap();
    let mut rows = s.query::<Item>().all().unwrap();
    rows.sort_by_key(|i| i.id);
    rows
}

/// Whether `writes` (first words) are `op` statements, fewer than `rows`: statements of
/// many rows (in a few sizes where the SQL has a placeholder per value: 6 rows go as 4
/// and 2).
fn batched(writes: &[String], op: &str, rows: usize) -> bool {
    !writes.is_empty() && writes.len() < rows && writes.iter().all(|w| w == op)
}

/// The statements that wrote `item`, by their first word.
fn item_writes(statements: &StatementLog) -> Vec<String> {
    statements
        .take()
        .into_iter()
        .filter(|sql| {
            let head: String = sql.chars().take(40).collect();
            sql.starts_with("INSERT INTO \"item\"")
                || sql.starts_with("INSERT INTO `item`")
                || head.contains("\"item\" SET")
                || head.starts_with("UPDATE `item`")
                || sql.starts_with("DELETE FROM \"item\"")
                || sql.starts_with("DELETE FROM `item`")
        })
        .map(|sql| sql.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

on_each_db!(a_run_of_rows_keeps_its_keys_and_fires_the_trigger_per_row, |db: Db| {
    let (trace, statements) = (Trace::default(), StatementLog::default());
    let engine = engine(&db, &trace, &statements);
    statements.take();

    // Six inserts in one flush: statements of many rows, each row with its own key, in
    // order.
    let mut s = engine.session().unwrap();
    let pending: Vec<_> = (0..6).map(|k| s.add(item(&format!("c{k}")))).collect();
    s.commit().unwrap();
    let writes = item_writes(&statements);
    assert!(batched(&writes, "INSERT", 6), "{writes:?}");
    let written: Vec<Item> = pending.iter().map(|p| p.get().expect("flushed")).collect();
    assert_eq!(
        written,
        items(&engine),
        "each pending row is the row stored under its key"
    );
    let keys: Vec<i64> = written.iter().map(|i| i.id).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys in staging order: {keys:?}");
    let expected: Vec<(i64, String, String)> = written
        .iter()
        .map(|i| (i.id, "insert".to_string(), i.name.clone()))
        .collect();
    assert_eq!(
        audit(&engine),
        expected,
        "the trigger saw each row's own key and values"
    );
    let fired: Vec<String> = ["BeforeInsert", "AfterInsert"]
        .iter()
        .flat_map(|e| written.iter().map(move |i| format!("{e} {}", i.code)))
        .collect();
    assert_eq!(trace.take(), fired);

    // Four updates, then three deletes, each run in statements of many rows.
    let mut s = engine.session().unwrap();
    for mut i in written[..4].iter().cloned() {
        i.name.push_str(" v2");
        s.update(i).unwrap();
    }
    s.commit().unwrap();
    let writes = item_writes(&statements);
    assert!(batched(&writes, "UPDATE", 4), "{writes:?}");
    for i in &written[3..] {
        s.delete(i).unwrap();
    }
    s.commit().unwrap();
    let writes = item_writes(&statements);
    assert!(batched(&writes, "DELETE", 3), "{writes:?}");
    let after: Vec<(i64, String, String)> = audit(&engine).split_off(6);
    let mut expected: Vec<(i64, String, String)> = written[..4]
        .iter()
        .map(|i| (i.id, "update".to_string(), format!("{} v2", i.name)))
        .collect();
    expected.extend(written[3..].iter().map(|i| {
        let name = if i.id == written[3].id {
            format!("{} v2", i.name)
        } else {
            i.name.clone()
        };
        (i.id, "delete".to_string(), name)
    }));
    assert_eq!(after, expected);
    assert_eq!(items(&engine).len(), 3);
});

on_each_db!(a_refused_row_fails_its_whole_run_with_a_typed_error, |db: Db| {
    let (trace, statements) = (Trace::default(), StatementLog::default());
    let engine = engine(&db, &trace, &statements);
    let mut s = engine.session().unwrap();
    for k in 0..4 {
        s.add(item(&format!("c{k}")));
    }
    s.commit().unwrap();
    let before = (items(&engine), audit(&engine));

    let mut s = engine.session().unwrap();
    for (k, mut i) in items(&engine).into_iter().enumerate() {
        i.name = format!("renamed {k}");
        if k == 2 {
            i.code = "changed".into();
        }
        s.update(i).unwrap();
    }
    let err = s.commit().unwrap_err();
    let refusal = err
        .trigger_refusal()
        .unwrap_or_else(|| panic!("a typed refusal: {err:?}"));
    assert!(refusal.trigger.starts_with("trigorm_item_fixed_code"), "{refusal:?}");
    assert_eq!(refusal.table, "item");
    s.rollback().unwrap();
    assert_eq!((items(&engine), audit(&engine)), before, "nothing of the run stays");
});

on_each_db!(
    a_row_that_vanished_is_not_found_and_the_rest_is_not_written,
    |db: Db| {
        let (trace, statements) = (Trace::default(), StatementLog::default());
        let engine = engine(&db, &trace, &statements);
        let mut s = engine.session().unwrap();
        for k in 0..3 {
            s.add(item(&format!("c{k}")));
        }
        s.commit().unwrap();
        let loaded = items(&engine);

        // Another session deletes the middle row.
        let mut other = engine.session().unwrap();
        other
            .execute(&db.sql("DELETE FROM item WHERE id = ?"), &[Value::Int(loaded[1].id)])
            .unwrap();
        other.commit().unwrap();

        let mut s = engine.session().unwrap();
        for mut i in loaded.clone() {
            i.name = "renamed".into();
            s.update(i).unwrap();
        }
        let err = s.commit().unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { model: "Item", pk } if *pk == loaded[1].id.to_string()),
            "{err:?}"
        );
        s.rollback().unwrap();
        let names: Vec<String> = items(&engine).into_iter().map(|i| i.name).collect();
        assert_eq!(names, [loaded[0].name.clone(), loaded[2].name.clone()]);
    }
);

/// A gauge whose update to a negative level a BEFORE trigger skips (SQLite's
/// `RAISE(IGNORE)`, PostgreSQL's `RETURN NULL`; MariaDB cannot skip a row).
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "gauge",
    custom(
        name = "skip_negative",
        before,
        update,
        when = new(Self::LEVEL).lt(0),
        sqlite = "SELECT RAISE(IGNORE);",
        postgres = "RETURN NULL;"
    )
)]
struct Gauge {
    id: i64,
    level: i64,
}

on_each_db!(a_row_a_before_trigger_skips_is_not_found_alone_or_in_a_run, |db: Db| {
    let built = Engine::builder(&db.url).model::<Gauge>().build();
    if db.is_mariadb() {
        let Err(err) = built else {
            panic!("no body for MariaDB: refused at build")
        };
        assert!(matches!(err, Error::InvalidTrigger { model: "Gauge", .. }), "{err:?}");
        return;
    }
    let engine = built.unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for _ in 0..3 {
        s.add(Gauge { id: 0, level: 1 });
    }
    s.commit().unwrap();
    let mut rows = s.query::<Gauge>().all().unwrap();
    rows.sort_by_key(|g| g.id);
    s.commit().unwrap();

    // Alone: the statement changed nothing, so the row is not found.
    let mut s = engine.session().unwrap();
    s.update(Gauge {
        level: -1,
        ..rows[0].clone()
    })
    .unwrap();
    let err = s.commit().unwrap_err();
    assert!(matches!(&err, Error::NotFound { model: "Gauge", .. }), "{err:?}");
    s.rollback().unwrap();

    // In a run of rows (statements of many rows): the same.
    let mut s = engine.session().unwrap();
    for (k, g) in rows.iter().enumerate() {
        let level = if k == 1 { -1 } else { 5 };
        s.update(Gauge { level, ..g.clone() }).unwrap();
    }
    let err = s.commit().unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { model: "Gauge", pk } if *pk == rows[1].id.to_string()),
        "{err:?}"
    );
    s.rollback().unwrap();
    let mut s = engine.session().unwrap();
    let levels: Vec<i64> = s.query::<Gauge>().all().unwrap().iter().map(|g| g.level).collect();
    assert_eq!(levels, [1, 1, 1], "nothing of the failed flush stays");
});

/// A link of a chain: changing one deletes the next (SQLite fires a row's AFTER trigger
/// before the statement goes on to the next row).
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "chain",
    custom(
        name = "cut_next",
        after,
        update,
        sqlite = "DELETE FROM chain WHERE id = NEW.id + 1;"
    )
)]
struct Chain {
    id: i64,
    name: String,
}

on_sqlite!(a_row_an_earlier_rows_trigger_deleted_is_not_found_in_a_run, |db: Db| {
    let statements = StatementLog::default();
    let engine = statements
        .attach(Engine::builder(&db.url).model::<Chain>())
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for k in 1..=3 {
        s.add(Chain {
            id: k,
            name: format!("link {k}"),
        });
    }
    s.commit().unwrap();
    let links = s.query::<Chain>().all().unwrap();
    s.commit().unwrap();
    statements.take();

    // Links 1 and 2 in one statement: link 1's trigger deletes link 2 before its turn, so
    // the statement changes one row, and link 2 is not found (as row by row).
    for l in &links[..2] {
        s.update(Chain {
            name: "renamed".into(),
            ..l.clone()
        })
        .unwrap();
    }
    let err = s.commit().unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { model: "Chain", pk } if pk == "2"),
        "{err:?}"
    );
    let sent = statements.take();
    assert!(
        sent.iter()
            .any(|sql| sql.starts_with(r#"UPDATE "chain" SET "name" = "~v"."column1""#)),
        "one statement of many rows: {sent:#?}"
    );
    s.rollback().unwrap();
});

on_sqlite!(keys_picked_past_the_largest_integer_go_to_their_own_rows, |db: Db| {
    let (trace, statements) = (Trace::default(), StatementLog::default());
    let engine = engine(&db, &trace, &statements);
    let mut s = engine.session().unwrap();
    s.add(Item {
        id: i64::MAX,
        ..item("last")
    });
    s.commit().unwrap();

    // With the largest integer taken, SQLite picks each new key at random: a run of rows
    // to this table (it has triggers) still gets each row its own key.
    let pending: Vec<_> = (0..8).map(|k| s.add(item(&format!("c{k}")))).collect();
    s.commit().unwrap();
    let stored = items(&engine);
    assert_eq!(stored.len(), 9);
    for p in &pending {
        let written = p.get().expect("flushed");
        assert!(
            stored.contains(&written),
            "{written:?} is the row stored under its key: {stored:?}"
        );
    }
    let mut audited: Vec<(i64, String)> = audit(&engine).into_iter().map(|(id, _, name)| (id, name)).collect();
    let mut expected: Vec<(i64, String)> = stored.iter().map(|i| (i.id, i.name.clone())).collect();
    audited.sort();
    expected.sort();
    assert_eq!(audited, expected, "the trigger saw each row's own key");
});
