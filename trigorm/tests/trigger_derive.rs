//! Native triggers declared on the model with `#[derive(Model)]` attributes, on every
//! backend: `create_all` installs them, `check_triggers` finds them in sync, and each
//! kind does what it says through the ORM and raw SQL. What a declaration gets wrong is
//! refused when the engine is built, before any SQL runs.
mod common;
use common::*;

use chrono::{DateTime, Utc};
use trigorm::error::DbErrorKind;
use trigorm::trigger::{changed, new, Ops, TriggerDef, TriggerKind};
use trigorm::{Engine, Error, Field, Model, Value};

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "snake_case")]
enum Stage {
    Draft,
    Sent,
    Paid,
    Void,
}

/// An invoice: never deleted, its number and creation time fixed, its stage moving only
/// forward, stamped and versioned on every update, and big amounts raising an alert.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "invoice",
    protect(name = "keep", delete),
    read_only(name = "fixed", columns(number, created_at)),
    transitions(name = "flow", column = stage, allow(Draft -> Sent, Sent -> Paid, Draft -> Void, Sent -> Void)),
    updated_at(name = "stamp", column = touched_at),
    version(name = "bump", column = rev),
    custom(
        name = "big",
        after,
        update,
        when = changed(Self::AMOUNT).and(new(Self::AMOUNT).gt(1000)),
        sqlite = "INSERT INTO alert (invoice_id, amount) VALUES (NEW.id, NEW.amount);",
        postgres = "INSERT INTO alert (invoice_id, amount) VALUES (NEW.id, NEW.amount); RETURN NULL;",
        mysql = "INSERT INTO alert (invoice_id, amount) VALUES (NEW.id, NEW.amount);"
    )
)]
struct Invoice {
    id: i64,
    number: String,
    stage: Stage,
    amount: i64,
    created_at: DateTime<Utc>,
    touched_at: DateTime<Utc>,
    #[trigorm(version)]
    rev: i64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "alert")]
struct Alert {
    id: i64,
    invoice_id: i64,
    amount: i64,
}

/// A note: deleting one marks it.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "note", soft_delete(column = deleted, value = true))]
struct Note {
    id: i64,
    text: String,
    deleted: bool,
}

fn invoice(number: &str, amount: i64) -> Invoice {
    Invoice {
        id: 0,
        number: number.into(),
        stage: Stage::Draft,
        amount,
        created_at: t0(),
        touched_at: t0(),
        rev: 0,
    }
}

fn engine(db: &Db) -> Engine {
    let e = Engine::builder(&db.url)
        .model::<Alert>()
        .model::<Invoice>()
        .build()
        .unwrap();
    e.create_all().unwrap();
    e
}

fn refused(r: trigorm::Result<impl std::fmt::Debug>, trigger: &str, what: &str) {
    let err = r.expect_err(what);
    assert_eq!(err.db_kind(), Some(DbErrorKind::TriggerRefused), "{what}: {err:?}");
    let refusal = err.trigger_refusal().unwrap_or_else(|| panic!("{what}: {err}"));
    assert!(
        refusal.trigger.starts_with(&format!("trigorm_invoice_{trigger}")) && refusal.table == "invoice",
        "{what}: {refusal:?}"
    );
}

on_each_db!(create_all_installs_the_declared_triggers_in_sync, |db: Db| {
    let e = engine(&db);
    let status = e.check_triggers().unwrap();
    let mut names: Vec<String> = status.declared.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        ["big", "bump", "fixed", "flow", "keep", "stamp"].map(|n| format!("trigorm_invoice_{n}")),
    );
    // Building and creating again changes nothing.
    let again = engine(&db);
    assert!(again.check_triggers().unwrap().in_sync());
});

