//! End-to-end: `berth` (the ctl) against berthd's control socket, with real
//! clients in the lab.

use std::net::Ipv4Addr;
use std::time::Duration;

use berth_tests::{Daemon, Dhclient, Lab, Lease, ServerConfig, require_tools, root_or_skip};
use serde_json::Value;

const KNOWN_MAC: &str = "02:00:00:00:00:01";
const LEASE_WAIT: Duration = Duration::from_secs(20);

/// Runs `berth` against `d`; panics unless it exits 0.
fn ctl(d: &Daemon, args: &[&str]) -> String {
    d.ctl(args)
}

fn leases_json(d: &Daemon) -> Vec<Value> {
    let text = ctl(d, &["--json", "leases"]);
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("berth --json leases is not JSON ({e}):\n{text}"));
    v.as_array()
        .unwrap_or_else(|| panic!("berth --json leases is not an array:\n{text}"))
        .clone()
}

fn lease_of<'a>(leases: &'a [Value], mac: &str) -> Vec<&'a Value> {
    leases
        .iter()
        .filter(|l| {
            l["mac"]
                .as_str()
                .is_some_and(|m| m.eq_ignore_ascii_case(mac))
        })
        .collect()
}

#[test]
fn ctl_lists_the_leases_clients_got() {
    if !root_or_skip("ctl_lists_the_leases_clients_got") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let cfg = ServerConfig::lab().host("known1", KNOWN_MAC, "192.0.2.10");
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let known = lab.add_client(Some(KNOWN_MAC)).expect("known ns");
    let dk = Dhclient::start(&known).expect("dhclient known");
    dk.wait_bound(LEASE_WAIT).expect("known lease");
    let guest = lab.add_client(None).expect("guest ns");
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    let lg = dg.wait_bound(LEASE_WAIT).expect("guest lease");

    let leases = leases_json(&berthd);
    let k = lease_of(&leases, KNOWN_MAC);
    assert_eq!(k.len(), 1, "one lease for the known host: {leases:#?}");
    assert_eq!(k[0]["ip"], "192.0.2.10");
    assert_eq!(k[0]["kind"], "static");
    assert_eq!(k[0]["state"], "bound");
    let g = lease_of(&leases, guest.mac());
    assert_eq!(g.len(), 1, "one lease for the guest: {leases:#?}");
    assert_eq!(g[0]["ip"], lg.ip.to_string());
    assert_eq!(g[0]["kind"], "dynamic");
    assert_eq!(g[0]["state"], "bound");

    let status = ctl(&berthd, &["status"]);
    assert!(
        status.contains("br0"),
        "status names the interface:\n{status}"
    );
}

#[test]
fn promote_moves_a_dynamic_client_to_its_static_address() {
    if !root_or_skip("promote_moves_a_dynamic_client_to_its_static_address") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    // Short leases: the client's next RENEW comes after ~5 s.
    let mut cfg = ServerConfig::lab().lease("10s");
    cfg.min_lease = "5s".into();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let guest = lab.add_client(None).expect("guest ns");
    let dg = Dhclient::start(&guest).expect("dhclient guest");
    let (i, r) = dg
        .wait_reason(&["BOUND"], 0, LEASE_WAIT)
        .expect("guest lease");
    let before = Lease::from_dhclient(&r).expect("BOUND record");
    let target = Ipv4Addr::new(192, 0, 2, 20);
    assert_ne!(before.ip, target);

    ctl(
        &berthd,
        &[
            "promote",
            guest.mac(),
            "--ip",
            &target.to_string(),
            "--hostname",
            "guest1",
        ],
    );

    // The old address is NAKed at the next RENEW/REBIND; the client starts
    // over and is bound to its new static address.
    let moved = (0..10).find_map(|_| {
        let (_, r) = dg
            .wait_reason(&["BOUND", "RENEW", "REBIND", "REBOOT"], i + 1, LEASE_WAIT)
            .ok()?;
        let l = Lease::from_dhclient(&r).ok()?;
        (l.ip == target).then_some(l)
    });
    let moved = moved.unwrap_or_else(|| {
        panic!(
            "client did not move to {target}; records: {:?}",
            dg.records()
                .iter()
                .map(|r| format!("{} {}", r.reason(), r.get("new_ip_address").unwrap_or("-")))
                .collect::<Vec<_>>()
        )
    });
    assert_eq!(moved.ip, target);

    let leases = leases_json(&berthd);
    let mine = lease_of(&leases, guest.mac());
    assert!(
        mine.iter().any(|l| l["ip"] == target.to_string()
            && l["kind"] == "static"
            && l["state"] == "bound"),
        "a bound static lease on {target}: {leases:#?}"
    );
    assert!(
        !mine
            .iter()
            .any(|l| l["ip"] == before.ip.to_string() && l["state"] == "bound"),
        "the old dynamic lease is retired: {leases:#?}"
    );
    let hosts = ctl(&berthd, &["hosts"]);
    assert!(
        hosts.contains("guest1"),
        "the promoted host is listed:\n{hosts}"
    );
}

