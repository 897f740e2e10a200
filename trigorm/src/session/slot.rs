//! What an `add` shares with its write: the row as written, handed back through the
//! [`Pending`](super::Pending) handle, and the key the database generated, which a retry
//! reuses.

use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// Where an added object is handed back after its insert (with its generated key): one
/// allocation per `add`, shared by the [`Pending`](super::Pending) handle and the write.
pub(crate) type Slot<M> = Arc<SlotCell<M>>;

/// What an `add` shares with its write. The flags are atomics, so that an insert whose
/// handle was dropped, and a handle dropped before its row was written, take no lock.
pub(crate) struct SlotCell<M> {
    /// The row as written, kept only while the `Pending` handle lives.
    row: Mutex<Option<M>>,
    /// [`WANTED`] and [`STORED`].
    state: AtomicU8,
    /// The key the database generated (`NO_KEY`: none yet), shared with the copies kept
    /// for a retry: a retried insert reuses it, so that writes staged against that key
    /// still find their row (and fail loudly if another writer took the key meanwhile).
    pub(crate) generated: AtomicI64,
}

/// [`SlotCell::state`]: the `Pending` handle lives.
const WANTED: u8 = 1;
/// [`SlotCell::state`]: a row was stored (it may have been taken back since).
const STORED: u8 = 2;

/// [`SlotCell::generated`] before the insert ran.
const NO_KEY: i64 = i64::MIN;

impl<M> SlotCell<M> {
    pub(crate) fn generated(&self) -> Option<i64> {
        Some(self.generated.load(Ordering::Acquire)).filter(|k| *k != NO_KEY)
    }

    /// The row as written, if any.
    pub(crate) fn get(&self) -> Option<M>
    where
        M: Clone,
    {
        self.row.lock().ok().and_then(|row| row.clone())
    }

    /// Keep `row()` as the row written, if its handle still lives.
    pub(crate) fn store(&self, row: impl FnOnce() -> M) {
        if self.state.load(Ordering::Acquire) & WANTED == 0 {
            return;
        }
        if let Ok(mut kept) = self.row.lock() {
            *kept = Some(row());
            self.state.fetch_or(STORED, Ordering::AcqRel);
        }
    }

    /// Drop the row kept (nothing to do, and no lock, when none was ever stored).
    pub(crate) fn clear(&self) {
        if self.state.load(Ordering::Acquire) & STORED != 0 {
            if let Ok(mut row) = self.row.lock() {
                *row = None;
            }
        }
    }

    /// The handle is gone: nobody will ask for the row any more. A row stored after this
    /// (a flush racing the drop on another thread) lives until the write is dropped.
    pub(crate) fn release(&self) {
        self.state.fetch_and(!WANTED, Ordering::AcqRel);
        self.clear();
    }
}

pub(crate) fn new_slot<M>() -> Slot<M> {
    Arc::new(SlotCell {
        row: Mutex::new(None),
        state: AtomicU8::new(WANTED),
        generated: AtomicI64::new(NO_KEY),
    })
}

/// The transaction an insert was flushed in rolled back: its row was not written.
pub(crate) fn forget_written<M>(slot: &Slot<M>) {
    slot.clear();
}
