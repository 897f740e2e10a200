//! Timestamps as SQLite stores them: text of fixed width (SQLite has no timestamp type),
//! written digit by digit with the text of the last second written kept per thread (the
//! timestamps a program writes are mostly `now`, many within one second). Reading it back
//! is `crate::value`'s (any backend may return timestamp text).

use chrono::{DateTime, NaiveDate, Utc};

use crate::value::FRACTION_AT;
pub(crate) use crate::value::TIMESTAMP_TEXT_LEN;

/// The text form timestamps take where a backend has no timestamp type (SQLite): fixed
/// width, so that text order is time order, and to the nanosecond, so that what is read
/// back equals what was written.
pub(crate) const TIMESTAMP_TEXT_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.9f+00:00";

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

thread_local! {
    /// The date and second last formatted, with their text up to the fraction.
    static LAST_SECOND: std::cell::Cell<Option<(NaiveDate, u32, [u8; FRACTION_AT])>> =
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{parse_timestamp, parse_timestamp_fast};
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
