//! Binding values into SQLite statements: a list of parameters, or a row read from its
//! model while it is bound ([`RowParams`]), with no conversion step in between.

use chrono::{DateTime, Utc};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::ToSql;

use super::text::{timestamp_text, timestamp_text_into, TIMESTAMP_TEXT_LEN};
use crate::driver::{Binder, RowParams};
use crate::value::{Value, ValueRef as Param};

/// An owned value to bind.
fn value_sql(v: &Value) -> ToSqlOutput<'_> {
    match v {
        Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
        Value::Float(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
        Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
        Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Value::Timestamp(t) => ToSqlOutput::from(timestamp_text(t)),
        Value::Date(d) => ToSqlOutput::from(d.format("%Y-%m-%d").to_string()),
        Value::Json(j) => ToSqlOutput::from(j.to_string()),
    }
}

/// Text known to be ASCII (a timestamp as trigorm writes it), bound as text with no UTF-8
/// check.
struct AsciiText<'a>(&'a [u8]);

impl ToSql for AsciiText<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.0)))
    }
}

/// A parameter to bind.
struct BindRef<'a, 'v>(&'a Param<'v>);

impl ToSql for BindRef<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Param::Float(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Param::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Param::Timestamp(t) => ToSqlOutput::from(timestamp_text(t)),
            Param::Date(d) => ToSqlOutput::from(d.format("%Y-%m-%d").to_string()),
            Param::Json(j) => ToSqlOutput::from(j.to_string()),
            Param::Owned(v) => value_sql(v),
        })
    }
}

pub(super) fn bind_all(stmt: &mut rusqlite::Statement<'_>, params: &[Param<'_>]) -> rusqlite::Result<()> {
    check_count(params.len(), stmt.parameter_count())?;
    let mut text = [0u8; TIMESTAMP_TEXT_LEN];
    for (i, v) in params.iter().enumerate() {
        bind_one(stmt, i + 1, v, &mut text)?;
    }
    Ok(())
}

/// Binds a row's values into a statement as the row hands them over, parameter after
/// parameter (no list in between); keeps the first error.
struct RowBinder<'s, 'c> {
    stmt: &'s mut rusqlite::Statement<'c>,
    /// Parameters bound so far.
    at: usize,
    err: Option<rusqlite::Error>,
}

impl RowBinder<'_, '_> {
    #[inline]
    fn put<T: ToSql>(&mut self, v: T) {
        self.at += 1;
        if let Err(e) = self.stmt.raw_bind_parameter(self.at, v) {
            self.err.get_or_insert(e);
        }
    }

    /// Keep `reason` as the error, unless one came first.
    fn fail(&mut self, reason: String) {
        self.err.get_or_insert(bind_error(reason));
    }
}

impl Binder for RowBinder<'_, '_> {
    fn null(&mut self) {
        self.put(rusqlite::types::Null);
    }
    fn int(&mut self, v: i64) {
        self.put(v);
    }
    /// A NaN is refused (SQLite would store NULL): the session checks before it binds, and
    /// this catches a field whose `bind` and `to_value_ref` disagree.
    fn float(&mut self, v: f64) {
        if v.is_nan() {
            self.at += 1;
            self.fail("NaN cannot be stored (SQLite would store NULL)".into());
        } else {
            self.put(v);
        }
    }
    fn text(&mut self, v: &str) {
        self.put(v);
    }
    fn blob(&mut self, v: &[u8]) {
        self.put(v);
    }
    /// Written into a buffer on the stack, not allocated (SQLite copies it).
    fn timestamp(&mut self, v: &DateTime<Utc>) {
        let mut text = [0u8; TIMESTAMP_TEXT_LEN];
        match timestamp_text_into(v, &mut text) {
            Some(s) => self.put(AsciiText(s)),
            None => self.put(timestamp_text(v)),
        }
    }
    fn value(&mut self, v: &Param<'_>) {
        if v.is_nan() {
            self.float(f64::NAN);
            return;
        }
        self.at += 1;
        let mut text = [0u8; TIMESTAMP_TEXT_LEN];
        if let Err(e) = bind_one(self.stmt, self.at, v, &mut text) {
            self.err.get_or_insert(e);
        }
    }
    /// A field that bound no parameter or more than one is reported as such (this error
    /// replaces SQLite's "column index out of range" that binding too many may have met).
    fn expect_bound(&mut self, n: usize) {
        if self.at != n {
            let bound = (self.at + 1).saturating_sub(n);
            self.err = Some(bind_error(format!(
                "a field bound {bound} parameters where it must bind exactly one (Field::bind)"
            )));
        }
    }
}

/// An error of binding, in rusqlite's terms.
fn bind_error(reason: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(reason.into())
}

/// Bind a row's parameters as the row hands them over; each parameter must be bound.
#[inline]
pub(super) fn bind_row(stmt: &mut rusqlite::Statement<'_>, params: usize, row: &dyn RowParams) -> rusqlite::Result<()> {
    let mut b = RowBinder { stmt, at: 0, err: None };
    row.bind(&mut b);
    if let Some(e) = b.err {
        return Err(e);
    }
    check_count(b.at, params)
}

/// `n` parameters given where the statement has `expected`.
fn check_count(n: usize, expected: usize) -> rusqlite::Result<()> {
    if expected != n {
        return Err(rusqlite::Error::InvalidParameterCount(n, expected));
    }
    Ok(())
}

/// Bind parameter `at` (from 1). The usual kinds are bound directly, with no conversion
/// step in between; a timestamp's text is written into `text`, not allocated (SQLite
/// copies it).
fn bind_one(
    stmt: &mut rusqlite::Statement<'_>,
    at: usize,
    v: &Param<'_>,
    text: &mut [u8; TIMESTAMP_TEXT_LEN],
) -> rusqlite::Result<()> {
    match v {
        Param::Null => stmt.raw_bind_parameter(at, rusqlite::types::Null),
        Param::Int(x) => stmt.raw_bind_parameter(at, *x),
        Param::Text(x) => stmt.raw_bind_parameter(at, *x),
        Param::Float(x) => stmt.raw_bind_parameter(at, *x),
        Param::Timestamp(t) | Param::Owned(Value::Timestamp(t)) => match timestamp_text_into(t, text) {
            Some(s) => stmt.raw_bind_parameter(at, AsciiText(s)),
            None => stmt.raw_bind_parameter(at, BindRef(v)),
        },
        _ => stmt.raw_bind_parameter(at, BindRef(v)),
    }
}
