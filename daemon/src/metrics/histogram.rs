//! A histogram over whole units (microseconds, writes) with fixed bucket
//! bounds: one thread observes with relaxed atomic adds, a scrape reads a
//! snapshot at any time without stopping it.

use std::sync::atomic::{AtomicU64, Ordering};

/// Fixed buckets; `scale` turns the observed unit into the exposed one
/// (1e-6 for microseconds exposed as seconds).
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds (inclusive), ascending, in observed units.
    bounds: &'static [u64],
    /// One count per bound, plus one for values above the last.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
    scale: f64,
}

impl Histogram {
    /// A histogram with these upper bounds (ascending).
    pub fn new(bounds: &'static [u64], scale: f64) -> Self {
        debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
            scale,
        }
    }

    /// Counts `v` in its bucket.
    pub fn observe(&self, v: u64) {
        let i = self.bounds.partition_point(|&b| b < v);
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(v, Ordering::Relaxed);
    }

    /// What it holds now.
    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds: self.bounds,
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum: self.sum.load(Ordering::Relaxed),
            scale: self.scale,
        }
    }
}

/// A histogram's counts at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    bounds: &'static [u64],
    counts: Vec<u64>,
    sum: u64,
    scale: f64,
}

impl HistogramSnapshot {
    /// Cumulative counts by upper bound in exposed units; `None` is +Inf,
    /// whose count is [`HistogramSnapshot::count`].
    pub fn buckets(&self) -> impl Iterator<Item = (Option<f64>, u64)> + '_ {
        let bounds = self
            .bounds
            .iter()
            .map(|&b| Some(self.exposed(b)))
            .chain(std::iter::once(None));
        bounds.zip(self.counts.iter().scan(0u64, |acc, &c| {
            *acc += c;
            Some(*acc)
        }))
    }

    /// Observations made.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Their sum, in exposed units.
    pub fn sum(&self) -> f64 {
        self.exposed(self.sum)
    }

    /// `v` in exposed units, rounded to what the scale can mean (so
    /// 56 µs read as seconds is `0.000056`, not `0.000056000000000000004`).
    fn exposed(&self, v: u64) -> f64 {
        let x = v as f64 * self.scale;
        if self.scale >= 1.0 {
            return x;
        }
        let digits = (-self.scale.log10()).ceil() as i32;
        let p = 10f64.powi(digits);
        (x * p).round() / p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_the_first_bucket_that_holds_them() {
        let h = Histogram::new(&[1, 2, 4], 1.0);
        for v in [0, 1, 2, 3, 4, 5, 100] {
            h.observe(v);
        }
        let s = h.snapshot();
        let b: Vec<_> = s.buckets().collect();
        assert_eq!(
            b,
            [(Some(1.0), 2), (Some(2.0), 3), (Some(4.0), 5), (None, 7)]
        );
        assert_eq!(s.count(), 7);
        assert_eq!(s.sum(), 115.0);
    }

    #[test]
    fn scaled_bounds_read_as_written() {
        let h = Histogram::new(&[100, 2500, 1_000_000], 1e-6);
        h.observe(56);
        let s = h.snapshot();
        let bounds: Vec<_> = s.buckets().map(|(b, _)| b).collect();
        assert_eq!(bounds, [Some(0.0001), Some(0.0025), Some(1.0), None]);
        assert_eq!(s.sum(), 0.000056);
    }
}