on_each_db!(derived_triggers_enforce_their_rules, |db: Db| {
    let e = engine(&db);
    let mut s = e.session().unwrap();
    let mut inv = s.insert(invoice("A-1", 10)).unwrap();
    s.commit().unwrap();

    // Stage moves along the declared edges only; staying put is allowed.
    inv.stage = Stage::Paid;
    s.update(&inv).unwrap();
    refused(s.commit(), "flow", "Draft -> Paid is no edge");
    s.rollback().unwrap();
    let mut inv = s.get::<Invoice>(inv.id).unwrap().unwrap();
    inv.stage = Stage::Sent;
    s.update(&inv).unwrap();
    s.commit().unwrap();
    let raw = db.sql("UPDATE invoice SET stage = ? WHERE id = ?");
    let r = s.execute(&raw, &[Value::Text("draft".into()), Value::Int(inv.id)]);
    refused(r, "flow", "Sent -> Draft by raw SQL");
    s.rollback().unwrap();

    // Number and creation time are read-only; other columns change.
    let mut inv = s.get::<Invoice>(inv.id).unwrap().unwrap();
    assert_eq!(
        inv.rev, 1,
        "the ORM's update moved the version once (the trigger left it)"
    );
    assert!(inv.touched_at > t0(), "stamped: {:?}", inv.touched_at);
    inv.number = "A-2".into();
    s.update(&inv).unwrap();
    refused(s.commit(), "fixed", "the number is read-only");
    s.rollback().unwrap();

    // Delete is refused, through the ORM and raw SQL.
    let inv = s.get::<Invoice>(inv.id).unwrap().unwrap();
    s.delete(&inv).unwrap();
    refused(s.commit(), "keep", "delete");
    s.rollback().unwrap();
    let r = s.execute(&db.sql("DELETE FROM invoice WHERE id = ?"), &[Value::Int(inv.id)]);
    refused(r, "keep", "raw delete");
    s.rollback().unwrap();

    // A raw update bumps the version, so the ORM's copy read before it is stale.
    let stale = s.get::<Invoice>(inv.id).unwrap().unwrap();
    s.commit().unwrap();
    let n = s
        .execute(
            &db.sql("UPDATE invoice SET amount = ? WHERE id = ?"),
            &[Value::Int(20), Value::Int(inv.id)],
        )
        .unwrap();
    assert_eq!(n, 1);
    s.commit().unwrap();
    let mut s = e.session().unwrap();
    let now = s.get::<Invoice>(inv.id).unwrap().unwrap();
    assert_eq!(now.rev, stale.rev + 1, "a raw update bumped the version");
    let mut late = stale.clone();
    late.amount = 30;
    s.update(&late).unwrap();
    let err = s.commit().unwrap_err();
    assert!(matches!(err, Error::Conflict { model: "Invoice", .. }), "{err:?}");
    s.rollback().unwrap();
});

on_each_db!(
    a_derived_conditional_trigger_fires_exactly_when_its_condition_holds,
    |db: Db| {
        let e = engine(&db);
        let mut s = e.session().unwrap();
        let inv = s.insert(invoice("B-1", 5000)).unwrap();
        s.commit().unwrap();
        let set = |s: &mut trigorm::Session, sql: &str| {
            s.execute(&db.sql(sql), &[Value::Int(inv.id)]).unwrap();
            s.commit().unwrap();
        };
        set(&mut s, "UPDATE invoice SET amount = 5000 WHERE id = ?"); // unchanged: no alert
        set(&mut s, "UPDATE invoice SET amount = 900 WHERE id = ?"); // changed, small: none
        set(&mut s, "UPDATE invoice SET amount = 1001 WHERE id = ?"); // changed, big: one
        set(&mut s, "UPDATE invoice SET stage = 'sent' WHERE id = ?"); // amount unchanged: none
        set(&mut s, "UPDATE invoice SET amount = 1000 WHERE id = ?"); // changed, not > 1000: none
        set(&mut s, "UPDATE invoice SET amount = 7000 WHERE id = ?"); // one more
        let alerts: Vec<i64> = s
            .query::<Alert>()
            .all()
            .unwrap()
            .into_iter()
            .map(|a| a.amount)
            .collect();
        assert_eq!(alerts, [1001, 7000]);
    }
);

on_each_db!(soft_delete_on_the_model_or_a_typed_refusal, |db: Db| {
    let built = Engine::builder(&db.url).model::<Note>().build();
    if db.is_mariadb() {
        // MariaDB cannot turn a DELETE into an UPDATE: refused when the engine is built.
        let err = built.expect_err("refused at build");
        assert!(
            matches!(&err, Error::Unsupported { backend: "MariaDB/MySQL", feature }
                if feature.contains("\"soft\"") && feature.contains("note")),
            "{err:?}"
        );
        return;
    }
    let e = built.unwrap();
    e.create_all().unwrap();
    let mut s = e.session().unwrap();
    let note = s
        .insert(Note {
            id: 0,
            text: "n".into(),
            deleted: false,
        })
        .unwrap();
    s.commit().unwrap();
    s.execute(&db.sql("DELETE FROM note WHERE id = ?"), &[Value::Int(note.id)])
        .unwrap();
    s.commit().unwrap();
    let mut s = e.session().unwrap();
    let kept = s.get::<Note>(note.id).unwrap().expect("the row is kept");
    assert!(kept.deleted, "and marked");
});

