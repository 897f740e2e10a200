//! Trigger conditions: a small expression language over the row before (`OLD`) and after
//! (`NEW`) a write, checked against the table and rendered for each backend (the `WHEN`
//! clause of SQLite and PostgreSQL, an `IF` in the body on MariaDB/MySQL). Literals are
//! written into the trigger's SQL (a trigger has no parameters), escaped per dialect.

use crate::backend::Backend;
use crate::error::Error;
use crate::query::{CmpOp, Column};
use crate::schema::TableDef;
use crate::value::{Field, Value};

/// Which row of a write a condition reads: the row before it (`OLD`: updates and deletes)
/// or after it (`NEW`: inserts and updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// The row before the write.
    Old,
    /// The row after the write.
    New,
}

impl Row {
    fn sql(self) -> &'static str {
        match self {
            Row::Old => "OLD",
            Row::New => "NEW",
        }
    }
}

/// A condition on a write, over `OLD` and `NEW`.
///
/// ```
/// use trigorm::trigger::{changed, new, Cond};
/// use trigorm::backend::Backend;
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Doc { id: i64, title: String, state: String }
///
/// let c: Cond = changed(Doc::TITLE).and(new(Doc::STATE).eq("draft").not());
/// assert_eq!(
///     c.render(Doc::table(), Backend::Postgres)?,
///     r#"(OLD."title" IS DISTINCT FROM NEW."title" AND NOT (NEW."state" = E'draft'))"#
/// );
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Cond {
    /// The column's value differs between `OLD` and `NEW` (`NULL` to a value included).
    Changed(String),
    /// Any of the columns changed.
    AnyChanged(Vec<String>),
    /// All of the columns changed.
    AllChanged(Vec<String>),
    /// `row.column <op> literal`; `= NULL` means `IS NULL`, `<> NULL` `IS NOT NULL`.
    Cmp(Row, String, CmpOp, Value),
    /// `row.column IS NULL`.
    IsNull(Row, String),
    /// All of these.
    And(Vec<Cond>),
    /// Any of these.
    Or(Vec<Cond>),
    /// Not this.
    Not(Box<Cond>),
}

/// `column` changed (typed).
pub fn changed<M, T>(column: Column<M, T>) -> Cond {
    Cond::Changed(column.name().to_string())
}

/// Any of `columns` changed: typed columns of one model, as a tuple (a misspelt one does
/// not compile), or names known only at run time.
///
/// ```
/// use trigorm::backend::Backend;
/// use trigorm::trigger::{any_changed, changed};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Doc { id: i64, title: String, pages: i64 }
///
/// let c = any_changed((Doc::TITLE, Doc::PAGES));
/// assert_eq!(
///     c.render(Doc::table(), Backend::Sqlite)?,
///     changed(Doc::TITLE).or(changed(Doc::PAGES)).render(Doc::table(), Backend::Sqlite)?
/// );
/// assert_eq!(any_changed(["title", "pages"]), c);
/// # Ok::<(), trigorm::Error>(())
/// ```
///
/// A column the model lacks does not compile:
///
/// ```compile_fail
/// use trigorm::trigger::any_changed;
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Doc { id: i64, title: String, pages: i64 }
/// let c = any_changed((Doc::TITLE, Doc::PAGEZ));
/// ```
pub fn any_changed(columns: impl ChangedColumns) -> Cond {
    Cond::AnyChanged(columns.names())
}

/// All of `columns` changed (as [`any_changed`] takes them).
pub fn all_changed(columns: impl ChangedColumns) -> Cond {
    Cond::AllChanged(columns.names())
}

/// The columns [`any_changed`] and [`all_changed`] take: a typed column (`Doc::TITLE`), a
/// tuple of typed columns of one model (`(Doc::TITLE, Doc::PAGES)`), or names known only
/// at run time (an array, slice or `Vec` of `&str`, a `Vec<String>`), checked against the
/// table when the trigger is declared.
pub trait ChangedColumns {
    /// The columns' names.
    fn names(self) -> Vec<String>;
}

impl<M, T> ChangedColumns for Column<M, T> {
    fn names(self) -> Vec<String> {
        vec![self.name().to_string()]
    }
}

macro_rules! changed_tuple {
    ($($t:ident),+) => {
        impl<M, $($t),+> ChangedColumns for ($(Column<M, $t>,)+) {
            #[allow(non_snake_case)]
            fn names(self) -> Vec<String> {
                let ($($t,)+) = self;
                vec![$($t.name().to_string()),+]
            }
        }
    };
}
changed_tuple!(A);
changed_tuple!(A, B);
changed_tuple!(A, B, C);
changed_tuple!(A, B, C, D);
changed_tuple!(A, B, C, D, E);
changed_tuple!(A, B, C, D, E, F);
changed_tuple!(A, B, C, D, E, F, G);
changed_tuple!(A, B, C, D, E, F, G, H);

