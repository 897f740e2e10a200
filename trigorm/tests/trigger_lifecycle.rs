//! The lifecycle of native triggers beyond one trigger per table, on every backend: several
//! triggers of one table, timing and event fire in the order of their declared names, and
//! keep it through changes, additions, disable and enable; orphaned PostgreSQL trigger
//! functions; an install that fails midway (MariaDB: what was done, and a rerun completes
//! it; elsewhere: nothing done); a conditional custom trigger fires exactly when its
//! condition holds.
mod common;
use common::*;

use mysql::prelude::Queryable;
use trigorm::backend::Backend;
use trigorm::trigger::manage::{self, State};
use trigorm::trigger::{changed, new, old, CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "item")]
struct Item {
    id: i64,
    status: String,
    note: String,
    tag: Option<String>,
}

/// What the triggers write: one row per firing, in firing order (its id).
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "fired")]
struct Fired {
    id: i64,
    name: String,
}

fn item(status: &str) -> Item {
    Item {
        id: 0,
        status: status.into(),
        note: String::new(),
        tag: None,
    }
}

fn engine(db: &Db) -> Engine {
    let e = Engine::builder(&db.url)
        .model::<Item>()
        .model::<Fired>()
        .build()
        .unwrap();
    e.create_all().unwrap();
    e
}

/// The statements of a custom trigger body that writes `label` into `fired`, for each
/// backend; `variant` changes the SQL, not what it does.
fn writes(label: &str, timing: Timing, variant: bool) -> CustomBodies {
    let (sqlite, mysql) = if variant {
        (
            format!("INSERT INTO \"fired\" (\"name\") SELECT '{label}';"),
            format!("INSERT INTO `fired` (`name`) SELECT '{label}';"),
        )
    } else {
        (
            format!("INSERT INTO \"fired\" (\"name\") VALUES ('{label}');"),
            format!("INSERT INTO `fired` (`name`) VALUES ('{label}');"),
        )
    };
    let ret = if timing == Timing::Before {
        "RETURN NEW;"
    } else {
        "RETURN NULL;"
    };
    CustomBodies {
        postgres: Some(format!("{sqlite} {ret}")),
        sqlite: Some(sqlite),
        mysql: Some(mysql),
    }
}

/// A custom trigger `name` on `item` that logs its name into `fired`.
fn logger(name: &str, timing: Timing, ops: Ops, variant: bool) -> TriggerDef {
    TriggerDef::custom(name, Item::table(), timing, ops, writes(name, timing, variant))
}

fn install(engine: &Engine, defs: &[TriggerDef]) -> manage::Status {
    engine.with_connection(|c| manage::install(c, defs)).unwrap()
}

fn status(engine: &Engine, defs: &[TriggerDef]) -> manage::Status {
    engine.with_connection(|c| manage::status(c, defs)).unwrap()
}

fn state(st: &manage::Status, name: &str) -> State {
    let full = format!("trigorm_item_{name}");
    st.declared
        .iter()
        .find(|(n, _)| *n == full)
        .unwrap_or_else(|| panic!("{full} in {st:?}"))
        .1
}

/// Clear `fired`, run `sql` (one write of `item`), and say which triggers fired, in order.
fn fire(engine: &Engine, sql: &str, params: &[Value]) -> Vec<String> {
    let mut s = engine.session().unwrap();
    s.execute("DELETE FROM fired", &[]).unwrap();
    s.execute(sql, params).unwrap_or_else(|e| panic!("{sql}: {e}"));
    s.commit().unwrap();
    fired(&mut s)
}

/// The names in `fired`, in the order they were written.
fn fired(s: &mut trigorm::Session) -> Vec<String> {
    rows(s, "SELECT name FROM fired ORDER BY id")
        .into_iter()
        .map(|r| match &r[0] {
            Value::Text(t) => t.clone(),
            other => panic!("a name: {other:?}"),
        })
        .collect()
}

fn backend(db: &Db) -> Backend {
    if db.is_postgres() {
        Backend::Postgres
    } else if db.is_mariadb() {
        Backend::Mysql
    } else {
        Backend::Sqlite
    }
}

