//! The life of declared triggers in a database, through a driver connection: what is
//! there ([`status`]), bringing it in line ([`install`]), removing ([`uninstall`],
//! [`prune`]), and a check for CI ([`check`]). The same on every backend; where DDL is
//! transactional (SQLite, PostgreSQL) a change is one transaction, elsewhere a failure
//! midway says what was and was not done. Several triggers of one table, timing and event
//! fire in the order of their declared names on every backend (see [`install`]).

use crate::backend::Backend;
use crate::driver::Connection;
use crate::error::{DbError, Error};

use super::catalog::{found, found_functions, Found};
use super::compile::{compile_among, Compiled, DbTrigger};
use super::decl::TriggerDef;
use super::mysql::Place;

/// The state of one declared trigger in the database.
///
/// ```
/// use trigorm::trigger::{manage::State, Ops, TriggerDef};
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let engine = Engine::builder("sqlite::memory:")
///     .model::<Log>()
///     .trigger(TriggerDef::protect("append_only", Log::table(), Ops::DELETE))
///     .build()?;
/// assert_eq!(engine.trigger_status()?.declared[0].1, State::Missing);
/// engine.create_all()?;
/// assert_eq!(engine.trigger_status()?.declared[0].1, State::Installed);
/// # Ok::<(), trigorm::Error>(())
/// ```
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
///
/// ```
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// #[trigorm(protect(name = "append_only", update, delete))]
/// struct Log { id: i64, text: String }
/// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
/// engine.create_all()?;
/// let status = engine.trigger_status()?;
/// assert!(status.in_sync() && status.orphaned.is_empty());
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// Each declaration (by its database name) and its state.
    pub declared: Vec<(String, State)>,
    /// Database triggers with the managed prefix that no declaration makes (table, name).
    pub orphaned: Vec<(String, String)>,
    /// Trigger functions with the managed prefix (PostgreSQL, in the current schema) that
    /// no declaration makes and no trigger calls but orphaned ones: left behind by a
    /// trigger dropped by hand, or by a declaration removed from the code. Empty elsewhere.
    pub orphaned_functions: Vec<String>,
}

impl Status {
    /// Whether the database is exactly as declared: everything installed, nothing orphaned.
    pub fn in_sync(&self) -> bool {
        self.orphaned.is_empty()
            && self.orphaned_functions.is_empty()
            && self.declared.iter().all(|(_, s)| *s == State::Installed)
    }
}

/// Compile every declaration for the connection's backend.
fn compiled(conn: &dyn Connection, defs: &[TriggerDef]) -> Result<Vec<Compiled>, Error> {
    super::decl::check_names(defs)?;
    let backend = conn.backend();
    defs.iter().map(|d| compile_among(d, backend, defs)).collect()
}

/// One database trigger a declaration makes, with its declaration.
type Member<'a> = (&'a Compiled, &'a DbTrigger);

/// Triggers of one table, timing and event fire in a defined order.
type GroupKey<'a> = (&'a str, &'a str, &'a str);

/// The database against the declarations.
struct View {
    backend: Backend,
    /// The server replaces a trigger in one statement (MariaDB's `CREATE OR REPLACE
    /// TRIGGER`): no moment without it, and a replacement that fails leaves the old one.
    replaces: bool,
    compiled: Vec<Compiled>,
    found: Vec<Found>,
    /// Database triggers there as declared, but out of the declared order.
    misplaced: Vec<String>,
}

