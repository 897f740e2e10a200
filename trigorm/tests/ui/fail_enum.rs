use trigorm::Model;

#[derive(Model, Clone)]
enum Status {
    Active,
    Retired,
}

#[derive(Model, Clone, Copy)]
union Bits {
    id: i64,
}

fn main() {}
