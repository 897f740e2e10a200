//! Row events (semantics §2): what a listener sees, what it may change, veto, write and
//! stage, and when nothing fires.
mod common;
use common::*;

use std::sync::{Arc, Mutex};

use trigorm::error::DbErrorKind;
use trigorm::event::{
    AfterDelete, AfterInsert, AfterUpdate, BeforeDelete, BeforeInsert, BeforeUpdate, Operation, RowEvent,
};
use trigorm::query::col;
use trigorm::{Engine, EngineBuilder, Error, Value};

const ALL_USER_COLUMNS: [&str; 4] = ["id", "name", "email", "created_at"];

/// What one listener call saw.
#[derive(Debug, Clone)]
struct Seen {
    event: RowEvent,
    op: Operation,
    old: Option<User>,
    new: Option<User>,
    changed: Vec<&'static str>,
    has_new_mut: bool,
}

type Seens = Arc<Mutex<Vec<Seen>>>;

const ALL_EVENTS: [RowEvent; 6] = [
    BeforeInsert,
    AfterInsert,
    BeforeUpdate,
    AfterUpdate,
    BeforeDelete,
    AfterDelete,
];

/// Record every row event of `User`.
fn recording(mut b: EngineBuilder, seen: &Seens) -> EngineBuilder {
    for ev in ALL_EVENTS {
        let seen = seen.clone();
        b = b.listen::<User>(ev, move |_ctx, c| {
            let has_new_mut = c.new_mut().is_some();
            seen.lock().unwrap().push(Seen {
                event: c.event(),
                op: c.op(),
                old: c.old().cloned(),
                new: c.new().cloned(),
                changed: c.changed().collect(),
                has_new_mut,
            });
            Ok(())
        });
    }
    b
}

fn take(seen: &Seens) -> Vec<Seen> {
    std::mem::take(&mut *seen.lock().unwrap())
}

/// A user committed by its own session.
fn committed(engine: &Engine, u: User) -> User {
    let mut s = engine.session().unwrap();
    let u = s.insert(u).unwrap();
    s.commit().unwrap();
    u
}

fn fresh_user(engine: &Engine, id: i64) -> Option<User> {
    engine.session().unwrap().get::<User>(id).unwrap()
}

on_each_db!(insert_listeners_see_the_new_row_and_every_column, |db: Db| {
    let seen = Seens::default();
    let engine = recording(Engine::builder(&db.url), &seen).build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let written = s.insert(user("Jane")).unwrap();
    assert!(written.id > 0);
    let seen = take(&seen);
    assert_eq!(seen.len(), 2, "{seen:#?}");

    let before = &seen[0];
    assert_eq!((before.event, before.op), (BeforeInsert, Operation::Insert));
    assert!(before.old.is_none());
    assert_eq!(
        before.new.as_ref().unwrap(),
        &user("Jane"),
        "BeforeInsert sees the row, key 0"
    );
    assert_eq!(before.changed, ALL_USER_COLUMNS);
    assert!(before.has_new_mut);

    let after = &seen[1];
    assert_eq!((after.event, after.op), (AfterInsert, Operation::Insert));
    assert!(after.old.is_none());
    assert_eq!(
        after.new.as_ref().unwrap(),
        &written,
        "AfterInsert sees the generated key"
    );
    assert_eq!(after.changed, ALL_USER_COLUMNS);
    assert!(!after.has_new_mut, "new_mut() is None once the row is written");
});

on_each_db!(
    update_listeners_see_old_new_and_exactly_the_changed_columns,
    |db: Db| {
        let seen = Seens::default();
        let engine = recording(Engine::builder(&db.url), &seen).build().unwrap();
        engine.create_all().unwrap();
        let jane = committed(&engine, user("Jane"));
        take(&seen);

        let mut s = engine.session().unwrap();
        let mut u = s.get::<User>(jane.id).unwrap().unwrap();
        assert_eq!(u, jane);
        u.name = "Joan".into();
        u.email = Some("joan@example.com".into());
        s.update(&u).unwrap();
        s.flush().unwrap();

        let seen = take(&seen);
        assert_eq!(
            seen.iter().map(|x| x.event).collect::<Vec<_>>(),
            [BeforeUpdate, AfterUpdate]
        );
        for x in &seen {
            assert_eq!(x.op, Operation::Update);
            assert_eq!(x.old.as_ref().unwrap(), &jane);
            assert_eq!(x.new.as_ref().unwrap(), &u);
            assert_eq!(x.changed, ["name", "email"], "{:?}", x.event);
        }
        assert!(seen[0].has_new_mut, "BeforeUpdate may modify the row");
        assert!(!seen[1].has_new_mut, "AfterUpdate may not");
    }
);

