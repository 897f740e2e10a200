//! The end-state check, on a plain rusqlite connection after the variant's process ended:
//! the counts (users = N/2, log = 2.5 N for N a multiple of 2B), every remaining user, and
//! every log row's change type, old and new names, user and timestamp form.

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags};

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

/// Check the end state of a finished run; a wrong state is a [`CheckFailed`] error.
pub fn verify(db: &Path, plan: Plan) -> Result<()> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .with_context(|| format!("opening {} to verify it", db.display()))?;
    let count = |table: &str| -> Result<u64> {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let (users, logs) = (count("users")?, count("log")?);
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

    let n = usize::try_from(plan.rows).context("rows")?;
    let mut kept = vec![false; n + 1];
    let mut q = conn.prepare("SELECT id, name, email, created_at FROM users ORDER BY id")?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let (name, email, created): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let Some(uid) = u64::try_from(id).ok().filter(|&i| i >= 1 && i <= plan.rows) else {
            p.add(|| format!("user {id}: no such user was inserted"));
            continue;
        };
        let j = uid - 1;
        if plan.is_deleted(uid) {
            p.add(|| format!("user {id} is in a deleted range but remains"));
        }
        kept[uid as usize] = true;
        if name != format!("user{j}{UPDATE_SUFFIX}") {
            p.add(|| format!("user {id}: name {name:?}, expected \"user{j}{UPDATE_SUFFIX}\""));
        }
        if email != format!("u{j}@x.org") {
            p.add(|| format!("user {id}: email {email:?}, expected \"u{j}@x.org\""));
        }
        if !is_timestamp_text(&created) {
            p.add(|| format!("user {id}: created_at {created:?} is not trigorm's timestamp text"));
        }
    }
    drop(rows);
    for uid in 1..=plan.rows {
        if !plan.is_deleted(uid) && !kept[uid as usize] {
            p.add(|| format!("user {uid} should remain but is missing"));
        }
    }

    let mut seen = vec![Seen::default(); n + 1];
    let mut q = conn.prepare("SELECT id, user_id, change_type, old_name, new_name, changed_at FROM log ORDER BY id")?;
    let mut rows = q.query([])?;
    while let Some(r) = rows.next()? {
        let log_id: i64 = r.get(0)?;
        let user_id: i64 = r.get(1)?;
        let kind: String = r.get(2)?;
        let old: Option<String> = r.get(3)?;
        let new: Option<String> = r.get(4)?;
        let at: String = r.get(5)?;
        let Some(uid) = u64::try_from(user_id).ok().filter(|&i| i >= 1 && i <= plan.rows) else {
            p.add(|| format!("log {log_id}: user_id {user_id} is no inserted user"));
            continue;
        };
        let j = uid - 1;
        let (base, v2) = (format!("user{j}"), format!("user{j}{UPDATE_SUFFIX}"));
        let (expected_old, expected_new, slot) = match kind.as_str() {
            "insert" => (None, Some(&base), &mut seen[uid as usize].insert),
            "update" => (Some(&base), Some(&v2), &mut seen[uid as usize].update),
            "delete" => (Some(&v2), None, &mut seen[uid as usize].delete),
            other => {
                p.add(|| format!("log {log_id}: change_type {other:?}"));
                continue;
            }
        };
        if *slot != 0 {
            p.add(|| format!("log {log_id}: a second {kind} row for user {uid} (first: log {slot})"));
        }
        *slot = log_id;
        if old.as_ref() != expected_old || new.as_ref() != expected_new {
            p.add(|| {
                format!(
                    "log {log_id} ({kind} of user {uid}): old {old:?} new {new:?}, expected old {expected_old:?} new {expected_new:?}"
                )
            });
        }
        if !is_timestamp_text(&at) {
            p.add(|| format!("log {log_id}: changed_at {at:?} is not trigorm's timestamp text"));
        }
    }
    for uid in 1..=plan.rows {
        let s = seen[uid as usize];
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
        "verification of {} failed: {} problem(s) (users = {users}, log = {logs}; expected {} and {})",
        db.display(),
        p.count,
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

    /// Both variants pass on a small run, and each kind of damage is caught.
    #[test]
    fn good_runs_pass_and_damage_is_caught() {
        let dir = WorkDir::fresh().expect("temp dir");
        let plan = Plan { rows: 250, batch: 50 };
        let floor = dir.path().join("floor.db");
        crate::floor::run(&floor, plan).expect("floor run");
        verify(&floor, plan).expect("floor verifies");
        let lis = dir.path().join("listeners.db");
        crate::listeners::run(&lis, plan).expect("listeners run");
        verify(&lis, plan).expect("listeners verifies");

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
}
