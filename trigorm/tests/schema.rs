//! Schema: `create_all` (foreign-key order, idempotence, constraints, indexes, defaults,
//! foreign-key actions) and primary keys (natural, explicit, generated).
mod common;
use common::*;
#[path = "common/catalog.rs"]
mod catalog;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use trigorm::error::DbErrorKind;
use trigorm::event::AfterInsert;
use trigorm::query::col;
use trigorm::schema::IdentKind;
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "parent")]
struct Parent {
    id: i64,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "child")]
struct Child {
    id: i64,
    #[trigorm(references = Parent, on_delete = "cascade")]
    parent_id: i64,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "orphanable")]
struct Orphanable {
    id: i64,
    #[trigorm(references = Parent, on_delete = "set_null")]
    parent_id: Option<i64>,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "guarded")]
struct Guarded {
    id: i64,
    #[trigorm(references = Parent)]
    parent_id: i64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "node")]
struct Node {
    id: i64,
    #[trigorm(references = Self, on_delete = "cascade")]
    parent_id: Option<i64>,
    label: String,
}

// A diamond: D references B and C, which both reference A.
#[derive(Model, Clone, Debug)]
#[trigorm(table = "dia_a")]
struct DiaA {
    id: i64,
}
#[derive(Model, Clone, Debug)]
#[trigorm(table = "dia_b")]
struct DiaB {
    id: i64,
    #[trigorm(references = DiaA)]
    a_id: i64,
}
#[derive(Model, Clone, Debug)]
#[trigorm(table = "dia_c")]
struct DiaC {
    id: i64,
    #[trigorm(references = DiaA)]
    a_id: i64,
}
#[derive(Model, Clone, Debug)]
#[trigorm(table = "dia_d")]
struct DiaD {
    id: i64,
    #[trigorm(references = DiaB)]
    b_id: i64,
    #[trigorm(references = DiaC)]
    c_id: i64,
}

// Two tables that reference each other.
#[derive(Model, Clone, Debug)]
#[trigorm(table = "ping")]
struct Ping {
    id: i64,
    #[trigorm(references = Pong)]
    pong_id: Option<i64>,
}
#[derive(Model, Clone, Debug)]
#[trigorm(table = "pong")]
struct Pong {
    id: i64,
    #[trigorm(references = Ping)]
    ping_id: Option<i64>,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "accounts")]
struct Account {
    id: i64,
    #[trigorm(unique)]
    email: String,
    #[trigorm(index)]
    city: String,
    #[trigorm(index)]
    age: Option<i32>,
    #[trigorm(unique, index)]
    handle: Option<String>,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "defaults")]
struct Defaults {
    id: i64,
    label: String,
    #[trigorm(default = 7)]
    n: i64,
    #[trigorm(default = -1)]
    neg: i32,
    #[trigorm(default = 2.5)]
    ratio: f64,
    #[trigorm(default = 3)]
    whole: f64,
    #[trigorm(default = true)]
    on: bool,
    #[trigorm(default = false)]
    off: bool,
    #[trigorm(default = "it's \"quoted\" \\ -- ; ")]
    text: String,
    #[trigorm(default = "")]
    empty: String,
    #[trigorm(default = "{\"a\": [1, \"x\"]}")]
    meta: serde_json::Value,
    #[trigorm(default = "2024-02-29")]
    day: NaiveDate,
    #[trigorm(default = "2024-02-29 12:34:56.000007+00:00")]
    at: DateTime<Utc>,
    #[trigorm(default = "none")]
    opt: Option<String>,
    no_default: Option<i64>,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "countries")]
struct Country {
    #[trigorm(primary_key)]
    code: String,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "slots")]
struct Slot {
    #[trigorm(primary_key, natural)]
    n: i64,
    label: String,
}

// 40 + 30 characters: both names valid, the index name `idx_<table>_<column>` too long.
#[derive(Model, Clone, Debug)]
#[trigorm(table = "a_table_name_that_is_forty_chars_long_xx")]
struct LongNames {
    id: i64,
    #[trigorm(index)]
    a_column_name_thirty_chars_xxx: i64,
}

/// The tables in the order their CREATE TABLE statements were sent (names in double
/// quotes, or in backquotes on MariaDB).
fn created(log: &[String]) -> Vec<String> {
    log.iter()
        .filter(|sql| sql.starts_with("CREATE TABLE"))
        .map(|sql| {
            let open = sql.find(['"', '`']).expect("a quoted table name");
            let quote = sql[open..].chars().next().unwrap();
            let start = open + 1;
            let end = start + sql[start..].find(quote).unwrap();
            sql[start..end].to_string()
        })
        .collect()
}

