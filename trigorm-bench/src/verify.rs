//! The end-state check, on a plain rusqlite (or `postgres`, or `mysql`) connection after
//! the variant's process ended: the counts (users = N/2, log = 2.5 N for N a multiple of
//! 2B), every remaining user, and every log row's change type, old and new names, user and
//! timestamp (on SQLite: trigorm's text form; on PostgreSQL: `timestamptz` columns, on
//! MariaDB/MySQL: `DATETIME(6)` columns holding UTC, every value written while the run's
//! child was alive). The same checks for every variant: the native variant's log rows,
//! written by the database's triggers, must match the listeners' and the floor's (on
//! SQLite their `changed_at` is trigorm's text form too, to the second).

use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use mysql::prelude::Queryable;
use rusqlite::{Connection, OpenFlags};

use crate::server::is_bench_schema;

use crate::workload::{Plan, TIMESTAMP_FORM, UPDATE_SUFFIX};

/// The database's end state is wrong (exit code 1).
#[derive(Debug)]
pub struct CheckFailed(pub String);

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// At most this many problems are listed.
const SHOWN: usize = 8;

struct Problems {
    count: u64,
    shown: Vec<String>,
}

impl Problems {
    fn add(&mut self, p: impl FnOnce() -> String) {
        self.count += 1;
        if self.shown.len() < SHOWN {
            self.shown.push(p());
        }
    }
}

/// Whether `s` has the form of trigorm's SQLite timestamp text ([`TIMESTAMP_FORM`]).
pub fn is_timestamp_text(s: &str) -> bool {
    s.len() == TIMESTAMP_FORM.len()
        && s.bytes()
            .zip(TIMESTAMP_FORM.bytes())
            .all(|(c, f)| if f == b'd' { c.is_ascii_digit() } else { c == f })
}

/// Log ids of one user's insert, update and delete rows (0: none seen).
#[derive(Clone, Copy, Default)]
struct Seen {
    insert: i64,
    update: i64,
    delete: i64,
}

/// The checks, fed the rows by a backend's reader: the counts, then every remaining user
/// ([`Checker::user`], then [`Checker::users_done`]), then every log row in id order
/// ([`Checker::log`]), then [`Checker::finish`].
struct Checker {
    plan: Plan,
    users: u64,
    logs: u64,
    p: Problems,
    kept: Vec<bool>,
    seen: Vec<Seen>,
}

impl Checker {
    fn new(plan: Plan, users: u64, logs: u64) -> Result<Checker> {
        let n = usize::try_from(plan.rows).context("rows")?;
        let mut p = Problems {
            count: 0,
            shown: Vec::new(),
        };
        if users != plan.expected_users() {
            p.add(|| format!("users = {users}, expected {}", plan.expected_users()));
        }
        if logs != plan.expected_logs() {
            p.add(|| format!("log = {logs}, expected {}", plan.expected_logs()));
        }
        Ok(Checker {
            plan,
            users,
            logs,
            p,
            kept: vec![false; n + 1],
            seen: vec![Seen::default(); n + 1],
        })
    }

    /// A remaining user; `bad_created` says what is wrong with its `created_at`, if
    /// anything.
    fn user(&mut self, id: i64, name: &str, email: &str, bad_created: Option<String>) {
        let (plan, p) = (self.plan, &mut self.p);
        let Some(uid) = u64::try_from(id).ok().filter(|&i| i >= 1 && i <= plan.rows) else {
            p.add(|| format!("user {id}: no such user was inserted"));
            return;
        };
        let j = uid - 1;
        if plan.is_deleted(uid) {
            p.add(|| format!("user {id} is in a deleted range but remains"));
        }
        self.kept[uid as usize] = true;
        if name != format!("user{j}{UPDATE_SUFFIX}") {
            p.add(|| format!("user {id}: name {name:?}, expected \"user{j}{UPDATE_SUFFIX}\""));
        }
        if email != format!("u{j}@x.org") {
            p.add(|| format!("user {id}: email {email:?}, expected \"u{j}@x.org\""));
        }
        if let Some(why) = bad_created {
            p.add(|| format!("user {id}: {why}"));
        }
    }

    /// After the last user: every user that should remain does.
    fn users_done(&mut self) {
        for uid in 1..=self.plan.rows {
            if !self.plan.is_deleted(uid) && !self.kept[uid as usize] {
                self.p.add(|| format!("user {uid} should remain but is missing"));
            }
        }
    }

