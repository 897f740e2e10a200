//! The `floor` variant on MariaDB/MySQL: the workload hand-written on the bare `mysql`
//! crate (sync), one statement per row.
//!
//! Fairness rules, as `floor_postgres.rs` keeps them on PostgreSQL: the connection is
//! opened on the URL trigorm's engine opens (the run's database in its path, `mariadb://`
//! read as `mysql://`, the crate's options as the URL gives them) with the session
//! settings of trigorm's driver (`utf8mb4`, strict `sql_mode`, `time_zone = '+00:00'`,
//! READ COMMITTED, found rows: `my::connect`); the tables are the run's, created by the parent
//! before the child starts, untimed, for this variant exactly as for the listeners; each
//! batch is one transaction, `START TRANSACTION` ... `COMMIT`; the range load is the text
//! trigorm's query of a batch renders in the MySQL style (quoted names, `?` parameters),
//! the writes their per-row forms, each prepared once on the connection (binary protocol)
//! and kept for the whole run; one statement per row, each waiting for its reply (no
//! multi-row `INSERT`, no `UPDATE ... JOIN`, no `IN (...)`, no `LOAD DATA`): that is the
//! per-row floor by definition; a user's id is the statement's last-insert id, as the
//! server reports it in the statement's OK packet (no `RETURNING`, which MySQL lacks); the
//! old name written to the log is the one the batch's range load read; the log row is
//! inserted by hand with the same values, `changed_at` (like `created_at`) a fresh
//! `Utc::now()` bound as a `DATETIME(6)` value in UTC.
//!
//! trigorm does the same work in fewer statements on MariaDB/MySQL: it batches a flush
//! (multi-row statements). The test `trigorm_loads_as_the_floor_and_batches_its_writes`
//! pins that difference down while trigorm's engine opens the URL.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use chrono::Utc;
use mysql::prelude::Queryable;
use mysql::{Conn, Statement, Transaction, TxOpts, Value};

use crate::my::datetime_value;
use crate::server::redact;
use crate::workload::{user_email, user_name, Plan, Timings, UPDATE_SUFFIX};

/// The floor's statements: the range load is the query of a batch; the writes are the
/// per-row statements, in the MySQL style.
pub const INSERT_USER: &str = "INSERT INTO `users` (`name`, `email`, `created_at`) VALUES (?, ?, ?)";
pub const INSERT_LOG: &str =
    "INSERT INTO `log` (`user_id`, `change_type`, `old_name`, `new_name`, `changed_at`) VALUES (?, ?, ?, ?, ?)";
pub const SELECT_RANGE: &str = "SELECT `id`, `name`, `email`, `created_at` FROM `users` WHERE `id` > ? AND `id` <= ?";
pub const UPDATE_NAME: &str = "UPDATE `users` SET `name` = ? WHERE `id` = ?";
pub const DELETE_USER: &str = "DELETE FROM `users` WHERE `id` = ?";

/// Open a connection on `url` (the run's URL) and check that it works in `database`.
pub fn open(url: &str, database: &str) -> Result<Conn> {
    let mut c = crate::my::connect(url)?;
    let current: Option<String> = c
        .query_first("SELECT DATABASE()")
        .context("asking for the current database")?
        .flatten();
    if current.as_deref() != Some(database) {
        bail!("{} works in the database {current:?}, not in {database:?}", redact(url));
    }
    Ok(c)
}

struct Stmts {
    insert_user: Statement,
    insert_log: Statement,
    select_range: Statement,
    update_name: Statement,
    delete_user: Statement,
}

/// A fresh `DATETIME(6)` value of now, in UTC.
fn now() -> Value {
    datetime_value(Utc::now())
}

impl Stmts {
    fn prepare(c: &mut Conn) -> Result<Stmts> {
        let mut p = |q: &str| c.prep(q).with_context(|| format!("preparing {q}"));
        Ok(Stmts {
            insert_user: p(INSERT_USER)?,
            insert_log: p(INSERT_LOG)?,
            select_range: p(SELECT_RANGE)?,
            update_name: p(UPDATE_NAME)?,
            delete_user: p(DELETE_USER)?,
        })
    }

