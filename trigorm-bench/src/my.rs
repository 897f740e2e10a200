//! The MariaDB/MySQL side of the parent: the `--url` (`mysql://` or `mariadb://`), a
//! fresh database per run with its tables, and the plain `mysql` connection the end
//! state is checked on. (Named `my.rs`, as `pg.rs` is for PostgreSQL: a module `mysql`
//! would shadow the `mysql` crate.)
//!
//! Every run works in a database of its own, `bench_<pid>_<n>` (a schema is a database on
//! MariaDB/MySQL), created before the child starts and dropped once its end state is
//! checked, whether the run succeeded or not ([`Database`] drops it when it goes out of
//! scope): the database of the URL (`test`, say) is never written to. The child and its
//! engine reach the run's database through the URL alone: [`database_url`] puts its name
//! in the URL's path, so the bare driver and trigorm's engine open the very same URL.
//!
//! The tables are created by the benchmark's own DDL ([`SCHEMA`], untimed, identical for
//! every variant), not by trigorm's `create_all` as on PostgreSQL: trigorm's MariaDB/MySQL
//! driver is newer than this benchmark, and the floor must run without it. The columns
//! are the ones trigorm's `create_all` makes there (a test compares them while trigorm
//! opens the URL), and the engine's `create_all` in the listeners' and native runs finds
//! the tables in place (in the native run it installs the audit triggers on them).
//!
//! Every connection, the floor's, the parent's and the check's, is opened by [`connect`]
//! as trigorm's MariaDB/MySQL driver opens its own: the `mysql` crate's options from the
//! URL (`mariadb://` read as `mysql://`), found rows (`CLIENT_FOUND_ROWS`), and on
//! connecting the driver's session settings ([`SESSION_SETTINGS`]): `utf8mb4`, a strict
//! `sql_mode`, `time_zone = '+00:00'` (a `DATETIME(6)` holds UTC) and READ COMMITTED.

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use mysql::consts::CapabilityFlags;
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};

use crate::server::{bench_name, redact};

/// The tables of the workload on MariaDB/MySQL (`users`, then `log`), as the benchmark
/// creates them in a run's database.
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE `users` (`id` BIGINT AUTO_INCREMENT PRIMARY KEY, `name` LONGTEXT NOT NULL, \
     `email` LONGTEXT NOT NULL, `created_at` DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE `log` (`id` BIGINT AUTO_INCREMENT PRIMARY KEY, `user_id` BIGINT NOT NULL, \
     `change_type` LONGTEXT NOT NULL, `old_name` LONGTEXT, `new_name` LONGTEXT, `changed_at` DATETIME(6) NOT NULL) \
     ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
];

/// What every connection runs on connecting: the session settings of trigorm's
/// MariaDB/MySQL driver (`SESSION_SETTINGS` in its `driver/mysql.rs`), so that the floor's
/// session works as the engine's does.
pub const SESSION_SETTINGS: [&str; 3] = [
    "SET NAMES utf8mb4",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,\
     NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'",
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
];

/// The server's error "database exists".
const ER_DB_CREATE_EXISTS: u16 = 1007;

/// Whether `url` names a MariaDB/MySQL server (`mysql://` or `mariadb://`).
pub fn is_mysql_url(url: &str) -> bool {
    url.starts_with("mysql://") || url.starts_with("mariadb://")
}

/// The URL as the `mysql` crate reads it: `mariadb://` becomes `mysql://`.
pub fn driver_url(url: &str) -> String {
    match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_string(),
    }
}

/// The options of a connection on `url`: the URL's, read by the `mysql` crate, found
/// rows, and [`SESSION_SETTINGS`] run on connecting (the message never shows a password).
pub fn opts(url: &str) -> Result<Opts> {
    let base =
        Opts::from_url(&driver_url(url)).map_err(|e| anyhow!("{} is not a usable MySQL URL: {e}", redact(url)))?;
    Ok(OptsBuilder::from_opts(base)
        .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS)
        .init(SESSION_SETTINGS.to_vec())
        .into())
}

