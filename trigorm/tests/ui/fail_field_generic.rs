use trigorm::Field;

#[derive(Field, Clone, PartialEq)]
enum Level<const N: usize> {
    Low,
    High,
}

#[derive(Field, Clone, PartialEq)]
enum Kind<T> {
    A,
    B(std::marker::PhantomData<T>),
}

#[derive(Field, Clone, PartialEq)]
enum Bounded
where
    i64: Copy,
{
    Low,
    High,
}

fn main() {}
