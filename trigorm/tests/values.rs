//! Every field type round-trips through the database unchanged (written by one session,
//! read by another), and a stored value that does not fit its field is a decode error
//! naming the model and the column.
mod common;
use common::*;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::json;
use trigorm::error::DbErrorKind;
use trigorm::query::col;
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "all_types")]
struct AllTypes {
    id: i64,
    v_i8: i8,
    v_i16: i16,
    v_i32: i32,
    v_i64: i64,
    v_u8: u8,
    v_u16: u16,
    v_u32: u32,
    v_f32: f32,
    v_f64: f64,
    v_bool: bool,
    v_string: String,
    v_bytes: Vec<u8>,
    v_ts: DateTime<Utc>,
    v_date: NaiveDate,
    v_json: serde_json::Value,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "all_options")]
struct AllOptions {
    id: i64,
    v_i8: Option<i8>,
    v_i16: Option<i16>,
    v_i32: Option<i32>,
    v_i64: Option<i64>,
    v_u8: Option<u8>,
    v_u16: Option<u16>,
    v_u32: Option<u32>,
    v_f32: Option<f32>,
    v_f64: Option<f64>,
    v_bool: Option<bool>,
    v_string: Option<String>,
    v_bytes: Option<Vec<u8>>,
    v_ts: Option<DateTime<Utc>>,
    v_date: Option<NaiveDate>,
    v_json: Option<serde_json::Value>,
}