/// Check a `--url` naming a MariaDB/MySQL server: it must parse as the `mysql` crate
/// parses it.
pub fn check_url(url: &str) -> Result<(), String> {
    opts(url).map(|_| ()).map_err(|e| e.to_string())
}

/// Connect to `url` ([`opts`]).
pub fn connect(url: &str) -> Result<Conn> {
    let opts = opts(url)?;
    Conn::new(opts).with_context(|| format!("connecting to {}", redact(url)))
}

/// `base` with `db` as its database: the URL's path replaced, its scheme, user, host and
/// parameters kept. `db` must be a plain name (letters, digits, `_`).
pub fn database_url(base: &str, db: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("mysql", base));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match rest[authority_end..].split_once('?') {
        Some((_, query)) if !query.is_empty() => format!("{scheme}://{authority}/{db}?{query}"),
        _ => format!("{scheme}://{authority}/{db}"),
    }
}

/// A UTC time as a `DATETIME(6)` value (microseconds, truncated).
pub fn datetime_value(t: DateTime<Utc>) -> Value {
    let t = t.naive_utc();
    Value::Date(
        u16::try_from(t.year()).unwrap_or(0),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        (t.nanosecond() % 1_000_000_000) / 1_000,
    )
}

/// A `DATETIME` value read back as UTC: a binary-protocol date, or its text.
pub fn value_datetime(v: &Value) -> Option<DateTime<Utc>> {
    match *v {
        Value::Date(y, mo, d, h, mi, s, us) => NaiveDate::from_ymd_opt(y.into(), mo.into(), d.into())?
            .and_hms_micro_opt(h.into(), mi.into(), s.into(), us)
            .map(|t| t.and_utc()),
        Value::Bytes(ref b) => NaiveDateTime::parse_from_str(std::str::from_utf8(b).ok()?, "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|t| t.and_utc()),
        _ => None,
    }
}

/// The server: its URL and one administrative connection (databases, the end-state
/// check).
pub struct Server {
    url: String,
    admin: Conn,
    version: String,
    next: u64,
}

impl Server {
    /// Connect and read the server's version.
    pub fn connect(url: &str) -> Result<Server> {
        let shown = redact(url);
        let mut admin = connect(url)?;
        let version: String = admin
            .query_first("SELECT VERSION()")
            .with_context(|| format!("asking {shown} for its version"))?
            .ok_or_else(|| anyhow!("{shown} did not tell its version"))?;
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

    /// `VERSION()`, such as `10.11.19-MariaDB-0+deb12u1`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The administrative connection (in the URL's database: qualify names).
    #[cfg(test)]
    pub fn client(&mut self) -> &mut Conn {
        &mut self.admin
    }

    /// A fresh, empty database `bench_<pid>_<n>` (the next free n), dropped when the
    /// returned guard goes out of scope.
    pub fn database(&mut self) -> Result<Database<'_>> {
        for _ in 0..100 {
            self.next += 1;
            let name = bench_name(self.next);
            match self
                .admin
                .query_drop(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            {
                Ok(()) => {
                    return Ok(Database {
                        server: self,
                        name,
                        dropped: false,
                    })
                }
                // Left by an earlier process with the same id, or another machine's.
                Err(mysql::Error::MySqlError(e)) if e.code == ER_DB_CREATE_EXISTS => continue,
                Err(e) => return Err(e).with_context(|| format!("creating the database {name}")),
            }
        }
        bail!("no free database name bench_{}_<n> found", std::process::id())
    }
}

/// `mariadb` or `mysql`, by a `VERSION()` text.
pub fn flavour(version: &str) -> &'static str {
    if version.contains("MariaDB") {
        "mariadb"
    } else {
        "mysql"
    }
}

/// A run's database on the server; dropped when this goes out of scope.
pub struct Database<'s> {
    server: &'s mut Server,
    name: String,
    dropped: bool,
}

