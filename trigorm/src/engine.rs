//! The engine: a database URL, a pool of connections, and the listener registry, fixed
//! when it is built and shared by every session (`Send + Sync`).

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::driver::{Backend, Driver};
use crate::error::{Error, ListenerResult, Result};
use crate::event::{BulkChange, Change, FlushEvent, RowEvent, TxEvent};
use crate::model::Model;
use crate::schema::TableDef;
use crate::session::{FlushFn, ListenerCtx, Named, PooledConn, Registry, Session, StatementObserver, TxFn};
use crate::sql::Dialect;

/// How long a session waits for the write lock of a busy SQLite database by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The default bound on flush rounds (semantics §4).
pub const DEFAULT_MAX_FLUSH_ROUNDS: usize = 16;

pub(crate) struct EngineInner {
    pub(crate) driver: Box<dyn Driver>,
    pub(crate) dialect: Box<dyn Dialect>,
    pub(crate) registry: Registry,
    pub(crate) observer: Option<StatementObserver>,
    pub(crate) max_flush_rounds: usize,
    models: Vec<&'static TableDef>,
    pool: Pool,
}

struct Pool {
    state: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
    timeout: Duration,
}

struct PoolState {
    idle: Vec<PooledConn>,
    open: usize,
}

/// The entry point: opened from a URL, it hands out [`Session`]s.
///
/// ```
/// use trigorm::{Engine, Model, event::AfterUpdate};
/// #[derive(Model, Clone, Debug)]
/// #[trigorm(table = "users")]
/// struct User { id: i64, name: String }
///
/// let engine = Engine::builder("sqlite::memory:")
///     .listen::<User>(AfterUpdate, |_ctx, change| {
///         println!("{:?} -> {:?}", change.old().map(|u| &u.name), change.new().map(|u| &u.name));
///         Ok(())
///     })
///     .build()?;
/// engine.create_all()?;
/// let mut s = engine.session()?;
/// s.insert(User { id: 0, name: "Jane".into() })?;
/// s.commit()?;
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("backend", &self.inner.driver.backend())
            .field("database", &self.inner.driver.database())
            .finish()
    }
}

impl Engine {
    /// A builder for an engine on `url`: `sqlite://path` (relative), `sqlite:///abs/path`,
    /// or `sqlite::memory:`.
    pub fn builder(url: impl Into<String>) -> EngineBuilder {
        EngineBuilder {
            url: url.into(),
            registry: Registry::default(),
            models: Vec::new(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            pool_size: 8,
            pool_timeout: Duration::from_secs(30),
            max_flush_rounds: DEFAULT_MAX_FLUSH_ROUNDS,
            observer: None,
            error: None,
        }
    }

    /// An engine on `url` with no listeners.
    ///
    /// # Errors
    /// As [`EngineBuilder::build`].
    ///
    /// ```
    /// let engine = trigorm::Engine::connect("sqlite::memory:")?;
    /// assert_eq!(engine.backend(), trigorm::driver::Backend::Sqlite);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn connect(url: impl Into<String>) -> Result<Engine> {
        Engine::builder(url).build()
    }

    /// The backend the URL chose.
    pub fn backend(&self) -> Backend {
        self.inner.driver.backend()
    }

    /// A new session on a connection from the pool.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] when every connection stays busy, or [`Error::Open`].
    pub fn session(&self) -> Result<Session> {
        let pooled = self.inner.acquire()?;
        Ok(Session::new(self.inner.clone(), pooled))
    }

    /// Create the tables (and indexes) of every registered model and of the models they
    /// reference, parents first, in one transaction. Tables that exist are left alone, so
    /// this is idempotent.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] / [`Error::InvalidIdentifier`] before anything is written,
    /// or the statement that failed.
    pub fn create_all(&self) -> Result<()> {
        let mut tables: Vec<&'static TableDef> = Vec::new();
        for t in &self.inner.models {
            collect_with_parents(t, &mut tables);
        }
        let mut statements = Vec::new();
        for t in &tables {
            statements.extend(self.inner.dialect.create_table(t)?);
        }
        let mut pooled = self.inner.acquire()?;
        let r = run_ddl(&self.inner, &mut pooled, &statements);
        self.inner.release(pooled);
        r
    }
}