/// Three (then four) triggers of one timing and event, declared out of order: they fire
/// in the order of their names, and keep it when one changes, one is added, one is
/// dropped by hand, one is disabled, enabled, or disabled while another is replaced.
fn declared_order_holds(db: Db, timing: Timing, op: Ops) {
    let engine = engine(&db);
    let mut s = engine.session().unwrap();
    let row = s.insert(item("new")).unwrap();
    s.commit().unwrap();
    drop(s);
    let write = if op == Ops::INSERT {
        "INSERT INTO item (status, note) VALUES ('new', '')".to_string()
    } else {
        format!("UPDATE item SET note = 'touched' WHERE id = {}", row.id)
    };
    let defs = |names: &[&str], changed: &[&str]| -> Vec<TriggerDef> {
        names
            .iter()
            .map(|n| logger(n, timing, op, changed.contains(n)))
            .collect()
    };
    let abc = ["a", "b", "c"].map(String::from).to_vec();

    let v1 = defs(&["b", "a", "c"], &[]);
    assert!(install(&engine, &v1).in_sync());
    assert_eq!(fire(&engine, &write, &[]), abc, "in the order of the names");
    // Installing again changes nothing, the order included.
    assert!(install(&engine, &v1).in_sync());
    assert_eq!(fire(&engine, &write, &[]), abc);

    // "b" changes in code: outdated, and once replaced it still fires second.
    let v2 = defs(&["b", "a", "c"], &["b"]);
    let st = status(&engine, &v2);
    assert_eq!(
        (state(&st, "a"), state(&st, "b"), state(&st, "c")),
        (State::Installed, State::Outdated, State::Installed)
    );
    assert!(install(&engine, &v2).in_sync());
    assert_eq!(fire(&engine, &write, &[]), abc, "after replacing b");

    // A new one, "a0", takes its place by name.
    let v3 = defs(&["b", "a0", "a", "c"], &["b"]);
    assert_eq!(state(&status(&engine, &v3), "a0"), State::Missing);
    assert!(install(&engine, &v3).in_sync());
    let full = ["a", "a0", "b", "c"].map(String::from).to_vec();
    assert_eq!(fire(&engine, &write, &[]), full, "a0 between a and b");

    // Dropped by hand and installed again: back in its place.
    let drop_a = match backend(&db) {
        Backend::Postgres => "DROP TRIGGER trigorm_item_a ON item".to_string(),
        _ => format!(
            "DROP TRIGGER trigorm_item_a_{}",
            if op == Ops::INSERT { "insert" } else { "update" }
        ),
    };
    run_ddl(&db, &engine, &drop_a);
    assert_eq!(state(&status(&engine, &v3), "a"), State::Missing);
    assert!(install(&engine, &v3).in_sync());
    assert_eq!(fire(&engine, &write, &[]), full, "a recreated first");

    // Disabled, "b" writes nothing; enabled, it fires in its place again.
    let set = |defs: &[TriggerDef], name: &str, on: bool| {
        engine
            .with_connection(|c| manage::set_enabled(c, defs, &format!("trigorm_item_{name}"), on))
            .unwrap()
    };
    set(&v3, "b", false);
    assert_eq!(state(&status(&engine, &v3), "b"), State::Disabled);
    assert_eq!(fire(&engine, &write, &[]), ["a", "a0", "c"], "b is off");
    set(&v3, "b", true);
    assert!(status(&engine, &v3).in_sync());
    assert_eq!(fire(&engine, &write, &[]), full, "b on again, in its place");

    // While "b" is off, "a" changes in code and is installed: "b" is remade where the
    // backend needs it, and stays off in its place.
    set(&v3, "b", false);
    let v4 = defs(&["b", "a0", "a", "c"], &["b", "a"]);
    let st = install(&engine, &v4);
    assert_eq!(
        (state(&st, "a"), state(&st, "a0"), state(&st, "b"), state(&st, "c")),
        (State::Installed, State::Installed, State::Disabled, State::Installed),
        "{st:?}"
    );
    assert_eq!(fire(&engine, &write, &[]), ["a", "a0", "c"], "b still off");
    set(&v4, "b", true);
    assert!(engine.with_connection(|c| manage::check(c, &v4)).is_ok());
    assert_eq!(fire(&engine, &write, &[]), full);

    // "a0" ignored for one transaction (SQLite drops it there and makes the table's
    // triggers again before the COMMIT): the rest fire in order, and afterwards all of them
    // do, in sync.
    let mut s = engine.session().unwrap();
    s.execute("DELETE FROM fired", &[]).unwrap();
    s.ignore_triggers(&["trigorm_item_a0"]).unwrap();
    s.execute(&write, &[]).unwrap();
    assert_eq!(fired(&mut s), ["a", "b", "c"], "a0 ignored");
    s.commit().unwrap();
    drop(s);
    assert!(engine.with_connection(|c| manage::check(c, &v4)).is_ok());
    assert_eq!(fire(&engine, &write, &[]), full, "after the ignore, in order");

    // Another connection that loads the schema afresh (SQLite: a file opened again, and
    // the older `sqlite3` shell) fires them in the same order.
    if let Some(path) = db.path() {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!("DELETE FROM fired; {write}")).unwrap();
        let names: Vec<String> = c
            .prepare("SELECT name FROM fired ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(names, full, "a file opened again");
        drop(c);
        let out = std::process::Command::new("sqlite3")
            .arg(&path)
            .arg(format!(
                "DELETE FROM fired; {write}; SELECT group_concat(name) FROM (SELECT name FROM fired ORDER BY id);"
            ))
            .output()
            .expect("the sqlite3 shell (CI machines have it)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "a,a0,b,c",
            "the sqlite3 shell"
        );
    }
    if db.is_mariadb() {
        let mut c = db.my_client();
        c.query_drop("DELETE FROM fired").unwrap();
        c.query_drop(&write).unwrap();
        let names: Vec<String> = c.query("SELECT name FROM fired ORDER BY id").unwrap();
        assert_eq!(names, full, "a plain MariaDB client");
    }
}

