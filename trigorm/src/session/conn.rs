//! A session's connection: the driver connection, the SQL text of each statement shape
//! rendered once, and the statement observer.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::driver::{CallbackError, Connection, QueryError, Statements};
use crate::error::{DbError, DbErrorKind, Error};
use crate::model::{ColumnSet, Model};
use crate::schema::TableDef;
use crate::sql::Dialect;
use crate::value::{Value, ValueRef};

use super::params::{Columns, RowOf, RowsOf};

/// Called with the SQL text of every statement a session runs.
pub type StatementObserver = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    Insert {
        with_key: bool,
    },
    Update(ColumnSet),
    Delete,
    /// `lock`: for a write (`FOR UPDATE` where the backend locks rows).
    SelectByKey {
        lock: bool,
    },
    /// Statements of many rows (arrays of values, one per column; see
    /// [`Dialect::insert_many`]), for `rows` rows where the dialect's SQL depends on the
    /// number ([`Capabilities::sized_batches`](crate::sql::Capabilities::sized_batches);
    /// else 0).
    InsertMany {
        with_key: bool,
        rows: u32,
    },
    UpdateMany(ColumnSet, u32),
    DeleteMany(u32),
    LockMany(u32),
    /// The table's largest key ([`Dialect::largest_key`]).
    LargestKey,
}

/// A statement shape on a table, numbered in the order the connection first used it: the
/// number is the statement's slot in the driver (see
/// [`Statements::execute_at`](crate::driver::Statements::execute_at)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShapeId(u32);

/// The SQL text of each statement shape used on a connection, and the one used last.
#[derive(Default)]
pub(crate) struct ShapeCache {
    ids: FxHashMap<(usize, Shape), ShapeId>,
    /// By shape number.
    texts: Vec<Arc<str>>,
    /// By shape number: the columns a row statement binds, in order.
    columns: Vec<Columns>,
    last: Option<((usize, Shape), ShapeId)>,
    /// What [`ShapeCache::at`] gives for a number it never handed out.
    empty: Arc<str>,
}

static EMPTY_COLUMNS: Columns = Columns::EMPTY;

impl ShapeCache {
    /// The text and the columns of a shape.
    #[inline]
    fn at(&self, id: ShapeId) -> (&Arc<str>, &Columns) {
        let i = id.0 as usize;
        (
            self.texts.get(i).unwrap_or(&self.empty),
            self.columns.get(i).unwrap_or(&EMPTY_COLUMNS),
        )
    }
}

/// What the session knows of its connection's state beyond the driver's.
#[derive(Default)]
pub(crate) struct ConnState {
    /// A statement failed in the open transaction, which ended it (semantics §4): nothing
    /// more runs until ROLLBACK.
    pub(crate) aborted: bool,
    /// Raw SQL ran since the connection was last reset: it may have left settings behind.
    pub(crate) raw: bool,
}

/// A connection with its cache of rendered statements, kept in the engine's pool.
pub(crate) struct PooledConn {
    pub(crate) conn: Box<dyn Connection>,
    sql: ShapeCache,
    pub(crate) state: ConnState,
}

impl PooledConn {
    pub(crate) fn new(conn: Box<dyn Connection>) -> PooledConn {
        PooledConn {
            conn,
            sql: ShapeCache::default(),
            state: ConnState::default(),
        }
    }
}

/// The connection as the session uses it: the pooled connection plus the engine's dialect
/// and observer.
pub(crate) struct Conn<'a> {
    sql: &'a mut ShapeCache,
    state: &'a mut ConnState,
    db: Db<'a>,
    dialect: &'a dyn Dialect,
    observer: Option<&'a StatementObserver>,
}

/// Where statements run: the connection, or its statements held for a flush.
enum Db<'a> {
    Conn(&'a mut dyn Connection),
    Held(&'a mut dyn Statements),
}

impl<'a> Conn<'a> {
    pub(crate) fn new(
        pooled: &'a mut PooledConn,
        dialect: &'a dyn Dialect,
        observer: Option<&'a StatementObserver>,
    ) -> Conn<'a> {
        Conn {
            sql: &mut pooled.sql,
            state: &mut pooled.state,
            db: Db::Conn(&mut *pooled.conn),
            dialect,
            observer,
        }
    }
}

