//! The `floor` variant: the same statements as trigorm sends, hand-written on rusqlite.
//!
//! Fairness rules (what makes it the physical limit the ORM is held to, and no lower):
//! the connection is opened with the flags and pragmas of trigorm's SQLite driver; the
//! schema is the exact DDL `Engine::create_all` emits (a test checks it); each batch is one
//! `BEGIN IMMEDIATE` ... `COMMIT`; every statement text is the one trigorm renders, prepared
//! once and kept for the whole run; the log row is inserted by hand with the same values,
//! `changed_at` (like `created_at`) a fresh `Utc::now()` stored as trigorm stores it.
//! Nothing is done that trigorm skips and nothing trigorm does is left out, except the
//! ORM's own bookkeeping: the floor keeps only the id and name it needs of a loaded row.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{Datelike, Timelike, Utc};
use rusqlite::types::{Null, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, Statement};

#[cfg(test)]
use crate::workload::TIMESTAMP_FORMAT;
use crate::workload::{user_email, user_name, Plan, Timings, TIMESTAMP_FORM, UPDATE_SUFFIX};

/// The DDL `Engine::create_all` emits for `User` and `Log` (checked by a test).
pub const SCHEMA: [&str; 2] = [
    r#"CREATE TABLE IF NOT EXISTS "log" ( "id" INTEGER NOT NULL PRIMARY KEY, "user_id" INTEGER NOT NULL, "change_type" TEXT NOT NULL, "old_name" TEXT, "new_name" TEXT, "changed_at" TIMESTAMP NOT NULL )"#,
    r#"CREATE TABLE IF NOT EXISTS "users" ( "id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "email" TEXT NOT NULL, "created_at" TIMESTAMP NOT NULL )"#,
];

/// The statement texts trigorm renders for the workload (checked by a test).
pub const INSERT_USER: &str = r#"INSERT INTO "users" ("name", "email", "created_at") VALUES (?, ?, ?)"#;
pub const INSERT_LOG: &str =
    r#"INSERT INTO "log" ("user_id", "change_type", "old_name", "new_name", "changed_at") VALUES (?, ?, ?, ?, ?)"#;
pub const SELECT_RANGE: &str =
    r#"SELECT "id", "name", "email", "created_at" FROM "users" WHERE "id" > ? AND "id" <= ?"#;
pub const UPDATE_NAME: &str = r#"UPDATE "users" SET "name" = ? WHERE "id" = ?"#;
pub const DELETE_USER: &str = r#"DELETE FROM "users" WHERE "id" = ?"#;

