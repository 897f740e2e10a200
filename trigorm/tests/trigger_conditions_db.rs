//! Trigger conditions evaluated by the real database, through trigorm's own install path:
//! a custom trigger declared with `.when(cond)` and installed by `manage::install` fires
//! exactly when its condition holds, at the boundaries of each comparison, through NULLs
//! (SQL's three-valued logic, the same on every backend), for `any_changed` /
//! `all_changed` (NULL to a value is a change), on inserts, updates and deletes.
mod common;
use common::*;

use chrono::{DateTime, Duration, Utc};
use trigorm::trigger::manage;
use trigorm::trigger::{all_changed, any_changed, changed, new, old, Cond, CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Engine, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "doc")]
struct Doc {
    id: i64,
    title: String,
    state: String,
    score: i64,
    ratio: f64,
    flag: bool,
    tag: Option<String>,
    pages: Option<i64>,
    due: DateTime<Utc>,
}

/// One row per firing of the trigger under test.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "fired")]
struct Fired {
    id: i64,
    name: String,
}

/// A database with `doc` and `fired`, one row of `doc`, and the trigger under test.
struct Bench {
    db: Db,
    engine: Engine,
    id: i64,
    installed: Vec<TriggerDef>,
}

/// A custom trigger `hit`, AFTER `ops` on `doc`, that writes a row into `fired` when
/// `cond` holds.
fn hit(ops: Ops, cond: Cond) -> TriggerDef {
    let sql = "INSERT INTO fired (name) VALUES ('hit');";
    TriggerDef::custom(
        "hit",
        Doc::table(),
        Timing::After,
        ops,
        CustomBodies {
            sqlite: Some(sql.into()),
            postgres: Some(format!("{sql} RETURN NULL;")),
            mysql: Some(sql.into()),
        },
    )
    .when(cond)
}

impl Bench {
    fn new(db: Db) -> Bench {
        let engine = Engine::builder(&db.url)
            .model::<Doc>()
            .model::<Fired>()
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let row = s
            .insert(Doc {
                id: 0,
                title: "t".into(),
                state: "draft".into(),
                score: 0,
                ratio: 0.0,
                flag: false,
                tag: None,
                pages: None,
                due: t0(),
            })
            .unwrap();
        s.commit().unwrap();
        drop(s);
        Bench {
            db,
            engine,
            id: row.id,
            installed: Vec::new(),
        }
    }

    /// Replace the trigger under test with `hit(ops, cond)`, through `manage::install`.
    fn when(&mut self, ops: Ops, cond: Cond) {
        let old = std::mem::take(&mut self.installed);
        self.engine.with_connection(|c| manage::uninstall(c, &old)).unwrap();
        let defs = vec![hit(ops, cond)];
        let st = self.engine.with_connection(|c| manage::install(c, &defs)).unwrap();
        assert!(st.in_sync(), "{st:?}");
        self.installed = defs;
    }

    /// Run `sql` (with `?` placeholders) in one transaction after clearing `fired`: how
    /// many times the trigger fired.
    fn run(&self, sql: &str, params: &[Value]) -> usize {
        let mut s = self.engine.session().unwrap();
        s.execute("DELETE FROM fired", &[]).unwrap();
        s.execute(&self.db.sql(sql), params)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        s.commit().unwrap();
        rows(&mut s, "SELECT name FROM fired").len()
    }

    /// `UPDATE doc SET <assign>` on the bench's row (with `?` placeholders): how many
    /// times the trigger fired.
    fn update(&self, assign: &str, params: &[Value]) -> usize {
        let mut params = params.to_vec();
        params.push(Value::Int(self.id));
        self.run(&format!("UPDATE doc SET {assign} WHERE id = ?"), &params)
    }

    /// Whether the trigger fires on an update `to` of the row, after an update `from`
    /// (not counted): each with its parameters.
    fn moves(&self, from: (&str, &[Value]), to: (&str, &[Value])) -> bool {
        self.update(from.0, from.1);
        let n = self.update(to.0, to.1);
        assert!(n <= 1, "one row, at most one firing: {n}");
        n == 1
    }

    /// As [`Bench::moves`], without parameters.
    fn case(&self, from: &str, to: &str) -> bool {
        self.moves((from, &[]), (to, &[]))
    }

    /// Check `(from, to, fires)` cases: the trigger fires on `to` after `from` exactly
    /// when `fires` says.
    fn cases(&self, what: &str, cases: &[(&str, &str, bool)]) {
        for (from, to, fires) in cases {
            assert_eq!(self.case(from, to), *fires, "{what}: SET {from}, then SET {to}");
        }
    }
}

