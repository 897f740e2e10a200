//! Statement-level triggers: declared with `for_each_statement` (or `each_statement` on
//! the model), they fire once per statement on PostgreSQL, even for a statement that
//! writes no row; SQLite and MariaDB fire triggers for each row only, so an engine there
//! refuses the declaration with a typed error naming the backend, before any SQL runs.
mod common;
use common::*;

use trigorm::trigger::{new, CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Engine, Error, Model, Value};

/// A batch whose every INSERT statement is counted once, by a statement-level trigger.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "stmt_batch",
    custom(
        name = "count",
        after,
        insert,
        each_statement,
        postgres = "INSERT INTO stmt_fired (name) VALUES ('count'); RETURN NULL;"
    )
)]
struct Batch {
    id: i64,
    label: String,
}

/// What the triggers write: one row per firing.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "stmt_fired")]
struct Fired {
    id: i64,
    name: String,
}

fn fired(engine: &Engine) -> Vec<String> {
    let mut s = engine.session().unwrap();
    let mut rows = s.query::<Fired>().all().unwrap();
    rows.sort_by_key(|f| f.id);
    rows.into_iter().map(|f| f.name).collect()
}

/// Whether the table `stmt_batch` exists.
fn batch_table_exists(engine: &Engine, db: &Db) -> bool {
    let sql = if db.is_postgres() {
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'stmt_batch'"
    } else if db.is_mariadb() {
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'stmt_batch'"
    } else {
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'stmt_batch'"
    };
    let mut s = engine.session().unwrap();
    rows(&mut s, sql)[0][0] != Value::Int(0)
}

on_each_db!(
    a_statement_level_trigger_fires_once_per_statement_or_is_refused,
    |db: Db| {
        let built = Engine::builder(&db.url).model::<Fired>().model::<Batch>().build();
        if !db.is_postgres() {
            let Err(err) = built else {
                panic!("refused where triggers fire for each row only")
            };
            let backend = if db.is_mariadb() { "MariaDB/MySQL" } else { "SQLite" };
            assert!(
                matches!(&err, Error::Unsupported { backend: b, feature }
                if *b == backend && feature.contains("\"count\"") && feature.contains("stmt_batch")),
                "{err:?}"
            );
            let probe = Engine::builder(&db.url).model::<Fired>().build().unwrap();
            probe.create_all().unwrap();
            assert!(!batch_table_exists(&probe, &db), "refused before any SQL");
            return;
        }
        let engine = built.unwrap();
        engine.create_all().unwrap();
        assert!(engine.trigger_status().unwrap().in_sync());
        let mut s = engine.session().unwrap();
        s.execute("INSERT INTO stmt_batch (label) VALUES ('a'), ('b'), ('c')", &[])
            .unwrap();
        s.execute("INSERT INTO stmt_batch (label) SELECT 'none' WHERE false", &[])
            .unwrap();
        s.commit().unwrap();
        assert_eq!(fired(&engine), ["count", "count"], "once for three rows, once for none");
    }
);

on_each_db!(
    a_statement_level_protect_refuses_even_a_statement_that_writes_no_row,
    |db: Db| {
        let frozen = TriggerDef::protect("frozen", Fired::table(), Ops::UPDATE | Ops::DELETE).for_each_statement();
        let built = Engine::builder(&db.url).model::<Fired>().trigger(frozen).build();
        if !db.is_postgres() {
            assert!(matches!(built, Err(Error::Unsupported { .. })), "{:?}", built.err());
            return;
        }
        let engine = built.unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let err = s.execute("DELETE FROM stmt_fired WHERE id = -1", &[]).unwrap_err();
        let refusal = err.trigger_refusal().expect("a typed refusal");
        assert_eq!(
            (refusal.trigger.as_str(), refusal.table.as_str()),
            ("trigorm_stmt_fired_frozen", "stmt_fired")
        );
        s.rollback().unwrap();
        s.execute("INSERT INTO stmt_fired (name) VALUES ('kept')", &[]).unwrap();
        s.commit().unwrap();
        assert_eq!(fired(&engine), ["kept"]);
    }
);

/// What no backend can do once per statement is refused at declaration, naming the
/// trigger and the part.
#[test]
fn a_statement_level_declaration_that_needs_rows_is_refused() {
    let t = Batch::table();
    let body = CustomBodies {
        postgres: Some("RETURN NULL;".into()),
        ..Default::default()
    };
    let cases = [
        (
            TriggerDef::protect("p", t, Ops::DELETE)
                .when(new(Batch::LABEL).eq("x"))
                .for_each_statement(),
            "no OLD or NEW",
        ),
        (
            TriggerDef::read_only("r", t, [Batch::LABEL.name()]).for_each_statement(),
            "only Protect and Custom",
        ),
        (
            TriggerDef::custom("i", t, Timing::InsteadOf, Ops::INSERT, body).for_each_statement(),
            "INSTEAD OF",
        ),
    ];
    for (def, part) in cases {
        let err = def.validate().unwrap_err();
        assert!(
            matches!(&err, Error::InvalidTrigger { model: "Batch", trigger, reason }
                if *trigger == def.name && reason.contains(part)),
            "{err:?}"
        );
    }
}
