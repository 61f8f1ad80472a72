//! When the group-commit writer holds a batch open for company
//! (`commit_delay_us = "auto"`, the default).
//!
//! Every transaction costs a flush, and on a virtual disk a flush costs the
//! host as much CPU as the rest of a DORA. Holding each batch open for a
//! fixed time saves flushes but adds that time to every ACK, even when no
//! other request is coming. Auto mode waits only when company is expected:
//! when requests have recently come at least one per window, and the window
//! is as long as a recent transaction took (clamped to [`MIN_WINDOW`] and
//! [`MAX_WINDOW`]), so a wait never costs more than the flush it may save.
//! At a low rate nothing waits; at a high rate the batches grow and the
//! flushes per lease fall.
//!
//! Pure: the writer passes the time in.

use std::time::{Duration, Instant};

/// The shortest window auto mode waits.
pub const MIN_WINDOW: Duration = Duration::from_micros(50);
/// The longest window auto mode waits.
pub const MAX_WINDOW: Duration = Duration::from_millis(1);
/// Over how long the request rate is averaged (exponential decay).
const RATE_SPAN_SECS: f64 = 0.02;
/// Weight of the newest transaction in the average transaction time.
const COMMIT_WEIGHT: f64 = 0.125;

/// Recent request rate and transaction time, for auto mode.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Requests seen, decayed by `e^(-t / RATE_SPAN_SECS)` since `at`.
    level: f64,
    at: Instant,
    /// Average transaction time, seconds.
    commit_secs: f64,
}

impl Pace {
    /// No requests seen yet, as of `now`.
    pub fn new(now: Instant) -> Pace {
        Pace {
            level: 0.0,
            at: now,
            commit_secs: MIN_WINDOW.as_secs_f64(),
        }
    }

    /// Requests per second, averaged over the last [`RATE_SPAN_SECS`] or so.
    pub fn rate(&self, now: Instant) -> f64 {
        self.decayed(now) / RATE_SPAN_SECS
    }

    fn decayed(&self, now: Instant) -> f64 {
        let age = now.saturating_duration_since(self.at).as_secs_f64();
        self.level * (-age / RATE_SPAN_SECS).exp()
    }

    /// How long to hold a batch opened at `now` for company: `None` when
    /// less than one more request is expected within the window.
    pub fn window(&self, now: Instant) -> Option<Duration> {
        let window = Duration::from_secs_f64(self.commit_secs).clamp(MIN_WINDOW, MAX_WINDOW);
        (self.rate(now) * window.as_secs_f64() >= 1.0).then_some(window)
    }

    /// A batch of `requests` closed at `now`.
    pub fn closed(&mut self, now: Instant, requests: usize) {
        self.level = self.decayed(now) + requests as f64;
        self.at = now;
    }

    /// A transaction took `took`.
    pub fn committed(&mut self, took: Duration) {
        self.commit_secs += COMMIT_WEIGHT * (took.as_secs_f64() - self.commit_secs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Duration = Duration::from_micros(1);

    /// `n` requests, one batch each, every `gap`, each transaction taking
    /// `took`; returns the time after the last.
    fn feed(pace: &mut Pace, mut now: Instant, n: u32, gap: Duration, took: Duration) -> Instant {
        for _ in 0..n {
            now += gap;
            pace.closed(now, 1);
            pace.committed(took);
        }
        now
    }

    #[test]
    fn nothing_waits_at_a_low_rate() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        assert_eq!(pace.window(t0), None, "no requests yet");
        // 1,000 requests a second, 150 us transactions: 0.15 expected in a window.
        let now = feed(&mut pace, t0, 200, 1000 * US, 150 * US);
        assert!(
            (900.0..1100.0).contains(&pace.rate(now)),
            "{}",
            pace.rate(now)
        );
        assert_eq!(pace.window(now), None);
    }

    #[test]
    fn a_high_rate_waits_as_long_as_a_transaction_takes() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        // 12,000 a second, 150 us transactions: 1.8 expected in a window.
        let now = feed(&mut pace, t0, 600, 83 * US, 150 * US);
        let window = pace.window(now).expect("waits");
        assert!((140 * US..=160 * US).contains(&window), "{window:?}");
    }

    #[test]
    fn the_window_is_clamped() {
        let t0 = Instant::now();
        let mut fast = Pace::new(t0);
        let now = feed(&mut fast, t0, 2000, 10 * US, 5 * US);
        assert_eq!(fast.window(now), Some(MIN_WINDOW), "a fast disk");
        let mut slow = Pace::new(t0);
        let now = feed(&mut slow, t0, 200, 100 * US, 30_000 * US);
        assert_eq!(slow.window(now), Some(MAX_WINDOW), "a stalling disk");
    }

    #[test]
    fn the_rate_decays_once_requests_stop() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        let now = feed(&mut pace, t0, 600, 83 * US, 150 * US);
        assert!(pace.window(now).is_some());
        // A pause of a few averaging spans: the next lone request goes at once.
        let later = now + Duration::from_millis(100);
        assert!(pace.rate(later) < 100.0, "{}", pace.rate(later));
        assert_eq!(pace.window(later), None);
    }

    #[test]
    fn a_batch_counts_every_request_in_it() {
        let t0 = Instant::now();
        let mut pace = Pace::new(t0);
        // Batches of ten every millisecond: 10,000 requests a second.
        let mut now = t0;
        for _ in 0..100 {
            now += 1000 * US;
            pace.closed(now, 10);
        }
        assert!(
            (9000.0..11000.0).contains(&pace.rate(now)),
            "{}",
            pace.rate(now)
        );
    }
}
