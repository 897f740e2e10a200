//! Trigger conditions (`trigorm::trigger::Cond`): the SQL each backend gets, and the
//! condition evaluated by each real database inside a trigger, with hostile literals.
mod common;
use common::*;

use mysql::prelude::Queryable;
use trigorm::backend::Backend;
use trigorm::error::DbErrorKind;
use trigorm::trigger::{all_changed, any_changed, changed, new, old, Cond, Row, RowColumn};
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "doc")]
struct Doc {
    id: i64,
    title: String,
    state: String,
    pages: Option<i64>,
}

/// Quotes, backslashes before quotes, comment and statement openers, wildcards, a
/// newline, 4-byte characters.
const HOSTILE: &str = "it's \\' \"x\" \\\\ -- ; /* */ % _ \n 😀 '');DROP TABLE doc;--";

#[test]
fn conditions_render_per_backend() {
    let t = Doc::table();
    let c = changed(Doc::TITLE).and(new(Doc::PAGES).gt(3).or(old(Doc::PAGES).is_null()));
    assert_eq!(
        c.render(t, Backend::Sqlite).unwrap(),
        r#"(OLD."title" IS NOT NEW."title" AND (NEW."pages" > 3 OR OLD."pages" IS NULL))"#
    );
    assert_eq!(
        c.render(t, Backend::Postgres).unwrap(),
        r#"(OLD."title" IS DISTINCT FROM NEW."title" AND (NEW."pages" > 3 OR OLD."pages" IS NULL))"#
    );
    assert_eq!(
        c.render(t, Backend::Mysql).unwrap(),
        "(NOT (OLD.`title` <=> NEW.`title`) AND (NEW.`pages` > 3 OR OLD.`pages` IS NULL))"
    );
    assert_eq!(
        new(Doc::STATE).eq("a'b\\c").render(t, Backend::Sqlite).unwrap(),
        r#"NEW."state" = 'a''b\c'"#
    );
    assert_eq!(
        new(Doc::STATE).eq("a'b\\c").render(t, Backend::Postgres).unwrap(),
        r#"NEW."state" = E'a''b\\c'"#
    );
    assert_eq!(
        new(Doc::STATE).eq("a'b\\c").render(t, Backend::Mysql).unwrap(),
        r"NEW.`state` = 'a''b\\c'"
    );
    assert_eq!(
        new(Doc::PAGES).eq(None).not().render(t, Backend::Sqlite).unwrap(),
        r#"NOT (NEW."pages" IS NULL)"#
    );
    assert_eq!(
        any_changed(["title", "state"]).render(t, Backend::Postgres).unwrap(),
        r#"(OLD."title" IS DISTINCT FROM NEW."title" OR OLD."state" IS DISTINCT FROM NEW."state")"#
    );
    assert_eq!(all_changed(["title", "state"]).reads(), (true, true));
    assert_eq!(new(Doc::STATE).eq("x").reads(), (false, true));
}

#[test]
fn a_column_the_table_lacks_or_an_unwritable_literal_is_refused() {
    let t = Doc::table();
    let err = RowColumn::named(Row::New, "titel")
        .eq("x")
        .render(t, Backend::Sqlite)
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { model: "Doc", column } if column == "titel"),
        "{err:?}"
    );
    let err = any_changed(["title", "nope"]).render(t, Backend::Mysql).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { column, .. } if column == "nope"),
        "{err:?}"
    );
    let err = RowColumn::named(Row::New, "pages")
        .eq(f64::NAN)
        .render(t, Backend::Postgres)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidValue { column: "pages", .. }), "{err:?}");
    let err = new(Doc::STATE).eq("a\0b").render(t, Backend::Mysql).unwrap_err();
    assert!(matches!(err, Error::InvalidValue { column: "state", .. }), "{err:?}");
}

