//! The identity map: the last values read from or written to the database, per row.
//! These are the "old values" of updates and deletes. Cleared at commit and rollback, so a
//! session holds only what the current transaction touched.

use std::any::{Any, TypeId};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::Model;
use crate::value::Key;

#[derive(Default)]
pub(crate) struct IdentityMap {
    /// Shared, not copied, with the staged writes that wrote them (and their journal).
    rows: FxHashMap<(TypeId, Key), Arc<dyn Any + Send + Sync>>,
    /// Counts clears: a write that began before a clear (raw SQL ran meanwhile, maybe on
    /// its own row) does not know its values are still true, and must not remember them.
    epoch: u64,
}

impl IdentityMap {
    pub(crate) fn take<M: Model>(&mut self, key: &Key) -> Option<Arc<M>> {
        let k = (TypeId::of::<M>(), key.clone());
        self.rows.remove(&k).and_then(|b| b.downcast::<M>().ok())
    }

    pub(crate) fn put<M: Model>(&mut self, key: Key, row: Arc<M>) {
        self.rows.insert((TypeId::of::<M>(), key), row);
    }

    /// Remember `row` unless the map was cleared since `epoch`.
    pub(crate) fn put_since<M: Model>(&mut self, epoch: u64, key: Key, row: Arc<M>) {
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
