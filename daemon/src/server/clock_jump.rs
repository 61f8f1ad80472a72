//! A wall-clock jump, found by the once-a-second housekeeping: not mass
//! expiry (forward) nor stretched holds (backward). Every lease, hold,
//! quarantine, observed binding and block keeps its remaining time: their
//! ends move by the jump's delta, in memory at once and in the store
//! through the commit path in batches, and the clock is re-anchored to the
//! wall clock. Announced as a `clock_jump` event with the delta.

use berth_proto::EventKind;
use tracing::{error, warn};

use super::Core;
use super::commit::{Change, Report, Source, Then};
use crate::clock::shifted;
use crate::engine::Effect;
use crate::events::new_event;
use crate::lease::{Lease, LeaseState};

/// Changes per commit when the shift is persisted.
const BATCH: usize = 512;

impl Core {
    /// Compares the wall clock with the daemon's monotonic time; on a jump,
    /// shifts what ends at a wall time and re-anchors.
    pub(crate) fn check_clock(&mut self) {
        let Some(jump) = self.clock.check(self.time.wall(), self.time.mono()) else {
            return;
        };
        let delta = jump.delta;
        let at = self.now();
        let shift = |l: &Lease| {
            let mut l = l.clone();
            l.starts = shifted(l.starts, delta);
            l.ends = shifted(l.ends, delta);
            l
        };
        // Records whose end matters; history (released, expired) keeps its
        // times, which only order the pool's reuse.
        let mut changes: Vec<Change> = self
            .table
            .iter()
            .filter_map(|l| match l.state {
                LeaseState::Offered => Some(Effect::Hold(shift(l))),
                LeaseState::Bound => Some(Effect::Bind(shift(l))),
                LeaseState::Declined => Some(Effect::Decline(shift(l))),
                LeaseState::Observed => Some(Effect::Observe(shift(l))),
                LeaseState::Released | LeaseState::Expired => None,
            })
            .map(Change::Lease)
            .collect();
        let leases = changes.len();
        changes.extend(self.blocks.iter().filter(|b| b.until.is_some()).map(|b| {
            let mut b = *b;
            b.since = shifted(b.since, delta);
            b.until = b.until.map(|u| shifted(u, delta));
            Change::PutBlock(b)
        }));
        let blocks = changes.len() - leases;
        self.limits.shift(delta);
        self.health.shift(delta);
        self.started_at = shifted(self.started_at, delta);
        let detail = format!(
            "wall clock jumped {}{}s: {leases} leases and {blocks} blocks keep their remaining time",
            if delta >= 0 { "+" } else { "" },
            delta
        );
        warn!("{detail}");
        let mut event = new_event(EventKind::ClockJump);
        event.ok = false;
        event.detail = detail;
        let mut report = Some(Report {
            events: vec![event.into()],
            counter: Some("clock_jump"),
            ..Report::default()
        });
        if changes.is_empty() {
            if let Some(r) = report.take() {
                self.publish(r, at);
            }
            return;
        }
        let mut rest = changes.into_iter().peekable();
        while rest.peek().is_some() {
            let batch: Vec<Change> = rest.by_ref().take(BATCH).collect();
            match self.stage(batch) {
                Ok(staged) => {
                    let r = report.take().unwrap_or_default();
                    self.commit(Source::Housekeeping, staged, r, Then::Nothing, at);
                }
                Err(c) => error!("clock shift refused: {c}"),
            }
        }
    }
}
