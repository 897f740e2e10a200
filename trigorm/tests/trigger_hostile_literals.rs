//! Hostile literals through trigorm's own install path: strings with quotes, backslashes,
//! comment and dollar-quote markers, wildcards, newlines and unicode, written by trigorm
//! into the triggers it installs (a condition, the states of a transition, the value of a
//! soft delete). On every backend, the installed trigger is in sync with its declaration
//! (the fingerprint survives the trip), a second install changes nothing, and the
//! database matches exactly the hostile value and nothing near it.
mod common;
use common::*;

#[path = "trigger_support/identity.rs"]
mod identity;
use identity::{identity, settle};

use trigorm::error::DbErrorKind;
use trigorm::trigger::manage;
use trigorm::trigger::{new, CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "doc")]
struct Doc {
    id: i64,
    title: String,
    note: String,
    state: String,
    mark: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "fired")]
struct Fired {
    id: i64,
    name: String,
}

/// Strings that break SQL written carelessly on one backend or another.
const HOSTILE: &[&str] = &[
    "it's",
    "'",
    "''",
    "a\\'b",
    "\\'",
    "\\",
    "\\\\",
    "ends with \\",
    "'; DROP TABLE doc; --",
    "'); DELETE FROM fired; --",
    "%",
    "_",
    "50%_off",
    "\\%",
    "\\_",
    "ünïcødé ß 😀 中文 \u{202e}",
    "$$",
    "$tg$",
    "$trigorm$",
    "$1 ?",
    "*/",
    "/*",
    "*/ SELECT 1; /*",
    "-- not a comment",
    "line\nbreak",
    "cr\r\nlf\ttab",
    "\"double\" `back`",
    "",
];

/// Values near `h` that a careless escape, a case- or space-insensitive comparison, or a
/// LIKE could confuse with it.
fn near(h: &str) -> Vec<String> {
    let mut out = vec![
        format!("{h} "),
        format!(" {h}"),
        format!("{h}x"),
        h.to_uppercase(),
        h.replace('\\', ""),
        h.replace('\\', "\\\\"),
        h.replace('\'', "''"),
        h.replace("''", "'"),
        h.replace('\'', "\\'"),
        h.replace('%', "x"),
        h.replace('_', "x"),
        h.replace('$', ""),
        h.replace('\n', "\r\n"),
        h.replace("\r\n", "\n"),
        h.chars().take(h.chars().count().saturating_sub(1)).collect(),
        "anything".to_string(),
    ];
    out.retain(|v| v != h);
    out
}

/// Every hostile value and every value near one, once each, in a fixed order.
fn probes() -> Vec<String> {
    let mut all: Vec<String> = HOSTILE.iter().map(|h| h.to_string()).collect();
    for h in HOSTILE {
        for v in near(h) {
            if !all.contains(&v) {
                all.push(v);
            }
        }
    }
    all
}

/// Which hostile value `v` is, if any.
fn which(v: &str) -> Option<usize> {
    HOSTILE.iter().position(|h| *h == v)
}

fn engine(db: &Db) -> Engine {
    let e = Engine::builder(&db.url)
        .model::<Doc>()
        .model::<Fired>()
        .build()
        .unwrap();
    e.create_all().unwrap();
    e
}

fn insert(engine: &Engine, state: &str) -> i64 {
    let mut s = engine.session().unwrap();
    let d = s
        .insert(Doc {
            id: 0,
            title: "plain".into(),
            note: "plain".into(),
            state: state.into(),
            mark: "live".into(),
        })
        .unwrap();
    s.commit().unwrap();
    d.id
}

/// Install `defs` through `manage::install`: in sync right after (the fingerprint read
/// back from the database is the one rendered); installed again, still in sync and no
/// trigger of `doc` touched.
fn install_twice(db: &Db, engine: &Engine, defs: &[TriggerDef]) {
    let st = engine.with_connection(|c| manage::install(c, defs)).unwrap();
    assert!(st.in_sync(), "right after the install: {st:?}");
    engine.with_connection(|c| manage::check(c, defs)).unwrap();
    let before = identity(db, engine, "doc");
    settle(db);
    let again = engine.with_connection(|c| manage::install(c, defs)).unwrap();
    assert!(again.in_sync(), "after a second install: {again:?}");
    assert_eq!(
        identity(db, engine, "doc"),
        before,
        "a second install touched a trigger"
    );
}

/// The declared name of the trigger a refusal names (without the per-operation suffix).
fn refused_by(e: &Error) -> String {
    assert_eq!(e.db_kind(), Some(DbErrorKind::TriggerRefused), "a typed refusal: {e:?}");
    let r = e
        .trigger_refusal()
        .unwrap_or_else(|| panic!("a managed trigger's refusal: {e}"));
    assert_eq!(r.table, "doc", "{r:?}");
    let name = r.trigger.strip_prefix("trigorm_doc_").unwrap_or(&r.trigger);
    name.strip_suffix("_update").unwrap_or(name).to_string()
}

