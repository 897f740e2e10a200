//! Native triggers on every backend: what each kind enforces (through the ORM, raw SQL and
//! a plain client that knows nothing of trigorm), and their lifecycle (status, install,
//! drift, prune, check).
mod common;
use common::*;

use chrono::{DateTime, Utc};
use mysql::prelude::Queryable;
use trigorm::error::DbErrorKind;
use trigorm::trigger::manage::{self, State};
use trigorm::trigger::{new, Ops, TriggerDef};
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "ledger")]
struct Ledger {
    id: i64,
    entry: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "ticket")]
struct Ticket {
    id: i64,
    title: String,
    state: String,
    created_by: String,
    touched_at: DateTime<Utc>,
    rev: i64,
    deleted: bool,
}

fn ticket(title: &str) -> Ticket {
    Ticket {
        id: 0,
        title: title.into(),
        state: "open".into(),
        created_by: "ann".into(),
        touched_at: t0(),
        rev: 0,
        deleted: false,
    }
}

fn engine(db: &Db) -> Engine {
    let e = Engine::builder(&db.url)
        .model::<Ledger>()
        .model::<Ticket>()
        .build()
        .unwrap();
    e.create_all().unwrap();
    e
}

fn install(engine: &Engine, defs: &[TriggerDef]) -> manage::Status {
    engine.with_connection(|c| manage::install(c, defs)).unwrap()
}

fn status(engine: &Engine, defs: &[TriggerDef]) -> manage::Status {
    engine.with_connection(|c| manage::status(c, defs)).unwrap()
}

/// Run `sql` on a plain connection that knows nothing of trigorm (the bare driver); `None`
/// for an in-memory SQLite database, which no other connection can reach.
fn plain(db: &Db, sql: &str) -> Option<Result<(), String>> {
    if db.is_mariadb() {
        return Some(db.my_client().query_drop(sql).map_err(|e| e.to_string()));
    }
    if db.is_postgres() {
        return Some(db.pg_client().batch_execute(sql).map_err(|e| format!("{e:?}")));
    }
    let path = db.path()?;
    let c = rusqlite::Connection::open(path).unwrap();
    Some(c.execute_batch(sql).map_err(|e| e.to_string()))
}

