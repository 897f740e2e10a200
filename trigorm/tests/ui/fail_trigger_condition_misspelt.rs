// A misspelt column in a trigger condition does not compile, nor does a comparison with a
// value of another type.
use trigorm::trigger::{changed, new};
use trigorm::Model;

#[derive(Model, Clone, Debug)]
#[trigorm(protect(name = "big", update, when = changed(Self::AMOUT)))]
struct Invoice {
    id: i64,
    amount: i64,
}

#[derive(Model, Clone, Debug)]
#[trigorm(protect(name = "big", update, when = new(Self::AMOUNT).gt("many")))]
struct Order {
    id: i64,
    amount: i64,
}

fn main() {}
