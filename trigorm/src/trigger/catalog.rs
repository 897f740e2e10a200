//! What the database holds of trigorm's triggers: the managed triggers (name, table,
//! fingerprint, on or off, place among their group) and, on PostgreSQL, the managed trigger
//! functions and who calls them, read from each backend's catalog.

use crate::backend::Backend;
use crate::driver::{Connection, QueryError};
use crate::error::Error;
use crate::value::Value;

use super::compile::{MARKER, OFF};
use super::decl::PREFIX;

/// A managed trigger found in the database.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub(super) name: String,
    pub(super) table: String,
    pub(super) fingerprint: Option<String>,
    pub(super) enabled: bool,
    /// Where it stands among the triggers of its table, timing and event: SQLite the
    /// `sqlite_master` rowid (the newest fires first), MariaDB/MySQL `ACTION_ORDER` (the
    /// lowest first); 0 on PostgreSQL (names order them).
    pub(super) position: i64,
}

/// The managed triggers in the connection's database (its current schema on PostgreSQL).
pub(super) fn found(conn: &mut dyn Connection) -> Result<Vec<Found>, Error> {
    let backend = conn.backend();
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name, tbl_name, sql, 1, rowid FROM sqlite_master WHERE type = 'trigger' \
             AND substr(name, 1, 8) = 'trigorm_'"
        }
        Backend::Postgres => {
            "SELECT t.tgname::text, c.relname::text, COALESCE(obj_description(t.oid, 'pg_trigger'), ''), \
             CASE WHEN t.tgenabled = 'D' THEN 0 ELSE 1 END, 0 FROM pg_trigger t \
             JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND substr(t.tgname, 1, 8) = 'trigorm_'"
        }
        Backend::Mysql => {
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT, 1, ACTION_ORDER \
             FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = DATABASE() AND SUBSTR(TRIGGER_NAME, 1, 8) = 'trigorm_'"
        }
    };
    debug_assert_eq!(PREFIX.len(), 8);
    let mut out = Vec::new();
    conn.query(sql, &[], &mut |row| {
        let source = text(&row[2]);
        // PostgreSQL: the comment on the trigger; elsewhere the first comment of the
        // source, outside quotes (a condition's literal may hold the marker too).
        let marked = match backend {
            Backend::Postgres => Some(source.as_str()),
            _ => first_comment(&source),
        };
        let fingerprint = marked.and_then(fingerprint_in);
        let off = fingerprint
            .as_ref()
            .zip(marked)
            .is_some_and(|(fp, m)| m.trim_start().starts_with(&format!("{MARKER}{fp}{OFF}")));
        out.push(Found {
            name: text(&row[0]),
            table: text(&row[1]),
            fingerprint,
            enabled: int(&row[3]) != 0 && !off,
            position: int(&row[4]),
        });
        Ok(())
    })
    .map_err(|e| query_failed(e, sql))?;
    out.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    Ok(out)
}

/// A managed trigger function found in the database (PostgreSQL) and the triggers that
/// call it: (table, trigger, whether in the current schema).
#[derive(Debug, Clone)]
pub(super) struct FoundFunction {
    pub(super) name: String,
    pub(super) callers: Vec<(String, String, bool)>,
}

/// The managed trigger functions of the current schema (PostgreSQL; none elsewhere).
pub(super) fn found_functions(conn: &mut dyn Connection) -> Result<Vec<FoundFunction>, Error> {
    if conn.backend() != Backend::Postgres {
        return Ok(Vec::new());
    }
    let sql = "SELECT p.proname::text, COALESCE(t.tgname::text, ''), COALESCE(c.relname::text, ''), \
               CASE WHEN tn.nspname = current_schema() THEN 1 ELSE 0 END \
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               LEFT JOIN pg_trigger t ON t.tgfoid = p.oid LEFT JOIN pg_class c ON c.oid = t.tgrelid \
               LEFT JOIN pg_namespace tn ON tn.oid = c.relnamespace \
               WHERE n.nspname = current_schema() AND p.prorettype = 'trigger'::regtype \
               AND p.pronargs = 0 AND substr(p.proname, 1, 8) = 'trigorm_'";
    let mut out: Vec<FoundFunction> = Vec::new();
    conn.query(sql, &[], &mut |row| {
        let name = text(&row[0]);
        let at = match out.iter().position(|f| f.name == name) {
            Some(at) => at,
            None => {
                out.push(FoundFunction {
                    name,
                    callers: Vec::new(),
                });
                out.len() - 1
            }
        };
        let trigger = text(&row[1]);
        if !trigger.is_empty() {
            out[at].callers.push((text(&row[2]), trigger, int(&row[3]) != 0));
        }
        Ok(())
    })
    .map_err(|e| query_failed(e, sql))?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// A catalog value as text.
fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Int(i) => i.to_string(),
        _ => String::new(),
    }
}

/// A catalog value as an integer (0 when it is none).
fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Bool(b) => i64::from(*b),
        Value::Text(s) => s.trim().parse().unwrap_or(0),
        Value::Blob(b) => String::from_utf8_lossy(b).trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// The fingerprint after the marker that starts a comment (or a trigger's comment on
/// PostgreSQL).
fn fingerprint_in(comment: &str) -> Option<String> {
    let rest = comment.trim_start().strip_prefix(MARKER)?;
    let fp: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    (fp.len() == 16).then_some(fp)
}

/// The text of the first `/* … */` comment of `sql` that is not inside a string literal
/// or a quoted name (`'…'`, `"…"`, `` `…` ``, `[…]`, quotes doubled inside) or a `--`
/// comment. trigorm writes its marker comment right after `BEGIN`, where SQLite keeps a
/// condition (`WHEN`, whose literals may hold anything) before it; MariaDB keeps the body
/// alone, which starts with it.
fn first_comment(sql: &str) -> Option<&str> {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`' | b'[') => {
                let close = if q == b'[' { b']' } else { q };
                i += 1;
                loop {
                    match b.get(i) {
                        None => return None,
                        Some(&c) if c == close && q != b'[' && b.get(i + 1) == Some(&close) => i += 2,
                        Some(&c) if c == close => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let body = &sql[i + 2..];
                return body.find("*/").map(|end| &body[..end]);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn query_failed(e: QueryError, sql: &str) -> Error {
    match e {
        QueryError::Db(source) => Error::Statement {
            operation: "read triggers",
            model: None,
            pk: None,
            sql: sql.to_string(),
            source: Box::new(source),
        },
        other => Error::Internal(format!("reading the database's triggers: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::{fingerprint_in, first_comment};

    #[test]
    fn the_marker_is_the_first_comment_outside_quotes() {
        let fp = "0123456789abcdef";
        let sql = format!(
            "CREATE TRIGGER \"t\" BEFORE UPDATE ON \"x\" FOR EACH ROW WHEN NEW.\"a\" = '/* trigorm:ffffffffffffffff */ it''s' \
             AND NEW.\"b\" = 'trigorm:eeeeeeeeeeeeeeee' BEGIN /* trigorm:{fp} */ SELECT 1; END"
        );
        let comment = first_comment(&sql).unwrap();
        assert_eq!(fingerprint_in(comment).as_deref(), Some(fp));
        assert_eq!(first_comment("BEGIN /* trigorm:x:off */ END"), Some(" trigorm:x:off "));
        assert_eq!(first_comment("SELECT '/* no'"), None);
        assert_eq!(
            first_comment("SELECT \"/*\" -- /* not this\n /* this */"),
            Some(" this ")
        );
        assert_eq!(fingerprint_in(" trigorm:0123 "), None);
    }
}
