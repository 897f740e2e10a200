//! # trigorm
//!
//! An ORM whose centre is triggers: code that runs by itself whenever the data changes.
//! Models, an [`Engine`] and a [`Session`] (unit of work) with dirty tracking and true old
//! values; listeners before and after insert, update and delete, flush and commit, that
//! may write in the same transaction, atomically, and that also fire for bulk statements.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use trigorm::event::AfterUpdate;
//! use trigorm::{Engine, Model};
//!
//! #[derive(Model, Clone, Debug)]
//! #[trigorm(table = "users")]
//! struct User { id: i64, name: String, created_at: DateTime<Utc> }
//!
//! #[derive(Model, Clone, Debug)]
//! #[trigorm(table = "log")]
//! struct Log {
//!     id: i64,
//!     user_id: i64,
//!     change_type: String,
//!     old_name: Option<String>,
//!     new_name: Option<String>,
//!     changed_at: DateTime<Utc>,
//! }
//!
//! let engine = Engine::builder("sqlite::memory:")
//!     .model::<Log>()
//!     .listen::<User>(AfterUpdate, |ctx, change| {
//!         // Staged here, written in the same flush and the same transaction.
//!         ctx.add(Log {
//!             id: 0,
//!             user_id: change.new().map_or(0, |u| u.id),
//!             change_type: "update".into(),
//!             old_name: change.old().map(|u| u.name.clone()),
//!             new_name: change.new().map(|u| u.name.clone()),
//!             changed_at: Utc::now(),
//!         });
//!         Ok(())
//!     })
//!     .build()?;
//! engine.create_all()?;
//!
//! let mut s = engine.session()?;
//! let user = s.insert(User { id: 0, name: "Jane".into(), created_at: Utc::now() })?;
//! s.commit()?;
//!
//! let mut user = s.get::<User>(user.id)?.expect("just inserted");
//! user.name = "John Doe".into();
//! s.update(&user)?; // staged; the old values are those loaded
//! s.commit()?;      // one transaction: the UPDATE and its Log row, or neither
//!
//! let log = s.query::<Log>().all()?;
//! assert_eq!(log[0].old_name.as_deref(), Some("Jane"));
//! assert_eq!(log[0].new_name.as_deref(), Some("John Doe"));
//! # Ok::<(), trigorm::Error>(())
//! ```
//!
//! ## Layers
//! [`value`] and [`schema`] (what a model is) → [`sql`] (rendering per dialect, on
//! sea-query) → [`driver`] (one connection, `dyn`) → [`session`] (unit of work, listeners)
//! → [`engine`] (URL, pool, registry). [`event`] is the vocabulary listeners are told.
//! Nothing lower knows what is above it.
//!
//! ## Backends
//! SQLite (feature `sqlite`, on by default, bundled). PostgreSQL and MariaDB/MySQL URLs
//! are recognised and refused with [`Error::Unsupported`] until their drivers land.
//!
//! ## Async
//! The API is synchronous. The session's state machine does not depend on how a statement
//! is executed; an async facade can run a session on a blocking thread, or add an async
//! [`driver::Connection`] beside the sync one, without changing the session's logic.
#![warn(missing_docs)]

extern crate self as trigorm;

pub mod backend;
pub mod driver;
pub mod engine;
pub mod error;
pub mod event;
pub mod model;
pub mod query;
pub mod schema;
pub mod session;
pub mod sql;
pub mod trigger;
pub mod value;

pub use engine::{Engine, EngineBuilder};
pub use error::{Error, ListenerResult, Result};
pub use model::{ColumnSet, IntoRow, Model};
pub use session::{ListenerCtx, Pending, Query, Session};
pub use trigorm_derive::{Field, Model};
pub use value::{Field, Value, ValueRef};
// Used by derived code and drivers; not part of what a user writes.
#[doc(hidden)]
pub use value::{Binder, Key};

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
