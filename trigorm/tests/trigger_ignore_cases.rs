//! Ignoring native triggers for one transaction (`Session::ignore_triggers`), the cases
//! beyond a plain commit or rollback: another trigger refusing while the ignore is on; a
//! connection that reads or waits for a lock during the ignore; a COMMIT that fails. In
//! each, the ignore ends with the transaction and reaches nobody else.
mod common;
use common::*;

use mysql::prelude::Queryable;
use trigorm::error::DbErrorKind;
use trigorm::trigger::{Ops, TriggerDef};
use trigorm::{Engine, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "ledger")]
struct Ledger {
    id: i64,
    entry: String,
    owner: String,
}

const FROZEN: &str = "trigorm_ledger_frozen";

/// `frozen` refuses every update and delete of `ledger`; `owner_fixed` refuses a change of
/// the owner (it matters only while `frozen` is ignored).
fn declarations() -> [TriggerDef; 2] {
    [
        TriggerDef::protect("frozen", Ledger::table(), Ops::UPDATE | Ops::DELETE),
        TriggerDef::read_only("owner_fixed", Ledger::table(), ["owner"]),
    ]
}

/// An engine of one pooled connection (its next user is the same connection) with the
/// declarations installed, and one row.
fn setup(db: &Db) -> (Engine, i64) {
    let mut b = Engine::builder(&db.url).model::<Ledger>().pool_size(1);
    for d in declarations() {
        b = b.trigger(d);
    }
    let e = b.build().unwrap();
    e.create_all().unwrap();
    let mut s = e.session().unwrap();
    let row = s
        .insert(Ledger {
            id: 0,
            entry: "tpyo".into(),
            owner: "ann".into(),
        })
        .unwrap();
    s.commit().unwrap();
    (e, row.id)
}

/// The managed trigger a result's error is the refusal of, if it is one.
fn refusal<T: std::fmt::Debug>(r: trigorm::Result<T>) -> Option<String> {
    let e = r.err()?;
    assert_eq!(e.db_kind(), Some(DbErrorKind::TriggerRefused), "a typed refusal: {e:?}");
    Some(e.trigger_refusal().unwrap_or_else(|| panic!("{e}")).trigger)
}

/// The declared trigger `name`'s database trigger for updates.
fn on_update(db: &Db, name: &str) -> String {
    if db.is_postgres() {
        name.to_string()
    } else {
        format!("{name}_update")
    }
}

fn set(db: &Db, s: &mut trigorm::Session, id: i64, column: &str, v: &str) -> trigorm::Result<u64> {
    s.execute(
        &db.sql(&format!("UPDATE ledger SET {column} = ? WHERE id = ?")),
        &[Value::from(v), Value::Int(id)],
    )
}

/// The row's entry and owner, read afresh.
fn row(e: &Engine, id: i64) -> (String, String) {
    let mut s = e.session().unwrap();
    let r = s.get::<Ledger>(id).unwrap().unwrap();
    (r.entry, r.owner)
}

/// SQLite's triggers, as a plain reader finds them: name and SQL, in `sqlite_master`
/// order (their firing order: the newest first).
fn sqlite_triggers(e: &Engine) -> Vec<(String, String)> {
    let mut s = e.session().unwrap();
    let rows = rows(
        &mut s,
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid",
    );
    rows.into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Text(n), Value::Text(sql)) => (n.clone(), sql.clone()),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// SQLite's triggers as a plain connection finds them: name and SQL, in `sqlite_master`
