//! Shared test support: the databases every scenario runs on, the seed models, and a
//! statement log (the instrumented-driver view of what a session sent).
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use trigorm::{EngineBuilder, Model};

/// A database for one test: a fresh file in its own directory, a private in-memory one,
/// a schema of its own on the PostgreSQL server, or a database of its own on the MariaDB
/// server (dropped when the test ends).
pub struct Db {
    pub url: String,
    pub kind: &'static str,
    pub dir: Option<tempfile::TempDir>,
    /// The schema of a PostgreSQL test, dropped with it.
    pub schema: Option<Schema>,
    /// The database of a MariaDB test, dropped with it.
    pub my_database: Option<MyDatabase>,
}

/// A MariaDB test's database and the server it lives on; dropped when the test ends.
pub struct MyDatabase {
    pub name: String,
    pub server: String,
}

/// The MariaDB / MySQL server the tests use: `TRIGORM_MYSQL_URL`, by default the local
/// service.
pub fn mysql_url() -> String {
    std::env::var("TRIGORM_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_string())
}

/// `server`'s URL with another login (`user` or `user:password`, in place of its own) and
/// database (or its own), its scheme, host, port and parameters kept.
pub fn url_with(server: &str, login: Option<&str>, database: Option<&str>) -> String {
    let (scheme, rest) = server.split_once("://").expect("a server URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (own_login, host) = match authority.rsplit_once('@') {
        Some((l, h)) => (Some(l), h),
        None => (None, authority),
    };
    let (own_database, query) = path.split_at(path.find('?').unwrap_or(path.len()));
    let own_database = own_database.trim_start_matches('/');
    let login = login.or(own_login).map_or(String::new(), |l| format!("{l}@"));
    let database = database.unwrap_or(own_database);
    format!("{scheme}://{login}{host}/{database}{query}")
}

/// The user of `server`'s URL (`default` when it names none).
pub fn url_user(server: &str, default: &str) -> String {
    let rest = server.split_once("://").map_or(server, |(_, r)| r);
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    authority
        .rsplit_once('@')
        .map_or(default, |(l, _)| l.split(':').next().unwrap_or(default))
        .to_string()
}

/// Everything an error shows: its text, its debug form and its sources'.
pub fn shown(err: &trigorm::Error) -> String {
    let mut out = format!("{err}\n{err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        out.push_str(&format!("\n{s}\n{s:?}"));
        source = s.source();
    }
    out
}

impl Drop for MyDatabase {
    /// Drop the database, first ending the test's connections that may still hold locks
    /// in it, so that nothing is left behind even by a test that failed with sessions open.
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        let Ok(mut c) = mysql::Conn::new(mysql::Opts::from_url(&self.server).expect("the test server's URL")) else {
            return;
        };
        let ids: Vec<u64> = c
            .exec(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
                (self.name.as_str(),),
            )
            .unwrap_or_default();
        for id in ids {
            let _ = c.query_drop(format!("KILL CONNECTION {id}"));
        }
        let _ = c.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
    }
}

/// A PostgreSQL test's schema and the server it lives on; dropped (CASCADE) when the test
/// ends.
pub struct Schema {
    pub name: String,
    pub server: String,
}

