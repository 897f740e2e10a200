//! Values: what a column holds, and the conversions between Rust field types and it.
//!
//! [`Value`] is the one currency between models, SQL generation and drivers. Every value
//! that reaches the database goes through it and is bound as a parameter, never spliced
//! into SQL text. [`Field`] is implemented for every Rust type a model field may have.

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

use crate::schema::ColumnType;

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
    fn new(expected: &'static str, found: &Value) -> Self {
        ValueError {
            expected,
            found: format!("{} {}", found.kind(), found.display_short()),
        }
    }
}

/// A Rust type that can be a model field: it knows its column type and converts to and
/// from [`Value`]. Implemented for integers, `f64`, `f32`, `bool`, `String`, `Vec<u8>`,
/// `chrono::DateTime<Utc>`, `chrono::NaiveDate`, `serde_json::Value`, and `Option<T>` of
/// each (which makes the column nullable). `#[derive(Field)]` implements it for an enum of
/// unit variants, stored as text (see the derive's documentation for the names).
///
/// ```
/// use trigorm::{Field, Value, ValueRef};
/// assert_eq!(<Option<String> as Field>::NULLABLE, true);
/// assert_eq!(42_i32.to_value(), Value::Int(42));
/// assert_eq!(<bool as Field>::from_value(Value::Int(1)).unwrap(), true);
///
/// #[derive(Field, Clone, Copy, Debug, PartialEq)]
/// #[trigorm(rename_all = "lowercase")]
/// enum Color { Red, Green }
/// assert_eq!(Color::Green.to_value_ref(), ValueRef::Text("green"));
/// assert_eq!(Color::from_value(Value::Text("red".into())).unwrap(), Color::Red);
/// assert!(Color::from_value(Value::Text("Red".into())).is_err());
/// ```
pub trait Field: Sized + Clone + PartialEq + Send + Sync + 'static {
    /// The column type this field maps to.
    const TYPE: ColumnType;
    /// Whether the column accepts `NULL` (true for `Option<T>`).
    const NULLABLE: bool = false;
    /// Whether a value of this field can be a NaN float, which no backend stores
    /// faithfully (checked before each write). The default is `true`: a field that binds
    /// only integers, text or bytes can say `false` and skip the check.
    const MAY_BE_NAN: bool = true;
    /// This field as a value to bind.
    fn to_value(&self) -> Value;
    /// This field as a borrowed value to bind (what the session binds; the provided
    /// method copies through [`Field::to_value`]).
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Owned(self.to_value())
    }
    /// Whether [`Field::bind`] is known to bind exactly one parameter. `false` (the default,
    /// for fields defined outside trigorm) makes the session check after the field that it
    /// did ([`Binder::expect_bound`]); trigorm's own fields and `#[derive(Field)]` enums say
    /// `true` and skip the check.
    const BINDS_ONE: bool = false;
    /// Bind this field as the next parameter of a statement (what the session does when it
    /// writes a row). It must bind exactly one parameter, with the value
    /// [`Field::to_value_ref`] gives (which is what the NaN check before a write looks at).
    /// The provided method binds [`Field::to_value_ref`] with [`Binder::value`]; trigorm's
    /// own fields bind with the method of their kind.
    ///
    /// ```
    /// use trigorm::{Binder, Field, Value, ValueRef};
    /// use trigorm::schema::ColumnType;
    /// use trigorm::value::ValueError;
    ///
    /// /// Cents, stored as an integer.
    /// #[derive(Clone, Copy, Debug, PartialEq)]
    /// struct Cents(i64);
    /// impl Field for Cents {
    ///     const TYPE: ColumnType = ColumnType::Integer;
    ///     const MAY_BE_NAN: bool = false; // never a float: no NaN check needed
    ///     fn to_value(&self) -> Value { Value::Int(self.0) }
    ///     fn to_value_ref(&self) -> ValueRef<'_> { ValueRef::Int(self.0) }
    ///     fn bind(&self, b: &mut dyn Binder) { b.int(self.0) } // one parameter, no conversion
    ///     fn from_value(v: Value) -> Result<Self, ValueError> { i64::from_value(v).map(Cents) }
    /// }
    /// # struct Count(usize);
    /// # impl Binder for Count { fn value(&mut self, _: &ValueRef<'_>) { self.0 += 1 } }
    /// # let mut b = Count(0);
    /// # Cents(250).bind(&mut b);
    /// # assert_eq!(b.0, 1);
    /// ```
    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        b.value(&self.to_value_ref());
    }
    /// A value read from the database as this field.
    ///
    /// # Errors
    /// [`ValueError`] when the stored value has another type or is out of range.
    fn from_value(value: Value) -> Result<Self, ValueError>;
    /// A borrowed value read from the database as this field (what loading a row uses).
    /// The provided method copies through [`Field::from_value`].
    ///
    /// # Errors
    /// As [`Field::from_value`].
    fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
        Self::from_value(value.to_value())
    }
    /// Overwrite this field with a value read from the database, reusing what it owns
    /// where it can (how the session fills a recycled row). The provided method replaces
    /// it through [`Field::from_value_ref`]; `String` keeps its buffer.
    ///
    /// # Errors
    /// As [`Field::from_value`]; the field is then unspecified.
    fn read_from(&mut self, value: &ValueRef<'_>) -> Result<(), ValueError> {
        *self = Self::from_value_ref(value)?;
        Ok(())
    }

    /// Bring the value to what every backend stores, so that a value written and read back
    /// compares equal (semantics §9): a timestamp is kept at microseconds. The session
    /// calls it on every row it writes. The provided method leaves the value as it is.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use trigorm::Field;
    /// let mut t = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
    /// t.normalize();
    /// assert_eq!(t, Utc.timestamp_opt(1_700_000_000, 123_456_000).unwrap());
    /// ```
    #[inline]
    fn normalize(&mut self) {}
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            const TYPE: ColumnType = ColumnType::Integer;
            const BINDS_ONE: bool = true;
            const MAY_BE_NAN: bool = false;
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
            #[inline]
            fn bind(&self, b: &mut dyn Binder) {
                b.int(i64::from(*self));
            }
            fn to_value_ref(&self) -> ValueRef<'_> {
                ValueRef::Int(i64::from(*self))
            }
            fn from_value(value: Value) -> Result<Self, ValueError> {
                match value {
                    Value::Int(i) => <$t>::try_from(i).map_err(|_| ValueError::new(stringify!($t), &value)),
                    Value::Bool(b) => Ok(<$t>::from(b)),
                    other => Err(ValueError::new(stringify!($t), &other)),
                }
            }
            fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
                match value {
                    ValueRef::Int(i) => <$t>::try_from(*i).map_err(|_| ValueError::new(stringify!($t), &Value::Int(*i))),
                    ValueRef::Bool(b) => Ok(<$t>::from(*b)),
                    other => Self::from_value(other.to_value()),
                }
            }
        }
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
int_field!(i8, i16, i32, i64, u8, u16, u32);

