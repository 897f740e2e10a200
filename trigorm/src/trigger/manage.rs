//! The life of declared triggers in a database, through a driver connection: what is
//! there ([`status`]), bringing it in line ([`install`]), removing ([`uninstall`],
//! [`prune`]), and a check for CI ([`check`]). The same on every backend; where DDL is
//! transactional (SQLite, PostgreSQL) a change is one transaction, elsewhere a failure
//! midway says what was and was not done.

use crate::backend::Backend;
use crate::driver::{Connection, QueryError};
use crate::error::{DbError, Error};
use crate::value::Value;

use super::compile::{compile_among, Compiled, MARKER, OFF};
use super::decl::{TriggerDef, PREFIX};

/// The state of one declared trigger in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Installed as declared.
    Installed,
    /// Installed, but from other SQL than the declaration renders now (changed in code, or
    /// by hand): `install` replaces it.
    Outdated,
    /// Not in the database (or only some of its parts).
    Missing,
    /// Installed as declared and switched off (PostgreSQL `DISABLE TRIGGER`).
    Disabled,
}

/// The status of the database's managed triggers against the declarations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Each declaration (by its database name) and its state.
    pub declared: Vec<(String, State)>,
    /// Database triggers with the managed prefix that no declaration makes (table, name).
    pub orphaned: Vec<(String, String)>,
}

impl Status {
    /// Whether the database is exactly as declared: everything installed, nothing orphaned.
    pub fn in_sync(&self) -> bool {
        self.orphaned.is_empty() && self.declared.iter().all(|(_, s)| *s == State::Installed)
    }
}

/// A managed trigger found in the database.
#[derive(Debug, Clone)]
struct Found {
    name: String,
    table: String,
    fingerprint: Option<String>,
    enabled: bool,
}

/// The managed triggers in the connection's database (its current schema on PostgreSQL).
fn found(conn: &mut dyn Connection) -> Result<Vec<Found>, Error> {
    let backend = conn.backend();
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name, tbl_name, sql, 1 FROM sqlite_master WHERE type = 'trigger' \
             AND substr(name, 1, 8) = 'trigorm_'"
        }
        Backend::Postgres => {
            "SELECT t.tgname::text, c.relname::text, COALESCE(obj_description(t.oid, 'pg_trigger'), ''), \
             CASE WHEN t.tgenabled = 'D' THEN 0 ELSE 1 END FROM pg_trigger t \
             JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND substr(t.tgname, 1, 8) = 'trigorm_'"
        }
        Backend::Mysql => {
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT, 1 FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = DATABASE() AND SUBSTR(TRIGGER_NAME, 1, 8) = 'trigorm_'"
        }
    };
    debug_assert_eq!(PREFIX.len(), 8);
    let mut out = Vec::new();
    conn.query(sql, &[], &mut |row| {
        let text = |v: &Value| match v {
            Value::Text(s) => s.clone(),
            Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        let source = text(&row[2]);
        let fingerprint = fingerprint_in(&source);
        let off = fingerprint
            .as_ref()
            .is_some_and(|fp| source.contains(&format!("{MARKER}{fp}{OFF}")));
        out.push(Found {
            name: text(&row[0]),
            table: text(&row[1]),
            fingerprint,
            enabled: row[3] != Value::Int(0) && !off,
        });
        Ok(())
    })
    .map_err(|e| query_failed(e, sql))?;
    out.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    Ok(out)
}

/// The fingerprint after the marker in a trigger's source or comment.
fn fingerprint_in(source: &str) -> Option<String> {
    let at = source.find(MARKER)? + MARKER.len();
    let fp: String = source[at..].chars().take_while(char::is_ascii_hexdigit).collect();
    (fp.len() == 16).then_some(fp)
}

fn query_failed(e: QueryError, sql: &str) -> Error {
    match e {
        QueryError::Db(source) => Error::Statement {
            operation: "read triggers",
            model: None,
            pk: None,
            sql: sql.to_string(),
            source: Box::new(source),
        },
        other => Error::Internal(format!("reading the database's triggers: {other:?}")),
    }
}

