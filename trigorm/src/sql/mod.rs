//! SQL generation: models' tables and queries rendered for one dialect, with sea-query.
//!
//! The shared rendering lives here; each dialect file supplies the few things that differ
//! (its sea-query builder, column types, how a writing transaction begins). Statement text
//! for a given shape (insert into T, update columns C of T, ...) is rendered once and
//! cached by the session's connection; values are always bound, never rendered.

use sea_query::{
    Alias, BinOper, ColumnDef as SqColumnDef, Expr, ExprTrait, ForeignKey, ForeignKeyAction, Index, IntoIden,
    Order as SqOrder, Query, QueryBuilder, SchemaBuilder, Table,
};

use crate::backend::Backend;
use crate::error::Error;
use crate::model::ColumnSet;
use crate::query::{CmpOp, Filter, Select};
use crate::schema::{validate_identifier, ColumnType, DefaultValue, IdentKind, OnDelete, TableDef};
use crate::value::Value;

#[cfg(feature = "sqlite")]
pub mod sqlite;

/// SQL text with the values to bind, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text, with the dialect's placeholders.
    pub sql: String,
    /// The values, in placeholder order.
    pub values: Vec<Value>,
}

/// What differs between dialects. Implement this (one small file) for a new backend;
/// [`Dialect`] follows from it.
pub trait DialectSpec: Send + Sync + 'static {
    /// The sea-query builder of this dialect.
    type Builder: QueryBuilder + SchemaBuilder + Default;
    /// The backend.
    const BACKEND: Backend;
    /// The column type, by name, for a storage type.
    fn column_type(ty: ColumnType, auto_increment_key: bool) -> &'static str;
}

/// Everything the session asks of SQL generation. Object-safe; one value per backend.
pub trait Dialect: Send + Sync + 'static {
    /// The backend.
    fn backend(&self) -> Backend;
    /// `INSERT INTO t (columns) VALUES (...)`; without the key column when it is generated.
    fn insert(&self, table: &TableDef, with_key: bool) -> String;
    /// `UPDATE t SET <columns> = ... WHERE key = ?`; binds the columns in index order, then the key.
    fn update(&self, table: &TableDef, columns: ColumnSet) -> String;
    /// `DELETE FROM t WHERE key = ?`
    fn delete(&self, table: &TableDef) -> String;
    /// `SELECT <all columns> FROM t WHERE key = ?`
    fn select_by_key(&self, table: &TableDef) -> String;
    /// A select of all columns.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] for a column the model does not have.
    fn select(&self, table: &TableDef, select: &Select) -> Result<Statement, Error>;
    /// `SELECT COUNT(*) FROM t WHERE ...`
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] for a column the model does not have.
    fn count(&self, table: &TableDef, filter: &Filter) -> Result<Statement, Error>;
    /// `CREATE TABLE IF NOT EXISTS` and its indexes.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] for a generated index name that is too long.
    fn create_table(&self, table: &TableDef) -> Result<Vec<String>, Error>;
}

/// Values are rendered as their index into our own list, so that sea-query's placeholder
/// order maps back to our values without converting them.
struct Binder {
    values: Vec<Value>,
}

impl Binder {
    fn bind(&mut self, v: Value) -> Expr {
        self.values.push(v);
        Expr::val((self.values.len() - 1) as i64)
    }

    fn finish(mut self, (sql, placeholders): (String, sea_query::Values)) -> Statement {
        let values = placeholders
            .0
            .into_iter()
            .map(|p| match p {
                sea_query::Value::BigInt(Some(i)) => std::mem::take(&mut self.values[i as usize]),
                sea_query::Value::BigUnsigned(Some(n)) => Value::Int(n as i64),
                other => Value::Text(format!("{other:?}")),
            })
            .collect();
        Statement { sql, values }
    }
}

fn column_of(table: &TableDef, name: &str) -> Result<&'static str, Error> {
    let i = table.column_index(name)?;
    Ok(table.columns[i].name)
}

