use trigorm::Model;

#[derive(Model, Clone)]
struct Note {
    note_id: i64,
    text: String,
}

fn main() {}
