//! Connection hygiene, from the hardening review (items 1 and 6) and semantics §2, §4, §9:
//! raw SQL, through a session or a listener, cannot end or nest the session's transaction
//! nor leave per-connection state for the next session on a pooled connection; a session
//! dropped mid-transaction gives its connection (and its locks) back; a connection the
//! server drops mid-transaction loses that transaction and nothing else.
//!
//! SQLite refuses the statements that would leave state (its authorizer); PostgreSQL runs
//! them and resets the connection (`DISCARD ALL`) before the pool lends it again. The tests
//! of the authorizer run on SQLite alone; each has a PostgreSQL counterpart that checks the
//! same contract.
mod common;
use common::*;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trigorm::driver::{
    Backend, CallbackError, Connection, Driver, QueryError, RowCallback, RowParams, RowRefCallback, Statements,
};
use trigorm::error::{DbError, DbErrorKind};
use trigorm::event::AfterInsert;
use trigorm::query::col;
use trigorm::{Engine, Error, Model, Value, ValueRef};

/// As `on_each_db!`, on PostgreSQL alone (skipped, saying so, when no server answers and
/// `TRIGORM_REQUIRE_SERVERS` is not `1`): the counterparts of SQLite-only tests, and what
/// only a server can do (drop a connection).
macro_rules! on_postgres {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn postgres() {
                let f: fn(Db) = $body;
                if let Some(db) = Db::postgres() {
                    f(db);
                }
            }
        }
    };
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "item")]
struct Item {
    id: i64,
    name: String,
    qty: i64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "note")]
struct Note {
    id: i64,
    text: String,
}

fn item(name: &str, qty: i64) -> Item {
    Item {
        id: 0,
        name: name.to_string(),
        qty,
    }
}

fn text(s: &str) -> Vec<Vec<Value>> {
    vec![vec![Value::from(s)]]
}

/// The PostgreSQL backend process of `s`'s connection.
fn backend_pid(s: &mut trigorm::Session) -> i32 {
    match rows(s, "SELECT pg_backend_pid()").as_slice() {
        [row] => match row.as_slice() {
            [Value::Int(pid)] => i32::try_from(*pid).expect("a pid"),
            other => panic!("a backend pid: {other:?}"),
        },
        other => panic!("a backend pid: {other:?}"),
    }
}

/// End the PostgreSQL backend `pid` (as an administrator or a server restart would), and
/// wait until the server has.
fn terminate_backend(admin: &mut postgres::Client, pid: i32) {
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed, "the backend was terminated");
    let start = Instant::now();
    while admin
        .query_one("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        assert!(start.elapsed() < Duration::from_secs(5), "the backend did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn int(n: i64) -> Vec<Vec<Value>> {
    vec![vec![Value::Int(n)]]
}

fn item_names(engine: &Engine) -> Vec<(i64, String, i64)> {
    let mut s = engine.session().unwrap();
    let mut items = s.query::<Item>().order_by(col("id").asc()).all().unwrap();
    items.sort_by_key(|i| i.id);
    items.into_iter().map(|i| (i.id, i.name, i.qty)).collect()
}

/// Statements that would end or nest the session's transaction: refused on every backend.
const TRANSACTION_CONTROL: &[&str] = &["COMMIT", "END", "ROLLBACK", "BEGIN", "SAVEPOINT x", "SELECT 1; COMMIT"];

/// SQLite: more ways to nest the transaction, and the statements that would leave state on
/// the (pooled) connection, which its authorizer refuses.
const SQLITE_FORBIDDEN: &[&str] = &[
    "BEGIN IMMEDIATE",
    "CREATE TEMP TABLE scratch (x INTEGER)",
    "CREATE TEMP VIEW scratch_view AS SELECT 1",
    "CREATE TEMP TRIGGER no_items BEFORE INSERT ON item BEGIN SELECT RAISE(ABORT, 'no'); END",
    "ATTACH DATABASE ':memory:' AS aux",
    "PRAGMA query_only = 1",
    "PRAGMA foreign_keys = OFF",
    "PRAGMA recursive_triggers = ON",
];

/// PostgreSQL: more ways to begin, end or nest the transaction, or to prepare it for
/// two-phase commit (which takes any `PREPARE`: the first word decides), in any case and
/// after comments; and a COMMIT inside a procedural block, which the server refuses in a
/// transaction block.
const POSTGRES_FORBIDDEN: &[&str] = &[
    "START TRANSACTION",
    "BEGIN ISOLATION LEVEL SERIALIZABLE",
    "ABORT",
    "commit",
    "  -- a comment\n/* and another */ Commit",
    "RELEASE SAVEPOINT x",
    "ROLLBACK TO SAVEPOINT x",
    "PREPARE TRANSACTION 'x'",
    "PREPARE leaked AS SELECT 1",
    "DO $$ BEGIN COMMIT; END $$",
];

/// The statements that would end or nest the transaction on this backend (and, on SQLite,
/// leave state on the connection).
fn forbidden(db: &Db) -> Vec<&'static str> {
    let more = if db.is_postgres() {
        POSTGRES_FORBIDDEN
    } else {
        SQLITE_FORBIDDEN
    };
    TRANSACTION_CONTROL.iter().chain(more).copied().collect()
}

