//! Filters and ordering: the query vocabulary, as plain data.
//!
//! A [`Filter`] names columns by their database names; they are checked against the
//! model when the query is rendered, and every value is bound.
//!
//! ```
//! use trigorm::query::col;
//! let f = col("age").ge(18).and(col("name").like("J%")).or(!col("email").is_null());
//! assert!(matches!(f, trigorm::query::Filter::Or(_)));
//! ```

use std::borrow::Cow;

use crate::value::Value;

mod column;

pub use column::{Column, ColumnOf, ValueOf};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A condition on a model's rows.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Filter {
    /// Every row.
    #[default]
    All,
    /// `column <op> value`
    Cmp(Col, CmpOp, Value),
    /// `column IN (values)`; an empty list matches nothing.
    In(Col, Vec<Value>),
    /// `column LIKE pattern`
    Like(Col, String),
    /// `column IS NULL`
    IsNull(Col),
    /// All of these.
    And(Vec<Filter>),
    /// Any of these.
    Or(Vec<Filter>),
    /// Not this.
    Not(Box<Filter>),
}

impl Filter {
    /// Both conditions.
    pub fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::All, f) | (f, Filter::All) => f,
            (Filter::And(mut a), Filter::And(b)) => {
                a.extend(b);
                Filter::And(a)
            }
            (Filter::And(mut a), f) => {
                a.push(f);
                Filter::And(a)
            }
            (f, g) => Filter::And(vec![f, g]),
        }
    }

    /// Either condition.
    pub fn or(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::Or(mut a), Filter::Or(b)) => {
                a.extend(b);
                Filter::Or(a)
            }
            (Filter::Or(mut a), f) => {
                a.push(f);
                Filter::Or(a)
            }
            (f, g) => Filter::Or(vec![f, g]),
        }
    }

    /// The negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;
    fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}

impl std::ops::BitAnd for Filter {
    type Output = Filter;
    fn bitand(self, rhs: Filter) -> Filter {
        self.and(rhs)
    }
}

impl std::ops::BitOr for Filter {
    type Output = Filter;
    fn bitor(self, rhs: Filter) -> Filter {
        self.or(rhs)
    }
}

/// A column by its database name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Col(pub Cow<'static, str>);

/// A column by its database name, to build a [`Filter`] or an [`Order`].
///
/// ```
/// use trigorm::query::{col, Filter};
/// let f: Filter = col("id").is_in([1, 2, 3]);
/// ```
pub fn col(name: impl Into<Cow<'static, str>>) -> Col {
    Col(name.into())
}

impl Col {
    fn cmp(self, op: CmpOp, v: impl Into<Value>) -> Filter {
        Filter::Cmp(self, op, v.into())
    }
    /// `column = value`; with `NULL` (`None`), `column IS NULL`.
    pub fn eq(self, v: impl Into<Value>) -> Filter {
        self.cmp(CmpOp::Eq, v)
    }
    /// `column <> value`; with `NULL` (`None`), `column IS NOT NULL`.
    pub fn ne(self, v: impl Into<Value>) -> Filter {
        self.cmp(CmpOp::Ne, v)
    }
    /// `column < value`
    pub fn lt(self, v: impl Into<Value>) -> Filter {
        self.cmp(CmpOp::Lt, v)
    }
    /// `column <= value`
    pub fn le(self, v: impl Into<Value>) -> Filter {
        self.cmp(CmpOp::Le, v)
    }
    /// `column > value`
    pub fn gt(self, v: impl Into<Value>) -> Filter {
        self.cmp(CmpOp::Gt, v)
    }
    /// `column >= value`
    pub fn ge(self, v: impl Into<Value>) -> Filter {
        self.cmp(CmpOp::Ge, v)
    }
    /// `column IN (values)`
    pub fn is_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Filter {
        Filter::In(self, values.into_iter().map(Into::into).collect())
    }
    /// `column LIKE pattern` (`%` and `_` are wildcards).
    pub fn like(self, pattern: impl Into<String>) -> Filter {
        Filter::Like(self, pattern.into())
    }
    /// `column IS NULL`
    pub fn is_null(self) -> Filter {
        Filter::IsNull(self)
    }
    /// `column IS NOT NULL`
    pub fn is_not_null(self) -> Filter {
        Filter::IsNull(self).not()
    }
    /// Ascending order on this column.
    pub fn asc(self) -> Order {
        Order { col: self, desc: false }
    }
    /// Descending order on this column.
    pub fn desc(self) -> Order {
        Order { col: self, desc: true }
    }
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The column.
    pub col: Col,
    /// Descending when true.
    pub desc: bool,
}

/// A whole select: filter, order, limit and offset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Select {
    /// The condition (`Filter::All` when none).
    pub filter: Option<Filter>,
    /// Order terms, in order.
    pub order: Vec<Order>,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Skip this many rows.
    pub offset: Option<u64>,
}
