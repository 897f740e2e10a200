//! Engine URLs: which driver and dialect a URL names.

use std::path::PathBuf;
use std::time::Duration;

use crate::driver::{Backend, Driver};
use crate::error::{Error, Result};
use crate::sql::Dialect;

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

pub(super) fn open_driver(url: &str, busy_timeout: Duration) -> Result<(Box<dyn Driver>, Box<dyn Dialect>)> {
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
