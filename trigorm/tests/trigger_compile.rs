//! The compilers per backend, as exact SQL, without a database (the scenario suites run
//! the same declarations on the real ones). The fingerprint, a hash of this SQL, is shown
//! as `{fp}`.
use trigorm::backend::Backend;
use trigorm::trigger::{compile, compile_among, new, old, CustomBodies, Ops, Timing, TriggerDef};
use trigorm::{Error, Model};

#[derive(Model, Clone, Debug)]
#[trigorm(table = "doc")]
struct Doc {
    id: i64,
    title: String,
    state: String,
    touched: chrono::DateTime<chrono::Utc>,
    rev: i64,
    gone: bool,
}

fn declarations() -> Vec<TriggerDef> {
    let t = Doc::table();
    let bodies = CustomBodies {
        sqlite: Some("SELECT 1;".into()),
        postgres: Some("RETURN NULL;".into()),
        mysql: Some("DO 1;".into()),
    };
    vec![
        TriggerDef::protect("keep", t, Ops::UPDATE | Ops::DELETE),
        TriggerDef::read_only("fixed", t, [Doc::TITLE.name()]).when(new(Doc::STATE).ne("draft")),
        TriggerDef::transitions("flow", t, Doc::STATE, [("a".to_string(), "b".to_string())]),
        TriggerDef::updated_at("stamp", t, Doc::TOUCHED),
        TriggerDef::version("bump", t, Doc::REV),
        TriggerDef::soft_delete("soft", t, Doc::GONE, true),
        // A hostile literal: a quote and a backslash, escaped per dialect.
        TriggerDef::custom("note", t, Timing::After, Ops::UPDATE | Ops::DELETE, bodies)
            .when(old(Doc::TITLE).eq("it's \\ x").or(old(Doc::REV).gt(3)).not()),
    ]
}

/// The statements that create `def` on `backend`, the fingerprint shown as `{fp}`.
fn sql(def: &TriggerDef, backend: Backend) -> Vec<String> {
    let c = compile(def, backend).unwrap_or_else(|e| panic!("{} on {backend:?}: {e}", def.name));
    assert_eq!(c.fingerprint.len(), 16, "{}", c.fingerprint);
    c.create.iter().map(|s| s.replace(&c.fingerprint, "{fp}")).collect()
}

