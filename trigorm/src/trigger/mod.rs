//! Native triggers: rules the database enforces whoever writes (raw SQL, another program,
//! a colleague in `psql`), declared next to the model and compiled for each backend.
//!
//! Built so far: the condition language ([`Cond`]), typed over the derive's columns and
//! rendered per dialect. Declarations, compilers and their lifecycle (install, check,
//! prune) follow; `docs/design/triggers.md` is the plan. This layer depends on schema,
//! values and drivers, never on sessions.

mod cond;

pub use cond::{all_changed, any_changed, changed, new, old, Cond, Row, RowColumn};
