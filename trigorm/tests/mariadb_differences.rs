//! What MariaDB / MySQL does differently, and how trigorm handles it (issue 10): DDL that
//! commits by itself (`create_all` says which tables it built when it stops midway, and a
//! rerun completes it), DDL refused inside a session, batches of many rows in power-of-two
//! sizes whose typed first row fixes the columns' types, `utf8mb4` text, a string longer
//! than its column as a typed error whatever the connection's `sql_mode` was set to.
mod common;
use common::*;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use mysql::prelude::Queryable;
use trigorm::error::DbErrorKind;
use trigorm::query::col;
use trigorm::{Engine, Error, Model, Value};

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "kin")]
struct Kin {
    id: i64,
    name: String,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "ward")]
struct Ward {
    id: i64,
    #[trigorm(references = Kin, on_delete = "cascade")]
    kin_id: i64,
}

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "loner")]
struct Loner {
    id: i64,
    note: String,
}

on_mariadb!(
    create_all_stopped_midway_names_the_tables_and_a_rerun_completes_it,
    |db: Db| {
        // A `kin` table made by hand whose key a foreign key cannot reference (text, not an
        // integer): `ward` fails after `loner` was built, and each DDL statement has committed.
        let mut plain = db.my_client();
        plain
            .query_drop("CREATE TABLE kin (id VARCHAR(10) PRIMARY KEY, name TEXT)")
            .unwrap();
        let engine = Engine::builder(&db.url)
            .model::<Loner>()
            .model::<Ward>()
            .build()
            .unwrap();
        let err = engine.create_all().expect_err("ward cannot reference kin(id VARCHAR)");
        match &err {
            Error::CreateIncomplete {
                created,
                not_created,
                sql,
                source,
            } => {
                assert_eq!(created, &["loner".to_string(), "kin".to_string()], "{err}");
                assert_eq!(not_created, &["ward".to_string()], "{err}");
                assert!(sql.contains("`ward`"), "the failed statement is shown: {sql}");
                assert_eq!(source.code.as_deref(), Some("1005"), "{source:?}");
            }
            other => panic!("expected CreateIncomplete, got {other:?}"),
        }
        let mut s = engine.session().unwrap();
        s.insert(Loner {
            id: 0,
            note: "kept".into(),
        })
        .unwrap();
        s.commit().unwrap();
        drop(s);

        // Fixed by hand, a rerun builds what is missing and keeps what exists.
        plain.query_drop("DROP TABLE kin").unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let kin = s
            .insert(Kin {
                id: 0,
                name: "k".into(),
            })
            .unwrap();
        s.insert(Ward { id: 0, kin_id: kin.id }).unwrap();
        s.commit().unwrap();
        assert_eq!(s.query::<Loner>().count().unwrap(), 1, "the rerun kept loner's rows");
        // And again: nothing to do, nothing lost.
        engine.create_all().unwrap();
        assert_eq!(count::<Ward>(&engine), 1);
    }
);

on_mariadb!(ddl_inside_a_session_is_refused_as_it_would_commit, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Loner>().build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    s.insert(Loner {
        id: 0,
        note: "pending".into(),
    })
    .unwrap();
    let err = s
        .execute("CREATE TABLE sneaky (id INT)", &[])
        .expect_err("DDL would commit the session's transaction");
    assert!(err.to_string().contains("commits the transaction implicitly"), "{err}");
    // The transaction is over (a failed statement ends it): nothing was committed.
    drop(s);
    assert_eq!(
        count::<Loner>(&engine),
        0,
        "the pending insert was not committed by DDL"
    );
    let mut s = engine.session().unwrap();
    assert!(
        rows(
            &mut s,
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'sneaky'"
        )[0][0]
            == Value::Int(0),
        "the table was not created"
    );
    // Temporary tables do not commit: allowed.
    s.execute("CREATE TEMPORARY TABLE scratch (id INT)", &[]).unwrap();
    s.commit().unwrap();
});

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "mixed")]
struct Mixed {
    id: i64,
    label: Option<String>,
    at: Option<DateTime<Utc>>,
    ratio: Option<f64>,
    flag: Option<bool>,
    day: Option<NaiveDate>,
    data: Option<Vec<u8>>,
    #[trigorm(unique)]
    handle: String,
}

fn mixed(i: i64) -> Mixed {
    Mixed {
        id: 0,
        label: None,
        at: None,
        ratio: None,
        flag: None,
        day: None,
        data: None,
        handle: format!("h{i}"),
    }
}