const EXPECTED: &[(Backend, &str, &[&str])] = &[
    (
        Backend::Sqlite,
        "keep",
        &[
            r#"CREATE TRIGGER "trigorm_doc_keep_update" BEFORE UPDATE ON "doc" FOR EACH ROW BEGIN /* trigorm:{fp} */ SELECT RAISE(ABORT, 'trigorm:trigorm_doc_keep_update:doc: update refused'); END"#,
            r#"CREATE TRIGGER "trigorm_doc_keep_delete" BEFORE DELETE ON "doc" FOR EACH ROW BEGIN /* trigorm:{fp} */ SELECT RAISE(ABORT, 'trigorm:trigorm_doc_keep_delete:doc: delete refused'); END"#,
        ],
    ),
    (
        Backend::Sqlite,
        "fixed",
        &[
            r#"CREATE TRIGGER "trigorm_doc_fixed_update" BEFORE UPDATE ON "doc" FOR EACH ROW WHEN ((OLD."title" IS NOT NEW."title") AND NEW."state" <> 'draft') BEGIN /* trigorm:{fp} */ SELECT RAISE(ABORT, 'trigorm:trigorm_doc_fixed_update:doc: update a read-only column changed'); END"#,
        ],
    ),
    (
        Backend::Sqlite,
        "flow",
        &[
            r#"CREATE TRIGGER "trigorm_doc_flow_update" BEFORE UPDATE ON "doc" FOR EACH ROW WHEN (OLD."state" IS NOT NEW."state" AND NOT (((OLD."state" = 'a' AND NOT (OLD."state" IS NULL) AND (NEW."state" = 'b' AND NOT (NEW."state" IS NULL)))))) BEGIN /* trigorm:{fp} */ SELECT RAISE(ABORT, 'trigorm:trigorm_doc_flow_update:doc: update a transition that is not allowed'); END"#,
        ],
    ),
    (
        Backend::Sqlite,
        "stamp",
        &[
            r#"CREATE TRIGGER "trigorm_doc_stamp_update" AFTER UPDATE OF "id", "title", "state", "rev", "gone" ON "doc" FOR EACH ROW BEGIN /* trigorm:{fp} */ UPDATE "doc" SET "touched" = strftime('%Y-%m-%d %H:%M:%f', 'now') || '000000+00:00' WHERE "id" = NEW."id"; END"#,
        ],
    ),
    (
        Backend::Sqlite,
        "bump",
        &[
            r#"CREATE TRIGGER "trigorm_doc_bump_update" AFTER UPDATE OF "id", "title", "state", "touched", "gone" ON "doc" FOR EACH ROW WHEN NOT (OLD."rev" IS NOT NEW."rev") BEGIN /* trigorm:{fp} */ UPDATE "doc" SET "rev" = OLD."rev" + 1 WHERE "id" = NEW."id"; END"#,
        ],
    ),
    (
        Backend::Sqlite,
        "soft",
        &[
            r#"CREATE TRIGGER "trigorm_doc_soft_delete" BEFORE DELETE ON "doc" FOR EACH ROW BEGIN /* trigorm:{fp} */ UPDATE "doc" SET "gone" = 1 WHERE "id" = OLD."id"; SELECT RAISE(IGNORE); END"#,
        ],
    ),
    (
        Backend::Sqlite,
        "note",
        &[
            r#"CREATE TRIGGER "trigorm_doc_note_update" AFTER UPDATE ON "doc" FOR EACH ROW WHEN NOT ((OLD."title" = 'it''s \ x' OR OLD."rev" > 3)) BEGIN /* trigorm:{fp} */ SELECT 1; END"#,
            r#"CREATE TRIGGER "trigorm_doc_note_delete" AFTER DELETE ON "doc" FOR EACH ROW WHEN NOT ((OLD."title" = 'it''s \ x' OR OLD."rev" > 3)) BEGIN /* trigorm:{fp} */ SELECT 1; END"#,
        ],
    ),
    (
        Backend::Postgres,
        "keep",
        &[
            r#"CREATE OR REPLACE FUNCTION "trigorm_doc_keep_fn"() RETURNS trigger LANGUAGE plpgsql AS $trigorm$ BEGIN IF position(',trigorm_doc_keep,' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; RAISE EXCEPTION USING ERRCODE = 'TG001', MESSAGE = 'trigorm:trigorm_doc_keep:doc: ' || lower(TG_OP) || ' refused'; RETURN NULL; END $trigorm$"#,
            r#"CREATE TRIGGER "trigorm_doc_keep" BEFORE UPDATE OR DELETE ON "doc" FOR EACH ROW EXECUTE FUNCTION "trigorm_doc_keep_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_keep" ON "doc" IS 'trigorm:{fp}'"#,
            r#"CREATE TRIGGER "trigorm_doc_keep_truncate" BEFORE TRUNCATE ON "doc" FOR EACH STATEMENT EXECUTE FUNCTION "trigorm_doc_keep_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_keep_truncate" ON "doc" IS 'trigorm:{fp}'"#,
        ],
    ),
    (
        Backend::Postgres,
        "fixed",
        &[
            r#"CREATE OR REPLACE FUNCTION "trigorm_doc_fixed_fn"() RETURNS trigger LANGUAGE plpgsql AS $trigorm$ BEGIN IF position(',trigorm_doc_fixed,' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; RAISE EXCEPTION USING ERRCODE = 'TG001', MESSAGE = 'trigorm:trigorm_doc_fixed:doc: ' || lower(TG_OP) || ' a read-only column changed'; RETURN NULL; END $trigorm$"#,
            r#"CREATE TRIGGER "trigorm_doc_fixed" BEFORE UPDATE ON "doc" FOR EACH ROW WHEN (((OLD."title" IS DISTINCT FROM NEW."title") AND NEW."state" <> E'draft')) EXECUTE FUNCTION "trigorm_doc_fixed_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_fixed" ON "doc" IS 'trigorm:{fp}'"#,
        ],
    ),
    (
        Backend::Postgres,
        "flow",
        &[
            r#"CREATE OR REPLACE FUNCTION "trigorm_doc_flow_fn"() RETURNS trigger LANGUAGE plpgsql AS $trigorm$ BEGIN IF position(',trigorm_doc_flow,' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; RAISE EXCEPTION USING ERRCODE = 'TG001', MESSAGE = 'trigorm:trigorm_doc_flow:doc: ' || lower(TG_OP) || ' a transition that is not allowed'; RETURN NULL; END $trigorm$"#,
            r#"CREATE TRIGGER "trigorm_doc_flow" BEFORE UPDATE ON "doc" FOR EACH ROW WHEN ((OLD."state" IS DISTINCT FROM NEW."state" AND NOT (((OLD."state" = E'a' AND NOT (OLD."state" IS NULL) AND (NEW."state" = E'b' AND NOT (NEW."state" IS NULL))))))) EXECUTE FUNCTION "trigorm_doc_flow_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_flow" ON "doc" IS 'trigorm:{fp}'"#,
        ],
    ),
    (
        Backend::Postgres,
        "stamp",
        &[
            r#"CREATE OR REPLACE FUNCTION "trigorm_doc_stamp_fn"() RETURNS trigger LANGUAGE plpgsql AS $trigorm$ BEGIN IF position(',trigorm_doc_stamp,' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; NEW."touched" := now(); RETURN NEW; END $trigorm$"#,
            r#"CREATE TRIGGER "trigorm_doc_stamp" BEFORE UPDATE ON "doc" FOR EACH ROW EXECUTE FUNCTION "trigorm_doc_stamp_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_stamp" ON "doc" IS 'trigorm:{fp}'"#,
        ],
    ),
    (
        Backend::Postgres,
        "bump",
        &[
            r#"CREATE OR REPLACE FUNCTION "trigorm_doc_bump_fn"() RETURNS trigger LANGUAGE plpgsql AS $trigorm$ BEGIN IF position(',trigorm_doc_bump,' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; NEW."rev" := OLD."rev" + 1; RETURN NEW; END $trigorm$"#,
            r#"CREATE TRIGGER "trigorm_doc_bump" BEFORE UPDATE ON "doc" FOR EACH ROW WHEN (NOT (OLD."rev" IS DISTINCT FROM NEW."rev")) EXECUTE FUNCTION "trigorm_doc_bump_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_bump" ON "doc" IS 'trigorm:{fp}'"#,
        ],
    ),
    (
        Backend::Postgres,
        "soft",
        &[
            r#"CREATE OR REPLACE FUNCTION "trigorm_doc_soft_fn"() RETURNS trigger LANGUAGE plpgsql AS $trigorm$ BEGIN IF position(',trigorm_doc_soft,' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; UPDATE "doc" SET "gone" = TRUE WHERE "id" = OLD."id"; RETURN NULL; END $trigorm$"#,
            r#"CREATE TRIGGER "trigorm_doc_soft" BEFORE DELETE ON "doc" FOR EACH ROW EXECUTE FUNCTION "trigorm_doc_soft_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_soft" ON "doc" IS 'trigorm:{fp}'"#,
        ],
    ),
    (
        Backend::Postgres,
        "note",
        &[
            r#"CREATE OR REPLACE FUNCTION "trigorm_doc_note_fn"() RETURNS trigger LANGUAGE plpgsql AS $trigorm$ BEGIN IF position(',trigorm_doc_note,' in coalesce(current_setting('trigorm.ignore', true), '')) > 0 THEN IF TG_LEVEL = 'STATEMENT' OR TG_WHEN = 'AFTER' THEN RETURN NULL; END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; RETURN NULL; END $trigorm$"#,
            r#"CREATE TRIGGER "trigorm_doc_note" AFTER UPDATE OR DELETE ON "doc" FOR EACH ROW WHEN (NOT ((OLD."title" = E'it''s \\ x' OR OLD."rev" > 3))) EXECUTE FUNCTION "trigorm_doc_note_fn"()"#,
            r#"COMMENT ON TRIGGER "trigorm_doc_note" ON "doc" IS 'trigorm:{fp}'"#,
        ],
    ),
    (
        Backend::Mysql,
        "keep",
        &[
            r#"CREATE TRIGGER `trigorm_doc_keep_update` BEFORE UPDATE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_keep', COALESCE(@trigorm_ignore, '')) = 0 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trigorm:trigorm_doc_keep_update:doc: update refused'; END IF; END"#,
            r#"CREATE TRIGGER `trigorm_doc_keep_delete` BEFORE DELETE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_keep', COALESCE(@trigorm_ignore, '')) = 0 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trigorm:trigorm_doc_keep_delete:doc: delete refused'; END IF; END"#,
        ],
    ),
    (
        Backend::Mysql,
        "fixed",
        &[
            r#"CREATE TRIGGER `trigorm_doc_fixed_update` BEFORE UPDATE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_fixed', COALESCE(@trigorm_ignore, '')) = 0 AND (((NOT (OLD.`title` <=> NEW.`title`)) AND NEW.`state` <> 'draft')) THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trigorm:trigorm_doc_fixed_update:doc: update a read-only column changed'; END IF; END"#,
        ],
    ),
    (
        Backend::Mysql,
        "flow",
        &[
            r#"CREATE TRIGGER `trigorm_doc_flow_update` BEFORE UPDATE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_flow', COALESCE(@trigorm_ignore, '')) = 0 AND ((NOT (OLD.`state` <=> NEW.`state`) AND NOT (((OLD.`state` = 'a' AND NOT (OLD.`state` IS NULL) AND (NEW.`state` = 'b' AND NOT (NEW.`state` IS NULL))))))) THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trigorm:trigorm_doc_flow_update:doc: update a transition that is not allowed'; END IF; END"#,
        ],
    ),
    (
        Backend::Mysql,
        "stamp",
        &[
            r#"CREATE TRIGGER `trigorm_doc_stamp_update` BEFORE UPDATE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_stamp', COALESCE(@trigorm_ignore, '')) = 0 THEN SET NEW.`touched` = UTC_TIMESTAMP(6); END IF; END"#,
        ],
    ),
    (
        Backend::Mysql,
        "bump",
        &[
            r#"CREATE TRIGGER `trigorm_doc_bump_update` BEFORE UPDATE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_bump', COALESCE(@trigorm_ignore, '')) = 0 AND (NOT (NOT (OLD.`rev` <=> NEW.`rev`))) THEN SET NEW.`rev` = OLD.`rev` + 1; END IF; END"#,
        ],
    ),
    (
        Backend::Mysql,
        "note",
        &[
            r#"CREATE TRIGGER `trigorm_doc_note_update` AFTER UPDATE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_note', COALESCE(@trigorm_ignore, '')) = 0 AND (NOT ((OLD.`title` = 'it''s \\ x' OR OLD.`rev` > 3))) THEN DO 1; END IF; END"#,
            r#"CREATE TRIGGER `trigorm_doc_note_delete` AFTER DELETE ON `doc` FOR EACH ROW BEGIN /* trigorm:{fp} */ IF FIND_IN_SET('trigorm_doc_note', COALESCE(@trigorm_ignore, '')) = 0 AND (NOT ((OLD.`title` = 'it''s \\ x' OR OLD.`rev` > 3))) THEN DO 1; END IF; END"#,
        ],
    ),
];

