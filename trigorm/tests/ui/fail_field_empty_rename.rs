use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
enum ChangeType {
    Insert,
    #[trigorm(rename = "")]
    Delete,
}

fn main() {}
