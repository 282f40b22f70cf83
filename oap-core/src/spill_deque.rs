//! [`SpillDeque`]: a FIFO queue whose front element is held inline.

use std::collections::VecDeque;

/// A FIFO queue that allocates nothing while it holds one element: for
/// what a request mostly has one of, such as the pieces of its body (in
/// or out) or a gateway's objects being stored for one put.
///
/// A small object crosses a request as one piece: a `VecDeque` allocated
/// room for four on its first push and freed it when the request ended,
/// one allocation per object on each side of the connection. Here the
/// front element lives inline and only the second and later spill to a
/// `VecDeque`, which a large object's pieces then reuse.
///
/// Invariant: `rest` is empty whenever `front` is `None`, so one sequence
/// has one representation and the derived comparisons and hash agree
/// with the sequence's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpillDeque<T> {
    front: Option<T>,
    rest: VecDeque<T>,
}

impl<T> Default for SpillDeque<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> SpillDeque<T> {
    /// An empty queue; allocates nothing.
    pub const fn new() -> Self {
        Self {
            front: None,
            rest: VecDeque::new(),
        }
    }

    /// Whether the queue holds nothing.
    pub fn is_empty(&self) -> bool {
        self.front.is_none()
    }

    /// Appends `value` at the back.
    pub fn push_back(&mut self, value: T) {
        if self.front.is_none() {
            self.front = Some(value);
        } else {
            self.rest.push_back(value);
        }
    }

    /// Puts `value` back at the front (a piece split by a partial read).
    pub fn push_front(&mut self, value: T) {
        if let Some(old) = self.front.replace(value) {
            self.rest.push_front(old);
        }
    }

    /// Takes the front element.
    pub fn pop_front(&mut self) -> Option<T> {
        let out = self.front.take()?;
        self.front = self.rest.pop_front();
        Some(out)
    }

    /// The front element.
    pub fn front(&self) -> Option<&T> {
        self.front.as_ref()
    }

    /// The front element, mutably.
    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.front.as_mut()
    }

    /// The back element, mutably.
    pub fn back_mut(&mut self) -> Option<&mut T> {
        match self.rest.back_mut() {
            Some(back) => Some(back),
            None => self.front.as_mut(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        PushBack(u8),
        PushFront(u8),
        PopFront,
        BumpFront,
        BumpBack,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => any::<u8>().prop_map(Op::PushBack),
            1 => any::<u8>().prop_map(Op::PushFront),
            3 => Just(Op::PopFront),
            1 => Just(Op::BumpFront),
            1 => Just(Op::BumpBack),
        ]
    }

    proptest! {
        /// Any sequence of operations gives what a plain `VecDeque` gives,
        /// and two queues holding the same elements compare equal whatever
        /// path built them.
        #[test]
        fn behaves_as_a_vec_deque(ops in prop::collection::vec(op(), 0..64)) {
            let mut ours = SpillDeque::new();
            let mut model = VecDeque::new();
            for op in ops {
                match op {
                    Op::PushBack(v) => {
                        ours.push_back(v);
                        model.push_back(v);
                    }
                    Op::PushFront(v) => {
                        ours.push_front(v);
                        model.push_front(v);
                    }
                    Op::PopFront => prop_assert_eq!(ours.pop_front(), model.pop_front()),
                    Op::BumpFront => {
                        if let Some(v) = ours.front_mut() {
                            *v = v.wrapping_add(1);
                        }
                        if let Some(v) = model.front_mut() {
                            *v = v.wrapping_add(1);
                        }
                    }
                    Op::BumpBack => {
                        if let Some(v) = ours.back_mut() {
                            *v = v.wrapping_add(1);
                        }
                        if let Some(v) = model.back_mut() {
                            *v = v.wrapping_add(1);
                        }
                    }
                }
                prop_assert_eq!(ours.is_empty(), model.is_empty());
                prop_assert_eq!(ours.front(), model.front());
                prop_assert!(ours.front.is_some() || ours.rest.is_empty());
            }
            let mut rebuilt = SpillDeque::new();
            for v in model.iter().copied() {
                rebuilt.push_back(v);
            }
            prop_assert_eq!(&ours, &rebuilt);
            let drained: Vec<u8> = std::iter::from_fn(|| ours.pop_front()).collect();
            prop_assert_eq!(drained, Vec::from(model));
        }
    }

    #[test]
    fn one_element_allocates_nothing() {
        let mut q = SpillDeque::new();
        q.push_back(1u64);
        assert_eq!(q.rest.capacity(), 0);
        q.push_front(0);
        assert_eq!(q.pop_front(), Some(0));
        assert_eq!(q.pop_front(), Some(1));
        assert_eq!(q.pop_front(), None);
    }
}
