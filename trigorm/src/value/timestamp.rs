//! Timestamp text read back: the fixed-width form the SQLite driver writes (its
//! `driver/sqlite/text.rs`), which a fast path parses keeping the last second it saw per
//! thread (most timestamps then cost their fraction digits alone), and any other form a
//! backend may return as text (RFC 3339, `CURRENT_TIMESTAMP`).

use chrono::{DateTime, NaiveDate, Utc};

/// The length of the text form the SQLite driver writes (`2026-11-26 06:46:42.123456789+00:00`).
pub(crate) const TIMESTAMP_TEXT_LEN: usize = 35;

/// Where the digits of the seconds' fraction start in a timestamp's text.
pub(crate) const FRACTION_AT: usize = 20;

thread_local! {
    /// The text up to the fraction last parsed, with its date and second of the day (see
    /// [`parse_timestamp_fast`]).
    static LAST_SECOND_READ: std::cell::Cell<Option<([u8; FRACTION_AT - 1], NaiveDate, u32)>> =
        const { std::cell::Cell::new(None) };
}

/// Parse the SQLite driver's text form without chrono's format machinery. The date and second
/// last parsed are kept with their text: rows read together were mostly written within
/// the same second, so most parses only read the nine digits of the fraction.
pub(crate) fn parse_timestamp_fast(text: &str) -> Option<DateTime<Utc>> {
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