fn render_filter(table: &TableDef, f: &Filter, b: &mut Binder) -> Result<Expr, Error> {
    Ok(match f {
        Filter::All => Expr::cust("1 = 1"),
        // `= NULL` would match nothing: what is meant is IS NULL.
        Filter::Cmp(c, CmpOp::Eq, Value::Null) => Expr::col(column_of(table, &c.0)?).is_null(),
        Filter::Cmp(c, CmpOp::Ne, Value::Null) => Expr::col(column_of(table, &c.0)?).is_not_null(),
        Filter::Cmp(c, op, v) => {
            let c = Expr::col(column_of(table, &c.0)?);
            let v = b.bind(v.clone());
            match op {
                CmpOp::Eq => c.eq(v),
                CmpOp::Ne => c.ne(v),
                CmpOp::Lt => c.lt(v),
                CmpOp::Le => c.lte(v),
                CmpOp::Gt => c.gt(v),
                CmpOp::Ge => c.gte(v),
            }
        }
        Filter::In(c, values) => {
            let c = Expr::col(column_of(table, &c.0)?);
            if values.is_empty() {
                Expr::cust("1 = 0")
            } else {
                let list: Vec<Expr> = values.iter().map(|v| b.bind(v.clone())).collect();
                c.binary(BinOper::In, Expr::tuple(list))
            }
        }
        Filter::Like(c, pattern) => {
            let c = Expr::col(column_of(table, &c.0)?);
            c.binary(BinOper::Like, b.bind(Value::Text(pattern.clone())))
        }
        Filter::IsNull(c) => Expr::col(column_of(table, &c.0)?).is_null(),
        Filter::And(fs) | Filter::Or(fs) => {
            let is_and = matches!(f, Filter::And(_));
            let mut it = fs.iter();
            let Some(first) = it.next() else {
                return Ok(Expr::cust(if is_and { "1 = 1" } else { "1 = 0" }));
            };
            let mut acc = render_filter(table, first, b)?;
            for g in it {
                let e = render_filter(table, g, b)?;
                acc = if is_and { acc.and(e) } else { acc.or(e) };
            }
            acc
        }
        Filter::Not(g) => render_filter(table, g, b)?.not(),
    })
}

fn key_eq(table: &TableDef, b: &mut Binder) -> Expr {
    Expr::col(table.pk().name).eq(b.bind(Value::Null))
}

fn on_delete(a: OnDelete) -> ForeignKeyAction {
    match a {
        OnDelete::NoAction => ForeignKeyAction::NoAction,
        OnDelete::Restrict => ForeignKeyAction::Restrict,
        OnDelete::Cascade => ForeignKeyAction::Cascade,
        OnDelete::SetNull => ForeignKeyAction::SetNull,
        OnDelete::SetDefault => ForeignKeyAction::SetDefault,
    }
}

fn default_value(d: DefaultValue) -> sea_query::Value {
    match d {
        DefaultValue::Int(i) => i.into(),
        DefaultValue::Float(f) => f.into(),
        DefaultValue::Bool(b) => b.into(),
        DefaultValue::Text(s) => s.into(),
    }
}

impl<S: DialectSpec> Dialect for S {
    fn backend(&self) -> Backend {
        S::BACKEND
    }

    fn insert(&self, table: &TableDef, with_key: bool) -> String {
        let mut b = Binder { values: Vec::new() };
        let cols: Vec<&'static str> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(i, _)| with_key || *i != table.primary_key)
            .map(|(_, c)| c.name)
            .collect();
        let mut q = Query::insert();
        q.into_table(table.name);
        if cols.is_empty() {
            // A model with only a generated key.
            q.or_default_values();
        } else {
            let exprs: Vec<Expr> = cols.iter().map(|_| b.bind(Value::Null)).collect();
            q.columns(cols).values_panic(exprs);
        }
        q.to_owned().build(S::Builder::default()).0
    }

