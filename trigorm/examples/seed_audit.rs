//! The scenario trigorm comes from: every change to `users` is recorded in `log` by a
//! listener, in the same transaction as the change.
//!
//! Run it with `cargo run --example seed_audit`; it works on `example.db` in the working
//! directory, seeding user 1 when missing, and can be run again and again. Give it a
//! database URL to run it elsewhere, e.g.
//! `cargo run --example seed_audit -- postgres://postgres@127.0.0.1:5432/test` or
//! `cargo run --example seed_audit -- mysql://root@127.0.0.1:3306/test` (MariaDB / MySQL).

use chrono::{DateTime, Utc};
use trigorm::event::{AfterDelete, AfterInsert, AfterUpdate};
use trigorm::query::col;
use trigorm::{Engine, Field, Model};

#[derive(Model, Clone, Debug)]
#[trigorm(table = "users")]
struct User {
    id: i64,
    name: String,
    created_at: DateTime<Utc>,
}

/// What a log row records, stored as the text `insert`, `update` or `delete`.
#[derive(Field, Clone, Copy, Debug, PartialEq)]
#[trigorm(rename_all = "lowercase")]
enum ChangeType {
    Insert,
    Update,
    Delete,
}

#[derive(Model, Clone, Debug)]
#[trigorm(table = "log")]
struct Log {
    id: i64,
    #[trigorm(index)]
    user_id: i64,
    change_type: ChangeType,
    old_name: Option<String>,
    new_name: Option<String>,
    changed_at: DateTime<Utc>,
}

fn log_row(user_id: i64, change_type: ChangeType, old: Option<&User>, new: Option<&User>) -> Log {
    Log {
        id: 0,
        user_id,
        change_type,
        old_name: old.map(|u| u.name.clone()),
        new_name: new.map(|u| u.name.clone()),
        changed_at: Utc::now(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://example.db".to_string());
    let engine = Engine::builder(url)
        .model::<Log>()
        .listen::<User>(AfterInsert, |ctx, change| {
            let new = change.new();
            ctx.add(log_row(new.map_or(0, |u| u.id), ChangeType::Insert, None, new));
            Ok(())
        })
        .listen::<User>(AfterUpdate, |ctx, change| {
            if change.is_changed("name") {
                let (old, new) = (change.old(), change.new());
                ctx.add(log_row(new.map_or(0, |u| u.id), ChangeType::Update, old, new));
            }
            Ok(())
        })
        .listen::<User>(AfterDelete, |ctx, change| {
            let old = change.old();
            ctx.add(log_row(old.map_or(0, |u| u.id), ChangeType::Delete, old, None));
            Ok(())
        })
        .build()?;
    engine.create_all()?;

    let mut s = engine.session()?;
    if s.get::<User>(1)?.is_none() {
        s.insert(User {
            id: 1,
            name: "Jane Doe".into(),
            created_at: Utc::now(),
        })?;
        s.commit()?;
    }

    // Load, change, stage, commit: the UPDATE and its log row, or neither.
    let mut user = s.get::<User>(1)?.ok_or("user 1 is missing")?;
    user.name = if user.name == "John Doe" {
        "Jane Doe"
    } else {
        "John Doe"
    }
    .into();
    s.update(&user)?;
    s.commit()?;

    println!(
        "{:<4} {:<8} {:<7} {:<10} {:<10} changed_at",
        "id", "user_id", "change", "old_name", "new_name"
    );
    for l in s.query::<Log>().order_by(col("id").asc()).all()? {
        println!(
            "{:<4} {:<8} {:<7} {:<10} {:<10} {}",
            l.id,
            l.user_id,
            format!("{:?}", l.change_type).to_lowercase(),
            l.old_name.as_deref().unwrap_or("-"),
            l.new_name.as_deref().unwrap_or("-"),
            l.changed_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
    s.commit()?;
    Ok(())
}
