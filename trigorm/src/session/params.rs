//! The parameters of one row statement, read straight from the model while the driver
//! binds them: no list of parameters is built per row.

use crate::driver::RowParams;
use crate::model::{ColumnSet, Model, MAX_COLUMNS};
use crate::schema::TableDef;
use crate::sql::Capabilities;
use crate::value::{Binder, Value, ValueRef};

/// The columns a row statement binds, in order.
pub(crate) struct Columns {
    index: [u8; MAX_COLUMNS],
    len: usize,
    /// For an INSERT's columns: whether they include the primary key (the model binds
    /// them in one go, [`Model::bind_insert`]).
    insert: Option<bool>,
}

impl Columns {
    /// No column.
    pub(crate) const EMPTY: Columns = Columns {
        index: [0; MAX_COLUMNS],
        len: 0,
        insert: None,
    };

    fn new() -> Columns {
        Columns::EMPTY
    }

    /// The primary key alone (a DELETE's or a SELECT by key's parameter).
    #[inline]
    pub(crate) fn key(t: &TableDef) -> Columns {
        let mut c = Columns::new();
        c.push(t.primary_key);
        c
    }

    #[inline]
    fn push(&mut self, column: usize) {
        // A table has at most MAX_COLUMNS columns (checked when the model is declared).
        if let (Some(slot), Ok(c)) = (self.index.get_mut(self.len), u8::try_from(column)) {
            *slot = c;
            self.len += 1;
        }
    }

    /// An INSERT's columns: all, in table order, except the primary key when the database
    /// generates it.
    pub(crate) fn insert(t: &TableDef, generated_key: bool) -> Columns {
        let mut c = Columns::new();
        for i in 0..t.columns.len() {
            if !(generated_key && i == t.primary_key) {
                c.push(i);
            }
        }
        c.insert = Some(!generated_key);
        c
    }

    /// An UPDATE's columns: the changed ones (SET), then the primary key (WHERE).
    pub(crate) fn update(t: &TableDef, changed: ColumnSet) -> Columns {
        let mut c = Columns::new();
        for i in changed.iter() {
            c.push(i);
        }
        c.push(t.primary_key);
        c
    }

    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.index[..self.len].iter().map(|&c| usize::from(c))
    }

    /// The first of these columns whose value in `obj` the backend cannot store
    /// faithfully, and why: a NaN where the backend refuses it (SQLite would store NULL),
    /// a NUL character in text where the backend refuses it (PostgreSQL). Every value is
    /// looked at, whatever the column's declared type: a custom field may bind a float
    /// anywhere.
    #[inline]
    pub(crate) fn invalid<M: Model>(&self, obj: &M, caps: &Capabilities) -> Option<(usize, &'static str)> {
        if (caps.stores_nan || !M::MAY_BE_NAN) && caps.text_nul {
            return None;
        }
        self.invalid_slow(obj, caps)
    }

    #[inline(never)]
    fn invalid_slow<M: Model>(&self, obj: &M, caps: &Capabilities) -> Option<(usize, &'static str)> {
        if M::MAY_BE_NAN && !caps.stores_nan {
            if let Some(c) = self.iter().find(|&c| obj.value_ref(c).is_nan()) {
                return Some((c, "NaN cannot be stored on this backend (SQLite would store NULL)"));
            }
        }
        if !caps.text_nul {
            let nul = |c: &usize| match obj.value_ref(*c) {
                ValueRef::Text(t) => t.contains('\0'),
                ValueRef::Owned(Value::Text(t)) => t.contains('\0'),
                ValueRef::Json(j) => json_has_nul(j),
                ValueRef::Owned(Value::Json(j)) => json_has_nul(&j),
                _ => false,
            };
            if let Some(c) = self.iter().find(nul) {
                return Some((c, "text with a NUL character cannot be stored on this backend"));
            }
        }
        None
    }
}

