use trigorm::Model;

#[derive(Model, Clone)]
struct User {
    id: i64,
    email: String,
    #[trigorm(column = "email")]
    backup_email: String,
    #[trigorm(column = "ID")]
    legacy_id: i64,
}

fn main() {}