on_each_db!(after_triggers_fire_in_the_order_of_their_names, |db: Db| {
    declared_order_holds(db, Timing::After, Ops::INSERT);
});

on_each_db!(before_triggers_fire_in_the_order_of_their_names, |db: Db| {
    declared_order_holds(db, Timing::Before, Ops::UPDATE);
});

// A trigger remade by hand from the very SQL trigorm renders lands out of order (SQLite:
// the newest fires first; MariaDB: the last created fires last): status says outdated,
// check fails, and install puts it back. PostgreSQL orders by name whatever the creation.
on_each_db!(a_trigger_out_of_order_is_outdated_and_install_puts_it_back, |db: Db| {
    let engine = engine(&db);
    let defs: Vec<TriggerDef> = ["b", "a", "c"]
        .iter()
        .map(|n| logger(n, Timing::After, Ops::INSERT, false))
        .collect();
    assert!(install(&engine, &defs).in_sync());
    let write = "INSERT INTO item (status, note) VALUES ('new', '')";
    // SQLite: remaking "c" puts it first; MariaDB: remaking "a" puts it last.
    let moved = if db.is_mariadb() { &defs[1] } else { &defs[2] };
    let compiled = trigorm::trigger::compile(moved, backend(&db)).unwrap();
    let part = &compiled.triggers[0];
    if db.is_postgres() {
        run_ddl(&db, &engine, &part.drop);
        for sql in &part.create {
            run_ddl(&db, &engine, sql);
        }
        assert!(status(&engine, &defs).in_sync(), "names order them");
        assert_eq!(fire(&engine, write, &[]), ["a", "b", "c"]);
        return;
    }
    run_ddl(&db, &engine, &part.drop);
    run_ddl(&db, &engine, &part.create[0]);
    let expected = if db.is_mariadb() {
        ["b", "c", "a"]
    } else {
        ["c", "a", "b"]
    };
    assert_eq!(fire(&engine, write, &[]), expected, "remade by hand: out of order");
    let st = status(&engine, &defs);
    assert_eq!(state(&st, &moved.name), State::Outdated, "{st:?}");
    let err = engine.with_connection(|c| manage::check(c, &defs)).unwrap_err();
    assert!(matches!(&err, Error::TriggerDrift { .. }), "{err:?}");
    assert!(install(&engine, &defs).in_sync());
    assert_eq!(fire(&engine, write, &[]), ["a", "b", "c"], "put back");
});

