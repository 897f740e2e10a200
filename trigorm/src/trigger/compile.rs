//! A declaration compiled for one backend: the statements that create it, the database
//! triggers they make, the statements that drop them, and the fingerprint stored with them.

use crate::backend::Backend;
use crate::error::Error;
use crate::schema::TableDef;
use crate::value::Value;

use super::cond::Cond;
use super::decl::{Level, TriggerDef, TriggerKind};

/// Where the fingerprint goes in the rendered SQL before it is known.
pub(super) const FP: &str = "{trigorm-fingerprint}";

/// The marker that precedes a fingerprint in the database (a comment in the body, or the
/// trigger's comment on PostgreSQL).
pub const MARKER: &str = "trigorm:";

/// What follows the fingerprint of a trigger switched off by replacement (SQLite,
/// MariaDB/MySQL).
pub const OFF: &str = ":off";

/// One database trigger a declaration makes: what places it among the other triggers of
/// its table (its timing and events: triggers of one table, timing and event fire in the
/// order of their declared names), and the statements that make and remove it alone.
///
/// ```
/// use trigorm::backend::Backend;
/// use trigorm::trigger::{compile, Ops, TriggerDef};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let def = TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE);
/// let sqlite = compile(&def, Backend::Sqlite)?;
/// // One database trigger per operation on SQLite; one, with its function, on PostgreSQL.
/// assert_eq!(sqlite.triggers.len(), 2);
/// assert_eq!(sqlite.triggers[0].name, "trigorm_log_append_only_update");
/// assert!(sqlite.create[0].contains(&sqlite.fingerprint));
/// let postgres = compile(&def, Backend::Postgres)?;
/// assert_eq!(postgres.triggers[0].events, ["UPDATE", "DELETE"]);
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DbTrigger {
    /// Its name in the database.
    pub name: String,
    /// `BEFORE`, `AFTER` or `INSTEAD OF`.
    pub timing: &'static str,
    /// The events it fires on: `INSERT`, `UPDATE`, `DELETE` (one per trigger on SQLite and
    /// MariaDB/MySQL), `TRUNCATE` (the guard PostgreSQL adds to a protection of deletes).
    pub events: Vec<&'static str>,
    /// The statements that create it, switched on (on PostgreSQL its function is created
    /// by the declaration's first statement, [`Compiled::create`]).
    pub create: Vec<String>,
    /// The statements that create it switched off, where a trigger is switched off by
    /// replacing it (SQLite, MariaDB/MySQL); empty on PostgreSQL (`DISABLE TRIGGER`).
    pub create_off: Vec<String>,
    /// The statement that drops it (`IF EXISTS`).
    pub drop: String,
}

impl DbTrigger {
    /// A trigger with no statements yet.
    pub(super) fn new(name: String, timing: &'static str, events: Vec<&'static str>, drop: String) -> DbTrigger {
        DbTrigger {
            name,
            timing,
            events,
            create: Vec::new(),
            create_off: Vec::new(),
            drop,
        }
    }
}

/// A declaration compiled for one backend.
///
/// ```
/// use trigorm::backend::Backend;
/// use trigorm::trigger::{compile, Ops, TriggerDef};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let def = TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE);
/// let sqlite = compile(&def, Backend::Sqlite)?;
/// // One database trigger per operation on SQLite; one, with its function, on PostgreSQL.
/// assert_eq!(sqlite.triggers.len(), 2);
/// assert_eq!(sqlite.triggers[0].name, "trigorm_log_append_only_update");
/// assert!(sqlite.create[0].contains(&sqlite.fingerprint));
/// let postgres = compile(&def, Backend::Postgres)?;
/// assert_eq!(postgres.triggers[0].events, ["UPDATE", "DELETE"]);
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The declaration's name in the database (its triggers' names start with it).
    pub name: String,
    /// The table.
    pub table: &'static str,
    /// The database triggers it makes.
    pub triggers: Vec<DbTrigger>,
    /// The other database objects it makes: the trigger function on PostgreSQL.
    pub functions: Vec<String>,
    /// The statements that create them, in order.
    pub create: Vec<String>,
    /// The statements that drop them (`IF EXISTS`).
    pub drop: Vec<String>,
    /// The statements that switch them off, once created (PostgreSQL `DISABLE TRIGGER`;
    /// elsewhere, where triggers cannot be switched off, they are replaced by ones that do
    /// nothing and say so in their marker: the drops come first).
    pub disable: Vec<String>,
    /// The statements that switch them on again.
    pub enable: Vec<String>,
    /// The fingerprint of the rendered SQL, as stored in the database.
    pub fingerprint: String,
}

