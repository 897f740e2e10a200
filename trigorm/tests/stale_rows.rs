//! Rows a session remembers that the database changed behind it: a copy older than the row
//! read since, children changed by foreign-key actions (also down a chain of cascades),
//! rows removed by a listener's raw SQL in the middle of a flush; and names that SQL
//! generated for many rows could trip over.
#[macro_use]
mod common;

use common::*;

use std::sync::{Arc, Mutex};

use trigorm::event::{AfterUpdate, BeforeDelete};
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "docs")]
struct Doc {
    id: i64,
    title: String,
    body: String,
    #[trigorm(version)]
    version: i64,
}

fn doc_engine(db: &Db) -> Engine {
    let engine = Engine::builder(&db.url).model::<Doc>().build().unwrap();
    engine.create_all().unwrap();
    engine
}

fn new_doc(engine: &Engine) -> Doc {
    let mut s = engine.session().unwrap();
    let d = s
        .insert(Doc {
            id: 0,
            title: "t0".into(),
            body: "b0".into(),
            version: 1,
        })
        .unwrap();
    s.commit().unwrap();
    d
}

// A copy made from version 1, updated after the session read the row again at version 2
// (another session changed the title): the copy's title is stale, and writing it back
// would undo the other session's change. With a version column the update is refused.
on_each_db!(a_copy_older_than_the_row_read_since_is_a_conflict, |db: Db| {
    let engine = doc_engine(&db);
    let doc = new_doc(&engine);

    let mut s = engine.session().unwrap();
    let mut mine = s.get::<Doc>(doc.id).unwrap().unwrap();
    s.commit().unwrap();

    let mut other = engine.session().unwrap();
    let mut theirs = other.get::<Doc>(doc.id).unwrap().unwrap();
    theirs.title = "theirs".into();
    other.update(&theirs).unwrap();
    other.commit().unwrap();
    drop(other);

    // The session reads the row again (a list, say): its base is now version 2.
    let listed = s.query::<Doc>().all().unwrap();
    assert_eq!(listed[0].version, 2);
    mine.body = "mine".into();
    s.update(&mine).unwrap();
    let err = s.commit().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    s.rollback().unwrap();
    let stored = s.get::<Doc>(doc.id).unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.body.as_str()), ("theirs", "b0"));

    // The session's own copy, updated twice in one transaction, is no conflict.
    let mut again = stored.clone();
    again.body = "one".into();
    s.update(&again).unwrap();
    s.flush().unwrap();
    again.body = "two".into();
    s.update(&again).unwrap();
    s.commit().unwrap();
    let stored = s.get::<Doc>(doc.id).unwrap().unwrap();
    assert_eq!((stored.body.as_str(), stored.version), ("two", 4));
});

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "gp")]
struct Gp {
    id: i64,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "mid")]
struct Mid {
    id: i64,
    #[trigorm(references = Gp, on_delete = "cascade")]
    gp_id: i64,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "leaf")]
struct Leaf {
    id: i64,
    #[trigorm(references = Mid, on_delete = "set_null")]
    mid_id: Option<i64>,
    name: String,
}

type Olds = Arc<Mutex<Vec<Option<i64>>>>;

