use trigorm::Model;

#[derive(Model, Clone)]
#[trigorm(tabel = "users")]
struct User {
    id: i64,
}

#[derive(Model, Clone)]
struct Post {
    id: i64,
    #[trigorm(unique, nullable)]
    slug: String,
}

fn main() {}
