use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
struct Status {
    code: String,
}

#[derive(Field, Clone, PartialEq)]
struct Code(String);

#[derive(Field, Clone, Copy)]
union Bits {
    id: i64,
}

fn main() {}
