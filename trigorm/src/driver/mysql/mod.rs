//! The MariaDB / MySQL driver, on the `mysql` crate (synchronous, no TLS).
//!
//! URLs are `mysql://user:password@host:port/database` (or `mariadb://`), with the
//! crate's parameters (`socket`, `tcp_connect_timeout_ms`, ...). Every connection asks for
//! found rows (`CLIENT_FOUND_ROWS`: an UPDATE counts the rows it matched, as on the other
//! backends), and sets a strict `sql_mode` (a string longer than its column is an error,
//! never a truncated value, whatever the server's default), `time_zone = '+00:00'`
//! (timestamps are UTC) and READ COMMITTED (as PostgreSQL: reads take no locks; a flush
//! locks the rows it writes). Statements are prepared once per connection (the crate's
//! cache, by SQL text). Statements of many rows have a placeholder per value: their
//! arrays are bound row by row.

use std::fmt;
use std::time::Duration;

use mysql::consts::CapabilityFlags;
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Params, Value as MyValue};

use super::{bound_values, Backend, Connection, Driver, QueryError, RowCallback, RowParams, Statements};
use super::{CallbackError, DbError, DbErrorKind};
use crate::value::{value_refs, Value, ValueRef};

mod classify;
mod values;

use values::{read_value, to_my};

/// How many prepared statements each connection keeps (the crate closes the least
/// recently used one beyond).
const STATEMENT_CACHE: usize = 256;

/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What every connection sets, again after the pool resets it.
const SESSION_SETTINGS: [&str; 3] = [
    "SET NAMES utf8mb4",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
];

/// Opens MariaDB / MySQL connections. Engines make one from a `mysql://` or `mariadb://`
/// URL.
///
/// ```
/// use trigorm::driver::mysql::MysqlDriver;
/// use trigorm::driver::{Backend, Driver};
/// // Nothing is opened until `connect`.
/// let d = MysqlDriver::new("mariadb://app@db.example.com/app", "mariadb://app@db.example.com/app".into())
///     .expect("a URL the mysql crate reads");
/// assert_eq!((d.backend(), d.database()), (Backend::Mysql, "mariadb://app@db.example.com/app"));
/// ```
pub struct MysqlDriver {
    opts: Opts,
    /// The URL without its password.
    display: String,
}

impl fmt::Debug for MysqlDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlDriver").field("url", &self.display).finish()
    }
}

impl MysqlDriver {
    /// A driver for the database of `url` (trigorm's own URL parameters already taken
    /// out); `display` is the URL as shown in errors, without its password.
    ///
    /// # Errors
    /// Why the `mysql` crate cannot read the URL.
    pub fn new(url: &str, display: String) -> Result<MysqlDriver, String> {
        let url = match url.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => url.to_string(),
        };
        let opts = Opts::from_url(&url).map_err(|e| e.to_string())?;
        let connect_timeout = opts.get_tcp_connect_timeout().unwrap_or(CONNECT_TIMEOUT);
        let opts = OptsBuilder::from_opts(opts)
            .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
            .stmt_cache_size(STATEMENT_CACHE)
            .tcp_connect_timeout(Some(connect_timeout))
            .init(SESSION_SETTINGS.to_vec());
        Ok(MysqlDriver {
            opts: opts.into(),
            display,
        })
    }
}

impl Driver for MysqlDriver {
    fn backend(&self) -> Backend {
        Backend::Mysql
    }

    fn database(&self) -> &str {
        &self.display
    }

    fn connect(&self) -> Result<Box<dyn Connection>, DbError> {
        let mut conn = Conn::new(self.opts.clone()).map_err(|e| connect_error(e, &self.display))?;
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .map_err(|e| db_error(e, &self.display))?;
        Ok(Box::new(MyConnection {
            conn,
            database: self.display.clone(),
            version: version.unwrap_or_default(),
            home: self.opts.get_db_name().map(str::to_string),
            ignored: Vec::new(),
            in_tx: false,
            lost: false,
        }))
    }
}

