//! What a row event is and which write it surrounds: named at the bottom of the layers, so
//! that errors can say which event a listener failed in.

/// A row event, registered per model type with [`crate::EngineBuilder::listen`]. Row events
/// fire for every row a session writes: staged writes at flush, writes listeners stage,
/// and each row that a bulk statement ([`crate::Session::update_where`],
/// [`crate::Session::delete_where`]) changes, with its true old values.
///
/// **Order.** Per row, `Before*`, then the statement, then `After*`, rows in staging
/// order. Where the backend writes many rows in one statement (PostgreSQL, see
/// [`crate::sql::Capabilities::batches`]), a run of one model's writes of one operation
/// fires every row's `Before*` (in staging order), then the statement, then every row's
/// `After*` (in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowEvent {
    /// **Fires when** a staged insert is about to be written, at flush.
    /// **Sees** the new row ([`Change::new`](super::Change::new); a key the database generates is still 0, or,
    /// when a failed transaction is retried, the key generated the first time).
    /// **May** modify the row with [`Change::new_mut`](super::Change::new_mut) (what it sets is written), stage
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
    /// **Sees** the old row (the row in the database at the moment of the write), the new
    /// row and the changed columns.
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

use RowEvent::{AfterDelete, AfterInsert, AfterUpdate, BeforeDelete, BeforeInsert, BeforeUpdate};

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