fn ts(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap() + chrono::Duration::microseconds(i64::from(micros))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Text that is easy to mangle: quotes, backslashes, emoji, NUL, SQL, whitespace.
const TRICKY: &str = "it's \"quoted\" \\back\\slash\\ 😀🇫🇷 nul:\0:end; DROP TABLE all_types; -- \r\n\t";

/// [`TRICKY`] as `db` can store it: PostgreSQL refuses text with a NUL character (a typed
/// error, asserted by the tests that use it), so there it goes without its NUL.
fn tricky(db: &Db) -> String {
    if db.is_postgres() {
        TRICKY.replace('\0', "")
    } else {
        TRICKY.to_string()
    }
}

fn minimum() -> AllTypes {
    AllTypes {
        id: 0,
        v_i8: i8::MIN,
        v_i16: i16::MIN,
        v_i32: i32::MIN,
        v_i64: i64::MIN,
        v_u8: 0,
        v_u16: 0,
        v_u32: 0,
        v_f32: f32::MIN,
        v_f64: f64::MIN,
        v_bool: false,
        v_string: String::new(),
        v_bytes: Vec::new(),
        v_ts: ts(1, 1, 1, 0, 0, 0, 0),
        v_date: date(1, 1, 1),
        v_json: json!(null),
    }
}

/// The largest values, with [`TRICKY`] text (in the text column and inside the JSON).
fn maximum() -> AllTypes {
    AllTypes {
        id: 0,
        v_i8: i8::MAX,
        v_i16: i16::MAX,
        v_i32: i32::MAX,
        v_i64: i64::MAX,
        v_u8: u8::MAX,
        v_u16: u16::MAX,
        v_u32: u32::MAX,
        v_f32: f32::MAX,
        v_f64: f64::MAX,
        v_bool: true,
        v_string: TRICKY.to_string(),
        v_bytes: (0..=255).collect(),
        v_ts: ts(9999, 12, 31, 23, 59, 59, 999_999),
        v_date: date(9999, 12, 31),
        v_json: json!({"s": TRICKY, "n": [1, -2.5, 1e300, null, true], "o": {"k": {}}}),
    }
}

/// [`maximum`] as `db` can store it (see [`tricky`]).
fn maximum_on(db: &Db) -> AllTypes {
    let t = tricky(db);
    AllTypes {
        v_json: json!({"s": t, "n": [1, -2.5, 1e300, null, true], "o": {"k": {}}}),
        v_string: t,
        ..maximum()
    }
}

fn ordinary() -> AllTypes {
    AllTypes {
        id: 0,
        v_i8: -7,
        v_i16: 1234,
        v_i32: -123_456,
        v_i64: 9_007_199_254_740_993, // not exact as a double
        v_u8: 200,
        v_u16: 60_000,
        v_u32: 4_000_000_000,
        v_f32: 0.1,
        v_f64: 0.1 + 0.2,
        v_bool: true,
        // Text that looks like a number stays text.
        v_string: "00123".to_string(),
        v_bytes: b"\0\x01\xff not utf-8: \xc3\x28".to_vec(),
        v_ts: ts(2024, 2, 29, 23, 59, 59, 123_456),
        v_date: date(2024, 2, 29),
        v_json: json!("just a string"),
    }
}

fn small_floats() -> AllTypes {
    AllTypes {
        v_f32: f32::MIN_POSITIVE,
        v_f64: f64::MIN_POSITIVE,
        v_json: json!(42),
        v_string: "1e5".to_string(),
        ..ordinary()
    }
}

fn special_floats() -> AllTypes {
    AllTypes {
        v_f32: f32::INFINITY,
        v_f64: f64::NEG_INFINITY,
        v_json: json!([]),
        ..ordinary()
    }
}

/// Insert in one session and commit; read back in a new one.
fn round_trip<M: Model + PartialEq + std::fmt::Debug>(engine: &Engine, value: M) {
    let mut s = engine.session().unwrap();
    let written = s.insert(value.clone()).unwrap();
    s.commit().unwrap();
    drop(s);
    let mut s = engine.session().unwrap();
    let read = s
        .get::<M>(written.primary_key())
        .unwrap()
        .expect("the row just inserted");
    let mut expected = value;
    expected
        .set_value(M::table().primary_key, written.primary_key())
        .unwrap();
    assert_eq!(read, expected, "read back in a new session");
    assert_eq!(written, expected, "as returned by insert");
    // And through a query, too.
    let all = s.query::<M>().all().unwrap();
    assert!(all.contains(&expected));
}

on_each_db!(every_field_type_round_trips, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<AllTypes>()
        .model::<AllOptions>()
        .build()
        .unwrap();
    engine.create_all().unwrap();
    for v in [minimum(), maximum_on(&db), ordinary(), small_floats()] {
        round_trip(&engine, v);
    }
    if db.is_mariadb() {
        // MariaDB's DOUBLE holds no infinity: each is refused, as a typed error, and
        // nothing of the row is written.
        for v in [
            special_floats(),
            AllTypes {
                v_f64: f64::INFINITY,
                ..ordinary()
            },
        ] {
            let before = count::<AllTypes>(&engine);
            let mut s = engine.session().unwrap();
            let err = s.insert(v.clone()).unwrap_err();
            assert!(
                matches!(err, Error::InvalidValue { model: "AllTypes", .. })
                    || err.db_kind() == Some(DbErrorKind::InvalidValue),
                "{v:?}: {err:?}"
            );
            s.rollback().unwrap();
            drop(s);
            assert_eq!(count::<AllTypes>(&engine), before, "nothing of it is written");
        }
    } else {
        round_trip(&engine, special_floats());
    }
    if db.is_postgres() {
        // PostgreSQL cannot store a NUL character in text: `maximum()` as it is (NUL in
        // its text, and in a string of its JSON) is refused, as a typed error.
        nul_is_refused(&engine, maximum(), "v_string");
        let json_nul = AllTypes {
            v_json: maximum().v_json,
            ..maximum_on(&db)
        };
        let before = count::<AllTypes>(&engine);
        let mut s = engine.session().unwrap();
        let err = s.insert(json_nul).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidValue {
                    model: "AllTypes",
                    column: "v_json",
                    ..
                }
            ) || err.db_kind() == Some(DbErrorKind::InvalidValue),
            "{err:?}"
        );
        s.rollback().unwrap();
        drop(s);
        assert_eq!(count::<AllTypes>(&engine), before, "nothing of it is written");
    }
});

/// On a backend that refuses text with a NUL character (PostgreSQL): writing `value`,
/// whose `column` holds one, is refused before anything is sent, with an error naming the
/// model and the column, and nothing of it is written.
fn nul_is_refused<M: Model + std::fmt::Debug>(engine: &Engine, value: M, column: &str) {
    let model = M::table().model;
    let before = count::<M>(engine);
    let mut s = engine.session().unwrap();
    let err = s.insert(value).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidValue { model: m, column: c, .. } if *m == model && *c == column),
        "{err:?}"
    );
    s.rollback().unwrap();
    drop(s);
    assert_eq!(count::<M>(engine), before, "nothing of it is written");
}