/// The PostgreSQL server the tests use: `TRIGORM_POSTGRES_URL`, by default the local
/// service.
pub fn postgres_url() -> String {
    std::env::var("TRIGORM_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Whether a missing server fails the test instead of skipping it (`.ci/run` sets it).
pub fn servers_required() -> bool {
    std::env::var("TRIGORM_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

static SCHEMA_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Drop for Schema {
    /// Drop the schema, first ending the test's connections that may still hold locks in it
    /// (its engine's are named after the schema: `application_name`), so that nothing is
    /// left behind even by a test that failed with sessions open.
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            );
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

impl Db {
    pub fn file() -> Db {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Db {
            url,
            kind: "file",
            dir: Some(dir),
            schema: None,
            my_database: None,
        }
    }

    pub fn memory() -> Db {
        Db {
            url: "sqlite::memory:".to_string(),
            kind: "memory",
            dir: None,
            schema: None,
            my_database: None,
        }
    }

    /// A fresh schema on the PostgreSQL server, or `None` (the test is skipped, and says
    /// so) when no server answers and `TRIGORM_REQUIRE_SERVERS` is not `1`.
    pub fn postgres() -> Option<Db> {
        let server = postgres_url();
        let mut client = match postgres::Client::connect(&server, postgres::NoTls) {
            Ok(c) => c,
            Err(e) if !servers_required() => {
                eprintln!("skipped: no PostgreSQL at {server}: {e}");
                return None;
            }
            Err(e) => panic!("no PostgreSQL at {server} (TRIGORM_REQUIRE_SERVERS=1): {e}"),
        };
        let n = SCHEMA_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!("t_{}_{n}_{nanos}", std::process::id());
        client
            .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .expect("create the test's schema");
        let sep = if server.contains('?') { '&' } else { '?' };
        Some(Db {
            url: format!("{server}{sep}application_name={schema}&options=-csearch_path%3D{schema}"),
            kind: "postgres",
            dir: None,
            schema: Some(Schema { name: schema, server }),
            my_database: None,
        })
    }

    /// A fresh database on the MariaDB server, or `None` (the test is skipped, and says so)
    /// when no server answers and `TRIGORM_REQUIRE_SERVERS` is not `1`.
    pub fn mariadb() -> Option<Db> {
        use mysql::prelude::Queryable;
        let server = mysql_url();
        let opts = mysql::Opts::from_url(&server).expect("TRIGORM_MYSQL_URL is a mysql:// URL");
        let mut client = match mysql::Conn::new(opts) {
            Ok(c) => c,
            Err(e) if !servers_required() => {
                eprintln!("skipped: no MariaDB at {server}: {e}");
                return None;
            }
            Err(e) => panic!("no MariaDB at {server} (TRIGORM_REQUIRE_SERVERS=1): {e}"),
        };
        let n = SCHEMA_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("t_{}_{n}_{nanos}", std::process::id());
        client
            .query_drop(format!("CREATE DATABASE `{name}`"))
            .expect("create the test's database");
        Some(Db {
            url: url_with(&server, None, Some(&name)),
            kind: "mariadb",
            dir: None,
            schema: None,
            my_database: Some(MyDatabase { name, server }),
        })
    }

    /// Whether this is the MariaDB database.
    pub fn is_mariadb(&self) -> bool {
        self.kind == "mariadb"
    }

    /// Whether this is a server (PostgreSQL or MariaDB), where rows are locked, not the
    /// database.
    pub fn is_server(&self) -> bool {
        self.is_postgres() || self.is_mariadb()
    }

    /// A plain connection to this MariaDB test's database (MariaDB tests only).
    pub fn my_client(&self) -> mysql::Conn {
        mysql::Conn::new(mysql::Opts::from_url(&self.url).expect("the test's URL")).expect("a plain MariaDB connection")
    }

    /// Whether this is the PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.kind == "postgres"
    }

    /// Raw SQL written with `?` placeholders, in this database's placeholders (`$1`, `$2`,
    /// ... on PostgreSQL). `?` inside quotes is left alone.
    pub fn sql(&self, text: &str) -> String {
        if !self.is_postgres() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + 8);
        let (mut n, mut quoted) = (0, None::<char>);
        for c in text.chars() {
            match (c, quoted) {
                ('\'' | '"', None) => quoted = Some(c),
                (q, Some(open)) if q == open => quoted = None,
                ('?', None) => {
                    n += 1;
                    out.push_str(&format!("${n}"));
                    continue;
                }
                _ => {}
            }
            out.push(c);
        }
        out
    }

    /// A plain connection to this PostgreSQL test's schema (PostgreSQL tests only).
    pub fn pg_client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("a plain PostgreSQL connection")
    }

    /// The file's path (file databases only).
    pub fn path(&self) -> Option<std::path::PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("test.db"))
    }
}