/// Leases written into the store while berthd is stopped: `n` bound leases
/// on 10.9.0.0 + i with 120-byte host names of control bytes (six bytes
/// each as JSON).
fn fill_store(path: &std::path::Path, n: u32) {
    use berthd::addr::MacAddr;
    use berthd::lease::{ClientKey, Lease as Stored, LeaseState};
    use berthd::store::{Store, Write, sqlite::SqliteStore};
    let name: String = std::iter::repeat_n('\u{1b}', 120).collect();
    let now = berthd::clock::TimeSource::wall(&berthd::clock::SystemClocks);
    let writes: Vec<Write> = (0..n)
        .map(|i| {
            let [_, b, c, d] = i.to_be_bytes();
            let mac = MacAddr([2, 0x77, 0, b, c, d]);
            Write::PutLease(Stored {
                ip: Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 9, 0, 0)) + i),
                client: ClientKey::from_hw(1, &mac.0),
                mac,
                hostname: Some(name.as_str().into()),
                state: LeaseState::Bound,
                starts: now,
                ends: now + 86_400,
            })
        })
        .collect();
    let mut store = SqliteStore::open(path).expect("open the stopped daemon's store");
    store.apply(&writes).expect("fill the store");
}

#[test]
fn ctl_lists_more_leases_than_one_frame_could_hold() {
    if !root_or_skip("ctl_lists_more_leases_than_one_frame_could_hold") {
        return;
    }
    require_tools(&["ip"]);
    const N: u32 = 8_000;
    let lab = Lab::new().expect("lab");
    let mut berthd = Daemon::start(&lab, &ServerConfig::lab()).expect("berthd starts");
    berthd.stop().expect("berthd stops");
    fill_store(berthd.store_path(), N);
    berthd
        .start_again()
        .expect("berthd starts with the filled store");

    let text = ctl(&berthd, &["--json", "leases"]);
    assert!(
        text.len() > berth_proto::MAX_FRAME_BYTES,
        "{} bytes of JSON",
        text.len()
    );
    let v: Value = serde_json::from_str(&text).expect("one JSON document");
    let all = v.as_array().expect("an array");
    assert_eq!(all.len(), N as usize);
    assert_eq!(all[0]["ip"], "10.9.0.0");
    let last = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 9, 0, 0)) + N - 1);
    assert_eq!(all[N as usize - 1]["ip"], last.to_string());
    assert_eq!(
        all[5]["hostname"].as_str().map(|h| h.chars().count()),
        Some(120),
        "--json is exact"
    );

    let table = ctl(&berthd, &["leases"]);
    assert_eq!(
        table.lines().count(),
        N as usize + 1,
        "a header and a line each"
    );
    assert!(!table.contains('\u{1b}'), "no escape reaches the terminal");
}