impl Conn<'_> {
    /// Run `f` with the connection's statements held prepared until it returns (see
    /// [`Connection::with_statements`]): for work that runs the same statements many times.
    pub(crate) fn with_statements<T>(&mut self, f: impl FnOnce(&mut Conn<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let Conn {
            sql,
            state,
            db,
            dialect,
            observer,
        } = self;
        let db = match db {
            Db::Conn(db) => db,
            Db::Held(_) => return f(self),
        };
        let mut f = Some(f);
        let mut out = None;
        db.with_statements(&mut |held| {
            if let Some(f) = f.take() {
                let mut conn = Conn {
                    sql,
                    state,
                    db: Db::Held(held),
                    dialect: *dialect,
                    observer: *observer,
                };
                out = Some(f(&mut conn)?);
            }
            Ok(())
        })
        .map_err(from_callback)?;
        out.ok_or_else(|| Error::Internal("the connection did not run the statements".into()))
    }

    /// The number of a statement shape on a table, its SQL text rendered on first use.
    #[inline]
    pub(crate) fn shape(&mut self, table: &'static TableDef, shape: Shape) -> Result<ShapeId, Error> {
        let key = (table as *const TableDef as usize, shape);
        // A flush round runs one statement for many rows in a row: try the last one first.
        match self.sql.last {
            Some((k, id)) if k == key => Ok(id),
            _ => self.find_shape(table, key),
        }
    }

    #[inline(never)]
    fn find_shape(&mut self, table: &'static TableDef, key: (usize, Shape)) -> Result<ShapeId, Error> {
        let shape = key.1;
        if let Some(&id) = self.sql.ids.get(&key) {
            self.sql.last = Some((key, id));
            return Ok(id);
        }
        table.validate()?;
        let d = self.dialect;
        let (sql, columns) = match shape {
            Shape::Insert { with_key } => (d.insert(table, with_key), Columns::insert(table, !with_key)),
            Shape::Update(cols) => (d.update(table, cols), Columns::update(table, cols)),
            Shape::Delete => (d.delete(table), Columns::key(table)),
            Shape::SelectByKey { lock } => (d.select_by_key(table, lock), Columns::key(table)),
            Shape::InsertMany { with_key, rows } => (
                d.insert_many(table, with_key, rows as usize)
                    .ok_or_else(|| no_batch(table))?,
                Columns::insert(table, !with_key),
            ),
            Shape::UpdateMany(cols, rows) => (
                d.update_many(table, cols, rows as usize)
                    .ok_or_else(|| no_batch(table))?,
                Columns::update(table, cols),
            ),
            Shape::DeleteMany(rows) => (
                d.delete_many(table, rows as usize).ok_or_else(|| no_batch(table))?,
                Columns::key(table),
            ),
            Shape::LargestKey => (d.largest_key(table).ok_or_else(|| no_batch(table))?, Columns::EMPTY),
            Shape::LockMany(rows) => (
                d.select_many_locked(table, rows as usize)
                    .ok_or_else(|| no_batch(table))?,
                Columns::key(table),
            ),
        };
        let id = ShapeId(
            u32::try_from(self.sql.texts.len())
                .map_err(|_| Error::Internal("too many statement shapes on one connection".into()))?,
        );
        self.sql.texts.push(sql.into());
        self.sql.columns.push(columns);
        self.sql.ids.insert(key, id);
        self.sql.last = Some((key, id));
        Ok(id)
    }

    /// How many parameters a row of a statement of many rows binds (for the backend's
    /// bound on parameters).
    pub(crate) fn columns_of(&self, table: &TableDef, shape: Shape) -> usize {
        match shape {
            Shape::InsertMany { with_key, .. } => Columns::insert(table, !with_key).iter().count(),
            Shape::UpdateMany(cols, _) => cols.iter().count() + 1,
            _ => 1,
        }
    }

    /// The SQL text of a statement shape (for errors).
    #[inline]
    pub(crate) fn shape_text(&self, id: ShapeId) -> &str {
        self.sql.at(id).0
    }

    /// The columns a statement shape binds, in order.
    #[inline]
    pub(crate) fn shape_columns(&self, id: ShapeId) -> &Columns {
        self.sql.at(id).1
    }

    /// Run a row statement shape with `obj`'s values for its columns, bound straight from
    /// the object.
    #[inline]
    pub(crate) fn execute_shape_obj<M: Model>(&mut self, id: ShapeId, obj: &M) -> Result<u64, DbError> {
        let Conn {
            sql,
            state,
            db,
            observer,
            ..
        } = self;
        let (text, columns) = sql.at(id);
        observe(*observer, text);
        let row = RowOf { obj, columns };
        state.check(|| db.database())?;
        state.track(match db {
            Db::Conn(db) => db.execute_row(text, &row),
            Db::Held(db) => db.execute_row_at(id.0, text, &row),
        })
    }

    /// As [`Conn::execute_shape_obj`], for an INSERT: the key the database generated.
    #[inline]
    pub(crate) fn insert_shape_obj<M: Model>(&mut self, id: ShapeId, obj: &M) -> Result<Option<i64>, DbError> {
        let Conn {
            sql,
            state,
            db,
            observer,
            ..
        } = self;
        let (text, columns) = sql.at(id);
        observe(*observer, text);
        let row = RowOf { obj, columns };
        state.check(|| db.database())?;
        state.track(match db {
            Db::Conn(db) => db.insert_row(text, &row),
            Db::Held(db) => db.insert_row_at(id.0, text, &row),
        })
    }

    /// Run a statement shape with parameters (see [`Conn::execute`]).
    #[inline]
    pub(crate) fn execute_shape(&mut self, id: ShapeId, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        let (sql, _) = self.sql.at(id);
        observe(self.observer, sql);
        self.state.check(|| self.db.database())?;
        self.state.track(match &mut self.db {
            Db::Conn(db) => db.execute(sql, params),
            Db::Held(db) => db.execute_at(id.0, sql, params),
        })
    }

    /// Whether a run of `rows` writes to `table` goes in statements of many rows (see
    /// [`Capabilities::batches`](crate::sql::Capabilities::batches)): a model with only a
    /// generated key inserts `DEFAULT VALUES` row by row, and where foreign keys are
    /// checked at each row (InnoDB), so is a table that references itself. Where only
    /// tables with triggers are batched (SQLite), a run of two rows or more reads the
    /// table's triggers from the catalog (a read the statement observer does not see: it
    /// is not the session's SQL); a trigger that may skip a row keeps the table row by row.
    pub(crate) fn batches(&mut self, table: &TableDef, rows: usize) -> Result<bool, Error> {
        let caps = self.dialect.capabilities();
        if table.columns.len() <= 1 || (!caps.statement_fk_checks && references_itself(table)) {
            return Ok(false);
        }
        if caps.batches {
            return Ok(true);
        }
        let sql = match self.dialect.table_triggers() {
            Some(sql) if caps.batches_tables_with_triggers && rows > 1 => sql,
            _ => return Ok(false),
        };
        let (mut some, mut skips) = (false, false);
        let mut on_row = |row: &[ValueRef<'_>]| {
            some = true;
            if let Some(ValueRef::Text(sql)) = row.first() {
                skips |= may_skip_rows(sql);
            }
            Ok(())
        };
        let params = [ValueRef::Text(table.name)];
        self.state
            .check(|| self.db.database())
            .map_err(QueryError::Db)
            .and_then(|()| {
                self.state.track_query(match &mut self.db {
                    Db::Conn(db) => db.query_refs(sql, &params, &mut on_row),
                    Db::Held(db) => db.query_refs(sql, &params, &mut on_row),
                })
            })
            .map_err(|e| query_error(e, Some(table.model), sql))?;
        Ok(some && !skips)
    }

    /// Whether `rows` more generated keys fit below the largest integer in `table`, where
    /// the database picks them at random past it
    /// ([`Capabilities::random_keys_when_full`](crate::sql::Capabilities::random_keys_when_full));
    /// true elsewhere.
    pub(crate) fn keys_fit(&mut self, table: &'static TableDef, rows: usize) -> Result<bool, Error> {
        if !self.dialect.capabilities().random_keys_when_full {
            return Ok(true);
        }
        let shape = self.shape(table, Shape::LargestKey)?;
        let mut largest = None;
        self.query_shape_refs(shape, &[], &mut |row| {
            if let Some(ValueRef::Int(n)) = row.first() {
                largest = Some(*n);
            }
            Ok(())
        })
        .map_err(|e| query_error(e, Some(table.model), self.shape_text(shape)))?;
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        Ok(largest.is_none_or(|n| n.checked_add(rows).is_some()))
    }

    /// Run a statement shape of many rows with a placeholder per value
    /// ([`Capabilities::sized_batches`](crate::sql::Capabilities::sized_batches)), its
    /// parameters bound from `rows`, one row after the other, straight from the models.
    /// How many rows it changed (found).
    pub(crate) fn execute_shape_rows<M: Model>(&mut self, id: ShapeId, rows: &[&M]) -> Result<u64, DbError> {
        let Conn {
            sql,
            state,
            db,
            observer,
            ..
        } = self;
        let (text, columns) = sql.at(id);
        observe(*observer, text);
        let rows = RowsOf { rows, columns };
        state.check(|| db.database())?;
        state.track(match db {
            Db::Conn(db) => db.execute_row(text, &rows),
            Db::Held(db) => db.execute_row(text, &rows),
        })
    }

    /// As [`Conn::execute_shape_rows`], for a statement that returns rows (`RETURNING`).
    pub(crate) fn query_shape_rows<M: Model>(
        &mut self,
        id: ShapeId,
        rows: &[&M],
        on_row: &mut dyn FnMut(&mut [Value]) -> Result<(), CallbackError>,
    ) -> Result<(), QueryError> {
        let Conn {
            sql,
            state,
            db,
            observer,
            ..
        } = self;
        let (text, columns) = sql.at(id);
        observe(*observer, text);
        let rows = RowsOf { rows, columns };
        state.check(|| db.database()).map_err(QueryError::Db)?;
        state.track_query(match db {
            Db::Conn(db) => db.query_row(text, &rows, on_row),
            Db::Held(db) => db.query_row(text, &rows, on_row),
        })
    }

    /// Run a statement shape of many rows that returns no rows: `columns` holds one array
    /// of values per parameter. How many rows it changed (found).
    pub(crate) fn execute_shape_arrays(&mut self, id: ShapeId, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        let (sql, _) = self.sql.at(id);
        observe(self.observer, sql);
        self.state.check(|| self.db.database())?;
        self.state.track(match &mut self.db {
            Db::Conn(db) => db.execute_arrays(sql, columns),
            Db::Held(db) => db.execute_arrays(sql, columns),
        })
    }

    /// Run a statement shape of many rows that returns rows: `columns` holds one array of
    /// values per parameter.
    pub(crate) fn query_shape_arrays(
        &mut self,
        id: ShapeId,
        columns: &[&[ValueRef<'_>]],
        on_row: &mut dyn FnMut(&mut [Value]) -> Result<(), CallbackError>,
    ) -> Result<(), QueryError> {
        let (sql, _) = self.sql.at(id);
        observe(self.observer, sql);
        self.state.check(|| self.db.database()).map_err(QueryError::Db)?;
        self.state.track_query(match &mut self.db {
            Db::Conn(db) => db.query_arrays(sql, columns, on_row),
            Db::Held(db) => db.query_arrays(sql, columns, on_row),
        })
    }

    /// Run a query shape (see [`Conn::query_refs`]).
    pub(crate) fn query_shape_refs(
        &mut self,
        id: ShapeId,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), CallbackError>,
    ) -> Result<(), QueryError> {
        let (sql, _) = self.sql.at(id);
        observe(self.observer, sql);
        self.state.check(|| self.db.database()).map_err(QueryError::Db)?;
        self.state.track_query(match &mut self.db {
            Db::Conn(db) => db.query_refs(sql, params, on_row),
            Db::Held(db) => db.query_refs_at(id.0, sql, params, on_row),
        })
    }

    fn observe(&self, sql: &str) {
        observe(self.observer, sql);
    }

    pub(crate) fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.observe(sql);
        self.state.check(|| self.db.database())?;
        self.state.track(match &mut self.db {
            Db::Conn(db) => db.execute(sql, params),
            Db::Held(db) => db.execute(sql, params),
        })
    }

    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&mut [Value]) -> Result<(), CallbackError>,
    ) -> Result<(), QueryError> {
        self.observe(sql);
        self.state.check(|| self.db.database()).map_err(QueryError::Db)?;
        self.state.track_query(match &mut self.db {
            Db::Conn(db) => db.query(sql, params, on_row),
            Db::Held(db) => db.query(sql, params, on_row),
        })
    }

    /// As [`Conn::query`], with each row borrowed from the driver.
    pub(crate) fn query_refs(
        &mut self,
        sql: &str,
        params: &[ValueRef<'_>],
        on_row: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<(), CallbackError>,
    ) -> Result<(), QueryError> {
        self.observe(sql);
        self.state.check(|| self.db.database()).map_err(QueryError::Db)?;
        self.state.track_query(match &mut self.db {
            Db::Conn(db) => db.query_refs(sql, params, on_row),
            Db::Held(db) => db.query_refs(sql, params, on_row),
        })
    }

    /// Raw SQL is about to run: it may leave settings on the connection, which is reset
    /// before it goes back to the pool.
    pub(crate) fn mark_raw(&mut self) {
        self.state.raw = true;
    }

    /// What the backend can do.
    #[inline]
    pub(crate) fn capabilities(&self) -> &'static crate::sql::Capabilities {
        self.dialect.capabilities()
    }

    /// Whether the backend locks rows rather than the database (see
    /// [`Capabilities::row_locks`](crate::sql::Capabilities::row_locks)).
    #[inline]
    pub(crate) fn row_locks(&self) -> bool {
        self.dialect.capabilities().row_locks
    }

    /// The connection, for transaction control (never inside a flush).
    fn transaction(&mut self) -> Result<&mut dyn Connection, Error> {
        match &mut self.db {
            Db::Conn(db) => Ok(&mut **db),
            Db::Held(_) => Err(Error::Internal(
                "a transaction cannot begin or end inside a flush".into(),
            )),
        }
    }

    /// Whether raw SQL only reads. A statement that fails to prepare has failed: it ends
    /// the transaction like any other (PostgreSQL aborts it on a parse error too).
    pub(crate) fn is_read_only(&mut self, sql: &str) -> Result<bool, Error> {
        self.state
            .check(|| self.db.database())
            .map_err(|e| stmt_error("prepare", None, None, sql, e))?;
        let r = match &mut self.db {
            Db::Conn(db) => db.is_read_only(sql),
            Db::Held(db) => db.is_read_only(sql),
        };
        self.state
            .track(r)
            .map_err(|e| stmt_error("prepare", None, None, sql, e))
    }

    /// Ignore native triggers for the rest of the open transaction (see
    /// [`crate::Session::ignore_triggers`]).
    pub(crate) fn ignore_triggers(&mut self, names: &[&str]) -> Result<(), Error> {
        self.observe("ignore triggers");
        self.state
            .check(|| self.db.database())
            .map_err(|e| stmt_error("ignore triggers", None, None, "", e))?;
        // The pool resets the connection after this session, whatever it ends with.
        self.state.raw = true;
        let r = self.transaction()?.ignore_triggers(names);
        self.state
            .track(r)
            .map_err(|e| stmt_error("ignore triggers", None, None, "", e))
    }

    pub(crate) fn begin(&mut self, write: bool) -> Result<(), Error> {
        self.observe("BEGIN");
        self.state.aborted = false;
        self.transaction()?.begin(write).map_err(|source| Error::Transaction {
            operation: "BEGIN",
            source: Box::new(source),
        })
    }

    /// Make the reading transaction a writing one; `false` when others wrote meanwhile
    /// (see [`Connection::upgrade`]). A new transaction is reported to the observer as the
    /// COMMIT and BEGIN it took.
    pub(crate) fn upgrade(&mut self) -> Result<bool, Error> {
        let renewed = self.transaction()?.upgrade().map_err(|source| Error::Transaction {
            operation: "BEGIN",
            source: Box::new(source),
        })?;
        if renewed.is_some() {
            self.observe("COMMIT");
            self.observe("BEGIN");
        }
        Ok(renewed.unwrap_or(true))
    }

    /// COMMIT; refused (the caller rolls back) when a statement of the transaction failed,
    /// since the database would not have committed it (PostgreSQL answers such a COMMIT
    /// with a ROLLBACK).
    pub(crate) fn commit(&mut self) -> Result<(), Error> {
        if self.state.aborted {
            return Err(Error::Transaction {
                operation: "COMMIT",
                source: Box::new(aborted_error(self.db.database())),
            });
        }
        self.observe("COMMIT");
        let r = self.transaction()?.commit();
        self.state.track(r).map_err(|source| Error::Transaction {
            operation: "COMMIT",
            source: Box::new(source),
        })
    }

    pub(crate) fn rollback(&mut self) -> Result<(), Error> {
        self.observe("ROLLBACK");
        self.state.aborted = false;
        self.transaction()?.rollback().map_err(|source| Error::Transaction {
            operation: "ROLLBACK",
            source: Box::new(source),
        })
    }
}