#[test]
fn every_kind_compiles_to_this_sql_on_each_backend() {
    let defs = declarations();
    for (backend, name, expected) in EXPECTED {
        let def = defs.iter().find(|d| d.name == *name).unwrap();
        assert_eq!(sql(def, *backend), *expected, "{name} on {backend:?}");
    }
    // Every declaration is covered on every backend (soft delete on MariaDB is refused).
    assert_eq!(EXPECTED.len(), defs.len() * 3 - 1);
}

#[test]
fn what_a_backend_cannot_express_is_refused_naming_it() {
    let defs = declarations();
    let soft = defs.iter().find(|d| d.name == "soft").unwrap();
    let err = compile(soft, Backend::Mysql).unwrap_err();
    assert!(
        matches!(&err, Error::Unsupported { backend: "MariaDB/MySQL", feature } if feature.contains("\"soft\" on doc")),
        "{err:?}"
    );
    let instead = TriggerDef::custom(
        "view_only",
        Doc::table(),
        Timing::InsteadOf,
        Ops::INSERT,
        CustomBodies {
            sqlite: Some("SELECT 1;".into()),
            postgres: Some("RETURN NULL;".into()),
            mysql: Some("DO 1;".into()),
        },
    );
    // INSTEAD OF (on a view described with a `TableDef`): SQLite and PostgreSQL have it,
    // PostgreSQL without a condition; MariaDB/MySQL not at all.
    assert!(compile(&instead, Backend::Sqlite).unwrap().create[0].contains("INSTEAD OF INSERT ON \"doc\""));
    assert!(compile(&instead, Backend::Postgres).unwrap().create[1].contains("INSTEAD OF INSERT ON \"doc\""));
    let err = compile(&instead, Backend::Mysql).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    let conditional = instead.when(new(Doc::STATE).eq("x"));
    let err = compile(&conditional, Backend::Postgres).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unsupported {
                backend: "PostgreSQL",
                ..
            }
        ),
        "{err:?}"
    );
    compile(&conditional, Backend::Sqlite).unwrap();
}

