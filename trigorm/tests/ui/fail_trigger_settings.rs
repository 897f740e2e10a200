// A trigger declaration missing what it needs, or two of one name, does not compile.
use trigorm::Model;

#[derive(Model, Clone, Debug)]
#[trigorm(protect(name = "keep"))]
struct A {
    id: i64,
}

#[derive(Model, Clone, Debug)]
#[trigorm(protect(name = "keep", delete), protect(name = "keep", update))]
struct B {
    id: i64,
}

#[derive(Model, Clone, Debug)]
#[trigorm(custom(after, insert))]
struct C {
    id: i64,
}

#[derive(Model, Clone, Debug)]
#[trigorm(protect(name = "bad;name", delete))]
struct D {
    id: i64,
}



#[derive(Model, Clone, Debug)]
#[trigorm(protect(name = "keep_delete", delete))]
struct E {
    id: i64,
}
fn main() {}
