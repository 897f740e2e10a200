use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: i64,
    #[trigorm(natural)]
    email: String,
}

fn main() {}
