//! trigorm
extern crate self as trigorm;

pub mod driver;
pub mod engine;
pub mod error;
pub mod event;
pub mod model;
pub mod query;
pub mod schema;
pub mod session;
pub mod sql;
pub mod value;

pub use engine::{Engine, EngineBuilder};
pub use error::{Error, ListenerResult, Result};
pub use model::{ColumnSet, Model};
pub use session::{ListenerCtx, Pending, Query, Session};
pub use trigorm_derive::Model;
pub use value::{Field, Key, Value};
