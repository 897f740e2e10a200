//! The listener registry (fixed when the engine is built) and the context listeners get.

use std::any::{Any, TypeId};

use rustc_hash::FxHashMap;

use super::conn::{query_error, stmt_error, Conn};
use super::identity::IdentityMap;
use super::ops;
use super::staging::{Staging, Write};
use crate::error::{Error, ListenerResult, Result};
use crate::event::{BulkChange, Change, FlushEvent, RowEvent, TxEvent};
use crate::model::{IntoRow, Model};
use crate::value::{value_refs, Value};

pub(crate) type RowFn<M> = dyn Fn(&mut ListenerCtx<'_, '_>, &mut Change<'_, M>) -> ListenerResult + Send + Sync;
pub(crate) type BulkFn = dyn Fn(&mut ListenerCtx<'_, '_>, &BulkChange<'_>) -> ListenerResult + Send + Sync;
pub(crate) type FlushFn = dyn Fn(&mut ListenerCtx<'_, '_>) -> ListenerResult + Send + Sync;
pub(crate) type TxFn = dyn Fn(TxEvent) + Send + Sync;

pub(crate) struct Named<F: ?Sized> {
    pub(crate) name: String,
    pub(crate) f: Box<F>,
}

/// The listeners of one model type.
pub(crate) struct ModelListeners<M> {
    pub(crate) row: [Vec<Named<RowFn<M>>>; 6],
    pub(crate) bulk: Vec<Named<BulkFn>>,
}

impl<M> Default for ModelListeners<M> {
    fn default() -> Self {
        ModelListeners {
            row: Default::default(),
            bulk: Vec::new(),
        }
    }
}

/// Every listener of an engine.
#[derive(Default)]
pub(crate) struct Registry {
    models: FxHashMap<TypeId, Box<dyn Any + Send + Sync>>,
    pub(crate) flush: [Vec<Named<FlushFn>>; 2],
    pub(crate) tx: [Vec<Named<TxFn>>; 2],
}

impl Registry {
    pub(crate) fn model<M: Model>(&self) -> Option<&ModelListeners<M>> {
        self.models.get(&TypeId::of::<M>())?.downcast_ref()
    }

    pub(crate) fn model_mut<M: Model>(&mut self) -> &mut ModelListeners<M> {
        self.models
            .entry(TypeId::of::<M>())
            .or_insert_with(|| Box::new(ModelListeners::<M>::default()))
            .downcast_mut()
            .expect("the registry keys listeners by their model's TypeId")
    }

    pub(crate) fn flush_listeners(&self, e: FlushEvent) -> &[Named<FlushFn>] {
        &self.flush[e as usize]
    }

    pub(crate) fn fire_tx(&self, e: TxEvent) {
        for l in &self.tx[e as usize] {
            (l.f)(e);
        }
    }
}

/// A queued side effect, run once after COMMIT.
pub(crate) type AfterCommitFn = Box<dyn FnOnce() + Send>;

/// What a listener can do: stage ORM writes and run SQL in the same transaction, and queue
/// work for after the commit. It has no commit or rollback: the session owns the
/// transaction.
///
/// ```
/// use trigorm::{Engine, Model, Value, event::AfterInsert};
/// #[derive(Model, Clone, Debug)]
/// struct Item { id: i64, name: String }
/// #[derive(Model, Clone, Debug)]
/// struct Note { id: i64, text: String }
///
/// let engine = Engine::builder("sqlite::memory:")
///     .model::<Note>()
///     .listen::<Item>(AfterInsert, |ctx, change| {
///         let item = change.new().expect("an insert has a new row");
///         ctx.add(Note { id: 0, text: format!("added {}", item.name) });
///         ctx.execute("UPDATE note SET text = text WHERE id = ?", &[Value::Int(0)])?;
///         ctx.after_commit(|| println!("durable"));
///         Ok(())
///     })
///     .build()?;
/// engine.create_all()?;
/// # Ok::<(), trigorm::Error>(())
/// ```
pub struct ListenerCtx<'s, 'c> {
    pub(crate) conn: &'s mut Conn<'c>,
    pub(crate) identity: &'s mut IdentityMap,
    pub(crate) staged: &'s mut Staging,
    pub(crate) after_commit: &'s mut Vec<AfterCommitFn>,
    pub(crate) staging_refused: Option<&'static str>,
}

impl<'s, 'c> ListenerCtx<'s, 'c> {
    /// The context of one listener call: staged writes go to `staged`, unless the event
    /// may not stage (`AfterFlush`: then staging is refused and reported).
    pub(crate) fn new(
        conn: &'s mut Conn<'c>,
        identity: &'s mut IdentityMap,
        staged: &'s mut Staging,
        after_commit: &'s mut Vec<AfterCommitFn>,
        may_stage: bool,
    ) -> Self {
        ListenerCtx {
            conn,
            identity,
            staged,
            after_commit,
            staging_refused: (!may_stage).then_some(""),
        }
    }
}

impl ListenerCtx<'_, '_> {
    fn stage<M: Model>(&mut self, write: Write<M>) {
        match self.staging_refused {
            Some(_) => self.staging_refused = Some("staged a write"),
            None => self.staged.push(write),
        }
    }

    /// Stage an insert; it is written in the next round of this flush and fires its own
    /// events.
    pub fn add<M: Model>(&mut self, obj: M) {
        self.stage(Write::Insert { obj, slot: None });
    }

    /// Stage an update of a row (old values: as last read, or read at flush).
    pub fn update<M: Model>(&mut self, obj: impl IntoRow<M>) {
        self.stage(Write::Update {
            obj: obj.into_row(),
            bulk: None,
        });
    }

    /// Stage a delete of a row.
    pub fn delete<M: Model>(&mut self, obj: impl IntoRow<M>) {
        self.stage(Write::Delete {
            obj: obj.into_row(),
            bulk: false,
        });
    }

    /// Run a statement with bound parameters in the session's transaction; the number of
    /// rows it changed. The session forgets the old values it remembered (raw SQL may
    /// have changed those rows), so later updates read them again.
    ///
    /// # Errors
    /// [`Error::Statement`] with the SQL.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        raw_execute(self.conn, self.identity, sql, params)
    }

    /// Run a query with bound parameters in the session's transaction; its rows. A query
    /// that writes (`... RETURNING`) makes the session forget its remembered rows, as
    /// [`ListenerCtx::execute`] does.
    ///
    /// # Errors
    /// [`Error::Statement`] with the SQL.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
        raw_query(self.conn, self.identity, sql, params)
    }

    /// Read a row by primary key in the session's transaction (it becomes the row's old
    /// values for a later update).
    ///
    /// # Errors
    /// [`Error::Statement`] or [`Error::Decode`].
    pub fn get<M: Model>(&mut self, key: impl Into<Value>) -> Result<Option<M>> {
        ops::load_by_key::<M>(self.conn, self.identity, key.into())
    }

    /// Queue a side effect to run once, in order, after COMMIT succeeds. It is dropped if
    /// the transaction rolls back.
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(f));
    }
}

