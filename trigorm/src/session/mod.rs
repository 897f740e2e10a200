//! The session: a unit of work over one connection.
//!
//! It stages inserts, updates and deletes, remembers the values last read from or written
//! to the database (the old values of the next update), and writes everything at flush,
//! inside one transaction, running the listeners around each row.

mod batch;
mod bulk;
mod conn;
mod identity;
mod listeners;
mod old_row;
mod ops;
mod order;
mod params;
mod pool;
mod query;
mod rounds;
mod slot;
mod staging;

use std::sync::Arc;

pub use conn::StatementObserver;
pub use listeners::ListenerCtx;
pub use query::Query;

pub(crate) use conn::PooledConn;
pub(crate) use listeners::{FlushFn, Named, Registry, TxFn};
pub(crate) use pool::Pool;

use crate::driver::Driver;
use crate::error::{DbErrorKind, Error, Result};
use crate::event::{FlushEvent, TxEvent};
use crate::model::{IntoRow, Model};
use crate::query::{Filter, Select};
use crate::schema::TableDef;
use crate::sql::Dialect;
use crate::value::{value_refs, Value};
use conn::{query_error, Conn};
use identity::IdentityMap;
use listeners::AfterCommitFn;
use ops::Slot;
use rounds::{run_flush_listeners, run_rounds};
use staging::{Entry, Staging, Write};

/// How many connections a session tries when BEGIN finds the pooled one lost.
const BEGIN_TRIES: usize = 3;

/// What an engine's sessions share: the driver and dialect the URL chose, the listeners,
/// the settings, the models, and the pool of connections. The engine builds it; sessions
/// hold it.
pub(crate) struct Shared {
    pub(crate) driver: Box<dyn Driver>,
    pub(crate) dialect: Box<dyn Dialect>,
    pub(crate) registry: Registry,
    pub(crate) observer: Option<StatementObserver>,
    pub(crate) max_flush_rounds: usize,
    pub(crate) models: Vec<&'static TableDef>,
    pub(crate) pool: Pool,
}

impl Shared {
    /// A connection from the pool.
    pub(crate) fn acquire(&self) -> Result<PooledConn> {
        self.pool.acquire(&*self.driver)
    }

    /// Return a connection to the pool.
    pub(crate) fn release(&self, pooled: PooledConn) {
        self.pool.release(pooled, self.driver.database());
    }
}

/// An object staged with [`Session::add`]. After the flush that inserts it, [`Pending::get`]
/// returns it as written, with its generated key.
///
/// ```
/// # use trigorm::{Engine, Model};
/// # #[derive(Model, Clone, Debug)]
/// # struct Item { id: i64, name: String }
/// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
/// # engine.create_all()?;
/// let mut s = engine.session()?;
/// let pending = s.add(Item { id: 0, name: "a".into() });
/// assert!(pending.get().is_none());
/// s.flush()?;
/// assert!(pending.get().expect("flushed").id > 0);
/// # Ok::<(), trigorm::Error>(())
/// ```
pub struct Pending<M> {
    slot: Slot<M>,
}

impl<M: Model> Pending<M> {
    /// The object as written by the last successful flush, or `None` before it.
    pub fn get(&self) -> Option<M> {
        self.slot.get()
    }
}

impl<M> Drop for Pending<M> {
    /// Nobody will ask for the row any more: the write no longer keeps it.
    fn drop(&mut self) {
        self.slot.release();
    }
}

struct State {
    in_tx: bool,
    /// The open transaction writes (else it only read so far, and took no write lock).
    tx_writes: bool,
    /// Set while a flush or bulk statement runs: still set afterwards means a panic
    /// interrupted it.
    writing: bool,
    /// The writes the user staged in this transaction, kept until it ends: when it fails,
    /// they are all pending again, so that they can be retried.
    staged: Staging,
    /// How many of `staged` were flushed; the rest are pending.
    flushed: usize,
    /// Where each flush of this transaction ended in `staged`: a retry runs them again
    /// flush by flush.
    flush_ends: Vec<usize>,
    /// The writes listeners (and bulk statements) staged for the round that runs now, and
    /// for the round after it.
    derived: Staging,
    next: Staging,
    identity: IdentityMap,
    after_commit: Vec<AfterCommitFn>,
    /// The entries of the round that runs, reused from flush to flush.
    round: Vec<Entry>,
}

