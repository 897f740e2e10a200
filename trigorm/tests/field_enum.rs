//! `#[derive(Field)]` on enums of unit variants, through the public API: each variant is
//! stored as its text (renamed by `rename_all` / `rename`), written without allocating,
//! read back from exactly that text, and any other stored value is a decode error naming
//! the enum and what was found. On SQLite, in a file and in memory, and on PostgreSQL.
//!
//! `ChangeType` and `Log` below are the derive's rustdoc example (with `PartialEq` added to
//! `Log` for the assertions): that example is `ignore`d, as a proc-macro crate cannot
//! depend on trigorm, so it is compiled here.
mod common;
use common::*;

use trigorm::query::col;
use trigorm::schema::ColumnType;
use trigorm::{Engine, Error, Field, Model, Value, ValueRef};

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "snake_case")]
enum ChangeType {
    Insert, // stored as "insert"
    Update, // stored as "update"
    #[trigorm(rename = "removed")]
    Delete, // stored as "removed"
}

#[derive(Model, Clone, Debug, PartialEq)]
struct Log {
    id: i64,
    change_type: ChangeType,   // TEXT NOT NULL
    prior: Option<ChangeType>, // TEXT, NULL for `None`
}

fn log(change_type: ChangeType, prior: Option<ChangeType>) -> Log {
    Log {
        id: 0,
        change_type,
        prior,
    }
}

/// The text `value` holds, or a panic naming what it is.
fn text<'a>(value: &'a ValueRef<'_>) -> &'a str {
    match value {
        ValueRef::Text(t) => t,
        other => panic!("expected static text, got {other:?}"),
    }
}

#[test]
fn a_derived_enum_is_a_text_field_written_from_static_text() {
    assert_eq!(
        [<ChangeType as Field>::TYPE, <Option<ChangeType> as Field>::TYPE],
        [ColumnType::Text; 2]
    );
    // (NOT NULL, nullable)
    assert_eq!(
        [<ChangeType as Field>::NULLABLE, <Option<ChangeType> as Field>::NULLABLE],
        [false, true]
    );

    let expected = [
        (ChangeType::Insert, "insert"),
        (ChangeType::Update, "update"),
        (ChangeType::Delete, "removed"),
    ];
    for (variant, stored) in expected {
        assert_eq!(variant.to_value_ref(), ValueRef::Text(stored));
        assert_eq!(variant.to_value(), Value::Text(stored.to_string()));
        assert_eq!(Some(variant).to_value_ref(), ValueRef::Text(stored));
        // Borrowed from one static string, not from the value nor a fresh allocation: two
        // values, made apart, give the very same bytes.
        let (a, b) = (variant, variant);
        assert_eq!(text(&a.to_value_ref()).as_ptr(), text(&b.to_value_ref()).as_ptr());
    }
    assert_eq!(None::<ChangeType>.to_value_ref(), ValueRef::Null);
    assert_eq!(None::<ChangeType>.to_value(), Value::Null);

    let table = Log::table();
    let column = |name: &str| &table.columns[table.column_index(name).expect(name)];
    assert_eq!(
        (column("change_type").ty, column("change_type").nullable),
        (ColumnType::Text, false)
    );
    assert_eq!((column("prior").ty, column("prior").nullable), (ColumnType::Text, true));
}

#[test]
fn reading_accepts_exactly_the_stored_texts() {
    assert_eq!(ChangeType::from_value(Value::from("removed")), Ok(ChangeType::Delete));
    assert_eq!(ChangeType::from_value(Value::from("insert")), Ok(ChangeType::Insert));
    assert_eq!(
        ChangeType::from_value_ref(&ValueRef::Text("update")),
        Ok(ChangeType::Update)
    );
    assert_eq!(
        ChangeType::from_value_ref(&ValueRef::Owned(Value::from("removed"))),
        Ok(ChangeType::Delete)
    );
    let mut field = ChangeType::Insert;
    field.read_from(&ValueRef::Text("removed")).unwrap();
    assert_eq!(field, ChangeType::Delete);

    // The variant's own name once renamed, other cases, padding, the empty text, and
    // values that are not text: all refused, naming the enum and what was found.
    let refused = [
        (Value::from("Delete"), "text \"Delete\""),
        (Value::from("delete"), "text \"delete\""),
        (Value::from("Insert"), "text \"Insert\""),
        (Value::from("INSERT"), "text \"INSERT\""),
        (Value::from(" insert"), "text \" insert\""),
        (Value::from(""), "text \"\""),
        (Value::Int(0), "integer 0"),
        (Value::Null, "NULL NULL"),
        (Value::from(b"insert".as_slice()), "blob <6 bytes>"),
    ];
    for (value, found) in refused {
        let by_value = ChangeType::from_value(value.clone()).unwrap_err();
        assert_eq!((by_value.expected, by_value.found.as_str()), ("ChangeType", found));
        assert_eq!(by_value.to_string(), format!("expected ChangeType, found {found}"));
        let by_ref = ChangeType::from_value_ref(&value.as_value_ref()).unwrap_err();
        assert_eq!(by_ref, by_value);
        let mut field = ChangeType::Insert;
        assert_eq!(field.read_from(&value.as_value_ref()), Err(by_value));
    }

    // Option<ChangeType>: NULL is None, a stored text is Some, any other text is refused.
    assert_eq!(Option::<ChangeType>::from_value(Value::Null), Ok(None));
    assert_eq!(
        Option::<ChangeType>::from_value_ref(&ValueRef::Text("removed")),
        Ok(Some(ChangeType::Delete))
    );
    let err = Option::<ChangeType>::from_value(Value::from("gone")).unwrap_err();
    assert_eq!((err.expected, err.found.as_str()), ("ChangeType", "text \"gone\""));
}

