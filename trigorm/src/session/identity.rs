//! The identity map: the last values read from or written to the database, per row.
//! These are the "old values" of updates and deletes. Cleared at commit and rollback, so a
//! session holds only what the current transaction touched.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use crate::model::Model;
use crate::value::Key;

#[derive(Default)]
pub(crate) struct IdentityMap {
    rows: HashMap<(TypeId, Key), Box<dyn Any + Send + Sync>>,
}

impl IdentityMap {
    pub(crate) fn take<M: Model>(&mut self, key: &Key) -> Option<M> {
        // Keys are cloned only on insert; lookups borrow.
        let k = (TypeId::of::<M>(), key.clone());
        self.rows.remove(&k).and_then(|b| b.downcast::<M>().ok()).map(|b| *b)
    }

    pub(crate) fn put<M: Model>(&mut self, key: Key, row: M) {
        self.rows.insert((TypeId::of::<M>(), key), Box::new(row));
    }

    pub(crate) fn clear(&mut self) {
        self.rows.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
}