on_each_db!(every_optional_field_type_round_trips_as_none_and_some, |db: Db| {
    let engine = Engine::builder(&db.url).model::<AllOptions>().build().unwrap();
    engine.create_all().unwrap();
    let none = AllOptions {
        id: 0,
        v_i8: None,
        v_i16: None,
        v_i32: None,
        v_i64: None,
        v_u8: None,
        v_u16: None,
        v_u32: None,
        v_f32: None,
        v_f64: None,
        v_bool: None,
        v_string: None,
        v_bytes: None,
        v_ts: None,
        v_date: None,
        v_json: None,
    };
    round_trip(&engine, none.clone());
    let some = |v: AllTypes| AllOptions {
        id: 0,
        v_i8: Some(v.v_i8),
        v_i16: Some(v.v_i16),
        v_i32: Some(v.v_i32),
        v_i64: Some(v.v_i64),
        v_u8: Some(v.v_u8),
        v_u16: Some(v.v_u16),
        v_u32: Some(v.v_u32),
        v_f32: Some(v.v_f32),
        v_f64: Some(v.v_f64),
        v_bool: Some(v.v_bool),
        v_string: Some(v.v_string),
        v_bytes: Some(v.v_bytes),
        v_ts: Some(v.v_ts),
        v_date: Some(v.v_date),
        v_json: Some(v.v_json),
    };
    for v in [minimum(), maximum_on(&db), ordinary()] {
        round_trip(&engine, some(v));
    }
    if db.is_postgres() {
        // PostgreSQL cannot store a NUL character in text (see `tricky`).
        nul_is_refused(
            &engine,
            AllOptions {
                v_json: None,
                ..some(maximum())
            },
            "v_string",
        );
    }
    // Empty text, an empty blob and JSON null are values, not NULL.
    round_trip(
        &engine,
        AllOptions {
            v_string: Some(String::new()),
            v_bytes: Some(Vec::new()),
            v_json: Some(json!(null)),
            ..none
        },
    );
    let mut s = engine.session().unwrap();
    assert_eq!(
        s.query::<AllOptions>()
            .filter(col("v_string").is_null())
            .count()
            .unwrap(),
        1,
        "only the row with None is NULL"
    );
    assert_eq!(
        s.query::<AllOptions>().filter(col("v_json").is_null()).count().unwrap(),
        1
    );
});

on_each_db!(tricky_text_round_trips_and_is_found_by_equality, |db: Db| {
    let engine = Engine::builder(&db.url).model::<User>().build().unwrap();
    engine.create_all().unwrap();
    let names = [
        "O'Brien",
        "say \"hi\"",
        "C:\\path\\to\\file",
        "\\'",
        "emoji 😀 and ZWJ 👩‍👩‍👧",
        "nul \0 in the middle",
        "\0",
        "trailing nul\0",
        "x'); DROP TABLE users; --",
        "%_ wildcards",
        " ",
    ];
    // PostgreSQL cannot store a NUL character in text: there, those names are refused
    // (naming the model and the column), and the others round-trip.
    let (names, refused): (Vec<&str>, Vec<&str>) = names.iter().partition(|n| !(db.is_postgres() && n.contains('\0')));
    if db.is_postgres() {
        assert_eq!(refused.len(), 3);
    }
    for n in refused {
        nul_is_refused(&engine, User::new(n), "name");
    }
    let mut s = engine.session().unwrap();
    let ids: Vec<i64> = names.iter().map(|n| s.insert(User::new(n)).unwrap().id).collect();
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    for (n, id) in names.iter().zip(&ids) {
        assert_eq!(s.get::<User>(*id).unwrap().unwrap().name, *n);
        let found = s.query::<User>().filter(col("name").eq(*n)).all().unwrap();
        assert_eq!(found.len(), 1, "{n:?}");
        assert_eq!(found[0].id, *id);
    }
    assert_eq!(s.query::<User>().count().unwrap(), names.len() as u64);
});

on_each_db!(a_one_mebibyte_blob_round_trips, |db: Db| {
    let engine = Engine::builder(&db.url).model::<AllOptions>().build().unwrap();
    engine.create_all().unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let blob: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let mut s = engine.session().unwrap();
    let id = s
        .insert(AllOptions {
            id: 0,
            v_i8: None,
            v_i16: None,
            v_i32: None,
            v_i64: None,
            v_u8: None,
            v_u16: None,
            v_u32: None,
            v_f32: None,
            v_f64: None,
            v_bool: None,
            v_string: Some("x".repeat(1 << 20)),
            v_bytes: Some(blob.clone()),
            v_ts: None,
            v_date: None,
            v_json: None,
        })
        .unwrap()
        .id;
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    let read = s.get::<AllOptions>(id).unwrap().unwrap();
    assert_eq!(read.v_bytes.as_deref().map(<[u8]>::len), Some(1 << 20));
    assert!(read.v_bytes.unwrap() == blob);
    assert_eq!(read.v_string.unwrap().len(), 1 << 20);
});

