//! Engines are shared between threads; sessions move between them; concurrent
//! read-modify-write transactions neither lose updates nor report wrong old values.
mod common;
use common::*;

use std::sync::{Arc, Barrier};
use std::thread;

use trigorm::query::col;
use trigorm::{Engine, Model, Session};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

// Checked at compile time.
const _: fn() = || {
    assert_send_sync::<Engine>();
    assert_send::<Session>();
};

#[test]
fn engine_is_send_and_sync_and_session_is_send() {
    assert_send_sync::<Engine>();
    assert_send::<Session>();
    // And a session really can be used on another thread than the one that opened it.
    let engine = Engine::builder("sqlite::memory:").model::<User>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(User::new("made here")).unwrap();
    let n = thread::spawn(move || {
        s.commit().unwrap();
        s.query::<User>().count().unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(n, 1);
    assert_eq!(count::<User>(&engine), 1);
}

/// A row every transaction increments: a lost update shows as a smaller total.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "counter")]
struct Counter {
    id: i64,
    n: i64,
}

const THREADS: usize = 4;
const UPDATES: usize = 500;

on_each_db!(concurrent_read_modify_write_transactions, |db: Db| {
    let engine = audited(&db.url).model::<Counter>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let ids: Vec<i64> = (0..THREADS)
        .map(|k| s.insert(User::new(&format!("t{k}-init"))).unwrap().id)
        .collect();
    let counter = s.insert(Counter { id: 0, n: 0 }).unwrap().id;
    s.commit().unwrap();
    drop(s);

    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(k, &id)| {
            let engine = engine.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for i in 0..UPDATES {
                    let mut s = engine.session().unwrap();
                    let mut u = s.get::<User>(id).unwrap().expect("the thread's user");
                    u.name = format!("t{k}-{i}");
                    s.update(&u).unwrap();
                    let mut c = s.get::<Counter>(counter).unwrap().expect("the counter");
                    c.n += 1;
                    s.update(&c).unwrap();
                    s.commit().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a writer thread panicked");
    }

    let mut s = engine.session().unwrap();
    let updates = s
        .query::<Log>()
        .filter(col("change_type").eq("update"))
        .order_by(col("id").asc())
        .all()
        .unwrap();
    assert_eq!(updates.len(), THREADS * UPDATES);
    let c = s.get::<Counter>(counter).unwrap().unwrap();
    assert_eq!(c.n, (THREADS * UPDATES) as i64, "no update was lost");
    for (k, &id) in ids.iter().enumerate() {
        let u = s.get::<User>(id).unwrap().unwrap();
        assert_eq!(u.name, format!("t{k}-{}", UPDATES - 1));
        // Each of the thread's audit rows chains from the previous one: the old name is
        // the one the previous transaction wrote.
        let mine: Vec<&Log> = updates.iter().filter(|l| l.user_id == id).collect();
        assert_eq!(mine.len(), UPDATES);
        for (i, l) in mine.iter().enumerate() {
            let old = if i == 0 {
                format!("t{k}-init")
            } else {
                format!("t{k}-{}", i - 1)
            };
            assert_eq!(l.old_name.as_deref(), Some(old.as_str()));
            assert_eq!(l.new_name.as_deref(), Some(format!("t{k}-{i}").as_str()));
        }
    }
});

#[test]
fn sessions_on_several_threads_share_one_in_memory_database() {
    let engine = audited("sqlite::memory:").build().unwrap();
    engine.create_all().unwrap();

    // The main thread keeps its session (and so its connection) while the others work,
    // so each thread's session runs on a connection of its own.
    let mut main = engine.session().unwrap();
    main.insert(User::new("main")).unwrap();
    main.commit().unwrap();

    let handles: Vec<_> = (0..3)
        .map(|k| {
            let engine = engine.clone();
            thread::spawn(move || {
                let mut s = engine.session().unwrap();
                // The main thread's committed row is visible here.
                let seen = s.query::<User>().filter(col("name").eq("main")).count().unwrap();
                s.insert(User::new(&format!("thread {k}"))).unwrap();
                s.commit().unwrap();
                seen
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 1);
    }

    let mut names: Vec<String> = main
        .query::<User>()
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    names.sort();
    assert_eq!(names, vec!["main", "thread 0", "thread 1", "thread 2"]);
    assert_eq!(main.query::<Log>().count().unwrap(), 4);
    main.commit().unwrap();

    // Another engine on `sqlite::memory:` has a database of its own.
    let other = audited("sqlite::memory:").build().unwrap();
    other.create_all().unwrap();
    assert_eq!(count::<User>(&other), 0);
    assert_eq!(count::<User>(&engine), 4);
}
