//! The seed workload's shape, shared by every variant and by the verification: which rows
//! exist, how they are named, which id ranges are batched and which are deleted.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// N rows in batches of B (one transaction per batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub rows: u64,
    pub batch: u64,
}

impl Plan {
    /// `[lo, hi)` of the user index `j` (id `j + 1`) for each insert batch; also the
    /// update batches (ids `(lo, lo + B]`).
    pub fn batches(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        (0..self.rows)
            .step_by(self.batch_usize())
            .map(|lo| (lo, (lo + self.batch).min(self.rows)))
    }

    /// The `i` of every deleted id range `(i, i + B]`: `i = 0, 2B, 4B, ...` below N.
    pub fn delete_starts(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.rows).step_by(self.batch_usize().saturating_mul(2))
    }

    fn batch_usize(&self) -> usize {
        usize::try_from(self.batch).unwrap_or(usize::MAX).max(1)
    }

    /// Whether user `id` (1-based) lies in a deleted range.
    pub fn is_deleted(&self, id: u64) -> bool {
        id >= 1 && id <= self.rows && ((id - 1) / self.batch).is_multiple_of(2)
    }

    /// How many users the delete step removes (N/2 when N is a multiple of 2B).
    pub fn deleted(&self) -> u64 {
        self.delete_starts().map(|i| (i + self.batch).min(self.rows) - i).sum()
    }

    /// Users left at the end: N/2 when N is a multiple of 2B.
    pub fn expected_users(&self) -> u64 {
        self.rows - self.deleted()
    }

    /// Log rows at the end: one per insert, update and delete (2.5 N when N is a
    /// multiple of 2B).
    pub fn expected_logs(&self) -> u64 {
        2 * self.rows + self.deleted()
    }
}

/// `user{j}` into `buf`.
pub fn user_name(buf: &mut String, j: u64) {
    buf.clear();
    let _ = write!(buf, "user{j}");
}

/// `u{j}@x.org` into `buf`.
pub fn user_email(buf: &mut String, j: u64) {
    buf.clear();
    let _ = write!(buf, "u{j}@x.org");
}

/// How trigorm stores a timestamp on SQLite (`TIMESTAMP_TEXT_FORMAT` in trigorm's
/// value.rs), as a chrono format. A test checks that trigorm writes this form.
#[cfg(test)]
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.9f+00:00";

/// The same form as a pattern: `d` stands for a digit.
pub const TIMESTAMP_FORM: &str = "dddd-dd-dd dd:dd:dd.ddddddddd+00:00";

/// What the update step appends to a name.
pub const UPDATE_SUFFIX: &str = "_v2";

/// A variant's phase times and peak memory, as a child process reports them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    pub insert_s: f64,
    pub update_s: f64,
    pub delete_s: f64,
    /// VmHWM of the child process, in KiB (None where /proc is missing).
    pub peak_rss_kib: Option<u64>,
}

impl Timings {
    pub fn total_s(&self) -> f64 {
        self.insert_s + self.update_s + self.delete_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_workload_text() {
        let p = Plan {
            rows: 20000,
            batch: 1000,
        };
        assert_eq!(p.expected_users(), 10000);
        assert_eq!(p.expected_logs(), 50000);
        assert_eq!(p.batches().count(), 20);
        assert_eq!(p.delete_starts().collect::<Vec<_>>()[..3], [0, 2000, 4000]);
        assert!(p.is_deleted(1) && p.is_deleted(1000) && !p.is_deleted(1001) && p.is_deleted(2001));
    }

    #[test]
    fn ragged_sizes_count_exactly() {
        let p = Plan {
            rows: 2500,
            batch: 1000,
        };
        // Deleted: ids 1..=1000 and 2001..=2500.
        assert_eq!(p.deleted(), 1500);
        assert_eq!(p.batches().last(), Some((2000, 2500)));
        let brute = (1..=p.rows).filter(|&id| p.is_deleted(id)).count() as u64;
        assert_eq!(brute, p.deleted());
        let p = Plan { rows: 7, batch: 100 };
        assert_eq!((p.deleted(), p.expected_users(), p.expected_logs()), (7, 0, 21));
    }
}
