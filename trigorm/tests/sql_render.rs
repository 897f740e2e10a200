//! The SQL each dialect renders, as exact strings (no database needed).

use trigorm::query::{col, Select};
use trigorm::sql::{Dialect, MysqlDialect, PostgresDialect, SqliteDialect};
use trigorm::{ColumnSet, Model, Value};

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
    #[trigorm(default = 0)]
    likes: i64,
}

#[test]
fn writes_by_key() {
    let d = SqliteDialect;
    let t = User::table();
    assert_eq!(
        d.insert(t, false),
        r#"INSERT INTO "users" ("name", "email") VALUES (?, ?)"#
    );
    assert_eq!(
        d.insert(t, true),
        r#"INSERT INTO "users" ("id", "name", "email") VALUES (?, ?, ?)"#
    );
    let mut only_email = ColumnSet::EMPTY;
    only_email.insert(2);
    assert_eq!(
        d.update(t, only_email),
        r#"UPDATE "users" SET "email" = ? WHERE "id" = ?"#
    );
    assert_eq!(d.delete(t), r#"DELETE FROM "users" WHERE "id" = ?"#);
    assert_eq!(
        d.select_by_key(t, false),
        r#"SELECT "id", "name", "email" FROM "users" WHERE "id" = ?"#
    );
    // SQLite locks the database, not rows: no FOR UPDATE, which it would not parse.
    assert_eq!(d.select_by_key(t, true), d.select_by_key(t, false));
}

/// Statements of many rows, for a table with triggers (where SQLite batches).
#[test]
fn sqlite_writes_many_rows_with_a_placeholder_per_value() {
    let d = SqliteDialect;
    let t = User::table();
    let caps = d.capabilities();
    assert!(!caps.batches && caps.batches_tables_with_triggers && caps.sized_batches);
    assert_eq!(
        d.insert_many(t, false, 2).unwrap(),
        r#"INSERT INTO "users" ("name", "email") VALUES (?, ?), (?, ?) RETURNING "id""#
    );
    assert_eq!(
        d.insert_many(t, true, 2).unwrap(),
        r#"INSERT INTO "users" ("id", "name", "email") VALUES (?, ?, ?), (?, ?, ?)"#
    );
    let mut only_email = ColumnSet::EMPTY;
    only_email.insert(2);
    assert_eq!(
        d.update_many(t, only_email, 2).unwrap(),
        r#"UPDATE "users" SET "email" = "~v"."column1" FROM (VALUES (?, ?), (?, ?)) AS "~v" WHERE "users"."id" = "~v"."column2""#
    );
    assert_eq!(
        d.delete_many(t, 3).unwrap(),
        r#"DELETE FROM "users" WHERE "id" IN (?, ?, ?) RETURNING "id""#
    );
    assert_eq!(
        d.select_many_locked(t, 2).unwrap(),
        r#"SELECT "id", "name", "email" FROM "users" WHERE "id" IN (?, ?) ORDER BY "id""#
    );
    assert!(d.insert_many(t, false, 0).is_none() && d.update_many(t, ColumnSet::EMPTY, 2).is_none());
    assert!(d.table_triggers().unwrap().contains("sqlite_master"));
    assert!(PostgresDialect.table_triggers().is_none());
    // Past the largest integer SQLite picks keys at random: the session reads the largest
    // first.
    assert!(caps.random_keys_when_full && !PostgresDialect.capabilities().random_keys_when_full);
    assert_eq!(d.largest_key(t).unwrap(), r#"SELECT max("id") FROM "users""#);
    assert!(PostgresDialect.largest_key(t).is_none());
}

#[test]
fn select_binds_every_value_in_placeholder_order() {
    let d = SqliteDialect;
    let select = Select {
        filter: Some(
            col("id")
                .gt(10)
                .and(col("name").like("J%").or(col("email").is_null()))
                .and(!col("id").is_in([1, 2])),
        ),
        order: vec![col("name").asc(), col("id").desc()],
        limit: Some(5),
        offset: Some(20),
    };
    let st = d.select(User::table(), &select, false).unwrap();
    assert_eq!(
        st.sql,
        r#"SELECT "id", "name", "email" FROM "users" WHERE "id" > ? AND ("name" LIKE ? OR "email" IS NULL) AND (NOT "id" IN (?, ?)) ORDER BY "name" ASC, "id" DESC LIMIT ? OFFSET ?"#
    );
    assert_eq!(
        st.values,
        vec![
            Value::Int(10),
            Value::from("J%"),
            Value::Int(1),
            Value::Int(2),
            Value::Int(5),
            Value::Int(20)
        ]
    );
}

#[test]
fn hostile_values_stay_out_of_the_sql() {
    let d = SqliteDialect;
    let evil = "x'); DROP TABLE users; --";
    let st = d
        .select(
            User::table(),
            &Select {
                filter: Some(col("name").eq(evil)),
                ..Select::default()
            },
            false,
        )
        .unwrap();
    assert!(!st.sql.contains("DROP"), "{}", st.sql);
    assert_eq!(st.values, vec![Value::from(evil)]);
}

#[test]
fn unknown_columns_are_refused() {
    let d = SqliteDialect;
    let err = d
        .count(User::table(), &col("name; DROP TABLE users").eq(1))
        .unwrap_err();
    assert!(
        matches!(err, trigorm::Error::UnknownColumn { model: "User", .. }),
        "{err}"
    );
}

#[test]
fn empty_in_matches_nothing_and_count_renders() {
    let d = SqliteDialect;
    let st = d.count(User::table(), &col("id").is_in(Vec::<i64>::new())).unwrap();
    assert_eq!(st.sql, r#"SELECT COUNT(*) FROM "users" WHERE 1 = 0"#);
    assert!(st.values.is_empty());
}

#[test]
fn create_table_with_keys_defaults_and_indexes() {
    let d = SqliteDialect;
    assert_eq!(
        d.create_table(User::table()).unwrap(),
        vec![
            r#"CREATE TABLE IF NOT EXISTS "users" ( "id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL UNIQUE, "email" TEXT )"#
        ]
    );
    assert_eq!(
        d.create_table(Post::table()).unwrap(),
        vec![
            r#"CREATE TABLE IF NOT EXISTS "post" ( "id" INTEGER NOT NULL PRIMARY KEY, "author_id" INTEGER NOT NULL, "state" TEXT NOT NULL DEFAULT 'draft', "likes" INTEGER NOT NULL DEFAULT 0, FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE CASCADE )"#,
            r#"CREATE INDEX IF NOT EXISTS "idx_post_author_id" ON "post" ("author_id")"#
        ]
    );
}

#[test]
fn postgres_writes_by_key_with_numbered_placeholders_and_returning() {
    let d = PostgresDialect;
    let t = User::table();
    assert_eq!(
        d.insert(t, false),
        r#"INSERT INTO "users" ("name", "email") VALUES ($1, $2) RETURNING "id""#
    );
    // A key given by the caller is not asked back.
    assert_eq!(
        d.insert(t, true),
        r#"INSERT INTO "users" ("id", "name", "email") VALUES ($1, $2, $3)"#
    );
    let mut only_email = ColumnSet::EMPTY;
    only_email.insert(2);
    assert_eq!(
        d.update(t, only_email),
        r#"UPDATE "users" SET "email" = $1 WHERE "id" = $2"#
    );
    assert_eq!(d.delete(t), r#"DELETE FROM "users" WHERE "id" = $1"#);
    assert_eq!(
        d.select_by_key(t, false),
        r#"SELECT "id", "name", "email" FROM "users" WHERE "id" = $1"#
    );
    assert_eq!(
        d.select_by_key(t, true),
        r#"SELECT "id", "name", "email" FROM "users" WHERE "id" = $1 FOR UPDATE"#
    );
}

#[test]
fn postgres_bulk_reads_lock_what_they_will_write() {
    let d = PostgresDialect;
    let select = Select {
        filter: Some(col("name").eq("a").and(col("email").eq(Value::Null))),
        ..Select::default()
    };
    let st = d.select(User::table(), &select, true).unwrap();
    assert_eq!(
        st.sql,
        r#"SELECT "id", "name", "email" FROM "users" WHERE "name" = $1 AND "email" IS NULL FOR UPDATE"#
    );
    assert_eq!(st.values, vec![Value::from("a")]);
}

#[test]
fn postgres_create_table_with_identity_keys_and_native_types() {
    let d = PostgresDialect;
    assert_eq!(
        d.create_table(Post::table()).unwrap(),
        vec![
            r#"CREATE TABLE IF NOT EXISTS "post" ( "id" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL PRIMARY KEY, "author_id" BIGINT NOT NULL, "state" TEXT NOT NULL DEFAULT 'draft', "likes" BIGINT NOT NULL DEFAULT 0, FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON DELETE CASCADE )"#,
            r#"CREATE INDEX IF NOT EXISTS "idx_post_author_id" ON "post" ("author_id")"#
        ]
    );
    assert!(d.capabilities().returning && d.capabilities().row_locks);
}

#[test]
fn mariadb_writes_by_key_with_backquotes_and_question_marks() {
    let d = MysqlDialect::mariadb();
    let t = User::table();
    // One row's generated key comes back as the statement's insert id.
    assert_eq!(
        d.insert(t, false),
        "INSERT INTO `users` (`name`, `email`) VALUES (?, ?)"
    );
    assert_eq!(
        d.insert(t, true),
        "INSERT INTO `users` (`id`, `name`, `email`) VALUES (?, ?, ?)"
    );
    let mut only_email = ColumnSet::EMPTY;
    only_email.insert(2);
    assert_eq!(d.update(t, only_email), "UPDATE `users` SET `email` = ? WHERE `id` = ?");
    assert_eq!(d.delete(t), "DELETE FROM `users` WHERE `id` = ?");
    assert_eq!(
        d.select_by_key(t, false),
        "SELECT `id`, `name`, `email` FROM `users` WHERE `id` = ?"
    );
    assert_eq!(
        d.select_by_key(t, true),
        "SELECT `id`, `name`, `email` FROM `users` WHERE `id` = ? FOR UPDATE"
    );
}

#[test]
fn mariadb_bulk_reads_lock_what_they_will_write() {
    let d = MysqlDialect::mariadb();
    let select = Select {
        filter: Some(col("name").eq("a").and(col("email").eq(Value::Null))),
        ..Select::default()
    };
    let st = d.select(User::table(), &select, true).unwrap();
    assert_eq!(
        st.sql,
        "SELECT `id`, `name`, `email` FROM `users` WHERE `name` = ? AND `email` IS NULL FOR UPDATE"
    );
    assert_eq!(st.values, vec![Value::from("a")]);
}

#[test]
fn mariadb_create_table_with_indexes_inside_and_innodb_options() {
    // Text that is unique or indexed is VARCHAR(255) (InnoDB indexes a bounded prefix),
    // other text LONGTEXT; indexes go inside the CREATE TABLE; tables are InnoDB, in
    // utf8mb4 with a binary collation that pads nothing.
    let d = MysqlDialect::mariadb();
    assert_eq!(
        d.create_table(User::table()).unwrap(),
        vec![
            "CREATE TABLE IF NOT EXISTS `users` ( `id` BIGINT AUTO_INCREMENT NOT NULL PRIMARY KEY, `name` VARCHAR(255) NOT NULL UNIQUE, `email` LONGTEXT ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"
        ]
    );
    assert_eq!(
        d.create_table(Post::table()).unwrap(),
        vec![
            "CREATE TABLE IF NOT EXISTS `post` ( `id` BIGINT AUTO_INCREMENT NOT NULL PRIMARY KEY, `author_id` BIGINT NOT NULL, `state` LONGTEXT NOT NULL DEFAULT 'draft', `likes` BIGINT NOT NULL DEFAULT 0, KEY `idx_post_author_id` (`author_id`), CONSTRAINT  FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE CASCADE ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin"
        ]
    );
    let caps = d.capabilities();
    assert!(caps.returning && !caps.update_returning && caps.row_locks && caps.batches);
}
