//! Values: what a column holds, and the conversions between Rust field types and it.
//!
//! [`Value`] is the one currency between models, SQL generation and drivers. Every value
//! that reaches the database goes through it and is bound as a parameter, never spliced
//! into SQL text. [`Field`] is implemented for every Rust type a model field may have.

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

mod field;
mod timestamp;

pub use field::Field;
#[cfg(any(feature = "postgres", feature = "mysql", all(test, feature = "sqlite")))]
pub(crate) use timestamp::parse_timestamp;
#[cfg(all(test, feature = "sqlite"))]
pub(crate) use timestamp::parse_timestamp_fast;
#[cfg(feature = "sqlite")]
pub(crate) use timestamp::{FRACTION_AT, TIMESTAMP_TEXT_LEN};

/// A value of one column: what is bound into a statement and what a row is read back as.
///
/// ```
/// use trigorm::Value;
/// let v = Value::from("it's");
/// assert_eq!(v, Value::Text("it's".to_string()));
/// assert_eq!(Value::from(Some(3_i64)), Value::Int(3));
/// assert_eq!(Value::from(None::<i64>), Value::Null);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Value {
    /// SQL `NULL`.
    #[default]
    Null,
    /// Any integer (stored as a 64-bit signed integer).
    Int(i64),
    /// A double-precision float.
    Float(f64),
    /// A boolean (SQLite stores it as 0 or 1).
    Bool(bool),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// A point in time, UTC.
    Timestamp(DateTime<Utc>),
    /// A calendar date.
    Date(NaiveDate),
    /// A JSON document.
    Json(serde_json::Value),
}

impl Value {
    /// The name of this value's kind, as used in decode errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
            Value::Timestamp(_) => "timestamp",
            Value::Date(_) => "date",
            Value::Json(_) => "json",
        }
    }

    /// Whether this is SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short, bounded rendering for error messages (long text and blobs are cut).
    pub fn display_short(&self) -> String {
        let s = match self {
            Value::Null => "NULL".to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Text(t) => format!("{t:?}"),
            Value::Blob(b) => format!("<{} bytes>", b.len()),
            Value::Timestamp(t) => t.to_rfc3339(),
            Value::Date(d) => d.to_string(),
            Value::Json(j) => j.to_string(),
        };
        if s.chars().count() > 64 {
            let cut: String = s.chars().take(61).collect();
            format!("{cut}...")
        } else {
            s
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_short())
    }
}

/// A borrowed view of a [`Value`]: what a model's fields are bound as, without copying
/// their text or bytes.
///
/// ```
/// use trigorm::{Field, Value, ValueRef};
/// let name = String::from("ann");
/// assert_eq!(name.to_value_ref(), ValueRef::Text("ann"));
/// assert_eq!(name.to_value_ref().to_value(), Value::from("ann"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ValueRef<'a> {
    /// SQL `NULL`.
    Null,
    /// Any integer.
    Int(i64),
    /// A double-precision float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
    /// A point in time, UTC.
    Timestamp(DateTime<Utc>),
    /// A calendar date.
    Date(NaiveDate),
    /// A JSON document.
    Json(&'a serde_json::Value),
    /// A value computed rather than borrowed (what the provided [`Field::to_value_ref`]
    /// and [`crate::Model::value_ref`] return).
    Owned(Value),
}

impl ValueRef<'_> {
    /// The value as an owned [`Value`].
    pub fn to_value(&self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Int(i) => Value::Int(*i),
            ValueRef::Float(f) => Value::Float(*f),
            ValueRef::Bool(b) => Value::Bool(*b),
            ValueRef::Text(t) => Value::Text((*t).to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            ValueRef::Timestamp(t) => Value::Timestamp(*t),
            ValueRef::Date(d) => Value::Date(*d),
            ValueRef::Json(j) => Value::Json((*j).clone()),
            ValueRef::Owned(v) => v.clone(),
        }
    }

    /// Whether this is a NaN float (which no backend stores faithfully).
    pub(crate) fn is_nan(&self) -> bool {
        matches!(self, ValueRef::Float(f) | ValueRef::Owned(Value::Float(f)) if f.is_nan())
    }
}

impl Value {
    /// A borrowed view of this value.
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Text(t) => ValueRef::Text(t),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Timestamp(t) => ValueRef::Timestamp(*t),
            Value::Date(d) => ValueRef::Date(*d),
            Value::Json(j) => ValueRef::Json(j),
        }
    }
}

/// Borrowed views of `values`, to bind them.
pub(crate) fn value_refs(values: &[Value]) -> Vec<ValueRef<'_>> {
    values.iter().map(Value::as_value_ref).collect()
}