impl Field for f64 {
    const TYPE: ColumnType = ColumnType::Float;
    const BINDS_ONE: bool = true;
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        b.float(*self);
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Float(*self)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Float(f) => Ok(f),
            // SQLite returns whole REAL values it stored as integers for INTEGER affinity only,
            // but raw SQL may have written an integer into a REAL column.
            Value::Int(i) => Ok(i as f64),
            other => Err(ValueError::new("f64", &other)),
        }
    }
}

impl Field for f32 {
    const TYPE: ColumnType = ColumnType::Float;
    const BINDS_ONE: bool = true;
    fn to_value(&self) -> Value {
        Value::Float(f64::from(*self))
    }
    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        b.float(f64::from(*self));
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Float(f64::from(*self))
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        f64::from_value(value).map(|f| f as f32)
    }
}

impl Field for bool {
    const TYPE: ColumnType = ColumnType::Bool;
    const BINDS_ONE: bool = true;
    const MAY_BE_NAN: bool = false;
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bool(*self)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Bool(b) => Ok(b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            other => Err(ValueError::new("bool", &other)),
        }
    }
}

impl Field for String {
    const TYPE: ColumnType = ColumnType::Text;
    const BINDS_ONE: bool = true;
    const MAY_BE_NAN: bool = false;
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        b.text(self);
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Text(s) => Ok(s),
            other => Err(ValueError::new("String", &other)),
        }
    }
    fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
        match value {
            ValueRef::Text(s) => Ok((*s).to_owned()),
            other => Self::from_value(other.to_value()),
        }
    }
    fn read_from(&mut self, value: &ValueRef<'_>) -> Result<(), ValueError> {
        match value {
            ValueRef::Text(s) => {
                self.clear();
                self.push_str(s);
                Ok(())
            }
            other => {
                *self = Self::from_value(other.to_value())?;
                Ok(())
            }
        }
    }
}

