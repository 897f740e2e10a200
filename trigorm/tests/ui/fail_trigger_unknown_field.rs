// A trigger naming a field the model lacks does not compile; the error points at it.
use trigorm::Model;

#[derive(Model, Clone, Debug)]
#[trigorm(read_only(name = "fixed", columns(number, creatd_at)), updated_at(column = touched))]
struct Invoice {
    id: i64,
    number: String,
    created_at: i64,
}

fn main() {}
