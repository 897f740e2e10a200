//! What a raw statement would do to the session's transaction on MariaDB / MySQL, read from
//! its words before it is sent: transaction control, statements that commit implicitly,
//! `USE`. The words are read as the server reads them: comments are skipped, but the text
//! of an executable comment (`/*! … */`, `/*M! … */`, `/*!100000 … */`) is code.

/// A word of a statement and where it ends in the text.
struct Word {
    /// The word, upper-cased; a quoted string or name is `'`; punctuation is itself.
    text: String,
    end: usize,
}

/// The words of `sql`, lazily, as the server reads them.
struct Words<'a> {
    sql: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    fn new(sql: &'a str) -> Words<'a> {
        Words { sql, at: 0 }
    }
}

impl Iterator for Words<'_> {
    type Item = Word;

    fn next(&mut self) -> Option<Word> {
        let b = self.sql.as_bytes();
        loop {
            let i = self.at;
            let c = *b.get(i)?;
            let next = b.get(i + 1).copied();
            match c {
                _ if c.is_ascii_whitespace() => self.at += 1,
                b'#' => self.at = line_end(b, i),
                b'-' if next == Some(b'-') => self.at = line_end(b, i),
                b'/' if next == Some(b'*') => {
                    // `/*!` and `/*M!` hold code (and an optional version number): read on
                    // inside; the closing `*/` is skipped when met.
                    let rest = &b[i + 2..];
                    let marker = if rest.first() == Some(&b'!') {
                        Some(1)
                    } else if rest.starts_with(b"M!") {
                        Some(2)
                    } else {
                        None
                    };
                    match marker {
                        Some(m) => {
                            let mut j = i + 2 + m;
                            while b.get(j).is_some_and(u8::is_ascii_digit) {
                                j += 1;
                            }
                            self.at = j;
                        }
                        None => {
                            self.at = find(b, i + 2, b"*/").map_or(b.len(), |e| e + 2);
                        }
                    }
                }
                b'*' if next == Some(b'/') => self.at += 2,
                b'\'' | b'"' | b'`' => {
                    let mut j = i + 1;
                    while let Some(&d) = b.get(j) {
                        if d == b'\\' && c != b'`' {
                            j += 2;
                        } else if d == c {
                            if b.get(j + 1) == Some(&c) {
                                j += 2;
                            } else {
                                break;
                            }
                        } else {
                            j += 1;
                        }
                    }
                    self.at = (j + 1).min(b.len());
                    return Some(Word {
                        text: "'".into(),
                        end: self.at,
                    });
                }
                _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                    let mut j = i;
                    while b
                        .get(j)
                        .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'_' || d == b'$' || d >= 0x80)
                    {
                        j += 1;
                    }
                    self.at = j;
                    return Some(Word {
                        text: self.sql[i..j].to_ascii_uppercase(),
                        end: j,
                    });
                }
                _ => {
                    self.at += 1;
                    return Some(Word {
                        text: (c as char).to_string(),
                        end: self.at,
                    });
                }
            }
        }
    }
}

fn line_end(b: &[u8], from: usize) -> usize {
    find(b, from, b"\n").map_or(b.len(), |e| e + 1)
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The statement `SET STATEMENT var = value [, …] FOR <statement>` runs, if `sql` is one.
fn set_statement_for(sql: &str) -> Option<&str> {
    let mut words = Words::new(sql);
    if words.next()?.text != "SET" || words.next()?.text != "STATEMENT" {
        return None;
    }
    let end = words.find(|w| w.text == "FOR")?.end;
    Some(&sql[end..])
}

/// The first word of `sql` (upper-cased), as the server reads it.
pub(super) fn first_word(sql: &str) -> String {
    Words::new(sql).next().map(|w| w.text).unwrap_or_default()
}

/// Why the session must not send `sql`, if it must not: it begins, ends or nests a
/// transaction, commits the open one implicitly (DDL but not on temporary tables, table
/// maintenance, locking tables, accounts, `SET autocommit`, `CALL` — a procedure may
/// commit, and nothing undoes that afterwards), or changes the connection's database
/// (`USE`). `in_transaction`: whether a transaction is open (statements that only commit
/// implicitly are allowed outside one).
pub(super) fn refusal(sql: &str, in_transaction: bool) -> Option<String> {
    if let Some(inner) = set_statement_for(sql) {
        return refusal(inner, in_transaction);
    }
    let mut words = Words::new(sql);
    let first = words.next()?.text;
    let second = words.next().map(|w| w.text).unwrap_or_default();
    let owns = "the session owns the transaction (use commit() / rollback())";
    match first.as_str() {
        "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "XA" => {
            return Some(format!("{first} is refused: {owns}"));
        }
        "USE" => {
            return Some(
                "USE is refused: it would change the database of the session's later statements and of \
                 the connection's next sessions (name the database in the statement)"
                    .into(),
            );
        }
        _ => {}
    }
    if !in_transaction {
        return None;
    }
    let commits = match first.as_str() {
        "CREATE" | "DROP" => second != "TEMPORARY",
        "ALTER" | "RENAME" | "TRUNCATE" | "LOCK" | "UNLOCK" | "GRANT" | "REVOKE" | "ANALYZE" | "OPTIMIZE"
        | "REPAIR" | "CHECK" | "FLUSH" | "INSTALL" | "UNINSTALL" | "CACHE" | "RESET" | "CHANGE" | "STOP"
        | "SHUTDOWN" | "CALL" => true,
        "SET" => second == "PASSWORD" || Words::new(sql).any(|w| w.text == "AUTOCOMMIT"),
        _ => false,
    };
    commits.then(|| {
        let what = if first == "SET" { format!("SET {second}") } else { first };
        format!(
            "{what} is refused inside a session's transaction: on MariaDB/MySQL it commits the transaction \
             implicitly, or may (create tables with Engine::create_all, or run it on a plain connection)"
        )
    })
}

