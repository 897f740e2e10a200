//! Flush order and rounds (semantics §4), and what the session keeps of rows the database
//! removed with their parent. Failure, retry and optimistic locking: `flush_retry.rs`.
mod common;
use common::*;

use std::sync::Arc;

use trigorm::error::DbErrorKind;
use trigorm::event::{AfterDelete, AfterInsert, AfterUpdate, BeforeDelete, BeforeInsert, BeforeUpdate, RowEvent};
use trigorm::query::col;
use trigorm::{Engine, EngineBuilder, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
struct Parent {
    id: i64,
    name: String,
}

/// References its parent with the default action: SQLite refuses to delete a parent that
/// still has children.
#[derive(Model, Clone, Debug, PartialEq)]
struct Child {
    id: i64,
    #[trigorm(references = Parent)]
    parent_id: i64,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
struct Grandchild {
    id: i64,
    #[trigorm(references = Child, on_delete = "cascade")]
    child_id: i64,
    name: String,
}

/// Deleted with its parent by the database.
#[derive(Model, Clone, Debug, PartialEq)]
struct CascadeChild {
    id: i64,
    #[trigorm(references = Parent, on_delete = "cascade")]
    parent_id: i64,
    name: String,
}

/// A row whose insert stages the next one, up to `depth == limit`.
#[derive(Model, Clone, Debug, PartialEq)]
struct Node {
    id: i64,
    depth: i64,
    limit: i64,
}

const ALL_EVENTS: [RowEvent; 6] = [
    BeforeInsert,
    AfterInsert,
    BeforeUpdate,
    AfterUpdate,
    BeforeDelete,
    AfterDelete,
];

/// Trace every row event of `M` as `"<Event> <Model> <label>"`.
fn trace_rows<M: Model>(mut b: EngineBuilder, trace: &Trace, label: fn(&M) -> String) -> EngineBuilder {
    for ev in ALL_EVENTS {
        let t = trace.clone();
        b = b.listen::<M>(ev, move |_ctx, c| {
            let row = c.new().or(c.old()).unwrap();
            t.push(format!("{:?} {} {}", c.event(), M::table().model, label(row)));
            Ok(())
        });
    }
    b
}

fn family_engine(url: &str, trace: &Trace) -> Engine {
    let mut b = Engine::builder(url);
    b = trace_rows::<Parent>(b, trace, |p| p.name.clone());
    b = trace_rows::<Child>(b, trace, |c| c.name.clone());
    b = trace_rows::<Grandchild>(b, trace, |g| g.name.clone());
    b = trace_rows::<CascadeChild>(b, trace, |c| c.name.clone());
    let engine = b.build().unwrap();
    engine.create_all().unwrap();
    engine
}

fn parent(id: i64, name: &str) -> Parent {
    Parent { id, name: name.into() }
}
fn child(id: i64, parent_id: i64, name: &str) -> Child {
    Child {
        id,
        parent_id,
        name: name.into(),
    }
}
fn grandchild(id: i64, child_id: i64, name: &str) -> Grandchild {
    Grandchild {
        id,
        child_id,
        name: name.into(),
    }
}

/// The row events `per_row` lists (each row's `Before*` then its `After*`), in the order
/// the backend fires them. Where writes are batched (on a server: PostgreSQL, MariaDB), a
/// run of one model's writes of one operation fires every row's `Before*`, then the
/// statement, then every row's `After*`, each in staging order (semantics §4). SQLite
/// writes rows one by one to a table without triggers, as these are (a table with
/// triggers: `trigger_batches.rs`).
fn as_fired(db: &Db, per_row: &[&str]) -> Vec<String> {
    if !db.is_server() {
        return per_row.iter().map(|e| e.to_string()).collect();
    }
    // "BeforeInsert Parent p1" -> ("Insert", "Parent")
    let run_of = |e: &str| {
        let mut words = e.split_whitespace();
        let event = words.next().unwrap_or("");
        let op = event
            .trim_start_matches("Before")
            .trim_start_matches("After")
            .to_string();
        (op, words.next().unwrap_or("").to_string())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < per_row.len() {
        let run = run_of(per_row[i]);
        let end = i + per_row[i..].iter().take_while(|e| run_of(e) == run).count();
        let events = &per_row[i..end];
        out.extend(events.iter().filter(|e| e.starts_with("Before")).map(|e| e.to_string()));
        out.extend(
            events
                .iter()
                .filter(|e| !e.starts_with("Before"))
                .map(|e| e.to_string()),
        );
        i = end;
    }
    out
}

/// The events of one kind, in order.
fn only(trace: Vec<String>, prefix: &str) -> Vec<String> {
    trace.into_iter().filter(|e| e.starts_with(prefix)).collect()
}

on_each_db!(
    inserts_run_parents_before_children_whatever_the_staging_order,
    |db: Db| {
        let trace = Trace::default();
        let engine = family_engine(&db.url, &trace);

        // Foreign keys are enforced: a child without its parent is refused.
        let mut s = engine.session().unwrap();
        let err = s.insert(child(10, 1, "orphan")).unwrap_err();
        assert_eq!(err.db_kind(), Some(DbErrorKind::ForeignKeyViolation), "{err:?}");
        s.rollback().unwrap();
        trace.take();

        s.add(grandchild(100, 10, "g100"));
        s.add(child(10, 1, "c10"));
        s.add(parent(1, "p1"));
        s.add(child(11, 2, "c11"));
        s.add(parent(2, "p2"));
        s.commit().unwrap();
        assert_eq!(
            trace.take(),
            as_fired(
                &db,
                &[
                    "BeforeInsert Parent p1",
                    "AfterInsert Parent p1",
                    "BeforeInsert Parent p2",
                    "AfterInsert Parent p2",
                    "BeforeInsert Child c10",
                    "AfterInsert Child c10",
                    "BeforeInsert Child c11",
                    "AfterInsert Child c11",
                    "BeforeInsert Grandchild g100",
                    "AfterInsert Grandchild g100",
                ]
            )
        );
        assert_eq!(count::<Parent>(&engine), 2);
        assert_eq!(count::<Child>(&engine), 2);
        assert_eq!(count::<Grandchild>(&engine), 1);
    }
);

on_each_db!(deletes_run_children_before_parents, |db: Db| {
    let trace = Trace::default();
    let engine = family_engine(&db.url, &trace);
    let mut s = engine.session().unwrap();
    s.add(parent(1, "p1"));
    s.add(child(10, 1, "c10"));
    s.add(grandchild(100, 10, "g100"));
    s.add(CascadeChild {
        id: 20,
        parent_id: 1,
        name: "cc20".into(),
    });
    s.commit().unwrap();
    trace.take();

    // Parents first in staging order: a parent deleted first would be refused (Child) or
    // would take its children along (CascadeChild, Grandchild), and their own deletes
    // would then find nothing.
    let p = s.get::<Parent>(1).unwrap().unwrap();
    let c = s.get::<Child>(10).unwrap().unwrap();
    let g = s.get::<Grandchild>(100).unwrap().unwrap();
    let cc = s.get::<CascadeChild>(20).unwrap().unwrap();
    s.delete(&p).unwrap();
    s.delete(&cc).unwrap();
    s.delete(&c).unwrap();
    s.delete(&g).unwrap();
    s.commit().unwrap();
    assert_eq!(
        only(trace.take(), "AfterDelete"),
        [
            "AfterDelete Grandchild g100",
            "AfterDelete CascadeChild cc20",
            "AfterDelete Child c10",
            "AfterDelete Parent p1",
        ]
    );
    assert_eq!(count::<Parent>(&engine), 0);
    assert_eq!(count::<Child>(&engine), 0);
    assert_eq!(count::<Grandchild>(&engine), 0);
    assert_eq!(count::<CascadeChild>(&engine), 0);
});

/// `err` is `NotFound` for `model` `pk`.
fn assert_not_found(err: Error, model: &str, pk: i64) {
    match err {
        Error::NotFound { model: m, pk: p } => assert_eq!((m, p), (model, pk.to_string())),
        other => panic!("expected Error::NotFound for {model} {pk}, got {other:?}"),
    }
}

// Rows the database deletes with their parent (ON DELETE CASCADE) are gone for the session
// too, even rows it had read: it keeps none of them as old values. A later update (changed
// or not) or delete of such a row is NotFound, not a write onto a row that is no longer
// there, and fires no event with a stale old row.
on_each_db!(rows_deleted_by_a_cascade_are_not_kept_as_stale_old_values, |db: Db| {
    let trace = Trace::default();
    let engine = family_engine(&db.url, &trace);
    let mut s = engine.session().unwrap();
    s.add(parent(1, "p1"));
    s.add(child(10, 1, "c10"));
    s.add(grandchild(100, 10, "g100"));
    for (id, name) in [(20, "cc20"), (21, "cc21")] {
        s.add(CascadeChild {
            id,
            parent_id: 1,
            name: name.into(),
        });
    }
    s.commit().unwrap();
    trace.take();

    // Each case in a transaction of its own, rolled back by its failure.
    for case in ["update", "unchanged update", "delete", "grandchild update"] {
        // The rows are read, so remembered, before the delete that cascades to them.
        let cascaded = s.query::<CascadeChild>().order_by(col("id").asc()).all().unwrap();
        let g = s.get::<Grandchild>(100).unwrap().unwrap();
        // The database deletes g100 with c10 ...
        let c = s.get::<Child>(10).unwrap().unwrap();
        s.delete(&c).unwrap();
        s.flush().unwrap();
        if case != "grandchild update" {
            // ... and cc20 and cc21 with p1 (which c10 referenced, with no action).
            let p = s.get::<Parent>(1).unwrap().unwrap();
            s.delete(&p).unwrap();
            s.flush().unwrap();
        }
        trace.take();

        let err = match case {
            "update" => {
                let mut cc = cascaded[0].clone();
                cc.name = "renamed".into();
                s.update(&cc).unwrap();
                s.commit().unwrap_err()
            }
            "unchanged update" => {
                s.update(&cascaded[1]).unwrap();
                s.commit().unwrap_err()
            }
            "delete" => {
                s.delete(&cascaded[0]).unwrap();
                s.commit().unwrap_err()
            }
            _ => {
                let mut g = g.clone();
                g.name = "renamed".into();
                s.update(&g).unwrap();
                s.commit().unwrap_err()
            }
        };
        match case {
            "update" | "delete" => assert_not_found(err, "CascadeChild", 20),
            "unchanged update" => assert_not_found(err, "CascadeChild", 21),
            _ => assert_not_found(err, "Grandchild", 100),
        }
        let fired = trace.take();
        assert!(
            fired
                .iter()
                .all(|e| !e.contains("CascadeChild") && !e.contains("Grandchild")),
            "{case}: no event of a row that is gone: {fired:#?}"
        );
        s.rollback().unwrap();
        // Rolled back: everything is there again.
        assert_eq!(count::<Parent>(&engine), 1, "{case}");
        assert_eq!(count::<CascadeChild>(&engine), 2, "{case}");
        assert_eq!(count::<Grandchild>(&engine), 1, "{case}");
        trace.take();
    }
});

fn user_engine(b: EngineBuilder, trace: &Trace) -> Engine {
    let engine = trace_rows::<User>(b, trace, |u| u.name.clone()).build().unwrap();
    engine.create_all().unwrap();
    engine
}

fn committed_users(engine: &Engine, names: &[&str]) -> Vec<User> {
    let mut s = engine.session().unwrap();
    let users = names.iter().map(|n| s.insert(user(n)).unwrap()).collect();
    s.commit().unwrap();
    users
}

on_each_db!(inserts_then_updates_then_deletes, |db: Db| {
    let trace = Trace::default();
    let log = StatementLog::default();
    let engine = user_engine(log.attach(Engine::builder(&db.url)), &trace);
    let users = committed_users(&engine, &["a", "b"]);
    trace.take();
    log.take();

    let mut s = engine.session().unwrap();
    s.delete(&users[0]).unwrap();
    s.update(&User {
        name: "b2".into(),
        ..users[1].clone()
    })
    .unwrap();
    s.add(user("c"));
    s.commit().unwrap();
    assert_eq!(
        trace.take(),
        [
            "BeforeInsert User c",
            "AfterInsert User c",
            "BeforeUpdate User b2",
            "AfterUpdate User b2",
            "BeforeDelete User a",
            "AfterDelete User a",
        ]
    );
    let sent = log.take();
    let writes: Vec<String> = sent
        .iter()
        .filter_map(|q| {
            let verb = q.split_whitespace().next()?.to_uppercase();
            ["INSERT", "UPDATE", "DELETE"].contains(&verb.as_str()).then_some(verb)
        })
        .collect();
    assert_eq!(writes, ["INSERT", "UPDATE", "DELETE"]);
    // The rows updated and deleted were never read by this session: each is read right
    // before it is written, for its old values; on a server (PostgreSQL, MariaDB) that read
    // locks it (`FOR UPDATE`), on SQLite the transaction holds the write lock already.
    let statements: Vec<String> = sent
        .iter()
        .filter(|q| !matches!(q.as_str(), "BEGIN" | "COMMIT"))
        .map(|q| match q.split_whitespace().next() {
            Some("SELECT") if q.ends_with(" FOR UPDATE") => "SELECT FOR UPDATE".to_string(),
            Some(verb) => verb.to_string(),
            None => String::new(),
        })
        .collect();
    let read = if db.is_server() { "SELECT FOR UPDATE" } else { "SELECT" };
    assert_eq!(statements, ["INSERT", read, "UPDATE", read, "DELETE"], "{sent:#?}");
});

on_each_db!(row_events_fire_in_staging_order_within_each_group, |db: Db| {
    let trace = Trace::default();
    let engine = user_engine(Engine::builder(&db.url), &trace);
    let u = committed_users(&engine, &["a", "b", "c", "d"]);
    trace.take();

    let rename = |u: &User| User {
        name: format!("{}2", u.name),
        ..u.clone()
    };
    let mut s = engine.session().unwrap();
    s.add(user("z"));
    s.update(rename(&u[2])).unwrap();
    s.delete(&u[3]).unwrap();
    s.add(user("y"));
    s.update(rename(&u[1])).unwrap();
    s.delete(&u[0]).unwrap();
    s.add(user("x"));
    s.commit().unwrap();
    assert_eq!(
        trace.take(),
        as_fired(
            &db,
            &[
                "BeforeInsert User z",
                "AfterInsert User z",
                "BeforeInsert User y",
                "AfterInsert User y",
                "BeforeInsert User x",
                "AfterInsert User x",
                "BeforeUpdate User c2",
                "AfterUpdate User c2",
                "BeforeUpdate User b2",
                "AfterUpdate User b2",
                "BeforeDelete User d",
                "AfterDelete User d",
                "BeforeDelete User a",
                "AfterDelete User a",
            ]
        )
    );
});

/// An engine whose `Node` inserts stage the next node until `depth == limit`.
fn node_engine(b: EngineBuilder) -> Engine {
    let engine = b
        .model::<User>()
        .listen::<Node>(AfterInsert, |ctx, c| {
            let n = c.new().unwrap();
            if n.depth < n.limit {
                ctx.add(Node {
                    id: 0,
                    depth: n.depth + 1,
                    limit: n.limit,
                });
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    engine
}

fn node(limit: i64) -> Node {
    Node { id: 0, depth: 1, limit }
}

fn assert_flush_loop(err: Error, bound: usize) {
    let text = err.to_string();
    match err {
        Error::FlushLoop { rounds, staged } => {
            assert_eq!(rounds, bound);
            assert_eq!(staged, "Node insert x1");
            assert!(text.contains("Node insert"), "{text}");
        }
        other => panic!("expected Error::FlushLoop, got {other:?}"),
    }
}

on_each_db!(a_flush_that_keeps_staging_stops_at_16_rounds, |db: Db| {
    let engine = node_engine(Engine::builder(&db.url));
    let mut s = engine.session().unwrap();
    // 16 rounds: one node per round, the last stages nothing.
    s.add(node(16));
    s.commit().unwrap();
    assert_eq!(count::<Node>(&engine), 16);
    let deepest = engine
        .session()
        .unwrap()
        .query::<Node>()
        .order_by(col("depth").desc())
        .first()
        .unwrap()
        .unwrap();
    assert_eq!(deepest.depth, 16);

    // A 17th round is one too many; the whole transaction is rolled back, including what
    // an earlier flush wrote.
    s.insert(user("Jane")).unwrap();
    s.add(node(17));
    let err = s.commit().unwrap_err();
    assert_flush_loop(err, 16);
    assert_eq!(count::<Node>(&engine), 16, "nothing of the failed flush is written");
    assert_eq!(count::<User>(&engine), 0);

    // Endless staging stops the same way.
    s.rollback().unwrap();
    s.add(node(i64::MAX));
    assert_flush_loop(s.flush().unwrap_err(), 16);
    s.rollback().unwrap();
    assert_eq!(count::<Node>(&engine), 16);
});

on_each_db!(the_round_bound_is_configurable, |db: Db| {
    let engine = node_engine(Engine::builder(&db.url).max_flush_rounds(3));
    let mut s = engine.session().unwrap();
    s.add(node(3));
    s.commit().unwrap();
    assert_eq!(count::<Node>(&engine), 3);
    s.add(node(4));
    assert_flush_loop(s.commit().unwrap_err(), 3);
    s.rollback().unwrap();
    assert_eq!(count::<Node>(&engine), 3);

    let err = Engine::builder(&db.url).max_flush_rounds(0).build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidSetting {
                setting: "max_flush_rounds",
                ..
            }
        ),
        "{err:?}"
    );
});

/// A tree in one table.
#[derive(Model, Clone, Debug, PartialEq)]
struct Category {
    id: i64,
    #[trigorm(references = Self)]
    parent_id: Option<i64>,
    name: String,
}

fn category(id: i64, parent_id: Option<i64>, name: &str) -> Category {
    Category {
        id,
        parent_id,
        name: name.into(),
    }
}

on_each_db!(
    a_self_referencing_table_inserts_parents_first_and_deletes_children_first,
    |db: Db| {
        let trace = Trace::default();
        let engine = trace_rows::<Category>(Engine::builder(&db.url), &trace, |c| c.name.clone())
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        s.add(category(3, Some(2), "leaf"));
        s.add(category(2, Some(1), "branch"));
        s.add(category(1, None, "root"));
        s.commit().unwrap();
        assert_eq!(
            only(trace.take(), "AfterInsert"),
            [
                "AfterInsert Category root",
                "AfterInsert Category branch",
                "AfterInsert Category leaf",
            ]
        );

        s.delete(category(1, None, "root")).unwrap();
        s.delete(category(2, Some(1), "branch")).unwrap();
        s.delete(category(3, Some(2), "leaf")).unwrap();
        s.commit().unwrap();
        assert_eq!(
            only(trace.take(), "AfterDelete"),
            [
                "AfterDelete Category leaf",
                "AfterDelete Category branch",
                "AfterDelete Category root",
            ]
        );
        assert_eq!(count::<Category>(&engine), 0);
    }
);

on_each_db!(updates_and_deletes_take_the_object_or_a_reference, |db: Db| {
    let engine = audited(&db.url).build().unwrap();
    engine.create_all().unwrap();
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| committed_users(&engine, &[n]).remove(0));
    let mut s = engine.session().unwrap();
    let mut a2 = a.clone();
    a2.name = "a2".into();
    s.update(&a2).unwrap(); // copied
    let mut b2 = b;
    b2.name = "b2".into();
    s.update(b2).unwrap(); // moved
    s.delete(&c).unwrap();
    s.delete(d).unwrap();
    s.commit().unwrap();
    assert_eq!(a2.name, "a2", "the caller keeps what it lent");
    // A mutable reference is copied too.
    let mut rows = s.query::<User>().order_by(col("id").asc()).all().unwrap();
    for u in rows.iter_mut() {
        u.name.push('!');
        s.update(u).unwrap();
    }
    s.commit().unwrap();
    assert_eq!(rows[0].name, "a2!");
    let mut fresh = engine.session().unwrap();
    let names: Vec<String> = fresh
        .query::<User>()
        .order_by(col("id").asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["a2!", "b2!"]);
    let changes: Vec<String> = fresh
        .query::<Log>()
        .filter(col("change_type").ne("insert"))
        .order_by(col("id").asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|l| format!("{} {:?}->{:?}", l.change_type, l.old_name, l.new_name))
        .collect();
    assert_eq!(
        changes,
        [
            r#"update Some("a")->Some("a2")"#,
            r#"update Some("b")->Some("b2")"#,
            r#"delete Some("c")->None"#,
            r#"delete Some("d")->None"#,
            r#"update Some("a2")->Some("a2!")"#,
            r#"update Some("b2")->Some("b2!")"#,
        ]
    );
});

/// Seven text columns: every subset of them is its own UPDATE statement.
#[derive(Model, Clone, Debug, PartialEq)]
struct Wide {
    id: i64,
    a: String,
    b: String,
    c: String,
    d: String,
    e: String,
    f: String,
    g: String,
}

impl Wide {
    fn column(&mut self, k: usize) -> &mut String {
        match k {
            0 => &mut self.a,
            1 => &mut self.b,
            2 => &mut self.c,
            3 => &mut self.d,
            4 => &mut self.e,
            5 => &mut self.f,
            _ => &mut self.g,
        }
    }
}

// One flush runs far more distinct statements than a connection holds prepared at once
// (updates of 100 different column sets, and a listener's raw SQL with texts of its own
// between them), going back to earlier ones: every row gets exactly its own values.
on_each_db!(a_flush_of_many_statement_shapes_writes_every_row_right, |db: Db| {
    let key = db.sql("?");
    // MariaDB quotes names in backquotes, and `||` is its OR.
    let append = if db.is_mariadb() {
        "UPDATE `wide` SET `g` = CONCAT(`g`, '+') WHERE `id`"
    } else {
        "UPDATE \"wide\" SET \"g\" = \"g\" || '+' WHERE \"id\""
    };
    let engine = Engine::builder(&db.url)
        .model::<Wide>()
        .listen::<Wide>(AfterUpdate, move |ctx, change| {
            let id = change.new().map_or(0, |w| w.id);
            // A text of its own for every fifth row: raw statements crowd the held ones out.
            let sql = format!("{append} = {key} AND {} = {}", id % 5, id % 5);
            ctx.execute(&sql, &[Value::Int(id)])?;
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let blank = |id: i64| Wide {
        id,
        a: String::new(),
        b: String::new(),
        c: String::new(),
        d: String::new(),
        e: String::new(),
        f: String::new(),
        g: String::new(),
    };
    for id in 1..=200 {
        s.add(blank(id));
    }
    s.commit().unwrap();

    let mut expected = Vec::new();
    for mut w in s.query::<Wide>().order_by(col("id").asc()).all().unwrap() {
        // Column set (id % 100) + 1 of the 127: 100 shapes, each used twice, far apart.
        let set = (w.id % 100) as usize + 1;
        for k in 0..7 {
            if set & (1 << k) != 0 {
                *w.column(k) = format!("{}-{k}", w.id);
            }
        }
        s.update(&w).unwrap();
        w.g.push('+');
        expected.push(w);
    }
    s.commit().unwrap();
    let stored = s.query::<Wide>().order_by(col("id").asc()).all().unwrap();
    assert_eq!(stored, expected);
});

// Sessions on one connection one after another: whatever the last one left (staged writes
// never flushed, a transaction rolled back by dropping it, rows it remembered), the next
// one starts with nothing of it: nothing pending, nothing remembered, every old value read
// from the database.
on_each_db!(a_new_session_starts_clean_whatever_the_last_one_left, |db: Db| {
    let olds = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = olds.clone();
    let engine = Engine::builder(&db.url)
        .pool_size(1)
        .model::<Parent>()
        .listen::<Parent>(AfterUpdate, move |_, change| {
            if let Some(old) = change.old() {
                seen.lock().unwrap().push(old.name.clone());
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let names = |engine: &Engine| -> Vec<String> {
        let mut s = engine.session().unwrap();
        let rows = s.query::<Parent>().order_by(col("id").asc()).all().unwrap();
        rows.into_iter().map(|p| p.name).collect()
    };
    {
        let mut s = engine.session().unwrap();
        for name in ["a", "bb", "ccc"] {
            s.add(Parent {
                id: 0,
                name: name.into(),
            });
        }
        s.commit().unwrap();
    }
    // Staged, never flushed, dropped: written by no later session.
    {
        let mut s = engine.session().unwrap();
        s.add(Parent {
            id: 0,
            name: "never".into(),
        });
        let mut p = s.get::<Parent>(1).unwrap().unwrap();
        p.name = "never either".into();
        s.update(p).unwrap();
    }
    {
        let mut s = engine.session().unwrap();
        assert!(!s.has_pending());
        assert_eq!(s.remembered_rows(), 0);
        s.commit().unwrap();
    }
    assert_eq!(names(&engine), ["a", "bb", "ccc"]);
    // Flushed in a transaction that is dropped (rolled back), after loading every row.
    {
        let mut s = engine.session().unwrap();
        for mut p in s.query::<Parent>().all().unwrap() {
            p.name = format!("{}-rolled-back", p.name);
            s.update(p).unwrap();
        }
        s.flush().unwrap();
    }
    assert_eq!(names(&engine), ["a", "bb", "ccc"]);
    olds.lock().unwrap().clear();
    // The next session's updates see the stored names as old values, not the rolled-back
    // ones, and write exactly their own.
    {
        let mut s = engine.session().unwrap();
        assert_eq!(s.remembered_rows(), 0);
        for mut p in s.query::<Parent>().order_by(col("id").asc()).all().unwrap() {
            p.name = p.name.repeat(2);
            s.update(p).unwrap();
        }
        s.commit().unwrap();
    }
    assert_eq!(*olds.lock().unwrap(), ["a", "bb", "ccc"]);
    assert_eq!(names(&engine), ["aa", "bbbb", "cccccc"]);
});