/// `UPDATE doc SET <column> = v WHERE id = ?` in one transaction (rolled back when it
/// fails): the trigger that refused it, if one did.
fn set(db: &Db, engine: &Engine, id: i64, column: &str, v: &str) -> Option<String> {
    let mut s = engine.session().unwrap();
    let sql = db.sql(&format!("UPDATE doc SET {column} = ? WHERE id = ?"));
    match s.execute(&sql, &[Value::from(v), Value::Int(id)]) {
        Ok(n) => {
            assert!(n <= 1, "{n}");
            s.commit().unwrap();
            None
        }
        Err(e) => Some(refused_by(&e)),
    }
}

/// A custom AFTER UPDATE trigger `name` that logs its name into `fired`.
fn logger(name: &str) -> TriggerDef {
    let sql = format!("INSERT INTO fired (name) VALUES ('{name}');");
    TriggerDef::custom(
        name,
        Doc::table(),
        Timing::After,
        Ops::UPDATE,
        CustomBodies {
            postgres: Some(format!("{sql} RETURN NULL;")),
            sqlite: Some(sql.clone()),
            mysql: Some(sql),
        },
    )
}

// A condition comparing with a hostile literal matches that value exactly: a Protect
// refuses setting the title to its value (and no other), a Custom trigger fires on
// setting the note to its value (and no other). One trigger of each per hostile value,
// all on one table.
on_each_db!(a_hostile_literal_in_a_condition_matches_exactly_itself, |db: Db| {
    let engine = engine(&db);
    let mut defs = Vec::new();
    for (i, h) in HOSTILE.iter().enumerate() {
        defs.push(TriggerDef::protect(&format!("lit_{i:02}"), Doc::table(), Ops::UPDATE).when(new(Doc::TITLE).eq(*h)));
        defs.push(logger(&format!("log_{i:02}")).when(new(Doc::NOTE).eq(*h)));
    }
    install_twice(&db, &engine, &defs);

    let id = insert(&engine, "s");
    for v in probes() {
        let expected = which(&v).map(|i| format!("lit_{i:02}"));
        assert_eq!(set(&db, &engine, id, "title", &v), expected, "title = {v:?}");
    }
    let mut s = engine.session().unwrap();
    for v in probes() {
        s.execute("DELETE FROM fired", &[]).unwrap();
        s.commit().unwrap();
        assert_eq!(set(&db, &engine, id, "note", &v), None, "note = {v:?}");
        let fired = rows(&mut s, "SELECT name FROM fired");
        let expected: Vec<Vec<Value>> = which(&v)
            .map(|i| vec![Value::from(format!("log_{i:02}"))])
            .into_iter()
            .collect();
        assert_eq!(fired, expected, "note = {v:?}");
        // The note holds what was written, byte for byte.
        let back = s
            .query_raw(&db.sql("SELECT note FROM doc WHERE id = ?"), &[Value::Int(id)])
            .unwrap();
        assert_eq!(back, [[Value::from(v.as_str())]]);
        s.commit().unwrap();
    }
});

// The states of a transition may be hostile text: exactly the declared edges (from
// "start" to each hostile state, and from it to "end") are allowed; a near value is
// refused, as is a move between two hostile states.
on_each_db!(hostile_transition_states_allow_exactly_their_edges, |db: Db| {
    let engine = engine(&db);
    let edges: Vec<(String, String)> = HOSTILE
        .iter()
        .flat_map(|h| [("start".to_string(), h.to_string()), (h.to_string(), "end".to_string())])
        .collect();
    let defs = [TriggerDef::transitions("flow", Doc::table(), Doc::STATE, edges)];
    install_twice(&db, &engine, &defs);

    let flow = Some("flow".to_string());
    for v in probes() {
        if v == "start" || v == "end" {
            continue;
        }
        let allowed = which(&v).is_some();
        let from_start = insert(&engine, "start");
        assert_eq!(
            set(&db, &engine, from_start, "state", &v),
            if allowed { None } else { flow.clone() },
            "start -> {v:?}"
        );
        let from_v = insert(&engine, &v);
        assert_eq!(
            set(&db, &engine, from_v, "state", "end"),
            if allowed { None } else { flow.clone() },
            "{v:?} -> end"
        );
    }
    for (i, h) in HOSTILE.iter().enumerate() {
        let next = HOSTILE[(i + 1) % HOSTILE.len()];
        let id = insert(&engine, h);
        assert_eq!(set(&db, &engine, id, "state", next), flow, "{h:?} -> {next:?}");
        assert_eq!(set(&db, &engine, id, "state", h), None, "{h:?} stays put");
    }
});

/// A soft delete of `doc` marking `mark` with `value`.
fn soft(value: &str) -> [TriggerDef; 1] {
    [TriggerDef::soft_delete(
        "gone",
        Doc::table(),
        Doc::MARK,
        value.to_string(),
    )]
}

