use trigorm::Model;

#[derive(Model, Clone)]
struct Marker;

fn main() {}
