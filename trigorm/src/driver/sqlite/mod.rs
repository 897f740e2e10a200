//! The SQLite driver, on rusqlite (bundled SQLite).
//!
//! Files are opened in WAL mode with `synchronous = NORMAL`, a busy timeout and foreign
//! keys on. `sqlite::memory:` is one in-memory database per engine, shared by all of the
//! engine's connections (SQLite's `memdb` VFS), so sessions on several threads see the
//! same data.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use rusqlite::hooks::AuthContext;
use rusqlite::types::ValueRef;
use rusqlite::{ffi, OpenFlags};

use super::{Backend, Connection, Driver, QueryError, RowCallback, RowParams, RowRefCallback, Statements};
use super::{CallbackError, DbError, DbErrorKind};
mod authorizer;
mod bind;
mod ignore;
mod text;

use authorizer::authorize;
use bind::{bind_all, bind_row};

use crate::value::{Value, ValueRef as Param};
pub(crate) use text::timestamp_text;

/// How many prepared statements each connection keeps (rusqlite's default is 16).
const STATEMENT_CACHE_CAPACITY: usize = 256;

/// Where the database lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A file, created if missing (its directory must exist).
    File(PathBuf),
    /// An in-memory database private to one engine.
    Memory,
}

/// Opens SQLite connections.
#[derive(Debug)]
pub struct SqliteDriver {
    open_path: String,
    display: String,
    memory: bool,
    busy_timeout: Duration,
    /// For an in-memory database: a connection held for the driver's life, so that the
    /// database lives as long as the engine, whatever the pool closes.
    keeper: std::sync::Mutex<Option<rusqlite::Connection>>,
}

static MEMORY_DB_COUNTER: AtomicU64 = AtomicU64::new(0);

impl SqliteDriver {
    /// A driver for one database.
    pub fn new(location: Location, busy_timeout: Duration) -> SqliteDriver {
        match location {
            Location::File(path) => SqliteDriver {
                display: path.display().to_string(),
                open_path: path.to_string_lossy().into_owned(),
                memory: false,
                busy_timeout,
                keeper: std::sync::Mutex::new(None),
            },
            Location::Memory => {
                let n = MEMORY_DB_COUNTER.fetch_add(1, Ordering::Relaxed);
                SqliteDriver {
                    open_path: format!("file:/trigorm-memory-{}-{n}?vfs=memdb", std::process::id()),
                    display: ":memory:".to_string(),
                    memory: true,
                    busy_timeout,
                    keeper: std::sync::Mutex::new(None),
                }
            }
        }
    }

    fn open_error(&self, e: rusqlite::Error) -> DbError {
        db_error(e, &self.display)
    }
}

impl Driver for SqliteDriver {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn database(&self) -> &str {
        &self.display
    }

    fn connect(&self) -> Result<Box<dyn Connection>, DbError> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_EXRESCODE;
        if self.memory {
            flags |= OpenFlags::SQLITE_OPEN_URI;
        }
        let conn = rusqlite::Connection::open_with_flags(&self.open_path, flags).map_err(|e| self.open_error(e))?;
        if self.memory {
            if let Ok(mut keeper) = self.keeper.lock() {
                if keeper.is_none() {
                    let held = rusqlite::Connection::open_with_flags(&self.open_path, flags)
                        .map_err(|e| self.open_error(e))?;
                    *keeper = Some(held);
                }
            }
        }
        conn.busy_timeout(self.busy_timeout).map_err(|e| self.open_error(e))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        // Reading the schema first makes a file that is not a database fail here, before
        // anything could be written to it.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(|e| self.open_error(e))?;
        if !self.memory {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(|e| self.open_error(e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(database = %self.display, mode, "SQLite refused WAL mode");
            }
            conn.execute_batch("PRAGMA synchronous = NORMAL")
                .map_err(|e| self.open_error(e))?;
        }
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(|e| self.open_error(e))?;
        let mut conn = conn;
        let transaction_control = Arc::new(AtomicBool::new(false));
        let allowed = transaction_control.clone();
        conn.authorizer(Some(move |ctx: AuthContext<'_>| {
            authorize(&ctx, allowed.load(Ordering::Relaxed))
        }))
        .map_err(|e| self.open_error(e))?;
        Ok(Box::new(SqliteConnection {
            conn,
            database: self.display.clone(),
            transaction_control,
            ignored: Vec::new(),
        }))
    }
}