on_mariadb!(
    batched_updates_keep_every_type_whatever_the_first_row_holds,
    |db: Db| {
        let log = StatementLog::default();
        let engine = log.attach(Engine::builder(&db.url).model::<Mixed>()).build().unwrap();
        engine.create_all().unwrap();
        let mut s = engine.session().unwrap();
        let mut rows_in = Vec::new();
        for i in 0..5 {
            rows_in.push(s.insert(mixed(i)).unwrap());
        }
        s.commit().unwrap();
        // The first row of the batch stays NULL everywhere; the others get long text, 4-byte
        // characters, microseconds, floats, booleans, dates and bytes.
        let at = Utc.with_ymd_and_hms(2031, 12, 31, 23, 59, 58).unwrap() + chrono::Duration::microseconds(123_456);
        let long = "é😀".repeat(40_000);
        for (n, row) in rows_in.iter_mut().enumerate().skip(1) {
            row.label = Some(if n == 4 { long.clone() } else { format!("{n} 😀 𝄞") });
            row.at = Some(at + chrono::Duration::microseconds(n as i64));
            row.ratio = Some(0.1 * n as f64);
            row.flag = Some(n % 2 == 0);
            row.day = NaiveDate::from_ymd_opt(2024, 2, 28 + n as u32 % 2);
            row.data = Some(vec![0, 255, n as u8, 0]);
            row.handle = format!("handle-{n}-ünï");
            s.update(row.clone()).unwrap();
        }
        // The first row changes a column too, to NULL → NULL-first batch.
        rows_in[0].handle = "first".into();
        s.update(rows_in[0].clone()).unwrap();
        log.take();
        s.commit().unwrap();
        let sent = log.take();
        assert!(
            sent.iter()
                .any(|q| q.starts_with("UPDATE `mixed` JOIN (SELECT CONVERT(")),
            "the updates were batched: {sent:?}"
        );
        let mut s = engine.session().unwrap();
        let back = s.query::<Mixed>().order_by(col("id").asc()).all().unwrap();
        assert_eq!(back.len(), rows_in.len());
        for (got, want) in back.iter().zip(&rows_in) {
            assert_eq!(
                got.label.as_ref().map(|l| l.chars().count()),
                want.label.as_ref().map(|l| l.chars().count()),
                "row {}: the text's length",
                want.id
            );
            assert_eq!(got, want, "row {}: every value read back as written", want.id);
        }
    }
);

on_mariadb!(inserts_go_in_power_of_two_batches, |db: Db| {
    let log = StatementLog::default();
    let engine = log.attach(Engine::builder(&db.url).model::<Loner>()).build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    for i in 0..1000 {
        s.add(Loner {
            id: 0,
            note: format!("n{i}"),
        });
    }
    log.take();
    s.commit().unwrap();
    let sizes: Vec<usize> = log
        .take()
        .iter()
        .filter(|q| q.starts_with("INSERT"))
        .map(|q| q.matches("(?)").count())
        .collect();
    assert_eq!(
        sizes,
        [512, 256, 128, 64, 32, 8],
        "1000 rows in power-of-two statements"
    );
    let keys: Vec<i64> = s
        .query::<Loner>()
        .order_by(col("id").asc())
        .all()
        .unwrap()
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(keys.len(), 1000);
    let notes: Vec<String> = s
        .query::<Loner>()
        .order_by(col("id").asc())
        .all()
        .unwrap()
        .into_iter()
        .map(|l| l.note)
        .collect();
    assert_eq!(notes[999], "n999", "the generated keys went to their rows in order");
});

