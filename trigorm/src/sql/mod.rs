//! SQL generation: models' tables and queries rendered for one dialect, with sea-query.
//!
//! The shared rendering lives here, as the default methods of [`Dialect`]; each dialect
//! file supplies what differs (its capabilities, sea-query syntax, column types) and
//! overrides the statements it renders otherwise. Statement text
//! for a given shape (insert into T, update columns C of T, ...) is rendered once and
//! cached by the session's connection; values are always bound, never rendered.

use sea_query::{
    Alias, BinOper, ColumnDef as SqColumnDef, Expr, ExprTrait, ForeignKey, ForeignKeyAction, Index, IntoIden,
    Order as SqOrder, Query, QueryStatementBuilder, SchemaStatementBuilder, Table,
};

use crate::backend::Backend;
use crate::error::Error;
use crate::model::ColumnSet;
use crate::query::{CmpOp, Filter, Select};
use crate::schema::{validate_identifier, ColumnType, DefaultValue, IdentKind, OnDelete, TableDef};
use crate::value::Value;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "mysql")]
pub use mysql::{MysqlDialect, MysqlFlavor};
#[cfg(feature = "postgres")]
pub use postgres::PostgresDialect;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteDialect;

/// SQL text with the values to bind, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text, with the dialect's placeholders.
    pub sql: String,
    /// The values, in placeholder order.
    pub values: Vec<Value>,
}

/// One DDL statement of [`Dialect::create_tables`] and the table it builds (its
/// `CREATE TABLE`, an index, a foreign key added later).
///
/// ```
/// use trigorm::sql::{Dialect, SqliteDialect};
/// use trigorm::Model;
/// #[derive(Model, Clone, Debug)]
/// struct Tag { id: i64, name: String }
/// let ddl = SqliteDialect.create_tables(&[Tag::table()])?;
/// assert_eq!(ddl[0].table, "tag");
/// assert!(ddl[0].sql.starts_with("CREATE TABLE IF NOT EXISTS"));
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ddl {
    /// The table the statement builds.
    pub table: &'static str,
    /// The statement.
    pub sql: String,
}

/// What a backend can do, read by the code that needs it (instead of asking which
/// backend it is). One constant per dialect.
///
/// ```
/// use trigorm::sql::{Dialect, SqliteDialect};
/// let caps = SqliteDialect.capabilities();
/// assert!(caps.transactional_ddl);
/// assert!(!caps.row_locks);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `INSERT … RETURNING`: a generated key comes back from the statement itself.
    pub returning: bool,
    /// `UPDATE … RETURNING`: a statement of many rows says which rows it changed (else the
    /// session counts them, and asks which still exist when the count falls short).
    pub update_returning: bool,
    /// `DELETE … RETURNING`: a statement of many rows says which rows it deleted (else the
    /// session checks which rows exist first when raw SQL ran since it locked them).
    pub delete_returning: bool,
    /// DDL runs inside a transaction (a failed `create_all` leaves nothing behind).
    pub transactional_ddl: bool,
    /// A float NaN is stored and read back as NaN (else it is refused as a typed error).
    pub stores_nan: bool,
    /// Text may hold a NUL character (else it is refused as a typed error).
    pub text_nul: bool,
    /// Fraction digits of a stored timestamp (6: microseconds).
    pub timestamp_digits: u8,
    /// The most bound parameters one statement may have.
    pub max_bound_parameters: usize,
    /// The most parameters the session binds in one statement of many rows with a
    /// placeholder per value ([`Capabilities::sized_batches`]; at most
    /// `max_bound_parameters`). SQLite keeps the values bound to a statement in its
    /// connection's small-allocation memory (lookaside) while there is room, and allocates
    /// each one past that: 128 values a statement keep within it (measured: the `native`
    /// benchmark took 652M instructions at 128, 724M at 32 766).
    pub batch_parameters: usize,
    /// `CREATE INDEX IF NOT EXISTS`.
    pub index_if_not_exists: bool,
    /// Writers lock rows, not the database (`SELECT … FOR UPDATE`): the session locks the
    /// rows it is about to change and reads their old values then (semantics §2). Without
    /// it (SQLite), a writing transaction holds the database's write lock from its start.
    pub row_locks: bool,
    /// Many rows in one statement ([`Dialect::insert_many`] and friends): a flush sends a
    /// round's writes of one model together, in a few round trips (the events still fire
    /// per row, in staging order). Without it, each row is its own statement.
    pub batches: bool,
    /// Where [`Capabilities::batches`] is false: a run of writes to a table that has
    /// triggers still goes in statements of many rows (SQLite, where each statement that
    /// fires a trigger writing another table opens a statement journal and copies the pages
    /// it touches into it: one journal per statement of many rows, not one per row). The
    /// session reads [`Dialect::table_triggers`] before such a run; a table with a trigger
    /// that may skip a row (`RAISE(IGNORE)`) is still written row by row, where the
    /// statement of each row says whether it wrote it.
    pub batches_tables_with_triggers: bool,
    /// Once a table's largest integer key is taken, the database picks each new generated
    /// key at random (SQLite's rowid; see [`Dialect::largest_key`]). The keys a statement
    /// of many rows returns could then not be matched to its rows, so before such a
    /// statement the session reads the table's largest key, and where the run's keys would
    /// not fit below the largest integer it inserts the run row by row. Elsewhere a
    /// sequence or an `AUTO_INCREMENT` at its end fails the insert.
    pub random_keys_when_full: bool,
    /// The statements of many rows have a placeholder per value (`VALUES (?, ?), (?, ?)`),
    /// so their SQL depends on the number of rows: the session renders them for a number of
    /// rows in powers of two (a connection prepares a few sizes, not one per count) and
    /// binds the rows one after the other, straight from the models. Without it, one
    /// statement takes any number of rows, one array parameter per column (PostgreSQL's
    /// `unnest`).
    pub sized_batches: bool,
    /// A statement's foreign-key checks are made when it ends (PostgreSQL, and SQLite,
    /// which writes row by row anyway), so one statement may delete a parent together with
    /// its children. InnoDB checks at each row: there, the rows of a table that references
    /// itself go one statement each, in the order the session sorts them.
    pub statement_fk_checks: bool,
}