impl Default for State {
    fn default() -> State {
        State {
            in_tx: false,
            tx_writes: false,
            writing: false,
            staged: Staging::new(true),
            flushed: 0,
            flush_ends: Vec::new(),
            derived: Staging::new(false),
            next: Staging::new(false),
            identity: IdentityMap::default(),
            after_commit: Vec::new(),
            round: Vec::new(),
        }
    }
}

impl State {
    fn has_pending(&self) -> bool {
        self.staged.len() > self.flushed
    }
}

/// A unit of work over one connection. Get one from [`crate::Engine::session`].
///
/// The transaction begins with the first statement (on SQLite `BEGIN IMMEDIATE`, which
/// takes the write lock: old values read in the session stay true until it commits) and
/// ends with [`Session::commit`] or [`Session::rollback`]; dropping the session rolls back.
///
/// ```
/// use trigorm::{Engine, Model};
/// #[derive(Model, Clone, Debug)]
/// struct Item { id: i64, name: String }
///
/// let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
/// engine.create_all()?;
/// let mut s = engine.session()?;
/// let item = s.insert(Item { id: 0, name: "first".into() })?;
/// let mut item = s.get::<Item>(item.id)?.expect("just inserted");
/// item.name = "renamed".into();
/// s.update(&item)?;
/// s.commit()?;
/// # Ok::<(), trigorm::Error>(())
/// ```
pub struct Session {
    engine: Arc<Shared>,
    pooled: Option<PooledConn>,
    state: State,
}

type Parts<'a> = (Conn<'a>, &'a mut State, &'a Shared);

impl Session {
    pub(crate) fn new(engine: Arc<Shared>, pooled: PooledConn) -> Session {
        Session {
            engine,
            pooled: Some(pooled),
            state: State::default(),
        }
    }

