use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
enum ChangeType {
    Insert,
    #[trigorm(rename = "Insert")]
    Add,
}

#[derive(Field, Clone, PartialEq)]
#[trigorm(rename_all = "snake_case")]
enum Protocol {
    HttpRequest,
    HTTPRequest,
}

fn main() {}
