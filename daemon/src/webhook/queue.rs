//! A bounded queue of notifications for one webhook: when full, the oldest
//! is dropped to make room, and the drop is counted.

use std::collections::VecDeque;

/// A bounded FIFO that drops its oldest item when full.
#[derive(Debug)]
pub struct Bounded<T> {
    items: VecDeque<T>,
    cap: usize,
}

impl<T> Bounded<T> {
    /// An empty queue holding at most `cap` (at least 1) items.
    pub fn new(cap: usize) -> Self {
        Bounded {
            items: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Appends `item`; returns how many old items were dropped for it (0 or 1).
    pub fn push(&mut self, item: T) -> u64 {
        let dropped = if self.items.len() >= self.cap {
            self.items.pop_front();
            1
        } else {
            0
        };
        self.items.push_back(item);
        dropped
    }

    /// Takes the oldest item.
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_oldest_beyond_the_bound_are_dropped() {
        let mut q = Bounded::new(3);
        let dropped: u64 = (0..10).map(|i| q.push(i)).sum();
        assert_eq!(dropped, 7);
        assert_eq!(
            (q.pop(), q.pop(), q.pop(), q.pop()),
            (Some(7), Some(8), Some(9), None)
        );
    }
}