/// Write `value` into `column` of row `id` with raw SQL, then read the row with the ORM:
/// the error it gives. A PostgreSQL or MariaDB column holds only values of its declared
/// type: there, the column first takes the type of `value` (a table changed behind the
/// model's back), and gets its own type back once the row is removed (on MariaDB, where
/// DDL commits, on a plain connection, and the table is created again).
fn decode_error(db: &Db, engine: &Engine, id: i64, column: &str, value: Value) -> Error {
    if db.is_mariadb() {
        use mysql::prelude::Queryable;
        // Whatever the column's type, the value's (no NOT NULL, nor JSON's CHECK), the row's
        // old value dropped with the old column (as PostgreSQL's `USING NULL`).
        let ty = match value {
            Value::Int(_) => "BIGINT",
            Value::Float(_) => "DOUBLE",
            Value::Text(_) => "LONGTEXT",
            Value::Blob(_) => "LONGBLOB",
            ref other => panic!("no case writes {other:?}"),
        };
        db.my_client()
            .query_drop(format!(
                "ALTER TABLE all_types DROP COLUMN {column}, ADD COLUMN {column} {ty} NULL"
            ))
            .unwrap();
    }
    let mut s = engine.session().unwrap();
    let mut declared = None;
    if db.is_postgres() {
        let (ty, nullable) = pg_column_type(&mut s, "all_types", column);
        let wanted = pg_type_of(&value);
        if ty != wanted {
            s.execute(
                &format!(
                    "ALTER TABLE all_types ALTER COLUMN {column} DROP NOT NULL, \
                     ALTER COLUMN {column} TYPE {wanted} USING NULL"
                ),
                &[],
            )
            .unwrap();
            declared = Some((ty, nullable));
        }
    }
    s.execute(
        &db.sql(&format!("UPDATE all_types SET {column} = ? WHERE id = ?")),
        &[value, Value::from(id)],
    )
    .unwrap();
    s.commit().unwrap();
    drop(s);
    let mut s = engine.session().unwrap();
    let by_key = s.get::<AllTypes>(id).unwrap_err();
    let by_query = s.query::<AllTypes>().all().unwrap_err();
    assert_eq!(by_key.to_string(), by_query.to_string());
    drop(s);
    // Remove the row, so that the next case's query reads only its own.
    let mut s = engine.session().unwrap();
    s.execute(&db.sql("DELETE FROM all_types WHERE id = ?"), &[Value::from(id)])
        .unwrap();
    if let Some((ty, nullable)) = declared {
        let not_null = if nullable {
            String::new()
        } else {
            format!(", ALTER COLUMN {column} SET NOT NULL")
        };
        s.execute(
            &format!("ALTER TABLE all_types ALTER COLUMN {column} TYPE {ty} USING NULL{not_null}"),
            &[],
        )
        .unwrap();
    }
    s.commit().unwrap();
    drop(s);
    if db.is_mariadb() {
        use mysql::prelude::Queryable;
        db.my_client().query_drop("DROP TABLE all_types").unwrap();
        engine.create_all().unwrap();
    }
    by_key
}

/// The PostgreSQL type of a column (as `information_schema` names it) and whether it
/// takes NULL.
fn pg_column_type(s: &mut trigorm::Session, table: &str, column: &str) -> (String, bool) {
    let rows = s
        .query_raw(
            "SELECT data_type, is_nullable FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
            &[Value::from(table), Value::from(column)],
        )
        .unwrap();
    match rows.as_slice() {
        [row] => match row.as_slice() {
            [Value::Text(ty), Value::Text(nullable)] => (ty.clone(), nullable == "YES"),
            other => panic!("{table}.{column}: {other:?}"),
        },
        other => panic!("{table}.{column}: {other:?}"),
    }
}