fn run_ddl(inner: &EngineInner, pooled: &mut PooledConn, statements: &[String]) -> Result<()> {
    let conn = &mut pooled.conn;
    conn.begin().map_err(|source| Error::Transaction {
        operation: "BEGIN",
        source: Box::new(source),
    })?;
    for sql in statements {
        if let Some(o) = &inner.observer {
            o(sql);
        }
        if let Err(source) = conn.execute_batch(sql) {
            let _ = conn.rollback();
            return Err(Error::Statement {
                operation: "create table",
                model: None,
                pk: None,
                sql: sql.clone(),
                source: Box::new(source),
            });
        }
    }
    conn.commit().map_err(|source| {
        let _ = conn.rollback();
        Error::Transaction {
            operation: "COMMIT",
            source: Box::new(source),
        }
    })
}

/// Add `t` after every table it references (a post-order walk), once.
fn collect_with_parents(t: &'static TableDef, out: &mut Vec<&'static TableDef>) {
    fn visit(t: &'static TableDef, path: &mut Vec<*const TableDef>, out: &mut Vec<&'static TableDef>) {
        if out.iter().any(|o| std::ptr::eq(*o, t)) || path.contains(&(t as *const TableDef)) {
            return;
        }
        path.push(t);
        for c in t.columns {
            if let Some(fk) = c.references {
                visit((fk.table)(), path, out);
            }
        }
        path.pop();
        out.push(t);
    }
    visit(t, &mut Vec::new(), out);
}

impl EngineInner {
    fn acquire(&self) -> Result<PooledConn> {
        let start = Instant::now();
        let lock_err = || Error::Usage("the connection pool's lock is poisoned".into());
        let mut st = self.pool.state.lock().map_err(|_| lock_err())?;
        loop {
            if let Some(c) = st.idle.pop() {
                return Ok(c);
            }
            if st.open < self.pool.max {
                st.open += 1;
                drop(st);
                return match self.driver.connect() {
                    Ok(c) => Ok(PooledConn::new(c)),
                    Err(e) => {
                        if let Ok(mut st) = self.pool.state.lock() {
                            st.open -= 1;
                        }
                        Err(e)
                    }
                };
            }
            let waited = start.elapsed();
            if waited >= self.pool.timeout {
                return Err(Error::PoolTimeout {
                    database: self.driver.database().to_string(),
                    waited_ms: waited.as_millis(),
                });
            }
            st = self
                .pool
                .freed
                .wait_timeout(st, self.pool.timeout - waited)
                .map_err(|_| lock_err())?
                .0;
        }
    }

    /// Return a connection to the pool. One still in a transaction (a failed ROLLBACK) is
    /// rolled back, or closed if that fails too: it would hold the write lock.
    pub(crate) fn release(&self, mut pooled: PooledConn) {
        let healthy = !pooled.conn.in_transaction() || pooled.conn.rollback().is_ok();
        if let Ok(mut st) = self.pool.state.lock() {
            if healthy && !pooled.conn.in_transaction() {
                st.idle.push(pooled);
            } else {
                tracing::warn!(database = %self.driver.database(), "closing a connection left in a transaction");
                st.open -= 1;
            }
        }
        self.pool.freed.notify_one();
    }
}

/// Builds an [`Engine`]: the URL, the models, the listeners and the settings. Listeners
/// run in registration order.
pub struct EngineBuilder {
    url: String,
    registry: Registry,
    models: Vec<&'static TableDef>,
    busy_timeout: Duration,
    pool_size: usize,
    pool_timeout: Duration,
    max_flush_rounds: usize,
    observer: Option<StatementObserver>,
    error: Option<Error>,
}

impl EngineBuilder {
    fn register<M: Model>(&mut self) {
        let t = M::table();
        if !self.models.iter().any(|m| std::ptr::eq(*m, t)) {
            self.models.push(t);
        }
    }

