//! End-to-end: a lease's life (renew, release, restart, exhaustion).

use std::net::Ipv4Addr;
use std::time::Duration;

use berth_tests::{
    Daemon, Dhclient, DhclientOptions, Lab, Lease, ServerConfig, require_tools, root_or_skip,
};

const LEASE_WAIT: Duration = Duration::from_secs(20);

fn lab(test: &str) -> Option<Lab> {
    if !root_or_skip(test) {
        return None;
    }
    require_tools(&["dhclient", "ip"]);
    Some(Lab::new().expect("lab"))
}

#[test]
fn renew_extends_lease() {
    let Some(lab) = lab("renew_extends_lease") else {
        return;
    };
    let mut cfg = ServerConfig::lab().lease("10s");
    cfg.min_lease = "5s".into();
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    let (i, bound) = dh
        .wait_reason(&["BOUND"], 0, LEASE_WAIT)
        .expect("dhclient gets a lease");
    let bound = Lease::from_dhclient(&bound).expect("BOUND record");
    assert_eq!(bound.lease_time, Some(10), "default_lease = 10s");

    // T1 is half the lease: a RENEW (unicast to the server) after ~5 s.
    let (_, renew) = dh
        .wait_reason(&["RENEW", "REBIND"], i + 1, Duration::from_secs(15))
        .expect("dhclient renews");
    assert_eq!(
        renew.reason(),
        "RENEW",
        "the unicast RENEW was answered (REBIND means it was not)"
    );
    let renewed = Lease::from_dhclient(&renew).expect("RENEW record");
    assert_eq!(renewed.ip, bound.ip, "same address after RENEW");
    assert_eq!(renewed.lease_time, Some(10));
    let (e0, e1) = (
        bound.expiry.expect("BOUND has new_expiry"),
        renewed.expiry.expect("RENEW has new_expiry"),
    );
    assert!(e1 > e0, "expiry moved forward: {e0} -> {e1}");
}

#[test]
fn release_frees_address() {
    let Some(lab) = lab("release_frees_address") else {
        return;
    };
    let cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.100");
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    let only = Ipv4Addr::new(192, 0, 2, 100);

    let a = lab.add_client(None).expect("client a");
    let mut dha = Dhclient::start(&a).expect("dhclient a");
    let la = dha.wait_bound(LEASE_WAIT).expect("a gets a lease");
    assert_eq!(la.ip, only);

    dha.release(Duration::from_secs(15)).expect("dhclient -r");
    assert!(!dha.is_running(), "dhclient -r stopped the running client");

    let b = lab.add_client(None).expect("client b");
    let dhb = Dhclient::start(&b).expect("dhclient b");
    let lb = dhb
        .wait_bound(LEASE_WAIT)
        .expect("b gets the released address");
    assert_eq!(lb.ip, only);
}

#[test]
fn restart_keeps_address() {
    let Some(lab) = lab("restart_keeps_address") else {
        return;
    };
    let cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.102");
    let mut berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    // b first, so a's address is not simply the lowest free one.
    let b = lab.add_client(None).expect("client b");
    let dhb = Dhclient::start(&b).expect("dhclient b");
    let lb = dhb.wait_bound(LEASE_WAIT).expect("b gets a lease");
    let a = lab.add_client(None).expect("client a");
    let mut dha = Dhclient::start(&a).expect("dhclient a");
    let la = dha.wait_bound(LEASE_WAIT).expect("a gets a lease");
    assert_ne!(la.ip, lb.ip);
    // a vanishes without releasing.
    dha.kill().expect("kill dhclient a");

    let status = berthd.restart().expect("berthd restarts");
    assert!(status.success(), "berthd exits 0 on SIGTERM, got {status}");

    // A fresh dhclient (empty lease file: no requested-address hint).
    let dha2 = Dhclient::start(&a).expect("dhclient a again");
    let la2 = dha2.wait_bound(LEASE_WAIT).expect("a gets a lease again");
    assert_eq!(la2.ip, la.ip, "same address after berthd restart");
    assert_ne!(la2.ip, lb.ip);
}

#[test]
fn exhausted_pool_serves_nobody_else() {
    let Some(lab) = lab("exhausted_pool_serves_nobody_else") else {
        return;
    };
    // Short leases: the first three renew while the fourth waits.
    let mut cfg = ServerConfig::lab()
        .pool("192.0.2.100", "192.0.2.102")
        .lease("10s");
    cfg.min_lease = "5s".into();
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let mut holders = Vec::new();
    for k in 0..3 {
        let c = lab.add_client(None).expect("client ns");
        let dh = Dhclient::start(&c).expect("dhclient starts");
        let (i, r) = dh
            .wait_reason(&["BOUND"], 0, LEASE_WAIT)
            .unwrap_or_else(|e| panic!("client {k} gets a lease: {e:#}"));
        let l = Lease::from_dhclient(&r).expect("BOUND record");
        holders.push((c, dh, i, l.ip));
    }
    let mut ips: Vec<_> = holders.iter().map(|h| h.3).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 3, "three distinct addresses: {ips:?}");

    // The 4th tries once (`-1`) for 8 s, then gives up.
    let fourth = lab.add_client(None).expect("client ns 4");
    let mut dh4 = Dhclient::start_with(
        &fourth,
        DhclientOptions {
            once: true,
            timeout_secs: 8,
            ..DhclientOptions::default()
        },
    )
    .expect("dhclient 4");
    let got = dh4.wait_bound(Duration::from_secs(10));
    assert!(got.is_err(), "the 4th client got a lease: {got:?}");
    let status = dh4
        .wait_exit(Duration::from_secs(10))
        .expect("wait for dhclient 4")
        .expect("dhclient -1 gives up and exits");
    assert!(
        !status.success(),
        "dhclient 4 reports failure, got {status}"
    );

    for (c, dh, i, ip) in &holders {
        let (_, r) = dh
            .wait_reason(&["RENEW", "REBIND"], i + 1, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{} renews: {e:#}", c.name()));
        let l = Lease::from_dhclient(&r).expect("renew record");
        assert_eq!(l.ip, *ip, "{} keeps its address", c.name());
        assert!(
            !dh.records()
                .iter()
                .any(|r| matches!(r.reason(), "EXPIRE" | "FAIL" | "RELEASE")),
            "{} lost its lease",
            c.name()
        );
    }
}
