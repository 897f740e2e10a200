//! The PostgreSQL driver, on the `postgres` crate (synchronous, no TLS).
//!
//! URLs are `postgres://user:password@host:port/database` (or `postgresql://`), with the
//! `postgres` crate's parameters (`options=-csearch_path%3Dmy_schema`, `connect_timeout`,
//! `application_name`, ...). Each connection keeps its prepared statements, by SQL text.
//! Transactions are `BEGIN` (READ COMMITTED); the session locks the rows it writes
//! (`SELECT … FOR UPDATE`, see [`crate::sql::Capabilities::row_locks`]). Values are
//! encoded for the type the server expects of each parameter, so that an `i64` binds to
//! an `integer` column as well as to a `bigint` one.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use postgres::types::{to_sql_checked, IsNull, Json, ToSql, Type};
use postgres::{Client, Config, NoTls, Row, Statement};

use super::{bound_values, Backend, Connection, Driver, QueryError, RowCallback, RowParams, Statements};
use super::{CallbackError, DbError, DbErrorKind};
use crate::value::{parse_timestamp, value_refs, Value, ValueRef};

/// How many prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 256;

/// What every connection sets: timestamps are UTC, so that a `timestamptz` value cast to a
/// column without time zone (a table trigorm did not create) keeps its UTC reading.
const SESSION_SETTINGS: &str = "SET TIME ZONE 'UTC'";

/// How long opening a connection may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens PostgreSQL connections. Engines make one from a `postgres://` URL; an application
/// that wraps drivers (see [`crate::EngineBuilder::wrap_driver`]) gets it that way too.
///
/// ```
/// use trigorm::driver::postgres::PostgresDriver;
/// use trigorm::driver::{Backend, Driver};
/// // Nothing is opened until `connect`.
/// let d = PostgresDriver::new("postgres://app@db.example.com/app", "postgres://app@db.example.com/app".into())
///     .expect("a URL the postgres crate reads");
/// assert_eq!((d.backend(), d.database()), (Backend::Postgres, "postgres://app@db.example.com/app"));
/// ```
pub struct PostgresDriver {
    config: Config,
    /// The URL without its password.
    display: String,
}

impl fmt::Debug for PostgresDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresDriver").field("url", &self.display).finish()
    }
}

impl PostgresDriver {
    /// A driver for the database of `url` (trigorm's own URL parameters already taken
    /// out); `display` is the URL as shown in errors, without its password.
    ///
    /// # Errors
    /// Why the `postgres` crate cannot read the URL.
    pub fn new(url: &str, display: String) -> Result<PostgresDriver, String> {
        let mut config = Config::from_str(url).map_err(|e| e.to_string())?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        Ok(PostgresDriver { config, display })
    }
}

impl Driver for PostgresDriver {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn database(&self) -> &str {
        &self.display
    }

    fn connect(&self) -> Result<Box<dyn Connection>, DbError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| connect_error(e, &self.display))?;
        client
            .batch_execute(SESSION_SETTINGS)
            .map_err(|e| db_error(e, &self.display))?;
        Ok(Box::new(PgConnection {
            client,
            database: self.display.clone(),
            statements: HashMap::new(),
            in_tx: false,
            ignored: Vec::new(),
            lost: std::cell::Cell::new(false),
        }))
    }
}

/// One PostgreSQL connection.
struct PgConnection {
    client: Client,
    database: String,
    /// Prepared statements by their text.
    statements: HashMap<String, Statement>,
    in_tx: bool,
    /// The triggers ignored in the open transaction.
    ignored: Vec<String>,
    /// A statement found the connection lost: it is not lent again.
    lost: std::cell::Cell<bool>,
}

impl PgConnection {
    fn err(&self, e: postgres::Error) -> DbError {
        let e = db_error(e, &self.database);
        if e.kind == DbErrorKind::ConnectionLost {
            self.lost.set(true);
        }
        e
    }

    /// The prepared statement of `sql`, prepared on first use. Statements that would begin,
    /// end or nest a transaction are refused: the session owns the transaction.
    fn prepare(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        if let Some(word) = transaction_control(sql) {
            return Err(DbError {
                kind: DbErrorKind::Refused,
                code: None,
                message: format!("{word} is refused: the session owns the transaction (use commit() / rollback())"),
                database: self.database.clone(),
            });
        }
        let stmt = self.client.prepare(sql).map_err(|e| self.err(e))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
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
        self.client.batch_execute(sql).map_err(|e| self.err(e))
    }