/// PostgreSQL runs these (raw SQL may create temporary objects and change settings inside
/// the session's transaction), but none may outlive the session on its connection: settings
/// (one that disables foreign keys and triggers, one that makes later transactions read-only,
/// one that moves the session to another schema), temporary objects (one that hides the
/// real `item` table), a prepared statement, an advisory lock, a LISTEN.
const POSTGRES_SESSION_STATE: &[&str] = &[
    "SET statement_timeout = 1234",
    "SELECT set_config('lock_timeout', '1234', false)",
    "SET session_replication_role = replica",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "SET search_path = pg_catalog",
    "CREATE TEMP TABLE scratch (x INTEGER)",
    "CREATE TEMP VIEW scratch_view AS SELECT 1",
    "CREATE TEMP TABLE item (id BIGINT, name TEXT, qty BIGINT)",
    "DO $$ BEGIN EXECUTE 'PREPARE leaked AS SELECT 1'; END $$",
    "SELECT pg_try_advisory_lock(42)",
    "LISTEN trigorm_channel",
];

/// After the forbidden statements: the connections carry none of their effects, and a
/// later session writes where it should.
fn assert_clean_connection(db: &Db, engine: &Engine) {
    if db.is_postgres() {
        assert_clean_postgres_connection(db, engine);
        return;
    }
    let mut s = engine.session().unwrap();
    assert_eq!(rows(&mut s, "PRAGMA query_only"), int(0), "query_only leaked");
    assert_eq!(rows(&mut s, "PRAGMA foreign_keys"), int(1), "foreign_keys leaked");
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM sqlite_temp_master"),
        int(0),
        "a TEMP object leaked"
    );
    assert_eq!(
        rows(&mut s, "SELECT name FROM pragma_database_list WHERE name = 'aux'"),
        Vec::<Vec<Value>>::new(),
        "an attached database leaked"
    );
    let it = s.insert(item("after", 1)).expect("a later session can write");
    s.commit().unwrap();
    drop(s);
    let mut check = engine.session().unwrap();
    check.delete(&it).unwrap();
    check.commit().unwrap();
}

/// PostgreSQL: nothing of `POSTGRES_SESSION_STATE` is left on the connection (the engine
/// has one, so this session runs on the connection the earlier ones used).
fn assert_clean_postgres_connection(db: &Db, engine: &Engine) {
    let mut s = engine.session().unwrap();
    assert_eq!(rows(&mut s, "SHOW statement_timeout"), text("0"), "a setting leaked");
    assert_eq!(rows(&mut s, "SHOW lock_timeout"), text("0"), "a setting leaked");
    assert_eq!(
        rows(&mut s, "SHOW session_replication_role"),
        text("origin"),
        "foreign keys and triggers were left disabled"
    );
    assert_eq!(
        rows(&mut s, "SHOW default_transaction_read_only"),
        text("off"),
        "later transactions were left read-only"
    );
    let schema = &db.schema.as_ref().expect("a PostgreSQL test's schema").name;
    assert_eq!(
        rows(&mut s, "SELECT current_schema()"),
        text(schema),
        "the search path leaked"
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"
        ),
        int(0),
        "a TEMP object leaked"
    );
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM pg_prepared_statements WHERE from_sql"),
        int(0),
        "a prepared statement leaked"
    );
    assert_eq!(
        rows(
            &mut s,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ),
        int(0),
        "an advisory lock leaked"
    );
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM pg_listening_channels()"),
        int(0),
        "a LISTEN leaked"
    );
    let it = s.insert(item("after", 1)).expect("a later session can write");
    s.commit().unwrap();
    drop(s);
    // Into the real table, as any other client sees it.
    let mut plain = db.pg_client();
    let names: Vec<String> = plain
        .query("SELECT name FROM item WHERE id = $1", &[&it.id])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["after"], "the row went to the real table");
    let mut check = engine.session().unwrap();
    check.delete(&it).unwrap();
    check.commit().unwrap();
}

