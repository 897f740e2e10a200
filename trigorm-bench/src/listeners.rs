//! The `listeners` variant: trigorm models and sessions; after-insert/update/delete
//! listeners stage the `Log` row with `ctx.add`, so it is written in the same flush and
//! transaction as the change.

use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use trigorm::event::{AfterDelete, AfterInsert, AfterUpdate};
use trigorm::query::col;
use trigorm::{Engine, EngineBuilder, Field, Model};

use crate::workload::{user_email, user_name, Plan, Timings, UPDATE_SUFFIX};

/// `users(id, name, email, created_at)`.
#[derive(Model, Clone, Debug)]
#[trigorm(table = "users")]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

/// What a log row records; stored as the text `insert`, `update` or `delete` (no string
/// is allocated per log row).
#[derive(Field, Clone, Copy, Debug, PartialEq, Eq)]
#[trigorm(rename_all = "lowercase")]
pub enum ChangeType {
    Insert,
    Update,
    Delete,
}

/// `log(id, user_id, change_type, old_name, new_name, changed_at)`.
#[derive(Model, Clone, Debug)]
#[trigorm(table = "log")]
pub struct Log {
    pub id: i64,
    pub user_id: i64,
    pub change_type: ChangeType,
    pub old_name: Option<String>,
    pub new_name: Option<String>,
    pub changed_at: DateTime<Utc>,
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

/// The engine builder with the models and the three audit listeners (the seed example's).
pub fn audited(url: &str) -> EngineBuilder {
    Engine::builder(url)
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
}

/// Why trigorm's engine refuses `url` as unsupported (its driver for the server's kind
/// is missing from this build or not written yet), or `None` when it does not: then the
/// engine opens it, or fails for another reason that the run itself reports. When the
/// engine opens, it is closed again at once (it wrote nothing).
pub fn unsupported(url: &str) -> Option<String> {
    match audited(url).build() {
        Err(e @ trigorm::Error::Unsupported { .. }) => Some(e.to_string()),
        _ => None,
    }
}

/// Seconds since `t`.
fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Run the workload through trigorm's engine on `url`: a fresh SQLite file, a fresh
/// PostgreSQL schema (selected by the URL) whose tables the parent created with the same
/// `create_all`, or a fresh MariaDB/MySQL database (the URL's path) whose tables the
/// parent created for every variant. Schema creation is not timed.
pub fn run(url: &str, plan: Plan) -> Result<Timings> {
    let engine = audited(url)
        .build()
        .with_context(|| format!("opening {}", crate::server::redact(url)))?;
    run_on(&engine, plan)
}

/// Run the workload through `engine` (built by [`audited`], or by
/// [`crate::native::audited`] with triggers instead of listeners); its tables are created
/// first if missing and its declared triggers installed (not timed).
pub fn run_on(engine: &Engine, plan: Plan) -> Result<Timings> {
    engine.create_all().context("creating the schema")?;
    let b = plan.batch as i64;

    let t = Instant::now();
    {
        let mut s = engine.session()?;
        let (mut name, mut email) = (String::new(), String::new());
        for (lo, hi) in plan.batches() {
            for j in lo..hi {
                user_name(&mut name, j);
                user_email(&mut email, j);
                s.add(User {
                    id: 0,
                    name: name.clone(),
                    email: email.clone(),
                    created_at: Utc::now(),
                });
            }
            s.commit().context("insert batch")?;
        }
    }
    let insert_s = secs(t);

    let t = Instant::now();
    {
        let mut s = engine.session()?;
        for (lo, _) in plan.batches() {
            let i = lo as i64;
            let users = s
                .query::<User>()
                .filter(col("id").gt(i).and(col("id").le(i + b)))
                .all()
                .context("update: loading a batch")?;
            for mut u in users {
                u.name.push_str(UPDATE_SUFFIX);
                s.update(u)?;
            }
            s.commit().context("update batch")?;
        }
    }
    let update_s = secs(t);

    let t = Instant::now();
    {
        let mut s = engine.session()?;
        for lo in plan.delete_starts() {
            let i = lo as i64;
            let users = s
                .query::<User>()
                .filter(col("id").gt(i).and(col("id").le(i + b)))
                .all()
                .context("delete: loading a batch")?;
            for u in users {
                s.delete(u)?;
            }
            s.commit().context("delete batch")?;
        }
    }
    let delete_s = secs(t);

    Ok(Timings {
        insert_s,
        update_s,
        delete_s,
        peak_rss_kib: None,
    })
}