on_each_db!(delete_listeners_see_the_old_row, |db: Db| {
    let seen = Seens::default();
    let engine = recording(Engine::builder(&db.url), &seen).build().unwrap();
    engine.create_all().unwrap();
    let jane = committed(&engine, user("Jane"));
    take(&seen);

    let mut s = engine.session().unwrap();
    let u = s.get::<User>(jane.id).unwrap().unwrap();
    s.delete(&u).unwrap();
    s.commit().unwrap();

    let seen = take(&seen);
    assert_eq!(
        seen.iter().map(|x| x.event).collect::<Vec<_>>(),
        [BeforeDelete, AfterDelete]
    );
    for x in &seen {
        assert_eq!(x.op, Operation::Delete);
        assert_eq!(x.old.as_ref().unwrap(), &jane);
        assert!(x.new.is_none());
        assert!(!x.has_new_mut);
        assert_eq!(x.changed, ALL_USER_COLUMNS);
    }
    assert_eq!(fresh_user(&engine, jane.id), None);
});

on_each_db!(old_values_are_read_at_flush_when_the_row_was_never_loaded, |db: Db| {
    let seen = Seens::default();
    let engine = recording(Engine::builder(&db.url), &seen).build().unwrap();
    engine.create_all().unwrap();
    let jane = committed(&engine, user("Jane"));
    // Another writer renames her behind the ORM's back.
    let mut other = engine.session().unwrap();
    other
        .execute(
            &db.sql("UPDATE users SET name = ? WHERE id = ?"),
            &[Value::from("Janet"), Value::from(jane.id)],
        )
        .unwrap();
    other.commit().unwrap();
    drop(other);
    take(&seen);

    // A session that never read the row: the old values are read at flush.
    let mut s = engine.session().unwrap();
    let u = User {
        name: "Joan".into(),
        ..jane.clone()
    };
    s.update(&u).unwrap();
    s.commit().unwrap();
    let first = take(&seen);
    assert_eq!(first.len(), 2, "{first:#?}");
    for x in &first {
        let old = x.old.as_ref().unwrap();
        assert_eq!(old.name, "Janet", "the true old value, not a guess");
        assert_eq!(
            old,
            &User {
                name: "Janet".into(),
                ..jane.clone()
            }
        );
        assert_eq!(x.changed, ["name"]);
    }

    // A row read in an earlier transaction of this session, changed since by someone
    // else: the old values are again those in the database.
    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(jane.id).unwrap().unwrap();
    s.commit().unwrap();
    let mut other = engine.session().unwrap();
    other
        .execute(
            &db.sql("UPDATE users SET name = ? WHERE id = ?"),
            &[Value::from("Jo"), Value::from(jane.id)],
        )
        .unwrap();
    other.commit().unwrap();
    drop(other);
    u.name = "Johanna".into();
    s.update(&u).unwrap();
    s.commit().unwrap();
    let second = take(&seen);
    assert_eq!(second.len(), 2, "{second:#?}");
    assert!(
        second.iter().all(|x| x.old.as_ref().unwrap().name == "Jo"),
        "{second:#?}"
    );
    assert_eq!(fresh_user(&engine, jane.id).unwrap().name, "Johanna");

    // A delete of a stale copy: the listeners see the row as it is in the database.
    let mut s = engine.session().unwrap();
    s.delete(&jane).unwrap();
    s.commit().unwrap();
    let third = take(&seen);
    assert_eq!(third.len(), 2, "{third:#?}");
    for x in &third {
        assert_eq!(
            x.old.as_ref().unwrap(),
            &User {
                name: "Johanna".into(),
                ..jane.clone()
            }
        );
    }
});

on_each_db!(old_values_after_raw_sql_in_the_same_transaction, |db: Db| {
    let seen = Seens::default();
    let engine = recording(Engine::builder(&db.url), &seen).build().unwrap();
    engine.create_all().unwrap();
    let jane = committed(&engine, user("Jane"));
    take(&seen);

    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(jane.id).unwrap().unwrap();
    // The session itself writes the row with raw SQL after reading it.
    s.execute(
        &db.sql("UPDATE users SET name = ? WHERE id = ?"),
        &[Value::from("Janet"), Value::from(jane.id)],
    )
    .unwrap();
    u.name = "Joan".into();
    s.update(&u).unwrap();
    s.commit().unwrap();
    let seen = take(&seen);
    assert_eq!(seen.len(), 2, "{seen:#?}");
    for x in &seen {
        assert_eq!(
            x.old.as_ref().unwrap().name,
            "Janet",
            "{:?}: the value last written to the database, not the one read before it",
            x.event
        );
    }
});

