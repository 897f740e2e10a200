//! Semantics §5: bulk statements (`update_where`, `delete_where`) fire the row events of
//! exactly the rows they change, with true old and new values, and one statement-level
//! event with the filter and the row count; all of it in one transaction.
mod common;
use common::*;

use std::sync::{Arc, Mutex};

use trigorm::event::{AfterDelete, AfterUpdate, BeforeDelete, BeforeUpdate, Operation, RowEvent};
use trigorm::query::{col, Filter};
use trigorm::{Engine, EngineBuilder, Error, Value};

/// What a listener saw.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Row {
        event: RowEvent,
        id: i64,
        old: Option<User>,
        new: Option<User>,
        changed: Vec<&'static str>,
    },
    Bulk {
        model: &'static str,
        op: Operation,
        filter: Filter,
        rows: u64,
    },
}

type Rec = Arc<Mutex<Vec<Ev>>>;

fn take(rec: &Rec) -> Vec<Ev> {
    std::mem::take(&mut *rec.lock().unwrap())
}

/// The seed's audit listeners, plus recorders of every update and delete event of `User`
/// and of its bulk events.
fn recorded(url: &str, rec: &Rec) -> EngineBuilder {
    let mut b = audited(url);
    for event in [BeforeUpdate, AfterUpdate, BeforeDelete, AfterDelete] {
        let r = rec.clone();
        b = b.listen::<User>(event, move |_ctx, c| {
            let id = c.old().or(c.new()).map_or(0, |u| u.id);
            r.lock().unwrap().push(Ev::Row {
                event: c.event(),
                id,
                old: c.old().cloned(),
                new: c.new().cloned(),
                changed: c.changed().collect(),
            });
            Ok(())
        });
    }
    let r = rec.clone();
    b.on_bulk::<User>(move |_ctx, b| {
        r.lock().unwrap().push(Ev::Bulk {
            model: b.model,
            op: b.op,
            filter: b.filter.clone(),
            rows: b.rows,
        });
        Ok(())
    })
}

/// Insert `n` users named `u0000`, `u0001`, ... and commit; the users as stored.
fn seed(engine: &Engine, n: usize) -> Vec<User> {
    let mut s = engine.session().unwrap();
    for i in 0..n {
        s.add(User::new(&format!("u{i:04}")));
    }
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    s.query::<User>().order_by(col("id").asc()).all().unwrap()
}

fn users(engine: &Engine) -> Vec<User> {
    let mut s = engine.session().unwrap();
    s.query::<User>().order_by(col("id").asc()).all().unwrap()
}

fn logs_of(engine: &Engine, change_type: &str) -> Vec<Log> {
    let mut s = engine.session().unwrap();
    s.query::<Log>()
        .filter(col("change_type").eq(change_type))
        .order_by(col("id").asc())
        .all()
        .unwrap()
}

/// One row event: the row's id, its old and new rows, the changed columns.
type RowSeen = (i64, Option<User>, Option<User>, Vec<&'static str>);

fn rows_of(evs: &[Ev], event: RowEvent) -> Vec<RowSeen> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Row {
                event: ev,
                id,
                old,
                new,
                changed,
            } if *ev == event => Some((*id, old.clone(), new.clone(), changed.clone())),
            _ => None,
        })
        .collect()
}

fn bulks(evs: &[Ev]) -> Vec<(&'static str, Operation, Filter, u64)> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Bulk {
                model,
                op,
                filter,
                rows,
            } => Some((*model, *op, filter.clone(), *rows)),
            _ => None,
        })
        .collect()
}