impl<const N: usize> ChangedColumns for [&str; N] {
    fn names(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}

impl ChangedColumns for &[&str] {
    fn names(self) -> Vec<String> {
        self.iter().map(|s| s.to_string()).collect()
    }
}

impl ChangedColumns for Vec<&str> {
    fn names(self) -> Vec<String> {
        self.as_slice().names()
    }
}

impl ChangedColumns for Vec<String> {
    fn names(self) -> Vec<String> {
        self
    }
}

/// `NEW.column`, to compare (typed).
pub fn new<M, T>(column: Column<M, T>) -> RowColumn<T> {
    RowColumn::typed(Row::New, column)
}

/// `OLD.column`, to compare (typed).
pub fn old<M, T>(column: Column<M, T>) -> RowColumn<T> {
    RowColumn::typed(Row::Old, column)
}

/// A column of `OLD` or `NEW`, whose values have type `T` (`Value` when the column is
/// named at run time: see [`RowColumn::named`]).
#[derive(Debug, Clone)]
pub struct RowColumn<T> {
    row: Row,
    name: String,
    _of: std::marker::PhantomData<fn() -> T>,
}

impl<T> RowColumn<T> {
    fn typed<M>(row: Row, column: Column<M, T>) -> RowColumn<T> {
        RowColumn {
            row,
            name: column.name().to_string(),
            _of: std::marker::PhantomData,
        }
    }

    fn cmp(self, op: CmpOp, v: Value) -> Cond {
        Cond::Cmp(self.row, self.name, op, v)
    }

