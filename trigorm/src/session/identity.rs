//! The identity map: the last values read from or written to the database, per row.
//! These are the "old values" of updates and deletes. Forgotten at commit and rollback:
//! old values never outlive the transaction they were read in.
//!
//! One typed table per model: a remembered row is stored by value, with no box of its own.
//! Rows the session is done with (remembered rows when they are forgotten or replaced, the
//! old values of deleted rows, and at commit the rows the user staged) are kept as spares,
//! and the next loads fill them again instead of allocating new ones: a batch loop reuses
//! the strings of the previous batch. At the end of every transaction the spares are
//! trimmed to what that transaction gave back and to [`MAX_SPARES`] per model, and the
//! tables' capacity to [`MAX_KEPT_CAPACITY`], so what a session keeps between transactions
//! is bounded whatever the size of its largest one.

use std::any::{Any, TypeId};

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::model::{ColumnSet, Model};
use crate::schema::{OnDelete, TableDef};
use crate::value::{Key, ValueRef};

/// The most spare rows a session keeps per model between transactions (enough for a batch
/// loop of 2000 rows: each loaded row takes two, the caller's and the remembered copy).
pub(crate) const MAX_SPARES: usize = 4096;

/// The most room (in rows) a session's tables and queues keep between transactions: a
/// huge transaction does not leave its buffers behind for the session's whole life.
pub(crate) const MAX_KEPT_CAPACITY: usize = 4096;

/// The rows of one model, type-erased so that one map holds every model's table.
trait AnyTable: Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Forget the remembered rows, and the expired ones (they become spares).
    fn clear(&mut self);
    /// Raw SQL ran: the remembered rows are no longer known to be the database's, but stay
    /// the bases of the caller's copies (see [`Table::stale`]).
    fn expire(&mut self);
    /// The transaction ended: keep at most the spares it gave back.
    fn trim(&mut self);
    fn len(&self) -> usize;
    /// The model's table.
    fn def(&self) -> &'static TableDef;
}

/// A run shorter than twice this is never compacted (see [`Rows::insert`]).
const MIN_RUN_TO_COMPACT: usize = 32;

/// Remembered rows by key. Rows remembered in increasing integer-key order (a batch loop
/// loading a range of keys, then updating or deleting those rows in the same order) are
/// kept in a sorted run, found without hashing: a lookup tries where the last one was,
/// then bisects. Any other key goes to a hash map. A key is in one of the two, never both.
struct Rows<M> {
    /// Strictly increasing keys; `None` once taken.
    run: Vec<(i64, Option<M>)>,
    /// How many slots of `run` hold a row.
    live: usize,
    /// Where the last lookup in `run` found its key.
    cursor: usize,
    map: FxHashMap<Key, M>,
}

impl<M> Default for Rows<M> {
    fn default() -> Self {
        Rows {
            run: Vec::new(),
            live: 0,
            cursor: 0,
            map: FxHashMap::default(),
        }
    }
}

impl<M> Rows<M> {
    /// The index of `k` in the run.
    fn find(&mut self, k: i64) -> Option<usize> {
        let i = [self.cursor, self.cursor + 1]
            .into_iter()
            .find(|&i| self.run.get(i).is_some_and(|(x, _)| *x == k))
            .or_else(|| self.run.binary_search_by_key(&k, |(x, _)| *x).ok())?;
        self.cursor = i;
        Some(i)
    }

    /// Remember `row` for `key`; the row it replaces, if any.
    fn insert(&mut self, key: Key, row: M) -> Option<M> {
        let Key::Int(k) = key else {
            return self.map.insert(key, row);
        };
        // Every integer key in the map is below the run's last key (it went there for not
        // extending the run, and the run only grows until both are drained): a key above
        // it is in neither, and extends the run.
        if self.run.last().is_none_or(|(last, _)| *last < k) {
            debug_assert!(!self.map.contains_key(&key));
            // Taken rows leave empty slots: a transaction that loads and deletes rows by the
            // million keeps no more slots than about twice the rows it holds.
            if self.run.len() >= 2 * self.live.max(MIN_RUN_TO_COMPACT) {
                self.run.retain(|(_, row)| row.is_some());
                self.cursor = 0;
            }
            self.run.push((k, Some(row)));
            self.live += 1;
            self.cursor = self.run.len() - 1;
            return None;
        }
        if let Some(i) = self.find(k) {
            let replaced = self.run[i].1.replace(row);
            if replaced.is_none() {
                self.live += 1;
            }
            return replaced;
        }
        self.map.insert(key, row)
    }

