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

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use mysql::consts::{CapabilityFlags, ColumnType};
use mysql::prelude::Queryable;
use mysql::{Column, Conn, Opts, OptsBuilder, Params, Value as MyValue};

use super::{bound_values, Backend, Connection, Driver, QueryError, RowCallback, RowParams, Statements};
use super::{CallbackError, DbError, DbErrorKind};
use crate::value::{parse_timestamp, value_refs, Value, ValueRef};

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
            kind: DbErrorKind::Other,
            code: None,
            message,
            database: self.database.clone(),
        }
    }

    /// The prepared statement of `sql`. Statements that would begin or end a transaction,
    /// or commit it implicitly (DDL), are refused inside one: the session owns the
    /// transaction.
    fn prepare(&mut self, sql: &str) -> Result<mysql::Statement, DbError> {
        if let Some(word) = transaction_control(sql) {
            return Err(self.refused(format!(
                "{word} is refused: the session owns the transaction (use commit() / rollback())"
            )));
        }
        if self.in_tx {
            if let Some(word) = implicit_commit(sql) {
                return Err(self.refused(format!(
                    "{word} is refused inside a session's transaction: on MariaDB/MySQL it commits the \
                     transaction implicitly or may (create tables with Engine::create_all, or run it on a plain \
                     connection)"
                )));
            }
        }
        self.conn.prep(sql).map_err(|e| self.err(e))
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

    fn control(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.query_drop(sql).map_err(|e| self.err(e))
    }

    /// Run `sql` with `params`; its rows to `on_row` (when given), then the affected-row
    /// count and the last insert id of the statement.
    fn run(
        &mut self,
        sql: &str,
        params: Vec<MyValue>,
        mut on_row: Option<RowCallback<'_>>,
    ) -> Result<(u64, Option<u64>), QueryError> {
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

fn db(e: QueryError) -> DbError {
    match e {
        QueryError::Db(e) => e,
        QueryError::Row(e) => DbError {
            kind: DbErrorKind::Other,
            code: None,
            message: e.to_string(),
            database: String::new(),
        },
        QueryError::Value { reason, .. } => DbError {
            kind: DbErrorKind::InvalidValue,
            code: None,
            message: reason,
            database: String::new(),
        },
    }
}

/// Parameters as the crate binds them.
fn params(values: &[ValueRef<'_>]) -> Vec<MyValue> {
    values.iter().map(to_my).collect()
}

/// Arrays of values (one per column) as the parameters of a statement with a placeholder
/// per value: row by row.
fn row_major(columns: &[&[ValueRef<'_>]]) -> Vec<MyValue> {
    let rows = columns.first().map_or(0, |c| c.len());
    let mut out = Vec::with_capacity(rows * columns.len());
    for r in 0..rows {
        for c in columns {
            out.push(c.get(r).map_or(MyValue::NULL, to_my));
        }
    }
    out
}

impl Statements for MyConnection {
    fn database(&self) -> &str {
        &self.database
    }

    fn execute(&mut self, sql: &str, params_: &[ValueRef<'_>]) -> Result<u64, DbError> {
        self.run(sql, params(params_), None).map(|(n, _)| n).map_err(db)
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
            .map_err(db)?;
        Ok(returned.or_else(|| id.filter(|id| *id > 0).and_then(|id| i64::try_from(id).ok())))
    }

    fn query(&mut self, sql: &str, params_: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        self.run(sql, params(params_), Some(on_row)).map(|_| ())
    }

    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        Ok(matches!(
            first_word(sql).as_str(),
            "SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN"
        ))
    }

    fn execute_arrays(&mut self, sql: &str, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        self.run(sql, row_major(columns), None).map(|(n, _)| n).map_err(db)
    }

    fn query_arrays(
        &mut self,
        sql: &str,
        columns: &[&[ValueRef<'_>]],
        on_row: RowCallback<'_>,
    ) -> Result<(), QueryError> {
        self.run(sql, row_major(columns), Some(on_row)).map(|_| ())
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
        let r = self.control("COMMIT");
        self.in_tx = false;
        r
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        if !self.in_tx {
            return Ok(());
        }
        let r = self.control("ROLLBACK");
        self.in_tx = false;
        r
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
        self.conn.reset().map_err(|e| self.err(e))
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

/// A value as the crate binds it: timestamps as `DATETIME` in UTC (the session's time
/// zone), JSON as its text.
fn to_my(v: &ValueRef<'_>) -> MyValue {
    match v {
        ValueRef::Null => MyValue::NULL,
        ValueRef::Int(i) => MyValue::Int(*i),
        ValueRef::Float(f) => MyValue::Double(*f),
        ValueRef::Bool(b) => MyValue::Int(i64::from(*b)),
        ValueRef::Text(s) => MyValue::Bytes(s.as_bytes().to_vec()),
        ValueRef::Blob(b) => MyValue::Bytes(b.to_vec()),
        ValueRef::Timestamp(t) => datetime(&t.naive_utc()),
        ValueRef::Date(d) => MyValue::Date(year(d.year()), d.month() as u8, d.day() as u8, 0, 0, 0, 0),
        ValueRef::Json(j) => MyValue::Bytes(j.to_string().into_bytes()),
        ValueRef::Owned(o) => to_my(&o.as_value_ref()),
    }
}

/// A year as the protocol carries it (0 to 9999; others are refused by the server).
fn year(y: i32) -> u16 {
    u16::try_from(y).unwrap_or(0)
}

fn datetime(t: &NaiveDateTime) -> MyValue {
    MyValue::Date(
        year(t.year()),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond() / 1000,
    )
}

/// The binary character set: bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// A column's value, by the column's type. Values come typed from prepared statements;
/// a statement the server would not prepare comes as text and is read by the same types.
fn read_value(c: &Column, v: MyValue) -> Result<Value, String> {
    use ColumnType as T;
    let ty = c.column_type();
    let bad = |what: &dyn fmt::Debug| format!("reading column {:?} of type {ty:?}: {what:?}", c.name_str());
    Ok(match v {
        MyValue::NULL => Value::Null,
        MyValue::Int(i) => Value::Int(i),
        MyValue::UInt(u) => {
            Value::Int(i64::try_from(u).map_err(|_| bad(&format!("{u} is beyond a 64-bit signed integer")))?)
        }
        MyValue::Float(f) => Value::Float(f.into()),
        MyValue::Double(f) => Value::Float(f),
        MyValue::Date(y, mo, d, h, mi, s, us) => {
            let date =
                NaiveDate::from_ymd_opt(y.into(), mo.into(), d.into()).ok_or_else(|| bad(&"a zero or invalid date"))?;
            if ty == T::MYSQL_TYPE_DATE {
                Value::Date(date)
            } else {
                let t = date
                    .and_hms_micro_opt(h.into(), mi.into(), s.into(), us)
                    .ok_or_else(|| bad(&"an invalid time"))?;
                Value::Timestamp(DateTime::<Utc>::from_naive_utc_and_offset(t, Utc))
            }
        }
        MyValue::Time(neg, days, h, m, s, us) => {
            let sign = if neg { "-" } else { "" };
            let hours = u64::from(days) * 24 + u64::from(h);
            Value::Text(format!("{sign}{hours:02}:{m:02}:{s:02}.{us:06}"))
        }
        MyValue::Bytes(b) => match ty {
            T::MYSQL_TYPE_TINY
            | T::MYSQL_TYPE_SHORT
            | T::MYSQL_TYPE_LONG
            | T::MYSQL_TYPE_INT24
            | T::MYSQL_TYPE_LONGLONG
            | T::MYSQL_TYPE_YEAR => {
                let text = std::str::from_utf8(&b).map_err(|e| bad(&e))?;
                Value::Int(text.parse().map_err(|e| bad(&e))?)
            }
            T::MYSQL_TYPE_FLOAT | T::MYSQL_TYPE_DOUBLE => {
                let text = std::str::from_utf8(&b).map_err(|e| bad(&e))?;
                Value::Float(text.parse().map_err(|e| bad(&e))?)
            }
            T::MYSQL_TYPE_DATE => {
                let text = std::str::from_utf8(&b).map_err(|e| bad(&e))?;
                Value::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| bad(&e))?)
            }
            T::MYSQL_TYPE_DATETIME | T::MYSQL_TYPE_TIMESTAMP | T::MYSQL_TYPE_DATETIME2 | T::MYSQL_TYPE_TIMESTAMP2 => {
                let text = std::str::from_utf8(&b).map_err(|e| bad(&e))?;
                Value::Timestamp(parse_timestamp(text).ok_or_else(|| bad(&text))?)
            }
            _ if c.character_set() == BINARY_CHARSET
                && !matches!(
                    ty,
                    T::MYSQL_TYPE_NEWDECIMAL | T::MYSQL_TYPE_DECIMAL | T::MYSQL_TYPE_JSON
                ) =>
            {
                Value::Blob(b)
            }
            // Text, and what reads as text (DECIMAL, JSON, ENUM, SET).
            _ => Value::Text(String::from_utf8(b).map_err(|e| bad(&e.utf8_error()))?),
        },
    })
}

/// The first word of `sql`, upper-cased, after white space and comments (`--`, `#`,
/// `/* */`).
fn first_word(sql: &str) -> String {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("--").or_else(|| rest.strip_prefix('#')) {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The statement's first word, when it begins or ends a transaction (also as the
/// statement of `SET STATEMENT … FOR`).
fn transaction_control(sql: &str) -> Option<String> {
    let word = first_word(sql);
    if word == "SET" {
        return set_statement_for(sql).and_then(transaction_control);
    }
    matches!(
        word.as_str(),
        "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "XA"
    )
    .then_some(word)
}

/// The statement `SET STATEMENT var = value [, …] FOR <statement>` runs, if `sql` is one.
fn set_statement_for(sql: &str) -> Option<&str> {
    let upper = sql.to_ascii_uppercase();
    let mut words = upper.split_whitespace();
    if words.next() != Some("SET") || words.next() != Some("STATEMENT") {
        return None;
    }
    // The first ` FOR ` outside quotes ends the settings (their values are literals).
    let (mut quote, bytes) = (None::<u8>, upper.as_bytes());
    for (i, &b) in bytes.iter().enumerate() {
        match (b, quote) {
            (b'\'' | b'"' | b'`', None) => quote = Some(b),
            (q, Some(open)) if q == open => quote = None,
            (b'F', None)
                if upper[i..].starts_with("FOR")
                    && i > 0
                    && bytes[i - 1].is_ascii_whitespace()
                    && bytes.get(i + 3).is_some_and(u8::is_ascii_whitespace) =>
            {
                return Some(&sql[i + 3..]);
            }
            _ => {}
        }
    }
    None
}

/// What makes a statement end the open transaction without a word of transaction control:
/// statements that commit implicitly (DDL but not on temporary tables, table maintenance,
/// locking tables, accounts), `SET autocommit`, and `CALL` (a procedure may commit, and
/// nothing undoes that afterwards).
fn implicit_commit(sql: &str) -> Option<String> {
    let word = first_word(sql);
    let upper = sql.to_ascii_uppercase();
    let second = upper.split_whitespace().nth(1).unwrap_or("");
    match word.as_str() {
        "CREATE" | "DROP" => (second != "TEMPORARY").then_some(word),
        "ALTER" | "RENAME" | "TRUNCATE" | "LOCK" | "UNLOCK" | "GRANT" | "REVOKE" | "ANALYZE" | "OPTIMIZE"
        | "REPAIR" | "CHECK" | "FLUSH" | "INSTALL" | "UNINSTALL" | "CACHE" | "RESET" | "CHANGE" | "STOP"
        | "SHUTDOWN" | "CALL" => Some(word),
        "SET" => {
            if let Some(inner) = set_statement_for(sql) {
                return implicit_commit(inner);
            }
            if upper.contains("AUTOCOMMIT") {
                Some("SET autocommit".into())
            } else if second == "PASSWORD" {
                Some("SET PASSWORD".into())
            } else {
                None
            }
        }
        _ => None,
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
        1927 | 1053 | 2006 | 2013 => DbErrorKind::ConnectionLost,
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
    fn transaction_control_and_implicit_commits_are_found() {
        assert_eq!(
            transaction_control(" /* x */ start transaction").as_deref(),
            Some("START")
        );
        assert_eq!(transaction_control("# c\nCOMMIT").as_deref(), Some("COMMIT"));
        assert_eq!(transaction_control("SELECT 'COMMIT'"), None);
        assert_eq!(implicit_commit("create table t (a int)").as_deref(), Some("CREATE"));
        assert_eq!(implicit_commit("CREATE TEMPORARY TABLE t (a int)"), None);
        assert_eq!(implicit_commit("UPDATE t SET a = 1"), None);
        assert_eq!(implicit_commit("check table t").as_deref(), Some("CHECK"));
        assert_eq!(implicit_commit("CALL p()").as_deref(), Some("CALL"));
        assert_eq!(implicit_commit("SET autocommit = 0").as_deref(), Some("SET autocommit"));
        assert_eq!(implicit_commit("SET @x = 1, time_zone = '+01:00'"), None);
        assert_eq!(
            implicit_commit("SET STATEMENT max_statement_time = 100 FOR CREATE TABLE s (x INT)").as_deref(),
            Some("CREATE")
        );
        assert_eq!(
            transaction_control("SET STATEMENT max_statement_time = 100 FOR COMMIT").as_deref(),
            Some("COMMIT")
        );
        assert_eq!(
            transaction_control("SET STATEMENT sql_mode = ' FOR COMMIT' FOR SELECT 1"),
            None
        );
    }

    #[test]
    fn error_numbers_are_classified() {
        assert_eq!(kind_of(1213), DbErrorKind::Deadlock);
        assert!(kind_of(1213).is_retryable());
        assert_eq!(kind_of(1406), DbErrorKind::InvalidValue);
        assert_eq!(kind_of(1062), DbErrorKind::UniqueViolation);
        assert_eq!(kind_of(1927), DbErrorKind::ConnectionLost);
    }

    #[test]
    fn arrays_bind_row_by_row() {
        let a = [ValueRef::Int(1), ValueRef::Int(2)];
        let b = [ValueRef::Text("x"), ValueRef::Text("y")];
        let p = row_major(&[&a, &b]);
        assert_eq!(
            p,
            vec![
                MyValue::Int(1),
                MyValue::Bytes(b"x".to_vec()),
                MyValue::Int(2),
                MyValue::Bytes(b"y".to_vec())
            ]
        );
    }
}