    /// A log row; `bad_at` says what is wrong with its `changed_at`, if anything.
    fn log(
        &mut self,
        log_id: i64,
        user_id: i64,
        kind: &str,
        old: Option<&str>,
        new: Option<&str>,
        bad_at: Option<String>,
    ) {
        let (plan, p) = (self.plan, &mut self.p);
        let Some(uid) = u64::try_from(user_id).ok().filter(|&i| i >= 1 && i <= plan.rows) else {
            p.add(|| format!("log {log_id}: user_id {user_id} is no inserted user"));
            return;
        };
        let j = uid - 1;
        let (base, v2) = (format!("user{j}"), format!("user{j}{UPDATE_SUFFIX}"));
        let seen = &mut self.seen[uid as usize];
        let (expected_old, expected_new, slot) = match kind {
            "insert" => (None, Some(base.as_str()), &mut seen.insert),
            "update" => (Some(base.as_str()), Some(v2.as_str()), &mut seen.update),
            "delete" => (Some(v2.as_str()), None, &mut seen.delete),
            other => {
                p.add(|| format!("log {log_id}: change_type {other:?}"));
                return;
            }
        };
        if *slot != 0 {
            p.add(|| format!("log {log_id}: a second {kind} row for user {uid} (first: log {slot})"));
        }
        *slot = log_id;
        if old != expected_old || new != expected_new {
            p.add(|| {
                format!(
                    "log {log_id} ({kind} of user {uid}): old {old:?} new {new:?}, expected old {expected_old:?} new {expected_new:?}"
                )
            });
        }
        if let Some(why) = bad_at {
            p.add(|| format!("log {log_id}: {why}"));
        }
    }

    /// The per-user checks of the log, then the verdict on `what` (the database).
    fn finish(mut self, what: &str) -> Result<()> {
        let (plan, p) = (self.plan, &mut self.p);
        for uid in 1..=plan.rows {
            let s = self.seen[uid as usize];
            if s.insert == 0 || s.update == 0 {
                p.add(|| {
                    format!(
                        "user {uid}: insert log {} update log {} (0 = missing)",
                        s.insert, s.update
                    )
                });
            } else if s.insert > s.update {
                p.add(|| format!("user {uid}: its update was logged before its insert"));
            }
            match (plan.is_deleted(uid), s.delete) {
                (true, 0) => p.add(|| format!("user {uid}: deleted, but no delete log row")),
                (false, d) if d != 0 => p.add(|| format!("user {uid}: kept, but has a delete log row {d}")),
                (true, d) if d < s.update => p.add(|| format!("user {uid}: its delete was logged before its update")),
                _ => {}
            }
        }
        if p.count == 0 {
            return Ok(());
        }
        let mut msg = format!(
            "verification of {what} failed: {} problem(s) (users = {}, log = {}; expected {} and {})",
            p.count,
            self.users,
            self.logs,
            plan.expected_users(),
            plan.expected_logs()
        );
        for s in &p.shown {
            msg.push_str("\n  - ");
            msg.push_str(s);
        }
        if p.count > p.shown.len() as u64 {
            msg.push_str(&format!("\n  ... and {} more", p.count - p.shown.len() as u64));
        }
        Err(CheckFailed(msg).into())
    }
}

/// Check the end state of a finished run on SQLite; a wrong state is a [`CheckFailed`]
/// error.
pub fn verify(db: &Path, plan: Plan) -> Result<()> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .with_context(|| format!("opening {} to verify it", db.display()))?;
    let count = |table: &str| -> Result<u64> {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let mut c = Checker::new(plan, count("users")?, count("log")?)?;

    let mut q = conn.prepare("SELECT id, name, email, created_at FROM users ORDER BY id")?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let (name, email, created): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let bad =
            (!is_timestamp_text(&created)).then(|| format!("created_at {created:?} is not trigorm's timestamp text"));
        c.user(id, &name, &email, bad);
    }
    drop(rows);
    c.users_done();

    let mut q = conn.prepare("SELECT id, user_id, change_type, old_name, new_name, changed_at FROM log ORDER BY id")?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let (log_id, user_id): (i64, i64) = (r.get(0)?, r.get(1)?);
        let kind: String = r.get(2)?;
        let (old, new): (Option<String>, Option<String>) = (r.get(3)?, r.get(4)?);
        let at: String = r.get(5)?;
        let bad = (!is_timestamp_text(&at)).then(|| format!("changed_at {at:?} is not trigorm's timestamp text"));
        c.log(log_id, user_id, &kind, old.as_deref(), new.as_deref(), bad);
    }
    c.finish(&db.display().to_string())
}