/// One MariaDB / MySQL connection.
struct MyConnection {
    conn: Conn,
    database: String,
    /// `SELECT VERSION()`.
    version: String,
    /// The URL's database.
    home: Option<String>,
    /// The triggers ignored in the open transaction (`@trigorm_ignore`).
    ignored: Vec<String>,
    in_tx: bool,
    /// A statement found the connection lost: it is not lent again.
    lost: bool,
}

impl MyConnection {
    fn err(&mut self, e: mysql::Error) -> DbError {
        lost_if(&mut self.lost, db_error(e, &self.database))
    }

    fn refused(&self, message: String) -> DbError {
        DbError {
            kind: DbErrorKind::Refused,
            code: None,
            message,
            database: self.database.clone(),
        }
    }

    /// The prepared statement of `sql`. Statements that would begin or end a transaction,
    /// or commit it implicitly (DDL), are refused inside one: the session owns the
    /// transaction.
    fn prepare(&mut self, sql: &str) -> Result<mysql::Statement, DbError> {
        if let Some(why) = classify::refusal(sql, self.in_tx) {
            return Err(self.refused(why));
        }
        self.conn.prep(sql).map_err(|e| self.err(e))
    }

    /// After a statement that is neither a query nor a data change ran inside the
    /// transaction: whether the transaction is still open (MariaDB's `@@in_transaction`).
    /// A statement the refusals did not foresee may have ended it, which the session must
    /// hear of (semantics §4) rather than go on outside any transaction. MySQL has no such
    /// variable: there the check says nothing.
    fn check_still_in_transaction(&mut self, sql: &str) -> Result<(), DbError> {
        if !self.in_tx || classify::is_data_statement(sql) {
            return Ok(());
        }
        let open: Option<i64> = match self.conn.query_first("SELECT @@in_transaction") {
            Ok(v) => v,
            Err(_) => return Ok(()),
        };
        if open == Some(0) {
            self.in_tx = false;
            return Err(DbError {
                kind: DbErrorKind::TransactionAborted,
                code: None,
                message: "the statement ended the session's transaction implicitly: what the session wrote \
                          before it may be committed"
                    .into(),
                database: self.database.clone(),
            });
        }
        Ok(())
    }

    /// A row's parameters, as its fields bind them ([`bound_values`]).
    fn collect(&self, row: &dyn RowParams) -> Result<Vec<Value>, DbError> {
        bound_values(row).map_err(|message| DbError {
            kind: DbErrorKind::InvalidValue,
            code: None,
            message,
            database: self.database.clone(),
        })
    }

    /// End the ignore of triggers, if one is on.
    fn clear_ignored(&mut self) -> Result<(), DbError> {
        if self.ignored.is_empty() {
            return Ok(());
        }
        self.ignored.clear();
        self.control("SET @trigorm_ignore = NULL")
    }

    fn control(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.query_drop(sql).map_err(|e| self.err(e))
    }

    /// Run `sql` with `params`; its rows to `on_row` (when given), then the affected-row
    /// count and the last insert id of the statement.
    fn run(
        &mut self,
        sql: &str,
        params: Result<Vec<MyValue>, String>,
        mut on_row: Option<RowCallback<'_>>,
    ) -> Result<(u64, Option<u64>), QueryError> {
        let params = params.map_err(|message| {
            QueryError::Db(DbError {
                kind: DbErrorKind::InvalidValue,
                code: None,
                message,
                database: self.database.clone(),
            })
        })?;
        let stmt = self.prepare(sql).map_err(QueryError::Db)?;
        let params = if params.is_empty() {
            Params::Empty
        } else {
            Params::Positional(params)
        };
        let mut failed: Option<QueryError> = None;
        let outcome = {
            let mut result = match self.conn.exec_iter(&stmt, params) {
                Ok(r) => r,
                Err(e) => return Err(QueryError::Db(lost_if(&mut self.lost, db_error(e, &self.database)))),
            };
            let mut buf: Vec<Value> = Vec::new();
            let mut read_failed = None;
            for row in result.by_ref() {
                let row = match row {
                    Ok(row) => row,
                    Err(e) => {
                        read_failed = Some(e);
                        break;
                    }
                };
                let Some(on_row) = on_row.as_mut() else { continue };
                if failed.is_some() {
                    continue;
                }
                buf.clear();
                let columns = row.columns();
                let values = row.unwrap();
                for (c, v) in columns.iter().zip(values) {
                    match read_value(c, v) {
                        Ok(v) => buf.push(v),
                        Err(reason) => {
                            failed = Some(QueryError::Value {
                                backend: "MariaDB/MySQL",
                                reason,
                            });
                            break;
                        }
                    }
                }
                if failed.is_none() {
                    if let Err(e) = on_row(&mut buf) {
                        failed = Some(QueryError::Row(e));
                    }
                }
            }
            drop(result);
            match read_failed {
                Some(e) => Err(e),
                // The connection keeps the statement's final OK packet.
                None => Ok((self.conn.affected_rows(), Some(self.conn.last_insert_id()))),
            }
        };
        let outcome = outcome.map_err(|e| QueryError::Db(self.err(e)))?;
        self.check_still_in_transaction(sql).map_err(QueryError::Db)?;
        match failed {
            Some(e) => Err(e),
            None => Ok(outcome),
        }
    }
}