/// The PostgreSQL type (as `information_schema` names it) that stores `value` as it is.
fn pg_type_of(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "bigint",
        Value::Float(_) => "double precision",
        Value::Text(_) => "text",
        Value::Blob(_) => "bytea",
        other => panic!("no case writes {other:?}"),
    }
}

on_each_db!(
    a_stored_value_that_does_not_fit_its_field_is_a_decode_error,
    |db: Db| {
        let engine = Engine::builder(&db.url).model::<AllTypes>().build().unwrap();
        engine.create_all().unwrap();
        let cases: Vec<(&str, Value, &str)> = vec![
            ("v_i32", Value::from("abc"), "text"),
            ("v_i64", Value::from(1.5), "float"),
            ("v_u8", Value::from(300), "300"),
            ("v_u8", Value::from(-1), "-1"),
            ("v_i8", Value::from(200), "200"),
            ("v_i16", Value::from(70_000), "70000"),
            ("v_u32", Value::from(-5), "-5"),
            ("v_u32", Value::Int(1 << 40), "1099511627776"),
            ("v_bool", Value::from(2), "2"),
            ("v_string", Value::from(b"\xff\xfe".as_slice()), "blob"),
            ("v_bytes", Value::from("text"), "text"),
            ("v_ts", Value::from("not a time"), "not a time"),
            ("v_date", Value::from("2024-13-45"), "2024-13-45"),
            ("v_json", Value::from("{not json"), "{not json"),
            ("v_f64", Value::from("one"), "one"),
        ];
        for (column, value, found) in cases {
            let mut s = engine.session().unwrap();
            let id = s.insert(ordinary()).unwrap().id;
            s.commit().unwrap();
            drop(s);
            let err = decode_error(&db, &engine, id, column, value.clone());
            match &err {
                Error::Decode {
                    model,
                    column: c,
                    source,
                } => {
                    assert_eq!(*model, "AllTypes", "{column} = {value:?}");
                    assert_eq!(*c, column, "{column} = {value:?}");
                    assert!(source.found.contains(found), "{column} = {value:?}: {source}");
                }
                other => panic!("{column} = {value:?}: expected a decode error, got {other:?}"),
            }
            let msg = err.to_string();
            assert!(msg.contains("AllTypes") && msg.contains(column), "{msg}");
        }
    }
);

on_each_db!(a_timestamp_with_nanoseconds_is_written_as_it_is_stored, |db: Db| {
    // `Utc::now()` has nanoseconds on Linux. The row `insert` hands back must be the row
    // as stored, or re-staging it unchanged in a later transaction is a change of
    // `created_at` (an UPDATE and update events).
    let engine = audited(&db.url).build().unwrap();
    engine.create_all().unwrap();
    let mut user = User::new("nanos");
    user.created_at = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
    let mut s = engine.session().unwrap();
    let written = s.insert(user).unwrap();
    s.commit().unwrap();
    s.update(&written).unwrap();
    s.commit().unwrap();
    let updates = s
        .query::<Log>()
        .filter(col("change_type").eq("update"))
        .count()
        .unwrap();
    assert_eq!(updates, 0, "an unchanged object is no change");
    let read = s.get::<User>(written.id).unwrap().unwrap();
    assert_eq!(read, written, "the row as written is the row as stored");
});

on_each_db!(nan_is_never_silently_stored_as_null, |db: Db| {
    // SQLite turns a bound NaN into NULL. Writing NaN must either be refused or
    // round-trip; reading it back as `None` changes the data without a word.
    let engine = Engine::builder(&db.url).model::<AllOptions>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let written = s.insert(AllOptions {
        id: 0,
        v_i8: None,
        v_i16: None,
        v_i32: None,
        v_i64: None,
        v_u8: None,
        v_u16: None,
        v_u32: None,
        v_f32: None,
        v_f64: Some(f64::NAN),
        v_bool: None,
        v_string: None,
        v_bytes: None,
        v_ts: None,
        v_date: None,
        v_json: None,
    });
    if db.is_postgres() {
        // PostgreSQL stores NaN (`Capabilities::stores_nan`): it round-trips.
        let written = written.unwrap();
        s.commit().unwrap();
        let read = s.get::<AllOptions>(written.id).unwrap().unwrap();
        assert!(
            read.v_f64.is_some_and(f64::is_nan),
            "Some(NaN) read back as {:?}",
            read.v_f64
        );
    } else {
        // SQLite would store NULL: refused, naming the model and the column, and nothing
        // is written.
        let err = written.unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidValue {
                    model: "AllOptions",
                    column: "v_f64",
                    ..
                }
            ),
            "{err:?}"
        );
        s.rollback().unwrap();
        assert_eq!(count::<AllOptions>(&engine), 0);
    }
});