/// Run `sql` with the database's command-line client (`sqlite3`, `psql`, `mariadb`), which
/// knows nothing of trigorm (the machine's `sqlite3` is older than the bundled library):
/// whether it succeeded, and what it printed on stderr. `None` for an in-memory database.
fn cli(db: &Db, sql: &str) -> Option<(bool, String)> {
    let mut cmd = if db.is_mariadb() {
        let my = db.my_database.as_ref()?;
        // The server of the tests (`TRIGORM_MYSQL_URL`), as the client takes it.
        let opts = mysql::Opts::from_url(&my.server).expect("a MariaDB URL");
        let mut c = std::process::Command::new("mariadb");
        c.env("MYSQL_PWD", opts.get_pass().unwrap_or_default())
            .arg("--protocol=tcp")
            .arg(format!("-h{}", opts.get_ip_or_hostname()))
            .arg(format!("-P{}", opts.get_tcp_port()))
            .arg(format!("-u{}", opts.get_user().unwrap_or("root")))
            .args([my.name.as_str(), "-e", sql]);
        c
    } else if db.is_postgres() {
        let mut c = std::process::Command::new("psql");
        c.args([db.url.as_str(), "-v", "ON_ERROR_STOP=1", "-c", sql]);
        c
    } else {
        let mut c = std::process::Command::new("sqlite3");
        c.arg(db.path()?).arg(sql);
        c
    };
    let out = cmd
        .output()
        .expect("the database's command-line client (CI machines have it)");
    Some((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

fn assert_refused(r: trigorm::Result<impl std::fmt::Debug>, what: &str) -> trigorm::error::TriggerRefusal {
    let err = r.expect_err(what);
    assert_eq!(err.db_kind(), Some(DbErrorKind::TriggerRefused), "{what}: {err:?}");
    let refusal = err
        .trigger_refusal()
        .unwrap_or_else(|| panic!("{what}: a managed trigger's refusal: {err}"));
    assert!(
        refusal.trigger.starts_with(&format!("trigorm_{}_", refusal.table)),
        "{what}: the refusal names the trigger and its table: {refusal:?}"
    );
    refusal
}

on_each_db!(protect_refuses_through_the_orm_raw_sql_and_a_plain_client, |db: Db| {
    let engine = engine(&db);
    let defs = [TriggerDef::protect(
        "append_only",
        Ledger::table(),
        Ops::UPDATE | Ops::DELETE,
    )];
    let st = install(&engine, &defs);
    assert!(st.in_sync(), "{st:?}");
    let mut s = engine.session().unwrap();
    let mut row = s
        .insert(Ledger {
            id: 0,
            entry: "a".into(),
        })
        .unwrap();
    s.commit().unwrap();

    row.entry = "b".into();
    s.update(&row).unwrap();
    let refusal = assert_refused(s.commit(), "an update through the ORM");
    assert_eq!(refusal.reason, "update refused", "the same words on every backend");
    s.rollback().unwrap();
    s.delete(&row).unwrap();
    let refusal = assert_refused(s.commit(), "a delete through the ORM");
    assert_eq!(refusal.reason, "delete refused");
    s.rollback().unwrap();
    assert_refused(
        s.execute(
            &db.sql("UPDATE ledger SET entry = 'c' WHERE id = ?"),
            &[Value::Int(row.id)],
        ),
        "raw SQL on the session's connection",
    );
    s.rollback().unwrap();
    drop(s);
    for sql in ["UPDATE ledger SET entry = 'd'", "DELETE FROM ledger"] {
        if let Some(r) = plain(&db, sql) {
            let err = r.expect_err(sql);
            assert!(err.contains("trigorm_ledger_append_only"), "{sql}: {err}");
        }
    }
    if db.is_postgres() {
        // A refusal has trigorm's own SQLSTATE, for any client to tell it apart.
        let err = db.pg_client().batch_execute("DELETE FROM ledger").unwrap_err();
        let code = err.as_db_error().map(|e| e.code().code().to_string());
        assert_eq!(
            code.as_deref(),
            Some(trigorm::driver::POSTGRES_REFUSAL_SQLSTATE),
            "{err:?}"
        );
    }
    for sql in ["UPDATE ledger SET entry = 'cli'", "DELETE FROM ledger"] {
        if let Some((ok, stderr)) = cli(&db, sql) {
            assert!(
                !ok && stderr.contains("trigorm_ledger_append_only"),
                "{sql} from the CLI: {stderr}"
            );
        }
    }
    if let Some((ok, stderr)) = cli(&db, "INSERT INTO ledger (entry) VALUES ('from the cli')") {
        assert!(ok, "the CLI may still insert: {stderr}");
    }
    if db.is_postgres() {
        let err = plain(&db, "TRUNCATE ledger")
            .unwrap()
            .expect_err("TRUNCATE is guarded too");
        assert!(err.contains("trigorm_ledger_append_only"), "{err}");
    }
    let mut s = engine.session().unwrap();
    s.insert(Ledger {
        id: 0,
        entry: "more".into(),
    })
    .unwrap();
    s.commit().unwrap();
    let all = s.query::<Ledger>().all().unwrap();
    let expected = if db.kind == "memory" { 2 } else { 3 };
    assert_eq!(
        all.len(),
        expected,
        "inserts still work; nothing was changed or removed"
    );
    assert!(all.iter().any(|l| l.entry == "a"));
});

on_each_db!(read_only_transitions_updated_at_and_version, |db: Db| {
    let engine = engine(&db);
    let t = Ticket::table();
    let defs = [
        TriggerDef::read_only("created_by_fixed", t, [Ticket::CREATED_BY.name()]),
        TriggerDef::transitions(
            "state_flow",
            t,
            Ticket::STATE,
            [("open", "working"), ("working", "done"), ("working", "open")]
                .map(|(a, b)| (a.to_string(), b.to_string())),
        ),
        TriggerDef::updated_at("touch", t, Ticket::TOUCHED_AT),
        TriggerDef::version("rev", t, Ticket::REV),
    ];
    assert!(install(&engine, &defs).in_sync());
    let mut s = engine.session().unwrap();
    let tk = s.insert(ticket("first")).unwrap();
    s.commit().unwrap();
    let raw = |s: &mut trigorm::Session, set: &str| {
        let r = s.execute(
            &db.sql(&format!("UPDATE ticket SET {set} WHERE id = ?")),
            &[Value::Int(tk.id)],
        );
        if r.is_err() {
            s.rollback().unwrap();
        } else {
            s.commit().unwrap();
        }
        r
    };
    // Other columns change; the read-only one does not.
    raw(&mut s, "title = 'renamed'").unwrap();
    assert_refused(raw(&mut s, "created_by = 'bob'"), "a read-only column");
    // Allowed edges only; staying put is no move.
    assert_refused(raw(&mut s, "state = 'done'"), "open -> done is not an edge");
    raw(&mut s, "state = 'working'").unwrap();
    raw(&mut s, "state = 'working'").unwrap();
    raw(&mut s, "state = 'done'").unwrap();
    let now = s.get::<Ticket>(tk.id).unwrap().unwrap();
    assert_eq!(
        (now.title.as_str(), now.state.as_str(), now.created_by.as_str()),
        ("renamed", "done", "ann")
    );
    // Four raw updates went through, none touching `rev`: each moved it one up.
    assert_eq!(now.rev, 4, "the version moved on every raw update");
    // Stamped with the current time in UTC (PostgreSQL's `now()` is the transaction's
    // start, SQLite's clock is to the millisecond: a wide margin, no timing).
    let off = (now.touched_at - chrono::Utc::now()).num_seconds().abs();
    assert!(off < 600, "updated_at stamped now, in UTC: {:?}", now.touched_at);
    // An update that sets the version itself is left as it is.
    raw(&mut s, "rev = 40").unwrap();
    assert_eq!(s.get::<Ticket>(tk.id).unwrap().unwrap().rev, 40);
});

on_each_db!(soft_delete_marks_the_row_or_is_refused_where_it_cannot_be, |db: Db| {
    let engine = engine(&db);
    let defs = [TriggerDef::soft_delete("keep", Ticket::table(), Ticket::DELETED, true)];
    if db.is_mariadb() {
        let err = engine.with_connection(|c| manage::install(c, &defs)).unwrap_err();
        assert!(
            matches!(&err, Error::Unsupported { backend: "MariaDB/MySQL", feature } if feature.contains("SoftDelete")),
            "{err:?}"
        );
        return;
    }
    assert!(install(&engine, &defs).in_sync());
    let mut s = engine.session().unwrap();
    let tk = s.insert(ticket("t")).unwrap();
    s.commit().unwrap();
    s.execute(&db.sql("DELETE FROM ticket WHERE id = ?"), &[Value::Int(tk.id)])
        .unwrap();
    s.commit().unwrap();
    let kept = s.get::<Ticket>(tk.id).unwrap().expect("the row stays");
    assert!(kept.deleted, "and is marked");
});

on_each_db!(status_drift_install_prune_and_check, |db: Db| {
    let engine = engine(&db);
    let t = Ledger::table();
    let v1 = [TriggerDef::protect("guard", t, Ops::DELETE)];
    let st = status(&engine, &v1);
    assert_eq!(st.declared, [("trigorm_ledger_guard".to_string(), State::Missing)]);
    assert!(engine.with_connection(|c| manage::check(c, &v1)).is_err());
    assert!(install(&engine, &v1).in_sync());
    // Installing twice changes nothing.
    assert!(install(&engine, &v1).in_sync());
    engine.with_connection(|c| manage::check(c, &v1)).unwrap();

    // Changed in code: outdated until installed.
    let v2 = [
        TriggerDef::protect("guard", t, Ops::DELETE).when(trigorm::trigger::Cond::Cmp(
            trigorm::trigger::Row::Old,
            "entry".into(),
            trigorm::query::CmpOp::Ne,
            Value::from("disposable"),
        )),
    ];
    assert_eq!(status(&engine, &v2).declared[0].1, State::Outdated);
    let err = engine.with_connection(|c| manage::check(c, &v2)).unwrap_err();
    assert!(
        matches!(&err, Error::TriggerDrift { drift } if drift[0].contains("Outdated")),
        "{err}"
    );
    assert!(install(&engine, &v2).in_sync());
    // The new condition holds: a disposable entry may go, others may not.
    let mut s = engine.session().unwrap();
    let keep = s
        .insert(Ledger {
            id: 0,
            entry: "keep".into(),
        })
        .unwrap();
    let gone = s
        .insert(Ledger {
            id: 0,
            entry: "disposable".into(),
        })
        .unwrap();
    s.commit().unwrap();
    s.delete(&gone).unwrap();
    s.commit().unwrap();
    s.delete(&keep).unwrap();
    assert_refused(s.commit(), "the condition holds for this row");
    s.rollback().unwrap();
    drop(s);

    // Dropped by hand: missing.
    // One trigger for all operations on PostgreSQL; one per operation elsewhere.
    let drop_sql = if db.is_postgres() {
        "DROP TRIGGER trigorm_ledger_guard ON ledger"
    } else {
        "DROP TRIGGER trigorm_ledger_guard_delete"
    };
    run_ddl(&db, &engine, drop_sql);
    assert_eq!(status(&engine, &v2).declared[0].1, State::Missing);
    assert!(install(&engine, &v2).in_sync());

    // Made by hand with the managed prefix: orphaned, and prune removes it.
    let by_hand = if db.is_postgres() {
        "CREATE TRIGGER trigorm_ledger_by_hand AFTER INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION trigorm_ledger_guard_fn()"
    } else if db.is_mariadb() {
        "CREATE TRIGGER trigorm_ledger_by_hand AFTER INSERT ON ledger FOR EACH ROW SET @x = 1"
    } else {
        "CREATE TRIGGER trigorm_ledger_by_hand AFTER INSERT ON ledger FOR EACH ROW BEGIN SELECT 1; END"
    };
    run_ddl(&db, &engine, by_hand);
    let st = status(&engine, &v2);
    assert_eq!(
        st.orphaned,
        [("ledger".to_string(), "trigorm_ledger_by_hand".to_string())]
    );
    assert!(engine.with_connection(|c| manage::check(c, &v2)).is_err());
    let pruned = engine.with_connection(|c| manage::prune(c, &v2)).unwrap();
    assert_eq!(pruned, ["trigorm_ledger_by_hand"]);
    engine.with_connection(|c| manage::check(c, &v2)).unwrap();

    // Uninstalled: missing again, and nothing left.
    engine.with_connection(|c| manage::uninstall(c, &v2)).unwrap();
    let st = status(&engine, &v2);
    assert_eq!(st.declared[0].1, State::Missing);
    assert!(st.orphaned.is_empty());
});

#[test]
fn declarations_are_checked_before_any_sql() {
    let t = Ticket::table();
    let cases = [
        (TriggerDef::read_only("ro", t, []), "names no column"),
        (TriggerDef::read_only("ro", t, ["nope"]), "\"nope\" is not a column"),
        (TriggerDef::read_only("bad;name", t, ["title"]), "its name"),
        (TriggerDef::read_only("q\"uote", t, ["title"]), "its name"),
        (
            TriggerDef::protect("p", t, Ops::INSERT).when(trigorm::trigger::old(Ticket::STATE).eq("x")),
            "reads OLD",
        ),
        (
            TriggerDef::protect("p", t, Ops::DELETE).when(new(Ticket::STATE).eq("x")),
            "reads NEW",
        ),
        (TriggerDef::protect("p", t, Ops::default()), "no operation"),
        (
            TriggerDef::transitions("tr", t, Ticket::STATE, Vec::<(String, String)>::new()),
            "allows no move",
        ),
    ];
    for (def, expected) in cases {
        let err = def.validate().expect_err(expected);
        assert!(
            matches!(&err, Error::InvalidTrigger { model: "Ticket", .. }) && err.to_string().contains(expected),
            "{expected}: {err}"
        );
    }
    let custom = TriggerDef::custom(
        "c",
        t,
        trigorm::trigger::Timing::After,
        Ops::INSERT,
        trigorm::trigger::CustomBodies {
            sqlite: Some("SELECT 1;".into()),
            ..Default::default()
        },
    );
    trigorm::trigger::compile(&custom, trigorm::backend::Backend::Sqlite).unwrap();
    let err = trigorm::trigger::compile(&custom, trigorm::backend::Backend::Postgres).unwrap_err();
    assert!(err.to_string().contains("no body for PostgreSQL"), "{err}");
}

on_each_db!(disable_and_enable_switch_a_trigger_and_status_says_so, |db: Db| {
    let engine = engine(&db);
    let defs = [TriggerDef::protect("guard", Ledger::table(), Ops::UPDATE | Ops::DELETE)];
    assert!(install(&engine, &defs).in_sync());
    let name = defs[0].managed_name();
    let set = |on: bool| {
        engine
            .with_connection(|c| manage::set_enabled(c, &defs, &name, on))
            .unwrap()
    };
    let mut s = engine.session().unwrap();
    let mut row = s
        .insert(Ledger {
            id: 0,
            entry: "a".into(),
        })
        .unwrap();
    s.commit().unwrap();
    drop(s);

    set(false);
    assert_eq!(status(&engine, &defs).declared[0].1, State::Disabled);
    assert!(
        engine.with_connection(|c| manage::check(c, &defs)).is_err(),
        "disabled is drift"
    );
    set(false); // already off: nothing to do
    let mut s = engine.session().unwrap();
    row.entry = "fixed while off".into();
    s.update(&row).unwrap();
    s.commit().unwrap();
    drop(s);
    // Installing leaves a disabled trigger as it is.
    assert_eq!(install(&engine, &defs).declared[0].1, State::Disabled);

    set(true);
    assert_eq!(status(&engine, &defs).declared[0].1, State::Installed);
    let mut s = engine.session().unwrap();
    row.entry = "refused again".into();
    s.update(&row).unwrap();
    assert_refused(s.commit(), "on again");
    s.rollback().unwrap();
    assert_eq!(s.get::<Ledger>(row.id).unwrap().unwrap().entry, "fixed while off");
    drop(s);
    let err = engine
        .with_connection(|c| manage::set_enabled(c, &defs, "trigorm_ledger_nope", false))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTrigger { .. }), "{err:?}");
});

// A data fix: a session ignores a trigger for one transaction. The ignore ends with that
// transaction whether it commits, rolls back or fails; it never reaches the session's next
// transaction, another session, the next user of the pooled connection, or a plain client.
on_each_db!(ignore_holds_for_one_transaction_only, |db: Db| {
    let e = Engine::builder(&db.url)
        .model::<Ledger>()
        .trigger(TriggerDef::protect("guard", Ledger::table(), Ops::UPDATE | Ops::DELETE))
        .pool_size(1)
        .build()
        .unwrap();
    e.create_all().unwrap();
    let name = "trigorm_ledger_guard";
    let mut s = e.session().unwrap();
    let row = s
        .insert(Ledger {
            id: 0,
            entry: "tpyo".into(),
        })
        .unwrap();
    let second = s
        .insert(Ledger {
            id: 0,
            entry: "other".into(),
        })
        .unwrap();
    s.commit().unwrap();
    let fix = |s: &mut trigorm::Session, text: &str| {
        s.execute(
            &db.sql("UPDATE ledger SET entry = ? WHERE id = ?"),
            &[Value::from(text), Value::Int(row.id)],
        )
    };

    // Ignored in this transaction: the fix goes through. Meanwhile, on a server, another
    // session (another connection) and a plain client are still refused, on another row.
    s.ignore_triggers(&[name]).unwrap();
    fix(&mut s, "typo").unwrap();
    if db.is_server() {
        let other = Engine::builder(&db.url).model::<Ledger>().build().unwrap();
        let mut o = other.session().unwrap();
        assert_refused(
            o.execute(
                &db.sql("UPDATE ledger SET entry = 'x' WHERE id = ?"),
                &[Value::Int(second.id)],
            ),
            "another session while the ignore is on",
        );
        o.rollback().unwrap();
        let sql = format!("UPDATE ledger SET entry = 'y' WHERE id = {}", second.id);
        assert!(plain(&db, &sql).unwrap().unwrap_err().contains("trigorm_ledger_guard"));
    }
    s.commit().unwrap();
    assert_eq!(s.get::<Ledger>(row.id).unwrap().unwrap().entry, "typo");

    // The next transaction of the same session: guarded again.
    assert_refused(fix(&mut s, "after commit"), "after the ignoring transaction committed");
    s.rollback().unwrap();

    // Ignore, then roll back: guarded again.
    s.ignore_triggers(&[name]).unwrap();
    fix(&mut s, "rolled back").unwrap();
    s.rollback().unwrap();
    assert_refused(
        fix(&mut s, "after rollback"),
        "after the ignoring transaction rolled back",
    );
    s.rollback().unwrap();

    // Ignore, then a failed statement ends the transaction: guarded again after it.
    s.ignore_triggers(&[name]).unwrap();
    assert!(s.execute("SELECT * FROM no_such_table", &[]).is_err());
    s.rollback().unwrap();
    assert_refused(fix(&mut s, "after failure"), "after the ignoring transaction failed");
    s.rollback().unwrap();

    // Ignore, and the session is dropped mid-transaction: the pool's next user (the same
    // connection, pool_size 1) is guarded.
    s.ignore_triggers(&[name]).unwrap();
    drop(s);
    let mut next = e.session().unwrap();
    assert_refused(fix(&mut next, "next user"), "the next user of the pooled connection");
    next.rollback().unwrap();
    drop(next);

    // A plain client never sees an ignore.
    if let Some(r) = plain(&db, "UPDATE ledger SET entry = 'plain'") {
        assert!(r.unwrap_err().contains("trigorm_ledger_guard"));
    }
    let mut s = e.session().unwrap();
    assert_eq!(
        s.get::<Ledger>(row.id).unwrap().unwrap().entry,
        "typo",
        "only the committed fix stayed"
    );
    assert!(s.ignore_triggers(&["bad;name"]).is_err(), "names are checked");
});

/// A view over `ledger`, described as a model (never created as a table: its DDL is ours).
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "ledger_entries")]
struct LedgerEntry {
    id: i64,
    entry: String,
}

