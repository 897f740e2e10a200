//! Regression tests for the hardening review: long self-referencing chains, old values after
//! raw writes, bulk rows computed when written, interrupted flushes, bound parameters,
//! `Pending` after rollback, NULL comparisons, database error kinds through listeners and
//! a statement error a listener swallows. Raw SQL that would control the transaction or
//! leave per-connection state, and pool hygiene, are in `pool.rs`.
mod common;
use common::*;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use trigorm::error::DbErrorKind;
use trigorm::event::{
    AfterDelete, AfterInsert, AfterRollback, AfterUpdate, BeforeDelete, BeforeFlush, BeforeUpdate, RowEvent,
};
use trigorm::query::col;
use trigorm::{Engine, Error, Model, Value};

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

/// A tree: each node names its parent in the same table. The reference is indexed (as the
/// README advises): without it SQLite scans the table for children at every delete, and
/// deleting a long chain is quadratic.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "node")]
struct Node {
    #[trigorm(primary_key, natural)]
    id: i64,
    #[trigorm(references = Self, index)]
    parent_id: Option<i64>,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "other")]
struct Other {
    id: i64,
    x: i64,
}

/// A model whose only column is its generated key.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "token")]
struct Token {
    id: i64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "member")]
struct Member {
    id: i64,
    #[trigorm(unique)]
    handle: String,
}

fn item(name: &str, qty: i64) -> Item {
    Item {
        id: 0,
        name: name.to_string(),
        qty,
    }
}

fn node(id: i64) -> Node {
    Node {
        id,
        parent_id: (id > 1).then(|| id - 1),
    }
}

fn item_names(engine: &Engine) -> Vec<(i64, String, i64)> {
    let mut s = engine.session().unwrap();
    let mut items = s.query::<Item>().order_by(col("id").asc()).all().unwrap();
    items.sort_by_key(|i| i.id);
    items.into_iter().map(|i| (i.id, i.name, i.qty)).collect()
}

// 2. A long self-referencing chain is ordered without recursion.
const CHAIN: i64 = 50_000;

on_each_db!(long_self_referencing_chain_on_a_small_stack, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Node>().build().unwrap();
    engine.create_all().unwrap();
    let e = engine.clone();
    let started = Instant::now();
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || -> Result<(), String> {
            let mut s = e.session().map_err(|e| e.to_string())?;
            // Deepest first: every row's parent is staged after it.
            for i in (1..=CHAIN).rev() {
                s.add(node(i));
            }
            s.commit().map_err(|e| format!("insert: {e}"))?;
            let n = s.query::<Node>().count().map_err(|e| e.to_string())?;
            if n != CHAIN as u64 {
                return Err(format!("{n} nodes after the insert"));
            }
            s.commit().map_err(|e| e.to_string())?;
            // Root first: every row's children are staged after it.
            for i in 1..=CHAIN {
                s.delete(node(i)).map_err(|e| e.to_string())?;
            }
            s.commit().map_err(|e| format!("delete: {e}"))?;
            Ok(())
        })
        .unwrap();
    let r = worker.join().expect("the worker thread did not overflow its stack");
    assert_eq!(r, Ok(()));
    assert_eq!(count::<Node>(&engine), 0);
    eprintln!("{CHAIN} nodes inserted and deleted in {:?}", started.elapsed());
});