on_each_db!(
    rows_loaded_by_a_long_lived_session_read_exactly_what_is_stored,
    |db: Db| {
        // A session fills the rows of its earlier transactions again when it loads (their
        // strings and blobs reused): every value must still be exactly what is stored,
        // whatever the earlier row held (longer text, NULL where there is now a value, and
        // the other way round).
        let engine = Engine::builder(&db.url)
            .model::<AllTypes>()
            .model::<AllOptions>()
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        for v in [minimum(), maximum_on(&db), ordinary(), small_floats()] {
            let o = AllOptions {
                id: 0,
                v_i8: Some(v.v_i8),
                v_i16: None,
                v_i32: Some(v.v_i32),
                v_i64: None,
                v_u8: Some(v.v_u8),
                v_u16: None,
                v_u32: Some(v.v_u32),
                v_f32: None,
                v_f64: Some(v.v_f64),
                v_bool: None,
                v_string: Some(v.v_string.clone()),
                v_bytes: None,
                v_ts: Some(v.v_ts),
                v_date: None,
                v_json: Some(v.v_json.clone()),
            };
            s.add(v);
            s.add(o);
        }
        s.commit().unwrap();
        let fresh = |engine: &Engine| {
            let mut f = engine.session().unwrap();
            (
                f.query::<AllTypes>().order_by(col("id").asc()).all().unwrap(),
                f.query::<AllOptions>().order_by(col("id").asc()).all().unwrap(),
            )
        };
        for round in 0..4 {
            // What a new session reads (before `s` takes the write lock again).
            let expected = fresh(&engine);
            let types = s.query::<AllTypes>().order_by(col("id").asc()).all().unwrap();
            let options = s.query::<AllOptions>().order_by(col("id").asc()).all().unwrap();
            assert_eq!((types, options), expected, "round {round}");
            // `s` is done with the rows it remembered: the next round fills them again.
            s.commit().unwrap();
            // Another session changes every row, so that the next round reads other shapes
            // into those rows.
            let mut w = engine.session().unwrap();
            for mut t in w.query::<AllTypes>().all().unwrap() {
                t.v_string = if round % 2 == 0 {
                    "x".into()
                } else {
                    "a much longer text than before".repeat(3)
                };
                t.v_bytes = vec![round as u8; round * 7];
                t.v_i64 = t.v_i64.wrapping_add(1);
                w.update(t).unwrap();
            }
            for mut o in w.query::<AllOptions>().all().unwrap() {
                o.v_string = if o.v_string.is_some() {
                    None
                } else {
                    Some(format!("back {round}"))
                };
                o.v_i16 = if o.v_i16.is_some() { None } else { Some(round as i16) };
                o.v_bytes = if o.v_bytes.is_some() {
                    None
                } else {
                    Some(vec![1; round])
                };
                o.v_json = if round == 2 {
                    None
                } else {
                    Some(json!({"round": round}))
                };
                w.update(o).unwrap();
            }
            w.commit().unwrap();
        }
        let expected = fresh(&engine);
        let reread = (
            s.query::<AllTypes>().order_by(col("id").asc()).all().unwrap(),
            s.query::<AllOptions>().order_by(col("id").asc()).all().unwrap(),
        );
        assert_eq!(reread, expected, "after the last change");
    }
);

/// A custom field that stores a float in a column declared as text.
#[derive(Clone, Debug, PartialEq)]
struct Reading(f64);

impl trigorm::Field for Reading {
    const TYPE: trigorm::schema::ColumnType = trigorm::schema::ColumnType::Text;
    fn to_value(&self) -> Value {
        Value::Float(self.0)
    }
    fn from_value(value: Value) -> Result<Self, trigorm::value::ValueError> {
        match value {
            Value::Float(f) => Ok(Reading(f)),
            Value::Int(i) => Ok(Reading(i as f64)),
            // A text column stores the float as its text.
            Value::Text(t) if t.parse::<f64>().is_ok() => Ok(Reading(t.parse().unwrap_or_default())),
            other => Err(trigorm::value::ValueError {
                expected: "Reading",
                found: format!("{other:?}"),
            }),
        }
    }
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "readings")]
struct Sensor {
    id: i64,
    reading: Option<Reading>,
}