impl Database<'_> {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL the run's connections use ([`database_url`]).
    pub fn url(&self) -> String {
        database_url(&self.server.url, &self.name)
    }

    /// The administrative connection (not in the database: qualify names with it).
    pub fn client(&mut self) -> &mut Conn {
        &mut self.server.admin
    }

    /// Create the tables `users` and `log` ([`SCHEMA`]) on a connection to the run's URL,
    /// for every variant alike; not timed. A failure is a failure of the run.
    pub fn create_tables(&mut self) -> Result<()> {
        let url = self.url();
        let mut c = connect(&url)?;
        for ddl in SCHEMA {
            c.query_drop(ddl)
                .with_context(|| format!("creating the tables in {}: {ddl}", self.name))?;
        }
        Ok(())
    }

    /// Drop the database now, reporting a failure (the guard's drop cannot).
    pub fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        let sql = format!("DROP DATABASE IF EXISTS {}", self.name);
        self.server
            .admin
            .query_drop(sql)
            .with_context(|| format!("dropping the database {}", self.name))
    }
}

impl Drop for Database<'_> {
    fn drop(&mut self) {
        if !self.dropped {
            let sql = format!("DROP DATABASE IF EXISTS {}", self.name);
            if let Err(e) = self.server.admin.query_drop(sql) {
                eprintln!(
                    "trigorm-bench: could not drop the database {} on {}: {e}",
                    self.name,
                    redact(&self.server.url)
                );
            }
        }
    }
}

