//! The PostgreSQL side of the parent: the `--url`, a fresh schema per run, its tables
//! created by trigorm, and the plain `postgres` connection the end state is checked on.
//!
//! Every run works in a schema of its own, `bench_<pid>_<n>`, created before the child
//! starts and dropped with `CASCADE` once its end state is checked, whether the run
//! succeeded or not ([`Schema`] drops it when it goes out of scope). The child and its
//! engine reach the schema through the URL alone: [`schema_url`] adds
//! `options=-csearch_path%3D<schema>`, which `postgres::Config::from_str` understands, so
//! the bare driver and trigorm's engine open the very same URL.

use std::str::FromStr;

use anyhow::{bail, Context, Result};
use postgres::error::SqlState;
use postgres::{Client, NoTls};

use crate::listeners::{Log, User};
use crate::server::{bench_name, redact};

/// Whether `url` names a PostgreSQL server (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `base` with the run's schema as the connection's `search_path`: the URL parameter
/// `options=-csearch_path%3D<schema>`, added to the URL's own `options` when it has some.
/// `schema` must be a plain identifier (lower-case letters, digits, `_`).
pub fn schema_url(base: &str, schema: &str) -> String {
    let opt = format!("-csearch_path%3D{schema}");
    let Some((head, query)) = base.split_once('?') else {
        return format!("{base}?options={opt}");
    };
    let mut parts: Vec<String> = query.split('&').filter(|p| !p.is_empty()).map(str::to_string).collect();
    match parts.iter_mut().find(|p| p.starts_with("options=")) {
        Some(p) => {
            p.push_str("%20");
            p.push_str(&opt);
        }
        None => parts.push(format!("options={opt}")),
    }
    format!("{head}?{}", parts.join("&"))
}

/// Check a `--url` naming a PostgreSQL server: it must parse as the `postgres` crate
/// parses it (the message never shows a password).
pub fn check_url(url: &str) -> Result<(), String> {
    postgres::Config::from_str(url)
        .map(|_| ())
        .map_err(|e| format!("{} is not a usable PostgreSQL URL: {e}", redact(url)))
}

/// The server: its URL and one administrative connection (schemas, the end-state check).
pub struct Server {
    url: String,
    admin: Client,
    version: String,
    next: u64,
}

impl Server {
    /// Connect and read the server's version.
    pub fn connect(url: &str) -> Result<Server> {
        let shown = redact(url);
        let mut admin = Client::connect(url, NoTls).with_context(|| format!("connecting to {shown}"))?;
        let version: String = admin
            .query_one("SHOW server_version", &[])
            .and_then(|r| r.try_get(0))
            .with_context(|| format!("asking {shown} for its version"))?;
        Ok(Server {
            url: url.to_string(),
            admin,
            version,
            next: 0,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// The administrative connection (in no schema of the benchmark's).
    #[cfg(test)]
    pub fn client(&mut self) -> &mut Client {
        &mut self.admin
    }

    /// A fresh, empty schema `bench_<pid>_<n>` (the next free n), dropped when the
    /// returned guard goes out of scope.
    pub fn schema(&mut self) -> Result<Schema<'_>> {
        for _ in 0..100 {
            self.next += 1;
            let name = bench_name(self.next);
            match self.admin.batch_execute(&format!("CREATE SCHEMA {name}")) {
                Ok(()) => {
                    return Ok(Schema {
                        server: self,
                        name,
                        dropped: false,
                    })
                }
                // Left by an earlier process with the same id, or another machine's; or
                // made at the same moment by another test of this process (the loser of
                // that race gets a unique violation on the catalog instead).
                Err(e)
                    if e.code() == Some(&SqlState::DUPLICATE_SCHEMA)
                        || e.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
                {
                    continue
                }
                Err(e) => return Err(e).with_context(|| format!("creating the schema {name}")),
            }
        }
        bail!("no free schema name bench_{}_<n> found", std::process::id())
    }
}

/// A run's schema on the server; dropped (`CASCADE`) when this goes out of scope.
pub struct Schema<'s> {
    server: &'s mut Server,
    name: String,
    dropped: bool,
}

impl Schema<'_> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL the run's connections use ([`schema_url`]).
    pub fn url(&self) -> String {
        schema_url(&self.server.url, &self.name)
    }