#[derive(Field, Clone, Copy, Debug, PartialEq)]
enum AsWritten {
    Insert,
    HttpRequest,
    UserId2Fa,
    r#Type,
}

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "lowercase")]
enum Lower {
    Insert,
    HttpRequest,
    UserId2Fa,
}

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "UPPERCASE")]
enum Upper {
    Insert,
    HttpRequest,
    UserId2Fa,
}

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "snake_case")]
enum Snake {
    Insert,
    HttpRequest,
    UserId2Fa,
}

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "SCREAMING_SNAKE_CASE")]
enum ScreamingSnake {
    Insert,
    HttpRequest,
    UserId2Fa,
}

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "kebab-case")]
enum Kebab {
    Insert,
    HttpRequest,
    #[trigorm(rename = "2FA")]
    UserId2Fa,
}

/// Each variant is stored as `texts[i]`, and reads back from it.
fn assert_texts<F: Field + std::fmt::Debug>(variants: &[F], texts: &[&str]) {
    assert_eq!(variants.len(), texts.len());
    for (variant, &stored) in variants.iter().zip(texts) {
        assert_eq!(variant.to_value_ref(), ValueRef::Text(stored), "{variant:?}");
        assert_eq!(F::from_value_ref(&ValueRef::Text(stored)).as_ref(), Ok(variant));
    }
}

#[test]
fn rename_all_conventions_and_rename() {
    use AsWritten as W;
    assert_texts(
        &[W::Insert, W::HttpRequest, W::UserId2Fa, W::r#Type],
        &["Insert", "HttpRequest", "UserId2Fa", "Type"],
    );
    assert_texts(
        &[Lower::Insert, Lower::HttpRequest, Lower::UserId2Fa],
        &["insert", "httprequest", "userid2fa"],
    );
    assert_texts(
        &[Upper::Insert, Upper::HttpRequest, Upper::UserId2Fa],
        &["INSERT", "HTTPREQUEST", "USERID2FA"],
    );
    assert_texts(
        &[Snake::Insert, Snake::HttpRequest, Snake::UserId2Fa],
        &["insert", "http_request", "user_id2_fa"],
    );
    assert_texts(
        &[
            ScreamingSnake::Insert,
            ScreamingSnake::HttpRequest,
            ScreamingSnake::UserId2Fa,
        ],
        &["INSERT", "HTTP_REQUEST", "USER_ID2_FA"],
    );
    // `rename` wins over `rename_all`.
    assert_texts(
        &[Kebab::Insert, Kebab::HttpRequest, Kebab::UserId2Fa],
        &["insert", "http-request", "2FA"],
    );
    // A convention's text is the only one read: not the name as written.
    assert!(Snake::from_value(Value::from("HttpRequest")).is_err());
    assert!(Kebab::from_value(Value::from("user-id2-fa")).is_err());
    let err = AsWritten::from_value(Value::from("insert")).unwrap_err();
    assert_eq!(err.expected, "AsWritten");
}

/// SQL for the storage type of `column`'s value (a column of table `log`), as SQLite's
/// `typeof` names it: `text`, `null`, ... On PostgreSQL, whose columns hold one type, it is
/// the column's type (`pg_typeof`), and `null` for a NULL; on MariaDB too, from the
/// catalog, its text types (`varchar`, `longtext`, ...) named `text`.
fn type_of(db: &Db, column: &str) -> String {
    if db.is_postgres() {
        format!("CASE WHEN {column} IS NULL THEN 'null' ELSE pg_typeof({column})::text END")
    } else if db.is_mariadb() {
        format!(
            "CASE WHEN {column} IS NULL THEN 'null' ELSE (\
             SELECT IF(DATA_TYPE IN ('char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext'), 'text', DATA_TYPE) \
             FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'log' AND COLUMN_NAME = '{column}') END"
        )
    } else {
        format!("typeof({column})")
    }
}

on_each_db!(round_trips_and_stores_the_renamed_text, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Log>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let a = s.insert(log(ChangeType::Delete, Some(ChangeType::Insert))).unwrap();
    let b = s.insert(log(ChangeType::Update, None)).unwrap();
    s.commit().unwrap();
    drop(s);

    let mut s = engine.session().unwrap();
    assert_eq!(s.get::<Log>(a.id).unwrap(), Some(a.clone()));
    assert_eq!(s.get::<Log>(b.id).unwrap(), Some(b.clone()));
    assert_eq!(s.query::<Log>().all().unwrap(), [a.clone(), b.clone()]);
    let removed = s
        .query::<Log>()
        .filter(col("change_type").eq(ChangeType::Delete.to_value()))
        .all()
        .unwrap();
    assert_eq!(removed, std::slice::from_ref(&a));
    let without_prior = s.query::<Log>().filter(col("prior").is_null()).all().unwrap();
    assert_eq!(without_prior, std::slice::from_ref(&b));

    let sql = format!(
        "SELECT change_type, prior, {}, {} FROM log ORDER BY id",
        type_of(&db, "change_type"),
        type_of(&db, "prior")
    );
    let rows = s.query_raw(&sql, &[]).unwrap();
    assert_eq!(
        rows,
        [
            vec![
                Value::from("removed"),
                Value::from("insert"),
                Value::from("text"),
                Value::from("text")
            ],
            vec![
                Value::from("update"),
                Value::Null,
                Value::from("text"),
                Value::from("null")
            ],
        ]
    );
});