/// Where a row's values go when it is written: a driver's statement, bound one parameter
/// after the other in order. Each [`Field`] binds itself with the method of its kind (a
/// `String` with [`Binder::text`], an `i64` with [`Binder::int`]), so that a value reaches
/// the driver with no conversion in between. A binder keeps the first error it meets and
/// reports it when the statement runs. Only [`Binder::value`] is required: the other
/// methods' provided versions bind through it.
///
/// ```
/// use trigorm::{Binder, Field, ValueRef};
/// /// Renders what it is given.
/// #[derive(Default)]
/// struct Shown(Vec<String>);
/// impl Binder for Shown {
///     fn text(&mut self, v: &str) { self.0.push(format!("'{v}'")) }
///     fn value(&mut self, v: &ValueRef<'_>) { self.0.push(format!("{v:?}")) }
/// }
/// let mut b = Shown::default();
/// 7_i64.bind(&mut b);
/// String::from("ann").bind(&mut b);
/// None::<String>.bind(&mut b);
/// assert_eq!(b.0, ["Int(7)", "'ann'", "Null"]);
/// ```
#[doc(hidden)]
pub trait Binder {
    /// Bind SQL `NULL`.
    fn null(&mut self) {
        self.value(&ValueRef::Null);
    }
    /// Bind an integer.
    fn int(&mut self, v: i64) {
        self.value(&ValueRef::Int(v));
    }
    /// Bind a float.
    fn float(&mut self, v: f64) {
        self.value(&ValueRef::Float(v));
    }
    /// Bind text.
    fn text(&mut self, v: &str) {
        self.value(&ValueRef::Text(v));
    }
    /// Bind bytes.
    fn blob(&mut self, v: &[u8]) {
        self.value(&ValueRef::Blob(v));
    }
    /// Bind a point in time.
    fn timestamp(&mut self, v: &DateTime<Utc>) {
        self.value(&ValueRef::Timestamp(*v));
    }
    /// Bind any other value (how the provided [`Field::bind`] binds).
    fn value(&mut self, v: &ValueRef<'_>);
    /// The fields bound so far should have bound `n` parameters: called after each field
    /// whose [`Field::BINDS_ONE`] is `false`, so that a custom [`Field::bind`] that binds
    /// none or two fails the statement instead of shifting the values after it into the
    /// wrong columns. The provided method checks nothing.
    fn expect_bound(&mut self, n: usize) {
        let _ = n;
    }
}

/// Why a [`Value`] could not become the Rust type a field has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("expected {expected}, found {found}")]
pub struct ValueError {
    /// The Rust type the field wanted.
    pub expected: &'static str,
    /// What the database gave (kind and a short rendering).
    pub found: String,
}

impl ValueError {
    pub(crate) fn new(expected: &'static str, found: &Value) -> Self {
        ValueError {
            expected,
            found: format!("{} {}", found.kind(), found.display_short()),
        }
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Value {
        Value::Timestamp(v)
    }
}
impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Value {
        Value::Date(v)
    }
}
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        Value::Json(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        match v {
            Some(v) => v.into(),
            None => Value::Null,
        }
    }
}

/// A primary key in hashable form, used by the session's identity map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[doc(hidden)]
pub enum Key {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
    /// Any other key, by its canonical text.
    Other(String),
}

impl Key {
    /// The key of a primary-key value.
    pub fn from_value(v: &Value) -> Key {
        match v {
            Value::Int(i) => Key::Int(*i),
            Value::Bool(b) => Key::Int(i64::from(*b)),
            Value::Text(s) => Key::Text(s.clone()),
            other => Key::Other(format!("{other:?}")),
        }
    }

    /// The key of a borrowed primary-key value: as [`Key::from_value`], without making an
    /// owned value first.
    ///
    /// ```
    /// use trigorm::{Key, Value, ValueRef};
    /// assert_eq!(Key::from_value_ref(&ValueRef::Int(7)), Key::Int(7));
    /// assert_eq!(Key::from_value_ref(&ValueRef::Text("a")), Key::from_value(&Value::Text("a".into())));
    /// ```
    #[inline]
    pub fn from_value_ref(v: &ValueRef<'_>) -> Key {
        match v {
            ValueRef::Int(i) => Key::Int(*i),
            ValueRef::Bool(b) => Key::Int(i64::from(*b)),
            ValueRef::Text(s) => Key::Text((*s).to_owned()),
            ValueRef::Owned(v) => Key::from_value(v),
            other => Key::from_value(&other.to_value()),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Text(s) => write!(f, "{s:?}"),
            Key::Other(s) => f.write_str(s),
        }
    }
}
