//! A custom trigger without a body for the backend in use is refused when the engine is
//! built, before any SQL runs, with an error naming the model, the trigger and the
//! backend: declared with the builder or on the model (`#[derive(Model)]`), on every
//! backend. A declaration with that backend's body builds and installs.
mod common;
use common::*;

use mysql::prelude::Queryable;
use trigorm::trigger::{CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Engine, EngineBuilder, Error, Model};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "pad")]
struct Pad {
    id: i64,
    v: i64,
}

// Each model has a custom trigger with bodies for two backends of three.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "no_sqlite",
    custom(name = "audit", after, insert, postgres = "RETURN NULL;", mysql = "DO 0;")
)]
struct NoSqlite {
    id: i64,
    v: i64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "no_postgres",
    custom(name = "audit", after, insert, sqlite = "SELECT 1;", mysql = "DO 0;")
)]
struct NoPostgres {
    id: i64,
    v: i64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(
    table = "no_mysql",
    custom(name = "audit", after, insert, sqlite = "SELECT 1;", postgres = "RETURN NULL;")
)]
struct NoMysql {
    id: i64,
    v: i64,
}

/// The backend's name as errors give it.
fn backend_name(db: &Db) -> &'static str {
    if db.is_postgres() {
        "PostgreSQL"
    } else if db.is_mariadb() {
        "MariaDB/MySQL"
    } else {
        "SQLite"
    }
}

/// The tables of the test's database, read by a plain client (`None` for an in-memory
/// database, which no other connection reaches).
fn tables(db: &Db) -> Option<Vec<String>> {
    if db.is_postgres() {
        let rows = db
            .pg_client()
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
                &[],
            )
            .unwrap();
        return Some(rows.iter().map(|r| r.get(0)).collect());
    }
    if db.is_mariadb() {
        return Some(
            db.my_client()
                .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
                .unwrap(),
        );
    }
    let c = rusqlite::Connection::open(db.path()?).unwrap();
    let names = c
        .prepare("SELECT name FROM sqlite_master")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    Some(names)
}

/// `b` is refused at build with an error naming `model`, the trigger `audit` and the
/// backend in use, no statement was sent, and the database has no table.
fn refused(db: &Db, b: EngineBuilder, model: &str) {
    let log = StatementLog::default();
    let err = log
        .attach(b)
        .build()
        .err()
        .unwrap_or_else(|| panic!("{model}: refused at build"));
    let text = err.to_string();
    assert!(
        matches!(&err, Error::InvalidTrigger { model: m, trigger, .. } if *m == model && trigger == "audit"),
        "{model}: {err:?}"
    );
    for part in [model, "\"audit\"", &format!("no body for {}", backend_name(db))] {
        assert!(text.contains(part), "{model}: the error names {part}: {text}");
    }
    assert_eq!(log.take(), Vec::<String>::new(), "{model}: no statement ran");
    if let Some(tables) = tables(db) {
        assert_eq!(tables, Vec::<String>::new(), "{model}: nothing created");
    }
}

/// Bodies for every backend but the one in use.
fn all_but(db: &Db) -> CustomBodies {
    CustomBodies {
        sqlite: (db.is_server()).then(|| "SELECT 1;".to_string()),
        postgres: (!db.is_postgres()).then(|| "RETURN NULL;".to_string()),
        mysql: (!db.is_mariadb()).then(|| "DO 0;".to_string()),
    }
}

// The builder path: a custom trigger with bodies for the other backends only.
on_each_db!(
    a_custom_trigger_without_this_backends_body_is_refused_at_build,
    |db: Db| {
        let def = TriggerDef::custom("audit", Pad::table(), Timing::After, Ops::INSERT, all_but(&db));
        refused(&db, Engine::builder(&db.url).model::<Pad>().trigger(def), "Pad");

        // With this backend's body too, it builds and installs.
        let full = CustomBodies {
            sqlite: Some("SELECT 1;".into()),
            postgres: Some("RETURN NULL;".into()),
            mysql: Some("DO 0;".into()),
        };
        let def = TriggerDef::custom("audit", Pad::table(), Timing::After, Ops::INSERT, full);
        let e = Engine::builder(&db.url).model::<Pad>().trigger(def).build().unwrap();
        e.create_all().unwrap();
        assert!(e.check_triggers().unwrap().in_sync());
    }
);

// The derive path: the model lacking this backend's body is refused; the two that have
// it build, and their triggers install.
on_each_db!(
    a_derived_custom_trigger_without_this_backends_body_is_refused_at_build,
    |db: Db| {
        let (lacking, others) = if db.is_postgres() {
            ("NoPostgres", [NoSqlite::table().model, NoMysql::table().model])
        } else if db.is_mariadb() {
            ("NoMysql", [NoSqlite::table().model, NoPostgres::table().model])
        } else {
            ("NoSqlite", [NoPostgres::table().model, NoMysql::table().model])
        };
        let with = |model: &str| -> EngineBuilder {
            let b = Engine::builder(&db.url);
            match model {
                "NoSqlite" => b.model::<NoSqlite>(),
                "NoPostgres" => b.model::<NoPostgres>(),
                _ => b.model::<NoMysql>(),
            }
        };
        refused(&db, with(lacking), lacking);
        // Among other models, too: nothing of theirs is created either.
        refused(&db, with(lacking).model::<Pad>(), lacking);
        // The two others, in one engine (each would call the other's triggers orphans).
        let b = match lacking {
            "NoSqlite" => Engine::builder(&db.url).model::<NoPostgres>().model::<NoMysql>(),
            "NoPostgres" => Engine::builder(&db.url).model::<NoSqlite>().model::<NoMysql>(),
            _ => Engine::builder(&db.url).model::<NoSqlite>().model::<NoPostgres>(),
        };
        let e = b.build().unwrap_or_else(|e| panic!("{others:?}: {e}"));
        e.create_all().unwrap();
        let st = e.check_triggers().unwrap();
        assert_eq!(st.declared.len(), 2, "{st:?}");
    }
);