/// A trigger, written by hand around `cond`, that refuses an update of `doc` when `cond`
/// holds.
fn install_guard(db: &Db, engine: &Engine, cond: &Cond) {
    let t = Doc::table();
    if db.is_mariadb() {
        let when = cond.render(t, Backend::Mysql).unwrap();
        db.my_client()
            .query_drop(format!(
                "CREATE TRIGGER guard BEFORE UPDATE ON doc FOR EACH ROW BEGIN IF {when} THEN \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'guarded'; END IF; END"
            ))
            .unwrap();
        return;
    }
    let mut s = engine.session().unwrap();
    if db.is_postgres() {
        let when = cond.render(t, Backend::Postgres).unwrap();
        s.execute(
            "CREATE FUNCTION guard_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'guarded'; END $$",
            &[],
        )
        .unwrap();
        s.execute(
            &format!(
                "CREATE TRIGGER guard BEFORE UPDATE ON doc FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION guard_fn()"
            ),
            &[],
        )
        .unwrap();
    } else {
        let when = cond.render(t, Backend::Sqlite).unwrap();
        s.execute(
            &format!(
                "CREATE TRIGGER guard BEFORE UPDATE ON doc FOR EACH ROW WHEN {when} \
                 BEGIN SELECT RAISE(ABORT, 'guarded'); END"
            ),
            &[],
        )
        .unwrap();
    }
    s.commit().unwrap();
}

/// Update row `id` with `edit`: whether the guard refused it (a typed refusal) or it was
/// written.
fn refused(engine: &Engine, id: i64, edit: impl FnOnce(&mut Doc)) -> bool {
    let mut s = engine.session().unwrap();
    let mut d = s.get::<Doc>(id).unwrap().unwrap();
    edit(&mut d);
    s.update(&d).unwrap();
    match s.commit() {
        Ok(()) => false,
        Err(e) => {
            assert_eq!(e.db_kind(), Some(DbErrorKind::TriggerRefused), "a typed refusal: {e:?}");
            true
        }
    }
}

on_each_db!(the_database_evaluates_a_condition_with_a_hostile_literal, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Doc>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let d = s
        .insert(Doc {
            id: 0,
            title: "t".into(),
            state: "draft".into(),
            pages: None,
        })
        .unwrap();
    s.commit().unwrap();
    drop(s);
    // Refuse setting the title to exactly HOSTILE while the state changes too, or when
    // pages go above 10.
    let cond = new(Doc::TITLE)
        .eq(HOSTILE)
        .and(changed(Doc::STATE))
        .or(new(Doc::PAGES).gt(10));
    install_guard(&db, &engine, &cond);

    assert!(
        !refused(&engine, d.id, |d| d.title = HOSTILE.into()),
        "the state did not change"
    );
    assert!(
        refused(&engine, d.id, |d| d.state = "final".into()),
        "title is HOSTILE and state changes"
    );
    for near in [
        HOSTILE.replace('\\', ""),
        HOSTILE.replace("''", "'"),
        format!("{HOSTILE} "),
        HOSTILE.replace('😀', "x"),
    ] {
        assert!(
            !refused(&engine, d.id, |d| {
                d.title = near.clone();
                d.state = format!("s{}", near.len());
            }),
            "only the exact literal matches: {near:?}"
        );
    }
    assert!(!refused(&engine, d.id, |d| d.pages = Some(10)));
    assert!(refused(&engine, d.id, |d| d.pages = Some(11)));
    let mut s = engine.session().unwrap();
    let now = s.get::<Doc>(d.id).unwrap().unwrap();
    assert_eq!(now.pages, Some(10), "the refused writes left nothing");
    // The literal survived the trip into the trigger: the row holds the text written.
    let rows = s
        .query_raw(
            &db.sql("SELECT COUNT(*) FROM doc WHERE title = ?"),
            &[Value::from(HOSTILE)],
        )
        .unwrap();
    assert_eq!(rows, [[Value::Int(0)]], "the title moved on from HOSTILE");
});