fn position(order: &[String], table: &str) -> usize {
    order
        .iter()
        .position(|t| t == table)
        .unwrap_or_else(|| panic!("{table} was not created: {order:?}"))
}

on_each_db!(
    create_all_creates_parents_first_even_when_only_the_child_is_registered,
    |db: Db| {
        let log = StatementLog::default();
        let engine = log.attach(Engine::builder(&db.url)).model::<Child>().build().unwrap();
        engine.create_all().unwrap();
        let order = created(&log.take());
        assert_eq!(order, vec!["parent", "child"]);
        let mut s = engine.session().unwrap();
        assert_eq!(catalog::tables(&db, &mut s), vec!["child", "parent"]);
        let p = s
            .insert(Parent {
                id: 0,
                name: "p".into(),
            })
            .unwrap();
        s.insert(Child {
            id: 0,
            parent_id: p.id,
            name: "c".into(),
        })
        .unwrap();
        s.commit().unwrap();

        // Registered child first, then parent: still parents first (in a fresh database of
        // the same backend).
        let fresh = if db.is_postgres() {
            Db::postgres().expect("the server of this test")
        } else if db.is_mariadb() {
            Db::mariadb().expect("the server of this test")
        } else {
            Db::memory()
        };
        let log = StatementLog::default();
        let engine = log
            .attach(Engine::builder(&fresh.url))
            .model::<Child>()
            .model::<Orphanable>()
            .model::<Parent>()
            .model::<Node>()
            .build()
            .unwrap();
        engine.create_all().unwrap();
        let order = created(&log.take());
        assert_eq!(order.len(), 4, "each table once: {order:?}");
        assert!(position(&order, "parent") < position(&order, "child"));
        assert!(position(&order, "parent") < position(&order, "orphanable"));
    }
);

on_each_db!(create_all_orders_a_diamond_of_foreign_keys_parents_first, |db: Db| {
    let log = StatementLog::default();
    let engine = log.attach(Engine::builder(&db.url)).model::<DiaD>().build().unwrap();
    engine.create_all().unwrap();
    let order = created(&log.take());
    assert_eq!(order.len(), 4, "{order:?}");
    for (child, parent) in [
        ("dia_b", "dia_a"),
        ("dia_c", "dia_a"),
        ("dia_d", "dia_b"),
        ("dia_d", "dia_c"),
    ] {
        assert!(
            position(&order, parent) < position(&order, child),
            "{parent} must be created before {child}: {order:?}"
        );
    }
});

on_each_db!(create_all_handles_self_and_mutual_references, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Node>()
        .model::<Ping>()
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    assert_eq!(catalog::tables(&db, &mut s), vec!["node", "ping", "pong"]);
});

on_each_db!(create_all_is_idempotent_and_keeps_data, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Account>()
        .model::<Child>()
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(Account {
        id: 0,
        email: "a@example.com".into(),
        city: "Paris".into(),
        age: Some(30),
        handle: None,
    })
    .unwrap();
    s.commit().unwrap();
    drop(s);
    engine.create_all().unwrap();
    engine.create_all().unwrap();
    assert_eq!(count::<Account>(&engine), 1);
    if db.path().is_some() || db.is_server() {
        // A new engine on the same file (the same server schema or database), too.
        let again = Engine::builder(&db.url).model::<Account>().build().unwrap();
        again.create_all().unwrap();
        assert_eq!(count::<Account>(&again), 1);
    }
    let mut s = engine.session().unwrap();
    assert_eq!(
        catalog::index_count(&db, &mut s, "accounts"),
        4,
        "each index once (2 declared, 2 for UNIQUE)"
    );
});

