//! Staged writes and how one is flushed: `Before*` → SQL → `After*`, per row.

use std::sync::{Arc, Mutex};

use super::conn::{query_error, stmt_error, Conn, Shape};
use super::identity::IdentityMap;
use super::listeners::{listener_error, AfterCommitFn, ListenerCtx, ModelListeners, Registry};
use super::params::Params;
use crate::error::{Error, Result};
use crate::event::{Change, NewRow, Operation, RowEvent};
use crate::model::{ColumnSet, Model};
use crate::schema::TableDef;
use crate::value::{Key, Value, ValueRef};

/// What a staged write needs while it runs.
pub(crate) struct FlushCx<'s, 'c> {
    pub(crate) conn: &'s mut Conn<'c>,
    pub(crate) registry: &'s Registry,
    pub(crate) identity: &'s mut IdentityMap,
    pub(crate) next: &'s mut Vec<Op>,
    pub(crate) after_commit: &'s mut Vec<AfterCommitFn>,
}

/// A staged write. Shared, not copied, with the journal that keeps the user's writes of a
/// transaction for a retry: a write runs on its own copy only where it must change it.
pub(crate) type Op = Arc<dyn StagedOp>;

/// A write staged in a session, with its model type erased.
pub(crate) trait StagedOp: Send + Sync {
    fn operation(&self) -> Operation;
    fn table(&self) -> &'static TableDef;
    /// Write the row with its events; whether a statement was run (an update that
    /// changes nothing runs none).
    fn run(self: Arc<Self>, cx: &mut FlushCx<'_, '_>) -> Result<bool>;
    /// The primary key as staged.
    fn key_value(&self) -> Value;
    /// One column's value as staged.
    fn column_value(&self, column: usize) -> Value;
    /// The transaction this write was flushed in rolled back: forget what it wrote.
    fn rolled_back(&self) {}
}

/// Where an added object is handed back after its insert (with its generated key): one
/// allocation per `add`, shared by the [`Pending`](super::Pending) handle and the write.
pub(crate) type Slot<M> = Arc<Mutex<SlotState<M>>>;

pub(crate) struct SlotState<M> {
    /// The row as written, kept only while the `Pending` handle lives (`wanted`).
    pub(crate) row: Option<M>,
    pub(crate) wanted: bool,
    /// The key the database generated, shared with the copies kept for a retry: a retried
    /// insert reuses it, so that writes staged against that key still find their row (and
    /// fail loudly if another writer took the key meanwhile).
    pub(crate) generated: Option<i64>,
}

pub(crate) fn new_slot<M>() -> Slot<M> {
    Arc::new(Mutex::new(SlotState {
        row: None,
        wanted: true,
        generated: None,
    }))
}

#[derive(Clone)]
struct InsertOp<M> {
    obj: M,
    /// `None` for rows listeners stage: they are never kept for a retry.
    slot: Option<Slot<M>>,
}
/// Updates and deletes hold their row behind an `Arc`, so that the copy a journaled write
/// runs on, and the identity map once it is written, share it: nothing is copied unless a
/// `Before*` listener modifies the row.
#[derive(Clone)]
struct UpdateOp<M> {
    obj: Arc<M>,
    /// For a bulk statement: the assignments, applied to the row as it is when this write
    /// runs (so that changes made meanwhile by listeners to other columns are kept). A row
    /// that is gone by then is skipped, as the SQL statement would skip it.
    bulk: Option<Arc<[(usize, Value)]>>,
}
#[derive(Clone)]
struct DeleteOp<M> {
    obj: Arc<M>,
    /// For a bulk statement: a row that is gone by then is skipped.
    bulk: bool,
}