/// Write a test once, run it on a SQLite file, in memory, on PostgreSQL and on MariaDB:
/// `on_each_db!(name, |db: Db| { ... });` (attributes such as `#[ignore]` may come first)
#[macro_export]
macro_rules! on_each_db {
    ($(#[$meta:meta])* $name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            $(#[$meta])*
            fn file() {
                let f: fn($crate::common::Db) = $body;
                f($crate::common::Db::file());
            }
            #[test]
            $(#[$meta])*
            fn memory() {
                let f: fn($crate::common::Db) = $body;
                f($crate::common::Db::memory());
            }
            #[test]
            $(#[$meta])*
            fn postgres() {
                let f: fn($crate::common::Db) = $body;
                if let Some(db) = $crate::common::Db::postgres() {
                    f(db);
                }
            }
            #[test]
            $(#[$meta])*
            fn mariadb() {
                let f: fn($crate::common::Db) = $body;
                if let Some(db) = $crate::common::Db::mariadb() {
                    f(db);
                }
            }
        }
    };
}

/// As [`on_each_db!`], on MariaDB alone (skipped, saying so, when no server answers and
/// `TRIGORM_REQUIRE_SERVERS` is not `1`): for what only MariaDB/MySQL has.
#[macro_export]
macro_rules! on_mariadb {
    ($(#[$meta:meta])* $name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            $(#[$meta])*
            fn mariadb() {
                let f: fn($crate::common::Db) = $body;
                if let Some(db) = $crate::common::Db::mariadb() {
                    f(db);
                }
            }
        }
    };
}

/// As [`on_each_db!`], on SQLite alone (a file and in memory): for what only SQLite has
/// (its authorizer, pragmas, file handling).
#[macro_export]
macro_rules! on_sqlite {
    ($(#[$meta:meta])* $name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            $(#[$meta])*
            fn file() {
                let f: fn($crate::common::Db) = $body;
                f($crate::common::Db::file());
            }
            #[test]
            $(#[$meta])*
            fn memory() {
                let f: fn($crate::common::Db) = $body;
                f($crate::common::Db::memory());
            }
        }
    };
}

/// Every statement a session sends, in order.
#[derive(Clone, Default)]
pub struct StatementLog(Arc<Mutex<Vec<String>>>);

impl StatementLog {
    pub fn attach(&self, b: EngineBuilder) -> EngineBuilder {
        let log = self.0.clone();
        b.on_statement(move |sql| log.lock().expect("log lock").push(sql.to_string()))
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("log lock"))
    }
}

/// The seed scenario's models.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "users")]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn new(name: &str) -> User {
        User {
            id: 0,
            name: name.to_string(),
            email: None,
            created_at: Utc::now(),
        }
    }
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "log")]
pub struct Log {
    pub id: i64,
    pub user_id: i64,
    pub change_type: String,
    pub old_name: Option<String>,
    pub new_name: Option<String>,
    pub changed_at: DateTime<Utc>,
}

impl Log {
    pub fn of(change_type: &str, old: Option<&User>, new: Option<&User>) -> Log {
        Log {
            id: 0,
            user_id: new.or(old).map_or(0, |u| u.id),
            change_type: change_type.to_string(),
            old_name: old.map(|u| u.name.clone()),
            new_name: new.map(|u| u.name.clone()),
            changed_at: Utc::now(),
        }
    }
}

/// An engine builder with the seed's audit listeners: every insert, update and delete of
/// a `User` stages a `Log` row.
pub fn audited(url: &str) -> EngineBuilder {
    use trigorm::event::{AfterDelete, AfterInsert, AfterUpdate};
    trigorm::Engine::builder(url)
        .model::<Log>()
        .listen::<User>(AfterInsert, |ctx, c| {
            ctx.add(Log::of("insert", None, c.new()));
            Ok(())
        })
        .listen::<User>(AfterUpdate, |ctx, c| {
            ctx.add(Log::of("update", c.old(), c.new()));
            Ok(())
        })
        .listen::<User>(AfterDelete, |ctx, c| {
            ctx.add(Log::of("delete", c.old(), None));
            Ok(())
        })
}

/// A timestamp that the database stores exactly (whole seconds).
pub fn t0() -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap()
}