on_each_db!(unique_columns_refuse_duplicates, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Account>().build().unwrap();
    engine.create_all().unwrap();
    let account = |email: &str, handle: Option<&str>| Account {
        id: 0,
        email: email.into(),
        city: "Paris".into(),
        age: None,
        handle: handle.map(Into::into),
    };
    let mut s = engine.session().unwrap();
    let a = s.insert(account("a@example.com", Some("a"))).unwrap();
    s.insert(account("b@example.com", None)).unwrap();
    // NULL is not a duplicate of NULL.
    s.insert(account("c@example.com", None)).unwrap();
    s.commit().unwrap();

    let err = s.insert(account("a@example.com", None)).unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
    assert!(
        matches!(
            err,
            Error::Statement {
                model: Some("Account"),
                ..
            }
        ),
        "{err:?}"
    );
    s.rollback().unwrap();
    let err = s.insert(account("d@example.com", Some("a"))).unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
    s.rollback().unwrap();
    // By an update, and by raw SQL.
    let mut b = s
        .query::<Account>()
        .filter(col("email").eq("b@example.com"))
        .first()
        .unwrap()
        .unwrap();
    b.email = a.email.clone();
    s.update(&b).unwrap();
    let err = s.commit().unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
    s.rollback().unwrap();
    let err = s
        .execute(
            &db.sql("INSERT INTO accounts (email, city) VALUES (?, ?)"),
            &[Value::from("a@example.com"), Value::from("x")],
        )
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
    s.rollback().unwrap();
    drop(s);

    let mut s = engine.session().unwrap();
    let mut emails: Vec<String> = s
        .query::<Account>()
        .all()
        .unwrap()
        .into_iter()
        .map(|a| a.email)
        .collect();
    emails.sort();
    assert_eq!(emails, vec!["a@example.com", "b@example.com", "c@example.com"]);
});

on_each_db!(indexes_are_created_on_their_columns, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Account>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    assert_eq!(
        catalog::declared_indexes(&db, &mut s, "accounts"),
        vec!["idx_accounts_age", "idx_accounts_city"],
        "one index per `index` column; a unique column has its own"
    );
    for (index, column) in [("idx_accounts_age", "age"), ("idx_accounts_city", "city")] {
        assert_eq!(
            catalog::index_columns(&db, &mut s, "accounts", index),
            vec![column],
            "{index}"
        );
        assert!(
            !catalog::index_is_unique(&db, &mut s, "accounts", index),
            "{index} is not unique"
        );
    }
    // The unique columns have unique indexes of their own.
    assert_eq!(
        catalog::unique_columns(&db, &mut s, "accounts"),
        vec!["email", "handle"]
    );
    // And the planner uses the index.
    let plan = catalog::plan(
        &db,
        &mut s,
        "SELECT id FROM accounts WHERE city = ?",
        &[Value::from("x")],
    );
    assert!(plan.contains("idx_accounts_city"), "{plan}");
});

on_each_db!(column_defaults_apply_to_raw_inserts_that_omit_the_column, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Defaults>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.execute(
        &db.sql("INSERT INTO defaults (label) VALUES (?)"),
        &[Value::from("raw")],
    )
    .unwrap();
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    let d = s
        .query::<Defaults>()
        .filter(col("label").eq("raw"))
        .first()
        .unwrap()
        .expect("the raw row");
    assert_eq!(
        d,
        Defaults {
            id: d.id,
            label: "raw".into(),
            n: 7,
            neg: -1,
            ratio: 2.5,
            whole: 3.0,
            on: true,
            off: false,
            text: "it's \"quoted\" \\ -- ; ".into(),
            empty: String::new(),
            meta: serde_json::json!({"a": [1, "x"]}),
            day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            at: Utc.with_ymd_and_hms(2024, 2, 29, 12, 34, 56).unwrap() + chrono::Duration::microseconds(7),
            opt: Some("none".into()),
            no_default: None,
        }
    );
    // The ORM writes every column: a default never overrides a value it was given.
    let written = s
        .insert(Defaults {
            id: 0,
            label: "orm".into(),
            n: 0,
            neg: 0,
            ratio: 0.0,
            whole: 0.0,
            on: false,
            off: true,
            text: "t".into(),
            empty: "e".into(),
            meta: serde_json::json!(null),
            day: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            at: Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap(),
            opt: None,
            no_default: Some(1),
        })
        .unwrap();
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    assert_eq!(s.get::<Defaults>(written.id).unwrap().unwrap(), written);
});

