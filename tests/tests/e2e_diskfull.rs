//! End-to-end: the store's disk fills up while clients ask, then space
//! comes back. The SQLite store lives on a small tmpfs; a filler file takes
//! every free byte. While full: no ACK leaves for a lease that was not
//! stored (tcpdump on the server's bridge sees every ACK; the store is
//! compared with them afterwards), a `store_failing` event, and `berth
//! status` says FAILING. Once the filler is deleted berthd recovers by
//! itself: a `store_recovered` event, status healthy, the client that was
//! refused while the disk was full gets its lease without being restarted,
//! a renewal refused while full succeeds, and SQLite's integrity check
//! passes.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use berth_proto::{Event, EventKind};
use berth_tests::pcap::{self, Capture};
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::store::{self, StoredLease};
use berth_tests::tmpfs::Tmpfs;
use berth_tests::{
    Api, Daemon, Lab, ServerConfig, Udhcpc, require_tools, root_or_skip, wait_until,
};

/// The tmpfs: room for the store and its WAL, small enough to fill at once.
const TMPFS_BYTES: u64 = 4 << 20;

/// The store health events, in order, for a failure message.
fn kinds(events: &[Event]) -> Vec<&'static str> {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::StoreFailing | EventKind::StoreRecovered))
        .map(|e| e.kind.as_str())
        .collect()
}

fn count(events: &[Event], kind: EventKind) -> usize {
    events.iter().filter(|e| e.kind == kind).count()
}

/// Every ACK on the wire is for a lease the store holds: same client,
/// bound, and ending no earlier than the ACK promised (2 s of slack for the
/// time between the decision and the capture).
fn assert_acks_stored(
    capture: &Path,
    store: &BTreeMap<Ipv4Addr, StoredLease>,
    berthd: &Daemon,
) -> usize {
    let acks = pcap::acks_at(capture).expect("read the capture");
    for a in &acks {
        let promised = a.at as i64 + i64::from(a.lease_secs.unwrap_or(0)) - 2;
        match store.get(&a.ip) {
            Some(l) if l.mac == a.mac && l.state == "bound" && l.ends >= promised => {}
            other => panic!(
                "{} was ACKed to {} at {:.3} for {:?}s, but the store has {other:?}\n{}",
                a.ip,
                a.mac,
                a.at,
                a.lease_secs,
                berthd.log()
            ),
        }
    }
    acks.len()
}