    fn run_query(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<Vec<Row>, DbError> {
        let stmt = self.prepare(sql)?;
        let params: Vec<Param<'_, '_>> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.query(&stmt, &refs).map_err(|e| self.err(e))
    }
}

impl Statements for PgConnection {
    fn database(&self) -> &str {
        &self.database
    }

    fn execute(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<u64, DbError> {
        let stmt = self.prepare(sql)?;
        let params: Vec<Param<'_, '_>> = params.iter().map(Param).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.execute(&stmt, &refs).map_err(|e| self.err(e))
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

    /// The key comes back from the statement (`INSERT … RETURNING`), never from
    /// `lastval()`, which a trigger's insert would change.
    fn insert(&mut self, sql: &str, params: &[ValueRef<'_>]) -> Result<Option<i64>, DbError> {
        let rows = self.run_query(sql, params)?;
        match rows.first() {
            Some(row) if !row.is_empty() => row.try_get::<_, i64>(0).map(Some).map_err(|e| self.err(e)),
            _ => Ok(None),
        }
    }

    fn query(&mut self, sql: &str, params: &[ValueRef<'_>], on_row: RowCallback<'_>) -> Result<(), QueryError> {
        let rows = self.run_query(sql, params).map_err(QueryError::Db)?;
        deliver(&rows, on_row)
    }

    fn execute_arrays(&mut self, sql: &str, columns: &[&[ValueRef<'_>]]) -> Result<u64, DbError> {
        let stmt = self.prepare(sql)?;
        let arrays = arrays(columns);
        let refs: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        self.client.execute(&stmt, &refs).map_err(|e| self.err(e))
    }

    fn query_arrays(
        &mut self,
        sql: &str,
        columns: &[&[ValueRef<'_>]],
        on_row: RowCallback<'_>,
    ) -> Result<(), QueryError> {
        let stmt = self.prepare(sql).map_err(QueryError::Db)?;
        let arrays = arrays(columns);
        let refs: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let rows = self
            .client
            .query(&stmt, &refs)
            .map_err(|e| QueryError::Db(self.err(e)))?;
        deliver(&rows, on_row)
    }

    fn is_read_only(&mut self, sql: &str) -> Result<bool, DbError> {
        Ok(is_read_only(sql))
    }
}

impl Connection for PgConnection {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    /// READ COMMITTED for both: reads take no lock; a flush locks the rows it writes.
    fn begin(&mut self, _write: bool) -> Result<(), DbError> {
        self.control("BEGIN")?;
        self.in_tx = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), DbError> {
        let r = self.control("COMMIT");
        self.in_tx = false;
        self.ignored.clear();
        r
    }

    /// `set_config('trigorm.ignore', …, true)`: a setting of the transaction alone, gone at
    /// its end whatever the end (PostgreSQL's own rule, not trigorm's bookkeeping).
    fn ignore_triggers(&mut self, names: &[&str]) -> Result<(), DbError> {
        for n in names {
            if !self.ignored.iter().any(|i| i == n) {
                self.ignored.push((*n).to_string());
            }
        }
        let list = format!(",{},", self.ignored.join(","));
        self.query(
            "SELECT set_config('trigorm.ignore', $1, true)",
            &[ValueRef::Text(&list)],
            &mut |_| Ok(()),
        )
        .map_err(|e| match e {
            QueryError::Db(e) => e,
            other => DbError {
                kind: DbErrorKind::Other,
                code: None,
                message: format!("{other:?}"),
                database: self.database.clone(),
            },
        })
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        if !self.in_tx {
            return Ok(());
        }
        let r = self.control("ROLLBACK");
        // A connection that cannot roll back is broken: the server ends the transaction
        // when the connection goes.
        self.in_tx = false;
        self.ignored.clear();
        r
    }

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    fn is_broken(&self) -> bool {
        self.lost.get() || self.client.is_closed()
    }

    fn reset(&mut self) -> Result<(), DbError> {
        // DISCARD ALL drops the prepared statements too, and the connection's settings.
        self.statements.clear();
        self.control("DISCARD ALL")?;
        self.control(SESSION_SETTINGS)
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

/// Hand each row to `on_row`, its values read by their types.
fn deliver(rows: &[Row], on_row: RowCallback<'_>) -> Result<(), QueryError> {
    let mut buf: Vec<Value> = Vec::new();
    for row in rows {
        buf.clear();
        for i in 0..row.len() {
            buf.push(read_value(row, i).map_err(|e| read_error(row, i, e))?);
        }
        on_row(&mut buf).map_err(QueryError::Row)?;
    }
    Ok(())
}

/// Columns of values as array parameters (each element encoded for the array's element
/// type).
fn arrays<'a, 'v>(columns: &'a [&'a [ValueRef<'v>]]) -> Vec<Vec<Param<'a, 'v>>> {
    columns.iter().map(|c| c.iter().map(Param).collect()).collect()
}

/// What follows the block comment `sql` starts with; PostgreSQL's block comments nest.
fn after_block_comment(sql: &str) -> &str {
    let b = sql.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return &sql[i..];
                }
            }
            _ => i += 1,
        }
    }
    ""
}

/// The first word of `sql`, upper-cased, after white space and comments.
fn first_word(sql: &str) -> String {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if rest.starts_with("/*") {
            rest = after_block_comment(rest);
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The statement's first word, when it begins, ends or nests a transaction (or prepares
/// one for two-phase commit). A prepared statement is one statement, so the first word
/// says what it is.
fn transaction_control(sql: &str) -> Option<String> {
    let word = first_word(sql);
    matches!(
        word.as_str(),
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE" | "PREPARE"
    )
    .then_some(word)
}

/// Whether a statement only reads. PostgreSQL does not say before running it, and a
/// `SELECT` may call a function that writes (`EXPLAIN ANALYZE` runs what it explains), so
/// only `SHOW` counts: anything else makes the session take its remembered rows as
/// possibly changed (cheap here: a flush locks and reads the rows it writes anyway).
fn is_read_only(sql: &str) -> bool {
    first_word(sql) == "SHOW"
}

/// A value that cannot be encoded as the type the server expects.
#[derive(Debug)]
struct EncodeError(String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for EncodeError {}

type EncodeResult = Result<IsNull, Box<dyn StdError + Sync + Send>>;

/// A parameter, encoded for the type the server expects of it.
#[derive(Debug)]
struct Param<'a, 'v>(&'a ValueRef<'v>);

impl ToSql for Param<'_, '_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> EncodeResult {
        encode(self.0, ty, out)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn mismatch(v: &ValueRef<'_>, ty: &Type) -> EncodeResult {
    Err(Box::new(EncodeError(format!(
        "a {} value cannot be written to a {} parameter",
        v.to_value().kind(),
        ty.name()
    ))))
}

fn is_text(ty: &Type) -> bool {
    <&str as ToSql>::accepts(ty)
}

fn encode(v: &ValueRef<'_>, ty: &Type, out: &mut BytesMut) -> EncodeResult {
    let out_of_range = || -> EncodeResult {
        Err(Box::new(EncodeError(format!(
            "{:?} is out of range for a {} parameter",
            v,
            ty.name()
        ))))
    };
    match v {
        ValueRef::Null => Ok(IsNull::Yes),
        ValueRef::Int(i) => match *ty {
            Type::INT8 => i.to_sql(ty, out),
            Type::INT4 => i32::try_from(*i).map_or_else(|_| out_of_range(), |x| x.to_sql(ty, out)),
            Type::INT2 => i16::try_from(*i).map_or_else(|_| out_of_range(), |x| x.to_sql(ty, out)),
            Type::OID => u32::try_from(*i).map_or_else(|_| out_of_range(), |x| x.to_sql(ty, out)),
            Type::FLOAT8 => (*i as f64).to_sql(ty, out),
            Type::FLOAT4 => (*i as f32).to_sql(ty, out),
            Type::BOOL => (*i != 0).to_sql(ty, out),
            _ if is_text(ty) => i.to_string().to_sql(ty, out),
            _ => mismatch(v, ty),
        },
        ValueRef::Float(f) => match *ty {
            Type::FLOAT8 => f.to_sql(ty, out),
            Type::FLOAT4 => (*f as f32).to_sql(ty, out),
            _ if is_text(ty) => f.to_string().to_sql(ty, out),
            _ => mismatch(v, ty),
        },
        ValueRef::Bool(b) => match *ty {
            Type::BOOL => b.to_sql(ty, out),
            Type::INT8 => i64::from(*b).to_sql(ty, out),
            Type::INT4 => i32::from(*b).to_sql(ty, out),
            Type::INT2 => i16::from(*b).to_sql(ty, out),
            _ => mismatch(v, ty),
        },
        ValueRef::Text(s) => match *ty {
            _ if is_text(ty) => s.to_sql(ty, out),
            Type::JSON | Type::JSONB => match serde_json::from_str::<serde_json::Value>(s) {
                Ok(j) => Json(j).to_sql(ty, out),
                Err(e) => Err(Box::new(EncodeError(format!("text is not JSON: {e}")))),
            },
            Type::TIMESTAMPTZ | Type::TIMESTAMP => match parse_timestamp(s) {
                Some(t) => encode(&ValueRef::Timestamp(t), ty, out),
                None => mismatch(v, ty),
            },
            Type::DATE => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => d.to_sql(ty, out),
                Err(_) => mismatch(v, ty),
            },
            _ => mismatch(v, ty),
        },
        ValueRef::Blob(b) => match *ty {
            Type::BYTEA => b.to_sql(ty, out),
            _ => mismatch(v, ty),
        },
        ValueRef::Timestamp(t) => match *ty {
            Type::TIMESTAMPTZ => t.to_sql(ty, out),
            Type::TIMESTAMP => t.naive_utc().to_sql(ty, out),
            _ if is_text(ty) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true).to_sql(ty, out),
            _ => mismatch(v, ty),
        },
        ValueRef::Date(d) => match *ty {
            Type::DATE => d.to_sql(ty, out),
            _ if is_text(ty) => d.format("%Y-%m-%d").to_string().to_sql(ty, out),
            _ => mismatch(v, ty),
        },
        ValueRef::Json(j) => match *ty {
            Type::JSON | Type::JSONB => Json(j).to_sql(ty, out),
            _ if is_text(ty) => j.to_string().to_sql(ty, out),
            _ => mismatch(v, ty),
        },
        ValueRef::Owned(o) => encode(&o.as_value_ref(), ty, out),
    }
}

/// Column `i` of `row`, by its type.
fn read_value(row: &Row, i: usize) -> Result<Value, ReadError> {
    fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
        v.map_or(Value::Null, f)
    }
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::BOOL => opt(row.try_get::<_, Option<bool>>(i)?, Value::Bool),
        Type::INT2 => opt(row.try_get::<_, Option<i16>>(i)?, |x| Value::Int(x.into())),
        Type::INT4 => opt(row.try_get::<_, Option<i32>>(i)?, |x| Value::Int(x.into())),
        Type::INT8 => opt(row.try_get::<_, Option<i64>>(i)?, Value::Int),
        Type::OID => opt(row.try_get::<_, Option<u32>>(i)?, |x| Value::Int(x.into())),
        Type::FLOAT4 => opt(row.try_get::<_, Option<f32>>(i)?, |x| Value::Float(x.into())),
        Type::FLOAT8 => opt(row.try_get::<_, Option<f64>>(i)?, Value::Float),
        Type::BYTEA => opt(row.try_get::<_, Option<Vec<u8>>>(i)?, Value::Blob),
        Type::TIMESTAMPTZ => opt(row.try_get::<_, Option<DateTime<Utc>>>(i)?, Value::Timestamp),
        Type::TIMESTAMP => opt(row.try_get::<_, Option<NaiveDateTime>>(i)?, |t| {
            Value::Timestamp(t.and_utc())
        }),
        Type::DATE => opt(row.try_get::<_, Option<NaiveDate>>(i)?, Value::Date),
        Type::JSON | Type::JSONB => opt(row.try_get::<_, Option<serde_json::Value>>(i)?, Value::Json),
        Type::VOID => Value::Null,
        // Text and everything read as text (varchar, name, citext, ...).
        ref t if <String as postgres::types::FromSql>::accepts(t) => {
            opt(row.try_get::<_, Option<String>>(i)?, Value::Text)
        }
        ref t => return Err(ReadError::Type(t.name().to_string())),
    })
}

/// Why a column could not be read: its value, or its type, which trigorm does not read.
enum ReadError {
    Value(postgres::Error),
    Type(String),
}

impl From<postgres::Error> for ReadError {
    fn from(e: postgres::Error) -> ReadError {
        ReadError::Value(e)
    }
}

/// A column that could not be read: the statement ran (the transaction goes on); what
/// failed is reading its result, said with the column's name.
fn read_error(row: &Row, i: usize, e: ReadError) -> QueryError {
    let column = row.columns()[i].name();
    let reason = match e {
        ReadError::Type(ty) => {
            format!("reading column {column:?} of type {ty} (cast it in the query, e.g. ::text, ::float8 or ::bigint)")
        }
        ReadError::Value(e) => format!("reading column {column:?}: {e}"),
    };
    QueryError::Value {
        backend: "PostgreSQL",
        reason,
    }
}

/// The class of a PostgreSQL error by its SQLSTATE.
fn kind_of(code: &str) -> DbErrorKind {
    match code {
        "23505" => DbErrorKind::UniqueViolation,
        "23503" => DbErrorKind::ForeignKeyViolation,
        "23502" => DbErrorKind::NotNullViolation,
        "23514" => DbErrorKind::CheckViolation,
        "40P01" => DbErrorKind::Deadlock,
        "40001" => DbErrorKind::SerializationFailure,
        "25P02" => DbErrorKind::TransactionAborted,
        "28P01" | "28000" => DbErrorKind::AuthenticationFailed,
        "3D000" => DbErrorKind::UnknownDatabase,
        "P0001" | super::POSTGRES_REFUSAL_SQLSTATE => DbErrorKind::TriggerRefused,
        c if c.starts_with("57P") || c.starts_with("08") => DbErrorKind::ConnectionLost,
        c if c.starts_with("22") => DbErrorKind::InvalidValue,
        _ => DbErrorKind::Other,
    }
}

/// Classify an error of a statement on an open connection.
fn db_error(e: postgres::Error, database: &str) -> DbError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let mut message = db.message().to_string();
        if let Some(detail) = db.detail() {
            message = format!("{message} ({detail})");
        }
        return DbError {
            kind: kind_of(code),
            code: Some(code.to_string()),
            message,
            database: database.to_string(),
        };
    }
    let encode = e.source().and_then(|s| s.downcast_ref::<EncodeError>()).is_some()
        || e.to_string().starts_with("error serializing");
    let kind = if encode {
        DbErrorKind::InvalidValue
    } else if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
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
fn connect_error(e: postgres::Error, database: &str) -> DbError {
    db_error(e, database).at_connect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_is_found_past_comments_and_case() {
        assert_eq!(transaction_control("commit").as_deref(), Some("COMMIT"));
        assert_eq!(
            transaction_control("  -- a comment\n /* another */ Rollback TO SAVEPOINT x").as_deref(),
            Some("ROLLBACK")
        );
        assert_eq!(transaction_control("/* /* */ */ COMMIT").as_deref(), Some("COMMIT"));
        assert_eq!(transaction_control("/* /* */ COMMIT */ SELECT 1"), None);
        assert_eq!(transaction_control("SELECT 'COMMIT'"), None);
        assert_eq!(transaction_control("UPDATE t SET begin = 1"), None);
    }

    #[test]
    fn only_what_cannot_write_is_read_only() {
        assert!(is_read_only("/* x */ show search_path"));
        assert!(!is_read_only("SELECT f_that_writes()"));
        assert!(!is_read_only("EXPLAIN ANALYZE UPDATE t SET a = 1"));
        assert!(!is_read_only("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"));
        assert!(!is_read_only("UPDATE t SET a = 1 RETURNING a"));
    }

    #[test]
    fn sqlstates_are_classified() {
        assert_eq!(kind_of("40P01"), DbErrorKind::Deadlock);
        assert_eq!(kind_of("40001"), DbErrorKind::SerializationFailure);
        assert_eq!(kind_of("22021"), DbErrorKind::InvalidValue);
        assert_eq!(kind_of("57P01"), DbErrorKind::ConnectionLost);
        assert!(kind_of("40P01").is_retryable());
    }
}
