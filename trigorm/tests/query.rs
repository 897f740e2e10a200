//! Queries: filters and their combinations, ordering, limit and offset, count and first;
//! queries see staged writes, and the rows they load are the old values of later updates.
mod common;
use common::*;

use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use trigorm::event::AfterUpdate;
use trigorm::query::{col, Filter};
use trigorm::{Engine, Model, Session, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "items")]
struct Item {
    id: i64,
    name: String,
    qty: i64,
    price: f64,
    tag: Option<String>,
    active: bool,
}

/// (name, qty, price, tag, active); ids 1..=8 in this order.
const ITEMS: [(&str, i64, f64, Option<&str>, bool); 8] = [
    ("apple", 5, 1.5, Some("fruit"), true),
    ("banana", 0, 0.25, Some("fruit"), false),
    ("carrot", 12, 0.75, Some("veg"), true),
    ("durian", 1, 9.99, None, false),
    ("eggplant", 7, 2.0, Some("veg"), true),
    ("fig", 5, 3.5, None, true),
    ("grape", 20, 4.25, Some("fruit"), false),
    ("Apple pie", 2, 6.0, Some("baked"), true),
];

fn item(i: usize) -> Item {
    let (name, qty, price, tag, active) = ITEMS[i];
    Item {
        id: 0,
        name: name.into(),
        qty,
        price,
        tag: tag.map(Into::into),
        active,
    }
}

fn seeded(url: &str) -> Engine {
    let engine = Engine::builder(url).model::<Item>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for i in 0..ITEMS.len() {
        s.add(item(i));
    }
    s.commit().unwrap();
    engine
}

