mod listeners;
mod workload;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
fn main() {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let s2 = seen.clone();
    let _ = std::fs::remove_file("/tmp/probe.db");
    let e = listeners::audited("sqlite:///tmp/probe.db").on_statement(move |q| { s2.lock().unwrap().insert(q.to_string()); }).build().unwrap();
    e.create_all().unwrap();
    drop(e);
    let t = listeners::run(std::path::Path::new("/tmp/probe2.db"), workload::Plan{rows: 4000, batch: 1000});
    println!("{t:?}");
    let e = listeners::audited("sqlite:///tmp/probe3.db").on_statement(move |q| { seen.lock().unwrap().insert(q.to_string()); }).build().unwrap();
    e.create_all().unwrap();
    let mut s = e.session().unwrap();
    s.add(listeners::User{id:0,name:"a".into(),email:"b".into(),created_at:chrono::Utc::now()});
    s.commit().unwrap();
    let mut us = s.query::<listeners::User>().filter(trigorm::query::col("id").gt(0).and(trigorm::query::col("id").le(10))).all().unwrap();
    us[0].name.push('x'); s.update(&us[0]).unwrap(); s.delete(&us[0]).unwrap(); s.commit().unwrap();
    drop(s); drop(e);
}