// INSTEAD OF makes a view writable on SQLite and PostgreSQL; MariaDB has no INSTEAD OF.
on_each_db!(instead_of_makes_a_view_writable_where_the_backend_has_it, |db: Db| {
    let engine = engine(&db);
    let bodies = trigorm::trigger::CustomBodies {
        sqlite: Some("INSERT INTO ledger (entry) VALUES (upper(NEW.entry));".into()),
        postgres: Some("INSERT INTO ledger (entry) VALUES (upper(NEW.entry)); RETURN NEW;".into()),
        mysql: Some("DO 1;".into()),
    };
    let defs = [TriggerDef::custom(
        "write",
        LedgerEntry::table(),
        trigorm::trigger::Timing::InsteadOf,
        Ops::INSERT,
        bodies,
    )];
    if db.is_mariadb() {
        let err = engine.with_connection(|c| manage::install(c, &defs)).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Unsupported {
                    backend: "MariaDB/MySQL",
                    ..
                }
            ),
            "{err:?}"
        );
        return;
    }
    run_ddl(
        &db,
        &engine,
        "CREATE VIEW ledger_entries AS SELECT id, entry FROM ledger",
    );
    assert!(install(&engine, &defs).in_sync());
    let mut s = engine.session().unwrap();
    s.execute(
        "INSERT INTO ledger_entries (id, entry) VALUES (0, 'through the view')",
        &[],
    )
    .unwrap();
    s.commit().unwrap();
    let rows = s.query::<Ledger>().all().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].entry, "THROUGH THE VIEW");
    // On a table, the database itself refuses an INSTEAD OF trigger.
    let on_table = [TriggerDef::custom(
        "write",
        Ledger::table(),
        trigorm::trigger::Timing::InsteadOf,
        Ops::INSERT,
        trigorm::trigger::CustomBodies {
            sqlite: Some("SELECT 1;".into()),
            postgres: Some("RETURN NEW;".into()),
            mysql: None,
        },
    )];
    assert!(engine.with_connection(|c| manage::install(c, &on_table)).is_err());
});

