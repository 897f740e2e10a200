//! Flush failure and retry (semantics §4): any error rolls the whole transaction back,
//! the session's writes stay staged and can be retried or discarded; and optimistic
//! locking (semantics §2), whose conflict is such a failure. Split from `flush.rs`.
mod common;
use common::*;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use trigorm::error::DbErrorKind;
use trigorm::event::{AfterDelete, AfterInsert, AfterUpdate, BeforeDelete, BeforeInsert, BeforeUpdate};
use trigorm::query::col;
use trigorm::{Engine, EngineBuilder, Error, Model, Value};

fn committed_users(engine: &Engine, names: &[&str]) -> Vec<User> {
    let mut s = engine.session().unwrap();
    let users = names.iter().map(|n| s.insert(user(n)).unwrap()).collect();
    s.commit().unwrap();
    users
}

#[derive(Model, Clone, Debug, PartialEq)]
struct Member {
    id: i64,
    #[trigorm(unique)]
    handle: String,
}

/// The seed's audit, plus a raw-SQL audit row for each user insert.
fn audited_raw(db: &Db) -> EngineBuilder {
    let insert = db.sql("INSERT INTO log (user_id, change_type, new_name, changed_at) VALUES (?, ?, ?, ?)");
    audited(&db.url).listen::<User>(AfterInsert, move |ctx, c| {
        let u = c.new().unwrap();
        ctx.execute(
            &insert,
            &[
                Value::from(u.id),
                Value::from("raw insert"),
                Value::from(u.name.as_str()),
                Value::from(t0()),
            ],
        )?;
        Ok(())
    })
}

/// Users' names and log rows as `(user_id, change_type)`, read by a fresh session.
fn state(engine: &Engine) -> (Vec<String>, Vec<(i64, String)>) {
    let mut s = engine.session().unwrap();
    let mut names: Vec<String> = s.query::<User>().all().unwrap().into_iter().map(|u| u.name).collect();
    names.sort();
    let mut logs: Vec<(i64, String)> = s
        .query::<Log>()
        .all()
        .unwrap()
        .into_iter()
        .map(|l| (l.user_id, l.change_type))
        .collect();
    logs.sort();
    (names, logs)
}

fn log_rows(rows: &[(i64, &str)]) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = rows.iter().map(|(id, t)| (*id, t.to_string())).collect();
    v.sort();
    v
}