#[test]
fn the_fingerprint_follows_the_sql() {
    let defs = declarations();
    let keep = &defs[0];
    let a = compile(keep, Backend::Sqlite).unwrap();
    assert_eq!(
        a.fingerprint,
        compile(keep, Backend::Sqlite).unwrap().fingerprint,
        "stable"
    );
    let other = TriggerDef::protect("keep", Doc::table(), Ops::DELETE);
    assert_ne!(a.fingerprint, compile(&other, Backend::Sqlite).unwrap().fingerprint);
    assert_ne!(a.fingerprint, compile(keep, Backend::Postgres).unwrap().fingerprint);
}

#[test]
fn sqlite_stamps_and_bumps_without_setting_each_other_off() {
    let defs = declarations();
    let pair = [defs[3].clone(), defs[4].clone()];
    let stamp = compile_among(&pair[0], Backend::Sqlite, &pair).unwrap();
    let bump = compile_among(&pair[1], Backend::Sqlite, &pair).unwrap();
    assert!(
        stamp.create[0].contains(r#"AFTER UPDATE OF "id", "title", "state", "gone" ON "doc""#),
        "{}",
        stamp.create[0]
    );
    assert!(
        bump.create[0].contains(r#"AFTER UPDATE OF "id", "title", "state", "gone" ON "doc""#),
        "{}",
        bump.create[0]
    );
}

/// A literal a backend cannot write into a trigger (text with a NUL, in a condition or a
/// transition's state) is refused with an error naming the model, the trigger and the part.
#[test]
fn an_unwritable_literal_is_refused_naming_the_trigger() {
    let t = Doc::table();
    let conditional = TriggerDef::protect("keep", t, Ops::UPDATE).when(new(Doc::STATE).eq("a\0b"));
    let flow = TriggerDef::transitions("flow", t, Doc::STATE, [("a".to_string(), "b\0".to_string())]);
    for (def, part) in [(&conditional, "its condition"), (&flow, "its condition")] {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            let err = compile(def, backend).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidTrigger { model: "Doc", trigger, reason }
                    if *trigger == def.name && reason.starts_with(part) && reason.contains("NUL")),
                "{backend:?}: {err:?}"
            );
        }
    }
}

/// A PostgreSQL body that holds the dollar quote trigorm uses is quoted with another.
#[test]
fn a_postgres_body_holding_the_dollar_quote_gets_another() {
    let def = TriggerDef::custom(
        "odd",
        Doc::table(),
        Timing::After,
        Ops::INSERT,
        CustomBodies {
            postgres: Some("RAISE NOTICE '$trigorm$'; RETURN NULL;".into()),
            ..Default::default()
        },
    );
    let function = &compile(&def, Backend::Postgres).unwrap().create[0];
    assert!(
        function.contains("AS $trigorm1$ BEGIN ") && function.ends_with(" END $trigorm1$"),
        "{function}"
    );
}
