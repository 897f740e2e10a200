// In an `update_where` assignment, a misspelt column and a value of another type do not
// compile.
use trigorm::Model;

#[derive(Model, Clone, Debug)]
struct User {
    id: i64,
    name: String,
}

fn rename(s: &mut trigorm::Session) -> trigorm::Result<u64> {
    s.update_where::<User>(User::ID.eq(1), &[User::NAME.to(5)])?;
    s.update_where::<User>(User::ID.eq(1), &[User::NAEM.to("x")])
}

fn main() {}