/// Whether a JSON document has a NUL character in a string or a key (PostgreSQL's
/// `jsonb` refuses `\u0000`).
fn json_has_nul(j: &serde_json::Value) -> bool {
    match j {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(json_has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

/// `obj`'s values for `columns`, as the driver reads them while binding.
pub(crate) struct RowOf<'m, M> {
    pub(crate) obj: &'m M,
    pub(crate) columns: &'m Columns,
}

impl<M: Model> RowParams for RowOf<'_, M> {
    fn count(&self) -> usize {
        self.columns.len
    }

    fn get(&self, i: usize) -> ValueRef<'_> {
        match self.columns.index.get(i) {
            Some(&c) if i < self.columns.len => self.obj.value_ref(usize::from(c)),
            _ => ValueRef::Null,
        }
    }

    #[inline]
    fn bind(&self, b: &mut dyn Binder) {
        match self.columns.insert {
            Some(with_key) => self.obj.bind_insert(with_key, b),
            None => {
                for (k, c) in self.columns.iter().enumerate() {
                    self.obj.bind_column(c, b);
                    if !M::BINDS_ONE_PER_COLUMN {
                        b.expect_bound(k + 1);
                    }
                }
            }
        }
    }
}

/// The values of many rows for `columns`, one row after the other: the parameters of a
/// statement of many rows with a placeholder per value (`VALUES (?, ?), (?, ?)`), bound
/// straight from the models.
pub(crate) struct RowsOf<'m, M> {
    pub(crate) rows: &'m [&'m M],
    pub(crate) columns: &'m Columns,
}

impl<M: Model> RowParams for RowsOf<'_, M> {
    fn count(&self) -> usize {
        self.rows.len() * self.columns.len
    }

    fn get(&self, i: usize) -> ValueRef<'_> {
        let n = self.columns.len.max(1);
        match (self.rows.get(i / n), self.columns.index.get(i % n)) {
            (Some(row), Some(&c)) if i % n < self.columns.len => row.value_ref(usize::from(c)),
            _ => ValueRef::Null,
        }
    }

    fn bind(&self, b: &mut dyn Binder) {
        let mut at = Offset { inner: b, base: 0 };
        for row in self.rows {
            RowOf {
                obj: *row,
                columns: self.columns,
            }
            .bind(&mut at);
            at.base += self.columns.len;
        }
    }
}

/// A binder for one row among several: the count a field checks ([`Binder::expect_bound`])
/// is the row's own, so it is offset by the parameters of the rows before it.
struct Offset<'b> {
    inner: &'b mut dyn Binder,
    base: usize,
}

impl Binder for Offset<'_> {
    fn null(&mut self) {
        self.inner.null();
    }
    fn int(&mut self, v: i64) {
        self.inner.int(v);
    }
    fn float(&mut self, v: f64) {
        self.inner.float(v);
    }
    fn text(&mut self, v: &str) {
        self.inner.text(v);
    }
    fn blob(&mut self, v: &[u8]) {
        self.inner.blob(v);
    }
    fn timestamp(&mut self, v: &chrono::DateTime<chrono::Utc>) {
        self.inner.timestamp(v);
    }
    fn value(&mut self, v: &ValueRef<'_>) {
        self.inner.value(v);
    }
    fn expect_bound(&mut self, n: usize) {
        self.inner.expect_bound(self.base + n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnDef, ColumnType};

    static TABLE: TableDef = TableDef {
        name: "t",
        model: "T",
        columns: &[
            ColumnDef::new("a", "a", ColumnType::Text),
            ColumnDef::new("id", "id", ColumnType::Integer),
            ColumnDef::new("b", "b", ColumnType::Float),
            ColumnDef::new("c", "c", ColumnType::Text),
        ],
        primary_key: 1,
    };

    #[test]
    fn inserts_bind_every_column_but_a_generated_key() {
        let all: Vec<usize> = Columns::insert(&TABLE, false).iter().collect();
        assert_eq!(all, [0, 1, 2, 3]);
        let generated: Vec<usize> = Columns::insert(&TABLE, true).iter().collect();
        assert_eq!(generated, [0, 2, 3]);
    }

    #[test]
    fn updates_bind_the_changed_columns_then_the_key() {
        let mut changed = ColumnSet::EMPTY;
        changed.insert(3);
        changed.insert(0);
        let cols: Vec<usize> = Columns::update(&TABLE, changed).iter().collect();
        assert_eq!(cols, [0, 3, 1]);
    }
}