/// The UPDATE that writes `log.<column>` alone: by key, or on a server, where flushes
/// write their rows in batches, from arrays of values and keys (PostgreSQL) or a derived
/// table of typed rows (MariaDB).
fn only(db: &Db, column: &str) -> String {
    if db.is_postgres() {
        format!(
            r#"UPDATE "log" SET "{column}" = "~v"."c0" FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS BIGINT[])) AS "~v"("c0", "k") WHERE "log"."id" = "~v"."k" RETURNING "log"."id""#
        )
    } else if db.is_mariadb() {
        format!(
            "UPDATE `log` JOIN (SELECT CONVERT(? USING utf8mb4) AS `c0`, CAST(? AS SIGNED) AS `k`) \
             AS `~v` ON `log`.`id` = `~v`.`k` SET `log`.`{column}` = `~v`.`c0`"
        )
    } else {
        format!(r#"UPDATE "log" SET "{column}" = ? WHERE "id" = ?"#)
    }
}

on_each_db!(updating_the_enum_writes_only_its_column, |db: Db| {
    let statements = StatementLog::default();
    let engine = statements
        .attach(Engine::builder(&db.url).model::<Log>())
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let select = db.sql("SELECT change_type, prior FROM log WHERE id = ?");
    let stored = |s: &mut trigorm::Session, id: i64| s.query_raw(&select, &[Value::from(id)]).unwrap().remove(0);
    let updates = |statements: &StatementLog| {
        statements
            .take()
            .into_iter()
            .filter(|sql| sql.starts_with("UPDATE"))
            .collect::<Vec<_>>()
    };

    let mut s = engine.session().unwrap();
    let mut row = s.insert(log(ChangeType::Insert, None)).unwrap();
    s.commit().unwrap();
    statements.take();

    row.change_type = ChangeType::Delete;
    s.update(&row).unwrap();
    s.commit().unwrap();
    assert_eq!(updates(&statements), [only(&db, "change_type")]);
    assert_eq!(stored(&mut s, row.id), [Value::from("removed"), Value::Null]);

    row.prior = Some(ChangeType::Update);
    s.update(&row).unwrap();
    s.commit().unwrap();
    assert_eq!(updates(&statements), [only(&db, "prior")]);
    assert_eq!(stored(&mut s, row.id), [Value::from("removed"), Value::from("update")]);

    // The same values again: nothing to write.
    s.update(&row).unwrap();
    s.commit().unwrap();
    assert_eq!(updates(&statements), Vec::<String>::new());

    row.prior = None;
    s.update(&row).unwrap();
    s.commit().unwrap();
    assert_eq!(updates(&statements), [only(&db, "prior")]);
    assert_eq!(stored(&mut s, row.id), [Value::from("removed"), Value::Null]);
    drop(s);

    let mut s = engine.session().unwrap();
    assert_eq!(
        s.get::<Log>(row.id).unwrap(),
        Some(log_with_id(row.id, ChangeType::Delete, None))
    );
});

fn log_with_id(id: i64, change_type: ChangeType, prior: Option<ChangeType>) -> Log {
    Log {
        id,
        ..log(change_type, prior)
    }
}

on_each_db!(an_unknown_stored_text_fails_to_load, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Log>().build().unwrap();
    engine.create_all().unwrap();
    // Written with raw SQL: the variant's name (renamed away), another case, and a blob.
    let cases: [(Value, Value, &str, &str); 3] = [
        (Value::from("Delete"), Value::Null, "change_type", "text \"Delete\""),
        (Value::from("insert"), Value::from("INSERT"), "prior", "text \"INSERT\""),
        (
            Value::from(b"\x01".as_slice()),
            Value::Null,
            "change_type",
            "blob <1 bytes>",
        ),
    ];
    for (change_type, prior, column, found) in cases {
        if db.is_mariadb() && matches!(change_type, Value::Blob(_)) {
            // The same on MariaDB (`LONGBLOB`), on a plain connection: DDL would commit the
            // session's transaction, and is refused in one.
            use mysql::prelude::Queryable;
            db.my_client()
                .query_drop("ALTER TABLE log MODIFY change_type LONGBLOB NOT NULL")
                .unwrap();
        }
        let mut s = engine.session().unwrap();
        s.execute("DELETE FROM log", &[]).unwrap();
        if db.is_postgres() && matches!(change_type, Value::Blob(_)) {
            // A PostgreSQL text column holds only text: to hold the blob, the column
            // becomes `bytea` (a table changed behind the model's back).
            s.execute(
                "ALTER TABLE log ALTER COLUMN change_type TYPE bytea USING convert_to(change_type, 'UTF8')",
                &[],
            )
            .unwrap();
        }
        s.execute(
            &db.sql("INSERT INTO log (change_type, prior) VALUES (?, ?)"),
            &[change_type, prior],
        )
        .unwrap();
        let id = match s.query_raw("SELECT id FROM log", &[]).unwrap()[0][0] {
            Value::Int(id) => id,
            ref other => panic!("{other:?}"),
        };
        s.commit().unwrap();
        drop(s);

        let by_key = engine.session().unwrap().get::<Log>(id).unwrap_err();
        let by_query = engine.session().unwrap().query::<Log>().all().unwrap_err();
        for err in [by_key, by_query] {
            assert_eq!(
                err.to_string(),
                format!("cannot read Log.{column}: expected ChangeType, found {found}")
            );
            match err {
                Error::Decode {
                    model,
                    column: c,
                    source,
                } => {
                    assert_eq!((model, c), ("Log", column));
                    assert_eq!((source.expected, source.found.as_str()), ("ChangeType", found));
                }
                other => panic!("{column} = {found}: expected a decode error, got {other:?}"),
            }
        }
    }
});

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "snake_case")]
enum OrderState {
    New,
    Paid,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "orders_ok")]
