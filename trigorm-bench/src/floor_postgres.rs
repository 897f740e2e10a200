//! The `floor` variant on PostgreSQL: the workload hand-written on the bare `postgres`
//! crate (sync), one statement per row.
//!
//! Fairness rules (what makes it the per-row limit the ORM is held to, and no lower), as
//! `floor.rs` keeps them on SQLite: the connection is opened on the URL trigorm's engine
//! opens (the run's schema selected by its `options=-csearch_path%3D...` parameter, no
//! TLS); the tables are the ones trigorm's `create_all` made, for this variant exactly as
//! for the listeners (the parent creates them before the child starts, untimed); each
//! batch is one transaction, `BEGIN` ... `COMMIT`; the range load is the very text trigorm
//! sends, and the writes are its per-row forms (quoted names, `$n` parameters), each
//! prepared once on the connection and kept for the whole run; one statement per row,
//! each waiting for its reply (no pipelining, no multi-row `INSERT`, no `unnest`, no
//! `COPY`): that is the per-row floor by definition; a user's id comes back from its
//! `INSERT ... RETURNING "id"`; the log row is inserted by hand with the same values,
//! `changed_at` (like `created_at`) a fresh `Utc::now()` bound as `timestamptz`.
//!
//! trigorm does the same work in fewer statements on PostgreSQL: it batches a flush (a
//! batch's inserts in one `INSERT ... SELECT * FROM unnest(...)` per table; its updates or
//! deletes locked in one `SELECT ... WHERE "id" = ANY($1) ORDER BY "id" FOR UPDATE`, then
//! written in one `UPDATE ... FROM unnest(...)` or `DELETE ... WHERE "id" = ANY($1)`).
//! The test `trigorm_batches_what_the_floor_writes_row_by_row` pins that difference down.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Statement, Transaction};

use crate::workload::{user_email, user_name, Plan, Timings, UPDATE_SUFFIX};

/// The floor's statements: the range load is trigorm's text (its query of a batch); the
/// writes are the per-row statements, in trigorm's style for PostgreSQL.
pub const INSERT_USER: &str =
    r#"INSERT INTO "users" ("name", "email", "created_at") VALUES ($1, $2, $3) RETURNING "id""#;
pub const INSERT_LOG: &str =
    r#"INSERT INTO "log" ("user_id", "change_type", "old_name", "new_name", "changed_at") VALUES ($1, $2, $3, $4, $5)"#;
pub const SELECT_RANGE: &str =
    r#"SELECT "id", "name", "email", "created_at" FROM "users" WHERE "id" > $1 AND "id" <= $2"#;
pub const UPDATE_NAME: &str = r#"UPDATE "users" SET "name" = $1 WHERE "id" = $2"#;
pub const DELETE_USER: &str = r#"DELETE FROM "users" WHERE "id" = $1"#;