/// Whether `sql` is a statement that cannot end a transaction: a query or a data change
/// (stored functions and triggers may not commit).
pub(super) fn is_data_statement(sql: &str) -> bool {
    matches!(
        first_word(sql).as_str(),
        "SELECT"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "REPLACE"
            | "WITH"
            | "VALUES"
            | "TABLE"
            | "SHOW"
            | "DESCRIBE"
            | "DESC"
            | "EXPLAIN"
            | "("
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sql: &str) -> bool {
        refusal(sql, true).is_some()
    }

    #[test]
    fn transaction_control_is_found_however_written() {
        for sql in [
            "commit",
            " /* x */ start transaction",
            "# c\nCOMMIT",
            "-- c\nROLLBACK",
            "/*!COMMIT*/",
            "/*M!COMMIT*/",
            "/*!100000 COMMIT */",
            "/*!SAVEPOINT sp*/",
            "SET STATEMENT max_statement_time = 100 FOR COMMIT",
            "/* x */ SET STATEMENT max_statement_time=0 FOR COMMIT",
            "SET STATEMENT max_statement_time=0 FOR/**/COMMIT",
            "USE other",
        ] {
            assert!(refusal(sql, false).is_some(), "{sql}");
        }
        assert!(refusal("SELECT 'COMMIT'", true).is_none());
        assert!(refusal("SET STATEMENT sql_mode = ' FOR COMMIT' FOR SELECT 1", true).is_none());
        assert!(refusal("UPDATE t SET `begin` = 1", true).is_none());
        assert!(
            refusal("SET/**/STATEMENT a=1 FOR`commit`", true).is_none(),
            "a quoted name"
        );
    }

    #[test]
    fn implicit_commits_are_refused_inside_a_transaction_only() {
        for sql in [
            "create table t (a int)",
            "/*!CREATE TABLE t (a INT)*/",
            "/*!ALTER TABLE t COMMENT 'x'*/",
            "check table t",
            "CALL p()",
            "SET autocommit = 0",
            "SET @@autocommit = 0",
            "SET SESSION autocommit=1",
            "SET STATEMENT max_statement_time = 100 FOR CREATE TABLE s (x INT)",
            "SET PASSWORD = PASSWORD('x')",
        ] {
            assert!(refused(sql), "{sql}");
            assert!(refusal(sql, false).is_none(), "outside a transaction: {sql}");
        }
        for sql in [
            "CREATE TEMPORARY TABLE t (a int)",
            "DROP TEMPORARY TABLE t",
            "UPDATE t SET a = 1",
            "SET @x = 1, time_zone = '+01:00'",
            "SET @x = 'autocommit'",
        ] {
            assert!(!refused(sql), "{sql}");
        }
    }

    #[test]
    fn data_statements_are_known() {
        assert!(is_data_statement("/* x */ select 1"));
        assert!(is_data_statement("WITH a AS (SELECT 1) SELECT * FROM a"));
        assert!(!is_data_statement("SET @x = 1"));
        assert!(!is_data_statement("DO 1"));
    }
}