// 1. A listener cannot end or nest the transaction, nor leave per-connection state.
on_each_db!(listener_raw_sql_cannot_control_the_transaction, |db: Db| {
    let stmt = Arc::new(Mutex::new(String::new()));
    let via_query = Arc::new(AtomicBool::new(false));
    let (sql, q) = (stmt.clone(), via_query.clone());
    let engine = Engine::builder(&db.url)
        .model::<Note>()
        .listen::<Item>(AfterInsert, move |ctx, _c| {
            let sql = sql.lock().unwrap().clone();
            if q.load(Ordering::SeqCst) {
                ctx.query(&sql, &[])?;
            } else {
                ctx.execute(&sql, &[])?;
            }
            Ok(())
        })
        // One connection: the one the statements ran on is the one checked after them.
        .pool_size(1)
        .build()
        .unwrap();
    engine.create_all().unwrap();

    for query in [false, true] {
        via_query.store(query, Ordering::SeqCst);
        for forbidden in forbidden(&db) {
            *stmt.lock().unwrap() = forbidden.to_string();
            let what = format!("{} {forbidden:?}", if query { "ctx.query" } else { "ctx.execute" });
            let mut s = engine.session().unwrap();
            // Written earlier in the same transaction: a raw COMMIT would make it durable.
            s.insert(Note {
                id: 0,
                text: "earlier".into(),
            })
            .unwrap();
            s.add(item("a", 1));
            let err = s.commit().expect_err(&what);
            assert_listener_statement(&err, &what);
            assert!(s.has_pending(), "{what}: the staged writes are pending again");
            drop(s);
            assert_eq!(count::<Note>(&engine), 0, "{what}: the earlier write was rolled back");
            assert_eq!(count::<Item>(&engine), 0, "{what}: the row was rolled back");
        }
    }
    if db.is_postgres() {
        // What PostgreSQL lets a listener do to the connection ends with the session.
        for query in [false, true] {
            via_query.store(query, Ordering::SeqCst);
            for state in POSTGRES_SESSION_STATE {
                *stmt.lock().unwrap() = state.to_string();
                let what = format!("{} {state:?}", if query { "ctx.query" } else { "ctx.execute" });
                let mut s = engine.session().unwrap();
                s.add(item("a", 1));
                s.commit().unwrap_or_else(|e| panic!("{what}: {e}"));
                drop(s);
                assert_clean_connection(&db, &engine);
                let mut s = engine.session().unwrap();
                assert_eq!(s.delete_where::<Item>(col("name").eq("a")).unwrap(), 1, "{what}");
                s.commit().unwrap();
            }
        }
    }
    *stmt.lock().unwrap() = "SELECT 1".to_string();
    assert_clean_connection(&db, &engine);
});

// 1. The same through the session's own raw SQL.
on_each_db!(session_raw_sql_cannot_control_the_transaction, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Item>()
        .model::<User>()
        .pool_size(1)
        .build()
        .unwrap();
    engine.create_all().unwrap();

    for forbidden in forbidden(&db) {
        let mut s = engine.session().unwrap();
        s.insert(item("earlier", 1)).unwrap();
        let err = s.execute(forbidden, &[]).expect_err(forbidden);
        assert!(
            matches!(err, Error::Statement { .. }),
            "execute {forbidden:?}: expected Error::Statement, got {err:?}"
        );
        drop(s);
        assert_eq!(
            count::<Item>(&engine),
            0,
            "execute {forbidden:?}: the transaction rolled back"
        );

        // A query cannot do it either: the transaction is still the session's.
        let mut s = engine.session().unwrap();
        s.insert(item("earlier", 1)).unwrap();
        let err = s.query_raw(forbidden, &[]).expect_err(forbidden);
        assert!(
            matches!(err, Error::Statement { .. }),
            "query_raw {forbidden:?}: expected Error::Statement, got {err:?}"
        );
        s.rollback().unwrap();
        drop(s);
        assert_eq!(
            count::<Item>(&engine),
            0,
            "query_raw {forbidden:?}: nothing was committed"
        );
    }

    // Reading the schema and the connection's settings still works.
    let mut s = engine.session().unwrap();
    let expected = ["id", "name", "email", "created_at"].map(Value::from);
    if db.is_postgres() {
        let info = rows(
            &mut s,
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'users' ORDER BY ordinal_position",
        );
        let names: Vec<&Value> = info.iter().map(|r| &r[0]).collect();
        assert_eq!(names, expected.iter().collect::<Vec<_>>());
        assert_eq!(rows(&mut s, "SHOW session_replication_role"), text("origin"));
    } else {
        let info = rows(&mut s, "PRAGMA table_info(users)");
        let names: Vec<&Value> = info.iter().map(|r| &r[1]).collect();
        assert_eq!(names, expected.iter().collect::<Vec<_>>());
        assert_eq!(rows(&mut s, "PRAGMA foreign_keys"), int(1));
    }
    s.commit().unwrap();
    drop(s);
    assert_clean_connection(&db, &engine);
});

