//! Native triggers ignored for one transaction on SQLite: the named triggers are dropped
//! inside the transaction and put back before its COMMIT. SQLite's DDL is transactional
//! and it has one writer, so no other connection ever sees them missing, and a rollback or
//! a failure puts them back by itself; a trigger pays nothing per row for the possibility.
//!
//! SQLite fires the triggers of one event newest first (a new trigger goes to the front of
//! its table's list; on opening, they are read in `sqlite_master` row order), so putting
//! one back alone would change their order. The order of the table's triggers is noted
//! before the first drop; at COMMIT the dropped ones go back to their places among the
//! triggers the table has then (what the transaction itself dropped stays dropped, what
//! it created or changed stays as it is), and the triggers from the first of them on are
//! made again in that order.

use rusqlite::Connection;

/// The triggers an ignore dropped from one table, and the order of the table's triggers
/// before the first of them was dropped.
#[derive(Debug)]
pub(super) struct Noted {
    table: String,
    /// The table's triggers, oldest first, when first noted.
    order: Vec<String>,
    /// The dropped triggers: name and SQL.
    dropped: Vec<(String, String)>,
}

/// The names of a managed trigger's database triggers on SQLite: the name, and the name
/// with a per-operation suffix (a declared name cannot end with one).
const MATCHING: &str = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' \
     AND name IN (?1, ?1 || '_insert', ?1 || '_update', ?1 || '_delete')";

/// The triggers of a table, oldest first (`tbl_name` keeps the case the trigger was
/// written with).
const OF_TABLE: &str =
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE ORDER BY rowid";

/// Drop the triggers `names` name (managed names) for the rest of the open transaction,
/// noting in `noted` what is needed to put them back.
pub(super) fn drop_named(conn: &Connection, names: &[&str], noted: &mut Vec<Noted>) -> rusqlite::Result<()> {
    for name in names {
        let matched = conn
            .prepare_cached(MATCHING)?
            .query_map([name], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (trigger, table, sql) in matched {
            let at = match noted.iter().position(|n| n.table.eq_ignore_ascii_case(&table)) {
                Some(at) => at,
                None => {
                    let order = triggers_of(conn, &table)?.into_iter().map(|(n, _)| n).collect();
                    noted.push(Noted {
                        table,
                        order,
                        dropped: Vec::new(),
                    });
                    noted.len() - 1
                }
            };
            let n = &mut noted[at];
            if !n.order.contains(&trigger) {
                // Created by this transaction after the table was noted: the newest.
                n.order.push(trigger.clone());
            }
            conn.execute_batch(&format!("DROP TRIGGER {}", quoted(&trigger)))?;
            n.dropped.push((trigger, sql));
        }
    }
    Ok(())
}

/// Put the dropped triggers back in their places (before the COMMIT). Safe to run again
/// after a failure: what is there is dropped and made again.
pub(super) fn restore(conn: &Connection, noted: &[Noted]) -> rusqlite::Result<()> {
    for n in noted {
        let now = triggers_of(conn, &n.table)?;
        // The noted order, less what the transaction dropped itself; then what it created.
        let mut wanted: Vec<(&str, &str, bool)> = Vec::new();
        for name in &n.order {
            if let Some((_, sql)) = n.dropped.iter().find(|(d, _)| d == name) {
                wanted.push((name, sql, true));
            } else if let Some((_, sql)) = now.iter().find(|(t, _)| t == name) {
                wanted.push((name, sql, false));
            }
        }
        for (name, sql) in &now {
            if !n.order.contains(name) {
                wanted.push((name, sql, false));
            }
        }
        // From the first dropped one on, every trigger is made again, in order.
        let Some(first) = wanted.iter().position(|(_, _, dropped)| *dropped) else {
            continue;
        };
        for (name, _, _) in &wanted[first..] {
            conn.execute_batch(&format!("DROP TRIGGER IF EXISTS {}", quoted(name)))?;
        }
        for (_, sql, _) in &wanted[first..] {
            conn.execute_batch(sql)?;
        }
    }
    Ok(())
}

fn triggers_of(conn: &Connection, table: &str) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare_cached(OF_TABLE)?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