    /// The administrative connection (not in the schema: qualify names with it).
    pub fn client(&mut self) -> &mut Client {
        &mut self.server.admin
    }

    /// Create the tables `users` and `log` with trigorm's `create_all` (of the listeners'
    /// models), for every variant alike; not timed. A failure is a failure of the run.
    pub fn create_tables(&mut self) -> Result<()> {
        let url = self.url();
        trigorm::Engine::builder(&url)
            .model::<User>()
            .model::<Log>()
            .build()
            .and_then(|e| e.create_all())
            .with_context(|| format!("creating the tables in {} with trigorm's create_all", self.name))
    }

    /// Drop the schema now, reporting a failure (the guard's drop cannot).
    pub fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        self.server
            .admin
            .batch_execute(&sql)
            .with_context(|| format!("dropping the schema {}", self.name))
    }
}

impl Drop for Schema<'_> {
    fn drop(&mut self) {
        if !self.dropped {
            let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
            if let Err(e) = self.server.admin.batch_execute(&sql) {
                eprintln!(
                    "trigorm-bench: could not drop the schema {} on {}: {e}",
                    self.name,
                    redact(&self.server.url)
                );
            }
        }
    }
}

/// The server of the tests that need one, as trigorm's own tests find it:
/// `TRIGORM_POSTGRES_URL`, by default the local one. When none answers the test is
/// skipped (`None`, and it says so on stderr), unless `TRIGORM_REQUIRE_SERVERS=1`: then it
/// fails.
#[cfg(test)]
pub fn test_server() -> Option<Server> {
    let url =
        std::env::var("TRIGORM_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let required = std::env::var("TRIGORM_REQUIRE_SERVERS").is_ok_and(|v| v == "1");
    match Client::connect(&url, NoTls).map_err(anyhow::Error::new) {
        Ok(_) => Some(Server::connect(&url).expect("the PostgreSQL server answers but cannot be used")),
        Err(e) if !required => {
            eprintln!("skipped: no PostgreSQL at {}: {e:#}", redact(&url));
            None
        }
        Err(e) => panic!("no PostgreSQL at {} (TRIGORM_REQUIRE_SERVERS=1): {e:#}", redact(&url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_goes_into_the_urls_options() {
        let base = "postgres://postgres@127.0.0.1:5432/test";
        let url = schema_url(base, "bench_12_3");
        assert_eq!(
            url,
            "postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_12_3"
        );
        let c = postgres::Config::from_str(&url).expect("parses");
        assert_eq!(c.get_options(), Some("-csearch_path=bench_12_3"));
        assert_eq!(c.get_dbname(), Some("test"));
        assert_eq!(c.get_user(), Some("postgres"));

        let url = schema_url("postgresql://u@h/db?sslmode=disable&application_name=b", "bench_1_2");
        assert_eq!(
            url,
            "postgresql://u@h/db?sslmode=disable&application_name=b&options=-csearch_path%3Dbench_1_2"
        );
        let c = postgres::Config::from_str(&url).expect("parses");
        assert_eq!(c.get_options(), Some("-csearch_path=bench_1_2"));
        assert_eq!(c.get_application_name(), Some("b"));

        // The URL's own options are kept.
        let url = schema_url("postgres://h/db?options=-cwork_mem%3D64MB&", "bench_1_2");
        let c = postgres::Config::from_str(&url).expect("parses");
        assert_eq!(c.get_options(), Some("-cwork_mem=64MB -csearch_path=bench_1_2"));
        let c = postgres::Config::from_str(&schema_url("postgres://h/db?", "bench_1_2")).expect("parses");
        assert_eq!(c.get_options(), Some("-csearch_path=bench_1_2"));
    }

    #[test]
    fn urls_are_checked_and_passwords_hidden() {
        assert!(is_postgres_url("postgres://h/db") && is_postgres_url("postgresql://h/db"));
        assert!(!is_postgres_url("postgres:h") && !is_postgres_url("sqlite://x.db"));
        assert!(!is_postgres_url("mysql://h/db"));
        assert!(check_url("postgres://postgres@127.0.0.1:5432/test").is_ok());
        let e = check_url("postgres://u:secret@h:notaport/db").expect_err("bad port");
        assert!(e.contains("u:***@h:notaport/db") && !e.contains("secret"), "{e}");
    }
}
