//! [`Field`]: the Rust types a model field may have, and their conversions to and from
//! [`Value`].

use chrono::{DateTime, NaiveDate, Utc};

use super::timestamp::parse_timestamp;
use super::{Binder, Value, ValueError, ValueRef};
use crate::schema::ColumnType;

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
    #[doc(hidden)]
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
    #[doc(hidden)]
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
    #[doc(hidden)]
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
    #[doc(hidden)]
    fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
        Self::from_value(value.to_value())
    }
    /// Overwrite this field with a value read from the database, reusing what it owns
    /// where it can (how the session fills a recycled row). The provided method replaces
    /// it through [`Field::from_value_ref`]; `String` keeps its buffer.
    ///
    /// # Errors
    /// As [`Field::from_value`]; the field is then unspecified.
    #[doc(hidden)]
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
    #[doc(hidden)]
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
    #[doc(hidden)]
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
    #[doc(hidden)]
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
    #[doc(hidden)]
    fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
        match value {
            ValueRef::Text(s) => Ok((*s).to_owned()),
            other => Self::from_value(other.to_value()),
        }
    }
    #[doc(hidden)]
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
    #[doc(hidden)]
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

impl Field for DateTime<Utc> {
    const TYPE: ColumnType = ColumnType::Timestamp;
    const BINDS_ONE: bool = true;
    const MAY_BE_NAN: bool = false;
    /// Microseconds: what PostgreSQL, MariaDB (`DATETIME(6)`) and trigorm's SQLite text
    /// keep alike.
    #[inline]
    fn normalize(&mut self) {
        use chrono::Timelike;
        let nanos = self.timestamp_subsec_nanos();
        let extra = nanos % 1000;
        if extra != 0 {
            // The same date and second, the fraction cut (no date arithmetic).
            let naive = self.naive_utc();
            if let Some(time) = naive.time().with_nanosecond(nanos - extra) {
                *self = chrono::NaiveDateTime::new(naive.date(), time).and_utc();
            }
        }
    }
    fn to_value(&self) -> Value {
        Value::Timestamp(*self)
    }
    #[inline]
    #[doc(hidden)]
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
    #[doc(hidden)]
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
    #[doc(hidden)]
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
    #[doc(hidden)]
    fn from_value_ref(value: &ValueRef<'_>) -> Result<Self, ValueError> {
        match value {
            ValueRef::Null | ValueRef::Owned(Value::Null) => Ok(None),
            v => T::from_value_ref(v).map(Some),
        }
    }
    #[doc(hidden)]
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
