//! End-to-end: ARP sweeps and pre-offer probes, with the real berthd in a
//! namespace lab. A "squatter" is a client namespace given a pool address
//! by hand: its kernel answers ARP for it. All ARP stays on the lab bridge.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use berth_tests::netns::{ClientNs, netns_command};
use berth_tests::process::{Proc, read_log, run_output, wait_until};
use berth_tests::{
    Daemon, Dhclient, Lab, ServerConfig, berth_bin, berthd_bin, require_tools, root_or_skip,
};
use serde_json::Value;

const LEASE_WAIT: Duration = Duration::from_secs(30);
const SQUATTED: &str = "192.0.2.100";

fn ctl(d: &Daemon, args: &[&str]) -> String {
    d.ctl(args)
}

fn ctl_json(d: &Daemon, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let text = ctl(d, &all);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("berth {args:?}: not JSON ({e}):\n{text}"))
}

/// The squatter events `berth events --json` prints (one JSON object a line).
fn squatter_events(d: &Daemon) -> Vec<Value> {
    ctl(d, &["--json", "events"])
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "squatter")
        .collect()
}

/// A namespace on the lab bridge holding [`SQUATTED`] by hand.
fn squatter(lab: &Lab) -> ClientNs {
    let s = lab.add_client(None).expect("squatter ns");
    s.add_addr(&format!("{SQUATTED}/24"))
        .expect("squatter takes a pool address by hand");
    s
}

#[test]
fn a_sweep_finds_a_squatter_and_its_address_is_never_offered() {
    if !root_or_skip("a_sweep_finds_a_squatter_and_its_address_is_never_offered") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let squatter = squatter(&lab);
    let cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.102");
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    // The sweep at start finds it.
    berthd
        .wait_log("ARP sweep done", Duration::from_secs(10))
        .expect("the start-up sweep finishes");

    let status = ctl_json(&berthd, &["status"]);
    assert_eq!(status["arp"]["enabled"], true, "{status:#}");
    assert_eq!(status["arp"]["probe_timeout_ms"], 200, "{status:#}");

    // An on-demand scan lists it (still in use without a lease).
    let scan = ctl_json(&berthd, &["scan", "all"]);
    let ranges = scan.as_array().expect("an array");
    assert_eq!(ranges.len(), 1, "{scan:#}");
    assert_eq!(ranges[0]["start"], "192.0.2.100");
    assert_eq!(ranges[0]["probed"], 3, "{scan:#}");
    assert_eq!(ranges[0]["observed"], 1, "{scan:#}");
    let sq = &ranges[0]["squatters"];
    assert_eq!(sq.as_array().map(Vec::len), Some(1), "{scan:#}");
    assert_eq!(sq[0]["ip"], SQUATTED);
    assert_eq!(sq[0]["mac"], squatter.mac());
    assert_eq!(sq[0]["reason"], "in use without a lease");

    // The event says so, once.
    let events = squatter_events(&berthd);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["ip"], SQUATTED);
    assert_eq!(events[0]["mac"], squatter.mac());

    // `berth pools` shows it too, and the lease table holds it for that MAC.
    let pools = ctl_json(&berthd, &["pools"]);
    assert_eq!(pools[0]["observed"], 1, "{pools:#}");
    assert_eq!(pools[0]["squatters"][0]["ip"], SQUATTED, "{pools:#}");
    let human = ctl(&berthd, &["pools"]);
    assert!(human.contains(SQUATTED), "{human}");
    let leases = ctl_json(&berthd, &["leases"]);
    let observed: Vec<&Value> = leases
        .as_array()
        .expect("array")
        .iter()
        .filter(|l| l["state"] == "observed")
        .collect();
    assert_eq!(observed.len(), 1, "{leases:#}");
    assert_eq!(observed[0]["ip"], SQUATTED);
    assert_eq!(observed[0]["mac"], squatter.mac());

    // Clients get every other address, never the squatted one.
    let mut got = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let c = lab.add_client(None).expect("client ns");
        let dh = Dhclient::start(&c).expect("dhclient starts");
        let lease = dh.wait_bound(LEASE_WAIT).expect("a lease");
        got.push(lease.ip);
        clients.push((c, dh));
    }
    got.sort();
    assert_eq!(
        got,
        vec![Ipv4Addr::new(192, 0, 2, 101), Ipv4Addr::new(192, 0, 2, 102)]
    );
    // With the pool full, a third client gets nothing rather than .100.
    let third = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&third).expect("dhclient starts");
    assert!(
        dh.wait_bound(Duration::from_secs(8)).is_err(),
        "the squatted address must not be offered"
    );
}