pub(crate) fn insert<M: Model>(obj: M, slot: Option<&Slot<M>>) -> Op {
    Arc::new(InsertOp {
        obj,
        slot: slot.cloned(),
    })
}
pub(crate) fn update<M: Model>(obj: M) -> Op {
    Arc::new(UpdateOp {
        obj: Arc::new(obj),
        bulk: None,
    })
}
pub(crate) fn delete<M: Model>(obj: M) -> Op {
    Arc::new(DeleteOp {
        obj: Arc::new(obj),
        bulk: false,
    })
}
/// One row of `update_where`: `row` as read, `set` applied when the write runs.
pub(crate) fn bulk_update<M: Model>(row: Arc<M>, set: Arc<[(usize, Value)]>) -> Op {
    Arc::new(UpdateOp {
        obj: row,
        bulk: Some(set),
    })
}
/// One row of `delete_where`.
pub(crate) fn bulk_delete<M: Model>(row: Arc<M>) -> Op {
    Arc::new(DeleteOp { obj: row, bulk: true })
}

/// Whether the row's primary key is the integer `0` (for the database to generate),
/// read borrowed.
fn key_unset<M: Model>(obj: &M) -> bool {
    matches!(
        obj.value_ref(M::table().primary_key),
        ValueRef::Int(0) | ValueRef::Owned(Value::Int(0))
    )
}

/// Refuse values no backend stores faithfully (a NaN float would become NULL).
fn check_values<M: Model>(values: &[ValueRef<'_>], columns: impl Iterator<Item = usize>) -> Result<()> {
    for (v, c) in values.iter().zip(columns) {
        if v.is_nan() {
            let t = M::table();
            return Err(Error::InvalidValue {
                model: t.model,
                column: t.columns[c].name,
                reason: "NaN cannot be stored (SQLite would store NULL)",
            });
        }
    }
    Ok(())
}

/// The primary key as shown in errors.
pub(crate) fn pk_text<M: Model>(obj: &M) -> String {
    let t = M::table();
    let v = obj.value(t.primary_key);
    if t.auto_increment() && v == Value::Int(0) {
        "<new>".to_string()
    } else {
        v.display_short()
    }
}

fn fire<M: Model>(
    cx: &mut FlushCx<'_, '_>,
    listeners: Option<&ModelListeners<M>>,
    event: RowEvent,
    change: &mut Change<'_, M>,
) -> Result<()> {
    let Some(ls) = listeners else { return Ok(()) };
    for l in &ls.row[event.index()] {
        let mut ctx = ListenerCtx {
            conn: &mut *cx.conn,
            identity: &mut *cx.identity,
            staged: &mut *cx.next,
            after_commit: &mut *cx.after_commit,
            staging_refused: None,
        };
        let r = (l.f)(&mut ctx, change);
        if event == RowEvent::BeforeUpdate {
            // The next listener sees what this one changed.
            if let (Some(new), Some(old)) = (change.new(), change.old) {
                change.changed = new.diff(old);
            }
        }
        if let Err(e) = r {
            let pk = match (change.new(), change.old) {
                (Some(n), _) => pk_text::<M>(n),
                (None, Some(o)) => pk_text::<M>(o),
                (None, None) => String::new(),
            };
            return Err(listener_error(M::table().model, pk, &l.name, event, e));
        }
    }
    Ok(())
}

/// Read a row by key without remembering it.
fn read_by_key<M: Model>(conn: &mut Conn<'_>, key: Value) -> Result<Option<M>> {
    let t = M::table();
    let sql = conn.shape_sql(t, Shape::SelectByKey)?;
    let mut found = None;
    conn.query_refs(&sql, &[key.as_value_ref()], &mut |row| {
        found = Some(M::from_row(row)?);
        Ok(())
    })
    .map_err(|e| query_error(e, Some(t.model), &sql))?;
    Ok(found)
}

/// Read a row by key and remember it as the row's old values.
pub(crate) fn load_by_key<M: Model>(conn: &mut Conn<'_>, identity: &mut IdentityMap, key: Value) -> Result<Option<M>> {
    let found = read_by_key::<M>(conn, key)?;
    if let Some(m) = &found {
        identity.put(m.key(), Arc::new(m.clone()));
    }
    Ok(found)
}

/// The old row: as last read or written in this transaction, else read now; `None` when
/// the row is not in the database.
fn old_row<M: Model>(cx: &mut FlushCx<'_, '_>, obj: &M, key: &Key) -> Result<Option<Arc<M>>> {
    if let Some(old) = cx.identity.take::<M>(key) {
        return Ok(Some(old));
    }
    Ok(read_by_key::<M>(cx.conn, obj.primary_key())?.map(Arc::new))
}

fn not_found<M: Model>(obj: &M) -> Error {
    Error::NotFound {
        model: M::table().model,
        pk: pk_text(obj),
    }
}

impl<M: Model> StagedOp for InsertOp<M> {
    fn operation(&self) -> Operation {
        Operation::Insert
    }
    fn table(&self) -> &'static TableDef {
        M::table()
    }
    fn key_value(&self) -> Value {
        self.obj.primary_key()
    }
    fn column_value(&self, column: usize) -> Value {
        self.obj.value(column)
    }
    fn rolled_back(&self) {
        if let Some(Ok(mut s)) = self.slot.as_ref().map(|s| s.lock()) {
            s.row = None;
        }
    }
    fn run(self: Arc<Self>, cx: &mut FlushCx<'_, '_>) -> Result<bool> {
        let InsertOp { mut obj, slot } = Arc::unwrap_or_clone(self);
        let t = M::table();
        if t.auto_increment() && key_unset(&obj) {
            if let Some(key) = slot.as_ref().and_then(|s| s.lock().ok().and_then(|s| s.generated)) {
                obj.set_value(t.primary_key, Value::Int(key))?;
            }
        }
        let listeners = cx.registry.model::<M>();
        let all = ColumnSet::all(t.columns.len());
        fire(
            cx,
            listeners,
            RowEvent::BeforeInsert,
            &mut Change {
                op: Operation::Insert,
                event: RowEvent::BeforeInsert,
                old: None,
                new: Some(NewRow::Mut(&mut obj)),
                changed: all,
            },
        )?;
        let generate = t.auto_increment() && key_unset(&obj);
        let sql = cx.conn.shape_sql(t, Shape::Insert { with_key: !generate })?;
        let columns = (0..t.columns.len()).filter(|&i| !(generate && i == t.primary_key));
        let mut params = Params::new();
        params.extend(columns.clone().map(|i| obj.value_ref(i)));
        check_values::<M>(params.as_slice(), columns)?;
        let id = cx
            .conn
            .insert(&sql, params.as_slice())
            .map_err(|e| stmt_error("insert", Some(t.model), Some(pk_text::<M>(&obj)), &sql, e))?;
        drop(params);
        if generate {
            if let Some(id) = id {
                obj.set_value(t.primary_key, Value::Int(id))?;
                if let Some(Ok(mut s)) = slot.as_ref().map(|s| s.lock()) {
                    s.generated = Some(id);
                }
            }
        }
        fire(
            cx,
            listeners,
            RowEvent::AfterInsert,
            &mut Change {
                op: Operation::Insert,
                event: RowEvent::AfterInsert,
                old: None,
                new: Some(NewRow::Written(&obj)),
                changed: all,
            },
        )?;
        if let Some(Ok(mut s)) = slot.as_ref().map(|s| s.lock()) {
            if s.wanted {
                s.row = Some(obj);
            }
        }
        // The inserted row is not remembered: few are updated in the transaction that
        // inserts them, and one that is reads its old values at flush.
        Ok(true)
    }
}