impl View {
    fn read(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<View, Error> {
        let mut view = View {
            backend: conn.backend(),
            replaces: conn.backend() == Backend::Mysql && conn.server_version().is_some_and(|v| v.contains("MariaDB")),
            compiled: compiled(conn, defs)?,
            found: found(conn)?,
            misplaced: Vec::new(),
        };
        let mut misplaced = Vec::new();
        for group in view.groups() {
            let kept = view.kept(&group);
            for ((c, t), keep) in group.iter().zip(kept) {
                if !keep && view.current(c, t).is_some() {
                    misplaced.push(t.name.clone());
                }
            }
        }
        view.misplaced = misplaced;
        Ok(view)
    }

    /// The database trigger `t` of `c`, if it is there.
    fn found(&self, c: &Compiled, t: &DbTrigger) -> Option<&Found> {
        self.found.iter().find(|f| f.name == t.name && f.table == c.table)
    }

    /// The database trigger `t` of `c`, if it is there as declared (on or off).
    fn current(&self, c: &Compiled, t: &DbTrigger) -> Option<&Found> {
        self.found(c, t)
            .filter(|f| f.fingerprint.as_deref() == Some(c.fingerprint.as_str()))
    }

    fn state(&self, c: &Compiled) -> State {
        let parts: Vec<&Found> = c.triggers.iter().filter_map(|t| self.found(c, t)).collect();
        if parts.len() < c.triggers.len() {
            State::Missing
        } else if parts
            .iter()
            .any(|f| f.fingerprint.as_deref() != Some(c.fingerprint.as_str()) || self.misplaced.contains(&f.name))
        {
            State::Outdated
        } else if parts.iter().any(|f| !f.enabled) {
            State::Disabled
        } else {
            State::Installed
        }
    }

    /// The declared database triggers by table, timing and event, each group in the order
    /// they are to fire: by declared name (byte order; PostgreSQL's own rule).
    fn groups(&self) -> Vec<Vec<Member<'_>>> {
        let mut groups: Vec<(GroupKey<'_>, Vec<Member<'_>>)> = Vec::new();
        for c in &self.compiled {
            for t in &c.triggers {
                for event in &t.events {
                    let key = (c.table, t.timing, *event);
                    match groups.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, members)) => members.push((c, t)),
                        None => groups.push((key, vec![(c, t)])),
                    }
                }
            }
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups
            .into_iter()
            .map(|(_, mut members)| {
                members.sort_by(|a, b| (&a.0.name, &a.1.name).cmp(&(&b.0.name, &b.1.name)));
                members
            })
            .collect()
    }

    /// Which triggers of `group` may stay where they are: the longest run of those there
    /// as declared that already fire in the declared order.
    fn kept(&self, group: &[Member<'_>]) -> Vec<bool> {
        let keys: Vec<Option<i64>> = group
            .iter()
            .map(|(c, t)| {
                let f = self.current(c, t)?;
                Some(match self.backend {
                    Backend::Sqlite => -f.position,
                    Backend::Mysql => f.position,
                    Backend::Postgres => 0,
                })
            })
            .collect();
        if self.backend == Backend::Postgres {
            return keys.iter().map(Option::is_some).collect();
        }
        longest_increasing(&keys)
    }

    /// The statements that create `t` of `c` as it is to stay: switched off if it is there
    /// as declared and off, else on.
    fn create_as_is(&self, c: &Compiled, t: &DbTrigger) -> Vec<String> {
        let off = self.current(c, t).is_some_and(|f| !f.enabled);
        let statements = if off && !t.create_off.is_empty() {
            &t.create_off
        } else {
            &t.create
        };
        statements.clone()
    }
}

/// The longest chain of `keys` (`None`: out of it) whose keys increase in the given
/// order, as a mask.
fn longest_increasing(keys: &[Option<i64>]) -> Vec<bool> {
    let mut length = vec![0usize; keys.len()];
    let mut before: Vec<Option<usize>> = vec![None; keys.len()];
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key else { continue };
        length[i] = 1;
        for (j, earlier) in keys[..i].iter().enumerate() {
            if earlier.is_some_and(|e| e < *key) && length[j] + 1 > length[i] {
                length[i] = length[j] + 1;
                before[i] = Some(j);
            }
        }
    }
    let mut keep = vec![false; keys.len()];
    let mut at = (0..keys.len())
        .filter(|&i| length[i] > 0)
        .max_by_key(|&i| (length[i], std::cmp::Reverse(i)));
    while let Some(i) = at {
        keep[i] = true;
        at = before[i];
    }
    keep
}

