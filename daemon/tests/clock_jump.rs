//! In-process: a wall-clock jump, forward or backward, is a `clock_jump`
//! event, not mass expiry: every lease keeps its remaining time in memory
//! and in the store. The server runs on a hand-set clock.

mod harness;

use std::sync::Arc;
use std::time::Duration;

use berth_proto::EventKind;
use berthd::clock::{ManualTime, TimeSource};
use berthd::store::Store;
use harness::*;

const T0: u64 = 1_800_000_000;
const DAY: i64 = 86_400;

async fn wait_jumps(h: &Harness, n: usize) -> Vec<berth_proto::Event> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let jumps: Vec<_> = h
            .events()
            .await
            .into_iter()
            .filter(|e| e.kind == EventKind::ClockJump)
            .collect();
        if jumps.len() >= n {
            return jumps;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no clock_jump event"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The lease end on `ip` the store holds.
fn stored_end(h: &Harness, ip: std::net::Ipv4Addr) -> Option<u64> {
    let mut mem = h.mem().clone();
    mem.load_leases()
        .expect("leases")
        .into_iter()
        .find(|l| l.ip == ip)
        .map(|l| l.ends)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_jump_shifts_leases_instead_of_expiring_them() {
    let time = ManualTime::new(T0);
    let mut h = Harness::start_on("", "", time.clone() as Arc<dyn TimeSource>).await;
    let ip = h.bind(A).await;
    let ends = h.lease_end(ip).await.expect("a lease");
    assert_eq!(ends, (T0 + 3600) as i64, "1h from the daemon's start");

    // Forward two days: without the shift, the housekeeping would expire
    // the lease and give the address away.
    time.set_wall(T0 + 2 * DAY as u64);
    let jumps = wait_jumps(&h, 1).await;
    assert!(jumps[0].detail.contains("+172800s"), "{jumps:?}");
    assert!(jumps[0].detail.contains("1 leases"), "{jumps:?}");
    h.lease_end_moves(ip, Some(ends)).await;
    let shifted = h.lease_end(ip).await.expect("still leased");
    assert_eq!(shifted, ends + 2 * DAY, "an hour left, as before the jump");
    let states = h.lease_states().await;
    assert!(
        states
            .iter()
            .any(|(i, _, s)| *i == ip && *s == berth_proto::LeaseState::Bound),
        "{states:?}"
    );
    assert!(
        !h.events().await.iter().any(|e| e.kind == EventKind::Expiry),
        "no expiry"
    );
    h.counted("clock_jump", 1).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while stored_end(&h, ip) != Some(shifted as u64) {
        assert!(tokio::time::Instant::now() < deadline, "shift not stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Back by three days: the lease does not grow three days longer.
    time.set_wall(T0 - DAY as u64);
    let jumps = wait_jumps(&h, 2).await;
    assert!(jumps[1].detail.contains("-259200s"), "{jumps:?}");
    h.lease_end_moves(ip, Some(shifted)).await;
    assert_eq!(h.lease_end(ip).await, Some(ends - DAY));
    // Still the client's: it renews as usual.
    assert!(
        h.renew(A, ip, WAIT).await.is_some(),
        "renewal after the jumps"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_jump_time_follows_the_monotonic_clock() {
    let time = ManualTime::new(T0);
    let mut h = Harness::start_on("", "", time.clone() as Arc<dyn TimeSource>).await;
    let ip = h.bind(A).await;
    // Drift within the threshold is no jump.
    time.set_wall(T0 + 5);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(h.lease_end(ip).await, Some((T0 + 3600) as i64));
    assert!(
        !h.events()
            .await
            .iter()
            .any(|e| e.kind == EventKind::ClockJump)
    );
    h.stop().await;
}
