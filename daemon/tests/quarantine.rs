//! Listing and clearing quarantines through the control API, in-process
//! (see `harness`): a declined address shows with its reason and MAC, a
//! clear is durable before it is answered, frees the address for the pool
//! and is announced; a clear the store refuses changes nothing.

mod harness;

use berth_proto::{ErrorKind, EventKind, PageRequest, QuarantineReason};
use berthd::lease::LeaseState;
use berthd::packet::{MessageType, code};
use harness::*;

/// The holder of `ip` declines it (RFC 2131 4.3.3): quarantined.
async fn decline(h: &mut Harness, ip: std::net::Ipv4Addr) {
    let mut p = h.packet(A, MessageType::Decline);
    p.options.set_bytes(code::REQUESTED_IP, &ip.octets());
    p.options.set_bytes(code::SERVER_ID, &SERVER.octets());
    h.post(&p).await;
    h.counted("declined", 1).await;
}

async fn quarantined(h: &Harness) -> Vec<berth_proto::QuarantineInfo> {
    h.api
        .quarantine(ctx(), PageRequest::first())
        .await
        .expect("rpc")
        .expect("quarantine")
        .items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleared_quarantine_is_durable_announced_and_frees_the_address() {
    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;
    assert_eq!(ip, POOL);
    decline(&mut h, ip).await;

    let list = quarantined(&h).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].ip, POOL);
    assert_eq!(list[0].reason, QuarantineReason::Declined);
    assert_eq!(list[0].mac.as_deref(), Some("02:00:00:00:00:0a"));
    assert!(list[0].until > list[0].since);
    assert!(
        h.discover_within(B, QUIET).await.is_none(),
        "the pool's only address is quarantined"
    );

    // A clear the store refuses is not made.
    h.mem().fail_next_apply();
    let refused = h
        .api
        .quarantine_clear(ctx(), POOL)
        .await
        .expect("rpc")
        .expect_err("the write failed");
    assert_eq!(refused.kind, ErrorKind::Internal);
    assert_eq!(quarantined(&h).await.len(), 1, "still quarantined");

    let cleared = h
        .api
        .quarantine_clear(ctx(), POOL)
        .await
        .expect("rpc")
        .expect("cleared");
    assert_eq!(cleared.ip, POOL);
    assert!(quarantined(&h).await.is_empty());
    assert!(
        h.mem()
            .leases()
            .iter()
            .all(|l| !(l.ip == POOL && l.state == LeaseState::Declined)),
        "the store no longer holds the quarantine"
    );
    let events = h.events().await;
    let ev = events
        .iter()
        .find(|e| e.kind == EventKind::QuarantineCleared)
        .expect("a quarantine_cleared event");
    assert_eq!(ev.ip, Some(POOL));

    let offer = h.discover(B).await.expect("the address is free again");
    assert_eq!(offer.yiaddr, POOL);

    let again = h
        .api
        .quarantine_clear(ctx(), POOL)
        .await
        .expect("rpc")
        .expect_err("nothing to clear");
    assert_eq!(again.kind, ErrorKind::NotFound);
    h.stop().await;
}
