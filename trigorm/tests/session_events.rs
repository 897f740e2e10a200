//! Session events (semantics §3): BeforeFlush, AfterFlush, AfterCommit, AfterRollback, and
//! the `after_commit` queue.
mod common;
use common::*;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use trigorm::event::{
    AfterCommit, AfterFlush, AfterInsert, AfterRollback, BeforeFlush, BeforeInsert, BeforeUpdate, TxEvent,
};
use trigorm::{Engine, EngineBuilder, Error};

/// Trace the flush, transaction and insert events of `User` and `Log`.
fn traced(b: EngineBuilder, trace: &Trace) -> EngineBuilder {
    let (t1, t2, t3, t4, t5, t6) = (
        trace.clone(),
        trace.clone(),
        trace.clone(),
        trace.clone(),
        trace.clone(),
        trace.clone(),
    );
    b.on_flush(BeforeFlush, move |_ctx| {
        t1.push("BeforeFlush");
        Ok(())
    })
    .on_flush(AfterFlush, move |_ctx| {
        t2.push("AfterFlush");
        Ok(())
    })
    .on_transaction(AfterCommit, move |e| t3.push(format!("{e:?}")))
    .on_transaction(AfterRollback, move |e| t4.push(format!("{e:?}")))
    .listen::<User>(AfterInsert, move |_ctx, c| {
        t5.push(format!("User insert {}", c.new().unwrap().name));
        Ok(())
    })
    .listen::<Log>(AfterInsert, move |_ctx, c| {
        t6.push(format!("Log insert {}", c.new().unwrap().change_type));
        Ok(())
    })
}

fn names(engine: &Engine) -> Vec<String> {
    let mut s = engine.session().unwrap();
    let mut names: Vec<String> = s.query::<User>().all().unwrap().into_iter().map(|u| u.name).collect();
    names.sort();
    names
}

