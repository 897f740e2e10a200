//! Engine URLs: which driver and dialect a URL names.

use std::time::Duration;

use crate::driver::{Backend, Driver};
use crate::error::{Error, Result};
use crate::sql::Dialect;

/// Where a `sqlite:` URL points.
#[cfg(feature = "sqlite")]
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
    Ok(Location::File(std::path::PathBuf::from(path)))
}

/// The URL as shown in errors: a password (`user:password@`, read up to the last `@`
/// before the query, as the drivers read it; or a `password=` parameter) is replaced by
/// `***`. A connection string that is not a URL (`host=… password=…`) has its
/// `password=` value hidden likewise.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_params(url, ' ');
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let mut out = format!("{scheme}://");
    match before_query.rfind('@') {
        Some(at) => {
            let userinfo = &before_query[..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => out.push_str(&format!("{user}:***")),
                None => out.push_str(userinfo),
            }
            out.push_str(&before_query[at..]);
        }
        None => out.push_str(before_query),
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_params(q, '&'));
    }
    out
}

/// `password=…` values in `sep`-separated parameters, replaced by `***`.
fn redact_params(params: &str, sep: char) -> String {
    params
        .split(sep)
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

/// What a URL opens: the driver, the dialect, and trigorm's own URL settings.
pub(super) struct Opened {
    pub(super) driver: Box<dyn Driver>,
    pub(super) dialect: Box<dyn Dialect>,
    /// `pool_size=N` in the URL's query.
    pub(super) pool_size: Option<usize>,
}

/// Take trigorm's own parameters (`pool_size`) out of a server URL's query; the rest is
/// the driver's.
#[cfg(feature = "postgres")]
fn take_settings(url: &str) -> Result<(String, Option<usize>)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), None));
    };
    let mut pool_size = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("pool_size", v)) => {
                let n = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| Error::InvalidUrl {
                        url: redact_url(url),
                        reason: format!("pool_size must be a whole number of at least 1, got {v:?}"),
                    })?;
                pool_size = Some(n);
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, pool_size))
}

pub(super) fn open_driver(url: &str, busy_timeout: Duration) -> Result<Opened> {
    let (scheme, rest) = url.split_once(':').ok_or_else(|| Error::InvalidUrl {
        url: redact_url(url),
        reason: "no scheme (sqlite:, postgres:, mysql:)".into(),
    })?;
    let _ = (rest, busy_timeout);
    match scheme {
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            let location = parse_sqlite(url, rest)?;
            Ok(Opened {
                driver: Box::new(crate::driver::sqlite::SqliteDriver::new(location, busy_timeout)),
                dialect: Box::new(crate::sql::SqliteDialect),
                pool_size: None,
            })
        }
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let (driver_url, pool_size) = take_settings(url)?;
            Ok(Opened {
                driver: Box::new(
                    crate::driver::postgres::PostgresDriver::new(&driver_url, redact_url(url)).map_err(|reason| {
                        Error::InvalidUrl {
                            url: redact_url(url),
                            reason,
                        }
                    })?,
                ),
                dialect: Box::new(crate::sql::PostgresDialect),
                pool_size,
            })
        }
        #[cfg(not(feature = "sqlite"))]
        "sqlite" => Err(Error::Unsupported {
            backend: Backend::Sqlite.name(),
            feature: "this build (enable the `sqlite` feature)".into(),
        }),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(Error::Unsupported {
            backend: Backend::Postgres.name(),
            feature: "this build (enable the `postgres` feature)".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "postgres")]
    fn pool_size_is_taken_out_of_the_query() {
        let (rest, n) = take_settings("postgres://u@h/db?pool_size=3&options=-cx%3Dy").expect("valid");
        assert_eq!((rest.as_str(), n), ("postgres://u@h/db?options=-cx%3Dy", Some(3)));
        let (rest, n) = take_settings("postgres://u@h/db?pool_size=2").expect("valid");
        assert_eq!((rest.as_str(), n), ("postgres://u@h/db", Some(2)));
        assert!(take_settings("postgres://u:secret@h/db?pool_size=0").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact_url("postgres://u:se/c@r@et@h/db?x=1"),
            "postgres://u:***@h/db?x=1"
        );
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=secret&x=1"),
            "postgres://h/db?user=u&password=***&x=1"
        );
        assert_eq!(
            redact_url("host=h password=secret user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(redact_url("sqlite://dir/x.db"), "sqlite://dir/x.db");
    }
}
