//! Errors: one enum, every variant saying what failed and where.

pub use crate::driver::{DbError, DbErrorKind};
use crate::event::kind::RowEvent;
use crate::schema::IdentKind;
use crate::value::ValueError;

/// A boxed error from user code (a listener) or a lower layer.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a listener returns: `Ok(())`, or any error, which vetoes the write and rolls the
/// transaction back.
pub type ListenerResult = std::result::Result<(), BoxError>;

/// trigorm's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in trigorm. Every variant says what failed and where.
///
/// ```
/// use trigorm::{Engine, Error, Model, event::BeforeInsert};
/// #[derive(Model, Clone, Debug)]
/// struct Item { id: i64, name: String }
///
/// let engine = Engine::builder("sqlite::memory:")
///     .listen_named::<Item>("no_empty_names", BeforeInsert, |_ctx, change| {
///         match change.new() {
///             Some(item) if item.name.is_empty() => Err("a name is required".into()),
///             _ => Ok(()),
///         }
///     })
///     .build()?;
/// engine.create_all()?;
/// let mut s = engine.session()?;
/// let err = s.insert(Item { id: 0, name: String::new() }).unwrap_err();
/// match err {
///     Error::Listener { model, pk, listener, .. } => {
///         assert_eq!((model, pk.as_str(), listener.as_str()), ("Item", "<new>", "no_empty_names"));
///     }
///     other => panic!("unexpected: {other}"),
/// }
/// # Ok::<(), trigorm::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine URL could not be understood.
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given, its password replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database could not be opened (missing directory, not a database, locked).
    #[error("cannot open database {path:?}: {source}")]
    Open {
        /// The path or URL.
        path: String,
        /// The database's error.
        #[source]
        source: Box<DbError>,
    },
    /// A backend that this build does not include, or a feature a backend cannot do.
    #[error("{backend} does not support {feature}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// What was asked for.
        feature: String,
    },
    /// A name that is not a valid SQL identifier.
    #[error("invalid {kind} name {name:?}: {reason}")]
    InvalidIdentifier {
        /// Table, column, index or trigger.
        kind: IdentKind,
        /// The name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A model whose declaration cannot be used.
    #[error("invalid model {model}: {reason}")]
    InvalidModel {
        /// The model.
        model: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A column name the model does not have.
    #[error("model {model} has no column {column:?}")]
    UnknownColumn {
        /// The model.
        model: &'static str,
        /// The name as given.
        column: String,
    },
    /// A value read from the database that does not fit the field.
    #[error("cannot read {model}.{column}: {source}")]
    Decode {
        /// The model.
        model: &'static str,
        /// The column.
        column: &'static str,
        /// What was expected and found.
        #[source]
        source: ValueError,
    },
    /// A value that cannot be written faithfully.
    #[error("cannot write {model}.{column}: {reason}")]
    InvalidValue {
        /// The model.
        model: &'static str,
        /// The column.
        column: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A row listener returned an error (for a `Before*` event: a veto).
    #[error("listener {listener:?} ({event:?}) failed on {model} {pk}: {source}")]
    Listener {
        /// The model.
        model: &'static str,
        /// The primary key of the row (as text; `<new>` for a row not yet inserted).
        pk: String,
        /// The listener's name.
        listener: String,
        /// The event it was handling.
        event: RowEvent,
        /// The listener's error.
        #[source]
        source: BoxError,
    },
    /// A session or bulk listener returned an error.
    #[error("listener {listener:?} ({event}) failed: {source}")]
    SessionListener {
        /// The listener's name.
        listener: String,
        /// The event it was handling.
        event: &'static str,
        /// The listener's error.
        #[source]
        source: BoxError,
    },
    /// A statement failed.
    #[error("{operation} failed{}: {source}\n  sql: {sql}", on_model(model, pk))]
    Statement {
        /// What the statement did: insert, update, delete, select, execute, ...
        operation: &'static str,
        /// The model, where the statement wrote one.
        model: Option<&'static str>,
        /// The primary key of the row, where there is one.
        pk: Option<String>,
        /// The SQL text (values are bound, never in it).
        sql: String,
        /// The database's error.
        #[source]
        source: Box<DbError>,
    },
    /// [`crate::Engine::create_all`] failed midway on a backend whose DDL commits by
    /// itself (MariaDB/MySQL): the tables built before the failure stay. Running
    /// `create_all` again (once the cause is fixed) completes the rest.
    #[error("create_all stopped: {source}\n  sql: {sql}\n  complete: {created:?}\n  not created or incomplete: {not_created:?}")]
    CreateIncomplete {
        /// Tables complete (created now or before) when the statement failed.
        created: Vec<String>,
        /// Tables not created, or created without all their indexes and foreign keys.
        not_created: Vec<String>,
        /// The statement that failed.
        sql: String,
        /// The database's error.
        #[source]
        source: Box<DbError>,
    },
    /// A trigger declaration is wrong (refused before any SQL runs).
    #[error("trigger {trigger:?} of {model}: {reason}")]
    InvalidTrigger {
        /// The model (or table) it is declared on.
        model: &'static str,
        /// The trigger's declared name.
        trigger: String,
        /// What is wrong, and where.
        reason: String,
    },
    /// The database's managed triggers differ from the declarations
    /// ([`crate::trigger::manage::check`]).
    #[error("native triggers differ from their declarations: {}", drift.join("; "))]
    TriggerDrift {
        /// What differs: `name: Outdated`, `name: Missing`, `name on table: orphaned`, ...
        drift: Vec<String>,
    },
    /// Installing or removing native triggers failed midway on a backend whose DDL commits
    /// by itself (MariaDB/MySQL): what was done stays; running it again completes it.
    #[error("trigger {operation} stopped: {source}\n  sql: {sql}\n  done: {done:?}\n  not done: {not_done:?}")]
    TriggersIncomplete {
        /// install, uninstall, prune.
        operation: &'static str,
        /// The database triggers done before the failure.
        done: Vec<String>,
        /// The database triggers not done.
        not_done: Vec<String>,
        /// The statement that failed.
        sql: String,
        /// The database's error.
        #[source]
        source: Box<DbError>,
    },
    /// A transaction command (BEGIN, COMMIT, ROLLBACK) failed.
    #[error("{operation} failed: {source}")]
    Transaction {
        /// BEGIN, COMMIT or ROLLBACK.
        operation: &'static str,
        /// The database's error.
        #[source]
        source: Box<DbError>,
    },
    /// Optimistic locking: the row changed in the database since this session read it
    /// (its version column differs), so the update or delete was refused. Read the row
    /// again and retry.
    #[error("{model} {pk}: the row was changed by someone else since it was read (version {expected} expected, {found} found)")]
    Conflict {
        /// The model.
        model: &'static str,
        /// The primary key.
        pk: String,
        /// The version this session read.
        expected: i64,
        /// The version in the database.
        found: i64,
    },
    /// A row that was to be updated or deleted is not in the database.
    #[error("{model} {pk} not found")]
    NotFound {
        /// The model.
        model: &'static str,
        /// The primary key.
        pk: String,
    },
    /// Listeners kept staging writes past the bound on flush rounds.
    #[error("flush loop: listeners were still staging writes after {rounds} rounds (last round staged: {staged})")]
    FlushLoop {
        /// The bound that was reached.
        rounds: usize,
        /// What the last round staged, e.g. `Log insert x3`.
        staged: String,
    },
    /// A setting of the engine builder out of its range.
    #[error("invalid setting {setting}: {reason}")]
    InvalidSetting {
        /// The setting, e.g. `pool_size`.
        setting: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An update that would change a row's primary key (a staged copy whose key differs
    /// from the row's after a `BeforeUpdate` listener, or `update_where` assigning it):
    /// keys identify rows and never change.
    #[error("{model} {pk}: an update cannot change the primary key")]
    PrimaryKeyChange {
        /// The model.
        model: &'static str,
        /// The row's key (`<bulk>` for `update_where`).
        pk: String,
    },
    /// A listener of `AfterFlush` staged a write: nothing may be staged once the flush
    /// ended (stage in `BeforeFlush` or a row listener).
    #[error("listener {listener:?} staged a write in AfterFlush; stage writes in BeforeFlush or a row listener")]
    StagedAfterFlush {
        /// The listener's name.
        listener: String,
    },
    /// A panic (in a listener) interrupted a flush or bulk statement of this session: its
    /// transaction was rolled back at the session's next call, with the staged writes
    /// pending again.
    #[error("a write of this session was interrupted by a panic; its transaction was rolled back")]
    Interrupted,
    /// Something trigorm itself got wrong (a bug: please report it with this message).
    #[error("internal error: {0}")]
    Internal(String),
    /// No connection became free in time.
    #[error("no connection to {database} became free within {waited_ms} ms")]
    PoolTimeout {
        /// The database.
        database: String,
        /// How long the session waited.
        waited_ms: u128,
    },
}

fn on_model(model: &Option<&'static str>, pk: &Option<String>) -> String {
    match (model, pk) {
        (Some(m), Some(pk)) => format!(" on {m} {pk}"),
        (Some(m), None) => format!(" on {m}"),
        _ => String::new(),
    }
}

impl Error {
    /// The database error underneath, if there is one, also through a listener's error
    /// (a listener whose raw SQL failed).
    pub fn db_error(&self) -> Option<&DbError> {
        match self {
            Error::Open { source, .. } | Error::Statement { source, .. } | Error::Transaction { source, .. } => {
                Some(&**source)
            }
            Error::Listener { source, .. } | Error::SessionListener { source, .. } => {
                source.downcast_ref::<Error>().and_then(Error::db_error)
            }
            _ => None,
        }
    }

    /// The class of the database error underneath, if there is one.
    pub fn db_kind(&self) -> Option<DbErrorKind> {
        self.db_error().map(|e| e.kind)
    }

    /// The native trigger that refused the write, if one of trigorm's did: its database
    /// name, its table and what it refused.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # use trigorm::trigger::{manage, Ops, TriggerDef};
    /// # #[derive(Model, Clone, Debug)]
    /// # #[trigorm(table = "log")]
    /// # struct Log { id: i64, text: String }
    /// let engine = Engine::builder("sqlite::memory:").model::<Log>().build()?;
    /// engine.create_all()?;
    /// let guard = [TriggerDef::protect("append_only", Log::table(), Ops::DELETE)];
    /// engine.with_connection(|c| manage::install(c, &guard))?;
    /// let mut s = engine.session()?;
    /// s.insert(Log { id: 0, text: "kept".into() })?;
    /// let err = s.execute("DELETE FROM log", &[]).unwrap_err();
    /// let refusal = err.trigger_refusal().expect("a refusal of a managed trigger");
    /// assert_eq!((refusal.trigger.as_str(), refusal.table.as_str()), ("trigorm_log_append_only_delete", "log"));
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn trigger_refusal(&self) -> Option<TriggerRefusal> {
        let e = self.db_error()?;
        if e.kind != DbErrorKind::TriggerRefused {
            return None;
        }
        let at = e.message.find(crate::trigger::MARKER)? + crate::trigger::MARKER.len();
        let (names, reason) = e.message[at..].split_once(": ")?;
        let (trigger, table) = names.split_once(':')?;
        Some(TriggerRefusal {
            trigger: trigger.to_string(),
            table: table.to_string(),
            reason: reason.to_string(),
        })
    }

    /// Whether the transaction that failed may succeed when run again from the start: a
    /// deadlock, a serialization failure, a busy database (see
    /// [`DbErrorKind::is_retryable`]), or a version conflict of optimistic locking.
    ///
    /// ```
    /// # use trigorm::{Engine, Model};
    /// # #[derive(Model, Clone, Debug)]
    /// # struct Item { id: i64, name: String }
    /// # let engine = Engine::builder("sqlite::memory:").model::<Item>().build()?;
    /// # engine.create_all()?;
    /// let mut s = engine.session()?;
    /// let err = s.execute("INSERT INTO missing_table VALUES (1)", &[]).unwrap_err();
    /// assert!(!err.is_retryable());
    /// # Ok::<(), trigorm::Error>(())
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict { .. }) || self.db_kind().is_some_and(DbErrorKind::is_retryable)
    }
}

/// Which native trigger refused a write ([`Error::trigger_refusal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRefusal {
    /// The trigger's name in the database (`trigorm_<table>_<name>…`).
    pub trigger: String,
    /// The table.
    pub table: String,
    /// What was refused (`update refused`, `update a read-only column changed`, ...).
    pub reason: String,
}