    fn log(
        &self,
        tx: &mut Transaction<'_>,
        user_id: i64,
        change: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) -> Result<()> {
        tx.exec_drop(&self.insert_log, (user_id, change, old, new, now()))?;
        Ok(())
    }

    /// Load the `(id, name)` of the users with `lo < id <= hi` into `rows[..n]`, reusing
    /// the strings; returns n.
    fn load(&self, tx: &mut Transaction<'_>, lo: i64, hi: i64, rows: &mut Vec<(i64, String)>) -> Result<usize> {
        let mut n = 0;
        for r in tx.exec_iter(&self.select_range, (lo, hi))? {
            let r = r?;
            let id = match r.as_ref(0) {
                Some(Value::Int(v)) => *v,
                Some(Value::UInt(v)) => i64::try_from(*v)?,
                other => bail!("a loaded user's id is {other:?}"),
            };
            let name = match r.as_ref(1) {
                Some(Value::Bytes(b)) => std::str::from_utf8(b).context("a loaded user's name")?,
                other => bail!("user {id}'s name is {other:?}"),
            };
            if n == rows.len() {
                rows.push((0, String::new()));
            }
            rows[n].0 = id;
            rows[n].1.clear();
            rows[n].1.push_str(name);
            n += 1;
        }
        Ok(n)
    }
}