on_each_db!(an_after_insert_listener_can_update_the_row_it_inserted, |db: Db| {
    let seen = Seens::default();
    let b = Engine::builder(&db.url).listen::<User>(AfterInsert, |ctx, c| {
        // A value derived from the generated key.
        let mut u = c.new().unwrap().clone();
        u.email = Some(format!("user{}@example.com", u.id));
        ctx.update(&u);
        Ok(())
    });
    let engine = recording(b, &seen).build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let inserted = s.insert(user("Jane")).unwrap();
    s.commit().unwrap();
    let back = fresh_user(&engine, inserted.id).unwrap();
    assert_eq!(back.email, Some(format!("user{}@example.com", inserted.id)));

    let seen = take(&seen);
    assert_eq!(
        seen.iter().map(|x| x.event).collect::<Vec<_>>(),
        [BeforeInsert, AfterInsert, BeforeUpdate, AfterUpdate]
    );
    let update = &seen[3];
    assert_eq!(
        update.old.as_ref().unwrap(),
        &inserted,
        "the old row is the row as inserted"
    );
    assert_eq!(update.new.as_ref().unwrap(), &back);
    assert_eq!(update.changed, ["email"]);
});

on_each_db!(old_values_after_an_earlier_flush_in_the_same_transaction, |db: Db| {
    let seen = Seens::default();
    // BeforeUpdate stamps the email: what it set is part of what was written.
    let b = Engine::builder(&db.url).listen::<User>(BeforeUpdate, |_ctx, c| {
        let new = c.new_mut().expect("BeforeUpdate has a row to modify");
        new.email = Some(format!("{}@stamp", new.name.to_lowercase()));
        Ok(())
    });
    let engine = recording(b, &seen).build().unwrap();
    engine.create_all().unwrap();

    let mut s = engine.session().unwrap();
    let inserted = s.insert(user("Jane")).unwrap();
    take(&seen);

    // First update: its old row is the row as inserted earlier in this transaction.
    let mut u = inserted.clone();
    u.name = "A".into();
    s.update(&u).unwrap();
    s.flush().unwrap();
    let first = take(&seen);
    assert_eq!(
        first.iter().map(|x| x.event).collect::<Vec<_>>(),
        [BeforeUpdate, AfterUpdate]
    );
    let after = &first[1];
    assert_eq!(after.old.as_ref().unwrap(), &inserted);
    assert_eq!(after.new.as_ref().unwrap().email.as_deref(), Some("a@stamp"));
    assert_eq!(after.changed, ["name", "email"], "what was written, stamp included");

    // Second update from the caller's copy (which never saw the stamp): its old row is
    // what the first flush wrote, stamp included.
    u.name = "B".into();
    s.update(&u).unwrap();
    s.flush().unwrap();
    let second = take(&seen);
    assert_eq!(second.len(), 2, "{second:#?}");
    for x in &second {
        let old = x.old.as_ref().unwrap();
        assert_eq!(old.name, "A", "{:?}", x.event);
        assert_eq!(old.email.as_deref(), Some("a@stamp"), "{:?}", x.event);
    }
    let after = &second[1];
    assert_eq!(after.event, AfterUpdate);
    assert_eq!(after.new.as_ref().unwrap().email.as_deref(), Some("b@stamp"));
    assert_eq!(after.changed, ["name", "email"]);
    s.commit().unwrap();

    let back = fresh_user(&engine, inserted.id).unwrap();
    assert_eq!((back.name.as_str(), back.email.as_deref()), ("B", Some("b@stamp")));
});