    /// `row.column IS NULL`
    pub fn is_null(self) -> Cond {
        Cond::IsNull(self.row, self.name)
    }
}

impl RowColumn<Value> {
    /// A column named at run time (checked against the table when rendered).
    pub fn named(row: Row, name: impl Into<String>) -> RowColumn<Value> {
        RowColumn {
            row,
            name: name.into(),
            _of: std::marker::PhantomData,
        }
    }
}

macro_rules! comparisons {
    ($($(#[$doc:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl<T: Field> RowColumn<T> {
            $($(#[$doc])* pub fn $name(self, v: impl crate::query::ValueOf<T>) -> Cond {
                self.cmp(CmpOp::$op, v.value())
            })*
        }
        impl RowColumn<Value> {
            $($(#[$doc])* pub fn $name(self, v: impl Into<Value>) -> Cond {
                self.cmp(CmpOp::$op, v.into())
            })*
        }
    };
}

comparisons! {
    /// `row.column = literal` (`IS NULL` for `None`).
    eq => Eq,
    /// `row.column <> literal` (`IS NOT NULL` for `None`).
    ne => Ne,
    /// `row.column < literal`
    lt => Lt,
    /// `row.column <= literal`
    le => Le,
    /// `row.column > literal`
    gt => Gt,
    /// `row.column >= literal`
    ge => Ge,
}

impl Cond {
    /// Both conditions.
    pub fn and(self, other: Cond) -> Cond {
        match self {
            Cond::And(mut all) => {
                all.push(other);
                Cond::And(all)
            }
            c => Cond::And(vec![c, other]),
        }
    }

    /// Either condition.
    pub fn or(self, other: Cond) -> Cond {
        match self {
            Cond::Or(mut any) => {
                any.push(other);
                Cond::Or(any)
            }
            c => Cond::Or(vec![c, other]),
        }
    }

    /// The negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Cond {
        Cond::Not(Box::new(self))
    }

    /// Which rows the condition reads (`OLD`, `NEW`): an insert has no `OLD`, a delete no
    /// `NEW`.
    pub fn reads(&self) -> (bool, bool) {
        match self {
            Cond::Changed(_) | Cond::AnyChanged(_) | Cond::AllChanged(_) => (true, true),
            Cond::Cmp(row, ..) | Cond::IsNull(row, _) => (*row == Row::Old, *row == Row::New),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().fold((false, false), |(o, n), c| {
                let (co, cn) = c.reads();
                (o || co, n || cn)
            }),
            Cond::Not(c) => c.reads(),
        }
    }

    /// The condition as `backend` writes it, its columns checked against `table`.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] for a column `table` lacks; [`Error::InvalidValue`] for a
    /// literal the backend cannot write (a NaN or infinite float, text with a NUL).
    pub fn render(&self, table: &TableDef, backend: Backend) -> Result<String, Error> {
        let mut out = String::new();
        self.write(table, backend, &mut out)?;
        Ok(out)
    }

    fn write(&self, table: &TableDef, b: Backend, out: &mut String) -> Result<(), Error> {
        match self {
            Cond::Changed(c) => {
                let (old, new) = (column(table, b, Row::Old, c)?, column(table, b, Row::New, c)?);
                out.push_str(&match b {
                    Backend::Sqlite => format!("{old} IS NOT {new}"),
                    Backend::Postgres => format!("{old} IS DISTINCT FROM {new}"),
                    Backend::Mysql => format!("NOT ({old} <=> {new})"),
                });
            }
            Cond::AnyChanged(cs) | Cond::AllChanged(cs) => {
                let each: Vec<Cond> = cs.iter().cloned().map(Cond::Changed).collect();
                let joined = if matches!(self, Cond::AnyChanged(_)) {
                    Cond::Or(each)
                } else {
                    Cond::And(each)
                };
                joined.write(table, b, out)?;
            }
            Cond::Cmp(row, c, op, v) => {
                let col = column(table, b, *row, c)?;
                match (op, v) {
                    (CmpOp::Eq, Value::Null) => out.push_str(&format!("{col} IS NULL")),
                    (CmpOp::Ne, Value::Null) => out.push_str(&format!("{col} IS NOT NULL")),
                    _ => {
                        let op = match op {
                            CmpOp::Eq => "=",
                            CmpOp::Ne => "<>",
                            CmpOp::Lt => "<",
                            CmpOp::Le => "<=",
                            CmpOp::Gt => ">",
                            CmpOp::Ge => ">=",
                        };
                        let name = table.columns[table.column_index(c)?].name;
                        out.push_str(&format!("{col} {op} {}", literal(v, b, table, name)?));
                    }
                }
            }
            Cond::IsNull(row, c) => out.push_str(&format!("{} IS NULL", column(table, b, *row, c)?)),
            Cond::And(cs) | Cond::Or(cs) => {
                let (word, empty) = if matches!(self, Cond::And(_)) {
                    (" AND ", "1 = 1")
                } else {
                    (" OR ", "1 = 0")
                };
                if cs.is_empty() {
                    out.push_str(empty);
                    return Ok(());
                }
                out.push('(');
                for (n, c) in cs.iter().enumerate() {
                    if n > 0 {
                        out.push_str(word);
                    }
                    c.write(table, b, out)?;
                }
                out.push(')');
            }
            Cond::Not(c) => {
                out.push_str("NOT (");
                c.write(table, b, out)?;
                out.push(')');
            }
        }
        Ok(())
    }
}

/// `OLD."c"` / `NEW.`c``, the column checked against the table.
fn column(table: &TableDef, b: Backend, row: Row, name: &str) -> Result<String, Error> {
    let i = table.column_index(name)?;
    let name = table.columns[i].name;
    Ok(match b {
        Backend::Mysql => format!("{}.`{name}`", row.sql()),
        _ => format!("{}.\"{name}\"", row.sql()),
    })
}

/// A literal as `b` writes it in SQL text (for `column` of `table`, named in errors).
pub(super) fn literal(v: &Value, b: Backend, table: &TableDef, column: &'static str) -> Result<String, Error> {
    let refuse = |reason: &'static str| Error::InvalidValue {
        model: table.model,
        column,
        reason,
    };
    Ok(match v {
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => format!("{f:?}"),
        Value::Float(_) => return Err(refuse("a NaN or infinite float cannot be written into a trigger")),
        Value::Bool(x) => match b {
            Backend::Sqlite => i64::from(*x).to_string(),
            _ => if *x { "TRUE" } else { "FALSE" }.into(),
        },
        Value::Text(s) => {
            if s.contains('\0') {
                return Err(refuse("text with a NUL character cannot be written into a trigger"));
            }
            text(s, b)
        }
        Value::Blob(bytes) => {
            let hex: String = bytes.iter().map(|x| format!("{x:02x}")).collect();
            match b {
                Backend::Postgres => format!("'\\x{hex}'::bytea"),
                _ => format!("X'{hex}'"),
            }
        }
        Value::Timestamp(t) => match b {
            Backend::Postgres => format!("'{}'::timestamptz", t.format("%Y-%m-%d %H:%M:%S%.6f+00")),
            Backend::Mysql => format!("'{}'", t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")),
            // As the SQLite driver writes timestamps, so that text compares with text.
            _ => text(&sqlite_timestamp(t), b),
        },
        Value::Date(d) => match b {
            Backend::Postgres => format!("DATE '{}'", d.format("%Y-%m-%d")),
            _ => format!("'{}'", d.format("%Y-%m-%d")),
        },
        Value::Json(j) => match b {
            Backend::Postgres => format!("{}::jsonb", text(&j.to_string(), b)),
            _ => text(&j.to_string(), b),
        },
    })
}

/// Text in quotes: `''` for a quote everywhere; PostgreSQL's `E'…'` and MariaDB/MySQL also
/// double backslashes, so that the literal reads the same whatever the server's setting for
/// backslashes in plain strings.
fn text(s: &str, b: Backend) -> String {
    match b {
        Backend::Postgres => format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
        Backend::Mysql => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
        _ => format!("'{}'", s.replace('\'', "''")),
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_timestamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    crate::driver::sqlite::timestamp_text(t)
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_timestamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