/// The names of the managed trigger functions in the test's schema.
fn pg_functions(db: &Db) -> Vec<String> {
    let mut c = db.pg_client();
    let rows = c
        .query(
            "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = current_schema() AND p.proname LIKE 'trigorm%' ORDER BY 1",
            &[],
        )
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

// PostgreSQL triggers call a function: one left behind (its trigger dropped by hand, its
// declaration removed) is an orphan too; prune drops it, check fails on it. A function
// still declared, or called by a trigger trigorm does not manage, is no orphan.
#[test]
fn orphaned_postgres_functions() {
    let Some(db) = Db::postgres() else { return };
    let engine = engine(&db);
    let t = Item::table();
    let guard = TriggerDef::protect("guard", t, Ops::DELETE);
    let x = logger("x", Timing::After, Ops::INSERT, false);
    let keep = logger("keep", Timing::After, Ops::UPDATE, false);
    let all = [guard.clone(), x, keep.clone()];
    assert!(install(&engine, &all).in_sync());
    assert_eq!(
        pg_functions(&db),
        ["trigorm_item_guard_fn", "trigorm_item_keep_fn", "trigorm_item_x_fn"]
    );

    // Dropped by hand: the trigger is missing, its function still declared (no orphan).
    run_ddl(&db, &engine, "DROP TRIGGER trigorm_item_guard ON item");
    run_ddl(&db, &engine, "DROP TRIGGER trigorm_item_guard_truncate ON item");
    let st = status(&engine, &all);
    assert_eq!(state(&st, "guard"), State::Missing);
    assert!(st.orphaned.is_empty() && st.orphaned_functions.is_empty(), "{st:?}");

    // "keep"'s function is also called by a trigger of someone else's.
    run_ddl(
        &db,
        &engine,
        "CREATE TRIGGER not_ours AFTER DELETE ON item FOR EACH ROW EXECUTE FUNCTION trigorm_item_keep_fn()",
    );
    // A function of the prefix that is no trigger function is none of trigorm's.
    run_ddl(
        &db,
        &engine,
        "CREATE FUNCTION trigorm_helper() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    );

    // The declarations of guard, x and keep removed from the code: guard's function is
    // called by nothing, x's by its orphaned trigger, keep's by a trigger that stays.
    let none: [TriggerDef; 0] = [];
    let st = status(&engine, &none);
    assert_eq!(
        st.orphaned,
        [
            ("item".to_string(), "trigorm_item_keep".to_string()),
            ("item".to_string(), "trigorm_item_x".to_string())
        ]
    );
    assert_eq!(st.orphaned_functions, ["trigorm_item_guard_fn", "trigorm_item_x_fn"]);
    assert!(!st.in_sync());
    // With keep declared again: its trigger and function are no orphans.
    let only_keep = [keep.clone()];
    let st = status(&engine, &only_keep);
    assert_eq!(st.orphaned, [("item".to_string(), "trigorm_item_x".to_string())]);
    assert_eq!(st.orphaned_functions, ["trigorm_item_guard_fn", "trigorm_item_x_fn"]);
    let err = engine.with_connection(|c| manage::check(c, &only_keep)).unwrap_err();
    match &err {
        Error::TriggerDrift { drift } => {
            assert!(
                drift.contains(&"function trigorm_item_guard_fn: orphaned".to_string()),
                "{drift:?}"
            );
            assert!(
                drift.contains(&"function trigorm_item_x_fn: orphaned".to_string()),
                "{drift:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let pruned = engine.with_connection(|c| manage::prune(c, &only_keep)).unwrap();
    assert_eq!(pruned, ["trigorm_item_x", "trigorm_item_guard_fn", "trigorm_item_x_fn"]);
    assert_eq!(pg_functions(&db), ["trigorm_helper", "trigorm_item_keep_fn"]);
    let st = engine.with_connection(|c| manage::check(c, &only_keep)).unwrap();
    assert!(st.in_sync(), "{st:?}");
    // Installing the guard again brings its function back.
    assert!(install(&engine, &[guard, keep]).in_sync());
    assert!(pg_functions(&db).contains(&"trigorm_item_guard_fn".to_string()));
}

// An install that fails midway: on MariaDB (DDL commits by itself) it says which triggers
// were installed and which not, status agrees, and a rerun with the declaration fixed
// completes it; on SQLite and PostgreSQL (one transaction) nothing is installed.
on_each_db!(an_install_that_fails_midway, |db: Db| {
    let first = logger("first", Timing::After, Ops::INSERT, false);
    let broken = CustomBodies {
        sqlite: Some("THIS IS NOT SQL;".into()),
        postgres: Some("THIS IS NOT SQL; RETURN NULL;".into()),
        mysql: Some("THIS IS NOT SQL;".into()),
    };
    let second = TriggerDef::custom("second", Item::table(), Timing::After, Ops::INSERT, broken);
    let engine = Engine::builder(&db.url)
        .model::<Item>()
        .model::<Fired>()
        .trigger(first.clone())
        .trigger(second)
        .build()
        .unwrap();
    let err = engine.create_all().unwrap_err();
    let (done, not_done) = match &err {
        Error::TriggersIncomplete {
            operation: "install",
            done,
            not_done,
            sql,
            ..
        } => {
            assert!(sql.contains("THIS IS NOT SQL"), "the failed statement: {sql}");
            (done.clone(), not_done.clone())
        }
        other => panic!("{other:?}"),
    };
    let st = engine.trigger_status().unwrap();
    if db.is_mariadb() {
        assert_eq!(done, ["trigorm_item_first_insert"], "{err}");
        assert_eq!(not_done, ["trigorm_item_second_insert"], "{err}");
        assert_eq!(
            st.declared,
            [
                ("trigorm_item_first".to_string(), State::Installed),
                ("trigorm_item_second".to_string(), State::Missing)
            ]
        );
        // Run again as it is: the first stays, the second fails again.
        let err = engine.install_triggers().unwrap_err();
        assert!(
            matches!(&err, Error::TriggersIncomplete { done, not_done, .. }
                if done.is_empty() && not_done == &["trigorm_item_second_insert"]),
            "{err:?}"
        );
    } else {
        assert!(done.is_empty(), "one transaction: nothing done: {err}");
        assert_eq!(
            not_done,
            ["trigorm_item_first_insert", "trigorm_item_second_insert"].map(|n| if db.is_postgres() {
                n.trim_end_matches("_insert").to_string()
            } else {
                n.to_string()
            })
        );
        assert!(
            st.declared.iter().all(|(_, s)| *s == State::Missing),
            "nothing installed: {st:?}"
        );
        assert!(st.orphaned.is_empty() && st.orphaned_functions.is_empty(), "{st:?}");
    }

    // The declaration fixed: a rerun completes the install.
    let fixed = [first, logger("second", Timing::After, Ops::INSERT, false)];
    let st = if db.kind == "memory" {
        // A new engine would open another in-memory database.
        install(&engine, &fixed)
    } else {
        let again = Engine::builder(&db.url)
            .model::<Item>()
            .model::<Fired>()
            .trigger(fixed[0].clone())
            .trigger(fixed[1].clone())
            .build()
            .unwrap();
        let st = again.install_triggers().unwrap();
        again.check_triggers().unwrap();
        st
    };
    assert!(st.in_sync(), "{st:?}");
    engine.with_connection(|c| manage::check(c, &fixed)).unwrap();
    assert_eq!(
        fire(&engine, "INSERT INTO item (status, note) VALUES ('new', '')", &[]),
        ["first", "second"]
    );
});

// A replacement that fails leaves the old trigger guarding: SQLite and PostgreSQL replace
// in one transaction; MariaDB replaces a trigger in one statement (`CREATE OR REPLACE
// TRIGGER`), where a drop and a create would leave the table unguarded between them, and
// without the trigger when the create fails.
on_each_db!(a_replacement_that_fails_leaves_the_old_trigger, |db: Db| {
    let engine = engine(&db);
    let good = [logger("first", Timing::After, Ops::INSERT, false)];
    assert!(install(&engine, &good).in_sync());
    let broken = [TriggerDef::custom(
        "first",
        Item::table(),
        Timing::After,
        Ops::INSERT,
        CustomBodies {
            sqlite: Some("THIS IS NOT SQL;".into()),
            postgres: Some("THIS IS NOT SQL; RETURN NULL;".into()),
            mysql: Some("THIS IS NOT SQL;".into()),
        },
    )];
    let err = engine.with_connection(|c| manage::install(c, &broken)).unwrap_err();
    if db.is_mariadb() {
        assert!(
            matches!(&err, Error::TriggersIncomplete { done, not_done, .. }
                if done.is_empty() && not_done == &["trigorm_item_first_insert"]),
            "{err:?}"
        );
    }
    assert_eq!(state(&status(&engine, &broken), "first"), State::Outdated, "{err}");
    assert_eq!(state(&status(&engine, &good), "first"), State::Installed);
    assert_eq!(
        fire(&engine, "INSERT INTO item (status, note) VALUES ('new', '')", &[]),
        ["first"],
        "the old trigger still fires"
    );
});

// A custom trigger with a condition fires exactly when it holds: for each row an update
// changes to the status "done", or whose tag it clears; not when the status changes to
// another value, stays "done", or another column changes.
on_each_db!(
    a_conditional_custom_trigger_fires_exactly_when_its_condition_holds,
    |db: Db| {
        let engine = engine(&db);
        let cond = changed(Item::STATUS)
            .and(new(Item::STATUS).eq("done"))
            .or(old(Item::TAG).is_null().not().and(new(Item::TAG).is_null()));
        let defs = [TriggerDef::custom(
            "done",
            Item::table(),
            Timing::After,
            Ops::UPDATE,
            writes("done", Timing::After, false),
        )
        .when(cond)];
        assert!(install(&engine, &defs).in_sync());
        let mut s = engine.session().unwrap();
        let one = s.insert(item("new")).unwrap();
        let two = s.insert(item("new")).unwrap();
        s.commit().unwrap();
        drop(s);
        let count = |sql: &str, ids: &[i64]| -> usize {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            fire(&engine, &sql.replace("{ids}", &list.join(", ")), &[]).len()
        };
        let set = |assign: &str| format!("UPDATE item SET {assign} WHERE id IN ({{ids}})");
        let (a, b) = (one.id, two.id);
        assert_eq!(count(&set("status = 'open'"), &[a]), 0, "changed to another value");
        assert_eq!(count(&set("note = 'n'"), &[a]), 0, "another column");
        assert_eq!(count(&set("status = 'done'"), &[a]), 1, "changed to done");
        assert_eq!(count(&set("status = 'done', note = 'm'"), &[a]), 0, "done stays done");
        assert_eq!(count(&set("status = status"), &[a]), 0, "set to itself");
        assert_eq!(count(&set("status = 'open'"), &[a, b]), 0, "both to open");
        assert_eq!(count(&set("status = 'done'"), &[a, b]), 2, "both to done: one row each");
        assert_eq!(count(&set("tag = 'x'"), &[a]), 0, "a tag set");
        assert_eq!(count(&set("tag = NULL"), &[a, b]), 1, "only a's tag is cleared");
        assert_eq!(count(&set("tag = NULL"), &[a]), 0, "NULL stays NULL");
        // Through the ORM too.
        let mut s = engine.session().unwrap();
        let mut row = s.get::<Item>(b).unwrap().unwrap();
        row.status = "open".into();
        s.update(&row).unwrap();
        s.commit().unwrap();
        row.status = "done".into();
        s.update(&row).unwrap();
        s.commit().unwrap();
        row.note = "still done".into();
        s.update(&row).unwrap();
        s.commit().unwrap();
        assert_eq!(fired(&mut s), ["done"], "open -> done once, then nothing on a note");
    }
);

// SQLite ignores a trigger by dropping it inside the transaction and making it again before
// the COMMIT: two ignores in one transaction, a user's own trigger (its table written in
// another case), a trigger the transaction drops itself, and a rollback all leave the
// triggers as they should be, in their order.
on_sqlite!(a_sqlite_ignore_puts_back_what_it_dropped_and_nothing_else, |db: Db| {
    let engine = engine(&db);
    let defs: Vec<TriggerDef> = ["b", "a", "c"]
        .iter()
        .map(|n| logger(n, Timing::After, Ops::INSERT, false))
        .collect();
    assert!(install(&engine, &defs).in_sync());
    run_ddl(
        &db,
        &engine,
        "CREATE TRIGGER user_t AFTER INSERT ON ITEM BEGIN INSERT INTO fired (name) VALUES ('user'); END",
    );
    let write = "INSERT INTO item (status, note) VALUES ('new', '')";
    assert_eq!(
        fire(&engine, write, &[]),
        ["user", "a", "b", "c"],
        "newest first: the user's"
    );

    // Two ignores in one transaction, and "b" dropped by the transaction itself.
    let mut s = engine.session().unwrap();
    s.execute("DELETE FROM fired", &[]).unwrap();
    s.ignore_triggers(&["trigorm_item_a"]).unwrap();
    s.ignore_triggers(&["trigorm_item_c", "trigorm_item_nope"]).unwrap();
    s.execute(write, &[]).unwrap();
    assert_eq!(fired(&mut s), ["user", "b"], "a and c ignored");
    s.execute("DROP TRIGGER trigorm_item_b_insert", &[]).unwrap();
    s.commit().unwrap();
    drop(s);
    assert_eq!(
        fire(&engine, write, &[]),
        ["user", "a", "c"],
        "b stays dropped, the rest in order"
    );
    assert_eq!(state(&status(&engine, &defs), "b"), State::Missing);

    // Rolled back: everything as before.
    let mut s = engine.session().unwrap();
    s.ignore_triggers(&["trigorm_item_a"]).unwrap();
    s.rollback().unwrap();
    drop(s);
    assert_eq!(fire(&engine, write, &[]), ["user", "a", "c"]);
    // Installing "b" again remakes the group: newer than the user's trigger now.
    assert!(install(&engine, &defs).in_sync());
    assert_eq!(fire(&engine, write, &[]), ["a", "b", "c", "user"]);
});

// MariaDB places a remade trigger next to one that stays: with "b" out of place and "a"
// new, one install puts both where their names say (not next to "b", which moves too).
on_mariadb!(one_install_orders_a_new_trigger_and_a_misplaced_one, |db: Db| {
    let engine = engine(&db);
    let named = |names: &[&str]| -> Vec<TriggerDef> {
        names
            .iter()
            .map(|n| logger(n, Timing::After, Ops::INSERT, false))
            .collect()
    };
    let bcd = named(&["b", "c", "d"]);
    assert!(install(&engine, &bcd).in_sync());
    // "b" remade by hand from trigorm's own SQL: now last.
    let part = &trigorm::trigger::compile(&bcd[0], Backend::Mysql).unwrap().triggers[0];
    run_ddl(&db, &engine, &part.drop);
    run_ddl(&db, &engine, &part.create[0]);
    let write = "INSERT INTO item (status, note) VALUES ('new', '')";
    assert_eq!(fire(&engine, write, &[]), ["c", "d", "b"]);
    let abcd = named(&["a", "b", "c", "d"]);
    assert!(install(&engine, &abcd).in_sync(), "one install");
    assert_eq!(fire(&engine, write, &[]), ["a", "b", "c", "d"]);
});
