//! Several kinds of trigger on one table keep each its own promise: a table that is
//! stamped (`UpdatedAt`) or versioned (`Version`) is still protected against every update
//! by `Protect(update)`, including an update of only the stamped or versioned column.
mod common;
use common::*;

use chrono::{DateTime, Utc};
use trigorm::trigger::{manage, Ops, TriggerDef};
use trigorm::{Engine, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "doc")]
struct Doc {
    id: i64,
    title: String,
    touched: DateTime<Utc>,
    rev: i64,
}

// Protect(update) refuses every update of the table, whichever columns it sets: the
// stamp and version triggers beside it change nothing to that (SQLite writes the stamp
// and the version with UPDATEs of their own, and restricts the table's update triggers to
// the other columns so as not to fire them twice: a user's update must still be refused).
on_each_db!(
    protect_update_refuses_an_update_of_the_stamped_or_versioned_column,
    |db: Db| {
        let e = Engine::builder(&db.url).model::<Doc>().build().unwrap();
        e.create_all().unwrap();
        let t = Doc::table();
        let defs = [
            TriggerDef::protect("frozen", t, Ops::UPDATE),
            TriggerDef::updated_at("stamp", t, Doc::TOUCHED),
            TriggerDef::version("bump", t, Doc::REV),
        ];
        let st = e.with_connection(|c| manage::install(c, &defs)).unwrap();
        assert!(st.in_sync(), "{st:?}");
        let mut s = e.session().unwrap();
        let d = s
            .insert(Doc {
                id: 0,
                title: "t".into(),
                touched: t0(),
                rev: 0,
            })
            .unwrap();
        s.commit().unwrap();
        let later = Value::Timestamp(t0() + chrono::Duration::days(1));
        let mut let_through = Vec::new();
        for (set, v) in [
            ("title = ?", Value::from("u")),
            ("touched = ?", later),
            ("rev = ?", Value::Int(7)),
        ] {
            let sql = db.sql(&format!("UPDATE doc SET {set} WHERE id = ?"));
            let r = s.execute(&sql, &[v, Value::Int(d.id)]);
            let refused = r.as_ref().err().and_then(|e| e.trigger_refusal()).map(|r| r.trigger);
            if !refused.as_deref().is_some_and(|n| n.starts_with("trigorm_doc_frozen")) {
                let_through.push(format!("UPDATE doc SET {set}: {r:?}"));
            }
            s.rollback().unwrap();
        }
        assert!(let_through.is_empty(), "not refused by frozen: {let_through:#?}");
        drop(s);
        let mut s = e.session().unwrap();
        assert_eq!(s.get::<Doc>(d.id).unwrap().unwrap(), d, "nothing changed");
    }
);
