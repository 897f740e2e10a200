//! Semantics §8: bad input. Unusable URLs and files are refused with an error that names
//! them and leaves them as they were; every name that reaches SQL is validated and quoted;
//! every value is bound, never spliced.
mod common;
use common::*;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use trigorm::error::DbErrorKind;
use trigorm::event::AfterUpdate;
use trigorm::model::ColumnSet;
use trigorm::query::col;
use trigorm::schema::{validate_identifier, ColumnDef, ColumnType, IdentKind, TableDef, MAX_IDENTIFIER_LEN};
use trigorm::{Engine, Error, Field, Model, Value};

fn url_of(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------
// Databases that cannot be opened

#[test]
fn a_missing_directory_is_an_open_error_naming_the_path_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("sub").join("app.db");
    let err = Engine::builder(url_of(&path)).model::<User>().build().unwrap_err();
    match &err {
        Error::Open { path: p, source } => {
            assert_eq!(p, &path.display().to_string());
            assert_eq!(source.kind, DbErrorKind::CannotOpen);
        }
        other => panic!("expected Error::Open, got {other:?}"),
    }
    assert_eq!(err.db_kind(), Some(DbErrorKind::CannotOpen));
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    assert!(!dir.path().join("missing").exists(), "no directory is created");
    assert!(entries(dir.path()).is_empty(), "nothing is created");
}

#[test]
fn a_directory_is_not_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = Engine::connect(url_of(dir.path())).unwrap_err();
    assert!(matches!(err, Error::Open { .. }), "{err:?}");
    assert!(err.to_string().contains(&dir.path().display().to_string()), "{err}");
    assert!(entries(dir.path()).is_empty());
}

fn not_a_database(contents: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    std::fs::write(&path, contents).unwrap();
    let err = audited(&url_of(&path)).build().unwrap_err();
    match &err {
        Error::Open { path: p, source } => {
            assert_eq!(p, &path.display().to_string());
            assert_eq!(source.kind, DbErrorKind::NotADatabase, "{source}");
        }
        other => panic!("expected Error::Open, got {other:?}"),
    }
    assert_eq!(err.db_kind(), Some(DbErrorKind::NotADatabase));
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), contents, "the file is left as it was");
    assert_eq!(
        entries(dir.path()),
        vec!["notes.db"],
        "no journal or WAL file is left beside it"
    );
}

#[test]
fn a_text_file_is_not_a_database_and_is_left_unchanged() {
    not_a_database(b"These are my notes.\nThey are not a database.\n");
    not_a_database(&b"0123456789abcdef".repeat(1024));
}

#[test]
fn random_bytes_are_not_a_database_and_are_left_unchanged() {
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    not_a_database(&bytes);
}

#[test]
fn a_locked_database_is_a_busy_error_naming_it_and_nothing_of_the_blocked_session_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let url = url_of(&path);
    let engine = audited(&url).busy_timeout(Duration::from_millis(100)).build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let jane = s.insert(User::new("Jane")).unwrap();
    s.commit().unwrap();
    drop(s);

    // Another engine (another connection) takes the write lock and keeps it: its session
    // writes (a session that only reads takes no write lock).
    let other = Engine::builder(&url).model::<User>().build().unwrap();
    let mut holder = other.session().unwrap();
    holder
        .execute("UPDATE users SET name = name WHERE id = ?", &[Value::from(jane.id)])
        .unwrap();

    let mut blocked = engine.session().unwrap();
    blocked.add(User::new("blocked"));
    let err = blocked.commit().unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::Busy), "{err:?}");
    let db = err.db_error().unwrap();
    assert_eq!(db.database, path.display().to_string());
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");

    // Updates and bulk statements are refused the same way.
    let mut renamed = jane.clone();
    renamed.name = "renamed".into();
    let mut blocked2 = engine.session().unwrap();
    blocked2.update(&renamed).unwrap();
    assert_eq!(blocked2.flush().unwrap_err().db_kind(), Some(DbErrorKind::Busy));
    let mut blocked3 = engine.session().unwrap();
    let err = blocked3
        .update_where::<User>(col("id").gt(0), &[("name", Value::from("bulk"))])
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::Busy), "{err:?}");
    drop(blocked3);

    holder.rollback().unwrap();
    drop(holder);

    let mut check = engine.session().unwrap();
    let names: Vec<String> = check
        .query::<User>()
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, vec!["Jane"], "nothing of the blocked sessions is written");
    assert_eq!(check.query::<Log>().count().unwrap(), 1);
    check.commit().unwrap();
    drop(check);

    // The failed session kept its staged write (semantics §4): once the lock is free, the
    // retry writes it, with its audit row.
    assert!(blocked.has_pending());
    blocked.commit().unwrap();
    let mut check = engine.session().unwrap();
    assert_eq!(
        check.query::<User>().filter(col("name").eq("blocked")).count().unwrap(),
        1
    );
    assert_eq!(
        check
            .query::<Log>()
            .filter(col("new_name").eq("blocked"))
            .count()
            .unwrap(),
        1
    );
}