    fn update(&self, table: &TableDef, columns: ColumnSet) -> String {
        let mut b = Binder { values: Vec::new() };
        let mut q = Query::update();
        q.table(table.name);
        for i in columns.iter() {
            let e = b.bind(Value::Null);
            q.value(table.columns[i].name, e);
        }
        q.and_where(key_eq(table, &mut b));
        q.build(S::Builder::default()).0
    }

    fn delete(&self, table: &TableDef) -> String {
        let mut b = Binder { values: Vec::new() };
        Query::delete()
            .from_table(table.name)
            .and_where(key_eq(table, &mut b))
            .build(S::Builder::default())
            .0
    }

    fn select_by_key(&self, table: &TableDef) -> String {
        let mut b = Binder { values: Vec::new() };
        Query::select()
            .columns(table.columns.iter().map(|c| c.name))
            .from(table.name)
            .and_where(key_eq(table, &mut b))
            .build(S::Builder::default())
            .0
    }

    fn select(&self, table: &TableDef, select: &Select) -> Result<Statement, Error> {
        table.validate()?;
        let mut b = Binder { values: Vec::new() };
        let mut q = Query::select();
        q.columns(table.columns.iter().map(|c| c.name)).from(table.name);
        if let Some(f) = &select.filter {
            if *f != Filter::All {
                q.and_where(render_filter(table, f, &mut b)?);
            }
        }
        for o in &select.order {
            let c = column_of(table, &o.col.0)?;
            q.order_by(c, if o.desc { SqOrder::Desc } else { SqOrder::Asc });
        }
        if let Some(l) = select.limit {
            q.limit(l);
        } else if select.offset.is_some() {
            // Every dialect wants a LIMIT before OFFSET.
            q.limit(i64::MAX as u64);
        }
        if let Some(o) = select.offset {
            q.offset(o);
        }
        Ok(b.finish(q.build(S::Builder::default())))
    }

    fn count(&self, table: &TableDef, filter: &Filter) -> Result<Statement, Error> {
        table.validate()?;
        let mut b = Binder { values: Vec::new() };
        let mut q = Query::select();
        q.expr(Expr::cust("COUNT(*)")).from(table.name);
        if *filter != Filter::All {
            q.and_where(render_filter(table, filter, &mut b)?);
        }
        Ok(b.finish(q.build(S::Builder::default())))
    }

    fn create_table(&self, table: &TableDef) -> Result<Vec<String>, Error> {
        table.validate()?;
        let mut t = Table::create();
        t.table(table.name).if_not_exists();
        for c in table.columns {
            let mut d = SqColumnDef::new(c.name);
            d.custom(Alias::new(S::column_type(c.ty, c.auto_increment)).into_iden());
            if !c.nullable {
                d.not_null();
            }
            if c.primary_key {
                d.primary_key();
            }
            if c.unique && !c.primary_key {
                d.unique_key();
            }
            if let Some(v) = c.default {
                d.default(default_value(v));
            }
            t.col(&mut d);
            if let Some(fk) = c.references {
                let parent = (fk.table)();
                parent.validate()?;
                t.foreign_key(
                    ForeignKey::create()
                        .from(table.name, c.name)
                        .to(parent.name, parent.pk().name)
                        .on_delete(on_delete(fk.on_delete)),
                );
            }
        }
        let mut out = vec![t.build(S::Builder::default())];
        // Foreign keys are indexed too: without one, every delete of a parent scans the
        // child table.
        for c in table
            .columns
            .iter()
            .filter(|c| (c.index || c.references.is_some()) && !c.unique && !c.primary_key)
        {
            let name = format!("idx_{}_{}", table.name, c.name);
            validate_identifier(IdentKind::Index, &name)?;
            out.push(
                Index::create()
                    .if_not_exists()
                    .name(name)
                    .table(table.name)
                    .col(c.name)
                    .build(S::Builder::default()),
            );
        }
        Ok(out)
    }
}