/// Timestamps a run on a server may have written: from just before its child started to
/// just after it ended (PostgreSQL and `DATETIME(6)` keep microseconds: a millisecond of
/// slack each side).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    fn problem(&self, column: &str, t: DateTime<Utc>) -> Option<String> {
        let slack = TimeDelta::milliseconds(1);
        (t < self.start - slack || t > self.end + slack)
            .then(|| format!("{column} {t} is outside the run ({} to {})", self.start, self.end))
    }
}

/// Check the end state of a finished run in `schema` on PostgreSQL, through the plain
/// connection `client` (names are qualified with the schema); a wrong state is a
/// [`CheckFailed`] error. Timestamps are `timestamptz` and were written within `window`.
pub fn verify_postgres(client: &mut postgres::Client, schema: &str, plan: Plan, window: Window) -> Result<()> {
    if !is_bench_schema(schema) {
        bail!("{schema:?} is not a schema name of this benchmark");
    }
    let what = format!("the schema {schema}");
    let types = client.query(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = $1 AND column_name IN ('created_at', 'changed_at') ORDER BY 1",
        &[&schema],
    )?;
    let types: Vec<(String, String, String)> = types
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, postgres::Error>>()?;
    let tz = "timestamp with time zone";
    let expected = [("log", "changed_at"), ("users", "created_at")];
    let ok = types.len() == 2
        && types
            .iter()
            .zip(expected)
            .all(|(t, e)| (t.0.as_str(), t.1.as_str(), t.2.as_str()) == (e.0, e.1, tz));
    if !ok {
        return Err(CheckFailed(format!(
            "verification of {what} failed: expected log.changed_at and users.created_at of type {tz}, found {types:?}"
        ))
        .into());
    }
    let mut count = |table: &str| -> Result<u64> {
        let n: i64 = client
            .query_one(&format!(r#"SELECT COUNT(*) FROM {schema}."{table}""#), &[])?
            .try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let (users, logs) = (count("users")?, count("log")?);
    let mut c = Checker::new(plan, users, logs)?;

    let sql = format!(r#"SELECT "id", "name", "email", "created_at" FROM {schema}."users" ORDER BY "id""#);
    for r in client.query(&sql, &[])? {
        let (id, name, email): (i64, &str, &str) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let created: DateTime<Utc> = r.try_get(3)?;
        c.user(id, name, email, window.problem("created_at", created));
    }
    c.users_done();

    let sql = format!(
        r#"SELECT "id", "user_id", "change_type", "old_name", "new_name", "changed_at" FROM {schema}."log" ORDER BY "id""#
    );
    for r in client.query(&sql, &[])? {
        let (log_id, user_id, kind): (i64, i64, &str) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let (old, new): (Option<&str>, Option<&str>) = (r.try_get(3)?, r.try_get(4)?);
        let at: DateTime<Utc> = r.try_get(5)?;
        c.log(log_id, user_id, kind, old, new, window.problem("changed_at", at));
    }
    c.finish(&what)
}

/// Check the end state of a finished run in the database `db` on MariaDB/MySQL, through
/// the plain connection `conn` (names are qualified with the database); a wrong state is
/// a [`CheckFailed`] error. Timestamps are `DATETIME(6)`, in UTC, written within `window`.
pub fn verify_mysql(conn: &mut mysql::Conn, db: &str, plan: Plan, window: Window) -> Result<()> {
    if !is_bench_schema(db) {
        bail!("{db:?} is not a database name of this benchmark");
    }
    let what = format!("the database {db}");
    let types: Vec<(String, String, String, Option<u64>)> = conn.exec(
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, DATETIME_PRECISION FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = ? AND COLUMN_NAME IN ('created_at', 'changed_at') ORDER BY 1",
        (db,),
    )?;
    let expected = [("log", "changed_at"), ("users", "created_at")];
    let ok = types.len() == 2
        && types
            .iter()
            .zip(expected)
            .all(|(t, e)| (t.0.as_str(), t.1.as_str(), t.2.as_str(), t.3) == (e.0, e.1, "datetime", Some(6)));
    if !ok {
        return Err(CheckFailed(format!(
            "verification of {what} failed: expected log.changed_at and users.created_at of type DATETIME(6), found {types:?}"
        ))
        .into());
    }
    let mut count = |table: &str| -> Result<u64> {
        let n: Option<u64> = conn.query_first(format!("SELECT COUNT(*) FROM `{db}`.`{table}`"))?;
        Ok(n.unwrap_or(0))
    };
    let (users, logs) = (count("users")?, count("log")?);
    let mut c = Checker::new(plan, users, logs)?;
    let at = |column: &str, v: Option<&mysql::Value>| match v.and_then(crate::my::value_datetime) {
        Some(t) => window.problem(column, t),
        None => Some(format!("{column} {v:?} is not a DATETIME")),
    };

    let sql = format!("SELECT `id`, `name`, `email`, `created_at` FROM `{db}`.`users` ORDER BY `id`");
    for r in conn.exec_iter(sql, ())? {
        let r = r?;
        let (id, name, email): (i64, String, String) = mysql::from_row_opt(r.clone())
            .map(|(id, name, email, _): (i64, String, String, mysql::Value)| (id, name, email))
            .context("reading a user")?;
        c.user(id, &name, &email, at("created_at", r.as_ref(3)));
    }
    c.users_done();

    let sql = format!(
        "SELECT `id`, `user_id`, `change_type`, `old_name`, `new_name`, `changed_at` FROM `{db}`.`log` ORDER BY `id`"
    );
    for r in conn.exec_iter(sql, ())? {
        let r = r?;
        type LogRow = (i64, i64, String, Option<String>, Option<String>, mysql::Value);
        let (log_id, user_id, kind, old, new, _): LogRow =
            mysql::from_row_opt(r.clone()).context("reading a log row")?;
        let bad = at("changed_at", r.as_ref(5));
        c.log(log_id, user_id, &kind, old.as_deref(), new.as_deref(), bad);
    }
    c.finish(&what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::WorkDir;

    #[test]
    fn timestamp_form() {
        assert!(is_timestamp_text("2026-01-02 03:04:05.123456789+00:00"));
        assert!(!is_timestamp_text("2026-01-02T03:04:05.123456789+00:00"));
        assert!(!is_timestamp_text("2026-01-02 03:04:05.123456+00:00"));
        assert!(!is_timestamp_text("2026-01-02 03:04:05+00:00"));
    }

    fn check_fails(db: &Path, plan: Plan, needle: &str) {
        let e = verify(db, plan).expect_err("a wrong end state");
        let msg = e.downcast_ref::<CheckFailed>().expect("a CheckFailed").0.clone();
        assert!(msg.contains(needle), "{msg}");
    }

    /// Every variant passes on a small run, and each kind of damage is caught.
    #[test]
    fn good_runs_pass_and_damage_is_caught() {
        let dir = WorkDir::fresh().expect("temp dir");
        let plan = Plan { rows: 250, batch: 50 };
        let floor = dir.path().join("floor.db");
        crate::floor::run(&floor, plan).expect("floor run");
        verify(&floor, plan).expect("floor verifies");
        let lis = dir.path().join("listeners.db");
        crate::listeners::run(&crate::sqlite_url(&lis), plan).expect("listeners run");
        verify(&lis, plan).expect("listeners verifies");
        let native = dir.path().join("native.db");
        crate::native::run(&crate::sqlite_url(&native), plan).expect("native run");
        verify(&native, plan).expect("native verifies");
        check_fails(&native, Plan { rows: 250, batch: 25 }, "user 51 is in a deleted range");
        Connection::open(&native)
            .and_then(|c| c.execute("UPDATE log SET change_type = 'upsert' WHERE id = 1", []))
            .expect("damage");
        check_fails(&native, plan, "log 1: change_type \"upsert\"");

        let c = Connection::open(&floor).expect("open");
        let damage = |sql: &str| {
            c.execute(sql, []).expect("damage");
        };
        damage("UPDATE log SET old_name = 'x' WHERE change_type = 'update' AND user_id = 60");
        check_fails(&floor, plan, "old Some(\"x\")");
        damage("UPDATE log SET old_name = 'user59' WHERE change_type = 'update' AND user_id = 60");
        verify(&floor, plan).expect("repaired");
        damage("UPDATE log SET changed_at = '2026-01-01' WHERE id = 3");
        check_fails(&floor, plan, "is not trigorm's timestamp text");
        damage("UPDATE log SET changed_at = '2026-01-01 00:00:00.000000000+00:00' WHERE id = 3");
        damage("DELETE FROM log WHERE change_type = 'delete' AND user_id = 7");
        check_fails(&floor, plan, "log = 649, expected 650");
        check_fails(&floor, plan, "user 7: deleted, but no delete log row");
        check_fails(&lis, Plan { rows: 250, batch: 25 }, "user 51 is in a deleted range");

        c.execute("DELETE FROM users WHERE id = 60", []).expect("damage");
        check_fails(&floor, plan, "user 60 should remain");
    }

    #[test]
    fn postgres_timestamps_must_fall_within_the_run() {
        let start = Utc::now();
        let w = Window {
            start,
            end: start + TimeDelta::seconds(2),
        };
        assert_eq!(w.problem("created_at", start + TimeDelta::seconds(1)), None);
        assert_eq!(w.problem("created_at", start - TimeDelta::microseconds(500)), None);
        let p = w
            .problem("changed_at", start - TimeDelta::seconds(1))
            .expect("before the run");
        assert!(p.starts_with("changed_at ") && p.contains("is outside the run"), "{p}");
        assert!(w.problem("changed_at", start + TimeDelta::seconds(3)).is_some());
    }

    /// The floor passes on PostgreSQL (on the tables trigorm creates), and damage is
    /// caught there too; the schema is gone afterwards. Skipped when no server answers at
    /// `TRIGORM_POSTGRES_URL`, unless `TRIGORM_REQUIRE_SERVERS=1`.
    #[test]
    fn postgres_floor_passes_and_damage_is_caught() {
        let Some(mut server) = crate::pg::test_server() else {
            return;
        };
        let mut schema = server.schema().expect("schema");
        schema.create_tables().expect("tables");
        let plan = Plan { rows: 200, batch: 50 };
        let start = Utc::now();
        crate::floor_postgres::run(&schema.url(), schema.name(), plan).expect("floor run");
        let w = Window { start, end: Utc::now() };
        let name = schema.name().to_string();
        verify_postgres(schema.client(), &name, plan, w).expect("floor verifies");
        let fails = |c: &mut postgres::Client, needle: &str| {
            let e = verify_postgres(c, &name, plan, w).expect_err("a wrong end state");
            let msg = e.downcast_ref::<CheckFailed>().expect("a CheckFailed").0.clone();
            assert!(msg.contains(needle), "{msg}");
        };
        let c = schema.client();
        c.batch_execute(&format!(
            "UPDATE {name}.log SET changed_at = changed_at - interval '1 hour' WHERE id = 3"
        ))
        .expect("damage");
        fails(c, "log 3: changed_at");
        c.batch_execute(&format!(
            "DELETE FROM {name}.log WHERE change_type = 'delete' AND user_id = 7"
        ))
        .expect("damage");
        fails(c, "user 7: deleted, but no delete log row");
        c.batch_execute(&format!("DELETE FROM {name}.users WHERE id = 60"))
            .expect("damage");
        fails(c, "user 60 should remain");
        c.batch_execute(&format!("ALTER TABLE {name}.users ALTER created_at TYPE timestamp"))
            .expect("damage");
        fails(c, "of type timestamp with time zone");
        schema.drop_now().expect("drop");
        let left: i64 = server
            .client()
            .query_one("SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1", &[&name])
            .and_then(|r| r.try_get(0))
            .expect("count");
        assert_eq!(left, 0, "the schema is dropped");
    }

    /// The native variant passes on PostgreSQL; its triggers and their functions are in the
    /// run's schema and go with it. Skipped as the test above.
    #[test]
    fn postgres_native_passes_and_leaves_nothing() {
        let Some(mut server) = crate::pg::test_server() else {
            return;
        };
        let mut schema = server.schema().expect("schema");
        schema.create_tables().expect("tables");
        let plan = Plan { rows: 200, batch: 50 };
        let start = Utc::now();
        crate::native::run(&schema.url(), plan).expect("native run");
        let w = Window { start, end: Utc::now() };
        let name = schema.name().to_string();
        verify_postgres(schema.client(), &name, plan, w).expect("native verifies");
        let functions: Vec<u32> = schema
            .client()
            .query(
                "SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE n.nspname = $1 AND p.proname LIKE 'trigorm%'",
                &[&name],
            )
            .expect("functions")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            functions.len(),
            3,
            "one function per audit trigger, in the run's schema"
        );
        let triggers: i64 = schema
            .client()
            .query_one(
                "SELECT COUNT(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND t.tgname LIKE 'trigorm%'",
                &[&name],
            )
            .and_then(|r| r.try_get(0))
            .expect("triggers");
        assert_eq!(triggers, 3);
        schema.drop_now().expect("drop");
        let left: i64 = server
            .client()
            .query_one("SELECT COUNT(*) FROM pg_proc WHERE oid = ANY($1)", &[&functions])
            .and_then(|r| r.try_get(0))
            .expect("count");
        assert_eq!(left, 0, "the trigger functions are dropped with the schema");
    }

    /// The native variant passes on MariaDB/MySQL; its triggers go with the database.
    /// Skipped as the test below, and while trigorm refuses the URL as unsupported.
    #[test]
    fn mysql_native_passes_and_leaves_nothing() {
        let Some(mut server) = crate::my::test_server() else {
            return;
        };
        let mut db = server.database().expect("database");
        if let Some(why) = crate::listeners::unsupported(&db.url()) {
            eprintln!("skipped: trigorm does not open MariaDB/MySQL URLs: {why}");
            return;
        }
        db.create_tables().expect("tables");
        let plan = Plan { rows: 200, batch: 50 };
        let start = Utc::now();
        crate::native::run(&db.url(), plan).expect("native run");
        let w = Window { start, end: Utc::now() };
        let name = db.name().to_string();
        verify_mysql(db.client(), &name, plan, w).expect("native verifies");
        let triggers = |c: &mut mysql::Conn| -> Option<u64> {
            c.exec_first(
                "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?",
                (&name,),
            )
            .expect("triggers")
        };
        assert_eq!(triggers(db.client()), Some(3));
        db.drop_now().expect("drop");
        assert_eq!(triggers(server.client()), Some(0), "the triggers go with the database");
    }

    /// The floor passes on MariaDB/MySQL, and damage is caught there too. Skipped when no
    /// server answers at `TRIGORM_MYSQL_URL`, unless `TRIGORM_REQUIRE_SERVERS=1`.
    #[test]
    fn mysql_floor_passes_and_damage_is_caught() {
        let Some(mut server) = crate::my::test_server() else {
            return;
        };
        let mut db = server.database().expect("database");
        db.create_tables().expect("tables");
        let plan = Plan { rows: 200, batch: 50 };
        let start = Utc::now();
        crate::floor_mysql::run(&db.url(), db.name(), plan).expect("floor run");
        let w = Window { start, end: Utc::now() };
        let name = db.name().to_string();
        verify_mysql(db.client(), &name, plan, w).expect("floor verifies");
        let fails = |c: &mut mysql::Conn, needle: &str| {
            let e = verify_mysql(c, &name, plan, w).expect_err("a wrong end state");
            let msg = e.downcast_ref::<CheckFailed>().expect("a CheckFailed").0.clone();
            assert!(msg.contains(needle), "{msg}");
        };
        let c = db.client();
        let damage = |c: &mut mysql::Conn, sql: String| c.query_drop(sql).expect("damage");
        damage(
            c,
            format!("UPDATE {name}.log SET changed_at = changed_at - INTERVAL 1 HOUR WHERE id = 3"),
        );
        fails(c, "log 3: changed_at");
        damage(
            c,
            format!("UPDATE {name}.log SET old_name = 'x' WHERE change_type = 'update' AND user_id = 60"),
        );
        fails(c, "old Some(\"x\")");
        damage(
            c,
            format!("DELETE FROM {name}.log WHERE change_type = 'delete' AND user_id = 7"),
        );
        fails(c, "user 7: deleted, but no delete log row");
        damage(c, format!("DELETE FROM {name}.users WHERE id = 60"));
        fails(c, "user 60 should remain");
        damage(
            c,
            format!("ALTER TABLE {name}.users MODIFY created_at DATETIME NOT NULL"),
        );
        fails(c, "of type DATETIME(6)");
        assert!(
            verify_mysql(c, "test", plan, w).is_err(),
            "only a database of the benchmark"
        );
        db.drop_now().expect("drop");
    }
}
