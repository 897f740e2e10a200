//! A driver whose connections break on demand (a connection the server or the network
//! drops), wrapping the backend's own: no server needs to be stopped for a test to lose
//! a connection.
//!
//! Included by the test files that need it: `#[path = "common/breaking.rs"] mod breaking;`

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use trigorm::driver::{
    Backend, CallbackError, Connection, Driver, QueryError, RowCallback, RowParams, RowRefCallback, Statements,
};
use trigorm::error::{DbError, DbErrorKind};
use trigorm::ValueRef;

/// A driver whose connections break on demand, as a connection the server or the network
/// drops: once `cut` is set, the next statement of any of its connections fails with
/// `DbErrorKind::ConnectionLost`, and that connection is broken from then on (every call
/// fails, [`Connection::is_broken`] says so). Counts the connections it opens.
pub struct Breaking {
    pub inner: Box<dyn Driver>,
    pub cut: Arc<AtomicBool>,
    pub opened: Arc<AtomicUsize>,
}

impl Driver for Breaking {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
    fn database(&self) -> &str {
        self.inner.database()
    }
    fn connect(&self) -> Result<Box<dyn Connection>, DbError> {
        let inner = self.inner.connect()?;
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(BreakingConn {
            inner,
            cut: self.cut.clone(),
            broken: false,
        }))
    }
}

struct BreakingConn {
    inner: Box<dyn Connection>,
    cut: Arc<AtomicBool>,
    broken: bool,
}

/// Fail when the connection is broken, or breaks now.
fn check(cut: &AtomicBool, broken: &mut bool, database: &str) -> Result<(), DbError> {
    if *broken || cut.swap(false, Ordering::SeqCst) {
        *broken = true;
        return Err(DbError {
            kind: DbErrorKind::ConnectionLost,
            code: None,
            message: "connection lost (injected by the test)".into(),
            database: database.to_string(),
        });
    }
    Ok(())
}

impl BreakingConn {
    fn check(&mut self) -> Result<(), DbError> {
        check(&self.cut, &mut self.broken, self.inner.database())
    }

    /// The connection's own statements, breaking as the held ones do.
    fn statements(&mut self) -> BreakingStatements<'_> {
        BreakingStatements {
            inner: &mut *self.inner,
            cut: &self.cut,
            broken: &mut self.broken,
        }
    }
}

impl Connection for BreakingConn {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
    fn begin(&mut self, write: bool) -> Result<(), DbError> {
        self.check()?;
        self.inner.begin(write)
    }
    fn upgrade(&mut self) -> Result<Option<bool>, DbError> {
        self.check()?;
        self.inner.upgrade()
    }
    fn commit(&mut self) -> Result<(), DbError> {
        self.check()?;
        self.inner.commit()
    }
    fn rollback(&mut self) -> Result<(), DbError> {
        self.check()?;
        self.inner.rollback()
    }
    fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }
    fn is_broken(&self) -> bool {
        self.broken || self.inner.is_broken()
    }
    fn reset(&mut self) -> Result<(), DbError> {
        self.check()?;
        self.inner.reset()
    }
    fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.check()?;
        self.inner.execute_batch(sql)
    }
    fn with_statements(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Statements) -> Result<(), CallbackError>,
    ) -> Result<(), CallbackError> {
        let BreakingConn { inner, cut, broken } = self;
        inner.with_statements(&mut |held| {
            f(&mut BreakingStatements {
                inner: held,
                cut,
                broken: &mut *broken,
            })
        })
    }
}

/// The connection's statements: as the held ones.
impl Statements for BreakingConn {
    fn database(&self) -> &str {
        self.inner.database()
    }
    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.statements().execute(sql, params)
    }
    fn insert(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<Option<i64>, DbError> {
        self.statements().insert(sql, params)
    }
    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        self.statements().execute_row(sql, row)
    }
    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.statements().insert_row(sql, row)
    }
    fn query(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        self.statements().query(sql, params, on_row)
    }
    fn query_refs(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowRefCallback<'_>) -> Result<(), QueryError> {
        self.statements().query_refs(sql, params, on_row)
    }
    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        self.statements().is_read_only(sql)
    }
    fn execute_arrays(&mut self, sql: &str, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        self.statements().execute_arrays(sql, columns)
    }
    fn query_arrays(
        &mut self,
        sql: &str,
        columns: &[&[ValueRef<'_>]],
        on_row: RowCallback<'_>,
    ) -> Result<(), QueryError> {
        self.statements().query_arrays(sql, columns, on_row)
    }
}

/// A breaking connection's statements held for a flush.
struct BreakingStatements<'a> {
    inner: &'a mut dyn Statements,
    cut: &'a AtomicBool,
    broken: &'a mut bool,
}

impl BreakingStatements<'_> {
    fn check(&mut self) -> Result<(), DbError> {
        check(self.cut, self.broken, self.inner.database())
    }
}

impl Statements for BreakingStatements<'_> {
    fn database(&self) -> &str {
        self.inner.database()
    }
    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute(sql, params)
    }
    fn insert(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<Option<i64>, DbError> {
        self.check()?;
        self.inner.insert(sql, params)
    }
    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_row(sql, row)
    }
    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.check()?;
        self.inner.insert_row(sql, row)
    }
    fn query(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query(sql, params, on_row)
    }
    fn query_refs(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowRefCallback<'_>) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query_refs(sql, params, on_row)
    }
    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        self.check()?;
        self.inner.is_read_only(sql)
    }
    fn execute_arrays(&mut self, sql: &str, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_arrays(sql, columns)
    }
    fn query_arrays(
        &mut self,
        sql: &str,
        columns: &[&[ValueRef<'_>]],
        on_row: RowCallback<'_>,
    ) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query_arrays(sql, columns, on_row)
    }
    fn execute_at(&mut self, slot: u32, sql: &Arc<str>, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_at(slot, sql, params)
    }
    fn execute_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<u64, DbError> {
        self.check()?;
        self.inner.execute_row_at(slot, sql, row)
    }
    fn insert_row_at(&mut self, slot: u32, sql: &Arc<str>, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        self.check()?;
        self.inner.insert_row_at(slot, sql, row)
    }
    fn query_refs_at(
        &mut self,
        slot: u32,
        sql: &Arc<str>,
        params: &[ValueRef<'_>],
        on_row: RowRefCallback<'_>,
    ) -> Result<(), QueryError> {
        self.check().map_err(QueryError::Db)?;
        self.inner.query_refs_at(slot, sql, params, on_row)
    }
}