    /// Register a model, so that [`Engine::create_all`] creates its table. Models that
    /// have listeners are registered already.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// engine.create_all()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn model<M: Model>(mut self) -> Self {
        self.register::<M>();
        self
    }

    /// Run `f` at `event` for each row of `M` (see [`RowEvent`]). Named
    /// `Model.Event#n` in errors.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// use trigorm::event::BeforeInsert;
    /// let engine = Engine::builder("sqlite::memory:")
    ///     .listen::<Item>(BeforeInsert, |_ctx, change| {
    ///         if let Some(item) = change.new_mut() {
    ///             item.name = item.name.trim().to_string(); // what is set is written
    ///         }
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// # engine.create_all()?;
    /// # let mut s = engine.session()?;
    /// # assert_eq!(s.insert(Item { id: 0, name: " a ".into() })?.name, "a");
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn listen<M: Model>(
        mut self,
        event: RowEvent,
        f: impl Fn(&mut ListenerCtx<'_, '_>, &mut Change<'_, M>) -> ListenerResult + Send + Sync + 'static,
    ) -> Self {
        let n = self.registry.model_mut::<M>().row[event.index()].len() + 1;
        let name = format!("{}.{:?}#{n}", M::table().model, event);
        self.listen_named::<M>(name, event, f)
    }

    /// [`EngineBuilder::listen`] with a name of your own, used in errors.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// use trigorm::event::BeforeDelete;
    /// let engine = Engine::builder("sqlite::memory:")
    ///     .listen_named::<Item>("no_deletes", BeforeDelete, |_ctx, _change| {
    ///         Err("items are never deleted".into())
    ///     })
    ///     .build()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn listen_named<M: Model>(
        mut self,
        name: impl Into<String>,
        event: RowEvent,
        f: impl Fn(&mut ListenerCtx<'_, '_>, &mut Change<'_, M>) -> ListenerResult + Send + Sync + 'static,
    ) -> Self {
        self.register::<M>();
        self.registry.model_mut::<M>().row[event.index()].push(Named {
            name: name.into(),
            f: Box::new(f),
        });
        self
    }

    /// Run `f` once per [`crate::Session::update_where`] / [`crate::Session::delete_where`]
    /// on `M`, after the row events, with the filter and the row count.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// let engine = Engine::builder("sqlite::memory:")
    ///     .on_bulk::<Item>(|_ctx, bulk| {
    ///         println!("{} {} rows of {}", bulk.op.as_str(), bulk.rows, bulk.model);
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn on_bulk<M: Model>(
        mut self,
        f: impl Fn(&mut ListenerCtx<'_, '_>, &BulkChange<'_>) -> ListenerResult + Send + Sync + 'static,
    ) -> Self {
        self.register::<M>();
        let ls = self.registry.model_mut::<M>();
        let name = format!("{}.Bulk#{}", M::table().model, ls.bulk.len() + 1);
        ls.bulk.push(Named { name, f: Box::new(f) });
        self
    }

    /// Run `f` at a flush event (see [`FlushEvent`]).
    ///
    /// ```
    /// use trigorm::{Engine, Value, event::BeforeFlush};
    /// let engine = Engine::builder("sqlite::memory:")
    ///     .on_flush(BeforeFlush, |ctx| {
    ///         ctx.execute("SELECT ?", &[Value::Int(1)])?;
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn on_flush(
        mut self,
        event: FlushEvent,
        f: impl Fn(&mut ListenerCtx<'_, '_>) -> ListenerResult + Send + Sync + 'static,
    ) -> Self {
        let list = &mut self.registry.flush[event as usize];
        let name = format!("{event:?}#{}", list.len() + 1);
        let f: Box<FlushFn> = Box::new(f);
        list.push(Named { name, f });
        self
    }

    /// Run `f` at a transaction event (see [`TxEvent`]); it cannot touch the database.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use trigorm::{Engine, event::AfterCommit};
    /// let commits = Arc::new(AtomicUsize::new(0));
    /// let seen = commits.clone();
    /// let engine = Engine::builder("sqlite::memory:")
    ///     .on_transaction(AfterCommit, move |_| {
    ///         seen.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn on_transaction(mut self, event: TxEvent, f: impl Fn(TxEvent) + Send + Sync + 'static) -> Self {
        let list = &mut self.registry.tx[event as usize];
        let name = format!("{event:?}#{}", list.len() + 1);
        let f: Box<TxFn> = Box::new(f);
        list.push(Named { name, f });
        self
    }

    /// How long to wait for a locked SQLite database before failing with
    /// [`crate::error::DbErrorKind::Busy`] (default 5 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = trigorm::Engine::builder("sqlite::memory:")
    ///     .busy_timeout(Duration::from_millis(250))
    ///     .pool_size(4)
    ///     .max_flush_rounds(8)
    ///     .build()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn busy_timeout(mut self, d: Duration) -> Self {
        self.busy_timeout = d;
        self
    }

    /// The most connections open at once (default 8).
    pub fn pool_size(mut self, n: usize) -> Self {
        if n == 0 {
            self.error = Some(Error::Usage("pool_size must be at least 1".into()));
        }
        self.pool_size = n;
        self
    }

    /// How long [`Engine::session`] waits for a free connection (default 30 s).
    pub fn pool_timeout(mut self, d: Duration) -> Self {
        self.pool_timeout = d;
        self
    }

    /// The bound on flush rounds (default 16).
    pub fn max_flush_rounds(mut self, n: usize) -> Self {
        if n == 0 {
            self.error = Some(Error::Usage("max_flush_rounds must be at least 1".into()));
        }
        self.max_flush_rounds = n;
        self
    }

    /// Call `f` with the SQL text of every statement sessions run (also logged with
    /// `tracing` at TRACE, target `trigorm::sql`).
    ///
    /// ```
    /// let engine = trigorm::Engine::builder("sqlite::memory:")
    ///     .on_statement(|sql| eprintln!("sql: {sql}"))
    ///     .build()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn on_statement(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }

    /// Open the database and check every registered model.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::Unsupported`] for a backend this build lacks,
    /// [`Error::InvalidModel`] / [`Error::InvalidIdentifier`] for a bad declaration, or
    /// [`Error::Open`] with the path (missing directory, not a database, locked).
    ///
    /// ```
    /// let err = trigorm::Engine::builder("sqlite:///no/such/dir/x.db").build().unwrap_err();
    /// assert!(matches!(err, trigorm::Error::Open { .. }));
    /// ```
    pub fn build(self) -> Result<Engine> {
        if let Some(e) = self.error {
            return Err(e);
        }
        for t in &self.models {
            t.validate()?;
        }
        let (driver, dialect) = open_driver(&self.url, self.busy_timeout)?;
        let first = driver.connect()?;
        let inner = EngineInner {
            driver,
            dialect,
            registry: self.registry,
            observer: self.observer,
            max_flush_rounds: self.max_flush_rounds,
            models: self.models,
            pool: Pool {
                state: Mutex::new(PoolState {
                    idle: vec![PooledConn::new(first)],
                    open: 1,
                }),
                freed: Condvar::new(),
                max: self.pool_size,
                timeout: self.pool_timeout,
            },
        };
        Ok(Engine { inner: Arc::new(inner) })
    }
}

