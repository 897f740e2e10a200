use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: i64,
    #[trigorm(unique = true)]
    name: String,
}

fn main() {}