// Mistakes the compiler cannot see are refused when the engine is built, before any SQL.
#[test]
fn declarations_are_refused_at_build_before_any_sql() {
    let db = Db::file();
    let invalid = |b: trigorm::EngineBuilder, part: &str| {
        let err = b.build().err().unwrap_or_else(|| panic!("{part}: refused"));
        assert!(
            matches!(&err, Error::InvalidTrigger { model: "Invoice", .. }) && err.to_string().contains(part),
            "{part}: {err}"
        );
        // Nothing was written: the database has no table.
        let conn = rusqlite::Connection::open(db.path().unwrap()).unwrap();
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0, "{part}: nothing created");
    };
    let base = || Engine::builder(&db.url).model::<Alert>().model::<Invoice>();
    // A transition naming a state that is none of the enum's (declared by name at run time).
    let unknown_state = TriggerDef::new(
        "flow2",
        Invoice::table(),
        TriggerKind::Transitions {
            column: "stage".into(),
            allowed: vec![(Value::Text("draft".into()), Value::Text("archived".into()))],
        },
    );
    invalid(base().trigger(unknown_state), "\"archived\"");
    // A name used by a derived trigger.
    invalid(
        base().trigger(TriggerDef::protect("keep", Invoice::table(), Ops::UPDATE)),
        "declared twice",
    );
    // A custom trigger without a body for the backend in use.
    let no_body = TriggerDef::custom(
        "pg_only",
        Invoice::table(),
        trigorm::trigger::Timing::After,
        Ops::INSERT,
        trigorm::trigger::CustomBodies {
            postgres: Some("RETURN NULL;".into()),
            ..Default::default()
        },
    );
    invalid(base().trigger(no_body), "no body for SQLite");
    // A column in a condition that the model lacks (the builder path: names at run time).
    let cond = trigorm::trigger::RowColumn::named(trigorm::trigger::Row::New, "amout").gt(5);
    let err = base()
        .trigger(TriggerDef::protect("p", Invoice::table(), Ops::INSERT).when(cond))
        .build()
        .expect_err("unknown column");
    assert!(
        matches!(&err, Error::InvalidTrigger { model: "Invoice", trigger, reason }
            if trigger == "p" && reason.starts_with("its condition") && reason.contains("\"amout\"")),
        "{err:?}"
    );
}

/// Raw identifiers, renamed columns and an `Option` state column in declarations.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "task",
    transitions(column = stage, allow(None -> Draft, Draft -> Sent)),
    read_only(name = "fixed", columns(r#type, label))
)]
struct Task {
    id: i64,
    r#type: String,
    #[trigorm(column = "the_label")]
    label: String,
    stage: Option<Stage>,
}

on_each_db!(derived_declarations_name_fields_as_the_struct_does, |db: Db| {
    let e = Engine::builder(&db.url).model::<Task>().build().unwrap();
    e.create_all().unwrap();
    let mut s = e.session().unwrap();
    let mut task = s
        .insert(Task {
            id: 0,
            r#type: "chore".into(),
            label: "l".into(),
            stage: None,
        })
        .unwrap();
    s.commit().unwrap();
    task.stage = Some(Stage::Draft);
    s.update(&task).unwrap();
    s.commit().unwrap();
    let moved = |s: &mut trigorm::Session, edit: &dyn Fn(&mut Task)| {
        let mut t = s.get::<Task>(task.id).unwrap().unwrap();
        edit(&mut t);
        s.update(&t).unwrap();
        let r = s.commit();
        if r.is_err() {
            s.rollback().unwrap();
        }
        r.err().and_then(|e| e.trigger_refusal()).map(|r| r.trigger)
    };
    // PostgreSQL names one trigger per declaration, the others one per operation.
    let refused = |name: &str| {
        Some(if db.is_postgres() {
            format!("trigorm_task_{name}")
        } else {
            format!("trigorm_task_{name}_update")
        })
    };
    assert_eq!(moved(&mut s, &|t| t.stage = Some(Stage::Paid)), refused("transitions"));
    assert_eq!(moved(&mut s, &|t| t.stage = None), refused("transitions"));
    assert_eq!(moved(&mut s, &|t| t.r#type = "bug".into()), refused("fixed"));
    assert_eq!(moved(&mut s, &|t| t.label = "m".into()), refused("fixed"));
    assert_eq!(moved(&mut s, &|t| t.stage = Some(Stage::Sent)), None);
});
