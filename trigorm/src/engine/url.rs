//! Engine URLs: which driver and dialect a URL names.

use std::time::Duration;

use crate::driver::Driver;
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

/// The URL as shown in errors, with every password it may hold replaced by `***`: the
/// `user:password@` part (everything before the last `@` counts as user and password, as
/// drivers may read a password holding `/`, `?` or `@`), and `password=` parameters,
/// quoted or not, with or without spaces around `=` (also in a connection string that is
/// not a URL, `host=… password=…`). Hiding too much is harmless; showing a password is not.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_params(url);
    };
    let (userinfo, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at..]),
        None => (None, rest),
    };
    let mut out = format!("{scheme}://");
    if let Some(userinfo) = userinfo {
        match userinfo.split_once(':') {
            Some((user, _password)) => out.push_str(&format!("{user}:***")),
            None => out.push_str(userinfo),
        }
    }
    out.push_str(&redact_params(after));
    out
}

/// `password=value` (any case, spaces around `=`, the value quoted with `'` or up to the
/// next `&`, space or end) with the value replaced by `***`.
fn redact_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find("password") {
        let key_end = at + found + "password".len();
        let rest = &text[key_end..];
        let eq = rest.len() - rest.trim_start().len();
        if !rest[eq..].starts_with('=') {
            out.push_str(&text[at..key_end]);
            at = key_end;
            continue;
        }
        let value_start = key_end + eq + 1;
        let value = &text[value_start..];
        let skip = value.len() - value.trim_start().len();
        let value = &value[skip..];
        let len = if let Some(quoted) = value.strip_prefix('\'') {
            quoted.find('\'').map_or(value.len(), |end| end + 2)
        } else {
            value.find(['&', ' ']).unwrap_or(value.len())
        };
        out.push_str(&text[at..value_start]);
        out.push_str("***");
        at = value_start + skip + len;
    }
    out.push_str(&text[at..]);
    out
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
#[cfg(any(feature = "postgres", feature = "mysql"))]
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
            backend: crate::driver::Backend::Sqlite.name(),
            feature: "this build (enable the `sqlite` feature)".into(),
        }),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(Error::Unsupported {
            backend: crate::driver::Backend::Postgres.name(),
            feature: "this build (enable the `postgres` feature)".into(),
        }),
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => {
            let (driver_url, pool_size) = take_settings(url)?;
            Ok(Opened {
                driver: Box::new(
                    crate::driver::mysql::MysqlDriver::new(&driver_url, redact_url(url)).map_err(|reason| {
                        Error::InvalidUrl {
                            url: redact_url(url),
                            reason,
                        }
                    })?,
                ),
                // Refined by the server's version once connected (MariaDB or MySQL).
                dialect: Box::new(crate::sql::MysqlDialect::default()),
                pool_size,
            })
        }
        #[cfg(not(feature = "mysql"))]
        "mysql" | "mariadb" => Err(Error::Unsupported {
            backend: crate::driver::Backend::Mysql.name(),
            feature: "this build (enable the `mysql` feature)".into(),
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