// 1. A listener may still read pragmas. (PRAGMA is SQLite's, and what is checked is that its
// authorizer lets a read through; the PostgreSQL counterpart reads the catalog and a
// setting.)
on_sqlite!(listener_can_read_pragmas, |db: Db| {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let engine = Engine::builder(&db.url)
        .listen::<Item>(AfterInsert, move |ctx, _c| {
            let info = ctx.query("PRAGMA table_info(item)", &[])?;
            let fk = ctx.query("PRAGMA foreign_keys", &[])?;
            out.lock().unwrap().push((info.len(), fk));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(item("a", 1)).unwrap();
    s.commit().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![(3, int(1))]);
});

on_postgres!(listener_can_read_the_catalog_and_settings, |db: Db| {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let engine = Engine::builder(&db.url)
        .listen::<Item>(AfterInsert, move |ctx, _c| {
            let info = ctx.query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = 'item'",
                &[],
            )?;
            let role = ctx.query("SHOW session_replication_role", &[])?;
            out.lock().unwrap().push((info.len(), role));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(item("a", 1)).unwrap();
    s.commit().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![(3, text("origin"))]);
});

// 6. Pool hygiene: what one session tried to leave on the connection does not reach the next.
// (SQLite's authorizer refuses these statements; the PostgreSQL counterpart runs them and
// checks that the next session on the connection sees none of their effects.)
on_sqlite!(pool_connection_state_does_not_leak, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().pool_size(1).build().unwrap();
    engine.create_all().unwrap();
    {
        let mut s = engine.session().unwrap();
        assert!(s.execute("PRAGMA query_only = 1", &[]).is_err());
        assert!(s.query_raw("PRAGMA query_only = 1", &[]).is_err());
        s.rollback().unwrap();
        assert!(s
            .execute(
                "CREATE TEMP TRIGGER no_items BEFORE INSERT ON item BEGIN SELECT RAISE(ABORT, 'no'); END",
                &[]
            )
            .is_err());
        assert!(s.execute("CREATE TEMP TABLE scratch (x)", &[]).is_err());
        let _ = s.commit();
    }
    let mut s = engine.session().unwrap();
    let it = s
        .insert(item("a", 1))
        .expect("the next session on the connection can write");
    s.commit().unwrap();
    drop(s);
    assert!(it.id > 0);
    assert_clean_connection(&db, &engine);
});

on_postgres!(pool_connection_state_does_not_leak_postgres, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().pool_size(1).build().unwrap();
    engine.create_all().unwrap();
    for state in POSTGRES_SESSION_STATE {
        for query in [false, true] {
            for commit in [true, false] {
                let what = format!(
                    "{} {state:?}, then {}",
                    if query { "query_raw" } else { "execute" },
                    if commit { "commit" } else { "drop" }
                );
                let mut s = engine.session().unwrap();
                s.insert(item("a", 1)).unwrap();
                let r = if query {
                    s.query_raw(state, &[]).map(drop)
                } else {
                    s.execute(state, &[]).map(drop)
                };
                r.unwrap_or_else(|e| panic!("{what}: {e}"));
                if commit {
                    s.commit().unwrap_or_else(|e| panic!("{what}: {e}"));
                }
                drop(s);
                assert_clean_connection(&db, &engine);
                let mut s = engine.session().unwrap();
                let n = s.delete_where::<Item>(col("name").eq("a")).unwrap();
                assert_eq!(n, u64::from(commit), "{what}");
                s.commit().unwrap();
            }
        }
    }
});

