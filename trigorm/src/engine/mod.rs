//! The engine: a database URL, a pool of connections, and the listener registry, fixed
//! when it is built and shared by every session (`Send + Sync`).

mod builder;
mod url;

use std::sync::Arc;
use std::time::Duration;

pub use builder::EngineBuilder;

use crate::driver::Backend;
use crate::error::{Error, Result};
use crate::schema::TableDef;
use crate::session::{PooledConn, Session, Shared};
use crate::sql::Ddl;

/// How long a session waits for the write lock of a busy SQLite database by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The default bound on flush rounds (semantics §4).
pub const DEFAULT_MAX_FLUSH_ROUNDS: usize = 16;

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
    inner: Arc<Shared>,
    /// The native triggers declared on the registered models ([`crate::Model::triggers`]) and with
    /// [`EngineBuilder::trigger`].
    triggers: Arc<Vec<crate::trigger::TriggerDef>>,
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
        EngineBuilder::new(url.into())
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

    /// Run `f` on a connection of the pool, outside any session (for what manages the
    /// database itself, such as [`crate::trigger::manage`]). The connection is reset
    /// before the pool lends it again.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] or [`Error::Open`], or what `f` returned.
    ///
    /// ```
    /// let engine = trigorm::Engine::connect("sqlite::memory:")?;
    /// let backend = engine.with_connection(|conn| Ok(conn.backend()))?;
    /// assert_eq!(backend, trigorm::driver::Backend::Sqlite);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn with_connection<R>(&self, f: impl FnOnce(&mut dyn crate::driver::Connection) -> Result<R>) -> Result<R> {
        let mut pooled = self.inner.acquire()?;
        let r = f(&mut *pooled.conn);
        if pooled.conn.in_transaction() {
            let _ = pooled.conn.rollback();
        }
        pooled.state.raw = true;
        self.inner.release(pooled);
        r
    }

    /// The state of the declared native triggers in the database, and the managed triggers
    /// nothing declares.
    ///
    /// # Errors
    /// The database's error.
    ///
    /// ```
    /// use trigorm::trigger::manage::State;
    /// use trigorm::{Engine, Model};
    /// #[derive(Model, Clone, Debug)]
    /// #[trigorm(protect(name = "append_only", update, delete))]
    /// struct Log { id: i64, text: String }
    /// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
    /// assert_eq!(engine.trigger_status()?.declared[0].1, State::Missing);
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn trigger_status(&self) -> Result<crate::trigger::manage::Status> {
        self.with_connection(|c| crate::trigger::manage::status(c, &self.triggers))
    }

    /// Install the declared native triggers (missing or outdated ones; installed ones are
    /// left alone). [`Engine::create_all`] does it too.
    ///
    /// # Errors
    /// As [`crate::trigger::manage::install`].
    ///
    /// ```
    /// use trigorm::trigger::manage::State;
    /// use trigorm::{Engine, Model};
    /// #[derive(Model, Clone, Debug)]
    /// #[trigorm(protect(name = "append_only", update, delete))]
    /// struct Log { id: i64, text: String }
    /// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
    /// engine.create_all()?; // the tables, then the triggers
    /// assert_eq!(engine.trigger_status()?.declared[0].1, State::Installed);
    /// assert!(engine.install_triggers()?.in_sync()); // nothing left to do
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn install_triggers(&self) -> Result<crate::trigger::manage::Status> {
        self.with_connection(|c| crate::trigger::manage::install(c, &self.triggers))
    }

    /// Fail unless the database's managed triggers are exactly the declared ones.
    ///
    /// # Errors
    /// [`Error::TriggerDrift`] listing what differs.
    ///
    /// ```
    /// use trigorm::trigger::manage::State;
    /// use trigorm::{Engine, Model};
    /// #[derive(Model, Clone, Debug)]
    /// #[trigorm(protect(name = "append_only", update, delete))]
    /// struct Log { id: i64, text: String }
    /// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
    /// assert!(matches!(engine.check_triggers(), Err(trigorm::Error::TriggerDrift { .. })));
    /// engine.create_all()?;
    /// engine.check_triggers()?;
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn check_triggers(&self) -> Result<crate::trigger::manage::Status> {
        self.with_connection(|c| crate::trigger::manage::check(c, &self.triggers))
    }

    /// Create the tables (and indexes) of every registered model and of the models they
    /// reference, parents first, in one transaction (statement by statement where DDL
    /// commits by itself: see [`Error::CreateIncomplete`]); then install the declared
    /// native triggers ([`Engine::install_triggers`]). Tables and triggers that exist as
    /// declared are left alone, so this is idempotent.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] / [`Error::InvalidIdentifier`] before anything is written,
    /// or the statement that failed.
    pub fn create_all(&self) -> Result<()> {
        let mut tables: Vec<&'static TableDef> = Vec::new();
        for t in &self.inner.models {
            collect_with_parents(t, &mut tables);
        }
        let statements = self.inner.dialect.create_tables(&tables)?;
        let mut pooled = self.inner.acquire()?;
        let r = run_ddl(&self.inner, &mut pooled, &statements);
        self.inner.release(pooled);
        r?;
        if !self.triggers.is_empty() {
            self.install_triggers()?;
        }
        Ok(())
    }
}

fn run_ddl(inner: &Shared, pooled: &mut PooledConn, statements: &[Ddl]) -> Result<()> {
    if !inner.dialect.capabilities().transactional_ddl {
        return run_ddl_unsafe(inner, pooled, statements);
    }
    let conn = &mut pooled.conn;
    conn.begin(true).map_err(|source| Error::Transaction {
        operation: "BEGIN",
        source: Box::new(source),
    })?;
    for ddl in statements {
        if let Some(o) = &inner.observer {
            o(&ddl.sql);
        }
        if let Err(source) = conn.execute_batch(&ddl.sql) {
            let _ = conn.rollback();
            return Err(Error::Statement {
                operation: "create table",
                model: None,
                pk: None,
                sql: ddl.sql.clone(),
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

/// DDL where each statement commits by itself (MariaDB/MySQL): run in order, outside any
/// transaction; a failure says which tables are complete and which are not (a rerun
/// completes them: every statement is idempotent).
fn run_ddl_unsafe(inner: &Shared, pooled: &mut PooledConn, statements: &[Ddl]) -> Result<()> {
    let conn = &mut pooled.conn;
    for (i, ddl) in statements.iter().enumerate() {
        if let Some(o) = &inner.observer {
            o(&ddl.sql);
        }
        if let Err(source) = conn.execute_batch(&ddl.sql) {
            let mut created: Vec<String> = Vec::new();
            let mut not_created: Vec<String> = Vec::new();
            for d in statements {
                let name = d.table.to_string();
                if not_created.contains(&name) || created.contains(&name) {
                    continue;
                }
                // Complete: every statement of the table ran before the failure.
                let complete = statements[i..].iter().all(|later| later.table != d.table);
                if complete {
                    created.push(name);
                } else {
                    not_created.push(name);
                }
            }
            return Err(Error::CreateIncomplete {
                created,
                not_created,
                sql: ddl.sql.clone(),
                source: Box::new(source),
            });
        }
    }
    Ok(())
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