on_each_db!(
    a_custom_field_binding_nan_is_refused_whatever_its_column_type,
    |db: Db| {
        let engine = Engine::builder(&db.url).model::<Sensor>().build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let nan = s.insert(Sensor {
            id: 0,
            reading: Some(Reading(f64::NAN)),
        });
        if db.is_postgres() {
            // PostgreSQL stores NaN (`Capabilities::stores_nan`), in a text column too (as
            // its text): it round-trips.
            let nan = nan.unwrap();
            s.commit().unwrap();
            let mut other = engine.session().unwrap();
            let read = other.get::<Sensor>(nan.id).unwrap().unwrap().reading;
            assert!(matches!(read, Some(Reading(f)) if f.is_nan()), "{read:?}");
        } else {
            let err = nan.unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidValue {
                        model: "Sensor",
                        column: "reading",
                        ..
                    }
                ),
                "{err:?}"
            );
            s.rollback().unwrap();
            assert_eq!(count::<Sensor>(&engine), 0);
        }
        let ok = s
            .insert(Sensor {
                id: 0,
                reading: Some(Reading(1.5)),
            })
            .unwrap();
        s.commit().unwrap();
        assert_eq!(s.get::<Sensor>(ok.id).unwrap().unwrap().reading, Some(Reading(1.5)));
    }
);

/// A custom field that binds itself (one parameter, as `Field::bind` must).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cents(i64);

impl trigorm::Field for Cents {
    const TYPE: trigorm::schema::ColumnType = trigorm::schema::ColumnType::Integer;
    const MAY_BE_NAN: bool = false;
    fn to_value(&self) -> Value {
        Value::Int(self.0)
    }
    fn bind(&self, b: &mut dyn trigorm::Binder) {
        b.int(self.0);
    }
    fn from_value(value: Value) -> Result<Self, trigorm::value::ValueError> {
        <i64 as trigorm::Field>::from_value(value).map(Cents)
    }
}

/// A custom field whose `bind` breaks the contract: nothing for `None`-like values, two
/// parameters otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Broken(Option<i64>);

impl trigorm::Field for Broken {
    const TYPE: trigorm::schema::ColumnType = trigorm::schema::ColumnType::Integer;
    const NULLABLE: bool = true;
    fn to_value(&self) -> Value {
        self.0.map_or(Value::Null, Value::Int)
    }
    fn bind(&self, b: &mut dyn trigorm::Binder) {
        if let Some(v) = self.0 {
            b.int(v);
            b.int(v);
        }
    }
    fn from_value(value: Value) -> Result<Self, trigorm::value::ValueError> {
        <Option<i64> as trigorm::Field>::from_value(value).map(Broken)
    }
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "prices")]
struct Price {
    id: i64,
    amount: Cents,
    label: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "broken_rows")]
struct BrokenRow {
    id: i64,
    a: Broken,
    b: Broken,
    label: String,
}

on_each_db!(a_custom_field_that_binds_itself_round_trips, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Price>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let p = s
        .insert(Price {
            id: 0,
            amount: Cents(250),
            label: "tea".into(),
        })
        .unwrap();
    let mut changed = p.clone();
    changed.amount = Cents(300);
    s.update(&changed).unwrap();
    s.commit().unwrap();
    let mut other = engine.session().unwrap();
    assert_eq!(other.get::<Price>(p.id).unwrap(), Some(changed));
});

on_each_db!(
    a_custom_field_binding_the_wrong_number_of_parameters_fails_the_statement_and_writes_nothing,
    |db: Db| {
        // Zero parameters for `a` and two for `b` add up to the right count: without a
        // check after each field, the values would land in the wrong columns.
        let engine = Engine::builder(&db.url).model::<BrokenRow>().build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        for row in [
            BrokenRow {
                id: 0,
                a: Broken(None),
                b: Broken(Some(5)),
                label: "shifted".into(),
            },
            BrokenRow {
                id: 0,
                a: Broken(Some(1)),
                b: Broken(None),
                label: "one too many".into(),
            },
        ] {
            let err = s.insert(row).unwrap_err();
            assert!(
                matches!(
                    &err,
                    Error::Statement {
                        model: Some("BrokenRow"),
                        ..
                    }
                ) && err.to_string().contains("Field::bind"),
                "{err}"
            );
            s.rollback().unwrap();
        }
        let mut other = engine.session().unwrap();
        assert_eq!(other.query::<BrokenRow>().count().unwrap(), 0);
    }
);

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "gauges")]
struct Gauge {
    id: i64,
    level: f64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "gauge_log")]