// 6. TEMP objects named with the `temp.` schema instead of the TEMP keyword. (SQLite's
// authorizer refuses them; on PostgreSQL the temporary schema is `pg_temp`, below.)
on_sqlite!(pool_connection_temp_schema_objects_do_not_leak, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().pool_size(1).build().unwrap();
    engine.create_all().unwrap();
    for sql in [
        "CREATE TABLE temp.scratch (x INTEGER)",
        "CREATE VIEW temp.scratch_view AS SELECT 1",
        "CREATE TRIGGER temp.no_items BEFORE INSERT ON main.item BEGIN SELECT RAISE(ABORT, 'leaked'); END",
    ] {
        let mut s = engine.session().unwrap();
        let r = s.execute(sql, &[]);
        let _ = s.commit();
        drop(s);
        assert!(r.is_err(), "{sql}: a per-connection object was created");
    }
    assert_clean_connection(&db, &engine);
});

on_postgres!(pool_connection_temp_schema_objects_do_not_leak_postgres, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().pool_size(1).build().unwrap();
    engine.create_all().unwrap();
    for sql in [
        "CREATE TABLE pg_temp.scratch (x INTEGER)",
        "CREATE VIEW pg_temp.scratch_view AS SELECT 1",
        "CREATE TABLE pg_temp.item (id BIGINT, name TEXT, qty BIGINT)",
        "CREATE FUNCTION pg_temp.leaked() RETURNS INTEGER LANGUAGE sql AS 'SELECT 1'",
    ] {
        let mut s = engine.session().unwrap();
        s.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
        s.commit().unwrap();
        drop(s);
        assert_clean_connection(&db, &engine);
    }
});

// 6. A session dropped mid-transaction gives back a usable connection and the write lock.
on_each_db!(session_dropped_mid_transaction_releases_the_connection, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Item>()
        .pool_size(1)
        .pool_timeout(Duration::from_secs(2))
        .busy_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(item("dropped", 1)).unwrap();
    drop(s);
    let mut s = engine.session().unwrap();
    s.insert(item("next", 2)).expect("the next session writes at once");
    s.commit().unwrap();
    drop(s);
    assert_eq!(
        item_names(&engine).into_iter().map(|i| i.1).collect::<Vec<_>>(),
        vec!["next"]
    );
});

on_each_db!(session_dropped_mid_transaction_releases_the_write_lock, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Item>()
        .pool_size(2)
        .busy_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut a = engine.session().unwrap();
    let mut b = engine.session().unwrap(); // another connection
    a.insert(item("dropped", 1)).unwrap();
    drop(a);
    b.insert(item("other connection", 2))
        .expect("the dropped session's write lock is released");
    b.commit().unwrap();
    drop(b);
    assert_eq!(
        item_names(&engine).into_iter().map(|i| i.1).collect::<Vec<_>>(),
        vec!["other connection"]
    );
});

// 6. A session dropped while a panic unwinds through its flush.
on_each_db!(session_dropped_by_a_panic_releases_the_connection, |db: Db| {
    let engine = Engine::builder(&db.url)
        .listen::<Item>(AfterInsert, |_ctx, c| {
            if c.new().unwrap().name == "boom" {
                panic!("listener bug (expected by the test)");
            }
            Ok(())
        })
        .pool_size(1)
        .pool_timeout(Duration::from_secs(2))
        .busy_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let e = engine.clone();
    let r = std::thread::spawn(move || {
        let mut s = e.session().unwrap();
        s.add(item("before", 1));
        s.add(item("boom", 1));
        let _ = s.commit();
    })
    .join();
    assert!(r.is_err(), "the listener panicked");
    let mut s = engine.session().unwrap();
    s.insert(item("next", 1)).expect("the connection is usable");
    s.commit().unwrap();
    drop(s);
    assert_eq!(
        item_names(&engine).into_iter().map(|i| i.1).collect::<Vec<_>>(),
        vec!["next"]
    );
});

