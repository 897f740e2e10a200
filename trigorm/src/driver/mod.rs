//! Drivers: one connection to one database, seen through a small object-safe trait.
//!
//! A driver knows tables, SQL text and [`Value`]s, never models, sessions or listeners.
//! The engine picks the driver from the URL at run time, so the boundary is `dyn`.
//! A new backend is one file here plus one dialect in [`crate::sql`].

use std::sync::Arc;

mod error;

pub use error::{CallbackError, DbError, DbErrorKind, POSTGRES_REFUSAL_SQLSTATE};

#[doc(hidden)]
pub use crate::value::Binder;
use crate::value::{Value, ValueRef};

#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use crate::backend::Backend;

/// What a row callback receives: the row's values in select order. Values may be taken
/// out (`std::mem::take`); the buffer is reused for the next row.
pub type RowCallback<'a> = &'a mut dyn FnMut(&mut [Value]) -> Result<(), CallbackError>;

/// What a borrowed-row callback receives: the row's values in select order, borrowed from
/// the driver (valid for the call only).
pub type RowRefCallback<'a> = &'a mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), CallbackError>;

/// [`Statements::query_refs`] through [`Statements::query`], for drivers that do not
/// lend their rows.
fn query_refs_copied(
    query: impl FnOnce(RowCallback<'_>) -> Result<(), QueryError>,
    on_row: RowRefCallback<'_>,
) -> Result<(), QueryError> {
    query(&mut |row: &mut [Value]| {
        let refs: Vec<ValueRef<'_>> = row.iter().map(Value::as_value_ref).collect();
        on_row(&refs)
    })
}

/// The parameters of one row statement, read one by one while they are bound: the session
/// binds a row straight from its model, with no list of parameters in between.
///
/// ```
/// use trigorm::driver::RowParams;
/// use trigorm::ValueRef;
///
/// struct Pair(i64, String);
/// impl RowParams for Pair {
///     fn count(&self) -> usize {
///         2
///     }
///     fn get(&self, i: usize) -> ValueRef<'_> {
///         match i {
///             0 => ValueRef::Int(self.0),
///             _ => ValueRef::Text(&self.1),
///         }
///     }
/// }
/// assert_eq!(Pair(1, "a".into()).get(1), ValueRef::Text("a"));
/// ```
#[doc(hidden)]
pub trait RowParams {
    /// How many parameters.
    fn count(&self) -> usize;
    /// Parameter `i`, from 0.
    fn get(&self, i: usize) -> ValueRef<'_>;
    /// Bind every parameter in order (how a driver takes them: the session's rows bind
    /// each field with its own [`Binder`] method). The provided method binds each
    /// [`RowParams::get`] with [`Binder::value`].
    ///
    /// ```
    /// use trigorm::driver::{Binder, RowParams};
    /// use trigorm::ValueRef;
    ///
    /// struct Pair(i64, String);
    /// impl RowParams for Pair {
    ///     fn count(&self) -> usize { 2 }
    ///     fn get(&self, i: usize) -> ValueRef<'_> {
    ///         if i == 0 { ValueRef::Int(self.0) } else { ValueRef::Text(&self.1) }
    ///     }
    /// }
    /// struct Seen(Vec<String>);
    /// impl Binder for Seen {
    ///     fn value(&mut self, v: &ValueRef<'_>) { self.0.push(format!("{v:?}")) }
    /// }
    /// let mut seen = Seen(Vec::new());
    /// Pair(1, "a".into()).bind(&mut seen);
    /// assert_eq!(seen.0, ["Int(1)", "Text(\"a\")"]);
    /// ```
    fn bind(&self, b: &mut dyn Binder) {
        for i in 0..self.count() {
            b.value(&self.get(i));
        }
    }
}

/// The error of a driver asked for array parameters it does not take.
#[cold]
fn no_arrays(database: &str) -> DbError {
    DbError {
        kind: DbErrorKind::Other,
        code: None,
        message: "this driver does not take array parameters".into(),
        database: database.to_string(),
    }
}

/// A row's values as its fields bind them ([`RowParams::bind`]), for drivers that take
/// whole lists of values: a custom field's own binding is used, and a field that binds
/// none or two parameters is an error (the message says so).
///
/// # Errors
/// The message of a field that did not bind exactly one parameter.
pub(crate) fn bound_values(row: &dyn RowParams) -> Result<Vec<Value>, String> {
    let mut c = Collect {
        values: Vec::with_capacity(row.count()),
        err: None,
    };
    row.bind(&mut c);
    match c.err {
        Some(e) => Err(e),
        None => Ok(c.values),
    }
}

/// What [`bound_values`] binds into.
struct Collect {
    values: Vec<Value>,
    err: Option<String>,
}

impl Binder for Collect {
    fn value(&mut self, v: &ValueRef<'_>) {
        self.values.push(v.to_value());
    }

    fn expect_bound(&mut self, n: usize) {
        if self.values.len() != n && self.err.is_none() {
            let bound = (self.values.len() + 1).saturating_sub(n);
            self.err = Some(format!(
                "a field bound {bound} parameters where it must bind exactly one (Field::bind)"
            ));
        }
    }
}

/// A row's parameters as a list (what the provided `*_row` methods pass on).
fn collect_row(row: &dyn RowParams) -> Vec<ValueRef<'_>> {
    (0..row.count()).map(|i| row.get(i)).collect()
}