// 3. A write through `query_raw` makes the session forget what it remembered.
on_each_db!(query_raw_write_forgets_remembered_rows, |db: Db| {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let engine = Engine::builder(&db.url)
        .listen::<Item>(AfterUpdate, move |_ctx, c| {
            out.lock()
                .unwrap()
                .push((c.old().unwrap().name.clone(), c.new().unwrap().name.clone()));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let mut it = s.insert(item("a", 1)).unwrap();
    // MariaDB has no UPDATE ... RETURNING: there the write returns no row.
    let (sql, returned) = if db.is_mariadb() {
        ("UPDATE item SET name = 'z' WHERE id = ?", vec![])
    } else {
        (
            "UPDATE item SET name = 'z' WHERE id = ? RETURNING id",
            vec![vec![Value::Int(it.id)]],
        )
    };
    let ret = s.query_raw(&db.sql(sql), &[Value::Int(it.id)]).unwrap();
    assert_eq!(ret, returned);
    assert_eq!(s.remembered_rows(), 0, "the raw write made the session forget");
    it.name = "a".into(); // back to the value loaded: a change against what the database holds
    s.update(&it).unwrap();
    s.commit().unwrap();
    assert_eq!(item_names(&engine), vec![(it.id, "a".to_string(), 1)]);
    assert_eq!(*seen.lock().unwrap(), vec![("z".to_string(), "a".to_string())]);
});

/// An engine whose `AfterUpdate` listener adds 100 to the row's qty with raw SQL, through
/// `ctx.execute` or `ctx.query` (an UPDATE ... RETURNING; on MariaDB, which has none, the
/// UPDATE alone), and records the old qty it saw.
fn bumping_engine(db: &Db, via_query: bool, seen: &Arc<Mutex<Vec<i64>>>) -> Engine {
    let out = seen.clone();
    let execute = db.sql("UPDATE item SET qty = qty + 100 WHERE id = ?");
    let query = if db.is_mariadb() {
        execute.clone()
    } else {
        db.sql("UPDATE item SET qty = qty + 100 WHERE id = ? RETURNING qty")
    };
    let engine = Engine::builder(&db.url)
        .listen::<Item>(AfterUpdate, move |ctx, c| {
            out.lock().unwrap().push(c.old().unwrap().qty);
            let id = [Value::Int(c.new().unwrap().id)];
            if via_query {
                ctx.query(&query, &id)?;
            } else {
                ctx.execute(&execute, &id)?;
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    engine
}

/// Insert qty 1, update it twice (the listener adds 100 after each); the old qty each
/// `AfterUpdate` saw.
fn old_qty_seen_by_updates(db: &Db, via_query: bool) -> Vec<i64> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let engine = bumping_engine(db, via_query, &seen);
    let mut s = engine.session().unwrap();
    let mut it = s.insert(item("a", 1)).unwrap();
    it.name = "b".into();
    s.update(&it).unwrap();
    s.flush().unwrap();
    it.name = "c".into();
    s.update(&it).unwrap();
    s.commit().unwrap();
    let seen = seen.lock().unwrap().clone();
    seen
}

// 4. A listener's raw SQL changes the row being written (qty 1 -> 101): the next update's
// old values are what the database holds, not what the session wrote.
on_each_db!(listener_raw_write_to_its_own_row_keeps_old_values_true, |db: Db| {
    assert_eq!(old_qty_seen_by_updates(&db, false), vec![1, 101]);
});

// 3/4. A write through the listener's `ctx.query` (UPDATE ... RETURNING), like one through
// `Session::query_raw`, must make the session forget the rows it remembered.
on_each_db!(listener_query_write_to_its_own_row_keeps_old_values_true, |db: Db| {
    assert_eq!(old_qty_seen_by_updates(&db, true), vec![1, 101]);
});

// 5. `update_where` writes each row as it is when its turn comes.
on_each_db!(update_where_keeps_a_listeners_change_to_a_later_row, |db: Db| {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    let engine = Engine::builder(&db.url)
        .listen::<Item>(BeforeUpdate, |ctx, c| {
            if c.old().unwrap().id == 1 {
                ctx.execute("UPDATE item SET qty = 99 WHERE id = 2", &[])?;
            }
            Ok(())
        })
        .listen::<Item>(AfterUpdate, move |_ctx, c| {
            out.lock()
                .unwrap()
                .push((c.old().cloned().unwrap(), c.new().cloned().unwrap()));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(item("a", 1)).unwrap();
    s.insert(item("b", 2)).unwrap();
    s.commit().unwrap();
    let n = s
        .update_where::<Item>(col("id").ge(1), &[("name", Value::from("z"))])
        .unwrap();
    assert_eq!(n, 2);
    s.commit().unwrap();
    assert_eq!(
        item_names(&engine),
        vec![(1, "z".to_string(), 1), (2, "z".to_string(), 99)]
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].0.qty, 99, "row 2's old values are as the listener left them");
    assert_eq!((seen[1].1.name.as_str(), seen[1].1.qty), ("z", 99));
});

// 7. Self-referencing rows are ordered across another table's insert staged between them.
on_each_db!(self_references_ordered_across_other_tables, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Node>()
        .model::<Other>()
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    if db.is_mariadb() {
        // MariaDB enforces foreign keys where the connection's `foreign_key_checks` says so.
        assert_eq!(rows(&mut s, "SELECT @@foreign_key_checks"), vec![vec![Value::Int(1)]]);
    } else if !db.is_postgres() {
        // SQLite enforces foreign keys only where the connection says so (PostgreSQL
        // always does); the next statement checks the enforcement itself on all.
        assert_eq!(rows(&mut s, "PRAGMA foreign_keys"), vec![vec![Value::Int(1)]]);
    }
    // The foreign key is enforced: a missing parent is refused.
    s.add(Node {
        id: 50,
        parent_id: Some(999),
    });
    let err = s.commit().expect_err("a missing parent");
    assert_eq!(err.db_kind(), Some(DbErrorKind::ForeignKeyViolation), "{err}");
    s.rollback().unwrap();

    s.add(Node {
        id: 2,
        parent_id: Some(1),
    });
    s.add(Other { id: 0, x: 1 });
    s.add(Node { id: 1, parent_id: None });
    s.commit().expect("the parent is inserted before its child");
    assert_eq!(count::<Node>(&engine), 2);
    assert_eq!(count::<Other>(&engine), 1);

    // And deleted after it, across another table's delete.
    let mut s = engine.session().unwrap();
    s.delete(&Node { id: 1, parent_id: None }).unwrap();
    s.delete(&Other { id: 1, x: 1 }).unwrap();
    s.delete(&Node {
        id: 2,
        parent_id: Some(1),
    })
    .unwrap();
    s.commit().expect("the child is deleted before its parent");
    assert_eq!(count::<Node>(&engine), 0);
    assert_eq!(count::<Other>(&engine), 0);
});

// 8. A model whose only column is a generated key.
on_each_db!(model_with_only_a_generated_key, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Token>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let first = s.insert(Token { id: 0 }).unwrap();
    let a = s.add(Token { id: 0 });
    let b = s.add(Token { id: 0 });
    s.commit().unwrap();
    let mut ids = vec![first.id, a.get().unwrap().id, b.get().unwrap().id];
    assert!(ids.iter().all(|&id| id > 0), "{ids:?}");
    ids.dedup();
    assert_eq!(ids.len(), 3, "distinct keys: {ids:?}");
    let mut s = engine.session().unwrap();
    let mut read: Vec<i64> = s.query::<Token>().all().unwrap().into_iter().map(|t| t.id).collect();
    read.sort_unstable();
    assert_eq!(read, ids);
});

// 9. A panic in a listener, caught by the caller, cannot let a later commit commit half a flush.
on_each_db!(panic_in_a_flush_cannot_commit_half_of_it, |db: Db| {
    let armed = Arc::new(AtomicBool::new(true));
    let bomb = armed.clone();
    let engine = Engine::builder(&db.url)
        .model::<Note>()
        .listen::<Item>(AfterInsert, move |_ctx, c| {
            if bomb.load(Ordering::SeqCst) && c.new().unwrap().name == "boom" {
                panic!("listener bug (expected by the test)");
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let note = s.add(Note {
        id: 0,
        text: "part 1".into(),
    });
    s.add(item("boom", 1));
    s.add(item("never", 1));
    let r = catch_unwind(AssertUnwindSafe(|| s.flush()));
    assert!(r.is_err(), "the listener panicked");

    let err = s.commit().expect_err("the commit after an interrupted flush");
    assert!(
        matches!(err, Error::Interrupted),
        "expected Error::Interrupted, got {err:?}"
    );
    assert!(s.has_pending(), "the staged writes are pending again");
    assert!(note.get().is_none(), "the note's insert was rolled back");
    assert_eq!(count::<Note>(&engine), 0);
    assert_eq!(count::<Item>(&engine), 0);

    armed.store(false, Ordering::SeqCst);
    s.commit().expect("the retried writes commit");
    assert!(!s.has_pending());
    assert!(note.get().is_some());
    drop(s);
    let mut s = engine.session().unwrap();
    let notes: Vec<String> = s.query::<Note>().all().unwrap().into_iter().map(|n| n.text).collect();
    assert_eq!(notes, vec!["part 1"]);
    drop(s);
    let mut names: Vec<String> = item_names(&engine).into_iter().map(|i| i.1).collect();
    names.sort();
    assert_eq!(names, vec!["boom", "never"], "every row written exactly once");
});

// 9. The same for a bulk statement interrupted by a panic.
on_each_db!(panic_in_a_bulk_statement_cannot_commit_half_of_it, |db: Db| {
    let armed = Arc::new(AtomicBool::new(false));
    let bomb = armed.clone();
    let engine = Engine::builder(&db.url)
        .listen::<Item>(BeforeUpdate, move |_ctx, c| {
            if bomb.load(Ordering::SeqCst) && c.old().unwrap().id == 2 {
                panic!("listener bug (expected by the test)");
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for name in ["a", "b", "c"] {
        s.add(item(name, 1));
    }
    s.commit().unwrap();
    armed.store(true, Ordering::SeqCst);
    let r = catch_unwind(AssertUnwindSafe(|| {
        s.update_where::<Item>(col("qty").eq(1), &[("name", Value::from("z"))])
    }));
    assert!(r.is_err(), "the listener panicked");
    let err = s.commit().expect_err("the commit after an interrupted bulk statement");
    assert!(
        matches!(err, Error::Interrupted),
        "expected Error::Interrupted, got {err:?}"
    );
    assert_eq!(
        item_names(&engine).into_iter().map(|i| i.1).collect::<Vec<_>>(),
        vec!["a", "b", "c"],
        "row 1's update was rolled back"
    );
    armed.store(false, Ordering::SeqCst);
    assert_eq!(
        s.update_where::<Item>(col("qty").eq(1), &[("name", Value::from("z"))])
            .unwrap(),
        3
    );
    s.commit().unwrap();
    assert_eq!(
        item_names(&engine).into_iter().map(|i| i.1).collect::<Vec<_>>(),
        vec!["z", "z", "z"]
    );
});

// 10. The number of bound parameters must match the placeholders.
on_each_db!(parameter_count_mismatch_is_an_error, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    // The parameters are cast: PostgreSQL types an untyped `SELECT $1` as text (MariaDB's
    // 64-bit integer in a CAST is SIGNED).
    let two = cast_two(&db);
    for (sql, params) in [
        (two.clone(), vec![Value::Int(1)]),
        (
            db.sql(&format!("SELECT CAST(? AS {})", bigint(&db))),
            vec![Value::Int(1), Value::Int(2)],
        ),
        ("SELECT 1".to_string(), vec![Value::Int(1)]),
    ] {
        let err = s.query_raw(&sql, &params).expect_err(&sql);
        assert!(matches!(err, Error::Statement { .. }), "{sql}: {err:?}");
    }
    assert_eq!(
        s.query_raw(&two, &[Value::Int(1), Value::Int(2)]).unwrap(),
        vec![vec![Value::Int(1), Value::Int(2)]]
    );
    let insert = db.sql("INSERT INTO item (name, qty) VALUES (?, ?)");
    for params in [
        vec![Value::from("x")],
        vec![Value::from("x"), Value::Int(1), Value::Int(2)],
    ] {
        let sql = insert.as_str();
        let err = s.execute(sql, &params).expect_err(sql);
        assert!(matches!(err, Error::Statement { .. }), "{sql}: {err:?}");
    }
    s.commit().unwrap();
    assert_eq!(
        count::<Item>(&engine),
        0,
        "no row with a NULL where a parameter was missing"
    );
});

/// The name of a 64-bit integer type in a `CAST` (MariaDB's is `SIGNED`).
fn bigint(db: &Db) -> &'static str {
    if db.is_mariadb() {
        "SIGNED"
    } else {
        "BIGINT"
    }
}

/// A query of two integer parameters.
fn cast_two(db: &Db) -> String {
    let t = bigint(db);
    db.sql(&format!("SELECT CAST(? AS {t}), CAST(? AS {t})"))
}

on_each_db!(listener_parameter_count_mismatch_is_an_error, |db: Db| {
    let via_query = Arc::new(AtomicBool::new(false));
    let q = via_query.clone();
    let (query, execute) = (cast_two(&db), db.sql("INSERT INTO note (text) VALUES (?)"));
    let engine = Engine::builder(&db.url)
        .model::<Note>()
        .listen::<Item>(AfterInsert, move |ctx, _c| {
            if q.load(Ordering::SeqCst) {
                ctx.query(&query, &[Value::Int(1)])?;
            } else {
                ctx.execute(&execute, &[])?;
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    for query in [false, true] {
        via_query.store(query, Ordering::SeqCst);
        let mut s = engine.session().unwrap();
        let err = s.insert(item("a", 1)).expect_err("a missing parameter");
        assert_listener_statement(&err, if query { "ctx.query" } else { "ctx.execute" });
        drop(s);
        assert_eq!(count::<Item>(&engine), 0);
        assert_eq!(count::<Note>(&engine), 0);
    }
});

// 11. `delete_where` skips a matched row that a listener of an earlier row removed.
/// `delete_where` of rows 1, 2, 3, where `event`'s listener of row 1 deletes row 2 with raw
/// SQL; `deleted` rows are counted and fire `AfterDelete`, in this order.
fn delete_where_skips_vanished(url: &str, event: RowEvent, deleted_rows: &[i64]) {
    let deleted = Arc::new(Mutex::new(Vec::new()));
    let out = deleted.clone();
    let engine = Engine::builder(url)
        .listen::<Item>(event, |ctx, c| {
            if c.old().unwrap().id == 1 {
                ctx.execute("DELETE FROM item WHERE id = 2", &[])?;
            }
            Ok(())
        })
        .listen::<Item>(AfterDelete, move |_ctx, c| {
            out.lock().unwrap().push(c.old().unwrap().id);
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for name in ["a", "b", "c"] {
        s.add(item(name, 1));
    }
    s.commit().unwrap();
    let n = s
        .delete_where::<Item>(col("qty").eq(1))
        .expect("no NotFound for the vanished row");
    assert_eq!(
        n,
        deleted_rows.len() as u64,
        "{event:?}: the count excludes the row a listener removed"
    );
    s.commit().unwrap();
    assert_eq!(*deleted.lock().unwrap(), deleted_rows);
    assert_eq!(count::<Item>(&engine), 0);
}

on_each_db!(delete_where_skips_a_row_deleted_by_before_delete, |db: Db| {
    delete_where_skips_vanished(&db.url, BeforeDelete, &[1, 3]);
});

on_each_db!(delete_where_skips_a_row_deleted_by_after_delete, |db: Db| {
    if db.is_server() {
        // Where writes are batched (PostgreSQL, MariaDB), a run of one model's deletes fires every
        // row's `BeforeDelete`, then one statement, then every row's `AfterDelete`
        // (semantics §4, as `flush.rs` asserts): row 2's turn, the statement, comes before
        // row 1's `AfterDelete` listener, which then finds nothing to delete. Nothing
        // vanished before its turn, so all three are counted and fire their events.
        delete_where_skips_vanished(&db.url, AfterDelete, &[1, 2, 3]);
    } else {
        delete_where_skips_vanished(&db.url, AfterDelete, &[1, 3]);
    }
});

on_each_db!(update_where_skips_a_row_deleted_by_a_listener, |db: Db| {
    let engine = Engine::builder(&db.url)
        .listen::<Item>(BeforeUpdate, |ctx, c| {
            if c.old().unwrap().id == 1 {
                ctx.execute("DELETE FROM item WHERE id = 2", &[])?;
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for name in ["a", "b", "c"] {
        s.add(item(name, 1));
    }
    s.commit().unwrap();
    let n = s
        .update_where::<Item>(col("qty").eq(1), &[("name", Value::from("z"))])
        .unwrap();
    assert_eq!(n, 2);
    s.commit().unwrap();
    assert_eq!(
        item_names(&engine),
        vec![(1, "z".to_string(), 1), (3, "z".to_string(), 1)]
    );
});

// 11. An unknown column in a bulk filter is refused and leaves the transaction alone: not
// rolled back (and replayed), so raw writes, flushed rows and their `Pending` all stay.
on_each_db!(unknown_bulk_column_keeps_the_transaction, |db: Db| {
    let rollbacks = Arc::new(AtomicUsize::new(0));
    let counter = rollbacks.clone();
    let engine = Engine::builder(&db.url)
        .model::<Item>()
        .on_transaction(AfterRollback, move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let flushed = s.add(item("flushed", 1));
    s.flush().unwrap(); // written, not committed
    s.execute("INSERT INTO item (name, qty) VALUES ('raw', 2)", &[])
        .unwrap();

    let unknown = |err: &Error| matches!(err, Error::UnknownColumn { column, .. } if column == "nmae");
    let err = s.delete_where::<Item>(col("nmae").eq("a")).unwrap_err();
    assert!(unknown(&err), "{err:?}");
    let err = s
        .update_where::<Item>(col("nmae").eq("a"), &[("name", Value::from("x"))])
        .unwrap_err();
    assert!(unknown(&err), "{err:?}");
    let err = s
        .update_where::<Item>(col("name").eq("a"), &[("nmae", Value::from("x"))])
        .unwrap_err();
    assert!(unknown(&err), "{err:?}");
    assert_eq!(rollbacks.load(Ordering::SeqCst), 0, "no rollback");
    assert!(!s.has_pending(), "nothing was restored for a retry");
    assert!(flushed.get().is_some(), "the flushed insert stands");

    // A write staged but not yet flushed stays staged.
    s.add(item("staged", 3));
    let err = s.delete_where::<Item>(col("nmae").eq("a")).unwrap_err();
    assert!(unknown(&err), "{err:?}");
    assert!(s.has_pending());
    s.commit().unwrap();
    assert_eq!(rollbacks.load(Ordering::SeqCst), 0);
    let mut names: Vec<String> = item_names(&engine).into_iter().map(|i| i.1).collect();
    names.sort();
    assert_eq!(names, vec!["flushed", "raw", "staged"]);
});

// 12. `Pending::get` forgets a flushed insert whose transaction rolled back.
on_each_db!(pending_is_none_after_rollback_and_drop, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().build().unwrap();
    engine.create_all().unwrap();

    let mut s = engine.session().unwrap();
    let p = s.add(item("rolled back", 1));
    s.flush().unwrap();
    assert!(p.get().is_some());
    s.rollback().unwrap();
    assert_eq!(p.get(), None, "after an explicit rollback");

    let p = s.add(item("dropped", 1));
    s.flush().unwrap();
    assert!(p.get().is_some());
    drop(s);
    assert_eq!(p.get(), None, "after the session was dropped");

    let mut s = engine.session().unwrap();
    let p = s.add(item("kept", 1));
    s.commit().unwrap();
    drop(s);
    assert_eq!(
        p.get().map(|i| i.name),
        Some("kept".to_string()),
        "a committed insert stays"
    );
    assert_eq!(count::<Item>(&engine), 1);
});

// 13. Comparing with NULL means IS NULL / IS NOT NULL.
on_each_db!(eq_and_ne_null_mean_is_null, |db: Db| {
    let engine = Engine::builder(&db.url).model::<User>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for (name, email) in [("a", None), ("b", Some("b@example.com")), ("c", None)] {
        s.add(User {
            email: email.map(str::to_string),
            ..User::new(name)
        });
    }
    s.commit().unwrap();
    let names = |users: Vec<User>| {
        let mut n: Vec<String> = users.into_iter().map(|u| u.name).collect();
        n.sort();
        n
    };
    let null = s.query::<User>().filter(col("email").eq(Value::Null)).all().unwrap();
    assert_eq!(names(null), vec!["a", "c"]);
    let not_null = s.query::<User>().filter(col("email").ne(Value::Null)).all().unwrap();
    assert_eq!(names(not_null), vec!["b"]);
    assert_eq!(
        s.query::<User>()
            .filter(col("email").eq(None::<String>))
            .count()
            .unwrap(),
        2
    );
    assert_eq!(
        s.query::<User>()
            .filter(col("email").ne(None::<String>))
            .count()
            .unwrap(),
        1
    );
    assert_eq!(
        s.update_where::<User>(
            col("email").eq(Value::Null),
            &[("email", Value::from("set@example.com"))]
        )
        .unwrap(),
        2
    );
    assert_eq!(
        s.query::<User>().filter(col("email").eq(Value::Null)).count().unwrap(),
        0
    );
    assert_eq!(s.delete_where::<User>(col("email").ne(Value::Null)).unwrap(), 3);
    s.commit().unwrap();
    assert_eq!(count::<User>(&engine), 0);
});

// 14. `db_kind` sees through a listener's error.
on_each_db!(db_kind_through_a_listener_error, |db: Db| {
    // The flush listener is armed by a flag. (It used to probe for a table with a query
    // that failed until the table existed, swallowing the error: a failed statement now
    // ends the transaction on every backend, see
    // `a_statement_error_a_listener_swallows_fails_the_commit`.)
    let armed = Arc::new(AtomicBool::new(false));
    let flush_armed = armed.clone();
    let insert = db.sql("INSERT INTO member (handle) VALUES (?)");
    let flush_insert = insert.clone();
    let engine = Engine::builder(&db.url)
        .model::<Member>()
        .listen::<Item>(AfterInsert, move |ctx, c| {
            if c.new().unwrap().name == "veto" {
                return Err("not a database error".into());
            }
            ctx.execute(&insert, &[Value::from("dup")])?;
            Ok(())
        })
        .on_flush(BeforeFlush, move |ctx| {
            if flush_armed.load(Ordering::SeqCst) {
                ctx.execute(&flush_insert, &[Value::from("dup")])?;
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(Member {
        id: 0,
        handle: "dup".into(),
    })
    .unwrap();
    s.commit().unwrap();

    let err = s
        .insert(item("a", 1))
        .expect_err("the listener's insert violates UNIQUE");
    assert!(matches!(err, Error::Listener { .. }), "{err:?}");
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err}");
    assert!(err.db_error().is_some());
    s.rollback().unwrap(); // discard the failed insert, pending again

    let err = s.insert(item("veto", 1)).expect_err("a veto");
    assert_eq!(err.db_kind(), None, "a listener's own error is no database error");
    s.rollback().unwrap();

    // A session listener too.
    armed.store(true, Ordering::SeqCst);
    let err = s
        .insert(item("veto", 1))
        .expect_err("the flush listener's insert violates UNIQUE");
    assert!(matches!(err, Error::SessionListener { .. }), "{err:?}");
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err}");
    drop(s);
    assert_eq!(count::<Member>(&engine), 1);
    assert_eq!(count::<Item>(&engine), 0);
});

on_each_db!(
    a_before_update_listener_that_runs_raw_sql_and_cancels_its_row_leaves_no_stale_old_values,
    |db: Db| {
        // The listener changes the row with raw SQL, then makes the update a no-op. The
        // session must not remember the values it read before the raw SQL ran: the next
        // update's old values are what the database holds.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = seen.clone();
        let raw = db.sql("UPDATE users SET email = 'raw' WHERE id = ?");
        let engine = Engine::builder(&db.url)
            .listen::<User>(BeforeUpdate, move |ctx, c| {
                let (id, old_name) = match c.old() {
                    Some(o) => (o.id, o.name.clone()),
                    None => return Ok(()),
                };
                if c.new().is_some_and(|n| n.name == "cancel") {
                    ctx.execute(&raw, &[Value::Int(id)])?;
                    if let Some(n) = c.new_mut() {
                        n.name = old_name;
                    }
                }
                Ok(())
            })
            .listen::<User>(AfterUpdate, move |_ctx, c| {
                out.lock().unwrap().push(c.old().and_then(|o| o.email.clone()));
                Ok(())
            })
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let jane = s.insert(user("jane")).unwrap();
        s.commit().unwrap();
        let mut j = s.get::<User>(jane.id).unwrap().unwrap();
        j.name = "cancel".into();
        s.update(&j).unwrap();
        s.flush().unwrap();
        assert!(seen.lock().unwrap().is_empty(), "the cancelled update fired nothing");
        j.name = "joan".into();
        s.update(&j).unwrap();
        s.commit().unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![Some("raw".to_string())]);
    }
);

// 15. A statement error that a listener swallows still ends the transaction (semantics §4):
// nothing more runs in it, `commit()` fails and fires `AfterRollback` (not `AfterCommit`),
// the queued after-commit callbacks are dropped, nothing of the transaction remains, and
// its staged writes are pending again.
on_each_db!(a_statement_error_a_listener_swallows_fails_the_commit, |db: Db| {
    // What the listener runs, whether through `ctx.query`, and whether it stages a write
    // after the failure.
    let case = Arc::new(Mutex::new((String::new(), false, false)));
    let failed = Arc::new(AtomicBool::new(false));
    let tx = TxCounts::default();
    let (c, f) = (case.clone(), failed.clone());
    let engine = tx
        .attach(Engine::builder(&db.url))
        .model::<Note>()
        .model::<Member>()
        .listen::<Item>(AfterInsert, move |ctx, _c| {
            let (sql, via_query, stage) = c.lock().unwrap().clone();
            let r = if via_query {
                ctx.query(&sql, &[]).map(drop)
            } else {
                ctx.execute(&sql, &[]).map(drop)
            };
            f.store(r.is_err(), Ordering::SeqCst);
            if stage {
                ctx.add(Note {
                    id: 0,
                    text: "after the failure".into(),
                });
            }
            Ok(()) // the error is swallowed
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(Member {
        id: 0,
        handle: "dup".into(),
    })
    .unwrap();
    s.commit().unwrap();
    drop(s);

    for sql in [
        "SELECT x FROM missing_table",
        "INSERT INTO member (handle) VALUES ('dup')",
    ] {
        for via_query in [false, true] {
            for stage in [false, true] {
                let what = format!(
                    "{} {sql:?}{}",
                    if via_query { "ctx.query" } else { "ctx.execute" },
                    if stage { ", then a staged write" } else { "" }
                );
                *case.lock().unwrap() = (sql.to_string(), via_query, stage);
                tx.reset();
                let mut s = engine.session().unwrap();
                s.add(Note {
                    id: 0,
                    text: "earlier".into(),
                });
                s.add(item("a", 1));
                let ran = after_commit_flag(&mut s);
                let err = match s.commit() {
                    Ok(()) => panic!("{what}: the commit succeeded though a statement of its transaction failed"),
                    Err(e) => e,
                };
                assert!(failed.load(Ordering::SeqCst), "{what}: the statement failed");
                assert_eq!(
                    err.db_kind(),
                    Some(DbErrorKind::TransactionAborted),
                    "{what}: the statement after the failure is refused: {err}"
                );
                tx.assert_rolled_back(&what, &s, &ran);
                drop(s);
                assert_eq!(count::<Note>(&engine), 0, "{what}: nothing remains");
                assert_eq!(count::<Item>(&engine), 0, "{what}: nothing remains");
                assert_eq!(count::<Member>(&engine), 1, "{what}");
            }
        }
    }
});
