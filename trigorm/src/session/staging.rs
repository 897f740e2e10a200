//! Where staged writes wait for their flush: one typed queue per model, plus the staging
//! order across models. A write is stored by value in its model's queue (no box per row),
//! and the queues keep their capacity from one batch to the next.
//!
//! The session keeps two kinds of staging: the user's writes, kept until the transaction
//! ends so that they can be retried after a failure, and the writes listeners and bulk
//! statements stage, which live for one flush round.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::batch;
use super::identity::{IdentityMap, MAX_KEPT_CAPACITY};
use super::ops::{self, FlushCx, Slot};
use crate::error::{Error, Result};
use crate::event::Operation;
use crate::model::Model;
use crate::schema::TableDef;
use crate::value::Value;

/// One staged write of a row of `M`.
pub(crate) enum Write<M> {
    Insert {
        obj: M,
        /// `None` for rows listeners stage: nobody waits for them.
        slot: Option<Slot<M>>,
    },
    Update {
        obj: M,
        /// For a bulk statement: the assignments, applied to the row as it is when this
        /// write runs (so that changes made meanwhile by listeners to other columns are
        /// kept). A row that is gone by then is skipped, as the SQL statement would skip it.
        bulk: Option<Arc<[(usize, Value)]>>,
    },
    Delete {
        obj: M,
        /// For a bulk statement: a row that is gone by then is skipped.
        bulk: bool,
    },
}

impl<M: Model> Write<M> {
    fn into_row(self) -> M {
        match self {
            Write::Insert { obj, .. } | Write::Update { obj, .. } | Write::Delete { obj, .. } => obj,
        }
    }

    pub(crate) fn row(&self) -> &M {
        match self {
            Write::Insert { obj, .. } | Write::Update { obj, .. } | Write::Delete { obj, .. } => obj,
        }
    }

    pub(crate) fn operation(&self) -> Operation {
        match self {
            Write::Insert { .. } => Operation::Insert,
            Write::Update { .. } => Operation::Update,
            Write::Delete { .. } => Operation::Delete,
        }
    }
}

/// A staged write's place: which staging (`kept`: the user's), which queue, which row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) kept: bool,
    pub(crate) queue: u32,
    pub(crate) index: usize,
}

/// The writes of one model, with the model type erased.
pub(crate) trait AnyQueue: Send {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn table(&self) -> &'static TableDef;
    fn operation(&self, index: usize) -> Operation;
    /// The operation of every write in the queue, when they all have the same one.
    fn single_operation(&self) -> Option<Operation>;
    /// The primary key as staged.
    fn key_value(&self, index: usize) -> Value;
    /// One column's value as staged.
    fn column_value(&self, index: usize, column: usize) -> Value;
    /// Write the rows of `entries` (all of this queue, in order) with their events; how
    /// many ran a statement (an update that changes nothing runs none). A kept write is
    /// left as staged for a retry (only a generated key is recorded in it).
    fn run(&mut self, entries: &[Entry], cx: &mut FlushCx<'_, '_>) -> Result<u64>;
    /// The transaction these writes were flushed in rolled back: forget what they wrote.
    fn rolled_back(&self);
    fn clear(&mut self);
    /// Drop every write, giving its row to `identity` to be filled again by a later load.
    fn recycle_into(&mut self, identity: &mut IdentityMap);
}

struct Queue<M> {
    writes: Vec<Write<M>>,
    /// The operations of `writes`, one bit each ([`op_bit`]).
    ops: u8,
}

/// An operation's bit in [`Queue::ops`].
fn op_bit(o: Operation) -> u8 {
    match o {
        Operation::Insert => 1,
        Operation::Update => 2,
        Operation::Delete => 4,
    }
}

impl<M: Model> Queue<M> {
    fn get(&self, index: usize) -> Option<&Write<M>> {
        self.writes.get(index)
    }
}

