//! The store's health, seen from outside: failing writes are an event and a
//! `status` field, no ACK leaves for what was not stored, and service comes
//! back by itself once writes succeed again. In-process, without root.

mod harness;

use berth_proto::EventKind;
use berthd::packet::MessageType;
use harness::{A, Harness, WAIT, ctx, kind};

#[tokio::test]
async fn failing_writes_are_reported_and_service_recovers_by_itself() {
    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;
    let s = h.api.status(ctx()).await.expect("rpc").expect("status");
    assert!(
        s.store_health.ok && s.store_health.last_ok.is_some(),
        "{s:?}"
    );

    // The store refuses the renewal's write: no ACK, an event, status says so.
    h.mem().reject_ip(ip);
    assert!(
        h.renew(A, ip, std::time::Duration::from_millis(500))
            .await
            .is_none()
    );
    h.counted("write_failed", 1).await;
    let s = h.api.status(ctx()).await.expect("rpc").expect("status");
    assert!(!s.store_health.ok, "{s:?}");
    assert!(s.store_health.failing_since.is_some());
    assert!(s.store_health.last_error.is_some());
    let failing: Vec<_> = h
        .events()
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::StoreFailing)
        .collect();
    assert_eq!(failing.len(), 1, "one event when failing starts");
    assert!(!failing[0].ok);

    // Writes work again: the next renewal is ACKed and the store is healthy.
    h.mem().allow_ip(ip);
    let ack = h
        .renew(A, ip, WAIT)
        .await
        .expect("ACK once the store writes");
    assert_eq!(kind(&ack), MessageType::Ack);
    let s = h.api.status(ctx()).await.expect("rpc").expect("status");
    assert!(
        s.store_health.ok && s.store_health.failing_since.is_none(),
        "{s:?}"
    );
    assert!(
        h.events()
            .await
            .iter()
            .any(|e| e.kind == EventKind::StoreRecovered),
        "an event when the store recovers"
    );
}

/// `commit_delay_us` holds each batch open that long for company: the ACK
/// waits at least that long, from the start and after a reload sets it.
/// (Only lower bounds are checked: a slow machine cannot fail them.)
#[tokio::test]
async fn a_commit_delay_holds_the_ack_back_from_the_start_and_after_a_reload() {
    let delay = std::time::Duration::from_millis(100);
    let mut h = Harness::start_with("commit_delay_us = 100000", "").await;
    let started = std::time::Instant::now();
    h.bind(A).await;
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    h.stop().await;

    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;
    std::fs::write(
        h.config_path(),
        harness::config_with(h.dir.path(), "commit_delay_us = 100000", ""),
    )
    .expect("write config");
    h.api.reload(ctx()).await.expect("rpc").expect("reload");
    let started = std::time::Instant::now();
    let ack = h.renew(A, ip, WAIT).await.expect("ACK");
    assert_eq!(kind(&ack), MessageType::Ack);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
}
