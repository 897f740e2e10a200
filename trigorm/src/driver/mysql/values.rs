//! Values between trigorm and the `mysql` crate: what is bound, and what is read back by
//! the column's type.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use mysql::consts::{ColumnFlags, ColumnType};
use mysql::{Column, Value as MyValue};

use crate::value::{Value, ValueRef};

/// A value as the crate binds it: timestamps as `DATETIME` in UTC (the session's time
/// zone), JSON as its text, booleans as integers.
///
/// # Errors
/// A date or timestamp outside the years `DATETIME` holds (0 to 9999): the protocol cannot
/// carry it, and the server would store another date.
pub(super) fn to_my(v: &ValueRef<'_>) -> Result<MyValue, String> {
    Ok(match v {
        ValueRef::Null => MyValue::NULL,
        ValueRef::Int(i) => MyValue::Int(*i),
        ValueRef::Float(f) => MyValue::Double(*f),
        ValueRef::Bool(b) => MyValue::Int(i64::from(*b)),
        ValueRef::Text(s) => MyValue::Bytes(s.as_bytes().to_vec()),
        ValueRef::Blob(b) => MyValue::Bytes(b.to_vec()),
        ValueRef::Timestamp(t) => datetime(&t.naive_utc())?,
        ValueRef::Date(d) => MyValue::Date(year(d.year())?, d.month() as u8, d.day() as u8, 0, 0, 0, 0),
        ValueRef::Json(j) => MyValue::Bytes(j.to_string().into_bytes()),
        ValueRef::Owned(o) => to_my(&o.as_value_ref())?,
    })
}

/// A year as the protocol carries it.
fn year(y: i32) -> Result<u16, String> {
    u16::try_from(y)
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or_else(|| format!("the year {y} is outside what MariaDB/MySQL dates hold (0 to 9999)"))
}

fn datetime(t: &NaiveDateTime) -> Result<MyValue, String> {
    Ok(MyValue::Date(
        year(t.year())?,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond() / 1000,
    ))
}

/// The binary character set: bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// A column's value, by the column's type (values come typed: every statement is
/// prepared).
///
/// # Errors
/// A value trigorm's values cannot hold (an unsigned integer beyond `i64`, a zero date,
/// text that is not UTF-8), said with the column's name.
pub(super) fn read_value(c: &Column, v: MyValue) -> Result<Value, String> {
    use ColumnType as T;
    let ty = c.column_type();
    let bad = |what: &dyn fmt::Debug| format!("reading column {:?} of type {ty:?}: {what:?}", c.name_str());
    Ok(match v {
        MyValue::NULL => Value::Null,
        MyValue::Int(i) => Value::Int(i),
        MyValue::UInt(u) => {
            Value::Int(i64::try_from(u).map_err(|_| bad(&format!("{u} is beyond a 64-bit signed integer")))?)
        }
        // The float's shortest decimal form, read as a double: 0.1, not 0.10000000149011612.
        MyValue::Float(f) => Value::Float(f.to_string().parse().unwrap_or(f64::from(f))),
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
        // BIT(n): a number, big-endian.
        MyValue::Bytes(b) if ty == T::MYSQL_TYPE_BIT && b.len() <= 8 => {
            let n = b.iter().fold(0u64, |n, byte| (n << 8) | u64::from(*byte));
            Value::Int(i64::try_from(n).map_err(|_| bad(&format!("{n} is beyond a 64-bit signed integer")))?)
        }
        MyValue::Bytes(b)
            if c.character_set() == BINARY_CHARSET
                && !matches!(
                    ty,
                    T::MYSQL_TYPE_NEWDECIMAL | T::MYSQL_TYPE_DECIMAL | T::MYSQL_TYPE_JSON
                )
                && !c.flags().contains(ColumnFlags::NUM_FLAG) =>
        {
            Value::Blob(b)
        }
        // Text, and what reads as text (DECIMAL, JSON, ENUM, SET).
        MyValue::Bytes(b) => Value::Text(String::from_utf8(b).map_err(|e| bad(&e.utf8_error()))?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_beyond_what_the_server_holds_are_refused() {
        let far = NaiveDate::from_ymd_opt(12_000, 1, 1).expect("a date");
        assert!(to_my(&ValueRef::Date(far)).is_err());
        let before = NaiveDate::from_ymd_opt(-5, 1, 1).expect("a date");
        assert!(to_my(&ValueRef::Date(before)).is_err());
        let ok = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");
        assert_eq!(to_my(&ValueRef::Date(ok)), Ok(MyValue::Date(9999, 12, 31, 0, 0, 0, 0)));
    }
}