/// The server of the tests that need one, as trigorm's own tests find it:
/// `TRIGORM_MYSQL_URL`, by default the local one. When none answers the test is skipped
/// (`None`, and it says so on stderr), unless `TRIGORM_REQUIRE_SERVERS=1`: then it fails.
#[cfg(test)]
pub fn test_server() -> Option<Server> {
    let url = std::env::var("TRIGORM_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let required = std::env::var("TRIGORM_REQUIRE_SERVERS").is_ok_and(|v| v == "1");
    match connect(&url) {
        Ok(_) => Some(Server::connect(&url).expect("the MariaDB/MySQL server answers but cannot be used")),
        Err(e) if !required => {
            eprintln!("skipped: no MariaDB/MySQL at {}: {e:#}", redact(&url));
            None
        }
        Err(e) => panic!(
            "no MariaDB/MySQL at {} (TRIGORM_REQUIRE_SERVERS=1): {e:#}",
            redact(&url)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn the_database_goes_into_the_urls_path() {
        let base = "mysql://root@127.0.0.1:3306/test";
        let url = database_url(base, "bench_12_3");
        assert_eq!(url, "mysql://root@127.0.0.1:3306/bench_12_3");
        let o = opts(&url).expect("parses");
        assert_eq!(o.get_db_name(), Some("bench_12_3"));
        assert_eq!(o.get_user(), Some("root"));
        assert_eq!(o.get_init(), SESSION_SETTINGS.map(String::from));
        assert!(o
            .get_additional_capabilities()
            .contains(CapabilityFlags::CLIENT_FOUND_ROWS));

        assert_eq!(database_url("mysql://u@h", "bench_1_2"), "mysql://u@h/bench_1_2");
        assert_eq!(database_url("mysql://u@h/?", "bench_1_2"), "mysql://u@h/bench_1_2");
        let url = database_url(
            "mariadb://u:pw@h:3307/db?prefer_socket=false&stmt_cache_size=8",
            "bench_1_2",
        );
        assert_eq!(
            url,
            "mariadb://u:pw@h:3307/bench_1_2?prefer_socket=false&stmt_cache_size=8"
        );
        let o = opts(&url).expect("a mariadb URL is read as mysql");
        assert_eq!(
            (o.get_db_name(), o.get_tcp_port(), o.get_pass()),
            (Some("bench_1_2"), 3307, Some("pw"))
        );
        assert!(!o.get_prefer_socket() && o.get_stmt_cache_size() == 8);
    }

    #[test]
    fn urls_are_checked_and_passwords_hidden() {
        assert!(is_mysql_url("mysql://h/db") && is_mysql_url("mariadb://h/db"));
        assert!(!is_mysql_url("mysql:h") && !is_mysql_url("postgres://h/db"));
        assert_eq!(driver_url("mariadb://u@h/db"), "mysql://u@h/db");
        assert_eq!(driver_url("mysql://u@h/db"), "mysql://u@h/db");
        assert!(check_url("mysql://root@127.0.0.1:3306/test").is_ok());
        assert!(check_url("mariadb://root@127.0.0.1:3306/test").is_ok());
        let e = check_url("mysql://u:secret@h:notaport/db").expect_err("bad port");
        assert!(e.contains("u:***@h:notaport/db") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn datetimes_round_trip_at_microseconds() {
        let t = Utc::now();
        let back = value_datetime(&datetime_value(t)).expect("a date");
        assert!(back <= t && t - back < TimeDelta::microseconds(1), "{t} -> {back}");
        let text = Value::Bytes(b"2026-01-02 03:04:05.123456".to_vec());
        assert_eq!(
            value_datetime(&text).map(|t| t.to_string()),
            Some("2026-01-02 03:04:05.123456 UTC".to_string())
        );
        assert_eq!(value_datetime(&Value::Int(3)), None);
        assert_eq!(flavour("10.11.19-MariaDB-0+deb12u1"), "mariadb");
        assert_eq!(flavour("8.0.36"), "mysql");
    }

    /// A run's database is made, reached through its URL with the session's time zone,
    /// given its tables, and gone afterwards; the URL's own database is left alone.
    #[test]
    fn a_run_gets_a_database_of_its_own() {
        let Some(mut server) = test_server() else { return };
        let mut db = server.database().expect("database");
        let name = db.name().to_string();
        db.create_tables().expect("tables");
        let mut c = connect(&db.url()).expect("connect");
        let (current, tz, mode): (Option<String>, String, String) = c
            .query_first("SELECT DATABASE(), @@time_zone, @@sql_mode")
            .expect("query")
            .expect("a row");
        assert_eq!((current.as_deref(), tz.as_str()), (Some(name.as_str()), "+00:00"));
        assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
        let tables: Vec<String> = c.query("SHOW TABLES").expect("tables");
        assert_eq!(tables, ["log", "users"]);
        drop(c);
        db.drop_now().expect("drop");
        let left: Vec<String> = server
            .client()
            .exec(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (&name,),
            )
            .expect("query");
        assert!(left.is_empty(), "the database {name} is dropped");

        // Dropped by the guard too (a failed run).
        let name = server.database().expect("database").name().to_string();
        let left: Vec<String> = server
            .client()
            .exec(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (&name,),
            )
            .expect("query");
        assert!(left.is_empty(), "the database {name} is dropped");
    }

    /// The columns of [`SCHEMA`] are those trigorm's `create_all` makes for the listeners'
    /// models. Skipped (it says so) while trigorm refuses the URL as unsupported.
    #[test]
    fn the_tables_are_the_ones_trigorm_makes() {
        let Some(mut server) = test_server() else { return };
        type Column = (String, String, String, String, String, String);
        let columns = |c: &mut Conn, db: &str| -> Vec<Column> {
            c.exec(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA, COALESCE(CHARACTER_SET_NAME, '') \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
                (db,),
            )
            .expect("columns")
        };
        let mut ours = server.database().expect("database");
        ours.create_tables().expect("tables");
        let name = ours.name().to_string();
        let mine = columns(ours.client(), &name);
        ours.drop_now().expect("drop");
        assert_eq!(mine.len(), 10, "{mine:?}");

        let mut theirs = server.database().expect("database");
        let url = theirs.url();
        if let Some(why) = crate::listeners::unsupported(&url) {
            eprintln!("skipped: trigorm does not open MariaDB/MySQL URLs: {why}");
            return;
        }
        crate::listeners::audited(&url)
            .model::<crate::listeners::User>()
            .build()
            .and_then(|e| e.create_all())
            .expect("trigorm's create_all");
        let name = theirs.name().to_string();
        let made = columns(theirs.client(), &name);
        theirs.drop_now().expect("drop");
        assert_eq!(mine, made, "the benchmark's tables (left) against trigorm's (right)");
    }
}