/// Compile every declaration for the connection's backend.
fn compiled(conn: &dyn Connection, defs: &[TriggerDef]) -> Result<Vec<Compiled>, Error> {
    let backend = conn.backend();
    let out: Vec<Compiled> = defs
        .iter()
        .map(|d| compile_among(d, backend, defs))
        .collect::<Result<_, _>>()?;
    for (i, c) in out.iter().enumerate() {
        if out[..i].iter().any(|o| o.name == c.name) {
            return Err(Error::InvalidTrigger {
                model: defs[i].table.model,
                trigger: defs[i].name.clone(),
                reason: "two triggers of this table have this name".into(),
            });
        }
    }
    Ok(out)
}

fn state_of(c: &Compiled, found: &[Found]) -> State {
    let parts: Vec<&Found> = c
        .triggers
        .iter()
        .filter_map(|n| found.iter().find(|f| &f.name == n && f.table == c.table))
        .collect();
    if parts.len() < c.triggers.len() {
        State::Missing
    } else if parts
        .iter()
        .any(|f| f.fingerprint.as_deref() != Some(c.fingerprint.as_str()))
    {
        State::Outdated
    } else if parts.iter().any(|f| !f.enabled) {
        State::Disabled
    } else {
        State::Installed
    }
}

/// The state of each declaration, and the managed triggers nothing declares.
///
/// # Errors
/// A declaration's error, or the database's.
pub fn status(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<Status, Error> {
    let compiled = compiled(conn, defs)?;
    let found = found(conn)?;
    let declared = compiled.iter().map(|c| (c.name.clone(), state_of(c, &found))).collect();
    let orphaned = found
        .iter()
        .filter(|f| {
            !compiled
                .iter()
                .any(|c| c.table == f.table && c.triggers.contains(&f.name))
        })
        .map(|f| (f.table.clone(), f.name.clone()))
        .collect();
    Ok(Status { declared, orphaned })
}

/// Fail unless the database is exactly as declared.
///
/// # Errors
/// [`Error::TriggerDrift`] listing what differs; a declaration's or the database's error.
pub fn check(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<Status, Error> {
    let s = status(conn, defs)?;
    if s.in_sync() {
        return Ok(s);
    }
    let mut drift: Vec<String> = s
        .declared
        .iter()
        .filter(|(_, st)| *st != State::Installed)
        .map(|(n, st)| format!("{n}: {st:?}"))
        .collect();
    drift.extend(s.orphaned.iter().map(|(t, n)| format!("{n} on {t}: orphaned")));
    Err(Error::TriggerDrift { drift })
}

/// Run `statements` (each with the database trigger it concerns) as one change: in one
/// transaction where DDL is transactional, else one by one, saying what was done.
fn apply(conn: &mut dyn Connection, operation: &'static str, statements: &[(String, String)]) -> Result<(), Error> {
    if statements.is_empty() {
        return Ok(());
    }
    let transactional = conn.backend() != Backend::Mysql;
    let fail = |i: usize, source: DbError| {
        let mut done: Vec<String> = Vec::new();
        let mut not_done: Vec<String> = Vec::new();
        for (n, (trigger, _)) in statements.iter().enumerate() {
            let list = if n < i && !transactional {
                &mut done
            } else {
                &mut not_done
            };
            if !list.contains(trigger) {
                list.push(trigger.clone());
            }
        }
        done.retain(|t| !not_done.contains(t));
        Error::TriggersIncomplete {
            operation,
            done,
            not_done,
            sql: statements[i].1.clone(),
            source: Box::new(source),
        }
    };
    let tx = |source| Error::Transaction {
        operation: "BEGIN",
        source: Box::new(source),
    };
    if transactional {
        conn.begin(true).map_err(tx)?;
    }
    for (i, (_, sql)) in statements.iter().enumerate() {
        if let Err(e) = conn.execute_batch(sql) {
            if transactional {
                let _ = conn.rollback();
            }
            return Err(fail(i, e));
        }
    }
    if transactional {
        conn.commit().map_err(|source| {
            let _ = conn.rollback();
            Error::Transaction {
                operation: "COMMIT",
                source: Box::new(source),
            }
        })?;
    }
    Ok(())
}

/// Install the declarations: those missing are created, outdated ones replaced, installed
/// ones left alone (so installing twice changes nothing). Orphans stay (see [`prune`]).
///
/// # Errors
/// A declaration's error before anything runs; the database's, with
/// [`Error::TriggersIncomplete`] saying what was done where DDL is not transactional.
pub fn install(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<Status, Error> {
    let compiled = compiled(conn, defs)?;
    let found = found(conn)?;
    let mut statements = Vec::new();
    for c in &compiled {
        match state_of(c, &found) {
            State::Installed | State::Disabled => continue,
            State::Outdated | State::Missing => {}
        }
        let first = c.triggers.first().cloned().unwrap_or_default();
        statements.extend(c.drop.iter().map(|s| (first.clone(), s.clone())));
        statements.extend(c.create.iter().map(|s| (first.clone(), s.clone())));
    }
    if conn.backend() == Backend::Sqlite && !statements.is_empty() {
        // What the triggers read to be ignored for one transaction (a main-schema table:
        // a trigger cannot read a TEMP one).
        statements.insert(
            0,
            (
                super::sqlite::IGNORE_TABLE.to_string(),
                format!(
                    "CREATE TABLE IF NOT EXISTS \"{}\" (name TEXT PRIMARY KEY)",
                    super::sqlite::IGNORE_TABLE
                ),
            ),
        );
    }
    apply(conn, "install", &statements)?;
    status(conn, defs)
}

/// Remove the declarations' triggers from the database.
///
/// # Errors
/// As [`install`].
pub fn uninstall(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<(), Error> {
    let compiled = compiled(conn, defs)?;
    let statements: Vec<(String, String)> = compiled
        .iter()
        .flat_map(|c| {
            let first = c.triggers.first().cloned().unwrap_or_default();
            c.drop.iter().map(move |s| (first.clone(), s.clone()))
        })
        .collect();
    apply(conn, "uninstall", &statements)
}

/// Remove the managed triggers that no declaration makes (orphans); the names removed.
///
/// # Errors
/// As [`install`].
pub fn prune(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<Vec<String>, Error> {
    let s = status(conn, defs)?;
    let backend = conn.backend();
    let statements: Vec<(String, String)> = s
        .orphaned
        .iter()
        .map(|(table, name)| {
            let sql = match backend {
                Backend::Sqlite => format!("DROP TRIGGER IF EXISTS \"{name}\""),
                Backend::Postgres => format!("DROP TRIGGER IF EXISTS \"{name}\" ON \"{table}\""),
                Backend::Mysql => format!("DROP TRIGGER IF EXISTS `{name}`"),
            };
            (name.clone(), sql)
        })
        .collect();
    for (name, _) in &statements {
        crate::schema::validate_identifier(crate::schema::IdentKind::Trigger, name)?;
    }
    apply(conn, "prune", &statements)?;
    Ok(statements.into_iter().map(|(n, _)| n).collect())
}

/// Switch the declared trigger `name` (its database name, [`TriggerDef::managed_name`])
/// off or on. It must be installed as declared ([`install`] first).
///
/// # Errors
/// [`Error::InvalidTrigger`] for a name nothing declares or a trigger not installed as
/// declared; the database's error.
pub fn set_enabled(conn: &mut dyn Connection, defs: &[TriggerDef], name: &str, on: bool) -> Result<(), Error> {
    let compiled = compiled(conn, defs)?;
    let found = found(conn)?;
    let not = |reason: &str| Error::InvalidTrigger {
        model: defs.first().map_or("-", |d| d.table.model),
        trigger: name.to_string(),
        reason: reason.to_string(),
    };
    let c = compiled
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| not("no declaration has this name"))?;
    match (state_of(c, &found), on) {
        (State::Installed, true) | (State::Disabled, false) => return Ok(()),
        (State::Installed, false) | (State::Disabled, true) => {}
        _ => return Err(not("it is not installed as declared: install it first")),
    }
    let first = c.triggers.first().cloned().unwrap_or_default();
    let statements: Vec<(String, String)> = if on { &c.enable } else { &c.disable }
        .iter()
        .map(|s| (first.clone(), s.clone()))
        .collect();
    apply(conn, if on { "enable" } else { "disable" }, &statements)
}
