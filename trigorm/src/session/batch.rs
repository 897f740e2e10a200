//! Flushing many rows of one model in a few statements, where the backend batches
//! ([`Capabilities::batches`](crate::sql::Capabilities::batches)). A run of inserts is one
//! `INSERT … SELECT * FROM unnest(…)`; a run of updates or deletes locks its rows with one
//! `SELECT … FOR UPDATE` and writes them with one statement per set of changed columns.
//! The events still fire per row, in staging order: the rows' `Before*` listeners, the
//! statement, the rows' `After*` listeners (semantics §4: writes may be batched).
//!
//! Each row goes through the same halves as a row written alone (`ops::before_*` and
//! `ops::after_*`); only the statement in between is shared. A row whose `Before*`
//! listener ran raw SQL may have changed the rows locked ahead of it: the rows after it
//! are locked and read again one by one.

use rustc_hash::{FxHashMap, FxHashSet};

use super::conn::{query_error, stmt_error, Conn, Shape, ShapeId};
use super::listeners::ModelListeners;
use super::old_row::{self, ForWrite};
use super::ops::{self, FlushCx, InsertReady, UpdateReady};
use super::params::{Columns, RowOf};
use super::staging::{Entry, Write};
use crate::driver::bound_values;
use crate::error::{DbError, DbErrorKind, Error, Result};
use crate::event::Operation;
use crate::model::Model;
use crate::value::{Key, Value, ValueRef};

/// The most rows one statement writes.
const MAX_ROWS: usize = 5000;

/// Run `entries` (writes of one model, in staging order) in statements of many rows; how
/// many rows were written.
pub(crate) fn run<M: Model>(
    writes: &mut [Write<M>],
    entries: &[Entry],
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<u64> {
    let mut written = 0;
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let op = write_at(writes, first)?.operation();
        // A segment: consecutive writes of one operation, each row at most once (a second
        // write of the same row waits for the first one's statement).
        let mut keys: FxHashSet<Key> = FxHashSet::default();
        let len = rest
            .iter()
            .take(MAX_ROWS)
            .take_while(|e| {
                writes
                    .get(e.index)
                    .is_some_and(|w| w.operation() == op && (op == Operation::Insert || keys.insert(w.row().key())))
            })
            .count()
            .max(1);
        let (segment, after) = rest.split_at(len);
        written += match op {
            Operation::Insert => inserts(writes, segment, listeners, cx)?,
            Operation::Update => updates(writes, segment, listeners, cx)?,
            Operation::Delete => deletes(writes, segment, listeners, cx)?,
        };
        rest = after;
    }
    Ok(written)
}

fn write_at<'w, M: Model>(writes: &'w [Write<M>], e: &Entry) -> Result<&'w Write<M>> {
    writes.get(e.index).ok_or_else(missing::<M>)
}

#[cold]
fn missing<M: Model>() -> Error {
    Error::Internal(format!("{}: a staged write went missing", M::table().model))
}

/// A statement of many rows failed: the error names the model and the statement; the
/// database's message says which row where it can (PostgreSQL's detail, e.g.
/// `Key (email)=(a@x.org) already exists`).
#[cold]
#[inline(never)]
fn many_failed<M: Model>(operation: &'static str, rows: &[&M], conn: &Conn<'_>, shape: ShapeId, e: DbError) -> Error {
    let pk = match rows {
        [row] => ops::pk_text(*row),
        _ => {
            // The keys the rows have (rows still to insert have none yet).
            let keys: Vec<String> = rows.iter().take(8).map(|r| ops::pk_text(*r)).collect();
            let more = if rows.len() > keys.len() { ", …" } else { "" };
            if keys.iter().all(|k| k == "<new>") {
                format!("<one of {} new rows>", rows.len())
            } else {
                format!("<one of {} rows: {}{more}>", rows.len(), keys.join(", "))
            }
        }
    };
    stmt_error(operation, Some(M::table().model), Some(pk), conn.shape_text(shape), e)
}