on_each_db!(a_listener_error_rolls_back_the_whole_transaction, |db: Db| {
    let engine = audited_raw(&db)
        .listen::<User>(BeforeUpdate, |_ctx, c| {
            if c.new().unwrap().name == "Mallory" {
                return Err("no Mallory".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let jane = committed_users(&engine, &["Jane"]).remove(0);
    let before = state(&engine);
    assert_eq!(before.1, log_rows(&[(jane.id, "insert"), (jane.id, "raw insert")]));

    let mut s = engine.session().unwrap();
    let bob = s.insert(user("Bob")).unwrap(); // flushed, with its two log rows
    assert_eq!(s.query::<Log>().filter(col("user_id").eq(bob.id)).count().unwrap(), 2);
    s.update(&User {
        name: "Mallory".into(),
        ..jane.clone()
    })
    .unwrap();
    let err = s.commit().unwrap_err();
    match err {
        Error::Listener {
            model,
            pk,
            listener,
            event,
            ..
        } => {
            assert_eq!((model, pk.as_str()), ("User", jane.id.to_string().as_str()));
            assert_eq!((listener.as_str(), event), ("User.BeforeUpdate#1", BeforeUpdate));
        }
        other => panic!("expected Error::Listener, got {other:?}"),
    }
    assert_eq!(
        state(&engine),
        before,
        "neither Bob nor any log row of this transaction remains"
    );
    assert!(s.has_pending(), "the transaction's changes are pending again");
});

on_each_db!(
    a_unique_violation_rolls_back_the_whole_transaction_and_can_be_retried,
    |db: Db| {
        let insert = db.sql("INSERT INTO log (user_id, change_type, changed_at) VALUES (?, ?, ?)");
        let engine = Engine::builder(&db.url)
            .model::<Log>()
            .listen::<Member>(AfterInsert, move |ctx, c| {
                let m = c.new().unwrap();
                ctx.add(Log {
                    id: 0,
                    user_id: m.id,
                    change_type: format!("member {}", m.handle),
                    old_name: None,
                    new_name: None,
                    changed_at: t0(),
                });
                ctx.execute(&insert, &[Value::from(m.id), Value::from("raw"), Value::from(t0())])?;
                Ok(())
            })
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let mut setup = engine.session().unwrap();
        let taken = setup
            .insert(Member {
                id: 0,
                handle: "taken".into(),
            })
            .unwrap();
        setup.commit().unwrap();
        drop(setup);
        assert_eq!(count::<Log>(&engine), 2);

        let mut s = engine.session().unwrap();
        s.insert(Member {
            id: 0,
            handle: "fresh".into(),
        })
        .unwrap();
        s.add(Member {
            id: 0,
            handle: "taken".into(),
        });
        let err = s.commit().unwrap_err();
        assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
        let text = err.to_string();
        match err {
            Error::Statement {
                operation,
                model,
                pk,
                sql,
                ..
            } => {
                assert_eq!(operation, "insert");
                assert_eq!(model, Some("Member"));
                assert_eq!(pk.as_deref(), Some("<new>"));
                let table = if db.is_mariadb() { "`MEMBER`" } else { "\"MEMBER\"" };
                assert!(sql.to_uppercase().starts_with(&format!("INSERT INTO {table}")), "{sql}");
                assert!(!sql.contains("taken"), "values are bound, not in the SQL: {sql}");
                assert!(text.contains("Member") && text.contains(&sql), "{text}");
            }
            other => panic!("expected Error::Statement, got {other:?}"),
        }
        let mut fresh = engine.session().unwrap();
        let handles: Vec<String> = fresh
            .query::<Member>()
            .all()
            .unwrap()
            .into_iter()
            .map(|m| m.handle)
            .collect();
        assert_eq!(handles, ["taken"], "\"fresh\" was rolled back with the failed insert");
        assert_eq!(fresh.query::<Log>().count().unwrap(), 2, "and so were its log rows");

        // Fix the cause, then retry the same session: both members, each with its log rows,
        // once.
        fresh.delete(&taken).unwrap();
        fresh.commit().unwrap();
        drop(fresh);
        assert!(s.has_pending());
        s.commit().unwrap();
        let mut fresh = engine.session().unwrap();
        let mut members = fresh.query::<Member>().all().unwrap();
        members.sort_by(|a, b| a.handle.cmp(&b.handle));
        assert_eq!(
            members.iter().map(|m| m.handle.as_str()).collect::<Vec<_>>(),
            ["fresh", "taken"]
        );
        for m in &members {
            let mut kinds: Vec<String> = fresh
                .query::<Log>()
                .filter(col("user_id").eq(m.id) & col("id").gt(2)) // after the setup's two rows
                .all()
                .unwrap()
                .into_iter()
                .map(|l| l.change_type)
                .collect();
            kinds.sort();
            assert_eq!(kinds, [format!("member {}", m.handle), "raw".to_string()], "{m:?}");
        }
        assert_eq!(fresh.query::<Log>().count().unwrap(), 6);
    }
);

on_each_db!(
    an_update_of_a_missing_row_rolls_back_and_rollback_discards_it,
    |db: Db| {
        let engine = audited_raw(&db).build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        s.insert(user("Bob")).unwrap();
        s.update(&User {
            id: 999,
            ..user("Ghost")
        })
        .unwrap();
        let err = s.commit().unwrap_err();
        match &err {
            Error::NotFound { model, pk } => assert_eq!((*model, pk.as_str()), ("User", "999")),
            other => panic!("expected Error::NotFound, got {other:?}"),
        }
        assert_eq!(state(&engine), (vec![], vec![]));

        // The failed changes are pending; rollback discards them, and the session goes on.
        assert!(s.has_pending());
        s.rollback().unwrap();
        assert!(!s.has_pending());
        s.commit().unwrap();
        assert_eq!(state(&engine), (vec![], vec![]));
        let ann = s.insert(user("Ann")).unwrap();
        s.commit().unwrap();
        assert_eq!(
            state(&engine),
            (
                vec!["Ann".to_string()],
                log_rows(&[(ann.id, "insert"), (ann.id, "raw insert")])
            )
        );
    }
);

on_each_db!(after_a_failure_a_retry_writes_everything_exactly_once, |db: Db| {
    let failing = Arc::new(AtomicBool::new(true));
    let f = failing.clone();
    let engine = audited_raw(&db)
        .listen_named::<User>("flaky", AfterUpdate, move |_ctx, _c| {
            if f.swap(false, Ordering::SeqCst) {
                return Err("the mail server is down".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let jane = committed_users(&engine, &["Jane"]).remove(0);
    let before = state(&engine);

    let mut s = engine.session().unwrap();
    let bob = s.insert(user("Bob")).unwrap();
    let mut j = s.get::<User>(jane.id).unwrap().unwrap();
    j.name = "Joan".into();
    s.update(&j).unwrap();
    let err = s.commit().unwrap_err();
    match err {
        Error::Listener {
            model,
            pk,
            listener,
            event,
            source,
        } => {
            assert_eq!((model, pk), ("User", jane.id.to_string()));
            assert_eq!((listener.as_str(), event), ("flaky", AfterUpdate));
            assert_eq!(source.to_string(), "the mail server is down");
        }
        other => panic!("expected Error::Listener, got {other:?}"),
    }
    assert_eq!(
        state(&engine),
        before,
        "the UPDATE that ran before the listener failed is undone"
    );

    assert!(s.has_pending());
    s.commit().unwrap();
    let (names, logs) = state(&engine);
    assert_eq!(names, ["Bob", "Joan"]);
    assert_eq!(
        logs,
        log_rows(&[
            (jane.id, "insert"),
            (jane.id, "raw insert"),
            (bob.id, "insert"),
            (bob.id, "raw insert"),
            (jane.id, "update"),
        ])
    );
    let mut fresh = engine.session().unwrap();
    let update = fresh
        .query::<Log>()
        .filter(col("change_type").eq("update"))
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(update.old_name.as_deref(), Some("Jane"));
    assert_eq!(update.new_name.as_deref(), Some("Joan"));
});

on_each_db!(a_pending_handle_holds_nothing_after_its_flush_failed, |db: Db| {
    let failing = Arc::new(AtomicBool::new(true));
    let f = failing.clone();
    let engine = Engine::builder(&db.url)
        .listen::<User>(BeforeInsert, move |_ctx, c| {
            if c.new().unwrap().name == "b" && f.swap(false, Ordering::SeqCst) {
                return Err("not yet".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let a = s.add(user("a"));
    let b = s.add(user("b"));
    assert!(s.flush().is_err());
    assert_eq!(count::<User>(&engine), 0);
    assert_eq!(a.get(), None, "a was not written by a successful flush");
    assert_eq!(b.get(), None);

    s.commit().unwrap();
    let (a, b) = (a.get().unwrap(), b.get().unwrap());
    let mut fresh = engine.session().unwrap();
    assert_eq!(fresh.get::<User>(a.id).unwrap(), Some(a));
    assert_eq!(fresh.get::<User>(b.id).unwrap(), Some(b));
    assert_eq!(fresh.query::<User>().count().unwrap(), 2);
});

on_each_db!(
    a_retry_whose_generated_key_was_taken_fails_loudly_instead_of_touching_another_row,
    |db: Db| {
        let failing = Arc::new(AtomicBool::new(true));
        let f = failing.clone();
        let engine = Engine::builder(&db.url)
            .listen::<User>(BeforeUpdate, move |_ctx, _c| {
                if f.swap(false, Ordering::SeqCst) {
                    return Err("not yet".into());
                }
                Ok(())
            })
            .build()
            .unwrap();
        engine.create_all().unwrap();

        let mut s = engine.session().unwrap();
        let bob = s.insert(user("Bob")).unwrap();
        s.update(&User {
            name: "Robert".into(),
            ..bob.clone()
        })
        .unwrap();
        assert!(s.commit().is_err());

        // Meanwhile another session inserts Eve, who gets the key Bob had in the rolled-back
        // transaction.
        let mut other = engine.session().unwrap();
        let mut others = vec![];
        let eve = if db.is_server() {
            // A sequence (InnoDB's AUTO_INCREMENT counter on MariaDB) never hands out a key
            // twice, even one of a rolled-back transaction: a generated key does not take
            // Bob's ...
            let fay = other.insert(user("Fay")).unwrap();
            assert!(fay.id > bob.id, "{fay:?} after {bob:?}");
            others.push("Fay");
            // ... but an explicit one can.
            other
                .insert(User {
                    id: bob.id,
                    ..user("Eve")
                })
                .unwrap()
        } else {
            // SQLite generates one past the largest rowid: Bob's, rolled back, again.
            other.insert(user("Eve")).unwrap()
        };
        others.push("Eve");
        other.commit().unwrap();
        drop(other);
        assert_eq!(eve.id, bob.id, "the scenario needs the key to be reused");

        // Retrying re-inserts Bob with the key his staged rename points at: the clash with
        // Eve fails loudly instead of renaming her.
        let err = s.commit().unwrap_err();
        assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err}");
        assert!(
            matches!(&err, Error::Statement { operation: "insert", model: Some("User"), pk: Some(pk), .. } if *pk == bob.id.to_string()),
            "{err}"
        );
        s.rollback().unwrap();
        let mut fresh = engine.session().unwrap();
        let mut names: Vec<String> = fresh
            .query::<User>()
            .all()
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        names.sort();
        others.sort();
        assert_eq!(names, others);
        assert_eq!(
            fresh.get::<User>(bob.id).unwrap().unwrap().name,
            "Eve",
            "Eve is untouched"
        );
    }
);

on_each_db!(
    a_retry_starts_from_the_rows_as_staged_so_before_listeners_change_them_once,
    |db: Db| {
        // Before* listeners modify the row about to be written; the transaction then fails.
        // The retry must start from the rows as the user staged them, not from what the
        // listeners made of them: each change is applied exactly once.
        let failing = Arc::new(AtomicBool::new(true));
        let f = failing.clone();
        let engine = Engine::builder(&db.url)
            .listen::<User>(BeforeInsert, |_ctx, c| {
                if let Some(u) = c.new_mut() {
                    u.name.push('!');
                }
                Ok(())
            })
            .listen::<User>(BeforeUpdate, |_ctx, c| {
                if let Some(u) = c.new_mut() {
                    u.name.push('+');
                }
                Ok(())
            })
            .listen_named::<User>("flaky", AfterDelete, move |_ctx, _c| {
                if f.swap(false, Ordering::SeqCst) {
                    return Err("not yet".into());
                }
                Ok(())
            })
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let jane = committed_users(&engine, &["jane"]).remove(0);
        let gone = committed_users(&engine, &["gone"]).remove(0);
        assert_eq!(jane.name, "jane!");

        let mut s = engine.session().unwrap();
        let bob = s.add(user("bob"));
        let mut j = s.get::<User>(jane.id).unwrap().unwrap();
        j.name = "joan".into();
        s.update(j).unwrap();
        s.delete(&gone).unwrap();
        let err = s.commit().unwrap_err();
        assert!(matches!(err, Error::Listener { .. }), "{err:?}");
        assert!(bob.get().is_none());

        s.commit().unwrap();
        let bob = bob.get().expect("written by the retry");
        assert_eq!(bob.name, "bob!", "BeforeInsert changed the retried row once");
        let mut fresh = engine.session().unwrap();
        let names: Vec<String> = fresh
            .query::<User>()
            .order_by(col("id").asc())
            .all()
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["joan+", "bob!"], "BeforeUpdate changed the retried row once");
    }
);

on_each_db!(a_retry_runs_the_transactions_flushes_again_in_their_order, |db: Db| {
    // Delete a member, flush, add a member with the same unique handle, flush: valid.
    // When a later write of the transaction fails, the retry must run those flushes in
    // the same order, not as one round (inserts before deletes would collide).
    let failing = Arc::new(AtomicBool::new(true));
    let f = failing.clone();
    let trace = Trace::default();
    let t = trace.clone();
    let engine = Engine::builder(&db.url)
        .on_flush(trigorm::event::BeforeFlush, move |_ctx| {
            t.push("flush");
            Ok(())
        })
        .listen_named::<Member>("flaky", AfterInsert, move |_ctx, c| {
            if c.new().is_some_and(|m| m.handle == "later") && f.swap(false, Ordering::SeqCst) {
                return Err("not yet".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let x = s
        .insert(Member {
            id: 0,
            handle: "x".into(),
        })
        .unwrap();
    s.commit().unwrap();
    trace.take();

    s.delete(&x).unwrap();
    s.flush().unwrap();
    s.add(Member {
        id: 0,
        handle: "x".into(),
    });
    s.flush().unwrap();
    s.add(Member {
        id: 0,
        handle: "later".into(),
    });
    let err = s.commit().unwrap_err();
    assert!(matches!(err, Error::Listener { .. }), "{err:?}");
    assert_eq!(trace.take().len(), 3, "three flushes");

    s.commit().expect("the retry runs the flushes in their order");
    assert_eq!(trace.take().len(), 3, "each flush runs again as it first ran");
    let mut fresh = engine.session().unwrap();
    let handles: Vec<String> = fresh
        .query::<Member>()
        .order_by(col("id").asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|m| m.handle)
        .collect();
    assert_eq!(handles, ["x", "later"]);
});

/// A row with optimistic locking: `version` goes one up with every update.
#[derive(Model, Clone, Debug, PartialEq)]
struct Doc {
    id: i64,
    title: String,
    #[trigorm(version)]
    version: i64,
}

/// An engine recording every `Doc` update and delete event as `"<Event> <title> v<old>-><new>"`.
fn doc_engine(b: EngineBuilder, trace: &Trace) -> Engine {
    let mut b = b.model::<Doc>();
    for ev in [BeforeUpdate, AfterUpdate, BeforeDelete, AfterDelete] {
        let t = trace.clone();
        b = b.listen::<Doc>(ev, move |_ctx, c| {
            let old = c.old().unwrap();
            let changed: Vec<&str> = c.changed().collect();
            t.push(match c.new() {
                Some(new) => format!(
                    "{:?} {} v{}->{} {changed:?}",
                    c.event(),
                    new.title,
                    old.version,
                    new.version
                ),
                None => format!("{:?} {} v{}", c.event(), old.title, old.version),
            });
            Ok(())
        });
    }
    let engine = b.build().unwrap();
    engine.create_all().unwrap();
    engine
}

fn stored_doc(engine: &Engine, id: i64) -> Option<Doc> {
    engine.session().unwrap().get::<Doc>(id).unwrap()
}

/// Another session changes the doc's title and commits.
fn retitle_elsewhere(engine: &Engine, id: i64, title: &str) -> Doc {
    let mut other = engine.session().unwrap();
    let mut d = other.get::<Doc>(id).unwrap().unwrap();
    d.title = title.into();
    other.update(&d).unwrap();
    other.commit().unwrap();
    other.get::<Doc>(id).unwrap().unwrap()
}

fn assert_conflict(err: &Error, id: i64, expected: i64, found: i64) {
    match err {
        Error::Conflict {
            model,
            pk,
            expected: e,
            found: f,
        } => {
            assert_eq!((*model, pk.as_str()), ("Doc", id.to_string().as_str()));
            assert_eq!((*e, *f), (expected, found), "versions: expected, found");
        }
        other => panic!("expected Error::Conflict, got {other:?}"),
    }
    assert!(err.is_retryable(), "a conflict is retried by reading again: {err}");
    let text = err.to_string();
    assert!(text.contains("Doc") && text.contains(&id.to_string()), "{text}");
}

// Semantics §2: a model with a version column refuses to write over a change it has not
// seen (optimistic locking): the update of a stale copy fails with a typed conflict, and
// writes and fires nothing; read again, the same change goes through. Every update writes
// the version one higher; an update that changes nothing writes nothing, version included.
on_each_db!(a_stale_copy_of_a_versioned_row_is_refused_with_a_conflict, |db: Db| {
    let trace = Trace::default();
    let engine = doc_engine(Engine::builder(&db.url), &trace);
    let mut s = engine.session().unwrap();
    let doc = s
        .insert(Doc {
            id: 0,
            title: "a".into(),
            version: 1,
        })
        .unwrap();
    s.commit().unwrap();
    assert_eq!(stored_doc(&engine, doc.id), Some(doc.clone()));

    // A copy read in one transaction, then changed by another session.
    let mut stale = s.get::<Doc>(doc.id).unwrap().unwrap();
    s.commit().unwrap();
    let theirs = retitle_elsewhere(&engine, doc.id, "theirs");
    assert_eq!(theirs.version, 2, "the other session's update wrote version 2");
    assert_eq!(
        trace.take(),
        [
            r#"BeforeUpdate theirs v1->2 ["title", "version"]"#,
            r#"AfterUpdate theirs v1->2 ["title", "version"]"#
        ]
    );

    stale.title = "mine".into();
    s.update(&stale).unwrap();
    let err = s.commit().unwrap_err();
    assert_conflict(&err, doc.id, 1, 2);
    assert!(trace.take().is_empty(), "a refused update fires nothing");
    assert_eq!(stored_doc(&engine, doc.id), Some(theirs.clone()), "and writes nothing");
    assert!(s.has_pending(), "the refused update is pending again");
    s.rollback().unwrap();

    // Read again and retry: it goes through, one version up.
    let mut fresh = s.get::<Doc>(doc.id).unwrap().unwrap();
    assert_eq!(fresh, theirs);
    fresh.title = "mine".into();
    s.update(&fresh).unwrap();
    s.commit().unwrap();
    assert_eq!(
        stored_doc(&engine, doc.id),
        Some(Doc {
            id: doc.id,
            title: "mine".into(),
            version: 3
        })
    );
    trace.take();

    // One up per update, also for updates of this session's own copy in one transaction
    // (the session knows the versions it wrote).
    let mut d = s.get::<Doc>(doc.id).unwrap().unwrap();
    for title in ["b", "c"] {
        d.title = title.into();
        s.update(&d).unwrap();
        s.flush().unwrap();
    }
    s.commit().unwrap();
    assert_eq!(
        trace.take(),
        [
            r#"BeforeUpdate b v3->4 ["title", "version"]"#,
            r#"AfterUpdate b v3->4 ["title", "version"]"#,
            r#"BeforeUpdate c v4->5 ["title", "version"]"#,
            r#"AfterUpdate c v4->5 ["title", "version"]"#,
        ]
    );
    let current = stored_doc(&engine, doc.id).unwrap();
    assert_eq!((current.title.as_str(), current.version), ("c", 5));

    // An update that changes nothing does not bump the version, read in this transaction
    // or not.
    let same = s.get::<Doc>(doc.id).unwrap().unwrap();
    s.update(&same).unwrap();
    s.commit().unwrap();
    s.update(&current).unwrap();
    s.commit().unwrap();
    assert!(trace.take().is_empty(), "no update events");
    assert_eq!(stored_doc(&engine, doc.id), Some(current));
});

// The same within one transaction: another session can commit a change of a row this
// session read (reading takes no write lock), and the update of the copy is refused.
on_each_db!(
    a_versioned_row_changed_since_this_transaction_read_it_is_refused,
    |db: Db| {
        let trace = Trace::default();
        let b = Engine::builder(&db.url).busy_timeout(std::time::Duration::from_millis(200));
        let engine = doc_engine(b, &trace);
        let mut s = engine.session().unwrap();
        let doc = s
            .insert(Doc {
                id: 0,
                title: "a".into(),
                version: 1,
            })
            .unwrap();
        s.commit().unwrap();

        let mut mine = s.get::<Doc>(doc.id).unwrap().unwrap();
        let other = engine.session().and_then(|mut other| {
            let mut d = other.get::<Doc>(doc.id)?.expect("the doc");
            d.title = "theirs".into();
            other.update(&d)?;
            other.commit()
        });
        mine.title = "mine".into();
        s.update(&mine).unwrap();
        if db.kind == "memory" {
            // In memory there is no WAL: a reading transaction holds SQLite's shared lock,
            // which a writer's COMMIT waits for, so the other session is refused.
            let err = other.unwrap_err();
            assert_eq!(err.db_kind(), Some(DbErrorKind::Busy), "{err:?}");
            s.commit().unwrap();
            let stored = stored_doc(&engine, doc.id).unwrap();
            assert_eq!((stored.title.as_str(), stored.version), ("mine", 2));
        } else {
            // Reading took no lock (PostgreSQL, MariaDB, SQLite in WAL mode): the other writer
            // went ahead, and this session's copy is of version 1 while the row is at 2.
            other.unwrap();
            let err = s.commit().unwrap_err();
            assert_conflict(&err, doc.id, 1, 2);
            s.rollback().unwrap();
            assert_eq!(stored_doc(&engine, doc.id).unwrap().title, "theirs");
        }
    }
);

// A delete of a stale copy is refused the same way; read again, it goes through.
on_each_db!(a_delete_of_a_stale_copy_of_a_versioned_row_is_refused, |db: Db| {
    let trace = Trace::default();
    let engine = doc_engine(Engine::builder(&db.url), &trace);
    let mut s = engine.session().unwrap();
    let doc = s
        .insert(Doc {
            id: 0,
            title: "a".into(),
            version: 1,
        })
        .unwrap();
    s.commit().unwrap();
    let theirs = retitle_elsewhere(&engine, doc.id, "theirs");
    trace.take();

    s.delete(&doc).unwrap();
    let err = s.commit().unwrap_err();
    assert_conflict(&err, doc.id, 1, 2);
    assert!(trace.take().is_empty(), "a refused delete fires nothing");
    assert_eq!(
        stored_doc(&engine, doc.id),
        Some(theirs.clone()),
        "the row is still there"
    );
    s.rollback().unwrap();

    let fresh = s.get::<Doc>(doc.id).unwrap().unwrap();
    s.delete(&fresh).unwrap();
    s.commit().unwrap();
    assert_eq!(trace.take(), ["BeforeDelete theirs v2", "AfterDelete theirs v2"]);
    assert_eq!(stored_doc(&engine, doc.id), None);
});