/// The names of the users and the change types of the log, in order, as any client sees them.
fn users_and_log(db: &Db) -> (Vec<String>, Vec<String>) {
    let mut plain = db.pg_client();
    let names = plain
        .query("SELECT name FROM users ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let log = plain
        .query("SELECT change_type FROM log ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (names, log)
}

// §9: the server drops the connection mid-transaction (an administrator, a failover, a
// restart). The session's next flush or commit fails with a typed error, the transaction is
// lost (its changes and their listener-written log rows alike), `AfterRollback` fires and the
// after-commit callbacks are dropped; the pool drops the connection, and a new session of
// the same engine works.
on_postgres!(
    a_connection_lost_mid_transaction_loses_that_transaction_only,
    |db: Db| {
        let tx = TxCounts::default();
        let engine = tx
            .attach(audited(&db.url))
            // One connection: the session after the loss can only work on a new one.
            .pool_size(1)
            .pool_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let jane = s.insert(user("jane")).unwrap();
        s.commit().unwrap();
        drop(s);
        let mut admin = db.pg_client();

        // Lost with writes still staged (the flush fails), then with everything flushed (the
        // COMMIT fails).
        for staged in [true, false] {
            let what = if staged { "the flush" } else { "the commit" };
            let before = users_and_log(&db);
            let mut s = engine.session().unwrap();
            let pid = backend_pid(&mut s);
            let mut j = s.get::<User>(jane.id).unwrap().unwrap();
            j.name = "lost".into();
            s.update(&j).unwrap();
            s.add(user("bob"));
            s.flush().unwrap(); // written with their log rows, not committed
            if staged {
                j.name = "lost again".into();
                s.update(&j).unwrap();
            }
            let ran = after_commit_flag(&mut s);
            tx.reset();

            terminate_backend(&mut admin, pid);

            let err = s.commit().expect_err(what);
            assert_eq!(
                err.db_kind(),
                Some(DbErrorKind::ConnectionLost),
                "{what}: a typed error: {err:?}"
            );
            tx.assert_rolled_back(what, &s, &ran);
            drop(s);

            assert_eq!(
                users_and_log(&db),
                before,
                "{what}: neither the changes nor their log rows remain"
            );

            // A new session of the same engine works, on a new connection.
            let mut s = engine.session().expect("a session after the loss");
            let pid_now = rows(&mut s, "SELECT pg_backend_pid()");
            assert_ne!(
                pid_now,
                int(i64::from(pid)),
                "{what}: the broken connection was not lent again"
            );
            let mut j = s.get::<User>(jane.id).unwrap().unwrap();
            assert_eq!(j.name, before.0[0]);
            j.name = format!("after {what} failed");
            s.update(&j).unwrap();
            s.commit().expect("the new session commits");
            drop(s);
            let (names, log) = users_and_log(&db);
            assert_eq!(names, [j.name.clone()]);
            assert_eq!(log[..before.1.len()], before.1[..]);
            assert_eq!(log[before.1.len()..], ["update"]);
        }
    }
);

/// A driver whose connections break on demand, as a connection the server or the network
/// drops: once `cut` is set, the next statement of any of its connections fails with
/// `DbErrorKind::ConnectionLost`, and that connection is broken from then on (every call
/// fails, [`Connection::is_broken`] says so). Counts the connections it opens.
struct Breaking {
    inner: Box<dyn Driver>,
    cut: Arc<AtomicBool>,
    opened: Arc<AtomicUsize>,
}

impl Driver for Breaking {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
    fn database(&self) -> &str {
        self.inner.database()
    }
    fn connect(&self) -> Result<Box<dyn Connection>, DbError> {
        let inner = self.inner.connect()?;
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(BreakingConn {
            inner,
            cut: self.cut.clone(),
            broken: false,
        }))
    }
}

struct BreakingConn {
    inner: Box<dyn Connection>,
    cut: Arc<AtomicBool>,
    broken: bool,
}

/// Fail when the connection is broken, or breaks now.
fn check(cut: &AtomicBool, broken: &mut bool, database: &str) -> Result<(), DbError> {
    if *broken || cut.swap(false, Ordering::SeqCst) {
        *broken = true;
        return Err(DbError {
            kind: DbErrorKind::ConnectionLost,
            code: None,
            message: "connection lost (injected by the test)".into(),
            database: database.to_string(),
        });
    }
    Ok(())
}

impl BreakingConn {
    fn check(&mut self) -> Result<(), DbError> {
        check(&self.cut, &mut self.broken, self.inner.database())
    }

    /// The connection's own statements, breaking as the held ones do.
    fn statements(&mut self) -> BreakingStatements<'_> {
        BreakingStatements {
            inner: &mut *self.inner,
            cut: &self.cut,
            broken: &mut self.broken,
        }
    }
}