#[test]
fn an_address_that_answers_the_probe_is_quarantined_and_the_next_one_offered() {
    if !root_or_skip("an_address_that_answers_the_probe_is_quarantined_and_the_next_one_offered") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let squatter = squatter(&lab);
    // No sweeps: only the probe before the first offer can find it.
    let mut cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.102");
    cfg.server_extra = "arp_sweep_interval = \"off\"\narp_probe_timeout = \"300ms\"".into();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");

    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    let lease = dh.wait_bound(LEASE_WAIT).expect("a lease");
    assert_eq!(
        lease.ip,
        Ipv4Addr::new(192, 0, 2, 101),
        "the next candidate"
    );

    let leases = ctl_json(&berthd, &["leases"]);
    let q: Vec<&Value> = leases
        .as_array()
        .expect("array")
        .iter()
        .filter(|l| l["ip"] == SQUATTED)
        .collect();
    assert_eq!(q.len(), 1, "{leases:#}");
    assert_eq!(q[0]["kind"], "quarantined");
    assert_eq!(
        q[0]["mac"],
        squatter.mac(),
        "quarantined under the answering MAC"
    );

    let events = squatter_events(&berthd);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["ip"], SQUATTED);
    assert!(
        events[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("pre-offer probe")),
        "{events:#?}"
    );
    let status = ctl_json(&berthd, &["status"]);
    assert_eq!(
        status["arp"]["sweep_interval_secs"],
        Value::Null,
        "{status:#}"
    );

    // The quarantine is durable: it survives a restart.
    drop(dh);
    let mut berthd = berthd;
    berthd.restart().expect("restart");
    let leases = ctl_json(&berthd, &["leases"]);
    assert!(
        leases
            .as_array()
            .expect("array")
            .iter()
            .any(|l| l["ip"] == SQUATTED && l["kind"] == "quarantined"),
        "{leases:#}"
    );
}

#[test]
fn with_arp_off_berthd_serves_and_says_so() {
    if !root_or_skip("with_arp_off_berthd_serves_and_says_so") {
        return;
    }
    require_tools(&["dhclient", "ip"]);
    let lab = Lab::new().expect("lab");
    let mut cfg = ServerConfig::lab();
    cfg.server_extra = "arp = false".into();
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    berthd
        .wait_log("ARP sweeps and probes are off", Duration::from_secs(5))
        .expect("logged once");
    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    let lease = dh.wait_bound(LEASE_WAIT).expect("a lease");
    assert_eq!(lease.ip, Ipv4Addr::new(192, 0, 2, 100));
    let status = ctl_json(&berthd, &["status"]);
    assert_eq!(status["arp"]["enabled"], false, "{status:#}");
    let human = ctl(&berthd, &["status"]);
    assert!(human.contains("arp         off"), "{human}");
    // A scan says why it cannot run.
    let out = run_output(
        Command::new(berth_bin())
            .arg("--socket")
            .arg(berthd.control_socket())
            .args(["scan"]),
        Duration::from_secs(15),
    )
    .expect("berth runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ARP is off"), "{err}");
}

