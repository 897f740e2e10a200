//! Engines are shared between threads; sessions move between them; concurrent
//! read-modify-write transactions neither lose updates nor report wrong old values; a
//! deadlock is a typed, retryable error; readers and writers do not block each other; and
//! nothing hangs.
//!
//! SQLite serializes writing transactions (a session takes the database's write lock); on
//! PostgreSQL and MariaDB (READ COMMITTED, rows locked at flush) two writers of one column
//! would each write their own increment, the last one winning (semantics §2): the models
//! written concurrently here have a version column, so that the loser gets a conflict and
//! retries.
mod common;
use common::*;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use trigorm::error::DbErrorKind;
use trigorm::event::AfterUpdate;
use trigorm::query::col;
use trigorm::{Engine, Error, Model, Session};

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

/// The errors a transaction was retried after, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Retries {
    /// Optimistic locking: the version column had moved on.
    conflict: usize,
    deadlock: usize,
    serialization: usize,
    /// SQLite: the database stayed locked past the busy timeout.
    busy: usize,
}

impl Retries {
    fn note(&mut self, e: &Error) {
        match (e, e.db_kind()) {
            (Error::Conflict { .. }, _) => self.conflict += 1,
            (_, Some(DbErrorKind::Deadlock)) => self.deadlock += 1,
            (_, Some(DbErrorKind::SerializationFailure)) => self.serialization += 1,
            (_, Some(DbErrorKind::Busy)) => self.busy += 1,
            _ => panic!("retried after a non-retryable error: {e}"),
        }
    }

    fn total(&self) -> usize {
        self.conflict + self.deadlock + self.serialization + self.busy
    }

    fn add(&mut self, o: Retries) {
        self.conflict += o.conflict;
        self.deadlock += o.deadlock;
        self.serialization += o.serialization;
        self.busy += o.busy;
    }
}

/// How many times a transaction may run before the test gives up on it.
const MAX_ATTEMPTS: usize = 200;

/// A short pause before a retry, spread so that contending threads do not meet again at
/// once, and longer as the attempts grow.
fn pause(attempt: usize) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let micros = 50 + u64::from(nanos % 500) * attempt.min(8) as u64;
    thread::sleep(Duration::from_micros(micros));
}

/// Run the transaction `tx` on `s` and commit it; on a retryable error (deadlock,
/// serialization failure, busy database, version conflict) roll back and run it again from
/// the start, at most `MAX_ATTEMPTS` times. Any other error fails the test.
fn until_committed(s: &mut Session, retries: &mut Retries, mut tx: impl FnMut(&mut Session) -> trigorm::Result<()>) {
    for attempt in 1..=MAX_ATTEMPTS {
        match tx(s).and_then(|()| s.commit()) {
            Ok(()) => return,
            Err(e) if e.is_retryable() => {
                retries.note(&e);
                s.rollback().expect("a rollback after a retryable error");
                pause(attempt);
            }
            Err(e) => panic!("a transaction failed with a non-retryable error: {e}"),
        }
    }
    panic!("a transaction did not commit in {MAX_ATTEMPTS} attempts ({retries:?})");
}

/// Run `f(0)` .. `f(n - 1)` on `n` threads and collect their results; fail the test when a
/// thread panics, or when they have not all finished within `deadline` (a hang).
fn run_threads<T: Send + 'static>(
    n: usize,
    deadline: Duration,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..n)
        .map(|k| {
            let (f, tx) = (f.clone(), tx.clone());
            thread::spawn(move || {
                let r = catch_unwind(AssertUnwindSafe(|| f(k)));
                let _ = tx.send((k, r));
            })
        })
        .collect();
    drop(tx);
    let end = Instant::now() + deadline;
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for _ in 0..n {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok((k, Ok(v))) => out[k] = Some(v),
            Ok((k, Err(p))) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("thread {k} failed: {msg}");
            }
            Err(_) => {
                let hung: Vec<usize> = (0..n).filter(|&k| out[k].is_none()).collect();
                panic!("threads {hung:?} did not finish within {deadline:?}: a hang");
            }
        }
    }
    for h in handles {
        h.join().expect("a finished thread");
    }
    out.into_iter().map(|v| v.expect("every thread's result")).collect()
}

/// A row every transaction increments: a lost update shows as a smaller total. Versioned:
/// on a server a writer whose copy is stale gets a conflict and retries.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "counter")]
struct Counter {
    id: i64,
    n: i64,
    #[trigorm(version)]
    version: i64,
}

