//! End-to-end: the config is reloaded again and again (`berth reload` and
//! SIGHUP, taking turns) while perfdhcp loads berthd and a udhcpc client
//! renews. The changes keep the ranges (options change back and forth) and
//! one adds a host. Afterwards, from every ACK tcpdump saw on the server's
//! bridge and the store: no address was ACKed to two clients, no client was
//! ACKed two addresses (none lost its lease), every client's last ACK is
//! bound in the store, every reload succeeded, and the added host is served
//! its address.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use berth_proto::EventKind;
use berth_tests::pcap::Capture;
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::{
    Api, Daemon, Lab, ServerConfig, Udhcpc, pcap, require_tools, root_or_skip, store,
};
use nix::sys::signal::Signal;

/// Reloads sent while perfdhcp runs.
const RELOADS: usize = 16;
/// The host one of the reloads adds (outside the pool, a MAC perfdhcp does not use).
const ADDED_MAC: &str = "02:00:00:00:99:01";
const ADDED_IP: &str = "192.0.2.5";

/// The config of reload `round`: the same ranges, options that differ from
/// one round to the next, and from round `RELOADS / 2` on the added host.
fn config(round: usize) -> ServerConfig {
    let mut cfg = ServerConfig::lab()
        .pool("192.0.2.10", "192.0.2.250")
        .lease("1h")
        // perfdhcp is a relay.
        .relay("192.0.2.0/24");
    cfg.subnets[0].domain_name = Some(format!("round{round}.lab.test"));
    if round % 2 == 1 {
        cfg.dns.push("192.0.2.3".into());
    }
    if round >= RELOADS / 2 {
        cfg = cfg.host("added", ADDED_MAC, ADDED_IP);
    }
    cfg
}

#[test]
fn reloads_under_load_drop_or_duplicate_no_lease() {
    if !root_or_skip("reloads_under_load_drop_or_duplicate_no_lease") {
        return;
    }
    require_tools(&["perfdhcp", "tcpdump", "udhcpc", "ip"]);
    let lab = Lab::new().expect("lab");
    let mut berthd = Daemon::start(&lab, &config(0)).expect("berthd");
    let api = Api::connect(berthd.control_socket()).expect("control API");
    let mut capture = Capture::start(lab.server_ns(), berthd.dir()).expect("tcpdump");

    let c_ns = lab.add_client(None).expect("client");
    let mut c = Udhcpc::start(&c_ns).expect("udhcpc");
    let c_lease = c.wait_bound(Duration::from_secs(20)).expect("bound");

    let perf_ns = lab.add_client(None).expect("perfdhcp namespace");
    perf_ns.add_addr("192.0.2.2/24").expect("perfdhcp address");
    // Bounded: 200 exchanges a second for 12 seconds, 150 clients.
    let load = std::thread::spawn(move || {
        let run = PerfdhcpRun {
            rate: 200,
            clients: 150,
            seconds: 12,
        };
        (perfdhcp::run(&perf_ns, &run), perf_ns)
    });

    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let mut renewals = 0;
    for round in 1..=RELOADS {
        std::fs::write(berthd.config_path(), config(round).to_toml_in(berthd.dir()))
            .expect("write the config");
        if round % 2 == 0 {
            let out = berthd.ctl(&["--json", "reload"]);
            let r: serde_json::Value = serde_json::from_str(&out).expect("reload JSON");
            let hosts = if round >= RELOADS / 2 { 1 } else { 0 };
            assert_eq!(r["hosts"], hosts, "round {round}: {out}");
            assert_eq!(r["warnings"], serde_json::json!([]), "round {round}: {out}");
        } else {
            berthd.signal(Signal::SIGHUP).expect("SIGHUP");
        }
        if round % 4 == 0 {
            let from = c.records().len();
            c.renew_now().expect("SIGUSR1");
            let (_, r) = c
                .wait_reason(&["renew", "bound"], from, Duration::from_secs(10))
                .expect("the udhcpc client renews across reloads");
            assert_eq!(
                r.get("ip"),
                Some(c_lease.ip.to_string().as_str()),
                "round {round}: the client kept its address"
            );
            renewals += 1;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let reload_secs = started.elapsed().as_secs_f64();

    // The host the reloads added is served, under load.
    let h_ns = lab
        .add_client(Some(ADDED_MAC))
        .expect("added host's namespace");
    let h = Udhcpc::start(&h_ns).expect("udhcpc for the added host");
    let h_lease = h
        .wait_bound(Duration::from_secs(20))
        .expect("added host bound");
    assert_eq!(h_lease.ip.to_string(), ADDED_IP);

    let (perf, _perf_ns) = load.join().expect("perfdhcp thread");
    let (report, text) = perf.expect("perfdhcp ran");
    capture.stop();

    // Every reload is a successful reload event.
    let mut reloads = Vec::new();
    let mut seq = 0;
    loop {
        let batch = api.events_since(seq, 0).expect("events_since");
        if batch.events.is_empty() {
            break;
        }
        seq = batch.last_seq;
        reloads.extend(
            batch
                .events
                .into_iter()
                .filter(|e| e.kind == EventKind::Reload),
        );
    }
    assert_eq!(reloads.len(), RELOADS, "{reloads:#?}");
    assert!(reloads.iter().all(|e| e.ok), "{reloads:#?}");
    drop(api);
    berthd.stop().expect("clean stop");

    let acks = pcap::acks(capture.file()).expect("read the capture");
    assert!(
        report.completed() > 1000,
        "too few ACKs for the test to mean anything; perfdhcp:\n{text}"
    );
    let mut by_ip: BTreeMap<Ipv4Addr, BTreeSet<&str>> = BTreeMap::new();
    let mut by_mac: BTreeMap<&str, BTreeSet<Ipv4Addr>> = BTreeMap::new();
    for (mac, ip) in &acks {
        by_ip.entry(*ip).or_default().insert(mac);
        by_mac.entry(mac).or_default().insert(*ip);
    }
    let log = berthd.log();
    for (ip, macs) in &by_ip {
        assert_eq!(macs.len(), 1, "{ip} was ACKed to {macs:?}\n{log}");
    }
    for (mac, ips) in &by_mac {
        assert_eq!(
            ips.len(),
            1,
            "{mac} was ACKed {ips:?}: it lost its lease\n{log}"
        );
    }
    let (store, verdict) = store::leases(berthd.store_path()).expect("read the store");
    assert_eq!(verdict, "ok", "integrity check");
    for (mac, ips) in &by_mac {
        for ip in ips {
            match store.get(ip) {
                Some(l) if l.mac == **mac && l.state == "bound" => {}
                other => panic!("{ip} was ACKed to {mac}; the store has {other:?}\n{log}"),
            }
        }
    }
    eprintln!(
        "reload under load: {RELOADS} reloads in {reload_secs:.1}s, {renewals} renewals, \
         {} ACKs for {} clients, perfdhcp completed {} ({:.2} % drops)",
        acks.len(),
        by_mac.len(),
        report.completed(),
        report.drop_ratio() * 100.0
    );
}
