//! End-to-end: pool policies, renewal and flood limits, in a namespace lab
//! with the real berthd and real clients.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use berth_proto::{Event, EventKind};
use berth_tests::netns::netns_command;
use berth_tests::process::Proc;
use berth_tests::{Api, Daemon, Dhclient, Lab, Udhcpc, require_tools, root_or_skip, wait_until};

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
}

/// Every event so far.
fn events(api: &Api) -> Vec<Event> {
    let mut all = Vec::new();
    let mut seq = 0;
    loop {
        let b = api.events_since(seq, 0).expect("events");
        if b.events.is_empty() {
            return all;
        }
        seq = b.last_seq;
        all.extend(b.events);
    }
}

/// The first event of `kind` for `mac`, waiting for it.
fn wait_event(api: &Api, kind: EventKind, mac: &str, wait: Duration) -> Option<Event> {
    wait_until(wait, || {
        events(api)
            .into_iter()
            .find(|e| e.kind == kind && e.mac.as_deref() == Some(mac))
    })
}

/// A renewal limit of 3 within a minute.
const RENEWING: &str = r#"
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.110"]
options = { routers = ["192.0.2.1"] }

[limits.renewal]
renewals = 3
window = "1m"
block = "1h"
"#;

#[test]
fn the_renewal_limit_blocks_a_client_after_n_renewals() {
    if !root_or_skip("the_renewal_limit_blocks_a_client_after_n_renewals") {
        return;
    }
    require_tools(&["udhcpc", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start_toml(&lab, &config("", RENEWING)).expect("berthd starts");
    let api = Api::connect(berthd.control_socket()).expect("api");

    let c = lab.add_client(None).expect("client ns");
    let mac = c.mac().to_string();
    let mut u = Udhcpc::start(&c).expect("udhcpc starts");
    u.wait_bound(LEASE_WAIT).expect("udhcpc gets a lease");

    // udhcpc renews at once on SIGUSR1: three renewals are ACKed...
    let mut from = 1;
    for n in 1..=3 {
        // udhcpc runs its script before it is back in BOUND; a second
        // SIGUSR1 before then would make it start over.
        std::thread::sleep(Duration::from_secs(1));
        u.renew_now().expect("SIGUSR1");
        let (at, _) = u
            .wait_reason(&["renew"], from, LEASE_WAIT)
            .unwrap_or_else(|e| panic!("renewal {n} not answered: {e:#}"));
        from = at + 1;
    }
    let block = wait_event(&api, EventKind::Block, &mac, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no block event for {mac}; log:\n{}", berthd.log()));
    assert!(
        block
            .detail
            .starts_with("renewal limit: 3 renewals within 1m"),
        "{block:?}"
    );
    let blocks = api.blocks().expect("blocks");
    assert!(blocks.iter().any(|b| b.mac == mac), "{blocks:?}");

    // ...and the fourth goes unanswered: the client is blocked.
    std::thread::sleep(Duration::from_secs(1));
    u.renew_now().expect("SIGUSR1");
    assert!(
        u.wait_reason(&["renew", "bound"], from, Duration::from_secs(6))
            .is_err(),
        "a blocked client was answered"
    );
    let renews = events(&api)
        .iter()
        .filter(|e| e.kind == EventKind::Renew && e.mac.as_deref() == Some(&*mac))
        .count();
    assert_eq!(renews, 3, "three renewals ACKed, then the block");
}

/// Flood protection: more than 10 packets in 10 s from one MAC.
const FLOODED: &str = r#"
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.110"]
options = { routers = ["192.0.2.1"] }

[limits]
relays = ["192.0.2.50"]   # the flooder relays

[limits.flood]
packets = 10
window = "10s"
ignore = "1m"
"#;

const FLOOD_MAC: &str = "02:00:00:00:0f:01";

#[test]
fn a_flooding_mac_is_ignored_while_a_normal_client_is_served() {
    if !root_or_skip("a_flooding_mac_is_ignored_while_a_normal_client_is_served") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start_toml(&lab, &config("", FLOODED)).expect("berthd starts");
    let api = Api::connect(berthd.control_socket()).expect("api");

    // The flooder: 3000 DISCOVERs in 3 s from one MAC, as a relay on the lab.
    let f = lab.add_client(None).expect("flooder ns");
    f.add_addr("192.0.2.50/24").expect("flooder address");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = netns_command(f.name(), env!("CARGO_BIN_EXE_flood"));
    cmd.args([
        "--relay",
        "192.0.2.50",
        "--server",
        "192.0.2.1",
        "--mac",
        FLOOD_MAC,
        "--count",
        "3000",
        "--secs",
        "3",
    ]);
    let mut flood = Proc::spawn("flood", &mut cmd, &dir.path().join("flood.log")).expect("flood");

    // A normal client arrives in the middle of it.
    std::thread::sleep(Duration::from_millis(500));
    let c = lab.add_client(None).expect("client ns");
    let started = Instant::now();
    let dh = Dhclient::start(&c).expect("dhclient starts");
    let lease = dh
        .wait_bound(LEASE_WAIT)
        .expect("the normal client is served during the flood");
    println!(
        "normal client bound {} in {:.2} s during the flood",
        lease.ip,
        started.elapsed().as_secs_f64()
    );
    flood
        .wait_exit(Duration::from_secs(20))
        .expect("flood finishes");
    println!("{}", flood.log().trim());

    let ev = wait_event(&api, EventKind::Flood, FLOOD_MAC, Duration::from_secs(5))
        .expect("a flood event for the flooding MAC");
    assert!(ev.detail.contains("more than 10 packets in 10s"), "{ev:?}");
    let ignored = wait_until(Duration::from_secs(5), || {
        let n = api.counter("flood_ignored");
        (n >= 2900).then_some(n)
    });
    assert!(
        ignored.is_some(),
        "flood_ignored = {}",
        api.counter("flood_ignored")
    );
    // The flooder got at most its allowance of offers.
    let offers = events(&api)
        .iter()
        .filter(|e| e.kind == EventKind::Offer && e.mac.as_deref() == Some(FLOOD_MAC))
        .count();
    assert!(offers <= 10, "{offers} offers to the flooder");
}

/// Only relay 192.0.2.50 is served, at most 20 packets a second.
const RELAYS: &str = r#"
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.110"]
options = { routers = ["192.0.2.1"] }

[limits]
relays = ["192.0.2.50"]

[limits.rate]
per_relay = 20
"#;

/// Runs `flood` from `ns` as relay `relay`: `count` DISCOVERs in `secs`.
fn flood(ns: &str, relay: &str, mac: &str, count: u32, secs: u32, log: &Path) {
    let mut cmd = netns_command(ns, env!("CARGO_BIN_EXE_flood"));
    cmd.args(["--relay", relay, "--server", "192.0.2.1", "--mac", mac])
        .args(["--count", &count.to_string(), "--secs", &secs.to_string()]);
    let mut p = Proc::spawn("flood", &mut cmd, log).expect("flood");
    p.wait_exit(Duration::from_secs(30))
        .expect("flood finishes");
}

#[test]
fn an_unlisted_relay_is_refused_and_a_listed_one_is_held_to_its_rate() {
    if !root_or_skip("an_unlisted_relay_is_refused") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let berthd = Daemon::start_toml(&lab, &config("", RELAYS)).expect("berthd starts");
    let api = Api::connect(berthd.control_socket()).expect("api");
    let r = lab.add_client(None).expect("relay ns");
    r.add_addr("192.0.2.50/24").expect("address");
    r.add_addr("192.0.2.51/24").expect("address");
    let dir = tempfile::tempdir().expect("tempdir");

    flood(
        r.name(),
        "192.0.2.51",
        "02:00:00:00:0f:02",
        50,
        1,
        &dir.path().join("a.log"),
    );
    let refused = wait_until(Duration::from_secs(5), || {
        (api.counter("relay_refused") >= 50).then_some(())
    });
    assert!(refused.is_some(), "{:?}", api.status());
    assert_eq!(api.counter("offered"), 0, "nothing offered through it");

    // 200 DISCOVERs in 2 s through the allowed relay: the relay's rate
    // counts its packets whoever they are for, so one MAC will do.
    flood(
        r.name(),
        "192.0.2.50",
        "02:00:00:00:0f:03",
        200,
        2,
        &dir.path().join("b.log"),
    );
    let limited = wait_until(Duration::from_secs(5), || {
        let n = api.counter("rate_limited");
        (n >= 100).then_some(n)
    });
    assert!(limited.is_some(), "{:?}", api.status());
    let offered = api.counter("offered");
    assert!(
        (1..=60).contains(&offered),
        "{offered} offers at 20/s over about 2 s"
    );

    // A directly attached client is not a relay: served as usual.
    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    dh.wait_bound(LEASE_WAIT)
        .expect("a direct client is served");
}

/// A webhook receiver in the server namespace on the bridge address.
fn sink(lab: &Lab, dir: &Path, fail_first: usize) -> Proc {
    let mut cmd = netns_command(lab.server_ns(), env!("CARGO_BIN_EXE_webhook-sink"));
    cmd.arg("--listen")
        .arg("192.0.2.1:8080")
        .arg("--out")
        .arg(dir.join("bodies"))
        .arg("--fail-first")
        .arg(fail_first.to_string());
    let p = Proc::spawn("webhook-sink", &mut cmd, &dir.join("sink.log")).expect("sink");
    wait_until(Duration::from_secs(5), || {
        p.log().contains("listening").then_some(())
    })
    .expect("the sink listens");
    p
}

fn bodies(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("bodies"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON body"))
        .collect()
}

const WEBHOOK: &str = r#"
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.110"]
options = { routers = ["192.0.2.1"] }

[[webhook]]
url = "http://192.0.2.1:8080/dhcp"
events = ["arrival"]
headers = { X-Token = "lab" }
timeout = "2s"
max_backoff = "1s"
"#;

#[test]
fn a_webhook_receives_the_arrival_json_and_a_failing_one_is_retried() {
    if !root_or_skip("a_webhook_receives_the_arrival_json") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let dir = tempfile::tempdir().expect("tempdir");
    // The first two attempts get a 503: the third is delivered.
    let _sink = sink(&lab, dir.path(), 2);
    let berthd = Daemon::start_toml(&lab, &config("", WEBHOOK)).expect("berthd starts");

    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start_with(
        &c,
        berth_tests::DhclientOptions {
            hostname: Some("guest1".into()),
            ..Default::default()
        },
    )
    .expect("dhclient starts");
    dh.wait_bound(LEASE_WAIT).expect("lease");
    let got = wait_until(Duration::from_secs(20), || {
        let b = bodies(dir.path());
        (!b.is_empty()).then_some(b)
    })
    .unwrap_or_else(|| panic!("no webhook delivered; berthd log:\n{}", berthd.log()));
    let a = &got[0];
    assert_eq!(a["event"], "arrival");
    assert_eq!(a["mac"], c.mac());
    assert_eq!(a["hostname"], "guest1");
    assert_eq!(a["interface"], "br0");
    assert_eq!(a["known"], false);
    assert!(a["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{a}");
    assert!(a["daemon"].as_str().is_some_and(|d| !d.is_empty()), "{a}");
    let requests: usize = std::fs::read_to_string(dir.path().join("bodies.requests"))
        .expect("request count")
        .trim()
        .parse()
        .expect("a count");
    assert_eq!(requests, 3, "two refused attempts, then the delivery");
}

#[test]
fn with_the_webhook_receiver_down_dhcp_is_unaffected_and_the_drop_is_reported() {
    if !root_or_skip("with_the_webhook_receiver_down") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let toml = config(
        "",
        &format!("{WEBHOOK}retries = 2\nqueue = 1\n").replace(
            "events = [\"arrival\"]",
            "events = [\"arrival\", \"commit\"]",
        ),
    );
    let berthd = Daemon::start_toml(&lab, &toml).expect("berthd starts");
    let api = Api::connect(berthd.control_socket()).expect("api");

    // Nothing listens on 192.0.2.1:8080. Two clients are served as usual.
    let mut leases = Vec::new();
    for _ in 0..2 {
        let c = lab.add_client(None).expect("client ns");
        let started = Instant::now();
        let dh = Dhclient::start(&c).expect("dhclient starts");
        let lease = dh
            .wait_bound(LEASE_WAIT)
            .expect("served with the receiver down");
        println!(
            "bound {} in {:.2} s with the webhook receiver down",
            lease.ip,
            started.elapsed().as_secs_f64()
        );
        leases.push((c, dh, lease));
    }
    let dropped = wait_until(Duration::from_secs(30), || {
        let n = api.counter("webhook_dropped");
        (n >= 4).then_some(n)
    })
    .unwrap_or_else(|| panic!("drops not counted: {:?}", api.status()));
    assert!(dropped >= 4, "two arrivals and two acks, {dropped}");
    let ev = events(&api)
        .into_iter()
        .find(|e| e.kind == EventKind::WebhookDropped)
        .expect("a webhook_dropped event");
    assert!(
        ev.detail.starts_with("http://192.0.2.1:8080/dhcp: "),
        "{ev:?}"
    );
    assert!(
        berthd
            .log()
            .contains("webhook delivery failed; retrying with backoff")
    );
}
