//! Triggers compiled for PostgreSQL: a PL/pgSQL function and one trigger for all the
//! declaration's operations, the condition in `WHEN`, refusals by `RAISE EXCEPTION`
//! (trigorm's own SQLSTATE, [`POSTGRES_REFUSAL_SQLSTATE`]), the fingerprint in `COMMENT ON TRIGGER`. A protection of deletes
//! also guards `TRUNCATE`, which fires no row trigger.

use crate::backend::Backend;
use crate::driver::POSTGRES_REFUSAL_SQLSTATE;
use crate::error::Error;

use super::compile::{condition, literal, no_body, pk, refusal, refused_what, Compiled, DbTrigger, FP, MARKER};
use super::decl::{Timing, TriggerDef, TriggerKind};

const B: Backend = Backend::Postgres;

/// The dollar quote around a function body: `$trigorm$`, or `$trigorm1$`, `$trigorm2$`, …
/// when the body holds it (a literal or a custom body may hold anything).
fn dollar_quote(body: &str) -> String {
    std::iter::once(String::new())
        .chain((1..).map(|n: u32| n.to_string()))
        .map(|n| format!("$trigorm{n}$"))
        .find(|q| !body.contains(q.as_str()))
        .unwrap_or_default()
}

pub(super) fn compile(def: &TriggerDef) -> Result<Compiled, Error> {
    let t = def.table;
    let name = def.managed_name();
    let function = format!("{name}_fn");
    let when = condition(def, B)?;
    // The reason reads as on the other backends: the operation, then what was refused.
    let refuse = |what: &str| {
        let head = refusal(&name, t.name, "").replace('\'', "''");
        let what = what.replace('\'', "''");
        format!(
            "RAISE EXCEPTION USING ERRCODE = '{POSTGRES_REFUSAL_SQLSTATE}', MESSAGE = '{head}' || lower(TG_OP) || ' {what}'; RETURN NULL;"
        )
    };
    let (timing, body) = match &def.kind {
        TriggerKind::Protect(_) | TriggerKind::ReadOnly(_) | TriggerKind::Transitions { .. } => {
            ("BEFORE", refuse(refused_what(&def.kind)))
        }
        TriggerKind::SoftDelete { column, value } => (
            "BEFORE",
            format!(
                "UPDATE \"{}\" SET \"{column}\" = {} WHERE \"{}\" = OLD.\"{}\"; RETURN NULL;",
                t.name,
                literal(def, column, value, B)?,
                pk(t),
                pk(t)
            ),
        ),
        TriggerKind::UpdatedAt(column) => ("BEFORE", format!("NEW.\"{column}\" := now(); RETURN NEW;")),
        TriggerKind::Version(column) => (
            "BEFORE",
            format!("NEW.\"{column}\" := OLD.\"{column}\" + 1; RETURN NEW;"),
        ),
        TriggerKind::Custom { timing, bodies, .. } => {
            let Some(body) = bodies.postgres.clone() else {
                return Err(no_body(def, B));
            };
            if *timing == Timing::InsteadOf && def.when.is_some() {
                return Err(Error::Unsupported {
                    backend: B.name(),
                    feature: format!(
                        "a condition on INSTEAD OF trigger {:?} on {} (PostgreSQL: INSTEAD OF triggers cannot have WHEN)",
                        def.name, def.table.name
                    ),
                });
            }
            // INSTEAD OF: on a view (described with a `TableDef`); PostgreSQL refuses it on
            // a table.
            (timing.sql(), body)
        }
    };
    // Ignored for one transaction: `trigorm.ignore`, a setting local to it (see
    // `Session::ignore_triggers`); the write goes on as if there were no trigger.
    let body = format!(
        "IF position(',{name},' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN \
         IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; \
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; {body}"
    );
    let ops: Vec<&'static str> = def.ops().iter().map(|op| op.sql()).collect();
    let when = when.map_or(String::new(), |w| format!(" WHEN ({w})"));
    let table = t.name;
    let comment = |trigger: &str| format!("COMMENT ON TRIGGER \"{trigger}\" ON \"{table}\" IS '{MARKER}{FP}'");
    let drop = |trigger: &str| format!("DROP TRIGGER IF EXISTS \"{trigger}\" ON \"{table}\"");
    let mut main = DbTrigger::new(name.clone(), timing, ops.clone(), drop(&name));
    main.create = vec![
        format!(
            "CREATE TRIGGER \"{name}\" {timing} {} ON \"{table}\" {}{when} EXECUTE FUNCTION \"{function}\"()",
            ops.join(" OR "),
            def.level.sql()
        ),
        comment(&name),
    ];
    let mut parts = vec![main];
    if matches!(def.kind, TriggerKind::Protect(ops) if ops.delete) {
        // TRUNCATE fires no row trigger: a statement trigger refuses it (OLD is NULL there;
        // the function reads neither row).
        let truncate = format!("{name}_truncate");
        let mut guard = DbTrigger::new(truncate.clone(), "BEFORE", vec!["TRUNCATE"], drop(&truncate));
        guard.create = vec![
            format!(
                "CREATE TRIGGER \"{truncate}\" BEFORE TRUNCATE ON \"{table}\" FOR EACH STATEMENT EXECUTE FUNCTION \"{function}\"()"
            ),
            comment(&truncate),
        ];
        parts.push(guard);
    }
    let mut out = Compiled::empty(def);
    let quote = dollar_quote(&body);
    out.create.push(format!(
        "CREATE OR REPLACE FUNCTION \"{function}\"() RETURNS trigger LANGUAGE plpgsql AS {quote} BEGIN {body} END {quote}"
    ));
    for p in &parts {
        out.create.extend(p.create.iter().cloned());
        out.drop.push(p.drop.clone());
        out.disable
            .push(format!("ALTER TABLE \"{table}\" DISABLE TRIGGER \"{}\"", p.name));
        out.enable
            .push(format!("ALTER TABLE \"{table}\" ENABLE TRIGGER \"{}\"", p.name));
    }
    out.drop.push(format!("DROP FUNCTION IF EXISTS \"{function}\"()"));
    out.functions.push(function);
    out.triggers = parts;
    Ok(out)
}