/// order.
fn plain_triggers(c: &rusqlite::Connection) -> Vec<(String, String)> {
    c.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The ignore is over: a write `frozen` refuses is refused again in the session (which
/// is then let go), in the next user of its pooled connection, and from a plain client;
/// the declarations are in sync.
fn guarded_again(db: &Db, e: &Engine, mut s: trigorm::Session, id: i64, what: &str) {
    assert_eq!(
        refusal(set(db, &mut s, id, "entry", "again")),
        Some(on_update(db, FROZEN)),
        "{what}: the session is guarded again"
    );
    drop(s);
    let mut next = e.session().unwrap();
    assert_eq!(
        refusal(set(db, &mut next, id, "entry", "next")),
        Some(on_update(db, FROZEN)),
        "{what}: the next user of the pooled connection is guarded"
    );
    drop(next);
    let sql = format!("UPDATE ledger SET entry = 'plain' WHERE id = {id}");
    let plain = if db.is_mariadb() {
        Some(db.my_client().query_drop(&sql).map_err(|e| e.to_string()))
    } else if db.is_postgres() {
        Some(db.pg_client().batch_execute(&sql).map_err(|e| format!("{e:?}")))
    } else {
        db.path().map(|p| {
            rusqlite::Connection::open(p)
                .unwrap()
                .execute_batch(&sql)
                .map_err(|e| e.to_string())
        })
    };
    if let Some(r) = plain {
        assert!(r.unwrap_err().contains(FROZEN), "{what}: a plain client is refused");
    }
    e.check_triggers()
        .unwrap_or_else(|err| panic!("{what}: in sync: {err}"));
}

// While `frozen` is ignored, another trigger (`owner_fixed`) still refuses: the statement
// fails with its typed refusal, the transaction ends (its fix undone), and so does the
// ignore, whether the session rolls back explicitly or goes on to its next transaction.
on_each_db!(another_triggers_refusal_during_an_ignore_fails_and_ends_it, |db: Db| {
    let (e, id) = setup(&db);
    let before = (!db.is_server()).then(|| sqlite_triggers(&e));
    for explicit_rollback in [true, false] {
        let what = if explicit_rollback {
            "rolled back"
        } else {
            "not rolled back"
        };
        let mut s = e.session().unwrap();
        s.ignore_triggers(&[FROZEN]).unwrap();
        set(&db, &mut s, id, "entry", "typo").unwrap();
        assert_eq!(
            refusal(set(&db, &mut s, id, "owner", "bob")),
            Some(on_update(&db, "trigorm_ledger_owner_fixed")),
            "{what}: owner_fixed refuses while frozen is ignored"
        );
        if explicit_rollback {
            s.rollback().unwrap();
        }
        guarded_again(&db, &e, s, id, what);
        assert_eq!(row(&e, id), ("tpyo".into(), "ann".into()), "{what}: the fix was undone");
        if let Some(before) = &before {
            assert_eq!(&sqlite_triggers(&e), before, "{what}: SQLite's triggers as before");
        }
    }

    // The refusal at COMMIT, through the ORM: the flush fails, and the ignore ends.
    let mut s = e.session().unwrap();
    s.ignore_triggers(&[FROZEN]).unwrap();
    let mut r = s.get::<Ledger>(id).unwrap().unwrap();
    r.entry = "typo".into();
    r.owner = "bob".into();
    s.update(&r).unwrap();
    assert_eq!(
        refusal(s.commit()),
        Some(on_update(&db, "trigorm_ledger_owner_fixed")),
        "a flush at commit"
    );
    s.rollback().unwrap();
    guarded_again(&db, &e, s, id, "after a refused flush");
    assert_eq!(row(&e, id), ("tpyo".into(), "ann".into()));

    // And the same ignore with a write owner_fixed allows: the fix commits.
    let mut s = e.session().unwrap();
    s.ignore_triggers(&[FROZEN]).unwrap();
    set(&db, &mut s, id, "entry", "typo").unwrap();
    s.commit().unwrap();
    guarded_again(&db, &e, s, id, "after the fix committed");
    assert_eq!(row(&e, id), ("typo".into(), "ann".into()));
});

/// A writer of another connection, waiting for the row the ignoring session locked, is
/// refused once it gets it (commit or rollback); a reader of another connection during the
/// ignore sees the trigger there; afterwards the triggers are as before.
fn others_during_an_ignore(db: Db) {
    let (e, id) = setup(&db);
    let before = (!db.is_server()).then(|| sqlite_triggers(&e));
    for commit in [true, false] {
        let what = if commit { "commit" } else { "rollback" };
        let mut s = e.session().unwrap();
        s.ignore_triggers(&[FROZEN]).unwrap();
        set(&db, &mut s, id, "entry", &format!("fix {what}")).unwrap();

        // A reader of its own (SQLite: a plain connection) finds the trigger as it was,
        // and the row as committed.
        let reader = db.path().map(|p| rusqlite::Connection::open(p).unwrap());
        if let (Some(c), Some(before)) = (&reader, &before) {
            assert_eq!(&plain_triggers(c), before, "{what}: a reader during the ignore");
            let entry: String = c
                .query_row("SELECT entry FROM ledger WHERE id = ?1", [id], |r| r.get(0))
                .unwrap();
            assert_eq!(entry, "tpyo", "{what}: the reader sees the committed row");
        }

        // A writer of its own, waiting for the lock the ignoring transaction holds.
        let sql = format!("UPDATE ledger SET entry = 'waiting writer' WHERE id = {id}");
        let writer = {
            let (url, path, kind) = (db.url.clone(), db.path(), db.kind);
            std::thread::spawn(move || -> Result<(), String> {
                match kind {
                    "postgres" => postgres::Client::connect(&url, postgres::NoTls)
                        .unwrap()
                        .batch_execute(&sql)
                        .map_err(|e| format!("{e:?}")),
                    "mariadb" => mysql::Conn::new(mysql::Opts::from_url(&url).unwrap())
                        .unwrap()
                        .query_drop(&sql)
                        .map_err(|e| e.to_string()),
                    _ => {
                        let c = rusqlite::Connection::open(path.unwrap()).unwrap();
                        c.busy_timeout(std::time::Duration::from_secs(20)).unwrap();
                        c.execute_batch(&sql).map_err(|e| e.to_string())
                    }
                }
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !writer.is_finished(),
            "{what}: the writer waits for the ignoring transaction"
        );
        if commit {
            s.commit().unwrap();
        } else {
            s.rollback().unwrap();
        }
        let r = writer.join().unwrap();
        assert!(
            r.as_ref().is_err_and(|e| e.contains(FROZEN)),
            "{what}: the waiting writer is refused: {r:?}"
        );
        // The reader, its schema read during the ignore, now writes: refused, and it
        // finds the triggers with the very SQL and order they had.
        if let (Some(c), Some(before)) = (&reader, &before) {
            let err = c
                .execute_batch(&format!("UPDATE ledger SET entry = 'reader' WHERE id = {id}"))
                .unwrap_err();
            assert!(err.to_string().contains(FROZEN), "{what}: the reader's write: {err}");
            assert_eq!(&plain_triggers(c), before, "{what}: SQL and order as before");
        }
        drop(reader);
        guarded_again(&db, &e, s, id, what);
        let expected = if commit { "fix commit" } else { "tpyo" };
        assert_eq!(row(&e, id).0, expected, "{what}");
        if let Some(before) = &before {
            let now = sqlite_triggers(&e);
            assert_eq!(&now, before, "{what}: SQLite's triggers, SQL and order, as before");
        }
        // Reset the row for the next round.
        let mut s = e.session().unwrap();
        s.ignore_triggers(&[FROZEN]).unwrap();
        set(&db, &mut s, id, "entry", "tpyo").unwrap();
        s.commit().unwrap();
    }
}

// A SQLite file: the other connection reads while the trigger is dropped inside the
// ignoring transaction, and writes (waiting for the lock) once it ends.
#[test]
fn others_during_an_ignore_sqlite_file() {
    others_during_an_ignore(Db::file());
}

#[test]
fn others_during_an_ignore_postgres() {
    if let Some(db) = Db::postgres() {
        others_during_an_ignore(db);
    }
}

#[test]
fn others_during_an_ignore_mariadb() {
    if let Some(db) = Db::mariadb() {
        others_during_an_ignore(db);
    }
}

/// A COMMIT that fails (a deferred foreign key left dangling) ends the ignore: nothing of
/// the transaction stays, and the next transaction is guarded.
fn a_failed_commit_ends_the_ignore(db: Db) {
    let (e, id) = setup(&db);
    let before = (!db.is_server()).then(|| sqlite_triggers(&e));
    let mut s = e.session().unwrap();
    let key = if db.is_postgres() { "serial" } else { "INTEGER" };
    s.execute(&format!("CREATE TABLE parent (id {key} PRIMARY KEY)"), &[])
        .unwrap();
    s.execute(
        &format!(
            "CREATE TABLE child (id {key} PRIMARY KEY, \
             parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
        ),
        &[],
    )
    .unwrap();
    s.commit().unwrap();

    s.ignore_triggers(&[FROZEN]).unwrap();
    set(&db, &mut s, id, "entry", "typo").unwrap();
    s.execute("INSERT INTO child (parent_id) VALUES (999)", &[]).unwrap();
    let err = s.commit().expect_err("the deferred foreign key fails at COMMIT");
    assert_eq!(err.db_kind(), Some(DbErrorKind::ForeignKeyViolation), "{err:?}");
    guarded_again(&db, &e, s, id, "after a failed COMMIT");
    assert_eq!(row(&e, id).0, "tpyo", "nothing of the transaction stayed");
    if let Some(before) = &before {
        assert_eq!(&sqlite_triggers(&e), before, "SQLite's triggers as before");
    }
}

// MariaDB has no deferred constraints: nothing there fails at COMMIT alone.
on_sqlite!(a_failed_commit_ends_the_ignore_sqlite, |db: Db| {
    a_failed_commit_ends_the_ignore(db);
});

#[test]
fn a_failed_commit_ends_the_ignore_postgres() {
    if let Some(db) = Db::postgres() {
        a_failed_commit_ends_the_ignore(db);
    }
}
