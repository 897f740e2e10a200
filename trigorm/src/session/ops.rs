//! Staged writes and how one is flushed: `Before*` → SQL → `After*`, per row.

use std::sync::atomic::Ordering;

use super::conn::{stmt_error, Conn, Shape, ShapeId};
use super::identity::IdentityMap;
use super::listeners::{listener_error, AfterCommitFn, ListenerCtx, ModelListeners, Registry};
pub(crate) use super::old_row::load_by_key;
use super::old_row::{check_version, rows_for_write, version_of, ForWrite};
use super::params::Columns;
pub(crate) use super::slot::{forget_written, new_slot, Slot};
use super::staging::{Staging, Write};
use crate::error::{DbError, Error, Result};
use crate::event::{Change, NewRow, Operation, RowEvent};
use crate::model::{ColumnSet, Model};
use crate::value::{Key, Value, ValueRef};

/// What a staged write needs while it runs.
pub(crate) struct FlushCx<'s, 'c> {
    pub(crate) conn: &'s mut Conn<'c>,
    pub(crate) registry: &'s Registry,
    pub(crate) identity: &'s mut IdentityMap,
    /// Where listeners stage their writes: the next round.
    pub(crate) next: &'s mut Staging,
    pub(crate) after_commit: &'s mut Vec<AfterCommitFn>,
}