/// One SQLite connection.
pub struct SqliteConnection {
    conn: rusqlite::Connection,
    database: String,
    /// Set while the connection itself runs BEGIN, COMMIT or ROLLBACK.
    transaction_control: Arc<AtomicBool>,
    /// Every trigger of the tables whose triggers an ignore dropped in the open
    /// transaction, to put back before its COMMIT.
    ignored: Vec<ignore::Noted>,
}

impl SqliteConnection {
    fn err(&self, e: rusqlite::Error) -> DbError {
        db_error(e, &self.database)
    }

    fn data_version(&self) -> Result<i64, DbError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn control(&mut self, sql: &str) -> Result<(), DbError> {
        self.transaction_control.store(true, Ordering::Relaxed);
        let r = self.conn.execute_batch(sql);
        self.transaction_control.store(false, Ordering::Relaxed);
        r.map_err(|e| self.err(e))
    }
}

fn read_value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_string()),
            Err(_) => Value::Blob(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// A column value, borrowed: as [`read_value`] without copying text or bytes.
fn borrow_value(v: ValueRef<'_>) -> Param<'_> {
    match v {
        ValueRef::Null => Param::Null,
        ValueRef::Integer(i) => Param::Int(i),
        ValueRef::Real(f) => Param::Float(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Param::Text(s),
            Err(_) => Param::Blob(t),
        },
        ValueRef::Blob(b) => Param::Blob(b),
    }
}

impl Statements for SqliteConnection {
    fn database(&self) -> &str {
        &self.database
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        execute(&mut stmt, params).map_err(|e| self.err(e))
    }

    fn insert(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<i64>, DbError> {
        self.execute(sql, params)?;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let params = stmt.parameter_count();
        execute_row(&mut stmt, params, row).map_err(|e| self.err(e))
    }

    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.execute_row(sql, row)?;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        let database = &self.database;
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| QueryError::Db(db_error(e, database)))?;
        query(&mut stmt, Params::List(params), on_row, database)
    }

    fn query_row(&mut self, sql: &str, row: &dyn RowParams, on_row: RowCallback<'_>) -> Result<(), QueryError> {
        let database = &self.database;
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| QueryError::Db(db_error(e, database)))?;
        query(&mut stmt, Params::Row(row), on_row, database)
    }

    fn query_refs(&mut self, sql: &str, params: &[Param<'_>], on_row: RowRefCallback<'_>) -> Result<(), QueryError> {
        let database = &self.database;
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| QueryError::Db(db_error(e, database)))?;
        query_refs(&mut stmt, params, on_row, database)
    }

    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        let stmt = self.conn.prepare_cached(sql).map_err(|e| db_error(e, &self.database))?;
        Ok(stmt.readonly())
    }
}

impl Connection for SqliteConnection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn begin(&mut self, write: bool) -> Result<(), DbError> {
        // IMMEDIATE takes the write lock now: a session reads what it will write, and a
        // deferred transaction could not upgrade its read lock once another writer
        // committed. A transaction that only reads takes no write lock (WAL: readers block
        // nobody).
        self.control(if write { "BEGIN IMMEDIATE" } else { "BEGIN" })
    }

    /// A deferred transaction cannot take the write lock once another writer committed
    /// (`SQLITE_BUSY_SNAPSHOT`), so the reading transaction ends and a writing one begins;
    /// `PRAGMA data_version`, read in each, says whether anyone committed in between.
    fn upgrade(&mut self) -> Result<Option<bool>, DbError> {
        let before = self.data_version()?;
        self.control("COMMIT")?;
        self.control("BEGIN IMMEDIATE")?;
        Ok(Some(self.data_version()? == before))
    }

    fn commit(&mut self) -> Result<(), DbError> {
        // Triggers an ignore dropped come back before the COMMIT: no other connection
        // ever sees them missing. If this fails, the transaction is still open, and its
        // rollback puts them back.
        if !self.ignored.is_empty() {
            ignore::restore(&self.conn, &self.ignored).map_err(|e| self.err(e))?;
            self.ignored.clear();
        }
        self.control("COMMIT")
    }

    /// The triggers are dropped in the open transaction and made again before its COMMIT
    /// (see `ignore.rs`); a rollback or a failure puts them back with the rest.
    fn ignore_triggers(&mut self, names: &[&str]) -> Result<(), DbError> {
        ignore::drop_named(&self.conn, names, &mut self.ignored).map_err(|e| self.err(e))
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.ignored.clear();
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.control("ROLLBACK")
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn with_statements(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Statements) -> Result<(), CallbackError>,
    ) -> Result<(), CallbackError> {
        f(&mut Held {
            conn: &self.conn,
            database: &self.database,
            held: Vec::new(),
            last: 0,
            slots: Vec::new(),
        })
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }
}

