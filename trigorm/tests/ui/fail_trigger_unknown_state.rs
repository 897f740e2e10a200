// A transition naming a state its enum lacks does not compile.
use trigorm::{Field, Model};

#[derive(Field, Clone, Copy, Debug, PartialEq)]
enum Stage {
    Draft,
    Sent,
}

#[derive(Model, Clone, Debug)]
#[trigorm(transitions(column = stage, allow(Draft -> Sent, Sent -> Archived)))]
struct Invoice {
    id: i64,
    stage: Stage,
}

fn main() {}