// ---------------------------------------------------------------------------------------
// URLs

#[test]
fn invalid_urls_are_refused() {
    for url in [
        "nope://x",
        "sqlite:",
        "sqlite://",
        "",
        "no scheme at all",
        "sqlite://file.db?mode=ro",
    ] {
        let err = Engine::connect(url).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidUrl { url: u, .. } if u == url),
            "{url:?}: {err:?}"
        );
    }
}

// The bad input of PostgreSQL servers is below; that of MariaDB servers is in mariadb.rs.

#[test]
fn a_refused_url_does_not_show_its_password() {
    let err = Engine::connect("postgress://admin:hunter2@db.example.com/app").unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "the password leaks into the error: {shown}");
}

// ---------------------------------------------------------------------------------------
// Identifiers

#[test]
fn validate_identifier_accepts_plain_names_and_refuses_the_rest() {
    let longest = "a".repeat(MAX_IDENTIFIER_LEN);
    for ok in ["users", "_x", "a1", "A_b_C", "_", "select", "order", longest.as_str()] {
        assert!(validate_identifier(IdentKind::Table, ok).is_ok(), "{ok:?}");
    }
    let too_long = "a".repeat(MAX_IDENTIFIER_LEN + 1);
    for bad in [
        "",
        "1abc",
        "9",
        "bad name",
        "name; DROP TABLE users",
        "a-b",
        "a.b",
        "a\"b",
        "a'b",
        "a`b",
        "a[b]",
        "naïve",
        "ａ",
        "tab\t",
        "nul\0",
        "-- comment",
        too_long.as_str(),
    ] {
        match validate_identifier(IdentKind::Column, bad) {
            Err(Error::InvalidIdentifier { kind, name, reason }) => {
                assert_eq!(kind, IdentKind::Column);
                assert_eq!(name, bad);
                assert!(!reason.is_empty());
            }
            other => panic!("{bad:?}: expected InvalidIdentifier, got {other:?}"),
        }
    }
}

on_each_db!(
    a_filter_on_an_unknown_column_is_refused_and_the_table_survives,
    |db: Db| {
        let engine = audited(&db.url).build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        s.insert(User::new("Jane")).unwrap();
        s.commit().unwrap();
        let evil = "name; DROP TABLE users";
        let is_unknown = |e: &Error| matches!(e, Error::UnknownColumn { model: "User", column } if column == evil);

        let err = s.query::<User>().filter(col(evil).eq("x")).all().unwrap_err();
        assert!(is_unknown(&err), "{err:?}");
        let err = s.query::<User>().filter(col(evil).is_null()).count().unwrap_err();
        assert!(is_unknown(&err), "{err:?}");
        let err = s.query::<User>().order_by(col(evil).asc()).all().unwrap_err();
        assert!(is_unknown(&err), "{err:?}");
        let err = s.delete_where::<User>(col(evil).eq(1)).unwrap_err();
        assert!(is_unknown(&err), "{err:?}");
        let err = s
            .update_where::<User>(col("id").gt(0), &[(evil, Value::from("x"))])
            .unwrap_err();
        assert!(is_unknown(&err), "{err:?}");
        // Quoted names are not a way around the check.
        let err = s.query::<User>().filter(col("\"name\"").eq("Jane")).all().unwrap_err();
        assert!(matches!(err, Error::UnknownColumn { .. }), "{err:?}");
        s.rollback().unwrap();

        let mut s = engine.session().unwrap();
        assert_eq!(s.query::<User>().count().unwrap(), 1, "the table survives");
        assert_eq!(s.query::<Log>().count().unwrap(), 1);
    }
);