impl Field for Vec<u8> {
    const TYPE: ColumnType = ColumnType::Blob;
    const BINDS_ONE: bool = true;
    const MAY_BE_NAN: bool = false;
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        b.blob(self);
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Blob(b) => Ok(b),
            other => Err(ValueError::new("Vec<u8>", &other)),
        }
    }
}

/// The text form timestamps take where a backend has no timestamp type (SQLite): fixed
/// width, so that text order is time order, and to the nanosecond, so that what is read
/// back equals what was written.
pub(crate) const TIMESTAMP_TEXT_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.9f+00:00";

/// The length of [`TIMESTAMP_TEXT_FORMAT`]'s text for years 0 to 9999.
pub(crate) const TIMESTAMP_TEXT_LEN: usize = 35;

/// The two digits of every number below 100.
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Two digits of `v` (below 100) at `at`.
#[inline]
fn put2(out: &mut [u8], at: usize, v: u32) {
    let p = 2 * (v % 100) as usize;
    out[at..at + 2].copy_from_slice(&PAIRS[p..p + 2]);
}

/// Where the digits of the seconds' fraction start in a timestamp's text.
const FRACTION_AT: usize = 20;

thread_local! {
    /// The date and second last formatted, with their text up to the fraction: the
    /// timestamps a program writes are mostly `now`, many within one second.
    static LAST_SECOND: std::cell::Cell<Option<(NaiveDate, u32, [u8; FRACTION_AT])>> =
        const { std::cell::Cell::new(None) };
    /// The text up to the fraction last parsed, with its date and second of the day (see
    /// [`parse_timestamp_fast`]).
    static LAST_SECOND_READ: std::cell::Cell<Option<([u8; FRACTION_AT - 1], NaiveDate, u32)>> =
        const { std::cell::Cell::new(None) };
}

/// A timestamp in [`TIMESTAMP_TEXT_FORMAT`], written digit by digit into `out` (chrono's
/// formatter parses its pattern on every call, and this is on the hot path of every
/// write); `None` for a year outside 0..=9999, which [`timestamp_text`] formats with chrono.
/// The text is ASCII, returned as bytes so that a driver can bind it without checking it
/// again.
pub(crate) fn timestamp_text_into<'a>(t: &DateTime<Utc>, out: &'a mut [u8; TIMESTAMP_TEXT_LEN]) -> Option<&'a [u8]> {
    use chrono::{Datelike, Timelike};
    // One conversion to the naive date and time, not one per accessor.
    let t = t.naive_utc();
    let (date, time) = (t.date(), t.time());
    let second = time.num_seconds_from_midnight();
    out[FRACTION_AT..].copy_from_slice(b"000000000+00:00");
    match LAST_SECOND.get() {
        Some((d, s, text)) if d == date && s == second => out[..FRACTION_AT].copy_from_slice(&text),
        _ => {
            let year = date.year();
            if !(0..=9999).contains(&year) {
                return None;
            }
            out[..FRACTION_AT].copy_from_slice(b"0000-00-00 00:00:00.");
            let year = year as u32;
            put2(out, 0, year / 100);
            put2(out, 2, year);
            put2(out, 5, date.month());
            put2(out, 8, date.day());
            put2(out, 11, time.hour());
            put2(out, 14, time.minute());
            // A leap second is stored as second 59 with nanoseconds past 1e9, as chrono
            // formats it.
            put2(out, 17, time.second());
            let mut text = [0u8; FRACTION_AT];
            text.copy_from_slice(&out[..FRACTION_AT]);
            LAST_SECOND.set(Some((date, second, text)));
        }
    }
    let nanos = time.nanosecond().min(999_999_999);
    out[20] = b'0' + (nanos / 100_000_000) as u8;
    put2(out, 21, nanos / 1_000_000);
    put2(out, 23, nanos / 10_000);
    put2(out, 25, nanos / 100);
    put2(out, 27, nanos);
    Some(out)
}

/// A timestamp in [`TIMESTAMP_TEXT_FORMAT`].
pub(crate) fn timestamp_text(t: &DateTime<Utc>) -> String {
    let mut buf = [0u8; TIMESTAMP_TEXT_LEN];
    match timestamp_text_into(t, &mut buf).map(std::str::from_utf8) {
        Some(Ok(s)) => s.to_string(),
        _ => t.format(TIMESTAMP_TEXT_FORMAT).to_string(),
    }
}