// any_changed(columns) fires when at least one of them changes, and a NULL that becomes a
// value (or a value that becomes NULL) is a change; NULL staying NULL is not.
on_each_db!(any_changed_fires_when_one_column_changes_nulls_included, |db: Db| {
    let mut b = Bench::new(db);
    b.when(Ops::UPDATE, any_changed(["tag", "pages"]));
    b.cases(
        "any_changed(tag, pages)",
        &[
            ("tag = NULL, pages = NULL", "tag = 'a'", true),
            ("tag = NULL, pages = NULL", "pages = 0", true),
            ("tag = 'a', pages = NULL", "tag = NULL", true),
            ("tag = NULL, pages = 3", "pages = NULL", true),
            ("tag = '', pages = 0", "tag = NULL", true),
            ("tag = '', pages = 0", "pages = NULL", true),
            ("tag = 'a', pages = 1", "tag = 'b', pages = 2", true),
            ("tag = 'a', pages = 1", "tag = 'A'", true),
            ("tag = 'a', pages = 1", "tag = 'a '", true),
            (
                "tag = NULL, pages = NULL",
                "tag = NULL, pages = NULL, score = score + 1",
                false,
            ),
            ("tag = 'a', pages = 1", "tag = 'a', pages = 1, score = score + 1", false),
            ("tag = 'a', pages = 1", "score = score + 1", false),
            ("tag = 'a', pages = 1", "title = 'other', state = 'other'", false),
        ],
    );
    // Two NOT NULL columns, as the issue writes it.
    b.when(Ops::UPDATE, any_changed(["title", "state"]));
    b.cases(
        "any_changed(title, state)",
        &[
            ("title = 't', state = 's'", "title = 'u'", true),
            ("title = 't', state = 's'", "state = 'u'", true),
            ("title = 't', state = 's'", "title = 'u', state = 'u'", true),
            (
                "title = 't', state = 's'",
                "title = 't', state = 's', score = score + 1",
                false,
            ),
            ("title = 't', state = 's'", "tag = 'x'", false),
        ],
    );
});

// all_changed(columns) fires only when every one of them changes (NULL to a value
// included); one column left as it is, or NULL staying NULL, and it does not.
on_each_db!(all_changed_fires_only_when_every_column_changes, |db: Db| {
    let mut b = Bench::new(db);
    b.when(Ops::UPDATE, all_changed(["tag", "pages"]));
    b.cases(
        "all_changed(tag, pages)",
        &[
            ("tag = NULL, pages = NULL", "tag = 'a', pages = 1", true),
            ("tag = 'a', pages = 1", "tag = NULL, pages = NULL", true),
            ("tag = 'a', pages = NULL", "tag = NULL, pages = 5", true),
            ("tag = 'a', pages = 1", "tag = 'b', pages = 2", true),
            ("tag = NULL, pages = NULL", "tag = 'a'", false),
            ("tag = NULL, pages = NULL", "tag = 'a', pages = NULL", false),
            ("tag = 'a', pages = 1", "tag = 'b'", false),
            ("tag = 'a', pages = 1", "pages = 2", false),
            ("tag = 'a', pages = 1", "tag = 'a', pages = 2", false),
            ("tag = NULL, pages = NULL", "score = score + 1", false),
        ],
    );
    b.when(Ops::UPDATE, all_changed(["title", "state"]));
    b.cases(
        "all_changed(title, state)",
        &[
            ("title = 't', state = 's'", "title = 'u', state = 'v'", true),
            ("title = 't', state = 's'", "title = 'u'", false),
            ("title = 't', state = 's'", "state = 'v'", false),
            ("title = 't', state = 's'", "title = 'u', state = 's'", false),
        ],
    );
});

/// Check that the trigger fires on an update of `score` to each of `values` (from 100;
/// with `on_old`, from each of `values` to 100) exactly for those `holds` says.
fn boundaries(b: &Bench, what: &str, values: &[i64], holds: impl Fn(i64) -> bool, on_old: bool) {
    for &v in values {
        let (from, to) = if on_old { (v, 100) } else { (100, v) };
        let fired = b.case(&format!("score = {from}"), &format!("score = {to}"));
        assert_eq!(fired, holds(v), "{what} with {v}");
    }
}

/// `OLD.score` or `NEW.score`.
fn score(on_old: bool) -> trigorm::trigger::RowColumn<i64> {
    if on_old {
        old(Doc::SCORE)
    } else {
        new(Doc::SCORE)
    }
}

/// Insert a row of `doc` with `score`: how many times the trigger fired.
fn insert(b: &Bench, score: i64) -> usize {
    b.run(
        "INSERT INTO doc (title, state, score, ratio, flag, due) VALUES ('i', 's', ?, 0, FALSE, ?)",
        &[Value::Int(score), Value::Timestamp(t0())],
    )
}

