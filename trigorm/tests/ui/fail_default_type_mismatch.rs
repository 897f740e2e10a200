use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: i64,
    #[trigorm(default = "zero")]
    karma: i64,
    #[trigorm(default = 1)]
    active: bool,
    #[trigorm(default = 0.5)]
    name: Option<String>,
}

fn main() {}
