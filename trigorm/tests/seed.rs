//! The seed scenario end to end.
mod common;
use common::*;

on_each_db!(update_and_its_log_row_commit_together, |db: Db| {
    let engine = audited(&db.url).build().unwrap();
    engine.create_all().unwrap();
    let mut s = engine.session().unwrap();
    let u = s.insert(User::new("Jane")).unwrap();
    s.commit().unwrap();
    let mut u = s.get::<User>(u.id).unwrap().unwrap();
    u.name = "John Doe".into();
    s.update(&u).unwrap();
    s.commit().unwrap();
    let logs = s.query::<Log>().all().unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[1].change_type, "update");
    assert_eq!(logs[1].old_name.as_deref(), Some("Jane"));
    assert_eq!(logs[1].new_name.as_deref(), Some("John Doe"));
    assert_eq!(logs[1].user_id, u.id);
});