on_each_db!(values_with_quotes_are_bound_never_spliced, |db: Db| {
    let engine = audited(&db.url).build().unwrap();
    engine.create_all().unwrap();
    let evil = "x'); DROP TABLE users; --";
    let evil2 = "\"; DROP TABLE log; --";
    let mut s = engine.session().unwrap();
    let mut u = User::new(evil);
    u.email = Some(evil2.into());
    let u = s.insert(u).unwrap();
    s.commit().unwrap();

    let mut s = engine.session().unwrap();
    let got = s.get::<User>(u.id).unwrap().unwrap();
    assert_eq!(got.name, evil);
    assert_eq!(got.email.as_deref(), Some(evil2));
    let found = s.query::<User>().filter(col("name").eq(evil)).all().unwrap();
    assert_eq!(found, vec![got.clone()]);
    assert_eq!(
        s.query::<User>()
            .filter(col("name").like("x'); DROP%"))
            .count()
            .unwrap(),
        1
    );
    assert_eq!(
        s.query::<User>()
            .filter(col("email").is_in([evil2, "'"]))
            .count()
            .unwrap(),
        1
    );
    // Through an update, a bulk update and raw SQL with parameters.
    let mut renamed = got.clone();
    renamed.name = "it's ' \" '' \\".into();
    s.update(&renamed).unwrap();
    s.update_where::<User>(col("id").eq(u.id), &[("email", Value::from("o'hara'); --"))])
        .unwrap();
    s.execute(
        &db.sql("INSERT INTO users (name, created_at) VALUES (?, ?)"),
        &[
            Value::from("'); DELETE FROM users; --"),
            Value::from(chrono::Utc::now()),
        ],
    )
    .unwrap();
    s.commit().unwrap();

    let mut s = engine.session().unwrap();
    let mut names: Vec<String> = s.query::<User>().all().unwrap().into_iter().map(|u| u.name).collect();
    names.sort();
    assert_eq!(names, vec!["'); DELETE FROM users; --", "it's ' \" '' \\"]);
    let got = s.get::<User>(u.id).unwrap().unwrap();
    assert_eq!(got.email.as_deref(), Some("o'hara'); --"));
    let logs = s.query::<Log>().all().unwrap();
    assert_eq!(logs.len(), 3, "insert, update, bulk update: the log table survives");
    assert_eq!(logs[1].old_name.as_deref(), Some(evil));
});

/// A reserved word is a valid name: quoting makes it work.
#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "order")]
struct Order {
    id: i64,
    #[trigorm(column = "select")]
    select_: String,
    group: i64,
    #[trigorm(column = "from", index)]
    from_: Option<String>,
}

on_each_db!(reserved_words_as_table_and_column_names_are_quoted, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Order>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let mut o = s
        .insert(Order {
            id: 0,
            select_: "a".into(),
            group: 1,
            from_: None,
        })
        .unwrap();
    o.group = 2;
    o.from_ = Some("b".into());
    s.update(&o).unwrap();
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    let found = s
        .query::<Order>()
        .filter(col("select").eq("a") & col("group").ge(2) & col("from").is_not_null())
        .order_by(col("group").desc())
        .all()
        .unwrap();
    assert_eq!(found, vec![o.clone()]);
    assert_eq!(
        s.update_where::<Order>(col("group").eq(2), &[("select", Value::from("c"))])
            .unwrap(),
        1
    );
    assert_eq!(s.delete_where::<Order>(col("from").eq("b")).unwrap(), 1);
    s.commit().unwrap();
    assert_eq!(count::<Order>(&engine), 0);
});

// ---------------------------------------------------------------------------------------
// Hand-written models with bad declarations

