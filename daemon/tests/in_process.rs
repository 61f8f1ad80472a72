//! The whole server in-process, without root (see `harness`): the commit
//! path, operator changes and reload, against a memory store that can be
//! made to fail or held.

mod harness;

use std::time::Duration;

use berth_proto::{EventKind, HostSpec, LeaseState, PageRequest, PromoteRequest, Target};
use berthd::packet::{MessageType, code};
use berthd::store::Store;
use harness::*;
use tarpc::context;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_ack_is_neither_logged_nor_evented_as_acked() {
    let mut h = Harness::start("").await;
    let offer = h.discover(A).await.expect("an offer: it needs no write");
    h.mem().fail_next_apply();
    assert!(
        h.select(A, offer.yiaddr, QUIET).await.is_none(),
        "ACK sent although its lease was not written"
    );
    h.counted("write_failed", 1).await;
    let events = h.events().await;
    assert_eq!(
        kinds(&events),
        vec![
            EventKind::Arrival,
            EventKind::Offer,
            EventKind::StoreFailing
        ],
        "no ack event for a lease that is not durable (the failure is one)"
    );
    assert_eq!(h.counters().await.get("acked"), None);

    // The retry is written, ACKed, evented and counted.
    let ack = h.select(A, offer.yiaddr, WAIT).await.expect("ack");
    assert_eq!(kind(&ack), MessageType::Ack);
    h.counted("acked", 1).await;
    let events = h.events().await;
    assert_eq!(events.last().map(|e| e.kind), Some(EventKind::Ack));
    assert_eq!(h.mem().leases().len(), 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_renewal_keeps_the_clients_lease_from_a_second_client() {
    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;
    assert_eq!(ip, POOL);
    let stored = h.mem().leases();

    h.mem().fail_next_apply();
    assert!(
        h.renew(A, ip, QUIET).await.is_none(),
        "renewal ACKed unwritten"
    );
    h.counted("write_failed", 1).await;

    // A still holds the address from its previous ACK and the store says
    // so: B must not be offered it.
    let offered = h.discover_within(B, QUIET).await;
    assert!(
        offered.is_none(),
        "B was offered {:?}, which A still holds",
        offered.map(|p| p.yiaddr)
    );
    h.counted("no_address", 1).await;
    assert_eq!(
        h.lease_states().await,
        vec![(POOL, A.to_string(), LeaseState::Bound)]
    );
    assert_eq!(h.mem().leases(), stored, "the store kept A's row");

    // Once the store writes again, A renews.
    let ack = h.renew(A, ip, WAIT).await.expect("renewal");
    assert_eq!(kind(&ack), MessageType::Ack);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_failed_renewals_in_flight_leave_the_durable_lease() {
    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;
    let durable = h.lease_end(ip).await;
    // Each renewal a second after the last, so each lease differs.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.store.shut();
    h.mem().reject_ip(ip);
    let mut first = h.packet(A, MessageType::Request);
    first.ciaddr = ip;
    h.post(&first).await;
    h.lease_end_moves(ip, durable).await;
    let extended = h.lease_end(ip).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut second = h.packet(A, MessageType::Request);
    second.ciaddr = ip;
    h.post(&second).await;
    h.lease_end_moves(ip, extended).await;
    h.store.open();
    h.counted("write_failed", 2).await;
    assert_eq!(
        h.lease_end(ip).await,
        durable,
        "memory is back at the lease the store holds"
    );
    h.mem().allow_ip(ip);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_clients_failed_move_keeps_its_old_lease() {
    let mut h = Harness::start("").await;
    let old = h.bind(A).await;
    let promoted = h
        .api
        .promote(
            ctx(),
            PromoteRequest {
                mac: A.to_string(),
                ip: Some(STATIC),
                hostname: Some("alpha".into()),
            },
        )
        .await
        .expect("rpc")
        .expect("promote");
    assert!(promoted.moving);

    // The client moves to its static address; the ACK that would release
    // the old lease cannot be written.
    let offer = h.discover(A).await.expect("offer of the static address");
    assert_eq!(offer.yiaddr, STATIC);
    h.mem().fail_next_apply();
    assert!(h.select(A, STATIC, QUIET).await.is_none());
    h.counted("write_failed", 1).await;

    // A still holds its dynamic address.
    assert!(
        h.discover_within(B, QUIET).await.is_none(),
        "B was offered A's address"
    );
    h.counted("no_address", 1).await;
    let states = h.lease_states().await;
    assert!(
        states.contains(&(old, A.to_string(), LeaseState::Bound)),
        "{states:?}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_that_cannot_be_saved_is_not_made() {
    let mut h = Harness::start("").await;
    h.bind(A).await;
    h.mem().fail_next_apply();
    let req = PromoteRequest {
        mac: A.to_string(),
        ip: None,
        hostname: Some("alpha".into()),
    };
    let err = h
        .api
        .promote(ctx(), req.clone())
        .await
        .expect("rpc")
        .expect_err("the promotion could not be written");
    assert!(err.message.contains("could not be saved"), "{err:?}");
    let hosts = h
        .api
        .hosts(ctx(), PageRequest::first())
        .await
        .expect("rpc")
        .expect("hosts")
        .items;
    assert!(hosts.is_empty(), "host kept in memory only: {hosts:?}");
    assert!(
        !kinds(&h.events().await).contains(&EventKind::Promote),
        "no promote event"
    );

    let ok = h
        .api
        .promote(ctx(), req)
        .await
        .expect("rpc")
        .expect("promote");
    assert_eq!(ok.host.ip, POOL);
    assert_eq!(
        h.mem().clone().load_hosts().expect("hosts").len(),
        1,
        "in the store"
    );
    assert_eq!(
        h.events().await.last().map(|e| e.kind),
        Some(EventKind::Promote)
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_changes_reach_memory_store_and_events_together() {
    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;

    let released = h
        .api
        .release(ctx(), Target::Ip(ip))
        .await
        .expect("rpc")
        .expect("release");
    assert_eq!(released.state, LeaseState::Released);
    assert_eq!(
        h.mem().leases()[0].state,
        berthd::lease::LeaseState::Released
    );
    assert_eq!(
        h.events().await.last().map(|e| e.kind),
        Some(EventKind::Release)
    );

    h.api
        .block(ctx(), B.to_string(), None)
        .await
        .expect("rpc")
        .expect("block");
    assert!(h.discover_within(B, QUIET).await.is_none(), "B is blocked");
    h.counted("ignored", 1).await;
    assert_eq!(h.mem().clone().load_blocks().expect("blocks").len(), 1);
    h.api
        .unblock(ctx(), B.to_string())
        .await
        .expect("rpc")
        .expect("unblock");
    assert!(h.mem().clone().load_blocks().expect("blocks").is_empty());

    let spec = HostSpec {
        name: "beta".into(),
        mac: B.to_string(),
        ip: STATIC,
        options: Vec::new(),
    };
    h.api
        .host_add(ctx(), spec.clone())
        .await
        .expect("rpc")
        .expect("host add");
    let offer = h.discover(B).await.expect("static offer");
    assert_eq!(offer.yiaddr, STATIC);
    h.api
        .host_update(
            ctx(),
            "beta".into(),
            HostSpec {
                name: "gamma".into(),
                ..spec
            },
        )
        .await
        .expect("rpc")
        .expect("rename");
    let stored: Vec<String> = h
        .mem()
        .clone()
        .load_hosts()
        .expect("hosts")
        .into_iter()
        .map(|h| h.name)
        .collect();
    assert_eq!(stored, vec!["gamma".to_string()]);
    h.api
        .host_remove(ctx(), "gamma".into())
        .await
        .expect("rpc")
        .expect("remove");
    assert!(h.mem().clone().load_hosts().expect("hosts").is_empty());
    let tail: Vec<EventKind> = kinds(&h.events().await)
        .into_iter()
        .filter(|k| {
            matches!(
                k,
                EventKind::Block
                    | EventKind::Unblock
                    | EventKind::HostAdded
                    | EventKind::HostUpdated
                    | EventKind::HostRemoved
            )
        })
        .collect();
    assert_eq!(
        tail,
        vec![
            EventKind::Block,
            EventKind::Unblock,
            EventKind::HostAdded,
            EventKind::HostUpdated,
            EventKind::HostRemoved
        ]
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_release_never_overwrites_a_newer_bind_in_the_store() {
    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;
    // Hold the writer so the release and the re-bind queue behind each other.
    h.store.shut();
    let api = h.api.clone();
    let release =
        tokio::spawn(async move { api.release(ctx(), Target::Ip(ip)).await.expect("rpc") });
    // The release has been decided once the lease shows released.
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.lease_states().await != vec![(ip, A.to_string(), LeaseState::Released)] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "release never decided"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut p = h.packet(A, MessageType::Request);
    p.options.set_bytes(code::REQUESTED_IP, &ip.octets());
    h.post(&p).await;
    // Decided (in memory) before the writer moves.
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.lease_states().await != vec![(ip, A.to_string(), LeaseState::Bound)] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "re-bind never decided"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.store.open();
    release.await.expect("task").expect("release");
    h.counted("acked", 2).await;
    assert_eq!(
        h.mem().leases()[0].state,
        berthd::lease::LeaseState::Bound,
        "the newer bind is what the store keeps"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_call_whose_caller_left_still_happens_completely() {
    let mut h = Harness::start("").await;
    let ip = h.bind(A).await;
    h.store.shut();
    let mut short = context::current();
    short.deadline = std::time::Instant::now() + Duration::from_millis(200);
    let gone = h.api.release(short, Target::Ip(ip)).await;
    assert!(gone.is_err(), "the caller's deadline passed: {gone:?}");
    h.store.open();
    // Memory and store both carry the release.
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.mem().leases()[0].state != berthd::lease::LeaseState::Released {
        assert!(
            tokio::time::Instant::now() < deadline,
            "release never written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        h.lease_states().await,
        vec![(ip, A.to_string(), LeaseState::Released)]
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_is_announced_only_once_it_is_recorded() {
    let mut h = Harness::start("").await;
    let mut discover = h.packet(A, MessageType::Discover);
    discover
        .options
        .set_bytes(code::LEASE_TIME, &1u32.to_be_bytes());
    let offer = h.send(&discover, WAIT).await.expect("offer");
    let mut request = h.packet(A, MessageType::Request);
    request
        .options
        .set_bytes(code::REQUESTED_IP, &offer.yiaddr.octets());
    request.options.set_bytes(code::SERVER_ID, &SERVER.octets());
    request
        .options
        .set_bytes(code::LEASE_TIME, &1u32.to_be_bytes());
    let ack = h.send(&request, WAIT).await.expect("ack");
    assert_eq!(kind(&ack), MessageType::Ack);
    // The one-second lease runs out; its expiry cannot be written.
    let tried = h.store.attempts();
    h.mem().reject_ip(ack.yiaddr);
    let deadline = tokio::time::Instant::now() + WAIT;
    while h.store.attempts() <= tried {
        assert!(tokio::time::Instant::now() < deadline, "no expiry tried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !kinds(&h.events().await).contains(&EventKind::Expiry),
        "expiry announced although not recorded"
    );
    assert_eq!(h.mem().leases()[0].state, berthd::lease::LeaseState::Bound);
    // Once the store writes again, housekeeping records it and says so.
    h.mem().allow_ip(ack.yiaddr);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !kinds(&h.events().await).contains(&EventKind::Expiry) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "expiry never announced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        h.mem().leases()[0].state,
        berthd::lease::LeaseState::Expired
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_takes_a_good_config_and_refuses_a_bad_one() {
    let mut h = Harness::start("").await;
    let host = format!("[[host]]\nname = \"known\"\nmac = \"{B}\"\nip = \"{STATIC}\"\n");
    std::fs::write(h.config_path(), config(h.dir.path(), &host)).expect("write");
    let r = h.api.reload(ctx()).await.expect("rpc").expect("reload");
    assert_eq!(r.hosts, 1);
    let offer = h.discover(B).await.expect("offer");
    assert_eq!(offer.yiaddr, STATIC, "the reloaded host is served");

    std::fs::write(h.config_path(), "[server]\nnonsense = 1\n").expect("write");
    let err = h
        .api
        .reload(ctx())
        .await
        .expect("rpc")
        .expect_err("a bad config is refused");
    assert_eq!(err.kind, berth_proto::ErrorKind::Invalid);
    let offer = h.discover(B).await.expect("offer");
    assert_eq!(offer.yiaddr, STATIC, "the running config stays");
    let reloads: Vec<bool> = h
        .events()
        .await
        .iter()
        .filter(|e| e.kind == EventKind::Reload)
        .map(|e| e.ok)
        .collect();
    assert_eq!(reloads, vec![true, false]);
    h.stop().await;
}