/// The state of each declaration, and the managed triggers (and PostgreSQL functions)
/// nothing declares. A trigger there as declared but out of the declared order (see
/// [`install`]) makes its declaration [`State::Outdated`].
///
/// # Errors
/// A declaration's error, or the database's.
///
/// ```
/// use trigorm::trigger::{manage, Ops, TriggerDef};
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let defs = [TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE)];
/// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
/// engine.create_all()?;
/// let st = engine.with_connection(|c| manage::status(c, &defs))?;
/// assert_eq!(st.declared, [("trigorm_log_append_only".to_string(), manage::State::Missing)]);
/// # Ok::<(), trigorm::Error>(())
/// ```
pub fn status(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<Status, Error> {
    let view = View::read(conn, defs)?;
    let functions = found_functions(conn)?;
    let declared = view.compiled.iter().map(|c| (c.name.clone(), view.state(c))).collect();
    let orphaned: Vec<(String, String)> = view
        .found
        .iter()
        .filter(|f| {
            !view
                .compiled
                .iter()
                .any(|c| c.table == f.table && c.triggers.iter().any(|t| t.name == f.name))
        })
        .map(|f| (f.table.clone(), f.name.clone()))
        .collect();
    let orphaned_functions = functions
        .into_iter()
        .filter(|f| !view.compiled.iter().any(|c| c.functions.contains(&f.name)))
        .filter(|f| {
            f.callers
                .iter()
                .all(|(table, trigger, here)| *here && orphaned.iter().any(|(t, n)| t == table && n == trigger))
        })
        .map(|f| f.name)
        .collect();
    Ok(Status {
        declared,
        orphaned,
        orphaned_functions,
    })
}

/// Fail unless the database is exactly as declared.
///
/// # Errors
/// [`Error::TriggerDrift`] listing what differs; a declaration's or the database's error.
///
/// ```
/// use trigorm::trigger::{manage, Ops, TriggerDef};
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let defs = [TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE)];
/// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
/// engine.create_all()?;
/// assert!(engine.with_connection(|c| manage::check(c, &defs)).is_err()); // missing
/// engine.with_connection(|c| manage::install(c, &defs))?;
/// engine.with_connection(|c| manage::check(c, &defs))?;
/// # Ok::<(), trigorm::Error>(())
/// ```
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
    drift.extend(s.orphaned_functions.iter().map(|n| format!("function {n}: orphaned")));
    Err(Error::TriggerDrift { drift })
}