// Comparisons of NEW and OLD with a literal fire exactly on their side of the boundary:
// lt(5) with 4 and not with 5 or 6, le(5) with 5, and so on.
on_each_db!(comparisons_fire_exactly_at_their_boundaries, |db: Db| {
    let mut b = Bench::new(db);
    let values = [-6, 4, 5, 6];
    type Case = (&'static str, fn(i64) -> bool, fn(bool) -> Cond);
    let cases: [Case; 6] = [
        ("lt(5)", |v| v < 5, |o| score(o).lt(5)),
        ("le(5)", |v| v <= 5, |o| score(o).le(5)),
        ("gt(5)", |v| v > 5, |o| score(o).gt(5)),
        ("ge(5)", |v| v >= 5, |o| score(o).ge(5)),
        ("eq(5)", |v| v == 5, |o| score(o).eq(5)),
        ("ne(5)", |v| v != 5, |o| score(o).ne(5)),
    ];
    for (what, holds, cond) in cases {
        b.when(Ops::UPDATE, cond(false));
        boundaries(&b, &format!("new(score).{what}"), &values, holds, false);
        b.when(Ops::UPDATE, cond(true));
        boundaries(&b, &format!("old(score).{what}"), &values, holds, true);
    }
    // A negative literal.
    b.when(Ops::UPDATE, new(Doc::SCORE).gt(-6));
    boundaries(&b, "new(score).gt(-6)", &[-7, -6, -5], |v| v > -6, false);
});

// Comparisons of other types: floats, text, booleans and timestamps (each backend writes
// their literals its own way; SQLite compares timestamps as the text trigorm stores).
on_each_db!(comparisons_of_floats_text_booleans_and_timestamps, |db: Db| {
    let mut b = Bench::new(db);
    b.when(Ops::UPDATE, new(Doc::RATIO).lt(0.5));
    b.cases(
        "new(ratio).lt(0.5)",
        &[
            ("ratio = 1", "ratio = 0.25", true),
            ("ratio = 1", "ratio = 0.5", false),
            ("ratio = 0", "ratio = 0.75", false),
        ],
    );
    b.when(Ops::UPDATE, new(Doc::RATIO).ge(-0.5));
    b.cases(
        "new(ratio).ge(-0.5)",
        &[
            ("ratio = 1", "ratio = -0.5", true),
            ("ratio = 1", "ratio = -0.75", false),
        ],
    );

    b.when(Ops::UPDATE, new(Doc::STATE).eq("done"));
    b.cases(
        "new(state).eq(done)",
        &[
            ("state = 'draft'", "state = 'done'", true),
            ("state = 'draft'", "state = 'Done'", false),
            ("state = 'draft'", "state = 'done '", false),
            ("state = 'draft'", "state = 'don'", false),
        ],
    );
    b.when(Ops::UPDATE, old(Doc::STATE).ne("done"));
    b.cases(
        "old(state).ne(done)",
        &[
            ("state = 'done'", "state = 'x'", false),
            ("state = 'draft'", "state = 'x'", true),
        ],
    );

    b.when(Ops::UPDATE, new(Doc::FLAG).eq(true));
    b.cases(
        "new(flag).eq(true)",
        &[
            ("flag = FALSE", "flag = TRUE", true),
            ("flag = TRUE", "flag = FALSE", false),
        ],
    );
    b.when(Ops::UPDATE, old(Doc::FLAG).eq(false).and(new(Doc::FLAG).ne(false)));
    b.cases(
        "false -> not false",
        &[
            ("flag = FALSE", "flag = TRUE", true),
            ("flag = TRUE", "flag = TRUE, score = score + 1", false),
        ],
    );

    let ts = |d: Duration| [Value::Timestamp(t0() + d)];
    let zero = Duration::zero();
    let (second, micro) = (Duration::seconds(1), Duration::microseconds(1));
    let far = ts(Duration::days(-400));
    for (what, cond, fires) in [
        ("gt(t0)", new(Doc::DUE).gt(t0()), [false, false, true, true]),
        ("ge(t0)", new(Doc::DUE).ge(t0()), [false, true, true, true]),
        ("lt(t0)", new(Doc::DUE).lt(t0()), [true, false, false, false]),
        ("eq(t0)", new(Doc::DUE).eq(t0()), [false, true, false, false]),
    ] {
        b.when(Ops::UPDATE, cond);
        for (to, fires) in [-second, zero, micro, second].into_iter().zip(fires) {
            assert_eq!(
                b.moves(("due = ?", &far), ("due = ?", &ts(to))),
                fires,
                "new(due).{what} with t0 + {to:?}"
            );
        }
    }
});

// is_null, eq(None) and ne(None) test NULL; not and or combine conditions; a comparison
// with a NULL column is unknown, and so is its negation: neither fires, on every backend.
on_each_db!(is_null_not_and_or_follow_sql_logic, |db: Db| {
    let mut b = Bench::new(db);
    b.when(Ops::UPDATE, new(Doc::PAGES).is_null());
    b.cases(
        "new(pages).is_null()",
        &[
            ("pages = 1", "pages = NULL", true),
            ("pages = NULL", "pages = 0", false),
        ],
    );
    b.when(Ops::UPDATE, old(Doc::PAGES).is_null());
    b.cases(
        "old(pages).is_null()",
        &[("pages = NULL", "pages = 1", true), ("pages = 0", "pages = 1", false)],
    );
    b.when(Ops::UPDATE, new(Doc::TAG).eq(None));
    b.cases(
        "new(tag).eq(None)",
        &[("tag = 'a'", "tag = NULL", true), ("tag = NULL", "tag = ''", false)],
    );
    b.when(Ops::UPDATE, new(Doc::TAG).ne(None));
    b.cases(
        "new(tag).ne(None)",
        &[("tag = 'a'", "tag = NULL", false), ("tag = NULL", "tag = ''", true)],
    );

    b.when(Ops::UPDATE, new(Doc::SCORE).lt(5).not());
    boundaries(&b, "not(new(score).lt(5))", &[4, 5, 6], |v| v >= 5, false);

    b.when(Ops::UPDATE, new(Doc::SCORE).lt(0).or(new(Doc::SCORE).gt(10)));
    boundaries(
        &b,
        "lt(0) or gt(10)",
        &[-1, 0, 10, 11],
        |v| !(0..=10).contains(&v),
        false,
    );

    b.when(Ops::UPDATE, new(Doc::SCORE).ge(0).and(new(Doc::SCORE).le(10)).not());
    boundaries(
        &b,
        "not(ge(0) and le(10))",
        &[-1, 0, 10, 11],
        |v| !(0..=10).contains(&v),
        false,
    );

    // NULL compared with 5 is unknown: the trigger does not fire, negated or not.
    b.when(Ops::UPDATE, new(Doc::PAGES).lt(5));
    b.cases(
        "new(pages).lt(5)",
        &[("pages = 9", "pages = NULL", false), ("pages = 9", "pages = 4", true)],
    );
    b.when(Ops::UPDATE, new(Doc::PAGES).lt(5).not());
    b.cases(
        "not(new(pages).lt(5))",
        &[
            ("pages = 1", "pages = NULL", false),
            ("pages = 1", "pages = 5", true),
            ("pages = 9", "pages = 4", false),
        ],
    );
    // ... unless an is_null says what NULL means.
    b.when(Ops::UPDATE, new(Doc::PAGES).gt(5).or(new(Doc::PAGES).is_null()));
    b.cases(
        "gt(5) or is_null",
        &[
            ("pages = 1", "pages = NULL", true),
            ("pages = 1", "pages = 6", true),
            ("pages = 1", "pages = 5", false),
        ],
    );

    // changed, and, not: the state moved, and not to "done".
    b.when(Ops::UPDATE, changed(Doc::STATE).and(new(Doc::STATE).eq("done").not()));
    b.cases(
        "changed(state) and not(new(state) = done)",
        &[
            ("state = 'a'", "state = 'b'", true),
            ("state = 'a'", "state = 'done'", false),
            ("state = 'a'", "state = 'a', score = score + 1", false),
        ],
    );
});

// A condition on an insert reads NEW, on a delete OLD; one trigger on inserts and
// updates (one database trigger per operation on SQLite and MariaDB) holds its condition
// on both.
on_each_db!(conditions_on_inserts_and_deletes_read_the_row_they_have, |db: Db| {
    let mut b = Bench::new(db);
    b.when(Ops::INSERT, new(Doc::SCORE).ge(5));
    assert_eq!(
        [4, 5, 6].map(|v| insert(&b, v)),
        [0, 1, 1],
        "an insert with score 4, 5, 6 and ge(5)"
    );
    b.when(Ops::DELETE, old(Doc::SCORE).le(5));
    let delete = |v: i64| b.run("DELETE FROM doc WHERE score = ?", &[Value::Int(v)]);
    assert_eq!([4, 5, 6].map(delete), [1, 1, 0], "a delete of 4, 5, 6 and le(5)");

    b.when(Ops::INSERT | Ops::UPDATE, new(Doc::SCORE).gt(10));
    assert_eq!(
        [10, 11].map(|v| insert(&b, v)),
        [0, 1],
        "an insert of 10, 11 and gt(10)"
    );
    b.cases(
        "an update and gt(10)",
        &[("score = 0", "score = 12", true), ("score = 20", "score = 3", false)],
    );
    // Several rows in one statement: one firing per row that holds.
    let n = b.run("UPDATE doc SET score = score + 10", &[]);
    let mut s = b.engine.session().unwrap();
    let above = rows(&mut s, "SELECT id FROM doc WHERE score > 10").len();
    assert_eq!(n, above, "one firing per row that ends above 10");
    assert!(n >= 2, "{n}");
});