    fn remove(&mut self, key: &Key) -> Option<M> {
        if let Key::Int(k) = key {
            if let Some(i) = self.find(*k) {
                let taken = self.run[i].1.take();
                if taken.is_some() {
                    self.live -= 1;
                }
                return taken;
            }
        }
        if self.map.is_empty() {
            return None;
        }
        self.map.remove(key)
    }

    fn len(&self) -> usize {
        self.live + self.map.len()
    }

    /// Forget every row, handing each to `f`.
    fn drain(&mut self, mut f: impl FnMut(M)) {
        for (_, row) in self.run.drain(..) {
            if let Some(row) = row {
                f(row);
            }
        }
        self.live = 0;
        self.cursor = 0;
        for (_, row) in self.map.drain() {
            f(row);
        }
    }

    fn shrink_to(&mut self, rows: usize) {
        self.run.shrink_to(rows);
        self.map.shrink_to(rows);
    }
}

/// The remembered rows of one model, and its spare rows.
pub(crate) struct Table<M> {
    rows: Rows<M>,
    /// Rows remembered before raw SQL ran: perhaps no longer the database's values (a
    /// write reads the row again), but still the row as this session last read it, the
    /// base against which an update finds the columns its caller changed (semantics §2).
    stale: FxHashMap<Key, M>,
    /// For models with a version column: the versions this session's updates of a row
    /// started from in this transaction (a copy of one of them is the session's own).
    written_from: FxHashMap<Key, Vec<i64>>,
    spare: Vec<M>,
    /// How many rows became spares since the last trim.
    released: usize,
    /// How many rows the last query loaded: the room the next result is allocated with,
    /// so that a batch loop's result is allocated once, at its size, rather than grown row
    /// by row, and filled where it is returned (not copied out of a buffer).
    last_loaded: usize,
}

impl<M: Model> Table<M> {
    /// A row to fill: a spare if there is one.
    fn spare(&mut self) -> Option<M> {
        self.spare.pop()
    }

    /// Remember `row` as the old values of `key` (a copy remembered before is recycled).
    fn remember(&mut self, key: Key, row: M) {
        if !self.stale.is_empty() {
            // Read again: the new row is the base now.
            if let Some(expired) = self.stale.remove(&key) {
                self.recycle(expired);
            }
        }
        if let Some(replaced) = self.rows.insert(key, row) {
            self.recycle(replaced);
        }
    }

    /// Decode a loaded row, remember a copy of it as its old values, and return the
    /// caller's copy; both are filled into spare rows when there are some (their strings
    /// reused).
    pub(crate) fn load(&mut self, row: &[ValueRef<'_>]) -> Result<M, Error> {
        let m = match self.spare() {
            Some(mut spare) => {
                spare.read_row(row)?;
                spare
            }
            None => M::from_row(row)?,
        };
        let old = match self.spare() {
            Some(mut spare) => {
                spare.copy_columns(&m, ColumnSet::all(M::table().columns.len()))?;
                spare
            }
            None => m.clone(),
        };
        self.remember(m.key(), old);
        Ok(m)
    }

    /// A vector for a query's rows, with the room the last query without a limit needed
    /// (at most [`MAX_KEPT_CAPACITY`] rows, and at most the query's `limit`).
    pub(crate) fn begin_loading(&mut self, limit: Option<u64>) -> Vec<M> {
        let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        Vec::with_capacity(self.last_loaded.min(MAX_KEPT_CAPACITY).min(limit))
    }

    /// The query that filled `rows` ended: remember its size for the next (unless it was
    /// `limited`: a `first()` says nothing of the next batch), and give back room it left
    /// mostly unused.
    pub(crate) fn loaded(&mut self, mut rows: Vec<M>, limited: bool) -> Vec<M> {
        if !limited {
            self.last_loaded = rows.len();
        }
        if rows.capacity() > 4 * rows.len() + 16 {
            rows.shrink_to_fit();
        }
        rows
    }

    /// Keep `row` to be filled again.
    pub(crate) fn recycle(&mut self, row: M) {
        self.spare.push(row);
        self.released += 1;
    }
}

impl<M: Model> AnyTable for Table<M> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn clear(&mut self) {
        self.written_from.clear();
        self.released += self.rows.len() + self.stale.len();
        let spare = &mut self.spare;
        self.rows.drain(|row| spare.push(row));
        spare.extend(self.stale.drain().map(|(_, row)| row));
    }
    fn expire(&mut self) {
        let stale = &mut self.stale;
        let mut replaced = Vec::new();
        self.rows.drain(|row| {
            if let Some(old) = stale.insert(row.key(), row) {
                replaced.push(old);
            }
        });
        for row in replaced {
            self.recycle(row);
        }
    }
    fn trim(&mut self) {
        // Any spare serves as well as another: drop from the end (no moving).
        self.spare.truncate(self.released.min(MAX_SPARES));
        self.spare.shrink_to(MAX_SPARES);
        self.rows.shrink_to(MAX_KEPT_CAPACITY);
        self.released = 0;
    }
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn def(&self) -> &'static TableDef {
        M::table()
    }
}