/// One open connection: its statements ([`Statements`], prepared once per connection and
/// cached by their SQL text, so callers reuse the same text for the same statement shape)
/// and its transactions.
pub trait Connection: Statements + Send {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// The server's version as it reports it (`SELECT VERSION()`), where servers of one
    /// backend differ (MariaDB and MySQL): the engine picks its dialect by it
    /// ([`crate::sql::Dialect::for_server`]). A wrapping driver forwards it. The provided
    /// method says nothing.
    fn server_version(&self) -> Option<&str> {
        None
    }

    /// Start a transaction: one that will write (`write`; on SQLite `BEGIN IMMEDIATE`,
    /// which takes the database's write lock), or one that reads, which must take no write
    /// lock (on SQLite a deferred `BEGIN`).
    ///
    /// # Errors
    /// The database's error, e.g. [`crate::error::DbErrorKind::Busy`].
    fn begin(&mut self, write: bool) -> Result<(), DbError>;

    /// Make the open reading transaction one that writes. `Ok(None)`: nothing was sent,
    /// the transaction goes on (the provided method: a backend that locks the rows it
    /// writes reads them again then). `Ok(Some(current))`: a new, writing transaction
    /// began (SQLite, which cannot lock rows, ends the reading transaction, begins a
    /// writing one and compares `PRAGMA data_version` across); `current` says whether what
    /// was read is still what is in the database, and when it is not, the caller forgets
    /// what it remembers of the rows it read.
    ///
    /// # Errors
    /// The database's error, e.g. [`crate::error::DbErrorKind::Busy`].
    fn upgrade(&mut self) -> Result<Option<bool>, DbError> {
        Ok(None)
    }

    /// Commit the open transaction.
    ///
    /// # Errors
    /// The database's error.
    fn commit(&mut self) -> Result<(), DbError>;

    /// Roll the open transaction back.
    ///
    /// # Errors
    /// The database's error.
    fn rollback(&mut self) -> Result<(), DbError>;

    /// Whether a transaction is open on this connection.
    fn in_transaction(&self) -> bool;

    /// Whether the connection is known to be broken (the server closed it): the pool
    /// drops it instead of lending it again. The provided method says no.
    fn is_broken(&self) -> bool {
        false
    }