/// Which of sea-query's builders renders a dialect's SQL.
///
/// ```
/// use trigorm::sql::{Dialect, SqlSyntax, SqliteDialect};
/// assert_eq!(SqliteDialect.syntax(), SqlSyntax::Sqlite);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqlSyntax {
    /// `SqliteQueryBuilder`: `?` placeholders, `"quoted"` names.
    #[cfg(feature = "sqlite")]
    Sqlite,
    /// `PostgresQueryBuilder`: `$1` placeholders, `"quoted"` names.
    #[cfg(feature = "postgres")]
    Postgres,
    /// `MysqlQueryBuilder`: `?` placeholders, `` `quoted` `` names.
    #[cfg(feature = "mysql")]
    Mysql,
}

impl SqlSyntax {
    fn query(self, q: &impl QueryStatementBuilder) -> (String, sea_query::Values) {
        match self {
            #[cfg(feature = "sqlite")]
            SqlSyntax::Sqlite => q.build_any(&sea_query::SqliteQueryBuilder),
            #[cfg(feature = "postgres")]
            SqlSyntax::Postgres => q.build_any(&sea_query::PostgresQueryBuilder),
            #[cfg(feature = "mysql")]
            SqlSyntax::Mysql => q.build_any(&sea_query::MysqlQueryBuilder),
        }
    }

    fn schema(self, s: &impl SchemaStatementBuilder) -> String {
        match self {
            #[cfg(feature = "sqlite")]
            SqlSyntax::Sqlite => s.build(sea_query::SqliteQueryBuilder),
            #[cfg(feature = "postgres")]
            SqlSyntax::Postgres => s.build(sea_query::PostgresQueryBuilder),
            #[cfg(feature = "mysql")]
            SqlSyntax::Mysql => s.build(sea_query::MysqlQueryBuilder),
        }
    }
}

