//! Bulk statements (`update_where`, `delete_where`): the rows a filter matches, read and
//! locked, then run through the same per-row path as staged writes, so that they fire the
//! row events with their true old and new values (semantics §5), and one statement-level
//! event after them.

use std::sync::Arc;

use super::conn::query_error;
use super::rounds::run_rounds;
use super::staging::{Entry, Write};
use super::{ListenerCtx, Session};
use crate::error::{Error, Result};
use crate::event::{BulkChange, Operation};
use crate::model::Model;
use crate::query::{Filter, Select};
use crate::sql::Statement;
use crate::value::{value_refs, Value};

impl Session {
    /// Update every row of `M` matching `filter`, setting the given columns, and fire the
    /// row events for exactly the rows it changes, with their true old and new values, then
    /// one statement-level event (`on_bulk`) with the filter and the row count. Staged
    /// writes are flushed first. Rows whose values would not change are not written and
    /// fire nothing. Returns the number of rows changed.
    ///
    /// ```
    /// # use trigorm::{Engine, Model, Value, query::col};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String, qty: i64 }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// for i in 0..5 {
    ///     s.add(Item { id: 0, name: format!("i{i}"), qty: i });
    /// }
    /// let n = s.update_where::<Item>(col("qty").ge(3), &[("name", Value::from("big"))])?;
    /// assert_eq!(n, 2);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownColumn`], [`Error::PrimaryKeyChange`] for an assignment to the primary key,
    /// [`Error::Decode`] for a value that does not fit, or any flush error; errors roll the
    /// transaction back.
    pub fn update_where<M: Model>(&mut self, filter: Filter, set: &[(&str, Value)]) -> Result<u64> {
        let t = M::table();
        let mut assignments = Vec::with_capacity(set.len());
        for (name, v) in set {
            let i = t.column_index(name)?;
            if i == t.primary_key {
                return Err(Error::PrimaryKeyChange {
                    model: t.model,
                    pk: "<bulk>".into(),
                });
            }
            assignments.push((i, v.clone()));
        }
        self.bulk::<M>(Operation::Update, filter, &assignments)
    }

    /// Delete every row of `M` matching `filter`, firing the row events of each deleted
    /// row with its true old values, then one statement-level event with the filter and
    /// the row count. Returns the number of rows deleted.
    ///
    /// # Errors
    /// As [`Session::update_where`].
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// use trigorm::query::col;
    /// let mut s = engine.session()?;
    /// s.add(Item { id: 0, name: "a".into() });
    /// s.add(Item { id: 0, name: "b".into() });
    /// assert_eq!(s.delete_where::<Item>(col("name").eq("a"))?, 1);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn delete_where<M: Model>(&mut self, filter: Filter) -> Result<u64> {
        self.bulk::<M>(Operation::Delete, filter, &[])
    }

    fn bulk<M: Model>(&mut self, op: Operation, filter: Filter, set: &[(usize, Value)]) -> Result<u64> {
        // In key order: the row events of a bulk statement come in that order on every
        // backend, and sessions locking overlapping rows take their locks in one order.
        let select = Select {
            filter: Some(filter.clone()),
            order: vec![crate::query::col(M::table().pk().name).asc()],
            ..Select::default()
        };
        // A bad filter is refused before anything runs: it leaves the transaction alone.
        // Locked where the backend locks rows: the rows read are the rows written.
        let stmt = self.engine.dialect.select(M::table(), &select, true)?;
        self.flush()?;
        self.state.writing = true;
        let r = self.bulk_inner::<M>(op, &filter, &stmt, set.into());
        let r = r.map_err(|e| self.fail(e));
        self.state.writing = false;
        r
    }

    fn bulk_inner<M: Model>(
        &mut self,
        op: Operation,
        filter: &Filter,
        stmt: &Statement,
        set: Arc<[(usize, Value)]>,
    ) -> Result<u64> {
        let t = M::table();
        let (mut conn, st, eng) = self.begun(true)?;
        // The rows read here are locked (PostgreSQL: FOR UPDATE; SQLite: the transaction
        // holds the write lock), so they are the rows the statement stands for; each is
        // written as it is when its turn comes (listeners of earlier rows may have changed
        // or removed it).
        let mut olds: Vec<M> = Vec::new();
        conn.query_refs(&stmt.sql, &value_refs(&stmt.values), &mut |row| {
            olds.push(M::from_row(row)?);
            Ok(())
        })
        .map_err(|e| query_error(e, Some(t.model), &stmt.sql))?;
        st.derived.clear();
        for old in olds {
            st.identity.put(old.key(), old.clone());
            match op {
                Operation::Update => st.derived.push(Write::Update {
                    obj: old,
                    bulk: Some(set.clone()),
                }),
                _ => st.derived.push(Write::Delete { obj: old, bulk: true }),
            }
        }
        let mut round: Vec<Entry> = st.derived.order().to_vec();
        // Rows and listener writes run the same few statements: keep them prepared.
        conn.with_statements(|conn| {
            let rows = run_rounds(conn, st, eng, &mut round)?;
            if let Some(ls) = eng.registry.model::<M>() {
                let change = BulkChange {
                    model: t.model,
                    op,
                    filter,
                    rows,
                };
                for l in &ls.bulk {
                    let mut ctx = ListenerCtx::new(
                        &mut *conn,
                        &mut st.identity,
                        &mut st.derived,
                        &mut st.after_commit,
                        true,
                    );
                    (l.f)(&mut ctx, &change).map_err(|source| Error::SessionListener {
                        listener: l.name.clone(),
                        event: if op == Operation::Update {
                            "bulk update"
                        } else {
                            "bulk delete"
                        },
                        source,
                    })?;
                }
                round.clear();
                round.extend_from_slice(st.derived.order());
                run_rounds(conn, st, eng, &mut round)?;
            }
            Ok(rows)
        })
    }
}