/// Parse [`TIMESTAMP_TEXT_FORMAT`] without chrono's format machinery. The date and second
/// last parsed are kept with their text: rows read together were mostly written within
/// the same second, so most parses only read the nine digits of the fraction.
fn parse_timestamp_fast(text: &str) -> Option<DateTime<Utc>> {
    let b: &[u8; TIMESTAMP_TEXT_LEN] = text.as_bytes().try_into().ok()?;
    if b[19] != b'.' || &b[29..] != b"+00:00" {
        return None;
    }
    let mut nanos = 0u32;
    for &c in &b[20..29] {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            return None;
        }
        nanos = nanos * 10 + u32::from(d);
    }
    let mut second = [0u8; FRACTION_AT - 1];
    second.copy_from_slice(&b[..FRACTION_AT - 1]);
    let (date, secs) = match LAST_SECOND_READ.get() {
        Some((text, date, secs)) if text == second => (date, secs),
        _ => {
            let (date, secs) = parse_second(&second)?;
            LAST_SECOND_READ.set(Some((second, date, secs)));
            (date, secs)
        }
    };
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// `YYYY-MM-DD HH:MM:SS`: the date and the second of the day.
fn parse_second(b: &[u8; FRACTION_AT - 1]) -> Option<(NaiveDate, u32)> {
    if b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    const DIGITS: [usize; 14] = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if DIGITS.iter().any(|&i| !b[i].is_ascii_digit()) {
        return None;
    }
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let date = NaiveDate::from_ymd_opt((two(0) * 100 + two(2)) as i32, two(5), two(8))?;
    let (h, m, s) = (two(11), two(14), two(17));
    (h < 24 && m < 60 && s < 60).then_some((date, h * 3600 + m * 60 + s))
}

pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Some(t) = parse_timestamp_fast(text) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    // CURRENT_TIMESTAMP and friends: naive, in UTC.
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

impl Field for DateTime<Utc> {
    const TYPE: ColumnType = ColumnType::Timestamp;
    const BINDS_ONE: bool = true;
    const MAY_BE_NAN: bool = false;
    /// Microseconds: what PostgreSQL, MariaDB (`DATETIME(6)`) and trigorm's SQLite text
    /// keep alike.
    #[inline]
    fn normalize(&mut self) {
        let extra = self.timestamp_subsec_nanos() % 1000;
        if extra != 0 {
            *self -= chrono::Duration::nanoseconds(i64::from(extra));
        }
    }
    fn to_value(&self) -> Value {
        Value::Timestamp(*self)
    }
    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        b.timestamp(self);
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Timestamp(*self)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Timestamp(t) => Ok(t),
            Value::Text(ref s) => parse_timestamp(s).ok_or_else(|| ValueError::new("DateTime<Utc>", &value)),
            other => Err(ValueError::new("DateTime<Utc>", &other)),
        }
    }
    /// Parses borrowed text without copying it first.
    fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
        match value {
            ValueRef::Timestamp(t) => Ok(*t),
            ValueRef::Text(s) => parse_timestamp(s).ok_or_else(|| ValueError::new("DateTime<Utc>", &value.to_value())),
            other => Self::from_value(other.to_value()),
        }
    }
}

impl Field for NaiveDate {
    const TYPE: ColumnType = ColumnType::Date;
    const BINDS_ONE: bool = true;
    const MAY_BE_NAN: bool = false;
    fn to_value(&self) -> Value {
        Value::Date(*self)
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Date(*self)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Date(d) => Ok(d),
            Value::Text(ref s) => {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ValueError::new("NaiveDate", &value))
            }
            other => Err(ValueError::new("NaiveDate", &other)),
        }
    }
}

impl Field for serde_json::Value {
    const TYPE: ColumnType = ColumnType::Json;
    const BINDS_ONE: bool = true;
    const MAY_BE_NAN: bool = false;
    fn to_value(&self) -> Value {
        Value::Json(self.clone())
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        ValueRef::Json(self)
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Json(j) => Ok(j),
            Value::Text(ref s) => serde_json::from_str(s).map_err(|_| ValueError::new("serde_json::Value", &value)),
            other => Err(ValueError::new("serde_json::Value", &other)),
        }
    }
}

