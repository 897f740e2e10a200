//! Native triggers ignored for one transaction on SQLite: the named triggers are dropped
//! inside the transaction and put back before its COMMIT. SQLite's DDL is transactional
//! and it has one writer, so no other connection ever sees them missing, and a rollback or
//! a failure puts them back by itself; a trigger pays nothing per row for the possibility.
//!
//! SQLite fires the triggers of one event newest first (a new trigger goes to the front of
//! its table's list; on opening, they are read in `sqlite_master` row order), so putting
//! one back alone would change their order: every trigger of the table is noted, in row
//! order, before the first drop, and all of them are made again in that order.

use rusqlite::Connection;

/// A trigger noted before an ignore dropped any trigger of its table.
#[derive(Debug)]
pub(super) struct Saved {
    table: String,
    name: String,
    sql: String,
}

/// Drop the triggers `names` name (a managed name, whose SQLite triggers are it plus a
/// per-operation suffix) for the rest of the open transaction, noting first every trigger
/// of their tables in `saved`.
pub(super) fn drop_named(conn: &Connection, names: &[&str], saved: &mut Vec<Saved>) -> rusqlite::Result<()> {
    for name in names {
        let mut found = conn.prepare_cached(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' \
             AND name IN (?1, ?1 || '_insert', ?1 || '_update', ?1 || '_delete')",
        )?;
        let matched = found
            .query_map([name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (trigger, table) in matched {
            if !saved.iter().any(|s| s.table == table) {
                let mut all = conn.prepare_cached(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 ORDER BY rowid",
                )?;
                let rows = all.query_map([&table], |r| {
                    Ok(Saved {
                        table: table.clone(),
                        name: r.get(0)?,
                        sql: r.get(1)?,
                    })
                })?;
                for row in rows {
                    saved.push(row?);
                }
            }
            conn.execute_batch(&format!("DROP TRIGGER {}", quoted(&trigger)))?;
        }
    }
    Ok(())
}

/// Put the noted triggers back, in their order (before the COMMIT).
pub(super) fn restore(conn: &Connection, saved: &[Saved]) -> rusqlite::Result<()> {
    for s in saved {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS {}", quoted(&s.name)))?;
    }
    for s in saved {
        conn.execute_batch(&s.sql)?;
    }
    Ok(())
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