/// Install a soft delete with `value` (replacing the one before), delete a row by raw
/// SQL, and check the row stays, marked with exactly `value`.
fn soft_delete_stores(db: &Db, engine: &Engine, value: &str) {
    install_twice(db, engine, &soft(value));
    let id = insert(engine, "s");
    let mut s = engine.session().unwrap();
    s.execute(&db.sql("DELETE FROM doc WHERE id = ?"), &[Value::Int(id)])
        .unwrap();
    s.commit().unwrap();
    let kept = s
        .get::<Doc>(id)
        .unwrap()
        .unwrap_or_else(|| panic!("{value:?}: the row stays"));
    assert_eq!(kept.mark, value, "marked with exactly the value");
    let same = s
        .query_raw(&db.sql("SELECT id FROM doc WHERE mark = ?"), &[Value::from(value)])
        .unwrap();
    assert_eq!(same, [[Value::Int(id)]], "{value:?}: found by the value, bound");
    s.commit().unwrap();
}

// A soft delete's value may be hostile text: the row stays, marked with exactly that
// value (SQLite, PostgreSQL). MariaDB cannot soft delete: a typed refusal.
on_each_db!(a_hostile_soft_delete_value_is_stored_exactly, |db: Db| {
    let engine = engine(&db);
    if db.is_mariadb() {
        for h in HOSTILE {
            let err = engine.with_connection(|c| manage::install(c, &soft(h))).unwrap_err();
            assert!(
                matches!(&err, Error::Unsupported { backend: "MariaDB/MySQL", feature } if feature.contains("SoftDelete")),
                "{err:?}"
            );
        }
        return;
    }
    for h in HOSTILE {
        if h.contains("$trigorm$") {
            continue; // its own test below
        }
        soft_delete_stores(&db, &engine, h);
    }
});

// The tag trigorm quotes PostgreSQL function bodies with, inside a soft delete's value
// (the one literal written inside the function body), is stored exactly too.
on_each_db!(a_soft_delete_value_holding_the_dollar_quote_tag, |db: Db| {
    if db.is_mariadb() {
        return; // no soft delete on MariaDB (see above)
    }
    let engine = engine(&db);
    for v in ["$trigorm$", "x $trigorm$; DROP TABLE fired; --"] {
        soft_delete_stores(&db, &engine, v);
    }
    let mut s = engine.session().unwrap();
    assert_eq!(
        rows(&mut s, "SELECT COUNT(*) FROM fired"),
        [[Value::Int(0)]],
        "fired is still there"
    );
});

// Text that looks like trigorm's fingerprint marker (`trigorm:` and sixteen hex digits),
// in a condition or a transition state, is only text: the trigger is in sync once
// installed, and the condition matches exactly that text.
on_each_db!(a_literal_that_looks_like_the_fingerprint_marker, |db: Db| {
    let engine = engine(&db);
    let lookalikes = [
        "trigorm:",
        "trigorm:0123456789abcdef",
        "/* trigorm:0123456789abcdef:off */",
    ];
    let mut defs: Vec<TriggerDef> = lookalikes
        .iter()
        .enumerate()
        .map(|(i, v)| TriggerDef::protect(&format!("lit_{i}"), Doc::table(), Ops::UPDATE).when(new(Doc::TITLE).eq(*v)))
        .collect();
    defs.push(TriggerDef::transitions(
        "flow",
        Doc::table(),
        Doc::STATE,
        [("start".to_string(), lookalikes[1].to_string())],
    ));
    install_twice(&db, &engine, &defs);
    let id = insert(&engine, "start");
    for (i, v) in lookalikes.iter().enumerate() {
        assert_eq!(set(&db, &engine, id, "title", v), Some(format!("lit_{i}")), "{v:?}");
        assert_eq!(
            set(&db, &engine, id, "title", &format!("{v} ")),
            None,
            "{v:?} and a space"
        );
    }
    assert_eq!(set(&db, &engine, id, "state", lookalikes[1]), None);
});

// PostgreSQL without function-body checks (`check_function_bodies = off`, as pg_dump's
// restores and some deployments run): a soft delete's value must still not end the
// dollar quote around the function body and run as SQL of its own. Whatever the install
// does with the value, the table it names survives.
#[test]
fn a_soft_delete_value_cannot_run_as_sql_on_postgres() {
    let Some(db) = Db::postgres() else { return };
    let url = db
        .url
        .replace("options=-c", "options=-ccheck_function_bodies%3Doff%20-c");
    assert_ne!(url, db.url);
    let engine = Engine::builder(&url).model::<Doc>().model::<Fired>().build().unwrap();
    engine.create_all().unwrap();
    let value = "$trigorm$; DROP TABLE fired; --";
    let installed = engine.with_connection(|c| manage::install(c, &soft(value)));
    let mut plain = db.pg_client();
    let fired: i64 = plain
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'fired'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        fired, 1,
        "the install ran the value as SQL: fired was dropped ({installed:?})"
    );
    // Installed in sync, or refused before any SQL (as a custom body holding the tag is).
    match installed {
        Ok(st) => assert!(st.in_sync(), "{st:?}"),
        Err(e) => assert!(matches!(e, Error::InvalidTrigger { .. }), "{e:?}"),
    }
}