/// A model implemented by hand, with the table and column names given.
macro_rules! hand_model {
    ($ty:ident, $table:expr, $name_col:expr) => {
        hand_model!($ty, $table, "id", $name_col);
    };
    ($ty:ident, $table:expr, $id_col:expr, $name_col:expr) => {
        #[derive(Clone, Debug, PartialEq)]
        struct $ty {
            id: i64,
            name: String,
        }

        impl Model for $ty {
            fn table() -> &'static TableDef {
                static TABLE: TableDef = TableDef {
                    name: $table,
                    model: stringify!($ty),
                    columns: &[
                        ColumnDef {
                            primary_key: true,
                            auto_increment: true,
                            ..ColumnDef::new($id_col, "id", ColumnType::Integer)
                        },
                        ColumnDef::new($name_col, "name", ColumnType::Text),
                    ],
                    primary_key: 0,
                };
                &TABLE
            }
            fn values(&self) -> Vec<Value> {
                vec![self.id.to_value(), self.name.to_value()]
            }
            fn value(&self, column: usize) -> Value {
                match column {
                    0 => self.id.to_value(),
                    1 => self.name.to_value(),
                    _ => Value::Null,
                }
            }
            fn from_values(values: &mut [Value]) -> Result<Self, Error> {
                let decode = |column: &'static str| {
                    move |source| Error::Decode {
                        model: stringify!($ty),
                        column,
                        source,
                    }
                };
                Ok($ty {
                    id: i64::from_value(std::mem::take(&mut values[0])).map_err(decode($id_col))?,
                    name: String::from_value(std::mem::take(&mut values[1])).map_err(decode($name_col))?,
                })
            }
            fn diff(&self, other: &Self) -> ColumnSet {
                let mut s = ColumnSet::EMPTY;
                if self.id != other.id {
                    s.insert(0);
                }
                if self.name != other.name {
                    s.insert(1);
                }
                s
            }
            fn set_value(&mut self, column: usize, value: Value) -> Result<(), Error> {
                let decode = |source| Error::Decode {
                    model: stringify!($ty),
                    column: "?",
                    source,
                };
                match column {
                    0 => self.id = i64::from_value(value).map_err(decode)?,
                    1 => self.name = String::from_value(value).map_err(decode)?,
                    _ => {
                        return Err(Error::UnknownColumn {
                            model: stringify!($ty),
                            column: column.to_string(),
                        });
                    }
                }
                Ok(())
            }
        }
    };
}

hand_model!(GoodHand, "good_hand", "name");
hand_model!(SpacedTable, "bad name", "name");
hand_model!(InjectedTable, "users\"; DROP TABLE users; --", "name");
hand_model!(InjectedColumn, "injected_column", "name\"); DROP TABLE users; --");
hand_model!(DuplicateColumn, "duplicate_column", "id", "ID");

fn is_invalid_identifier(e: &Error, kind: IdentKind, name: &str) -> bool {
    matches!(e, Error::InvalidIdentifier { kind: k, name: n, .. } if *k == kind && n == name)
}

on_each_db!(a_hand_written_model_works_when_its_names_are_valid, |db: Db| {
    let engine = Engine::builder(&db.url).model::<GoodHand>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let g = s
        .insert(GoodHand {
            id: 0,
            name: "ok".into(),
        })
        .unwrap();
    assert!(g.id > 0);
    s.commit().unwrap();
    assert_eq!(count::<GoodHand>(&engine), 1);
    // Loading goes through the provided `Model::from_row`.
    assert_eq!(s.query::<GoodHand>().all().unwrap(), vec![g.clone()]);
});