impl<M: Model> AnyQueue for Queue<M> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn table(&self) -> &'static TableDef {
        M::table()
    }
    fn operation(&self, index: usize) -> Operation {
        self.get(index).map_or(Operation::Insert, Write::operation)
    }
    fn single_operation(&self) -> Option<Operation> {
        [Operation::Insert, Operation::Update, Operation::Delete]
            .into_iter()
            .find(|&o| self.ops == op_bit(o))
    }
    fn key_value(&self, index: usize) -> Value {
        self.get(index).map_or(Value::Null, |w| w.row().primary_key())
    }
    fn column_value(&self, index: usize, column: usize) -> Value {
        self.get(index).map_or(Value::Null, |w| w.row().value(column))
    }
    fn run(&mut self, entries: &[Entry], cx: &mut FlushCx<'_, '_>) -> Result<u64> {
        // The listeners are looked up once for the whole run of rows.
        let registry = cx.registry;
        let listeners = registry.model::<M>();
        if cx.conn.batches(M::table(), entries.len())? {
            return batch::run(&mut self.writes, entries, listeners, cx);
        }
        let unwatched = ops::inserts_unwatched(listeners);
        let mut written = 0;
        for e in entries {
            let Some(w) = self.writes.get_mut(e.index) else {
                return Err(Error::Internal(format!(
                    "{}: a staged write went missing",
                    M::table().model
                )));
            };
            written += match w {
                Write::Insert { obj, slot: None } if unwatched => {
                    ops::insert_unwatched(obj, cx)?;
                    1
                }
                _ => u64::from(ops::run(w, e.kept, listeners, cx)?),
            };
        }
        Ok(written)
    }
    fn rolled_back(&self) {
        for w in &self.writes {
            if let Write::Insert { slot: Some(slot), .. } = w {
                ops::forget_written(slot);
            }
        }
    }
    fn clear(&mut self) {
        self.writes.clear();
        self.writes.shrink_to(MAX_KEPT_CAPACITY);
        self.ops = 0;
    }
    fn recycle_into(&mut self, identity: &mut IdentityMap) {
        let table = identity.table::<M>();
        for w in self.writes.drain(..) {
            table.recycle(w.into_row());
        }
        self.writes.shrink_to(MAX_KEPT_CAPACITY);
        self.ops = 0;
    }
}

/// Staged writes: the queues and the order they were staged in.
pub(crate) struct Staging {
    kept: bool,
    queues: Vec<(TypeId, Box<dyn AnyQueue>)>,
    /// The queue pushed to last.
    last: usize,
    order: Vec<Entry>,
}

impl Staging {
    /// The user's writes (`kept` until the transaction ends) or a round's derived writes.
    pub(crate) fn new(kept: bool) -> Staging {
        Staging {
            kept,
            queues: Vec::new(),
            last: 0,
            order: Vec::new(),
        }
    }

    pub(crate) fn push<M: Model>(&mut self, write: Write<M>) {
        let id = TypeId::of::<M>();
        // Writes of one model usually come in a row: try the queue used last first.
        let q = match self.queues.get(self.last).filter(|(t, _)| *t == id) {
            Some(_) => self.last,
            None => match self.queues.iter().position(|(t, _)| *t == id) {
                Some(q) => q,
                None => {
                    let queue = Queue::<M> {
                        writes: Vec::new(),
                        ops: 0,
                    };
                    self.queues.push((id, Box::new(queue)));
                    self.queues.len() - 1
                }
            },
        };
        self.last = q;
        let Some(queue) = self.queues[q].1.as_any_mut().downcast_mut::<Queue<M>>() else {
            // Unreachable: the list is keyed by the queue's model TypeId.
            return;
        };
        queue.ops |= op_bit(write.operation());
        queue.writes.push(write);
        self.order.push(Entry {
            kept: self.kept,
            queue: q as u32,
            index: queue.writes.len() - 1,
        });
    }

    /// Every write, in staging order.
    pub(crate) fn order(&self) -> &[Entry] {
        &self.order
    }

    pub(crate) fn queue(&self, e: Entry) -> Option<&dyn AnyQueue> {
        self.queues.get(e.queue as usize).map(|(_, q)| &**q)
    }

    pub(crate) fn queue_mut(&mut self, e: Entry) -> Option<&mut (dyn AnyQueue + 'static)> {
        self.queues.get_mut(e.queue as usize).map(|(_, q)| &mut **q)
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn rolled_back(&self) {
        for (_, q) in &self.queues {
            q.rolled_back();
        }
    }

    /// Drop every write, giving the rows to `identity` to be filled again by later loads.
    pub(crate) fn recycle_into(&mut self, identity: &mut IdentityMap) {
        for (_, q) in &mut self.queues {
            q.recycle_into(identity);
        }
        self.order.clear();
        self.order.shrink_to(MAX_KEPT_CAPACITY);
    }

    /// Drop every write, keeping the buffers for the next batch.
    pub(crate) fn clear(&mut self) {
        for (_, q) in &mut self.queues {
            q.clear();
        }
        self.order.clear();
        self.order.shrink_to(MAX_KEPT_CAPACITY);
    }
}

/// The stagings a round's entries point into.
pub(crate) struct Stagings<'a> {
    pub(crate) kept: &'a Staging,
    pub(crate) derived: &'a Staging,
}

impl Stagings<'_> {
    pub(crate) fn queue(&self, e: Entry) -> Option<&dyn AnyQueue> {
        if e.kept {
            self.kept.queue(e)
        } else {
            self.derived.queue(e)
        }
    }

    pub(crate) fn table(&self, e: Entry) -> Option<&'static TableDef> {
        self.queue(e).map(|q| q.table())
    }

    pub(crate) fn operation(&self, e: Entry) -> Operation {
        self.queue(e).map_or(Operation::Insert, |q| q.operation(e.index))
    }

    /// The operation of every write in `e`'s queue, when they all have the same one.
    pub(crate) fn single_operation(&self, e: Entry) -> Option<Operation> {
        self.queue(e).and_then(|q| q.single_operation())
    }
}