on_each_db!(
    update_where_fires_one_row_event_per_changed_row_and_one_bulk_event,
    |db: Db| {
        let rec = Rec::default();
        let engine = recorded(&db.url, &rec).build().unwrap();
        engine.create_all().unwrap();
        let before = seed(&engine, 1000);
        take(&rec);

        let filter = col("name").like("u04%");
        let mut s = engine.session().unwrap();
        let n = s
            .update_where::<User>(filter.clone(), &[("name", Value::from("renamed"))])
            .unwrap();
        assert_eq!(n, 100);
        s.commit().unwrap();

        let expected: Vec<&User> = before.iter().filter(|u| u.name.starts_with("u04")).collect();
        assert_eq!(expected.len(), 100);
        let evs = take(&rec);
        for event in [BeforeUpdate, AfterUpdate] {
            let rows = rows_of(&evs, event);
            assert_eq!(rows.len(), 100, "{event:?} fires once per changed row");
            let mut ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 100, "{event:?} fires once per row, never twice");
            for (id, old, new, changed) in rows {
                let stored = expected
                    .iter()
                    .find(|u| u.id == id)
                    .unwrap_or_else(|| panic!("{event:?} fired for user {id}, which the filter does not match"));
                assert_eq!(
                    old.as_ref(),
                    Some(*stored),
                    "{event:?}: the old row is the row as stored"
                );
                let new = new.expect("an update has a new row");
                assert_eq!(new.name, "renamed");
                assert_eq!(new.id, id);
                assert_eq!(new.email, stored.email);
                assert_eq!(new.created_at, stored.created_at);
                assert_eq!(changed, vec!["name"], "{event:?}: only the assigned column changed");
            }
        }
        assert!(rows_of(&evs, BeforeDelete).is_empty() && rows_of(&evs, AfterDelete).is_empty());
        assert_eq!(bulks(&evs), vec![("User", Operation::Update, filter, 100)]);
        // The statement-level event comes after every row event.
        assert!(matches!(evs.last(), Some(Ev::Bulk { .. })));

        // Exactly those rows changed, and each has its audit row with its true old name.
        let after = users(&engine);
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(b.id, a.id);
            if b.name.starts_with("u04") {
                assert_eq!(a.name, "renamed");
            } else {
                assert_eq!(a, b);
            }
        }
        let logs = logs_of(&engine, "update");
        assert_eq!(logs.len(), 100);
        for l in &logs {
            let u = expected
                .iter()
                .find(|u| u.id == l.user_id)
                .expect("a log row of a changed user");
            assert_eq!(l.old_name.as_deref(), Some(u.name.as_str()));
            assert_eq!(l.new_name.as_deref(), Some("renamed"));
        }
    }
);

on_each_db!(update_where_skips_rows_that_would_not_change, |db: Db| {
    let rec = Rec::default();
    let engine = recorded(&db.url, &rec).build().unwrap();
    engine.create_all().unwrap();
    let before = seed(&engine, 10);
    // Four of the ten already hold the value.
    let mut s = engine.session().unwrap();
    for u in &before[..4] {
        let mut u = u.clone();
        u.email = Some("same@example.com".into());
        s.update(&u).unwrap();
    }
    s.commit().unwrap();
    take(&rec);
    let updates_before = logs_of(&engine, "update").len();
    assert_eq!(updates_before, 4);

    let mut s = engine.session().unwrap();
    let n = s
        .update_where::<User>(col("id").gt(0), &[("email", Value::from("same@example.com"))])
        .unwrap();
    s.commit().unwrap();
    assert_eq!(n, 6, "rows that already hold the value are not counted");

    let evs = take(&rec);
    let changed_ids: Vec<i64> = before[4..].iter().map(|u| u.id).collect();
    for event in [BeforeUpdate, AfterUpdate] {
        let mut ids: Vec<i64> = rows_of(&evs, event).iter().map(|r| r.0).collect();
        ids.sort_unstable();
        assert_eq!(ids, changed_ids, "{event:?} fires only for rows that change");
    }
    for (_, old, _, changed) in rows_of(&evs, AfterUpdate) {
        assert_eq!(old.unwrap().email, None);
        assert_eq!(changed, vec!["email"]);
    }
    let b = bulks(&evs);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].3, 6);
    assert_eq!(logs_of(&engine, "update").len(), updates_before + 6);

    // Nothing at all changes: no row event, and the statement reports 0 rows.
    let mut s = engine.session().unwrap();
    let n = s
        .update_where::<User>(col("id").gt(0), &[("email", Value::from("same@example.com"))])
        .unwrap();
    s.commit().unwrap();
    assert_eq!(n, 0);
    let evs = take(&rec);
    assert!(rows_of(&evs, BeforeUpdate).is_empty() && rows_of(&evs, AfterUpdate).is_empty());
    assert!(bulks(&evs).iter().all(|b| b.3 == 0));
    assert_eq!(logs_of(&engine, "update").len(), updates_before + 6);
});