impl Compiled {
    /// Fill in the fingerprint: FNV-1a (64 bits) of the statements with the placeholder in.
    pub(super) fn seal(mut self) -> Compiled {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for s in &self.create {
            for b in s.bytes().chain(std::iter::once(0)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        self.fingerprint = format!("{h:016x}");
        let fingerprint = self.fingerprint.clone();
        let parts = self
            .triggers
            .iter_mut()
            .flat_map(|t| t.create.iter_mut().chain(&mut t.create_off));
        for s in self
            .create
            .iter_mut()
            .chain(&mut self.disable)
            .chain(&mut self.enable)
            .chain(parts)
        {
            *s = s.replace(FP, &fingerprint);
        }
        self
    }

    /// Add `part`, a database trigger switched off by replacement (SQLite, MariaDB/MySQL):
    /// `on` creates it, `off` creates it doing nothing.
    pub(super) fn push_switched(&mut self, mut part: DbTrigger, on: String, off: String) {
        self.create.push(on.clone());
        self.disable.extend([part.drop.clone(), off.clone()]);
        self.enable.extend([part.drop.clone(), on.clone()]);
        self.drop.push(part.drop.clone());
        part.create.push(on);
        part.create_off.push(off);
        self.triggers.push(part);
    }

    /// A declaration with nothing in it yet, for `def`.
    pub(super) fn empty(def: &TriggerDef) -> Compiled {
        Compiled {
            name: def.managed_name(),
            table: def.table.name,
            triggers: Vec::new(),
            functions: Vec::new(),
            create: Vec::new(),
            drop: Vec::new(),
            disable: Vec::new(),
            enable: Vec::new(),
            fingerprint: String::new(),
        }
    }
}

/// Compile `def` for `backend`.
///
/// # Errors
/// The declaration's errors ([`TriggerDef::validate`]); [`Error::Unsupported`] for what the
/// backend cannot express (said with the backend and why).
///
/// ```
/// use trigorm::backend::Backend;
/// use trigorm::trigger::{compile, Ops, TriggerDef};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Log { id: i64, text: String }
/// let def = TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE);
/// let sqlite = compile(&def, Backend::Sqlite)?;
/// // One database trigger per operation on SQLite; one, with its function, on PostgreSQL.
/// assert_eq!(sqlite.triggers.len(), 2);
/// assert_eq!(sqlite.triggers[0].name, "trigorm_log_append_only_update");
/// assert!(sqlite.create[0].contains(&sqlite.fingerprint));
/// let postgres = compile(&def, Backend::Postgres)?;
/// assert_eq!(postgres.triggers[0].events, ["UPDATE", "DELETE"]);
/// # Ok::<(), trigorm::Error>(())
/// ```
pub fn compile(def: &TriggerDef, backend: Backend) -> Result<Compiled, Error> {
    compile_among(def, backend, std::slice::from_ref(def))
}

/// Compile `def` for `backend`, knowing the other declarations of the install
/// (`declared`): on SQLite a trigger that stamps a column or moves a version with an UPDATE
/// of its own would otherwise set off the update triggers of the same table a second time,
/// so those fire only on updates of the other columns.
///
/// # Errors
/// As [`compile`].
///
/// ```
/// use trigorm::backend::Backend;
/// use trigorm::trigger::{compile_among, TriggerDef};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Doc { id: i64, title: String, touched: chrono::DateTime<chrono::Utc>, rev: i64 }
/// let defs = [
///     TriggerDef::updated_at("stamp", Doc::table(), Doc::TOUCHED),
///     TriggerDef::version("bump", Doc::table(), Doc::REV),
/// ];
/// // On SQLite each fires only on updates of the columns neither writes.
/// let stamp = compile_among(&defs[0], Backend::Sqlite, &defs)?;
/// assert!(stamp.create[0].contains(r#"AFTER UPDATE OF "id", "title" ON "doc""#));
/// # Ok::<(), trigorm::Error>(())
/// ```
pub fn compile_among(def: &TriggerDef, backend: Backend, declared: &[TriggerDef]) -> Result<Compiled, Error> {
    def.validate()?;
    if def.level == Level::Statement && backend != Backend::Postgres {
        return Err(Error::Unsupported {
            backend: backend.name(),
            feature: format!(
                "statement-level trigger {:?} on {} ({} fires triggers for each row only)",
                def.name,
                def.table.name,
                backend.name()
            ),
        });
    }
    let compiled = match backend {
        Backend::Sqlite => super::sqlite::compile(def, declared)?,
        Backend::Postgres => super::postgres::compile(def)?,
        Backend::Mysql => super::mysql::compile(def)?,
    };
    Ok(compiled.seal())
}

/// A custom trigger without a body for `backend`.
pub(super) fn no_body(def: &TriggerDef, backend: Backend) -> Error {
    Error::InvalidTrigger {
        model: def.table.model,
        trigger: def.name.clone(),
        reason: format!("a Custom trigger has no body for {}", backend.name()),
    }
}

/// The refusal a trigger raises: the marker, the database trigger's name and table, what
/// was refused (drivers turn it into a typed error naming both).
pub(super) fn refusal(trigger: &str, table: &str, what: &str) -> String {
    format!("{MARKER}{trigger}:{table}: {what}")
}

/// What a refusing kind says it refused (after the operation).
pub(super) fn refused_what(kind: &TriggerKind) -> &'static str {
    match kind {
        TriggerKind::ReadOnly(_) => "a read-only column changed",
        TriggerKind::Transitions { .. } => "a transition that is not allowed",
        _ => "refused",
    }
}

/// The condition under which a kind acts, with the declared condition, for `backend`
/// (`None`: always).
pub(super) fn condition(def: &TriggerDef, backend: Backend) -> Result<Option<String>, Error> {
    let t = def.table;
    let kind = match &def.kind {
        TriggerKind::ReadOnly(cols) => Some(Cond::AnyChanged(cols.clone())),
        TriggerKind::Transitions { column, allowed } => {
            let edges = allowed
                .iter()
                .map(|(from, to)| {
                    // Never NULL: a state compared with NULL would make the whole
                    // condition NULL, and a refusal that does not fire (`NOT NULL` is NULL).
                    let r = |row, v: &Value| {
                        let eq = Cond::Cmp(row, column.clone(), crate::query::CmpOp::Eq, v.clone());
                        match v {
                            Value::Null => eq,
                            _ => eq.and(Cond::IsNull(row, column.clone()).not()),
                        }
                    };
                    r(super::Row::Old, from).and(r(super::Row::New, to))
                })
                .collect();
            Some(Cond::Changed(column.clone()).and(Cond::Or(edges).not()))
        }
        TriggerKind::Version(column) => Some(Cond::Changed(column.clone()).not()),
        _ => None,
    };
    let all = match (kind, def.when.clone()) {
        (Some(k), Some(w)) => Some(k.and(w)),
        (k, w) => k.or(w),
    };
    all.map(|c| c.render(t, backend))
        .transpose()
        .map_err(|e| def.part_error("its condition", e))
}

/// The primary key's name.
pub(super) fn pk(t: &TableDef) -> &'static str {
    t.pk().name
}

/// A value of `def` as a literal in `backend`'s SQL, for `column` of its table (checked).
pub(super) fn literal(def: &TriggerDef, column: &str, v: &Value, backend: Backend) -> Result<String, Error> {
    let t = def.table;
    t.column_index(column)
        .and_then(|i| super::cond::literal(v, backend, t, t.columns[i].name))
        .map_err(|e| def.part_error(&format!("its value for {column:?}"), e))
}