impl Db<'_> {
    fn database(&self) -> &str {
        match self {
            Db::Conn(db) => db.database(),
            Db::Held(db) => db.database(),
        }
    }
}

impl ConnState {
    /// Refuse a statement in a transaction that a failed statement ended (`database`: for
    /// the error, asked only then).
    #[inline]
    fn check<'d>(&self, database: impl FnOnce() -> &'d str) -> Result<(), DbError> {
        if self.aborted {
            return Err(aborted_error(database()));
        }
        Ok(())
    }

    /// Note a statement's failure: it ended the transaction.
    #[inline]
    fn track<T>(&mut self, r: Result<T, DbError>) -> Result<T, DbError> {
        if r.is_err() {
            self.aborted = true;
        }
        r
    }

    /// As [`ConnState::track`], for a query (a row callback's error is no statement failure).
    #[inline]
    fn track_query(&mut self, r: Result<(), QueryError>) -> Result<(), QueryError> {
        if let Err(QueryError::Db(_)) = r {
            self.aborted = true;
        }
        r
    }
}

/// Whether a column of `table` references `table` itself.
fn references_itself(table: &TableDef) -> bool {
    table
        .columns
        .iter()
        .any(|c| c.references.is_some_and(|fk| std::ptr::eq((fk.table)(), table)))
}