on_each_db!(before_flush_stages_writes_that_join_this_flush, |db: Db| {
    let trace = Trace::default();
    let armed = Arc::new(AtomicBool::new(false));
    let a = armed.clone();
    let engine = traced(audited(&db.url), &trace)
        .on_flush(BeforeFlush, move |ctx| {
            if a.swap(false, Ordering::SeqCst) {
                ctx.add(user("from BeforeFlush"));
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();

    let mut s = engine.session().unwrap();
    armed.store(true, Ordering::SeqCst);
    s.add(user("Jane"));
    s.flush().unwrap();
    assert!(!s.has_pending());
    assert_eq!(
        trace.take(),
        [
            "BeforeFlush",
            "User insert Jane",
            "User insert from BeforeFlush",
            "Log insert insert",
            "Log insert insert",
            "AfterFlush",
        ],
        "one flush writes the staged rows, with their events, and their log rows"
    );
    s.commit().unwrap();
    assert_eq!(names(&engine), ["Jane", "from BeforeFlush"]);
    assert_eq!(count::<Log>(&engine), 2);
});

on_each_db!(after_flush_fires_after_every_round, |db: Db| {
    let trace = Trace::default();
    let t = trace.clone();
    let engine = traced(audited(&db.url), &trace)
        .on_flush(AfterFlush, move |ctx| {
            // The rounds are written: the log rows staged by the insert's listener are there.
            let rows = ctx.query("SELECT COUNT(*) FROM log", &[])?;
            t.push(format!("AfterFlush sees {:?}", rows[0][0]));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.add(user("Jane"));
    s.add(user("Bob"));
    s.flush().unwrap();
    assert_eq!(
        trace.take(),
        [
            "BeforeFlush",
            "User insert Jane",
            "User insert Bob",
            "Log insert insert",
            "Log insert insert",
            "AfterFlush",
            "AfterFlush sees Int(2)",
        ]
    );
    s.commit().unwrap();
    assert_eq!(trace.take(), ["AfterCommit"]);
});

on_each_db!(staging_in_after_flush_is_a_usage_error_and_rolls_back, |db: Db| {
    let trace = Trace::default();
    let armed = Arc::new(AtomicBool::new(true));
    let a = armed.clone();
    let engine = traced(audited(&db.url), &trace)
        .on_flush(AfterFlush, move |ctx| {
            if a.load(Ordering::SeqCst) {
                ctx.add(user("too late"));
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();

    let mut s = engine.session().unwrap();
    s.add(user("Jane"));
    let err = s.commit().unwrap_err();
    match &err {
        Error::StagedAfterFlush { listener } => assert!(listener.contains("AfterFlush"), "{listener}"),
        other => panic!("expected Error::StagedAfterFlush, got {other:?}"),
    }
    let t = trace.take();
    assert_eq!(t.last().map(String::as_str), Some("AfterRollback"), "{t:?}");
    assert!(!t.iter().any(|e| e == "AfterCommit"), "{t:?}");
    assert_eq!(count::<User>(&engine), 0, "the flush's rows are rolled back");
    assert_eq!(count::<Log>(&engine), 0);

    // The session's change is pending again and goes through once the listener behaves.
    assert!(s.has_pending());
    armed.store(false, Ordering::SeqCst);
    s.commit().unwrap();
    assert_eq!(names(&engine), ["Jane"]);
    assert_eq!(count::<Log>(&engine), 1);
});

on_each_db!(after_commit_fires_once_after_commit, |db: Db| {
    let trace = Trace::default();
    let engine = traced(audited(&db.url), &trace).build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.add(user("Jane"));
    s.flush().unwrap();
    let t = trace.take();
    assert!(!t.iter().any(|e| e == "AfterCommit"), "a flush is not a commit: {t:?}");
    s.commit().unwrap();
    assert_eq!(trace.take(), ["AfterCommit"]);
    drop(s);
    assert!(trace.take().is_empty(), "a committed session has nothing to roll back");
});

on_each_db!(after_rollback_fires_on_rollback_on_error_and_on_drop, |db: Db| {
    let trace = Trace::default();
    let engine = traced(audited(&db.url), &trace)
        .listen::<User>(BeforeInsert, |_ctx, c| {
            if c.new().unwrap().name == "veto" {
                return Err("vetoed".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();

    // Explicit rollback.
    s.insert(user("Jane")).unwrap();
    trace.take();
    s.rollback().unwrap();
    assert_eq!(trace.take(), ["AfterRollback"]);

    // An error.
    let err = s.insert(user("veto")).unwrap_err();
    assert!(matches!(err, Error::Listener { .. }), "{err:?}");
    let t = trace.take();
    assert_eq!(t.iter().filter(|e| *e == "AfterRollback").count(), 1, "{t:?}");
    assert_eq!(t.last().map(String::as_str), Some("AfterRollback"), "{t:?}");
    s.rollback().unwrap(); // discard the vetoed insert

    // Dropping a session with an open transaction.
    s.insert(user("Bob")).unwrap();
    trace.take();
    drop(s);
    assert_eq!(trace.take(), ["AfterRollback"]);

    assert_eq!(count::<User>(&engine), 0);
    assert_eq!(count::<Log>(&engine), 0);
    let t = trace.take();
    assert!(!t.iter().any(|e| e == "AfterCommit"), "{t:?}");
});

/// An engine whose `User` inserts queue an after-commit "mail", which checks that the user
/// is durable: visible to another session.
fn mailing(url: &str, trace: &Trace) -> Engine {
    let cell: Arc<OnceLock<Engine>> = Arc::new(OnceLock::new());
    let (c, t) = (cell.clone(), trace.clone());
    let engine = traced(audited(url), trace)
        .listen::<User>(AfterInsert, move |ctx, ch| {
            let (c, t) = (c.clone(), t.clone());
            let u = ch.new().unwrap().clone();
            ctx.after_commit(move || {
                let engine = c.get().expect("the engine");
                let visible = engine.session().unwrap().get::<User>(u.id).unwrap().is_some();
                t.push(format!("mail {} (committed: {visible})", u.name));
            });
            Ok(())
        })
        .listen::<User>(BeforeUpdate, |_ctx, c| {
            if c.new().unwrap().name == "veto" {
                return Err("vetoed".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    cell.set(engine.clone()).unwrap();
    engine
}

fn mails(trace: &Trace) -> Vec<String> {
    trace
        .take()
        .into_iter()
        .filter(|e| e.starts_with("mail") || e == "AfterCommit")
        .collect()
}

on_each_db!(after_commit_callbacks_run_once_in_order_after_commit, |db: Db| {
    let trace = Trace::default();
    let engine = mailing(&db.url, &trace);
    let mut s = engine.session().unwrap();
    s.add(user("a"));
    s.add(user("b"));
    s.flush().unwrap();
    s.add(user("c"));
    s.flush().unwrap();
    assert_eq!(mails(&trace), Vec::<String>::new(), "nothing runs before COMMIT");
    s.commit().unwrap();
    assert_eq!(
        mails(&trace),
        [
            "AfterCommit",
            "mail a (committed: true)",
            "mail b (committed: true)",
            "mail c (committed: true)",
        ]
    );
    // Once: later commits do not run them again.
    s.commit().unwrap();
    assert_eq!(mails(&trace), Vec::<String>::new());
    s.add(user("d"));
    s.commit().unwrap();
    assert_eq!(mails(&trace), ["AfterCommit", "mail d (committed: true)"]);
});

on_each_db!(
    after_commit_callbacks_are_dropped_when_the_transaction_rolls_back,
    |db: Db| {
        let trace = Trace::default();
        let engine = mailing(&db.url, &trace);
        let mut s = engine.session().unwrap();

        // Explicit rollback.
        s.add(user("a"));
        s.flush().unwrap();
        s.rollback().unwrap();
        s.add(user("z1"));
        s.commit().unwrap();
        assert_eq!(
            mails(&trace),
            ["AfterCommit", "mail z1 (committed: true)"],
            "the rolled-back insert's mail is dropped"
        );

        // An error, later in the transaction than the callback.
        let b = s.insert(user("b")).unwrap();
        s.update(&User {
            name: "veto".into(),
            ..b.clone()
        })
        .unwrap();
        assert!(s.flush().is_err());
        s.rollback().unwrap();
        s.add(user("z2"));
        s.commit().unwrap();
        assert_eq!(
            mails(&trace),
            ["AfterCommit", "mail z2 (committed: true)"],
            "the failed transaction's mail is dropped"
        );

        // Dropping the session.
        s.add(user("c"));
        s.flush().unwrap();
        drop(s);
        assert_eq!(mails(&trace), Vec::<String>::new());
        assert_eq!(names(&engine), ["z1", "z2"]);
        assert_eq!(mails(&trace), Vec::<String>::new());
    }
);

on_each_db!(
    after_commit_callbacks_of_a_failed_flush_run_once_after_the_retry,
    |db: Db| {
        let trace = Trace::default();
        let armed = Arc::new(AtomicBool::new(true));
        let a = armed.clone();
        let engine = {
            let cell: Arc<OnceLock<Engine>> = Arc::new(OnceLock::new());
            let (c, t) = (cell.clone(), trace.clone());
            let engine = traced(Engine::builder(&db.url), &trace)
                .listen::<User>(AfterInsert, move |ctx, ch| {
                    let (c, t, name) = (c.clone(), t.clone(), ch.new().unwrap().name.clone());
                    ctx.after_commit(move || {
                        let n = c.get().unwrap().session().unwrap().query::<User>().count().unwrap();
                        t.push(format!("mail {name} ({n} users)"));
                    });
                    Ok(())
                })
                .listen::<User>(AfterInsert, move |_ctx, ch| {
                    if ch.new().unwrap().name == "b" && a.swap(false, Ordering::SeqCst) {
                        return Err("the first attempt fails".into());
                    }
                    Ok(())
                })
                .build()
                .unwrap();
            engine.create_all().unwrap();
            cell.set(engine.clone()).unwrap();
            engine
        };
        let mut s = engine.session().unwrap();
        s.add(user("a"));
        s.add(user("b"));
        assert!(s.commit().is_err());
        assert_eq!(mails(&trace), Vec::<String>::new());
        s.commit().unwrap();
        assert_eq!(mails(&trace), ["AfterCommit", "mail a (2 users)", "mail b (2 users)"]);
    }
);

on_each_db!(
    session_after_commit_runs_after_commit_and_not_after_rollback,
    |db: Db| {
        let trace = Trace::default();
        let engine = traced(audited(&db.url), &trace).build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();

        s.add(user("Jane"));
        let t = trace.clone();
        s.after_commit(move || t.push("callback 1"));
        let t = trace.clone();
        s.after_commit(move || t.push("callback 2"));
        s.flush().unwrap();
        trace.take();
        s.commit().unwrap();
        assert_eq!(trace.take(), ["AfterCommit", "callback 1", "callback 2"]);

        s.add(user("Bob"));
        let t = trace.clone();
        s.after_commit(move || t.push("callback 3"));
        s.flush().unwrap();
        s.rollback().unwrap();
        s.add(user("Ann"));
        s.commit().unwrap();
        let t = trace.take();
        assert!(!t.iter().any(|e| e == "callback 3"), "{t:?}");
        assert_eq!(names(&engine), ["Ann", "Jane"]);
    }
);

on_each_db!(transaction_listeners_get_their_event, |db: Db| {
    let seen = Arc::new(Mutex::new(Vec::<TxEvent>::new()));
    let (a, b) = (seen.clone(), seen.clone());
    let engine = Engine::builder(&db.url)
        .model::<User>()
        .on_transaction(AfterCommit, move |e| a.lock().unwrap().push(e))
        .on_transaction(AfterRollback, move |e| b.lock().unwrap().push(e))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(user("Jane")).unwrap();
    s.commit().unwrap();
    s.insert(user("Bob")).unwrap();
    s.rollback().unwrap();
    assert_eq!(*seen.lock().unwrap(), [AfterCommit, AfterRollback]);
});

on_each_db!(a_flush_listener_error_is_named_and_rolls_back, |db: Db| {
    let trace = Trace::default();
    let armed = Arc::new(AtomicBool::new(false));
    let a = armed.clone();
    let engine = traced(audited(&db.url), &trace)
        .on_flush(BeforeFlush, move |_ctx| {
            if a.load(Ordering::SeqCst) {
                return Err("maintenance window".into());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(user("Jane")).unwrap();
    armed.store(true, Ordering::SeqCst);
    s.add(user("Bob"));
    let err = s.commit().unwrap_err();
    match &err {
        Error::SessionListener {
            listener,
            event,
            source,
        } => {
            assert_eq!((listener.as_str(), *event), ("BeforeFlush#2", "BeforeFlush"));
            assert_eq!(source.to_string(), "maintenance window");
        }
        other => panic!("expected Error::SessionListener, got {other:?}"),
    }
    assert_eq!(trace.take().last().map(String::as_str), Some("AfterRollback"));
    assert_eq!(
        count::<User>(&engine),
        0,
        "Jane, flushed earlier in the transaction, is rolled back"
    );
    assert_eq!(count::<Log>(&engine), 0);
    armed.store(false, Ordering::SeqCst);
    s.commit().unwrap();
    assert_eq!(names(&engine), ["Bob", "Jane"]);
    assert_eq!(count::<Log>(&engine), 2);
});

on_each_db!(flush_listeners_may_queue_after_commit_callbacks, |db: Db| {
    let trace = Trace::default();
    let (t1, t2) = (trace.clone(), trace.clone());
    let engine = traced(audited(&db.url), &trace)
        .on_flush(BeforeFlush, move |ctx| {
            let t = t1.clone();
            ctx.after_commit(move || t.push("queued in BeforeFlush"));
            Ok(())
        })
        .on_flush(AfterFlush, move |ctx| {
            let t = t2.clone();
            ctx.after_commit(move || t.push("queued in AfterFlush"));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.add(user("Jane"));
    s.flush().unwrap();
    assert!(!trace.take().iter().any(|e| e.starts_with("queued")));
    s.commit().unwrap();
    assert_eq!(
        trace.take(),
        ["AfterCommit", "queued in BeforeFlush", "queued in AfterFlush"]
    );
});
