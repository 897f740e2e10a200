//! The event vocabulary: what listeners are told.
//!
//! Listeners are registered on the [`crate::EngineBuilder`]; this module says what each
//! event means. Every event is documented with *Fires when · Sees · May · Cannot*.

pub(crate) mod kind;

pub use kind::{Operation, RowEvent};
pub use RowEvent::{AfterDelete, AfterInsert, AfterUpdate, BeforeDelete, BeforeInsert, BeforeUpdate};

use crate::model::{ColumnSet, Model};
use crate::query::Filter;

/// A session event around a whole flush, registered with [`crate::EngineBuilder::on_flush`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlushEvent {
    /// **Fires when** a flush with staged writes starts (also the flush inside `commit`, and
    /// the automatic flush before a query); a flush with nothing staged fires nothing.
    /// **May** stage writes through the context: they join this flush. May run SQL.
    /// **Cannot** commit or roll back.
    BeforeFlush,
    /// **Fires when** every round of the flush has been written, before COMMIT.
    /// **May** run SQL. **Cannot** stage writes (the flush is over: a staging call makes
    /// the flush fail), commit or roll back.
    AfterFlush,
}

pub use FlushEvent::{AfterFlush, BeforeFlush};

/// A transaction event, registered with [`crate::EngineBuilder::on_transaction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxEvent {
    /// **Fires when** COMMIT has succeeded: the data is durable. Runs before the queued
    /// `after_commit` callbacks. **Cannot** touch the database.
    AfterCommit,
    /// **Fires when** the transaction was rolled back (explicitly, by an error, or by
    /// dropping the session). Queued `after_commit` callbacks were dropped.
    /// **Cannot** touch the database.
    AfterRollback,
}

pub use TxEvent::{AfterCommit, AfterRollback};

/// What a row listener sees: the operation, the old and new rows, the changed columns.
///
/// ```
/// use trigorm::{Engine, Model, event::AfterUpdate};
/// #[derive(Model, Clone, Debug)]
/// struct Item { id: i64, name: String }
/// let engine = Engine::builder("sqlite::memory:")
///     .listen::<Item>(AfterUpdate, |_ctx, change| {
///         let old = change.old().expect("an update has an old row");
///         let new = change.new().expect("and a new row");
///         assert!(change.is_changed("name"));
///         println!("{} -> {}", old.name, new.name);
///         Ok(())
///     })
///     .build()?;
/// # Ok::<(), trigorm::Error>(())
/// ```
pub struct Change<'a, M> {
    pub(crate) op: Operation,
    pub(crate) event: RowEvent,
    pub(crate) old: Option<&'a M>,
    pub(crate) new: Option<NewRow<'a, M>>,
    pub(crate) changed: ColumnSet,
}

/// The new row of a [`Change`]: modifiable in `Before*` events, read-only after the write.
pub(crate) enum NewRow<'a, M> {
    Mut(&'a mut M),
    Written(&'a M),
}

impl<'a, M: Model> Change<'a, M> {
    /// The kind of write.
    pub fn op(&self) -> Operation {
        self.op
    }

    /// The event being handled.
    pub fn event(&self) -> RowEvent {
        self.event
    }

    /// The row before the write (update, delete), as last read from or written to the
    /// database.
    pub fn old(&self) -> Option<&M> {
        self.old
    }

    /// The row being written (insert, update). Named after SQL's `NEW`, as `old` is after `OLD`.
    #[allow(clippy::new_ret_no_self, clippy::wrong_self_convention)]
    pub fn new(&self) -> Option<&M> {
        match &self.new {
            Some(NewRow::Mut(m)) => Some(m),
            Some(NewRow::Written(m)) => Some(m),
            None => None,
        }
    }

    /// The row about to be written, to modify it: only in `BeforeInsert` and
    /// `BeforeUpdate` (`None` elsewhere, where the row is already written).
    pub fn new_mut(&mut self) -> Option<&mut M> {
        match &mut self.new {
            Some(NewRow::Mut(m)) if self.event.is_before() => Some(m),
            _ => None,
        }
    }

    /// The changed columns: every column for an insert or a delete, the columns whose value
    /// differs from the old row for an update.
    pub fn changed(&self) -> impl Iterator<Item = &'static str> + '_ {
        let cols = M::table().columns;
        self.changed.iter().map(move |i| cols[i].name)
    }

    /// The changed columns, by index.
    pub fn changed_set(&self) -> ColumnSet {
        self.changed
    }

    /// Whether a column (by database name) changed.
    pub fn is_changed(&self, column: impl crate::query::ColumnOf<M>) -> bool {
        let name = column.column_name();
        M::table()
            .columns
            .iter()
            .position(|c| c.name == name)
            .is_some_and(|i| self.changed.contains(i))
    }
}

/// What a bulk listener sees: one statement of [`crate::Session::update_where`] or
/// [`crate::Session::delete_where`], after the row events of every row it changed.
#[derive(Debug)]
pub struct BulkChange<'a> {
    /// The model's name.
    pub model: &'static str,
    /// Update or delete.
    pub op: Operation,
    /// The statement's filter.
    pub filter: &'a Filter,
    /// How many rows it changed.
    pub rows: u64,
}
