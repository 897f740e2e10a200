use trigorm::Model;

#[derive(Model, Clone)]
struct Pair(i64, String);

fn main() {}