/// How far down a chain of `ON DELETE CASCADE` a delete is followed (schemas are not that
/// deep; a cycle stops here).
const MAX_CASCADE_DEPTH: usize = 16;

/// Whether deleting a row of `parent` may change rows of `t`: `t` has a foreign key with an
/// action to `parent`, or to a table whose rows such a delete removes (a cascade).
fn changed_by_delete(t: &TableDef, parent: &TableDef, depth: usize) -> bool {
    t.columns.iter().any(|c| {
        c.references.is_some_and(|fk| {
            !matches!(fk.on_delete, OnDelete::NoAction | OnDelete::Restrict)
                && (std::ptr::eq((fk.table)(), parent) || deleted_by(fk.table, parent, depth))
        })
    })
}

/// Whether deleting a row of `parent` deletes rows of the table `t` names, down a chain
/// of `ON DELETE CASCADE`.
fn deleted_by(t: fn() -> &'static TableDef, parent: &TableDef, depth: usize) -> bool {
    let t = t();
    depth > 0
        && t.columns.iter().any(|c| {
            c.references.is_some_and(|fk| {
                fk.on_delete == OnDelete::Cascade
                    && (std::ptr::eq((fk.table)(), parent) || deleted_by(fk.table, parent, depth - 1))
            })
        })
}

#[derive(Default)]
pub(crate) struct IdentityMap {
    /// Few models per session: a short list beats a hash.
    tables: Vec<(TypeId, Box<dyn AnyTable>)>,
    /// Counts clears: a write that began before a clear (raw SQL ran meanwhile, maybe on
    /// its own row) does not know its values are still true, and must not remember them.
    epoch: u64,
}

impl IdentityMap {
    /// The remembered and spare rows of `M` (what a load fills, fetched once for all its
    /// rows).
    #[inline]
    pub(crate) fn table<M: Model>(&mut self) -> &mut Table<M> {
        let id = TypeId::of::<M>();
        let i = match self.tables.iter().position(|(t, _)| *t == id) {
            Some(i) => i,
            None => {
                let table = Table::<M> {
                    rows: Rows::default(),
                    stale: FxHashMap::default(),
                    written_from: FxHashMap::default(),
                    spare: Vec::new(),
                    released: 0,
                    last_loaded: 0,
                };
                self.tables.push((id, Box::new(table)));
                self.tables.len() - 1
            }
        };
        match self.tables[i].1.as_any_mut().downcast_mut::<Table<M>>() {
            Some(t) => t,
            // Unreachable: the list is keyed by the table's model TypeId.
            None => unreachable!("identity table of the wrong model"),
        }
    }

    #[inline]
    pub(crate) fn take<M: Model>(&mut self, key: &Key) -> Option<M> {
        self.table::<M>().rows.remove(key)
    }

    #[inline]
    pub(crate) fn put<M: Model>(&mut self, key: Key, row: M) {
        self.table::<M>().remember(key, row);
    }

    /// The base of a row that raw SQL expired (see [`Table::stale`]), taken.
    pub(crate) fn take_stale<M: Model>(&mut self, key: &Key) -> Option<M> {
        let t = self.table::<M>();
        if t.stale.is_empty() {
            return None;
        }
        t.stale.remove(key)
    }

