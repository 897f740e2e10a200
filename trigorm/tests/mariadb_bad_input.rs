//! What only MariaDB has: its bad input (a server that does not answer, a refused login, a
//! missing database: typed errors, the password never shown), and raw SQL that would
//! commit the session's transaction implicitly in ways other than DDL. (The scenarios
//! every backend shares run on MariaDB through `on_each_db!`; the pool's hygiene on
//! MariaDB is in `pool.rs`.)
mod common;
use common::*;

use std::time::Duration;

use mysql::prelude::Queryable;
use trigorm::error::DbErrorKind;
use trigorm::{Engine, Error, Model, Value};

/// The MariaDB server the tests use, or `None` (the test is skipped, and says so) when no
/// server answers and `TRIGORM_REQUIRE_SERVERS` is not `1` (as `on_each_db!` does).
fn mariadb_server() -> Option<String> {
    let server = mysql_url();
    match mysql::Conn::new(mysql::Opts::from_url(&server).expect("a mysql:// URL")) {
        Ok(_) => Some(server),
        Err(e) if !servers_required() => {
            eprintln!("skipped: no MariaDB at {server}: {e}");
            None
        }
        Err(e) => panic!("no MariaDB at {server} (TRIGORM_REQUIRE_SERVERS=1): {e}"),
    }
}

/// The error of opening an engine on `url`, which must be `Error::Open` of `kind`, naming
/// `url` without its password (`***` in its place).
fn open_error(url: &str, kind: DbErrorKind) -> Error {
    let err = Engine::builder(url).model::<User>().build().unwrap_err();
    let redacted = match url.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')) {
        Some((login, _)) if login.contains(':') => {
            let password = login.split_once(':').map_or("", |(_, p)| p);
            url.replacen(&format!(":{password}@"), ":***@", 1)
        }
        _ => url.to_string(),
    };
    match &err {
        Error::Open { path, source } => {
            assert_eq!(path, &redacted, "{url}");
            assert_eq!(source.kind, kind, "{url}: {source}");
            assert_eq!(source.database, redacted, "{url}");
        }
        other => panic!("{url}: expected Error::Open, got {other:?}"),
    }
    assert_eq!(err.db_kind(), Some(kind), "{url}");
    err
}

// ---------------------------------------------------------------------------------------
// Servers that refuse

#[test]
fn a_mariadb_server_that_does_not_answer_is_an_unreachable_open_error() {
    // Nothing listens on port 1: no server is needed to see it refused.
    for url in ["mysql://root@127.0.0.1:1/test", "mariadb://root@127.0.0.1:1/test"] {
        let started = std::time::Instant::now();
        let err = open_error(url, DbErrorKind::Unreachable);
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5), "refused at once");
    }
}

#[test]
fn a_wrong_mariadb_password_or_user_is_an_authentication_error() {
    let Some(server) = mariadb_server() else { return };
    let user = url_user(&server, "root");
    for login in [format!("{user}:not-the-password"), "trigorm_no_such_user".to_string()] {
        let url = url_with(&server, Some(&login), None);
        let err = open_error(&url, DbErrorKind::AuthenticationFailed);
        let name = login.split(':').next().unwrap();
        assert!(err.to_string().contains(name), "the error names the user: {err}");
        assert!(!shown(&err).contains("not-the-password"), "{}", shown(&err));
    }
}

#[test]
fn a_mariadb_database_that_does_not_exist_is_an_unknown_database_error() {
    let Some(server) = mariadb_server() else { return };
    let url = url_with(&server, None, Some("trigorm_no_such_database"));
    let err = open_error(&url, DbErrorKind::UnknownDatabase);
    assert!(err.to_string().contains("trigorm_no_such_database"), "{err}");
}

#[test]
fn a_mariadb_pool_size_of_zero_is_an_invalid_url() {
    // Refused before any connection: no server is needed.
    for bad in ["0", "-1", "two", ""] {
        let url = format!("mysql://root:hunter2@127.0.0.1:3306/test?pool_size={bad}");
        let err = Engine::builder(&url).model::<User>().build().unwrap_err();
        match &err {
            Error::InvalidUrl { url: u, reason } => {
                assert!(u.contains("pool_size"), "{u}");
                assert!(reason.contains("pool_size"), "{reason}");
            }
            other => panic!("{url}: expected Error::InvalidUrl, got {other:?}"),
        }
        assert!(!shown(&err).contains("hunter2"), "{}", shown(&err));
    }
}

