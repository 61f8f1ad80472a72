//! How fast changes that became durable together are released (their ACKs
//! sent, their events published).
//!
//! Group commit makes a disk stall into a burst: every REQUEST that came
//! during the stall is written by the next commit, and its ACK would leave
//! in the same instant. A few hundred datagrams back to back overflow the
//! receive buffer of whatever relays them (measured with perfdhcp acting as
//! a relay: 208 KiB, about 150 replies, were dropped after stalls of tens
//! of milliseconds). So completions are released at most a budget per
//! millisecond: twice the rate changes were queued lately, and never fewer
//! than [`MIN_PER_MS`]. At a steady rate the budget is never reached; after
//! a stall the backlog leaves at twice the rate it built up.
//!
//! Pure: time is passed in.

use std::time::{Duration, Instant};

/// Completions per millisecond that are always allowed.
pub(crate) const MIN_PER_MS: u32 = 32;

const WINDOW: Duration = Duration::from_millis(1);

/// How much of the queueing rate a new window's count moves (an
/// exponentially weighted average over about five windows).
const WEIGHT: f64 = 0.2;

/// The release budget's state.
#[derive(Debug)]
pub(crate) struct Release {
    /// The current one-millisecond window.
    start: Instant,
    released: u32,
    queued: u32,
    /// Changes queued per window, averaged.
    rate: f64,
}

impl Release {
    /// A budget whose first window starts at `now`.
    pub(crate) fn new(now: Instant) -> Release {
        Release {
            start: now,
            released: 0,
            queued: 0,
            rate: 0.0,
        }
    }

    /// Moves to the window holding `now`, folding the finished ones into
    /// the average.
    fn roll(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed < WINDOW {
            return;
        }
        let windows = elapsed.as_micros() / WINDOW.as_micros();
        // The window just ended counts once; the empty ones after it decay
        // the average (after a long quiet spell it is simply zero).
        self.rate += WEIGHT * (f64::from(self.queued) - self.rate);
        let quiet = i32::try_from(windows - 1).unwrap_or(i32::MAX);
        self.rate *= (1.0 - WEIGHT).powi(quiet);
        self.start += WINDOW * u32::try_from(windows).unwrap_or(u32::MAX);
        self.released = 0;
        self.queued = 0;
    }

    /// The completions this window may release.
    fn budget(&self) -> u32 {
        // Bounded by the cast: a rate beyond u32 is no budget at all.
        let twice = (2.0 * self.rate).ceil() as u32;
        twice.max(MIN_PER_MS)
    }

    /// A change was queued for the store at `now`.
    pub(crate) fn queued(&mut self, now: Instant) {
        self.roll(now);
        self.queued = self.queued.saturating_add(1);
    }

    /// When the next completion may be released: `None` for now, else the
    /// start of the next window.
    pub(crate) fn wait(&mut self, now: Instant) -> Option<Instant> {
        self.roll(now);
        (self.released >= self.budget()).then_some(self.start + WINDOW)
    }

    /// A completion was released.
    pub(crate) fn released(&mut self) {
        self.released = self.released.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release_all(r: &mut Release, now: Instant, n: u32) -> u32 {
        let mut sent = 0;
        while sent < n && r.wait(now).is_none() {
            r.released();
            sent += 1;
        }
        sent
    }

    #[test]
    fn a_burst_after_a_stall_leaves_a_budget_per_millisecond() {
        let t0 = Instant::now();
        let mut r = Release::new(t0);
        // 8 changes a millisecond for 30 ms, none completed: a stall.
        for ms in 0..30 {
            let at = t0 + Duration::from_millis(ms);
            for _ in 0..8 {
                r.queued(at);
            }
        }
        let now = t0 + Duration::from_millis(30);
        let first = release_all(&mut r, now, 240);
        assert_eq!(first, MIN_PER_MS, "twice 8 a ms is below the floor");
        assert_eq!(
            r.wait(now),
            Some(t0 + Duration::from_millis(31)),
            "the rest waits for the next millisecond"
        );
        let next = t0 + Duration::from_millis(31);
        assert_eq!(release_all(&mut r, next, 240 - first), MIN_PER_MS);
    }

    #[test]
    fn a_steady_rate_above_the_floor_is_never_held_back() {
        let t0 = Instant::now();
        let mut r = Release::new(t0);
        // 40 changes and 40 completions a millisecond: once the average
        // has seen a few milliseconds of it, all 40 leave each time.
        let mut backlog = 0;
        for ms in 0..50 {
            let at = t0 + Duration::from_millis(ms);
            for _ in 0..40 {
                r.queued(at);
            }
            backlog += 40;
            backlog -= release_all(&mut r, at, backlog);
            if ms >= 10 {
                assert_eq!(backlog, 0, "ms {ms}");
            }
        }
    }

    #[test]
    fn after_a_quiet_spell_the_average_is_forgotten() {
        let t0 = Instant::now();
        let mut r = Release::new(t0);
        for _ in 0..1000 {
            r.queued(t0);
        }
        let later = t0 + Duration::from_secs(10);
        assert_eq!(release_all(&mut r, later, 1000), MIN_PER_MS);
    }
}
