use trigorm::Model;

#[derive(Model, Clone)]
struct Wrapper<T: Clone> {
    id: i64,
    inner: T,
}

#[derive(Model, Clone)]
struct Borrowed<'a> {
    id: i64,
    name: &'a str,
}

fn main() {}
