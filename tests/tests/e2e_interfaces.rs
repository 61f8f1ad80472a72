//! End-to-end: one berthd serving two interfaces at once. Each client gets
//! an address from the subnet of the interface its request came in on, so
//! replies leave on that interface.

use std::time::Duration;

use berth_tests::{Daemon, Dhclient, Lab, ServerConfig, SubnetConfig, root_or_skip};

/// The second link: server side `sx` at 198.51.100.1/24, client `eth0`.
const SECOND_IFACE: &str = "sx";

#[test]
fn two_interfaces_serve_their_own_subnets() {
    if !root_or_skip("two_interfaces_serve_their_own_subnets") {
        return;
    }
    let lab = Lab::new().expect("lab");
    let far = lab
        .add_link(SECOND_IFACE, "198.51.100.1/24", None)
        .expect("second link");
    let mut cfg = ServerConfig::lab();
    cfg.interfaces.push(SECOND_IFACE.to_string());
    cfg.subnets.push(SubnetConfig {
        cidr: "198.51.100.0/24".into(),
        range: ("198.51.100.10".into(), "198.51.100.20".into()),
        routers: vec!["198.51.100.1".into()],
        domain_name: Some("far.test".into()),
    });
    let berthd = Daemon::start(&lab, &cfg).expect("berthd");

    let near = lab.add_client(None).expect("client on br0");
    let near_dh = Dhclient::start(&near).expect("dhclient on br0");
    let far_dh = Dhclient::start(&far).expect("dhclient on sx");

    let near_lease = near_dh
        .wait_bound(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("br0 client: {e}\n{}", berthd.log()));
    let far_lease = far_dh
        .wait_bound(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("sx client: {e}\n{}", berthd.log()));

    assert!(
        near_lease.ip.to_string().starts_with("192.0.2.10"),
        "br0 client got {near_lease:?}"
    );
    assert!(
        far_lease.ip.to_string().starts_with("198.51.100."),
        "sx client got {far_lease:?}"
    );
    assert_eq!(far_lease.routers, vec!["198.51.100.1".to_string()]);
    // Info lines reach the log within a moment of the reply (berthd
    // writes them together), so wait for them.
    for line in [
        format!("on {SECOND_IFACE}: acked 198.51.100."),
        "on br0: acked 192.0.2.".to_string(),
    ] {
        berthd
            .wait_log(&line, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{e}\n{}", berthd.log()));
    }
}