// A stamp and a version beside an audit: one update fires the audit once and moves the
// version once on every backend (SQLite writes the stamp and the version with UPDATEs of
// their own, which must not set the table's update triggers off again).
on_each_db!(a_stamp_and_a_version_set_off_no_trigger_twice, |db: Db| {
    let engine = engine(&db);
    let audit = trigorm::trigger::CustomBodies {
        sqlite: Some("INSERT INTO ledger (entry) VALUES ('fired');".into()),
        postgres: Some("INSERT INTO ledger (entry) VALUES ('fired'); RETURN NULL;".into()),
        mysql: Some("INSERT INTO ledger (entry) VALUES ('fired');".into()),
    };
    let defs = [
        TriggerDef::updated_at("stamp", Ticket::table(), Ticket::TOUCHED_AT),
        TriggerDef::version("bump", Ticket::table(), Ticket::REV),
        TriggerDef::custom(
            "audit",
            Ticket::table(),
            trigorm::trigger::Timing::After,
            Ops::UPDATE,
            audit,
        ),
    ];
    assert!(install(&engine, &defs).in_sync());
    let mut s = engine.session().unwrap();
    let tk = s.insert(ticket("t")).unwrap();
    s.commit().unwrap();
    s.execute(
        &db.sql("UPDATE ticket SET title = 'u' WHERE id = ?"),
        &[Value::Int(tk.id)],
    )
    .unwrap();
    s.commit().unwrap();
    drop(s);
    let mut s = engine.session().unwrap();
    assert_eq!(s.query::<Ledger>().count().unwrap(), 1, "the audit fired once");
    let now = s.get::<Ticket>(tk.id).unwrap().unwrap();
    assert_eq!(now.rev, 1, "the version moved once");
    assert!(now.touched_at > t0(), "stamped");
});
