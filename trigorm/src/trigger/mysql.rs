//! Triggers compiled for MariaDB / MySQL: one database trigger per operation (one event per
//! trigger before MariaDB 12), the condition an `IF` around the body (there is no `WHEN`),
//! refusals by `SIGNAL SQLSTATE '45000'` (error 1644), the fingerprint a comment in the
//! body (kept in `information_schema.TRIGGERS.ACTION_STATEMENT`). MariaDB fires no trigger
//! for rows a foreign-key action changes.

use crate::backend::Backend;
use crate::error::Error;

use super::compile::{condition, no_body, refusal, refused_what, Compiled, DbTrigger, FP, MARKER, OFF};
use super::decl::{Timing, TriggerDef, TriggerKind};

/// The body of one database trigger, given its name and operation.
type Body = Box<dyn Fn(&str, &str) -> String>;

const B: Backend = Backend::Mysql;

pub(super) fn compile(def: &TriggerDef) -> Result<Compiled, Error> {
    let t = def.table;
    let name = def.managed_name();
    let when = condition(def, B)?;
    let unsupported = |why: &str| Error::Unsupported {
        backend: B.name(),
        feature: format!("trigger {:?} on {}: {why}", def.name, t.name),
    };
    let (timing, body): (&'static str, Body) = match &def.kind {
        TriggerKind::Protect(_) | TriggerKind::ReadOnly(_) | TriggerKind::Transitions { .. } => {
            let table = t.name;
            let what = refused_what(&def.kind);
            (
                "BEFORE",
                Box::new(move |trigger: &str, op: &str| {
                    let message = refusal(trigger, table, &format!("{op} {what}"));
                    format!(
                        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{}';",
                        message.replace('\'', "''")
                    )
                }),
            )
        }
        TriggerKind::SoftDelete { .. } => {
            return Err(unsupported(
                "SoftDelete: a MariaDB/MySQL trigger can neither skip a DELETE nor update its own table",
            ))
        }
        TriggerKind::UpdatedAt(column) => {
            let set = format!("SET NEW.`{column}` = UTC_TIMESTAMP(6);");
            ("BEFORE", Box::new(move |_: &str, _: &str| set.clone()))
        }
        TriggerKind::Version(column) => {
            let set = format!("SET NEW.`{column}` = OLD.`{column}` + 1;");
            ("BEFORE", Box::new(move |_: &str, _: &str| set.clone()))
        }
        TriggerKind::Custom { timing, bodies, .. } => {
            let Some(sql) = bodies.mysql.clone() else {
                return Err(no_body(def, B));
            };
            if *timing == Timing::InsteadOf {
                return Err(unsupported("INSTEAD OF: MariaDB/MySQL have no such triggers"));
            }
            (timing.sql(), Box::new(move |_: &str, _: &str| sql.clone()))
        }
    };
    let mut out = Compiled::empty(def);
    for op in def.ops().iter() {
        let trigger = format!("{name}_{}", op.word());
        let inner = body(&trigger, op.word());
        // Ignored for one transaction: `@trigorm_ignore` (see `Session::ignore_triggers`).
        let not_ignored = format!("FIND_IN_SET('{name}', COALESCE(@trigorm_ignore, '')) = 0");
        let inner = match &when {
            Some(w) => format!("IF {not_ignored} AND ({w}) THEN {inner} END IF;"),
            None => format!("IF {not_ignored} THEN {inner} END IF;"),
        };
        let create = |marker: &str, inner: &str| {
            format!(
                "CREATE TRIGGER `{trigger}` {timing} {} ON `{}`{ROW}BEGIN /* {MARKER}{FP}{marker} */ {inner} END",
                op.sql(),
                t.name
            )
        };
        let drop = format!("DROP TRIGGER IF EXISTS `{trigger}`");
        let (on, off) = (create("", &inner), create(OFF, "DO 0;"));
        out.push_switched(DbTrigger::new(trigger, timing, vec![op.sql()], drop), on, off);
    }
    Ok(out)
}

/// What comes between the table and the body of every trigger this module renders (and
/// nowhere before it: the names are identifiers, without spaces).
const ROW: &str = " FOR EACH ROW ";

/// Where a trigger is created among the others of its table, timing and event (MariaDB and
/// MySQL fire them in the order of `information_schema.TRIGGERS.ACTION_ORDER`, the order
/// of creation unless a `FOLLOWS` or `PRECEDES` clause says otherwise; the clause is not
/// kept in the trigger's definition, so the fingerprint does not depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place<'a> {
    /// Last.
    Last,
    /// Right after this trigger.
    Follows(&'a str),
    /// Right before this trigger.
    Precedes(&'a str),
}

/// `create`, a statement of this module that creates a trigger, placed at `place`.
pub(super) fn placed(create: &str, place: Place<'_>) -> Result<String, Error> {
    let clause = match place {
        Place::Last => return Ok(create.to_string()),
        Place::Follows(other) => format!("FOLLOWS `{}`", checked(other)?),
        Place::Precedes(other) => format!("PRECEDES `{}`", checked(other)?),
    };
    let Some(at) = create.find(ROW) else {
        return Err(Error::Internal(format!("not a trigger this module rendered: {create}")));
    };
    let at = at + ROW.len();
    Ok(format!("{}{clause} {}", &create[..at], &create[at..]))
}

/// `create`, a statement of this module that creates a trigger, as one that replaces the
/// trigger of its name in the same statement (MariaDB's `CREATE OR REPLACE TRIGGER`).
pub(super) fn or_replace(create: &str) -> Result<String, Error> {
    match create.strip_prefix("CREATE TRIGGER ") {
        Some(rest) => Ok(format!("CREATE OR REPLACE TRIGGER {rest}")),
        None => Err(Error::Internal(format!("not a trigger this module rendered: {create}"))),
    }
}

/// A trigger's name, checked before it reaches SQL.
fn checked(name: &str) -> Result<&str, Error> {
    crate::schema::validate_identifier(crate::schema::IdentKind::Trigger, name)?;
    Ok(name)
}
