use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: i64,
}

#[derive(Model, Clone)]
struct Post {
    id: i64,
    #[trigorm(references = User, on_delete = "set_null")]
    author_id: i64,
}

fn main() {}