/// Everything the session asks of SQL generation, one value per backend (object-safe).
/// A dialect names its backend, capabilities, sea-query syntax and column types; every
/// statement has a default rendering that a dialect may override (PostgreSQL adds
/// `RETURNING` to inserts, for instance).
pub trait Dialect: Send + Sync + 'static {
    /// The backend.
    fn backend(&self) -> Backend;
    /// What the backend can do.
    fn capabilities(&self) -> &'static Capabilities;
    /// The dialect for the server a connection found, where servers of one URL scheme
    /// differ (a `mysql://` URL may reach MariaDB or MySQL): the engine asks once, with the
    /// first connection's [`crate::driver::Connection::server_version`]. The provided
    /// method keeps this dialect (`None`).
    fn for_server(&self, version: &str) -> Option<Box<dyn Dialect>> {
        let _ = version;
        None
    }
    /// Which sea-query builder renders the SQL.
    fn syntax(&self) -> SqlSyntax;
    /// The column type, by name, for a storage type (`auto_increment_key`: the column is
    /// an integer primary key the database generates).
    fn column_type(&self, ty: ColumnType, auto_increment_key: bool) -> &'static str;

    /// `INSERT INTO t (columns) VALUES (...)`; without the key column when it is generated.
    fn insert(&self, table: &TableDef, with_key: bool) -> String {
        render_insert(self.syntax(), table, with_key, false)
    }
    /// `UPDATE t SET <columns> = ... WHERE key = ?`; binds the columns in index order, then the key.
    fn update(&self, table: &TableDef, columns: ColumnSet) -> String {
        let mut b = Binder { values: Vec::new() };
        let mut q = Query::update();
        q.table(table.name);
        for i in columns.iter() {
            let e = b.bind(Value::Null);
            q.value(table.columns[i].name, e);
        }
        q.and_where(key_eq(table, &mut b));
        self.syntax().query(&q).0
    }
    /// `DELETE FROM t WHERE key = ?`
    fn delete(&self, table: &TableDef) -> String {
        let mut b = Binder { values: Vec::new() };
        self.syntax()
            .query(Query::delete().from_table(table.name).and_where(key_eq(table, &mut b)))
            .0
    }
    /// `SELECT <all columns> FROM t WHERE key = ?`; with `lock`, the row is locked for
    /// the rest of the transaction where the backend locks rows ([`Capabilities::row_locks`]).
    fn select_by_key(&self, table: &TableDef, lock: bool) -> String {
        let mut b = Binder { values: Vec::new() };
        let mut q = Query::select();
        q.columns(table.columns.iter().map(|c| c.name))
            .from(table.name)
            .and_where(key_eq(table, &mut b));
        if lock && self.capabilities().row_locks {
            q.lock_exclusive();
        }
        self.syntax().query(&q).0
    }
    /// A select of all columns; with `lock`, the rows are locked as in
    /// [`Dialect::select_by_key`].
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] for a column the model does not have.
    fn select(&self, table: &TableDef, select: &Select, lock: bool) -> Result<Statement, Error> {
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
        if lock && self.capabilities().row_locks {
            q.lock_exclusive();
        }
        Ok(b.finish(self.syntax().query(&q)))
    }
    /// `SELECT COUNT(*) FROM t WHERE ...`
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] for a column the model does not have.
    fn count(&self, table: &TableDef, filter: &Filter) -> Result<Statement, Error> {
        table.validate()?;
        let mut b = Binder { values: Vec::new() };
        let mut q = Query::select();
        q.expr(Expr::cust("COUNT(*)")).from(table.name);
        if *filter != Filter::All {
            q.and_where(render_filter(table, filter, &mut b)?);
        }
        Ok(b.finish(self.syntax().query(&q)))
    }
    /// An INSERT of many rows, its parameters one array per column (see
    /// [`crate::driver::Statements::execute_arrays`]), in the order of
    /// [`Dialect::insert`]'s; returning the generated keys when `with_key` is false.
    /// `rows`: how many rows, where the SQL depends on it ([`Capabilities::sized_batches`];
    /// else ignored). `None` where the backend does not batch ([`Capabilities::batches`]),
    /// or cannot return the generated keys of many rows (the rows then go one by one).
    fn insert_many(&self, table: &TableDef, with_key: bool, rows: usize) -> Option<String> {
        let _ = (table, with_key, rows);
        None
    }
    /// An UPDATE of `columns` on many rows (arrays of the columns in index order, then of
    /// the keys), returning the keys of the rows it changed where the backend can
    /// ([`Capabilities::update_returning`]). `None` where the backend does not batch.
    fn update_many(&self, table: &TableDef, columns: ColumnSet, rows: usize) -> Option<String> {
        let _ = (table, columns, rows);
        None
    }
    /// A DELETE of many rows (one array of keys), returning the keys of the rows it
    /// deleted where the backend can ([`Capabilities::delete_returning`]). `None` where the
    /// backend does not batch.
    fn delete_many(&self, table: &TableDef, rows: usize) -> Option<String> {
        let _ = (table, rows);
        None
    }
    /// A SELECT of all columns of many rows by key (one array of keys), locking them for
    /// the rest of the transaction, in key order. `None` where the backend does not batch.
    fn select_many_locked(&self, table: &TableDef, rows: usize) -> Option<String> {
        let _ = (table, rows);
        None
    }
    /// A SELECT of a table's largest key, where the database picks a generated key at
    /// random once the largest integer is taken
    /// ([`Capabilities::random_keys_when_full`]); `None` elsewhere.
    fn largest_key(&self, table: &TableDef) -> Option<String> {
        let _ = table;
        None
    }
    /// A query of one parameter, a table's name, that returns the SQL of each trigger on
    /// the table, where the backend batches only tables with triggers
    /// ([`Capabilities::batches_tables_with_triggers`]); `None` elsewhere.
    fn table_triggers(&self) -> Option<&'static str> {
        None
    }
    /// `CREATE TABLE IF NOT EXISTS` and its indexes.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] for a generated index name that is too long.
    fn create_table(&self, table: &TableDef) -> Result<Vec<String>, Error> {
        render_create_table(self, table, &|_| true)
    }
    /// The DDL of `tables`, in their order (parents first, as far as references allow),
    /// each statement with the table it builds: what [`crate::Engine::create_all`] runs.
    /// The provided method creates each table with all its foreign keys, which suits a
    /// backend that accepts a reference to a table not created yet (SQLite); others
    /// override it.
    ///
    /// # Errors
    /// As [`Dialect::create_table`].
    fn create_tables(&self, tables: &[&'static TableDef]) -> Result<Vec<Ddl>, Error> {
        let mut out = Vec::new();
        for t in tables {
            out.extend(self.create_table(t)?.into_iter().map(|sql| Ddl { table: t.name, sql }));
        }
        Ok(out)
    }
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

/// The SQL of an `ON DELETE` action.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn on_delete_sql(a: OnDelete) -> &'static str {
    match a {
        OnDelete::NoAction => "NO ACTION",
        OnDelete::Restrict => "RESTRICT",
        OnDelete::Cascade => "CASCADE",
        OnDelete::SetNull => "SET NULL",
        OnDelete::SetDefault => "SET DEFAULT",
    }
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

/// The INSERT of `table`; `returning`: the generated key comes back as a row.
pub(crate) fn render_insert(syntax: SqlSyntax, table: &TableDef, with_key: bool, returning: bool) -> String {
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
    if returning {
        q.returning_col(table.pk().name);
    }
    syntax.query(&q).0
}

/// Append `items` to `sql`, separated by commas.
pub(crate) fn push_list(sql: &mut String, items: impl Iterator<Item = String>) {
    for (n, item) in items.enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&item);
    }
}