/// The values of `columns` of `rows` as their fields bind them (a custom field's own
/// binding, checked), one array per column.
fn arrays<M: Model>(rows: &[&M], columns: &Columns) -> std::result::Result<Vec<Vec<Value>>, String> {
    let mut out: Vec<Vec<Value>> = (0..columns.iter().count())
        .map(|_| Vec::with_capacity(rows.len()))
        .collect();
    for row in rows {
        let values = bound_values(&RowOf { obj: *row, columns })?;
        for (column, v) in out.iter_mut().zip(values) {
            column.push(v);
        }
    }
    Ok(out)
}

/// The sizes the rows of one statement of many rows go in, in order: all at once where
/// the dialect's SQL takes any number of rows (the size is then 0 in the shape); else
/// powers of two (a connection prepares few sizes), each within the parameters the
/// backend takes in one such statement (`per_row` of them per row;
/// [`Capabilities::batch_parameters`](crate::sql::Capabilities::batch_parameters)).
fn chunk_sizes(cx: &FlushCx<'_, '_>, rows: usize, per_row: usize) -> Vec<(usize, u32)> {
    let caps = cx.conn.capabilities();
    if !caps.sized_batches {
        return vec![(rows, 0)];
    }
    let most = (caps.batch_parameters.min(caps.max_bound_parameters) / per_row.max(1)).clamp(1, MAX_ROWS);
    let cap = 1usize << most.ilog2();
    let mut out = Vec::new();
    let mut left = rows;
    while left > 0 {
        let size = cap.min(1usize << left.ilog2());
        out.push((size, size as u32));
        left -= size;
    }
    out
}

/// The values of `rows` for the columns of `shape`, checked, one array per column.
fn checked_arrays<M: Model>(
    cx: &mut FlushCx<'_, '_>,
    operation: &'static str,
    shape: ShapeId,
    rows: &[&M],
) -> Result<Vec<Vec<Value>>> {
    for row in rows {
        ops::check_values(*row, cx.conn, cx.conn.shape_columns(shape))?;
    }
    arrays(rows, cx.conn.shape_columns(shape)).map_err(|message| {
        let e = DbError {
            kind: DbErrorKind::InvalidValue,
            code: None,
            message,
            database: String::new(),
        };
        many_failed::<M>(operation, rows, cx.conn, shape, e)
    })
}

