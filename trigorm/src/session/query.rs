//! The query builder of a session.

use std::marker::PhantomData;

use super::Session;
use crate::error::Result;
use crate::model::Model;
use crate::query::{Filter, Order, Select};

/// A query on one model's table, built from [`Session::query`]. Staged writes are flushed
/// before it runs, and the rows it reads become their old values for later updates.
///
/// ```
/// # use trigorm::{Engine, Model, query::col};
/// # #[derive(Model, Clone, Debug)]
/// # struct Item { id: i64, name: String, qty: i64 }
/// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
/// # engine.create_all()?;
/// let mut s = engine.session()?;
/// for i in 0..10 {
///     s.add(Item { id: 0, name: format!("i{i}"), qty: i });
/// }
/// let items = s
///     .query::<Item>()
///     .filter(col("qty").gt(2).and(!col("name").like("%9")))
///     .order_by(col("qty").desc())
///     .limit(3)
///     .all()?;
/// assert_eq!(items.iter().map(|i| i.qty).collect::<Vec<_>>(), vec![8, 7, 6]);
/// assert_eq!(s.query::<Item>().filter(col("qty").lt(5)).count()?, 5);
/// # Ok::<(), trigorm::Error>(())
/// ```
pub struct Query<'s, M> {
    session: &'s mut Session,
    select: Select,
    model: PhantomData<M>,
}

impl<'s, M: Model> Query<'s, M> {
    pub(crate) fn new(session: &'s mut Session) -> Self {
        Query {
            session,
            select: Select::default(),
            model: PhantomData,
        }
    }

    /// Keep the rows matching `filter` (combined with AND with earlier filters).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.select.filter = Some(match self.select.filter.take() {
            Some(f) => f.and(filter),
            None => filter,
        });
        self
    }

    /// Order by a column (after earlier orderings).
    pub fn order_by(mut self, order: Order) -> Self {
        self.select.order.push(order);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.select.limit = Some(n);
        self
    }

    /// Skip the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.select.offset = Some(n);
        self
    }

    /// Every matching row.
    ///
    /// # Errors
    /// [`crate::Error::UnknownColumn`] for a name the model does not have, a statement or
    /// decode error, or a flush error.
    pub fn all(self) -> Result<Vec<M>> {
        self.session.load_all::<M>(&self.select)
    }

    /// The first matching row.
    ///
    /// # Errors
    /// As [`Query::all`].
    pub fn first(mut self) -> Result<Option<M>> {
        self.select.limit = Some(1);
        Ok(self.session.load_all::<M>(&self.select)?.into_iter().next())
    }

    /// How many rows match (limit and offset are ignored).
    ///
    /// # Errors
    /// As [`Query::all`].
    pub fn count(self) -> Result<u64> {
        let filter = self.select.filter.unwrap_or_default();
        self.session.count_where(M::table(), &filter)
    }
}
