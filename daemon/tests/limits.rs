//! In-process: the flood and renewal limits, and arrivals, as the whole
//! server applies them (channel sockets, memory store).

mod harness;

use berth_proto::EventKind;
use berthd::packet::MessageType;
use berthd::store::Store;
use harness::*;

/// B is a static host (the harness's pool has one address, which A takes).
fn with_b(limits: &str) -> String {
    format!("{limits}\n[[host]]\nname = \"b\"\nmac = \"{B}\"\nip = \"{STATIC}\"\n")
}

const FLOOD: &str = r#"
[limits.flood]
packets = 5
window = "1m"
ignore = "1h"
"#;

const RENEWAL: &str = r#"
[limits.renewal]
renewals = 3
window = "1h"
block = "1h"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_mac_is_ignored_and_counted_while_others_are_served() {
    let mut h = Harness::start(&with_b(FLOOD)).await;
    for _ in 0..20 {
        let p = h.packet(A, MessageType::Discover);
        h.post(&p).await;
    }
    h.counted("flood_ignored", 15).await;
    assert!(
        h.discover_within(A, QUIET).await.is_none(),
        "the flooder is ignored"
    );
    let offer = h.discover(B).await.expect("another client is served");
    assert_eq!(kind(&offer), MessageType::Offer);
    let floods: Vec<_> = h
        .events()
        .await
        .into_iter()
        .filter(|e| e.kind == EventKind::Flood)
        .collect();
    assert_eq!(
        floods.len(),
        1,
        "one event when the MAC starts being ignored"
    );
    assert_eq!(floods[0].mac.as_deref(), Some(&*A.to_string()));
    assert!(
        floods[0].detail.contains("more than 5 packets in 1m"),
        "{floods:?}"
    );
    let status = h.api.status(ctx()).await.expect("rpc").expect("status");
    assert_eq!(status.rate_limited_clients, 1, "status counts the flooder");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renewal_limit_blocks_a_client_through_the_store() {
    let mut h = Harness::start(&with_b(RENEWAL)).await;
    let ip = h.bind(A).await;
    for n in 1..=3 {
        let ack = h.renew(A, ip, WAIT).await.expect("a renewal is answered");
        assert_eq!(kind(&ack), MessageType::Ack, "renewal {n}");
    }
    assert!(
        h.renew(A, ip, QUIET).await.is_none(),
        "after 3 renewals the client is ignored"
    );
    let blocks = h.mem().clone().load_blocks().expect("blocks");
    assert_eq!(blocks.len(), 1, "the block is durable");
    assert_eq!(blocks[0].mac, A);
    let ev = h
        .events()
        .await
        .into_iter()
        .find(|e| e.kind == EventKind::Block)
        .expect("a block event");
    assert_eq!(ev.mac.as_deref(), Some(&*A.to_string()));
    assert!(
        ev.detail.starts_with("renewal limit: 3 renewals within 1h"),
        "{ev:?}"
    );
    // Others are unaffected.
    assert!(h.discover(B).await.is_some());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrival_is_once_per_new_client_and_not_for_one_with_a_lease() {
    let mut h = Harness::start("").await;
    h.bind(A).await;
    let arrivals =
        |evs: &[berth_proto::Event]| evs.iter().filter(|e| e.kind == EventKind::Arrival).count();
    assert_eq!(
        arrivals(&h.events().await),
        1,
        "DISCOVER and REQUEST: one arrival"
    );
    let ip = h.bind(A).await;
    h.renew(A, ip, WAIT).await.expect("renewal");
    assert_eq!(
        arrivals(&h.events().await),
        1,
        "a client with a lease is not new"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_relays_only_directly_attached_clients_are_served() {
    let mut h = Harness::start(&with_b("")).await;
    for mac in [A, B] {
        let mut p = h.packet(mac, MessageType::Discover);
        p.giaddr = [192, 0, 2, 200].into();
        assert!(h.send(&p, QUIET).await.is_none(), "no relay is allowed");
    }
    h.counted("relay_refused", 2).await;
    let offer = h.discover(B).await.expect("the static host, attached");
    assert_eq!(offer.yiaddr, STATIC);
    assert!(h.discover(A).await.is_some(), "a dynamic client, attached");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_host_behind_an_allowed_relay_is_served() {
    let mut h = Harness::start(&with_b("[limits]\nrelays = [\"192.0.2.0/24\"]\n")).await;
    let mut p = h.packet(B, MessageType::Discover);
    p.giaddr = [192, 0, 2, 200].into();
    let offer = h.send(&p, WAIT).await.expect("served through the relay");
    assert_eq!(offer.yiaddr, STATIC);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_outside_the_allow_list_and_circuits_over_their_rate_are_dropped() {
    let limits = "[limits]\nrelays = [\"192.0.2.200\"]\n[limits.rate]\nper_circuit = 3\n";
    let mut h = Harness::start(&with_b(limits)).await;
    let relayed = |h: &mut Harness, giaddr: [u8; 4], port: u8| {
        let mut p = h.packet(B, MessageType::Discover);
        p.giaddr = giaddr.into();
        p.options.set_bytes(82, &[1, 1, port]);
        p
    };
    let p = relayed(&mut h, [192, 0, 2, 201], 1);
    assert!(h.send(&p, QUIET).await.is_none(), "not an allowed relay");
    h.counted("relay_refused", 1).await;
    for _ in 0..3 {
        let p = relayed(&mut h, [192, 0, 2, 200], 1);
        h.post(&p).await;
    }
    h.counted("offered", 3).await;
    let p = relayed(&mut h, [192, 0, 2, 200], 1);
    h.post(&p).await;
    h.counted("rate_limited", 1).await;
    let p = relayed(&mut h, [192, 0, 2, 200], 2);
    assert!(
        h.send(&p, WAIT).await.is_some(),
        "another circuit is served"
    );
    h.stop().await;
}