/// A new user with a fixed `created_at`.
pub fn user(name: &str) -> User {
    User {
        created_at: t0(),
        ..User::new(name)
    }
}

/// What happened, in order, as text.
#[derive(Clone, Default)]
pub struct Trace(Arc<Mutex<Vec<String>>>);

impl Trace {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().expect("trace lock").push(s.into());
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("trace lock"))
    }
}

/// Count rows of a table with a fresh session.
pub fn count<M: Model>(engine: &trigorm::Engine) -> u64 {
    let mut s = engine.session().expect("session");
    s.query::<M>().count().expect("count")
}

/// The trigorm error a listener returned (its `?` on a context call), if it was one.
pub fn listener_source(e: &trigorm::Error) -> Option<&trigorm::Error> {
    match e {
        trigorm::Error::Listener { source, .. } | trigorm::Error::SessionListener { source, .. } => {
            source.downcast_ref::<trigorm::Error>()
        }
        _ => None,
    }
}

/// `e` is a row listener's error wrapping a failed statement.
pub fn assert_listener_statement(e: &trigorm::Error, what: &str) {
    assert!(
        matches!(e, trigorm::Error::Listener { .. }),
        "{what}: expected trigorm::Error::Listener, got {e:?}"
    );
    assert!(
        matches!(listener_source(e), Some(trigorm::Error::Statement { .. })),
        "{what}: expected the listener's error to be trigorm::Error::Statement, got {e:?}"
    );
}

/// DDL by hand: a plain connection on MariaDB (a session refuses DDL there), the
/// engine's session elsewhere.
pub fn run_ddl(db: &Db, engine: &trigorm::Engine, sql: &str) {
    if db.is_mariadb() {
        mysql::prelude::Queryable::query_drop(&mut db.my_client(), sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        return;
    }
    let mut s = engine.session().unwrap();
    s.execute(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
    s.commit().unwrap();
}

/// The rows of a raw query, or a panic naming it.
pub fn rows(s: &mut trigorm::Session, sql: &str) -> Vec<Vec<trigorm::Value>> {
    s.query_raw(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// An engine's transaction events, counted (see [`TxCounts::attach`]).
#[derive(Clone, Default)]
pub struct TxCounts {
    commits: Arc<AtomicUsize>,
    rollbacks: Arc<AtomicUsize>,
}

impl TxCounts {
    /// Count the `AfterCommit` and `AfterRollback` events of the engine `b` builds.
    pub fn attach(&self, b: EngineBuilder) -> EngineBuilder {
        use trigorm::event::{AfterCommit, AfterRollback};
        let (c, r) = (self.commits.clone(), self.rollbacks.clone());
        b.on_transaction(AfterCommit, move |_| {
            c.fetch_add(1, Ordering::SeqCst);
        })
        .on_transaction(AfterRollback, move |_| {
            r.fetch_add(1, Ordering::SeqCst);
        })
    }

    /// Count from zero again.
    pub fn reset(&self) {
        self.commits.store(0, Ordering::SeqCst);
        self.rollbacks.store(0, Ordering::SeqCst);
    }

    /// Since the last reset, `s`'s transaction failed as a failure must end one: no
    /// `AfterCommit`, one `AfterRollback`, the callback of [`after_commit_flag`] dropped,
    /// the staged writes pending again.
    pub fn assert_rolled_back(&self, what: &str, s: &trigorm::Session, callback_ran: &AtomicBool) {
        assert_eq!(self.commits.load(Ordering::SeqCst), 0, "{what}: no AfterCommit");
        assert_eq!(self.rollbacks.load(Ordering::SeqCst), 1, "{what}: AfterRollback, once");
        assert!(
            !callback_ran.load(Ordering::SeqCst),
            "{what}: the after-commit callback was dropped"
        );
        assert!(s.has_pending(), "{what}: the staged writes are pending again");
    }
}

/// Queue an after-commit callback on `s`; the flag says whether it ran.
pub fn after_commit_flag(s: &mut trigorm::Session) -> Arc<AtomicBool> {
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    s.after_commit(move || r.store(true, Ordering::SeqCst));
    ran
}
