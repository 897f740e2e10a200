//! The identity map: the last values read from or written to the database, per row.
//! These are the "old values" of updates and deletes. Cleared at commit and rollback, so a
//! session holds only what the current transaction touched.

use std::any::{Any, TypeId};

use rustc_hash::FxHashMap;

use crate::model::Model;
use crate::value::Key;

#[derive(Default)]
pub(crate) struct IdentityMap {
    rows: FxHashMap<(TypeId, Key), Box<dyn Any + Send + Sync>>,
    /// Counts clears: a write that began before a clear (raw SQL ran meanwhile, maybe on
    /// its own row) does not know its values are still true, and must not remember them.
    epoch: u64,
}

impl IdentityMap {
    pub(crate) fn take<M: Model>(&mut self, key: &Key) -> Option<M> {
        let k = (TypeId::of::<M>(), key.clone());
        self.rows.remove(&k).and_then(|b| b.downcast::<M>().ok()).map(|b| *b)
    }

    pub(crate) fn put<M: Model>(&mut self, key: Key, row: M) {
        self.rows.insert((TypeId::of::<M>(), key), Box::new(row));
    }

    /// Remember `row` unless the map was cleared since `epoch`.
    pub(crate) fn put_since<M: Model>(&mut self, epoch: u64, key: Key, row: M) {
        if self.epoch == epoch {
            self.put(key, row);
        }
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn clear(&mut self) {
        self.rows.clear();
        self.epoch += 1;
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
}