/// Where a `sqlite:` URL points.
fn parse_sqlite(url: &str, rest: &str) -> Result<crate::driver::sqlite::Location> {
    use crate::driver::sqlite::Location;
    let bad = |reason: &str| Error::InvalidUrl {
        url: redact_url(url),
        reason: reason.to_string(),
    };
    if rest == ":memory:" || rest == "//:memory:" {
        return Ok(Location::Memory);
    }
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path.is_empty() {
        return Err(bad(
            "no path: use sqlite://file.db, sqlite:///abs/file.db or sqlite::memory:",
        ));
    }
    if path.contains('?') {
        return Err(bad("URL parameters are not supported; use the EngineBuilder settings"));
    }
    Ok(Location::File(PathBuf::from(path)))
}

/// The URL as shown in errors: a password (`user:password@`) is replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

fn open_driver(url: &str, busy_timeout: Duration) -> Result<(Box<dyn Driver>, Box<dyn Dialect>)> {
    let (scheme, rest) = url.split_once(':').ok_or_else(|| Error::InvalidUrl {
        url: redact_url(url),
        reason: "no scheme (sqlite:, postgres:, mysql:)".into(),
    })?;
    match scheme {
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            let location = parse_sqlite(url, rest)?;
            Ok((
                Box::new(crate::driver::sqlite::SqliteDriver::new(location, busy_timeout)),
                Box::new(crate::sql::sqlite::SqliteDialect),
            ))
        }
        #[cfg(not(feature = "sqlite"))]
        "sqlite" => Err(Error::Unsupported {
            backend: Backend::Sqlite.name(),
            feature: "this build (enable the `sqlite` feature)".into(),
        }),
        "postgres" | "postgresql" => Err(Error::Unsupported {
            backend: Backend::Postgres.name(),
            feature: "connections in this version (SQLite only so far)".into(),
        }),
        "mysql" | "mariadb" => Err(Error::Unsupported {
            backend: Backend::Mysql.name(),
            feature: "connections in this version (SQLite only so far)".into(),
        }),
        other => Err(Error::InvalidUrl {
            url: redact_url(url),
            reason: format!("unknown scheme {other:?}"),
        }),
    }
}
