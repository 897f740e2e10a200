//! Native triggers: rules the database enforces whoever writes (raw SQL, another program,
//! a colleague in `psql`), declared next to the model and compiled for each backend.
//!
//! The condition language ([`Cond`]), declarations ([`TriggerDef`], also made by
//! `#[derive(Model)]` attributes: [`crate::Model::triggers`]), their compilers per backend
//! ([`compile`]), and their lifecycle through a driver connection ([`manage`]); the design
//! is `docs/design/triggers.md`. This layer depends on schema, values and drivers, never on
//! sessions.

mod catalog;
mod compile;
mod cond;
mod decl;
pub mod manage;
mod mysql;
mod postgres;
mod sqlite;

pub use compile::{compile, compile_among, Compiled, DbTrigger, MARKER};
pub use cond::{all_changed, any_changed, changed, new, old, ChangedColumns, Cond, Row, RowColumn};
pub(crate) use decl::check_names;
pub use decl::{CustomBodies, Level, Op, Ops, Timing, TriggerDef, TriggerKind, PREFIX};