/// Open a connection on `url` (the run's URL) and check that it works in `schema`.
pub fn open(url: &str, schema: &str) -> Result<Client> {
    let shown = crate::server::redact(url);
    let mut c = Client::connect(url, NoTls).with_context(|| format!("connecting to {shown}"))?;
    let current: Option<String> = c
        .query_one("SELECT current_schema()", &[])
        .and_then(|r| r.try_get(0))
        .context("asking for the current schema")?;
    if current.as_deref() != Some(schema) {
        bail!("{shown} works in the schema {current:?}, not in {schema:?}");
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

impl Stmts {
    fn prepare(c: &mut Client) -> Result<Stmts> {
        let mut p = |q: &str| c.prepare(q).with_context(|| format!("preparing {q}"));
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
        tx.execute(&self.insert_log, &[&user_id, &change, &old, &new, &Utc::now()])?;
        Ok(())
    }

    /// Load the `(id, name)` of the users with `lo < id <= hi` into `rows[..n]`, reusing
    /// the strings; returns n.
    fn load(&self, tx: &mut Transaction<'_>, lo: i64, hi: i64, rows: &mut Vec<(i64, String)>) -> Result<usize> {
        let mut q = tx.query_raw(&self.select_range, [lo, hi])?;
        let mut n = 0;
        while let Some(r) = q.next()? {
            let id: i64 = r.try_get(0)?;
            let name: &str = r.try_get(1)?;
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

/// Run the workload on `url`, whose schema `schema` holds the empty tables.
pub fn run(url: &str, schema: &str, plan: Plan) -> Result<Timings> {
    let mut c = open(url, schema)?;
    let st = Stmts::prepare(&mut c)?;
    let b = plan.batch as i64;
    let (mut name, mut email) = (String::new(), String::new());

    let t = Instant::now();
    for (lo, hi) in plan.batches() {
        let mut tx = c.transaction()?;
        for j in lo..hi {
            user_name(&mut name, j);
            user_email(&mut email, j);
            let row = tx.query_one(&st.insert_user, &[&name.as_str(), &email.as_str(), &Utc::now()])?;
            let id: i64 = row.try_get(0)?;
            st.log(&mut tx, id, "insert", None, Some(&name))?;
        }
        tx.commit()?;
    }
    let insert_s = t.elapsed().as_secs_f64();

    let mut rows: Vec<(i64, String)> = Vec::new();
    let t = Instant::now();
    for (lo, _) in plan.batches() {
        let i = lo as i64;
        let mut tx = c.transaction()?;
        let n = st.load(&mut tx, i, i + b, &mut rows)?;
        for (id, old) in &rows[..n] {
            name.clear();
            name.push_str(old);
            name.push_str(UPDATE_SUFFIX);
            if tx.execute(&st.update_name, &[&name.as_str(), id])? != 1 {
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
        let mut tx = c.transaction()?;
        let n = st.load(&mut tx, i, i + b, &mut rows)?;
        for (id, old) in &rows[..n] {
            if tx.execute(&st.delete_user, &[id])? != 1 {
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
    use crate::pg::test_server;
    use crate::verify::{verify_postgres, Window};

    /// Statements that touch the workload's tables, by kind.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct Counts {
        /// The range load of a batch (the floor's `SELECT_RANGE`, trigorm's text).
        loads: usize,
        /// `SELECT ... FOR UPDATE` of the rows a flush updates or deletes.
        locks: usize,
        /// `INSERT`, `UPDATE` or `DELETE` on `users`.
        user_writes: usize,
        /// `INSERT` on `log`.
        log_writes: usize,
    }

    /// What the floor sends for `plan`, by construction: one statement per row written.
    fn floor_counts(plan: Plan) -> Counts {
        let (n, deleted) = (plan.rows as usize, plan.deleted() as usize);
        let (batches, delete_batches) = (plan.batches().count(), plan.delete_starts().count());
        Counts {
            loads: batches + delete_batches,
            locks: 0,
            user_writes: n + n + deleted,
            log_writes: n + n + deleted,
        }
    }

    /// The floor writes one row per statement; trigorm on PostgreSQL writes a batch of B
    /// rows in one statement per table (after locking the rows it updates or deletes in
    /// one `SELECT ... FOR UPDATE`), its range load being the floor's text. This is the
    /// difference the benchmark measures on PostgreSQL (on SQLite both write row by row).
    /// Both variants end in the right state.
    #[test]
    fn trigorm_batches_what_the_floor_writes_row_by_row() {
        let Some(mut server) = test_server() else { return };
        let plan = Plan { rows: 200, batch: 50 };

        let mut schema = server.schema().expect("schema");
        schema.create_tables().expect("tables");
        let start = Utc::now();
        run(&schema.url(), schema.name(), plan).expect("floor run");
        let w = Window { start, end: Utc::now() };
        let name = schema.name().to_string();
        verify_postgres(schema.client(), &name, plan, w).expect("the floor verifies");
        schema.drop_now().expect("drop");

        let mut schema = server.schema().expect("schema");
        schema.create_tables().expect("tables");
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = seen.clone();
        let engine = audited(&schema.url())
            .on_statement(move |q| sink.lock().expect("lock").push(q.to_string()))
            .build()
            .expect("engine");
        let start = Utc::now();
        crate::listeners::run_on(&engine, plan).expect("listeners run");
        let w = Window { start, end: Utc::now() };
        drop(engine);
        let name = schema.name().to_string();
        verify_postgres(schema.client(), &name, plan, w).expect("the listeners verify");
        schema.drop_now().expect("drop");

        let seen = seen.lock().expect("lock").clone();
        let mut trigorm = Counts::default();
        for q in &seen {
            if q == SELECT_RANGE {
                trigorm.loads += 1;
            } else if q.starts_with(r#"SELECT "id", "name", "email", "created_at" FROM "users" WHERE "id" = ANY("#)
                && q.ends_with("FOR UPDATE")
            {
                trigorm.locks += 1;
            } else if q.starts_with(r#"INSERT INTO "users" "#) {
                assert!(q.contains("unnest("), "a batched insert: {q}");
                trigorm.user_writes += 1;
            } else if q.starts_with(r#"UPDATE "users" "#) {
                assert!(q.contains("unnest("), "a batched update: {q}");
                trigorm.user_writes += 1;
            } else if q.starts_with(r#"DELETE FROM "users" "#) {
                assert!(q.contains("= ANY("), "a batched delete: {q}");
                trigorm.user_writes += 1;
            } else if q.starts_with(r#"INSERT INTO "log" "#) {
                assert!(q.contains("unnest("), "a batched insert: {q}");
                trigorm.log_writes += 1;
            }
        }
        // 200 rows in batches of 50: 4 insert, 4 update and 2 delete batches (100 rows).
        // The floor: a statement per row and table; trigorm: one per batch and table.
        assert_eq!(
            floor_counts(plan),
            Counts {
                loads: 6,
                locks: 0,
                user_writes: 500,
                log_writes: 500
            }
        );
        let per_batch = Counts {
            loads: 6,
            locks: 6,
            user_writes: 10,
            log_writes: 10,
        };
        assert_eq!(trigorm, per_batch, "trigorm sent {seen:#?}");
    }
}