on_each_db!(
    update_where_counts_only_rows_a_before_update_listener_leaves_changed,
    |db: Db| {
        // A BeforeUpdate listener that puts one row's value back: that row is not written, so
        // it is not changed, not counted, and has no AfterUpdate.
        let rec = Rec::default();
        let engine = recorded(&db.url, &rec)
            .listen::<User>(BeforeUpdate, |_ctx, c| {
                let old_name = c.old().map(|u| u.name.clone()).unwrap();
                if old_name == "u0003" {
                    c.new_mut().unwrap().name = old_name;
                }
                Ok(())
            })
            .build()
            .unwrap();
        engine.create_all().unwrap();
        seed(&engine, 10);
        take(&rec);
        let mut s = engine.session().unwrap();
        let n = s
            .update_where::<User>(Filter::All, &[("name", Value::from("renamed"))])
            .unwrap();
        s.commit().unwrap();
        let evs = take(&rec);
        assert_eq!(rows_of(&evs, AfterUpdate).len(), 9);
        assert_eq!(users(&engine).iter().filter(|u| u.name == "renamed").count(), 9);
        assert_eq!(n, 9, "the protected row was not changed");
        assert_eq!(bulks(&evs)[0].3, 9);
    }
);

on_each_db!(before_update_listener_changes_are_written_by_bulk_update, |db: Db| {
    let engine = audited(&db.url)
        .listen::<User>(BeforeUpdate, |_ctx, c| {
            c.new_mut().unwrap().email = Some("stamped".into());
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    seed(&engine, 5);
    let mut s = engine.session().unwrap();
    let n = s
        .update_where::<User>(col("name").is_in(["u0001", "u0002"]), &[("name", Value::from("x"))])
        .unwrap();
    s.commit().unwrap();
    assert_eq!(n, 2);
    let after = users(&engine);
    let stamped: Vec<&str> = after
        .iter()
        .filter(|u| u.email.as_deref() == Some("stamped"))
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(stamped, vec!["x", "x"]);
});

on_each_db!(delete_where_fires_after_delete_with_the_true_old_row, |db: Db| {
    let rec = Rec::default();
    let engine = recorded(&db.url, &rec).build().unwrap();
    engine.create_all().unwrap();
    let before = seed(&engine, 20);
    take(&rec);

    let mut s = engine.session().unwrap();
    // The session remembers u0001 as loaded; raw SQL then changes it in the database. The
    // delete must report the row as it really is.
    let remembered = s.get::<User>(before[1].id).unwrap().unwrap();
    assert_eq!(remembered.name, "u0001");
    s.execute(
        &db.sql("UPDATE users SET name = ?, email = ? WHERE id = ?"),
        &[
            Value::from("changed by sql"),
            Value::from("sql@example.com"),
            Value::from(before[1].id),
        ],
    )
    .unwrap();
    let filter = col("id").le(before[4].id);
    let n = s.delete_where::<User>(filter.clone()).unwrap();
    assert_eq!(n, 5);
    s.commit().unwrap();

    let evs = take(&rec);
    // The rows come in the order the database's scan gives them (PostgreSQL stores the row
    // the raw UPDATE rewrote at the end of the table), the same for every event.
    let order: Vec<i64> = rows_of(&evs, BeforeDelete).iter().map(|r| r.0).collect();
    for event in [BeforeDelete, AfterDelete] {
        let mut rows = rows_of(&evs, event);
        assert_eq!(rows.len(), 5, "{event:?}");
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), order, "{event:?}");
        rows.sort_by_key(|r| r.0);
        for (i, (id, old, new, _)) in rows.into_iter().enumerate() {
            let mut expected = before[i].clone();
            if i == 1 {
                expected.name = "changed by sql".into();
                expected.email = Some("sql@example.com".into());
            }
            assert_eq!(id, expected.id, "{event:?}");
            assert_eq!(
                old,
                Some(expected),
                "{event:?}: the old row is the row as it was deleted"
            );
            assert_eq!(new, None);
        }
    }
    assert!(rows_of(&evs, AfterUpdate).is_empty());
    assert_eq!(bulks(&evs), vec![("User", Operation::Delete, filter, 5)]);
    assert!(matches!(evs.last(), Some(Ev::Bulk { .. })));

    let after = users(&engine);
    assert_eq!(after, before[5..].to_vec());
    let mut logs = logs_of(&engine, "delete");
    assert_eq!(logs.len(), 5);
    assert_eq!(
        logs.iter().map(|l| l.user_id).collect::<Vec<_>>(),
        order,
        "one audit row per event, in their order"
    );
    logs.sort_by_key(|l| l.user_id);
    let old_names: Vec<_> = logs.iter().map(|l| l.old_name.clone().unwrap()).collect();
    assert_eq!(old_names, vec!["u0000", "changed by sql", "u0002", "u0003", "u0004"]);
});

