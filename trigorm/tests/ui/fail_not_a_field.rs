use trigorm::Model;

#[derive(Clone, PartialEq)]
struct Money(i64);

#[derive(Model, Clone)]
struct Order {
    id: i64,
    total: Money,
}

#[derive(Model, Clone)]
struct Line {
    id: i64,
    #[trigorm(references = String)]
    order_id: i64,
}

fn main() {}
