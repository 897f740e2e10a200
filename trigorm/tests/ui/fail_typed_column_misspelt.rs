// A misspelt column does not compile.
use trigorm::Model;

#[derive(Model, Clone, Debug)]
struct User {
    id: i64,
    name: String,
}

fn main() {
    let _ = User::NAEM.eq("x");
}