/// Raw SQL in the session's transaction, for the session and listener contexts alike. Raw
/// SQL may change any row: the remembered old values are forgotten, so later updates read
/// them again (the rows stay the bases of the caller's copies: an update still writes only
/// what its caller changed).
pub(crate) fn raw_execute(conn: &mut Conn<'_>, identity: &mut IdentityMap, sql: &str, params: &[Value]) -> Result<u64> {
    identity.expire();
    conn.mark_raw();
    conn.execute(sql, &value_refs(params))
        .map_err(|e| stmt_error("execute", None, None, sql, e))
}

/// A raw query; one that writes (`UPDATE ... RETURNING`) forgets the remembered rows too.
pub(crate) fn raw_query(
    conn: &mut Conn<'_>,
    identity: &mut IdentityMap,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Vec<Value>>> {
    conn.mark_raw();
    if !conn.is_read_only(sql)? {
        identity.expire();
    }
    let mut rows = Vec::new();
    conn.query(sql, &value_refs(params), &mut |r| {
        rows.push(r.to_vec());
        Ok(())
    })
    .map_err(|e| query_error(e, None, sql))?;
    Ok(rows)
}

/// Name a listener error with where it happened.
#[cold]
#[inline(never)]
pub(crate) fn listener_error(
    model: &'static str,
    pk: String,
    listener: &str,
    event: RowEvent,
    source: crate::error::BoxError,
) -> Error {
    Error::Listener {
        model,
        pk,
        listener: listener.to_string(),
        event,
        source,
    }
}