impl<T: Field> Field for Option<T> {
    const TYPE: ColumnType = T::TYPE;
    const NULLABLE: bool = true;
    const BINDS_ONE: bool = T::BINDS_ONE;
    const MAY_BE_NAN: bool = T::MAY_BE_NAN;
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        match self {
            Some(v) => v.bind(b),
            None => b.null(),
        }
    }
    fn to_value_ref(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_value_ref(),
            None => ValueRef::Null,
        }
    }
    fn from_value(value: Value) -> Result<Self, ValueError> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
    fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
        match value {
            ValueRef::Null | ValueRef::Owned(Value::Null) => Ok(None),
            v => T::from_value_ref(v).map(Some),
        }
    }
    fn read_from(&mut self, value: &ValueRef<'_>) -> Result<(), ValueError> {
        match (value, self.as_mut()) {
            (ValueRef::Null | ValueRef::Owned(Value::Null), _) => *self = None,
            (v, Some(inner)) => inner.read_from(v)?,
            (v, None) => *self = Some(T::from_value_ref(v)?),
        }
        Ok(())
    }
    #[inline]
    fn normalize(&mut self) {
        if let Some(v) = self {
            v.normalize();
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamp_text_matches_the_format_and_parses_back() {
        let cases = [
            Utc.with_ymd_and_hms(2026, 11, 26, 6, 46, 42).unwrap(),
            Utc.timestamp_opt(0, 1).unwrap(),
            Utc.timestamp_opt(1_700_000_000, 999_999_999).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
        ];
        for t in cases {
            let text = timestamp_text(&t);
            assert_eq!(text, t.format(TIMESTAMP_TEXT_FORMAT).to_string());
            assert_eq!(parse_timestamp(&text), Some(t));
            assert_eq!(parse_timestamp_fast(&text), Some(t));
        }
        assert_eq!(parse_timestamp_fast("2026-11-26T06:46:42.000000000+00:00"), None);
        assert_eq!(
            parse_timestamp("2026-11-26T06:46:42Z"),
            Some(Utc.with_ymd_and_hms(2026, 11, 26, 6, 46, 42).unwrap())
        );
        assert_eq!(
            parse_timestamp("2026-11-26 06:46:42"),
            Some(Utc.with_ymd_and_hms(2026, 11, 26, 6, 46, 42).unwrap())
        );
    }

    /// Formatting and parsing keep the last second they saw: what comes next, in the same
    /// second or not, valid or not, must come out as if nothing were kept.
    #[test]
    fn the_second_kept_between_calls_never_changes_a_result() {
        let base = Utc.with_ymd_and_hms(2026, 11, 26, 6, 46, 42).unwrap();
        let mut buf = [0u8; TIMESTAMP_TEXT_LEN];
        for (secs, nanos) in [(0, 1), (0, 999_999_999), (1, 0), (0, 5), (86_400, 7), (0, 8)] {
            let t = base + chrono::Duration::seconds(secs) + chrono::Duration::nanoseconds(nanos);
            let text = timestamp_text_into(&t, &mut buf).map(|b| String::from_utf8_lossy(b).into_owned());
            assert_eq!(
                text.as_deref(),
                Some(t.format(TIMESTAMP_TEXT_FORMAT).to_string().as_str())
            );
            assert_eq!(parse_timestamp_fast(text.as_deref().unwrap_or_default()), Some(t));
        }
        // The second just parsed, with a broken fraction or suffix: refused.
        assert_eq!(parse_timestamp_fast("2026-11-26 06:46:42.00000000x+00:00"), None);
        assert_eq!(parse_timestamp_fast("2026-11-26 06:46:42.000000000+01:00"), None);
        // Another second of the same day, out of range or not a number: refused.
        for bad in [
            "2026-11-26 24:46:42.000000000+00:00",
            "2026-11-26 06:60:42.000000000+00:00",
            "2026-11-26 06:46:60.000000000+00:00",
            "2026-11-26 06:4x:42.000000000+00:00",
            "2026-02-30 06:46:42.000000000+00:00",
            "2026-11-26_06:46:42.000000000+00:00",
        ] {
            assert_eq!(parse_timestamp_fast(bad), None, "{bad}");
        }
        // And the kept second still serves afterwards.
        let t = base + chrono::Duration::nanoseconds(3);
        assert_eq!(parse_timestamp_fast(&timestamp_text(&t)), Some(t));
    }
}