/// The names of the matching items, in id order.
fn names(s: &mut Session, f: Filter) -> Vec<String> {
    s.query::<Item>()
        .filter(f)
        .order_by(col("id").asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect()
}

fn count(s: &mut Session, f: Filter) -> u64 {
    s.query::<Item>().filter(f).count().unwrap()
}

/// Check both `all` and `count` against the expected names.
fn check(s: &mut Session, f: Filter, expected: &[&str]) {
    assert_eq!(names(s, f.clone()), expected, "{f:?}");
    assert_eq!(count(s, f.clone()), expected.len() as u64, "count of {f:?}");
}

on_each_db!(comparison_filters, |db: Db| {
    let engine = seeded(&db.url);
    let mut s = engine.session().unwrap();
    check(&mut s, col("qty").eq(5), &["apple", "fig"]);
    check(&mut s, col("name").eq("carrot"), &["carrot"]);
    check(&mut s, col("name").eq("nothing"), &[]);
    check(
        &mut s,
        col("qty").ne(5),
        &["banana", "carrot", "durian", "eggplant", "grape", "Apple pie"],
    );
    check(&mut s, col("qty").lt(2), &["banana", "durian"]);
    check(&mut s, col("qty").le(2), &["banana", "durian", "Apple pie"]);
    check(&mut s, col("qty").gt(7), &["carrot", "grape"]);
    check(&mut s, col("qty").ge(7), &["carrot", "eggplant", "grape"]);
    check(&mut s, col("price").lt(1.0), &["banana", "carrot"]);
    check(&mut s, col("price").ge(4.25), &["durian", "grape", "Apple pie"]);
    check(&mut s, col("active").eq(false), &["banana", "durian", "grape"]);
    check(&mut s, col("tag").eq("veg"), &["carrot", "eggplant"]);
    // Text compares as text.
    check(&mut s, col("name").lt("b"), &["apple", "Apple pie"]);
    check(&mut s, Filter::All, &ITEMS.map(|i| i.0));
});

on_each_db!(in_like_and_null_filters, |db: Db| {
    let engine = seeded(&db.url);
    let mut s = engine.session().unwrap();
    check(&mut s, col("qty").is_in([5, 20]), &["apple", "fig", "grape"]);
    check(&mut s, col("name").is_in(["fig", "kiwi", "durian"]), &["durian", "fig"]);
    check(&mut s, col("qty").is_in([99]), &[]);
    check(&mut s, col("qty").is_in(Vec::<i64>::new()), &[]);
    check(&mut s, !col("qty").is_in(Vec::<i64>::new()), &ITEMS.map(|i| i.0));
    check(&mut s, col("name").like("%an%"), &["banana", "durian", "eggplant"]);
    check(&mut s, col("name").like("_ig"), &["fig"]);
    check(&mut s, col("name").like("%e"), &["apple", "grape", "Apple pie"]);
    check(&mut s, col("name").like("%"), &ITEMS.map(|i| i.0));
    check(&mut s, col("tag").is_null(), &["durian", "fig"]);
    check(
        &mut s,
        col("tag").is_not_null(),
        &["apple", "banana", "carrot", "eggplant", "grape", "Apple pie"],
    );
    // `eq` / `ne` with NULL mean IS NULL / IS NOT NULL (SQL's `= NULL` would match nothing).
    check(&mut s, col("tag").eq(Value::Null), &["durian", "fig"]);
    check(&mut s, col("tag").eq(None::<String>), &["durian", "fig"]);
    check(
        &mut s,
        col("tag").ne(Value::Null),
        &["apple", "banana", "carrot", "eggplant", "grape", "Apple pie"],
    );
});

on_each_db!(and_or_not_combine_with_the_right_precedence, |db: Db| {
    let engine = seeded(&db.url);
    let mut s = engine.session().unwrap();
    let fruit = || col("tag").eq("fruit");
    let active = || col("active").eq(true);
    let many = || col("qty").ge(5);

    check(&mut s, fruit().and(active()), &["apple"]);
    check(&mut s, fruit() & active(), &["apple"]);
    check(
        &mut s,
        fruit().or(col("tag").eq("veg")),
        &["apple", "banana", "carrot", "eggplant", "grape"],
    );
    check(
        &mut s,
        fruit() | col("tag").is_null(),
        &["apple", "banana", "durian", "fig", "grape"],
    );
    check(&mut s, fruit().not(), &["carrot", "eggplant", "Apple pie"]);
    check(&mut s, !fruit(), &["carrot", "eggplant", "Apple pie"]);

    // (fruit OR veg) AND active  versus  fruit OR (veg AND active)
    check(
        &mut s,
        (fruit() | col("tag").eq("veg")) & active(),
        &["apple", "carrot", "eggplant"],
    );
    check(
        &mut s,
        fruit() | (col("tag").eq("veg") & active()),
        &["apple", "banana", "carrot", "eggplant", "grape"],
    );
    check(
        &mut s,
        active() & (fruit() | many()),
        &["apple", "carrot", "eggplant", "fig"],
    );
    check(
        &mut s,
        (active() & fruit()) | many(),
        &["apple", "carrot", "eggplant", "fig", "grape"],
    );
    // NOT of a conjunction and of a disjunction (De Morgan).
    check(
        &mut s,
        !(active() & many()),
        &["banana", "durian", "grape", "Apple pie"],
    );
    check(&mut s, !active() | !many(), &["banana", "durian", "grape", "Apple pie"]);
    // SQL's three-valued logic: durian's NULL tag makes `tag = 'fruit'` unknown, and so
    // its negation (as with `!fruit()` above), unless an AND with a false term decides.
    check(&mut s, !(fruit() | many()), &["Apple pie"]);
    check(
        &mut s,
        !((fruit() & col("tag").is_not_null()) | many()),
        &["durian", "Apple pie"],
    );
    check(
        &mut s,
        !(col("tag").is_not_null() & fruit() | many()),
        &["durian", "Apple pie"],
    );
    check(&mut s, !(col("tag").is_null() | fruit() | many()), &["Apple pie"]);
    check(&mut s, !(col("tag").is_not_null() | many()), &["durian"]);
    check(
        &mut s,
        !(active() & !many()),
        &["apple", "banana", "carrot", "durian", "eggplant", "fig", "grape"],
    );
    check(&mut s, !!fruit(), &["apple", "banana", "grape"]);
    // NULL tags are neither fruit nor not fruit; `is_null` picks them up.
    check(
        &mut s,
        !fruit() | col("tag").is_null(),
        &["carrot", "durian", "eggplant", "fig", "Apple pie"],
    );
    // Filter::All is neutral for AND, absorbing for OR.
    check(&mut s, Filter::All & fruit(), &["apple", "banana", "grape"]);
    check(&mut s, fruit() & Filter::All, &["apple", "banana", "grape"]);
    check(&mut s, fruit() | Filter::All, &ITEMS.map(|i| i.0));
    check(&mut s, !Filter::All, &[]);

    // Several `filter` calls are ANDed, whatever each one is.
    let got: Vec<String> = s
        .query::<Item>()
        .filter(fruit() | col("tag").eq("veg"))
        .filter(active())
        .order_by(col("id").asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(got, vec!["apple", "carrot", "eggplant"]);
    let n = s
        .query::<Item>()
        .filter(many())
        .filter(!fruit() | col("tag").is_null())
        .count()
        .unwrap();
    assert_eq!(n, 3, "carrot, eggplant, fig");
});

on_each_db!(order_limit_offset_count_first, |db: Db| {
    let engine = seeded(&db.url);
    let mut s = engine.session().unwrap();
    let by = |s: &mut Session, q: fn(trigorm::Query<'_, Item>) -> trigorm::Query<'_, Item>| -> Vec<String> {
        q(s.query::<Item>())
            .all()
            .unwrap()
            .into_iter()
            .map(|i| i.name)
            .collect()
    };
    assert_eq!(
        by(&mut s, |q| q.order_by(col("qty").desc()).order_by(col("name").asc())),
        vec![
            "grape",
            "carrot",
            "eggplant",
            "apple",
            "fig",
            "Apple pie",
            "durian",
            "banana"
        ]
    );
    // Several columns: active first (false < true), then qty descending, then name.
    assert_eq!(
        by(&mut s, |q| q
            .order_by(col("active").asc())
            .order_by(col("qty").desc())
            .order_by(col("name").asc())),
        vec![
            "grape",
            "durian",
            "banana",
            "carrot",
            "eggplant",
            "apple",
            "fig",
            "Apple pie"
        ]
    );
    assert_eq!(
        by(&mut s, |q| q
            .order_by(col("active").desc())
            .order_by(col("price").asc())),
        vec![
            "carrot",
            "apple",
            "eggplant",
            "fig",
            "Apple pie",
            "banana",
            "grape",
            "durian"
        ]
    );
    assert_eq!(
        by(&mut s, |q| q.order_by(col("qty").asc()).order_by(col("name").desc())),
        vec![
            "banana",
            "durian",
            "Apple pie",
            "fig",
            "apple",
            "eggplant",
            "carrot",
            "grape"
        ]
    );
    // Limit and offset.
    assert_eq!(
        by(&mut s, |q| q.order_by(col("id").asc()).limit(3)),
        vec!["apple", "banana", "carrot"]
    );
    assert_eq!(
        by(&mut s, |q| q.order_by(col("id").asc()).limit(3).offset(2)),
        vec!["carrot", "durian", "eggplant"]
    );
    assert_eq!(
        by(&mut s, |q| q.order_by(col("id").asc()).offset(6)),
        vec!["grape", "Apple pie"]
    );
    assert_eq!(
        by(&mut s, |q| q.order_by(col("id").asc()).offset(8)),
        Vec::<String>::new()
    );
    assert_eq!(by(&mut s, |q| q.limit(0)), Vec::<String>::new());
    assert_eq!(
        by(&mut s, |q| q
            .filter(col("tag").eq("fruit"))
            .order_by(col("price").desc())
            .limit(2)),
        vec!["grape", "apple"]
    );
    // Count ignores limit and offset.
    assert_eq!(s.query::<Item>().count().unwrap(), 8);
    assert_eq!(s.query::<Item>().limit(2).offset(1).count().unwrap(), 8);
    assert_eq!(s.query::<Item>().filter(col("qty").gt(4)).limit(1).count().unwrap(), 5);
    // First.
    let first = s
        .query::<Item>()
        .filter(col("active").eq(true))
        .order_by(col("price").desc())
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(first.name, "Apple pie");
    assert_eq!(first.qty, 2);
    assert_eq!(first.tag.as_deref(), Some("baked"));
    let second = s
        .query::<Item>()
        .order_by(col("qty").asc())
        .offset(1)
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(second.name, "durian");
    assert!(s.query::<Item>().filter(col("qty").gt(100)).first().unwrap().is_none());
});

on_each_db!(timestamps_filter_and_order_in_time_order, |db: Db| {
    let engine = Engine::builder(&db.url).model::<User>().build().unwrap();
    engine.create_all().unwrap();
    let t = |y, micros: i64| Utc.with_ymd_and_hms(y, 6, 15, 12, 0, 0).unwrap() + chrono::Duration::microseconds(micros);
    let times = [t(2024, 500_000), t(2024, 1), t(1999, 0), t(2024, 0), t(2100, 999_999)];
    let mut s = engine.session().unwrap();
    for (i, at) in times.iter().enumerate() {
        let mut u = User::new(&format!("u{i}"));
        u.created_at = *at;
        s.add(u);
    }
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    let names = |s: &mut Session, f: Filter| -> Vec<String> {
        s.query::<User>()
            .filter(f)
            .order_by(col("created_at").asc())
            .all()
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect()
    };
    assert_eq!(names(&mut s, Filter::All), vec!["u2", "u3", "u1", "u0", "u4"]);
    assert_eq!(names(&mut s, col("created_at").eq(t(2024, 1))), vec!["u1"]);
    assert_eq!(names(&mut s, col("created_at").lt(t(2024, 1))), vec!["u2", "u3"]);
    assert_eq!(names(&mut s, col("created_at").ge(t(2024, 1))), vec!["u1", "u0", "u4"]);
    assert_eq!(
        names(
            &mut s,
            col("created_at").gt(t(2024, 0)) & col("created_at").le(t(2024, 500_000))
        ),
        vec!["u1", "u0"]
    );
});

on_each_db!(queries_see_staged_writes, |db: Db| {
    let engine = seeded(&db.url);
    let mut s = engine.session().unwrap();
    s.add(Item {
        id: 0,
        name: "staged".into(),
        qty: 100,
        price: 1.0,
        tag: None,
        active: true,
    });
    let mut apple = s
        .query::<Item>()
        .filter(col("name").eq("apple"))
        .first()
        .unwrap()
        .unwrap();
    apple.qty = 101;
    s.update(&apple).unwrap();
    let fig = s
        .query::<Item>()
        .filter(col("name").eq("fig"))
        .first()
        .unwrap()
        .unwrap();
    s.delete(&fig).unwrap();
    assert!(s.has_pending());

    check(&mut s, col("qty").ge(100), &["apple", "staged"]);
    assert!(!s.has_pending(), "the query flushed");
    check(&mut s, col("name").eq("fig"), &[]);

    // Each kind of read flushes first.
    s.add(Item {
        id: 0,
        name: "staged 2".into(),
        qty: 102,
        price: 1.0,
        tag: None,
        active: true,
    });
    assert_eq!(s.query::<Item>().filter(col("qty").ge(100)).count().unwrap(), 3);
    s.add(Item {
        id: 0,
        name: "staged 3".into(),
        qty: 103,
        price: 1.0,
        tag: None,
        active: true,
    });
    let first = s.query::<Item>().order_by(col("qty").desc()).first().unwrap().unwrap();
    assert_eq!(first.name, "staged 3");
    let mut grape = s
        .query::<Item>()
        .filter(col("name").eq("grape"))
        .first()
        .unwrap()
        .unwrap();
    grape.qty = 104;
    s.update(&grape).unwrap();
    assert_eq!(s.get::<Item>(grape.id).unwrap().unwrap().qty, 104);

    // Rolled back, all of it is gone.
    s.rollback().unwrap();
    let mut s = engine.session().unwrap();
    check(&mut s, col("qty").ge(100), &[]);
    check(&mut s, col("name").eq("fig"), &["fig"]);
});

type Seen = Arc<Mutex<Vec<(Item, Item, Vec<&'static str>)>>>;

fn watched(url: &str, log: &StatementLog, seen: &Seen) -> Engine {
    let seen = seen.clone();
    let engine = log
        .attach(Engine::builder(url))
        .listen::<Item>(AfterUpdate, move |_ctx, c| {
            seen.lock().unwrap().push((
                c.old().unwrap().clone(),
                c.new().unwrap().clone(),
                c.changed().collect(),
            ));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for i in 0..ITEMS.len() {
        s.add(item(i));
    }
    s.commit().unwrap();
    engine
}

on_each_db!(rows_a_query_loads_are_the_old_values_of_a_later_update, |db: Db| {
    let log = StatementLog::default();
    let seen = Seen::default();
    let engine = watched(&db.url, &log, &seen);
    let mut s = engine.session().unwrap();
    let loaded = s
        .query::<Item>()
        .filter(col("qty").ge(5))
        .order_by(col("id").asc())
        .all()
        .unwrap();
    assert_eq!(loaded.len(), 5);
    log.take();

    let mut carrot = loaded.iter().find(|i| i.name == "carrot").unwrap().clone();
    carrot.price = 0.8;
    s.update(&carrot).unwrap();
    s.flush().unwrap();

    let sent = log.take();
    let selects: Vec<&String> = sent.iter().filter(|sql| sql.starts_with("SELECT")).collect();
    // How the backend quotes a column.
    let q = |name: &str| {
        if db.is_mariadb() {
            format!("`{name}`")
        } else {
            format!("\"{name}\"")
        }
    };
    if db.is_server() {
        // On a server the rows of a flush are locked before they are written (one
        // `SELECT … WHERE "id" = ANY($1) … FOR UPDATE` for the round's rows on PostgreSQL,
        // `SELECT … WHERE id IN (?, …) … FOR UPDATE` on MariaDB, right before the UPDATE);
        // the old row is the locked row.
        assert_eq!(selects.len(), 1, "one locking read: {sent:#?}");
        let select = selects[0];
        let by_key = if db.is_mariadb() {
            "WHERE `id` IN ("
        } else {
            "WHERE \"id\" = ANY("
        };
        assert!(select.ends_with("FOR UPDATE") && select.contains(by_key), "{select}");
        let at = sent.iter().position(|sql| sql == select).unwrap();
        assert!(
            sent.get(at + 1).is_some_and(|next| next.starts_with("UPDATE")),
            "the row is locked right before its UPDATE: {sent:#?}"
        );
    } else {
        // SQLite: the transaction holds the write lock since it began, so the row the
        // query loaded is the row in the database.
        assert!(
            selects.is_empty(),
            "the old values come from the query, not from a new read: {sent:#?}"
        );
    }
    let updates: Vec<&String> = sent.iter().filter(|sql| sql.starts_with("UPDATE")).collect();
    assert_eq!(updates.len(), 1, "{sent:#?}");
    let update = updates[0];
    assert!(update.contains(&q("price")), "{update}");
    for other in ["name", "qty", "tag", "active"] {
        assert!(
            !update.contains(&q(other)),
            "only the changed column is written: {update}"
        );
    }
    let (old, new, changed) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(&old, loaded.iter().find(|i| i.name == "carrot").unwrap());
    assert_eq!(new, carrot);
    assert_eq!(changed, vec!["price"]);

    // An object staged unchanged writes nothing and fires nothing.
    let apple = loaded[0].clone();
    s.update(&apple).unwrap();
    s.flush().unwrap();
    assert!(log.take().iter().all(|sql| !sql.starts_with("UPDATE")));
    assert!(seen.lock().unwrap().is_empty());

    // A later query reloads the row: its values are the old values from then on.
    s.execute("UPDATE items SET qty = 50 WHERE name = 'fig'", &[]).unwrap();
    let mut fig = s
        .query::<Item>()
        .filter(col("name").eq("fig"))
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(fig.qty, 50);
    fig.active = false;
    s.update(&fig).unwrap();
    s.commit().unwrap();
    let (old, _, changed) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(old.qty, 50);
    assert_eq!(changed, vec!["active"]);
});

on_each_db!(old_values_are_not_stale_after_raw_sql_in_the_same_session, |db: Db| {
    // Semantics §2: old values are the values last read from or written to the
    // database, never a guess. After the session's own raw UPDATE, the values the query
    // loaded are no longer what the database holds.
    let log = StatementLog::default();
    let seen = Seen::default();
    let engine = watched(&db.url, &log, &seen);
    let mut s = engine.session().unwrap();
    let mut fig = s
        .query::<Item>()
        .filter(col("name").eq("fig"))
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(fig.qty, 5);
    s.execute(
        &db.sql("UPDATE items SET qty = 50 WHERE id = ?"),
        &[Value::from(fig.id)],
    )
    .unwrap();
    fig.active = false;
    s.update(&fig).unwrap();
    s.commit().unwrap();
    let (old, _, _) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(old.qty, 50, "the old row is the row the database held");
});