/// `e`, noting a lost connection in `lost`.
fn lost_if(lost: &mut bool, e: DbError) -> DbError {
    if e.kind == DbErrorKind::ConnectionLost {
        *lost = true;
    }
    e
}

/// A query's error as a statement's (the statements that return rows only to the
/// driver: `RETURNING`).
fn db(e: QueryError, database: &str) -> DbError {
    let (kind, message) = match e {
        QueryError::Db(e) => return e,
        QueryError::Row(e) => (DbErrorKind::Other, e.to_string()),
        QueryError::Value { reason, .. } => (DbErrorKind::InvalidValue, reason),
    };
    DbError {
        kind,
        code: None,
        message,
        database: database.to_string(),
    }
}

/// Parameters as the crate binds them.
fn params(values: &[ValueRef<'_>]) -> Result<Vec<MyValue>, String> {
    values.iter().map(to_my).collect()
}

impl Statements for MyConnection {
    fn database(&self) -> &str {
        &self.database
    }

    fn execute(&mut self, sql: &str, params_: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.run(sql, params(params_), None)
            .map(|(n, _)| n)
            .map_err(|e| db(e, &self.database))
    }

    /// The row's values as its fields bind them ([`RowParams::bind`]), so that a custom
    /// field's own binding is used, and checked, as on every backend.
    fn execute_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<u64, DbError> {
        let values = self.collect(row)?;
        Statements::execute(self, sql, &value_refs(&values))
    }

    fn insert_row(&mut self, sql: &str, row: &dyn RowParams) -> Result<Option<i64>, DbError> {
        let values = self.collect(row)?;
        Statements::insert(self, sql, &value_refs(&values))
    }

    /// The key from the statement: its `RETURNING` row where it has one, else its own
    /// insert id (from the server's reply to this statement; a trigger's insert does not
    /// change it).
    fn insert(&mut self, sql: &str, params_: &[ValueRef<'_>]) -> Result<Option<i64>, DbError> {
        let mut returned: Option<i64> = None;
        let (_, id) = self
            .run(
                sql,
                params(params_),
                Some(&mut |row: &mut [Value]| {
                    if let Some(Value::Int(k)) = row.first() {
                        returned = Some(*k);
                    }
                    Ok(())
                }),
            )
            .map_err(|e| db(e, &self.database))?;
        Ok(returned.or_else(|| id.filter(|id| *id > 0).and_then(|id| i64::try_from(id).ok())))
    }

    fn query(&mut self, sql: &str, params_: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        self.run(sql, params(params_), Some(on_row)).map(|_| ())
    }

    /// As [`MyConnection::execute_row`]: the values as the fields bind them.
    fn query_row(&mut self, sql: &str, row: &dyn RowParams, on_row: RowCallback<'_>) -> Result<(), QueryError> {
        let values = self.collect(row).map_err(QueryError::Db)?;
        Statements::query(self, sql, &value_refs(&values), on_row)
    }

    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        Ok(matches!(
            classify::first_word(sql).as_str(),
            "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN"
        ))
    }
}

impl Connection for MyConnection {
    fn backend(&self) -> Backend {
        Backend::Mysql
    }

    fn server_version(&self) -> Option<&str> {
        Some(&self.version)
    }

    /// READ COMMITTED for both: reads take no lock; a flush locks the rows it writes.
    fn begin(&mut self, _write: bool) -> Result<(), DbError> {
        self.control("START TRANSACTION")?;
        self.in_tx = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), DbError> {
        // The ignore ends before the COMMIT: a user variable outlives transactions.
        let cleared = self.clear_ignored();
        let r = cleared.and_then(|()| self.control("COMMIT"));
        self.in_tx = false;
        r
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        if !self.in_tx {
            return self.clear_ignored();
        }
        let r = self.control("ROLLBACK");
        self.in_tx = false;
        let cleared = self.clear_ignored();
        r.and(cleared)
    }

    /// `@trigorm_ignore`, read by the triggers, cleared by this connection's commit and
    /// rollback (and by the pool's reset, which clears user variables).
    fn ignore_triggers(&mut self, names: &[&str]) -> Result<(), DbError> {
        for n in names {
            if !self.ignored.iter().any(|i| i == n) {
                self.ignored.push((*n).to_string());
            }
        }
        let list = self.ignored.join(",");
        let r = self.conn.exec_drop("SET @trigorm_ignore = ?", (list,));
        r.map_err(|e| self.err(e))
    }

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    fn is_broken(&self) -> bool {
        self.lost
    }

    /// `COM_RESET_CONNECTION` (settings, temporary tables, prepared statements, user
    /// variables, locks), then the session settings again.
    fn reset(&mut self) -> Result<(), DbError> {
        self.conn.reset().map_err(|e| self.err(e))?;
        // The reset keeps the current database: the URL's again (a raw `USE` is refused,
        // but a procedure could have changed it).
        if let Some(db) = self.home.clone() {
            self.conn.select_db(&db).map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.control(sql)
    }

    fn with_statements(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Statements) -> Result<(), CallbackError>,
    ) -> Result<(), CallbackError> {
        f(self)
    }
}

/// The class of a MariaDB / MySQL error by its number.
fn kind_of(code: u16) -> DbErrorKind {
    match code {
        1062 | 1586 => DbErrorKind::UniqueViolation,
        1451 | 1452 | 1216 | 1217 => DbErrorKind::ForeignKeyViolation,
        1048 | 1364 => DbErrorKind::NotNullViolation,
        3819 | 4025 => DbErrorKind::CheckViolation,
        1213 => DbErrorKind::Deadlock,
        1205 => DbErrorKind::Busy,
        1644 => DbErrorKind::TriggerRefused,
        1045 | 1044 | 1698 => DbErrorKind::AuthenticationFailed,
        1049 => DbErrorKind::UnknownDatabase,
        1927 | 1053 | 2006 | 2013 | 4031 => DbErrorKind::ConnectionLost,
        1406 | 1264 | 1366 | 1292 | 1365 | 1367 | 3140 | 4038 => DbErrorKind::InvalidValue,
        _ => DbErrorKind::Other,
    }
}

/// Classify an error of a statement on an open connection.
fn db_error(e: mysql::Error, database: &str) -> DbError {
    if let mysql::Error::MySqlError(my) = &e {
        return DbError {
            kind: kind_of(my.code),
            code: Some(my.code.to_string()),
            message: my.message.clone(),
            database: database.to_string(),
        };
    }
    let kind = if e.is_connectivity_error() {
        DbErrorKind::ConnectionLost
    } else {
        DbErrorKind::Other
    };
    DbError {
        kind,
        code: None,
        message: e.to_string(),
        database: database.to_string(),
    }
}

/// Classify an error of opening a connection: a server that does not answer, refused
/// credentials, a missing database.
fn connect_error(e: mysql::Error, database: &str) -> DbError {
    db_error(e, database).at_connect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_numbers_are_classified() {
        assert_eq!(kind_of(1213), DbErrorKind::Deadlock);
        assert!(kind_of(1213).is_retryable());
        assert_eq!(kind_of(1406), DbErrorKind::InvalidValue);
        assert_eq!(kind_of(1062), DbErrorKind::UniqueViolation);
        assert_eq!(kind_of(1927), DbErrorKind::ConnectionLost);
        assert_eq!(kind_of(4031), DbErrorKind::ConnectionLost);
    }
}