/// Run the statement of many rows of `rows` (`shape_for` gives its shape for a number of
/// rows), in the chunks [`chunk_sizes`] gives: `run` gets each chunk's shape and rows,
/// and its parameters where they go as one array per column (checked); where the
/// statement has a placeholder per value, `None`: the rows are checked and then bound
/// straight from the models.
fn each_chunk<M: Model>(
    cx: &mut FlushCx<'_, '_>,
    operation: &'static str,
    shape_for: impl Fn(u32) -> Shape,
    rows: &[&M],
    mut run: impl FnMut(&mut FlushCx<'_, '_>, ShapeId, &[&M], Option<&[&[ValueRef<'_>]]>) -> Result<()>,
) -> Result<()> {
    let mut rest = rows;
    let per_row = cx.conn.columns_of(M::table(), shape_for(0));
    let by_row = cx.conn.capabilities().sized_batches;
    for (size, n) in chunk_sizes(cx, rows.len(), per_row) {
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        let shape = cx.conn.shape(M::table(), shape_for(n))?;
        if by_row {
            for row in chunk {
                ops::check_values(*row, cx.conn, cx.conn.shape_columns(shape))?;
            }
            run(cx, shape, chunk, None)?;
            continue;
        }
        let arrays = checked_arrays(cx, operation, shape, chunk)?;
        let refs: Vec<Vec<ValueRef<'_>>> = arrays
            .iter()
            .map(|c| c.iter().map(Value::as_value_ref).collect())
            .collect();
        let params: Vec<&[ValueRef<'_>]> = refs.iter().map(Vec::as_slice).collect();
        run(cx, shape, chunk, Some(&params))?;
    }
    Ok(())
}

/// Run a statement of many rows that returns keys (or generated keys); the keys.
fn returning<M: Model>(
    cx: &mut FlushCx<'_, '_>,
    operation: &'static str,
    shape_for: impl Fn(u32) -> Shape,
    rows: &[&M],
) -> Result<Vec<Value>> {
    let mut keys = Vec::with_capacity(rows.len());
    each_chunk(cx, operation, shape_for, rows, |cx, shape, chunk, params| {
        let mut on_row = |row: &mut [Value]| {
            keys.push(row.first_mut().map(std::mem::take).unwrap_or_default());
            Ok(())
        };
        let r = match params {
            Some(params) => cx.conn.query_shape_arrays(shape, params, &mut on_row),
            None => cx.conn.query_shape_rows(shape, chunk, &mut on_row),
        };
        match r {
            Ok(()) => Ok(()),
            Err(crate::driver::QueryError::Db(e)) => Err(many_failed::<M>(operation, chunk, cx.conn, shape, e)),
            Err(e) => Err(query_error(e, Some(M::table().model), cx.conn.shape_text(shape))),
        }
    })?;
    Ok(keys)
}

/// Run a statement of many rows that returns nothing; how many rows it changed (found).
fn counted<M: Model>(
    cx: &mut FlushCx<'_, '_>,
    operation: &'static str,
    shape_for: impl Fn(u32) -> Shape,
    rows: &[&M],
) -> Result<u64> {
    let mut total = 0;
    each_chunk(cx, operation, shape_for, rows, |cx, shape, chunk, params| {
        let r = match params {
            Some(params) => cx.conn.execute_shape_arrays(shape, params),
            None => cx.conn.execute_shape_rows(shape, chunk),
        };
        total += r.map_err(|e| many_failed::<M>(operation, chunk, cx.conn, shape, e))?;
        Ok(())
    })?;
    Ok(total)
}

/// The keys of the rows of `keys` that exist, locking them (a statement of many rows
/// that cannot say which rows it wrote is checked so).
fn existing<M: Model>(cx: &mut FlushCx<'_, '_>, keys: &[ValueRef<'_>]) -> Result<FxHashSet<Key>> {
    let rows = lock_keys::<M>(keys, cx)?;
    Ok(rows.into_keys().collect())
}

fn inserts<M: Model>(
    writes: &mut [Write<M>],
    segment: &[Entry],
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<u64> {
    let mut group: Vec<(usize, InsertReady<M>)> = Vec::with_capacity(segment.len());
    for e in segment {
        let Some(Write::Insert { obj, slot }) = writes.get_mut(e.index) else {
            return Err(missing::<M>());
        };
        let ready = ops::before_insert(obj, slot.as_ref(), e.kept, listeners, cx)?;
        // Rows whose key the database generates and rows that bring theirs are two
        // statements.
        if group.last().is_some_and(|(_, last)| last.generate != ready.generate) {
            insert_group(writes, &mut group, listeners, cx)?;
        }
        group.push((e.index, ready));
    }
    insert_group(writes, &mut group, listeners, cx)?;
    Ok(segment.len() as u64)
}

/// One INSERT of `group`'s rows, then their `After*` halves. Generated keys are handed
/// out in order: the rows are inserted in array order, so the keys, sorted, are theirs.
fn insert_group<M: Model>(
    writes: &mut [Write<M>],
    group: &mut Vec<(usize, InsertReady<M>)>,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<()> {
    let Some((_, first)) = group.first() else {
        return Ok(());
    };
    let generate = first.generate;
    let mut ids: Vec<i64> = Vec::new();
    if generate
        && (!cx.conn.capabilities().returning || (group.len() > 1 && !cx.conn.keys_fit(M::table(), group.len())?))
    {
        // The backend cannot return the keys of many rows (MySQL), or the keys would not
        // come in order (SQLite past the largest integer): one statement per row, each
        // with its own key.
        for (w, ready) in group.iter() {
            let id = ops::insert_statement(ready, writes[*w].row(), cx)?;
            ids.push(id.ok_or_else(|| {
                Error::Internal(format!("{}: an insert reported no generated key", M::table().model))
            })?);
        }
    } else {
        let rows: Vec<&M> = group.iter().map(|(w, r)| r.row(writes[*w].row())).collect();
        let keys = returning(
            cx,
            "insert",
            |rows| Shape::InsertMany {
                with_key: !generate,
                rows,
            },
            &rows,
        )?;
        if generate {
            ids = keys
                .iter()
                .filter_map(|k| match k {
                    Value::Int(id) => Some(*id),
                    _ => None,
                })
                .collect();
            if ids.len() != rows.len() {
                return Err(Error::Internal(format!(
                    "{}: the insert of {} rows returned {} generated keys",
                    M::table().model,
                    rows.len(),
                    ids.len()
                )));
            }
            ids.sort_unstable();
        }
    }
    for (k, (w, ready)) in group.drain(..).enumerate() {
        let Some(Write::Insert { obj, slot }) = writes.get_mut(w) else {
            return Err(missing::<M>());
        };
        ops::after_insert(obj, ready, ids.get(k).copied(), slot.as_ref(), listeners, cx)?;
    }
    Ok(())
}

/// Lock and read the rows of `entries` in one statement, by key.
fn lock_rows<'e, M: Model>(
    writes: &[Write<M>],
    entries: impl Iterator<Item = &'e Entry>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<FxHashMap<Key, M>> {
    if !cx.conn.row_locks() {
        return Ok(FxHashMap::default());
    }
    let t = M::table();
    let keys: Vec<ValueRef<'_>> = entries
        .filter_map(|e| writes.get(e.index))
        .map(|w| w.row().value_ref(t.primary_key))
        .collect();
    lock_keys(&keys, cx)
}

/// Lock and read the rows of `keys` (in as few statements as the dialect allows).
fn lock_keys<M: Model>(keys: &[ValueRef<'_>], cx: &mut FlushCx<'_, '_>) -> Result<FxHashMap<Key, M>> {
    let t = M::table();
    let mut rows = FxHashMap::default();
    let mut rest = keys;
    for (size, n) in chunk_sizes(cx, keys.len(), 1) {
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        if chunk.is_empty() {
            continue;
        }
        let shape = cx.conn.shape(t, Shape::LockMany(n))?;
        let r = if cx.conn.capabilities().sized_batches {
            // A placeholder per key: the keys are the parameters.
            cx.conn.query_shape_refs(shape, chunk, &mut |row| {
                let m = M::from_row(row)?;
                rows.insert(m.key(), m);
                Ok(())
            })
        } else {
            cx.conn.query_shape_arrays(shape, &[chunk], &mut |row| {
                let m = M::from_values(row)?;
                rows.insert(m.key(), m);
                Ok(())
            })
        };
        r.map_err(|e| query_error(e, Some(t.model), cx.conn.shape_text(shape)))?;
    }
    Ok(rows)
}

/// The row of `obj` as locked ahead (`locked`, read at identity-map epoch `epoch`), or
/// locked and read now when raw SQL ran since. `None` where the backend has no row locks:
/// the write then starts from the row the session remembers, as a row written alone does.
fn current<M: Model>(
    locked: &mut FxHashMap<Key, M>,
    epoch: u64,
    obj: &M,
    cx: &mut FlushCx<'_, '_>,
) -> Result<Option<ForWrite<M>>> {
    if !cx.conn.row_locks() {
        return Ok(None);
    }
    let key = obj.key();
    let found = if cx.identity.epoch() == epoch {
        locked.remove(&key)
    } else {
        old_row::read_by_key::<M>(cx.conn, obj.primary_key(), true)?
    };
    Ok(Some(ForWrite::read(cx, &key, found)))
}

fn updates<M: Model>(
    writes: &mut [Write<M>],
    segment: &[Entry],
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<u64> {
    // Rows that are the row as this session last saw it: nothing to write or lock.
    let mut todo: Vec<&Entry> = Vec::with_capacity(segment.len());
    for e in segment {
        let Some(Write::Update { obj, bulk }) = writes.get_mut(e.index) else {
            return Err(missing::<M>());
        };
        if bulk.is_some() || !ops::unchanged_from_base(obj, cx) {
            todo.push(e);
        }
    }
    let mut locked = lock_rows(writes, todo.iter().copied(), cx)?;
    let epoch = cx.identity.epoch();
    let mut group: Vec<(usize, UpdateReady<M>, bool)> = Vec::new();
    let mut written = 0;
    for e in todo {
        let Some(Write::Update { obj, bulk }) = writes.get_mut(e.index) else {
            return Err(missing::<M>());
        };
        let pre = current(&mut locked, epoch, obj, cx)?;
        let is_bulk = bulk.is_some();
        let Some(ready) = ops::before_update(obj, bulk.as_deref(), e.kept, listeners, cx, pre)? else {
            continue;
        };
        if group.last().is_some_and(|(_, last, _)| last.changed != ready.changed) {
            written += update_group(writes, &mut group, listeners, cx)?;
        }
        group.push((e.index, ready, is_bulk));
    }
    written += update_group(writes, &mut group, listeners, cx)?;
    Ok(written)
}

/// One UPDATE of `group`'s rows (one set of changed columns), then their `After*` halves.
/// A row the statement did not change is gone: a bulk row is skipped, any other is not
/// found.
fn update_group<M: Model>(
    writes: &mut [Write<M>],
    group: &mut Vec<(usize, UpdateReady<M>, bool)>,
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<u64> {
    let Some((_, first, _)) = group.first() else {
        return Ok(0);
    };
    let changed = first.changed;
    let done: FxHashSet<Key> = {
        let rows: Vec<&M> = group.iter().map(|(w, r, _)| r.row(writes[*w].row())).collect();
        if cx.conn.capabilities().update_returning {
            returning(cx, "update", |n| Shape::UpdateMany(changed, n), &rows)?
                .iter()
                .map(Key::from_value)
                .collect()
        } else {
            let found = counted(cx, "update", |n| Shape::UpdateMany(changed, n), &rows)?;
            let keys: Vec<ValueRef<'_>> = rows.iter().map(|r| r.value_ref(M::table().primary_key)).collect();
            if found as usize == rows.len() {
                rows.iter().map(|r| r.key()).collect()
            } else {
                // Rows are locked: the ones that exist now are the ones it wrote.
                existing::<M>(cx, &keys)?
            }
        }
    };
    let mut written = 0;
    for (w, ready, bulk) in group.drain(..) {
        let obj = writes.get(w).ok_or_else(missing::<M>)?.row();
        if done.contains(&ready.key) {
            ops::after_update(obj, ready, listeners, cx)?;
            written += 1;
        } else if !bulk && !ready.raw_sql_since(cx) {
            return Err(ops::not_found(obj));
        }
        // Else the row is gone: a bulk row, or one that raw SQL of a listener removed
        // after its turn was prepared (row by row, it would have been written first).
    }
    Ok(written)
}

fn deletes<M: Model>(
    writes: &mut [Write<M>],
    segment: &[Entry],
    listeners: Option<&ModelListeners<M>>,
    cx: &mut FlushCx<'_, '_>,
) -> Result<u64> {
    let t = M::table();
    let mut locked = lock_rows(writes, segment.iter(), cx)?;
    let epoch = cx.identity.epoch();
    let mut olds: Vec<(M, bool)> = Vec::with_capacity(segment.len());
    for e in segment {
        let Some(Write::Delete { obj, bulk }) = writes.get(e.index) else {
            return Err(missing::<M>());
        };
        let pre = current(&mut locked, epoch, obj, cx)?;
        if let Some(old) = ops::before_delete(obj, *bulk, listeners, cx, pre)? {
            olds.push((old, *bulk));
        }
    }
    if olds.is_empty() {
        return Ok(0);
    }
    let raw_sql_ran = cx.identity.epoch() != epoch;
    let done: FxHashSet<Key> = {
        let rows: Vec<&M> = olds.iter().map(|(old, _)| old).collect();
        if cx.conn.capabilities().delete_returning {
            returning(cx, "delete", Shape::DeleteMany, &rows)?
                .iter()
                .map(Key::from_value)
                .collect()
        } else {
            // The rows are locked: they are all there unless a listener's raw SQL removed
            // some since, and then the ones there now are the ones the DELETE removes.
            let present = if raw_sql_ran {
                let keys: Vec<ValueRef<'_>> = rows.iter().map(|r| r.value_ref(t.primary_key)).collect();
                existing::<M>(cx, &keys)?
            } else {
                rows.iter().map(|r| r.key()).collect()
            };
            counted(cx, "delete", Shape::DeleteMany, &rows)?;
            present
        }
    };
    let mut written = 0;
    for (old, bulk) in olds {
        if done.contains(&old.key()) {
            ops::after_delete(old, listeners, cx)?;
            written += 1;
        } else if !bulk && !raw_sql_ran {
            return Err(ops::not_found(&old));
        }
        // Else the row is gone: a bulk row, or one that raw SQL of a listener deleted
        // after its turn was prepared (row by row, it would have been deleted first).
    }
    Ok(written)
}