/// A statement of many rows asked of a dialect that has none (the session checks
/// [`Conn::batches`] first).
#[cold]
fn no_batch(table: &TableDef) -> Error {
    Error::Unsupported {
        backend: "this dialect",
        feature: format!("statements of many rows (table {})", table.name),
    }
}

/// The error of a statement refused because an earlier one ended the transaction.
#[cold]
fn aborted_error(database: &str) -> DbError {
    DbError {
        kind: DbErrorKind::TransactionAborted,
        code: None,
        message: "an earlier statement failed, which ended the transaction; roll back before running more".into(),
        database: database.to_string(),
    }
}

/// Report a statement about to run: to `tracing` and to the engine's observer.
#[inline]
fn observe(observer: Option<&StatementObserver>, sql: &str) {
    tracing::trace!(target: "trigorm::sql", sql);
    if let Some(o) = observer {
        o(sql);
    }
}

/// Wrap a statement's database error with what it did and where.
#[cold]
#[inline(never)]
pub(crate) fn stmt_error(
    operation: &'static str,
    model: Option<&'static str>,
    pk: Option<String>,
    sql: &str,
    source: DbError,
) -> Error {
    Error::Statement {
        operation,
        model,
        pk,
        sql: sql.to_string(),
        source: Box::new(source),
    }
}

