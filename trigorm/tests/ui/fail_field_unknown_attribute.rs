use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
#[trigorm(table = "status")]
enum Status {
    Active,
}

#[derive(Field, Clone, PartialEq)]
#[trigorm(rename_all = "lowercase")]
enum Mode {
    Read,
    #[trigorm(rename_all = "UPPERCASE")]
    Write,
}

fn main() {}
