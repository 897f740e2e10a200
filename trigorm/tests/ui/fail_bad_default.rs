use trigorm::Model;

#[derive(Model, Clone)]
struct A {
    id: i64,
    #[trigorm(default = now())]
    created: String,
}

#[derive(Model, Clone)]
struct B {
    id: i64,
    #[trigorm(default = -"x")]
    name: String,
}

#[derive(Model, Clone)]
struct C {
    id: i64,
    #[trigorm(default = b"bytes")]
    data: Vec<u8>,
}

#[derive(Model, Clone)]
struct D {
    id: i64,
    #[trigorm(default = 9223372036854775808)]
    big: i64,
}

#[derive(Model, Clone)]
struct E {
    id: i64,
    #[trigorm(default = SOME_CONST)]
    n: i64,
}

fn main() {}