on_each_db!(before_listener_modifications_are_what_is_written, |db: Db| {
    let after_saw = Arc::new(Mutex::new(Vec::<User>::new()));
    let a1 = after_saw.clone();
    let a2 = after_saw.clone();
    let engine = Engine::builder(&db.url)
        .listen::<User>(BeforeInsert, |_ctx, c| {
            let new = c.new_mut().unwrap();
            if new.email.is_none() {
                new.email = Some(format!("{}@default", new.name.to_lowercase()));
            }
            Ok(())
        })
        .listen::<User>(BeforeUpdate, |_ctx, c| {
            let new = c.new_mut().unwrap();
            new.name = new.name.to_uppercase();
            Ok(())
        })
        .listen::<User>(AfterInsert, move |_ctx, c| {
            a1.lock().unwrap().push(c.new().unwrap().clone());
            Ok(())
        })
        .listen::<User>(AfterUpdate, move |_ctx, c| {
            a2.lock().unwrap().push(c.new().unwrap().clone());
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();

    let mut s = engine.session().unwrap();
    let written = s.insert(user("Jane")).unwrap();
    assert_eq!(
        written.email.as_deref(),
        Some("jane@default"),
        "insert returns the row as written"
    );
    s.commit().unwrap();
    let back = fresh_user(&engine, written.id).unwrap();
    assert_eq!(back.email.as_deref(), Some("jane@default"));

    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(written.id).unwrap().unwrap();
    u.name = "joan".into();
    s.update(&u).unwrap();
    s.commit().unwrap();
    let back = fresh_user(&engine, written.id).unwrap();
    assert_eq!(back.name, "JOAN");
    assert_eq!(back.email.as_deref(), Some("jane@default"));

    let after_saw = after_saw.lock().unwrap();
    assert_eq!(after_saw.len(), 2);
    assert_eq!(
        after_saw[0].email.as_deref(),
        Some("jane@default"),
        "After* sees what was written"
    );
    assert_eq!(after_saw[1].name, "JOAN");
});

fn assert_veto(err: Error, pk: &str, listener: &str, event: RowEvent, message: &str) {
    let text = err.to_string();
    match err {
        Error::Listener {
            model,
            pk: p,
            listener: l,
            event: e,
            source,
        } => {
            assert_eq!(model, "User");
            assert_eq!(p, pk);
            assert_eq!(l, listener);
            assert_eq!(e, event);
            assert_eq!(source.to_string(), message);
            for part in ["User", pk, listener, message] {
                assert!(text.contains(part), "{text:?} should name {part:?}");
            }
        }
        other => panic!("expected Error::Listener, got {other:?}"),
    }
}

on_each_db!(before_update_veto_writes_nothing_and_names_the_listener, |db: Db| {
    let engine = audited(&db.url)
        .listen::<User>(BeforeUpdate, |_ctx, c| {
            if c.new().unwrap().name == "Mallory" {
                return Err("no Mallory".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let jane = committed(&engine, user("Jane"));
    assert_eq!(count::<Log>(&engine), 1);

    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(jane.id).unwrap().unwrap();
    u.name = "Mallory".into();
    s.update(&u).unwrap();
    let err = s.commit().unwrap_err();
    assert_veto(
        err,
        &jane.id.to_string(),
        "User.BeforeUpdate#1",
        BeforeUpdate,
        "no Mallory",
    );
    drop(s);
    assert_eq!(fresh_user(&engine, jane.id).unwrap().name, "Jane");
    assert_eq!(count::<Log>(&engine), 1, "no log row of the vetoed update");
});

on_each_db!(a_named_listener_is_named_in_its_veto, |db: Db| {
    let engine = Engine::builder(&db.url)
        .listen::<User>(BeforeInsert, |_ctx, _c| Ok(()))
        .listen_named::<User>("no-bots", BeforeInsert, |_ctx, c| {
            if c.new().unwrap().name.ends_with("bot") {
                return Err("bots are not users".into());
            }
            Ok(())
        })
        .listen::<User>(BeforeDelete, |_ctx, _c| Ok(()))
        .listen::<User>(BeforeDelete, |_ctx, _c| Err("users are forever".into()))
        .build()
        .unwrap();
    engine.create_all().unwrap();

    let mut s = engine.session().unwrap();
    let err = s.insert(user("spambot")).unwrap_err();
    assert_veto(err, "<new>", "no-bots", BeforeInsert, "bots are not users");
    s.rollback().unwrap();
    assert_eq!(count::<User>(&engine), 0);

    let jane = s.insert(user("Jane")).unwrap();
    s.commit().unwrap();
    s.delete(&jane).unwrap();
    let err = s.commit().unwrap_err();
    assert_veto(
        err,
        &jane.id.to_string(),
        "User.BeforeDelete#2",
        BeforeDelete,
        "users are forever",
    );
    s.rollback().unwrap();
    assert_eq!(fresh_user(&engine, jane.id), Some(jane));
});

fn raw_audit_engine(db: &Db) -> Engine {
    let insert =
        db.sql("INSERT INTO log (user_id, change_type, old_name, new_name, changed_at) VALUES (?, ?, ?, ?, ?)");
    let select = db.sql("SELECT name FROM users WHERE id = ?");
    let engine = Engine::builder(&db.url)
        .model::<Log>()
        .listen::<User>(AfterUpdate, move |ctx, c| {
            let (old, new) = (c.old().unwrap(), c.new().unwrap());
            let n = ctx.execute(
                &insert,
                &[
                    Value::from(new.id),
                    Value::from("raw"),
                    Value::from(old.name.as_str()),
                    Value::from(new.name.as_str()),
                    Value::from(t0()),
                ],
            )?;
            assert_eq!(n, 1);
            // The listener's connection sees the row as just written: same transaction.
            let rows = ctx.query(&select, &[Value::from(new.id)])?;
            if rows != vec![vec![Value::from(new.name.as_str())]] {
                return Err(format!("the listener saw {rows:?}").into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    engine
}

on_each_db!(listener_raw_sql_is_bound_and_commits_with_the_change, |db: Db| {
    let engine = raw_audit_engine(&db);
    let jane = committed(&engine, user("Jane"));
    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(jane.id).unwrap().unwrap();
    u.name = "O'Brien'); DROP TABLE users; --".into();
    s.update(&u).unwrap();
    s.commit().unwrap();

    let logs = engine.session().unwrap().query::<Log>().all().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].user_id, jane.id);
    assert_eq!(logs[0].change_type, "raw");
    assert_eq!(logs[0].old_name.as_deref(), Some("Jane"));
    assert_eq!(logs[0].new_name.as_deref(), Some(u.name.as_str()));
    assert_eq!(fresh_user(&engine, jane.id).unwrap().name, u.name);
});

on_each_db!(listener_raw_sql_rolls_back_with_the_change, |db: Db| {
    let engine = raw_audit_engine(&db);
    let jane = committed(&engine, user("Jane"));
    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(jane.id).unwrap().unwrap();
    u.name = "Joan".into();
    s.update(&u).unwrap();
    s.flush().unwrap();
    assert_eq!(
        s.query::<Log>().count().unwrap(),
        1,
        "written in the session's transaction"
    );
    s.rollback().unwrap();
    assert_eq!(count::<Log>(&engine), 0);
    assert_eq!(fresh_user(&engine, jane.id).unwrap().name, "Jane");
});

on_each_db!(
    a_staged_object_is_written_in_the_same_flush_and_fires_its_own_events,
    |db: Db| {
        let log_events = Arc::new(Mutex::new(Vec::<(RowEvent, Log)>::new()));
        let (l1, l2) = (log_events.clone(), log_events.clone());
        let engine = audited(&db.url)
            .listen::<Log>(BeforeInsert, move |_ctx, c| {
                l1.lock().unwrap().push((c.event(), c.new().unwrap().clone()));
                Ok(())
            })
            .listen::<Log>(AfterInsert, move |_ctx, c| {
                l2.lock().unwrap().push((c.event(), c.new().unwrap().clone()));
                Ok(())
            })
            .build()
            .unwrap();
        engine.create_all().unwrap();

        let mut s = engine.session().unwrap();
        s.add(user("Jane"));
        s.flush().unwrap();
        assert!(!s.has_pending(), "the log row was written by the same flush");
        let jane = s.query::<User>().first().unwrap().unwrap();
        let logs = s.query::<Log>().all().unwrap();
        assert_eq!(logs.len(), 1);
        assert_eq!((logs[0].user_id, logs[0].change_type.as_str()), (jane.id, "insert"));

        let events = log_events.lock().unwrap().clone();
        assert_eq!(
            events.iter().map(|e| e.0).collect::<Vec<_>>(),
            [BeforeInsert, AfterInsert]
        );
        assert_eq!(events[0].1.id, 0);
        // (`changed_at` is `Utc::now()`, whose sub-microsecond part SQLite does not keep: that
        // is `an_unchanged_object_returned_by_insert_is_no_change_in_a_later_transaction`.)
        let as_read = Log {
            changed_at: events[1].1.changed_at,
            ..logs[0].clone()
        };
        assert_eq!(
            events[1].1, as_read,
            "the Log's own AfterInsert sees the Log as written"
        );
        assert_eq!(events[1].1.user_id, jane.id);
        s.commit().unwrap();
        assert_eq!(count::<Log>(&engine), 1);
    }
);

on_each_db!(listeners_update_and_delete_through_their_context, |db: Db| {
    let log_events = Arc::new(Mutex::new(Vec::<(RowEvent, Option<Log>, Option<Log>)>::new()));
    let (l1, l2) = (log_events.clone(), log_events.clone());
    let of_user = db.sql("SELECT id FROM log WHERE user_id = ?");
    let of_old_user = of_user.clone();
    let engine = Engine::builder(&db.url)
        .listen::<User>(AfterInsert, |ctx, c| {
            ctx.add(Log::of("insert", None, c.new()));
            Ok(())
        })
        // Keep the user's log rows' new_name in step with the user.
        .listen::<User>(AfterUpdate, move |ctx, c| {
            let new = c.new().unwrap();
            for row in ctx.query(&of_user, &[Value::from(new.id)])? {
                let mut log = ctx.get::<Log>(row[0].clone())?.ok_or("log row vanished")?;
                log.new_name = Some(new.name.clone());
                ctx.update(&log);
            }
            Ok(())
        })
        // Remove them with the user.
        .listen::<User>(AfterDelete, move |ctx, c| {
            let old = c.old().unwrap();
            let logs = ctx.query(&of_old_user, &[Value::from(old.id)])?;
            for row in logs {
                let log = ctx.get::<Log>(row[0].clone())?.ok_or("log row vanished")?;
                ctx.delete(&log);
            }
            Ok(())
        })
        .listen::<Log>(AfterUpdate, move |_ctx, c| {
            l1.lock().unwrap().push((c.event(), c.old().cloned(), c.new().cloned()));
            Ok(())
        })
        .listen::<Log>(AfterDelete, move |_ctx, c| {
            l2.lock().unwrap().push((c.event(), c.old().cloned(), c.new().cloned()));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();

    let jane = committed(&engine, user("Jane"));
    let bob = committed(&engine, user("Bob"));
    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(jane.id).unwrap().unwrap();
    u.name = "Joan".into();
    s.update(&u).unwrap();
    s.commit().unwrap();

    let mut fresh = engine.session().unwrap();
    let logs = fresh.query::<Log>().filter(col("user_id").eq(jane.id)).all().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].new_name.as_deref(), Some("Joan"));
    assert_eq!(logs[0].old_name, None);
    drop(fresh);
    {
        let events = log_events.lock().unwrap();
        assert_eq!(events.len(), 1, "{events:#?}");
        let (ev, old, new) = &events[0];
        assert_eq!(*ev, AfterUpdate);
        assert_eq!(old.as_ref().unwrap().new_name.as_deref(), Some("Jane"));
        assert_eq!(new.as_ref().unwrap(), &logs[0]);
    }

    s.delete(&u).unwrap();
    s.commit().unwrap();
    let mut fresh = engine.session().unwrap();
    assert_eq!(
        fresh.query::<Log>().filter(col("user_id").eq(jane.id)).count().unwrap(),
        0
    );
    assert_eq!(
        fresh.query::<Log>().filter(col("user_id").eq(bob.id)).count().unwrap(),
        1
    );
    let events = log_events.lock().unwrap();
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[1].0, AfterDelete);
    assert_eq!(events[1].1.as_ref().unwrap(), &logs[0]);
    assert!(events[1].2.is_none());
});

on_each_db!(
    an_update_that_changes_nothing_sends_no_sql_and_fires_nothing,
    |db: Db| {
        let seen = Seens::default();
        let log = StatementLog::default();
        let engine = recording(log.attach(Engine::builder(&db.url)), &seen).build().unwrap();
        engine.create_all().unwrap();
        let jane = committed(&engine, user("Jane"));

        let mut s = engine.session().unwrap();
        let mut u = s.get::<User>(jane.id).unwrap().unwrap();
        take(&seen);
        log.take();
        s.update(&u).unwrap();
        u.name = "Jane".to_string(); // the value it already has
        s.update(&u).unwrap();
        s.flush().unwrap();
        // The flush may make the transaction a writing one (SQLite: COMMIT of the reading
        // transaction, BEGIN IMMEDIATE), but sends nothing of the update.
        let sent: Vec<String> = log
            .take()
            .into_iter()
            .filter(|sql| !matches!(sql.as_str(), "BEGIN" | "COMMIT"))
            .collect();
        assert_eq!(sent, Vec::<String>::new(), "no statement at all");
        assert!(take(&seen).is_empty(), "no update events");

        // Never loaded in this transaction: the old row is read, and nothing is written.
        s.commit().unwrap();
        log.take();
        s.update(&jane).unwrap();
        s.commit().unwrap();
        let sent = log.take();
        assert!(
            !sent.iter().any(|q| q.to_uppercase().starts_with("UPDATE")),
            "{sent:#?}"
        );
        // The read: on a server (PostgreSQL, MariaDB) it locks the row it may write (`FOR
        // UPDATE`); SQLite's transaction holds the write lock already.
        let reads: Vec<&String> = sent.iter().filter(|q| q.starts_with("SELECT")).collect();
        assert_eq!(reads.len(), 1, "{sent:#?}");
        assert_eq!(reads[0].ends_with(" FOR UPDATE"), db.is_server(), "{sent:#?}");
        assert!(take(&seen).is_empty(), "no update events");
    }
);

on_each_db!(
    an_unchanged_object_returned_by_insert_is_no_change_in_a_later_transaction,
    |db: Db| {
        // `User::new` stamps `Utc::now()`, with the clock's full precision.
        let seen = Seens::default();
        let log = StatementLog::default();
        let engine = recording(log.attach(Engine::builder(&db.url)), &seen).build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let jane = s.insert(User::new("Jane")).unwrap();
        s.commit().unwrap();
        take(&seen);
        log.take();

        // Nothing changed since it was written.
        s.update(&jane).unwrap();
        s.commit().unwrap();
        let sent = log.take();
        assert!(
            !sent.iter().any(|q| q.to_uppercase().starts_with("UPDATE")),
            "{sent:#?}"
        );
        assert!(take(&seen).is_empty(), "no update events");

        // And a rename changes exactly the name.
        let mut u = jane.clone();
        u.name = "Joan".into();
        s.update(&u).unwrap();
        s.commit().unwrap();
        let seen = take(&seen);
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|x| x.changed == ["name"]), "{seen:#?}");
    }
);

on_each_db!(listeners_run_in_registration_order, |db: Db| {
    let order = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut b = Engine::builder(&db.url);
    // Interleave events and the two ways of registering.
    for (i, ev) in [AfterUpdate, BeforeUpdate, AfterUpdate, BeforeUpdate, AfterUpdate]
        .into_iter()
        .enumerate()
    {
        let order = order.clone();
        let f = move |_ctx: &mut trigorm::ListenerCtx<'_, '_>, c: &mut trigorm::event::Change<'_, User>| {
            if let Some(new) = c.new_mut() {
                // Each Before* listener sees what the one before it set.
                new.name.push_str(&format!("+{i}"));
            }
            order
                .lock()
                .unwrap()
                .push(format!("{:?}:{i}:{}", c.event(), c.new().unwrap().name));
            Ok(())
        };
        b = if i % 2 == 0 {
            b.listen::<User>(ev, f)
        } else {
            b.listen_named::<User>(format!("named{i}"), ev, f)
        };
    }
    let engine = b.build().unwrap();
    engine.create_all().unwrap();
    let jane = committed(&engine, user("Jane"));

    let mut s = engine.session().unwrap();
    let mut u = s.get::<User>(jane.id).unwrap().unwrap();
    u.name = "J".into();
    s.update(&u).unwrap();
    s.commit().unwrap();
    assert_eq!(
        *order.lock().unwrap(),
        [
            "BeforeUpdate:1:J+1",
            "BeforeUpdate:3:J+1+3",
            "AfterUpdate:0:J+1+3",
            "AfterUpdate:2:J+1+3",
            "AfterUpdate:4:J+1+3",
        ]
    );
    assert_eq!(fresh_user(&engine, jane.id).unwrap().name, "J+1+3");
});

/// A row with a counter that other writers increment.
#[derive(trigorm::Model, Clone, Debug, PartialEq)]
#[trigorm(table = "counters")]
struct Counter {
    id: i64,
    name: String,
    n: i64,
}

/// What one `Counter` update event saw: old row, new row, changed columns.
type CounterSeen = Arc<Mutex<Vec<(RowEvent, Counter, Counter, Vec<&'static str>)>>>;

/// Record every `Counter` update event, and audit each update with a `Log` row in the same
/// transaction (`change_type` says the counter's old and new values).
fn counter_engine(b: EngineBuilder, seen: &CounterSeen) -> Engine {
    let mut b = b.model::<Log>();
    for ev in [BeforeUpdate, AfterUpdate] {
        let seen = seen.clone();
        b = b.listen::<Counter>(ev, move |ctx, c| {
            let (old, new) = (c.old().unwrap().clone(), c.new().unwrap().clone());
            if c.event() == AfterUpdate {
                ctx.add(Log {
                    id: 0,
                    user_id: new.id,
                    change_type: format!("n {} -> {}", old.n, new.n),
                    old_name: Some(old.name.clone()),
                    new_name: Some(new.name.clone()),
                    changed_at: t0(),
                });
            }
            seen.lock().unwrap().push((c.event(), old, new, c.changed().collect()));
            Ok(())
        });
    }
    let engine = b.build().unwrap();
    engine.create_all().unwrap();
    engine
}

/// After a rename of the stale copy of `counter`: the row holds the new name and the
/// counter `n` as the database had it, and the update's events and audit row show the
/// row's true old values (`n` as the database had it, not as the copy was read) and
/// exactly the name as changed.
fn assert_intent_written(engine: &Engine, seen: &CounterSeen, counter: &Counter, n: i64) {
    let stored = engine.session().unwrap().get::<Counter>(counter.id).unwrap().unwrap();
    assert_eq!(
        stored,
        Counter {
            name: "b".into(),
            n,
            ..counter.clone()
        },
        "the column the caller did not change is not written back"
    );
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(
        seen.iter().map(|x| x.0).collect::<Vec<_>>(),
        [BeforeUpdate, AfterUpdate]
    );
    for (event, old, new, changed) in &seen {
        let true_old = Counter { n, ..counter.clone() };
        assert_eq!(old, &true_old, "{event:?}: the row as it was when written");
        assert_eq!(new, &stored, "{event:?}");
        assert_eq!(changed, &["name"], "{event:?}");
    }
    let logs = engine.session().unwrap().query::<Log>().all().unwrap();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert_eq!(logs[0].change_type, format!("n {n} -> {n}"));
    assert_eq!(
        (logs[0].old_name.as_deref(), logs[0].new_name.as_deref()),
        (Some("a"), Some("b"))
    );
}

// Semantics §2, "Updates write intent": the caller renames its copy; meanwhile another
// session increments the counter and commits. The rename writes the name alone, onto the
// row as it is now: the increment stays, and the events and the audit row show the true
// old row.
on_each_db!(
    a_stale_copy_never_writes_back_a_column_another_session_changed,
    |db: Db| {
        let seen = CounterSeen::default();
        // Short waits: on SQLite the other session is expected to be refused.
        let b = Engine::builder(&db.url).busy_timeout(std::time::Duration::from_millis(200));
        let engine = counter_engine(b, &seen);
        let mut setup = engine.session().unwrap();
        let counter = setup
            .insert(Counter {
                id: 0,
                name: "a".into(),
                n: 1,
            })
            .unwrap();
        setup.commit().unwrap();
        drop(setup);

        let mut s = engine.session().unwrap();
        let mut u = s.get::<Counter>(counter.id).unwrap().unwrap();
        assert_eq!(u, counter);

        // Another session increments the counter and commits.
        let bumped = engine.session().and_then(|mut other| {
            let n = other.execute(
                &db.sql("UPDATE counters SET n = n + 1 WHERE id = ?"),
                &[Value::from(counter.id)],
            )?;
            other.commit()?;
            Ok(n)
        });
        let n = if db.kind == "memory" {
            // In memory there is no WAL: the reading transaction holds SQLite's shared lock,
            // which the other writer's COMMIT waits for in vain; the copy cannot go stale.
            let err = bumped.unwrap_err();
            assert_eq!(err.db_kind(), Some(DbErrorKind::Busy), "{err:?}");
            1
        } else {
            // Reading the row took no lock (PostgreSQL, MariaDB: READ COMMITTED; SQLite in WAL
            // mode: a reading transaction): the other writer goes ahead.
            assert_eq!(bumped.unwrap(), 1);
            2
        };

        u.name = "b".into();
        s.update(&u).unwrap();
        s.commit().unwrap();
        assert_intent_written(&engine, &seen, &counter, n);
    }
);

// The same with the session's own raw SQL as the other writer (which makes the session
// forget the rows it remembers): the rename still writes the name alone.
on_each_db!(a_stale_copy_never_writes_back_a_column_raw_sql_changed, |db: Db| {
    let seen = CounterSeen::default();
    let engine = counter_engine(Engine::builder(&db.url), &seen);
    let mut s = engine.session().unwrap();
    let counter = s
        .insert(Counter {
            id: 0,
            name: "a".into(),
            n: 1,
        })
        .unwrap();
    s.commit().unwrap();

    let mut u = s.get::<Counter>(counter.id).unwrap().unwrap();
    let bumped = s
        .execute(
            &db.sql("UPDATE counters SET n = n + 1 WHERE id = ?"),
            &[Value::from(counter.id)],
        )
        .unwrap();
    assert_eq!(bumped, 1);
    u.name = "b".into();
    s.update(&u).unwrap();
    s.commit().unwrap();
    assert_intent_written(&engine, &seen, &counter, 2);
});
