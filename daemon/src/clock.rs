//! The daemon's clock: wall time as UTC seconds, derived from a monotonic
//! clock anchored to the wall clock at start, so holds, offers, timers and
//! limit windows do not move when someone (or NTP) steps the wall clock.
//!
//! [`Clock`] is pure: it is fed readings (`wall`, `mono`) and computes
//! `now`; [`Clock::check`] compares a fresh wall reading with the derived
//! time and, past [`JUMP_THRESHOLD`], reports the jump and re-anchors.
//! Reading the real clocks is [`TimeSource`]'s, at the edge: the server
//! owns one clock and passes `now` into the pure core; tests inject a
//! [`ManualTime`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::lease::UnixTime;

/// How far the wall clock may drift from the monotonic-derived time before
/// it counts as a jump: well above NTP's slewing, well below any lease.
pub const JUMP_THRESHOLD: u64 = 10;

/// Where the clock's readings come from.
pub trait TimeSource: Send + Sync + std::fmt::Debug {
    /// Wall-clock time, UTC seconds.
    fn wall(&self) -> UnixTime;
    /// A monotonic reading: never steps, counts time spent suspended.
    fn mono(&self) -> Duration;
}

/// The machine's clocks: `SystemTime` and CLOCK_BOOTTIME (monotonic, and
/// unlike CLOCK_MONOTONIC it counts suspend, so a lease still runs out
/// while the host sleeps).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClocks;

impl TimeSource for SystemClocks {
    fn wall(&self) -> UnixTime {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn mono(&self) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid clock id and a pointer to a timespec we own.
        if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
            return Duration::ZERO;
        }
        Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        )
    }
}

/// Clocks a test sets by hand: `wall` and `mono` move only when told.
#[derive(Debug, Default)]
pub struct ManualTime {
    wall: AtomicU64,
    mono_ms: AtomicU64,
}

impl ManualTime {
    /// Starts at wall time `wall`.
    pub fn new(wall: UnixTime) -> Arc<Self> {
        Arc::new(ManualTime {
            wall: AtomicU64::new(wall),
            mono_ms: AtomicU64::new(0),
        })
    }

    /// Time passes: both clocks move by `secs`.
    pub fn advance(&self, secs: u64) {
        self.wall.fetch_add(secs, Ordering::SeqCst);
        self.mono_ms.fetch_add(secs * 1000, Ordering::SeqCst);
    }

    /// The wall clock is set to `wall`; the monotonic clock does not move.
    pub fn set_wall(&self, wall: UnixTime) {
        self.wall.store(wall, Ordering::SeqCst);
    }
}

impl TimeSource for ManualTime {
    fn wall(&self) -> UnixTime {
        self.wall.load(Ordering::SeqCst)
    }

    fn mono(&self) -> Duration {
        Duration::from_millis(self.mono_ms.load(Ordering::SeqCst))
    }
}

/// A detected wall-clock jump: `delta` seconds (positive: forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    pub delta: i64,
}

/// Wall time derived from a monotonic clock and an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    wall: UnixTime,
    mono: Duration,
}

impl Clock {
    /// Anchored at the readings `wall` and `mono`.
    pub fn anchored(wall: UnixTime, mono: Duration) -> Self {
        Clock { wall, mono }
    }

    /// The daemon's time at monotonic reading `mono`.
    pub fn now(&self, mono: Duration) -> UnixTime {
        self.wall
            .saturating_add(mono.saturating_sub(self.mono).as_secs())
    }

    /// Compares the wall clock (`wall`) with the derived time at `mono`:
    /// more than [`JUMP_THRESHOLD`] apart is a jump, and the clock is
    /// re-anchored to the wall clock. The caller shifts what ends at a
    /// wall time by the delta before it takes the new `now`.
    pub fn check(&mut self, wall: UnixTime, mono: Duration) -> Option<Jump> {
        let derived = self.now(mono);
        if wall.abs_diff(derived) <= JUMP_THRESHOLD {
            return None;
        }
        let delta = if wall >= derived {
            i64::try_from(wall - derived).unwrap_or(i64::MAX)
        } else {
            -i64::try_from(derived - wall).unwrap_or(i64::MAX)
        };
        *self = Clock::anchored(wall, mono);
        Some(Jump { delta })
    }
}

/// `t` moved by `delta` seconds, clamped to the representable range.
pub fn shifted(t: UnixTime, delta: i64) -> UnixTime {
    t.saturating_add_signed(delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = 1_800_000_000;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn time_follows_the_monotonic_clock_not_the_wall() {
        let c = Clock::anchored(T0, secs(500));
        assert_eq!(c.now(secs(500)), T0);
        assert_eq!(c.now(secs(530)), T0 + 30);
    }

    #[test]
    fn a_forward_jump_is_detected_with_its_delta_and_re_anchors() {
        let mut c = Clock::anchored(T0, secs(0));
        // An hour later the wall clock is a day and an hour ahead.
        assert_eq!(
            c.check(T0 + 86_400 + 3600, secs(3600)),
            Some(Jump { delta: 86_400 })
        );
        assert_eq!(c.now(secs(3600)), T0 + 86_400 + 3600, "re-anchored");
        assert_eq!(c.check(T0 + 86_400 + 3601, secs(3601)), None);
    }

    #[test]
    fn a_backward_jump_is_detected_with_a_negative_delta() {
        let mut c = Clock::anchored(T0, secs(0));
        assert_eq!(
            c.check(T0 - 7200 + 60, secs(60)),
            Some(Jump { delta: -7200 })
        );
        assert_eq!(c.now(secs(61)), T0 - 7200 + 61);
    }

    #[test]
    fn drift_within_the_threshold_is_not_a_jump() {
        let mut c = Clock::anchored(T0, secs(0));
        assert_eq!(c.check(T0 + 100 + JUMP_THRESHOLD, secs(100)), None);
        assert_eq!(c.check(T0 + 100 - JUMP_THRESHOLD, secs(100)), None);
        assert!(c.check(T0 + 101 + JUMP_THRESHOLD, secs(100)).is_some());
    }

    #[test]
    fn manual_time_moves_only_when_told() {
        let t = ManualTime::new(T0);
        let mut c = Clock::anchored(t.wall(), t.mono());
        t.advance(5);
        assert_eq!(c.now(t.mono()), T0 + 5);
        t.set_wall(T0 + 5 + 3600);
        assert_eq!(c.now(t.mono()), T0 + 5, "a wall jump does not move time");
        assert_eq!(c.check(t.wall(), t.mono()), Some(Jump { delta: 3600 }));
    }

    #[test]
    fn shifting_saturates() {
        assert_eq!(shifted(10, -20), 0);
        assert_eq!(shifted(T0, 60), T0 + 60);
        assert_eq!(shifted(u64::MAX - 1, 5), u64::MAX);
    }
}
