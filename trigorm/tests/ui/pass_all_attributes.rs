use chrono::{DateTime, NaiveDate, Utc};
use trigorm::schema::ColumnType::{self, Blob, Bool, Date, Float, Integer, Json, Text, Timestamp};
use trigorm::schema::{DefaultValue, OnDelete};
use trigorm::{ColumnSet, Error, Field, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "teams")]
struct Team {
    #[trigorm(primary_key, natural)]
    code: String,
    #[trigorm(unique)]
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
struct Country {
    #[trigorm(primary_key)]
    iso: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
struct AuditLog {
    id: i64,
    #[trigorm(column = "kind", index)]
    r#type: String,
    #[trigorm(default = -1)]
    a_i8: i8,
    #[trigorm(default = 0)]
    a_i16: i16,
    #[trigorm(unique, index, default = 7)]
    a_i32: i32,
    a_i64: i64,
    a_u8: u8,
    a_u16: u16,
    a_u32: u32,
    #[trigorm(default = 1.5)]
    a_f32: f32,
    #[trigorm(default = -2.5e3)]
    a_f64: f64,
    #[trigorm(default = true)]
    a_bool: bool,
    #[trigorm(default = "it's")]
    a_string: String,
    a_bytes: Vec<u8>,
    #[trigorm(default = "2024-01-01 00:00:00")]
    a_time: DateTime<Utc>,
    a_date: NaiveDate,
    #[trigorm(default = "{}")]
    a_json: serde_json::Value,
    #[trigorm(references = Team, on_delete = "cascade")]
    team: String,
    #[trigorm(references = Country)]
    #[trigorm(on_delete = "set_null")]
    country: Option<String>,
    #[trigorm(references = Self, on_delete = "restrict")]
    parent: Option<i64>,
    #[trigorm(references = Team, on_delete = "set_default", default = "none")]
    fallback: String,
    #[trigorm(references = Team, on_delete = "no_action")]
    other: Option<String>,
    maybe: Option<f64>,
}

fn log() -> AuditLog {
    AuditLog {
        id: 0,
        r#type: "login".into(),
        a_i8: -1,
        a_i16: 2,
        a_i32: 3,
        a_i64: 4,
        a_u8: 5,
        a_u16: 6,
        a_u32: 7,
        a_f32: 1.5,
        a_f64: 2.5,
        a_bool: true,
        a_string: "s".into(),
        a_bytes: vec![1, 2],
        a_time: DateTime::from_timestamp(0, 0).unwrap(),
        a_date: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
        a_json: serde_json::json!({"a": 1}),
        team: "red".into(),
        country: None,
        parent: Some(1),
        fallback: "none".into(),
        other: None,
        maybe: None,
    }
}

fn main() {
    let t = AuditLog::table();
    assert_eq!(t.name, "audit_log");
    assert_eq!(t.model, "AuditLog");
    assert_eq!(t.columns.len(), 23);
    assert_eq!(t.primary_key, 0);
    assert!(t.auto_increment());
    t.validate().unwrap();

    let kind = &t.columns[1];
    assert_eq!(
        (kind.name, kind.field, kind.ty),
        ("kind", "type", ColumnType::Text)
    );
    assert!(kind.index && !kind.unique && !kind.nullable);
    let a_i32 = &t.columns[t.column_index("a_i32").unwrap()];
    assert!(a_i32.unique && a_i32.index && a_i32.default == Some(DefaultValue::Int(7)));
    assert_eq!(t.columns[2].default, Some(DefaultValue::Int(-1)));
    assert_eq!(t.columns[9].default, Some(DefaultValue::Float(1.5)));
    assert_eq!(t.columns[10].default, Some(DefaultValue::Float(-2500.0)));
    assert_eq!(t.columns[11].default, Some(DefaultValue::Bool(true)));
    assert_eq!(t.columns[12].default, Some(DefaultValue::Text("it's")));
    let types: Vec<ColumnType> = t.columns[2..17].iter().map(|c| c.ty).collect();
    assert_eq!(
        types,
        [
            Integer, Integer, Integer, Integer, Integer, Integer, Integer, Float, Float, Bool,
            Text, Blob, Timestamp, Date, Json
        ]
    );

    let team = t.columns[17].references.unwrap();
    assert_eq!(
        ((team.table)().name, team.on_delete),
        ("teams", OnDelete::Cascade)
    );
    let country = t.columns[18].references.unwrap();
    assert_eq!(
        ((country.table)().name, country.on_delete),
        ("country", OnDelete::SetNull)
    );
    assert!(t.columns[18].nullable);
    let parent = t.columns[19].references.unwrap();
    assert_eq!(
        ((parent.table)().name, parent.on_delete),
        ("audit_log", OnDelete::Restrict)
    );
    assert_eq!(
        t.columns[20].references.unwrap().on_delete,
        OnDelete::SetDefault
    );
    assert_eq!(
        t.columns[21].references.unwrap().on_delete,
        OnDelete::NoAction
    );
    assert!(t.columns[22].nullable && t.columns[22].ty == Float);

    // Natural keys: a String key, and an explicitly natural one.
    assert!(!Team::table().auto_increment() && Team::table().pk().primary_key);
    assert!(!Country::table().auto_increment());
    assert!(Team::table().columns[1].unique);

    // Values round-trip.
    let a = log();
    let mut values = a.values();
    assert_eq!(values.len(), 23);
    assert_eq!(values[1], Value::Text("login".into()));
    assert_eq!(a.value(22), Value::Null);
    assert_eq!(a.value(99), Value::Null);
    assert_eq!(a.primary_key(), Value::Int(0));
    let b = AuditLog::from_values(&mut values).unwrap();
    assert_eq!(a, b);

    // diff and set_value.
    let mut c = b;
    c.set_value(0, Value::Int(42)).unwrap();
    c.set_value(22, Value::Float(0.5)).unwrap();
    assert_eq!((c.id, c.maybe), (42, Some(0.5)));
    let mut expected = ColumnSet::EMPTY;
    expected.insert(0);
    expected.insert(22);
    assert_eq!(a.diff(&c), expected);
    assert!(matches!(
        c.set_value(23, Value::Null),
        Err(Error::InvalidModel {
            model: "AuditLog",
            ..
        })
    ));
    match c.set_value(1, Value::Int(1)) {
        Err(Error::Decode { model, column, .. }) => {
            assert_eq!((model, column), ("AuditLog", "kind"));
        }
        other => panic!("{other:?}"),
    }

    // from_values errors.
    assert!(matches!(
        AuditLog::from_values(&mut []),
        Err(Error::InvalidModel { .. })
    ));
    let mut values = a.values();
    values[2] = Value::Int(1000);
    match AuditLog::from_values(&mut values) {
        Err(Error::Decode { column, .. }) => assert_eq!(column, "a_i8"),
        other => panic!("{other:?}"),
    }
    let _ = <i64 as Field>::TYPE;
}