fn execute(stmt: &mut rusqlite::Statement<'_>, params: &[Param<'_>]) -> rusqlite::Result<u64> {
    bind_all(stmt, params)?;
    Ok(stmt.raw_execute()? as u64)
}

#[inline]
/// `params`: the statement's number of parameters.
fn execute_row(stmt: &mut rusqlite::Statement<'_>, params: usize, row: &dyn RowParams) -> rusqlite::Result<u64> {
    bind_row(stmt, params, row)?;
    Ok(stmt.raw_execute()? as u64)
}

/// What a query's parameters are: a list, or a row read while it is bound.
#[derive(Clone, Copy)]
enum Params<'a, 'v> {
    List(&'a [Param<'v>]),
    Row(&'a dyn RowParams),
}

impl Params<'_, '_> {
    fn bind(self, stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<()> {
        match self {
            Params::List(params) => bind_all(stmt, params),
            Params::Row(row) => {
                let n = stmt.parameter_count();
                bind_row(stmt, n, row)
            }
        }
    }
}

/// Bind `params`, then hand each row of the result to `each`.
fn for_each_row(
    stmt: &mut rusqlite::Statement<'_>,
    params: Params<'_, '_>,
    database: &str,
    mut each: impl FnMut(&rusqlite::Row<'_>, usize) -> Result<(), QueryError>,
) -> Result<(), QueryError> {
    params.bind(stmt).map_err(|e| QueryError::Db(db_error(e, database)))?;
    let ncols = stmt.column_count();
    let mut rows = stmt.raw_query();
    loop {
        match rows.next() {
            Ok(Some(row)) => each(row, ncols)?,
            Ok(None) => return Ok(()),
            Err(e) => return Err(QueryError::Db(db_error(e, database))),
        }
    }
}

fn query(
    stmt: &mut rusqlite::Statement<'_>,
    params: Params<'_, '_>,
    on_row: RowCallback<'_>,
    database: &str,
) -> Result<(), QueryError> {
    let mut buf: Vec<Value> = Vec::new();
    for_each_row(stmt, params, database, |row, ncols| {
        buf.clear();
        for i in 0..ncols {
            let v = row.get_ref(i).map_err(|e| QueryError::Db(db_error(e, database)))?;
            buf.push(read_value(v));
        }
        on_row(&mut buf).map_err(QueryError::Row)
    })
}

/// Rows this wide or narrower are lent from a buffer on the stack.
const STACK_ROW: usize = 16;

/// As [`query`], lending each row (no copy of text or bytes).
fn query_refs(
    stmt: &mut rusqlite::Statement<'_>,
    params: &[Param<'_>],
    on_row: RowRefCallback<'_>,
    database: &str,
) -> Result<(), QueryError> {
    for_each_row(stmt, Params::List(params), database, |row, ncols| {
        let get = |i: usize| {
            row.get_ref(i)
                .map(borrow_value)
                .map_err(|e| QueryError::Db(db_error(e, database)))
        };
        if ncols <= STACK_ROW {
            // Borrowed values only (never `Owned`): nothing to drop, so the buffer is not
            // walked again to drop it.
            let mut buf = std::mem::ManuallyDrop::new([const { Param::Null }; STACK_ROW]);
            for (i, slot) in buf[..ncols].iter_mut().enumerate() {
                *slot = get(i)?;
            }
            on_row(&buf[..ncols]).map_err(QueryError::Row)
        } else {
            let buf = (0..ncols).map(get).collect::<Result<Vec<_>, _>>()?;
            on_row(&buf).map_err(QueryError::Row)
        }
    })
}

/// How many statements [`Held`] keeps at most (raw SQL may bring many texts).
const HELD_STATEMENTS: usize = 32;

/// The statements of one [`Connection::with_statements`] call, each taken from rusqlite's
/// cache once rather than once per row (a cache lookup hashes the text and allocates its
/// key, and handing a statement back clears its bindings and hashes it again). They go
/// back to the cache when the call ends.
struct Held<'c> {
    conn: &'c rusqlite::Connection,
    database: &'c str,
    /// Each statement with its text and its number of parameters (asked of SQLite once).
    held: Vec<(Box<str>, rusqlite::CachedStatement<'c>, usize)>,
    /// The statement used last: a flush runs the same statement for many rows in a row.
    last: usize,
    /// By slot (see [`Statements::execute_at`]): the text last given for the slot and the
    /// index of its statement in `held`.
    slots: Vec<Option<(Arc<str>, usize)>>,
}

impl<'c> Held<'c> {
    fn stmt(&mut self, sql: &str) -> Result<&mut rusqlite::CachedStatement<'c>, DbError> {
        let last = self.held.get(self.last).filter(|(text, ..)| **text == *sql);
        let i = match last
            .map(|_| self.last)
            .or_else(|| self.held.iter().position(|(text, ..)| **text == *sql))
        {
            Some(i) => i,
            None => {
                if self.held.len() == HELD_STATEMENTS {
                    self.held.clear();
                    self.slots.clear();
                }
                let stmt = self.conn.prepare_cached(sql).map_err(|e| db_error(e, self.database))?;
                let params = stmt.parameter_count();
                self.held.push((sql.into(), stmt, params));
                self.held.len() - 1
            }
        };
        self.last = i;
        Ok(&mut self.held[i].1)
    }

    /// The statement of `slot`, which stands for `sql`: found by the number, with no search
    /// through the held statements. The slot is a hint: it is taken only when it holds this
    /// very `Arc` (a pointer comparison; the slot keeps a clone, so the address cannot have
    /// been reused), so that a caller who broke the contract gets the statement of `sql`,
    /// never another one.
    #[inline]
    fn stmt_at(&mut self, slot: u32, sql: &Arc<str>) -> Result<&mut rusqlite::CachedStatement<'c>, DbError> {
        let i = self.index_at(slot, sql)?;
        Ok(&mut self.held[i].1)
    }

    /// As [`Held::stmt_at`]: where the statement is in `held`.
    #[inline]
    fn index_at(&mut self, slot: u32, sql: &Arc<str>) -> Result<usize, DbError> {
        match self.slots.get(slot as usize) {
            Some(Some((text, i))) if Arc::ptr_eq(text, sql) && *i < self.held.len() => Ok(*i),
            _ => self.hold_at(slot, sql),
        }
    }

    /// Prepare (or find by its text) the statement of `slot` and remember where it is.
    #[inline(never)]
    fn hold_at(&mut self, slot: u32, sql: &Arc<str>) -> Result<usize, DbError> {
        let at = slot as usize;
        self.stmt(sql)?;
        let i = self.last;
        if self.slots.len() <= at {
            self.slots.resize(at + 1, None);
        }
        self.slots[at] = Some((sql.clone(), i));
        Ok(i)
    }
}

impl Statements for Held<'_> {
    fn database(&self) -> &str {
        self.database
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        let database = self.database;
        execute(self.stmt(sql)?, params).map_err(|e| db_error(e, database))
    }