/// Run the workload on `url`, whose database `database` holds the empty tables.
pub fn run(url: &str, database: &str, plan: Plan) -> Result<Timings> {
    let mut c = open(url, database)?;
    let st = Stmts::prepare(&mut c)?;
    let b = plan.batch as i64;
    let (mut name, mut email) = (String::new(), String::new());

    let t = Instant::now();
    for (lo, hi) in plan.batches() {
        let mut tx = c.start_transaction(TxOpts::default())?;
        for j in lo..hi {
            user_name(&mut name, j);
            user_email(&mut email, j);
            tx.exec_drop(&st.insert_user, (name.as_str(), email.as_str(), now()))?;
            let id = tx
                .last_insert_id()
                .ok_or_else(|| anyhow!("the insert of user{j} reported no id"))?;
            let id = i64::try_from(id)?;
            st.log(&mut tx, id, "insert", None, Some(&name))?;
        }
        tx.commit()?;
    }
    let insert_s = t.elapsed().as_secs_f64();

    let mut rows: Vec<(i64, String)> = Vec::new();
    let t = Instant::now();
    for (lo, _) in plan.batches() {
        let i = lo as i64;
        let mut tx = c.start_transaction(TxOpts::default())?;
        let n = st.load(&mut tx, i, i + b, &mut rows)?;
        for (id, old) in &rows[..n] {
            name.clear();
            name.push_str(old);
            name.push_str(UPDATE_SUFFIX);
            tx.exec_drop(&st.update_name, (name.as_str(), *id))?;
            if tx.affected_rows() != 1 {
                bail!("update of user {id} changed no row");
            }
            st.log(&mut tx, *id, "update", Some(old), Some(&name))?;
        }
        tx.commit()?;
    }
    let update_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for lo in plan.delete_starts() {
        let i = lo as i64;
        let mut tx = c.start_transaction(TxOpts::default())?;
        let n = st.load(&mut tx, i, i + b, &mut rows)?;
        for (id, old) in &rows[..n] {
            tx.exec_drop(&st.delete_user, (*id,))?;
            if tx.affected_rows() != 1 {
                bail!("delete of user {id} removed no row");
            }
            st.log(&mut tx, *id, "delete", Some(old), None)?;
        }
        tx.commit()?;
    }
    let delete_s = t.elapsed().as_secs_f64();

    Ok(Timings {
        insert_s,
        update_s,
        delete_s,
        peak_rss_kib: None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::listeners::audited;
    use crate::my::test_server;
    use crate::verify::{verify_mysql, Window};

    /// trigorm's range load is the floor's text, once per batch as the floor's; its writes
    /// on `users` and `log` are batched (fewer statements than the floor's one per row).
    /// Both variants end in the right state. Skipped (it says so) while trigorm refuses
    /// the URL as unsupported.
    #[test]
    fn trigorm_loads_as_the_floor_and_batches_its_writes() {
        let Some(mut server) = test_server() else { return };
        let plan = Plan { rows: 200, batch: 50 };
        let mut db = server.database().expect("database");
        db.create_tables().expect("tables");
        if let Some(why) = crate::listeners::unsupported(&db.url()) {
            eprintln!("skipped: trigorm does not open MariaDB/MySQL URLs: {why}");
            return;
        }
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = seen.clone();
        let engine = audited(&db.url())
            .on_statement(move |q| sink.lock().expect("lock").push(q.to_string()))
            .build()
            .expect("engine");
        let start = Utc::now();
        crate::listeners::run_on(&engine, plan).expect("listeners run");
        let w = Window { start, end: Utc::now() };
        drop(engine);
        let name = db.name().to_string();
        verify_mysql(db.client(), &name, plan, w).expect("the listeners verify");
        db.drop_now().expect("drop");

        let seen = seen.lock().expect("lock").clone();
        let count = |p: &dyn Fn(&str) -> bool| seen.iter().filter(|q| p(q)).count();
        let loads = count(&|q| q == SELECT_RANGE);
        let user_writes = count(&|q| {
            q.starts_with("INSERT INTO `users`")
                || q.starts_with("UPDATE `users`")
                || q.starts_with("DELETE FROM `users`")
        });
        let log_writes = count(&|q| q.starts_with("INSERT INTO `log`"));
        let (batches, delete_batches) = (plan.batches().count(), plan.delete_starts().count());
        assert_eq!(loads, batches + delete_batches, "trigorm sent {seen:#?}");
        // The floor: 500 statements on each table (200 inserts, 200 updates, 100 deletes).
        let floor_writes = (2 * plan.rows + plan.deleted()) as usize;
        assert!(
            (1..floor_writes).contains(&user_writes) && (1..floor_writes).contains(&log_writes),
            "trigorm wrote users in {user_writes} and log in {log_writes} statements: {seen:#?}"
        );
    }

    /// The floor's statements as the server saw them: one per row written, each a
    /// prepared statement executed (`Com_stmt_execute`), within one transaction per batch
    /// (`Com_commit`), the range load once per batch.
    #[test]
    fn the_floor_writes_row_by_row_in_one_transaction_per_batch() {
        let Some(mut server) = test_server() else { return };
        let plan = Plan { rows: 200, batch: 50 };
        let mut db = server.database().expect("database");
        db.create_tables().expect("tables");
        let start = Utc::now();
        run(&db.url(), db.name(), plan).expect("floor run");
        let w = Window { start, end: Utc::now() };
        let name = db.name().to_string();
        verify_mysql(db.client(), &name, plan, w).expect("the floor verifies");
        db.drop_now().expect("drop");

        // On a connection of its own, the statements it sends (session status counters).
        let mut db = server.database().expect("database");
        db.create_tables().expect("tables");
        let mut c = open(&db.url(), db.name()).expect("open");
        let st = Stmts::prepare(&mut c).expect("prepare");
        let counters = |c: &mut Conn| -> (u64, u64) {
            let mut rows: Vec<(String, u64)> = c
                .query("SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_execute', 'Com_commit')")
                .expect("status");
            rows.sort();
            assert_eq!(rows.len(), 2, "{rows:?}");
            (rows[0].1, rows[1].1)
        };
        let before = counters(&mut c);
        let mut tx = c.start_transaction(TxOpts::default()).expect("begin");
        for j in 0..3 {
            tx.exec_drop(&st.insert_user, (format!("user{j}"), "e", now()))
                .expect("insert");
            let id = tx.last_insert_id().expect("an id") as i64;
            assert_eq!(id, j + 1, "ids from the statement's own last-insert id");
            st.log(&mut tx, id, "insert", None, Some("x")).expect("log");
        }
        let mut rows = Vec::new();
        assert_eq!(st.load(&mut tx, 0, 2, &mut rows).expect("load"), 2);
        assert_eq!(rows, [(1, "user0".to_string()), (2, "user1".to_string())]);
        tx.commit().expect("commit");
        let after = counters(&mut c);
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (1, 7),
            "one COMMIT; 6 writes and 1 load, each one prepared statement executed"
        );
        drop(c);
        db.drop_now().expect("drop");
    }
}