on_each_db!(foreign_key_actions_apply_to_raw_deletes, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Child>()
        .model::<Orphanable>()
        .model::<Guarded>()
        .model::<Node>()
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let p1 = s
        .insert(Parent {
            id: 0,
            name: "p1".into(),
        })
        .unwrap();
    let p2 = s
        .insert(Parent {
            id: 0,
            name: "p2".into(),
        })
        .unwrap();
    for name in ["c1", "c2"] {
        s.add(Child {
            id: 0,
            parent_id: p1.id,
            name: name.into(),
        });
    }
    s.add(Child {
        id: 0,
        parent_id: p2.id,
        name: "c3".into(),
    });
    let o1 = s
        .insert(Orphanable {
            id: 0,
            parent_id: Some(p1.id),
        })
        .unwrap();
    let o2 = s
        .insert(Orphanable {
            id: 0,
            parent_id: Some(p2.id),
        })
        .unwrap();
    s.insert(Guarded {
        id: 0,
        parent_id: p2.id,
    })
    .unwrap();
    let root = s
        .insert(Node {
            id: 0,
            parent_id: None,
            label: "root".into(),
        })
        .unwrap();
    let mid = s
        .insert(Node {
            id: 0,
            parent_id: Some(root.id),
            label: "mid".into(),
        })
        .unwrap();
    s.insert(Node {
        id: 0,
        parent_id: Some(mid.id),
        label: "leaf".into(),
    })
    .unwrap();
    s.insert(Node {
        id: 0,
        parent_id: None,
        label: "other root".into(),
    })
    .unwrap();
    s.commit().unwrap();

    // A reference to a missing parent is refused.
    let err = s
        .insert(Child {
            id: 0,
            parent_id: 999,
            name: "dangling".into(),
        })
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::ForeignKeyViolation), "{err:?}");
    s.rollback().unwrap();

    // CASCADE and SET NULL.
    let n = s
        .execute(&db.sql("DELETE FROM parent WHERE id = ?"), &[Value::from(p1.id)])
        .unwrap();
    assert_eq!(n, 1);
    s.execute(&db.sql("DELETE FROM node WHERE id = ?"), &[Value::from(root.id)])
        .unwrap();
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    let children: Vec<String> = s.query::<Child>().all().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(children, vec!["c3"]);
    assert_eq!(s.get::<Orphanable>(o1.id).unwrap().unwrap().parent_id, None);
    assert_eq!(s.get::<Orphanable>(o2.id).unwrap().unwrap().parent_id, Some(p2.id));
    let nodes: Vec<String> = s.query::<Node>().all().unwrap().into_iter().map(|n| n.label).collect();
    assert_eq!(nodes, vec!["other root"], "the cascade runs down the tree");

    // NO ACTION: a parent still referenced cannot go.
    let err = s
        .execute(&db.sql("DELETE FROM parent WHERE id = ?"), &[Value::from(p2.id)])
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::ForeignKeyViolation), "{err:?}");
    drop(s);
    assert_eq!(count::<Parent>(&engine), 1);
    assert_eq!(count::<Child>(&engine), 1);
});

on_each_db!(a_natural_string_primary_key_is_the_applications, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Country>().build().unwrap();
    engine.create_all().unwrap();
    assert!(!Country::table().auto_increment());
    let mut s = engine.session().unwrap();
    let fr = s
        .insert(Country {
            code: "FR".into(),
            name: "France".into(),
        })
        .unwrap();
    assert_eq!(fr.code, "FR");
    let pending = s.add(Country {
        code: "CI".into(),
        name: "Côte d'Ivoire".into(),
    });
    s.add(Country {
        code: String::new(),
        name: "empty key".into(),
    });
    s.commit().unwrap();
    assert_eq!(pending.get().unwrap().code, "CI");

    let mut s = engine.session().unwrap();
    let mut ci = s.get::<Country>("CI").unwrap().unwrap();
    assert_eq!(ci.name, "Côte d'Ivoire");
    assert_eq!(s.get::<Country>("").unwrap().unwrap().name, "empty key");
    assert!(s.get::<Country>("fr").unwrap().is_none(), "keys are compared exactly");
    ci.name = "Ivory Coast".into();
    s.update(&ci).unwrap();
    s.delete(&fr).unwrap();
    s.commit().unwrap();

    let mut s = engine.session().unwrap();
    assert!(s.get::<Country>("FR").unwrap().is_none());
    assert_eq!(s.get::<Country>("CI").unwrap().unwrap().name, "Ivory Coast");
    let err = s
        .insert(Country {
            code: "CI".into(),
            name: "again".into(),
        })
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
});

// Text keys and unique text compare exactly: case and trailing spaces make other values, on
// every backend (MariaDB's collation is binary and pads nothing).
on_each_db!(text_keys_differ_by_case_and_trailing_spaces, |db: Db| {
    let engine = Engine::builder(&db.url)
        .model::<Country>()
        .model::<Account>()
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for code in ["fr", "FR", "fr "] {
        let name = format!("[{code}]");
        s.insert(Country {
            code: code.into(),
            name,
        })
        .unwrap();
    }
    for email in ["a@example.com", "A@example.com", "a@example.com "] {
        let city = "Paris".to_string();
        let (age, handle) = (None, None);
        s.insert(Account {
            id: 0,
            email: email.into(),
            city,
            age,
            handle,
        })
        .unwrap();
    }
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    assert_eq!(s.get::<Country>("fr ").unwrap().unwrap().name, "[fr ]");
    assert_eq!(s.get::<Country>("FR").unwrap().unwrap().name, "[FR]");
    for email in ["a@example.com", "a@example.com "] {
        let found = s.query::<Account>().filter(col("email").eq(email)).all().unwrap();
        assert_eq!(found.iter().map(|a| a.email.as_str()).collect::<Vec<_>>(), [email]);
    }
    let err = s
        .insert(Country {
            code: "fr ".into(),
            name: "again".into(),
        })
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
});

