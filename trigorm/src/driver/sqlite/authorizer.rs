//! What SQL run through a SQLite connection may do (SQLite's authorizer): the session owns
//! the transaction, and the connection goes back to a pool as it was lent.

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

/// Pragmas that take an argument and only read.
const READ_ONLY_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];

/// What SQL run through a connection may do. The session owns the transaction and the
/// connection goes back to a pool, so statements may not end or nest transactions, create
/// per-connection (TEMP) objects, attach databases or change settings.
pub(super) fn authorize(ctx: &AuthContext<'_>, transaction_control: bool) -> Authorization {
    let action = &ctx.action;
    // `CREATE TABLE temp.x` and the like are TEMP objects too, named by their schema.
    let on_temp = ctx.database_name == Some("temp")
        && !matches!(
            action,
            AuthAction::Read { .. } | AuthAction::Select | AuthAction::Function { .. }
        );
    let denied = on_temp
        || match action {
            AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => !transaction_control,
            AuthAction::CreateTempIndex { .. }
            | AuthAction::CreateTempTable { .. }
            | AuthAction::CreateTempTrigger { .. }
            | AuthAction::CreateTempView { .. }
            | AuthAction::Attach { .. }
            | AuthAction::Detach { .. } => true,
            AuthAction::Pragma {
                pragma_name,
                pragma_value: Some(_),
            } => !READ_ONLY_PRAGMAS.iter().any(|p| p.eq_ignore_ascii_case(pragma_name)),
            _ => false,
        };
    if denied {
        Authorization::Deny
    } else {
        Authorization::Allow
    }
}
