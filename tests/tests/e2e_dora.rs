//! End-to-end: clients get what the config says (berthd in a namespace lab).

use std::net::Ipv4Addr;
use std::time::Duration;

use berth_tests::{Daemon, Dhclient, Lab, ServerConfig, Udhcpc, require_tools, root_or_skip};

const LEASE_WAIT: Duration = Duration::from_secs(20);
const KNOWN_MAC: &str = "02:00:00:00:00:01";

fn in_pool(ip: Ipv4Addr, first: u8, last: u8) -> bool {
    let o = ip.octets();
    o[..3] == [192, 0, 2] && (first..=last).contains(&o[3])
}

#[test]
fn known_mac_gets_static_ip_and_options() {
    if !root_or_skip("known_mac_gets_static_ip_and_options") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let mut cfg = ServerConfig::lab()
        .lease("2h")
        .host("known1", KNOWN_MAC, "192.0.2.10");
    cfg.dns = vec!["192.0.2.53".into(), "192.0.2.54".into()];
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let c = lab.add_client(Some(KNOWN_MAC)).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    let lease = dh.wait_bound(LEASE_WAIT).expect("dhclient gets a lease");

    assert_eq!(lease.ip, Ipv4Addr::new(192, 0, 2, 10), "static address");
    assert_eq!(lease.subnet_mask.as_deref(), Some("255.255.255.0"));
    assert_eq!(lease.routers, vec!["192.0.2.1"], "subnet's routers option");
    assert_eq!(
        lease.dns,
        vec!["192.0.2.53", "192.0.2.54"],
        "global DNS option"
    );
    assert_eq!(lease.domain_name.as_deref(), Some("lab.test"));
    assert_eq!(lease.lease_time, Some(7200), "default_lease = 2h");
    assert_eq!(lease.server_id.as_deref(), Some("192.0.2.1"));
    assert_eq!(
        c.ipv4_addrs().expect("addrs"),
        vec!["192.0.2.10/24"],
        "the script configured the address"
    );
    // One log line per transaction, naming the client.
    berthd
        .wait_log(KNOWN_MAC, Duration::from_secs(2))
        .expect("berthd logs the transaction with the client's MAC");
}

#[test]
fn unknown_mac_gets_pool_address() {
    if !root_or_skip("unknown_mac_gets_pool_address") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.102").host(
        "known1",
        KNOWN_MAC,
        "192.0.2.10",
    );
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    let lease = dh.wait_bound(LEASE_WAIT).expect("dhclient gets a lease");

    assert!(
        in_pool(lease.ip, 100, 102),
        "{} is not in the pool",
        lease.ip
    );
    assert_eq!(lease.routers, vec!["192.0.2.1"]);
    assert_eq!(lease.dns, vec!["192.0.2.1"]);
    assert_eq!(lease.lease_time, Some(3600), "default_lease = 1h");
}

#[test]
fn udhcpc_gets_lease_without_broadcast_flag() {
    if !root_or_skip("udhcpc_gets_lease_without_broadcast_flag") {
        return;
    }
    require_tools(&["udhcpc", "ip"]);
    let lab = Lab::new().expect("lab");
    let cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.102");
    let _berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let c = lab.add_client(None).expect("client ns");
    let u = Udhcpc::start(&c).expect("udhcpc starts");
    let lease = u.wait_bound(LEASE_WAIT).expect("udhcpc gets a lease");

    assert!(
        in_pool(lease.ip, 100, 102),
        "{} is not in the pool",
        lease.ip
    );
    assert_eq!(lease.subnet_mask.as_deref(), Some("255.255.255.0"));
    assert_eq!(lease.routers, vec!["192.0.2.1"]);
    assert_eq!(lease.dns, vec!["192.0.2.1"]);
    assert_eq!(lease.domain_name.as_deref(), Some("lab.test"));
    assert_eq!(lease.server_id.as_deref(), Some("192.0.2.1"));
}