/// A foreign key to a table created later (tables that reference each other): the table,
/// the column, the parent, and the constraint's name (validated).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) struct LateForeignKey<'a> {
    pub(crate) table: &'a TableDef,
    pub(crate) column: &'a crate::schema::ColumnDef,
    pub(crate) parent: &'static TableDef,
    pub(crate) on_delete: OnDelete,
    pub(crate) name: String,
}

/// The DDL of `tables` in order, each created with its foreign keys to the tables before
/// it (and itself); a foreign key to a table created later is rendered by `late` and
/// added after every table, for backends that refuse a reference to a table that does not
/// exist yet.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn create_tables_late_fks<D: Dialect + ?Sized>(
    d: &D,
    tables: &[&'static TableDef],
    style: &TableStyle,
    late: &dyn Fn(&LateForeignKey<'_>) -> Result<String, Error>,
) -> Result<Vec<Ddl>, Error> {
    let mut out = Vec::new();
    let mut later = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let made = &tables[..=i];
        let exists = |p: &TableDef| made.iter().any(|m| std::ptr::eq(*m, p));
        out.extend(
            render_create_table_styled(d, t, &exists, style)?
                .into_iter()
                .map(|sql| Ddl { table: t.name, sql }),
        );
        for c in t.columns {
            let Some(fk) = c.references else { continue };
            let parent = (fk.table)();
            if exists(parent) {
                continue;
            }
            parent.validate()?;
            let name = format!("fk_{}_{}", t.name, c.name);
            validate_identifier(IdentKind::Index, &name)?;
            let sql = late(&LateForeignKey {
                table: t,
                column: c,
                parent,
                on_delete: fk.on_delete,
                name,
            })?;
            later.push(Ddl { table: t.name, sql });
        }
    }
    out.extend(later);
    Ok(out)
}