    fn parts(&mut self) -> Result<Parts<'_>> {
        let Session { engine, pooled, state } = self;
        let pooled = pooled
            .as_mut()
            .ok_or_else(|| Error::Internal("the session's connection is gone".into()))?;
        let engine: &Shared = engine;
        let conn = Conn::new(pooled, &*engine.dialect, engine.observer.as_ref());
        Ok((conn, state, engine))
    }

    /// The connection inside the session's transaction, begun if none is open: one that
    /// will `write`, or one that reads (no write lock). A reading transaction that is to
    /// write becomes a writing one; where others wrote meanwhile, the rows it remembers are
    /// no longer known to be the database's (they stay the bases of the caller's copies,
    /// and writes read their rows again).
    fn begun(&mut self, write: bool) -> Result<Parts<'_>> {
        if !self.state.in_tx {
            self.begin(write)?;
        }
        let (mut conn, st, eng) = self.parts()?;
        if write && !st.tx_writes {
            if !conn.upgrade()? {
                st.identity.expire();
            }
            st.tx_writes = true;
        }
        Ok((conn, st, eng))
    }

    /// Begin the session's transaction. A pooled connection that died while it was idle
    /// (the server restarted, or ended it) fails its BEGIN as lost: nothing of the session
    /// was on it, so the pool drops it and the session begins on another one, a few
    /// times at most.
    fn begin(&mut self, write: bool) -> Result<()> {
        let mut tries = 0;
        loop {
            let r = self.parts()?.0.begin(write);
            match r {
                Err(e) if tries < BEGIN_TRIES && e.db_kind() == Some(DbErrorKind::ConnectionLost) => {
                    tries += 1;
                    // Given back first (the pool closes it, which frees its place), then
                    // another taken.
                    if let Some(lost) = self.pooled.take() {
                        self.engine.release(lost);
                    }
                    self.pooled = Some(self.engine.acquire()?);
                }
                r => {
                    r?;
                    self.state.in_tx = true;
                    self.state.tx_writes = write;
                    return Ok(());
                }
            }
        }
    }

    /// Stage an insert. It is written at the next flush; the returned [`Pending`] then
    /// holds the row as written (with its generated key). An integer primary key of `0`
    /// is generated by the database.
    pub fn add<M: Model>(&mut self, obj: M) -> Pending<M> {
        let slot: Slot<M> = ops::new_slot();
        self.state.staged.push(Write::Insert {
            obj,
            slot: Some(slot.clone()),
        });
        Pending { slot }
    }

    /// Stage an insert and flush now; the row as written, with its generated key and what
    /// `BeforeInsert` listeners set.
    ///
    /// # Errors
    /// As [`Session::flush`].
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// let item = s.insert(Item { id: 0, name: "a".into() })?;
    /// assert!(item.id > 0);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn insert<M: Model>(&mut self, obj: M) -> Result<M> {
        let pending = self.add(obj);
        self.flush()?;
        pending
            .get()
            .ok_or_else(|| Error::Internal(format!("{} was not written by the flush", M::table().model)))
    }

    /// Stage an update of `obj` (moved, or copied when given by reference: see
    /// [`IntoRow`]). At flush, only the columns that differ from the row's old values (as
    /// last read from or written to the database in this transaction, else read then) are
    /// written; an update that changes nothing writes nothing and fires nothing.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for checks at staging time.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// let mut item = s.insert(Item { id: 0, name: "a".into() })?;
    /// item.name = "b".into();
    /// s.update(&item)?; // UPDATE item SET name = ? WHERE id = ?, at the next flush
    /// s.commit()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn update<M: Model>(&mut self, obj: impl IntoRow<M>) -> Result<()> {
        self.state.staged.push(Write::Update {
            obj: obj.into_row(),
            bulk: None,
        });
        Ok(())
    }

    /// Stage a delete of the row with `obj`'s primary key (`obj` moved, or copied when
    /// given by reference).
    ///
    /// # Errors
    /// None today; the `Result` leaves room for checks at staging time.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// let item = s.insert(Item { id: 0, name: "a".into() })?;
    /// s.delete(&item)?;
    /// s.commit()?;
    /// assert!(s.get::<Item>(item.id)?.is_none());
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn delete<M: Model>(&mut self, obj: impl IntoRow<M>) -> Result<()> {
        self.state.staged.push(Write::Delete {
            obj: obj.into_row(),
            bulk: false,
        });
        Ok(())
    }

    /// Whether writes are staged and not yet flushed.
    pub fn has_pending(&self) -> bool {
        self.state.has_pending()
    }

    /// How many rows the session remembers old values for (bounded by the current
    /// transaction; cleared at commit and rollback).
    pub fn remembered_rows(&self) -> usize {
        self.state.identity.len()
    }

    /// Read a row by primary key (after flushing staged writes). The values read become
    /// the row's old values for a later update.
    ///
    /// # Errors
    /// A flush error, [`Error::Statement`], or [`Error::Decode`].
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// let id = s.insert(Item { id: 0, name: "a".into() })?.id;
    /// assert_eq!(s.get::<Item>(id)?.map(|i| i.name), Some("a".to_string()));
    /// assert!(s.get::<Item>(999)?.is_none());
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn get<M: Model>(&mut self, key: impl Into<Value>) -> Result<Option<M>> {
        self.flush()?;
        let r = self
            .begun(false)
            .and_then(|(mut conn, st, _)| ops::load_by_key::<M>(&mut conn, &mut st.identity, key.into()));
        self.after_read(r)
    }

    /// A read's result: a failed statement ended the transaction (semantics §4), which is
    /// rolled back; an error of decoding what was read leaves it alone.
    fn after_read<T>(&mut self, r: Result<T>) -> Result<T> {
        match r {
            Err(e) if self.pooled.as_ref().is_some_and(|p| p.state.aborted) => Err(self.fail(e)),
            r => r,
        }
    }

    /// A query on `M`'s table.
    pub fn query<M: Model>(&mut self) -> Query<'_, M> {
        Query::new(self)
    }

    pub(crate) fn load_all<M: Model>(&mut self, select: &Select) -> Result<Vec<M>> {
        self.flush()?;
        let r = self.begun(false).and_then(|(mut conn, st, eng)| {
            let t = M::table();
            let stmt = eng.dialect.select(t, select, false)?;
            let table = st.identity.table::<M>();
            let mut rows = table.begin_loading(select.limit);
            conn.query_refs(&stmt.sql, &value_refs(&stmt.values), &mut |row| {
                rows.push(table.load(row)?);
                Ok(())
            })
            .map_err(|e| query_error(e, Some(t.model), &stmt.sql))?;
            Ok(table.loaded(rows, select.limit.is_some()))
        });
        self.after_read(r)
    }

    pub(crate) fn count_where(&mut self, table: &'static TableDef, filter: &Filter) -> Result<u64> {
        self.flush()?;
        let r = self.begun(false).and_then(|(mut conn, _, eng)| {
            let stmt = eng.dialect.count(table, filter)?;
            let mut n = 0;
            conn.query(&stmt.sql, &value_refs(&stmt.values), &mut |row| {
                if let Some(Value::Int(c)) = row.first() {
                    n = *c as u64;
                }
                Ok(())
            })
            .map_err(|e| query_error(e, Some(table.model), &stmt.sql))?;
            Ok(n)
        });
        self.after_read(r)
    }

    /// Run a statement with bound parameters in the session's transaction (after flushing
    /// staged writes). Raw SQL fires no listeners: that is what native triggers are for.
    /// The session forgets the old values it remembered (raw SQL may have changed those
    /// rows), so later updates read them again. Placeholders are the backend's own: `?`
    /// on SQLite and MariaDB/MySQL, `$1`, `$2`, … on PostgreSQL.
    ///
    /// # Errors
    /// [`Error::Statement`]; the transaction is rolled back.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// use trigorm::Value;
    /// let mut s = engine.session()?;
    /// s.execute("INSERT INTO item (name) VALUES (?)", &[Value::from("it's bound")])?;
    /// let rows = s.query_raw("SELECT name FROM item", &[])?;
    /// assert_eq!(rows[0][0], Value::from("it's bound"));
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.flush()?;
        let r = self
            .begun(true)
            .and_then(|(mut conn, st, _)| listeners::raw_execute(&mut conn, &mut st.identity, sql, params));
        r.map_err(|e| self.fail(e))
    }

    /// Ignore the native triggers named (their database names, as
    /// [`crate::trigger::TriggerDef::managed_name`] and [`crate::Engine::trigger_status`]
    /// give them) for the rest of this transaction: a data fix that a trigger would refuse.
    /// A name that no trigger has is ignored too: nothing to do.
    ///
    /// The ignore ends with the transaction, whether it commits, rolls back or fails; it
    /// never reaches another transaction, another session, the next user of the pooled
    /// connection, or any client that is not this session.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] for a name that cannot be a trigger's; the database's.
    ///
    /// ```
    /// use trigorm::trigger::{Ops, TriggerDef};
    /// use trigorm::{Engine, Model};
    /// #[derive(Model, Clone, Debug)]
    /// #[trigorm(table = "log")]
    /// struct Log { id: i64, text: String }
    ///
    /// let guard = TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE);
    /// let name = guard.managed_name();
    /// let engine = Engine::builder("sqlite::memory:").model::<Log>().trigger(guard).build()?;
    /// engine.create_all()?;
    /// let mut s = engine.session()?;
    /// s.insert(Log { id: 0, text: "tpyo".into() })?;
    /// s.commit()?;
    /// s.ignore_triggers(&[&name])?;
    /// s.execute("UPDATE log SET text = 'typo'", &[])?; // the fix
    /// s.commit()?;
    /// assert!(s.execute("UPDATE log SET text = 'again'", &[]).is_err()); // guarded again
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn ignore_triggers(&mut self, names: &[&str]) -> Result<()> {
        for n in names {
            crate::schema::validate_identifier(crate::schema::IdentKind::Trigger, n)?;
        }
        self.flush()?;
        let r = self
            .begun(true)
            .and_then(|(mut conn, _, _)| conn.ignore_triggers(names));
        r.map_err(|e| self.fail(e))
    }

    /// Run a query with bound parameters in the session's transaction; its rows. A query
    /// that writes (`... RETURNING`) makes the session forget the old values it remembered,
    /// as [`Session::execute`] does. Placeholders are the backend's own, as there.
    ///
    /// # Errors
    /// [`Error::Statement`]; like every failed statement, it rolls the transaction back.
    pub fn query_raw(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>> {
        self.flush()?;
        let r = self
            .begun(true)
            .and_then(|(mut conn, st, _)| listeners::raw_query(&mut conn, &mut st.identity, sql, params));
        r.map_err(|e| self.fail(e))
    }

    /// Queue a side effect to run once after the next successful COMMIT (dropped on
    /// rollback).
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// s.add(Item { id: 0, name: "a".into() });
    /// s.after_commit(|| println!("the item is durable"));
    /// s.commit()?; // prints, once
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + 'static) {
        self.state.after_commit.push(Box::new(f));
    }

    /// Write every staged change, in rounds, inside the session's transaction
    /// (semantics §4). With nothing staged it does nothing. Otherwise: `BeforeFlush`; inserts (parents first), updates, deletes (children
    /// first), each row `Before*` → SQL → `After*`; writes staged by listeners as the next
    /// round; `AfterFlush`.
    ///
    /// # Errors
    /// Any error rolls the whole transaction back; the staged changes of the transaction
    /// are pending again, to retry or discard. The error names the model, key and listener
    /// or statement.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// let pending = s.add(Item { id: 0, name: "a".into() });
    /// s.flush()?; // written, not yet committed
    /// assert!(pending.get().is_some());
    /// s.rollback()?; // gone
    /// assert_eq!(s.query::<Item>().count()?, 0);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn flush(&mut self) -> Result<()> {
        self.check_interrupted()?;
        if !self.state.has_pending() {
            return Ok(());
        }
        self.state.writing = true;
        let r = self.flush_inner().map_err(|e| self.fail(e));
        self.state.writing = false;
        r
    }

    /// A write that a panic (in a listener) interrupted left its transaction half done: roll
    /// it back, with the staged writes pending again, before anything else runs.
    fn check_interrupted(&mut self) -> Result<()> {
        if !self.state.writing {
            return Ok(());
        }
        self.state.writing = false;
        Err(self.fail(Error::Interrupted))
    }

    fn flush_inner(&mut self) -> Result<()> {
        let (mut conn, st, eng) = self.begun(true)?;
        let mut round = std::mem::take(&mut st.round);
        let r = conn.with_statements(|conn| {
            // After a failure, the transaction's earlier flushes run again one by one, as
            // they first ran (a row deleted in one and inserted again in the next must
            // stay in that order), then what is new.
            while st.flushed < st.staged.len() {
                let end = st
                    .flush_ends
                    .iter()
                    .copied()
                    .find(|&e| e > st.flushed)
                    .unwrap_or(st.staged.len());
                round.clear();
                round.extend_from_slice(&st.staged.order()[st.flushed..end]);
                st.flushed = end;
                run_flush_listeners(conn, st, eng, FlushEvent::BeforeFlush)?;
                round.extend_from_slice(st.derived.order());
                run_rounds(conn, st, eng, &mut round)?;
                run_flush_listeners(conn, st, eng, FlushEvent::AfterFlush)?;
                if st.flush_ends.last().is_none_or(|&e| e < end) {
                    st.flush_ends.push(end);
                }
            }
            Ok(())
        });
        st.round = round;
        r
    }

    /// Flush, then COMMIT; then `AfterCommit` listeners and the queued `after_commit`
    /// callbacks, once, in order. The session forgets the old values it remembered.
    ///
    /// # Errors
    /// As [`Session::flush`]; a failed COMMIT rolls back the same way.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// s.add(Item { id: 0, name: "a".into() });
    /// s.commit()?;
    /// let mut other = engine.session()?;
    /// assert_eq!(other.query::<Item>().count()?, 1);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn commit(&mut self) -> Result<()> {
        self.flush()?;
        self.check_interrupted()?;
        let committed = {
            let (mut conn, st, _) = self.parts()?;
            if st.in_tx {
                conn.commit().map(|_| true)
            } else {
                Ok(false)
            }
        };
        let committed = committed.map_err(|e| self.fail(e))?;
        let st = &mut self.state;
        st.in_tx = false;
        // The transaction's rows are filled again by the next loads instead of freed.
        st.staged.recycle_into(&mut st.identity);
        st.flushed = 0;
        st.flush_ends.clear();
        st.flush_ends.shrink_to(identity::MAX_KEPT_CAPACITY);
        st.identity.end_transaction();
        st.round.clear();
        st.round.shrink_to(identity::MAX_KEPT_CAPACITY);
        let queue = std::mem::take(&mut st.after_commit);
        if committed {
            self.engine.registry.fire_tx(TxEvent::AfterCommit);
        }
        for f in queue {
            f();
        }
        Ok(())
    }

    /// Roll the transaction back and discard everything staged.
    ///
    /// # Errors
    /// [`Error::Transaction`] when ROLLBACK itself fails (the session is still reset).
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// s.add(Item { id: 0, name: "a".into() });
    /// s.rollback()?;
    /// assert!(!s.has_pending());
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn rollback(&mut self) -> Result<()> {
        let r = self.end_transaction();
        self.state.staged.clear();
        self.state.flush_ends.clear();
        self.state.flush_ends.shrink_to(identity::MAX_KEPT_CAPACITY);
        r
    }

    /// Roll back (if a transaction is open) and reset the transaction's state, firing
    /// `AfterRollback`. Staged writes are left to the caller.
    fn end_transaction(&mut self) -> Result<()> {
        let (mut conn, st, eng) = self.parts()?;
        let was_open = st.in_tx;
        let r = if was_open { conn.rollback() } else { Ok(()) };
        st.in_tx = false;
        st.writing = false;
        st.staged.rolled_back();
        st.flushed = 0;
        st.derived.clear();
        st.next.clear();
        st.identity.end_transaction();
        st.after_commit.clear();
        st.after_commit.shrink_to(identity::MAX_KEPT_CAPACITY);
        st.round.clear();
        st.round.shrink_to(identity::MAX_KEPT_CAPACITY);
        if was_open {
            eng.registry.fire_tx(TxEvent::AfterRollback);
        }
        r
    }

    /// After an error: roll back, and make the transaction's staged writes pending again.
    fn fail(&mut self, e: Error) -> Error {
        // The user's writes of the transaction stay staged (`end_transaction` makes them all
        // pending again): the caller may retry them or roll back.
        if let Err(rb) = self.end_transaction() {
            tracing::warn!(error = %rb, "ROLLBACK after an error failed");
        }
        e
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.state.in_tx {
            if let Err(e) = self.end_transaction() {
                tracing::warn!(error = %e, "ROLLBACK when dropping a session failed");
            }
        }
        if let Some(pooled) = self.pooled.take() {
            self.engine.release(pooled);
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("in_transaction", &self.state.in_tx)
            .field("pending", &(self.state.staged.len() - self.state.flushed))
            .field("remembered_rows", &self.state.identity.len())
            .finish()
    }
}
