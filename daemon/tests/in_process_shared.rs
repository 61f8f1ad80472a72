//! The commit path when the store is shared with other daemons (see
//! `harness`): a lease write the database refuses (a lost claim) is treated
//! like a failed write for that change, but what memory learns is the
//! winner's lease.

mod harness;

use berth_proto::{EventKind, LeaseState};
use berthd::lease::{ClientKey, Lease, LeaseState as State};
use berthd::packet::{MessageType, code};
use harness::*;

/// B's lease on the pool's only address, as another daemon wrote it.
fn bs_lease() -> Lease {
    let now = berthd::clock::TimeSource::wall(&berthd::clock::SystemClocks);
    Lease {
        ip: POOL,
        client: ClientKey::from_hw(1, &B.0),
        mac: B,
        hostname: None,
        state: State::Bound,
        starts: now,
        ends: now + 3600,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_claim_naks_the_request_and_learns_the_winner() {
    let mut h = Harness::start("").await;
    let offer = h.discover(A).await.expect("an offer");
    assert_eq!(offer.yiaddr, POOL);
    // Meanwhile another daemon on the same database gave the address to B.
    h.mem().taken_by_another(bs_lease());

    let reply = h.select(A, POOL, WAIT).await.expect("an answer");
    assert_eq!(
        kind(&reply),
        MessageType::Nak,
        "never an ACK for B's address"
    );
    assert!(reply.yiaddr.is_unspecified());
    assert_eq!(
        reply.options.get(code::SERVER_ID),
        Some(&SERVER.octets()[..])
    );
    h.counted("claim_lost", 1).await;
    assert_eq!(
        h.lease_states().await,
        vec![(POOL, B.to_string(), LeaseState::Bound)],
        "memory holds the winner's lease"
    );
    assert_eq!(h.mem().leases(), vec![bs_lease()], "the store kept B's row");
    let events = h.events().await;
    assert!(
        !events.iter().any(|e| e.kind == EventKind::Ack),
        "no ACK event for a lease that is not A's: {events:?}"
    );
    assert_eq!(h.counters().await.get("acked"), None);

    // A's next DISCOVER is not offered B's address (the pool has no other).
    assert!(h.discover_within(A, QUIET).await.is_none());
    h.counted("no_address", 1).await;
    h.stop().await;
}

fn learned(
    leases: Vec<(std::net::Ipv4Addr, Option<Lease>)>,
    hosts: Vec<(String, Option<berthd::store::StoredHost>)>,
    full: bool,
) -> berthd::store::Learned {
    berthd::store::Learned {
        leases,
        hosts,
        blocks: Vec::new(),
        full,
        read_at: std::time::Instant::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_daemons_changes_reach_memory_and_are_not_written_back() {
    let mem = berthd::store::MemoryStore::shared();
    let mut h = Harness::start_with_store(mem.clone(), "", "").await;
    // Another daemon leased the pool's only address to B.
    assert!(mem.announce(learned(vec![(POOL, Some(bs_lease()))], vec![], false)));
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.lease_states().await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "never learned");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        h.discover_within(A, QUIET).await.is_none(),
        "offered B's address"
    );

    // ... and added A as a static host.
    let host = berthd::store::StoredHost {
        name: "printer".into(),
        mac: A,
        ip: STATIC,
        options: String::new(),
        created_at: 1,
    };
    assert!(mem.announce(learned(vec![], vec![("printer".into(), Some(host))], false)));
    let offer = loop {
        if let Some(o) = h.discover_within(A, QUIET).await {
            break o;
        }
        assert!(tokio::time::Instant::now() < deadline, "host never served");
    };
    assert_eq!(offer.yiaddr, STATIC);

    // A full re-read without either: both gone, the address is A's to have.
    assert!(mem.announce(learned(vec![], vec![], true)));
    let offer = loop {
        let o = h.discover(A).await.expect("an offer");
        if o.yiaddr == POOL {
            break o;
        }
        assert!(tokio::time::Instant::now() < deadline, "never forgot them");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(offer.yiaddr, POOL);
    assert_eq!(mem.applied_batches(), 0, "nothing learned was written back");
    h.stop().await;
}