#[test]
fn without_cap_net_raw_berthd_serves_and_status_says_arp_is_off() {
    if !root_or_skip("without_cap_net_raw_berthd_serves_and_status_says_arp_is_off") {
        return;
    }
    require_tools(&["dhclient", "ip", "setpriv"]);
    let lab = Lab::new().expect("lab");
    let dir = tempfile::Builder::new()
        .prefix("berth-arp.")
        .tempdir()
        .expect("tempdir");
    let config = dir.path().join("berth.toml");
    std::fs::write(&config, ServerConfig::lab().to_toml_in(dir.path())).expect("config");
    let log = dir.path().join("berthd.log");
    // Root, but with CAP_NET_RAW out of the bounding set: no raw sockets.
    let mut cmd = netns_command(lab.server_ns(), "setpriv");
    cmd.args(["--bounding-set", "-net_raw", "--inh-caps", "-net_raw", "--"])
        .arg(berthd_bin())
        .arg("--config")
        .arg(&config)
        .args(["--user", "root"])
        .env("NO_COLOR", "1");
    let mut berthd = Proc::spawn("berthd", &mut cmd, &log).expect("berthd starts");
    let ready = wait_until(Duration::from_secs(20), || {
        read_log(&log).contains("berthd ready").then_some(())
    });
    assert!(
        ready.is_some(),
        "berthd not ready; log:\n{}",
        read_log(&log)
    );
    let said = wait_until(Duration::from_secs(5), || {
        read_log(&log)
            .contains("ARP sweeps and probes are off: br0: cannot open a raw socket")
            .then_some(())
    });
    assert!(said.is_some(), "log:\n{}", read_log(&log));
    assert!(
        read_log(&log).contains("CAP_NET_RAW"),
        "log:\n{}",
        read_log(&log)
    );

    let c = lab.add_client(None).expect("client ns");
    let dh = Dhclient::start(&c).expect("dhclient starts");
    let lease = dh.wait_bound(LEASE_WAIT).expect("served without ARP");
    assert_eq!(lease.ip, Ipv4Addr::new(192, 0, 2, 100));

    let out = run_output(
        Command::new(berth_bin())
            .arg("--socket")
            .arg(dir.path().join("control.sock"))
            .args(["--json", "status"]),
        Duration::from_secs(15),
    )
    .expect("berth runs");
    let status: Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(status["arp"]["enabled"], false, "{status:#}");
    assert!(
        status["arp"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("CAP_NET_RAW")),
        "{status:#}"
    );
    let text = read_log(&log);
    assert_eq!(
        text.matches("ARP sweeps and probes are off").count(),
        1,
        "said once; log:\n{text}"
    );
    drop(dh);
    let _ = berthd.terminate(Duration::from_secs(10));
}

#[test]
fn a_reload_that_adds_a_range_sweeps_it() {
    if !root_or_skip("a_reload_that_adds_a_range_sweeps_it") {
        return;
    }
    require_tools(&["ip"]);
    let lab = Lab::new().expect("lab");
    let s = lab.add_client(None).expect("squatter ns");
    s.add_addr("192.0.2.150/24").expect("squatter address");
    let cfg = ServerConfig::lab().pool("192.0.2.100", "192.0.2.102");
    let berthd = Daemon::start(&lab, &cfg).expect("berthd starts");
    berthd
        .wait_log("ARP sweep done", Duration::from_secs(10))
        .expect("the start-up sweep");
    assert!(squatter_events(&berthd).is_empty(), "nothing in .100-.102");

    let wider = cfg.pool("192.0.2.100", "192.0.2.160");
    std::fs::write(berthd.config_path(), wider.to_toml_in(berthd.dir())).expect("new config");
    ctl(&berthd, &["reload"]);
    let found = wait_until(Duration::from_secs(10), || {
        let e = squatter_events(&berthd);
        (!e.is_empty()).then_some(e)
    })
    .expect("the new range is swept");
    assert_eq!(found[0]["ip"], "192.0.2.150");
    assert_eq!(found[0]["mac"], s.mac());
    let pools = ctl_json(&berthd, &["pools"]);
    assert_eq!(pools[0]["observed"], 1, "{pools:#}");
}
