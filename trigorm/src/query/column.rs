//! Typed columns: a column of a model, with the Rust type of its field, as the derive
//! generates them (`User::NAME`). A misspelt column does not compile, and neither does a
//! comparison of a text column with an integer; [`super::col`] stays for names known only
//! at run time.

use std::marker::PhantomData;

use super::{col, Col, Filter, Order};
use crate::value::{Field, Value};

/// A column of model `M` whose field has type `T`: what `#[derive(Model)]` generates for
/// each field, as an associated constant named after it in capitals.
///
/// ```
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// #[trigorm(table = "users")]
/// struct User { id: i64, name: String, age: Option<i64> }
///
/// let adults = User::AGE.ge(18).and(User::NAME.like("J%"));
/// assert_eq!(adults, trigorm::query::col("age").ge(18).and(trigorm::query::col("name").like("J%")));
/// assert_eq!(User::NAME.name(), "name");
/// ```
///
/// Comparing a column with a value of another type does not compile:
///
/// ```compile_fail
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct User { id: i64, name: String }
/// let f = User::NAME.eq(5);
/// ```
pub struct Column<M, T> {
    name: &'static str,
    index: usize,
    _of: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Column<M, T> {}

impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({:?})", self.name)
    }
}

impl<M, T> Column<M, T> {
    /// The column `name`, at `index` in its model's table (what the derive writes).
    #[doc(hidden)]
    pub const fn new(name: &'static str, index: usize) -> Column<M, T> {
        Column {
            name,
            index,
            _of: PhantomData,
        }
    }

    /// The column's name in the database.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// The column's index in its model's table.
    pub const fn index(self) -> usize {
        self.index
    }

    /// The column, untyped (as [`super::col`] names it).
    pub fn col(self) -> Col {
        col(self.name)
    }
}

impl<M, T: Field> Column<M, T> {
    /// `column = value`; with `None`, `column IS NULL`.
    pub fn eq(self, v: impl ValueOf<T>) -> Filter {
        self.col().eq(v.value())
    }
    /// `column <> value`; with `None`, `column IS NOT NULL`.
    pub fn ne(self, v: impl ValueOf<T>) -> Filter {
        self.col().ne(v.value())
    }
    /// `column < value`
    pub fn lt(self, v: impl ValueOf<T>) -> Filter {
        self.col().lt(v.value())
    }
    /// `column <= value`
    pub fn le(self, v: impl ValueOf<T>) -> Filter {
        self.col().le(v.value())
    }
    /// `column > value`
    pub fn gt(self, v: impl ValueOf<T>) -> Filter {
        self.col().gt(v.value())
    }
    /// `column >= value`
    pub fn ge(self, v: impl ValueOf<T>) -> Filter {
        self.col().ge(v.value())
    }
    /// `column IN (values)`
    pub fn is_in<V: ValueOf<T>>(self, values: impl IntoIterator<Item = V>) -> Filter {
        self.col().is_in(values.into_iter().map(ValueOf::value))
    }
    /// `column IS NULL`
    pub fn is_null(self) -> Filter {
        self.col().is_null()
    }
    /// `column IS NOT NULL`
    pub fn is_not_null(self) -> Filter {
        self.col().is_not_null()
    }
    /// Ascending order on this column.
    pub fn asc(self) -> Order {
        self.col().asc()
    }
    /// Descending order on this column.
    pub fn desc(self) -> Order {
        self.col().desc()
    }
    /// The assignment `column = value`, for [`crate::Session::update_where`].
    ///
    /// ```
    /// use trigorm::{Model, Value};
    /// #[derive(Model, Clone, Debug)]
    /// struct User { id: i64, name: String }
    /// assert_eq!(User::NAME.to("Jo"), ("name", Value::Text("Jo".into())));
    /// ```
    pub fn to(self, v: impl ValueOf<T>) -> (&'static str, Value) {
        (self.name, v.value())
    }
}

impl<M> Column<M, String> {
    /// `column LIKE pattern` (`%` and `_` are wildcards).
    pub fn like(self, pattern: impl Into<String>) -> Filter {
        self.col().like(pattern)
    }
}

impl<M> Column<M, Option<String>> {
    /// `column LIKE pattern` (`%` and `_` are wildcards).
    pub fn like(self, pattern: impl Into<String>) -> Filter {
        self.col().like(pattern)
    }
}

/// A value that a column of field type `T` can be compared with or set to: a `T`, what
/// stands for one (`&str` for `String`), and, for a nullable column, its inner type or
/// `None`.
pub trait ValueOf<T> {
    /// The value to bind.
    fn value(self) -> Value;
}

impl<T: Field> ValueOf<T> for T {
    fn value(self) -> Value {
        self.to_value()
    }
}

impl<T: Field> ValueOf<T> for &T {
    fn value(self) -> Value {
        self.to_value()
    }
}

impl<T: Field> ValueOf<Option<T>> for T {
    fn value(self) -> Value {
        self.to_value()
    }
}

impl ValueOf<String> for &str {
    fn value(self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ValueOf<Option<String>> for &str {
    fn value(self) -> Value {
        Value::Text(self.to_string())
    }
}

/// A column of model `M`, by type or by name: what [`crate::event::Change::is_changed`]
/// takes.
pub trait ColumnOf<M> {
    /// The column's name.
    fn column_name(&self) -> &str;
}

impl<M, T> ColumnOf<M> for Column<M, T> {
    fn column_name(&self) -> &str {
        self.name
    }
}

impl<M> ColumnOf<M> for &str {
    fn column_name(&self) -> &str {
        self
    }
}
