//! Flood protection: a MAC that sends more than `packets` packets within
//! `window` is ignored for `ignore`.

use std::collections::HashMap;

use super::window::Windows;
use crate::addr::MacAddr;
use crate::config::FloodLimit;
use crate::lease::UnixTime;

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it.
    Pass,
    /// This packet crossed the limit: ignore the MAC from now until `until`
    /// (news for the operator).
    StartIgnoring { until: UnixTime },
    /// The MAC is being ignored.
    Ignore,
}

/// The per-MAC flood state.
#[derive(Debug, Clone)]
pub struct Flood {
    limit: FloodLimit,
    counts: Windows<MacAddr>,
    /// Ignored MACs and when that ends; at most `limit.track` of them.
    ignored: HashMap<MacAddr, UnixTime>,
}

impl Flood {
    /// Empty state for `limit`.
    pub fn new(limit: FloodLimit) -> Self {
        Flood {
            limit,
            counts: Windows::new(limit.window.into(), limit.track),
            ignored: HashMap::new(),
        }
    }

    /// The limit this state enforces.
    pub fn limit(&self) -> FloodLimit {
        self.limit
    }

    /// Moves every window and ignore period by `delta` seconds (a
    /// wall-clock jump).
    pub fn shift(&mut self, delta: i64) {
        self.counts.shift(delta);
        for until in self.ignored.values_mut() {
            *until = until.saturating_add_signed(delta);
        }
    }

    /// Counts a packet from `mac` at `now` and says what to do with it.
    pub fn check(&mut self, mac: &MacAddr, now: UnixTime) -> Verdict {
        if let Some(&until) = self.ignored.get(mac) {
            if now < until {
                return Verdict::Ignore;
            }
            self.ignored.remove(mac);
            self.counts.reset(mac);
        }
        match self.counts.hit(mac, now) {
            Some(n) if n > self.limit.packets => {
                let until = now.saturating_add(self.limit.ignore.into());
                if self.ignored.len() >= self.limit.track {
                    self.ignored.retain(|_, u| *u > now);
                }
                if self.ignored.len() < self.limit.track {
                    self.ignored.insert(*mac, until);
                }
                self.counts.reset(mac);
                Verdict::StartIgnoring { until }
            }
            _ => Verdict::Pass,
        }
    }

    /// How many MACs are being ignored at `now` (at most `track`).
    pub fn ignoring(&self, now: UnixTime) -> usize {
        self.ignored.values().filter(|until| **until > now).count()
    }

    /// How many MACs are ignored or counted now (for tests and figures).
    pub fn tracked(&self) -> usize {
        self.counts.len() + self.ignored.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit() -> FloodLimit {
        FloodLimit {
            packets: 3,
            window: 10,
            ignore: 60,
            track: 1000,
        }
    }

    fn mac(n: u8) -> MacAddr {
        MacAddr([2, 0, 0, 0, 0, n])
    }

    #[test]
    fn more_than_k_packets_in_t_ignores_the_mac_for_a_while() {
        let mut f = Flood::new(limit());
        for t in 0..3 {
            assert_eq!(f.check(&mac(1), 100 + t), Verdict::Pass);
        }
        assert_eq!(f.check(&mac(1), 103), Verdict::StartIgnoring { until: 163 });
        assert_eq!(f.check(&mac(1), 104), Verdict::Ignore);
        assert_eq!(f.check(&mac(2), 104), Verdict::Pass, "others are served");
        assert_eq!(f.check(&mac(1), 162), Verdict::Ignore);
        assert_eq!(f.check(&mac(1), 163), Verdict::Pass, "the time is up");
    }

    #[test]
    fn ignoring_counts_the_macs_ignored_now() {
        let mut f = Flood::new(limit());
        assert_eq!(f.ignoring(100), 0);
        for t in 0..4 {
            f.check(&mac(1), 100 + t);
        }
        assert_eq!(f.ignoring(104), 1);
        assert_eq!(f.ignoring(163), 0, "its time is up");
    }

    #[test]
    fn k_packets_spread_over_more_than_t_pass() {
        let mut f = Flood::new(limit());
        for t in 0..20 {
            assert_eq!(f.check(&mac(1), 100 + t * 4), Verdict::Pass, "at {t}");
        }
    }

    #[test]
    fn random_macs_cost_no_more_than_the_bound() {
        let mut f = Flood::new(FloodLimit {
            track: 50,
            ..limit()
        });
        for n in 0..10_000u32 {
            let b = n.to_be_bytes();
            let m = MacAddr([2, 1, b[0], b[1], b[2], b[3]]);
            assert_eq!(f.check(&m, 100), Verdict::Pass);
        }
        assert!(f.tracked() <= 100, "{}", f.tracked());
        // A real flooder among them is still caught once it is tracked.
        let mut f = Flood::new(limit());
        for _ in 0..3 {
            f.check(&mac(9), 200);
        }
        assert!(matches!(
            f.check(&mac(9), 200),
            Verdict::StartIgnoring { .. }
        ));
    }
}
