//! Triggers compiled for SQLite: one database trigger per operation (SQLite takes one),
//! the condition in `WHEN`, refusals by `RAISE(ABORT, …)`, the fingerprint a comment in the
//! body (kept in `sqlite_master.sql`). Written in SQL the `sqlite3` shell of Debian 12
//! (3.40) also reads.

use crate::backend::Backend;
use crate::error::Error;

use super::compile::{condition, literal, no_body, pk, refusal, refused_what, Compiled, DbTrigger, FP, MARKER, OFF};
use super::decl::{Op, TriggerDef, TriggerKind};

/// The body of one database trigger, given its name and operation.
type Body = Box<dyn Fn(&str, Op) -> String>;

const B: Backend = Backend::Sqlite;

pub(super) fn compile(def: &TriggerDef, declared: &[TriggerDef]) -> Result<Compiled, Error> {
    let t = def.table;
    let name = def.managed_name();
    let when = condition(def, B)?;
    let (timing, body): (&'static str, Body) = match &def.kind {
        TriggerKind::Protect(_) | TriggerKind::ReadOnly(_) | TriggerKind::Transitions { .. } => {
            let table = t.name;
            let what = refused_what(&def.kind);
            (
                "BEFORE",
                Box::new(move |trigger: &str, op: Op| {
                    let message = refusal(trigger, table, &format!("{} {what}", op.word()));
                    format!("SELECT RAISE(ABORT, '{}');", message.replace('\'', "''"))
                }),
            )
        }
        TriggerKind::SoftDelete { column, value } => {
            let set = format!(
                "UPDATE \"{}\" SET \"{column}\" = {} WHERE \"{}\" = OLD.\"{}\"; SELECT RAISE(IGNORE);",
                t.name,
                literal(def, column, value, B)?,
                pk(t),
                pk(t)
            );
            ("BEFORE", Box::new(move |_: &str, _| set.clone()))
        }
        TriggerKind::UpdatedAt(column) => {
            // trigorm's timestamp text, at the milliseconds SQLite's clock gives.
            let set = format!(
                "UPDATE \"{}\" SET \"{column}\" = strftime('%Y-%m-%d %H:%M:%f', 'now') || '000000+00:00' \
                 WHERE \"{}\" = NEW.\"{}\";",
                t.name,
                pk(t),
                pk(t)
            );
            ("AFTER", Box::new(move |_: &str, _| set.clone()))
        }
        TriggerKind::Version(column) => {
            let set = format!(
                "UPDATE \"{}\" SET \"{column}\" = OLD.\"{column}\" + 1 WHERE \"{}\" = NEW.\"{}\";",
                t.name,
                pk(t),
                pk(t)
            );
            ("AFTER", Box::new(move |_: &str, _| set.clone()))
        }
        TriggerKind::Custom { timing, bodies, .. } => {
            let Some(sql) = bodies.sqlite.clone() else {
                return Err(no_body(def, B));
            };
            // INSTEAD OF: on a view (described with a `TableDef`); SQLite refuses it on a table.
            (timing.sql(), Box::new(move |_: &str, _| sql.clone()))
        }
    };
    let mut out = Compiled::empty(def);
    // The triggers that write their own table with an UPDATE (SQLite cannot change NEW)
    // would set off the table's update triggers a second time: the stamp, the version and
    // custom update triggers of a table that has such triggers fire only on updates of
    // other columns than the ones they write (a stamp must not count as a change that
    // moves the version, nor the version's move re-stamp, nor either fire an audit again).
    // Refusals fire on every update: an update of the written columns alone is still
    // refused, and the nested UPDATE changes no column they guard.
    let mut written: Vec<&str> = declared
        .iter()
        .filter(|d| std::ptr::eq(d.table, t))
        .filter_map(|d| match &d.kind {
            TriggerKind::UpdatedAt(c) | TriggerKind::Version(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    if let TriggerKind::UpdatedAt(c) | TriggerKind::Version(c) = &def.kind {
        written.push(c);
    }
    let others: Vec<String> = t
        .columns
        .iter()
        .filter(|c| !written.contains(&c.name))
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let refuses = matches!(
        def.kind,
        TriggerKind::Protect(_) | TriggerKind::ReadOnly(_) | TriggerKind::Transitions { .. }
    );
    let of_update = if refuses || written.is_empty() || others.is_empty() {
        String::new()
    } else {
        format!(" OF {}", others.join(", "))
    };
    // Ignored for one transaction by being dropped in it (see `Session::ignore_triggers`):
    // nothing to check per row.
    let when = when.map_or(String::new(), |w| format!(" WHEN {w}"));
    for op in def.ops().iter() {
        let trigger = format!("{name}_{}", op.word());
        let of = if op == Op::Update { of_update.as_str() } else { "" };
        let create = |when: &str, marker: &str| {
            format!(
                "CREATE TRIGGER \"{trigger}\" {timing} {}{of} ON \"{}\" FOR EACH ROW{when} BEGIN /* {MARKER}{FP}{marker} */ {} END",
                op.sql(),
                t.name,
                body(&trigger, op)
            )
        };
        let drop = format!("DROP TRIGGER IF EXISTS \"{trigger}\"");
        let (on, off) = (create(&when, ""), create(" WHEN 0", OFF));
        out.push_switched(DbTrigger::new(trigger, timing, vec![op.sql()], drop), on, off);
    }
    Ok(out)
}

/// Remake `group`, the database triggers of one table, timing and event in the order they
/// are to fire, each with its statements (switched on or off): SQLite fires the newest
/// trigger first (the latest row of `sqlite_master`, also once the database is opened
/// again), so they are dropped and then created last to first. Each statement comes with
/// the trigger it concerns.
pub(super) fn remake(group: &[(&DbTrigger, &[String])]) -> Vec<(String, String)> {
    let drops = group.iter().map(|(t, _)| (t.name.clone(), t.drop.clone()));
    let creates = group
        .iter()
        .rev()
        .flat_map(|(t, create)| create.iter().map(|s| (t.name.clone(), s.clone())));
    drops.chain(creates).collect()
}