    fn insert(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<i64>, DbError> {
        self.execute(sql, params)?;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        let database = self.database;
        self.stmt(sql)?;
        let (_, stmt, params) = &mut self.held[self.last];
        execute_row(stmt, *params, row).map_err(|e| db_error(e, database))
    }

    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.execute_row(sql, row)?;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        let database = self.database;
        let stmt = self.stmt(sql).map_err(QueryError::Db)?;
        query(stmt, Params::List(params), on_row, database)
    }

    fn query_row(&mut self, sql: &str, row: &dyn RowParams, on_row: RowCallback<'_>) -> Result<(), QueryError> {
        let database = self.database;
        let stmt = self.stmt(sql).map_err(QueryError::Db)?;
        query(stmt, Params::Row(row), on_row, database)
    }

    fn query_refs(&mut self, sql: &str, params: &[Param<'_>], on_row: RowRefCallback<'_>) -> Result<(), QueryError> {
        let database = self.database;
        let stmt = self.stmt(sql).map_err(QueryError::Db)?;
        query_refs(stmt, params, on_row, database)
    }

    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        Ok(self.stmt(sql)?.readonly())
    }

    fn execute_at(&mut self, slot: u32, sql: &Arc<str>, params: &[Param<'_>]) -> Result<u64, DbError> {
        let database = self.database;
        execute(self.stmt_at(slot, sql)?, params).map_err(|e| db_error(e, database))
    }

    #[inline]
    fn execute_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<u64, DbError> {
        let database = self.database;
        let i = self.index_at(slot, sql)?;
        let (_, stmt, params) = &mut self.held[i];
        execute_row(stmt, *params, row).map_err(|e| db_error(e, database))
    }

    fn insert_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.execute_row_at(slot, sql, row)?;
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn query_refs_at(
        &mut self,
        slot: u32,
        sql: &Arc<str>,
        params: &[Param<'_>],
        on_row: RowRefCallback<'_>,
    ) -> Result<(), QueryError> {
        let database = self.database;
        let stmt = self.stmt_at(slot, sql).map_err(QueryError::Db)?;
        query_refs(stmt, params, on_row, database)
    }
}

/// Classify a rusqlite error.
fn db_error(e: rusqlite::Error, database: &str) -> DbError {
    let (kind, code) = match &e {
        rusqlite::Error::SqliteFailure(f, msg) => {
            let kind = match f.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => DbErrorKind::UniqueViolation,
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => DbErrorKind::ForeignKeyViolation,
                ffi::SQLITE_CONSTRAINT_NOTNULL => DbErrorKind::NotNullViolation,
                ffi::SQLITE_CONSTRAINT_CHECK => DbErrorKind::CheckViolation,
                ffi::SQLITE_CONSTRAINT_TRIGGER => DbErrorKind::TriggerRefused,
                _ => match f.code {
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => DbErrorKind::Busy,
                    rusqlite::ErrorCode::NotADatabase => DbErrorKind::NotADatabase,
                    rusqlite::ErrorCode::CannotOpen => DbErrorKind::CannotOpen,
                    _ if msg.is_some() && f.extended_code == ffi::SQLITE_CONSTRAINT => DbErrorKind::TriggerRefused,
                    _ => DbErrorKind::Other,
                },
            };
            (kind, Some(f.extended_code.to_string()))
        }
        _ => (DbErrorKind::Other, None),
    };
    DbError {
        kind,
        code,
        message: e.to_string(),
        database: database.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot is a hint: used with another text than the one it was first given, it still
    /// runs the statement of the text it comes with.
    #[test]
    fn a_slot_used_with_another_text_runs_that_text() {
        let driver = SqliteDriver::new(Location::Memory, Duration::from_secs(1));
        let mut conn = driver.connect().expect("connect");
        conn.execute_batch("CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER)")
            .expect("schema");
        let a: Arc<str> = "INSERT INTO a (x) VALUES (?)".into();
        let b: Arc<str> = "INSERT INTO b (x) VALUES (?)".into();
        conn.with_statements(&mut |held| {
            for i in 0..3 {
                held.execute_at(0, &a, &[Param::Int(i)])?;
                // The same slot, another text of the same length.
                held.execute_at(0, &b, &[Param::Int(10 + i)])?;
            }
            // The same text in another `Arc`: still that statement.
            let again: Arc<str> = (*a).into();
            held.execute_at(0, &again, &[Param::Int(3)])?;
            Ok(())
        })
        .expect("statements");
        let mut rows = Vec::new();
        conn.query(
            "SELECT 'a', x FROM a UNION ALL SELECT 'b', x FROM b ORDER BY 1, 2",
            &[],
            &mut |row| {
                rows.push(format!("{:?}", row));
                Ok(())
            },
        )
        .expect("query");
        assert_eq!(rows.len(), 7, "{rows:?}");
        assert!(rows[..4].iter().all(|r| r.contains("\"a\"")), "{rows:?}");
        assert!(rows[4..].iter().all(|r| r.contains("\"b\"")), "{rows:?}");
    }
}
