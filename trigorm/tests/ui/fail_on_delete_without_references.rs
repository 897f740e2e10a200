use trigorm::Model;

#[derive(Model, Clone)]
struct Post {
    id: i64,
    #[trigorm(on_delete = "cascade")]
    author_id: i64,
}

fn main() {}
