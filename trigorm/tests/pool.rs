//! Connection hygiene, from the hardening review (items 1 and 6) and semantics §2, §4, §9:
//! raw SQL, through a session or a listener, cannot end or nest the session's transaction
//! nor leave per-connection state for the next session on a pooled connection; a session
//! dropped mid-transaction gives its connection (and its locks) back; a connection the
//! server drops mid-transaction loses that transaction and nothing else.
//!
//! SQLite refuses the statements that would leave state (its authorizer); the servers run
//! them and reset the connection (PostgreSQL: `DISCARD ALL`, MariaDB:
//! `COM_RESET_CONNECTION`) before the pool lends it again. The tests of the authorizer run
//! on SQLite alone; each has a counterpart on the servers that checks the same contract.
mod common;
use common::*;
#[path = "common/breaking.rs"]
mod breaking;
use breaking::Breaking;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trigorm::error::DbErrorKind;
use trigorm::event::AfterInsert;
use trigorm::query::col;
use trigorm::{Engine, Error, Model, Value};

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

/// As `on_each_db!`, on the servers alone (PostgreSQL, MariaDB; each skipped, saying so,
/// as `on_postgres!`): what only a server can do, and the server counterparts of
/// SQLite-only tests.
macro_rules! on_server {
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
            #[test]
            fn mariadb() {
                let f: fn(Db) = $body;
                if let Some(db) = Db::mariadb() {
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

/// The server's id of `s`'s connection: its PostgreSQL backend process, its MariaDB
/// `CONNECTION_ID()`.
fn connection_id(db: &Db, s: &mut trigorm::Session) -> i64 {
    let sql = if db.is_mariadb() {
        "SELECT CONNECTION_ID()"
    } else {
        "SELECT pg_backend_pid()"
    };
    match rows(s, sql).as_slice() {
        [row] => match row.as_slice() {
            [Value::Int(id)] => *id,
            other => panic!("a connection id: {other:?}"),
        },
        other => panic!("a connection id: {other:?}"),
    }
}

/// End the server's connection `id` from another connection (as an administrator or a
/// server restart would: `pg_terminate_backend`, MariaDB's `KILL CONNECTION`), and wait
/// until the server has.
fn kill_connection(db: &Db, id: i64) {
    let start = Instant::now();
    if db.is_mariadb() {
        use mysql::prelude::Queryable;
        let mut admin = db.my_client();
        admin.query_drop(format!("KILL CONNECTION {id}")).unwrap();
        while admin
            .exec_first::<i64, _, _>(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?",
                (id,),
            )
            .unwrap()
            != Some(0)
        {
            assert!(start.elapsed() < Duration::from_secs(5), "the connection did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    let mut admin = db.pg_client();
    let pid = i32::try_from(id).expect("a pid");
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed, "the backend was terminated");
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

/// MariaDB: more ways to begin, end or nest the transaction, in any case and after
/// comments; and the statements that commit it implicitly (DDL, table locks, table
/// maintenance: refused inside a session's transaction, `CREATE TEMPORARY TABLE` aside).
/// Raw SQL that commits the transaction implicitly in less obvious ways is in
/// `mariadb.rs`.
const MARIADB_FORBIDDEN: &[&str] = &[
    "START TRANSACTION",
    "START TRANSACTION READ ONLY",
    "BEGIN WORK",
    "commit",
    "  -- a comment\n/* and another */ Commit",
    "# a comment\nCOMMIT",
    "COMMIT AND CHAIN",
    "RELEASE SAVEPOINT x",
    "ROLLBACK TO SAVEPOINT x",
    "XA START 'x'",
    "BEGIN NOT ATOMIC COMMIT; END",
    "CREATE TABLE scratch (x INTEGER)",
    "CREATE INDEX idx_item_qty ON item (qty)",
    "ALTER TABLE item ADD COLUMN extra INTEGER",
    "RENAME TABLE item TO item2",
    "TRUNCATE TABLE item",
    "DROP TABLE item",
    "LOCK TABLES item WRITE",
    "ANALYZE TABLE item",
];

/// The statements that would end or nest the transaction on this backend (and, on SQLite,
/// leave state on the connection).
fn forbidden(db: &Db) -> Vec<&'static str> {
    let more = if db.is_postgres() {
        POSTGRES_FORBIDDEN
    } else if db.is_mariadb() {
        MARIADB_FORBIDDEN
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

/// The same on MariaDB: a user variable, settings (one that changes how SQL is read and
/// turns strict mode off, one that disables foreign keys, one that shifts timestamps, one
/// that makes later transactions read-only, the character set), temporary tables (one
/// that hides the real `item` table), a named lock (named after the test's database:
/// locks are the server's).
const MARIADB_SESSION_STATE: &[&str] = &[
    "SET @leaked = 42",
    "SET SESSION sql_mode = 'ANSI_QUOTES'",
    "SET SESSION foreign_key_checks = 0",
    "SET SESSION time_zone = '+05:00'",
    "SET SESSION innodb_lock_wait_timeout = 1234",
    "SET SESSION max_statement_time = 1234",
    "SET SESSION TRANSACTION READ ONLY",
    "SET NAMES latin1",
    "CREATE TEMPORARY TABLE scratch (x INTEGER)",
    "CREATE TEMPORARY TABLE item (id BIGINT, name TEXT, qty BIGINT)",
    "SELECT GET_LOCK(DATABASE(), 0)",
];

/// What raw SQL may leave on a server's connection, which must not outlive the session.
fn session_state(db: &Db) -> &'static [&'static str] {
    if db.is_mariadb() {
        MARIADB_SESSION_STATE
    } else {
        POSTGRES_SESSION_STATE
    }
}

/// After the forbidden statements: the connections carry none of their effects, and a
/// later session writes where it should.
fn assert_clean_connection(db: &Db, engine: &Engine) {
    if db.is_postgres() {
        assert_clean_postgres_connection(db, engine);
        return;
    }
    if db.is_mariadb() {
        assert_clean_mariadb_connection(db, engine);
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

/// MariaDB: nothing of `MARIADB_SESSION_STATE` is left on the connection (the engine has
/// one, so this session runs on the connection the earlier ones used).
fn assert_clean_mariadb_connection(db: &Db, engine: &Engine) {
    let settings = "SELECT @leaked, @@sql_mode, @@foreign_key_checks, @@time_zone, \
         @@innodb_lock_wait_timeout, @@max_statement_time, @@tx_read_only, @@character_set_client, \
         @@character_set_connection, @@character_set_results, @@autocommit";
    // As on a connection no session has used yet.
    let fresh = rows(&mut Engine::connect(&db.url).unwrap().session().unwrap(), settings);
    assert_eq!(fresh[0][0], Value::Null, "{fresh:?}");
    let mut s = engine.session().unwrap();
    assert_eq!(rows(&mut s, settings), fresh, "a setting or a user variable leaked");
    assert_eq!(
        rows(&mut s, "SELECT IS_USED_LOCK(DATABASE())"),
        vec![vec![Value::Null]],
        "a named lock leaked"
    );
    assert!(
        s.query_raw("SELECT x FROM scratch", &[]).is_err(),
        "a temporary table leaked"
    );
    s.rollback().unwrap();
    let shown = rows(&mut s, "SHOW CREATE TABLE item");
    assert!(
        matches!(&shown[0][1], Value::Text(t) if t.starts_with("CREATE TABLE")),
        "a temporary table hides the real one: {shown:?}"
    );
    let it = s.insert(item("after", 1)).expect("a later session can write");
    s.commit().unwrap();
    drop(s);
    // Into the real table, as any other client sees it.
    use mysql::prelude::Queryable;
    let names: Vec<String> = db
        .my_client()
        .exec("SELECT name FROM item WHERE id = ?", (it.id,))
        .unwrap();
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
    if db.is_server() {
        // What a server lets a listener do to the connection ends with the session.
        for query in [false, true] {
            via_query.store(query, Ordering::SeqCst);
            for state in session_state(&db) {
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
    } else if db.is_mariadb() {
        let info = rows(
            &mut s,
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' ORDER BY ORDINAL_POSITION",
        );
        let names: Vec<&Value> = info.iter().map(|r| &r[0]).collect();
        assert_eq!(names, expected.iter().collect::<Vec<_>>());
        assert_eq!(
            rows(&mut s, "SHOW VARIABLES LIKE 'foreign_key_checks'"),
            [[Value::from("foreign_key_checks"), Value::from("ON")]]
        );
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
// authorizer lets a read through; the server counterpart reads the catalog and a setting.)
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

on_server!(listener_can_read_the_catalog_and_settings, |db: Db| {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let (columns, setting, expected) = if db.is_mariadb() {
        (
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'item'",
            "SHOW VARIABLES LIKE 'foreign_key_checks'",
            vec![vec![Value::from("foreign_key_checks"), Value::from("ON")]],
        )
    } else {
        (
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'item'",
            "SHOW session_replication_role",
            text("origin"),
        )
    };
    let engine = Engine::builder(&db.url)
        .listen::<Item>(AfterInsert, move |ctx, _c| {
            let info = ctx.query(columns, &[])?;
            let value = ctx.query(setting, &[])?;
            out.lock().unwrap().push((info.len(), value));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(item("a", 1)).unwrap();
    s.commit().unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![(3, expected)]);
});

// 6. Pool hygiene: what one session tried to leave on the connection does not reach the next.
// (SQLite's authorizer refuses these statements; the server counterpart runs them and
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

on_server!(pool_connection_state_does_not_leak_on_a_server, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().pool_size(1).build().unwrap();
    engine.create_all().unwrap();
    for state in session_state(&db) {
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
// authorizer refuses them; on PostgreSQL the temporary schema is `pg_temp`, below. MariaDB
// has no temporary schema: its temporary tables are made with the TEMPORARY keyword alone,
// in `MARIADB_SESSION_STATE`.)
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
    if db.is_mariadb() {
        use mysql::prelude::Queryable;
        let mut plain = db.my_client();
        return (
            plain.query("SELECT name FROM users ORDER BY id").unwrap(),
            plain.query("SELECT change_type FROM log ORDER BY id").unwrap(),
        );
    }
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
on_server!(
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

        // Lost with writes still staged (the flush fails), then with everything flushed (the
        // COMMIT fails).
        for staged in [true, false] {
            let what = if staged { "the flush" } else { "the commit" };
            let before = users_and_log(&db);
            let mut s = engine.session().unwrap();
            let id = connection_id(&db, &mut s);
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

            kill_connection(&db, id);

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
            assert_ne!(
                connection_id(&db, &mut s),
                id,
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
on_server!(a_connection_that_died_idle_in_the_pool_is_replaced, |db: Db| {
    let engine = audited(&db.url)
        .pool_size(1)
        .pool_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let id = connection_id(&db, &mut s);
    s.commit().unwrap();
    drop(s); // the connection is idle in the pool

    kill_connection(&db, id);

    let mut s = engine.session().unwrap();
    let jane = s
        .insert(user("jane"))
        .expect("a session after the idle connection died");
    s.commit().unwrap();
    assert_ne!(connection_id(&db, &mut s), id);
    assert_eq!(s.get::<User>(jane.id).unwrap().unwrap().name, "jane");
});