impl<M: Model> StagedOp for UpdateOp<M> {
    fn operation(&self) -> Operation {
        Operation::Update
    }
    fn table(&self) -> &'static TableDef {
        M::table()
    }
    fn key_value(&self) -> Value {
        self.obj.primary_key()
    }
    fn column_value(&self, column: usize) -> Value {
        self.obj.value(column)
    }
    fn run(self: Arc<Self>, cx: &mut FlushCx<'_, '_>) -> Result<bool> {
        let UpdateOp { mut obj, bulk } = Arc::unwrap_or_clone(self);
        let t = M::table();
        let key = obj.key();
        let old = match old_row::<M>(cx, &obj, &key)? {
            Some(old) => old,
            None if bulk.is_some() => return Ok(false),
            None => return Err(not_found::<M>(&obj)),
        };
        if let Some(set) = &bulk {
            let mut row = M::clone(&old);
            for (i, v) in set.iter() {
                row.set_value(*i, v.clone())?;
            }
            obj = Arc::new(row);
        }
        let epoch = cx.identity.epoch();
        let mut changed = obj.diff(&old);
        if changed.is_empty() {
            cx.identity.put::<M>(key, old);
            return Ok(false);
        }
        let listeners = cx.registry.model::<M>();
        if listeners.is_some_and(|l| !l.row[RowEvent::BeforeUpdate.index()].is_empty()) {
            fire(
                cx,
                listeners,
                RowEvent::BeforeUpdate,
                &mut Change {
                    op: Operation::Update,
                    event: RowEvent::BeforeUpdate,
                    old: Some(&old),
                    // Copied here if the journal shares the row: it keeps it as staged.
                    new: Some(NewRow::Mut(Arc::make_mut(&mut obj))),
                    changed,
                },
            )?;
            changed = obj.diff(&old);
            if changed.is_empty() {
                cx.identity.put::<M>(key, old);
                return Ok(false);
            }
        }
        if changed.contains(t.primary_key) {
            return Err(Error::Usage(format!(
                "{} {}: an update cannot change the primary key",
                t.model,
                pk_text::<M>(&old)
            )));
        }
        let sql = cx.conn.shape_sql(t, Shape::Update(changed))?;
        let mut params = Params::new();
        params.extend(changed.iter().map(|i| obj.value_ref(i)));
        check_values::<M>(params.as_slice(), changed.iter())?;
        params.push(obj.value_ref(t.primary_key));
        let n = cx
            .conn
            .execute(&sql, params.as_slice())
            .map_err(|e| stmt_error("update", Some(t.model), Some(pk_text::<M>(&obj)), &sql, e))?;
        drop(params);
        if n == 0 {
            return if bulk.is_some() {
                Ok(false)
            } else {
                Err(not_found::<M>(&obj))
            };
        }
        fire(
            cx,
            listeners,
            RowEvent::AfterUpdate,
            &mut Change {
                op: Operation::Update,
                event: RowEvent::AfterUpdate,
                old: Some(&old),
                new: Some(NewRow::Written(&obj)),
                changed,
            },
        )?;
        cx.identity.put_since::<M>(epoch, key, obj);
        Ok(true)
    }
}

