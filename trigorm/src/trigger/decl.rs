//! Trigger declarations: what a trigger does, on which table, when; checked against the
//! table before any SQL is rendered.

use crate::error::Error;
use crate::query::Column;
use crate::schema::{validate_identifier, ColumnType, IdentKind, TableDef};
use crate::value::{Field, Value};

use super::cond::Cond;

/// The prefix of every database object trigorm manages (`trigorm_<table>_<name>…`).
pub const PREFIX: &str = "trigorm_";

/// What the database names of a declaration's objects add to its managed name (one
/// trigger per operation, PostgreSQL's TRUNCATE guard and trigger function); a declared
/// name may not end with one.
const SUFFIXES: [&str; 5] = ["_insert", "_update", "_delete", "_truncate", "_fn"];

/// Which writes a trigger acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ops {
    /// `INSERT`
    pub insert: bool,
    /// `UPDATE`
    pub update: bool,
    /// `DELETE` (on PostgreSQL a protecting trigger also guards `TRUNCATE`).
    pub delete: bool,
}

impl Ops {
    /// Inserts.
    pub const INSERT: Ops = Ops {
        insert: true,
        update: false,
        delete: false,
    };
    /// Updates.
    pub const UPDATE: Ops = Ops {
        insert: false,
        update: true,
        delete: false,
    };
    /// Deletes.
    pub const DELETE: Ops = Ops {
        insert: false,
        update: false,
        delete: true,
    };
    /// Every write.
    pub const ALL: Ops = Ops {
        insert: true,
        update: true,
        delete: true,
    };

    /// The operations, in a fixed order (insert, update, delete).
    pub fn iter(self) -> impl Iterator<Item = Op> {
        [
            (self.insert, Op::Insert),
            (self.update, Op::Update),
            (self.delete, Op::Delete),
        ]
        .into_iter()
        .filter_map(|(on, op)| on.then_some(op))
    }

    fn is_empty(self) -> bool {
        !(self.insert || self.update || self.delete)
    }
}

impl std::ops::BitOr for Ops {
    type Output = Ops;
    fn bitor(self, o: Ops) -> Ops {
        Ops {
            insert: self.insert || o.insert,
            update: self.update || o.update,
            delete: self.delete || o.delete,
        }
    }
}

/// One write operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `INSERT`
    Insert,
    /// `UPDATE`
    Update,
    /// `DELETE`
    Delete,
}

impl Op {
    /// The SQL keyword.
    pub fn sql(self) -> &'static str {
        match self {
            Op::Insert => "INSERT",
            Op::Update => "UPDATE",
            Op::Delete => "DELETE",
        }
    }

    /// The lower-case name, for trigger names.
    pub fn word(self) -> &'static str {
        match self {
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// When a custom trigger runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Before the write (it may change or refuse it).
    Before,
    /// After the write.
    After,
    /// Instead of the write (views; refused on tables where the backend does not have it).
    InsteadOf,
}

impl Timing {
    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            Timing::Before => "BEFORE",
            Timing::After => "AFTER",
            Timing::InsteadOf => "INSTEAD OF",
        }
    }
}

/// How often a trigger fires for one statement: once per row it writes, or once for the
/// statement (PostgreSQL only: SQLite and MariaDB/MySQL fire triggers for each row, and
/// refuse a statement-level declaration with [`Error::Unsupported`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// `FOR EACH ROW`: once per row written, with its `OLD` and `NEW`.
    #[default]
    Row,
    /// `FOR EACH STATEMENT`: once per statement, even one that writes no row; no `OLD`
    /// or `NEW`, so no condition. For `Protect` and `Custom` triggers.
    Statement,
}

impl Level {
    /// The SQL words (`FOR EACH ROW`, `FOR EACH STATEMENT`).
    pub fn sql(self) -> &'static str {
        match self {
            Level::Row => "FOR EACH ROW",
            Level::Statement => "FOR EACH STATEMENT",
        }
    }
}