on_mariadb!(
    a_string_longer_than_its_column_is_a_typed_error_whatever_the_sql_mode,
    |db: Db| {
        let engine = Engine::builder(&db.url).model::<Mixed>().pool_size(1).build().unwrap();
        engine.create_all().unwrap();
        // Raw SQL relaxes the connection's sql_mode; the pool resets it before the next session.
        let mut s = engine.session().unwrap();
        s.execute("SET SESSION sql_mode = ''", &[]).unwrap();
        s.commit().unwrap();
        drop(s);
        let mut s = engine.session().unwrap();
        let mode = rows(&mut s, "SELECT @@SESSION.sql_mode");
        assert!(
            matches!(&mode[0][0], Value::Text(m) if m.contains("STRICT_ALL_TABLES")),
            "strict again after the reset: {mode:?}"
        );
        // `handle` is unique, so VARCHAR(255): 256 characters do not fit.
        let mut m = mixed(1);
        m.handle = "x".repeat(256);
        let err = s.insert(m).expect_err("too long for VARCHAR(255)");
        match &err {
            Error::Statement { model, source, .. } => {
                assert_eq!(*model, Some("Mixed"));
                assert_eq!(source.kind, DbErrorKind::InvalidValue, "{err}");
                assert!(source.message.contains("handle"), "the column is named: {err}");
            }
            other => panic!("expected a typed statement error, got {other:?}"),
        }
        drop(s);
        assert_eq!(count::<Mixed>(&engine), 0, "nothing was stored, truncated or not");
        // 255 four-byte characters fit.
        let mut s = engine.session().unwrap();
        let mut m = mixed(2);
        m.handle = "😀".repeat(255);
        let saved = s.insert(m.clone()).unwrap();
        s.commit().unwrap();
        let back = s
            .query::<Mixed>()
            .filter(col("id").eq(saved.id))
            .first()
            .unwrap()
            .expect("the row");
        assert_eq!(back.handle, m.handle);
    }
);

#[derive(Model, Clone, Debug, PartialEq)]
#[trigorm(table = "dated")]
struct Dated {
    id: i64,
    at: DateTime<Utc>,
    day: NaiveDate,
}

// DATETIME and DATE hold the years 0 to 9999: a value outside is a typed error naming the
// model, and nothing is written (never another date in its place).
on_mariadb!(dates_beyond_the_years_mariadb_holds_are_refused, |db: Db| {
    let engine = Engine::builder(&db.url).model::<Dated>().build().unwrap();
    engine.create_all().unwrap();
    let ok_day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let cases = [
        (
            "a timestamp in year -1",
            Utc.with_ymd_and_hms(-1, 3, 1, 0, 0, 0).unwrap(),
            ok_day,
        ),
        (
            "a timestamp in year 12000",
            Utc.with_ymd_and_hms(12000, 3, 1, 0, 0, 0).unwrap(),
            ok_day,
        ),
        ("a date in year -5", t0(), NaiveDate::from_ymd_opt(-5, 1, 1).unwrap()),
        (
            "a date in year 70000",
            t0(),
            NaiveDate::from_ymd_opt(70000, 1, 1).unwrap(),
        ),
    ];
    for (what, at, day) in cases {
        let mut s = engine.session().unwrap();
        let err = s.insert(Dated { id: 0, at, day }).expect_err(what);
        match &err {
            Error::Statement { model, source, .. } => {
                assert_eq!(*model, Some("Dated"), "{what}");
                assert_eq!(source.kind, DbErrorKind::InvalidValue, "{what}: {err}");
                assert!(source.message.contains("0 to 9999"), "{what}: {err}");
            }
            other => panic!("{what}: expected a typed statement error, got {other:?}"),
        }
    }
    assert_eq!(count::<Dated>(&engine), 0);
    // The edges are kept.
    let mut s = engine.session().unwrap();
    let edge = Dated {
        id: 0,
        at: Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        day: NaiveDate::from_ymd_opt(1, 1, 1).unwrap(),
    };
    let saved = s.insert(edge).unwrap();
    s.commit().unwrap();
    assert_eq!(s.get::<Dated>(saved.id).unwrap(), Some(saved));
});

/// The SQL the MariaDB and MySQL dialects render, as exact strings (no database needed).
mod rendered {
    use trigorm::sql::{Dialect, MysqlDialect, MysqlFlavor};
    use trigorm::{ColumnSet, Model};

    #[derive(Model, Clone, Debug)]
    #[trigorm(table = "users")]
    struct User {
        id: i64,
        #[trigorm(unique)]
        name: String,
        email: Option<String>,
    }

    #[derive(Model, Clone, Debug)]
    struct Post {
        id: i64,
        #[trigorm(references = User, on_delete = "cascade", index)]
        author_id: i64,
        #[trigorm(default = "draft")]
        state: String,
        #[trigorm(default = "2024-02-29T12:34:56.000007Z")]
        at: chrono::DateTime<chrono::Utc>,
    }

    #[test]
    fn the_server_version_picks_the_flavor() {
        assert_eq!(
            MysqlDialect::for_version("10.11.19-MariaDB-0+deb12u1").flavor(),
            MysqlFlavor::MariaDb
        );
        assert_eq!(
            MysqlDialect::for_version("11.4.2-MariaDB").flavor(),
            MysqlFlavor::MariaDb
        );
        assert_eq!(
            MysqlDialect::for_version("10.4.34-MariaDB").flavor(),
            MysqlFlavor::Mysql
        );
        assert_eq!(MysqlDialect::for_version("8.4.0").flavor(), MysqlFlavor::Mysql);
    }