struct GoodDefault {
    id: i64,
    #[trigorm(default = "new")]
    state: OrderState,
}

#[derive(Model, Clone, Debug)]
#[trigorm(table = "orders_bad")]
struct BadDefault {
    id: i64,
    /// "New" is the variant's Rust name, not its stored text "new".
    #[trigorm(default = "New")]
    state: OrderState,
}

/// A `default` the field cannot read back would make every row that gets it fail to load:
/// the engine refuses the model when it is registered, naming it, the column and the text.
#[test]
fn a_default_that_is_none_of_the_enums_texts_is_refused_when_the_model_is_registered() {
    let err = trigorm::Engine::builder("sqlite::memory:")
        .model::<BadDefault>()
        .build()
        .expect_err("a default that is no variant");
    match &err {
        trigorm::Error::InvalidModel { model, reason } => {
            assert_eq!(*model, "BadDefault");
            assert!(reason.contains("\"state\"") && reason.contains("New"), "{reason}");
        }
        other => panic!("expected InvalidModel, got {other:?}"),
    }

    // A default that reads back is accepted and is what a row written without the column
    // holds.
    let engine = trigorm::Engine::builder("sqlite::memory:")
        .model::<GoodDefault>()
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.execute("INSERT INTO orders_ok (id) VALUES (1)", &[]).unwrap();
    assert_eq!(
        s.get::<GoodDefault>(1).unwrap(),
        Some(GoodDefault {
            id: 1,
            state: OrderState::New
        })
    );
}