impl Connection for BreakingConn {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
    fn begin(&mut self, write: bool) -> Result<(), DbError> {
        self.check()?;
        self.inner.begin(write)
    }
    fn upgrade(&mut self) -> Result<Option<bool>, DbError> {
        self.check()?;
        self.inner.upgrade()
    }
    fn commit(&mut self) -> Result<(), DbError> {
        self.check()?;
        self.inner.commit()
    }
    fn rollback(&mut self) -> Result<(), DbError> {
        self.check()?;
        self.inner.rollback()
    }
    fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }
    fn is_broken(&self) -> bool {
        self.broken || self.inner.is_broken()
    }
    fn reset(&mut self) -> Result<(), DbError> {
        self.check()?;
        self.inner.reset()
    }
    fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.check()?;
        self.inner.execute_batch(sql)
    }
    fn with_statements(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Statements) -> Result<(), CallbackError>,
    ) -> Result<(), CallbackError> {
        let BreakingConn { inner, cut, broken } = self;
        inner.with_statements(&mut |held| {
            f(&mut BreakingStatements {
                inner: held,
                cut,
                broken: &mut *broken,
            })
        })
    }
}

/// The connection's statements: as the held ones.
impl Statements for BreakingConn {
    fn database(&self) -> &str {
        self.inner.database()
    }
    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.statements().execute(sql, params)
    }
    fn insert(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<Option<i64>, DbError> {
        self.statements().insert(sql, params)
    }
    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        self.statements().execute_row(sql, row)
    }
    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.statements().insert_row(sql, row)
    }
    fn query(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        self.statements().query(sql, params, on_row)
    }
    fn query_refs(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowRefCallback<'_>) -> Result<(), QueryError> {
        self.statements().query_refs(sql, params, on_row)
    }
    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        self.statements().is_read_only(sql)
    }
    fn execute_arrays(&mut self, sql: &str, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        self.statements().execute_arrays(sql, columns)
    }
    fn query_arrays(
        &mut self,
        sql: &str,
        columns: &[&[ValueRef<'_>]],
        on_row: RowCallback<'_>,
    ) -> Result<(), QueryError> {
        self.statements().query_arrays(sql, columns, on_row)
    }
}

/// A breaking connection's statements held for a flush.
struct BreakingStatements<'a> {
    inner: &'a mut dyn Statements,
    cut: &'a AtomicBool,
    broken: &'a mut bool,
}

impl BreakingStatements<'_> {
    fn check(&mut self) -> Result<(), DbError> {
        check(self.cut, self.broken, self.inner.database())
    }
}

impl Statements for BreakingStatements<'_> {
    fn database(&self) -> &str {
        self.inner.database()
    }
    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute(sql, params)
    }
    fn insert(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<Option<i64>, DbError> {
        self.check()?;
        self.inner.insert(sql, params)
    }
    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_row(sql, row)
    }
    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.check()?;
        self.inner.insert_row(sql, row)
    }
    fn query(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query(sql, params, on_row)
    }
    fn query_refs(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowRefCallback<'_>) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query_refs(sql, params, on_row)
    }
    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        self.check()?;
        self.inner.is_read_only(sql)
    }
    fn execute_arrays(&mut self, sql: &str, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_arrays(sql, columns)
    }
    fn query_arrays(
        &mut self,
        sql: &str,
        columns: &[&[ValueRef<'_>]],
        on_row: RowCallback<'_>,
    ) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query_arrays(sql, columns, on_row)
    }
    fn execute_at(&mut self, slot: u32, sql: &Arc<str>, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_at(slot, sql, params)
    }
    fn execute_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_row_at(slot, sql, row)
    }
    fn insert_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.check()?;
        self.inner.insert_row_at(slot, sql, row)
    }
    fn query_refs_at(
        &mut self,
        slot: u32,
        sql: &Arc<str>,
        params: &[ValueRef<'_>],
        on_row: RowRefCallback<'_>,
    ) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query_refs_at(slot, sql, params, on_row)
    }
}

fn fail<T>(e: Error) -> T {
    panic!("reading the database through a new session: {e}")
}