/// What a trigger does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TriggerKind {
    /// Refuse these writes (e.g. an append-only table).
    Protect(Ops),
    /// Refuse updates that change these columns.
    ReadOnly(Vec<String>),
    /// A `DELETE` sets `column` to `value` instead of removing the row.
    SoftDelete {
        /// The marking column.
        column: String,
        /// The value it gets.
        value: Value,
    },
    /// `column` may only move along these edges (from, to); staying put is allowed.
    Transitions {
        /// The state column.
        column: String,
        /// The allowed moves.
        allowed: Vec<(Value, Value)>,
    },
    /// Every update stamps `column` with the current time (UTC).
    UpdatedAt(String),
    /// Every update that leaves the version `column` as it was moves it one up, so that
    /// raw SQL cannot slip past the ORM's version check.
    Version(String),
    /// A body of your own per backend.
    Custom {
        /// When it runs.
        timing: Timing,
        /// On which writes.
        ops: Ops,
        /// The body's statements per backend (`BEGIN … END` is added), by
        /// [`crate::backend::Backend::name`] order: SQLite, PostgreSQL (PL/pgSQL, ending
        /// with a `RETURN`), MariaDB/MySQL.
        bodies: CustomBodies,
    },
}

/// The bodies of a custom trigger, one per backend (`None`: not available there, refused
/// when installing on it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomBodies {
    /// SQLite statements, each ending with `;`.
    pub sqlite: Option<String>,
    /// PL/pgSQL statements, ending with a `RETURN`.
    pub postgres: Option<String>,
    /// MariaDB/MySQL statements, each ending with `;`.
    pub mysql: Option<String>,
}

/// A declared trigger: its name (unique per table), its table, what it does, and an
/// optional condition.
///
/// ```
/// use trigorm::trigger::{Ops, TriggerDef};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// #[trigorm(table = "log")]
/// struct Log { id: i64, text: String }
///
/// let t = TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE);
/// assert_eq!(t.managed_name(), "trigorm_log_append_only");
/// t.validate()?;
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TriggerDef {
    /// The declared name (the database names start with [`PREFIX`] and the table).
    pub name: String,
    /// The table.
    pub table: &'static TableDef,
    /// What it does.
    pub kind: TriggerKind,
    /// Only when this holds.
    pub when: Option<Cond>,
    /// Once per row (the default) or once per statement.
    pub level: Level,
}

impl TriggerDef {
    /// A trigger of any kind, its columns named at run time (checked by [`TriggerDef::validate`]).
    pub fn new(name: &str, table: &'static TableDef, kind: TriggerKind) -> TriggerDef {
        TriggerDef {
            name: name.to_string(),
            table,
            kind,
            when: None,
            level: Level::Row,
        }
    }

    /// Refuse the writes `ops`.
    pub fn protect(name: &str, table: &'static TableDef, ops: Ops) -> TriggerDef {
        TriggerDef::new(name, table, TriggerKind::Protect(ops))
    }

