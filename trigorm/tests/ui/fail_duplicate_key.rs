use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: i64,
    #[trigorm(unique, unique)]
    name: String,
    #[trigorm(column = "mail")]
    #[trigorm(column = "email")]
    email: String,
}

#[derive(Model, Clone)]
#[trigorm(table = "a")]
#[trigorm(table = "b")]
struct Post {
    id: i64,
}

fn main() {}
