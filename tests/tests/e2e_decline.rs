//! End-to-end: a client that finds its ACKed address in use DECLINEs it
//! (busybox udhcpc's `-a` ARP check, against a namespace squatting on the
//! address), gets another address, and the declined one stays quarantined
//! for the probation time, under the declining client.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_tests::{Daemon, Lab, ServerConfig, Udhcpc, UdhcpcOptions, require_tools, root_or_skip};
use serde_json::Value;

const LEASE_WAIT: Duration = Duration::from_secs(40);

#[test]
fn a_declined_address_is_quarantined_and_the_client_gets_another() {
    if !root_or_skip("a_declined_address_is_quarantined_and_the_client_gets_another") {
        return;
    }
    require_tools(&["udhcpc", "ip"]);
    let lab = Lab::new().expect("lab");
    // Someone configured .100 by hand; berthd does not look (no ARP), so it
    // offers .100 and only the client's own check finds the conflict.
    let squatter = lab.add_client(None).expect("squatter ns");
    squatter
        .add_addr("192.0.2.100/24")
        .expect("squatter address");
    let mut cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.102");
    cfg.server_extra = "arp = false\ndecline_probation = \"10m\"".into();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let c = lab.add_client(None).expect("client ns");
    let u = Udhcpc::start_with(
        &c,
        UdhcpcOptions {
            arp_check: true,
            ..UdhcpcOptions::default()
        },
    )
    .expect("udhcpc starts");
    let lease = u.wait_bound(LEASE_WAIT).unwrap_or_else(|e| {
        panic!(
            "no lease after the DECLINE: {e}\n{}\n{}",
            u.log(),
            berthd.log()
        )
    });
    assert_eq!(lease.ip, Ipv4Addr::new(192, 0, 2, 101), "{}", berthd.log());

    let leases: Value = serde_json::from_str(&berthd.ctl(&["--json", "leases"])).expect("json");
    let declined: Vec<&Value> = leases
        .as_array()
        .expect("array")
        .iter()
        .filter(|l| l["ip"] == "192.0.2.100")
        .collect();
    assert_eq!(declined.len(), 1, "{leases:#}");
    assert_eq!(declined[0]["kind"], "quarantined", "{leases:#}");
    assert_eq!(declined[0]["state"], "declined", "{leases:#}");
    assert_eq!(declined[0]["mac"], c.mac(), "under the declining client");
    // Quarantined for the probation time: its end is ten minutes out.
    let ends = declined[0]["ends"].as_str().expect("ends");
    let ends: jiff::Timestamp = ends.parse().expect("RFC 3339");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let left = ends.as_second() - now;
    assert!((500..=600).contains(&left), "{left}s of probation left");

    let events = berthd.ctl(&["--json", "events"]);
    assert!(
        events
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|e| e["kind"] == "decline" && e["ip"] == "192.0.2.100"),
        "a decline event:\n{events}"
    );
}