    /// This session updated the row of `key` from `version` (see [`Table::written_from`]).
    pub(crate) fn record_written_from<M: Model>(&mut self, key: Key, version: i64) {
        self.table::<M>().written_from.entry(key).or_default().push(version);
    }

    /// Whether this session updated the row of `key` from `version` in this transaction.
    pub(crate) fn wrote_from<M: Model>(&mut self, key: &Key, version: i64) -> bool {
        self.table::<M>()
            .written_from
            .get(key)
            .is_some_and(|versions| versions.contains(&version))
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Forget every remembered row and base.
    pub(crate) fn clear(&mut self) {
        for (_, t) in &mut self.tables {
            t.clear();
        }
        self.epoch += 1;
    }

    /// Raw SQL ran: it may have changed any row, so no remembered row is known to be the
    /// database's any more (later writes read their rows again); they stay the bases of
    /// the caller's copies.
    pub(crate) fn expire(&mut self) {
        for (_, t) in &mut self.tables {
            t.expire();
        }
        self.epoch += 1;
    }

    /// A row of `parent` was deleted: the rows the database may have changed with it
    /// through foreign-key actions (`ON DELETE CASCADE`, `SET NULL`, `SET DEFAULT`, also
    /// down a chain of cascades) are no longer known to be the database's. They stay the
    /// bases of the caller's copies (an update still writes only what its caller changed;
    /// one of a deleted row finds it gone).
    pub(crate) fn forget_children_of(&mut self, parent: &'static TableDef) {
        let mut expired = false;
        for (_, t) in &mut self.tables {
            if t.len() > 0 && changed_by_delete(t.def(), parent, MAX_CASCADE_DEPTH) {
                t.expire();
                expired = true;
            }
        }
        if expired {
            self.epoch += 1;
        }
    }

    /// The transaction ended: forget every remembered row, and keep no more spares than it
    /// gave back.
    pub(crate) fn end_transaction(&mut self) {
        self.clear();
        for (_, t) in &mut self.tables {
            t.trim();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.tables.iter().map(|(_, t)| t.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    #[derive(Model, Clone, Debug, PartialEq)]
    struct Row {
        id: i64,
        name: String,
    }

    fn row(id: i64) -> Row {
        Row {
            id,
            name: format!("row {id}"),
        }
    }

    fn spares(map: &mut IdentityMap) -> usize {
        map.table::<Row>().spare.len()
    }

    #[test]
    fn spares_never_outgrow_what_the_last_transaction_gave_back() {
        let mut map = IdentityMap::default();
        for id in 1..=3 {
            map.put(Key::Int(id), row(id));
        }
        assert_eq!(map.len(), 3);
        map.end_transaction();
        assert_eq!((map.len(), spares(&mut map)), (0, 3), "remembered rows become spares");

        // A small transaction: one row taken and remembered again, two given back.
        let reused = map.table::<Row>().spare().expect("a spare");
        map.put(Key::Int(9), reused);
        map.table::<Row>().recycle(row(10));
        map.table::<Row>().recycle(row(11));
        map.end_transaction();
        assert_eq!(spares(&mut map), 3, "kept: the three rows this transaction gave back");

        map.end_transaction();
        assert_eq!(
            spares(&mut map),
            0,
            "a transaction that gave nothing back keeps nothing"
        );
    }

    #[test]
    fn a_result_is_allocated_at_the_last_size_and_never_keeps_much_unused_room() {
        let mut map = IdentityMap::default();
        let table = map.table::<Row>();
        let mut rows = table.begin_loading(None);
        rows.extend((0..1000).map(row));
        let rows = table.loaded(rows, false);
        assert_eq!(rows.len(), 1000);
        // A `first()` in between neither allocates a batch nor forgets the batch's size.
        let first = table.begin_loading(Some(1));
        assert!(first.capacity() <= 1, "{}", first.capacity());
        let _ = table.loaded(first, true);
        let next = table.begin_loading(None);
        assert!(next.capacity() >= 1000, "room for the next batch: {}", next.capacity());
        let mut few = next;
        few.push(row(1));
        let few = table.loaded(few, false);
        assert!(
            few.capacity() <= 20,
            "a one-row result keeps {} rows of room",
            few.capacity()
        );
        assert!(table.begin_loading(None).capacity() < 1000);
    }

    #[test]
    fn a_huge_transaction_leaves_a_bounded_number_of_spares() {
        let mut map = IdentityMap::default();
        let n = MAX_SPARES as i64 * 3;
        for id in 0..n {
            map.put(Key::Int(id), row(id));
        }
        map.end_transaction();
        assert_eq!(spares(&mut map), MAX_SPARES);
        let table = map.table::<Row>();
        assert!(
            table.rows.run.capacity() <= 2 * MAX_KEPT_CAPACITY && table.rows.map.capacity() <= 2 * MAX_KEPT_CAPACITY,
            "{} {}",
            table.rows.run.capacity(),
            table.rows.map.capacity()
        );
        assert!(table.spare.capacity() <= 2 * MAX_SPARES, "{}", table.spare.capacity());
    }

    /// The sorted run and the map together behave exactly as one map, whatever the order
    /// of keys: checked against a `HashMap` over a long pseudo-random sequence mixing
    /// ascending runs (the fast path), repeats, keys below the run, text keys and clears.
    #[test]
    fn remembered_rows_behave_as_one_map() {
        use std::collections::HashMap;
        let mut rows: Rows<u32> = Rows::default();
        let mut reference: HashMap<Key, u32> = HashMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut ascending = 0i64;
        for step in 0..200_000u32 {
            let key = match next(10) {
                // An ascending scan, as a batch loop loads.
                0..=4 => {
                    ascending += 1 + next(3) as i64;
                    Key::Int(ascending)
                }
                5..=7 => Key::Int(next(400) as i64 - 50),
                8 => Key::Text(format!("k{}", next(40))),
                _ => Key::Int(ascending - next(5) as i64),
            };
            match next(20) {
                0..=9 => assert_eq!(
                    rows.insert(key.clone(), step),
                    reference.insert(key, step),
                    "insert, step {step}"
                ),
                10..=18 => assert_eq!(rows.remove(&key), reference.remove(&key), "remove, step {step}"),
                _ if next(50) == 0 => {
                    let mut drained = Vec::new();
                    rows.drain(|r| drained.push(r));
                    let mut expected: Vec<u32> = reference.drain().map(|(_, v)| v).collect();
                    drained.sort_unstable();
                    expected.sort_unstable();
                    assert_eq!(drained, expected, "drain, step {step}");
                    ascending = next(100) as i64;
                }
                _ => {}
            }
            assert_eq!(rows.len(), reference.len(), "len, step {step}");
        }
    }

    /// A long transaction that keeps loading and deleting rows in key order holds few rows
    /// at a time: the run's empty slots are reclaimed, so its length follows the rows held,
    /// not the rows ever remembered.
    #[test]
    fn the_run_stays_bounded_by_the_rows_it_holds() {
        let mut rows: Rows<u32> = Rows::default();
        for batch in 0..1000i64 {
            for k in batch * 100..(batch + 1) * 100 {
                assert_eq!(rows.insert(Key::Int(k), k as u32), None);
            }
            for k in batch * 100..(batch + 1) * 100 {
                assert_eq!(rows.remove(&Key::Int(k)), Some(k as u32));
            }
            assert_eq!(rows.len(), 0);
            assert!(
                rows.run.len() <= 2 * (100 + MIN_RUN_TO_COMPACT),
                "batch {batch}: {}",
                rows.run.len()
            );
        }
        // Rows still held survive compaction, found as before.
        for k in 0..10_000i64 {
            rows.insert(Key::Int(200_000 + k), k as u32);
            if k % 10 != 0 {
                rows.remove(&Key::Int(200_000 + k));
            }
        }
        assert_eq!(rows.len(), 1000);
        assert!(rows.run.len() <= 2 * 1000 + 1, "{}", rows.run.len());
        for k in (0..10_000i64).step_by(10) {
            assert_eq!(rows.remove(&Key::Int(200_000 + k)), Some(k as u32));
        }
    }

    #[test]
    fn a_row_remembered_twice_gives_the_first_copy_back() {
        let mut map = IdentityMap::default();
        map.put(Key::Int(1), row(1));
        map.put(Key::Int(1), row(2));
        assert_eq!(map.len(), 1);
        assert_eq!(spares(&mut map), 1);
        assert_eq!(map.take::<Row>(&Key::Int(1)), Some(row(2)));
    }
}
