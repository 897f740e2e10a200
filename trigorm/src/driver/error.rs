//! What a driver reports: a database's error, classified independently of the backend.
//! (The crate's [`crate::Error`] wraps it with what failed and where; drivers never see
//! that type.)

/// An error of code a driver calls back (a row callback's, a flush's): the driver hands it
/// back unchanged.
pub type CallbackError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The SQLSTATE of a refusal by a trigger trigorm compiled, on PostgreSQL (`RAISE
/// EXCEPTION … USING ERRCODE`): its own, where `P0001` is that of any `RAISE EXCEPTION`
/// (both are [`DbErrorKind::TriggerRefused`]; SQLite and MariaDB refuse with
/// `RAISE(ABORT, …)` and `SIGNAL SQLSTATE '45000'`).
///
/// ```
/// assert_eq!(trigorm::driver::POSTGRES_REFUSAL_SQLSTATE, "TG001");
/// ```
pub const POSTGRES_REFUSAL_SQLSTATE: &str = "TG001";

/// The class of a database error, independent of the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbErrorKind {
    /// A `UNIQUE` or primary-key constraint.
    UniqueViolation,
    /// A foreign-key constraint.
    ForeignKeyViolation,
    /// A `NOT NULL` constraint.
    NotNullViolation,
    /// A `CHECK` constraint.
    CheckViolation,
    /// The database stayed locked past the busy timeout.
    Busy,
    /// The file is not a database of this backend.
    NotADatabase,
    /// The database file or its directory could not be opened.
    CannotOpen,
    /// A trigger refused the write (`RAISE(ABORT, ...)` and the like).
    TriggerRefused,
    /// The transaction was chosen as a deadlock victim and rolled back: retry it.
    Deadlock,
    /// The transaction could not be serialized with concurrent ones: retry it.
    SerializationFailure,
    /// An earlier statement of this transaction failed, which ended it: nothing more runs
    /// in it until it is rolled back (semantics §4).
    TransactionAborted,
    /// The connection to the server broke; its transaction is lost.
    ConnectionLost,
    /// The server could not be reached.
    Unreachable,
    /// The server refused the credentials.
    AuthenticationFailed,
    /// The database named in the URL does not exist.
    UnknownDatabase,
    /// A value the database cannot store (a NUL byte in PostgreSQL text, a string longer
    /// than its column).
    InvalidValue,
    /// trigorm refused the statement before sending it: it would begin, end or commit the
    /// session's transaction (which the session owns), or leave state behind on a pooled
    /// connection. The message says which and what to do instead.
    Refused,
    /// Anything else.
    Other,
}

impl DbErrorKind {
    /// Whether running the whole transaction again may succeed: a deadlock, a
    /// serialization failure, or (SQLite) a database that stayed busy.
    ///
    /// ```
    /// use trigorm::error::DbErrorKind;
    /// assert!(DbErrorKind::Deadlock.is_retryable());
    /// assert!(!DbErrorKind::UniqueViolation.is_retryable());
    /// ```
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            DbErrorKind::Deadlock | DbErrorKind::SerializationFailure | DbErrorKind::Busy
        )
    }
}

impl DbError {
    /// The error of opening a connection: one that carries no code of the server's (no
    /// server answered, or the connection broke before it said why) is
    /// [`DbErrorKind::Unreachable`].
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    pub(crate) fn at_connect(mut self) -> DbError {
        if self.code.is_none() {
            self.kind = DbErrorKind::Unreachable;
        }
        self
    }
}

/// An error the database (or its driver) reported.
#[derive(Debug, thiserror::Error)]
#[error("{kind:?} on {database}: {message}")]
pub struct DbError {
    /// The class of error.
    pub kind: DbErrorKind,
    /// The backend's own code (SQLite extended result code, SQLSTATE, MySQL error number).
    pub code: Option<String>,
    /// The backend's message.
    pub message: String,
    /// Which database: a file path, or a URL without its password.
    pub database: String,
}