/// Run one staged write (see [`AnyQueue::run`](super::staging::AnyQueue::run)).
pub(crate) fn run<M: Model>(
    write: &mut Write<M>,
    kept: bool,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<bool> {
    match write {
        Write::Insert { obj, slot } => run_insert(obj, slot.as_ref(), kept, listeners, cx),
        Write::Update { obj, bulk } => run_update(obj, bulk.as_deref(), kept, listeners, cx),
        Write::Delete { obj, bulk } => run_delete(obj, *bulk, listeners, cx),
    }
}

/// Whether the row's primary key is the integer `0` (for the database to generate),
/// read borrowed.
fn key_unset<M: Model>(obj: &M) -> bool {
    matches!(
        obj.value_ref(M::table().primary_key),
        ValueRef::Int(0) | ValueRef::Owned(Value::Int(0))
    )
}

/// Refuse values the backend cannot store faithfully (see [`Columns::invalid`]).
pub(crate) fn check_values<M: Model>(obj: &M, conn: &Conn<'_>, columns: &Columns) -> Result<()> {
    let t = M::table();
    match columns.invalid(obj, conn.capabilities()) {
        Some((c, reason)) => Err(Error::InvalidValue {
            model: t.model,
            column: t.columns[c].name,
            reason,
        }),
        None => Ok(()),
    }
}

/// The primary key as shown in errors.
#[cold]
#[inline(never)]
pub(crate) fn pk_text<M: Model>(obj: &M) -> String {
    let t = M::table();
    let v = obj.value(t.primary_key);
    if t.auto_increment() && v == Value::Int(0) {
        "<new>".to_string()
    } else {
        v.display_short()
    }
}

/// Run `event`'s listeners on `change`. Callers check [`listens`] first, so that no
/// `Change` is built for an event nobody listens to.
fn fire<M: Model>(
    cx: &mut FlushCx<'_, '_>,
    listeners: Option<&ModelListeners<M>>,
    event: RowEvent,
    change: &mut Change<'_, M>,
) -> Result<()> {
    let Some(ls) = listeners else { return Ok(()) };
    for l in &ls.row[event.index()] {
        let mut ctx = ListenerCtx::new(cx.conn, cx.identity, cx.next, cx.after_commit, true);
        let r = (l.f)(&mut ctx, change);
        if event == RowEvent::BeforeUpdate {
            // The next listener sees what this one changed.
            if let (Some(new), Some(old)) = (change.new(), change.old) {
                change.changed = new.diff(old);
            }
        }
        if let Err(e) = r {
            return Err(failed_listener(change, &l.name, event, e));
        }
    }
    Ok(())
}

/// A listener's error, naming the row and the listener.
#[cold]
#[inline(never)]
fn failed_listener<M: Model>(change: &Change<'_, M>, name: &str, event: RowEvent, e: crate::error::BoxError) -> Error {
    let pk = match (change.new(), change.old) {
        (Some(n), _) => pk_text::<M>(n),
        (None, Some(o)) => pk_text::<M>(o),
        (None, None) => String::new(),
    };
    listener_error(M::table().model, pk, name, event, e)
}

/// A row statement failed: the error names the operation, the row and the SQL.
#[cold]
#[inline(never)]
fn row_failed<M: Model>(operation: &'static str, row: &M, conn: &Conn<'_>, shape: ShapeId, e: DbError) -> Error {
    stmt_error(
        operation,
        Some(M::table().model),
        Some(pk_text::<M>(row)),
        conn.shape_text(shape),
        e,
    )
}

#[cold]
#[inline(never)]
pub(crate) fn not_found<M: Model>(obj: &M) -> Error {
    Error::NotFound {
        model: M::table().model,
        pk: pk_text(obj),
    }
}

/// Whether `M` has listeners for `event`.
#[inline]
fn listens<M: Model>(listeners: Option<&ModelListeners<M>>, event: RowEvent) -> bool {
    listeners.is_some_and(|l| !l.row[event.index()].is_empty())
}

/// An insert nobody watches: no insert listeners, no `Pending` handle (what listeners
/// stage, e.g. audit rows). Only the statement runs; a generated key is not written back
/// into the row, which nothing reads again (nor is it asked of the database).
#[inline(never)]
pub(crate) fn insert_unwatched<M: Model>(obj: &M, cx: &mut FlushCx<'_, '_>) -> Result<()> {
    let t = M::table();
    let generate = t.auto_increment() && key_unset(obj);
    let shape = cx.conn.shape(t, Shape::Insert { with_key: !generate })?;
    check_values(obj, cx.conn, cx.conn.shape_columns(shape))?;
    cx.conn
        .execute_shape_obj(shape, obj)
        .map_err(|e| row_failed("insert", obj, cx.conn, shape, e))?;
    Ok(())
}

/// Whether `M`'s inserts have no listeners (see [`insert_unwatched`]).
pub(crate) fn inserts_unwatched<M: Model>(listeners: Option<&ModelListeners<M>>) -> bool {
    !listens(listeners, RowEvent::BeforeInsert) && !listens(listeners, RowEvent::AfterInsert)
}

/// An insert whose `BeforeInsert` listeners ran: the row is final.
pub(crate) struct InsertReady<M> {
    /// The row to write, when not the staged row itself (listeners work on a copy of a
    /// kept write, so that a retry starts again from the row as the user staged it).
    pub(crate) copy: Option<M>,
    /// Whether the database generates the key.
    pub(crate) generate: bool,
}

impl<M> InsertReady<M> {
    /// The row to write: the copy, or the staged row.
    #[inline]
    pub(crate) fn row<'a>(&'a self, item: &'a M) -> &'a M {
        self.copy.as_ref().unwrap_or(item)
    }
}

/// An insert up to its statement: a retried insert takes back the key generated the first
/// time, `BeforeInsert` listeners run, and the row is brought to what will be stored.
#[inline]
pub(crate) fn before_insert<M: Model>(
    item: &mut M,
    slot: Option<&Slot<M>>,
    kept: bool,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<InsertReady<M>> {
    let t = M::table();
    let mut copy: Option<M> = (kept && listens(listeners, RowEvent::BeforeInsert)).then(|| item.clone());
    let obj: &mut M = match copy.as_mut() {
        Some(c) => c,
        None => item,
    };
    if t.auto_increment() && key_unset(obj) {
        if let Some(key) = slot.and_then(|s| s.generated()) {
            obj.set_value(t.primary_key, Value::Int(key))?;
        }
    }
    if listens(listeners, RowEvent::BeforeInsert) {
        fire(
            cx,
            listeners,
            RowEvent::BeforeInsert,
            &mut Change {
                op: Operation::Insert,
                event: RowEvent::BeforeInsert,
                old: None,
                new: Some(NewRow::Mut(obj)),
                changed: ColumnSet::all(t.columns.len()),
            },
        )?;
    }
    // The row handed back is the row as stored (timestamps at microseconds).
    obj.normalize();
    let generate = t.auto_increment() && key_unset(obj);
    Ok(InsertReady { copy, generate })
}

/// An insert after its statement: the generated key `id` goes into the row, then
/// `AfterInsert` listeners run and the `Pending` handle gets the row.
#[inline]
pub(crate) fn after_insert<M: Model>(
    item: &mut M,
    ready: InsertReady<M>,
    id: Option<i64>,
    slot: Option<&Slot<M>>,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<()> {
    let t = M::table();
    let InsertReady { mut copy, generate } = ready;
    let obj: &mut M = match copy.as_mut() {
        Some(c) => c,
        None => item,
    };
    if generate {
        if let Some(id) = id {
            obj.set_value(t.primary_key, Value::Int(id))?;
            if let Some(s) = slot {
                s.generated.store(id, Ordering::Release);
            }
        }
    }
    if listens(listeners, RowEvent::AfterInsert) {
        fire(
            cx,
            listeners,
            RowEvent::AfterInsert,
            &mut Change {
                op: Operation::Insert,
                event: RowEvent::AfterInsert,
                old: None,
                new: Some(NewRow::Written(obj)),
                changed: ColumnSet::all(t.columns.len()),
            },
        )?;
    }
    if let Some(s) = slot {
        s.store(|| match copy {
            Some(c) => c,
            None => item.clone(),
        });
    }
    // The inserted row is not remembered: few are updated in the transaction that
    // inserts them, and one that is reads its old values at flush.
    Ok(())
}

/// An insert, one statement for the row. A kept write is written in place (only its
/// generated key changes) unless `BeforeInsert` listeners may modify it.
fn run_insert<M: Model>(
    item: &mut M,
    slot: Option<&Slot<M>>,
    kept: bool,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<bool> {
    let ready = before_insert(item, slot, kept, listeners, cx)?;
    let id = insert_statement(&ready, item, cx)?;
    after_insert(item, ready, id, slot, listeners, cx)?;
    Ok(true)
}

/// The INSERT of one row whose `BeforeInsert` listeners ran; the key the database
/// generated.
pub(crate) fn insert_statement<M: Model>(
    ready: &InsertReady<M>,
    item: &M,
    cx: &mut FlushCx<'_, '_>,
) -> Result<Option<i64>> {
    let shape = cx.conn.shape(
        M::table(),
        Shape::Insert {
            with_key: !ready.generate,
        },
    )?;
    let obj = ready.row(item);
    check_values(obj, cx.conn, cx.conn.shape_columns(shape))?;
    cx.conn
        .insert_shape_obj(shape, obj)
        .map_err(|e| row_failed("insert", obj, cx.conn, shape, e))
}

/// An update whose `BeforeUpdate` listeners ran: what its statement writes.
pub(crate) struct UpdateReady<M> {
    /// The row's key.
    pub(crate) key: Key,
    /// The row as it is in the database (the old row events see).
    pub(crate) old: M,
    /// The row to write, when not the staged row itself.
    pub(crate) copy: Option<M>,
    /// The columns to write.
    pub(crate) changed: ColumnSet,
    /// The identity map's epoch when the row was read.
    epoch: u64,
}

impl<M> UpdateReady<M> {
    /// Whether raw SQL ran since the row was read for this update (the identity map was
    /// expired): the row may have been changed or removed by it.
    pub(crate) fn raw_sql_since(&self, cx: &FlushCx<'_, '_>) -> bool {
        cx.identity.epoch() != self.epoch
    }

    /// The row to write: the copy, or the staged row.
    #[inline]
    pub(crate) fn row<'a>(&'a self, item: &'a M) -> &'a M {
        self.copy.as_ref().unwrap_or(item)
    }
}

/// Where the backend locks rows: whether the staged row is the row as this session last
/// saw it (nothing to write, and no round trip to lock the row). Only a row remembered as
/// current counts: one that raw SQL or a foreign-key action may have changed or removed
/// since is read (and locked) first, so that an update of a row that is gone fails. The
/// row is normalized.
#[inline]
pub(crate) fn unchanged_from_base<M: Model>(item: &mut M, cx: &mut FlushCx<'_, '_>) -> bool {
    item.normalize();
    let key = item.key();
    let Some(base) = cx.identity.take::<M>(&key) else {
        return false;
    };
    let mut intent = item.diff(&base);
    if let Some(v) = M::table().version() {
        intent.remove(v);
    }
    cx.identity.put::<M>(key, base);
    intent.is_empty()
}

/// An update up to its statement: the old row (`pre`: read already, by a statement of
/// many rows), the columns to write (intent, semantics §2), the version check and bump,
/// `BeforeUpdate` listeners. `None`: nothing to write (no change, or a bulk row that is
/// gone). A kept write is not modified; listeners work on a copy.
#[inline]
pub(crate) fn before_update<M: Model>(
    item: &mut M,
    bulk: Option<&[(usize, Value)]>,
    kept: bool,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
    pre: Option<ForWrite<M>>,
) -> Result<Option<UpdateReady<M>>> {
    let t = M::table();
    let key = item.key();
    let version = t.version();
    let for_write = match pre {
        Some(f) => f,
        None => {
            if cx.conn.row_locks() && bulk.is_none() && unchanged_from_base(item, cx) {
                return Ok(None);
            }
            // What is compared is what would be stored (timestamps at microseconds).
            item.normalize();
            rows_for_write::<M>(cx, item, &key)?
        }
    };
    let ForWrite {
        current,
        base,
        remembered,
    } = for_write;
    let old = match current {
        Some(old) => old,
        None if bulk.is_some() => return Ok(None),
        None => return Err(not_found::<M>(item)),
    };
    let mut copy: Option<M> = None;
    // Whether the caller changed anything (a bulk statement's rows are checked by its
    // filter, not by a version).
    let mut intended = false;
    if let Some(set) = bulk {
        let mut row = old.clone();
        for (i, v) in set {
            row.set_value(*i, v.clone())?;
        }
        row.normalize();
        copy = Some(row);
    } else if let Some(base) = &base {
        // Updates write intent (semantics §2): the columns the caller changed from the
        // row it read, onto the row as it is now; a column it did not change is never
        // written back, whoever changed it meanwhile.
        let mut intent = item.diff(base);
        if let Some(v) = version {
            intent.remove(v);
        }
        intended = !intent.is_empty();
        let mut row = old.clone();
        row.copy_columns(item, intent)?;
        copy = Some(row);
    }
    let epoch = cx.identity.epoch();
    let mut changed = copy.as_ref().unwrap_or(item).diff(&old);
    if let Some(v) = version {
        changed.remove(v);
        // Optimistic locking: a change made from another version than the row's is
        // refused, even when the row happens to hold the values it would write (two
        // sessions adding one to the same count). Where the session remembers the row,
        // that is when the caller changed something from it; where it does not, the copy's
        // version is all there is to know, and a copy of another version is stale.
        let check = bulk.is_none()
            && if base.is_some() {
                intended
            } else if remembered {
                !changed.is_empty()
            } else {
                true
            };
        if check {
            let seen = if remembered {
                Some(base.as_ref().unwrap_or(&old))
            } else {
                None
            };
            check_version(cx.identity, v, item, seen, &old)?;
        }
    }
    if changed.is_empty() {
        cx.identity.put::<M>(key, old);
        return Ok(None);
    }
    if let Some(v) = version {
        // The version goes one up with every update; a kept write is not modified (a
        // retry starts from the version the user staged).
        let mut row = match copy.take() {
            Some(row) => row,
            None => item.clone(),
        };
        row.set_value(v, Value::Int(version_of(&old, v) + 1))?;
        copy = Some(row);
        changed.insert(v);
    }
    if listens(listeners, RowEvent::BeforeUpdate) {
        if copy.is_none() && kept {
            copy = Some(item.clone());
        }
        let new: &mut M = match copy.as_mut() {
            Some(c) => c,
            None => &mut *item,
        };
        fire(
            cx,
            listeners,
            RowEvent::BeforeUpdate,
            &mut Change {
                op: Operation::Update,
                event: RowEvent::BeforeUpdate,
                old: Some(&old),
                new: Some(NewRow::Mut(new)),
                changed,
            },
        )?;
        new.normalize();
        changed = new.diff(&old);
        if let Some(v) = version {
            changed.remove(v);
        }
        if changed.is_empty() {
            // Unless the listener ran raw SQL meanwhile, which may have changed the row.
            if cx.identity.epoch() == epoch {
                cx.identity.put::<M>(key, old);
            }
            return Ok(None);
        }
        if let Some(v) = version {
            changed.insert(v);
        }
    }
    if changed.contains(t.primary_key) {
        return Err(key_changed(&old));
    }
    Ok(Some(UpdateReady {
        key,
        old,
        copy,
        changed,
        epoch,
    }))
}

/// An update after its statement: `AfterUpdate` listeners, and the old row, brought up to
/// date column by column, is remembered as the row's values.
#[inline]
pub(crate) fn after_update<M: Model>(
    item: &M,
    ready: UpdateReady<M>,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<()> {
    let UpdateReady {
        key,
        mut old,
        copy,
        changed,
        epoch,
    } = ready;
    let new: &M = copy.as_ref().unwrap_or(item);
    if listens(listeners, RowEvent::AfterUpdate) {
        fire(
            cx,
            listeners,
            RowEvent::AfterUpdate,
            &mut Change {
                op: Operation::Update,
                event: RowEvent::AfterUpdate,
                old: Some(&old),
                new: Some(NewRow::Written(new)),
                changed,
            },
        )?;
    }
    if let Some(v) = M::table().version() {
        cx.identity.record_written_from::<M>(key.clone(), version_of(&old, v));
    }
    if cx.identity.epoch() == epoch {
        old.copy_columns(new, changed)?;
        cx.identity.put::<M>(key, old);
    }
    Ok(())
}

/// An update, one statement for the row: only the columns that differ from the old row
/// are written.
fn run_update<M: Model>(
    item: &mut M,
    bulk: Option<&[(usize, Value)]>,
    kept: bool,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<bool> {
    let Some(ready) = before_update(item, bulk, kept, listeners, cx, None)? else {
        return Ok(false);
    };
    let t = M::table();
    let new = ready.row(item);
    let shape = cx.conn.shape(t, Shape::Update(ready.changed))?;
    check_values(new, cx.conn, cx.conn.shape_columns(shape))?;
    let n = cx
        .conn
        .execute_shape_obj(shape, new)
        .map_err(|e| row_failed("update", new, cx.conn, shape, e))?;
    if n == 0 {
        return if bulk.is_some() {
            Ok(false)
        } else {
            Err(not_found::<M>(new))
        };
    }
    after_update(item, ready, listeners, cx)?;
    Ok(true)
}

#[cold]
#[inline(never)]
fn key_changed<M: Model>(old: &M) -> Error {
    Error::PrimaryKeyChange {
        model: M::table().model,
        pk: pk_text::<M>(old),
    }
}

/// A delete up to its statement: the old row (`pre`: read already), the version check,
/// `BeforeDelete` listeners. `None`: a bulk row that is gone.
#[inline]
pub(crate) fn before_delete<M: Model>(
    item: &M,
    bulk: bool,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
    pre: Option<ForWrite<M>>,
) -> Result<Option<M>> {
    let t = M::table();
    let ForWrite {
        current,
        base,
        remembered,
    } = match pre {
        Some(f) => f,
        None => rows_for_write::<M>(cx, item, &item.key())?,
    };
    let old = match current {
        Some(old) => old,
        None if bulk => return Ok(None),
        None => return Err(not_found::<M>(item)),
    };
    if let (Some(v), false) = (t.version(), bulk) {
        let seen = if remembered {
            Some(base.as_ref().unwrap_or(&old))
        } else {
            None
        };
        check_version(cx.identity, v, item, seen, &old)?;
    }
    if listens(listeners, RowEvent::BeforeDelete) {
        fire(
            cx,
            listeners,
            RowEvent::BeforeDelete,
            &mut Change {
                op: Operation::Delete,
                event: RowEvent::BeforeDelete,
                old: Some(&old),
                new: None,
                changed: ColumnSet::all(t.columns.len()),
            },
        )?;
    }
    Ok(Some(old))
}

/// A delete after its statement: `AfterDelete` listeners; the old row is recycled, and
/// the rows the database changed with it forgotten.
#[inline]
pub(crate) fn after_delete<M: Model>(
    old: M,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<()> {
    let t = M::table();
    if listens(listeners, RowEvent::AfterDelete) {
        fire(
            cx,
            listeners,
            RowEvent::AfterDelete,
            &mut Change {
                op: Operation::Delete,
                event: RowEvent::AfterDelete,
                old: Some(&old),
                new: None,
                changed: ColumnSet::all(t.columns.len()),
            },
        )?;
    }
    cx.identity.table::<M>().recycle(old);
    // Children the database deleted or changed with this row are not kept as stale rows.
    cx.identity.forget_children_of(t);
    Ok(())
}

/// A delete, one statement for the row with `item`'s primary key.
fn run_delete<M: Model>(
    item: &M,
    bulk: bool,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<bool> {
    let t = M::table();
    let Some(old) = before_delete(item, bulk, listeners, cx, None)? else {
        return Ok(false);
    };
    let shape = cx.conn.shape(t, Shape::Delete)?;
    let n = cx
        .conn
        .execute_shape(shape, &[old.value_ref(t.primary_key)])
        .map_err(|e| row_failed("delete", &old, cx.conn, shape, e))?;
    if n == 0 {
        return if bulk { Ok(false) } else { Err(not_found::<M>(&old)) };
    }
    after_delete(old, listeners, cx)?;
    Ok(true)
}
