//! The old row of a write: read by key (and locked, where the backend locks rows), the
//! row this session remembers as its base, and the optimistic-locking check between them.

use super::conn::{query_error, Conn, Shape};
use super::identity::IdentityMap;
use super::ops::{pk_text, FlushCx};
use crate::driver::CallbackError;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::value::{Key, Value, ValueRef};

/// Run the SELECT of `M`'s row with primary key `key`, handing its row (if any) to
/// `on_row`; with `lock`, the row is locked for the rest of the transaction (where the
/// backend locks rows).
fn query_by_key<M: Model>(
    conn: &mut Conn<'_>,
    key: Value,
    lock: bool,
    on_row: &mut dyn FnMut(&[ValueRef<'_>]) -> std::result::Result<(), CallbackError>,
) -> Result<()> {
    let t = M::table();
    let shape = conn.shape(t, Shape::SelectByKey { lock })?;
    conn.query_shape_refs(shape, &[key.as_value_ref()], on_row)
        .map_err(|e| query_error(e, Some(t.model), conn.shape_text(shape)))
}

/// Read a row by key without remembering it; with `lock`, lock it for the rest of the
/// transaction.
pub(crate) fn read_by_key<M: Model>(conn: &mut Conn<'_>, key: Value, lock: bool) -> Result<Option<M>> {
    let mut found = None;
    query_by_key::<M>(conn, key, lock, &mut |row| {
        found = Some(M::from_row(row)?);
        Ok(())
    })?;
    Ok(found)
}

/// Read a row by key and remember it as the row's old values.
pub(crate) fn load_by_key<M: Model>(conn: &mut Conn<'_>, identity: &mut IdentityMap, key: Value) -> Result<Option<M>> {
    let table = identity.table::<M>();
    let mut found = None;
    query_by_key::<M>(conn, key, false, &mut |row| {
        found = Some(table.load(row)?);
        Ok(())
    })?;
    Ok(found)
}

/// What a write starts from: the row in the database, and the row as this session last
/// read or wrote it (its base).
pub(crate) struct ForWrite<M> {
    /// The row as it is in the database; `None` when it is not there.
    pub(super) current: Option<M>,
    /// Where the backend locks rows, the row as this session remembered it, if it did.
    pub(super) base: Option<M>,
    /// Whether the session remembered the row (then it is its own base).
    pub(super) remembered: bool,
}

impl<M: Model> ForWrite<M> {
    /// For a row read (and locked) already, by a statement of many rows: its base is the
    /// row this session remembers, if any.
    pub(crate) fn read(cx: &mut FlushCx<'_, '_>, key: &Key, current: Option<M>) -> ForWrite<M> {
        let base = base_of::<M>(cx, key);
        let remembered = base.is_some();
        ForWrite {
            current,
            base,
            remembered,
        }
    }
}

/// The old row of a write and the base of the caller's copy. Where the backend locks
/// rows (PostgreSQL), the old row is read and locked now (the row as it is at the moment
/// of the write, semantics §2), and the base is the row as this session last read it, if
/// it remembers one. Elsewhere (SQLite, whose writing transaction holds the database's
/// write lock) the row remembered is the row in the database: it is the old row, read now
/// only when not remembered, and its own base.
#[inline]
pub(super) fn rows_for_write<M: Model>(cx: &mut FlushCx<'_, '_>, obj: &M, key: &Key) -> Result<ForWrite<M>> {
    if cx.conn.row_locks() {
        let base = base_of::<M>(cx, key);
        let current = read_by_key::<M>(cx.conn, obj.primary_key(), true)?;
        let remembered = base.is_some();
        return Ok(ForWrite {
            current,
            base,
            remembered,
        });
    }
    if let Some(old) = cx.identity.take::<M>(key) {
        return Ok(ForWrite {
            current: Some(old),
            base: None,
            remembered: true,
        });
    }
    // Not remembered as current: raw SQL may have changed it since it was read (its base
    // says what the caller's copy was made from), or it was never read.
    let base = cx.identity.take_stale::<M>(key);
    let remembered = base.is_some();
    Ok(ForWrite {
        current: read_by_key::<M>(cx.conn, obj.primary_key(), false)?,
        base,
        remembered,
    })
}

/// The row as this session last saw it, taken: remembered as current, or expired (by raw
/// SQL or a foreign-key action) since.
#[inline]
fn base_of<M: Model>(cx: &mut FlushCx<'_, '_>, key: &Key) -> Option<M> {
    cx.identity.take::<M>(key).or_else(|| cx.identity.take_stale::<M>(key))
}

/// The integer in column `v` (a version column).
pub(super) fn version_of<M: Model>(row: &M, v: usize) -> i64 {
    match row.value_ref(v) {
        ValueRef::Int(n) | ValueRef::Owned(Value::Int(n)) => n,
        _ => 0,
    }
}

/// Optimistic locking: a write is refused when the row's version is not the one the
/// writer's copy was made from. Where the session remembers the row (`seen`: its base),
/// the base must be the row's version, and the copy must be of the base's version, or of
/// a version this session's own updates of the row started from in this transaction (a
/// copy it keeps updating); where it does not, the copy's version must be the row's.
pub(super) fn check_version<M: Model>(
    identity: &mut IdentityMap,
    v: usize,
    copy: &M,
    seen: Option<&M>,
    current: &M,
) -> Result<()> {
    let found = version_of(current, v);
    let copied = version_of(copy, v);
    let expected = match seen {
        Some(seen) => {
            let base = version_of(seen, v);
            if base != found {
                base
            } else if copied == base || identity.wrote_from::<M>(&copy.key(), copied) {
                return Ok(());
            } else {
                // A copy older than the row the session read since.
                copied
            }
        }
        None if copied == found => return Ok(()),
        None => copied,
    };
    Err(Error::Conflict {
        model: M::table().model,
        pk: pk_text(current),
        expected,
        found,
    })
}