struct GaugeLog {
    id: i64,
    level: f64,
}

on_each_db!(nan_is_refused_in_updates_and_in_rows_listeners_stage, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Gauge>()
        .model::<GaugeLog>()
        .listen::<Gauge>(trigorm::event::AfterUpdate, |ctx, change| {
            // The audit row takes a NaN when the gauge is set to 1.5.
            if let Some(new) = change.new() {
                let level = if new.level == 1.5 { f64::NAN } else { new.level };
                ctx.add(GaugeLog { id: 0, level });
            }
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let g = s.insert(Gauge { id: 0, level: 1.0 }).unwrap();
    s.commit().unwrap();

    if db.is_postgres() {
        // PostgreSQL stores NaN (`Capabilities::stores_nan`): the update to NaN and the
        // audit rows with NaN that its listener stages are written, and read back as NaN.
        s.update(Gauge {
            id: g.id,
            level: f64::NAN,
        })
        .unwrap();
        s.commit().unwrap();
        let mut other = engine.session().unwrap();
        let read = other.get::<Gauge>(g.id).unwrap().unwrap();
        assert!(read.level.is_nan(), "{read:?}");
        drop(other);
        s.update(Gauge { id: g.id, level: 1.5 }).unwrap();
        s.commit().unwrap();
        let mut other = engine.session().unwrap();
        assert_eq!(other.get::<Gauge>(g.id).unwrap(), Some(Gauge { id: g.id, level: 1.5 }));
        let logs = other.query::<GaugeLog>().order_by(col("id").asc()).all().unwrap();
        assert_eq!(logs.len(), 2, "{logs:?}");
        assert!(logs.iter().all(|l| l.level.is_nan()), "{logs:?}");
        return;
    }

    let err = s
        .update(Gauge {
            id: g.id,
            level: f64::NAN,
        })
        .and_then(|()| s.commit())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                model: "Gauge",
                column: "level",
                ..
            }
        ),
        "{err:?}"
    );
    s.rollback().unwrap();

    let err = s
        .update(Gauge { id: g.id, level: 1.5 })
        .and_then(|()| s.commit())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                model: "GaugeLog",
                column: "level",
                ..
            }
        ),
        "{err:?}"
    );
    s.rollback().unwrap();

    let mut other = engine.session().unwrap();
    assert_eq!(other.get::<Gauge>(g.id).unwrap(), Some(g));
    assert_eq!(other.query::<GaugeLog>().count().unwrap(), 0);
});

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "moments")]
struct Moment {
    id: i64,
    at: DateTime<Utc>,
    also: Option<DateTime<Utc>>,
}

on_each_db!(timestamps_read_back_exactly_across_seconds_days_and_years, |db: Db| {
    // Consecutive rows share or change their second, day and year in every way (what the
    // formatting and parsing of timestamps keep from one call to the next must never
    // show), read back in both orders.
    let base = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap();
    let mut times = Vec::new();
    for (secs, nanos) in [
        (0, 0),
        (0, 999_999_999),
        (1, 0),
        (1, 1),
        (0, 1),
        (-86_400, 5),
        (31_536_000, 7),
    ] {
        times.push(base + chrono::Duration::seconds(secs) + chrono::Duration::nanoseconds(nanos));
    }
    times.push(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap());
    times.push(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::nanoseconds(999_999_999));
    times.push(base);
    let engine = Engine::builder(&db.url).model::<Moment>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let rows: Vec<Moment> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            s.insert(Moment {
                id: 0,
                at: *t,
                also: (i % 2 == 0).then(|| times[times.len() - 1 - i]),
            })
            .unwrap()
        })
        .collect();
    s.commit().unwrap();
    for desc in [false, true] {
        let mut other = engine.session().unwrap();
        let q = other.query::<Moment>();
        let order = if desc { col("id").desc() } else { col("id").asc() };
        let read = q.order_by(order).all().unwrap();
        let mut expected = rows.clone();
        if desc {
            expected.reverse();
        }
        assert_eq!(read, expected);
    }
});