on_each_db!(a_hand_written_model_remembers_what_each_update_wrote, |db: Db| {
    // Two updates in one transaction: the second one's old values are what the first
    // wrote (the remembered row is brought up to date by the provided
    // `Model::copy_columns`).
    let seen = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let sink = seen.clone();
    let engine = Engine::builder(&db.url)
        .listen::<GoodHand>(AfterUpdate, move |_ctx, c| {
            let (old, new) = (c.old().unwrap().name.clone(), c.new().unwrap().name.clone());
            sink.lock().unwrap().push((old, new));
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let mut g = s
        .insert(GoodHand {
            id: 0,
            name: "a".into(),
        })
        .unwrap();
    s.commit().unwrap();
    g = s.get::<GoodHand>(g.id).unwrap().unwrap();
    g.name = "b".into();
    s.update(&g).unwrap();
    s.flush().unwrap();
    g.name = "c".into();
    s.update(&g).unwrap();
    s.commit().unwrap();
    let pairs = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(*seen.lock().unwrap(), pairs(&[("a", "b"), ("b", "c")]));
});

on_each_db!(
    the_builder_refuses_a_model_with_an_invalid_table_or_column_name,
    |db: Db| {
        let err = Engine::builder(&db.url).model::<SpacedTable>().build().unwrap_err();
        assert!(is_invalid_identifier(&err, IdentKind::Table, "bad name"), "{err:?}");
        assert!(err.to_string().contains("bad name"), "{err}");

        let err = Engine::builder(&db.url).model::<InjectedTable>().build().unwrap_err();
        assert!(
            is_invalid_identifier(&err, IdentKind::Table, "users\"; DROP TABLE users; --"),
            "{err:?}"
        );
        let err = Engine::builder(&db.url)
            .model::<User>()
            .listen::<InjectedColumn>(trigorm::event::AfterInsert, |_, _| Ok(()))
            .build()
            .unwrap_err();
        assert!(
            is_invalid_identifier(&err, IdentKind::Column, "name\"); DROP TABLE users; --"),
            "{err:?}"
        );
        // Nothing was created.
        if let Some(path) = db.path() {
            assert!(!path.exists(), "the builder refused before opening the database");
        }
        if db.is_postgres() {
            assert_eq!(pg_tables(&db), Vec::<String>::new(), "no table was created");
        }
        if db.is_mariadb() {
            use mysql::prelude::Queryable;
            let tables: Vec<String> = db
                .my_client()
                .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
                .unwrap();
            assert_eq!(tables, Vec::<String>::new(), "no table was created");
        }
    }
);

on_each_db!(the_builder_refuses_two_columns_that_differ_only_in_case, |db: Db| {
    // `id` and `ID` are one column to SQLite (and to the derive, which refuses them).
    let err = Engine::builder(&db.url).model::<DuplicateColumn>().build().unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidModel {
                model: "DuplicateColumn",
                ..
            }
        ),
        "{err:?}"
    );
});

on_each_db!(
    a_flush_refuses_an_unregistered_model_with_an_invalid_name_before_writing,
    |db: Db| {
        let log = StatementLog::default();
        let engine = log.attach(audited(&db.url)).build().unwrap();
        engine.create_all().unwrap();
        log.take();
        let mut s = engine.session().unwrap();
        s.add(User::new("staged first"));
        s.add(SpacedTable {
            id: 0,
            name: "x".into(),
        });
        let err = s.commit().unwrap_err();
        assert!(is_invalid_identifier(&err, IdentKind::Table, "bad name"), "{err:?}");
        s.rollback().unwrap();

        let mut s = engine.session().unwrap();
        s.add(InjectedTable {
            id: 0,
            name: "x".into(),
        });
        let err = s.flush().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidIdentifier {
                    kind: IdentKind::Table,
                    ..
                }
            ),
            "{err:?}"
        );
        s.rollback().unwrap();
        let mut s = engine.session().unwrap();
        s.add(InjectedColumn {
            id: 0,
            name: "x".into(),
        });
        let err = s.flush().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidIdentifier {
                    kind: IdentKind::Column,
                    ..
                }
            ),
            "{err:?}"
        );
        s.rollback().unwrap();

        let sent = log.take();
        assert!(
            sent.iter()
                .all(|sql| !sql.contains("bad name") && !sql.contains("DROP")),
            "no statement with the bad names was sent: {sent:#?}"
        );
        assert_eq!(count::<User>(&engine), 0, "nothing of the failed flush is written");
        assert_eq!(count::<Log>(&engine), 0);
    }
);

