//! A wall-clock jump, found by the once-a-second housekeeping: not mass
//! expiry (forward) nor stretched holds (backward). Every lease, hold,
//! quarantine, observed binding and block keeps its remaining time: their
//! ends move by the jump's delta, in memory at once and in the store
//! through the commit path in batches, and the clock is re-anchored to the
//! wall clock. Announced as a `clock_jump` event with the delta.
//!
//! The clock is re-anchored at once, so a shift whose write fails is not
//! undone in memory (the old ends would be read on the new clock: mass
//! expiry, or holds stretched by the jump): its records are kept as
//! unsaved (see `unsaved`) and written again until the store takes them.

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
                    self.commit(Source::ClockShift, staged, r, Then::Nothing, at);
                }
                Err(c) => error!("clock shift refused: {c}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualTime;
    use crate::lease::ClientKey;
    use crate::lease::UnixTime;
    use crate::server::start::TEST_CONFIG;
    use crate::store::MemoryStore;

    const T0: UnixTime = 1_700_000_000;
    const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
    const JUMP: UnixTime = 7200;

    fn bound() -> Lease {
        Lease {
            ip: IP,
            client: ClientKey::from(&[1u8, 2, 0, 0, 0, 0, 1][..]),
            mac: "02:00:00:00:00:01".parse().expect("mac"),
            hostname: None,
            state: LeaseState::Bound,
            starts: T0 - 100,
            ends: T0 + 3500,
        }
    }

    fn stored_ends(store: &MemoryStore) -> Option<UnixTime> {
        store.leases().iter().find(|l| l.ip == IP).map(|l| l.ends)
    }

    /// A core holding [`bound`] whose wall clock jumped [`JUMP`] forward,
    /// found and shifted, with the store failing its next `failures` writes.
    async fn jumped(failures: usize) -> (Core, MemoryStore, Arc<ManualTime>) {
        let store = MemoryStore::with_leases([bound()]);
        let time = ManualTime::new(T0);
        let mut core = Core::for_test_with_time(TEST_CONFIG, store.clone(), time.clone()).0;
        time.set_wall(T0 + JUMP);
        for _ in 0..failures {
            store.fail_next_apply();
        }
        core.check_clock();
        core.finish_in_flight().await;
        (core, store, time)
    }

    /// One housekeeping turn a second later, with what it wrote made durable.
    async fn next_second(core: &mut Core, time: &ManualTime) {
        time.advance(1);
        core.housekeeping(core.now());
        core.finish_in_flight().await;
    }

    #[tokio::test]
    async fn a_shift_the_store_refused_stays_in_memory_and_is_written_again() {
        let (mut core, store, time) = jumped(1).await;
        // Undoing it would leave the old end on the re-anchored clock: the
        // lease would run out two hours early.
        assert_eq!(
            core.table.get(IP).map(|l| l.ends),
            Some(T0 + 3500 + JUMP),
            "memory keeps the lease's remaining time"
        );
        assert_eq!(stored_ends(&store), Some(T0 + 3500), "the store refused it");
        assert_eq!(core.unsaved.len(), 1);

        next_second(&mut core, &time).await;
        assert_eq!(
            stored_ends(&store),
            Some(T0 + 3500 + JUMP),
            "written again as memory holds it"
        );
        assert_eq!(core.unsaved.len(), 0);
        let batches = store.applied_batches();
        next_second(&mut core, &time).await;
        assert_eq!(store.applied_batches(), batches, "nothing more to write");
    }

    #[tokio::test]
    async fn a_failed_rewrite_is_tried_again() {
        let (mut core, store, time) = jumped(2).await;
        next_second(&mut core, &time).await;
        assert_eq!(
            stored_ends(&store),
            Some(T0 + 3500),
            "the rewrite failed too"
        );
        assert_eq!(core.unsaved.len(), 1, "and is kept");
        next_second(&mut core, &time).await;
        assert_eq!(stored_ends(&store), Some(T0 + 3500 + JUMP));
        assert_eq!(core.unsaved.len(), 0);
    }
}