fn family(db: &Db, olds: &Olds) -> (Engine, Gp, Mid, Leaf) {
    let seen = olds.clone();
    let engine = Engine::builder(&db.url)
        .model::<Gp>()
        .model::<Mid>()
        .listen::<Leaf>(AfterUpdate, move |_ctx, c| {
            seen.lock().unwrap().push(c.old().and_then(|l| l.mid_id));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let gp = s
        .insert(Gp {
            id: 0,
            name: "gp".into(),
        })
        .unwrap();
    let mid = s
        .insert(Mid {
            id: 0,
            gp_id: gp.id,
            name: "mid".into(),
        })
        .unwrap();
    let leaf = s
        .insert(Leaf {
            id: 0,
            mid_id: Some(mid.id),
            name: "leaf".into(),
        })
        .unwrap();
    s.commit().unwrap();
    (engine, gp, mid, leaf)
}

// Deleting the grandparent deletes the middle row (cascade), which sets the leaf's
// reference to NULL. The session had read the leaf: its update must neither write the
// deleted reference back nor report it as the old value.
on_each_db!(a_chain_of_cascades_leaves_no_stale_row_behind, |db: Db| {
    let olds = Olds::default();
    let (engine, gp, _mid, leaf) = family(&db, &olds);
    let mut s = engine.session().unwrap();
    let mut l = s.get::<Leaf>(leaf.id).unwrap().unwrap();
    s.delete(&gp).unwrap();
    s.flush().unwrap();
    l.name = "renamed".into();
    s.update(&l).unwrap();
    s.commit().unwrap();
    let stored = s.get::<Leaf>(leaf.id).unwrap().unwrap();
    assert_eq!(
        (stored.mid_id, stored.name.as_str()),
        (None, "renamed"),
        "only the name was written"
    );
    assert_eq!(*olds.lock().unwrap(), [None], "the old row is the row in the database");
});

// A child whose reference the database set to NULL when its parent was deleted: updating
// a copy read before writes what the caller changed, not the deleted parent's key.
on_each_db!(a_set_null_child_updated_after_its_parent_went_keeps_null, |db: Db| {
    let olds = Olds::default();
    let (engine, _gp, mid, leaf) = family(&db, &olds);
    let mut s = engine.session().unwrap();
    let mut l = s.get::<Leaf>(leaf.id).unwrap().unwrap();
    s.delete(&mid).unwrap();
    s.flush().unwrap();
    l.name = "orphan".into();
    s.update(&l).unwrap();
    s.commit().unwrap();
    let stored = s.get::<Leaf>(leaf.id).unwrap().unwrap();
    assert_eq!((stored.mid_id, stored.name.as_str()), (None, "orphan"));
    assert_eq!(*olds.lock().unwrap(), [None]);
});

// A `BeforeDelete` listener of one row deletes another row of the same flush by raw SQL:
// the flush succeeds on every backend (row by row, that row was deleted before; where a
// flush's deletes go in one statement, it is found gone), and both rows are gone.
on_each_db!(a_listener_deleting_a_row_of_the_same_flush_by_raw_sql, |db: Db| {
    let delete_a = db.sql("DELETE FROM gp WHERE name = ?");
    let engine = Engine::builder(&db.url)
        .listen::<Gp>(BeforeDelete, move |ctx, c| {
            if c.old().is_some_and(|g| g.name == "b") {
                ctx.execute(&delete_a, &[Value::from("a")])?;
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let a = s
        .insert(Gp {
            id: 0,
            name: "a".into(),
        })
        .unwrap();
    let b = s
        .insert(Gp {
            id: 0,
            name: "b".into(),
        })
        .unwrap();
    s.commit().unwrap();
    s.delete(&a).unwrap();
    s.delete(&b).unwrap();
    s.commit().unwrap();
    assert_eq!(s.query::<Gp>().count().unwrap(), 0);
});

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "v")]
struct V {
    id: i64,
    k: String,
    c0: String,
}

// Names that the statements of many rows use for their own aliases, as a table and as
// columns: updates still work.
on_each_db!(tables_and_columns_named_like_internal_aliases, |db: Db| {
    let engine = Engine::builder(&db.url).model::<V>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let mut rows: Vec<V> = (0..3)
        .map(|i| {
            s.insert(V {
                id: 0,
                k: format!("k{i}"),
                c0: format!("c{i}"),
            })
            .unwrap()
        })
        .collect();
    s.commit().unwrap();
    for r in &mut rows {
        r.c0.push('!');
        s.update(&*r).unwrap();
    }
    s.commit().unwrap();
    let stored = s.query::<V>().all().unwrap();
    assert!(stored.iter().all(|r| r.c0.ends_with('!')), "{stored:?}");
});