/// A MariaDB account of its own for one test, with a password and every right on the
/// test's database; dropped with it.
struct Account {
    name: String,
    server: String,
}

impl Account {
    fn create(db: &Db, password: &str) -> Account {
        let database = &db.my_database.as_ref().expect("a MariaDB test's database").name;
        let name = format!("u_{database}");
        let mut admin = mysql::Conn::new(mysql::Opts::from_url(&mysql_url()).unwrap()).unwrap();
        admin
            .query_drop(format!("CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"))
            .unwrap();
        admin
            .query_drop(format!("GRANT ALL ON `{database}`.* TO '{name}'@'%'"))
            .unwrap();
        Account {
            name,
            server: mysql_url(),
        }
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        if let Ok(mut admin) = mysql::Conn::new(mysql::Opts::from_url(&self.server).expect("the server's URL")) {
            let _ = admin.query_drop(format!("DROP USER IF EXISTS '{}'@'%'", self.name));
        }
    }
}

#[test]
fn a_password_in_a_mariadb_url_never_appears_in_an_error() {
    let Some(server) = mariadb_server() else { return };
    let user = url_user(&server, "root");
    let password = "Tr1g0rm-s3cret";
    let cases = [
        // Unreachable, a refused login, a missing database, URLs refused as invalid.
        "mysql://root:Tr1g0rm-s3cret@127.0.0.1:1/test".to_string(),
        "mariadb://root:Tr1g0rm-s3cret@127.0.0.1:1/test".to_string(),
        url_with(&server, Some(&format!("{user}:{password}")), None),
        url_with(&server, Some("trigorm_no_such_user:Tr1g0rm-s3cret"), None),
        url_with(
            &server,
            Some(&format!("{user}:{password}")),
            Some("trigorm_no_such_database"),
        ),
        "mysql://root:Tr1g0rm-s3cret@127.0.0.1:3306/test?pool_size=0".to_string(),
        "mysql://root:Tr1g0rm-s3cret@127.0.0.1:3306/test?no_such_parameter=1".to_string(),
        "mysql://root:Tr1g0rm-s3cret@[::1/test".to_string(),
        // Percent-encoded: neither form may show.
        "mysql://root:Tr1g0rm%2Fs3cret@127.0.0.1:1/test".to_string(),
        "mysql://root:Tr1g0rm%40s3cret@127.0.0.1:1/test".to_string(),
        // As a parameter.
        "mysql://root@127.0.0.1:1/test?password=Tr1g0rm-s3cret".to_string(),
    ];
    let mut leaks = Vec::new();
    for url in &cases {
        let err = Engine::builder(url).model::<User>().build().unwrap_err();
        let text = shown(&err);
        if [
            "Tr1g0rm-s3cret",
            "Tr1g0rm/s3cret",
            "Tr1g0rm%2Fs3cret",
            "Tr1g0rm@s3cret",
            "Tr1g0rm%40s3cret",
        ]
        .iter()
        .any(|p| text.contains(p))
        {
            leaks.push(format!("{url}: {text}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "the password leaks into the error:\n{}",
        leaks.join("\n")
    );

    // An engine that works, with a password: its errors and its debug form name the
    // database without it.
    let db = Db::mariadb().expect("the server answered");
    let account = Account::create(&db, password);
    let url = url_with(&db.url, Some(&format!("{}:{password}", account.name)), None);
    let engine = audited(&url).build().unwrap();
    assert!(!format!("{engine:?}").contains(password), "{engine:?}");
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let err = s.execute("SELECT * FROM no_such_table", &[]).unwrap_err();
    let redacted = url_with(&db.url, Some(&format!("{}:***", account.name)), None);
    assert_eq!(
        err.db_error().map(|e| e.database.as_str()),
        Some(redacted.as_str()),
        "the error names the database, without the password: {err:?}"
    );
    assert!(!shown(&err).contains(password), "{}", shown(&err));
    s.rollback().unwrap();
    let jane = s.insert(User::new("Jane")).unwrap();
    s.commit().unwrap();
    // The same key again.
    s.add(jane);
    let err = s.commit().unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
    assert!(!shown(&err).contains(password), "{}", shown(&err));
    drop(s);
    drop(engine);
}

// ---------------------------------------------------------------------------------------
// Raw SQL that commits the transaction implicitly

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "item")]
struct Item {
    id: i64,
    name: String,
}

/// Statements with which raw SQL would commit the session's transaction on MariaDB,
/// although none begins with a word of transaction control or of DDL: table maintenance
/// (which commits like `ANALYZE TABLE`), a statement run with settings of its own (`SET
/// STATEMENT ... FOR`), a procedure that commits, and autocommit switched off and on
/// again (switching it on commits). Each, run by a session after a write, must neither
/// make that write durable nor end the transaction: refused, or harmless.
const IMPLICIT_COMMITS: &[&[&str]] = &[
    &["CHECK TABLE item"],
    &["OPTIMIZE TABLE item"],
    &["REPAIR TABLE item"],
    &["SET STATEMENT max_statement_time = 100 FOR COMMIT"],
    &["SET STATEMENT max_statement_time = 100 FOR CREATE TABLE scratch (x INTEGER)"],
    &["CALL commits()"],
    &["SET autocommit = 0", "SET autocommit = 1"],
    // Executable comments are code to the server.
    &["/*!COMMIT*/"],
    &["/*M!COMMIT*/"],
    &["/*!100000 COMMIT */"],
    &["/*!CREATE TABLE scratch (x INTEGER)*/"],
    &["/* x */ SET STATEMENT max_statement_time=0 FOR COMMIT"],
    &["SET STATEMENT max_statement_time=0 FOR/**/COMMIT"],
    // A savepoint rolled back behind the session's back would undo its own flush.
    &["/*!SAVEPOINT sp*/", "DELETE FROM item", "/*!ROLLBACK TO SAVEPOINT sp*/"],
];

on_mariadb!(raw_sql_cannot_commit_the_transaction_implicitly, |db: Db| {
    db.my_client().query_drop("CREATE PROCEDURE commits() COMMIT").unwrap();
    let engine = Engine::builder(&db.url).model::<Item>().pool_size(1).build().unwrap();
    engine.create_all().unwrap();
    let mut committed = Vec::new();
    for statements in IMPLICIT_COMMITS {
        for query in [false, true] {
            let what = format!("{} {statements:?}", if query { "query_raw" } else { "execute" });
            let mut s = engine.session().unwrap();
            s.insert(Item {
                id: 0,
                name: "earlier".into(),
            })
            .unwrap();
            for sql in *statements {
                let _ = if query {
                    s.query_raw(sql, &[]).map(drop)
                } else {
                    s.execute(sql, &[]).map(drop)
                };
            }
            s.rollback().unwrap();
            drop(s);
            if count::<Item>(&engine) != 0 {
                committed.push(what);
                let mut s = engine.session().unwrap();
                s.delete_where::<Item>(trigorm::query::col("id").gt(0)).unwrap();
                s.commit().unwrap();
            }
            let _ = db.my_client().query_drop("DROP TABLE IF EXISTS scratch");
        }
    }
    assert!(
        committed.is_empty(),
        "raw SQL made the session's earlier write durable:\n{}",
        committed.join("\n")
    );
    // And the connection is left as it was: autocommit on, as on a new one.
    let mut s = engine.session().unwrap();
    assert_eq!(rows(&mut s, "SELECT @@autocommit"), [[Value::Int(1)]]);
});

// A raw `USE` would send the session's later statements, and the next session's on the
// pooled connection, to another database: refused, with a typed error, and the next
// session writes where the engine's URL says.
on_mariadb!(raw_use_is_refused_and_the_next_session_stays_home, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Item>().pool_size(1).build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let err = s.execute("/* elsewhere */ USE mysql", &[]).expect_err("USE is refused");
    assert_eq!(err.db_kind(), Some(DbErrorKind::Refused), "{err}");
    s.rollback().unwrap();
    drop(s);
    let mut s = engine.session().unwrap();
    let home = rows(&mut s, "SELECT DATABASE()");
    assert_eq!(home, [[Value::Text(db.my_database.as_ref().unwrap().name.clone())]]);
    s.insert(Item {
        id: 0,
        name: "here".into(),
    })
    .unwrap();
    s.commit().unwrap();
    drop(s);
    assert_eq!(count::<Item>(&engine), 1);
});
