//! The backends trigorm knows, named at the bottom of the layers so that SQL
//! generation and drivers can both say which one they are for.

/// The backends trigorm knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite (embedded, the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MariaDB / MySQL.
    Mysql,
}

impl Backend {
    /// The backend's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MariaDB/MySQL",
        }
    }
}