    /// Undo what raw SQL may have left on the connection (settings, temporary objects,
    /// prepared statements, advisory locks) before the pool lends it again: PostgreSQL
    /// runs `DISCARD ALL`. Called outside any transaction. The provided method does
    /// nothing (SQLite's authorizer refuses such statements in the first place).
    ///
    /// # Errors
    /// The database's error; the pool then closes the connection.
    fn reset(&mut self) -> Result<(), DbError> {
        Ok(())
    }

    /// Ignore the native triggers named (their database names, as
    /// [`crate::trigger::TriggerDef::managed_name`] gives them) for the rest of the open
    /// transaction: it ends when the transaction does, by commit, rollback or failure, and
    /// reaches no other transaction or connection. The provided method refuses.
    ///
    /// # Errors
    /// The database's error, or [`DbErrorKind::Other`] where the driver cannot.
    fn ignore_triggers(&mut self, names: &[&str]) -> Result<(), DbError> {
        let _ = names;
        Err(DbError {
            kind: DbErrorKind::Other,
            code: None,
            message: "this driver cannot ignore triggers".into(),
            database: String::new(),
        })
    }

    /// Run several statements without parameters (DDL).
    ///
    /// # Errors
    /// The database's error.
    fn execute_batch(&mut self, sql: &str) -> Result<(), DbError>;

    /// Call `f` with this connection's statements kept prepared and at hand until it
    /// returns (a session flush runs the same few statements for many rows).
    ///
    /// # Errors
    /// What `f` returned.
    fn with_statements(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Statements) -> Result<(), CallbackError>,
    ) -> Result<(), CallbackError>;
}

/// The statements of a connection: run with bound parameters, row by row, or many rows
/// at once (arrays of values, where the dialect renders such statements). A
/// [`Connection`] has them; inside [`Connection::with_statements`] they are the same
/// statements, kept prepared.
pub trait Statements {
    /// The database, as shown in errors (a path, or a URL without its password).
    fn database(&self) -> &str;

    /// Run one statement with bound parameters; the number of rows it changed.
    ///
    /// # Errors
    /// The database's error.
    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64, DbError>;

    /// Run an INSERT; the key the database generated for the row, where the table has one
    /// (from the statement itself: `RETURNING`, or the statement's own last insert id).
    ///
    /// # Errors
    /// The database's error.
    fn insert(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<Option<i64>, DbError>;

    /// As [`Statements::execute`], with the parameters read from `row` (drivers bind them
    /// one by one; the provided method collects them first).
    ///
    /// # Errors
    /// The database's error.
    #[doc(hidden)]
    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        self.execute(sql, &collect_row(row))
    }

