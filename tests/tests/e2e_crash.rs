//! End-to-end: kill -9 berthd while perfdhcp loads it, again and again.
//! After each kill, every lease whose ACK was seen on the wire (captured
//! with tcpdump on the server's bridge) is in the store, and SQLite's
//! integrity check passes; berthd starts again on that store and serves.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use berth_tests::netns::netns_command;
use berth_tests::perfdhcp::{self, PerfdhcpRun};
use berth_tests::process::Proc;
use berth_tests::{Daemon, Lab, ServerConfig, pcap, require_tools, root_or_skip};

const KILLS: usize = 4;

/// The store's (mac, state) per address, and its integrity check verdict.
fn store_view(path: &std::path::Path) -> (BTreeMap<Ipv4Addr, (String, String)>, String) {
    let db = rusqlite::Connection::open(path).expect("open the store");
    let verdict: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    let mut stmt = db
        .prepare("SELECT ip, mac, state FROM leases")
        .expect("query");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .expect("rows");
    let mut out = BTreeMap::new();
    for row in rows {
        let (ip, mac, state) = row.expect("row");
        if let Ok(ip) = ip.parse() {
            out.insert(ip, (mac, state));
        }
    }
    (out, verdict)
}

#[test]
fn every_lease_acked_on_the_wire_survives_kill_9_under_load() {
    if !root_or_skip("every_lease_acked_on_the_wire_survives_kill_9_under_load") {
        return;
    }
    require_tools(&["perfdhcp", "tcpdump", "ip"]);
    let lab = Lab::new().expect("lab");
    let cfg = ServerConfig::lab()
        .pool("192.0.2.10", "192.0.2.250")
        .lease("1h")
        .relay("192.0.2.2"); // perfdhcp is a relay
    let mut berthd = Daemon::start(&lab, &cfg).expect("berthd");
    let capture = berthd.dir().join("wire.pcap");
    let mut tcpdump_cmd = netns_command(lab.server_ns(), "tcpdump");
    tcpdump_cmd
        .args(["-i", "br0", "-U", "-n", "-w"])
        .arg(&capture)
        .args(["udp", "port", "67", "or", "udp", "port", "68"]);
    let tcpdump_log = berthd.dir().join("tcpdump.log");
    let mut tcpdump = Proc::spawn("tcpdump", &mut tcpdump_cmd, &tcpdump_log).expect("tcpdump");
    std::thread::sleep(Duration::from_millis(500));

    let client = lab.add_client(None).expect("perfdhcp namespace");
    client.add_addr("192.0.2.2/24").expect("perfdhcp address");
    // Bounded: 400 exchanges a second for at most 14 seconds, 200 clients.
    let load = std::thread::spawn(move || {
        let run = PerfdhcpRun {
            rate: 400,
            clients: 200,
            seconds: 14,
        };
        let r = perfdhcp::run(&client, &run);
        (r, client)
    });

    let started = Instant::now();
    let mut checked = 0;
    for round in 0..KILLS {
        std::thread::sleep(Duration::from_millis(1500));
        berthd.kill().expect("kill -9");
        // tcpdump writes each packet as it comes (-U); give it a moment.
        std::thread::sleep(Duration::from_millis(300));
        let acks = pcap::acks(&capture).expect("read the capture");
        let (store, verdict) = store_view(berthd.store_path());
        assert_eq!(verdict, "ok", "round {round}: integrity check");
        for (mac, ip) in &acks {
            match store.get(ip) {
                Some((m, state)) if m == mac && state == "bound" => {}
                other => panic!(
                    "round {round}: {ip} was ACKed to {mac} on the wire but the store has {other:?}\n{}",
                    berthd.log()
                ),
            }
        }
        checked = checked.max(acks.len());
        berthd
            .start_again()
            .expect("berthd starts on the killed store");
    }
    let (perf, _client) = load.join().expect("perfdhcp thread");
    let (report, text) = perf.expect("perfdhcp ran");
    let _ = tcpdump.signal(nix::sys::signal::Signal::SIGINT);
    let _ = tcpdump.wait_exit(Duration::from_secs(5));
    assert!(
        checked > 100,
        "too few ACKs seen ({checked}) for the test to mean anything; perfdhcp:\n{text}"
    );
    // Still serving after the last restart: the final ACKs are in the store.
    berthd.stop().expect("clean stop");
    let acks = pcap::acks(&capture).expect("read the capture");
    let (store, verdict) = store_view(berthd.store_path());
    assert_eq!(verdict, "ok");
    for (mac, ip) in &acks {
        assert!(
            store.get(ip).is_some_and(|(m, _)| m == mac),
            "{ip} ACKed to {mac} is missing after the clean stop"
        );
    }
    eprintln!(
        "crash test: {KILLS} kills in {:.1}s, {} ACKs on the wire, all in the store; perfdhcp completed {}",
        started.elapsed().as_secs_f64(),
        acks.len(),
        report.completed()
    );
}
