//! End-to-end: pool policies, renewal and flood limits, in a namespace lab
//! with the real berthd and real clients.

use std::net::Ipv4Addr;
use std::time::Duration;

use berth_tests::{Daemon, Dhclient, Lab, Udhcpc, require_tools, root_or_skip};

const LEASE_WAIT: Duration = Duration::from_secs(20);
const KNOWN_MAC: &str = "02:00:00:00:00:01";

/// `[server]` and `[options]` for the lab (br0, 192.0.2.1), then `rest`.
fn config(server_extra: &str, rest: &str) -> String {
    format!(
        r#"[server]
interfaces = ["br0"]
store = "{{store}}"
control_socket = "{{control}}"
default_lease = "1h"
max_lease = "12h"
min_lease = "1s"
{server_extra}

[options]
domain-name-servers = ["192.0.2.1"]

{rest}
"#
    )
}

/// A registration pool for unknown clients with a 5-minute lease and its
/// own DNS and domain, and a known host outside it.
const REGISTRATION: &str = r#"
[[subnet]]
cidr = "192.0.2.0/24"
options = { routers = ["192.0.2.1"], domain-name = "lab.test" }

[[subnet.pool]]
range = ["192.0.2.150", "192.0.2.160"]
clients = "unknown"
lease = "5m"
options = { domain-name-servers = ["192.0.2.99"], domain-name = "register.test" }
exclude = ["192.0.2.150"]

[[host]]
name = "known1"
mac = "02:00:00:00:00:01"
ip = "192.0.2.10"
"#;

#[test]
fn unknown_client_lands_in_the_registration_range_and_a_known_one_on_its_address() {
    if !root_or_skip("unknown_client_lands_in_the_registration_range") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let _berthd = Daemon::start_toml(&lab, &config("", REGISTRATION)).expect("berthd starts");

    let guest = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&guest).expect("dhclient starts");
    let lease = dh.wait_bound(LEASE_WAIT).expect("the guest gets a lease");
    assert_eq!(
        lease.ip,
        Ipv4Addr::new(192, 0, 2, 151),
        "first registration address (.150 is excluded)"
    );
    assert_eq!(lease.lease_time, Some(300), "the range's 5-minute lease");
    assert_eq!(lease.dns, vec!["192.0.2.99"], "the range's DNS");
    assert_eq!(lease.domain_name.as_deref(), Some("register.test"));
    assert_eq!(lease.routers, vec!["192.0.2.1"], "the subnet's router");

    let known = lab.add_client(Some(KNOWN_MAC)).expect("client ns");
    let dh = Dhclient::start(&known).expect("dhclient starts");
    let lease = dh
        .wait_bound(LEASE_WAIT)
        .expect("the known host gets a lease");
    assert_eq!(lease.ip, Ipv4Addr::new(192, 0, 2, 10), "its static address");
    assert_eq!(lease.lease_time, Some(3600), "the server's default lease");
    assert_eq!(lease.dns, vec!["192.0.2.1"], "the global DNS");
    assert_eq!(lease.domain_name.as_deref(), Some("lab.test"));
    let _ = Udhcpc::start;
}