    /// As [`Statements::insert`], with the parameters read from `row`.
    ///
    /// # Errors
    /// The database's error.
    #[doc(hidden)]
    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.insert(sql, &collect_row(row))
    }

    /// Run a query, calling `on_row` for each row.
    ///
    /// # Errors
    /// [`QueryError::Db`] from the database, or [`QueryError::Row`] as `on_row` returned it.
    fn query(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError>;

    /// As [`Statements::query`], with the parameters read from `row` while they are bound
    /// (the provided method collects them first): how a statement of many rows with a
    /// placeholder per value takes its rows, one after the other.
    ///
    /// # Errors
    /// As [`Statements::query`].
    #[doc(hidden)]
    fn query_row(&mut self, sql: &str, row: &dyn RowParams, on_row: RowCallback<'_>) -> Result<(), QueryError> {
        self.query(sql, &collect_row(row), on_row)
    }

    /// Run a query, calling `on_row` with each row borrowed. The provided method copies
    /// each row through [`Statements::query`].
    ///
    /// # Errors
    /// As [`Statements::query`].
    fn query_refs(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowRefCallback<'_>) -> Result<(), QueryError> {
        query_refs_copied(|cb| self.query(sql, params, cb), on_row)
    }

    /// Whether a statement only reads (so that running it cannot change rows the session
    /// remembers).
    ///
    /// # Errors
    /// The database's error when the statement does not prepare.
    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError>;

    /// Run a statement whose parameters are arrays, one per column, each holding that
    /// column's value for every row (PostgreSQL's `unnest`): many rows in one round trip.
    /// How many rows it changed. Called only with the statements a dialect renders for
    /// many rows ([`crate::sql::Dialect::insert_many`] and friends) where they take arrays;
    /// where they have a placeholder per value
    /// ([`crate::sql::Capabilities::sized_batches`]), the rows come one after the other as
    /// one [`RowParams`] ([`Statements::execute_row`], [`Statements::query_row`]). The
    /// provided method refuses.
    ///
    /// # Errors
    /// The database's error.
    fn execute_arrays(&mut self, sql: &str, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        let _ = (sql, columns);
        Err(no_arrays(self.database()))
    }

    /// As [`Statements::execute_arrays`], for a statement that returns rows (`RETURNING`).
    ///
    /// # Errors
    /// As [`Statements::query`].
    fn query_arrays(
        &mut self,
        sql: &str,
        columns: &[&[ValueRef<'_>]],
        on_row: RowCallback<'_>,
    ) -> Result<(), QueryError> {
        let _ = (sql, columns, on_row);
        Err(QueryError::Db(no_arrays(self.database())))
    }

    /// As [`Statements::execute`], for a statement the caller also names by `slot`: a small
    /// number that stands for this one `sql` text on this connection for the connection's
    /// whole life (the session numbers its statement shapes so). A driver may use the
    /// number to find the prepared statement without searching, but it is a hint: what
    /// runs is always the statement of `sql`. The text is shared (`Arc`), so that a driver
    /// can recognise it by identity: the SQLite driver keeps a clone of the `Arc` it last
    /// saw in each slot and compares pointers (a kept `Arc` cannot be freed and its address
    /// reused), comparing the text only when another `Arc` comes. The provided method
    /// ignores the slot.
    ///
    /// # Errors
    /// The database's error.
    #[doc(hidden)]
    fn execute_at(&mut self, slot: u32, sql: &Arc<str>, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        let _ = slot;
        self.execute(sql, params)
    }

    /// As [`Statements::execute_row`], with a `slot` as in [`Statements::execute_at`].
    ///
    /// # Errors
    /// The database's error.
    #[doc(hidden)]
    fn execute_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<u64, DbError> {
        let _ = slot;
        self.execute_row(sql, row)
    }

    /// As [`Statements::insert_row`], with a `slot` as in [`Statements::execute_at`].
    ///
    /// # Errors
    /// The database's error.
    #[doc(hidden)]
    fn insert_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        let _ = slot;
        self.insert_row(sql, row)
    }

    /// As [`Statements::query_refs`], with a `slot` as in [`Statements::execute_at`].
    ///
    /// # Errors
    /// As [`Statements::query`].
    #[doc(hidden)]
    fn query_refs_at(
        &mut self,
        slot: u32,
        sql: &Arc<str>,
        params: &[ValueRef<'_>],
        on_row: RowRefCallback<'_>,
    ) -> Result<(), QueryError> {
        let _ = slot;
        self.query_refs(sql, params, on_row)
    }
}

/// Why a query stopped.
#[derive(Debug)]
pub enum QueryError {
    /// The database failed.
    Db(DbError),
    /// The row callback failed (its error, unchanged).
    Row(CallbackError),
    /// The statement ran, but a value of its result could not be read (a column of a type
    /// the driver does not read).
    Value {
        /// The backend, for the message.
        backend: &'static str,
        /// What could not be read, and what to do about it.
        reason: String,
    },
}

/// Opens connections to one database. Shared by the engine's pool.
pub trait Driver: Send + Sync {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// The database, as shown in errors.
    fn database(&self) -> &str;

    /// Open a new connection, configured (pragmas, session settings).
    ///
    /// # Errors
    /// The database's error (the engine reports it as [`crate::Error::Open`] with the path
    /// or URL).
    fn connect(&self) -> Result<Box<dyn Connection>, DbError>;
}
