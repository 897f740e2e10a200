use trigorm::Model;

#[derive(Model, Clone)]
struct Membership {
    #[trigorm(primary_key)]
    user_id: i64,
    #[trigorm(primary_key)]
    group_id: i64,
}

fn main() {}
