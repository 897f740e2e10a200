//! The identity map: the last values read from or written to the database, per row.
//! These are the "old values" of updates and deletes. Cleared at commit and rollback, so a
//! session holds only what the current transaction touched.
//!
//! One typed table per model: a remembered row is stored by value, with no box of its own,
//! and the tables keep their capacity from one transaction to the next.

use std::any::{Any, TypeId};

use rustc_hash::FxHashMap;

use crate::model::Model;
use crate::value::Key;

/// The rows of one model, type-erased so that one map holds every model's table.
trait AnyTable: Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn clear(&mut self);
    fn len(&self) -> usize;
}

struct Table<M>(FxHashMap<Key, M>);

impl<M: Model> AnyTable for Table<M> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn clear(&mut self) {
        self.0.clear();
    }
    fn len(&self) -> usize {
        self.0.len()
    }
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
    /// The remembered rows of `M` (what a load fills, fetched once for all its rows).
    pub(crate) fn table<M: Model>(&mut self) -> &mut FxHashMap<Key, M> {
        let id = TypeId::of::<M>();
        let i = match self.tables.iter().position(|(t, _)| *t == id) {
            Some(i) => i,
            None => {
                self.tables.push((id, Box::new(Table::<M>(FxHashMap::default()))));
                self.tables.len() - 1
            }
        };
        match self.tables[i].1.as_any_mut().downcast_mut::<Table<M>>() {
            Some(t) => &mut t.0,
            // Unreachable: the list is keyed by the table's model TypeId.
            None => unreachable!("identity table of the wrong model"),
        }
    }

    pub(crate) fn take<M: Model>(&mut self, key: &Key) -> Option<M> {
        self.table::<M>().remove(key)
    }

    pub(crate) fn put<M: Model>(&mut self, key: Key, row: M) {
        self.table::<M>().insert(key, row);
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn clear(&mut self) {
        for (_, t) in &mut self.tables {
            t.clear();
        }
        self.epoch += 1;
    }

    pub(crate) fn len(&self) -> usize {
        self.tables.iter().map(|(_, t)| t.len()).sum()
    }
}