    #[test]
    fn statements_of_many_rows() {
        let (maria, my) = (MysqlDialect::mariadb(), MysqlDialect::mysql());
        let t = User::table();
        assert_eq!(
            maria.insert_many(t, false, 2).as_deref(),
            Some("INSERT INTO `users` (`name`, `email`) VALUES (?, ?), (?, ?) RETURNING `id`")
        );
        assert_eq!(
            my.insert_many(t, true, 2).as_deref(),
            Some("INSERT INTO `users` (`id`, `name`, `email`) VALUES (?, ?, ?), (?, ?, ?)")
        );
        // MySQL cannot return the keys it generates for many rows: those go one by one.
        assert_eq!(my.insert_many(t, false, 2), None);
        let mut email = ColumnSet::EMPTY;
        email.insert(2);
        assert_eq!(
            maria.update_many(t, email, 2).as_deref(),
            Some(
                "UPDATE `users` JOIN (SELECT CONVERT(? USING utf8mb4) AS `c0`, CAST(? AS SIGNED) AS `k` \
                 UNION ALL SELECT CONVERT(? USING utf8mb4), CAST(? AS SIGNED)) AS `~v` \
                 ON `users`.`id` = `~v`.`k` SET `users`.`email` = `~v`.`c0`"
            )
        );
        assert_eq!(
            maria.delete_many(t, 3).as_deref(),
            Some("DELETE FROM `users` WHERE `id` IN (?, ?, ?) RETURNING `id`")
        );
        assert_eq!(
            my.delete_many(t, 1).as_deref(),
            Some("DELETE FROM `users` WHERE `id` IN (?)")
        );
        assert_eq!(
            maria.select_many_locked(t, 2).as_deref(),
            Some("SELECT `id`, `name`, `email` FROM `users` WHERE `id` IN (?, ?) ORDER BY `id` FOR UPDATE")
        );
        assert_eq!(
            maria.select_by_key(t, true),
            "SELECT `id`, `name`, `email` FROM `users` WHERE `id` = ? FOR UPDATE"
        );
    }

    #[test]
    fn tables_keep_their_indexes_inside_and_text_keys_get_a_length() {
        let d = MysqlDialect::mariadb();
        let users = d.create_table(User::table()).unwrap();
        assert_eq!(
            users,
            [
                "CREATE TABLE IF NOT EXISTS `users` ( `id` BIGINT AUTO_INCREMENT NOT NULL PRIMARY KEY, \
              `name` VARCHAR(255) NOT NULL UNIQUE, `email` LONGTEXT ) \
              ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"
            ]
        );
        let posts = d.create_table(Post::table()).unwrap();
        assert_eq!(posts.len(), 1, "one statement, its index inside: {posts:?}");
        assert!(
            posts[0].contains("`at` DATETIME(6) NOT NULL DEFAULT '2024-02-29 12:34:56.000007'"),
            "a timestamp default without its offset: {}",
            posts[0]
        );
        assert!(
            posts[0].contains("KEY `idx_post_author_id` (`author_id`)"),
            "{}",
            posts[0]
        );
        assert!(posts[0].contains("ON DELETE CASCADE"), "{}", posts[0]);
        let mysql = MysqlDialect::mysql();
        assert!(mysql.create_table(User::table()).unwrap()[0].ends_with("COLLATE=utf8mb4_0900_bin"));
        // MySQL 8 takes a text default only as an expression.
        let posts = mysql.create_table(Post::table()).unwrap();
        assert!(
            posts[0].contains("`state` LONGTEXT NOT NULL DEFAULT ('draft')"),
            "{}",
            posts[0]
        );
    }
}

// `mariadb://` is the same backend as `mysql://`: an engine on it works, and says which
// server it found.
on_mariadb!(a_mariadb_url_opens_the_same_backend, |db: Db| {
    let url = db.url.replacen("mysql://", "mariadb://", 1);
    let engine = Engine::builder(&url).model::<Loner>().build().unwrap();
    assert_eq!(engine.backend(), trigorm::driver::Backend::Mysql);
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let saved = s
        .insert(Loner {
            id: 0,
            note: "via mariadb://".into(),
        })
        .unwrap();
    s.commit().unwrap();
    assert_eq!(s.get::<Loner>(saved.id).unwrap(), Some(saved));
});
