use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
enum Never {}

fn main() {}