#[test]
fn a_full_disk_withholds_acks_and_service_recovers_when_space_returns() {
    if !root_or_skip("a_full_disk_withholds_acks_and_service_recovers_when_space_returns") {
        return;
    }
    require_tools(&["perfdhcp", "tcpdump", "udhcpc", "ip", "mount"]);
    let disk = Tmpfs::mount(TMPFS_BYTES).expect("tmpfs");
    let store = disk.path().join("leases.db");
    let lab = Lab::new().expect("lab");
    let mut cfg = ServerConfig::lab()
        .pool("192.0.2.10", "192.0.2.250")
        .lease("1h")
        // perfdhcp is a relay.
        .relay("192.0.2.0/24");
    // `{control}`: the daemon's tempdir (start_toml fills it in).
    cfg.control_socket = Some("{control}".into());
    let mut berthd = Daemon::start_toml(&lab, &cfg.to_toml(&store)).expect("berthd");
    let api = Api::connect(berthd.control_socket()).expect("control API");

    let mut capture = Capture::start(lab.server_ns(), berthd.dir()).expect("tcpdump");

    // With room: a client gets its lease, perfdhcp (a relay) fills some more.
    let a_ns = lab.add_client(None).expect("client a");
    let mut a = Udhcpc::start(&a_ns).expect("udhcpc a");
    let a_lease = a.wait_bound(Duration::from_secs(20)).expect("a bound");
    let perf_ns = lab.add_client(None).expect("perfdhcp namespace");
    perf_ns.add_addr("192.0.2.2/24").expect("perfdhcp address");
    let load = |seconds| PerfdhcpRun {
        rate: 50,
        clients: 60,
        seconds,
    };
    let (before, text) = perfdhcp::run(&perf_ns, &load(2)).expect("perfdhcp with room");
    assert!(before.completed() > 20, "perfdhcp with room:\n{text}");

    // Full: every free byte goes to the filler.
    let (filler, bytes) = disk.fill("filler").expect("fill the disk");
    eprintln!("diskfull: filler took {bytes} bytes");

    // A renewal cannot be stored: no ACK, the client keeps waiting.
    let renews_before = a.records().len();
    a.renew_now().expect("SIGUSR1");
    // A new client asks: offered, but its REQUEST gets no ACK.
    let b_ns = lab.add_client(None).expect("client b");
    let b = Udhcpc::start(&b_ns).expect("udhcpc b");
    let (full, text) = perfdhcp::run(&perf_ns, &load(3)).expect("perfdhcp while full");
    eprintln!(
        "diskfull: while full perfdhcp got {} offers and {} ACKs",
        full.discover_offer.received,
        full.completed()
    );
    assert!(
        full.discover_offer.received > 0,
        "offers need no write and still go out:\n{text}"
    );
    // One `store_failing` when failing starts. A write may still succeed
    // now and then while full (a checkpoint lets SQLite reuse its WAL from
    // the start): then a `store_recovered` and the next `store_failing`
    // follow, and what it stored may be ACKed. Whatever happens, the store
    // is failing now.
    let events = api.all_events();
    let failing = count(&events, EventKind::StoreFailing);
    let recovered = count(&events, EventKind::StoreRecovered);
    assert!(
        failing >= 1 && failing == recovered + 1,
        "{failing} store_failing, {recovered} store_recovered while full: {:?}",
        kinds(&events)
    );
    // With no write through, nobody got an ACK.
    if recovered == 0 {
        assert!(
            b.records().iter().all(|r| r.reason() != "bound"),
            "b was bound while the disk was full:\n{}",
            b.log()
        );
        assert!(
            a.records()[renews_before..]
                .iter()
                .all(|r| r.reason() != "renew"),
            "a's renewal was ACKed while the disk was full"
        );
    }
    let status = api.status().expect("status");
    assert!(!status.store_health.ok, "{:?}", status.store_health);
    assert!(status.store_health.failing_since.is_some());
    let error = status.store_health.last_error.clone().unwrap_or_default();
    assert!(!error.is_empty(), "{:?}", status.store_health);
    let human = berthd.ctl(&["status"]);
    assert!(human.contains("FAILING since"), "berth status:\n{human}");

    // Space returns: berthd recovers by itself.
    std::fs::remove_file(&filler).expect("remove the filler");
    let b_lease = b
        .wait_bound(Duration::from_secs(30))
        .expect("b gets its lease once there is room, without a restart");
    assert_ne!(b_lease.ip, a_lease.ip);
    wait_until(Duration::from_secs(10), || {
        let e = api.all_events();
        (count(&e, EventKind::StoreRecovered) == count(&e, EventKind::StoreFailing)).then_some(())
    })
    .unwrap_or_else(|| panic!("no store_recovered event: {:?}", kinds(&api.all_events())));
    let status = api.status().expect("status");
    assert!(
        status.store_health.ok && status.store_health.failing_since.is_none(),
        "{:?}",
        status.store_health
    );
    let from = a.records().len();
    a.renew_now().expect("SIGUSR1");
    a.wait_reason(&["renew"], from, Duration::from_secs(15))
        .expect("a renews once there is room");
    let (after, text) = perfdhcp::run(&perf_ns, &load(2)).expect("perfdhcp after");
    assert!(after.completed() > 20, "perfdhcp after recovery:\n{text}");

    capture.stop();
    drop(api);
    berthd.stop().expect("clean stop");
    let (rows, verdict) = store::leases(&store).expect("read the store");
    assert_eq!(verdict, "ok", "integrity check");
    let acks = assert_acks_stored(capture.file(), &rows, &berthd);
    eprintln!(
        "diskfull: {acks} ACKs on the wire, all stored; {} leases in the store; error while full: {error}",
        rows.len()
    );
}