/// trigorm's default busy timeout.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Open a connection the way trigorm's SQLite driver does.
pub fn open(db: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_EXRESCODE;
    let conn = Connection::open_with_flags(db, flags).with_context(|| format!("opening {}", db.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("SQLite refused WAL mode on {} (got {mode})", db.display());
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")?;
    Ok(conn)
}

/// Digits after the decimal point of a stored timestamp.
const FRACTION_DIGITS: usize = TIMESTAMP_FORM.len() - "0000-00-00 00:00:00.+00:00".len();

/// A stored timestamp's text.
pub type TimestampText = [u8; TIMESTAMP_FORM.len()];

/// `now` as trigorm stores timestamps on SQLite ([`TIMESTAMP_FORM`]), written digit by
/// digit into `out`: no format string is parsed, nothing is allocated, and the text is
/// bound as the ASCII it is, with no UTF-8 check (as trigorm binds it).
pub fn now_text(out: &mut TimestampText) {
    fn put(out: &mut [u8], at: usize, width: usize, mut v: u32) {
        for k in (at..at + width).rev() {
            out[k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    // One conversion to the naive date and time, not one per accessor (as trigorm does).
    let t = Utc::now().naive_utc();
    out.copy_from_slice(TIMESTAMP_FORM.as_bytes());
    put(out, 0, 4, t.year().clamp(0, 9999) as u32);
    put(out, 5, 2, t.month());
    put(out, 8, 2, t.day());
    put(out, 11, 2, t.hour());
    put(out, 14, 2, t.minute());
    put(out, 17, 2, t.second());
    // The fraction, truncated as chrono's `%.Nf` does (`now` is never a leap second).
    let fraction = (t.nanosecond() % 1_000_000_000) / 10u32.pow(9 - FRACTION_DIGITS as u32);
    put(out, 20, FRACTION_DIGITS, fraction);
}

/// A timestamp's text, bound as text.
fn text(ts: &TimestampText) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(ts))
}

struct Stmts<'c> {
    begin: Statement<'c>,
    commit: Statement<'c>,
    insert_user: Statement<'c>,
    insert_log: Statement<'c>,
    select_range: Statement<'c>,
    update_name: Statement<'c>,
    delete_user: Statement<'c>,
}

impl Stmts<'_> {
    fn log(
        &mut self,
        user_id: i64,
        change: &str,
        old: Option<&str>,
        new: Option<&str>,
        ts: &TimestampText,
    ) -> Result<()> {
        let s = &mut self.insert_log;
        s.raw_bind_parameter(1, user_id)?;
        s.raw_bind_parameter(2, change)?;
        match old {
            Some(v) => s.raw_bind_parameter(3, v)?,
            None => s.raw_bind_parameter(3, Null)?,
        }
        match new {
            Some(v) => s.raw_bind_parameter(4, v)?,
            None => s.raw_bind_parameter(4, Null)?,
        }
        s.raw_bind_parameter(5, text(ts))?;
        s.raw_execute()?;
        Ok(())
    }

    /// Load the `(id, name)` of the users with `lo < id <= hi` into `rows[..n]`, reusing
    /// the strings; returns n.
    fn load(&mut self, lo: i64, hi: i64, rows: &mut Vec<(i64, String)>) -> Result<usize> {
        let s = &mut self.select_range;
        s.raw_bind_parameter(1, lo)?;
        s.raw_bind_parameter(2, hi)?;
        let mut q = s.raw_query();
        let mut n = 0;
        while let Some(r) = q.next()? {
            let id: i64 = r.get(0)?;
            let name = r.get_ref(1)?.as_str()?;
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

/// Run the workload on a fresh database file (schema creation is not timed).
pub fn run(db: &Path, plan: Plan) -> Result<Timings> {
    let conn = open(db)?;
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {}; {}; COMMIT", SCHEMA[0], SCHEMA[1]))
        .context("creating the schema")?;
    let mut st = Stmts {
        begin: conn.prepare("BEGIN IMMEDIATE")?,
        commit: conn.prepare("COMMIT")?,
        insert_user: conn.prepare(INSERT_USER)?,
        insert_log: conn.prepare(INSERT_LOG)?,
        select_range: conn.prepare(SELECT_RANGE)?,
        update_name: conn.prepare(UPDATE_NAME)?,
        delete_user: conn.prepare(DELETE_USER)?,
    };
    let b = plan.batch as i64;
    let (mut name, mut email, mut ts) = (String::new(), String::new(), [0u8; TIMESTAMP_FORM.len()]);

    let t = Instant::now();
    for (lo, hi) in plan.batches() {
        st.begin.raw_execute()?;
        for j in lo..hi {
            user_name(&mut name, j);
            user_email(&mut email, j);
            now_text(&mut ts);
            let s = &mut st.insert_user;
            s.raw_bind_parameter(1, name.as_str())?;
            s.raw_bind_parameter(2, email.as_str())?;
            s.raw_bind_parameter(3, text(&ts))?;
            s.raw_execute()?;
            let id = conn.last_insert_rowid();
            now_text(&mut ts);
            st.log(id, "insert", None, Some(&name), &ts)?;
        }
        st.commit.raw_execute()?;
    }
    let insert_s = t.elapsed().as_secs_f64();

    let mut rows: Vec<(i64, String)> = Vec::new();
    let t = Instant::now();
    for (lo, _) in plan.batches() {
        let i = lo as i64;
        st.begin.raw_execute()?;
        let n = st.load(i, i + b, &mut rows)?;
        for (id, old) in &rows[..n] {
            name.clear();
            name.push_str(old);
            name.push_str(UPDATE_SUFFIX);
            let s = &mut st.update_name;
            s.raw_bind_parameter(1, name.as_str())?;
            s.raw_bind_parameter(2, *id)?;
            if s.raw_execute()? != 1 {
                bail!("update of user {id} changed no row");
            }
            now_text(&mut ts);
            st.log(*id, "update", Some(old), Some(&name), &ts)?;
        }
        st.commit.raw_execute()?;
    }
    let update_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for lo in plan.delete_starts() {
        let i = lo as i64;
        st.begin.raw_execute()?;
        let n = st.load(i, i + b, &mut rows)?;
        for (id, old) in &rows[..n] {
            let s = &mut st.delete_user;
            s.raw_bind_parameter(1, *id)?;
            if s.raw_execute()? != 1 {
                bail!("delete of user {id} removed no row");
            }
            now_text(&mut ts);
            st.log(*id, "delete", Some(old), None, &ts)?;
        }
        st.commit.raw_execute()?;
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
    use crate::listeners::{audited, User};
    use trigorm::query::col;

    /// The floor is only fair if it creates what trigorm creates and sends the texts
    /// trigorm sends: capture both from a real engine.
    #[test]
    fn schema_and_statements_are_trigorms() {
        let dir = crate::sys::WorkDir::fresh().expect("a temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = seen.clone();
        let engine = audited(&url)
            .on_statement(move |q| sink.lock().expect("lock").push(q.to_string()))
            .build()
            .expect("engine");
        engine.create_all().expect("schema");
        let mut s = engine.session().expect("session");
        s.add(User {
            id: 0,
            name: "a".into(),
            email: "b".into(),
            created_at: Utc::now(),
        });
        s.commit().expect("insert");
        let mut users = s
            .query::<User>()
            .filter(col("id").gt(0).and(col("id").le(10)))
            .all()
            .expect("load");
        users[0].name.push_str(UPDATE_SUFFIX);
        s.update(&users[0]).expect("update");
        s.commit().expect("commit");
        let users = s
            .query::<User>()
            .filter(col("id").gt(0).and(col("id").le(10)))
            .all()
            .expect("load");
        s.delete(&users[0]).expect("delete");
        s.commit().expect("commit");
        drop(s);
        let seen = seen.lock().expect("lock").clone();
        let ddl: Vec<&str> = seen
            .iter()
            .filter(|q| q.starts_with("CREATE"))
            .map(String::as_str)
            .collect();
        assert_eq!(ddl, SCHEMA);
        for q in [INSERT_USER, INSERT_LOG, SELECT_RANGE, UPDATE_NAME, DELETE_USER] {
            assert!(seen.iter().any(|s| s == q), "trigorm never sent {q}; it sent {seen:#?}");
        }
        assert!(seen.iter().any(|s| s == "BEGIN"));
        drop(engine);
        let c = Connection::open(dir.path().join("t.db")).expect("open");
        let stored: Vec<String> = c
            .prepare("SELECT changed_at FROM log UNION ALL SELECT created_at FROM users")
            .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
            .expect("read timestamps");
        assert_eq!(stored.len(), 3, "three log rows, the user deleted");
        for t in stored {
            assert!(
                crate::verify::is_timestamp_text(&t),
                "trigorm stored the timestamp {t:?}, not in the form {TIMESTAMP_FORM:?} the floor writes: \
                 update TIMESTAMP_FORMAT and TIMESTAMP_FORM in workload.rs"
            );
        }
    }

    #[test]
    fn timestamps_are_written_as_trigorm_writes_them() {
        let mut ts = [0u8; TIMESTAMP_FORM.len()];
        let before = Utc::now();
        now_text(&mut ts);
        let after = Utc::now();
        let buf = std::str::from_utf8(&ts).expect("ASCII");
        assert!(crate::verify::is_timestamp_text(buf), "{buf}");
        let t = chrono::DateTime::parse_from_str(buf, "%Y-%m-%d %H:%M:%S%.f%:z").expect("parses");
        assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
        assert_eq!(buf, t.format(TIMESTAMP_FORMAT).to_string());
    }
}
