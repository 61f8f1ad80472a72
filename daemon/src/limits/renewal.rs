//! The renewal limit: a client that renews `renewals` times within
//! `window` is blocked for `block`.

use super::window::Windows;
use crate::addr::MacAddr;
use crate::blocks::Block;
use crate::config::RenewalLimit;
use crate::lease::UnixTime;

/// Bound on the clients whose renewals are counted at once.
const TRACKED: usize = 1 << 20;

/// The per-client renewal counts.
#[derive(Debug, Clone)]
pub struct Renewals {
    limit: RenewalLimit,
    counts: Windows<MacAddr>,
}

impl Renewals {
    /// Empty counts for `limit`.
    pub fn new(limit: RenewalLimit) -> Self {
        Renewals {
            limit,
            counts: Windows::new(limit.window.into(), TRACKED),
        }
    }

    /// The limit these counts enforce.
    pub fn limit(&self) -> RenewalLimit {
        self.limit
    }

    /// Moves every window by `delta` seconds (a wall-clock jump).
    pub fn shift(&mut self, delta: i64) {
        self.counts.shift(delta);
    }

    /// Counts a renewal by `mac` at `now`; the block to place when it was
    /// one too many.
    pub fn renewed(&mut self, mac: &MacAddr, now: UnixTime) -> Option<Block> {
        let n = self.counts.hit(mac, now)?;
        if n < self.limit.renewals {
            return None;
        }
        self.counts.reset(mac);
        Some(Block {
            mac: *mac,
            since: now,
            until: Some(now.saturating_add(self.limit.block.into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_renewal_within_the_window_blocks_the_client() {
        let limit = RenewalLimit {
            renewals: 3,
            window: 60,
            block: 3600,
        };
        let mut r = Renewals::new(limit);
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        assert_eq!(r.renewed(&mac, 100), None);
        assert_eq!(r.renewed(&mac, 110), None);
        assert_eq!(
            r.renewed(&mac, 120),
            Some(Block {
                mac,
                since: 120,
                until: Some(3720)
            })
        );
        assert_eq!(r.renewed(&mac, 121), None, "counting starts over");
    }

    #[test]
    fn renewals_spread_over_more_than_the_window_never_block() {
        let mut r = Renewals::new(RenewalLimit {
            renewals: 3,
            window: 60,
            block: 3600,
        });
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        for n in 0..20 {
            assert_eq!(r.renewed(&mac, 100 + n * 30), None, "renewal {n}");
        }
    }
}