on_each_db!(
    reads_and_bulk_statements_refuse_a_model_with_an_invalid_name,
    |db: Db| {
        let engine = audited(&db.url).build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let table = |e: &Error| is_invalid_identifier(e, IdentKind::Table, "bad name");
        let err = s.get::<SpacedTable>(1).unwrap_err();
        assert!(table(&err), "get: {err:?}");
        let err = s.query::<SpacedTable>().all().unwrap_err();
        assert!(table(&err), "query: {err:?}");
        let err = s.query::<SpacedTable>().count().unwrap_err();
        assert!(table(&err), "count: {err:?}");
        let err = s.delete_where::<SpacedTable>(col("id").gt(0)).unwrap_err();
        assert!(table(&err), "delete_where: {err:?}");
        let err = s
            .update_where::<SpacedTable>(col("id").gt(0), &[("name", Value::from("x"))])
            .unwrap_err();
        assert!(table(&err), "update_where: {err:?}");
        let err = s
            .query::<InjectedColumn>()
            .filter(col("name\"); DROP TABLE users; --").eq("x"))
            .all()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidIdentifier {
                    kind: IdentKind::Column,
                    ..
                }
            ),
            "{err:?}"
        );
    }
);

on_each_db!(create_all_refuses_an_invalid_model_and_creates_nothing, |db: Db| {
    // Registered models are checked at build; a parent reached only through a foreign key
    // is checked by create_all, before any table is created.
    #[derive(Clone, Debug)]
    struct Child {
        id: i64,
    }
    impl Model for Child {
        fn table() -> &'static TableDef {
            static TABLE: TableDef = TableDef {
                name: "child_of_bad",
                model: "Child",
                columns: &[
                    ColumnDef {
                        primary_key: true,
                        auto_increment: true,
                        ..ColumnDef::new("id", "id", ColumnType::Integer)
                    },
                    ColumnDef {
                        references: Some(trigorm::schema::ForeignKeyDef {
                            table: <SpacedTable as Model>::table,
                            on_delete: trigorm::schema::OnDelete::Cascade,
                        }),
                        ..ColumnDef::new("parent_id", "parent_id", ColumnType::Integer)
                    },
                ],
                primary_key: 0,
            };
            &TABLE
        }
        fn values(&self) -> Vec<Value> {
            vec![self.id.to_value(), Value::Int(0)]
        }
        fn value(&self, column: usize) -> Value {
            self.values().get(column).cloned().unwrap_or_default()
        }
        fn from_values(values: &mut [Value]) -> Result<Self, Error> {
            Ok(Child {
                id: i64::from_value(std::mem::take(&mut values[0])).map_err(|source| Error::Decode {
                    model: "Child",
                    column: "id",
                    source,
                })?,
            })
        }
        fn diff(&self, other: &Self) -> ColumnSet {
            let mut s = ColumnSet::EMPTY;
            if self.id != other.id {
                s.insert(0);
            }
            s
        }
        fn set_value(&mut self, _column: usize, _value: Value) -> Result<(), Error> {
            Ok(())
        }
    }
    let engine = Engine::builder(&db.url).model::<User>().model::<Child>().build();
    let err = match engine {
        Err(e) => e,
        Ok(engine) => engine.create_all().unwrap_err(),
    };
    assert!(is_invalid_identifier(&err, IdentKind::Table, "bad name"), "{err:?}");
    let engine = Engine::connect(&db.url).unwrap();
    let mut s = engine.session().unwrap();
    let sql = if db.is_postgres() {
        // The test's own schema: the database's other schemas are other tests'.
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    } else if db.is_mariadb() {
        // The test's own database: the server's other databases are other tests'.
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    };
    let tables = s.query_raw(sql, &[]).unwrap();
    assert!(tables.is_empty(), "no table was created: {tables:?}");
});

/// The tables of a PostgreSQL test's schema, read by a connection of its own.
fn pg_tables(db: &Db) -> Vec<String> {
    db.pg_client()
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

// ---------------------------------------------------------------------------------------
// PostgreSQL servers that refuse, and values PostgreSQL cannot store

/// The PostgreSQL server the tests use, or `None` (the test is skipped, and says so) when
/// no server answers and `TRIGORM_REQUIRE_SERVERS` is not `1` (as `on_each_db!` does).
fn postgres_server() -> Option<String> {
    let server = postgres_url();
    match postgres::Client::connect(&server, postgres::NoTls) {
        Ok(_) => Some(server),
        Err(e) if !servers_required() => {
            eprintln!("skipped: no PostgreSQL at {server}: {e}");
            None
        }
        Err(e) => panic!("no PostgreSQL at {server} (TRIGORM_REQUIRE_SERVERS=1): {e}"),
    }
}

#[test]
fn a_postgres_server_that_does_not_answer_is_an_unreachable_open_error() {
    // Nothing listens on port 1: no server is needed to see it refused.
    let url = "postgres://postgres@127.0.0.1:1/test";
    let started = std::time::Instant::now();
    let err = Engine::builder(url).model::<User>().build().unwrap_err();
    match &err {
        Error::Open { path, source } => {
            assert_eq!(path, url);
            assert_eq!(source.kind, DbErrorKind::Unreachable, "{source}");
            assert_eq!(source.database, url);
        }
        other => panic!("expected Error::Open, got {other:?}"),
    }
    assert_eq!(err.db_kind(), Some(DbErrorKind::Unreachable));
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "refused at once");
}