on_each_db!(a_natural_integer_key_of_zero_is_kept, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Slot>().build().unwrap();
    engine.create_all().unwrap();
    assert!(!Slot::table().auto_increment());
    let mut s = engine.session().unwrap();
    for n in [0, -5, 7] {
        let slot = s
            .insert(Slot {
                n,
                label: format!("slot {n}"),
            })
            .unwrap();
        assert_eq!(slot.n, n);
    }
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    assert_eq!(s.get::<Slot>(0).unwrap().unwrap().label, "slot 0");
    assert_eq!(s.get::<Slot>(-5).unwrap().unwrap().label, "slot -5");
    let err = s
        .insert(Slot {
            n: 0,
            label: "again".into(),
        })
        .unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
});

on_each_db!(an_explicit_nonzero_integer_id_is_kept, |db: Db| {
    let engine = Engine::builder(&db.url).model::<User>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let mut u = User::new("forty-two");
    u.id = 42;
    assert_eq!(s.insert(u).unwrap().id, 42);
    let mut u = User::new("negative");
    u.id = -7;
    assert_eq!(s.insert(u).unwrap().id, -7);
    let next = s.insert(User::new("generated")).unwrap();
    assert!(
        next.id != 42 && next.id != -7,
        "a generated id does not collide: {}",
        next.id
    );
    if db.is_postgres() {
        // An identity column's sequence is not advanced by explicit keys: the first
        // generated key is the sequence's first value.
        assert_eq!(next.id, 1, "the identity sequence starts at 1");
    } else if db.is_mariadb() {
        // InnoDB's AUTO_INCREMENT moves past the largest key written.
        assert_eq!(next.id, 43, "one past the largest key");
    } else {
        // SQLite generates one past the largest rowid.
        assert_eq!(next.id, 43, "one past the largest rowid");
    }
    s.commit().unwrap();
    let mut s = engine.session().unwrap();
    assert_eq!(s.get::<User>(42).unwrap().unwrap().name, "forty-two");
    assert_eq!(s.get::<User>(-7).unwrap().unwrap().name, "negative");
    let mut dup = User::new("dup");
    dup.id = 42;
    let err = s.insert(dup).unwrap_err();
    assert_eq!(err.db_kind(), Some(DbErrorKind::UniqueViolation), "{err:?}");
});

on_each_db!(generated_ids_are_written_back, |db: Db| {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let engine = Engine::builder(&db.url)
        .listen::<User>(AfterInsert, move |_ctx, c| {
            seen2.lock().unwrap().push(c.new().unwrap().id);
            Ok(())
        })
        .build()
        .unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let first = s.insert(User::new("first")).unwrap();
    assert!(first.id > 0);

    let pendings: Vec<_> = (0..3).map(|i| s.add(User::new(&format!("p{i}")))).collect();
    assert!(pendings.iter().all(|p| p.get().is_none()), "nothing before the flush");
    s.flush().unwrap();
    let written: Vec<User> = pendings.iter().map(|p| p.get().expect("flushed")).collect();
    let mut ids: Vec<i64> = written.iter().map(|u| u.id).collect();
    assert!(ids.iter().all(|id| *id > 0));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "distinct ids");
    s.commit().unwrap();

    let mut s = engine.session().unwrap();
    for u in &written {
        assert_eq!(&s.get::<User>(u.id).unwrap().unwrap().name, &u.name);
    }
    let mut all: Vec<i64> = std::iter::once(first.id).chain(written.iter().map(|u| u.id)).collect();
    all.sort_unstable();
    let mut reported = seen.lock().unwrap().clone();
    reported.sort_unstable();
    assert_eq!(reported, all, "AfterInsert sees the generated ids");
});

on_each_db!(
    create_all_refuses_an_index_name_that_is_too_long_and_creates_nothing,
    |db: Db| {
        let engine = Engine::builder(&db.url)
            .model::<User>()
            .model::<LongNames>()
            .build()
            .unwrap();
        let err = engine.create_all().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidIdentifier {
                    kind: IdentKind::Index,
                    ..
                }
            ),
            "{err:?}"
        );
        let mut s = engine.session().unwrap();
        assert!(catalog::tables(&db, &mut s).is_empty(), "no table was created");
    }
);
