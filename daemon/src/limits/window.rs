//! Counting events per key within a window of time, in bounded memory.

use std::collections::HashMap;
use std::hash::Hash;

use crate::lease::UnixTime;

/// Per-key counts, each over its own window that starts at the key's first
/// event: a key's count restarts once `window` seconds have passed since
/// its window began. At most `cap` keys are tracked; when the map is full,
/// keys whose window ran out are dropped (at most once a second, so a full
/// map of live keys costs O(1) per new key), and a new key that still finds
/// no room is not counted.
#[derive(Debug, Clone)]
pub struct Windows<K> {
    window: u64,
    cap: usize,
    counts: HashMap<K, (UnixTime, u32)>,
    pruned_at: UnixTime,
}

impl<K: Hash + Eq + Clone> Windows<K> {
    /// Windows of `window` seconds (at least 1) over at most `cap` keys.
    pub fn new(window: u64, cap: usize) -> Self {
        Windows {
            window: window.max(1),
            cap,
            counts: HashMap::new(),
            pruned_at: 0,
        }
    }

    /// Counts one event for `key` at `now`; returns its count in its
    /// current window, or `None` when there was no room to track it.
    pub fn hit(&mut self, key: &K, now: UnixTime) -> Option<u32> {
        let window = self.window;
        if let Some((start, n)) = self.counts.get_mut(key) {
            if now >= start.saturating_add(window) || now < *start {
                *start = now;
                *n = 0;
            }
            *n = n.saturating_add(1);
            return Some(*n);
        }
        if self.counts.len() >= self.cap {
            if now == self.pruned_at {
                return None;
            }
            self.pruned_at = now;
            self.counts
                .retain(|_, (start, _)| now < start.saturating_add(window) && now >= *start);
            if self.counts.len() >= self.cap {
                return None;
            }
        }
        self.counts.insert(key.clone(), (now, 1));
        Some(1)
    }

    /// Moves every window's start by `delta` seconds (a wall-clock jump the
    /// daemon's time followed), so each keeps its remaining time.
    pub fn shift(&mut self, delta: i64) {
        for (start, _) in self.counts.values_mut() {
            *start = start.saturating_add_signed(delta);
        }
        self.pruned_at = self.pruned_at.saturating_add_signed(delta);
    }

    /// Forgets `key` (its count starts over).
    pub fn reset(&mut self, key: &K) {
        self.counts.remove(key);
    }

    /// How many keys are tracked.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_restart_when_the_keys_window_ran_out() {
        let mut w = Windows::new(10, 100);
        assert_eq!(w.hit(&1, 100), Some(1));
        assert_eq!(w.hit(&1, 105), Some(2));
        assert_eq!(w.hit(&2, 105), Some(1), "keys count apart");
        assert_eq!(w.hit(&1, 109), Some(3));
        assert_eq!(w.hit(&1, 110), Some(1), "100 + 10: a new window");
        assert_eq!(w.hit(&2, 114), Some(2), "2's window began at 105");
    }

    #[test]
    fn memory_is_bounded_and_stale_keys_make_room() {
        let mut w = Windows::new(10, 3);
        for k in 0..3 {
            assert_eq!(w.hit(&k, 100), Some(1));
        }
        assert_eq!(w.hit(&9, 100), None, "full of live keys: not tracked");
        assert_eq!(w.hit(&0, 100), Some(2), "tracked keys still count");
        assert_eq!(w.len(), 3);
        assert_eq!(w.hit(&9, 111), Some(1), "the stale keys were dropped");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn a_full_map_is_pruned_at_most_once_a_second() {
        let mut w = Windows::new(10, 2);
        w.hit(&0, 100);
        w.hit(&1, 105);
        assert_eq!(w.hit(&2, 106), None);
        assert_eq!(w.hit(&3, 106), None, "no second prune in the same second");
        assert_eq!(w.hit(&4, 110), Some(1), "0's window ran out at 110");
    }

    #[test]
    fn a_clock_that_went_back_starts_the_window_over() {
        let mut w = Windows::new(10, 10);
        w.hit(&0, 100);
        w.hit(&0, 101);
        assert_eq!(w.hit(&0, 50), Some(1));
    }
}