impl<M: Model> StagedOp for DeleteOp<M> {
    fn operation(&self) -> Operation {
        Operation::Delete
    }
    fn table(&self) -> &'static TableDef {
        M::table()
    }
    fn key_value(&self) -> Value {
        self.obj.primary_key()
    }
    fn column_value(&self, column: usize) -> Value {
        self.obj.value(column)
    }
    fn run(self: Arc<Self>, cx: &mut FlushCx<'_, '_>) -> Result<bool> {
        let DeleteOp { obj, bulk } = Arc::unwrap_or_clone(self);
        let t = M::table();
        let key = obj.key();
        let old = match old_row::<M>(cx, &obj, &key)? {
            Some(old) => old,
            None if bulk => return Ok(false),
            None => return Err(not_found::<M>(&obj)),
        };
        let all = ColumnSet::all(t.columns.len());
        let listeners = cx.registry.model::<M>();
        fire(
            cx,
            listeners,
            RowEvent::BeforeDelete,
            &mut Change {
                op: Operation::Delete,
                event: RowEvent::BeforeDelete,
                old: Some(&old),
                new: None,
                changed: all,
            },
        )?;
        let sql = cx.conn.shape_sql(t, Shape::Delete)?;
        let n = cx
            .conn
            .execute(&sql, &[old.value_ref(t.primary_key)])
            .map_err(|e| stmt_error("delete", Some(t.model), Some(pk_text::<M>(&old)), &sql, e))?;
        if n == 0 {
            return if bulk { Ok(false) } else { Err(not_found::<M>(&old)) };
        }
        fire(
            cx,
            listeners,
            RowEvent::AfterDelete,
            &mut Change {
                op: Operation::Delete,
                event: RowEvent::AfterDelete,
                old: Some(&old),
                new: None,
                changed: all,
            },
        )?;
        Ok(true)
    }
}
