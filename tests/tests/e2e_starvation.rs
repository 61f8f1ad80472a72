//! End-to-end: pool starvation. A flood of DISCOVERs and INIT-REBOOT
//! REQUESTs from random MACs on the link cannot keep a new dhclient and a
//! new udhcpc from a lease, holds at most `max_offers` addresses, gets no
//! lease by INIT-REBOOT (RFC 2131 4.3.2), and a static host keeps being
//! served (its latency is printed, not asserted).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use berth_proto::EventKind;
use berth_tests::netns::netns_command;
use berth_tests::process::Proc;
use berth_tests::{Api, Daemon, Dhclient, Lab, Udhcpc, require_tools, root_or_skip};

const LEASE_WAIT: Duration = Duration::from_secs(20);
const STATIC_MAC: &str = "02:00:00:00:00:01";
const STATIC_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const MAX_OFFERS: u64 = 20;
/// The flood: 1,000 packets a second for 12 s, every other one an
/// INIT-REBOOT REQUEST for a pool address.
const FLOOD_COUNT: u32 = 12_000;
const FLOOD_SECS: u32 = 12;

const CONFIG: &str = r#"[server]
interfaces = ["br0"]
store = "{store}"
control_socket = "{control}"
default_lease = "1h"
max_lease = "12h"
min_lease = "1s"
offer_hold = "30s"

[options]
domain-name-servers = ["192.0.2.1"]

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.199"]
max_offers = 20
options = { routers = ["192.0.2.1"] }

[[host]]
name = "printer"
mac = "02:00:00:00:00:01"
ip = "192.0.2.10"
"#;

/// Seconds a fresh dhclient for the static host takes to bind.
fn static_host_latency(lab: &Lab) -> f64 {
    let ns = lab.add_client(Some(STATIC_MAC)).expect("static host ns");
    let started = Instant::now();
    let dh = Dhclient::start(&ns).expect("dhclient starts");
    let lease = dh
        .wait_bound(LEASE_WAIT)
        .expect("the static host is served");
    assert_eq!(lease.ip, STATIC_IP);
    started.elapsed().as_secs_f64()
}

#[test]
fn a_random_mac_flood_cannot_starve_new_clients_or_static_hosts() {
    if !root_or_skip("a_random_mac_flood_cannot_starve_new_clients_or_static_hosts") {
        return;
    }
    require_tools(&["dhclient", "udhcpc", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start_toml(&lab, CONFIG).expect("berthd starts");
    let api = Api::connect(berthd.control_socket()).expect("api");
    let quiet = static_host_latency(&lab);

    // The attacker: a client on the link, not a relay.
    let f = lab.add_client(None).expect("flooder ns");
    f.add_addr("192.0.2.250/24").expect("flooder address");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = netns_command(f.name(), env!("CARGO_BIN_EXE_flood"));
    cmd.args(["--relay", "192.0.2.250", "--server", "192.0.2.1"])
        .args(["--mac", "random", "--direct"])
        .args(["--init-reboot", "192.0.2.100-192.0.2.199"])
        .args(["--count", &FLOOD_COUNT.to_string()])
        .args(["--secs", &FLOOD_SECS.to_string()]);
    let mut flood = Proc::spawn("flood", &mut cmd, &dir.path().join("flood.log")).expect("flood");
    let flood_started = Instant::now();

    // Watch the pool while the flood runs: offers never hold more than
    // `max_offers` addresses (plus the legitimate clients' and the host's).
    let sampler = {
        let path = berthd.control_socket().to_path_buf();
        std::thread::spawn(move || {
            let api = Api::connect(&path).expect("api");
            let mut most = 0u64;
            while flood_started.elapsed() < Duration::from_secs(u64::from(FLOOD_SECS)) {
                if let Ok(pools) = api.pools() {
                    most = most.max(pools.iter().map(|p| p.leased).sum());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            most
        })
    };

    std::thread::sleep(Duration::from_secs(2));
    let (c1, c2) = (
        lab.add_client(None).expect("dhclient ns"),
        lab.add_client(None).expect("udhcpc ns"),
    );
    let started = Instant::now();
    let dh = Dhclient::start(&c1).expect("dhclient starts");
    let ud = Udhcpc::start(&c2).expect("udhcpc starts");
    let a = dh
        .wait_bound(LEASE_WAIT)
        .expect("a new dhclient is served during the flood");
    let dh_secs = started.elapsed().as_secs_f64();
    let b = ud
        .wait_bound(LEASE_WAIT)
        .expect("a new udhcpc is served during the flood");
    let ud_secs = started.elapsed().as_secs_f64();
    let loaded = static_host_latency(&lab);
    let in_flood = flood_started.elapsed() < Duration::from_secs(u64::from(FLOOD_SECS));

    flood
        .wait_exit(Duration::from_secs(60))
        .expect("flood finishes");
    let most = sampler.join().expect("sampler");
    println!("{}", flood.log().trim());
    println!(
        "starvation: dhclient bound {} in {dh_secs:.2} s, udhcpc {} in {ud_secs:.2} s; \
         static host bound in {quiet:.3} s quiet, {loaded:.3} s under the flood{}; \
         at most {most} addresses held; offer_evicted {}, acked {}",
        a.ip,
        b.ip,
        if in_flood {
            ""
        } else {
            " (flood over by then)"
        },
        api.counter("offer_evicted"),
        api.counter("acked"),
    );
    assert!(
        most <= MAX_OFFERS + 4,
        "{most} addresses held: more than max_offers ({MAX_OFFERS}) plus the real clients"
    );
    assert!(
        api.counter("offer_evicted") > 0,
        "the flood reached max_offers"
    );
    // Nobody but the real clients got a lease: no INIT-REBOOT was ACKed.
    let leases = api.leases(Default::default()).expect("leases");
    let bound: Vec<_> = leases
        .iter()
        .filter(|l| l.state == berth_proto::LeaseState::Bound)
        .map(|l| l.ip)
        .collect();
    assert!(bound.len() <= 3, "bound leases: {bound:?}");
    assert!(bound.contains(&a.ip) && bound.contains(&b.ip), "{bound:?}");
    let mut seq = 0;
    let mut acks = 0;
    loop {
        let batch = api.events_since(seq, 0).expect("events");
        if batch.events.is_empty() {
            break;
        }
        seq = batch.last_seq;
        acks += batch
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Ack)
            .count();
    }
    assert!(
        acks <= 6,
        "{acks} ACKs: only the real clients' (and the host's)"
    );
}
