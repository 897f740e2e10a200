// `use trigorm::Field` brings both the derive and the trait.
use trigorm::schema::ColumnType;
use trigorm::{Field, Model, Value, ValueRef};

#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "SCREAMING_SNAKE_CASE")]
enum ChangeType {
    Insert,
    SoftDelete,
    #[trigorm(rename = "removed")]
    #[trigorm()]
    HardDelete,
    // Discriminants are allowed; they are not what is stored.
    Other = 10,
}

/// Attributes of other derives are left alone, and raw identifiers lose their `r#`.
#[derive(Field, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[allow(non_camel_case_types)]
enum r#Kind {
    #[default]
    r#Type,
    /// A documented variant.
    Plain,
}

#[derive(Model, Clone, Debug, PartialEq)]
struct Event {
    id: i64,
    #[trigorm(index, default = "INSERT")]
    change_type: ChangeType,
    kind: Option<Kind>,
}

fn main() {
    assert_eq!(<ChangeType as Field>::TYPE, ColumnType::Text);
    assert_eq!(ChangeType::SoftDelete.to_value_ref(), ValueRef::Text("SOFT_DELETE"));
    assert_eq!(ChangeType::HardDelete.to_value(), Value::from("removed"));
    assert_eq!(ChangeType::Other.to_value(), Value::from("OTHER"));
    assert_eq!(Kind::Type.to_value(), Value::from("Type"));
    assert_eq!(<Kind as Field>::from_value(Value::from("Plain")), Ok(Kind::Plain));

    let table = Event::table();
    assert_eq!(table.columns[1].ty, ColumnType::Text);
    assert!(table.columns[1].index && !table.columns[1].nullable);
    assert!(table.columns[2].nullable && table.columns[2].ty == ColumnType::Text);
    table.validate().unwrap();
    let event = Event {
        id: 1,
        change_type: ChangeType::Insert,
        kind: Some(Kind::Plain),
    };
    let mut values = event.values();
    assert_eq!(values, [Value::Int(1), Value::from("INSERT"), Value::from("Plain")]);
    assert_eq!(Event::from_values(&mut values).unwrap(), event);
}
