// A listener of one model cannot ask about another model's column.
use trigorm::event::AfterUpdate;
use trigorm::{Engine, Model};

#[derive(Model, Clone, Debug)]
struct User {
    id: i64,
    name: String,
}

#[derive(Model, Clone, Debug)]
struct Post {
    id: i64,
    title: String,
}

fn main() {
    let _ = Engine::builder("sqlite::memory:").listen::<User>(AfterUpdate, |_ctx, change| {
        let _ = change.is_changed(Post::TITLE);
        Ok(())
    });
}