    /// Refuse updates that change `columns` (by name; a typed column's is
    /// [`Column::name`]).
    pub fn read_only<'a>(
        name: &str,
        table: &'static TableDef,
        columns: impl IntoIterator<Item = &'a str>,
    ) -> TriggerDef {
        let cols = columns.into_iter().map(str::to_string).collect();
        TriggerDef::new(name, table, TriggerKind::ReadOnly(cols))
    }

    /// A `DELETE` sets `column` to `value` instead.
    pub fn soft_delete<M, T: Field>(
        name: &str,
        table: &'static TableDef,
        column: Column<M, T>,
        value: T,
    ) -> TriggerDef {
        let kind = TriggerKind::SoftDelete {
            column: column.name().to_string(),
            value: value.to_value(),
        };
        TriggerDef::new(name, table, kind)
    }

    /// `column` moves only along `allowed` (from, to) edges.
    pub fn transitions<M, T: Field>(
        name: &str,
        table: &'static TableDef,
        column: Column<M, T>,
        allowed: impl IntoIterator<Item = (T, T)>,
    ) -> TriggerDef {
        let kind = TriggerKind::Transitions {
            column: column.name().to_string(),
            allowed: allowed.into_iter().map(|(a, b)| (a.to_value(), b.to_value())).collect(),
        };
        TriggerDef::new(name, table, kind)
    }

    /// Stamp `column` on every update.
    pub fn updated_at<M, T>(name: &str, table: &'static TableDef, column: Column<M, T>) -> TriggerDef {
        TriggerDef::new(name, table, TriggerKind::UpdatedAt(column.name().to_string()))
    }

    /// Move the version `column` one up on every update that leaves it as it was.
    pub fn version<M, T>(name: &str, table: &'static TableDef, column: Column<M, T>) -> TriggerDef {
        TriggerDef::new(name, table, TriggerKind::Version(column.name().to_string()))
    }

    /// A body of your own.
    pub fn custom(name: &str, table: &'static TableDef, timing: Timing, ops: Ops, bodies: CustomBodies) -> TriggerDef {
        TriggerDef::new(name, table, TriggerKind::Custom { timing, ops, bodies })
    }

    /// Only when `cond` holds.
    pub fn when(mut self, cond: Cond) -> TriggerDef {
        self.when = Some(cond);
        self
    }

    /// Fire once per statement, not once per row (PostgreSQL only; `Protect` and `Custom`
    /// triggers without a condition).
    ///
    /// ```
    /// use trigorm::backend::Backend;
    /// use trigorm::trigger::{compile, Ops, TriggerDef};
    /// use trigorm::{Error, Model};
    /// #[derive(Model, Clone, Debug)]
    /// struct Log { id: i64, text: String }
    ///
    /// let frozen = TriggerDef::protect("frozen", Log::table(), Ops::ALL).for_each_statement();
    /// assert!(compile(&frozen, Backend::Postgres)?.create[1].contains("FOR EACH STATEMENT"));
    /// assert!(matches!(compile(&frozen, Backend::Sqlite), Err(Error::Unsupported { backend: "SQLite", .. })));
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn for_each_statement(mut self) -> TriggerDef {
        self.level = Level::Statement;
        self
    }

    /// The name of the trigger in the database (before any per-operation suffix).
    pub fn managed_name(&self) -> String {
        format!("{PREFIX}{}_{}", self.table.name, self.name)
    }

    /// The writes the trigger acts on.
    pub fn ops(&self) -> Ops {
        match &self.kind {
            TriggerKind::Protect(ops) | TriggerKind::Custom { ops, .. } => *ops,
            TriggerKind::SoftDelete { .. } => Ops::DELETE,
            TriggerKind::ReadOnly(_)
            | TriggerKind::Transitions { .. }
            | TriggerKind::UpdatedAt(_)
            | TriggerKind::Version(_) => Ops::UPDATE,
        }
    }

    /// `e`, the error of one part of the declaration (its condition, a value), as one
    /// that names the model, the trigger and the part.
    pub(super) fn part_error(&self, part: &str, e: Error) -> Error {
        match e {
            Error::InvalidTrigger { .. } | Error::Unsupported { .. } => e,
            e => Error::InvalidTrigger {
                model: self.table.model,
                trigger: self.name.clone(),
                reason: format!("{part}: {e}"),
            },
        }
    }

    /// Check the declaration against its table, before any SQL is rendered.
    ///
    /// # Errors
    /// [`Error::InvalidTrigger`] naming the model, the trigger and the offending part (an
    /// unknown column, an empty list, a name that is no identifier, a condition that reads
    /// a row the operation does not have, a column of the condition the table lacks).
    pub fn validate(&self) -> Result<(), Error> {
        let t = self.table;
        t.validate()?;
        let bad = |part: String| Error::InvalidTrigger {
            model: t.model,
            trigger: self.name.clone(),
            reason: part,
        };
        validate_identifier(IdentKind::Trigger, &self.name).map_err(|e| bad(format!("its name: {e}")))?;
        // The database names add these to the managed name: a declared name ending with
        // one could take another declaration's trigger (and an ignore could reach it).
        if let Some(suffix) = SUFFIXES.iter().find(|s| self.name.ends_with(*s)) {
            return Err(bad(format!(
                "its name ends with {suffix:?}, which trigorm adds to the names of the database triggers"
            )));
        }
        // Room for the longest suffix within PostgreSQL's 63 bytes.
        validate_identifier(IdentKind::Trigger, &format!("{}_truncate", self.managed_name()))
            .map_err(|e| bad(format!("its database name: {e}")))?;
        let column = |c: &str| {
            t.column_index(c)
                .map(|i| t.columns[i].name)
                .map_err(|_| bad(format!("column {c:?} is not a column of {}", t.name)))
        };
        if self.ops().is_empty() {
            return Err(bad("no operation to act on".into()));
        }
        match &self.kind {
            TriggerKind::ReadOnly(cols) if cols.is_empty() => return Err(bad("ReadOnly names no column".into())),
            TriggerKind::ReadOnly(cols) => {
                for c in cols {
                    column(c)?;
                }
            }
            TriggerKind::SoftDelete { column: c, .. } => {
                column(c)?;
            }
            TriggerKind::UpdatedAt(c) | TriggerKind::Version(c) => {
                column(c)?;
                let (want, what) = match &self.kind {
                    TriggerKind::UpdatedAt(_) => (ColumnType::Timestamp, "a timestamp"),
                    _ => (ColumnType::Integer, "an integer"),
                };
                let ty = t.columns[t.column_index(c)?].ty;
                if ty != want {
                    return Err(bad(format!("column {c:?} is not {what} column (it is {ty:?})")));
                }
            }
            TriggerKind::Transitions { column: c, allowed } => {
                column(c)?;
                if allowed.is_empty() {
                    return Err(bad("Transitions allows no move".into()));
                }
            }
            TriggerKind::Protect(_) | TriggerKind::Custom { .. } => {}
        }
        if self.level == Level::Statement {
            let row_kind = !matches!(self.kind, TriggerKind::Protect(_) | TriggerKind::Custom { .. });
            if row_kind {
                return Err(bad(
                    "only Protect and Custom triggers can fire once per statement: this kind reads or writes each row"
                        .into(),
                ));
            }
            if matches!(
                self.kind,
                TriggerKind::Custom {
                    timing: Timing::InsteadOf,
                    ..
                }
            ) {
                return Err(bad(
                    "an INSTEAD OF trigger fires for each row, not once per statement".into()
                ));
            }
            if self.when.is_some() {
                return Err(bad(
                    "a statement-level trigger has no OLD or NEW row for a condition".into()
                ));
            }
        }
        if let Some(cond) = &self.when {
            let (reads_old, reads_new) = cond.reads();
            let ops = self.ops();
            if reads_old && ops.insert {
                return Err(bad("its condition reads OLD, which an insert does not have".into()));
            }
            if reads_new && ops.delete {
                return Err(bad("its condition reads NEW, which a delete does not have".into()));
            }
            // Render once to check the columns and literals.
            cond.render(t, crate::backend::Backend::Postgres)
                .map_err(|e| self.part_error("its condition", e))?;
        }
        Ok(())
    }
}

/// Check that no two of `defs` make database objects of one name (a name declared twice
/// on one table, or table and name that run together into another's: `a` + `b_c` and
/// `a_b` + `c`).
///
/// # Errors
/// [`Error::InvalidTrigger`] naming the second declaration and the first.
pub(crate) fn check_names(defs: &[TriggerDef]) -> Result<(), Error> {
    for (i, t) in defs.iter().enumerate() {
        if let Some(o) = defs[..i].iter().find(|o| o.managed_name() == t.managed_name()) {
            let reason = if std::ptr::eq(o.table, t.table) {
                "declared twice (on the model and with the builder, or twice with the builder)".to_string()
            } else {
                format!(
                    "its database name {} is also that of trigger {:?} on {}",
                    t.managed_name(),
                    o.name,
                    o.table.name
                )
            };
            return Err(Error::InvalidTrigger {
                model: t.table.model,
                trigger: t.name.clone(),
                reason,
            });
        }
    }
    Ok(())
}
