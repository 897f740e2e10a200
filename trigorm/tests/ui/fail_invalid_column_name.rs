use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: i64,
    #[trigorm(column = "user name")]
    name: String,
    #[trigorm(column = "1st")]
    first: String,
    #[trigorm(column = "")]
    empty: String,
    naïve: bool,
}

fn main() {}