#[test]
fn a_postgres_role_that_does_not_exist_is_an_authentication_error() {
    // Trust authentication accepts any password: a missing role is how this server
    // refuses a login.
    let Some(server) = postgres_server() else { return };
    let url = url_with(&server, Some("trigorm_no_such_role:any"), None);
    let err = Engine::builder(&url).model::<User>().build().unwrap_err();
    match &err {
        Error::Open { source, .. } => {
            assert_eq!(source.kind, DbErrorKind::AuthenticationFailed, "{source}");
        }
        other => panic!("expected Error::Open, got {other:?}"),
    }
    assert_eq!(err.db_kind(), Some(DbErrorKind::AuthenticationFailed));
    assert!(err.to_string().contains("trigorm_no_such_role"), "{err}");
}

#[test]
fn a_postgres_database_that_does_not_exist_is_an_unknown_database_error() {
    let Some(server) = postgres_server() else { return };
    let url = url_with(&server, None, Some("trigorm_no_such_database"));
    let err = Engine::builder(&url).model::<User>().build().unwrap_err();
    match &err {
        Error::Open { source, .. } => {
            assert_eq!(source.kind, DbErrorKind::UnknownDatabase, "{source}");
        }
        other => panic!("expected Error::Open, got {other:?}"),
    }
    assert_eq!(err.db_kind(), Some(DbErrorKind::UnknownDatabase));
    assert!(err.to_string().contains("trigorm_no_such_database"), "{err}");
}