/// Turn a query's failure into an error naming the statement.
#[cold]
#[inline(never)]
pub(crate) fn query_error(e: QueryError, model: Option<&'static str>, sql: &str) -> Error {
    match e {
        QueryError::Db(source) => stmt_error("select", model, None, sql, source),
        QueryError::Row(e) => from_callback(e),
        QueryError::Value { backend, reason } => Error::Unsupported {
            backend,
            feature: reason,
        },
    }
}

/// The session's own error, back from a driver that called the session's code (a row
/// callback, a flush inside [`Connection::with_statements`]) and handed its error back.
#[cold]
pub(crate) fn from_callback(e: CallbackError) -> Error {
    match e.downcast::<Error>() {
        Ok(e) => *e,
        Err(other) => Error::Internal(format!("a driver's callback failed: {other}")),
    }
}

/// Whether a trigger's SQL may skip the change of a row (`RAISE(IGNORE)` in a BEFORE
/// trigger: the statement then leaves that row alone and goes on), so that a count of the
/// rows a statement of many rows changed would not say which. Read from the text, case
/// and spaces aside: a mention in a comment or a string only costs the batching.
fn may_skip_rows(trigger_sql: &str) -> bool {
    let compact: String = trigger_sql
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    compact.contains("RAISE(IGNORE")
}

#[cfg(test)]
mod tests {
    use super::may_skip_rows;

    #[test]
    fn a_trigger_that_may_skip_rows_is_recognised_whatever_its_spelling() {
        assert!(may_skip_rows(
            "CREATE TRIGGER t BEFORE DELETE ON n BEGIN UPDATE n SET d = 1; SELECT RAISE(IGNORE); END"
        ));
        assert!(may_skip_rows(
            "create trigger t before update on n begin select raise ( ignore ); end"
        ));
        assert!(!may_skip_rows(
            "CREATE TRIGGER t AFTER INSERT ON u BEGIN INSERT INTO log VALUES (NEW.id); END"
        ));
        assert!(!may_skip_rows(
            "CREATE TRIGGER t BEFORE UPDATE ON u BEGIN SELECT RAISE(ABORT, 'no'); END"
        ));
    }
}
