//! The parameters of one row statement, gathered without allocating for the usual width.

use smallvec::SmallVec;

use crate::value::ValueRef;

/// How many parameters are kept on the stack; wider rows spill to the heap.
const INLINE: usize = 8;

/// A row statement's parameters: on the stack up to [`INLINE`] of them (a heap vector per
/// row costs more than the row's own binding).
pub(crate) struct Params<'a>(SmallVec<[ValueRef<'a>; INLINE]>);

impl<'a> Params<'a> {
    pub(crate) fn new() -> Self {
        Params(SmallVec::new())
    }

    pub(crate) fn push(&mut self, v: ValueRef<'a>) {
        self.0.push(v);
    }

    pub(crate) fn as_slice(&self) -> &[ValueRef<'a>] {
        &self.0
    }
}

impl<'a> Extend<ValueRef<'a>> for Params<'a> {
    fn extend<I: IntoIterator<Item = ValueRef<'a>>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_their_order_past_the_inline_width() {
        for n in [0, 1, INLINE - 1, INLINE, INLINE + 1, 3 * INLINE] {
            let mut p = Params::new();
            p.extend((0..n as i64).map(ValueRef::Int));
            let expected: Vec<ValueRef<'_>> = (0..n as i64).map(ValueRef::Int).collect();
            assert_eq!(p.as_slice(), &expected[..], "{n} parameters");
        }
    }
}