#[test]
fn a_postgres_pool_size_of_zero_is_an_invalid_url() {
    // Refused before any connection: no server is needed.
    for bad in ["0", "-1", "two", ""] {
        let url = format!("postgres://postgres:hunter2@127.0.0.1:5432/test?pool_size={bad}");
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

#[test]
fn a_password_in_a_postgres_url_never_appears_in_an_error() {
    let Some(server) = postgres_server() else { return };
    let user = url_user(&server, "postgres");
    // Trust authentication accepts any password: with one in the URL, the engine works.
    let password = "Tr1g0rm-s3cret";
    let login = format!("{user}:{password}");
    let cases = [
        // Unreachable, a refused login, a missing database, URLs refused as invalid.
        "postgres://postgres:Tr1g0rm-s3cret@127.0.0.1:1/test".to_string(),
        url_with(&server, Some("trigorm_no_such_role:Tr1g0rm-s3cret"), None),
        url_with(&server, Some(&login), Some("trigorm_no_such_database")),
        "postgres://postgres:Tr1g0rm-s3cret@127.0.0.1:5432/test?pool_size=0".to_string(),
        "postgres://postgres:Tr1g0rm-s3cret@127.0.0.1:5432/test?no_such_parameter=1".to_string(),
        "postgres://postgres:Tr1g0rm-s3cret@[::1/test".to_string(),
        "postgresql://postgres:Tr1g0rm-s3cret@127.0.0.1:1/test".to_string(),
    ];
    for url in &cases {
        let err = Engine::builder(url).model::<User>().build().unwrap_err();
        let text = shown(&err);
        assert!(
            !text.contains(password),
            "{url}: the password leaks into the error: {text}"
        );
    }

    // An engine that works: its errors and its debug form name the database without it.
    let db = Db::postgres().expect("the server answered");
    let url = url_with(&db.url, Some(&login), None);
    let engine = audited(&url).build().unwrap();
    assert!(!format!("{engine:?}").contains(password), "{engine:?}");
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let err = s.execute("SELECT * FROM no_such_table", &[]).unwrap_err();
    assert!(!shown(&err).contains(password), "{}", shown(&err));
    s.rollback().unwrap();
    let jane = s.insert(User::new("Jane")).unwrap();
    s.commit().unwrap();
    // The same key again.
    s.add(jane);
    let err = s.commit().unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
    assert!(!shown(&err).contains(password), "{}", shown(&err));
}

#[test]
fn a_password_with_a_slash_or_given_as_a_url_parameter_never_appears_in_an_error() {
    // The `postgres` crate reads both: a password up to the last `@` (a `/` in it
    // included), and a `password` parameter.
    let mut leaks = Vec::new();
    for (url, password) in [
        ("postgres://postgres:Tr1g0rm/s3cret@127.0.0.1:1/test", "Tr1g0rm/s3cret"),
        (
            "postgres://127.0.0.1:1/test?user=postgres&password=Tr1g0rm-s3cret",
            "Tr1g0rm-s3cret",
        ),
        (
            "postgres:///test?host=127.0.0.1&port=1&user=postgres&password=Tr1g0rm-s3cret",
            "Tr1g0rm-s3cret",
        ),
    ] {
        let err = Engine::builder(url).model::<User>().build().unwrap_err();
        assert_eq!(err.db_kind(), Some(DbErrorKind::Unreachable), "{url}: {err:?}");
        let text = shown(&err);
        if text.contains(password) {
            leaks.push(format!("{url}: {text}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "the password leaks into the error:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn text_with_a_nul_character_is_refused_by_postgres_before_anything_is_sent() {
    let Some(db) = Db::postgres() else { return };
    let log = StatementLog::default();
    let engine = log.attach(audited(&db.url)).build().unwrap();
    engine.create_all().unwrap();
    let is_nul_error = |e: &Error, column: &str| matches!(e, Error::InvalidValue { model: "User", column: c, reason } if *c == column && reason.contains("NUL"));
    let writes = |sent: Vec<String>| {
        sent.into_iter()
            .filter(|sql| {
                let sql = sql.trim_start().to_ascii_uppercase();
                sql.starts_with("INSERT") || sql.starts_with("UPDATE") || sql.starts_with("DELETE")
            })
            .collect::<Vec<_>>()
    };
    log.take();

    // An insert: refused, naming the model and the column; nothing is sent or written.
    let mut s = engine.session().unwrap();
    let err = s.insert(User::new("nul \0 in the middle")).unwrap_err();
    assert!(is_nul_error(&err, "name"), "{err:?}");
    assert!(
        err.to_string().contains("User") && err.to_string().contains("name"),
        "{err}"
    );
    assert_eq!(writes(log.take()), Vec::<String>::new(), "nothing is sent");
    s.rollback().unwrap();
    assert_eq!((count::<User>(&engine), count::<Log>(&engine)), (0, 0));

    // The session works on: a valid row is written.
    let jane = s.insert(User::new("Jane")).unwrap();
    s.commit().unwrap();
    log.take();

    // An update and a bulk update: refused the same way; the row is as it was.
    let mut changed = jane.clone();
    changed.email = Some("jane\0@example.com".into());
    s.update(&changed).unwrap();
    let err = s.commit().unwrap_err();
    assert!(is_nul_error(&err, "email"), "{err:?}");
    s.rollback().unwrap();
    let err = s
        .update_where::<User>(col("id").eq(jane.id), &[("name", Value::from("\0"))])
        .unwrap_err();
    assert!(is_nul_error(&err, "name"), "{err:?}");
    s.rollback().unwrap();
    assert_eq!(writes(log.take()), Vec::<String>::new(), "nothing is sent");

    // Raw SQL binds the value as given: the server refuses it, as a typed error.
    let err = s
        .execute(
            &db.sql("UPDATE users SET name = ? WHERE id = ?"),
            &[Value::from("raw \0"), Value::from(jane.id)],
        )
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::InvalidValue), "{err:?}");
    s.rollback().unwrap();
    drop(s);

    let mut check = engine.session().unwrap();
    assert_eq!(check.query::<User>().all().unwrap(), vec![jane]);
    assert_eq!(check.query::<Log>().count().unwrap(), 1, "the insert's audit row alone");
}