/// How a dialect's `CREATE TABLE` differs from the shared rendering.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TableStyle {
    /// The type of a text column that is a key, unique or indexed, where `TEXT` cannot be
    /// (MySQL wants a length: `VARCHAR(255)`).
    pub(crate) keyed_text: Option<&'static str>,
    /// Indexes inside the `CREATE TABLE` (so that `IF NOT EXISTS` covers them), for a
    /// backend without `CREATE INDEX IF NOT EXISTS`.
    pub(crate) inline_indexes: bool,
    /// Table options: engine, character set, collation.
    pub(crate) options: Option<(&'static str, &'static str, &'static str)>,
    /// A timestamp column's default is written without its offset (`DATETIME` has none;
    /// the session's time zone is UTC).
    #[cfg(feature = "mysql")]
    pub(crate) naive_timestamps: bool,
    /// A text, JSON or blob column's default is an expression in parentheses (MySQL 8
    /// refuses a literal default on those types).
    pub(crate) expression_defaults: bool,
}

/// `CREATE TABLE IF NOT EXISTS` of `table` and its indexes, with the foreign keys to the
/// tables `inline` accepts (the others are added by the caller).
pub(crate) fn render_create_table<D: Dialect + ?Sized>(
    d: &D,
    table: &TableDef,
    inline: &dyn Fn(&TableDef) -> bool,
) -> Result<Vec<String>, Error> {
    render_create_table_styled(d, table, inline, &TableStyle::default())
}

/// As [`render_create_table`], in a dialect's [`TableStyle`].
pub(crate) fn render_create_table_styled<D: Dialect + ?Sized>(
    d: &D,
    table: &TableDef,
    inline: &dyn Fn(&TableDef) -> bool,
    style: &TableStyle,
) -> Result<Vec<String>, Error> {
    table.validate()?;
    let syntax = d.syntax();
    let mut t = Table::create();
    t.table(table.name).if_not_exists();
    for c in table.columns {
        let mut def = SqColumnDef::new(c.name);
        let ty = match style.keyed_text {
            Some(keyed) if c.ty == ColumnType::Text && (c.primary_key || c.unique || c.index) => keyed,
            _ => d.column_type(c.ty, c.auto_increment),
        };
        def.custom(Alias::new(ty).into_iden());
        if !c.nullable {
            def.not_null();
        }
        if c.primary_key {
            def.primary_key();
        }
        if c.unique && !c.primary_key {
            def.unique_key();
        }
        match c.default {
            // Only the MySQL dialect writes timestamps without an offset.
            #[cfg(feature = "mysql")]
            Some(DefaultValue::Text(text)) if style.naive_timestamps && c.ty == ColumnType::Timestamp => {
                let at = crate::value::parse_timestamp(text).ok_or_else(|| Error::InvalidModel {
                    model: table.model,
                    reason: format!("the default {text:?} of column {:?} is not a timestamp", c.name),
                })?;
                def.default(at.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string());
            }
            Some(DefaultValue::Text(text))
                if style.expression_defaults
                    && matches!(c.ty, ColumnType::Text | ColumnType::Json | ColumnType::Blob) =>
            {
                let literal = text.replace('\\', "\\\\").replace('\'', "\\'");
                // sea-query writes a custom default in parentheses: `DEFAULT ('text')`.
                def.default(Expr::cust(format!("'{literal}'")));
            }
            Some(v) => {
                def.default(default_value(v));
            }
            None => {}
        }
        t.col(&mut def);
        if let Some(fk) = c.references.filter(|fk| inline((fk.table)())) {
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
    if let Some((engine, charset, collation)) = style.options {
        t.engine(engine).character_set(charset).collate(collation);
    }
    let mut indexes = Vec::new();
    // Foreign keys are indexed too: without one, every delete of a parent scans the
    // child table.
    for c in table
        .columns
        .iter()
        .filter(|c| (c.index || c.references.is_some()) && !c.unique && !c.primary_key)
    {
        let name = format!("idx_{}_{}", table.name, c.name);
        validate_identifier(IdentKind::Index, &name)?;
        let mut index = Index::create();
        index.name(name).col(c.name);
        if style.inline_indexes {
            t.index(&mut index);
            continue;
        }
        index.table(table.name);
        if d.capabilities().index_if_not_exists {
            index.if_not_exists();
        }
        indexes.push(syntax.schema(&index));
    }
    let mut out = vec![syntax.schema(&t)];
    out.extend(indexes);
    Ok(out)
}