/// The users' names and the log's change types, in order, through a session of `engine`.
fn users_and_log_of(engine: &Engine) -> (Vec<String>, Vec<String>) {
    let mut s = engine.session().unwrap_or_else(fail);
    let users = s.query::<User>().order_by(col("id").asc()).all().unwrap_or_else(fail);
    let log = s.query::<Log>().order_by(col("id").asc()).all().unwrap_or_else(fail);
    (
        users.into_iter().map(|u| u.name).collect(),
        log.into_iter().map(|l| l.change_type).collect(),
    )
}

// §9 on every backend, with the break injected by a wrapped driver (no server needed): a
// connection that breaks mid-transaction loses that transaction and nothing else. The
// error is typed, `AfterRollback` fires, the after-commit callbacks are dropped, the staged
// writes are pending again; the pool drops the connection (the engine has room for one:
// the next session opens a new one) and a new session sees the database as it was before
// the transaction, and writes.
on_each_db!(
    a_connection_that_breaks_mid_transaction_loses_that_transaction_only,
    |db: Db| {
        let (cut, opened) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (c, o) = (cut.clone(), opened.clone());
        let tx = TxCounts::default();
        let engine = tx
            .attach(audited(&db.url))
            .wrap_driver(move |inner| {
                Box::new(Breaking {
                    inner,
                    cut: c,
                    opened: o,
                })
            })
            .pool_size(1)
            .pool_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let jane = s.insert(user("jane")).unwrap();
        s.commit().unwrap();
        drop(s);

        // Broken with writes still staged (the flush fails), then with everything flushed (the
        // COMMIT fails).
        for staged in [true, false] {
            let what = if staged { "the flush" } else { "the commit" };
            let before = users_and_log_of(&engine);
            let mut s = engine.session().unwrap();
            let mut j = s.get::<User>(jane.id).unwrap().unwrap();
            j.name = "lost".into();
            s.update(&j).unwrap();
            s.add(user("bob"));
            s.flush().unwrap(); // written with their log rows, not committed
            if staged {
                j.name = "lost again".into();
                s.update(&j).unwrap();
            }
            let ran = after_commit_flag(&mut s);
            tx.reset();
            let connections = opened.load(Ordering::SeqCst);

            cut.store(true, Ordering::SeqCst);
            let err = s.commit().expect_err(what);
            assert!(!cut.load(Ordering::SeqCst), "{what}: the connection broke");
            assert_eq!(
                err.db_kind(),
                Some(DbErrorKind::ConnectionLost),
                "{what}: a typed error: {err:?}"
            );
            tx.assert_rolled_back(what, &s, &ran);
            drop(s);

            // A new session works, on a new connection, and sees nothing of the lost transaction.
            assert_eq!(
                users_and_log_of(&engine),
                before,
                "{what}: neither the changes nor their log rows remain"
            );
            assert_eq!(
                opened.load(Ordering::SeqCst),
                connections + 1,
                "{what}: the broken connection was dropped, and a new one opened"
            );
            let mut s = engine.session().unwrap();
            let mut j = s.get::<User>(jane.id).unwrap().unwrap();
            j.name = format!("after {what} failed");
            s.update(&j).unwrap();
            s.commit().expect("a new session commits");
            drop(s);
            let (names, log) = users_and_log_of(&engine);
            assert_eq!(names, [j.name.clone()]);
            assert_eq!(log[..before.1.len()], before.1[..]);
            assert_eq!(log[before.1.len()..], ["update"]);
        }
    }
);

// A pooled connection whose server backend ended while it was idle (a server restart, an
// administrator): the next session begins on another connection and works (semantics §9:
// a broken connection loses its transaction and nothing else; here it had none).
on_postgres!(a_connection_that_died_idle_in_the_pool_is_replaced, |db: Db| {
    let engine = audited(&db.url)
        .pool_size(1)
        .pool_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let pid = backend_pid(&mut s);
    s.commit().unwrap();
    drop(s); // the connection is idle in the pool

    terminate_backend(&mut db.pg_client(), pid);

    let mut s = engine.session().unwrap();
    let jane = s
        .insert(user("jane"))
        .expect("a session after the idle connection died");
    s.commit().unwrap();
    assert_ne!(rows(&mut s, "SELECT pg_backend_pid()"), [[Value::Int(i64::from(pid))]]);
    assert_eq!(s.get::<User>(jane.id).unwrap().unwrap().name, "jane");
});