on_each_db!(update_where_sees_the_true_old_row_not_the_remembered_one, |db: Db| {
    let rec = Rec::default();
    let engine = recorded(&db.url, &rec).build().unwrap();
    engine.create_all().unwrap();
    let before = seed(&engine, 3);
    take(&rec);
    let mut s = engine.session().unwrap();
    s.get::<User>(before[0].id).unwrap().unwrap();
    s.execute(
        &db.sql("UPDATE users SET name = 'by sql' WHERE id = ?"),
        &[Value::from(before[0].id)],
    )
    .unwrap();
    let n = s
        .update_where::<User>(col("id").eq(before[0].id), &[("email", Value::from("e"))])
        .unwrap();
    s.commit().unwrap();
    assert_eq!(n, 1);
    let evs = take(&rec);
    let rows = rows_of(&evs, AfterUpdate);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.as_ref().unwrap().name, "by sql");
    assert_eq!(rows[0].2.as_ref().unwrap().name, "by sql");
    assert_eq!(rows[0].3, vec!["email"]);
    assert_eq!(users(&engine)[0].name, "by sql");
});

on_each_db!(audit_rows_of_a_bulk_statement_are_in_its_transaction, |db: Db| {
    let engine = audited(&db.url)
        .on_bulk::<User>(|ctx, b| {
            ctx.add(Log {
                id: 0,
                user_id: 0,
                change_type: format!("bulk {} x{}", b.op.as_str(), b.rows),
                old_name: None,
                new_name: None,
                changed_at: chrono::Utc::now(),
            });
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    seed(&engine, 10);

    // Rolled back: neither the rows nor their audit rows remain.
    let mut s = engine.session().unwrap();
    assert_eq!(
        s.update_where::<User>(col("id").gt(0), &[("name", Value::from("r"))])
            .unwrap(),
        10
    );
    // Inside the transaction, the audit rows are there already.
    assert_eq!(
        s.query::<Log>()
            .filter(col("change_type").eq("update"))
            .count()
            .unwrap(),
        10
    );
    s.rollback().unwrap();
    assert!(users(&engine).iter().all(|u| u.name != "r"));
    assert!(logs_of(&engine, "update").is_empty());
    assert!(logs_of(&engine, "bulk update x10").is_empty());

    // Committed: both.
    let mut s = engine.session().unwrap();
    s.update_where::<User>(col("id").gt(0), &[("name", Value::from("r"))])
        .unwrap();
    s.delete_where::<User>(col("id").le(3)).unwrap();
    s.commit().unwrap();
    assert_eq!(users(&engine).len(), 7);
    assert_eq!(logs_of(&engine, "update").len(), 10);
    assert_eq!(logs_of(&engine, "delete").len(), 3);
    assert_eq!(logs_of(&engine, "bulk update x10").len(), 1);
    assert_eq!(logs_of(&engine, "bulk delete x3").len(), 1);
});

on_each_db!(a_row_listener_error_rolls_the_whole_bulk_statement_back, |db: Db| {
    let engine = audited(&db.url)
        .listen_named::<User>("refuse u0450", AfterUpdate, |_ctx, c| {
            if c.old().unwrap().name == "u0450" {
                return Err("u0450 may not be renamed".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let before = seed(&engine, 1000);
    let target = before.iter().find(|u| u.name == "u0450").unwrap().clone();

    let mut s = engine.session().unwrap();
    // Earlier work of the same transaction goes too.
    s.insert(User::new("earlier")).unwrap();
    let err = s
        .update_where::<User>(col("name").like("u04%"), &[("name", Value::from("renamed"))])
        .unwrap_err();
    match &err {
        Error::Listener {
            model,
            pk,
            listener,
            event,
            ..
        } => {
            assert_eq!(*model, "User");
            assert_eq!(pk, &target.id.to_string());
            assert_eq!(listener, "refuse u0450");
            assert_eq!(*event, AfterUpdate);
        }
        other => panic!("expected a listener error, got {other:?}"),
    }
    assert!(err.to_string().contains("u0450 may not be renamed"));
    drop(s);

    assert_eq!(users(&engine), before, "no row changed");
    assert!(logs_of(&engine, "update").is_empty(), "no audit row remains");
    assert_eq!(logs_of(&engine, "insert").len(), 1000);
});

on_each_db!(a_bulk_listener_error_rolls_the_whole_bulk_statement_back, |db: Db| {
    let engine = audited(&db.url)
        .on_bulk::<User>(|_ctx, b| {
            if b.rows > 5 {
                return Err(format!("too many rows: {}", b.rows).into());
            }
            Ok(())
        })
        .listen::<User>(BeforeDelete, |_ctx, c| {
            if c.old().unwrap().name == "u0007" {
                return Err("keep u0007".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let before = seed(&engine, 10);

    let mut s = engine.session().unwrap();
    let err = s
        .update_where::<User>(col("id").gt(0), &[("name", Value::from("renamed"))])
        .unwrap_err();
    assert!(matches!(err, Error::SessionListener { .. }), "{err:?}");
    assert!(err.to_string().contains("too many rows: 10"));
    let err = s.delete_where::<User>(col("name").ne("u0007")).unwrap_err();
    assert!(matches!(err, Error::SessionListener { .. }), "{err:?}");
    assert!(err.to_string().contains("too many rows: 9"));
    // A BeforeDelete veto on one row of a statement that passes the bulk listener.
    let err = s
        .delete_where::<User>(col("name").is_in(["u0006", "u0007", "u0008"]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Listener {
                event: BeforeDelete,
                ..
            }
        ),
        "{err:?}"
    );
    drop(s);
    assert_eq!(users(&engine), before);
    assert!(logs_of(&engine, "update").is_empty());
    assert!(logs_of(&engine, "delete").is_empty());
});

on_each_db!(update_where_refuses_to_assign_the_primary_key, |db: Db| {
    let rec = Rec::default();
    let engine = recorded(&db.url, &rec).build().unwrap();
    engine.create_all().unwrap();
    let before = seed(&engine, 3);
    take(&rec);
    let mut s = engine.session().unwrap();
    let err = s
        .update_where::<User>(col("id").eq(before[0].id), &[("id", Value::from(999))])
        .unwrap_err();
    assert!(matches!(err, Error::PrimaryKeyChange { model: "User", .. }), "{err:?}");
    let err = s
        .update_where::<User>(
            col("id").eq(before[0].id),
            &[("name", Value::from("x")), ("id", Value::from(999))],
        )
        .unwrap_err();
    assert!(matches!(err, Error::PrimaryKeyChange { model: "User", .. }), "{err:?}");
    s.commit().unwrap();
    assert!(take(&rec).is_empty(), "nothing fired");
    assert_eq!(users(&engine), before);
});

on_each_db!(
    bulk_statements_refuse_unknown_columns_and_values_that_do_not_fit,
    |db: Db| {
        let rec = Rec::default();
        let engine = recorded(&db.url, &rec).build().unwrap();
        engine.create_all().unwrap();
        let before = seed(&engine, 3);
        take(&rec);
        let mut s = engine.session().unwrap();

        let err = s
            .update_where::<User>(col("id").gt(0), &[("nope", Value::from("x"))])
            .unwrap_err();
        assert!(
            matches!(&err, Error::UnknownColumn { model: "User", column } if column == "nope"),
            "{err:?}"
        );
        let err = s
            .update_where::<User>(col("nope").eq(1), &[("name", Value::from("x"))])
            .unwrap_err();
        assert!(
            matches!(&err, Error::UnknownColumn { model: "User", column } if column == "nope"),
            "{err:?}"
        );
        let err = s.delete_where::<User>(col("nope").eq(1)).unwrap_err();
        assert!(
            matches!(&err, Error::UnknownColumn { model: "User", column } if column == "nope"),
            "{err:?}"
        );
        // A value of the wrong type, and NULL for a column that is not nullable.
        let err = s
            .update_where::<User>(col("id").gt(0), &[("name", Value::from(5))])
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Decode {
                    model: "User",
                    column: "name",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = s
            .update_where::<User>(col("id").gt(0), &[("name", Value::Null)])
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Decode {
                    model: "User",
                    column: "name",
                    ..
                }
            ),
            "{err:?}"
        );
        s.commit().unwrap();

        assert!(take(&rec).is_empty(), "nothing fired");
        assert_eq!(users(&engine), before);
        assert!(logs_of(&engine, "update").is_empty());
    }
);

on_each_db!(a_bulk_statement_flushes_staged_changes_first, |db: Db| {
    let rec = Rec::default();
    let engine = recorded(&db.url, &rec).build().unwrap();
    engine.create_all().unwrap();
    let before = seed(&engine, 5);
    take(&rec);

    let mut s = engine.session().unwrap();
    for i in 0..3 {
        s.add(User::new(&format!("staged-{i}")));
    }
    let mut renamed = before[0].clone();
    renamed.name = "staged-renamed".into();
    s.update(&renamed).unwrap();
    s.delete(&before[1]).unwrap();
    assert!(s.has_pending());

    let n = s
        .update_where::<User>(col("name").like("staged-%"), &[("email", Value::from("hit"))])
        .unwrap();
    assert_eq!(n, 4, "three staged inserts and one staged rename");
    assert!(!s.has_pending());
    let evs = take(&rec);
    let bulk_rows: Vec<_> = rows_of(&evs, AfterUpdate)
        .into_iter()
        .filter(|r| r.3 == vec!["email"])
        .collect();
    assert_eq!(bulk_rows.len(), 4);
    // The staged rename was written before the bulk statement read its old rows.
    let r = bulk_rows.iter().find(|r| r.0 == before[0].id).unwrap();
    assert_eq!(r.1.as_ref().unwrap().name, "staged-renamed");

    // A staged delete is seen too: the deleted row is not deleted twice.
    s.add(User::new("staged-late"));
    let n = s
        .delete_where::<User>(col("name").like("staged-%").or(col("id").eq(before[1].id)))
        .unwrap();
    assert_eq!(n, 5);
    s.commit().unwrap();
    let left: Vec<String> = users(&engine).into_iter().map(|u| u.name).collect();
    assert_eq!(left, vec!["u0002", "u0003", "u0004"]);
});

on_each_db!(
    a_later_update_sees_the_values_a_bulk_statement_wrote_as_old_values,
    |db: Db| {
        let rec = Rec::default();
        let engine = recorded(&db.url, &rec).build().unwrap();
        engine.create_all().unwrap();
        let before = seed(&engine, 3);
        let mut s = engine.session().unwrap();
        let mut u = s.get::<User>(before[0].id).unwrap().unwrap();
        s.update_where::<User>(col("id").eq(u.id), &[("name", Value::from("bulk"))])
            .unwrap();
        take(&rec);
        // The user's copy still says u0000. Staging it writes its name and email; the old
        // row reported is the one the bulk statement wrote, not the one loaded before it.
        u.email = Some("e".into());
        s.update(&u).unwrap();
        s.commit().unwrap();
        let evs = take(&rec);
        let rows = rows_of(&evs, AfterUpdate);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].1.as_ref().unwrap().name,
            "bulk",
            "old values are as last written"
        );
        let mut changed = rows[0].3.clone();
        changed.sort_unstable();
        assert_eq!(changed, vec!["email", "name"]);
    }
);
