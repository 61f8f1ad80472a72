//! The stepped search for a server's highest rate with few drops: double
//! while steps pass, halve while they fail before any passed, then bisect
//! between the best pass and the lowest fail. Pure: the caller runs each
//! step and records whether it passed.

/// Search state for one server.
#[derive(Debug, Clone)]
pub struct RateSearch {
    next: Option<u32>,
    good: Option<u32>,
    bad: Option<u32>,
    bisections_left: u32,
    max_rate: u32,
    min_rate: u32,
}

/// Rates are rounded to this step when bisecting.
const GRAIN: u32 = 50;

impl RateSearch {
    /// Starts at `start`, never asks above `max_rate` or below `min_rate`,
    /// and bisects at most `bisections` times once a pass and a fail bracket
    /// the answer.
    pub fn new(start: u32, min_rate: u32, max_rate: u32, bisections: u32) -> RateSearch {
        let min_rate = min_rate.max(1);
        let max_rate = max_rate.max(min_rate);
        RateSearch {
            next: Some(start.clamp(min_rate, max_rate)),
            good: None,
            bad: None,
            bisections_left: bisections,
            max_rate,
            min_rate,
        }
    }

    /// The rate to try next, or `None` when the search is over.
    pub fn next_rate(&self) -> Option<u32> {
        self.next
    }

    /// The highest rate that passed.
    pub fn best(&self) -> Option<u32> {
        self.good
    }

    /// Records the outcome of a step at `rate` and picks the next rate.
    pub fn record(&mut self, rate: u32, passed: bool) {
        if passed {
            self.good = Some(self.good.map_or(rate, |g| g.max(rate)));
        } else {
            self.bad = Some(self.bad.map_or(rate, |b| b.min(rate)));
        }
        self.next = match (self.good, self.bad) {
            // Only passes so far: double, up to the ceiling.
            (Some(g), None) => (g < self.max_rate).then(|| g.saturating_mul(2).min(self.max_rate)),
            // Only fails so far: halve, down to the floor.
            (None, Some(b)) => (b > self.min_rate).then(|| (b / 2).max(self.min_rate)),
            (Some(g), Some(b)) => {
                let mid = (g + b) / 2 / GRAIN * GRAIN;
                if self.bisections_left == 0 || mid <= g || mid >= b {
                    None
                } else {
                    self.bisections_left -= 1;
                    Some(mid)
                }
            }
            (None, None) => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search against a server whose true ceiling is `ceiling`.
    fn search(mut s: RateSearch, ceiling: u32) -> (Option<u32>, Vec<u32>) {
        let mut tried = Vec::new();
        while let Some(r) = s.next_rate() {
            assert!(tried.len() < 50, "search does not end: {tried:?}");
            tried.push(r);
            s.record(r, r <= ceiling);
        }
        (s.best(), tried)
    }

    #[test]
    fn doubles_then_bisects() {
        let (best, tried) = search(RateSearch::new(1000, 100, 64_000, 2), 5000);
        assert_eq!(tried, vec![1000, 2000, 4000, 8000, 6000, 5000]);
        assert_eq!(best, Some(5000));
    }

    #[test]
    fn halves_when_the_start_fails() {
        let (best, tried) = search(RateSearch::new(1000, 100, 64_000, 1), 300);
        assert_eq!(tried, vec![1000, 500, 250, 350]);
        assert_eq!(best, Some(250));
    }

    #[test]
    fn stops_at_the_bounds() {
        let (best, tried) = search(RateSearch::new(1000, 100, 4000, 3), 1_000_000);
        assert_eq!(tried, vec![1000, 2000, 4000]);
        assert_eq!(best, Some(4000));
        let (best, tried) = search(RateSearch::new(400, 100, 4000, 3), 0);
        assert_eq!(tried, vec![400, 200, 100]);
        assert_eq!(best, None);
    }

    #[test]
    fn no_bisection_when_not_asked() {
        let (best, tried) = search(RateSearch::new(1000, 100, 64_000, 0), 3000);
        assert_eq!(tried, vec![1000, 2000, 4000]);
        assert_eq!(best, Some(2000));
    }
}
