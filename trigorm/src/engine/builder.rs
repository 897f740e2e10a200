//! Building an engine: URL, models, listeners, settings.

use std::sync::Arc;
use std::time::Duration;

use super::url::open_driver;
use super::{Engine, DEFAULT_BUSY_TIMEOUT, DEFAULT_MAX_FLUSH_ROUNDS};
use crate::driver::Driver;
use crate::error::{Error, ListenerResult, Result};
use crate::event::{BulkChange, Change, FlushEvent, RowEvent, TxEvent};
use crate::model::Model;
use crate::schema::TableDef;
use crate::session::{FlushFn, ListenerCtx, Named, Pool, PooledConn, Registry, Shared, StatementObserver, TxFn};

/// The most connections an engine opens at once, unless the builder or the URL says.
const DEFAULT_POOL_SIZE: usize = 8;

/// Wraps the driver a URL opens (see [`EngineBuilder::wrap_driver`]).
type DriverWrapper = Box<dyn FnOnce(Box<dyn Driver>) -> Box<dyn Driver>>;

/// Builds an [`Engine`]: the URL, the models, the listeners and the settings. Listeners
/// run in registration order.
pub struct EngineBuilder {
    url: String,
    registry: Registry,
    models: Vec<&'static TableDef>,
    busy_timeout: Duration,
    pool_size: Option<usize>,
    pool_timeout: Duration,
    wrap: Option<DriverWrapper>,
    max_flush_rounds: usize,
    observer: Option<StatementObserver>,
    triggers: Vec<crate::trigger::TriggerDef>,
    /// How each registered model reads a value of a column (to check trigger states).
    readers: Vec<(&'static TableDef, ValueCheck)>,
    error: Option<Error>,
}

/// [`Model::check_value`] of one model.
type ValueCheck = fn(usize, &crate::ValueRef<'_>) -> Result<()>;

impl EngineBuilder {
    pub(super) fn new(url: String) -> EngineBuilder {
        EngineBuilder {
            url,
            registry: Registry::default(),
            models: Vec::new(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            pool_size: None,
            wrap: None,
            pool_timeout: Duration::from_secs(30),
            max_flush_rounds: DEFAULT_MAX_FLUSH_ROUNDS,
            observer: None,
            triggers: Vec::new(),
            readers: Vec::new(),
            error: None,
        }
    }

    /// Declare a native trigger: [`Engine::create_all`] installs it with the tables, and
    /// [`Engine::check_triggers`] says whether the database has it as declared. A wrong
    /// declaration fails [`EngineBuilder::build`], before anything is written.
    ///
    /// ```
    /// use trigorm::trigger::{Ops, TriggerDef};
    /// use trigorm::{Engine, Model};
    /// #[derive(Model, Clone, Debug)]
    /// #[trigorm(table = "log")]
    /// struct Log { id: i64, text: String }
    ///
    /// let engine = Engine::builder("sqlite::memory:")
    ///     .model::<Log>()
    ///     .trigger(TriggerDef::protect("append_only", Log::table(), Ops::UPDATE | Ops::DELETE))
    ///     .build()?;
    /// engine.create_all()?;
    /// engine.check_triggers()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn trigger(mut self, def: crate::trigger::TriggerDef) -> Self {
        self.triggers.push(def);
        self
    }

    fn register<M: Model>(&mut self) {
        let t = M::table();
        if !self.models.iter().any(|m| std::ptr::eq(*m, t)) {
            self.models.push(t);
            self.readers.push((t, M::check_value));
            self.triggers.extend(M::triggers());
            if self.error.is_none() {
                self.error = check_defaults::<M>().err();
            }
        }
    }

    /// Register a model, so that [`Engine::create_all`] creates its table. Models that
    /// have listeners are registered already. The native triggers the model declares
    /// ([`Model::triggers`]) come with it: [`EngineBuilder::build`] refuses one the backend
    /// cannot have (a soft delete on MariaDB, a custom trigger without a body for it).
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

    /// The most connections open at once (default: the URL's `pool_size=N`, else 8).
    pub fn pool_size(mut self, n: usize) -> Self {
        if n == 0 {
            self.error = Some(Error::InvalidSetting {
                setting: "pool_size",
                reason: "must be at least 1".into(),
            });
        }
        self.pool_size = Some(n);
        self
    }

    /// Wrap the driver the URL opens in one of your own, which sees every connection and
    /// statement: to log statements, or to inject faults in tests (a connection that fails
    /// at its k-th statement).
    ///
    /// ```
    /// use trigorm::driver::{Backend, Connection, DbError, Driver};
    /// /// Counts the connections opened.
    /// struct Counting(Box<dyn Driver>, std::sync::Arc<std::sync::atomic::AtomicUsize>);
    /// impl Driver for Counting {
    ///     fn backend(&self) -> Backend { self.0.backend() }
    ///     fn database(&self) -> &str { self.0.database() }
    ///     fn connect(&self) -> Result<Box<dyn Connection>, DbError> {
    ///         self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    ///         self.0.connect()
    ///     }
    /// }
    /// let opened = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    /// let seen = opened.clone();
    /// let engine = trigorm::Engine::builder("sqlite::memory:")
    ///     .wrap_driver(move |d| Box::new(Counting(d, seen)))
    ///     .build()?;
    /// assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 1);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn wrap_driver(mut self, f: impl FnOnce(Box<dyn Driver>) -> Box<dyn Driver> + 'static) -> Self {
        self.wrap = Some(Box::new(f));
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
            self.error = Some(Error::InvalidSetting {
                setting: "max_flush_rounds",
                reason: "must be at least 1".into(),
            });
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
        for t in &self.triggers {
            t.validate()?;
            let reader = self.readers.iter().find(|(table, _)| std::ptr::eq(*table, t.table));
            if let Some((_, read)) = reader {
                check_states(t, *read)?;
            }
        }
        crate::trigger::check_names(&self.triggers)?;
        let opened = open_driver(&self.url, self.busy_timeout)?;
        let dialect = opened.dialect;
        let driver = match self.wrap {
            Some(wrap) => wrap(opened.driver),
            None => opened.driver,
        };
        let pool_size = self.pool_size.or(opened.pool_size).unwrap_or(DEFAULT_POOL_SIZE);
        let first = driver.connect().map_err(|source| Error::Open {
            path: driver.database().to_string(),
            source: Box::new(source),
        })?;
        let dialect = match first.server_version().and_then(|v| dialect.for_server(v)) {
            Some(refined) => refined,
            None => dialect,
        };
        // What the backend cannot express (or a custom trigger without its body) is refused
        // now, before any SQL runs.
        for t in &self.triggers {
            crate::trigger::compile_among(t, dialect.backend(), &self.triggers)?;
        }
        let inner = Shared {
            driver,
            dialect,
            registry: self.registry,
            observer: self.observer,
            max_flush_rounds: self.max_flush_rounds,
            models: self.models,
            pool: Pool::new(PooledConn::new(first), pool_size, self.pool_timeout),
        };
        Ok(Engine {
            inner: Arc::new(inner),
            triggers: Arc::new(self.triggers),
        })
    }
}

/// The states of a transition and the value of a soft delete must be values of their
/// column's field (a variant of its enum, say).
fn check_states(t: &crate::trigger::TriggerDef, read: ValueCheck) -> Result<()> {
    use crate::trigger::TriggerKind;
    let (column, values): (&str, Vec<&crate::Value>) = match &t.kind {
        TriggerKind::Transitions { column, allowed } => (column, allowed.iter().flat_map(|(a, b)| [a, b]).collect()),
        TriggerKind::SoftDelete { column, value } => (column, vec![value]),
        _ => return Ok(()),
    };
    let index = t.table.column_index(column)?;
    for v in values {
        read(index, &v.as_value_ref()).map_err(|e| Error::InvalidTrigger {
            model: t.table.model,
            trigger: t.name.clone(),
            reason: format!("{v:?} is not a value of column {column:?}: {e}"),
        })?;
    }
    Ok(())
}

/// Every column `default` of `M` must read back as its field: a default the field cannot
/// read (a text that is none of an enum's variants, say) would make every row that gets it
/// fail to load.
fn check_defaults<M: Model>() -> Result<()> {
    let t = M::table();
    for (i, c) in t.columns.iter().enumerate() {
        if let Some(d) = &c.default {
            M::check_value(i, &d.value_ref()).map_err(|e| Error::InvalidModel {
                model: t.model,
                reason: format!(
                    "the default {d:?} of column {:?} does not read back as its field: {e}",
                    c.name
                ),
            })?;
        }
    }
    Ok(())
}