const THREADS: usize = 4;
const UPDATES: usize = 500;

on_each_db!(concurrent_read_modify_write_transactions, |db: Db| {
    let engine = audited(&db.url)
        .model::<Counter>()
        .pool_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let ids: Vec<i64> = (0..THREADS)
        .map(|k| s.insert(User::new(&format!("t{k}-init"))).unwrap().id)
        .collect();
    let counter = s
        .insert(Counter {
            id: 0,
            n: 0,
            version: 0,
        })
        .unwrap()
        .id;
    s.commit().unwrap();
    drop(s);

    let start = Arc::new(Barrier::new(THREADS));
    let (e, thread_ids) = (engine.clone(), ids.clone());
    let retries = run_threads(THREADS, Duration::from_secs(25), move |k| {
        let id = thread_ids[k];
        let mut retries = Retries::default();
        start.wait();
        for i in 0..UPDATES {
            let mut s = e.session().unwrap();
            until_committed(&mut s, &mut retries, |s| {
                let mut u = s.get::<User>(id)?.expect("the thread's user");
                u.name = format!("t{k}-{i}");
                s.update(&u)?;
                let mut c = s.get::<Counter>(counter)?.expect("the counter");
                c.n += 1;
                s.update(&c)
            });
        }
        retries
    });
    let mut total = Retries::default();
    retries.into_iter().for_each(|r| total.add(r));
    eprintln!("{} transactions committed after {total:?}", THREADS * UPDATES);

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
    assert_eq!(c.version, c.n, "every update moved the version one up");
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

// What the lost updates above come down to, in two sessions: a copy of a versioned row made
// before another session's update is stale, and writing it is a conflict, also when the row
// already holds the values the copy would write (both sessions added one to the same count).
on_each_db!(
    a_stale_versioned_copy_is_a_conflict_even_when_the_row_has_its_values,
    |db: Db| {
        let engine = Engine::builder(&db.url).model::<Counter>().build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let id = s
            .insert(Counter {
                id: 0,
                n: 0,
                version: 0,
            })
            .unwrap()
            .id;
        s.commit().unwrap();
        drop(s);

        // Read on a server (PostgreSQL, MariaDB) in the transaction that writes it (a read
        // locks nothing there); on every backend in an earlier transaction of the session.
        let same_transaction = if db.is_server() { vec![true, false] } else { vec![false] };
        for same in same_transaction {
            for step in [1, 2] {
                let what = format!(
                    "a copy read {}, n + {step}",
                    if same {
                        "in the transaction"
                    } else {
                        "in an earlier transaction"
                    }
                );
                let mut a = engine.session().unwrap();
                let mut mine = a.get::<Counter>(id).unwrap().unwrap();
                if !same {
                    a.commit().unwrap();
                }
                let mut b = engine.session().unwrap();
                let mut theirs = b.get::<Counter>(id).unwrap().unwrap();
                theirs.n += 1;
                b.update(&theirs).unwrap();
                b.commit().unwrap();
                drop(b);

                mine.n += step;
                a.update(&mine).unwrap();
                let err = match a.commit() {
                    Ok(()) => panic!("{what}: committed over another session's update"),
                    Err(e) => e,
                };
                assert!(matches!(err, Error::Conflict { .. }), "{what}: {err:?}");
                assert!(err.is_retryable(), "{what}");
                a.rollback().unwrap();
                let now = a.get::<Counter>(id).unwrap().unwrap();
                assert_eq!(
                    (now.n, now.version),
                    (theirs.n, theirs.version + 1),
                    "{what}: nothing written over the other session's update"
                );
                // The retry, from a fresh read, commits.
                let mut again = now.clone();
                again.n += step;
                a.update(&again).unwrap();
                a.commit().unwrap();
                let done = a.get::<Counter>(id).unwrap().unwrap();
                assert_eq!((done.n, done.version), (now.n + step, now.version + 1), "{what}");
                a.commit().unwrap();
            }
        }
    }
);

/// A row many sessions change at once; versioned.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "account")]
struct Account {
    id: i64,
    balance: i64,
    #[trigorm(version)]
    version: i64,
}

/// Written by a listener for every change of an account.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "account_log")]
struct AccountLog {
    id: i64,
    account_id: i64,
    old_balance: i64,
    new_balance: i64,
}

/// `db`'s URL; on PostgreSQL with the server looking for deadlocks after 20 ms instead of
/// its default second (`deadlock_timeout`, set for the connection through the URL's
/// `options`): with sixteen sessions on four rows, each deadlock would otherwise hold every
/// session queued behind it for a second, and the test would take minutes.
fn quick_deadlocks(db: &Db) -> String {
    const OPTIONS: &str = "options=-csearch_path%3D";
    assert!(!db.is_postgres() || db.url.contains(OPTIONS), "{}", db.url);
    db.url
        .replacen(OPTIONS, "options=-cdeadlock_timeout%3D20ms%20-csearch_path%3D", 1)
}

/// An engine whose `AfterUpdate` listener logs every change of an account, in its transaction.
fn accounts_engine(db: &Db, pool: usize) -> Engine {
    let engine = Engine::builder(quick_deadlocks(db))
        .model::<Account>()
        .model::<AccountLog>()
        .listen::<Account>(AfterUpdate, |ctx, c| {
            let (old, new) = (c.old().unwrap(), c.new().unwrap());
            ctx.add(AccountLog {
                id: 0,
                account_id: new.id,
                old_balance: old.balance,
                new_balance: new.balance,
            });
            Ok(())
        })
        .pool_size(pool)
        .pool_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    engine
}

const SESSIONS: usize = 16;
const ACCOUNTS: usize = 8;
const TRANSFERS: usize = 10;

// 16 sessions on 16 threads, each transaction adding one to two of eight accounts, in an
// order that differs from thread to thread (so that on a server they also deadlock), each
// change logged by a listener. Every transaction is retried until it commits (bounded); no
// thread hangs. Then: the log holds exactly one row per committed change, no increment was
// lost, and each account's log chains from one value to the next.
on_each_db!(sixteen_sessions_update_overlapping_rows, |db: Db| {
    let engine = accounts_engine(&db, SESSIONS);
    let mut s = engine.session().unwrap();
    let ids: Vec<i64> = (0..ACCOUNTS)
        .map(|_| {
            s.insert(Account {
                id: 0,
                balance: 0,
                version: 0,
            })
            .unwrap()
            .id
        })
        .collect();
    s.commit().unwrap();
    drop(s);

    let start = Arc::new(Barrier::new(SESSIONS));
    let (e, thread_ids) = (engine.clone(), ids.clone());
    let started = Instant::now();
    let results = run_threads(SESSIONS, Duration::from_secs(20), move |k| {
        let mut retries = Retries::default();
        let mut s = e.session().unwrap();
        start.wait();
        for i in 0..TRANSFERS {
            let a = (k + i) % ACCOUNTS;
            let b = (a + 1 + (k + 2 * i) % (ACCOUNTS - 1)) % ACCOUNTS;
            until_committed(&mut s, &mut retries, |s| {
                for &x in &[a, b] {
                    let mut acc = s.get::<Account>(thread_ids[x])?.expect("an account");
                    acc.balance += 1;
                    s.update(&acc)?;
                }
                Ok(())
            });
        }
        retries
    });
    let mut total = Retries::default();
    results.into_iter().for_each(|r| total.add(r));
    eprintln!(
        "{} transactions committed in {:?} after {total:?}",
        SESSIONS * TRANSFERS,
        started.elapsed()
    );

    let changes = (SESSIONS * TRANSFERS * 2) as i64;
    let mut s = engine.session().unwrap();
    let log = s.query::<AccountLog>().order_by(col("id").asc()).all().unwrap();
    assert_eq!(log.len() as i64, changes, "one log row per committed change, exactly");
    let accounts = s.query::<Account>().all().unwrap();
    assert_eq!(
        accounts.iter().map(|a| a.balance).sum::<i64>(),
        changes,
        "no update was lost"
    );
    for acc in &accounts {
        assert_eq!(acc.version, acc.balance, "every update moved the version one up");
        let mine: Vec<(i64, i64)> = log
            .iter()
            .filter(|l| l.account_id == acc.id)
            .map(|l| (l.old_balance, l.new_balance))
            .collect();
        let chain: Vec<(i64, i64)> = (0..acc.balance).map(|n| (n, n + 1)).collect();
        assert_eq!(mine, chain, "account {}: each change saw the true old value", acc.id);
    }
});

// Two sessions each write one user, then each the other's: on a server (PostgreSQL,
// MariaDB), where the rows are locked, one of them is chosen as the deadlock victim, and the caller gets a typed,
// retryable error; after a rollback its retry commits. (On SQLite the second session waits
// for the database's write lock at its first write, so there is no deadlock, only, at
// most, a busy database: retryable too.) No change or log row is lost or doubled.
on_each_db!(a_deadlock_is_a_typed_retryable_error_and_a_retry_commits, |db: Db| {
    let engine = audited(&db.url)
        .pool_size(4)
        .pool_timeout(Duration::from_secs(10))
        .busy_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let users = [s.insert(user("a")).unwrap().id, s.insert(user("b")).unwrap().id];
    s.commit().unwrap();
    drop(s);

    let rename = |s: &mut Session, id: i64, k: usize| -> trigorm::Result<()> {
        let mut u = s.get::<User>(id)?.expect("a user");
        u.name = format!("{}-by-{k}", u.name.split('-').next().unwrap_or_default());
        s.update(&u)
    };
    let barrier = Arc::new(Barrier::new(2));
    // Opened here, before either writes: SQLite opens no connection while another one holds
    // the write lock of an in-memory database.
    let sessions = Arc::new(Mutex::new(vec![
        Some(engine.session().unwrap()),
        Some(engine.session().unwrap()),
    ]));
    let results = run_threads(2, Duration::from_secs(20), move |k| {
        let order = if k == 0 { users } else { [users[1], users[0]] };
        let mut s = sessions.lock().unwrap()[k].take().expect("the thread's session");
        // In lock step: each session writes (and, where rows are locked, locks) its first
        // user, then both go for the other one.
        let first = rename(&mut s, order[0], k).and_then(|()| s.flush());
        barrier.wait();
        let r = first
            .and_then(|()| rename(&mut s, order[1], k))
            .and_then(|()| s.commit());
        let mut retries = Retries::default();
        let mut first_error = None;
        if let Err(e) = r {
            assert!(e.is_retryable(), "thread {k}: a retryable error: {e}");
            retries.note(&e);
            first_error = Some((e.db_kind(), e.to_string()));
            s.rollback().unwrap();
            until_committed(&mut s, &mut retries, |s| {
                rename(s, order[0], k)?;
                rename(s, order[1], k)
            });
        }
        (retries, first_error)
    });
    eprintln!("{results:?}");
    let mut total = Retries::default();
    results.iter().for_each(|r| total.add(r.0));
    if db.is_server() {
        // At least the one deadlock the lock step makes; the victim's retry, racing the
        // survivor's commit, may meet another (the server picks a victim per cycle). Every
        // failure was a deadlock, typed and retryable, and the retries committed.
        assert!(total.deadlock >= 1, "a deadlock victim: {total:?}");
        assert_eq!(total.total(), total.deadlock, "nothing but deadlocks: {total:?}");
        let victim = results.iter().find_map(|r| r.1.clone()).expect("a victim");
        assert_eq!(victim.0, Some(DbErrorKind::Deadlock), "{}", victim.1);
    } else {
        assert_eq!(total.total(), total.busy, "SQLite: at most a busy database");
    }

    // Both transactions committed, each change once, with its log row and its true old name.
    let mut s = engine.session().unwrap();
    let log = s.query::<Log>().order_by(col("id").asc()).all().unwrap();
    assert_eq!(log.len(), 2 + 4, "two inserts, four updates: {log:?}");
    for &id in &users {
        let u = s.get::<User>(id).unwrap().unwrap();
        let mine: Vec<&Log> = log.iter().filter(|l| l.user_id == id).collect();
        assert_eq!(mine.len(), 3);
        for w in mine.windows(2) {
            assert_eq!(w[1].old_name, w[0].new_name, "each update saw the true old name");
        }
        assert_eq!(mine[2].new_name.as_deref(), Some(u.name.as_str()));
        let mut by: Vec<&str> = mine[1..]
            .iter()
            .filter_map(|l| l.new_name.as_deref()?.split("-by-").nth(1))
            .collect();
        by.sort_unstable();
        assert_eq!(by, ["0", "1"], "both threads renamed user {id}");
    }
});

const READERS: usize = 4;
const READS: usize = 10;

/// A short busy timeout, so that a blocked reader or writer fails well within the deadline.
fn readers_engine(db: &Db) -> Engine {
    let engine = audited(&db.url)
        .pool_size(READERS + 2)
        .pool_timeout(Duration::from_secs(5))
        .busy_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    engine.create_all().unwrap();
    engine
}

// A session that only reads is not blocked by a writer: while one session holds an open
// transaction with flushed (and staged) writes, reader threads complete their sessions, and
// see only what was committed.
on_each_db!(readers_complete_beside_an_open_writer, |db: Db| {
    let engine = readers_engine(&db);
    let mut s = engine.session().unwrap();
    let jane = s.insert(user("jane")).unwrap();
    s.commit().unwrap();

    let mut writer = s;
    let mut j = writer.get::<User>(jane.id).unwrap().unwrap();
    j.name = "uncommitted".into();
    writer.update(&j).unwrap();
    writer.add(user("bob"));
    writer.flush().unwrap(); // written, with their log rows, not committed
    writer.add(user("staged"));

    if db.kind == "memory" {
        // In memory there is no WAL: SQLite's rollback-journal locks apply, and the
        // writer's lock keeps readers out (even out of opening a connection) until it
        // ends. Documented in the README; the other backends are the point of this test.
        let read = engine.session().and_then(|mut s| s.get::<User>(jane.id));
        let err = read.expect_err("a reader beside an open writer, in memory");
        assert_eq!(err.db_kind(), Some(DbErrorKind::Busy), "{err:?}");
        writer.commit().unwrap();
        return;
    }

    let e = engine.clone();
    let results = run_threads(READERS, Duration::from_secs(10), move |_| -> Result<(), String> {
        for _ in 0..READS {
            let mut s = e.session().map_err(|e| e.to_string())?;
            let u = s.get::<User>(jane.id).map_err(|e| e.to_string())?;
            if u.map(|u| u.name).as_deref() != Some("jane") {
                return Err("a reader saw an uncommitted name".into());
            }
            let users = s.query::<User>().count().map_err(|e| e.to_string())?;
            let logs = s.query::<Log>().count().map_err(|e| e.to_string())?;
            if (users, logs) != (1, 1) {
                return Err(format!("a reader saw uncommitted rows: {users} users, {logs} logs"));
            }
            s.commit().map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    for r in results {
        r.unwrap_or_else(|e| panic!("a reader was held up by the open writer: {e}"));
    }
    writer.commit().unwrap();
    drop(writer);
    let mut s = engine.session().unwrap();
    assert_eq!(s.get::<User>(jane.id).unwrap().unwrap().name, "uncommitted");
    assert_eq!(s.query::<User>().count().unwrap(), 3);
    assert_eq!(s.query::<Log>().count().unwrap(), 4);
});

// The other way round: sessions that have read, and whose transactions are still open, do
// not keep a writer from committing.
on_each_db!(a_writer_commits_beside_open_readers, |db: Db| {
    let engine = readers_engine(&db);
    let mut s = engine.session().unwrap();
    let jane = s.insert(user("jane")).unwrap();
    s.commit().unwrap();
    drop(s);

    let mut readers: Vec<Session> = (0..READERS)
        .map(|i| {
            let mut r = engine
                .session()
                .unwrap_or_else(|e| panic!("reader {i} was held up by the open readers before it: {e}"));
            let u = r
                .get::<User>(jane.id)
                .unwrap_or_else(|e| panic!("reader {i} was held up by the open readers before it: {e}"));
            assert_eq!(u.unwrap().name, "jane");
            r
        })
        .collect();
    let e = engine.clone();
    let wrote = Arc::new(AtomicBool::new(false));
    let w = wrote.clone();
    let results = run_threads(1, Duration::from_secs(10), move |_| -> Result<(), String> {
        let mut s = e.session().map_err(|e| e.to_string())?;
        let mut j = s
            .get::<User>(jane.id)
            .map_err(|e| e.to_string())?
            .ok_or("jane is gone")?;
        j.name = "joan".into();
        s.update(&j).map_err(|e| e.to_string())?;
        s.add(user("bob"));
        s.commit().map_err(|e| e.to_string())?;
        w.store(true, Ordering::SeqCst);
        Ok(())
    });
    if db.kind == "memory" {
        // In memory (no WAL) the readers' shared locks keep the writer from committing
        // until they end: the writer's session fails as busy, and wrote nothing.
        for r in results {
            let e = r.expect_err("a writer beside open readers, in memory");
            assert!(e.contains("Busy"), "{e}");
        }
        drop(readers);
        assert_eq!(count::<User>(&engine), 1);
        assert_eq!(count::<Log>(&engine), 1);
        return;
    }
    for r in results {
        r.unwrap_or_else(|e| panic!("the writer was held up by the open readers: {e}"));
    }
    assert!(wrote.load(Ordering::SeqCst));
    for r in &mut readers {
        r.commit().unwrap();
        assert_eq!(r.get::<User>(jane.id).unwrap().unwrap().name, "joan");
        r.commit().unwrap();
    }
    drop(readers);
    assert_eq!(count::<User>(&engine), 2);
    assert_eq!(count::<Log>(&engine), 3);
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
