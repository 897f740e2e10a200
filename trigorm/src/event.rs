//! The event vocabulary: what listeners are told.
//!
//! Listeners are registered on the [`crate::EngineBuilder`]; this module says what each
//! event means. Every event is documented with *Fires when · Sees · May · Cannot*.

use crate::model::{ColumnSet, Model};
use crate::query::Filter;

/// A row event, registered per model type with [`crate::EngineBuilder::listen`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowEvent {
    /// **Fires when** a staged insert is about to be written, at flush.
    /// **Sees** the new row ([`Change::new`]; its generated key is still 0).
    /// **May** modify the row with [`Change::new_mut`] (what it sets is written), stage
    /// writes and run SQL through the context, or veto the insert by returning an error.
    /// **Cannot** commit or roll back.
    BeforeInsert,
    /// **Fires when** the INSERT has run, in the same transaction.
    /// **Sees** the new row as written, with its generated key.
    /// **May** stage writes (written in the next round of the same flush) and run SQL.
    /// **Cannot** change the row (it is written), commit or roll back.
    AfterInsert,
    /// **Fires when** a staged update that changes at least one column is about to be
    /// written; an update that changes nothing fires nothing.
    /// **Sees** the old row (as last read from or written to the database), the new row
    /// and the changed columns.
    /// **May** modify the new row (what it sets is written), stage writes, run SQL, veto.
    /// **Cannot** commit or roll back.
    BeforeUpdate,
    /// **Fires when** the UPDATE has run.
    /// **Sees** old row, new row, changed columns.
    /// **May** stage writes and run SQL. **Cannot** change the row, commit or roll back.
    AfterUpdate,
    /// **Fires when** a staged delete is about to run.
    /// **Sees** the old row (as in the database).
    /// **May** stage writes, run SQL, veto. **Cannot** commit or roll back.
    BeforeDelete,
    /// **Fires when** the DELETE has run.
    /// **Sees** the old row.
    /// **May** stage writes and run SQL. **Cannot** commit or roll back.
    AfterDelete,
}

pub use RowEvent::{AfterDelete, AfterInsert, AfterUpdate, BeforeDelete, BeforeInsert, BeforeUpdate};

impl RowEvent {
    /// The write this event surrounds.
    pub fn operation(self) -> Operation {
        match self {
            BeforeInsert | AfterInsert => Operation::Insert,
            BeforeUpdate | AfterUpdate => Operation::Update,
            BeforeDelete | AfterDelete => Operation::Delete,
        }
    }

    /// Whether this is a `Before*` event.
    pub fn is_before(self) -> bool {
        matches!(self, BeforeInsert | BeforeUpdate | BeforeDelete)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The kind of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// INSERT
    Insert,
    /// UPDATE
    Update,
    /// DELETE
    Delete,
}

impl Operation {
    /// Lower-case name: `insert`, `update`, `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

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
    pub fn is_changed(&self, column: &str) -> bool {
        M::table()
            .columns
            .iter()
            .position(|c| c.name == column)
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
