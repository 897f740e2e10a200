use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
#[trigorm(rename_all = "camelCase")]
enum Mode {
    ReadOnly,
    ReadWrite,
}

fn main() {}
