use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
enum Shape {
    Point,
    Circle(f64),
    Rect { w: f64, h: f64 },
}

fn main() {}
