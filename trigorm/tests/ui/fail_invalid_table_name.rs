use trigorm::Model;

#[derive(Model, Clone)]
#[trigorm(table = "users; drop")]
struct User {
    id: i64,
}

#[derive(Model, Clone)]
#[trigorm(table = "a_table_name_that_is_much_longer_than_the_sixty_three_bytes_allowed")]
struct Long {
    id: i64,
}

#[derive(Model, Clone)]
struct Café {
    id: i64,
}

fn main() {}