/// Run `statements` (each with the database trigger it concerns, or none: empty) as one change: in one
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
            if !trigger.is_empty() && !list.contains(trigger) {
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

/// Remake the triggers of `group` (one table, timing and event, in firing order) for
/// which `redo` holds, each with `create(member)`, where the backend fires them in the
/// group's order: SQLite drops and creates them all (it fires the newest first);
/// MariaDB/MySQL places each one right after the one before it in the group (`FOLLOWS`),
/// or the first right before the first one that stays (`PRECEDES`), replacing one that
/// exists in the same statement where the server can (`replaces`, MariaDB), else dropping
/// it first (MySQL). Those not redone stay; `exists` says which are in the database. Each
/// statement comes with its trigger.
fn remake(
    backend: Backend,
    replaces: bool,
    group: &[Member<'_>],
    redo: &[bool],
    exists: &[bool],
    create: impl Fn(&Compiled, &DbTrigger) -> Vec<String>,
) -> Result<Vec<(String, String)>, Error> {
    if backend == Backend::Sqlite {
        let made: Vec<(&DbTrigger, Vec<String>)> = group
            .iter()
            .zip(redo)
            .filter(|(_, r)| **r)
            .map(|((c, t), _)| (*t, create(c, t)))
            .collect();
        let made: Vec<(&DbTrigger, &[String])> = made.iter().map(|(t, s)| (*t, s.as_slice())).collect();
        return Ok(super::sqlite::remake(&made));
    }
    let mut out = Vec::new();
    // In place: those that stay, and those already remade (never one still to be moved).
    let mut there: Vec<bool> = exists.iter().zip(redo).map(|(e, r)| *e && !*r).collect();
    for (i, (c, t)) in group.iter().enumerate() {
        if !redo[i] {
            continue;
        }
        let place = match group[..i].iter().zip(&there[..i]).rev().find(|(_, e)| **e) {
            Some(((_, before), _)) => Place::Follows(&before.name),
            None => match group.iter().zip(&there).skip(i + 1).find(|(_, e)| **e) {
                Some(((_, after), _)) => Place::Precedes(&after.name),
                None => Place::Last,
            },
        };
        let replace = replaces && exists[i];
        if !replace {
            out.push((t.name.clone(), t.drop.clone()));
        }
        for sql in create(c, t) {
            let sql = if replace { super::mysql::or_replace(&sql)? } else { sql };
            out.push((t.name.clone(), super::mysql::placed(&sql, place)?));
        }
        there[i] = true;
    }
    Ok(out)
}

/// Install the declarations: those missing are created, outdated ones replaced, installed
/// ones left alone (so installing twice changes nothing). Orphans stay (see [`prune`]).
///
/// Several triggers of one table, timing and event fire in the order of their declared
/// names (byte order): PostgreSQL's own rule (it fires them by name, and all managed names
/// share `trigorm_<table>_`), kept on the other backends by where each trigger is created.
/// SQLite fires the newest trigger first, so when a trigger of such a group is created or
/// replaced, the group is dropped and created again from its last to its first; MariaDB
/// and MySQL fire them in creation order, so a trigger created or replaced there is placed
/// with `FOLLOWS` / `PRECEDES` and the others stay. A disabled trigger keeps its place and
/// stays disabled; one found out of order shows as [`State::Outdated`] and is put back. An
/// outdated trigger is replaced by what its declaration renders now, switched on (the
/// declaration changed: switch it off again with [`set_enabled`] if need be).
///
/// # Errors
/// A declaration's error before anything runs; the database's, with
/// [`Error::TriggersIncomplete`] saying what was done where DDL is not transactional.
///
/// ```
/// use trigorm::trigger::{manage, Ops, TriggerDef};
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let defs = [TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE)];
/// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
/// engine.create_all()?;
/// let st = engine.with_connection(|c| manage::install(c, &defs))?;
/// assert!(st.in_sync());
/// assert_eq!(engine.with_connection(|c| manage::install(c, &defs))?, st); // nothing to do
/// # Ok::<(), trigorm::Error>(())
/// ```
pub fn install(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<Status, Error> {
    let view = View::read(conn, defs)?;
    let mut statements = Vec::new();
    if view.backend == Backend::Postgres {
        // Names order the triggers: each outdated or missing declaration is made again.
        for c in &view.compiled {
            if !matches!(view.state(c), State::Outdated | State::Missing) {
                continue;
            }
            let first = c.triggers.first().map_or_else(|| c.name.clone(), |t| t.name.clone());
            statements.extend(c.triggers.iter().map(|t| (t.name.clone(), t.drop.clone())));
            statements.extend(c.create.iter().map(|s| (first.clone(), s.clone())));
        }
    } else {
        for group in view.groups() {
            let kept = view.kept(&group);
            if kept.iter().all(|k| *k) {
                continue;
            }
            let exists: Vec<bool> = group.iter().map(|(c, t)| view.found(c, t).is_some()).collect();
            let redo: Vec<bool> = if view.backend == Backend::Sqlite {
                vec![true; group.len()]
            } else {
                kept.iter().map(|k| !k).collect()
            };
            statements.extend(remake(view.backend, view.replaces, &group, &redo, &exists, |c, t| {
                view.create_as_is(c, t)
            })?);
        }
    }
    apply(conn, "install", &statements)?;
    status(conn, defs)
}

/// Remove the declarations' triggers from the database.
///
/// # Errors
/// As [`install`].
///
/// ```
/// use trigorm::trigger::{manage, Ops, TriggerDef};
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let defs = [TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE)];
/// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
/// engine.create_all()?;
/// engine.with_connection(|c| manage::install(c, &defs))?;
/// engine.with_connection(|c| manage::uninstall(c, &defs))?;
/// let st = engine.with_connection(|c| manage::status(c, &defs))?;
/// assert_eq!(st.declared[0].1, manage::State::Missing);
/// # Ok::<(), trigorm::Error>(())
/// ```
pub fn uninstall(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<(), Error> {
    let compiled = compiled(conn, defs)?;
    let statements: Vec<(String, String)> = compiled
        .iter()
        .flat_map(|c| {
            c.drop.iter().map(move |s| {
                let of = c.triggers.iter().find(|t| &t.drop == s).or(c.triggers.first());
                (of.map_or_else(|| c.name.clone(), |t| t.name.clone()), s.clone())
            })
        })
        .collect();
    apply(conn, "uninstall", &statements)
}

/// Remove the managed triggers that no declaration makes (orphans), then the orphaned
/// PostgreSQL trigger functions ([`Status::orphaned_functions`], those the triggers just
/// removed called included); the names removed.
///
/// # Errors
/// As [`install`].
///
/// ```
/// use trigorm::trigger::{manage, Ops, TriggerDef};
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let defs = [TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE)];
/// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
/// engine.create_all()?;
/// engine.with_connection(|c| manage::install(c, &defs))?;
/// // Declared no more: orphaned, and prune removes it.
/// let removed = engine.with_connection(|c| manage::prune(c, &[]))?;
/// assert_eq!(removed, ["trigorm_log_append_only_delete", "trigorm_log_append_only_update"]);
/// # Ok::<(), trigorm::Error>(())
/// ```
pub fn prune(conn: &mut dyn Connection, defs: &[TriggerDef]) -> Result<Vec<String>, Error> {
    let s = status(conn, defs)?;
    let backend = conn.backend();
    let mut statements: Vec<(String, String)> = s
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
    statements.extend(
        s.orphaned_functions
            .iter()
            .map(|name| (name.clone(), format!("DROP FUNCTION IF EXISTS \"{name}\"()"))),
    );
    for (name, _) in &statements {
        crate::schema::validate_identifier(crate::schema::IdentKind::Trigger, name)?;
    }
    if backend == Backend::Postgres {
        for (table, _) in &s.orphaned {
            crate::schema::validate_identifier(crate::schema::IdentKind::Table, table)?;
        }
    }
    apply(conn, "prune", &statements)?;
    Ok(statements.into_iter().map(|(n, _)| n).collect())
}

/// Switch the declared trigger `name` (its database name, [`TriggerDef::managed_name`])
/// off or on. It must be installed as declared ([`install`] first). Where a trigger is
/// switched off by replacing it (SQLite, MariaDB/MySQL), it keeps its place among the
/// triggers of its table, timing and event (see [`install`]).
///
/// # Errors
/// [`Error::InvalidTrigger`] for a name nothing declares or a trigger not installed as
/// declared; the database's error.
///
/// ```
/// use trigorm::trigger::{manage, Ops, TriggerDef};
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let defs = [TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE)];
/// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
/// engine.create_all()?;
/// engine.with_connection(|c| manage::install(c, &defs))?;
/// engine.with_connection(|c| manage::set_enabled(c, &defs, "trigorm_log_append_only", false))?;
/// let st = engine.with_connection(|c| manage::status(c, &defs))?;
/// assert_eq!(st.declared[0].1, manage::State::Disabled);
/// # Ok::<(), trigorm::Error>(())
/// ```
pub fn set_enabled(conn: &mut dyn Connection, defs: &[TriggerDef], name: &str, on: bool) -> Result<(), Error> {
    let view = View::read(conn, defs)?;
    let not = |reason: &str| Error::InvalidTrigger {
        model: defs.first().map_or("-", |d| d.table.model),
        trigger: name.to_string(),
        reason: reason.to_string(),
    };
    let c = view
        .compiled
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| not("no declaration has this name"))?;
    match (view.state(c), on) {
        (State::Installed, true) | (State::Disabled, false) => return Ok(()),
        (State::Installed, false) | (State::Disabled, true) => {}
        _ => return Err(not("it is not installed as declared: install it first")),
    }
    let operation = if on { "enable" } else { "disable" };
    if view.backend == Backend::Postgres {
        let first = c.triggers.first().map_or_else(|| c.name.clone(), |t| t.name.clone());
        let statements: Vec<(String, String)> = if on { &c.enable } else { &c.disable }
            .iter()
            .map(|s| (first.clone(), s.clone()))
            .collect();
        return apply(conn, operation, &statements);
    }
    // Triggers switched off by replacement: each group it is in is remade with it switched,
    // the others as they are (on SQLite those there as declared are remade too, to keep
    // the order; outdated ones stay for `install`).
    let create = |d: &Compiled, t: &DbTrigger| {
        if d.name != c.name {
            view.create_as_is(d, t)
        } else if on {
            t.create.clone()
        } else {
            t.create_off.clone()
        }
    };
    let mut statements = Vec::new();
    for group in view.groups() {
        if !group.iter().any(|(d, _)| d.name == c.name) {
            continue;
        }
        let exists: Vec<bool> = group.iter().map(|(d, t)| view.found(d, t).is_some()).collect();
        let redo: Vec<bool> = group
            .iter()
            .map(|(d, t)| d.name == c.name || (view.backend == Backend::Sqlite && view.current(d, t).is_some()))
            .collect();
        statements.extend(remake(view.backend, view.replaces, &group, &redo, &exists, create)?);
    }
    apply(conn, operation, &statements)
}

#[cfg(test)]
mod tests {
    use super::longest_increasing;

    #[test]
    fn the_longest_chain_in_order_stays() {
        assert_eq!(longest_increasing(&[]), Vec::<bool>::new());
        assert_eq!(longest_increasing(&[Some(1), Some(2), Some(3)]), [true; 3]);
        assert_eq!(longest_increasing(&[Some(3), Some(1), Some(2)]), [false, true, true]);
        assert_eq!(
            longest_increasing(&[Some(5), None, Some(6), Some(1)]),
            [true, false, true, false]
        );
        assert_eq!(longest_increasing(&[None, None]), [false, false]);
    }
}
