use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: Option<i64>,
}

#[derive(Model, Clone)]
struct Tag {
    #[trigorm(primary_key, natural)]
    name: std::option::Option<String>,
}

type MaybeKey = Option<i64>;

#[derive(Model, Clone)]
struct Aliased {
    id: MaybeKey,
}

fn main() {}
